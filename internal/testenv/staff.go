package testenv

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/herts-msp/taxi-renewals/internal/domain"
	"github.com/herts-msp/taxi-renewals/internal/service"
)

// StaffPassword is the password of every account AddStaff makes.
const StaffPassword = "test-staff-password-2026"

// StaffLogin is a test account and what it takes to sign in as it.
type StaffLogin struct {
	ID          int64
	Email       string
	Name        string
	Role        domain.Role
	CouncilSlug string // officers only
	CouncilID   int64
	Password    string
	TOTPSecret  string // base32, as an authenticator app would hold it
	// RecoveryCodes are the account's 10 one-use recovery codes.
	RecoveryCodes []string
}

// testNames gives each test account a distinct name (names take letters only, no digits).
var testNames = []string{"Alpha", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot", "Golf", "Hotel", "India", "Juliett",
	"Kilo", "Lima", "Mike", "November", "Oscar", "Papa", "Quebec", "Romeo", "Sierra", "Tango", "Uniform", "Victor",
	"Whiskey", "Xray", "Yankee", "Zulu"}

// AddStaff creates an account with a known password (StaffPassword) and a confirmed second
// factor. councilSlug is for officers; pass "" for analysts and admins.
func (e *Env) AddStaff(t testing.TB, role domain.Role, councilSlug string) StaffLogin {
	t.Helper()
	ctx := context.Background()
	if role != domain.RoleOfficer {
		councilSlug = ""
	}
	existing, err := e.Store.ListStaff(ctx)
	if err != nil {
		t.Fatal(err)
	}
	n := len(existing) + 1
	where := councilSlug
	if where == "" {
		where = "partnership"
	}
	email := fmt.Sprintf("%s%d.%s@test.example.gov.uk", role, n, where)
	name := fmt.Sprintf("%s %s %s", testNames[(n-1)%len(testNames)], strings.ToUpper(string(role[0]))+string(role[1:]), strings.Repeat("Test", 1+(n-1)/len(testNames)))
	admin := service.SystemActor("test")
	u, _, err := e.Service.CreateStaff(ctx, admin, service.NewStaff{Email: email, Name: name, Role: role, CouncilSlug: councilSlug, Password: StaffPassword})
	if err != nil {
		t.Fatalf("AddStaff %s %s: %v", role, councilSlug, err)
	}
	secret := service.NewTOTPSecret()
	if err := e.Service.ProvisionTwoFactor(ctx, admin, u.ID, secret); err != nil {
		t.Fatalf("AddStaff: second factor: %v", err)
	}
	codes, err := e.Service.IssueRecoveryCodes(ctx, domain.Actor{StaffID: u.ID, Name: u.Name, Email: u.Email, Role: u.Role, CouncilID: u.CouncilID})
	if err != nil {
		t.Fatalf("AddStaff: recovery codes: %v", err)
	}
	return StaffLogin{ID: u.ID, Email: u.Email, Name: u.Name, Role: role, CouncilSlug: councilSlug, CouncilID: u.CouncilID,
		Password: StaffPassword, TOTPSecret: secret, RecoveryCodes: codes}
}

// StaffCode returns a second-factor code for the account that has not been used yet: the
// code for now, or, when that one was used, the next step's (accepted as clock drift). Only
// if both were used does the test clock move on 30 seconds.
func (e *Env) StaffCode(t testing.TB, login StaffLogin) string {
	t.Helper()
	sec, err := e.Store.StaffSecretsByID(context.Background(), login.ID)
	if err != nil {
		t.Fatal(err)
	}
	step := func() int64 { return e.Clock.Now().Unix() / 30 }
	for sec.TOTPLastStep > step() {
		e.Clock.Advance(30 * time.Second)
	}
	at := e.Clock.Now()
	if sec.TOTPLastStep == step() {
		at = at.Add(30 * time.Second)
	}
	code, err := service.TOTPCode(login.TOTPSecret, at)
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// SignInStaff signs in with the password and a current code, and returns a browser on the
// staff home page.
func (e *Env) SignInStaff(t testing.TB, login StaffLogin) *Browser {
	t.Helper()
	b := e.NewBrowser(t)
	b.Get("/staff/sign-in")
	p := b.Post("/staff/sign-in", url.Values{"email": {login.Email}, "password": {login.Password}})
	if p.Status != http.StatusSeeOther || p.Location != "/staff/two-factor" {
		t.Fatalf("staff sign-in %s: got %d %s\n%s", login.Email, p.Status, p.Location, Excerpt(p.Body))
	}
	b.Follow(p)
	p = b.Post("/staff/two-factor", url.Values{"code": {e.StaffCode(t, login)}})
	if p.Status != http.StatusSeeOther || p.Location != "/staff" {
		t.Fatalf("staff second factor %s: got %d %s\n%s", login.Email, p.Status, p.Location, Excerpt(p.Body))
	}
	if home := b.Follow(p); home.Status != http.StatusOK {
		t.Fatalf("staff home %s: %d\n%s", login.Email, home.Status, Excerpt(home.Body))
	}
	return b
}
