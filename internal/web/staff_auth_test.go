package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/herts-msp/taxi-renewals/internal/domain"
	"github.com/herts-msp/taxi-renewals/internal/service"
	"github.com/herts-msp/taxi-renewals/internal/store"
	"github.com/herts-msp/taxi-renewals/internal/testenv"
)

const sessionCookie = "renewals_session"

// passwordStep loads the sign-in page and sends an email and password.
func passwordStep(b *testenv.Browser, email, password string) testenv.Page {
	b.Get("/staff/sign-in")
	return b.Post("/staff/sign-in", url.Values{"email": {email}, "password": {password}})
}

func wantRedirect(t *testing.T, p testenv.Page, to string) {
	t.Helper()
	if p.Status != http.StatusSeeOther || p.Location != to {
		t.Fatalf("got %d %q, want 303 to %q:\n%s", p.Status, p.Location, to, testenv.Excerpt(p.Body))
	}
}

// wrongCode returns a 6-digit code that the secret does not give at now or a step either side.
func wrongCode(t *testing.T, secret string, now time.Time) string {
	t.Helper()
	near := map[string]bool{}
	for _, d := range []time.Duration{-30 * time.Second, 0, 30 * time.Second} {
		c, err := service.TOTPCode(secret, now.Add(d))
		if err != nil {
			t.Fatal(err)
		}
		near[c] = true
	}
	for _, c := range []string{"000000", "111111", "222222", "333333"} {
		if !near[c] {
			return c
		}
	}
	t.Fatal("no wrong code found")
	return ""
}

