package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/herts-msp/taxi-renewals/internal/demo"
	"github.com/herts-msp/taxi-renewals/internal/domain"
	"github.com/herts-msp/taxi-renewals/internal/service"
)

const userUsage = `usage:
  renewals user add --email E --name N --role officer|analyst|admin [--council SLUG] [--password-stdin]
  renewals user list
  renewals user disable --email E          (ends the account's sessions at once)
  renewals user enable --email E
  renewals user reset-password --email E   (prints a new one-time password)
  renewals user reset-two-factor --email E
  renewals user totp-code --email E [--demo]   (demo accounts only: the current authenticator code)`

// passwordStdin is where --password-stdin reads from; run() has no stdin of its own.
var passwordStdin io.Reader = os.Stdin

// userCmd manages staff accounts: renewals user add|list|disable|enable|reset-password|
// reset-two-factor|totp-code. Passwords are printed to stdout only, never logged.
func userCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New(userUsage)
	}
	sub := args[0]
	var email, name, role, council string
	var fromStdin bool
	extra := func(fs *flag.FlagSet) {
		if sub == "list" {
			return
		}
		fs.StringVar(&email, "email", "", "the account's email address")
		if sub == "add" {
			fs.StringVar(&name, "name", "", "the member of staff's full name")
			fs.StringVar(&role, "role", "", "officer, analyst or admin")
			fs.StringVar(&council, "council", "", "the officer's council (slug, e.g. dacorum)")
			fs.BoolVar(&fromStdin, "password-stdin", false, "read the initial password from the first line of stdin instead of generating one")
		}
	}
	switch sub {
	case "add", "list", "disable", "enable", "reset-password", "reset-two-factor", "totp-code":
	default:
		return fmt.Errorf("unknown user command %q\n%s", sub, userUsage)
	}
	cfg, st, _, err := open(ctx, "user "+sub, args[1:], getenv, stderr, extra)
	if err != nil {
		return err
	}
	defer st.Close()
	svc := newService(cfg, st, slog.New(slog.DiscardHandler))
	who := getenv("USER")
	if who == "" {
		who = "unknown"
	}
	admin := service.SystemActor("cli:" + who)

	if sub == "add" {
		return userAdd(ctx, svc, admin, service.NewStaff{Email: email, Name: name, Role: domain.Role(role), CouncilSlug: council}, fromStdin, stdout)
	}
	if sub == "list" {
		return userList(ctx, svc, admin, stdout)
	}
	if email == "" {
		return fmt.Errorf("user %s needs --email", sub)
	}
	u, err := svc.StaffAccountByEmail(ctx, admin, email)
	if err != nil {
		return err
	}
	switch sub {
	case "disable":
		n, err := svc.DisableStaff(ctx, admin, u.ID)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "disabled %s; %d signed-in %s ended\n", u.Email, n, plural(n, "session", "sessions"))
	case "enable":
		if err := svc.EnableStaff(ctx, admin, u.ID); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "enabled %s\n", u.Email)
	case "reset-password":
		pw, err := svc.ResetStaffPassword(ctx, admin, u.ID)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "reset the password of %s and ended their sessions\nnew password (shown once; give it to them in person or by phone): %s\n", u.Email, pw)
	case "reset-two-factor":
		if err := svc.ResetStaffTwoFactor(ctx, admin, u.ID); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "removed the authenticator app of %s and ended their sessions; they set up a new one at their next sign-in\n", u.Email)
	case "totp-code":
		return totpCode(ctx, svc, admin, u, cfg.Demo, stdout)
	}
	return nil
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func userAdd(ctx context.Context, svc *service.Service, admin domain.Actor, req service.NewStaff, fromStdin bool, stdout io.Writer) error {
	if fromStdin {
		line, err := bufio.NewReader(io.LimitReader(passwordStdin, 4096)).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("reading the password from stdin: %w", err)
		}
		req.Password = strings.TrimRight(line, "\r\n")
		if req.Password == "" {
			return errors.New("--password-stdin: stdin gave an empty password")
		}
	}
	u, pw, err := svc.CreateStaff(ctx, admin, req)
	if err != nil {
		return fieldProblems(err)
	}
	where := "all councils"
	if u.CouncilID != 0 {
		where = req.CouncilSlug
	}
	fmt.Fprintf(stdout, "added %s account for %s <%s> (%s)\n", u.Role, u.Name, u.Email, where)
	if pw != "" {
		fmt.Fprintf(stdout, "initial password (shown once; give it to them in person or by phone): %s\n", pw)
		fmt.Fprintln(stdout, "at their first sign-in they set up an authenticator app, then choose their own password")
	}
	return nil
}

// fieldProblems lists a validation error's field messages, one a line, in a stable order.
func fieldProblems(err error) error {
	var de *domain.Error
	if !errors.As(err, &de) || len(de.Fields) == 0 {
		return err
	}
	keys := make([]string, 0, len(de.Fields))
	for k := range de.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	lines := make([]string, len(keys))
	for i, k := range keys {
		lines[i] = "  --" + k + ": " + de.Fields[k]
	}
	return fmt.Errorf("%s:\n%s", de.Message, strings.Join(lines, "\n"))
}

func userList(ctx context.Context, svc *service.Service, admin domain.Actor, stdout io.Writer) error {
	list, err := svc.StaffAccounts(ctx, admin)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "EMAIL\tNAME\tROLE\tCOUNCIL\tAUTHENTICATOR\tSTATUS")
	for _, d := range list {
		council, twoFactor, status := d.CouncilName, "set up", "active"
		if council == "" {
			council = "all"
		}
		if !d.User.TOTPConfirmed {
			twoFactor = "not yet"
		}
		switch {
		case d.User.Disabled:
			status = "disabled"
		case d.Locked:
			status = "locked until " + d.User.LockedUntil.Format(time.DateTime) + " UTC"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", d.User.Email, d.User.Name, d.User.Role, council, twoFactor, status)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%d %s\n", len(list), plural(int64(len(list)), "account", "accounts"))
	return nil
}

// totpCode prints the current code of a demo account, so the demo can be tried without an
// authenticator app. It refuses any account whose key was not seeded by the demo: if the
// key opens with this server key it must be the demo's, and if it does not open (the demo
// server's key is random at each start) --demo must say so.
func totpCode(ctx context.Context, svc *service.Service, admin domain.Actor, u domain.StaffUser, demoFlag bool, stdout io.Writer) error {
	if !demo.IsStaff(u.Email) {
		return fmt.Errorf("totp-code is a demo helper: %s is not a demo account", u.Email)
	}
	want := demo.TOTPSecret(u.Email)
	got, err := svc.StaffTOTPSecret(ctx, admin, u.ID)
	switch {
	case err == nil && got != want:
		return fmt.Errorf("totp-code refused: %s has set up their own authenticator app", u.Email)
	case err != nil && domain.ErrorReason(err) != "secret_key_mismatch":
		return err
	case err != nil && !demoFlag:
		return errors.New("totp-code refused: the account's key does not open with this --secret-key; pass --demo if this is the demo's database")
	}
	now := time.Now()
	code, err := service.TOTPCode(want, now)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s (for about %d more seconds)\n", code, 30-now.Unix()%30)
	return nil
}
