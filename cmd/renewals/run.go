package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/herts-msp/taxi-renewals/internal/config"
	"github.com/herts-msp/taxi-renewals/internal/demo"
	"github.com/herts-msp/taxi-renewals/internal/domain"
	"github.com/herts-msp/taxi-renewals/internal/mail"
	"github.com/herts-msp/taxi-renewals/internal/payment"
	"github.com/herts-msp/taxi-renewals/internal/payment/paystub"
	"github.com/herts-msp/taxi-renewals/internal/scan"
	"github.com/herts-msp/taxi-renewals/internal/service"
	"github.com/herts-msp/taxi-renewals/internal/store"
	"github.com/herts-msp/taxi-renewals/internal/web"
)

const usage = `usage: renewals <command> [flags]

commands:
  serve [--demo]                              run the web service
  migrate                                     apply database migrations
  leaflet publish --file F --version V [--minor] [--audience driver|public]
                                              publish a new leaflet version
  leaflet list [--audience driver|public]     list published leaflet versions
  healthcheck [--url URL]                     exit 0 when /healthz answers on --addr ($RENEWALS_ADDR)
  user add|list|disable|enable|reset-password|reset-two-factor|totp-code
                                              manage staff accounts (totp-code: demo accounts only)
  import-register --council SLUG FILE         load a council's register of licensed drivers (CSV)
  remind                                      queue reminder emails (60, 30, 14 days before expiry)
  audit verify                                check the audit log's hash chain
  report --period 2026-10 [--out DIR]         write each council's coverage report (HTML, CSV) and email it
  version                                     the build: module version, VCS revision and time, Go version
  seed --synthetic --drivers N                build a synthetic three-year history (reports, benchmarks)
  coverage rebuild | verify                   rebuild the coverage summaries / compare them with a fresh build
  backup FILE                                 a consistent copy of the live SQLite database
  purge [--years 6] [--apply]                 remove personal data past retention (dry run without --apply)
  council list | set-contact --council SLUG [--email E] [--phone P] [--public-email E] [--web URL]
          [--address A] [--hours H] [--decision-days N] [--medical-interval-years N]
                                              where reports go, and how drivers reach the council
  council set-fee --council SLUG --term 1|3 --amount 250.00 --from 2027-04-01
                                              a council's fee for a licence term from a date
  council set-payment-key --council SLUG      the council's GOV.UK Pay API key, read from stdin

Every command takes the configuration flags; run "renewals serve -h" to list them.
`

// run is the whole program; main only wires it to the process. Tests call it directly.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	cmd, rest := args[0], args[1:]
	help := wantsHelp(rest)
	if help {
		// Help is asked for, not an error: it and the flags it lists go to stdout, and nothing
		// runs (the command gets only its subcommand word and the help flag).
		stderr, rest = stdout, helpArgs(cmd, rest)
	}
	var err error
	switch cmd {
	case "version":
		return versionCmd(stdout)
	case "serve":
		err = serve(ctx, rest, getenv, stdout, stderr)
	case "migrate":
		err = migrate(ctx, rest, getenv, stdout, stderr)
	case "leaflet":
		err = leafletCmd(ctx, rest, getenv, stdout, stderr)
	case "healthcheck":
		err = healthcheck(ctx, rest, getenv, stderr)
	case "user":
		err = userCmd(ctx, rest, getenv, stdout, stderr)
	case "import-register":
		err = importRegisterCmd(ctx, rest, getenv, stdout, stderr)
	case "remind":
		err = remindCmd(ctx, rest, getenv, stdout, stderr)
	case "audit":
		err = auditCmd(ctx, rest, getenv, stdout, stderr)
	case "report":
		err = reportCmd(ctx, rest, getenv, stdout, stderr)
	case "council":
		err = councilCmd(ctx, rest, getenv, stdout, stderr)
	case "backup":
		err = backupCmd(ctx, rest, getenv, stdout, stderr)
	case "purge":
		err = purgeCmd(ctx, rest, getenv, stdout, stderr)
	case "seed":
		err = seedCmd(ctx, rest, getenv, stdout, stderr)
	case "coverage":
		err = coverageCmd(ctx, rest, getenv, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "renewals: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if help && err != nil {
		// A command with subcommands answers a bare --help with its usage.
		fmt.Fprintln(stdout, err)
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "renewals:", err)
		return 1
	}
	return 0
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

