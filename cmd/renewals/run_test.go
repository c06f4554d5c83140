package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"

	"github.com/herts-msp/taxi-renewals/internal/config"
	"github.com/herts-msp/taxi-renewals/internal/domain"
	"github.com/herts-msp/taxi-renewals/internal/service"
	"github.com/herts-msp/taxi-renewals/internal/store"
	"github.com/herts-msp/taxi-renewals/internal/testdb"
)

// syncBuffer is a bytes.Buffer safe to write from the server goroutine and read from the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// noEnv is an empty environment; on PostgreSQL it holds the secret key the service then requires.
// The demo's payment stand-in takes any free port rather than the well-known localhost:8081,
// which another engineer's demo or test on the same machine may hold.
func noEnv(k string) string {
	if k == "RENEWALS_DEMO_PAY_ADDR" {
		return "127.0.0.1:0"
	}
	return testSecretKeyEnv(k)
}

// testSecretKeyEnv gives RENEWALS_SECRET_KEY when the tests run against PostgreSQL, where the
// service will not make up a key file of its own.
func testSecretKeyEnv(k string) string {
	if k == "RENEWALS_SECRET_KEY" && testdb.Postgres() {
		return "test-secret-key-for-postgresql-runs-0123456789"
	}
	return ""
}

func runCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut syncBuffer
	code := run(context.Background(), args, noEnv, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestMigrateCommand(t *testing.T) {
	t.Parallel()
	dbPath := testdb.URL(t, "r.db")
	code, out, errOut := runCmd(t, "migrate", "--database", dbPath)
	if code != 0 || !strings.Contains(out, "applied 0001_init") {
		t.Fatalf("first migrate: exit %d\n%s%s", code, out, errOut)
	}
	code, out, _ = runCmd(t, "migrate", "--database", dbPath)
	if code != 0 || !strings.Contains(out, "database is up to date") {
		t.Fatalf("second migrate: exit %d\n%s", code, out)
	}
}

func TestLeafletCommands(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "r.db")
	leafletFile := filepath.Join("..", "..", "db", "leaflets", "driver-v1.md")

	code, _, errOut := runCmd(t, "leaflet", "publish", "--database", dbPath, "--file", leafletFile, "--version", "1.0", "--minor")
	if code == 0 || !strings.Contains(errOut, "first version of a leaflet cannot be a minor correction") {
		t.Fatalf("minor first version: exit %d: %s", code, errOut)
	}
	code, out, errOut := runCmd(t, "leaflet", "publish", "--database", dbPath, "--file", leafletFile, "--version", "1.0")
	if code != 0 || !strings.Contains(out, "published driver leaflet version 1.0") || !strings.Contains(out, "requires re-acknowledgement: true") {
		t.Fatalf("publish: exit %d\n%s%s", code, out, errOut)
	}
	code, _, errOut = runCmd(t, "leaflet", "publish", "--database", dbPath, "--file", leafletFile, "--version", "1.0")
	if code == 0 || !strings.Contains(errOut, "already been published") {
		t.Fatalf("duplicate: exit %d: %s", code, errOut)
	}
	code, out, _ = runCmd(t, "leaflet", "publish", "--database", dbPath, "--file", leafletFile, "--version", "1.1", "--minor")
	if code != 0 || !strings.Contains(out, "requires re-acknowledgement: false") {
		t.Fatalf("minor: exit %d\n%s", code, out)
	}
	broken := filepath.Join(dir, "broken.md")
	if err := os.WriteFile(broken, []byte("# Title\n\nText.\n\n+++ quiz\n? A question with no right answer\n- a\n- b\n> because\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errOut = runCmd(t, "leaflet", "publish", "--database", dbPath, "--file", broken, "--version", "2.0")
	if code == 0 || !strings.Contains(errOut, "line 6") {
		t.Fatalf("broken leaflet: exit %d: %s", code, errOut)
	}
	code, out, _ = runCmd(t, "leaflet", "list", "--database", dbPath)
	if code != 0 || !strings.Contains(out, "1.0") || !strings.Contains(out, "1.1") || strings.Contains(out, "2.0") {
		t.Fatalf("list: exit %d\n%s", code, out)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// serveFor runs `renewals serve` until /readyz answers 200, hands over, then stops it with a
// cancelled context (as SIGTERM does) and checks it exits cleanly. The waits end at the test's
// own deadline, not after a fixed time: on a busy machine start-up can take long.
func serveFor(t *testing.T, args []string, check func(base string, stdout string)) {
	t.Helper()
	ctx := waitContext(t)
	// The port is free when freeAddr returns but is bound again only by the server; should
	// another test take it in between, the server exits at once and starts on another one.
	for attempt := 1; ; attempt++ {
		addr := freeAddr(t)
		serveCtx, cancel := context.WithCancel(context.Background())
		var out, errOut syncBuffer
		var code int
		exited := make(chan struct{})
		go func() {
			defer close(exited)
			code = run(serveCtx, append([]string{"serve", "--addr", addr}, args...), noEnv, &out, &errOut)
		}()
		base := "http://" + addr
		if !waitReady(ctx, base, exited) {
			cancel()
			<-exited
			if attempt < 3 && strings.Contains(errOut.String(), "address already in use") {
				continue
			}
			t.Fatalf("server never became ready (exit %d):\n%s%s", code, out.String(), errOut.String())
		}
		check(base, out.String())
		cancel()
		select {
		case <-exited:
			if code != 0 {
				t.Fatalf("serve exited %d:\n%s", code, errOut.String())
			}
		case <-ctx.Done():
			t.Fatalf("serve did not stop after cancel:\n%s", errOut.String())
		}
		return
	}
}

func TestServeDemo(t *testing.T) {
	t.Parallel()
	dbPath := testdb.URL(t, "demo.db")
	serveFor(t, []string{"--demo", "--database", dbPath}, func(base, stdout string) {
		for _, want := range []string{"Demo data loaded", "Dacorum Borough Council", "DAC-20417", "14/03/1979", "demo sign-in code"} {
			if !strings.Contains(stdout, want) {
				t.Errorf("start-up output lacks %q:\n%s", want, stdout)
			}
		}
		resp, err := http.Get(base + "/leaflet")
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("leaflet: %v %v", err, resp)
		}
		resp.Body.Close()
	})
}

func TestServeWithoutDemoSeedsNothingFake(t *testing.T) {
	t.Parallel()
	dbPath := testdb.URL(t, "real.db")
	serveFor(t, []string{"--database", dbPath}, func(base, stdout string) {
		if strings.Contains(stdout, "Demo data") {
			t.Errorf("demo output without --demo:\n%s", stdout)
		}
	})
	st, err := store.Open(context.Background(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	councils, err := st.Councils(context.Background())
	if err != nil || len(councils) != 10 {
		t.Fatalf("councils: %d, %v", len(councils), err)
	}
	for _, c := range councils {
		if _, err := st.DriverByLicence(context.Background(), c.ID, "DAC-20417"); domain.ErrorCode(err) != domain.CodeNotFound {
			t.Fatalf("a demo driver exists without --demo (council %s): %v", c.Slug, err)
		}
	}
	if vs, err := st.LeafletVersions(context.Background(), domain.AudienceDriver); err != nil || len(vs) != 0 {
		t.Fatalf("leaflets published without --demo: %d, %v", len(vs), err)
	}
}

func TestUsage(t *testing.T) {
	t.Parallel()
	if code, _, errOut := runCmd(t); code != 2 || !strings.Contains(errOut, "usage: renewals") {
		t.Fatalf("no args: %d %s", code, errOut)
	}
	if code, _, errOut := runCmd(t, "frobnicate"); code != 2 || !strings.Contains(errOut, "unknown command") {
		t.Fatalf("unknown: %d %s", code, errOut)
	}
	if code, _, errOut := runCmd(t, "serve", "--due-window-days", "0", "--database", testdb.URL(t, "x.db")); code != 1 || !strings.Contains(errOut, "due-window-days") {
		t.Fatalf("bad config: %d %s", code, errOut)
	}
}

func TestCouncilCommands(t *testing.T) {
	t.Parallel()
	dbPath := testdb.URL(t, "c.db")
	code, out, _ := runCmd(t, "council", "list", "--database", dbPath)
	if code != 0 || !strings.Contains(out, "welwyn-hatfield") || !strings.Contains(out, "(not set)") {
		t.Fatalf("list: exit %d\n%s", code, out)
	}
	if code, _, errOut := runCmd(t, "council", "set-contact", "--database", dbPath, "--council", "dacorum", "--email", "not an email"); code == 0 || !strings.Contains(errOut, "email address") {
		t.Fatalf("bad email accepted: %d %s", code, errOut)
	}
	if code, _, errOut := runCmd(t, "council", "set-contact", "--database", dbPath, "--council", "nowhere", "--email", "a@b.gov.uk"); code == 0 || !strings.Contains(errOut, "no council") {
		t.Fatalf("unknown council: %d %s", code, errOut)
	}
	code, out, _ = runCmd(t, "council", "set-contact", "--database", dbPath, "--council", "dacorum", "--email", "Licensing@Dacorum.GOV.UK")
	if code != 0 || !strings.Contains(out, "Dacorum Borough Council: reports go to Licensing@dacorum.gov.uk") {
		t.Fatalf("set-contact: exit %d\n%s", code, out)
	}
	if code, out, _ := runCmd(t, "audit", "verify", "--database", dbPath); code != 0 || !strings.Contains(out, "1 entries checked") {
		t.Fatalf("audit after set-contact: %d %s", code, out)
	}
}

func TestMetricsOnTheirOwnAddress(t *testing.T) {
	t.Parallel()
	metricsAddr := freeAddr(t)
	dbPath := testdb.URL(t, "m.db")
	serveFor(t, []string{"--demo", "--database", dbPath, "--metrics-addr", metricsAddr}, func(base, _ string) {
		for range 3 {
			if resp, err := http.Get(base + "/leaflet"); err == nil {
				resp.Body.Close()
			}
		}
		if resp, err := http.Get(base + "/metrics"); err == nil {
			resp.Body.Close()
			if resp.StatusCode != http.StatusNotFound {
				t.Errorf("/metrics on the public address answered %d", resp.StatusCode)
			}
		}
		// A request is counted just after its answer is written, so poll briefly for the third.
		var text string
		for deadline := waitDeadline(t); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			resp, err := http.Get("http://" + metricsAddr + "/metrics")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if text = string(body); strings.Contains(text, `route="/leaflet",status="2xx"} 3`) {
				break
			}
		}
		for _, want := range []string{
			`renewals_http_requests_total{method="GET",route="/leaflet",status="2xx"} 3`,
			`renewals_http_request_duration_seconds_count{method="GET",route="/leaflet",status="2xx"} 3`,
			"renewals_renewals_submitted 2", // the demo's two sent renewals
			"renewals_outbox_waiting ", "renewals_db_open_connections ", "# TYPE renewals_http_request_duration_seconds histogram",
			"# TYPE renewals_db_waits_total counter", "go_goroutines ", "process_resident_memory_bytes ",
		} {
			if !strings.Contains(text, want) {
				t.Errorf("metrics lack %q:\n%s", want, text)
			}
		}
		if strings.Contains(text, "renewals_db_wait_count") {
			t.Errorf("the old name renewals_db_wait_count (a gauge named like a histogram's count) is still served")
		}
		// promlint is Prometheus' own check of names, types, units and help texts.
		problems, err := promlint.New(strings.NewReader(text)).Lint()
		if err != nil {
			t.Fatalf("promlint could not read /metrics: %v", err)
		}
		for _, p := range problems {
			t.Errorf("promlint: %s: %s", p.Metric, p.Text)
		}
	})
}

// TestPostgresNeedsASharedSecretKey: with PostgreSQL (several instances) the service will not
// make up a key file of its own, which the other instances could not read.
func TestPostgresNeedsASharedSecretKey(t *testing.T) {
	t.Parallel()
	_, err := secretKey(config.Config{DatabaseURL: "postgres://renewals@db.example/renewals"})
	if err == nil || !strings.Contains(err.Error(), "RENEWALS_SECRET_KEY") {
		t.Fatalf("no key with PostgreSQL: %v", err)
	}
	key, err := secretKey(config.Config{DatabaseURL: "postgres://renewals@db.example/renewals", SecretKey: strings.Repeat("k", 32)})
	if err != nil || key != strings.Repeat("k", 32) {
		t.Fatalf("configured key: %q %v", key, err)
	}
}

// TestDemoSeedsTogether: two instances started with --demo at the same moment on one new
// database (PostgreSQL when RENEWALS_TEST_POSTGRES_URL is set) both start; the demo data is
// there once. Rounds, because the race is in the timing.
func TestDemoSeedsTogether(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for round := range 2 {
		url := testdb.URL(t, fmt.Sprintf("demo%d.db", round))
		cfg := config.Config{BaseURL: "http://127.0.0.1", Timezone: "Europe/London", DueWindowDays: 90}
		var instances [2]struct {
			st  *store.Store
			svc *service.Service
		}
		for i := range instances {
			st, err := store.Open(ctx, url)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			if _, err := st.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			instances[i].st = st
			instances[i].svc = service.New(st, service.Options{SecretKey: []byte(strings.Repeat("k", 32)), DueWindowDays: 90})
		}
		var wg sync.WaitGroup
		errs := make([]error, len(instances))
		for i, in := range instances {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = seedDemo(ctx, cfg, in.svc, in.st, io.Discard)
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d: instance %d could not seed the demo: %v", round, i, err)
			}
		}
		var leaflets, staff, submitted int
		err := instances[0].st.ReadQuery(ctx, `SELECT (SELECT COUNT(*) FROM leaflets), (SELECT COUNT(*) FROM staff_users),
			(SELECT COUNT(*) FROM renewals WHERE status = 'submitted')`, nil, func(scan func(...any) error) error {
			return scan(&leaflets, &staff, &submitted)
		})
		if err != nil {
			t.Fatal(err)
		}
		if leaflets != 1 || staff != 12 || submitted != 2 {
			t.Fatalf("round %d: %d leaflets, %d staff, %d sent renewals; want 1, 12, 2", round, leaflets, staff, submitted)
		}
	}
}
