package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"mime/multipart"
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
	"github.com/herts-msp/taxi-renewals/internal/payment"
	"github.com/herts-msp/taxi-renewals/internal/payment/paystub"
	"github.com/herts-msp/taxi-renewals/internal/service"
	"github.com/herts-msp/taxi-renewals/internal/store"
	"github.com/herts-msp/taxi-renewals/internal/testdb"
	"github.com/herts-msp/taxi-renewals/internal/testenv"
)

// The crash test: 32 clients walk drivers through the renewal journey against a real server
// process, which is killed with SIGKILL several times and restarted on the same port and
// database. Afterwards every request that was answered with success must be in the database,
// and nothing may be half-written. Every driver uploads a photo (multipart, streamed into the
// database in chunks), so kills also land in the middle of uploads: every sent renewal must have
// each of its required documents, whole.
//
// Six of the ten councils take the fee online, through the GOV.UK Pay stand-in running in this
// test process (so it outlives every kill of the server). Their drivers pay, and then come back
// at once, never come back (the tab closed), or come back only after the next kill and restart;
// some decline or cancel instead. After the load the server is stopped and its payment
// reconciler is run here against the same database (a fake clock stepping past every backoff),
// and then DESIGN rule 8 is checked for every payment the stand-in reports as taken.
const (
	crashClients    = 32
	crashDriversPer = 32 // drivers per client: more than can be finished in crashLoadFor, so the load lasts
	crashLoadFor    = 20 * time.Second
	crashMinKills   = 3
	// crashMinFinished is how many drivers must finish (sent, or paid and left) before the load
	// may end; crashProgressPerKill is how many requests the clients must have answered between
	// two kills (about five each).
	crashMinFinished     = 10
	crashProgressPerKill = 5 * crashClients
	crashSecretKey       = "crash-test-secret-key-0123456789abcdef"
	crashRequestLimit    = 10 * time.Second
)

var councilSlugs = []string{"broxbourne", "dacorum", "east-hertfordshire", "hertsmere", "north-hertfordshire",
	"st-albans", "stevenage", "three-rivers", "watford", "welwyn-hatfield"}

// crashPayCouncils is how many councils (the first of councilSlugs) take the fee online.
const crashPayCouncils = 6

// crashPayKey is a council's API key on the payment stand-in.
func crashPayKey(slug string) string { return "crash-" + slug + "-pay-api-key" }

// payMode is what a driver of a council taking the fee online does on the provider's page.
type payMode int

const (
	payNone       payMode = iota // the council does not take the fee online: "Accept and send"
	payReturn                    // pays, and comes back at once
	payClosed                    // pays, and never comes back (the tab closed)
	payLate                      // pays, and comes back only after the next kill and restart
	payDecline                   // the card is declined; comes back at once
	payCancelLate                // cancels, and comes back only after the next kill and restart
)

// payModes is the round the drivers of a council taking the fee online are given, in turn.
var payModes = []payMode{payReturn, payLate, payClosed, payLate, payDecline, payReturn, payClosed, payLate, payCancelLate}

func (m payMode) outcome() string {
	switch m {
	case payDecline:
		return paystub.OutcomeDecline
	case payCancelLate:
		return paystub.OutcomeCancel
	}
	return paystub.OutcomePay
}

func (m payMode) late() bool { return m == payLate || m == payCancelLate }

// crashServer is the server process, restarted after each kill on the same address and database.
type crashServer struct {
	t       *testing.T
	ctx     context.Context // ends at the test's deadline: how long a start or a stop may take
	bin     string
	dbPath  string
	addr    string
	log     *syncBuffer // every run's output, for failure messages
	env     []string    // added to the environment of every run
	cmd     *exec.Cmd
	exited  chan struct{} // closed when the running process has exited (and been reaped)
	waitErr error         // cmd.Wait's answer, once exited is closed
	starts  int
	moved   bool // the first start found its port taken and moved to another
	// kills counts the kills so far; a client reads it to tell whether the server was killed
	// between two moments. It goes up once the killed process is gone.
	kills atomic.Int64
}

