package web

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/herts-msp/taxi-renewals/internal/domain"
	"github.com/herts-msp/taxi-renewals/views"
)

// templates holds one parsed template set per page, each with the layout and partials.
type templates struct {
	pages map[string]*template.Template
}

// parseTemplates parses every page once, at start-up; a broken template stops the server
// from starting rather than failing a user later.
func parseTemplates(loc *time.Location) (*templates, error) {
	funcs := template.FuncMap{
		"londonTime": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.In(loc).Format("2 January 2006 at 3:04pm")
		},
		"longDate": func(d domain.Date) string {
			if d.IsZero() {
				return ""
			}
			return d.Format("2 January 2006")
		},
		"add": func(a, b int) int { return a + b },
		// telURL is a phone number as a tel: link. html/template refuses tel: URLs from strings,
		// so it is marked safe here: domain.TelURI keeps only digits and a leading +.
		"telURL": func(phone string) template.URL { return template.URL(domain.TelURI(phone)) },
		"dict": func(kv ...any) (map[string]any, error) {
			if len(kv)%2 != 0 {
				return nil, fmt.Errorf("dict: odd number of arguments")
			}
			m := make(map[string]any, len(kv)/2)
			for i := 0; i < len(kv); i += 2 {
				k, ok := kv[i].(string)
				if !ok {
					return nil, fmt.Errorf("dict: key %v is not a string", kv[i])
				}
				m[k] = kv[i+1]
			}
			return m, nil
		},
	}
	pages, err := fs.Glob(views.Templates, "pages/*.html")
	if err != nil {
		return nil, err
	}
	t := &templates{pages: map[string]*template.Template{}}
	for _, p := range pages {
		name := strings.TrimSuffix(path.Base(p), ".html")
		tmpl, err := template.New("base").Funcs(funcs).ParseFS(views.Templates, "layouts/*.html", "partials/*.html", p)
		if err != nil {
			return nil, fmt.Errorf("template %s: %w", name, err)
		}
		t.pages[name] = tmpl
	}
	if len(t.pages) == 0 {
		return nil, fmt.Errorf("no page templates found")
	}
	return t, nil
}

// view is what every template gets: the page's own view struct plus what the layout needs.
type view struct {
	CSRF      string
	SignedIn  bool
	Staff     *domain.Actor // set on back-office pages: the layout shows the staff navigation
	StaffArea bool          // a back-office page, signed in or not (e.g. staff sign-in)
	Page      any
}

// render executes a page into a buffer first, so a template error becomes a clean error page
// instead of half a page.
func (s *Server) render(c echo.Context, status int, name string, page any) error {
	tmpl, ok := s.views.pages[name]
	if !ok {
		return fmt.Errorf("render: no template %q", name)
	}
	csrf, _ := c.Get("csrf").(string)
	signedIn, _ := c.Get(ctxSignedIn).(bool)
	v := view{CSRF: csrf, SignedIn: signedIn, Page: page, StaffArea: strings.HasPrefix(c.Path(), "/staff")}
	if a, ok := c.Get(ctxActor).(domain.Actor); ok {
		v.Staff = &a
	}
	var buf bytes.Buffer
	if err := tmpl.ExecuteTemplate(&buf, "base", v); err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.HTMLBlob(status, buf.Bytes())
}

// redirect answers a successful POST with 303, so a refresh does not post again.
func redirect(c echo.Context, to string) error {
	return c.Redirect(http.StatusSeeOther, to)
}
