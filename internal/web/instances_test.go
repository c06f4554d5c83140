package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/herts-msp/taxi-renewals/internal/domain"
	"github.com/herts-msp/taxi-renewals/internal/service"
	"github.com/herts-msp/taxi-renewals/internal/testdb"
	"github.com/herts-msp/taxi-renewals/internal/testenv"
)

// TestTwoInstancesShareOneDatabase runs two instances of the service on one database (on
// PostgreSQL when RENEWALS_TEST_POSTGRES_URL is set) and moves a driver between them at every
// step, as a load balancer may: the sign-in code, the session, the CSRF token, the draft and
// the evidence all live in the database, so the journey does not notice.
func TestTwoInstancesShareOneDatabase(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	other := env.SecondInstance(t)
	t.Logf("two instances on %s: %s and %s", testdb.Name(), env.Server.URL, other.Server.URL)
	instances := []string{env.Server.URL, other.Server.URL}
	b := env.NewBrowser(t)
	on := func(i int) { b.Server = instances[i%2] }

	on(0)
	b.Get("/renew/sign-in")
	p := b.Post("/renew/sign-in", testenv.SignInForm("dacorum", testenv.DueDacorum))
	wantStatus(t, p, http.StatusSeeOther)
	on(1) // the code emailed by the first instance is checked by the second
	p = b.Post("/renew/code", url.Values{"code": {env.LatestCode(t, testenv.DueDacorum+"@example.org")}})
	wantStatus(t, p, http.StatusSeeOther)
	on(0)
	p = b.Get("/renew")
	wantStatus(t, p, http.StatusOK)
	mustContain(t, p, "Your licence renewal", "Dacorum Borough Council")

	sections := []struct {
		path string
		form url.Values
	}{{"/renew/contact", testenv.ContactForm}, {"/renew/licence", testenv.LicenceForm}, {"/renew/checks", testenv.ChecksForm}, {"/renew/declarations", testenv.DeclarationsForm}}
	for i, s := range sections {
		on(i) // the form is loaded from one instance and sent to the other
		b.Get(s.path)
		on(i + 1)
		wantStatus(t, b.Post(s.path, s.form), http.StatusSeeOther)
	}
	on(0)
	b.UploadPhoto() // the photo is stored in the database: the other instance serves it
	on(1)
	if p := b.Get("/renew/documents"); !strings.Contains(p.Body, "/preview") {
		t.Fatal("the second instance does not show the photo uploaded on the first")
	}
	on(0)
	b.CompleteAwareness()
	on(1)
	p = b.Get("/renew/check-answers")
	mustContain(t, p, "Version 1.0: read and confirmed", "Accept and send")
	on(0)
	p = b.Post("/renew/submit", nil)
	wantStatus(t, p, http.StatusSeeOther)
	on(1)
	p = b.Follow(p)
	mustContain(t, p, "Renewal sent", "Your reference number")

	driver := env.Drivers[testenv.DueDacorum]
	r, err := other.Store.LatestRenewal(context.Background(), driver.ID)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != domain.StatusSubmitted || r.AckEvidenceID == 0 || !strings.Contains(p.Body, r.Reference) {
		t.Fatalf("renewal after a journey over two instances: %+v", r)
	}

	// Signing out on one instance ends the session on both.
	on(0)
	wantStatus(t, b.Post("/renew/sign-out", nil), http.StatusSeeOther)
	on(1)
	p = b.Get("/renew")
	if p.Status != http.StatusSeeOther || !strings.Contains(p.Location, "/renew/sign-in") {
		t.Fatalf("after signing out on the other instance: %d %s", p.Status, p.Location)
	}
}

// TestTwoInstancesShareTheCodeAttemptLimit: wrong codes sent to alternate instances count
// together, so a second server does not double the guesses an attacker gets.
func TestTwoInstancesShareTheCodeAttemptLimit(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	other := env.SecondInstance(t)
	instances := []string{env.Server.URL, other.Server.URL}
	b := env.NewBrowser(t)
	b.Get("/renew/sign-in")
	wantStatus(t, b.Post("/renew/sign-in", testenv.SignInForm("dacorum", testenv.DueDacorum)), http.StatusSeeOther)
	right := env.LatestCode(t, testenv.DueDacorum+"@example.org")
	wrong := "000000"
	if right == wrong {
		wrong = "111111"
	}
	for i := range service.CodeMaxAttempts {
		b.Server = instances[i%2]
		if p := b.Post("/renew/code", url.Values{"code": {wrong}}); p.Status == http.StatusSeeOther && p.Location == "/renew" {
			t.Fatalf("wrong code %d accepted", i+1)
		}
	}
	env.Clock.Advance(time.Second)
	b.Server = instances[service.CodeMaxAttempts%2]
	p := b.Post("/renew/code", url.Values{"code": {right}})
	if p.Status == http.StatusSeeOther && p.Location == "/renew" {
		t.Fatalf("after %d wrong codes spread over two instances, the right code still signed in", service.CodeMaxAttempts)
	}
}
