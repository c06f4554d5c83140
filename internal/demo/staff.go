package demo

import (
	"context"
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/herts-msp/taxi-renewals/internal/domain"
	"github.com/herts-msp/taxi-renewals/internal/service"
)

// StaffPassword is every demo account's password. Demo only: it is printed at start-up.
const StaffPassword = "demo-password-2026"

// Demo accounts that are not officers.
const (
	AnalystEmail = "analyst@herts-msp.example.org"
	AdminEmail   = "admin@herts-msp.example.org"
)

// officerNames are made up, one officer per council slug.
var officerNames = map[string]string{
	"broxbourne":          "Amara Okoye",
	"dacorum":             "Rhys Evans",
	"east-hertfordshire":  "Niamh Gallagher",
	"hertsmere":           "Daniel Cohen",
	"north-hertfordshire": "Harpreet Sandhu",
	"st-albans":           "Chloé Martin",
	"stevenage":           "Kofi Boateng",
	"three-rivers":        "Eleanor Hughes",
	"watford":             "Bartosz Kowalski",
	"welwyn-hatfield":     "Aisha Rahman",
}

// OfficerEmail is the demo officer's address for a council.
func OfficerEmail(councilSlug string) string { return "officer@" + councilSlug + ".example.gov.uk" }

// IsStaff reports whether email is one of the demo's accounts.
func IsStaff(email string) bool {
	if email == AnalystEmail || email == AdminEmail {
		return true
	}
	slug, ok := strings.CutPrefix(email, "officer@")
	if !ok {
		return false
	}
	slug, ok = strings.CutSuffix(slug, ".example.gov.uk")
	_, known := officerNames[slug]
	return ok && known
}

// TOTPSecret is a demo account's authenticator key, derived from its email so that every
// start of the demo (whatever its server key) and the totp-code helper agree on it. Only
// demo accounts get such a guessable key.
func TOTPSecret(email string) string {
	sum := sha256.Sum256([]byte("taxi-renewals demo authenticator key\x00" + email))
	return base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(sum[:20])
}

type demoStaff struct {
	email, name string
	role        domain.Role
	council     domain.Council
}

// SeedStaff adds one officer per council, an analyst and an admin for the demo, and prints
// how to sign in as them. It can run at every start: missing accounts are added, and each
// demo account's key is sealed again when it does not open with this start's server key.
func SeedStaff(ctx context.Context, svc *service.Service, stdout io.Writer) error {
	councils, err := svc.Councils(ctx)
	if err != nil {
		return err
	}
	var accounts []demoStaff
	for _, c := range councils {
		if name, ok := officerNames[c.Slug]; ok {
			accounts = append(accounts, demoStaff{OfficerEmail(c.Slug), name, domain.RoleOfficer, c})
		}
	}
	accounts = append(accounts,
		demoStaff{email: AnalystEmail, name: "Sam Whitfield", role: domain.RoleAnalyst},
		demoStaff{email: AdminEmail, name: "Jo Adeyemi", role: domain.RoleAdmin})

	seed := service.SystemActor("demo seed")
	for _, a := range accounts {
		u, err := svc.StaffAccountByEmail(ctx, seed, a.email)
		fresh := false
		if domain.ErrorCode(err) == domain.CodeNotFound {
			u, _, err = svc.CreateStaff(ctx, seed, service.NewStaff{Email: a.email, Name: a.name, Role: a.role,
				CouncilSlug: a.council.Slug, Password: StaffPassword})
			fresh = true
			if domain.ErrorCode(err) == domain.CodeConflict {
				// Another instance starting on the same database made it just now.
				u, err = svc.StaffAccountByEmail(ctx, seed, a.email)
				fresh = false
			}
		}
		if err != nil {
			return fmt.Errorf("demo staff %s: %w", a.email, err)
		}
		// A key that opens but differs was set up by the user in the demo: leave it alone.
		_, err = svc.StaffTOTPSecret(ctx, seed, u.ID)
		if fresh || domain.ErrorReason(err) == "secret_key_mismatch" {
			if err := svc.ProvisionTwoFactor(ctx, seed, u.ID, TOTPSecret(a.email)); err != nil {
				return fmt.Errorf("demo staff %s: %w", a.email, err)
			}
		}
	}

	fmt.Fprintf(stdout, "\nDemo staff: sign in at /staff/sign-in with password %s and a code from an authenticator app:\n\n", StaffPassword)
	tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  EMAIL\tROLE\tCOUNCIL\tAUTHENTICATOR KEY")
	for _, a := range accounts {
		council := "all (read only)"
		if a.role == domain.RoleAdmin {
			council = "all (accounts, audit)"
		}
		if a.council.Name != "" {
			council = shortCouncilName(a.council.Name)
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", a.email, a.role, council, service.GroupSecret(TOTPSecret(a.email)))
	}
	tw.Flush()
	fmt.Fprint(stdout, "\nAdd a key to an authenticator app, or print the current code with:\n  renewals user totp-code --demo --email EMAIL   (add --database if not the default)\n")
	return nil
}

// shortCouncilName keeps the printed table narrow: "Dacorum Borough Council" -> "Dacorum".
func shortCouncilName(name string) string {
	for _, suffix := range []string{" City and District Council", " Borough Council", " District Council"} {
		name = strings.TrimSuffix(name, suffix)
	}
	return name
}
