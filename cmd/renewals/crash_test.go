package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3" // read the server's database file directly

	"github.com/herts-msp/taxi-renewals/internal/domain"
	"github.com/herts-msp/taxi-renewals/internal/store"
	"github.com/herts-msp/taxi-renewals/internal/testdb"
)

// The crash test: 32 clients walk drivers through the renewal journey against a real server
// process, which is killed with SIGKILL several times and restarted on the same port and
// database. Afterwards every request that was answered with success must be in the database,
// and nothing may be half-written.
const (
	crashClients      = 32
	crashDriversPer   = 32 // drivers per client: more than can be finished in crashLoadFor, so the load lasts
	crashLoadFor      = 20 * time.Second
	crashMinKills     = 3
	crashSecretKey    = "crash-test-secret-key-0123456789abcdef"
	crashRequestLimit = 10 * time.Second
)

var councilSlugs = []string{"broxbourne", "dacorum", "east-hertfordshire", "hertsmere", "north-hertfordshire",
	"st-albans", "stevenage", "three-rivers", "watford", "welwyn-hatfield"}

// crashServer is the server process, restarted after each kill on the same address and database.
type crashServer struct {
	t       *testing.T
	ctx     context.Context // ends at the test's deadline: how long a start or a stop may take
	bin     string
	dbPath  string
	addr    string
	log     *syncBuffer // every run's output, for failure messages
	cmd     *exec.Cmd
	exited  chan struct{} // closed when the running process has exited (and been reaped)
	waitErr error         // cmd.Wait's answer, once exited is closed
	starts  int
	moved   bool // the first start found its port taken and moved to another
}

func (s *crashServer) start() {
	s.t.Helper()
	s.starts++
	fmt.Fprintf(s.log, "\n===== start %d =====\n", s.starts)
	cmd := exec.Command(s.bin, "serve", "--addr", s.addr, "--database", s.dbPath, "--secret-key", crashSecretKey,
		"--trusted-proxies", "127.0.0.1/32", "--request-timeout", "10s")
	cmd.Stdout, cmd.Stderr = s.log, s.log
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("start server: %v", err)
	}
	s.cmd = cmd
	exited := make(chan struct{})
	go func() { s.waitErr = cmd.Wait(); close(exited) }() // "signal: killed" after a kill
	s.exited = exited
	if !waitReady(s.ctx, "http://"+s.addr, exited) {
		if s.starts == 1 && !s.moved && strings.Contains(s.log.String(), "address already in use") {
			// Another test took the port between freeAddr and the server's bind: the first
			// start may move to another one (the clients are not running yet).
			<-exited
			s.addr, s.moved, s.starts = freeAddr(s.t), true, 0
			s.start()
			return
		}
		s.t.Fatalf("server never became ready after start %d:\n%s", s.starts, tail(s.log.String()))
	}
}

// kill stops the server with SIGKILL: no deferred function, no graceful shutdown.
func (s *crashServer) kill() {
	s.t.Helper()
	if err := s.cmd.Process.Kill(); err != nil {
		s.t.Fatalf("kill: %v", err)
	}
	<-s.exited
	fmt.Fprintf(s.log, "\n===== killed =====\n")
}

// stop ends the server with SIGTERM and checks it exits cleanly.
func (s *crashServer) stop() error {
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return err
	}
	select {
	case <-s.exited:
		return s.waitErr
	case <-s.ctx.Done():
		_ = s.cmd.Process.Kill()
		<-s.exited
		return errors.New("server did not stop after SIGTERM (killed at the test's deadline)")
	}
}

func tail(s string) string {
	if len(s) > 4000 {
		return "…" + s[len(s)-4000:]
	}
	return s
}

// crashTally is what the clients saw, shared between them.
type crashTally struct {
	mu          sync.Mutex
	acks        map[string]bool   // licence -> acknowledgement confirm answered 303 /renew
	submits     map[string]bool   // licence -> submit answered 303 /renew/confirmation
	references  map[string]string // licence -> reference shown on the confirmation page
	connErrors  map[string]int    // kind -> count
	failures    []string          // 5xx answers, unexpected answers, lost sessions
	signIns     atomic.Int64
	sections    atomic.Int64
	requests    atomic.Int64
	restarts    atomic.Int64 // journeys restarted after a connection error
	driversDone atomic.Int64
}

