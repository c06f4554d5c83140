// Package testenv builds a real service for tests: a temp database (SQLite, or PostgreSQL, see
// package testdb), migrations, the shipped leaflet, a few drivers, and Echo behind an httptest
// server. Only the clock is fake.
package testenv

import (
	"context"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/herts-msp/taxi-renewals/db"
	"github.com/herts-msp/taxi-renewals/internal/config"
	"github.com/herts-msp/taxi-renewals/internal/domain"
	"github.com/herts-msp/taxi-renewals/internal/payment"
	"github.com/herts-msp/taxi-renewals/internal/payment/paystub"
	"github.com/herts-msp/taxi-renewals/internal/scan"
	"github.com/herts-msp/taxi-renewals/internal/service"
	"github.com/herts-msp/taxi-renewals/internal/store"
	"github.com/herts-msp/taxi-renewals/internal/testdb"
	"github.com/herts-msp/taxi-renewals/internal/web"
)

// Clock is a settable clock, safe for concurrent use.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock on.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// Env is a running service on a temp database.
type Env struct {
	Store   *store.Store
	Service *service.Service
	Web     *web.Server
	Server  *httptest.Server
	Clock   *Clock
	Config  config.Config
	// Drivers by licence number.
	Drivers map[string]domain.Driver
	// Pay is the GOV.UK Pay stand-in the service talks to over real HTTP, at PayURL. No
	// council has an account on it until EnableOnlinePayment gives it one.
	Pay    *paystub.Server
	PayURL string

	log   *slog.Logger
	clamd string
}

// Start is the fixed "now" of every test: 26 November 2026, 10:00 UTC.
var Start = time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)

// Options change the environment.
type Options struct {
	// BaseURL, when https, makes cookies Secure.
	BaseURL string
	// NoLeaflet skips publishing the first leaflet.
	NoLeaflet bool
	// ClamdAddr, when set, scans uploads with the clamd client at that address (a test's own
	// listener speaking the protocol, or a real clamd).
	ClamdAddr string
	// Log, when set, receives the server's log (text), for tests that check what is logged.
	Log io.Writer
}

