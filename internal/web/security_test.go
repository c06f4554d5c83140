package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/herts-msp/taxi-renewals/internal/domain"
	"github.com/herts-msp/taxi-renewals/internal/testenv"
)

func TestCSRFRequiredOnEveryPost(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	b := env.SignIn(t, "dacorum", testenv.DueDacorum)
	posts := []string{"/renew/sign-in", "/renew/sign-out", "/renew/contact", "/renew/licence", "/renew/checks",
		"/renew/declarations", "/renew/awareness/check", "/renew/awareness/confirm", "/renew/submit"}
	for _, path := range posts {
		for name, token := range map[string][]string{"missing": nil, "wrong": {"not-the-token"}} {
			t.Run(path+"/"+name, func(t *testing.T) {
				before := take(t, env, testenv.DueDacorum)
				form := testenv.Copy(testenv.ContactForm)
				if token == nil {
					p := b.PostRaw(path, form.Encode())
					wantStatus(t, p, http.StatusForbidden)
				} else {
					form["_csrf"] = token
					wantStatus(t, b.Post(path, form), http.StatusForbidden)
				}
				if after := take(t, env, testenv.DueDacorum); after != before {
					t.Fatalf("request without a valid token changed data: %+v -> %+v", before, after)
				}
			})
		}
	}
	t.Run("cross-site form post refused even with the token", func(t *testing.T) {
		b.Get("/renew/contact")
		b.Header.Set("Sec-Fetch-Site", "cross-site")
		defer b.Header.Del("Sec-Fetch-Site")
		wantStatus(t, b.Post("/renew/contact", testenv.ContactForm), http.StatusForbidden)
	})
	t.Run("same-origin header alone does not replace the token", func(t *testing.T) {
		b.Header.Set("Sec-Fetch-Site", "same-origin")
		defer b.Header.Del("Sec-Fetch-Site")
		wantStatus(t, b.PostRaw("/renew/contact", testenv.ContactForm.Encode()), http.StatusForbidden)
	})
}

func TestCookiesAndHeaders(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, base, cookie string
		secure             bool
	}{
		{"http", "", "renewals_session", false},
		{"https", "https://renew.example.gov.uk", "__Host-renewals_session", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := testenv.New(t, testenv.Options{BaseURL: tc.base})
			b := env.NewBrowser(t)
			b.Get("/renew/sign-in")
			p := b.Post("/renew/sign-in", testenv.SignInForm("dacorum", testenv.DueDacorum))
			wantStatus(t, p, http.StatusSeeOther)
			var session, csrf *http.Cookie
			for _, raw := range p.Header.Values("Set-Cookie") {
				c, err := http.ParseSetCookie(raw)
				if err != nil {
					t.Fatal(err)
				}
				switch c.Name {
				case tc.cookie:
					session = c
				}
			}
			pg := b.Get("/")
			for _, raw := range pg.Header.Values("Set-Cookie") {
				if c, _ := http.ParseSetCookie(raw); c != nil && c.Name == "_csrf" {
					csrf = c
				}
			}
			if session == nil {
				t.Fatalf("no %s cookie set at sign-in", tc.cookie)
			}
			if !session.HttpOnly || session.SameSite != http.SameSiteLaxMode || session.Secure != tc.secure || session.Path != "/" {
				t.Errorf("session cookie flags: HttpOnly=%t SameSite=%v Secure=%t Path=%q", session.HttpOnly, session.SameSite, session.Secure, session.Path)
			}
			if csrf != nil && (!csrf.HttpOnly || csrf.SameSite != http.SameSiteStrictMode || csrf.Secure != tc.secure) {
				t.Errorf("csrf cookie flags: HttpOnly=%t SameSite=%v Secure=%t", csrf.HttpOnly, csrf.SameSite, csrf.Secure)
			}
			h := pg.Header
			csp := h.Get("Content-Security-Policy")
			if !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "script-src") {
				t.Errorf("CSP allows script or inline content: %q", csp)
			}
			for k, want := range map[string]string{"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer"} {
				if got := h.Get(k); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
			if got := h.Get("Strict-Transport-Security"); (got != "") != tc.secure {
				t.Errorf("HSTS %q with secure=%t", got, tc.secure)
			}
		})
	}
}

// TestNoInlineScript: the CSP forbids script, so no page may carry any.
func TestNoInlineScript(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	b := env.SignIn(t, "dacorum", testenv.DueDacorum)
	for _, path := range []string{"/", "/leaflet", "/accessibility", "/privacy", "/renew", "/renew/contact", "/renew/licence",
		"/renew/checks", "/renew/declarations", "/renew/awareness", "/renew/awareness/check", "/renew/check-answers"} {
		p := b.Get(path)
		wantStatus(t, p, http.StatusOK)
		if strings.Contains(strings.ToLower(p.Body), "<script") || strings.Contains(p.Body, " style=") || strings.Contains(p.Body, "<style") {
			t.Errorf("%s has inline script or style", path)
		}
	}
}

