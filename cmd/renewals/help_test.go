package main

import (
	"context"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/herts-msp/taxi-renewals/internal/config"
)

const (
	secretKeyValue = "a-secret-key-of-at-least-32-characters!"
	smtpPassword   = "smtp-hunter2"
	dbPassword     = "db-pw-s3cret"
)

func secretEnv(k string) string {
	return map[string]string{
		"RENEWALS_SECRET_KEY":      secretKeyValue,
		"RENEWALS_SMTP_PASSWORD":   smtpPassword,
		"RENEWALS_DATABASE_URL":    "postgres://app:" + dbPassword + "@127.0.0.1:1/none",
		"RENEWALS_SMTP_HOST":       "smtp.example",
		"RENEWALS_SMTP_USERNAME":   "mailer",
		"RENEWALS_TRUSTED_PROXIES": "",
	}[k]
}

// TestEveryHelpExitsZeroOnStdoutAndPrintsNoSecret (issue 13): every subcommand's --help, with
// secrets in the environment, exits 0, prints to stdout only, and shows that a secret is set
// but never its value (nor the database password).
func TestEveryHelpExitsZeroOnStdoutAndPrintsNoSecret(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"serve"}, {"migrate"}, {"leaflet"}, {"leaflet", "publish"}, {"leaflet", "list"}, {"healthcheck"},
		{"user"}, {"user", "add"}, {"user", "list"}, {"import-register"}, {"remind"}, {"audit"}, {"audit", "verify"},
		{"report"}, {"seed"}, {"backup"}, {"purge"}, {"council"}, {"council", "list"}, {"council", "set-fee"},
		{"council", "set-payment-key"}, {"import-register", "--council", "dacorum", "file.csv"},
	} {
		for _, flag := range []string{"--help", "-h"} {
			t.Run(strings.Join(args, " ")+" "+flag, func(t *testing.T) {
				var out, errOut syncBuffer
				code := run(context.Background(), append(append([]string{}, args...), flag), secretEnv, &out, &errOut)
				if code != 0 {
					t.Errorf("exit %d, want 0\n%s%s", code, out.String(), errOut.String())
				}
				if errOut.String() != "" {
					t.Errorf("help on stderr:\n%s", errOut.String())
				}
				if out.String() == "" {
					t.Error("no help on stdout")
				}
				for _, secret := range []string{secretKeyValue, smtpPassword, dbPassword} {
					if strings.Contains(out.String(), secret) {
						t.Errorf("help prints the secret %q:\n%s", secret, out.String())
					}
				}
				if len(args) == 1 && args[0] == "serve" {
					for _, want := range []string{"($RENEWALS_SECRET_KEY; random per start when empty) (set)", "(set)", `postgres://app:***@127.0.0.1:1/none`} {
						if !strings.Contains(out.String(), want) {
							t.Errorf("help lacks %q:\n%s", want, out.String())
						}
					}
				}
			})
		}
	}
}

func TestRedactURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"data/renewals.db", "data/renewals.db"},
		{"file:data/r.db?_busy_timeout=5000", "file:data/r.db?_busy_timeout=5000"},
		{"postgres://postgres@127.0.0.1:5432/test", "postgres://postgres@127.0.0.1:5432/test"},
		{"postgres://app:pa%40ss@db:5432/renewals?sslmode=require", "postgres://app:***@db:5432/renewals?sslmode=require"},
		{"postgresql://db/renewals?user=app&password=secret", "postgresql://db/renewals?password=%2A%2A%2A&user=app"},
		{"host=db user=app password=secret dbname=r", "host=db user=app password=*** dbname=r"},
		{"host=db password='se cret' dbname=r", "host=db password=*** dbname=r"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			if got := config.RedactURL(tc.in); got != tc.want {
				t.Errorf("RedactURL(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	code, out, errOut := runCmd(t, "version")
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"module:   github.com/herts-msp/taxi-renewals", "revision: ", "go:       go1."} {
		if !strings.Contains(out, want) {
			t.Errorf("version lacks %q:\n%s", want, out)
		}
	}
	stamped := versionText(&debug.BuildInfo{GoVersion: "go1.27.3", Main: debug.Module{Path: "m", Version: "v1.2.3"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abc123"}, {Key: "vcs.time", Value: "2026-12-01T10:00:00Z"}, {Key: "vcs.modified", Value: "false"}}})
	want := "renewals v1.2.3\nmodule:   m\nrevision: abc123\ntime:     2026-12-01T10:00:00Z\ngo:       go1.27.3\n"
	if stamped != want {
		t.Errorf("versionText:\n%s\nwant:\n%s", stamped, want)
	}
}