func auditEntries(t *testing.T, env *testenv.Env, action string) []domain.AuditEntry {
	t.Helper()
	entries, _, err := env.Store.AuditEntries(context.Background(), store.AuditFilter{Action: action, Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	return entries
}

var (
	secretOnPage   = regexp.MustCompile(`id="secret">([A-Z2-7 ]+)<`)
	recoveryOnPage = regexp.MustCompile(`<code>([2-9A-Z]{5}-[2-9A-Z]{5})</code>`)
)

// TestStaffFirstSignIn follows a new account from its generated password through setting up
// the authenticator app, the recovery codes (shown once) and choosing its own password.
func TestStaffFirstSignIn(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	ctx := context.Background()
	u, initial, err := env.Service.CreateStaff(ctx, service.SystemActor("test"), service.NewStaff{
		Email: "Mehmet.Yilmaz@Watford.gov.uk", Name: "Mehmet Yılmaz", Role: domain.RoleOfficer, CouncilSlug: "watford"})
	if err != nil || initial == "" {
		t.Fatalf("CreateStaff: %v (password %q)", err, initial)
	}
	b := env.NewBrowser(t)
	wantRedirect(t, passwordStep(b, " MEHMET.yilmaz@watford.gov.uk ", initial), "/staff/two-factor/setup")
	// The second-factor page sends an account without an app to set one up.
	wantRedirect(t, b.Get("/staff/two-factor"), "/staff/two-factor/setup")
	wantRedirect(t, b.Get("/staff"), "/staff/sign-in")

	p := b.Get("/staff/two-factor/setup")
	wantStatus(t, p, http.StatusOK)
	m := secretOnPage.FindStringSubmatch(p.Body)
	if m == nil {
		t.Fatalf("no secret on the set-up page:\n%s", testenv.Excerpt(p.Body))
	}
	grouped := m[1]
	secret := strings.ReplaceAll(grouped, " ", "")
	if !regexp.MustCompile(`^([A-Z2-7]{4} ){7}[A-Z2-7]{4}$`).MatchString(grouped) {
		t.Errorf("secret not shown in groups of four: %q", grouped)
	}
	mustContain(t, p, "otpauth://totp/Herts%20taxi%20renewals:mehmet.yilmaz@watford.gov.uk?secret="+secret)
	if again := b.Get("/staff/two-factor/setup"); !strings.Contains(again.Body, grouped) {
		t.Fatal("reloading the set-up page changed the secret")
	}
	sealed, _ := env.Store.StaffSecretsByID(ctx, u.ID)
	if sealed.TOTPSecretEnc == "" || strings.Contains(sealed.TOTPSecretEnc, secret) {
		t.Fatalf("the secret is not stored sealed: %q", sealed.TOTPSecretEnc)
	}

	p = b.Post("/staff/two-factor/setup", url.Values{"code": {wrongCode(t, secret, env.Clock.Now())}})
	wantStatus(t, p, http.StatusUnprocessableEntity)
	mustContain(t, p, "The code is not right", grouped, `href="#code"`)
	code, _ := service.TOTPCode(secret, env.Clock.Now())
	wantRedirect(t, b.Post("/staff/two-factor/setup", url.Values{"code": {code}}), "/staff/two-factor/recovery-codes")

	p = b.Get("/staff/two-factor/recovery-codes")
	wantStatus(t, p, http.StatusOK)
	codes := recoveryOnPage.FindAllStringSubmatch(p.Body, -1)
	if len(codes) != 10 {
		t.Fatalf("%d recovery codes shown, want 10", len(codes))
	}
	mustContain(t, p, "only time these codes are shown", `href="/staff/password"`)
	p = b.Get("/staff/two-factor/recovery-codes")
	if strings.Contains(p.Body, codes[0][1]) || recoveryOnPage.MatchString(p.Body) {
		t.Fatal("recovery codes were shown a second time")
	}
	mustContain(t, p, "were shown once", "You have 10 unused")

	// The generated password is for the first sign-in only: home asks for a new one.
	mustContain(t, b.Get("/staff"), "Your password was set by an administrator")
	b.Get("/staff/password")
	wantRedirect(t, b.Post("/staff/password", url.Values{"current_password": {initial}, "password": {"watford taxi rank at dawn"},
		"password_confirm": {"watford taxi rank at dawn"}}), "/staff/account?notice=password")
	if p := b.Get("/staff"); strings.Contains(p.Body, "set by an administrator") {
		t.Fatal("still asked to change the password after changing it")
	}

	// Next time: password, then the code from the app (not the set-up page).
	b2 := env.NewBrowser(t)
	wantRedirect(t, passwordStep(b2, "mehmet.yilmaz@watford.gov.uk", "watford taxi rank at dawn"), "/staff/two-factor")
	next, _ := service.TOTPCode(secret, env.Clock.Now().Add(30*time.Second)) // this step's code is used
	wantRedirect(t, b2.Post("/staff/two-factor", url.Values{"code": {next}}), "/staff")
	if len(auditEntries(t, env, "two_factor.set_up")) != 1 || len(auditEntries(t, env, "two_factor.recovery_codes_issued")) != 1 {
		t.Error("set-up or recovery codes not in the audit log")
	}
}

func TestStaffTwoFactor(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	officer := env.AddStaff(t, domain.RoleOfficer, "dacorum")

	t.Run("wrong and malformed codes", func(t *testing.T) {
		b := env.NewBrowser(t)
		wantRedirect(t, passwordStep(b, officer.Email, officer.Password), "/staff/two-factor")
		for _, bad := range []string{"", "12345", "1234567", "12a456", "<script>"} {
			p := b.Post("/staff/two-factor", url.Values{"code": {bad}})
			wantStatus(t, p, http.StatusUnprocessableEntity)
			mustContain(t, p, "Enter the 6-digit code from your authenticator app")
		}
		p := b.Post("/staff/two-factor", url.Values{"code": {wrongCode(t, officer.TOTPSecret, env.Clock.Now())}})
		wantStatus(t, p, http.StatusUnprocessableEntity)
		mustContain(t, p, "The code is not right")
		// "123 456" as the app shows it is fine.
		code := env.StaffCode(t, officer)
		wantRedirect(t, b.Post("/staff/two-factor", url.Values{"code": {code[:3] + " " + code[3:]}}), "/staff")
	})
	t.Run("a code cannot be used twice", func(t *testing.T) {
		a := env.NewBrowser(t)
		passwordStep(a, officer.Email, officer.Password)
		code := env.StaffCode(t, officer)
		wantRedirect(t, a.Post("/staff/two-factor", url.Values{"code": {code}}), "/staff")
		b := env.NewBrowser(t)
		passwordStep(b, officer.Email, officer.Password)
		p := b.Post("/staff/two-factor", url.Values{"code": {code}})
		wantStatus(t, p, http.StatusUnprocessableEntity)
		mustContain(t, p, "This code has already been used")
		if n := len(auditEntries(t, env, "sign_in.failed")); n == 0 || auditEntries(t, env, "sign_in.failed")[0].Detail["reason"] != "reused_code" {
			t.Errorf("replayed code not audited as such (%d failures)", n)
		}
		wantRedirect(t, b.Post("/staff/two-factor", url.Values{"code": {env.StaffCode(t, officer)}}), "/staff")
	})
	t.Run("a recovery code works once", func(t *testing.T) {
		b := env.NewBrowser(t)
		passwordStep(b, officer.Email, officer.Password)
		wantStatus(t, b.Get("/staff/two-factor/recovery"), http.StatusOK)
		p := b.Post("/staff/two-factor/recovery", url.Values{"code": {"22222-22222"}})
		wantStatus(t, p, http.StatusUnprocessableEntity)
		mustContain(t, p, "The recovery code is not right")
		code := officer.RecoveryCodes[3]
		wantRedirect(t, b.Post("/staff/two-factor/recovery", url.Values{"code": {strings.ToLower(code)}}), "/staff")
		mustContain(t, b.Get("/staff/account"), "9 of 10 unused")

		b2 := env.NewBrowser(t)
		passwordStep(b2, officer.Email, officer.Password)
		p = b2.Post("/staff/two-factor/recovery", url.Values{"code": {code}})
		wantStatus(t, p, http.StatusUnprocessableEntity)
		mustContain(t, p, "already been used")
		entries := auditEntries(t, env, "sign_in")
		found := false
		for _, e := range entries {
			found = found || (e.Action == "sign_in" && e.Detail["method"] == "recovery_code")
		}
		if !found {
			t.Error("sign-in with a recovery code not in the audit log")
		}
	})
}

// TestStaffSessionFixation: the session id changes at the password step and again at the
// second factor, and the ids before are dead.
func TestStaffSessionFixation(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	admin := env.AddStaff(t, domain.RoleAdmin, "")
	b := env.NewBrowser(t)
	u, _ := url.Parse(env.Server.URL)
	b.Client.Jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: "chosen-by-an-attacker", Path: "/"}})
	wantRedirect(t, passwordStep(b, admin.Email, admin.Password), "/staff/two-factor")
	pending := b.Cookie(sessionCookie)
	if pending == "" || pending == "chosen-by-an-attacker" {
		t.Fatalf("session id not replaced at the password step: %q", pending)
	}
	wantRedirect(t, b.Post("/staff/two-factor", url.Values{"code": {env.StaffCode(t, admin)}}), "/staff")
	signedIn := b.Cookie(sessionCookie)
	if signedIn == "" || signedIn == pending {
		t.Fatalf("session id not replaced at the second factor: %q", signedIn)
	}
	wantStatus(t, b.Get("/staff/users"), http.StatusOK)

	// Whoever learnt the pending id cannot use it, for either step.
	thief := env.NewBrowser(t)
	thief.Client.Jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: pending, Path: "/"}})
	wantRedirect(t, thief.Get("/staff/two-factor"), "/staff/sign-in")
	wantRedirect(t, thief.Get("/staff"), "/staff/sign-in")

	// A driver's session in the same browser does not survive a staff sign-in either.
	d := env.SignIn(t, "dacorum", testenv.DueDacorum)
	driverToken := d.Cookie(sessionCookie)
	passwordStep(d, admin.Email, admin.Password)
	if d.Cookie(sessionCookie) == driverToken {
		t.Fatal("the driver's session id was kept")
	}
	if _, err := env.Service.Session(context.Background(), driverToken); err == nil {
		t.Fatal("the driver's session is still alive after a staff sign-in in the same browser")
	}
}

