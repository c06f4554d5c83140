package store_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/herts-msp/taxi-renewals/internal/store"
	"github.com/herts-msp/taxi-renewals/internal/testdb"
	"github.com/herts-msp/taxi-renewals/internal/testenv"
)

// The fault tests: a database that is read-only, away or full, as an operator's bad night brings
// them, and what the user sees in each (DESIGN §3 rule 10): a 503 with Retry-After and a page
// saying nothing was saved, /readyz 503 with the reason, nothing written, and the service working
// again once the fault is gone. Each logs what the user saw (go test -v shows it).

// skipVisibly skips with the reason on the test's log and on stderr too.
func skipVisibly(t *testing.T, reason string) {
	t.Helper()
	fmt.Fprintf(os.Stderr, "SKIP %s: %s\n", t.Name(), reason)
	t.Skip(reason)
}

// wantUnavailable checks the page a user gets when the database cannot be used.
func wantUnavailable(t *testing.T, what string, p testenv.Page, write bool) {
	t.Helper()
	t.Logf("%s: %d, Retry-After %q: %s", what, p.Status, p.Header.Get("Retry-After"), pageText(p.Body))
	if p.Status != http.StatusServiceUnavailable {
		t.Fatalf("%s: status %d, want 503:\n%s", what, p.Status, testenv.Excerpt(p.Body))
	}
	if p.Header.Get("Retry-After") == "" {
		t.Errorf("%s: a 503 without Retry-After", what)
	}
	want := "This page cannot be shown just now"
	if write {
		want = "Your answers have not been saved"
	}
	if !strings.Contains(p.Body, want) || !strings.Contains(p.Body, "Try again in a few minutes") {
		t.Errorf("%s: the page does not say %q and to try again:\n%s", what, want, testenv.Excerpt(p.Body))
	}
	if strings.Contains(p.Body, "have been saved") || strings.Contains(p.Body, "are saved") {
		t.Errorf("%s: the page claims something was saved:\n%s", what, testenv.Excerpt(p.Body))
	}
}

// pageText is the error page's heading and message, for the log.
func pageText(body string) string {
	i := strings.Index(body, `<h1 class="heading-l">`)
	if i < 0 {
		return testenv.Excerpt(body)
	}
	s := body[i:]
	if j := strings.Index(s, "</a>"); j >= 0 {
		s = s[:j]
	}
	r := strings.NewReplacer("\n", " ", `<h1 class="heading-l">`, "", "</h1>", " | ", `<p class="body">`, "", "</p>", " ")
	return strings.Join(strings.Fields(r.Replace(s)), " ")
}

// wantNotReady checks /readyz answers 503 with reason in its body, within a few seconds (an
// answer is kept for up to 5 s).
func wantNotReady(t *testing.T, base, reason string) {
	t.Helper()
	var code int
	var body string
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		code, body = readyz(t, base)
		if code == http.StatusServiceUnavailable && strings.Contains(body, reason) {
			t.Logf("/readyz: %d %s", code, strings.TrimSpace(body))
			return
		}
	}
	t.Fatalf("/readyz: %d %q, want 503 saying %q", code, body, reason)
}

func wantReady(t *testing.T, base string) {
	t.Helper()
	var code int
	var body string
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if code, body = readyz(t, base); code == http.StatusOK {
			return
		}
	}
	t.Fatalf("/readyz: %d %q, want 200", code, body)
}

