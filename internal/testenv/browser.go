package testenv

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/textproto"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// Browser is an HTTP client with cookies that does not follow redirects, so tests see every
// 303, and that remembers the CSRF token of the last page it loaded.
type Browser struct {
	t      testing.TB
	env    *Env
	Client *http.Client
	CSRF   string
	// Header is sent with every request.
	Header http.Header
	// Server is the base URL requests go to: the environment's server unless a test moves the
	// browser to another instance (cookies are kept: they do not depend on the port).
	Server string
}

// Page is a response with its body read.
type Page struct {
	Status   int
	Body     string
	Header   http.Header
	Location string
}

var csrfInput = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// NewBrowser makes a fresh client for the environment.
func (e *Env) NewBrowser(t testing.TB) *Browser {
	jar, _ := cookiejar.New(nil)
	return &Browser{t: t, env: e, Header: http.Header{}, Server: e.Server.URL, Client: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

func (b *Browser) do(req *http.Request) Page {
	b.t.Helper()
	for k, v := range b.Header {
		req.Header[k] = v
	}
	resp, err := b.Client.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	p := Page{Status: resp.StatusCode, Body: string(body), Header: resp.Header, Location: resp.Header.Get("Location")}
	if m := csrfInput.FindStringSubmatch(p.Body); m != nil {
		b.CSRF = m[1]
	}
	return p
}

// Get loads a page.
func (b *Browser) Get(path string) Page {
	b.t.Helper()
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, b.Server+path, nil)
	return b.do(req)
}

// Post sends a form with the current CSRF token (unless form sets _csrf itself).
func (b *Browser) Post(path string, form url.Values) Page {
	b.t.Helper()
	form = Copy(form) // never change the caller's (often shared) values
	if _, set := form["_csrf"]; !set {
		form.Set("_csrf", b.CSRF)
	}
	return b.PostRaw(path, form.Encode())
}

// PostRaw sends a body as a form, exactly as given.
func (b *Browser) PostRaw(path, body string) Page {
	b.t.Helper()
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, b.Server+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// Follow loads the page a redirect points to.
func (b *Browser) Follow(p Page) Page {
	b.t.Helper()
	if p.Status != http.StatusSeeOther && p.Status != http.StatusFound {
		b.t.Fatalf("expected a redirect, got %d:\n%s", p.Status, Excerpt(p.Body))
	}
	u, err := url.Parse(p.Location)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.Get(u.RequestURI())
}

// Cookie returns the value of a cookie the browser holds.
func (b *Browser) Cookie(name string) string {
	u, _ := url.Parse(b.Server)
	for _, c := range b.Client.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

var codeInEmail = regexp.MustCompile(`Your code is (\d{6})`)

// LatestCode reads the newest sign-in code emailed to address from the outbox.
func (e *Env) LatestCode(t testing.TB, address string) string {
	t.Helper()
	msgs, err := e.Store.UnsentMessages(context.Background(), 1000)
	if err != nil {
		t.Fatal(err)
	}
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].To == address {
			if m := codeInEmail.FindStringSubmatch(msgs[i].Body); m != nil {
				return m[1]
			}
		}
	}
	t.Fatalf("no code emailed to %s", address)
	return ""
}

// SignInForm is the sign-in form for a test driver.
func SignInForm(council, licence string) url.Values {
	return url.Values{"council": {council}, "licence_number": {licence}, "dob-day": {"27"}, "dob-month": {"3"}, "dob-year": {"1980"}}
}

// SignIn signs a test driver in and returns their browser on the task list.
func (e *Env) SignIn(t testing.TB, council, licence string) *Browser {
	t.Helper()
	b := e.NewBrowser(t)
	b.Get("/renew/sign-in")
	p := b.Post("/renew/sign-in", SignInForm(council, licence))
	if p.Status != http.StatusSeeOther || p.Location != "/renew/code" {
		t.Fatalf("sign-in: got %d %s\n%s", p.Status, p.Location, Excerpt(p.Body))
	}
	b.Follow(p)
	p = b.Post("/renew/code", url.Values{"code": {e.LatestCode(t, licence+"@example.org")}})
	if p.Status != http.StatusSeeOther || p.Location != "/renew" {
		t.Fatalf("code: got %d %s\n%s", p.Status, p.Location, Excerpt(p.Body))
	}
	b.Follow(p)
	return b
}

// Excerpt trims a page for a failure message: the main content only.
func Excerpt(body string) string {
	if i := strings.Index(body, `<main`); i >= 0 {
		body = body[i:]
	}
	if len(body) > 3000 {
		body = body[:3000] + "…"
	}
	return body
}

// Upload sends a multipart form as a browser does for a file input: the CSRF token first,
// then the file part named "file" with the given name and content.
func (b *Browser) Upload(path, fileName string, content []byte) Page {
	b.t.Helper()
	return b.UploadParts(path, b.CSRF, FilePart{Name: "file", FileName: fileName, Content: content})
}

// FilePart is one part of a crafted multipart form.
type FilePart struct {
	Name, FileName, ContentType string
	Content                     []byte
}

// UploadParts sends a multipart form with the CSRF field (unless csrf is "") and the parts.
func (b *Browser) UploadParts(path, csrf string, parts ...FilePart) Page {
	b.t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	if csrf != "" {
		_ = w.WriteField("_csrf", csrf)
	}
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		disp := fmt.Sprintf(`form-data; name=%q`, p.Name)
		if p.FileName != "" || p.Name == "file" {
			disp += fmt.Sprintf(`; filename=%q`, p.FileName)
		}
		h.Set("Content-Disposition", disp)
		ct := p.ContentType
		if ct == "" {
			ct = "application/octet-stream"
		}
		h.Set("Content-Type", ct)
		pw, _ := w.CreatePart(h)
		_, _ = pw.Write(p.Content)
	}
	_ = w.Close()
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, b.Server+path, &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	return b.do(req)
}
