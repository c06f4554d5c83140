// Package config turns flags and environment variables into a validated Config.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Config is everything the service needs to start.
type Config struct {
	Addr           string        // listen address
	DatabaseURL    string        // SQLite file path
	BaseURL        string        // public address, used in emails and to decide on Secure cookies
	Demo           bool          // seed demo drivers and print sign-in codes to the log
	SecretKey      string        // seals authenticator secrets, keys code hashes; from secret.key when empty
	DueWindowDays  int           // a licence can be renewed online this many days before expiry
	TrustedProxies []*net.IPNet  // X-Forwarded-For is believed only from these
	RequestTimeout time.Duration // each request's deadline
	LogFormat      string        // text or json
	Timezone       string        // where times are shown
	SecureCookies  bool          // derived from BaseURL's scheme unless forced
	SMTP           SMTP          // outgoing email; Host empty: messages are logged, not sent
	MetricsAddr    string        // where /metrics listens; empty: not served
	ClamdAddr      string        // ClamAV clamd (host:port) that scans uploads; empty: uploads are not scanned
	// PayBaseURL is the card payment provider's API (GOV.UK Pay:
	// https://publicapi.payments.service.gov.uk). Empty: no online payment, except in the demo,
	// which starts a local stand-in and uses it.
	PayBaseURL string
}

// SMTP is the mail server the outbox sends through.
type SMTP struct {
	Host     string
	Port     int
	Username string
	Password string
	From     string
	TLS      string // starttls, tls or none
	// Deadlines for each phase of a conversation with the server.
	DialTimeout    time.Duration // connecting (and the TLS handshake with tls)
	CommandTimeout time.Duration // each command and its reply
	DataTimeout    time.Duration // the message itself and the reply to its end
	Concurrency    int           // messages sent at once
}

// env maps each flag to its environment variable; flags win over the environment.
var env = map[string]string{
	"addr":            "RENEWALS_ADDR",
	"database":        "RENEWALS_DATABASE_URL",
	"base-url":        "RENEWALS_BASE_URL",
	"demo":            "RENEWALS_DEMO",
	"secret-key":      "RENEWALS_SECRET_KEY",
	"due-window-days": "RENEWALS_DUE_WINDOW_DAYS",
	"trusted-proxies": "RENEWALS_TRUSTED_PROXIES",
	"request-timeout": "RENEWALS_REQUEST_TIMEOUT",
	"log-format":      "RENEWALS_LOG_FORMAT",
	"timezone":        "RENEWALS_TIMEZONE",
	"smtp-host":       "RENEWALS_SMTP_HOST",
	"smtp-port":       "RENEWALS_SMTP_PORT",
	"smtp-username":   "RENEWALS_SMTP_USERNAME",
	"smtp-password":   "RENEWALS_SMTP_PASSWORD",
	"smtp-from":       "RENEWALS_SMTP_FROM",
	"smtp-tls":        "RENEWALS_SMTP_TLS",
	"metrics-addr":    "RENEWALS_METRICS_ADDR",
	"clamd-addr":      "RENEWALS_CLAMD_ADDR",
	"pay-base-url":    "RENEWALS_PAY_BASE_URL",

	// Deadlines and concurrency for the outbox's SMTP conversations.
	"smtp-dial-timeout":    "RENEWALS_SMTP_DIAL_TIMEOUT",
	"smtp-command-timeout": "RENEWALS_SMTP_COMMAND_TIMEOUT",
	"smtp-data-timeout":    "RENEWALS_SMTP_DATA_TIMEOUT",
	"smtp-concurrency":     "RENEWALS_SMTP_CONCURRENCY",
}

