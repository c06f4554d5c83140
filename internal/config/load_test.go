package config_test

import (
	"bytes"
	"flag"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/herts-msp/taxi-renewals/internal/config"
)

// envOf is an environment holding only vars.
func envOf(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func load(t *testing.T, args []string, vars map[string]string) (config.Config, error) {
	t.Helper()
	var stderr bytes.Buffer
	c, _, err := config.Load("renewals", args, envOf(vars), &stderr, nil)
	return c, err
}

func TestLoadDefaults(t *testing.T) {
	t.Parallel()
	c, err := load(t, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := config.Config{
		Addr: "localhost:8080", DatabaseURL: "data/renewals.db", BaseURL: "http://localhost:8080",
		DueWindowDays: 90, RequestTimeout: 15 * time.Second, LogFormat: "text", Timezone: "Europe/London",
	}
	if diff := cmp.Diff(want, c); diff != "" {
		t.Errorf("defaults (-want +got):\n%s", diff)
	}
}

// Every setting comes from its flag, else its environment variable, else the default.
func TestLoadFlagWinsOverEnvironment(t *testing.T) {
	t.Parallel()
	tests := []struct {
		flag, env, flagValue, envValue string
		get                            func(config.Config) any
		wantEnv, wantFlag              any
	}{
		{"addr", "RENEWALS_ADDR", "0.0.0.0:9000", "127.0.0.1:8000", func(c config.Config) any { return c.Addr }, "127.0.0.1:8000", "0.0.0.0:9000"},
		{"database", "RENEWALS_DATABASE_URL", "/tmp/f.db", "/tmp/e.db", func(c config.Config) any { return c.DatabaseURL }, "/tmp/e.db", "/tmp/f.db"},
		{"base-url", "RENEWALS_BASE_URL", "https://renew.example.gov.uk/", "http://e.example", func(c config.Config) any { return c.BaseURL }, "http://e.example", "https://renew.example.gov.uk"},
		{"due-window-days", "RENEWALS_DUE_WINDOW_DAYS", "30", "60", func(c config.Config) any { return c.DueWindowDays }, 60, 30},
		{"request-timeout", "RENEWALS_REQUEST_TIMEOUT", "2s", "1m", func(c config.Config) any { return c.RequestTimeout }, time.Minute, 2 * time.Second},
		{"log-format", "RENEWALS_LOG_FORMAT", "json", "text", func(c config.Config) any { return c.LogFormat }, "text", "json"},
		{"timezone", "RENEWALS_TIMEZONE", "UTC", "Europe/Paris", func(c config.Config) any { return c.Timezone }, "Europe/Paris", "UTC"},
		{"secret-key", "RENEWALS_SECRET_KEY", strings.Repeat("f", 32), strings.Repeat("e", 40), func(c config.Config) any { return c.SecretKey }, strings.Repeat("e", 40), strings.Repeat("f", 32)},
		{"metrics-addr", "RENEWALS_METRICS_ADDR", "127.0.0.1:9091", "127.0.0.1:9090", func(c config.Config) any { return c.MetricsAddr }, "127.0.0.1:9090", "127.0.0.1:9091"},
		{"clamd-addr", "RENEWALS_CLAMD_ADDR", " clamd:3310 ", "127.0.0.1:3310", func(c config.Config) any { return c.ClamdAddr }, "127.0.0.1:3310", "clamd:3310"},
		{"pay-base-url", "RENEWALS_PAY_BASE_URL", "https://publicapi.payments.service.gov.uk/", "http://127.0.0.1:8081", func(c config.Config) any { return c.PayBaseURL }, "http://127.0.0.1:8081", "https://publicapi.payments.service.gov.uk"},
		{"trusted-proxies", "RENEWALS_TRUSTED_PROXIES", "10.0.0.0/8", "192.168.0.0/16, 172.16.0.0/12", func(c config.Config) any { return strings.Join(cidrs(c.TrustedProxies), ",") }, "192.168.0.0/16,172.16.0.0/12", "10.0.0.0/8"},
	}
	for _, tc := range tests {
		t.Run(tc.flag, func(t *testing.T) {
			t.Parallel()
			vars := map[string]string{tc.env: tc.envValue}
			c, err := load(t, nil, vars)
			if err != nil {
				t.Fatalf("env %s=%q: %v", tc.env, tc.envValue, err)
			}
			if got := tc.get(c); got != tc.wantEnv {
				t.Errorf("env %s=%q: got %v, want %v", tc.env, tc.envValue, got, tc.wantEnv)
			}
			c, err = load(t, []string{"--" + tc.flag, tc.flagValue}, vars)
			if err != nil {
				t.Fatalf("--%s %q with env %s=%q: %v", tc.flag, tc.flagValue, tc.env, tc.envValue, err)
			}
			if got := tc.get(c); got != tc.wantFlag {
				t.Errorf("--%s %q with env %s=%q: got %v, want the flag's %v", tc.flag, tc.flagValue, tc.env, tc.envValue, got, tc.wantFlag)
			}
		})
	}
}

func TestLoadDerivedSettings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		vars map[string]string
		want func(config.Config) string // "" when right
	}{
		{"base URL defaults to the listen address", []string{"--addr", "0.0.0.0:9000"}, nil, func(c config.Config) string {
			if c.BaseURL != "http://0.0.0.0:9000" || c.SecureCookies {
				return "want http://0.0.0.0:9000 without Secure cookies"
			}
			return ""
		}},
		{"https base URL means Secure cookies", []string{"--base-url", "https://renew.example.gov.uk/"}, nil, func(c config.Config) string {
			if c.BaseURL != "https://renew.example.gov.uk" || !c.SecureCookies {
				return "want https://renew.example.gov.uk (slash trimmed) with Secure cookies"
			}
			return ""
		}},
		{"demo from the environment: true", nil, map[string]string{"RENEWALS_DEMO": "true"}, func(c config.Config) string {
			if !c.Demo {
				return "want demo on"
			}
			return ""
		}},
		{"demo from the environment: 1", nil, map[string]string{"RENEWALS_DEMO": "1"}, func(c config.Config) string {
			if !c.Demo {
				return "want demo on"
			}
			return ""
		}},
		{"demo from the environment: yes is not on", nil, map[string]string{"RENEWALS_DEMO": "yes"}, func(c config.Config) string {
			if c.Demo {
				return "want demo off"
			}
			return ""
		}},
		{"--demo=false wins over RENEWALS_DEMO=true", []string{"--demo=false"}, map[string]string{"RENEWALS_DEMO": "true"}, func(c config.Config) string {
			if c.Demo {
				return "want demo off"
			}
			return ""
		}},
		{"SMTP settings, the password from the environment", []string{"--smtp-host", "smtp.example.org", "--smtp-port", "465", "--smtp-tls", "tls", "--smtp-from", "renewals@council.gov.uk", "--smtp-username", "u"},
			map[string]string{"RENEWALS_SMTP_PASSWORD": "pw"}, func(c config.Config) string {
				want := config.SMTP{Host: "smtp.example.org", Port: 465, Username: "u", Password: "pw", From: "renewals@council.gov.uk", TLS: "tls",
					DialTimeout: 10 * time.Second, CommandTimeout: 30 * time.Second, DataTimeout: time.Minute, Concurrency: 4}
				return cmp.Diff(want, c.SMTP)
			}},
		{"SMTP defaults: port 587, STARTTLS, deadlines and 4 at once", []string{"--smtp-host", "smtp.example.org", "--smtp-from", "renewals@council.gov.uk"}, nil, func(c config.Config) string {
			return cmp.Diff(config.SMTP{Host: "smtp.example.org", Port: 587, From: "renewals@council.gov.uk", TLS: "starttls",
				DialTimeout: 10 * time.Second, CommandTimeout: 30 * time.Second, DataTimeout: time.Minute, Concurrency: 4}, c.SMTP)
		}},
		{"SMTP deadlines and concurrency, flags and environment", []string{"--smtp-host", "smtp.example.org", "--smtp-from", "renewals@council.gov.uk",
			"--smtp-dial-timeout", "2s", "--smtp-concurrency", "8"}, map[string]string{"RENEWALS_SMTP_COMMAND_TIMEOUT": "5s", "RENEWALS_SMTP_DATA_TIMEOUT": "2m"},
			func(c config.Config) string {
				got := [4]any{c.SMTP.DialTimeout, c.SMTP.CommandTimeout, c.SMTP.DataTimeout, c.SMTP.Concurrency}
				return cmp.Diff([4]any{2 * time.Second, 5 * time.Second, 2 * time.Minute, 8}, got)
			}},
		{"no SMTP host: the other SMTP settings are not checked", []string{"--smtp-port", "x", "--smtp-tls", "ssl"}, nil, func(c config.Config) string {
			return cmp.Diff(config.SMTP{}, c.SMTP)
		}},
		{"trusted proxies: blanks and empty items skipped", []string{"--trusted-proxies", " 10.0.0.0/8 ,, 2001:db8::/32 "}, nil, func(c config.Config) string {
			want := []string{"10.0.0.0/8", "2001:db8::/32"}
			return cmp.Diff(want, cidrs(c.TrustedProxies))
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := load(t, tc.args, tc.vars)
			if err != nil {
				t.Fatal(err)
			}
			if msg := tc.want(c); msg != "" {
				t.Errorf("%v with %v: %s; got %+v", tc.args, tc.vars, msg, c)
			}
		})
	}
}