// TestStaffPasswordBruteForce: five wrong passwords lock the account for 15 minutes, even
// the right password is refused meanwhile, and every attempt is in the audit log.
func TestStaffPasswordBruteForce(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	officer := env.AddStaff(t, domain.RoleOfficer, "watford")
	b := env.NewBrowser(t)
	b.Get("/staff/sign-in")
	guess := "not-the-password-at-all"
	for i := 1; i <= 4; i++ {
		p := b.Post("/staff/sign-in", url.Values{"email": {officer.Email}, "password": {guess}})
		wantStatus(t, p, http.StatusUnprocessableEntity)
		mustContain(t, p, "The email address or password is not right", "value=\""+officer.Email+"\"")
		if strings.Contains(p.Body, guess) {
			t.Fatal("the password typed was sent back in the page")
		}
	}
	p := b.Post("/staff/sign-in", url.Values{"email": {officer.Email}, "password": {guess}})
	wantStatus(t, p, http.StatusTooManyRequests)
	mustContain(t, p, "too many failed attempts")
	p = b.Post("/staff/sign-in", url.Values{"email": {officer.Email}, "password": {officer.Password}})
	wantStatus(t, p, http.StatusTooManyRequests)
	mustContain(t, p, "too many failed attempts")
	if b.Cookie(sessionCookie) != "" {
		t.Fatal("a session was started for a locked account")
	}

	failed := auditEntries(t, env, "sign_in.failed")
	locked := auditEntries(t, env, "sign_in.locked")
	if len(failed) != 6 || len(locked) != 1 {
		t.Fatalf("audit: %d failed sign-ins and %d locks, want 6 and 1", len(failed), len(locked))
	}
	if failed[0].Detail["reason"] != "locked" || failed[1].Detail["reason"] != "wrong_password" || failed[0].IP != "127.0.0.1" || failed[0].ActorID != officer.ID {
		t.Errorf("newest failure: %+v", failed[0])
	}
	for _, e := range append(failed, locked...) {
		if strings.Contains(e.Target+e.Actor+detailString(e.Detail), guess) {
			t.Fatalf("a password reached the audit log: %+v", e)
		}
	}

	env.Clock.Advance(StaffLockoutPlusAMinute)
	wantRedirect(t, passwordStep(b, officer.Email, officer.Password), "/staff/two-factor")
	wantRedirect(t, b.Post("/staff/two-factor", url.Values{"code": {env.StaffCode(t, officer)}}), "/staff")

	t.Run("unknown email: same answers, audited under the address typed", func(t *testing.T) {
		b := env.NewBrowser(t)
		b.Get("/staff/sign-in")
		var last testenv.Page
		for i := 0; i < 6; i++ {
			last = b.Post("/staff/sign-in", url.Values{"email": {"Nobody@Watford.gov.uk"}, "password": {guess}})
			if i < 5 {
				wantStatus(t, last, http.StatusUnprocessableEntity)
				mustContain(t, last, "The email address or password is not right")
			}
		}
		wantStatus(t, last, http.StatusTooManyRequests) // as a real account would lock
		n := 0
		for _, e := range auditEntries(t, env, "sign_in.failed") {
			if e.Actor == "nobody@watford.gov.uk" && e.ActorID == 0 && e.Detail["reason"] == "unknown_account" {
				n++
			}
		}
		if n != 6 {
			t.Fatalf("%d failed sign-ins to the unknown address audited, want 6", n)
		}
	})
}