func (ct *crashTally) fail(format string, args ...any) {
	ct.mu.Lock()
	defer ct.mu.Unlock()
	if len(ct.failures) < 50 {
		ct.failures = append(ct.failures, fmt.Sprintf(format, args...))
	}
}

func (ct *crashTally) connError(err error) {
	kind := "other"
	var ne net.Error
	switch {
	case errors.Is(err, errLoadOver):
		kind = "cut off at the end of the load"
	case errors.Is(err, syscall.ECONNREFUSED):
		kind = "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		kind = "connection reset"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		kind = "EOF"
	case errors.As(err, &ne) && ne.Timeout():
		kind = "timeout"
	}
	ct.mu.Lock()
	defer ct.mu.Unlock()
	if kind == "other" {
		// Not what a kill causes: worth a look, so the message is kept.
		kind = "other: " + err.Error()
	}
	ct.connErrors[kind]++
}

// errLoadOver marks a request cut off because the load period ended.
var errLoadOver = errors.New("load period over")

// crashDriver is one driver on the register, with their own browser and client address.
type crashDriver struct {
	council, licence, email, ip string
}

type crashPage struct {
	status   int
	body     string
	location string
}

// crashBrowser is a cookie-keeping client that does not follow redirects and remembers the
// CSRF token of the last page, like testenv.Browser, but returns connection errors instead of
// failing the test: they are expected while the server is down.
type crashBrowser struct {
	base   string
	ip     string
	client *http.Client
	csrf   string
	tally  *crashTally
}

var crashCSRF = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