// Load parses args (without the subcommand name) with getenv as the environment.
// extra, when not nil, adds a command's own flags.
func Load(name string, args []string, getenv func(string) string, stderr io.Writer, extra func(*flag.FlagSet)) (Config, *flag.FlagSet, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	def := func(flagName, fallback string) string {
		if v := getenv(env[flagName]); v != "" {
			return v
		}
		return fallback
	}
	addr := fs.String("addr", def("addr", "localhost:8080"), "listen address ($RENEWALS_ADDR)")
	database := fs.String("database", def("database", "data/renewals.db"), "SQLite database file ($RENEWALS_DATABASE_URL)")
	baseURL := fs.String("base-url", def("base-url", ""), "public base URL, e.g. https://renew.example.gov.uk ($RENEWALS_BASE_URL; default http://<addr>)")
	demo := fs.Bool("demo", def("demo", "") == "true" || def("demo", "") == "1", "seed demo drivers and print sign-in codes to the log ($RENEWALS_DEMO)")
	secret := fs.String("secret-key", def("secret-key", ""), "key for one-time code hashes, at least 32 characters ($RENEWALS_SECRET_KEY; random per start when empty)")
	window := fs.String("due-window-days", def("due-window-days", "90"), "days before expiry a licence can be renewed online ($RENEWALS_DUE_WINDOW_DAYS)")
	proxies := fs.String("trusted-proxies", def("trusted-proxies", ""), "comma-separated CIDRs of reverse proxies whose X-Forwarded-For is trusted ($RENEWALS_TRUSTED_PROXIES)")
	timeout := fs.String("request-timeout", def("request-timeout", "15s"), "deadline for each request ($RENEWALS_REQUEST_TIMEOUT)")
	logFormat := fs.String("log-format", def("log-format", "text"), "log format: text or json ($RENEWALS_LOG_FORMAT)")
	tz := fs.String("timezone", def("timezone", "Europe/London"), "time zone times are shown in ($RENEWALS_TIMEZONE)")
	smtpHost := fs.String("smtp-host", def("smtp-host", ""), "SMTP server for outgoing email ($RENEWALS_SMTP_HOST; empty: email is logged, not sent)")
	smtpPort := fs.String("smtp-port", def("smtp-port", "587"), "SMTP port ($RENEWALS_SMTP_PORT)")
	smtpUser := fs.String("smtp-username", def("smtp-username", ""), "SMTP user name ($RENEWALS_SMTP_USERNAME)")
	smtpPass := fs.String("smtp-password", def("smtp-password", ""), "SMTP password ($RENEWALS_SMTP_PASSWORD; prefer the environment to the flag)")
	smtpFrom := fs.String("smtp-from", def("smtp-from", ""), "sender address, e.g. renewals@council.gov.uk ($RENEWALS_SMTP_FROM)")
	smtpTLS := fs.String("smtp-tls", def("smtp-tls", "starttls"), "starttls, tls or none ($RENEWALS_SMTP_TLS)")
	smtpDial := fs.String("smtp-dial-timeout", def("smtp-dial-timeout", "10s"), "deadline for connecting to the SMTP server ($RENEWALS_SMTP_DIAL_TIMEOUT)")
	smtpCommand := fs.String("smtp-command-timeout", def("smtp-command-timeout", "30s"), "deadline for each SMTP command and its reply ($RENEWALS_SMTP_COMMAND_TIMEOUT)")
	smtpData := fs.String("smtp-data-timeout", def("smtp-data-timeout", "60s"), "deadline for sending a message's content and the server's reply ($RENEWALS_SMTP_DATA_TIMEOUT)")
	smtpConcurrency := fs.String("smtp-concurrency", def("smtp-concurrency", "4"), "messages sent at once, each on its own connection ($RENEWALS_SMTP_CONCURRENCY)")
	metricsAddr := fs.String("metrics-addr", def("metrics-addr", ""), "listen address for /metrics (Prometheus), e.g. 127.0.0.1:9090; keep it private ($RENEWALS_METRICS_ADDR; empty: off)")
	clamdAddr := fs.String("clamd-addr", def("clamd-addr", ""), "ClamAV clamd address (host:port) that scans every upload before it is stored ($RENEWALS_CLAMD_ADDR; empty: uploads are not scanned)")
	payBase := fs.String("pay-base-url", def("pay-base-url", ""), "GOV.UK Pay API base URL, https://publicapi.payments.service.gov.uk ($RENEWALS_PAY_BASE_URL; empty: no online payment, or the local stand-in with --demo)")
	// Help lists each flag's default, which comes from the environment: never print a secret
	// there. A secret shows only whether it is set; a database URL's password is masked.
	for _, name := range []string{"secret-key", "smtp-password"} {
		if f := fs.Lookup(name); f.DefValue != "" {
			f.DefValue = ""
			f.Usage += " (set)"
		}
	}
	fs.Lookup("database").DefValue = RedactURL(fs.Lookup("database").DefValue)
	if extra != nil {
		extra(fs)
	}
	if err := fs.Parse(args); err != nil {
		return Config{}, fs, err
	}
	c := Config{MetricsAddr: *metricsAddr, ClamdAddr: strings.TrimSpace(*clamdAddr), Addr: *addr, DatabaseURL: *database, BaseURL: strings.TrimRight(*baseURL, "/"), Demo: *demo,
		SecretKey: *secret, LogFormat: *logFormat, Timezone: *tz}
	var problems []string
	n, err := strconv.Atoi(*window)
	if err != nil || n < 1 || n > 365 {
		problems = append(problems, "due-window-days must be a whole number from 1 to 365")
	}
	c.DueWindowDays = n
	d, err := time.ParseDuration(*timeout)
	if err != nil || d <= 0 {
		problems = append(problems, "request-timeout must be a duration such as 15s")
	}
	c.RequestTimeout = d
	for _, p := range strings.Split(*proxies, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		_, ipnet, err := net.ParseCIDR(p)
		if err != nil {
			problems = append(problems, fmt.Sprintf("trusted-proxies: %q is not a CIDR such as 10.0.0.0/8", p))
			continue
		}
		c.TrustedProxies = append(c.TrustedProxies, ipnet)
	}
	if c.ClamdAddr != "" {
		if _, _, err := net.SplitHostPort(c.ClamdAddr); err != nil {
			problems = append(problems, "clamd-addr must be host:port, such as 127.0.0.1:3310")
		}
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		problems = append(problems, "log-format must be text or json")
	}
	if _, err := time.LoadLocation(c.Timezone); err != nil {
		problems = append(problems, "timezone: unknown time zone "+c.Timezone)
	}
	if c.SecretKey != "" && len(c.SecretKey) < 32 {
		problems = append(problems, "secret-key must be at least 32 characters")
	}
	if *smtpHost != "" {
		port, err := strconv.Atoi(*smtpPort)
		if err != nil || port < 1 || port > 65535 {
			problems = append(problems, "smtp-port must be a port number")
		}
		if *smtpTLS != "starttls" && *smtpTLS != "tls" && *smtpTLS != "none" {
			problems = append(problems, "smtp-tls must be starttls, tls or none")
		}
		if !strings.Contains(*smtpFrom, "@") {
			problems = append(problems, "smtp-from must be an email address when smtp-host is set")
		}
		c.SMTP = SMTP{Host: *smtpHost, Port: port, Username: *smtpUser, Password: *smtpPass, From: *smtpFrom, TLS: *smtpTLS}
		for _, t := range []struct {
			name string
			v    string
			to   *time.Duration
		}{{"smtp-dial-timeout", *smtpDial, &c.SMTP.DialTimeout}, {"smtp-command-timeout", *smtpCommand, &c.SMTP.CommandTimeout},
			{"smtp-data-timeout", *smtpData, &c.SMTP.DataTimeout}} {
			d, err := time.ParseDuration(t.v)
			if err != nil || d <= 0 || d > time.Hour {
				problems = append(problems, t.name+" must be a duration such as 30s (at most 1h)")
			}
			*t.to = d
		}
		n, err := strconv.Atoi(*smtpConcurrency)
		if err != nil || n < 1 || n > 64 {
			problems = append(problems, "smtp-concurrency must be a whole number from 1 to 64")
		}
		c.SMTP.Concurrency = n
	}
	if c.PayBaseURL = strings.TrimRight(*payBase, "/"); c.PayBaseURL != "" {
		if u, err := url.Parse(c.PayBaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			problems = append(problems, "pay-base-url must be an http or https URL")
		}
	}
	if c.DatabaseURL == "" {
		problems = append(problems, "database must not be empty")
	}
	if c.BaseURL == "" {
		c.BaseURL = "http://" + c.Addr
	}
	u, err := url.Parse(c.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		problems = append(problems, "base-url must be an http or https URL")
	} else {
		c.SecureCookies = u.Scheme == "https"
	}
	if len(problems) > 0 {
		return c, fs, errors.New("configuration: " + strings.Join(problems, "; "))
	}
	return c, fs, nil
}