// StaffLockoutPlusAMinute waits out a lock.
const StaffLockoutPlusAMinute = service.StaffLockout + time.Minute

func detailString(d map[string]any) string {
	var b strings.Builder
	for k, v := range d {
		b.WriteString(k)
		if s, ok := v.(string); ok {
			b.WriteString(s)
		}
	}
	return b.String()
}

// TestStaffTOTPBruteForce: wrong codes count as failed sign-ins; the fifth ends the pending
// session and locks the account, so guessing goes back to the password step.
func TestStaffTOTPBruteForce(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	analyst := env.AddStaff(t, domain.RoleAnalyst, "")
	b := env.NewBrowser(t)
	wantRedirect(t, passwordStep(b, analyst.Email, analyst.Password), "/staff/two-factor")
	wrong := wrongCode(t, analyst.TOTPSecret, env.Clock.Now())
	for i := 1; i <= 4; i++ {
		p := b.Post("/staff/two-factor", url.Values{"code": {wrong}})
		wantStatus(t, p, http.StatusUnprocessableEntity)
		mustContain(t, p, "The code is not right")
	}
	p := b.Post("/staff/two-factor", url.Values{"code": {wrong}})
	wantStatus(t, p, http.StatusTooManyRequests)
	mustContain(t, p, "too many failed attempts", `action="/staff/sign-in"`)
	// The pending session is gone: even the right code is no use now.
	p = b.Post("/staff/two-factor", url.Values{"code": {env.StaffCode(t, analyst)}})
	wantRedirect(t, p, "/staff/sign-in")
	wantStatus(t, passwordStep(b, analyst.Email, analyst.Password), http.StatusTooManyRequests)
	failed := auditEntries(t, env, "sign_in.failed")
	wrongCodes := 0
	for _, e := range failed {
		if e.Detail["reason"] == "wrong_code" {
			wrongCodes++
		}
	}
	if wrongCodes != 5 || len(auditEntries(t, env, "sign_in.locked")) != 1 {
		t.Fatalf("audit: %d wrong codes, %d locks", wrongCodes, len(auditEntries(t, env, "sign_in.locked")))
	}

	t.Run("the count runs across both steps until a full sign-in", func(t *testing.T) {
		env.Clock.Advance(StaffLockoutPlusAMinute)
		b := env.NewBrowser(t)
		b.Get("/staff/sign-in")
		for i := 0; i < 3; i++ {
			b.Post("/staff/sign-in", url.Values{"email": {analyst.Email}, "password": {"wrong wrong wrong"}})
		}
		wantRedirect(t, b.Post("/staff/sign-in", url.Values{"email": {analyst.Email}, "password": {analyst.Password}}), "/staff/two-factor")
		wantStatus(t, b.Post("/staff/two-factor", url.Values{"code": {wrongCode(t, analyst.TOTPSecret, env.Clock.Now())}}), http.StatusUnprocessableEntity)
		// 3 wrong passwords + 1 wrong code; the right password did not reset the count.
		p := b.Post("/staff/two-factor", url.Values{"code": {wrongCode(t, analyst.TOTPSecret, env.Clock.Now())}})
		wantStatus(t, p, http.StatusTooManyRequests)
	})
}