func cidrs(ns []*net.IPNet) []string {
	var s []string
	for _, n := range ns {
		s = append(s, n.String())
	}
	return s
}

// Each bad setting is named with what would be right; all of them are reported at once.
func TestLoadProblems(t *testing.T) {
	t.Parallel()
	smtp := []string{"--smtp-host", "smtp.example.org", "--smtp-from", "renewals@council.gov.uk"}
	tests := []struct {
		name string
		args []string
		vars map[string]string
		want string
	}{
		{"window not a number", []string{"--due-window-days", "ninety"}, nil, "due-window-days must be a whole number from 1 to 365"},
		{"window zero", []string{"--due-window-days", "0"}, nil, "due-window-days must be a whole number from 1 to 365"},
		{"window over a year", nil, map[string]string{"RENEWALS_DUE_WINDOW_DAYS": "366"}, "due-window-days must be a whole number from 1 to 365"},
		{"timeout without a unit", []string{"--request-timeout", "15"}, nil, "request-timeout must be a duration such as 15s"},
		{"timeout negative", []string{"--request-timeout", "-1s"}, nil, "request-timeout must be a duration such as 15s"},
		{"proxy not a CIDR", []string{"--trusted-proxies", "10.0.0.0/8,10.0.0.1"}, nil, `trusted-proxies: "10.0.0.1" is not a CIDR such as 10.0.0.0/8`},
		{"clamd without a port", []string{"--clamd-addr", "clamd"}, nil, "clamd-addr must be host:port, such as 127.0.0.1:3310"},
		{"log format", nil, map[string]string{"RENEWALS_LOG_FORMAT": "xml"}, "log-format must be text or json"},
		{"time zone", []string{"--timezone", "Mars/Olympus_Mons"}, nil, "timezone: unknown time zone Mars/Olympus_Mons"},
		{"short secret key", []string{"--secret-key", strings.Repeat("k", 31)}, nil, "secret-key must be at least 32 characters"},
		{"SMTP port not a number", append([]string{"--smtp-port", "smtp"}, smtp...), nil, "smtp-port must be a port number"},
		{"SMTP port out of range", append([]string{"--smtp-port", "65536"}, smtp...), nil, "smtp-port must be a port number"},
		{"SMTP TLS mode", append([]string{"--smtp-tls", "ssl"}, smtp...), nil, "smtp-tls must be starttls, tls or none"},
		{"SMTP dial timeout", append([]string{"--smtp-dial-timeout", "10"}, smtp...), nil, "smtp-dial-timeout must be a duration such as 30s (at most 1h)"},
		{"SMTP command timeout", append([]string{"--smtp-command-timeout", "0s"}, smtp...), nil, "smtp-command-timeout must be a duration such as 30s (at most 1h)"},
		{"SMTP data timeout", append([]string{"--smtp-data-timeout", "2h"}, smtp...), nil, "smtp-data-timeout must be a duration such as 30s (at most 1h)"},
		{"SMTP concurrency", append([]string{"--smtp-concurrency", "0"}, smtp...), nil, "smtp-concurrency must be a whole number from 1 to 64"},
		{"SMTP sender not an address", []string{"--smtp-host", "smtp.example.org", "--smtp-from", "renewals"}, nil, "smtp-from must be an email address when smtp-host is set"},
		{"pay URL scheme", []string{"--pay-base-url", "ftp://pay.example.org"}, nil, "pay-base-url must be an http or https URL"},
		{"pay URL without a host", []string{"--pay-base-url", "https://"}, nil, "pay-base-url must be an http or https URL"},
		{"empty database", []string{"--database", ""}, nil, "database must not be empty"},
		{"base URL scheme", []string{"--base-url", "renew.example.gov.uk"}, nil, "base-url must be an http or https URL"},
		{"several at once, in order", []string{"--due-window-days", "0", "--log-format", "xml", "--database", ""}, nil,
			"due-window-days must be a whole number from 1 to 365; log-format must be text or json; database must not be empty"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := load(t, tc.args, tc.vars)
			if err == nil || err.Error() != "configuration: "+tc.want {
				t.Errorf("%v with %v: error %v, want %q", tc.args, tc.vars, err, "configuration: "+tc.want)
			}
		})
	}
}

