package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/herts-msp/taxi-renewals/internal/demo"
	"github.com/herts-msp/taxi-renewals/internal/domain"
	"github.com/herts-msp/taxi-renewals/internal/service"
	"github.com/herts-msp/taxi-renewals/internal/store"
	"github.com/herts-msp/taxi-renewals/internal/testdb"
)

var printedPassword = regexp.MustCompile(`password \(shown once; give it to them in person or by phone\): ([a-z2-9-]+)\n`)

// withStdin runs f with --password-stdin reading s.
func withStdin(s string, f func()) {
	old := passwordStdin
	passwordStdin = strings.NewReader(s)
	defer func() { passwordStdin = old }()
	f()
}

func userTestStore(t *testing.T, path string) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// TestUserCommands does not run in parallel: withStdin replaces the package's passwordStdin,
// which any test running beside it would share.
func TestUserCommands(t *testing.T) {
	ctx := context.Background()
	db := testdb.URL(t, "r.db")
	user := func(args ...string) (int, string, string) {
		t.Helper()
		return runCmd(t, append([]string{"user", args[0], "--database", db}, args[1:]...)...)
	}

	code, out, errOut := user("add", "--email", "Priya.Patel@Dacorum.gov.uk", "--name", "Priya  Patel", "--role", "officer", "--council", "dacorum")
	if code != 0 || !strings.Contains(out, "added officer account for Priya Patel <priya.patel@dacorum.gov.uk> (dacorum)") {
		t.Fatalf("add officer: exit %d\n%s%s", code, out, errOut)
	}
	m := printedPassword.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no initial password printed:\n%s", out)
	}
	if strings.Contains(errOut, m[1]) {
		t.Fatal("the password reached stderr (the log)")
	}
	st := userTestStore(t, db)
	officer, _ := st.StaffByEmail(ctx, "priya.patel@dacorum.gov.uk")
	sec, _ := st.StaffSecretsByID(ctx, officer.ID)
	if ok, _, _ := service.VerifyPassword(ctx, sec.PasswordHash, m[1]); !ok || !sec.PasswordChangeRequired {
		t.Fatalf("the printed password does not work (ok=%t) or need not be changed (%t)", ok, sec.PasswordChangeRequired)
	}

	withStdin("a passphrase of my own choosing\r\n", func() {
		code, out, errOut = user("add", "--email", "admin@herts-msp.org.uk", "--name", "Jo Adeyemi", "--role", "admin", "--password-stdin")
	})
	if code != 0 || strings.Contains(out, "password") {
		t.Fatalf("add with --password-stdin: exit %d\n%s%s", code, out, errOut)
	}
	admin, _ := st.StaffByEmail(ctx, "admin@herts-msp.org.uk")
	sec, _ = st.StaffSecretsByID(ctx, admin.ID)
	if ok, _, _ := service.VerifyPassword(ctx, sec.PasswordHash, "a passphrase of my own choosing"); !ok || sec.PasswordChangeRequired {
		t.Fatalf("the password from stdin: ok=%t change required=%t", ok, sec.PasswordChangeRequired)
	}

	for _, tc := range []struct {
		name  string
		args  []string
		stdin string
		want  []string
	}{
		{"nothing given", []string{"add"}, "", []string{"--email: Enter their email address", "--name: Enter their full name", "--role: Select"}},
		{"officer without council", []string{"add", "--email", "a@b.gov.uk", "--name", "A B", "--role", "officer"}, "", []string{"--council: Select the officer's council"}},
		{"analyst with council", []string{"add", "--email", "a@b.gov.uk", "--name", "A B", "--role", "analyst", "--council", "dacorum"}, "", []string{"Only officers belong to a council"}},
		{"unknown council", []string{"add", "--email", "a@b.gov.uk", "--name", "A B", "--role", "officer", "--council", "narnia"}, "", []string{"--council"}},
		{"common password", []string{"add", "--email", "a@b.gov.uk", "--name", "A B", "--role", "analyst", "--password-stdin"}, "password123456\n", []string{"too common"}},
		{"short password", []string{"add", "--email", "a@b.gov.uk", "--name", "A B", "--role", "analyst", "--password-stdin"}, "short\n", []string{"12 characters or more"}},
		{"empty stdin", []string{"add", "--email", "a@b.gov.uk", "--name", "A B", "--role", "analyst", "--password-stdin"}, "", []string{"empty password"}},
		{"email taken", []string{"add", "--email", "PRIYA.PATEL@dacorum.gov.uk", "--name", "A B", "--role", "analyst"}, "", []string{"already an account"}},
		{"unknown subcommand", []string{"promote"}, "", []string{"unknown user command", "usage:"}},
		{"disable without email", []string{"disable"}, "", []string{"needs --email"}},
		{"disable unknown email", []string{"disable", "--email", "nobody@x.gov.uk"}, "", []string{"There is no account with the email address nobody@x.gov.uk"}},
		{"disable the only admin", []string{"disable", "--email", "admin@herts-msp.org.uk"}, "", []string{"only administrator"}},
		{"totp-code of a real account", []string{"totp-code", "--email", "admin@herts-msp.org.uk", "--demo"}, "", []string{"not a demo account"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			withStdin(tc.stdin, func() { code, out, errOut = user(tc.args...) })
			if code != 1 {
				t.Fatalf("exit %d, want 1\n%s%s", code, out, errOut)
			}
			for _, w := range tc.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut)
				}
			}
		})
	}

	code, out, _ = user("list")
	if code != 0 || !strings.Contains(out, "priya.patel@dacorum.gov.uk") || !strings.Contains(out, "Dacorum Borough Council") ||
		!strings.Contains(out, "admin@herts-msp.org.uk") || !strings.Contains(out, "2 accounts") || strings.Index(out, "admin@") > strings.Index(out, "priya") {
		t.Fatalf("list: exit %d\n%s", code, out)
	}

	// disable ends the account's live sessions.
	for _, h := range []string{"s1", "s2"} {
		if err := st.CreateSession(ctx, h, domain.Session{Kind: domain.SessionStaff, SubjectID: officer.ID, CreatedAt: time.Now(), LastSeenAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	code, out, errOut = user("disable", "--email", "priya.patel@dacorum.gov.uk")
	if code != 0 || !strings.Contains(out, "disabled priya.patel@dacorum.gov.uk; 2 signed-in sessions ended") {
		t.Fatalf("disable: exit %d\n%s%s", code, out, errOut)
	}
	if _, err := st.TouchSession(ctx, "s1", time.Now(), time.Hour); err == nil {
		t.Fatal("a disabled account's session is still alive")
	}
	if code, out, _ = user("list"); !strings.Contains(out, "disabled") {
		t.Fatalf("list after disable:\n%s", out)
	}
	if code, out, _ = user("enable", "--email", "priya.patel@dacorum.gov.uk"); code != 0 || !strings.Contains(out, "enabled") {
		t.Fatalf("enable: %d %s", code, out)
	}
	code, out, _ = user("reset-password", "--email", "priya.patel@dacorum.gov.uk")
	if m2 := printedPassword.FindStringSubmatch(out); code != 0 || m2 == nil || m2[1] == m[1] {
		t.Fatalf("reset-password: %d\n%s", code, out)
	}
	if code, out, _ = user("reset-two-factor", "--email", "priya.patel@dacorum.gov.uk"); code != 0 || !strings.Contains(out, "removed the authenticator app") {
		t.Fatalf("reset-two-factor: %d %s", code, out)
	}

	code, out, errOut = runCmd(t, "audit", "verify", "--database", db)
	if code != 0 || !strings.Contains(out, "audit log intact: 6 entries checked") {
		t.Fatalf("audit verify: exit %d\n%s%s", code, out, errOut)
	}
	entries, _, _ := st.AuditEntries(ctx, store.AuditFilter{Limit: 100})
	for _, e := range entries {
		if !strings.HasPrefix(e.Actor, "cli:") || !strings.HasPrefix(e.Action, "account.") {
			t.Errorf("audit entry %s by %q", e.Action, e.Actor)
		}
	}
}

// TestDemoStaff seeds the demo staff twice (the demo's server key changes at each start) and
// signs in with what it prints and what totp-code gives.
func TestDemoStaff(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.URL(t, "demo.db")
	st := userTestStore(t, db)
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	const key2 = "the-second-demo-start-key-of-32-chars"
	var out bytes.Buffer
	for _, key := range []string{"the-first-demo-start-key-of-32-chars!", key2} {
		out.Reset()
		svc := service.New(st, service.Options{SecretKey: []byte(key)})
		if err := demo.SeedStaff(ctx, svc, &out); err != nil {
			t.Fatalf("SeedStaff: %v", err)
		}
	}
	for _, want := range []string{"password demo-password-2026", "officer@dacorum.example.gov.uk", "Dacorum", "analyst@herts-msp.example.org",
		"admin@herts-msp.example.org", service.GroupSecret(demo.TOTPSecret("officer@dacorum.example.gov.uk")), "renewals user totp-code --demo --email"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("demo output lacks %q:\n%s", want, out.String())
		}
	}
	if lines := strings.Count(out.String(), "\n"); lines > 20 {
		t.Errorf("the demo staff block is %d lines, want it compact", lines)
	}
	if list, _ := st.ListStaff(ctx); len(list) != 12 {
		t.Fatalf("%d demo accounts, want 12 (one officer per council, an analyst and an admin)", len(list))
	}

	email := "officer@dacorum.example.gov.uk"
	if testdb.Postgres() {
		t.Log("not checking totp-code without a key: on PostgreSQL the test environment always holds one")
	} else if code, _, errOut := runCmd(t, "user", "totp-code", "--database", db, "--email", email); code == 0 || !strings.Contains(errOut, "pass --demo") {
		t.Fatalf("totp-code without --demo or the server key: exit %d %s", code, errOut)
	}
	var printed string
	for _, args := range [][]string{{"--demo"}, {"--secret-key", key2}} {
		code, stdout, errOut := runCmd(t, append([]string{"user", "totp-code", "--database", db, "--email", email}, args...)...)
		if code != 0 || !regexp.MustCompile(`^\d{6} \(for about \d+ more seconds\)\n$`).MatchString(stdout) {
			t.Fatalf("totp-code %v: exit %d %q %s", args, code, stdout, errOut)
		}
		printed = stdout[:6]
	}

	// The printed password and code sign in (with the server key of the latest start).
	svc := service.New(st, service.Options{SecretKey: []byte(key2)})
	res, err := svc.StaffSignIn(ctx, service.StaffSignInRequest{Email: email, Password: demo.StaffPassword, IP: "192.0.2.1"})
	if err != nil || res.Next != service.StaffStepTwoFactor {
		t.Fatalf("demo password: %+v %v", res, err)
	}
	u, _ := st.StaffByEmail(ctx, email)
	if _, err := svc.VerifyTwoFactor(ctx, service.PendingStaff{StaffID: u.ID, Token: res.Token, IP: "192.0.2.1"}, printed); err != nil {
		t.Fatalf("the code from totp-code was refused: %v", err)
	}
}
