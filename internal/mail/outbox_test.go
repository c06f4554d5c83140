package mail_test

import (
	"context"
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
