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
	"github.com/herts-msp/taxi-renewals/internal/testenv"
)

func TestDriverSeesFeesContactsAndMaskedAddress(t *testing.T) {
	env := testenv.New(t, testenv.Options{})
	ctx := context.Background()
	admin := service.SystemActor("test")
	if _, err := env.Service.UpdateCouncilSettings(ctx, admin, "dacorum", domain.CouncilSettings{Phone: "01442 228000",
		PublicEmail: "licensing@dacorum.gov.uk", WebURL: "https://www.dacorum.gov.uk/licensing", OpeningHours: "Monday to Friday, 9am to 5pm",
		DecisionDays: 12, MedicalIntervalYears: 5}); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Service.SetFee(ctx, admin, "dacorum", 3, 28800, env.Service.Today()); err != nil {
		t.Fatal(err)
	}
	b := env.NewBrowser(t)
	p := b.Get("/")
	mustContain(t, p, "Driver licence renewal fees by council", "Dacorum Borough Council", "£288.00", "1-year licence", "3-year licence")

	// The code page says where the code went, masked, and how to reach the council.
	b.Get("/renew/sign-in")
	wantStatus(t, b.Post("/renew/sign-in", testenv.SignInForm("dacorum", testenv.DueDacorum)), http.StatusSeeOther)
	p = b.Get("/renew/code")
	mustContain(t, p, "D•••@e•••.org", `href="tel:01442228000"`, `href="mailto:licensing@dacorum.gov.uk"`, "Monday to Friday, 9am to 5pm")
	if strings.Contains(p.Body, testenv.DueDacorum+"@example.org") {
		t.Error("the code page shows the whole address")
	}
	b.Post("/renew/code", url.Values{"code": {env.LatestCode(t, testenv.DueDacorum+"@example.org")}})

	// Before a term is chosen the task list gives each term's fee; after, the chosen one.
	mustContain(t, b.Get("/renew"), "for a 1-year licence or £288.00 for a 3-year licence")
	b.CompleteSections()
	mustContain(t, b.Get("/renew"), "The fee for your 3-year licence is £288.00.")
	mustContain(t, b.Get("/renew/check-answers"), "<dt class=\"summary-list__key\">Fee</dt>", "£288.00")

	// A new leaflet version: the banner's heading is in the coloured header, and check your
	// answers says when the version was published.
	b.CompleteAwareness()
	env.Clock.Advance(time.Minute)
	env.PublishLeaflet(t, "2.0", false)
	p = b.Get("/renew")
	mustContain(t, p, `<h2 class="notification-banner__title" id="new-leaflet-title">Important</h2>`, "There is a new version of the awareness leaflet")
	mustContain(t, b.Get("/renew/check-answers"), "a new version of the leaflet (version 2.0) was published on 26 November 2026")

	// Confirmation and status: what happens next, with the council's decision days.
	b.CompleteAwareness()
	b.Get("/renew/check-answers")
	wantStatus(t, b.Post("/renew/submit", nil), http.StatusSeeOther)
	mustContain(t, b.Get("/renew/confirmation"), "they aim to decide within 12 working days", `href="tel:01442228000"`)
	mustContain(t, b.Get("/renew/status"), "withdraw your renewal", `href="https://www.dacorum.gov.uk/licensing"`)
	if n := countRows(t, env, "SELECT COUNT(*) FROM outbox WHERE subject LIKE 'We have received%' AND body LIKE '%within 12 working days%' AND body LIKE '%phone 01442 228000%'"); n != 1 {
		t.Errorf("confirmation emails with the decision days and contact: %d", n)
	}
}