func (s *crashServer) start() {
	s.t.Helper()
	s.starts++
	fmt.Fprintf(s.log, "\n===== start %d =====\n", s.starts)
	cmd := exec.Command(s.bin, "serve", "--addr", s.addr, "--database", s.dbPath, "--secret-key", crashSecretKey,
		"--trusted-proxies", "127.0.0.1/32", "--request-timeout", "10s")
	cmd.Env = append(os.Environ(), s.env...)
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
	s.kills.Add(1)
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
	uploads     map[string]bool // licence -> a photo upload answered 303 /renew/documents
	uploaded    atomic.Int64    // photo uploads answered 303
	requests    atomic.Int64
	restarts    atomic.Int64 // journeys restarted after a connection error
	driversDone atomic.Int64

	payments   map[string]*crashPayment // provider payment id -> what its driver did
	endReturns []*crashPayment          // returns still to make once the load is over
	declined   map[string]string        // licence -> payment id, "Payment not taken" shown after the return
	// payStuck counts POST /renew/pay answered "being set up in another window": the server was
	// killed between recording the payment and the provider's answer.
	payStuck atomic.Int64
	// paidAtProvider and unpaidAtProvider count the payments completed at the provider, taken
	// and not taken: the load goes on until it has some of each.
	paidAtProvider, unpaidAtProvider atomic.Int64
	// paidThenKilled counts drivers who paid and saw the server killed before they came back:
	// the load goes on until it has one (the case rule 8 is most about).
	paidThenKilled atomic.Int64
}

// crashPayment is one payment taken (or not) at the provider by a driver of the crash test.
type crashPayment struct {
	id, licence, council string
	mode                 payMode
	returnPath           string
	j                    *crashJourney
	completedGen         int64     // the server's kill count once the provider had the outcome
	returned             bool      // the return answered with its redirect
	returnGen            int64     // the kill count when that answered return was sent
	firstReturnAt        time.Time // the first try at the return (its answer may have been lost)
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
	pay                         payMode
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
	if form == nil {
		return b.send(ctx, method, path, "", nil)
	}
	f := url.Values{}
	for k, v := range form {
		f[k] = v
	}
	f.Set("_csrf", b.csrf)
	return b.send(ctx, method, path, "application/x-www-form-urlencoded", strings.NewReader(f.Encode()))
}

