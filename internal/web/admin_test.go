package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/herts-msp/taxi-renewals/internal/domain"
	"github.com/herts-msp/taxi-renewals/internal/service"
	"github.com/herts-msp/taxi-renewals/internal/testenv"
)

var passwordOnPage = regexp.MustCompile(`id="initial-password"><code>([a-z2-9-]+)</code>`)

// TestAdminOnlyPages: officers and analysts get 403 from every administrator page, and
// their POSTs change nothing; signed out, the pages send you to sign in.
func TestAdminOnlyPages(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	target := env.AddStaff(t, domain.RoleOfficer, "dacorum")
	id := itoa64(target.ID)
	gets := []string{"/staff/users", "/staff/users/new", "/staff/users/" + id, "/staff/audit", "/staff/audit?action=sign_in"}
	posts := []string{"/staff/users/new", "/staff/users/" + id + "/disable", "/staff/users/" + id + "/enable",
		"/staff/users/" + id + "/reset-password", "/staff/users/" + id + "/reset-two-factor"}
	for _, who := range []testenv.StaffLogin{env.AddStaff(t, domain.RoleOfficer, "dacorum"), env.AddStaff(t, domain.RoleAnalyst, "")} {
		b := env.SignInStaff(t, who)
		for _, path := range gets {
			t.Run(string(who.Role)+" GET "+path, func(t *testing.T) {
				p := b.Get(path)
				wantStatus(t, p, http.StatusForbidden)
				mustContain(t, p, "You do not have access to this page")
			})
		}
		for _, path := range posts {
			t.Run(string(who.Role)+" POST "+path, func(t *testing.T) {
				b.Get("/staff")
				wantStatus(t, b.Post(path, url.Values{"email": {"x@herts.gov.uk"}, "name": {"X Y"}, "role": {"admin"}}), http.StatusForbidden)
			})
		}
	}
	signedOut := env.NewBrowser(t)
	for _, path := range gets {
		wantRedirect(t, signedOut.Get(path), "/staff/sign-in")
	}
	signedOut.Get("/staff/sign-in")
	for _, path := range posts {
		wantRedirect(t, signedOut.Post(path, nil), "/staff/sign-in")
	}
	list, _ := env.Store.ListStaff(context.Background())
	if len(list) != 3 {
		t.Fatalf("%d accounts, want 3: a POST created one", len(list))
	}
	u, _ := env.Store.StaffByID(context.Background(), target.ID)
	if u.Disabled || !u.TOTPConfirmed {
		t.Fatalf("a refused POST changed the account: %+v", u)
	}
	env.SignInStaff(t, target) // password and second factor unchanged
}