func TestStaffSignInThrottledPerIP(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	officer := env.AddStaff(t, domain.RoleOfficer, "stevenage")
	b := env.NewBrowser(t)
	b.Get("/staff/sign-in")
	limited := -1
	for i := 0; i < 35 && limited < 0; i++ {
		b.Header.Set("X-Forwarded-For", "203.0.113."+itoa(i)) // not believed: no trusted proxies
		p := b.Post("/staff/sign-in", url.Values{"email": {"guess" + itoa(i) + "@stevenage.gov.uk"}, "password": {"some password or other"}})
		if p.Status == http.StatusTooManyRequests {
			mustContain(t, p, "too many attempts")
			limited = i
		}
	}
	if limited != 30 {
		t.Fatalf("the per-IP limit started at attempt %d, want 31", limited+1)
	}
	// Everyone behind that address waits, even with the right password...
	wantStatus(t, b.Post("/staff/sign-in", url.Values{"email": {officer.Email}, "password": {officer.Password}}), http.StatusTooManyRequests)
	// ...until the window has passed.
	env.Clock.Advance(16 * time.Minute)
	wantRedirect(t, b.Post("/staff/sign-in", url.Values{"email": {officer.Email}, "password": {officer.Password}}), "/staff/two-factor")
}

func TestStaffSessionTimeouts(t *testing.T) {
	t.Parallel()
	t.Run("idle for 30 minutes", func(t *testing.T) {
		t.Parallel()
		env := testenv.New(t, testenv.Options{})
		b := env.SignInStaff(t, env.AddStaff(t, domain.RoleOfficer, "dacorum"))
		env.Clock.Advance(29 * time.Minute)
		wantStatus(t, b.Get("/staff"), http.StatusOK)
		env.Clock.Advance(31 * time.Minute)
		wantRedirect(t, b.Get("/staff"), "/staff/sign-in")
	})
	t.Run("12 hours however active", func(t *testing.T) {
		t.Parallel()
		env := testenv.New(t, testenv.Options{})
		b := env.SignInStaff(t, env.AddStaff(t, domain.RoleOfficer, "dacorum"))
		start := env.Clock.Now()
		for env.Clock.Now().Add(25*time.Minute).Sub(start) < 12*time.Hour {
			env.Clock.Advance(25 * time.Minute)
			wantStatus(t, b.Get("/staff"), http.StatusOK)
		}
		env.Clock.Advance(start.Add(12*time.Hour + time.Second).Sub(env.Clock.Now()))
		wantRedirect(t, b.Get("/staff"), "/staff/sign-in")
	})
	t.Run("15 minutes between the password and the code", func(t *testing.T) {
		t.Parallel()
		env := testenv.New(t, testenv.Options{})
		officer := env.AddStaff(t, domain.RoleOfficer, "dacorum")
		b := env.NewBrowser(t)
		passwordStep(b, officer.Email, officer.Password)
		env.Clock.Advance(14 * time.Minute)
		wantStatus(t, b.Get("/staff/two-factor"), http.StatusOK)
		env.Clock.Advance(2 * time.Minute)
		wantRedirect(t, b.Post("/staff/two-factor", url.Values{"code": {env.StaffCode(t, officer)}}), "/staff/sign-in")
	})
}