// send is do with a body of any type (none if body is nil).
func (b *crashBrowser) send(ctx context.Context, method, path, contentType string, body io.Reader) (crashPage, error) {
	req, err := http.NewRequestWithContext(ctx, method, b.base+path, body)
	if err != nil {
		return crashPage{}, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
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

// upload sends a file as a phone's browser sends a file input: a multipart form with the CSRF
// field first (the service reads the stream in order and checks the token before the file).
func (b *crashBrowser) upload(ctx context.Context, path, fileName string, content []byte) (crashPage, error) {
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	_ = w.WriteField("_csrf", b.csrf)
	part, _ := w.CreateFormFile("file", fileName)
	_, _ = part.Write(content)
	_ = w.Close()
	return b.send(ctx, http.MethodPost, path, w.FormDataContentType(), &body)
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
	photo    []byte // a valid JPEG, shared by every driver (never changed)
	signedIn bool   // the browser holds a driver session the server confirmed with a 303
	srv      *crashServer
	stub     *paystub.Server
	stubURL  string
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
	{"/renew/checks", url.Values{"dbs_update_service": {"yes"}, "dbs_number": {"001234567890"}, "dbs_consent": {"yes"}, "tax_check_code": {"ABC DEF 123"},
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
	// The photo, every time the journey passes here: after a kill the upload is made again and
	// replaces the one that may have been stored.
	if err := j.expectGet(ctx, "/renew/documents", http.StatusOK, ""); err != nil {
		return false, err
	}
	p, err = j.b.upload(ctx, "/renew/documents/upload/photo", "photo.jpg", j.photo)
	if err := j.expect(p, err, "POST /renew/documents/upload/photo", http.StatusSeeOther, "/renew/documents#document-photo"); err != nil {
		return false, err
	}
	j.tally.uploaded.Add(1)
	j.tally.mu.Lock()
	j.tally.uploads[j.d.licence] = true
	j.tally.mu.Unlock()
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
	if j.d.pay != payNone {
		return j.payAndSend(ctx)
	}
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
	j.readConfirmation(ctx)
	return true, nil
}

// readConfirmation notes the reference the confirmation page shows.
func (j *crashJourney) readConfirmation(ctx context.Context) {
	p, err := j.b.do(ctx, http.MethodGet, "/renew/confirmation", nil)
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
}

var crashAmount = regexp.MustCompile(`name="amount_pence" value="(\d+)"`)

// payAndSend is "Pay £N and send": to the provider, the outcome set there as if the driver had
// pressed its button, then back (or not) as the driver's mode says. Once the provider has the
// outcome the journey never starts again: only the return is retried.
func (j *crashJourney) payAndSend(ctx context.Context) (bool, error) {
	p, err := j.b.do(ctx, http.MethodGet, "/renew/check-answers", nil)
	if err := j.expect(p, err, "GET /renew/check-answers", http.StatusOK, ""); err != nil {
		return false, err
	}
	m := crashAmount.FindStringSubmatch(p.body)
	if m == nil {
		j.tally.fail("%s: check your answers offers no payment: %s", j.d.licence, excerpt(p.body))
		return false, errStop
	}
	p, err = j.b.do(ctx, http.MethodPost, "/renew/pay", url.Values{"amount_pence": {m[1]}})
	if err == nil && p.status == http.StatusConflict && strings.Contains(p.body, "being set up in another window") {
		// The server died between recording the payment and the provider's answer; the
		// reconciler closes that one after 2 minutes, longer than the load lasts.
		j.tally.payStuck.Add(1)
		return false, errStop
	}
	if err := j.expect(p, err, "POST /renew/pay", http.StatusSeeOther, ""); err != nil {
		return false, err
	}
	id, ok := strings.CutPrefix(p.location, j.stubURL+"/pay/")
	if !ok {
		j.tally.fail("%s POST /renew/pay: sent to %q, not the provider's pay page", j.d.licence, p.location)
		return false, errStop
	}
	rec, ok := j.stub.Payment(id)
	if !ok {
		j.tally.fail("%s POST /renew/pay: sent to %s, which the provider does not know", j.d.licence, id)
		return false, errStop
	}
	ret, err := url.Parse(rec.ReturnURL)
	if err != nil {
		j.tally.fail("%s: provider payment %s has return URL %q: %v", j.d.licence, id, rec.ReturnURL, err)
		return false, errStop
	}
	if err := j.stub.Complete(id, j.d.pay.outcome()); err != nil {
		j.tally.fail("%s: completing provider payment %s: %v", j.d.licence, id, err)
		return false, errStop
	}
	if j.d.pay.outcome() == paystub.OutcomePay {
		j.tally.paidAtProvider.Add(1)
	} else {
		j.tally.unpaidAtProvider.Add(1)
	}
	cp := &crashPayment{id: id, licence: j.d.licence, council: j.d.council, mode: j.d.pay, returnPath: ret.RequestURI(),
		j: j, completedGen: j.srv.kills.Load()}
	j.tally.mu.Lock()
	j.tally.payments[id] = cp
	j.tally.mu.Unlock()
	switch {
	case j.d.pay == payClosed:
		return true, nil
	case j.d.pay.late():
		for j.srv.kills.Load() == cp.completedGen && ctx.Err() == nil {
			time.Sleep(50 * time.Millisecond)
		}
		if ctx.Err() == nil && j.d.pay.outcome() == paystub.OutcomePay {
			j.tally.paidThenKilled.Add(1)
		}
		if ctx.Err() == nil {
			wctx, cancel := context.WithTimeout(ctx, 15*time.Second)
			waitReady(wctx, j.b.base, nil)
			cancel()
		}
	}
	if !j.comeBack(ctx, cp) {
		j.tally.mu.Lock()
		j.tally.endReturns = append(j.tally.endReturns, cp)
		j.tally.mu.Unlock()
	}
	return true, nil
}

// comeBack follows the provider's return URL with the driver's browser, retrying while the
// server is down. It is false when ctx ended first, so the return is still to be made.
func (j *crashJourney) comeBack(ctx context.Context, cp *crashPayment) bool {
	paid := cp.mode.outcome() == paystub.OutcomePay
	want := "/renew/check-answers"
	if paid {
		want = "/renew/confirmation"
	}
	for attempt := 0; attempt < 30; attempt++ {
		if ctx.Err() != nil {
			return false
		}
		gen := j.srv.kills.Load()
		j.tally.mu.Lock()
		if cp.firstReturnAt.IsZero() {
			cp.firstReturnAt = time.Now()
		}
		j.tally.mu.Unlock()
		p, err := j.b.do(ctx, http.MethodGet, cp.returnPath, nil)
		if err != nil {
			j.tally.connError(err)
			if ctx.Err() != nil {
				return false
			}
			j.tally.restarts.Add(1)
			wctx, cancel := context.WithTimeout(ctx, 15*time.Second)
			waitReady(wctx, j.b.base, nil)
			cancel()
			continue
		}
		if p.status != http.StatusSeeOther || p.location != want {
			j.tally.fail("%s return from payment %s (%s): got %d %s, want 303 %s: %s", j.d.licence, cp.id, cp.mode.outcome(), p.status, p.location, want, excerpt(p.body))
			return true
		}
		j.tally.mu.Lock()
		cp.returned, cp.returnGen = true, gen
		if paid {
			j.tally.submits[j.d.licence] = true
		}
		j.tally.mu.Unlock()
		if paid {
			j.readConfirmation(ctx)
			return true
		}
		p, err = j.b.do(ctx, http.MethodGet, "/renew/check-answers", nil)
		switch {
		case err != nil:
			j.tally.connError(err)
		case p.status != http.StatusOK || !strings.Contains(p.body, "Payment not taken"):
			j.tally.fail("%s GET /renew/check-answers after payment %s (%s): %d without \"Payment not taken\": %s", j.d.licence, cp.id, cp.mode.outcome(), p.status, excerpt(p.body))
		default:
			j.tally.mu.Lock()
			j.tally.declined[j.d.licence] = cp.id
			j.tally.mu.Unlock()
		}
		return true
	}
	j.tally.fail("%s: gave up returning from payment %s after 30 tries", j.d.licence, cp.id)
	return true
}

// crashCheckDocument checks that document id is renewalID's document of kind k, uploaded or
// accepted, and whole: its chunks numbered from 0 with none missing, adding up to its size and
// hashing to its SHA-256. It returns what is wrong, or "".
func crashCheckDocument(ctx context.Context, t *testing.T, db *testdb.DB, renewalID int64, k domain.DocumentKind, id int64) string {
	t.Helper()
	var docRenewal, size int64
	var kind, status, sum string
	err := db.QueryRowContext(ctx, `SELECT renewal_id, kind, status, size_bytes, sha256 FROM documents WHERE id = ?`, id).
		Scan(&docRenewal, &kind, &status, &size, &sum)
	if errors.Is(err, sql.ErrNoRows) {
		return "not in the documents table"
	}
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case docRenewal != renewalID:
		return fmt.Sprintf("belongs to renewal %d", docRenewal)
	case kind != string(k):
		return "is a " + kind
	case status != string(domain.DocumentUploaded) && status != string(domain.DocumentAccepted):
		return "has status " + status
	}
	rows, err := db.QueryContext(ctx, `SELECT seq, data FROM document_chunks WHERE document_id = ? ORDER BY seq`, id)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	h := sha256.New()
	var n int64
	next := 0
	for rows.Next() {
		var seq int
		var data []byte
		if err := rows.Scan(&seq, &data); err != nil {
			t.Fatal(err)
		}
		if seq != next {
			return fmt.Sprintf("chunk %d is missing", next)
		}
		next++
		n += int64(len(data))
		h.Write(data)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if n != size {
		return fmt.Sprintf("its %d chunks hold %d bytes; size_bytes is %d", next, n, size)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != sum {
		return fmt.Sprintf("its content hashes to %s; sha256 is %s", got, sum)
	}
	return ""
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
		d := crashDriver{council: slug, licence: lic, email: email,
			ip: fmt.Sprintf("198.%d.%d.%d", 18+i/62500, i/250%250, 1+i%250)}
		if i%len(councilSlugs) < crashPayCouncils {
			// Every mode early on, whatever the machine manages: 9 modes against 10 councils cycle
			// through every council and mode, rather than one mode per round of councils.
			d.pay = payModes[i%len(payModes)]
		}
		drivers = append(drivers, d)
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

	// The GOV.UK Pay stand-in runs here, so it survives every kill of the server, and the
	// councils that take the fee online get their accounts' API keys (sealed with the server's
	// secret key, as `serve` will open them).
	stub := paystub.New(paystub.Options{})
	stubServer, stubURL, err := stub.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer stubServer.Close()
	st, err := store.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	keys := service.New(st, service.Options{SecretKey: []byte(crashSecretKey)})
	payCouncils := map[string]bool{}
	for _, slug := range councilSlugs[:crashPayCouncils] {
		if err := keys.SetCouncilPaymentKey(ctx, service.SystemActor("cli:crash-test"), slug, crashPayKey(slug)); err != nil {
			t.Fatal(err)
		}
		payCouncils[slug] = true
	}

	// The right answers, from the leaflet as published.
	leafletV, err := st.CurrentLeaflet(ctx, domain.AudienceDriver)
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	quiz := url.Values{"leaflet_id": {strconv.FormatInt(leafletV.ID, 10)}}
	for i, q := range leafletV.Quiz {
		quiz.Set("q"+strconv.Itoa(i+1), strconv.Itoa(q.Correct))
	}
	photo := testenv.PhotoJPEG(t)

	// A separate connection to read sign-in codes from the outbox (the server's worker marks
	// them sent, so they are read from the table whatever their state).
	codes := testdb.Raw(t, dbPath)
	codes.SetMaxOpenConns(4)

	// Build the coverage summaries before the load, so every write during it keeps them up in
	// its own transaction (a database whose summaries were never built leaves that to its first
	// report); `coverage verify` at the end compares them with a fresh build.
	cli("coverage", "rebuild")
	srv := &crashServer{t: t, ctx: ctx, bin: bin, dbPath: dbPath, addr: freeAddr(t), log: &syncBuffer{},
		env: []string{"RENEWALS_PAY_BASE_URL=" + stubURL}}
	srv.start()
	base := "http://" + srv.addr
	serverRunning := true
	defer func() {
		if serverRunning {
			_ = srv.cmd.Process.Kill()
			<-srv.exited
		}
	}()

	tally := &crashTally{acks: map[string]bool{}, submits: map[string]bool{}, references: map[string]string{}, connErrors: map[string]int{},
		payments: map[string]*crashPayment{}, declined: map[string]string{}, uploads: map[string]bool{}}
	// The load lasts crashLoadFor, and on a slow machine longer: until it has seen enough kills
	// and drivers who finished to test something (or the test's own time runs short).
	loadCtx, stopLoad := context.WithCancel(ctx)
	defer stopLoad()
	go func() {
		defer stopLoad()
		enough := time.NewTimer(crashLoadFor)
		defer enough.Stop()
		select {
		case <-loadCtx.Done():
			return
		case <-enough.C:
		}
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for srv.kills.Load() < crashMinKills || tally.driversDone.Load() < crashMinFinished ||
			tally.paidAtProvider.Load() < 3 || tally.unpaidAtProvider.Load() < 1 || tally.paidThenKilled.Load() < 1 {
			select {
			case <-loadCtx.Done():
				return
			case <-tick.C:
			}
		}
	}()
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
				j := &crashJourney{d: d, b: newCrashBrowser(base, d.ip, tally), tally: tally, codes: codes, quiz: quiz, photo: photo,
					srv: srv, stub: stub, stubURL: stubURL}
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
		progressAt := tally.requests.Load()
		select {
		case <-allDone:
			break killing
		case <-loadCtx.Done():
			break killing
		case <-time.After(wait):
		}
		// On a busy machine the clients get less done in the same time: let them answer a few
		// requests each between kills, or no journey would ever finish.
		for tally.requests.Load()-progressAt < crashProgressPerKill {
			select {
			case <-allDone:
				break killing
			case <-loadCtx.Done():
				break killing
			case <-time.After(50 * time.Millisecond):
			}
		}
		srv.kill()
		kills++
		down := time.Now()
		srv.start()
		downtime += time.Since(down)
	}
	<-allDone
	loadTime := time.Since(testStart) - built

	// The drivers still to come back from the provider (their load ended first) do so now,
	// against the server as it is after the last restart.
	var late sync.WaitGroup
	endReturns := len(tally.endReturns)
	for _, cp := range tally.endReturns {
		late.Add(1)
		go func() {
			defer late.Done()
			if !cp.j.comeBack(ctx, cp) {
				tally.fail("%s: no return from payment %s before the test's time ran out", cp.licence, cp.id)
			}
		}()
	}
	late.Wait()
	finalKills := srv.kills.Load()

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

	// ----- payments: the reconciler, as serve runs it, on the database the kills left
	st, err = store.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	stubPayments := stub.Payments()
	// Which taken payments the server had finished itself, and when, before the reconciler here.
	finishedByServer := map[string]time.Time{}
	for _, rec := range stubPayments {
		if rec.Status != payment.StatusSuccess {
			continue
		}
		ids := query(`SELECT id FROM payments WHERE provider_id = ?`, rec.ID)
		if len(ids) != 1 {
			continue // reported below
		}
		id, _ := strconv.ParseInt(ids[0], 10, 64)
		p, err := st.PaymentByID(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if p.Status == domain.PaymentSuccess {
			finishedByServer[rec.ID] = p.FinishedAt
		}
	}
	leftCreating := count(`SELECT COUNT(*) FROM payments WHERE status = 'creating'`)
	openBefore := count(`SELECT COUNT(*) FROM payments WHERE method = 'online' AND finished_at IS NULL`)
	// The server polls a payment 30 s after it was created, then after 60 s, 120 s... up to an
	// hour, and closes one stuck being set up after 2 minutes: a fake clock steps past each
	// backoff in turn, and each step runs the reconciler until nothing more is due.
	clock := time.Now()
	recon := service.New(st, service.Options{Clock: func() time.Time { return clock }, SecretKey: []byte(crashSecretKey),
		BaseURL: base, Payments: payment.NewClient(stubURL, nil)})
	reconCalls, reconChecks := 0, 0
	for step := range 9 {
		clock = clock.Add(domain.PaymentBackoff(step) + time.Second)
		for {
			n, err := recon.ReconcilePayments(ctx)
			reconCalls++
			if err != nil {
				t.Fatalf("reconcile payments: %v", err)
			}
			reconChecks += n
			if n == 0 || reconCalls > 500 {
				break
			}
		}
	}

	// DESIGN rule 8, for every payment the provider holds.
	type dbPayment struct {
		renewalID                                 int64
		status, council, renewalStatus, reference string
		answers                                   string
		amount                                    int64
		refunds                                   int
	}
	dbPayments := map[string]dbPayment{}
	prows, err := db.QueryContext(ctx, `SELECT p.provider_id, p.renewal_id, p.status, c.slug, r.status, COALESCE(r.reference, ''), r.answers_json,
			p.amount_pence, (SELECT COUNT(*) FROM refunds f WHERE f.payment_id = p.id)
		FROM payments p JOIN renewals r ON r.id = p.renewal_id JOIN councils c ON c.id = p.council_id
		WHERE p.method = 'online' AND p.provider_id IS NOT NULL`)
	if err != nil {
		t.Fatal(err)
	}
	for prows.Next() {
		var id string
		var dp dbPayment
		if err := prows.Scan(&id, &dp.renewalID, &dp.status, &dp.council, &dp.renewalStatus, &dp.reference, &dp.answers, &dp.amount, &dp.refunds); err != nil {
			t.Fatal(err)
		}
		dbPayments[id] = dp
	}
	if err := prows.Err(); err != nil {
		t.Fatal(err)
	}
	prows.Close()
	var violations []string
	violation := func(format string, args ...any) { violations = append(violations, fmt.Sprintf(format, args...)) }
	paidRenewals := map[int64]bool{} // renewals with a payment the provider reports as taken
	var taken, takenReturned, takenClosed, takenLate, unpaid, stillOpen, neverAttached int
	var killedBetween, killedBetweenReturned, byReturn, byServer, byReconciler int
	for _, rec := range stubPayments {
		dp, ok := dbPayments[rec.ID]
		if !ok {
			// Created at the provider, but the server was killed before it recorded the id: the
			// driver never saw its pay page, so no money can have been taken.
			if rec.Status == payment.StatusSuccess {
				violation("provider payment %s was taken but the service has no record of it", rec.ID)
			}
			neverAttached++
			continue
		}
		if rec.Account != paystub.AccountLabel(crashPayKey(dp.council)) {
			violation("provider payment %s is in another account than %s's", rec.ID, dp.council)
		}
		if rec.Amount != dp.amount || rec.Reference != dp.reference {
			violation("provider payment %s is %d for %q; the service has %d for %q", rec.ID, rec.Amount, rec.Reference, dp.amount, dp.reference)
		}
		cp := tally.payments[rec.ID]
		if cp != nil && (cp.mode.outcome() == paystub.OutcomePay) != (rec.Status == payment.StatusSuccess) {
			violation("provider payment %s: the driver chose %s, the provider says %s", rec.ID, cp.mode.outcome(), rec.Status)
		}
		switch {
		case rec.Status == payment.StatusSuccess:
			taken++
			paidRenewals[dp.renewalID] = true
			if dp.status != string(domain.PaymentSuccess) {
				violation("provider payment %s was taken; the service records it as %s", rec.ID, dp.status)
			}
			if dp.renewalStatus == string(domain.StatusDraft) && dp.refunds == 0 {
				violation("provider payment %s was taken, but renewal %s is still a draft and no refund is recorded", rec.ID, dp.reference)
			}
			if cp == nil {
				continue
			}
			switch {
			case cp.mode == payClosed:
				takenClosed++
			case cp.returnGen > cp.completedGen:
				takenLate++
			default:
				takenReturned++
			}
			if (cp.returned && cp.returnGen > cp.completedGen) || (!cp.returned && finalKills > cp.completedGen) {
				killedBetween++
				if cp.returned {
					killedBetweenReturned++
				}
			}
			at, done := finishedByServer[rec.ID]
			switch {
			case !done:
				if dp.status == string(domain.PaymentSuccess) {
					byReconciler++
				}
			case cp.returned && !at.Before(cp.firstReturnAt):
				byReturn++
			default:
				byServer++
			}
		case rec.Finished:
			unpaid++
			if ps := domain.PaymentStatus(dp.status); ps == domain.PaymentSuccess || !ps.Finished() {
				violation("provider payment %s finished unpaid (%s); the service records it as %s", rec.ID, rec.Status, dp.status)
			}
			var a domain.Answers
			if err := json.Unmarshal([]byte(dp.answers), &a); err != nil || len(a.MissingSections()) > 0 || a.Licence.DVLANumber != "MORGA753116SM9IJ" {
				violation("provider payment %s not taken: its renewal's answers are not intact (%v): %s", rec.ID, err, dp.answers)
			}
			if dp.renewalStatus != string(domain.StatusDraft) {
				violation("provider payment %s not taken, but renewal %s is %s", rec.ID, dp.reference, dp.renewalStatus)
			}
		default:
			stillOpen++ // the driver never reached the pay page (its answer was lost to a kill, or the load ended)
			if domain.PaymentStatus(dp.status).Finished() || dp.renewalStatus != string(domain.StatusDraft) {
				violation("provider payment %s is still open; the service has it %s and renewal %s %s", rec.ID, dp.status, dp.reference, dp.renewalStatus)
			}
		}
	}
	for lic, id := range tally.declined {
		if dp, ok := dbPayments[id]; !ok || dp.renewalStatus != string(domain.StatusDraft) {
			violation("%s saw \"Payment not taken\" for %s, but its renewal is not a draft", lic, id)
		}
	}
	// No renewal of a council taking the fee online was sent without a payment the provider took.
	srows, err := db.QueryContext(ctx, `SELECT r.id, c.slug, d.licence_number FROM renewals r JOIN councils c ON c.id = r.council_id
		JOIN drivers d ON d.id = r.driver_id WHERE r.status <> 'draft'`)
	if err != nil {
		t.Fatal(err)
	}
	for srows.Next() {
		var id int64
		var slug, lic string
		if err := srows.Scan(&id, &slug, &lic); err != nil {
			t.Fatal(err)
		}
		if payCouncils[slug] && !paidRenewals[id] {
			violation("%s (%s takes the fee online) was sent without a payment the provider took", lic, slug)
		}
	}
	if err := srows.Err(); err != nil {
		t.Fatal(err)
	}
	srows.Close()
	sort.Strings(violations)
	for _, v := range violations {
		t.Errorf("payment: %s", v)
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
	// Documents: every upload answered 303 left its photo on the driver's renewal, and every
	// sent renewal has each document it requires.
	type renewalAnswers struct {
		id                       int64
		licence, status, answers string
	}
	var renewals []renewalAnswers
	rows, err = db.QueryContext(ctx, `SELECT r.id, d.licence_number, r.status, r.answers_json FROM renewals r JOIN drivers d ON d.id = r.driver_id ORDER BY r.id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var r renewalAnswers
		if err := rows.Scan(&r.id, &r.licence, &r.status, &r.answers); err != nil {
			t.Fatal(err)
		}
		renewals = append(renewals, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	sentChecked, docsChecked := 0, 0
	var docProblems []string
	for _, r := range renewals {
		var a domain.Answers
		if err := json.Unmarshal([]byte(r.answers), &a); err != nil {
			docProblems = append(docProblems, fmt.Sprintf("%s: renewal %d's answers do not parse: %v", r.licence, r.id, err))
			continue
		}
		var kinds []domain.DocumentKind
		switch {
		case r.status != string(domain.StatusDraft):
			kinds = a.RequiredDocuments()
			sentChecked++
		case tally.uploads[r.licence]:
			kinds = []domain.DocumentKind{domain.DocumentPhoto}
		}
		for _, k := range kinds {
			id := a.Documents.ID(k)
			if id == 0 {
				docProblems = append(docProblems, fmt.Sprintf("%s: renewal %d (%s) has no %s in its answers", r.licence, r.id, r.status, k))
				continue
			}
			if problem := crashCheckDocument(ctx, t, db, r.id, k, id); problem != "" {
				docProblems = append(docProblems, fmt.Sprintf("%s: renewal %d (%s), %s %d: %s", r.licence, r.id, r.status, k, id, problem))
				continue
			}
			docsChecked++
		}
	}
	hasRenewal := map[string]bool{}
	for _, r := range renewals {
		hasRenewal[r.licence] = true
	}
	for lic := range tally.uploads {
		if !hasRenewal[lic] {
			docProblems = append(docProblems, lic+": photo upload answered 303 but the driver has no renewal")
		}
	}
	sort.Strings(docProblems)
	for _, p := range docProblems {
		lost = append(lost, "documents: "+p)
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
		"drafts with a sending time or an acknowledgement, or a reference but no payment": `SELECT COUNT(*) FROM renewals WHERE status = 'draft'
			AND (submitted_at IS NOT NULL OR ack_evidence_id IS NOT NULL
				OR (reference IS NOT NULL AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.renewal_id = renewals.id)))`,
		"provider payments recorded more than once": `SELECT COUNT(*) FROM (SELECT provider_id FROM payments
			WHERE provider_id IS NOT NULL GROUP BY provider_id HAVING COUNT(*) > 1) AS twice`,
		"renewals with more than one payment taken": `SELECT COUNT(*) FROM (SELECT renewal_id FROM payments
			WHERE status = 'success' GROUP BY renewal_id HAVING COUNT(*) > 1) AS twice`,
		"renewals with more than one online payment open": `SELECT COUNT(*) FROM (SELECT renewal_id FROM payments
			WHERE method = 'online' AND finished_at IS NULL GROUP BY renewal_id HAVING COUNT(*) > 1) AS twice`,
		"taken online payments without exactly one 'paid' event": `SELECT COUNT(*) FROM payments p WHERE p.method = 'online'
			AND p.status = 'success' AND (SELECT COUNT(*) FROM renewal_events ev WHERE ev.renewal_id = p.renewal_id AND ev.kind = 'paid') <> 1`,
		"payments of another driver or council than their renewal's": `SELECT COUNT(*) FROM payments p JOIN renewals r ON r.id = p.renewal_id
			WHERE p.driver_id <> r.driver_id OR p.council_id <> r.council_id`,
		"online payments whose finish time, state and next check disagree": `SELECT COUNT(*) FROM payments WHERE method = 'online'
			AND ((finished_at IS NULL AND (status IN ('success', 'failed', 'cancelled', 'error') OR next_check_at IS NULL))
				OR (finished_at IS NOT NULL AND (status NOT IN ('success', 'failed', 'cancelled', 'error') OR next_check_at IS NOT NULL)))`,
		"online payments never set up at the provider but not closed by the reconciler": `SELECT COUNT(*) FROM payments
			WHERE method = 'online' AND provider_id IS NULL AND status <> 'error'`,
		"renewals sent without a taken payment where the council takes the fee online": `SELECT COUNT(*) FROM renewals r
			JOIN councils c ON c.id = r.council_id WHERE r.status <> 'draft' AND c.pay_api_key_sealed <> ''
			AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.renewal_id = r.id AND p.status = 'success')`,
		"documents whose chunks do not add up to their size": `SELECT COUNT(*) FROM documents d
			WHERE d.size_bytes <> COALESCE((SELECT SUM(LENGTH(c.data)) FROM document_chunks c WHERE c.document_id = d.id), 0)`,
		"documents of another driver or council than their renewal's": `SELECT COUNT(*) FROM documents d JOIN renewals r ON r.id = d.renewal_id
			WHERE d.driver_id <> r.driver_id OR d.council_id <> r.council_id`,
		"documents replaced without a later one of the same renewal and kind": `SELECT COUNT(*) FROM documents d
			WHERE d.status = 'replaced' AND NOT EXISTS (SELECT 1 FROM documents n WHERE n.id = d.replaced_by_id
				AND n.renewal_id = d.renewal_id AND n.kind = d.kind AND n.id > d.id)`,
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
	// The coverage summaries, kept up by every write in its own transaction through the kills,
	// equal a fresh build (cli fails the test if verify exits non-zero).
	coverageOut := cli("coverage", "verify")

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
	t.Logf("database: %d acknowledgements, %d renewals submitted, %d evidence rows; %s; %s; %s",
		len(acked), len(submitted), count(`SELECT COUNT(*) FROM evidence`), integrity, strings.TrimSpace(auditOut), strings.TrimSpace(coverageOut))
	t.Logf("documents: %d photo uploads answered 303 (%d drivers); %d documents stored, %d of them replaced by a later upload; "+
		"%d sent renewals checked: %d required documents present, whole and hashing to their sha256 (drafts' photos included); problems: %d",
		tally.uploaded.Load(), len(tally.uploads), count(`SELECT COUNT(*) FROM documents`), count(`SELECT COUNT(*) FROM documents WHERE status = 'replaced'`),
		sentChecked, docsChecked, len(docProblems))
	t.Logf("client errors (expected while the server is down): %s; 5xx and other failures: %d",
		strings.Join(errKinds, ", "), len(tally.failures))
	t.Logf("payments: %d created at the provider, %d taken (%d came back with no kill in between, %d came back after a kill and restart, %d tabs closed), "+
		"%d declined or cancelled, %d left open by their driver, %d never recorded by the killed server, %d stuck being set up (409 to the driver), %d returns made after the load",
		len(stubPayments), taken, takenReturned, takenLate, takenClosed, unpaid, stillOpen, neverAttached, tally.payStuck.Load(), endReturns)
	t.Logf("payments taken: a kill landed between payment and return for %d (%d came back, %d tabs closed); finished by the driver's return %d, "+
		"by the server without a return %d, by the reconciler after the last stop %d (%d still open then, %d being set up; %d checks in %d runs); rule 8 violations: %d",
		killedBetween, killedBetweenReturned, killedBetween-killedBetweenReturned, byReturn, byServer, byReconciler,
		openBefore, leftCreating, reconChecks, reconCalls, len(violations))
	if taken == 0 || killedBetween == 0 || unpaid == 0 {
		t.Errorf("the payment part tested too little: %d taken, %d with a kill between payment and return, %d not taken", taken, killedBetween, unpaid)
	}
}
