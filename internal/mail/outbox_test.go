package mail_test

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herts-msp/taxi-renewals/internal/service"
	"github.com/herts-msp/taxi-renewals/internal/store"
	"github.com/herts-msp/taxi-renewals/internal/testenv"
)

func queue(t *testing.T, env *testenv.Env, n int) {
	t.Helper()
	for i := range n {
		if err := env.Store.Enqueue(context.Background(), store.OutboxMessage{To: "driver" + strings.Repeat("x", i%3) + "@example.org",
			Subject: "Test", Body: "Body"}, env.Clock.Now()); err != nil {
			t.Fatal(err)
		}
	}
}

// TestOutboxSendsThroughSMTPOnceEach runs two workers, one in each of two instances of the
// service on one database (PostgreSQL when RENEWALS_TEST_POSTGRES_URL is set, where they claim
// with FOR UPDATE SKIP LOCKED), against a real SMTP listener: every message is delivered
// exactly once.
func TestOutboxSendsThroughSMTPOnceEach(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	workers := []*service.Service{env.Service, env.SecondInstance(t).Service}
	srv := startSMTP(t, false)
	const queued = 120 // several batches, so both workers claim while the other is sending
	queue(t, env, queued)
	var wg sync.WaitGroup
	sentBy := make([]int, len(workers))
	for i, w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				sent, _, err := w.DeliverOutbox(context.Background(), sender(t, srv))
				if err != nil {
					t.Error(err)
					return
				}
				if sent == 0 {
					return
				}
				sentBy[i] += sent
			}
		}()
	}
	wg.Wait()
	got, _ := srv.messages()
	counts, err := env.Store.OutboxCounts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != queued || counts.Sent != queued || counts.Waiting != 0 {
		t.Fatalf("SMTP received %d, outbox %+v; want %d sent once each", len(got), counts, queued)
	}
	t.Logf("sent by each instance: %v", sentBy)
	// Nothing is sent twice on the next run.
	if sent, _, _ := env.Service.DeliverOutbox(context.Background(), sender(t, srv)); sent != 0 {
		t.Fatalf("second run sent %d again", sent)
	}
}

// TestOutboxRetriesWithBackoffThenGivesUp: a server that refuses keeps the message waiting
// until its next attempt is due, with growing delays, and after the last attempt the failure is
// recorded and nothing more is tried.
func TestOutboxRetriesWithBackoffThenGivesUp(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	srv := startSMTP(t, true)
	queue(t, env, 1)
	ctx := context.Background()
	s := sender(t, srv)
	for attempt := 1; attempt <= 8; attempt++ {
		_, failed, err := env.Service.DeliverOutbox(ctx, s)
		if err != nil || failed != 1 {
			t.Fatalf("attempt %d: failed=%d err=%v", attempt, failed, err)
		}
		if _, failed, _ := env.Service.DeliverOutbox(ctx, s); failed != 0 {
			t.Fatalf("attempt %d: retried before the backoff (%s) was over", attempt, service.OutboxBackoff(attempt))
		}
		env.Clock.Advance(service.OutboxBackoff(attempt) + time.Second)
	}
	counts, _ := env.Store.OutboxCounts(ctx)
	if counts.Failed != 1 || counts.Waiting != 0 {
		t.Fatalf("after 8 refusals: %+v, want 1 failed", counts)
	}
	if _, failed, _ := env.Service.DeliverOutbox(ctx, s); failed != 0 {
		t.Fatal("a message given up on was tried again")
	}
}

func TestOutboxBackoff(t *testing.T) {
	t.Parallel()
	for failed, want := range map[int]time.Duration{1: time.Minute, 2: 2 * time.Minute, 3: 4 * time.Minute, 9: 256 * time.Minute, 12: 6 * time.Hour} {
		if got := service.OutboxBackoff(failed); got != want {
			t.Errorf("OutboxBackoff(%d) = %s, want %s", failed, got, want)
		}
	}
}