func TestAdminManagesAccounts(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	ctx := context.Background()
	admin := env.AddStaff(t, domain.RoleAdmin, "")
	officer := env.AddStaff(t, domain.RoleOfficer, "welwyn-hatfield")
	b := env.SignInStaff(t, admin)

	p := b.Get("/staff/users")
	wantStatus(t, p, http.StatusOK)
	mustContain(t, p, admin.Email, officer.Email, "Welwyn Hatfield Borough Council", "All councils", "(you)", "2 accounts")

	t.Run("add an account: every field checked, answers kept", func(t *testing.T) {
		b.Get("/staff/users/new")
		for _, tc := range []struct {
			name string
			form url.Values
			want []string
		}{
			{"empty", url.Values{}, []string{"Enter their full name", "Enter their email address", "Select what the account can do"}},
			{"bad email and name", url.Values{"email": {"not an email"}, "name": {"R2-D2"}, "role": {"analyst"}},
				[]string{"Enter an email address in the correct format", "Their name must", `value="not an email"`, `value="R2-D2"`}},
			{"officer without a council", url.Values{"email": {"a@herts.gov.uk"}, "name": {"Ann Lee"}, "role": {"officer"}},
				[]string{"Select the officer&#39;s council", `value="officer" checked`}},
			{"unknown council", url.Values{"email": {"a@herts.gov.uk"}, "name": {"Ann Lee"}, "role": {"officer"}, "council": {"narnia"}},
				[]string{"Select the officer&#39;s council"}},
			{"unknown role", url.Values{"email": {"a@herts.gov.uk"}, "name": {"Ann Lee"}, "role": {"superuser"}},
				[]string{"Select what the account can do"}},
			{"email already used", url.Values{"email": {strings.ToUpper(officer.Email)}, "name": {"Ann Lee"}, "role": {"analyst"}},
				[]string{"There is already an account with this email address"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				p := b.Post("/staff/users/new", tc.form)
				wantStatus(t, p, http.StatusUnprocessableEntity)
				mustContain(t, p, append(tc.want, "Error: Add an account")...)
			})
		}
	})

	var newID int64
	var initial string
	t.Run("add an analyst: the password is shown once and works", func(t *testing.T) {
		p := b.Post("/staff/users/new", url.Values{"email": {"Siobhan.OBriain@herts-msp.org.uk"}, "name": {"Siobhán Ó Briain"},
			"role": {"analyst"}, "council": {"dacorum"}}) // a council left selected is ignored for analysts
		wantStatus(t, p, http.StatusOK)
		mustContain(t, p, "Account added", "siobhan.obriain@herts-msp.org.uk", "shown only this once")
		m := passwordOnPage.FindStringSubmatch(p.Body)
		if m == nil {
			t.Fatalf("no password on the page:\n%s", testenv.Excerpt(p.Body))
		}
		initial = m[1]
		if p.Header.Get("Cache-Control") != "no-store" {
			t.Error("the page with the password may be cached")
		}
		u, err := env.Store.StaffByEmail(ctx, "siobhan.obriain@herts-msp.org.uk")
		if err != nil || u.Role != domain.RoleAnalyst || u.CouncilID != 0 || u.Name != "Siobhán Ó Briain" {
			t.Fatalf("stored: %+v %v", u, err)
		}
		newID = u.ID
		if strings.Contains(b.Get("/staff/users/"+itoa64(newID)).Body, initial) {
			t.Fatal("the account page shows the password again")
		}
		nb := env.NewBrowser(t)
		wantRedirect(t, passwordStep(nb, "siobhan.obriain@herts-msp.org.uk", initial), "/staff/two-factor/setup")
	})

	t.Run("disable ends a live session at once; enable lets them back", func(t *testing.T) {
		ob := env.SignInStaff(t, officer)
		b.Get("/staff/users/" + itoa64(officer.ID))
		p := b.Post("/staff/users/"+itoa64(officer.ID)+"/disable", nil)
		wantRedirect(t, p, "/staff/users/"+itoa64(officer.ID)+"?notice=disabled")
		mustContain(t, b.Follow(p), "has been disabled", "Disabled", "Enable account")
		wantRedirect(t, ob.Get("/staff"), "/staff/sign-in")
		p = passwordStep(env.NewBrowser(t), officer.Email, officer.Password)
		wantStatus(t, p, http.StatusUnprocessableEntity)
		mustContain(t, p, "The email address or password is not right") // nothing said about the account
		wantRedirect(t, b.Post("/staff/users/"+itoa64(officer.ID)+"/enable", nil), "/staff/users/"+itoa64(officer.ID)+"?notice=enabled")
		env.SignInStaff(t, officer)
	})

	t.Run("a disabled account's session stops even without the admin page", func(t *testing.T) {
		ob := env.SignInStaff(t, officer)
		if _, err := env.Service.DisableStaff(ctx, service.SystemActor("test"), officer.ID); err != nil {
			t.Fatal(err)
		}
		wantRedirect(t, ob.Get("/staff/account"), "/staff/sign-in")
		if err := env.Service.EnableStaff(ctx, service.SystemActor("test"), officer.ID); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("reset password: shown once, old one dead, sessions ended", func(t *testing.T) {
		ob := env.SignInStaff(t, officer)
		b.Get("/staff/users/" + itoa64(officer.ID))
		p := b.Post("/staff/users/"+itoa64(officer.ID)+"/reset-password", nil)
		wantStatus(t, p, http.StatusOK)
		mustContain(t, p, "Password reset", officer.Email)
		m := passwordOnPage.FindStringSubmatch(p.Body)
		if m == nil {
			t.Fatal("no new password on the page")
		}
		wantRedirect(t, ob.Get("/staff"), "/staff/sign-in")
		wantStatus(t, passwordStep(env.NewBrowser(t), officer.Email, officer.Password), http.StatusUnprocessableEntity)
		nb := env.NewBrowser(t)
		wantRedirect(t, passwordStep(nb, officer.Email, m[1]), "/staff/two-factor")
		// A password someone else chose: after the second factor, choose your own.
		wantRedirect(t, nb.Post("/staff/two-factor", url.Values{"code": {env.StaffCode(t, officer)}}), "/staff/password")
		mustContain(t, nb.Get("/staff/password"), "Choose your own password")
		officer.Password = m[1]
	})

	t.Run("reset the authenticator app: set up again at the next sign-in", func(t *testing.T) {
		b.Get("/staff/users/" + itoa64(officer.ID))
		wantRedirect(t, b.Post("/staff/users/"+itoa64(officer.ID)+"/reset-two-factor", nil), "/staff/users/"+itoa64(officer.ID)+"?notice=two-factor-reset")
		nb := env.NewBrowser(t)
		wantRedirect(t, passwordStep(nb, officer.Email, officer.Password), "/staff/two-factor/setup")
		wantRedirect(t, nb.Get("/staff/two-factor/recovery"), "/staff/two-factor/setup")
		mustContain(t, b.Get("/staff/users/"+itoa64(officer.ID)), "Not set up yet", "Not yet shown to them")
	})

	t.Run("an administrator cannot change their own account here", func(t *testing.T) {
		for _, action := range []string{"disable", "reset-password", "reset-two-factor"} {
			b.Get("/staff/users/" + itoa64(admin.ID))
			p := b.Post("/staff/users/"+itoa64(admin.ID)+"/"+action, nil)
			wantStatus(t, p, http.StatusForbidden)
			mustContain(t, p, "You cannot change your own account here", `href="#actions"`)
		}
		wantStatus(t, b.Get("/staff"), http.StatusOK)
	})

	t.Run("no such account", func(t *testing.T) {
		wantStatus(t, b.Get("/staff/users/99999"), http.StatusNotFound)
		wantStatus(t, b.Get("/staff/users/abc"), http.StatusNotFound)
		b.Get("/staff/users")
		wantStatus(t, b.Post("/staff/users/99999/disable", nil), http.StatusNotFound)
	})

	t.Run("every change is in the audit log, and the chain is intact", func(t *testing.T) {
		for _, action := range []string{"account.created", "account.disabled", "account.enabled", "account.password_reset", "account.two_factor_reset"} {
			found := false
			for _, e := range auditEntries(t, env, action) {
				found = found || (e.Actor == admin.Email && e.ActorID == admin.ID && e.IP == "127.0.0.1")
			}
			if !found {
				t.Errorf("no %s entry by the administrator", action)
			}
		}
		v, err := env.Store.VerifyAudit(ctx)
		if err != nil || v.FirstBrokenID != 0 || v.Checked < 20 {
			t.Fatalf("audit verify: %+v, %v", v, err)
		}
	})
}

var actionCell = regexp.MustCompile(`<td class="table__cell"><code>([a-z_.]+)</code></td>`)

func actionsShown(p testenv.Page) []string {
	var out []string
	for _, m := range actionCell.FindAllStringSubmatch(p.Body, -1) {
		out = append(out, m[1])
	}
	return out
}

func TestAuditLogViewer(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	ctx := context.Background()
	admin := env.AddStaff(t, domain.RoleAdmin, "")
	officer := env.AddStaff(t, domain.RoleOfficer, "dacorum")
	wantStatus(t, passwordStep(env.NewBrowser(t), "Someone@Dacorum.gov.uk", "a guess at a password"), http.StatusUnprocessableEntity)
	env.SignInStaff(t, officer)
	b := env.SignInStaff(t, admin)

	p := b.Get("/staff/audit")
	wantStatus(t, p, http.StatusOK)
	mustContain(t, p, "someone@dacorum.gov.uk", "26 Nov 2026 10:00:00", "127.0.0.1", "Dacorum Borough Council", "Europe/London",
		"staff:"+itoa64(officer.ID)+" "+officer.Email, "reason: unknown_account")
	if got := actionsShown(p); len(got) < 5 || got[0] != "sign_in" {
		t.Fatalf("actions shown, newest first: %v", got)
	}

	t.Run("action prefix", func(t *testing.T) {
		p := b.Get("/staff/audit?action=sign_in.failed")
		got := actionsShown(p)
		if len(got) != 1 || got[0] != "sign_in.failed" {
			t.Fatalf("filtered actions: %v", got)
		}
		for _, a := range actionsShown(b.Get("/staff/audit?action=sign_in")) {
			if !strings.HasPrefix(a, "sign_in") {
				t.Fatalf("prefix sign_in listed %s", a)
			}
		}
	})
	t.Run("actor email", func(t *testing.T) {
		p := b.Get("/staff/audit?actor=" + url.QueryEscape(strings.ToUpper(officer.Email)))
		got := actionsShown(p)
		if len(got) != 2 || got[0] != "sign_in" || got[1] != "two_factor.recovery_codes_issued" {
			t.Fatalf("the officer's actions: %v", got)
		}
		mustContain(t, b.Get("/staff/audit?actor=nobody%40herts.gov.uk"), "There is no staff account with that email address")
	})
	t.Run("dates, shown in London time", func(t *testing.T) {
		summer := time.Date(2026, 7, 1, 12, 30, 0, 0, time.UTC)
		if err := env.Store.AppendAudit(ctx, domain.AuditEntry{At: summer, Actor: "cli:test", Action: "test.summer"}); err != nil {
			t.Fatal(err)
		}
		p := b.Get("/staff/audit?from=2026-07-01&to=2026-07-01")
		if got := actionsShown(p); len(got) != 1 || got[0] != "test.summer" {
			t.Fatalf("one day in July: %v", got)
		}
		mustContain(t, p, "1 Jul 2026 13:30:00") // BST
		if got := actionsShown(b.Get("/staff/audit?from=2026-11-26")); len(got) == 0 || got[len(got)-1] == "test.summer" {
			t.Fatalf("from 26 November: %v", got)
		}
		if got := actionsShown(b.Get("/staff/audit?to=2026-11-25")); len(got) != 1 {
			t.Fatalf("to 25 November: %v", got)
		}
		for q, want := range map[string]string{
			"from=2026-02-30":               "From must be a real date",
			"to=yesterday":                  "To must be a real date",
			"from=2026-11-26&to=2026-11-01": "To must be the same as or after From",
		} {
			p := b.Get("/staff/audit?" + q)
			wantStatus(t, p, http.StatusUnprocessableEntity)
			mustContain(t, p, want, "Error: Audit log")
		}
	})
	t.Run("pages of 50, filters kept", func(t *testing.T) {
		for i := 0; i < 60; i++ {
			if err := env.Store.AppendAudit(ctx, domain.AuditEntry{At: env.Clock.Now(), Actor: "cli:test", Action: "test.bulk"}); err != nil {
				t.Fatal(err)
			}
		}
		p := b.Get("/staff/audit?action=test.bulk")
		if got := actionsShown(p); len(got) != 50 {
			t.Fatalf("page 1 shows %d", len(got))
		}
		mustContain(t, p, "60 entries, page 1 of 2", `href="/staff/audit?action=test.bulk&amp;page=2" rel="next"`)
		p = b.Get("/staff/audit?action=test.bulk&page=2")
		if got := actionsShown(p); len(got) != 10 {
			t.Fatalf("page 2 shows %d", len(got))
		}
		mustContain(t, p, `rel="prev"`)
	})
	if v, err := env.Store.VerifyAudit(ctx); err != nil || v.FirstBrokenID != 0 {
		t.Fatalf("audit verify: %+v %v", v, err)
	}
}
