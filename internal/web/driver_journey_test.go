package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/herts-msp/taxi-renewals/internal/domain"
	"github.com/herts-msp/taxi-renewals/internal/leaflet"
	"github.com/herts-msp/taxi-renewals/internal/testenv"
)

func mustContain(t *testing.T, p testenv.Page, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(p.Body, w) {
			t.Errorf("page (status %d) does not contain %q:\n%s", p.Status, w, testenv.Excerpt(p.Body))
		}
	}
}

func wantStatus(t *testing.T, p testenv.Page, want int) {
	t.Helper()
	if p.Status != want {
		t.Fatalf("status %d, want %d:\n%s", p.Status, want, testenv.Excerpt(p.Body))
	}
}

// TestDriverJourney drives the whole journey over HTTP, from the start page to the
// confirmation, then checks the evidence rows it left.
func TestDriverJourney(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	ctx := context.Background()
	b := env.NewBrowser(t)

	p := b.Get("/")
	wantStatus(t, p, http.StatusOK)
	mustContain(t, p, "Renew your taxi or private hire driver licence", "modern slavery awareness", `href="/renew/sign-in"`)

	b.Get("/renew/sign-in")
	p = b.Post("/renew/sign-in", testenv.SignInForm("dacorum", " dac-1001 "))
	wantStatus(t, p, http.StatusSeeOther)
	pendingCookie := b.Cookie("renewals_session")
	p = b.Follow(p)
	mustContain(t, p, "Check your email")

	code := env.LatestCode(t, testenv.DueDacorum+"@example.org")
	p = b.Post("/renew/code", url.Values{"code": {code}})
	wantStatus(t, p, http.StatusSeeOther)
	if got := b.Cookie("renewals_session"); got == "" || got == pendingCookie {
		t.Fatalf("session id did not change at sign-in")
	}
	p = b.Follow(p)
	mustContain(t, p, "Your licence renewal", "Dacorum Borough Council", "Zoë", "Not yet started")

	// The contact page is prefilled from the register.
	p = b.Get("/renew/contact")
	mustContain(t, p, `value="DAC-1001@example.org"`, `value="AL8 6XF"`)
	b.CompleteSections()

	// The awareness step: leaflet, a wrong answer explained, then right answers and the confirmation.
	p = b.Get("/renew")
	mustContain(t, p, "Modern slavery awareness")
	if strings.Contains(p.Body, `href="/renew/check-answers"`) {
		t.Fatal("check answers offered before the awareness step")
	}
	p = b.Get("/renew/awareness")
	wantStatus(t, p, http.StatusOK)
	mustContain(t, p, "08000 121 700", "03000 11 55 55", "999", "101")
	p = b.Get("/renew/awareness/check")
	wantStatus(t, p, http.StatusOK)
	id, answers := env.QuizAnswers(t)
	wrong := testenv.Copy(answers)
	cur, _ := env.Store.CurrentLeaflet(ctx, domain.AudienceDriver)
	wrong.Set("q1", strconv.Itoa((cur.Quiz[0].Correct+1)%len(cur.Quiz[0].Options)))
	p = b.Post("/renew/awareness/check", wrong)
	wantStatus(t, p, http.StatusUnprocessableEntity)
	mustContain(t, p, "<title>Error:", "That is not right.", cur.Quiz[0].Explanation, `href="#q1"`)
	// Confirming before passing the check is refused and records nothing.
	p = b.Post("/renew/awareness/confirm", url.Values{"leaflet_id": {strconv.FormatInt(id, 10)}, "understood": {"yes"}})
	wantStatus(t, p, http.StatusConflict)
	p = b.Post("/renew/awareness/check", answers)
	wantStatus(t, p, http.StatusSeeOther)
	p = b.Follow(p)
	mustContain(t, p, "Confirm you have understood the leaflet")
	p = b.Post("/renew/awareness/confirm", url.Values{"leaflet_id": {strconv.FormatInt(id, 10)}})
	wantStatus(t, p, http.StatusUnprocessableEntity)
	mustContain(t, p, "Confirm that you have read and understood the leaflet")
	p = b.Post("/renew/awareness/confirm", url.Values{"leaflet_id": {strconv.FormatInt(id, 10)}, "understood": {"yes"}})
	wantStatus(t, p, http.StatusSeeOther)

	p = b.Get("/renew/check-answers")
	wantStatus(t, p, http.StatusOK)
	mustContain(t, p, "MORGA753116SM9IJ", "AL8 6XF", "07700900982", "Version 1.0: read and confirmed", "Accept and send")
	env.Clock.Advance(time.Minute)
	p = b.Post("/renew/submit", nil)
	wantStatus(t, p, http.StatusSeeOther)
	p = b.Follow(p)
	wantStatus(t, p, http.StatusOK)
	mustContain(t, p, "Renewal sent", "Your reference number")
	driver := env.Drivers[testenv.DueDacorum]
	r, err := env.Store.LatestRenewal(ctx, driver.ID)
	if err != nil {
		t.Fatal(err)
	}
	mustContain(t, p, r.Reference)
	if r.Status != domain.StatusSubmitted || !strings.HasPrefix(r.Reference, "TR-") || r.AckEvidenceID == 0 {
		t.Fatalf("renewal after submit: %+v", r)
	}
	p = b.Get("/renew/status")
	mustContain(t, p, r.Reference, "Received: waiting for the licensing team")
	// Answers cannot be changed once sent.
	p = b.Get("/renew/contact")
	wantStatus(t, p, http.StatusSeeOther)

	// The evidence: one issue and one acknowledgement, with everything DESIGN §3 lists.
	evidence, err := env.Store.DriverEvidence(ctx, driver.ID)
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		Kind      domain.EvidenceKind
		DriverID  int64
		CouncilID int64
		LeafletID int64
		SHA       string
		Channel   domain.Channel
		Actor     string
		ActorID   int64
		At        time.Time
	}
	var got []row
	for _, e := range evidence {
		got = append(got, row{e.Kind, e.DriverID, e.CouncilID, e.LeafletID, e.ContentSHA256, e.Channel, e.ActorKind, e.ActorID, e.OccurredAt})
	}
	sha := leaflet.Hash(cur.Content)
	want := []row{
		{domain.KindIssue, driver.ID, driver.CouncilID, id, sha, domain.ChannelOnline, domain.ActorDriver, driver.ID, testenv.Start},
		{domain.KindAcknowledgement, driver.ID, driver.CouncilID, id, sha, domain.ChannelOnline, domain.ActorDriver, driver.ID, testenv.Start},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("evidence (-want +got):\n%s", diff)
	}
	if r.AckEvidenceID != evidence[1].ID {
		t.Errorf("renewal points at evidence %d, want the acknowledgement %d", r.AckEvidenceID, evidence[1].ID)
	}
	if len(sha) != 64 || sha != cur.ContentSHA256 {
		t.Errorf("content hash %q does not match the leaflet's %q", sha, cur.ContentSHA256)
	}
}

// TestResumeDraft: answers are saved as the driver goes, and signing in again resumes them.
func TestResumeDraft(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	b := env.SignIn(t, "dacorum", testenv.DueDacorum)
	wantStatus(t, b.Post("/renew/licence", testenv.LicenceForm), http.StatusSeeOther)
	wantStatus(t, b.Post("/renew/sign-out", nil), http.StatusSeeOther)
	if p := b.Get("/renew"); p.Status != http.StatusSeeOther || p.Location != "/renew/sign-in" {
		t.Fatalf("after sign-out /renew gave %d %s", p.Status, p.Location)
	}
	env.Clock.Advance(time.Minute)
	b2 := env.SignIn(t, "dacorum", testenv.DueDacorum)
	p := b2.Get("/renew/licence")
	mustContain(t, p, `value="MORGA753116SM9IJ"`, `value="Ab12Cd34"`, `value="3" checked`)
}