func TestSignInRules(t *testing.T) {
	t.Parallel()
	t.Run("wrong date of birth and unknown licence give the same answer", func(t *testing.T) {
		t.Parallel()
		env := testenv.New(t, testenv.Options{})
		b := env.NewBrowser(t)
		b.Get("/renew/sign-in")
		wrongDOB := testenv.Copy(testenv.SignInForm("dacorum", testenv.DueDacorum), "dob-day", "28")
		p1 := b.Post("/renew/sign-in", wrongDOB)
		p2 := b.Post("/renew/sign-in", testenv.SignInForm("dacorum", "DAC-9999"))
		p3 := b.Post("/renew/sign-in", testenv.SignInForm("watford", testenv.DueDacorum)) // right number, wrong council
		for _, p := range []testenv.Page{p1, p2, p3} {
			wantStatus(t, p, http.StatusUnprocessableEntity)
			mustContain(t, p, "We could not find a licence with that number and date of birth")
		}
	})
	t.Run("not due yet", func(t *testing.T) {
		t.Parallel()
		env := testenv.New(t, testenv.Options{})
		b := env.NewBrowser(t)
		b.Get("/renew/sign-in")
		p := b.Post("/renew/sign-in", testenv.SignInForm("dacorum", testenv.NotDue))
		wantStatus(t, p, http.StatusOK)
		mustContain(t, p, "Your licence is not due for renewal yet", "14 June 2027")
		if b.Cookie("renewals_session") != "" {
			t.Error("a session was started for a licence that is not due")
		}
	})
	t.Run("expired", func(t *testing.T) {
		t.Parallel()
		env := testenv.New(t, testenv.Options{})
		b := env.NewBrowser(t)
		b.Get("/renew/sign-in")
		p := b.Post("/renew/sign-in", testenv.SignInForm("dacorum", testenv.Expired))
		wantStatus(t, p, http.StatusOK)
		mustContain(t, p, "Your licence has expired", "25 November 2026", "new application")
	})
	t.Run("code expires after 10 minutes", func(t *testing.T) {
		t.Parallel()
		env := testenv.New(t, testenv.Options{})
		b := env.NewBrowser(t)
		b.Get("/renew/sign-in")
		wantStatus(t, b.Post("/renew/sign-in", testenv.SignInForm("dacorum", testenv.DueDacorum)), http.StatusSeeOther)
		b.Get("/renew/code")
		code := env.LatestCode(t, testenv.DueDacorum+"@example.org")
		env.Clock.Advance(10*time.Minute + time.Second)
		p := b.Post("/renew/code", url.Values{"code": {code}})
		wantStatus(t, p, http.StatusUnprocessableEntity)
		mustContain(t, p, "This code has expired")
		// A new code works.
		wantStatus(t, b.Post("/renew/code/resend", nil), http.StatusSeeOther)
		b.Get("/renew/code")
		wantStatus(t, b.Post("/renew/code", url.Values{"code": {env.LatestCode(t, testenv.DueDacorum+"@example.org")}}), http.StatusSeeOther)
	})
	t.Run("five tries then the code is dead", func(t *testing.T) {
		t.Parallel()
		env := testenv.New(t, testenv.Options{})
		b := env.NewBrowser(t)
		b.Get("/renew/sign-in")
		b.Post("/renew/sign-in", testenv.SignInForm("dacorum", testenv.DueDacorum))
		b.Get("/renew/code")
		code := env.LatestCode(t, testenv.DueDacorum+"@example.org")
		wrong := "000000"
		if code == wrong {
			wrong = "111111"
		}
		for i := 1; i <= 4; i++ {
			p := b.Post("/renew/code", url.Values{"code": {wrong}})
			wantStatus(t, p, http.StatusUnprocessableEntity)
			mustContain(t, p, "The code is not right")
		}
		p := b.Post("/renew/code", url.Values{"code": {wrong}})
		mustContain(t, p, "too many times")
		p = b.Post("/renew/code", url.Values{"code": {code}}) // even the right code is refused now
		if p.Status == http.StatusSeeOther {
			t.Fatal("the right code was accepted after five wrong tries")
		}
		mustContain(t, p, "too many times")
	})
	t.Run("malformed code", func(t *testing.T) {
		t.Parallel()
		env := testenv.New(t, testenv.Options{})
		b := env.NewBrowser(t)
		b.Get("/renew/sign-in")
		b.Post("/renew/sign-in", testenv.SignInForm("dacorum", testenv.DueDacorum))
		b.Get("/renew/code")
		for _, bad := range []string{"", "12345", "1234567", "12a456", "<script>"} {
			p := b.Post("/renew/code", url.Values{"code": {bad}})
			wantStatus(t, p, http.StatusUnprocessableEntity)
			mustContain(t, p, "Enter the 6-digit code from your email", `href="#code"`)
		}
	})
	t.Run("rate limited per licence", func(t *testing.T) {
		t.Parallel()
		env := testenv.New(t, testenv.Options{})
		for i := 1; i <= 5; i++ {
			b := env.NewBrowser(t)
			b.Get("/renew/sign-in")
			wantStatus(t, b.Post("/renew/sign-in", testenv.SignInForm("dacorum", testenv.DueDacorum)), http.StatusSeeOther)
		}
		b := env.NewBrowser(t)
		b.Get("/renew/sign-in")
		p := b.Post("/renew/sign-in", testenv.SignInForm("dacorum", testenv.DueDacorum))
		mustContain(t, p, "too many attempts")
		// Another licence from the same address is not blocked by this one.
		wantStatus(t, b.Post("/renew/sign-in", testenv.SignInForm("watford", testenv.DueWatford)), http.StatusSeeOther)
		// After the window, the licence can ask again.
		env.Clock.Advance(16 * time.Minute)
		wantStatus(t, b.Post("/renew/sign-in", testenv.SignInForm("dacorum", testenv.DueDacorum)), http.StatusSeeOther)
	})
	t.Run("rate limited per IP, and X-Forwarded-For is not believed", func(t *testing.T) {
		t.Parallel()
		env := testenv.New(t, testenv.Options{})
		b := env.NewBrowser(t)
		b.Get("/renew/sign-in")
		limited := false
		for i := 0; i < 40 && !limited; i++ {
			b.Header.Set("X-Forwarded-For", "203.0.113."+itoa(i))
			p := b.Post("/renew/sign-in", testenv.SignInForm("dacorum", "DAC-X"+itoa(i)))
			limited = strings.Contains(p.Body, "too many attempts")
		}
		if !limited {
			t.Fatal("40 sign-in attempts from one address were never limited")
		}
	})
	t.Run("pages behind sign-in redirect when signed out", func(t *testing.T) {
		t.Parallel()
		env := testenv.New(t, testenv.Options{})
		b := env.NewBrowser(t)
		for _, path := range []string{"/renew", "/renew/contact", "/renew/awareness", "/renew/check-answers", "/renew/status", "/renew/code"} {
			p := b.Get(path)
			if p.Status != http.StatusSeeOther || p.Location != "/renew/sign-in" {
				t.Errorf("GET %s signed out: %d %s", path, p.Status, p.Location)
			}
		}
	})
	t.Run("a pending session cannot reach the renewal", func(t *testing.T) {
		t.Parallel()
		env := testenv.New(t, testenv.Options{})
		b := env.NewBrowser(t)
		b.Get("/renew/sign-in")
		b.Post("/renew/sign-in", testenv.SignInForm("dacorum", testenv.DueDacorum))
		if p := b.Get("/renew"); p.Status != http.StatusSeeOther {
			t.Fatalf("pending session reached the task list: %d", p.Status)
		}
	})
	t.Run("session idle timeout", func(t *testing.T) {
		t.Parallel()
		env := testenv.New(t, testenv.Options{})
		b := env.SignIn(t, "dacorum", testenv.DueDacorum)
		env.Clock.Advance(31 * time.Minute)
		if p := b.Get("/renew"); p.Status != http.StatusSeeOther || p.Location != "/renew/sign-in" {
			t.Fatalf("idle session still worked: %d", p.Status)
		}
	})
}