// waitFor reads srv's events until one starting with want has been seen n times; it fails the test at the test's
// deadline.
func waitFor(t *testing.T, srv *smtpServer, want string, n int) {
	t.Helper()
	deadline, ok := t.Deadline()
	if !ok {
		deadline = time.Now().Add(10 * time.Minute)
	}
	timer := time.NewTimer(time.Until(deadline) * 9 / 10)
	defer timer.Stop()
	for seen := 0; seen < n; {
		select {
		case ev := <-srv.events:
			if strings.HasPrefix(ev, want) {
				seen++
			}
		case <-timer.C:
			t.Fatalf("saw %q %d of %d times before the test's deadline", want, seen, n)
		}
	}
}

// TestOutboxSlowMessageDoesNotHoldUpOthers: while the server keeps one message waiting (it
// does not answer its RCPT), the messages queued after it are all delivered.
func TestOutboxSlowMessageDoesNotHoldUpOthers(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	release := make(chan struct{})
	srv := &smtpServer{}
	srv.Hold = func(step, rcpt string) <-chan struct{} {
		if step == "rcpt" && rcpt == "slow@example.org" {
			return release
		}
		return nil
	}
	startSMTPWith(t, srv)
	ctx := context.Background()
	if err := env.Store.Enqueue(ctx, store.OutboxMessage{To: "slow@example.org", Subject: "First", Body: "Body"}, env.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	const others = 9 // more than the slots: the free ones take message after message
	for i := range others {
		if err := env.Store.Enqueue(ctx, store.OutboxMessage{To: fmt.Sprintf("driver%d@example.org", i), Subject: "Later", Body: "Body"}, env.Clock.Now()); err != nil {
			t.Fatal(err)
		}
	}
	type result struct{ sent, failed int }
	done := make(chan result, 1)
	go func() {
		sent, failed, err := env.Service.DeliverOutbox(ctx, sender(t, srv))
		if err != nil {
			t.Error(err)
		}
		done <- result{sent, failed}
	}()
	waitFor(t, srv, "holding rcpt", 1)
	waitFor(t, srv, "delivered driver", others)
	// All the others are through while the first is still held.
	select {
	case r := <-done:
		t.Fatalf("delivery finished (%+v) while a message was still being sent", r)
	default:
	}
	close(release)
	if r := <-done; r.sent != others+1 || r.failed != 0 {
		t.Fatalf("sent %d, failed %d; want %d sent", r.sent, r.failed, others+1)
	}
	if got, _ := srv.messages(); len(got) != others+1 {
		t.Fatalf("server received %d messages", len(got))
	}
}

// TestOutboxDeadlineIsAFailedAttemptRetriedLater: a server that takes the message but never
// answers its end makes the attempt fail at the data deadline; it is recorded as failed, not
// sent, and retried after the backoff, with the same Message-ID (and Date), so the receiving system can
// tell the copies are one message.
func TestOutboxDeadlineIsAFailedAttemptRetriedLater(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	srv := &smtpServer{}
	var mu sync.Mutex
	silent := true
	srv.Hold = func(step, _ string) <-chan struct{} {
		mu.Lock()
		defer mu.Unlock()
		if step == "message" && silent {
			return srv.Forever()
		}
		return nil
	}
	startSMTPWith(t, srv)
	queue(t, env, 1)
	ctx := context.Background()
	s := sender(t, srv)
	s.DataTimeout = 300 * time.Millisecond
	if sent, failed, err := env.Service.DeliverOutbox(ctx, s); err != nil || sent != 0 || failed != 1 {
		t.Fatalf("silent after the message: sent %d, failed %d, %v; want one failed attempt", sent, failed, err)
	}
	if counts, _ := env.Store.OutboxCounts(ctx); counts.Waiting != 1 || counts.Sent != 0 {
		t.Fatalf("after the deadline: %+v, want it waiting", counts)
	}
	if sent, failed, _ := env.Service.DeliverOutbox(ctx, s); sent+failed != 0 {
		t.Fatal("retried before the backoff was over")
	}
	mu.Lock()
	silent = false
	mu.Unlock()
	env.Clock.Advance(service.OutboxBackoff(1) + time.Second)
	if sent, failed, err := env.Service.DeliverOutbox(ctx, s); err != nil || sent != 1 || failed != 0 {
		t.Fatalf("retry: sent %d, failed %d, %v", sent, failed, err)
	}
	got, _ := srv.messages()
	if len(got) != 2 {
		t.Fatalf("server received %d copies, want 2 (the unanswered one and the retry)", len(got))
	}
	var ids, dates []string
	for _, raw := range got {
		h := parse(t, raw).header
		ids, dates = append(ids, h.Get("Message-ID")), append(dates, h.Get("Date"))
	}
	if ids[0] == "" || ids[0] != ids[1] {
		t.Fatalf("Message-IDs of the two attempts: %q; want one, the same", ids)
	}
	if dates[0] != dates[1] {
		t.Errorf("Dates of the two attempts: %q; want when it was queued, both times", dates)
	}
}

// TestOutboxMessageIDsDiffer: each message has its own Message-ID.
func TestOutboxMessageIDsDiffer(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	srv := startSMTP(t, false)
	queue(t, env, 3)
	if sent, _, err := env.Service.DeliverOutbox(context.Background(), sender(t, srv)); err != nil || sent != 3 {
		t.Fatalf("sent %d, %v", sent, err)
	}
	got, _ := srv.messages()
	seen := map[string]bool{}
	// Made from the outbox id and the time it was queued (testenv's clock), read back from the database.
	form := regexp.MustCompile(`^<outbox-\d+\.` + strconv.FormatInt(testenv.Start.UnixMicro(), 10) + `@herts\.example\.gov\.uk>$`)
	for _, raw := range got {
		id := parse(t, raw).header.Get("Message-ID")
		if !form.MatchString(id) {
			t.Errorf("Message-ID %q does not match %s", id, form)
		}
		seen[id] = true
	}
	if len(seen) != 3 {
		t.Fatalf("3 messages had %d distinct Message-IDs: %v", len(seen), seen)
	}
}

// TestOutboxShutdownLeavesTheMessageQueued: when RunOutbox's context ends while the server
// does not answer, it returns within the grace period, starts no new attempt, and the
// messages stay in the outbox, due at once and with no attempt counted.
func TestOutboxShutdownLeavesTheMessageQueued(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	srv := &smtpServer{}
	srv.Hold = func(string, string) <-chan struct{} { return srv.Forever() }
	startSMTPWith(t, srv)
	const queued, slots = 3, 2
	queue(t, env, queued)
	s := sender(t, srv)
	s.CommandTimeout = time.Hour // only shutdown can end these attempts
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		env.Service.RunOutbox(ctx, s, service.OutboxOptions{Every: time.Hour, Concurrency: slots})
		close(done)
	}()
	waitFor(t, srv, "holding greeting", slots)
	start := time.Now()
	cancel()
	select {
	case <-done:
	case <-time.After(service.OutboxShutdownGrace + 30*time.Second):
		t.Fatal("RunOutbox still running long after its context ended")
	}
	took := time.Since(start)
	if took > service.OutboxShutdownGrace+5*time.Second {
		t.Errorf("RunOutbox took %s to stop (grace %s)", took, service.OutboxShutdownGrace)
	}
	if n := srv.connections(); n != slots {
		t.Errorf("the server saw %d connections; want %d (no attempt may start after shutdown)", n, slots)
	}
	counts, _ := env.Store.OutboxCounts(context.Background())
	if counts.Waiting != queued || counts.Sent != 0 || counts.Failed != 0 {
		t.Fatalf("after shutdown: %+v, want all %d waiting", counts, queued)
	}
	due, err := env.Store.ClaimDueMessages(context.Background(), env.Clock.Now(), time.Minute, 10)
	if err != nil || len(due) != queued {
		t.Fatalf("%d due at once after shutdown (%v), want %d", len(due), err, queued)
	}
	for _, m := range due {
		if m.Attempts != 0 {
			t.Errorf("message %d: %d attempts counted, want 0 (an interrupted attempt is not a refusal)", m.ID, m.Attempts)
		}
	}
}