// govukPayAPIHost is GOV.UK Pay's public API; its payment pages are on govukPayCardOrigin.
const (
	govukPayAPIHost    = "publicapi.payments.service.gov.uk"
	govukPayCardOrigin = "https://card.payments.service.gov.uk"
)

// PayPageOrigin is the origin of the provider's payment pages, which "Pay and send" redirects
// to (the Content-Security-Policy's form-action must allow it): GOV.UK Pay's card pages for its
// API, or the provider's own origin otherwise (the stand-in serves both). Empty when online
// payment is off.
func (c Config) PayPageOrigin() string {
	if c.PayBaseURL == "" {
		return ""
	}
	u, err := url.Parse(c.PayBaseURL)
	if err != nil || u.Host == "" {
		return ""
	}
	if u.Host == govukPayAPIHost {
		return govukPayCardOrigin
	}
	return u.Scheme + "://" + u.Host
}

// keywordPassword finds the password of a key=value connection string
// ("host=db user=app password=secret").
var keywordPassword = regexp.MustCompile(`(?i)(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)`)

// RedactURL is a database URL or file path safe to print: a password in it is shown as ***.
func RedactURL(s string) string {
	if u, err := url.Parse(s); err == nil && u.User != nil {
		q := u.Query()
		if q.Has("password") {
			q.Set("password", "***")
			u.RawQuery = q.Encode()
		}
		// Redacted writes the password as xxxxx; *** is escaped by String, so swap it after.
		return strings.Replace(u.Redacted(), ":xxxxx@", ":***@", 1)
	} else if err == nil && u.Query().Has("password") {
		q := u.Query()
		q.Set("password", "***")
		u.RawQuery = q.Encode()
		return u.String()
	}
	return keywordPassword.ReplaceAllString(s, "${1}***")
}