func TestStaffSignOut(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	officer := env.AddStaff(t, domain.RoleOfficer, "hertsmere")
	phone := env.SignInStaff(t, officer)
	desk := env.SignInStaff(t, officer)
	laptop := env.SignInStaff(t, officer)
	mustContain(t, desk.Get("/staff/account"), "On 3 devices")

	t.Run("sign out ends only this session", func(t *testing.T) {
		desk.Get("/staff")
		p := desk.Post("/staff/sign-out", nil)
		wantRedirect(t, p, "/staff/sign-in?notice=signed-out")
		mustContain(t, desk.Follow(p), "You have signed out.")
		wantRedirect(t, desk.Get("/staff"), "/staff/sign-in")
		wantStatus(t, phone.Get("/staff"), http.StatusOK)
	})
	t.Run("sign out everywhere ends the others too", func(t *testing.T) {
		phone.Get("/staff/account")
		wantRedirect(t, phone.Post("/staff/sign-out-everywhere", nil), "/staff/sign-in?notice=everywhere")
		wantRedirect(t, phone.Get("/staff"), "/staff/sign-in")
		wantRedirect(t, laptop.Get("/staff/account"), "/staff/sign-in")
		if len(auditEntries(t, env, "sign_out.everywhere")) != 1 || len(auditEntries(t, env, "sign_out")) != 2 {
			t.Error("sign-outs missing from the audit log")
		}
	})
}

func TestStaffPasswordChange(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	officer := env.AddStaff(t, domain.RoleOfficer, "three-rivers")
	other := env.SignInStaff(t, officer)
	b := env.SignInStaff(t, officer)
	const newPassword = "rickmansworth canal boats"
	form := func(current, pw, confirm string) url.Values {
		return url.Values{"current_password": {current}, "password": {pw}, "password_confirm": {confirm}}
	}
	for _, tc := range []struct {
		name string
		form url.Values
		want []string
	}{
		{"nothing", form("", "", ""), []string{"Enter your current password", "Enter a password"}},
		{"too short", form(officer.Password, "short one", "short one"), []string{"12 characters or more"}},
		{"common", form(officer.Password, "Password123456", "Password123456"), []string{"too common"}},
		{"own email", form(officer.Password, officer.Email+"!", officer.Email+"!"), []string{"your email address or your name"}},
		{"does not match", form(officer.Password, newPassword, newPassword+"x"), []string{"The passwords do not match"}},
		{"wrong current password", form("not my password at all", newPassword, newPassword), []string{"Your current password is not right"}},
		{"same as before", form(officer.Password, officer.Password, officer.Password), []string{"must be different"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b.Get("/staff/password")
			p := b.Post("/staff/password", tc.form)
			wantStatus(t, p, http.StatusUnprocessableEntity)
			mustContain(t, p, append(tc.want, "Error: ")...)
			for _, v := range []string{newPassword, "not my password at all", "Password123456"} {
				if strings.Contains(p.Body, v) {
					t.Fatalf("a typed password was sent back in the page")
				}
			}
		})
	}
	b.Get("/staff/password")
	p := b.Post("/staff/password", form(officer.Password, newPassword, newPassword))
	wantRedirect(t, p, "/staff/account?notice=password")
	mustContain(t, b.Follow(p), "Your password has been changed")
	wantRedirect(t, other.Get("/staff"), "/staff/sign-in")
	wantStatus(t, passwordStep(env.NewBrowser(t), officer.Email, officer.Password), http.StatusUnprocessableEntity)
	officer.Password = newPassword
	env.SignInStaff(t, officer)
	if len(auditEntries(t, env, "password.changed")) != 1 || len(auditEntries(t, env, "password.change_failed")) != 1 {
		t.Error("password change not audited")
	}
}