func itoa(i int) string { return string(rune('0'+i/10)) + string(rune('0'+i%10)) }

func TestBadRequestsAreFourHundreds(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	b := env.SignIn(t, "dacorum", testenv.DueDacorum)
	b.Get("/renew/declarations")
	huge := testenv.Copy(testenv.DeclarationsForm, "has_offences", "yes", "offence_details", strings.Repeat("x", 200_000))
	p := b.Post("/renew/declarations", huge)
	wantStatus(t, p, http.StatusRequestEntityTooLarge)
	mustContain(t, p, "too large")
	p = b.PostRaw("/renew/declarations", "_csrf="+b.CSRF+"&%zz=%%%")
	if p.Status >= 500 {
		t.Fatalf("malformed body gave %d", p.Status)
	}
	if p := b.Get("/no-such-page"); p.Status != http.StatusNotFound || !strings.Contains(p.Body, "Page not found") {
		t.Errorf("unknown page: %d", p.Status)
	}
	d, _ := env.Store.OpenRenewal(context.Background(), env.Drivers[testenv.DueDacorum].ID)
	if d.Answers.Declarations.Saved || d.Status != domain.StatusDraft {
		t.Fatalf("a rejected request saved answers: %+v", d.Answers.Declarations)
	}
}

func TestHealth(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	b := env.NewBrowser(t)
	wantStatus(t, b.Get("/healthz"), http.StatusOK)
	p := b.Get("/readyz")
	wantStatus(t, p, http.StatusOK)
	mustContain(t, p, "ready")
}