// open loads the configuration, opens the database and applies migrations.
func open(ctx context.Context, name string, args []string, getenv func(string) string, stderr io.Writer, extra func(*flag.FlagSet)) (config.Config, *store.Store, *flag.FlagSet, error) {
	cfg, fs, err := config.Load(name, args, getenv, stderr, extra)
	if err != nil {
		return cfg, nil, fs, err
	}
	if cfg.SecretKey, err = secretKey(cfg); err != nil {
		return cfg, nil, fs, err
	}
	st, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return cfg, nil, fs, err
	}
	if _, err := st.Migrate(ctx); err != nil {
		st.Close()
		return cfg, nil, fs, err
	}
	return cfg, st, fs, nil
}

// secretKey returns the configured key or, when none is set, the one kept beside a SQLite
// database (made on first use, readable by this user only). Authenticator secrets are sealed
// with it, so it must survive restarts; several instances must share one via
// RENEWALS_SECRET_KEY.
func secretKey(cfg config.Config) (string, error) {
	if cfg.SecretKey != "" {
		return cfg.SecretKey, nil
	}
	if store.IsPostgresURL(cfg.DatabaseURL) {
		// A PostgreSQL database is shared by several instances: a key file on one machine would
		// leave the others unable to open what it sealed.
		return "", errors.New("with a PostgreSQL database, set RENEWALS_SECRET_KEY (the same on every instance)")
	}
	path := filepath.Join(filepath.Dir(strings.TrimPrefix(cfg.DatabaseURL, "file:")), "secret.key")
	if b, err := os.ReadFile(path); err == nil {
		if key := strings.TrimSpace(string(b)); len(key) >= 32 {
			return key, nil
		}
		return "", fmt.Errorf("secret key file %s is shorter than 32 characters", path)
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	key := hex.EncodeToString(raw)
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return "", err
	}
	if err := os.WriteFile(path, []byte(key+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write secret key file: %w", err)
	}
	return key, nil
}

func newService(cfg config.Config, st *store.Store, log *slog.Logger) *service.Service {
	loc, _ := time.LoadLocation(cfg.Timezone) // validated by config.Load
	opt := service.Options{
		SecretKey: []byte(cfg.SecretKey), DueWindowDays: cfg.DueWindowDays, Demo: cfg.Demo,
		BaseURL: cfg.BaseURL, Location: loc, Logger: log,
	}
	if cfg.ClamdAddr != "" {
		opt.Scanner = scan.NewClamd(cfg.ClamdAddr)
	}
	if cfg.PayBaseURL != "" {
		opt.Payments = payment.NewClient(cfg.PayBaseURL, nil)
	}
	return service.New(st, opt)
}

// startDemoPayments starts the local GOV.UK Pay stand-in for the demo, on addr (falling back to
// any free loopback port when addr is taken, as when two demo instances start together), with
// its state in a file beside a SQLite database so a restart keeps the demo's payments. It
// returns the stand-in's base URL.
func startDemoPayments(ctx context.Context, cfg config.Config, addr string, log *slog.Logger) (string, error) {
	opts := paystub.Options{Logger: log}
	var stub *paystub.Server
	if store.IsPostgresURL(cfg.DatabaseURL) {
		stub = paystub.New(opts)
	} else {
		var err error
		path := filepath.Join(filepath.Dir(strings.TrimPrefix(cfg.DatabaseURL, "file:")), "demo-payments.json")
		if stub, err = paystub.OpenFile(path, opts); err != nil {
			return "", err
		}
	}
	hs, base, err := stub.Start(addr)
	if err != nil {
		if hs, base, err = stub.Start("127.0.0.1:0"); err != nil {
			return "", err
		}
	}
	go func() { <-ctx.Done(); hs.Close() }()
	return base, nil
}

func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, st, _, err := open(ctx, "serve", args, getenv, stderr, nil)
	if err != nil {
		return err
	}
	defer st.Close()
	log := newLogger(cfg, stderr)
	if cfg.Demo && cfg.PayBaseURL == "" {
		// The demo takes fees through a local stand-in that speaks GOV.UK Pay's API.
		if cfg.PayBaseURL, err = startDemoPayments(ctx, cfg, demoPayAddr(getenv), log); err != nil {
			return fmt.Errorf("demo payments: %w", err)
		}
		log.Info("demo payment stand-in (GOV.UK Pay API)", "url", cfg.PayBaseURL)
	}
	svc := newService(cfg, st, log)
	if cfg.ClamdAddr != "" {
		log.Info("uploads are scanned for viruses by clamd", "clamd", cfg.ClamdAddr)
	} else {
		log.Warn("uploads are NOT scanned for viruses: set --clamd-addr (RENEWALS_CLAMD_ADDR) to scan them with ClamAV")
	}
	if cfg.Demo {
		if err := seedDemo(ctx, cfg, svc, st, stdout); err != nil {
			return fmt.Errorf("demo data: %w", err)
		}
	}
	srv, err := web.New(cfg, svc, st, log)
	if err != nil {
		return err
	}
	purgeDone := make(chan struct{})
	go func() { purgeLoop(ctx, svc, log); close(purgeDone) }()
	defer func() { <-purgeDone }()
	if cfg.MetricsAddr != "" {
		// Metrics on their own address, so the public listener never exposes them.
		metrics, err := srv.MetricsHandler(prometheus.NewRegistry(), st)
		if err != nil {
			return err
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", metrics)
		ms := &http.Server{Addr: cfg.MetricsAddr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
		go func() {
			if err := ms.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Error("metrics listener", "error", err.Error())
			}
		}()
		defer ms.Close()
	}
	var sender mail.Sender = mail.Log{Logger: log}
	if cfg.SMTP.Host != "" {
		sender = mail.SMTP{Host: cfg.SMTP.Host, Port: cfg.SMTP.Port, Username: cfg.SMTP.Username, Password: cfg.SMTP.Password,
			From: cfg.SMTP.From, TLS: cfg.SMTP.TLS,
			DialTimeout: cfg.SMTP.DialTimeout, CommandTimeout: cfg.SMTP.CommandTimeout, DataTimeout: cfg.SMTP.DataTimeout}
	}
	// Every background worker stops on ctx (SIGTERM) and is waited for before serve returns:
	// none holds the process up for longer than its own bounded shutdown.
	paymentsDone := make(chan struct{})
	go func() { svc.RunPaymentReconciler(ctx, 15*time.Second); close(paymentsDone) }()
	defer func() { <-paymentsDone }() // payments still open are asked about again at the next start
	outboxDone := make(chan struct{})
	go func() {
		// Attempts under way get service.OutboxShutdownGrace; what they could not finish stays queued.
		svc.RunOutbox(ctx, sender, service.OutboxOptions{Every: 5 * time.Second, Concurrency: cfg.SMTP.Concurrency})
		close(outboxDone)
	}()
	defer func() { <-outboxDone }()
	foldsDone := make(chan struct{})
	go func() { coverageFoldLoop(ctx, st, coverageFoldEvery, log); close(foldsDone) }()
	defer func() { <-foldsDone }() // deltas not folded yet are counted by reports all the same
	log.Info("listening", "url", cfg.BaseURL, "addr", cfg.Addr, "demo", cfg.Demo)
	if err := srv.Serve(ctx, cfg.Addr); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	log.Info("stopped")
	return nil
}

// purgeLoop clears expired sessions, codes and rate-limit windows every few minutes.
func purgeLoop(ctx context.Context, svc *service.Service, log *slog.Logger) {
	t := time.NewTicker(5 * time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := svc.PurgeExpired(ctx); err != nil && ctx.Err() == nil {
				log.Error("purge expired", "error", err)
			}
		}
	}
}