// TestStaffCSRF: every staff POST needs the token; without it nothing changes.
func TestStaffCSRF(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	admin := env.AddStaff(t, domain.RoleAdmin, "")
	officer := env.AddStaff(t, domain.RoleOfficer, "broxbourne")
	ob := env.SignInStaff(t, officer)
	b := env.SignInStaff(t, admin)
	id := itoa64(officer.ID)
	posts := map[string]url.Values{
		"/staff/sign-in":                           {"email": {admin.Email}, "password": {admin.Password}},
		"/staff/two-factor":                        {"code": {"123456"}},
		"/staff/two-factor/setup":                  {"code": {"123456"}},
		"/staff/two-factor/recovery":               {"code": {officer.RecoveryCodes[0]}},
		"/staff/password":                          {"current_password": {admin.Password}, "password": {"a brand new passphrase"}, "password_confirm": {"a brand new passphrase"}},
		"/staff/sign-out":                          nil,
		"/staff/sign-out-everywhere":               nil,
		"/staff/users/new":                         {"email": {"new@herts.gov.uk"}, "name": {"New Person"}, "role": {"analyst"}},
		"/staff/users/" + id + "/disable":          nil,
		"/staff/users/" + id + "/reset-password":   nil,
		"/staff/users/" + id + "/reset-two-factor": nil,
		"/staff/users/" + id + "/enable":           nil,
	}
	before := len(auditEntries(t, env, ""))
	for path, form := range posts {
		for name, token := range map[string][]string{"missing": nil, "wrong": {"not-the-token"}} {
			t.Run(path+"/"+name, func(t *testing.T) {
				f := testenv.Copy(form)
				if token == nil {
					wantStatus(t, b.PostRaw(path, f.Encode()), http.StatusForbidden)
				} else {
					f["_csrf"] = token
					wantStatus(t, b.Post(path, f), http.StatusForbidden)
				}
			})
		}
	}
	t.Run("cross-site post refused even with the token", func(t *testing.T) {
		b.Get("/staff/account")
		b.Header.Set("Sec-Fetch-Site", "cross-site")
		defer b.Header.Del("Sec-Fetch-Site")
		wantStatus(t, b.Post("/staff/sign-out-everywhere", nil), http.StatusForbidden)
	})
	if after := len(auditEntries(t, env, "")); after != before {
		t.Fatalf("requests without a valid token wrote %d audit entries", after-before)
	}
	wantStatus(t, b.Get("/staff/users"), http.StatusOK)
	wantStatus(t, ob.Get("/staff"), http.StatusOK)
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }

func TestStaffPagesNeedSignIn(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	officer := env.AddStaff(t, domain.RoleOfficer, "dacorum")
	b := env.NewBrowser(t)
	for _, path := range []string{"/staff", "/staff/account", "/staff/password", "/staff/two-factor", "/staff/two-factor/setup",
		"/staff/two-factor/recovery", "/staff/two-factor/recovery-codes", "/staff/users", "/staff/audit"} {
		wantRedirect(t, b.Get(path), "/staff/sign-in")
	}
	// Half signed in (password only) is not signed in.
	passwordStep(b, officer.Email, officer.Password)
	for _, path := range []string{"/staff", "/staff/account", "/staff/two-factor/recovery-codes"} {
		wantRedirect(t, b.Get(path), "/staff/sign-in")
	}
	// A signed-in member of staff skips the sign-in form.
	s := env.SignInStaff(t, officer)
	wantRedirect(t, s.Get("/staff/sign-in"), "/staff")
	// No page of ours carries script or inline style (the CSP forbids both).
	for _, path := range []string{"/staff", "/staff/account", "/staff/password", "/staff/two-factor/recovery-codes"} {
		p := s.Get(path)
		wantStatus(t, p, http.StatusOK)
		if strings.Contains(strings.ToLower(p.Body), "<script") || strings.Contains(p.Body, " style=") {
			t.Errorf("%s has inline script or style", path)
		}
	}
}
