package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/herts-msp/taxi-renewals/internal/domain"
	"github.com/herts-msp/taxi-renewals/internal/service"
	"github.com/herts-msp/taxi-renewals/internal/testdb"
	"github.com/herts-msp/taxi-renewals/internal/testenv"
)

// TestKeptReferenceDataFollowsChangesOnOtherInstances runs two instances on one database (on
// PostgreSQL when RENEWALS_TEST_POSTGRES_URL is set). Each keeps the councils, fees and leaflet
// versions in memory; the second shows every page first, so what it keeps is warm, then the
// first instance (or a statement in the database by hand) changes a council's settings, a
// fee, publishes a leaflet version or signs the driver out, and the very next page on the
// second instance must show the change.
func TestKeptReferenceDataFollowsChangesOnOtherInstances(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := testenv.New(t, testenv.Options{})
	other := env.SecondInstance(t)
	t.Logf("two instances on %s", testdb.Name())
	admin := service.SystemActor("test")

	// A driver who has sent their renewal, their browser on the second instance.
	b := env.SignIn(t, "dacorum", testenv.DueDacorum)
	b.CompleteSections()
	b.CompleteAwareness()
	b.Get("/renew/check-answers")
	wantStatus(t, b.Post("/renew/submit", nil), http.StatusSeeOther)
	b.Server = other.Server.URL
	public := env.NewBrowser(t)
	public.Server = other.Server.URL

	show := func(br *testenv.Browser, path string, want ...string) {
		t.Helper()
		p := br.Get(path)
		wantStatus(t, p, http.StatusOK)
		mustContain(t, p, want...)
	}
	hide := func(br *testenv.Browser, path string, unwanted string) {
		t.Helper()
		if p := br.Get(path); strings.Contains(p.Body, unwanted) {
			t.Errorf("GET %s on the second instance still shows %q", path, unwanted)
		}
	}

	// Warm: every page that reads what is kept.
	show(b, "/renew/status", "Dacorum Borough Council")
	show(public, "/", "Dacorum Borough Council")
	show(public, "/leaflet", "Version 1.0")
	show(public, "/renew/sign-in", "Dacorum Borough Council")

	// A council's settings, changed on the first instance.
	set := domain.CouncilSettings{Phone: "01442 228000", PublicEmail: "taxis@dacorum.example.org", DecisionDays: 15, MedicalIntervalYears: 5}
	if _, err := env.Service.UpdateCouncilSettings(ctx, admin, "dacorum", set); err != nil {
		t.Fatal(err)
	}
	show(b, "/renew/status", "01442 228000", "taxis@dacorum.example.org")

	// A fee, set on the first instance.
	hide(public, "/", "£314.15")
	if _, err := env.Service.SetFee(ctx, admin, "dacorum", 3, 31415, env.Service.Today()); err != nil {
		t.Fatal(err)
	}
	show(public, "/", "£314.15")

	// A new leaflet version, published on the first instance.
	env.PublishLeaflet(t, "2.0", false)
	show(public, "/leaflet", "Version 2.0")
	show(b, "/renew/status") // the driver's page reads the versions too (their awareness)

	// A council renamed in the database by hand: no instance made the change.
	if _, err := testdb.Raw(t, env.Config.DatabaseURL).Exec("UPDATE councils SET name = 'Dacorum Council (renamed)' WHERE slug = 'dacorum'"); err != nil {
		t.Fatal(err)
	}
	show(public, "/renew/sign-in", "Dacorum Council (renamed)")
	show(b, "/renew/status", "Dacorum Council (renamed)")
	hide(public, "/renew/sign-in", "Dacorum Borough Council")

	// Signed out on the first instance: the second no longer lets the session in.
	b.Server = env.Server.URL
	b.Get("/renew/status")
	wantStatus(t, b.Post("/renew/sign-out", nil), http.StatusSeeOther)
	// The browser drops the cookie on sign-out; a copy of it kept by an attacker must not work.
	b.Server = other.Server.URL
	if p := b.Get("/renew/status"); p.Status != http.StatusSeeOther || p.Location != "/renew/sign-in" {
		t.Errorf("after sign-out on the first instance, the second answered %d %s, want 303 to /renew/sign-in", p.Status, p.Location)
	}
}

// TestSignedOutSessionRefusedOnOtherInstance keeps a copy of a driver's session cookie, signs
// out on one instance and sends the copy to the other: it must be refused.
func TestSignedOutSessionRefusedOnOtherInstance(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	other := env.SecondInstance(t)
	b := env.SignIn(t, "dacorum", testenv.DueDacorum)
	token := b.Cookie("renewals_session")
	if token == "" {
		t.Fatal("no session cookie after sign-in")
	}
	copyOn := func(server string) *http.Response {
		t.Helper()
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, server+"/renew", nil)
		req.AddCookie(&http.Cookie{Name: "renewals_session", Value: token})
		resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if resp := copyOn(other.Server.URL); resp.StatusCode != http.StatusOK {
		t.Fatalf("the copied cookie before sign-out: %d, want 200", resp.StatusCode)
	}
	wantStatus(t, b.Post("/renew/sign-out", nil), http.StatusSeeOther)
	if resp := copyOn(other.Server.URL); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/renew/sign-in" {
		t.Errorf("the copied cookie after sign-out on the other instance: %d %s, want 303 to /renew/sign-in", resp.StatusCode, resp.Header.Get("Location"))
	}
}
