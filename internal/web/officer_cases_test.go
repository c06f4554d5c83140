package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/herts-msp/taxi-renewals/internal/domain"
	"github.com/herts-msp/taxi-renewals/internal/store"
	"github.com/herts-msp/taxi-renewals/internal/testenv"
)

// submitOnline completes a driver's online renewal and returns it.
func submitOnline(t *testing.T, env *testenv.Env, council, licence string) domain.Renewal {
	t.Helper()
	b := env.SignIn(t, council, licence)
	b.CompleteSections()
	b.CompleteAwareness()
	b.Get("/renew/check-answers")
	wantStatus(t, b.Post("/renew/submit", nil), http.StatusSeeOther)
	r, err := env.Store.LatestRenewal(context.Background(), env.Drivers[licence].ID)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func checkForm(check string, result string) url.Values {
	return url.Values{"check_type": {check}, "checked_on-day": {"20"}, "checked_on-month": {"11"}, "checked_on-year": {"2026"}, "result": {result}, "notes": {"seen"}}
}

func recordAllChecks(t *testing.T, b *testenv.Browser, id int64) {
	t.Helper()
	for _, ct := range domain.CheckTypes {
		b.Get(fmt.Sprintf("/staff/renewals/%d", id))
		wantStatus(t, b.Post(fmt.Sprintf("/staff/renewals/%d/checks", id), checkForm(string(ct), domain.CheckSatisfactory)), http.StatusSeeOther)
	}
}

// acceptDocuments accepts every current document of a renewal from its case page.
func acceptDocuments(t *testing.T, env *testenv.Env, officer *testenv.Browser, renewalID int64) {
	t.Helper()
	r := renewalNow(t, env, renewalID)
	officer.Get(fmt.Sprintf("/staff/renewals/%d", renewalID))
	for _, k := range r.Answers.RequiredDocuments() {
		id := r.Answers.Documents.ID(k)
		wantStatus(t, officer.Post(fmt.Sprintf("/staff/documents/%d/review", id), url.Values{"decision": {"accept"}}), http.StatusSeeOther)
	}
}

// inOrder fails unless each string appears in body after the one before it.
func inOrder(t *testing.T, body string, parts ...string) {
	t.Helper()
	last := -1
	for _, s := range parts {
		i := strings.Index(body, s)
		if i < 0 {
			t.Fatalf("page lacks %s", s)
		}
		if i < last {
			t.Errorf("%s comes before the item above it", s)
		}
		last = i
	}
}

func renewalNow(t *testing.T, env *testenv.Env, id int64) domain.Renewal {
	t.Helper()
	r, err := env.Store.RenewalByID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestOfficerWorksACaseToApproval(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	ctx := context.Background()
	r := submitOnline(t, env, "dacorum", testenv.DueDacorum)
	path := fmt.Sprintf("/staff/renewals/%d", r.ID)
	officer := env.SignInStaff(t, env.AddStaff(t, domain.RoleOfficer, "dacorum"))

	p := officer.Get("/staff/renewals")
	wantStatus(t, p, http.StatusOK)
	mustContain(t, p, r.Reference, "Zoë O’Brien-Test", "Acknowledged")
	p = officer.Get("/staff/renewals?q=" + url.QueryEscape(strings.ToLower(testenv.DueDacorum)))
	mustContain(t, p, r.Reference)
	p = officer.Get("/staff/renewals?q=nobody-matches")
	if strings.Contains(p.Body, r.Reference) {
		t.Error("search for a missing name still lists the renewal")
	}

	p = officer.Get(path)
	wantStatus(t, p, http.StatusOK)
	mustContain(t, p, "MORGA753116SM9IJ", "Acknowledged", "Record the DBS Update Service status check before approving")

	// Approving before the checks are recorded is refused and changes nothing; the refusal names
	// everything missing at once, in the order of the case page (documents, then the checks).
	p = officer.Post(path+"/approve", nil)
	wantStatus(t, p, http.StatusConflict)
	mustContain(t, p, "Record the DBS Update Service status check before approving", `href="#check-dbs"`,
		"Accept or reject the photo before approving", `href="#document-photo"`, "Record the HMRC tax check before approving")
	inOrder(t, p.Body, `href="#document-photo"`, `href="#check-dbs"`, `href="#check-dvla"`, `href="#check-nr3s"`, `href="#check-medical"`, `href="#check-right_to_work"`, `href="#check-hmrc"`)
	if got := renewalNow(t, env, r.ID); got.Status != domain.StatusSubmitted {
		t.Fatalf("refused approval changed status to %s", got.Status)
	}

	wantStatus(t, officer.Post(path+"/start-review", nil), http.StatusSeeOther)
	// A bad check date keeps the officer's answers.
	bad := checkForm("dbs", "satisfactory")
	bad.Set("checked_on-month", "13")
	p = officer.Post(path+"/checks", bad)
	wantStatus(t, p, http.StatusUnprocessableEntity)
	mustContain(t, p, "must be a real date", `value="13"`, `value="seen"`)
	future := checkForm("dvla", "satisfactory")
	future.Set("checked_on-year", "2027")
	wantStatus(t, officer.Post(path+"/checks", future), http.StatusUnprocessableEntity)

	recordAllChecks(t, officer, r.ID)
	// One check recorded again as unsatisfactory blocks approval: the latest result counts.
	wantStatus(t, officer.Post(path+"/checks", checkForm("nr3s", domain.CheckUnsatisfactory)), http.StatusSeeOther)
	p = officer.Post(path+"/approve", nil)
	wantStatus(t, p, http.StatusConflict)
	mustContain(t, p, "The latest NR3S register search is not satisfactory")
	wantStatus(t, officer.Post(path+"/checks", checkForm("nr3s", domain.CheckSatisfactory)), http.StatusSeeOther)

	// The driver's acknowledgement was recorded in error: voided, approval is refused again.
	ev, _ := env.Store.DriverEvidence(ctx, r.DriverID)
	ack := ev[len(ev)-1]
	if ack.Kind != domain.KindAcknowledgement {
		t.Fatalf("last evidence is %s", ack.Kind)
	}
	driverPage := fmt.Sprintf("/staff/drivers/%d", r.DriverID)
	officer.Get(driverPage)
	p = officer.Post(fmt.Sprintf("/staff/evidence/%d/void", ack.ID), url.Values{fmt.Sprintf("reason-%d", ack.ID): {"no"}})
	wantStatus(t, p, http.StatusUnprocessableEntity)
	mustContain(t, p, "Say why this record is wrong")
	wantStatus(t, officer.Post(fmt.Sprintf("/staff/evidence/%d/void", ack.ID), url.Values{fmt.Sprintf("reason-%d", ack.ID): {"Driver says someone else clicked it"}}), http.StatusSeeOther)
	p = officer.Post(fmt.Sprintf("/staff/evidence/%d/void", ack.ID), url.Values{fmt.Sprintf("reason-%d", ack.ID): {"Voiding the same record twice"}})
	wantStatus(t, p, http.StatusConflict)
	officer.Get(path)
	p = officer.Post(path+"/approve", nil)
	wantStatus(t, p, http.StatusConflict)
	mustContain(t, p, "The driver must acknowledge the current leaflet before approval")

	// The driver signs the leaflet at the counter: issue first, then the acknowledgement.
	officer.Get(driverPage)
	current, _ := env.Store.CurrentLeaflet(ctx, domain.AudienceDriver)
	evForm := func(kind string) url.Values {
		return url.Values{"kind": {kind}, "channel": {"in_person"}, "leaflet_id": {strconv.FormatInt(current.ID, 10)}, "on-day": {"26"}, "on-month": {"11"}, "on-year": {"2026"}}
	}
	wantStatus(t, officer.Post(driverPage+"/evidence", evForm("acknowledgement")), http.StatusSeeOther) // the online issue still stands
	before, _ := env.Store.DriverEvidence(ctx, r.DriverID)
	wantStatus(t, officer.Post(driverPage+"/evidence", evForm("issue")), http.StatusSeeOther)
	after, _ := env.Store.DriverEvidence(ctx, r.DriverID)
	if len(after) != len(before)+1 || after[len(after)-1].Channel != domain.ChannelInPerson || after[len(after)-1].ActorKind != domain.ActorStaff ||
		after[len(after)-1].ContentSHA256 != current.ContentSHA256 {
		t.Fatalf("in-person issue not recorded as evidence: %+v", after[len(after)-1])
	}

	officer.Get(path)
	p = officer.Post(path+"/approve", nil)
	wantStatus(t, p, http.StatusConflict)
	mustContain(t, p, `href="#document-photo"`, "Accept or reject the photo before approving", `href="#payment"`, "Record the fee as paid or waived before approving")
	if strings.Contains(p.Body, `href="#check-`) || strings.Contains(p.Body, `href="#awareness"`) {
		t.Error("the refusal lists something already done")
	}
	acceptDocuments(t, env, officer, r.ID)
	wantStatus(t, officer.Post(path+"/payments", url.Values{"method": {"counter"}, "amount": {"330"}, "receipt": {"R-77"}}), http.StatusSeeOther)
	officer.Get(path)
	p = officer.Post(path+"/approve", nil)
	wantStatus(t, p, http.StatusSeeOther)
	approved := officer.Follow(p)
	got := renewalNow(t, env, r.ID)
	d, _ := env.Store.DriverByID(ctx, r.DriverID)
	oldExpiry := env.Drivers[testenv.DueDacorum].LicenceExpiry
	if got.Status != domain.StatusApproved || d.LicenceExpiry != oldExpiry.AddDays(1).AddYears(3).AddDays(-1) || got.NewExpiry != d.LicenceExpiry {
		t.Fatalf("after approval: status %s, register expiry %s (was %s), renewal new expiry %s", got.Status, d.LicenceExpiry, oldExpiry, got.NewExpiry)
	}
	mustContain(t, approved, "Renewal approved", "Approved", "Awareness evidence recorded", "Check recorded")
	// A decided renewal cannot be decided again.
	wantStatus(t, officer.Post(path+"/refuse", url.Values{"reason": {"Changed my mind about this one"}}), http.StatusConflict)

	// The audit log has the whole case.
	entries, _, err := env.Store.AuditEntries(ctx, store.AuditFilter{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, e := range entries {
		seen[e.Action]++
	}
	for action, n := range map[string]int{"check.recorded": 8, "renewal.review_started": 1, "evidence.voided": 1, "evidence.recorded": 2, "renewal.approved": 1, "document.accepted": 1} {
		if seen[action] != n {
			t.Errorf("audit has %d %q entries, want %d", seen[action], action, n)
		}
	}
	if v, err := env.Store.VerifyAudit(ctx); err != nil || v.FirstBrokenID != 0 {
		t.Fatalf("audit chain: %+v %v", v, err)
	}
}

func TestCaseworkTenancy(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	r := submitOnline(t, env, "dacorum", testenv.DueDacorum)
	path := fmt.Sprintf("/staff/renewals/%d", r.ID)
	other := env.SignInStaff(t, env.AddStaff(t, domain.RoleOfficer, "watford"))
	analyst := env.SignInStaff(t, env.AddStaff(t, domain.RoleAnalyst, ""))
	admin := env.SignInStaff(t, env.AddStaff(t, domain.RoleAdmin, ""))
	ev, _ := env.Store.DriverEvidence(context.Background(), r.DriverID)

	p := other.Get("/staff/renewals")
	if strings.Contains(p.Body, r.Reference) {
		t.Fatal("another council's officer sees the renewal in their queue")
	}
	for _, get := range []string{path, fmt.Sprintf("/staff/drivers/%d", r.DriverID)} {
		wantStatus(t, other.Get(get), http.StatusNotFound)
		wantStatus(t, analyst.Get(get), http.StatusOK)
		wantStatus(t, admin.Get(get), http.StatusOK)
	}
	other.Get("/staff/renewals")
	analyst.Get("/staff/renewals")
	for _, post := range []string{path + "/start-review", path + "/approve", path + "/checks", path + "/refuse", path + "/request-info",
		fmt.Sprintf("/staff/drivers/%d/evidence", r.DriverID), fmt.Sprintf("/staff/drivers/%d/paper-renewal", r.DriverID),
		fmt.Sprintf("/staff/evidence/%d/void", ev[0].ID)} {
		wantStatus(t, other.Post(post, checkForm("dbs", "satisfactory")), http.StatusNotFound)
		wantStatus(t, analyst.Post(post, checkForm("dbs", "satisfactory")), http.StatusForbidden)
		wantStatus(t, admin.Post(post, checkForm("dbs", "satisfactory")), http.StatusForbidden)
	}
	if got := renewalNow(t, env, r.ID); got.Status != domain.StatusSubmitted {
		t.Fatalf("refused requests changed the renewal: %s", got.Status)
	}
	// Analysts see every council in the queue.
	p = analyst.Get("/staff/renewals")
	mustContain(t, p, r.Reference, "Dacorum Borough Council")
	// A driver's unsent draft is not visible to anyone in the back office.
	b := env.SignIn(t, "watford", testenv.DueWatford)
	b.Get("/renew")
	draft, _ := env.Store.OpenRenewal(context.Background(), env.Drivers[testenv.DueWatford].ID)
	wantStatus(t, analyst.Get(fmt.Sprintf("/staff/renewals/%d", draft.ID)), http.StatusNotFound)
	// Ids that are not numbers are simply not found.
	wantStatus(t, analyst.Get("/staff/renewals/abc"), http.StatusNotFound)
}

func TestRequestInformationAndRefusal(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	r := submitOnline(t, env, "watford", testenv.DueWatford)
	path := fmt.Sprintf("/staff/renewals/%d", r.ID)
	officer := env.SignInStaff(t, env.AddStaff(t, domain.RoleOfficer, "watford"))
	officer.Get(path)
	wantStatus(t, officer.Post(path+"/request-info", url.Values{"message": {""}}), http.StatusUnprocessableEntity)
	wantStatus(t, officer.Post(path+"/request-info", url.Values{"message": {"Please send a photo of your new DBS certificate."}}), http.StatusSeeOther)
	if got := renewalNow(t, env, r.ID); got.Status != domain.StatusMoreInfo {
		t.Fatalf("status %s after request", got.Status)
	}

	// The driver signs in, sees the message on their status page, and replies.
	b := env.SignIn(t, "watford", testenv.DueWatford)
	p := b.Get("/renew/status")
	mustContain(t, p, "The licensing team needs more information", "Please send a photo of your new DBS certificate.", "Reply to the licensing team")
	p = b.Post("/renew/reply", url.Values{"reply": {"  "}})
	wantStatus(t, p, http.StatusUnprocessableEntity)
	mustContain(t, p, "Write your reply")
	wantStatus(t, b.Post("/renew/reply", url.Values{"reply": {"I will bring it to the counter on Monday."}}), http.StatusSeeOther)
	if got := renewalNow(t, env, r.ID); got.Status != domain.StatusInReview {
		t.Fatalf("status %s after reply", got.Status)
	}
	wantStatus(t, b.Post("/renew/reply", url.Values{"reply": {"A second reply"}}), http.StatusConflict)
	mustContain(t, officer.Get(path), "I will bring it to the counter on Monday.", "Driver replied")

	// Refusal needs a reason; the NR3S date can follow.
	p = officer.Post(path+"/refuse", url.Values{"reason": {"short"}})
	wantStatus(t, p, http.StatusUnprocessableEntity)
	mustContain(t, p, "Give the reason for refusal")
	wantStatus(t, officer.Post(path+"/refuse", url.Values{"reason": {"The DBS certificate shows a relevant conviction."}}), http.StatusSeeOther)
	p = officer.Get(path)
	mustContain(t, p, "not yet recorded", "Record the refusal on NR3S")
	wantStatus(t, officer.Post(path+"/nr3s", url.Values{"nr3s-day": {"26"}, "nr3s-month": {"11"}, "nr3s-year": {"2026"}}), http.StatusSeeOther)
	got := renewalNow(t, env, r.ID)
	if got.Status != domain.StatusRefused || got.NR3SRecordedOn.String() != "2026-11-26" {
		t.Fatalf("after refusal: %s, NR3S %q", got.Status, got.NR3SRecordedOn)
	}
	mustContain(t, b.Get("/renew/status"), "Refused", "The DBS certificate shows a relevant conviction.")
}

func TestPaperRenewalWithInPersonAcknowledgement(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	ctx := context.Background()
	d := env.Drivers[testenv.NotDue]
	officer := env.SignInStaff(t, env.AddStaff(t, domain.RoleOfficer, "dacorum"))
	driverPage := fmt.Sprintf("/staff/drivers/%d", d.ID)
	officer.Get(driverPage)
	wantStatus(t, officer.Post(driverPage+"/paper-renewal", nil), http.StatusUnprocessableEntity)
	p := officer.Post(driverPage+"/paper-renewal", url.Values{"term": {"1"}})
	wantStatus(t, p, http.StatusSeeOther)
	r, err := env.Store.LatestRenewal(ctx, d.ID)
	if err != nil || r.Channel != "paper" || r.Status != domain.StatusSubmitted {
		t.Fatalf("paper renewal: %+v %v", r, err)
	}
	path := fmt.Sprintf("/staff/renewals/%d", r.ID)
	recordAllChecks(t, officer, r.ID)
	wantStatus(t, officer.Post(path+"/approve", nil), http.StatusConflict) // no leaflet yet

	current, _ := env.Store.CurrentLeaflet(ctx, domain.AudienceDriver)
	form := url.Values{"kind": {"acknowledgement"}, "channel": {"post"}, "leaflet_id": {strconv.FormatInt(current.ID, 10)}, "on-day": {"25"}, "on-month": {"11"}, "on-year": {"2026"}}
	officer.Get(driverPage)
	p = officer.Post(driverPage+"/evidence", form)
	wantStatus(t, p, http.StatusConflict)
	mustContain(t, p, "handed over or posted first")
	bad := testenv.Copy(form, "channel", "online", "on-year", "2030")
	p = officer.Post(driverPage+"/evidence", bad)
	wantStatus(t, p, http.StatusUnprocessableEntity)
	mustContain(t, p, "Choose how: in person, by post or by email", "today or in the past")
	wantStatus(t, officer.Post(driverPage+"/evidence", testenv.Copy(form, "kind", "issue")), http.StatusSeeOther)
	wantStatus(t, officer.Post(driverPage+"/evidence", form), http.StatusSeeOther)
	ev, _ := env.Store.DriverEvidence(ctx, d.ID)
	if len(ev) != 2 || ev[0].Kind != domain.KindIssue || ev[1].Kind != domain.KindAcknowledgement || ev[1].Channel != domain.ChannelPost ||
		ev[1].OccurredAt.Format("2006-01-02") != "2026-11-25" {
		t.Fatalf("postal evidence: %+v", ev)
	}
	officer.Get(path)
	p = officer.Post(path+"/approve", nil)
	wantStatus(t, p, http.StatusConflict)
	mustContain(t, p, "Record the fee as paid or waived before approving")
	wantStatus(t, officer.Post(path+"/waive", url.Values{"waive_reason": {"Hardship: agreed by the licensing manager"}}), http.StatusSeeOther)
	officer.Get(path)
	wantStatus(t, officer.Post(path+"/approve", nil), http.StatusSeeOther)
	got := renewalNow(t, env, r.ID)
	if got.Status != domain.StatusApproved || got.NewExpiry != d.LicenceExpiry.AddDays(1).AddYears(1).AddDays(-1) {
		t.Fatalf("paper approval: %s until %s", got.Status, got.NewExpiry)
	}
}