// New starts an environment; everything is closed when the test ends.
func New(t testing.TB, opts Options) *Env {
	t.Helper()
	ctx := context.Background()
	path := testdb.URL(t, "renewals.db")
	st, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	clock := &Clock{now: Start}
	base := opts.BaseURL
	if base == "" {
		base = "http://127.0.0.1"
	}
	cfg, _, err := config.Load("test", []string{"--database", path, "--base-url", base, "--secret-key", "test-secret-key-of-at-least-32-characters"},
		func(string) string { return "" }, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	if os.Getenv("RENEWALS_TEST_LOG") != "" { // the server's log, when debugging a test
		log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	if opts.Log != nil {
		log = slog.New(slog.NewTextHandler(opts.Log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	env := &Env{Store: st, Clock: clock, Config: cfg, Drivers: map[string]domain.Driver{}, log: log, clamd: opts.ClamdAddr}
	env.Pay = paystub.New(paystub.Options{Clock: clock.Now})
	payServer := httptest.NewServer(env.Pay.Handler())
	t.Cleanup(payServer.Close)
	env.PayURL = payServer.URL
	env.Config.PayBaseURL = payServer.URL
	env.Service = env.newService(st)
	if !opts.NoLeaflet {
		env.PublishLeaflet(t, "1.0", false)
	}
	env.seedDrivers(t)
	env.Web, env.Server = env.startWeb(t, env.Service, st)
	return env
}

func (e *Env) newService(st *store.Store) *service.Service {
	loc, _ := time.LoadLocation("Europe/London")
	opt := service.Options{Clock: e.Clock.Now, SecretKey: []byte(e.Config.SecretKey), DueWindowDays: 90,
		BaseURL: e.Config.BaseURL, Location: loc, Logger: e.log,
		Payments: payment.NewClient(e.PayURL, &http.Client{Timeout: 5 * time.Second})}
	if e.clamd != "" {
		c := scan.NewClamd(e.clamd)
		c.DialTimeout, c.Timeout = time.Second, 2*time.Second
		opt.Scanner = c
	}
	return service.New(st, opt)
}

func (e *Env) startWeb(t testing.TB, svc *service.Service, st *store.Store) (*web.Server, *httptest.Server) {
	t.Helper()
	srv, err := web.New(e.Config, svc, st, e.log)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return srv, hs
}

// Instance is a second copy of the service on the environment's database, sharing nothing
// with the first but the database and the configuration, as two servers behind a load
// balancer would.
type Instance struct {
	Store   *store.Store
	Service *service.Service
	Server  *httptest.Server
}

// SecondInstance starts another instance of the service on the same database.
func (e *Env) SecondInstance(t testing.TB) *Instance {
	t.Helper()
	return e.InstanceAt(t, e.Config.DatabaseURL)
}

// InstanceAt starts another instance of the service on the environment's database reached by
// another URL: through a proxy, a read-only mount, or with other SQLite parameters.
func (e *Env) InstanceAt(t testing.TB, databaseURL string) *Instance {
	t.Helper()
	st, err := store.Open(context.Background(), databaseURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	svc := e.newService(st)
	_, hs := e.startWeb(t, svc, st)
	return &Instance{Store: st, Service: svc, Server: hs}
}

// PaymentKey is the test API key of a council's account on the payment stand-in.
func PaymentKey(councilSlug string) string { return "test-" + councilSlug + "-pay-api-key" }

// EnableOnlinePayment gives a council an account on the payment stand-in, so its drivers pay
// the fee online before their renewal is sent.
func (e *Env) EnableOnlinePayment(t testing.TB, councilSlug string) {
	t.Helper()
	if err := e.Service.SetCouncilPaymentKey(context.Background(), service.SystemActor("test"), councilSlug, PaymentKey(councilSlug)); err != nil {
		t.Fatal(err)
	}
}

// PublishLeaflet publishes the shipped driver leaflet under a version label.
func (e *Env) PublishLeaflet(t testing.TB, version string, minor bool) domain.LeafletVersion {
	t.Helper()
	src, err := fs.ReadFile(db.Leaflets, "leaflets/driver-v1.md")
	if err != nil {
		t.Fatal(err)
	}
	v, err := e.Service.PublishLeaflet(context.Background(), service.PublishRequest{Source: src, Version: version, Minor: minor, By: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// Test drivers: two due in different councils, one not due, one expired.
const (
	DueDacorum  = "DAC-1001"
	DueWatford  = "WAT-2002"
	NotDue      = "DAC-3003"
	Expired     = "DAC-4004"
	DriverDOB   = "1980-03-27"
	DacorumSlug = "dacorum"
)

func (e *Env) seedDrivers(t testing.TB) {
	t.Helper()
	ctx := context.Background()
	today := domain.DateOf(Start)
	dob, _ := domain.ParseISODate(DriverDOB)
	var ds []domain.Driver
	for _, p := range []struct {
		council, licence, given string
		days                    int
	}{
		{"dacorum", DueDacorum, "Zoë", 40},
		{"watford", DueWatford, "Łukasz", 20},
		{"dacorum", NotDue, "Ama", 200},
		{"dacorum", Expired, "Seán", -1},
	} {
		c, err := e.Store.CouncilBySlug(ctx, p.council)
		if err != nil {
			t.Fatal(err)
		}
		exp := today.AddDays(p.days)
		ds = append(ds, domain.Driver{CouncilID: c.ID, LicenceNumber: p.licence, GivenNames: p.given, FamilyName: "O’Brien-Test",
			DateOfBirth: dob, Email: p.licence + "@example.org", Phone: "07700900123", Postcode: "AL8 6XF",
			LicenceStart: exp.AddYears(-3), LicenceExpiry: exp, Status: "active"})
	}
	if err := e.Store.UpsertDrivers(ctx, ds, Start); err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		c, _ := e.Store.CouncilByID(ctx, d.CouncilID)
		got, err := e.Store.DriverByLicence(ctx, c.ID, d.LicenceNumber)
		if err != nil {
			t.Fatal(err)
		}
		e.Drivers[d.LicenceNumber] = got
	}
}