func newCrashBrowser(base, ip string, tally *crashTally) *crashBrowser {
	jar, _ := cookiejar.New(nil)
	return &crashBrowser{base: base, ip: ip, tally: tally, client: &http.Client{
		Jar: jar, Timeout: crashRequestLimit,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

func (b *crashBrowser) do(ctx context.Context, method, path string, form url.Values) (crashPage, error) {
	var body io.Reader
	if form != nil {
		f := url.Values{}
		for k, v := range form {
			f[k] = v
		}
		f.Set("_csrf", b.csrf)
		body = strings.NewReader(f.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, b.base+path, body)
	if err != nil {
		return crashPage{}, err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	// The server trusts 127.0.0.1 as a proxy, so each driver has their own address for the
	// per-address rate limits, as drivers on their own phones would.
	req.Header.Set("X-Forwarded-For", b.ip)
	b.tally.requests.Add(1)
	resp, err := b.client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return crashPage{}, fmt.Errorf("%w: %w", errLoadOver, err)
		}
		return crashPage{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		if ctx.Err() != nil {
			return crashPage{}, fmt.Errorf("%w: %w", errLoadOver, err)
		}
		return crashPage{}, err
	}
	p := crashPage{status: resp.StatusCode, body: string(raw), location: resp.Header.Get("Location")}
	if m := crashCSRF.FindStringSubmatch(p.body); m != nil {
		b.csrf = m[1]
	}
	if p.status >= 500 {
		b.tally.fail("%s %s answered %d: %s", method, path, p.status, excerpt(p.body))
	}
	return p, nil
}

func excerpt(s string) string {
	if i := strings.Index(s, "<main"); i >= 0 {
		s = s[i:]
	}
	if len(s) > 600 {
		s = s[:600] + "…"
	}
	return s
}

// errRestart means the journey must start again from the top (the server went away, or the
// session is gone because the answer that would have set it was lost).
var errRestart = errors.New("restart the journey")

// errStop means something unexpected happened; it has been recorded as a failure.
var errStop = errors.New("stop this driver")

var crashReference = regexp.MustCompile(`TR-[0-9A-Z]{4}-[0-9A-Z]{4}`)

type crashJourney struct {
	d        crashDriver
	b        *crashBrowser
	tally    *crashTally
	codes    *testdb.DB
	quiz     url.Values
	signedIn bool // the browser holds a driver session the server confirmed with a 303
}

// expect checks an answer, turning connection errors into errRestart and anything
// unexpected into a recorded failure.
func (j *crashJourney) expect(p crashPage, err error, what string, status int, location string) error {
	if err != nil {
		j.tally.connError(err)
		return errRestart
	}
	if p.status == status && (location == "" || p.location == location) {
		return nil
	}
	if p.status == http.StatusSeeOther && p.location == "/renew/sign-in" {
		if j.signedIn {
			j.tally.fail("%s %s: session lost after a successful sign-in (redirected to sign in)", j.d.licence, what)
			return errStop
		}
		return errRestart
	}
	j.tally.fail("%s %s: got %d %s, want %d %s: %s", j.d.licence, what, p.status, p.location, status, location, excerpt(p.body))
	return errStop
}

func (j *crashJourney) latestCode(ctx context.Context) (string, error) {
	var body string
	err := j.codes.QueryRowContext(ctx, `SELECT body FROM outbox WHERE to_address = ? AND subject LIKE 'Your sign-in code%' ORDER BY id DESC LIMIT 1`, j.d.email).Scan(&body)
	if err != nil {
		return "", err
	}
	m := regexp.MustCompile(`Your code is (\d{6})`).FindStringSubmatch(body)
	if m == nil {
		return "", fmt.Errorf("no code in %q", body)
	}
	return m[1], nil
}

func (j *crashJourney) signIn(ctx context.Context) error {
	j.signedIn = false
	if err := j.expectGet(ctx, "/renew/sign-in", http.StatusOK, ""); err != nil {
		return err
	}
	form := url.Values{"council": {j.d.council}, "licence_number": {j.d.licence}, "dob-day": {"27"}, "dob-month": {"3"}, "dob-year": {"1980"}}
	p, err := j.b.do(ctx, http.MethodPost, "/renew/sign-in", form)
	if err := j.expect(p, err, "POST /renew/sign-in", http.StatusSeeOther, "/renew/code"); err != nil {
		return err
	}
	// The code and its email are committed before the 303, so the outbox holds it now.
	code, err := j.latestCode(ctx)
	if err != nil && ctx.Err() != nil {
		// The load's time ran out while the code was being read: not a lost code.
		j.tally.connError(fmt.Errorf("%w: reading the code: %w", errLoadOver, err))
		return errStop
	}
	if err != nil {
		j.tally.fail("%s: sign-in answered 303 but no code in the outbox: %v", j.d.licence, err)
		return errStop
	}
	if err := j.expectGet(ctx, "/renew/code", http.StatusOK, ""); err != nil {
		return err
	}
	p, err = j.b.do(ctx, http.MethodPost, "/renew/code", url.Values{"code": {code}})
	if err := j.expect(p, err, "POST /renew/code", http.StatusSeeOther, "/renew"); err != nil {
		return err
	}
	j.signedIn = true
	j.tally.signIns.Add(1)
	return nil
}

func (j *crashJourney) expectGet(ctx context.Context, path string, status int, location string) error {
	p, err := j.b.do(ctx, http.MethodGet, path, nil)
	return j.expect(p, err, "GET "+path, status, location)
}

var crashSections = []struct {
	path string
	form url.Values
}{
	{"/renew/contact", url.Values{"email": {"zoe.obrien@example.org"}, "phone": {"07700 900 982"}, "address_line_1": {"1 Stanborough Road"},
		"address_line_2": {""}, "town": {"Welwyn Garden City"}, "postcode": {"al8 6xf"}}},
	{"/renew/licence", url.Values{"dvla_number": {"MORGA753116SM9IJ"}, "dvla_check_code": {"Ab12Cd34"}, "term": {"3"}}},
	{"/renew/checks", url.Values{"dbs_number": {"001234567890"}, "dbs_consent": {"yes"}, "tax_check_code": {"ABC DEF 123"},
		"medical-day": {"14"}, "medical-month": {"8"}, "medical-year": {"2025"}, "right_to_work": {"uk_irish_passport"}}},
	{"/renew/declarations", url.Values{"has_offences": {"no"}, "truthful": {"yes"}}},
}

// run walks the whole journey once. Every step may be repeated safely, so after a connection
// error the journey starts again from the top.
func (j *crashJourney) run(ctx context.Context) (bool, error) {
	p, err := j.b.do(ctx, http.MethodGet, "/renew", nil)
	if err != nil {
		j.tally.connError(err)
		return false, errRestart
	}
	switch {
	case p.status == http.StatusOK:
	case p.status == http.StatusSeeOther && p.location == "/renew/status":
		return true, nil // sent already (its 303 was lost to a kill, or it is recorded)
	case p.status == http.StatusSeeOther && p.location == "/renew/sign-in":
		if j.signedIn {
			j.tally.fail("%s: session lost after a successful sign-in", j.d.licence)
			return false, errStop
		}
		if err := j.signIn(ctx); err != nil {
			return false, err
		}
		if err := j.expectGet(ctx, "/renew", http.StatusOK, ""); err != nil {
			return false, err
		}
	default:
		return false, j.expect(p, nil, "GET /renew", http.StatusOK, "")
	}
	for _, s := range crashSections {
		if err := j.expectGet(ctx, s.path, http.StatusOK, ""); err != nil {
			return false, err
		}
		p, err := j.b.do(ctx, http.MethodPost, s.path, s.form)
		if err := j.expect(p, err, "POST "+s.path, http.StatusSeeOther, ""); err != nil {
			return false, err
		}
		if p.location != "/renew" && p.location != "/renew/check-answers" {
			j.tally.fail("%s POST %s: redirected to %s", j.d.licence, s.path, p.location)
			return false, errStop
		}
		j.tally.sections.Add(1)
	}
	if err := j.expectGet(ctx, "/renew/awareness", http.StatusOK, ""); err != nil {
		return false, err
	}
	if err := j.expectGet(ctx, "/renew/awareness/check", http.StatusOK, ""); err != nil {
		return false, err
	}
	p, err = j.b.do(ctx, http.MethodPost, "/renew/awareness/check", j.quiz)
	if err := j.expect(p, err, "POST /renew/awareness/check", http.StatusSeeOther, "/renew/awareness/confirm"); err != nil {
		return false, err
	}
	if err := j.expectGet(ctx, "/renew/awareness/confirm", http.StatusOK, ""); err != nil {
		return false, err
	}
	p, err = j.b.do(ctx, http.MethodPost, "/renew/awareness/confirm", url.Values{"leaflet_id": j.quiz["leaflet_id"], "understood": {"yes"}})
	if err := j.expect(p, err, "POST /renew/awareness/confirm", http.StatusSeeOther, "/renew"); err != nil {
		return false, err
	}
	j.tally.mu.Lock()
	j.tally.acks[j.d.licence] = true
	j.tally.mu.Unlock()
	if err := j.expectGet(ctx, "/renew/check-answers", http.StatusOK, ""); err != nil {
		return false, err
	}
	p, err = j.b.do(ctx, http.MethodPost, "/renew/submit", url.Values{})
	if err := j.expect(p, err, "POST /renew/submit", http.StatusSeeOther, "/renew/confirmation"); err != nil {
		return false, err
	}
	j.tally.mu.Lock()
	j.tally.submits[j.d.licence] = true
	j.tally.mu.Unlock()
	p, err = j.b.do(ctx, http.MethodGet, "/renew/confirmation", nil)
	if err == nil && p.status == http.StatusOK {
		if ref := crashReference.FindString(p.body); ref != "" {
			j.tally.mu.Lock()
			j.tally.references[j.d.licence] = ref
			j.tally.mu.Unlock()
		}
	} else if err != nil {
		j.tally.connError(err)
	} else {
		j.tally.fail("%s GET /renew/confirmation: %d", j.d.licence, p.status)
	}
	return true, nil
}

func TestCrashSafetyUnderSIGKILL(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("crash test builds the binary and runs a server process for about 30 s: skipped with -short")
	}
	testStart := time.Now()
	ctx := waitContext(t) // every build, command and wait ends by the test's deadline
	dir := t.TempDir()
	bin := filepath.Join(dir, "renewals")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/renewals")
	build.Dir = filepath.Join("..", "..") // the module root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	built := time.Since(testStart)
	dbPath := testdb.URL(t, "renewals.db")
	cli := func(args ...string) string {
		t.Helper()
		cmd := exec.CommandContext(ctx, bin, append(args, "--database", dbPath, "--secret-key", crashSecretKey)...)
		cmd.Env = append(os.Environ(), "USER=crash-test")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("renewals %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	cli("migrate")

	// The register: drivers spread over the ten councils, every licence due within 90 days.
	today := regToday(t)
	var drivers []crashDriver
	perCouncil := map[string][]domain.Driver{}
	for i := range crashClients * crashDriversPer {
		slug := councilSlugs[i%len(councilSlugs)]
		lic := fmt.Sprintf("CR%s-%04d", strings.ToUpper(strings.ReplaceAll(slug, "-", "")[:3]), i)
		email := fmt.Sprintf("crash%04d@example.org", i)
		exp := today.AddDays(10 + i%70)
		perCouncil[slug] = append(perCouncil[slug], domain.Driver{LicenceNumber: lic, GivenNames: "Crash", FamilyName: "Test",
			DateOfBirth: domain.Date{Year: 1980, Month: 3, Day: 27}, Email: email,
			LicenceStart: exp.AddYears(-3), LicenceExpiry: exp, Status: "active"})
		drivers = append(drivers, crashDriver{council: slug, licence: lic, email: email,
			ip: fmt.Sprintf("198.%d.%d.%d", 18+i/62500, i/250%250, 1+i%250)})
	}
	for _, slug := range councilSlugs {
		var b bytes.Buffer
		if err := domain.WriteRegister(&b, perCouncil[slug]); err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(dir, slug+".csv")
		if err := os.WriteFile(file, b.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		cli("import-register", "--council", slug, file)
	}
	cli("leaflet", "publish", "--file", filepath.Join("..", "..", "db", "leaflets", "driver-v1.md"), "--version", "1.0")

	// The right answers, from the leaflet as published.
	st, err := store.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	leafletV, err := st.CurrentLeaflet(ctx, domain.AudienceDriver)
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	quiz := url.Values{"leaflet_id": {strconv.FormatInt(leafletV.ID, 10)}}
	for i, q := range leafletV.Quiz {
		quiz.Set("q"+strconv.Itoa(i+1), strconv.Itoa(q.Correct))
	}

	// A separate connection to read sign-in codes from the outbox (the server's worker marks
	// them sent, so they are read from the table whatever their state).
	codes := testdb.Raw(t, dbPath)
	codes.SetMaxOpenConns(4)

	srv := &crashServer{t: t, ctx: ctx, bin: bin, dbPath: dbPath, addr: freeAddr(t), log: &syncBuffer{}}
	srv.start()
	base := "http://" + srv.addr
	serverRunning := true
	defer func() {
		if serverRunning {
			_ = srv.cmd.Process.Kill()
			<-srv.exited
		}
	}()

	tally := &crashTally{acks: map[string]bool{}, submits: map[string]bool{}, references: map[string]string{}, connErrors: map[string]int{}}
	loadCtx, stopLoad := context.WithTimeout(ctx, crashLoadFor)
	defer stopLoad()
	queue := make(chan crashDriver, len(drivers))
	for _, d := range drivers {
		queue <- d
	}
	close(queue)
	var clients sync.WaitGroup
	for range crashClients {
		clients.Add(1)
		go func() {
			defer clients.Done()
			for d := range queue {
				if loadCtx.Err() != nil {
					return
				}
				j := &crashJourney{d: d, b: newCrashBrowser(base, d.ip, tally), tally: tally, codes: codes, quiz: quiz}
				for attempt := 0; attempt < 30 && loadCtx.Err() == nil; attempt++ {
					done, err := j.run(loadCtx)
					if done {
						tally.driversDone.Add(1)
						break
					}
					if errors.Is(err, errStop) {
						break
					}
					// The server is down (or the answer was lost): wait for it, then start again.
					tally.restarts.Add(1)
					waitReady(loadCtx, base, nil)
				}
			}
		}()
	}
	allDone := make(chan struct{})
	go func() { clients.Wait(); close(allDone) }()

	// Kill the server at random moments, restarting it each time.
	kills := 0
	var downtime time.Duration
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
killing:
	for {
		wait := 1500*time.Millisecond + time.Duration(rng.Int64N(int64(1500*time.Millisecond)))
		select {
		case <-allDone:
			break killing
		case <-loadCtx.Done():
			break killing
		case <-time.After(wait):
		}
		srv.kill()
		kills++
		down := time.Now()
		srv.start()
		downtime += time.Since(down)
	}
	<-allDone
	loadTime := time.Since(testStart) - built

	if err := srv.stop(); err != nil {
		t.Errorf("server did not stop cleanly after SIGTERM: %v\n%s", err, tail(srv.log.String()))
	}
	serverRunning = false

	// ----- what is in the database
	db := testdb.Raw(t, dbPath)
	query := func(q string, args ...any) []string {
		t.Helper()
		rows, err := db.QueryContext(ctx, q, args...)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var s sql.NullString
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			out = append(out, s.String)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return out
	}
	count := func(q string, args ...any) int {
		t.Helper()
		var n int
		if err := db.QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return n
	}

	// Every success answer is in the database.
	acked := map[string]bool{}
	for _, lic := range query(`SELECT d.licence_number FROM evidence e JOIN drivers d ON d.id = e.driver_id
		WHERE e.kind = 'acknowledgement' AND e.leaflet_id = ? AND e.channel = 'online'
		  AND NOT EXISTS (SELECT 1 FROM evidence v WHERE v.voids_id = e.id)`, leafletV.ID) {
		acked[lic] = true
	}
	submitted := map[string]string{}
	rows, err := db.QueryContext(ctx, `SELECT d.licence_number, COALESCE(r.reference, '') FROM renewals r JOIN drivers d ON d.id = r.driver_id WHERE r.status = 'submitted'`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var lic, ref string
		if err := rows.Scan(&lic, &ref); err != nil {
			t.Fatal(err)
		}
		submitted[lic] = ref
	}
	rows.Close()

	tally.mu.Lock()
	defer tally.mu.Unlock()
	ackRowsFound, submitRowsFound := 0, 0
	var lost []string
	for lic := range tally.acks {
		if acked[lic] {
			ackRowsFound++
		} else {
			lost = append(lost, lic+": acknowledgement answered 303 but no acknowledgement in the database")
		}
	}
	for lic := range tally.submits {
		ref, ok := submitted[lic]
		switch {
		case !ok:
			lost = append(lost, lic+": submit answered 303 but the renewal is not submitted in the database")
		case ref == "":
			lost = append(lost, lic+": submitted without a reference")
		case tally.references[lic] != "" && tally.references[lic] != ref:
			lost = append(lost, fmt.Sprintf("%s: confirmation page showed %s, database has %s", lic, tally.references[lic], ref))
		default:
			submitRowsFound++
		}
	}
	sort.Strings(lost)
	for _, l := range lost {
		t.Errorf("lost: %s", l)
	}

	// Nothing is half-written.
	halfWritten := map[string]string{
		"renewals sent without reference, time or acknowledgement": `SELECT COUNT(*) FROM renewals WHERE status <> 'draft'
			AND (reference IS NULL OR reference = '' OR submitted_at IS NULL OR ack_evidence_id IS NULL)`,
		"renewals whose acknowledgement is missing, voided, another driver's or not an acknowledgement": `SELECT COUNT(*) FROM renewals r
			WHERE r.status <> 'draft' AND NOT EXISTS (SELECT 1 FROM evidence e WHERE e.id = r.ack_evidence_id
				AND e.kind = 'acknowledgement' AND e.driver_id = r.driver_id
				AND NOT EXISTS (SELECT 1 FROM evidence v WHERE v.voids_id = e.id))`,
		"sent renewals without exactly one 'submitted' event": `SELECT COUNT(*) FROM renewals r WHERE r.status <> 'draft'
			AND (SELECT COUNT(*) FROM renewal_events ev WHERE ev.renewal_id = r.id AND ev.kind = 'submitted') <> 1`,
		"sent renewals without their confirmation email": `SELECT COUNT(*) FROM renewals r WHERE r.status <> 'draft'
			AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.subject LIKE '%' || r.reference)`,
		"drafts with a reference, a sending time or an acknowledgement": `SELECT COUNT(*) FROM renewals WHERE status = 'draft'
			AND (reference IS NOT NULL OR submitted_at IS NOT NULL OR ack_evidence_id IS NOT NULL)`,
		"drivers with more than one open renewal": `SELECT COUNT(*) FROM (SELECT driver_id FROM renewals
			WHERE status IN ('draft', 'submitted', 'in_review', 'more_info') GROUP BY driver_id HAVING COUNT(*) > 1) AS open_twice`,
		"acknowledgements without an issue of the same leaflet to the same driver": `SELECT COUNT(*) FROM evidence a
			WHERE a.kind = 'acknowledgement' AND NOT EXISTS (SELECT 1 FROM evidence i WHERE i.kind = 'issue'
				AND i.driver_id = a.driver_id AND i.leaflet_id = a.leaflet_id AND i.id < a.id)`,
		"online acknowledgements recorded more than once for a driver and leaflet": `SELECT COUNT(*) FROM (SELECT driver_id, leaflet_id
			FROM evidence WHERE kind = 'acknowledgement' AND channel = 'online' GROUP BY driver_id, leaflet_id HAVING COUNT(*) > 1) AS twice`,
		"online issues recorded more than once for a driver and leaflet": `SELECT COUNT(*) FROM (SELECT driver_id, leaflet_id
			FROM evidence WHERE kind = 'issue' AND channel = 'online' GROUP BY driver_id, leaflet_id HAVING COUNT(*) > 1) AS twice`,
		"evidence whose content hash is not its leaflet's": `SELECT COUNT(*) FROM evidence e JOIN leaflets l ON l.id = e.leaflet_id
			WHERE e.content_sha256 <> l.content_sha256`,
		"evidence of another council than the driver's": `SELECT COUNT(*) FROM evidence e JOIN drivers d ON d.id = e.driver_id
			WHERE e.council_id <> d.council_id`,
		"sign-in codes without their email (or emails without their code)": `SELECT ABS((SELECT COUNT(*) FROM sign_in_codes) -
			(SELECT COUNT(*) FROM outbox WHERE subject LIKE 'Your sign-in code%'))`,
	}
	names := make([]string, 0, len(halfWritten))
	for name := range halfWritten {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if n := count(halfWritten[name]); n != 0 {
			t.Errorf("half-written: %d %s", n, name)
		}
	}
	if testdb.Postgres() {
		t.Log("PostgreSQL checks foreign keys at every write and has no PRAGMA integrity_check: the file checks are SQLite's only")
	} else {
		if res := query(`PRAGMA integrity_check`); len(res) != 1 || res[0] != "ok" {
			t.Errorf("PRAGMA integrity_check: %v", res)
		}
		if res := query(`PRAGMA foreign_key_check`); len(res) != 0 {
			t.Errorf("PRAGMA foreign_key_check: %d problems", len(res))
		}
	}
	auditOut := cli("audit", "verify")

	for _, f := range tally.failures {
		t.Errorf("client saw: %s", f)
	}
	if len(tally.failures) > 0 { // what the server said about them
		for _, line := range strings.Split(srv.log.String(), "\n") {
			if strings.Contains(line, "level=ERROR") {
				t.Log("server: " + line)
			}
		}
	}
	if kills < crashMinKills {
		t.Errorf("only %d kills during the load (want at least %d): the drivers finished too soon", kills, crashMinKills)
	}
	if len(tally.submits) == 0 {
		t.Errorf("no renewal was sent during the test")
	}

	var errKinds []string
	for k, n := range tally.connErrors {
		errKinds = append(errKinds, fmt.Sprintf("%s: %d", k, n))
	}
	sort.Strings(errKinds)
	t.Logf("crash test on %s: binary built in %s; load %s; %d kills (SIGKILL), %d server starts, %s spent restarting",
		testdb.Name(), built.Round(time.Millisecond), loadTime.Round(time.Millisecond), kills, srv.starts, downtime.Round(time.Millisecond))
	t.Logf("clients: %d clients, %d drivers on the register, %d requests, %d sign-ins, %d sections saved, %d journeys restarted, %d drivers finished",
		crashClients, len(drivers), tally.requests.Load(), tally.signIns.Load(), tally.sections.Load(), tally.restarts.Load(), tally.driversDone.Load())
	t.Logf("answered success: %d acknowledgements, %d submits (%d references seen); found in the database: %d acknowledgements, %d submitted renewals",
		len(tally.acks), len(tally.submits), len(tally.references), ackRowsFound, submitRowsFound)
	integrity := "SQLite integrity and foreign-key checks ok"
	if testdb.Postgres() {
		integrity = "foreign keys checked by PostgreSQL at every write"
	}
	t.Logf("database: %d acknowledgements, %d renewals submitted, %d evidence rows; %s; %s",
		len(acked), len(submitted), count(`SELECT COUNT(*) FROM evidence`), integrity, strings.TrimSpace(auditOut))
	t.Logf("client errors (expected while the server is down): %s; 5xx and other failures: %d",
		strings.Join(errKinds, ", "), len(tally.failures))
}