func seedDemo(ctx context.Context, cfg config.Config, svc *service.Service, st *store.Store, stdout io.Writer) error {
	if err := demo.PublishFirstLeaflet(ctx, svc); err != nil {
		return err
	}
	drivers, err := demo.Seed(ctx, st, svc.Today(), time.Now())
	if err != nil {
		return err
	}
	if err := demo.SubmitDemoRenewals(ctx, st, map[string]string{"watford": "WAT-31552", "hertsmere": "HER-60104"}, time.Now()); err != nil {
		return err
	}
	if err := demo.SeedStaff(ctx, svc, stdout); err != nil {
		return err
	}
	if err := demo.SetCouncilContacts(ctx, svc); err != nil {
		return err
	}
	if err := demo.SetPaymentKeys(ctx, svc); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nDemo data loaded. Sign in as a driver at %s/renew/sign-in with one of these:\n\n", cfg.BaseURL)
	tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  COUNCIL\tLICENCE NUMBER\tDATE OF BIRTH\tLICENCE")
	for _, d := range drivers {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", d.Council, d.LicenceNumber, d.DateOfBirth.Format("02/01/2006"), d.Note)
	}
	tw.Flush()
	fmt.Fprint(stdout, "\nThere is no mail server in the demo: the 6-digit code is printed in this log (\"demo sign-in code\").\n\n")
	return nil
}

func migrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := loadOnly("migrate", args, getenv, stderr)
	if err != nil {
		return err
	}
	st, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer st.Close()
	applied, err := st.Migrate(ctx)
	for _, v := range applied {
		fmt.Fprintln(stdout, "applied", v)
	}
	if err == nil && len(applied) == 0 {
		fmt.Fprintln(stdout, "database is up to date")
	}
	return err
}

func loadOnly(name string, args []string, getenv func(string) string, stderr io.Writer) (config.Config, error) {
	cfg, _, err := config.Load(name, args, getenv, stderr, nil)
	return cfg, err
}

func leafletCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "publish" && args[0] != "list") {
		return errors.New("usage: renewals leaflet publish --file F --version V [--minor] | renewals leaflet list")
	}
	sub := args[0]
	var file, version, audience string
	var minor bool
	extra := func(fs *flag.FlagSet) {
		fs.StringVar(&audience, "audience", domain.AudienceDriver, "who the leaflet is for: driver or public")
		if sub == "publish" {
			fs.StringVar(&file, "file", "", "the leaflet source file (content, then +++ quiz and its questions)")
			fs.StringVar(&version, "version", "", "the version label, e.g. 2026.1")
			fs.BoolVar(&minor, "minor", false, "a minor correction: drivers who acknowledged the previous version need not acknowledge again")
		}
	}
	cfg, st, _, err := open(ctx, "leaflet "+sub, args[1:], getenv, stderr, extra)
	if err != nil {
		return err
	}
	defer st.Close()
	svc := newService(cfg, st, slog.New(slog.DiscardHandler))
	if sub == "publish" {
		if file == "" || version == "" {
			return errors.New("leaflet publish needs --file and --version")
		}
		src, err := os.ReadFile(file)
		if err != nil {
			return err
		}
		v, err := svc.PublishLeaflet(ctx, service.PublishRequest{Source: src, Version: version, Audience: audience, Minor: minor, By: "cli:" + getenv("USER")})
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "published %s leaflet version %s (%s)\nsha256 %s\nrequires re-acknowledgement: %t\n",
			v.Audience, v.Version, v.Title, v.ContentSHA256, v.RequiresReack)
		return nil
	}
	versions, err := svc.LeafletVersions(ctx, audience)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VERSION\tPUBLISHED (UTC)\tREACK\tSHA256\tTITLE")
	for _, v := range versions {
		fmt.Fprintf(tw, "%s\t%s\t%t\t%s\t%s\n", v.Version, v.PublishedAt.Format(time.DateTime), v.RequiresReack, v.ContentSHA256[:16]+"…", v.Title)
	}
	return tw.Flush()
}

// demoPayAddr is where the demo's payment stand-in listens: RENEWALS_DEMO_PAY_ADDR, or
// localhost:8081. In a container, set it to 0.0.0.0:8081 and publish that port too.
func demoPayAddr(getenv func(string) string) string {
	if a := getenv("RENEWALS_DEMO_PAY_ADDR"); a != "" {
		return a
	}
	return "localhost:8081"
}