func readyz(t *testing.T, base string) (int, string) {
	t.Helper()
	resp, err := http.Get(base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// contactSaved says whether the test driver's contact answers are in their draft.
func contactSaved(t *testing.T, st *store.Store, env *testenv.Env) bool {
	t.Helper()
	d, err := st.OpenRenewal(context.Background(), env.Drivers[testenv.DueDacorum].ID)
	if err != nil {
		t.Fatal(err)
	}
	return d.Answers.Contact.Saved
}

// faultJourney is what the user does during a fault: a driver signed in on the instance sends
// their contact details and opens their task list (when reads still work, as on a read-only or
// full database, the task list shows); after the fault is mended, sending them works.
func faultJourney(t *testing.T, env *testenv.Env, inst *testenv.Instance, readsWork bool, fault, mend func(), reason string) {
	t.Helper()
	on := *env // the environment as seen through the instance
	on.Store, on.Server = inst.Store, inst.Server
	wantReady(t, inst.Server.URL)
	b := on.SignIn(t, testenv.DacorumSlug, testenv.DueDacorum)
	b.Get("/renew/contact") // the form, and its CSRF token
	fault()
	wantUnavailable(t, "POST /renew/contact", b.Post("/renew/contact", testenv.ContactForm), true)
	wantTaskList(t, b.Get("/renew"), readsWork)
	wantNotReady(t, inst.Server.URL, reason)
	mend()
	if contactSaved(t, inst.Store, env) {
		t.Fatal("the contact answers were saved, yet the page said they were not")
	}
	wantReady(t, inst.Server.URL)
	// The pool may still hold a connection the fault broke: the user tries again, as told.
	var p testenv.Page
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if p = b.Post("/renew/contact", testenv.ContactForm); p.Status != http.StatusServiceUnavailable {
			break
		}
	}
	if p.Status != http.StatusSeeOther {
		t.Fatalf("POST /renew/contact after the fault: %d\n%s", p.Status, testenv.Excerpt(p.Body))
	}
	t.Logf("after the fault: POST /renew/contact %d, /readyz 200", p.Status)
	if !contactSaved(t, inst.Store, env) {
		t.Fatal("after the fault the contact answers were not saved")
	}
}

// wantTaskList checks GET /renew during a fault: the task list when reads still work, else the
// 503 page.
func wantTaskList(t *testing.T, p testenv.Page, readsWork bool) {
	t.Helper()
	if !readsWork {
		wantUnavailable(t, "GET /renew", p, false)
		return
	}
	t.Logf("GET /renew: %d (reads still work)", p.Status)
	if p.Status != http.StatusOK || !strings.Contains(p.Body, "Your licence renewal") {
		t.Fatalf("GET /renew: %d, want the task list:\n%s", p.Status, testenv.Excerpt(p.Body))
	}
}

// readOnlyJourney: a driver signed in on the writable instance moves to ro, an instance started
// on the same database read-only: pages show, a change is refused with 503, nothing is written,
// and ro's /readyz says why while the writable instance stays ready.
func readOnlyJourney(t *testing.T, env *testenv.Env, ro *testenv.Instance) {
	t.Helper()
	b := env.SignIn(t, testenv.DacorumSlug, testenv.DueDacorum)
	b.Get("/renew/contact")
	b.Server = ro.Server.URL
	wantUnavailable(t, "POST /renew/contact", b.Post("/renew/contact", testenv.ContactForm), true)
	wantTaskList(t, b.Get("/renew"), true)
	// Signing in writes through an upsert that returns a row (the rate-limit counter), which
	// gorm reports by another path than its other statements.
	nb := env.NewBrowser(t)
	nb.Server = ro.Server.URL
	nb.Get("/renew/sign-in")
	wantUnavailable(t, "POST /renew/sign-in", nb.Post("/renew/sign-in", testenv.SignInForm("watford", testenv.DueWatford)), true)
	wantNotReady(t, ro.Server.URL, "database not writable: the database is read-only")
	if contactSaved(t, env.Store, env) {
		t.Fatal("the contact answers were saved, yet the page said they were not")
	}
	if code, body := readyz(t, env.Server.URL); code != http.StatusOK {
		t.Fatalf("the writable instance: /readyz %d %s", code, body)
	}
}

// TestFaultReadOnlyDatabase: the database takes no writes. On SQLite the file is opened with
// mode=ro (SQLite: "attempt to write a readonly database", as with a file the service may not
// write); on PostgreSQL the instance's sessions are read-only, as on a standby ("cannot execute
// UPDATE in a read-only transaction").
func TestFaultReadOnlyDatabase(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	u := env.Config.DatabaseURL
	if testdb.Postgres() {
		u += "&default_transaction_read_only=on"
	} else {
		u = "file:" + u + "?mode=ro"
	}
	readOnlyJourney(t, env, env.InstanceAt(t, u))
}

// TestFaultReadOnlyMount: the service starts on a SQLite file whose filesystem is read-only (a
// volume mounted read-only). Needs mount(8) and the right to mount (root with CAP_SYS_ADMIN);
// skipped, saying so, elsewhere.
func TestFaultReadOnlyMount(t *testing.T) {
	t.Parallel()
	if testdb.Postgres() {
		skipVisibly(t, "a read-only SQLite mount: this run is on PostgreSQL (TestFaultReadOnlyDatabase covers a read-only PostgreSQL)")
	}
	env := testenv.New(t, testenv.Options{})
	dir := filepath.Dir(env.Config.DatabaseURL)
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "--bind", dir, mnt).CombinedOutput(); err != nil {
		skipVisibly(t, fmt.Sprintf("cannot bind-mount a directory here (%v: %s)", err, strings.TrimSpace(string(out))))
	}
	t.Cleanup(func() {
		// SQLite keeps a closed file open while another connection of the process holds locks on
		// it (POSIX locks are per process): the writable instance's, here. Close it first.
		env.Store.Close()
		unmount(t, mnt)
	})
	if out, err := exec.Command("mount", "-o", "remount,ro,bind", mnt).CombinedOutput(); err != nil {
		t.Fatalf("remount read-only: %v %s", err, out)
	}
	readOnlyJourney(t, env, env.InstanceAt(t, filepath.Join(mnt, filepath.Base(env.Config.DatabaseURL))))
}

