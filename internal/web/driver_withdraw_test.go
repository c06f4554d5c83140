package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/herts-msp/taxi-renewals/internal/domain"
	"github.com/herts-msp/taxi-renewals/internal/store"
	"github.com/herts-msp/taxi-renewals/internal/testdb"
	"github.com/herts-msp/taxi-renewals/internal/testenv"
)

func countRows(t *testing.T, env *testenv.Env, q string, args ...any) int {
	t.Helper()
	var n int
	if err := testdb.Raw(t, env.Config.DatabaseURL).QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestDriverWithdrawsASentRenewal(t *testing.T) {
	ctx := context.Background()
	for _, status := range []domain.RenewalStatus{domain.StatusSubmitted, domain.StatusInReview, domain.StatusMoreInfo} {
		t.Run(string(status), func(t *testing.T) {
			env := testenv.New(t, testenv.Options{})
			r := submitOnline(t, env, "dacorum", testenv.DueDacorum)
			officer := env.AddStaff(t, domain.RoleOfficer, "dacorum")
			a := domain.Actor{StaffID: officer.ID, Email: officer.Email, Role: domain.RoleOfficer, CouncilID: officer.CouncilID}
			if status != domain.StatusSubmitted {
				if err := env.Service.StartReview(ctx, a, r.ID); err != nil {
					t.Fatal(err)
				}
			}
			if status == domain.StatusMoreInfo {
				if err := env.Service.RequestInformation(ctx, a, r.ID, "Please send your DBS certificate"); err != nil {
					t.Fatal(err)
				}
			}
			b := env.SignIn(t, "dacorum", testenv.DueDacorum)
			p := b.Get("/renew/status")
			mustContain(t, p, `href="/renew/withdraw"`, "withdraw your renewal")
			p = b.Get("/renew/withdraw")
			wantStatus(t, p, http.StatusOK)
			mustContain(t, p, "Withdraw your renewal", r.Reference, "(optional)")

			// Too long a reason: 422, the reason kept, nothing written.
			long := strings.Repeat("é", domain.WithdrawReasonMax+1)
			p = b.Post("/renew/withdraw", url.Values{"reason": {long}})
			wantStatus(t, p, http.StatusUnprocessableEntity)
			mustContain(t, p, "500 characters or fewer", long)
			if got := renewalNow(t, env, r.ID); got.Status != status {
				t.Fatalf("status %s after a refused withdrawal", got.Status)
			}
			// CSRF is needed.
			wantStatus(t, b.Post("/renew/withdraw", url.Values{"_csrf": {"forged"}}), http.StatusForbidden)

			mailBefore := countRows(t, env, "SELECT COUNT(*) FROM outbox")
			p = b.Post("/renew/withdraw", url.Values{"reason": {"Moving out of the county"}})
			wantRedirect(t, p, "/renew/status?withdrawn=1")
			p = b.Follow(p)
			mustContain(t, p, "You have withdrawn your renewal", "Withdrawn", "Your renewal was withdrawn", "Start a new renewal")
			if got := renewalNow(t, env, r.ID); got.Status != domain.StatusWithdrawn {
				t.Fatalf("status %s, want withdrawn", got.Status)
			}
			if n := countRows(t, env, "SELECT COUNT(*) FROM outbox WHERE subject LIKE ?", "%withdrawn%"+r.Reference); n != 1 || countRows(t, env, "SELECT COUNT(*) FROM outbox") != mailBefore+1 {
				t.Errorf("withdrawal emails: %d", n)
			}
			if n := countRows(t, env, "SELECT COUNT(*) FROM renewal_events WHERE renewal_id = ? AND kind = 'withdrawn' AND message LIKE ?", r.ID, "%Moving out%"); n != 1 {
				t.Errorf("case events: %d", n)
			}
			entries, _, _ := env.Store.AuditEntries(ctx, store.AuditFilter{Action: "renewal.withdrawn"})
			if len(entries) != 1 || entries[0].Target != "renewal:"+r.Reference || entries[0].Detail["reason"] != "Moving out of the county" {
				t.Errorf("audit %+v", entries)
			}
			// A second withdrawal is refused with nothing written.
			b.Get("/renew/status")
			p = b.Post("/renew/withdraw", nil)
			wantStatus(t, p, http.StatusConflict)
			mustContain(t, p, "already been withdrawn")
			if n := countRows(t, env, "SELECT COUNT(*) FROM renewal_events WHERE renewal_id = ? AND kind = 'withdrawn'", r.ID); n != 1 {
				t.Errorf("case events after a second try: %d", n)
			}

			// The officer sees it in the queue's withdrawn filter and in the case history.
			ob := env.SignInStaff(t, officer)
			mustContain(t, ob.Get("/staff/renewals?status=withdrawn"), r.Reference)
			mustContain(t, ob.Get(fmt.Sprintf("/staff/renewals/%d", r.ID)), "Withdrawn", "Moving out of the county")

			// Starting again opens a new draft.
			b.Get("/renew/status")
			wantRedirect(t, b.Post("/renew/start-again", nil), "/renew")
			wantStatus(t, b.Get("/renew"), http.StatusOK)
			if n, _ := env.Store.CountRenewals(ctx, r.DriverID); n != 2 {
				t.Errorf("%d renewals, want the withdrawn one and a new draft", n)
			}
		})
	}
}

func TestWithdrawRefusedOnceDecidedOrNotSent(t *testing.T) {
	env := testenv.New(t, testenv.Options{})
	ctx := context.Background()

	// A draft: nothing to withdraw, the page sends the driver to the task list.
	b := env.SignIn(t, "watford", testenv.DueWatford)
	wantRedirect(t, b.Get("/renew/withdraw"), "/renew")
	b.Get("/renew")
	p := b.Post("/renew/withdraw", nil)
	wantStatus(t, p, http.StatusConflict)
	mustContain(t, p, "not sent your renewal yet")

	// Decided: refused with a clear reason, nothing written.
	r := submitOnline(t, env, "dacorum", testenv.DueDacorum)
	officer := env.AddStaff(t, domain.RoleOfficer, "dacorum")
	a := domain.Actor{StaffID: officer.ID, Email: officer.Email, Role: domain.RoleOfficer, CouncilID: officer.CouncilID}
	if err := env.Service.Refuse(ctx, a, r.ID, "Not a fit and proper person", domain.Date{}); err != nil {
		t.Fatal(err)
	}
	db := env.SignIn(t, "dacorum", testenv.DueDacorum)
	p = db.Get("/renew/status")
	if strings.Contains(p.Body, `href="/renew/withdraw"`) {
		t.Error("a decided renewal offers withdrawal")
	}
	wantRedirect(t, db.Get("/renew/withdraw"), "/renew/status")
	events := countRows(t, env, "SELECT COUNT(*) FROM renewal_events WHERE renewal_id = ?", r.ID)
	mail := countRows(t, env, "SELECT COUNT(*) FROM outbox")
	p = db.Post("/renew/withdraw", url.Values{"reason": {"too late"}})
	wantStatus(t, p, http.StatusConflict)
	mustContain(t, p, "already been decided, so it cannot be withdrawn")
	if got := renewalNow(t, env, r.ID); got.Status != domain.StatusRefused {
		t.Fatalf("status %s", got.Status)
	}
	if countRows(t, env, "SELECT COUNT(*) FROM renewal_events WHERE renewal_id = ?", r.ID) != events || countRows(t, env, "SELECT COUNT(*) FROM outbox") != mail {
		t.Error("a refused withdrawal wrote something")
	}
	// Starting again is only after a withdrawal.
	wantStatus(t, db.Post("/renew/start-again", nil), http.StatusConflict)

	// Another driver's renewal cannot be named: the form has no renewal id, and one added is
	// ignored; the Watford driver's POST touches only their own (draft) renewal.
	wb := env.SignIn(t, "watford", testenv.DueWatford)
	wb.Get("/renew")
	p = wb.Post("/renew/withdraw", url.Values{"renewal_id": {fmt.Sprint(r.ID)}, "reference": {r.Reference}})
	wantStatus(t, p, http.StatusConflict)
	if got := renewalNow(t, env, r.ID); got.Status != domain.StatusRefused {
		t.Fatalf("another driver's POST changed the renewal: %s", got.Status)
	}
}
