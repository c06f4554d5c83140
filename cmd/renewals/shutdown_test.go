package main

import (
	"context"
	"net"
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
)

// buildRenewals builds the binary into the test's temporary directory.
func buildRenewals(ctx context.Context, t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "renewals")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/renewals")
	build.Dir = filepath.Join("..", "..") // the module root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// hungSMTP accepts connections and never says a word: the mail server on a bad night. Each
// accepted connection is announced on accepted; all are closed when the test ends.
type hungSMTP struct {
	ln       net.Listener
	accepted chan struct{}
	mu       sync.Mutex
	conns    []net.Conn
}

func startHungSMTP(t *testing.T) *hungSMTP {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h := &hungSMTP{ln: ln, accepted: make(chan struct{}, 100)}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			h.mu.Lock()
			h.conns = append(h.conns, c)
			h.mu.Unlock()
			h.accepted <- struct{}{}
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		h.mu.Lock()
		defer h.mu.Unlock()
		for _, c := range h.conns {
			c.Close()
		}
	})
	return h
}

func (h *hungSMTP) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.conns)
}

// TestServeStopsOnSIGTERMWhileTheMailServerHangs runs the real binary against a mail server
// that accepts connections and never answers, with more messages queued than it sends at once.
// SIGTERM makes it exit, cleanly, within 10 s (the SMTP command deadline, 30 s by default, is
// far longer: shutdown itself ends the attempts); it starts no attempt after SIGTERM; and every
// message is still in the outbox, due at once, with no attempt counted against it.
func TestServeStopsOnSIGTERMWhileTheMailServerHangs(t *testing.T) {
	t.Parallel()
	ctx := waitContext(t)
	bin := buildRenewals(ctx, t)
	smtp := startHungSMTP(t)
	_, smtpPort, _ := net.SplitHostPort(smtp.ln.Addr().String())
	const queued, slots = 3, 2

	dbURL := testdb.URL(t, "renewals.db")
	st, err := store.Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	for i := range queued {
		if err := st.Enqueue(ctx, store.OutboxMessage{To: "driver" + strconv.Itoa(i) + "@example.org", Subject: "Your sign-in code", Body: "Your code is 123456\n"}, time.Now()); err != nil {
			t.Fatal(err)
		}
	}

	var log syncBuffer
	var cmd *exec.Cmd
	var exited chan struct{}
	var waitErr error
	for attempt := 1; ; attempt++ {
		addr := freeAddr(t)
		cmd = exec.Command(bin, "serve", "--addr", addr, "--database", dbURL, "--secret-key", crashSecretKey,
			"--smtp-host", "127.0.0.1", "--smtp-port", smtpPort, "--smtp-tls", "none", "--smtp-from", "renewals@herts.example.gov.uk",
			"--smtp-concurrency", strconv.Itoa(slots))
		cmd.Env = os.Environ()
		cmd.Stdout, cmd.Stderr = &log, &log
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited = make(chan struct{})
		go func() { waitErr = cmd.Wait(); close(exited) }()
		if waitReady(ctx, "http://"+addr, exited) {
			break
		}
		_ = cmd.Process.Kill()
		<-exited
		if attempt < 3 && strings.Contains(log.String(), "address already in use") {
			continue
		}
		t.Fatalf("server never became ready:\n%s", tail(log.String()))
	}
	t.Cleanup(func() {
		select {
		case <-exited:
		default:
			_ = cmd.Process.Kill()
			<-exited
		}
	})

	// Both sending slots are stuck on the silent server.
	for range slots {
		select {
		case <-smtp.accepted:
		case <-ctx.Done():
			t.Fatalf("the server never connected to the mail server %d times:\n%s", slots, tail(log.String()))
		}
	}
	start := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
	case <-ctx.Done():
		t.Fatalf("still running %s after SIGTERM:\n%s", time.Since(start), tail(log.String()))
	}
	took := time.Since(start)
	t.Logf("exited %s after SIGTERM", took.Round(time.Millisecond))
	if took > 10*time.Second {
		t.Errorf("took %s to exit after SIGTERM, want at most 10 s", took)
	}
	if waitErr != nil { // exit status 0 after a clean shutdown
		t.Errorf("exit after SIGTERM: %v\n%s", waitErr, tail(log.String()))
	}
	if n := smtp.count(); n != slots {
		t.Errorf("the mail server saw %d connections, want %d: an attempt started after SIGTERM", n, slots)
	}
	for _, want := range []string{"delivery interrupted by shutdown", `msg=stopped`} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("the log lacks %q:\n%s", want, tail(log.String()))
		}
	}

	counts, err := st.OutboxCounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if counts.Waiting != queued || counts.Sent != 0 || counts.Failed != 0 {
		t.Fatalf("outbox after SIGTERM: %+v, want all %d waiting", counts, queued)
	}
	due, err := st.ClaimDueMessages(ctx, time.Now(), time.Minute, 10)
	if err != nil || len(due) != queued {
		t.Fatalf("%d messages due at once after the restart (%v), want %d", len(due), err, queued)
	}
	for _, m := range due {
		if m.Attempts != 0 {
			t.Errorf("message %d has %d attempts counted, want 0 (shutdown is not the server refusing)", m.ID, m.Attempts)
		}
	}
}