// TestFaultDatabaseAway: the database goes away under the running service and comes back. On
// PostgreSQL the instance reaches the server through a TCP forwarder the test owns, which is cut
// (open connections closed, new ones refused) and restored; the shared server itself is never
// stopped. SQLite runs skip it, saying why.
func TestFaultDatabaseAway(t *testing.T) {
	t.Parallel()
	if !testdb.Postgres() {
		// Tried: with the database's directory moved away, the open SQLite connections carried on
		// writing into the moved file (nothing lost, nothing to report).
		skipVisibly(t, "a database that goes away: this run is on SQLite, whose open file cannot go away under the service; the PostgreSQL run cuts a forwarder")
	}
	env := testenv.New(t, testenv.Options{})
	u, err := url.Parse(env.Config.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	px := newForwarder(t, u.Host)
	u.Host = px.addr
	faultJourney(t, env, env.InstanceAt(t, u.String()), false, px.cut, px.restore, "database not answering: the database cannot be reached")
}

// TestFaultConnectionLostAtCommit: the connection to PostgreSQL is cut just as a change is being
// committed (the forwarder drops the connection when it sees the COMMIT go by). The service
// cannot know whether the server committed it, so the page must not say it was not saved.
func TestFaultConnectionLostAtCommit(t *testing.T) {
	t.Parallel()
	if !testdb.Postgres() {
		skipVisibly(t, "a COMMIT whose answer is lost: this run is on SQLite, which commits in the process; the PostgreSQL run covers it")
	}
	env := testenv.New(t, testenv.Options{})
	u, err := url.Parse(env.Config.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	px := newForwarder(t, u.Host)
	u.Host = px.addr
	q := u.Query()
	q.Set("sslmode", "disable") // the forwarder reads the protocol to find the COMMIT
	u.RawQuery = q.Encode()
	inst := env.InstanceAt(t, u.String())
	on := *env
	on.Store, on.Server = inst.Store, inst.Server
	b := on.SignIn(t, testenv.DacorumSlug, testenv.DueDacorum)
	b.Get("/renew/contact")
	px.cutAtCommit()
	p := b.Post("/renew/contact", testenv.ContactForm)
	t.Logf("POST /renew/contact: %d, Retry-After %q: %s", p.Status, p.Header.Get("Retry-After"), pageText(p.Body))
	if p.Status != http.StatusServiceUnavailable || p.Header.Get("Retry-After") == "" {
		t.Fatalf("status %d (Retry-After %q), want 503 with Retry-After:\n%s", p.Status, p.Header.Get("Retry-After"), testenv.Excerpt(p.Body))
	}
	if !strings.Contains(p.Body, "We cannot tell whether your answers were saved") || strings.Contains(p.Body, "have not been saved") {
		t.Fatalf("the page does not say the outcome is unknown:\n%s", testenv.Excerpt(p.Body))
	}
	// The COMMIT never reached the server, so here nothing was saved (the page could not know).
	if contactSaved(t, env.Store, env) {
		t.Fatal("the forwarder dropped the COMMIT, yet the answers were saved")
	}
}

// TestFaultDatabaseFull: the SQLite database cannot grow (SQLite: "database or disk is full"),
// through SQLite's own size limit (PRAGMA max_page_count) on the instance's connection, which
// runs everywhere. TestFaultDiskFull fills a real filesystem where one can be mounted.
func TestFaultDatabaseFull(t *testing.T) {
	t.Parallel()
	if testdb.Postgres() {
		skipVisibly(t, "a full database: this run is on PostgreSQL, and the shared server's disk is not the test's to fill")
	}
	env := testenv.New(t, testenv.Options{})
	inst := env.SecondInstance(t)
	b := env.SignIn(t, testenv.DacorumSlug, testenv.DueDacorum)
	b.Get("/renew/documents")
	b.Server = inst.Server.URL
	wantReady(t, inst.Server.URL)
	if err := store.FillUp(context.Background(), inst.Store); err != nil {
		t.Fatal(err)
	}
	// A photo needs new pages; the sign-in check before it (an update in place) does not.
	wantUnavailable(t, "POST /renew/documents/upload/photo", b.Upload("/renew/documents/upload/photo", "photo.jpg", testenv.PhotoJPEG(t)), true)
	wantNotReady(t, inst.Server.URL, "database not writable: the database is full")
	d, err := env.Store.OpenRenewal(context.Background(), env.Drivers[testenv.DueDacorum].ID)
	if err != nil {
		t.Fatal(err)
	}
	if docs, err := env.Store.RenewalDocuments(context.Background(), d.ID); err != nil || len(docs) != 0 || d.Answers.Documents.PhotoID != 0 {
		t.Fatalf("the photo was stored, yet the page said it was not: %+v %v", docs, err)
	}
}

// TestFaultDiskFull: the filesystem holding the SQLite database fills up. The test copies the
// database to a small tmpfs of its own, fills the tmpfs, and empties it again. Needs the right
// to mount (root with CAP_SYS_ADMIN); skipped, saying so, elsewhere.
func TestFaultDiskFull(t *testing.T) {
	t.Parallel()
	if testdb.Postgres() {
		skipVisibly(t, "a full disk: this run is on PostgreSQL, and the shared server's disk is not the test's to fill")
	}
	env := testenv.New(t, testenv.Options{})
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", mnt).CombinedOutput(); err != nil {
		skipVisibly(t, fmt.Sprintf("cannot mount a small tmpfs here (%v: %s)", err, strings.TrimSpace(string(out))))
	}
	t.Cleanup(func() { unmount(t, mnt) })
	path := filepath.Join(mnt, "renewals.db")
	if err := env.Store.Backup(context.Background(), path); err != nil {
		t.Fatal(err)
	}
	inst := env.InstanceAt(t, path)
	filler := filepath.Join(mnt, "filler")
	faultJourney(t, env, inst, true, func() {
		if err := fill(filler); err != nil {
			t.Fatal(err)
		}
	}, func() {
		if err := os.Remove(filler); err != nil {
			t.Fatal(err)
		}
	}, "database not writable: the database is full")
}

// unmount unmounts what a test mounted, once the instance on it has closed its files.
func unmount(t *testing.T, mnt string) {
	var out []byte
	var err error
	for range 50 {
		if out, err = exec.Command("umount", mnt).CombinedOutput(); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	fds, _ := exec.Command("sh", "-c", "ls -l /proc/"+strconv.Itoa(os.Getpid())+"/fd | grep "+mnt).CombinedOutput()
	t.Errorf("umount %s: %v %s (open: %s)", mnt, err, out, fds)
	_ = exec.Command("umount", "-l", mnt).Run()
}

// fill writes to path until its filesystem is full.
func fill(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	for {
		if _, err := f.Write(buf); err != nil {
			if errors.Is(err, syscall.ENOSPC) {
				return nil
			}
			return err
		}
	}
}

// forwarder is a TCP forwarder to a database server that the test can cut and restore.
type forwarder struct {
	t      *testing.T
	addr   string
	target string
	mu     sync.Mutex
	ln     net.Listener
	conns  []net.Conn
	commit bool // cut every connection when a client sends COMMIT
}

func newForwarder(t *testing.T, target string) *forwarder {
	f := &forwarder{t: t, target: target}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f.addr = ln.Addr().String()
	f.serve(ln)
	t.Cleanup(f.cut)
	return f
}

func (f *forwarder) serve(ln net.Listener) {
	f.mu.Lock()
	f.ln = ln
	f.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", f.target)
			if err != nil {
				c.Close()
				continue
			}
			f.mu.Lock()
			f.conns = append(f.conns, c, s)
			f.mu.Unlock()
			go func() { f.toServer(s, c); s.Close() }()
			go func() { _, _ = io.Copy(c, s); c.Close() }()
		}
	}()
}

// toServer copies what a client sends to the server, unless it is a COMMIT once cutAtCommit
// has been called: then the connections are cut before the server sees it.
func (f *forwarder) toServer(s, c net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			f.mu.Lock()
			atCommit := f.commit && strings.Contains(strings.ToLower(string(buf[:n])), "commit")
			f.mu.Unlock()
			if atCommit {
				f.cut()
				return
			}
			if _, werr := s.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// cutAtCommit makes the next COMMIT any client sends cut every connection.
func (f *forwarder) cutAtCommit() {
	f.mu.Lock()
	f.commit = true
	f.mu.Unlock()
}

// cut closes the listener (new connections are refused) and every open connection.
func (f *forwarder) cut() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ln != nil {
		f.ln.Close()
		f.ln = nil
	}
	for _, c := range f.conns {
		c.Close()
	}
	f.conns = nil
}

// restore listens on the same address again.
func (f *forwarder) restore() {
	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		f.t.Fatalf("forwarder: listen again on %s: %v", f.addr, err)
	}
	f.serve(ln)
}