func TestLoadFlagErrorsAndExtraFlags(t *testing.T) {
	t.Parallel()
	t.Run("unknown flag", func(t *testing.T) {
		t.Parallel()
		var stderr bytes.Buffer
		_, _, err := config.Load("renewals", []string{"--no-such-flag"}, envOf(nil), &stderr, nil)
		if err == nil || !strings.Contains(err.Error(), "no-such-flag") {
			t.Errorf("error %v, want one naming the unknown flag", err)
		}
		if !strings.Contains(stderr.String(), "-due-window-days") {
			t.Errorf("usage not written to stderr: %q", stderr.String())
		}
	})
	t.Run("help", func(t *testing.T) {
		t.Parallel()
		var stderr bytes.Buffer
		if _, _, err := config.Load("renewals", []string{"-h"}, envOf(nil), &stderr, nil); err != flag.ErrHelp {
			t.Errorf("error %v, want flag.ErrHelp", err)
		}
	})
	t.Run("a command's own flag", func(t *testing.T) {
		t.Parallel()
		var file *string
		_, fs, err := config.Load("import", []string{"--file", "register.csv", "extra"}, envOf(nil), &bytes.Buffer{},
			func(fs *flag.FlagSet) { file = fs.String("file", "", "register file") })
		if err != nil || *file != "register.csv" || fs.Arg(0) != "extra" {
			t.Errorf("err %v, --file %q, args %v", err, *file, fs.Args())
		}
	})
}
