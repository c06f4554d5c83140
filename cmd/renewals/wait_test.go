package main

import (
	"context"
	"net/http"
	"testing"
	"time"
)

// waitDeadline is how long a test may wait for something to happen (a server to answer, a
// process to stop): until shortly before the test binary's own deadline (go test -timeout,
// 10 minutes unless set), so a busy machine is never taken for a hung server, while a hung
// one still fails with its output rather than a panic from the test binary's timer.
func waitDeadline(t *testing.T) time.Time {
	t.Helper()
	d, ok := t.Deadline()
	if !ok {
		return time.Now().Add(10 * time.Minute)
	}
	margin := time.Until(d) / 10 // time left to report the failure and clean up
	if margin > 30*time.Second {
		margin = 30 * time.Second
	}
	return d.Add(-margin)
}

// waitContext is a context that ends at waitDeadline.
func waitContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithDeadline(context.Background(), waitDeadline(t))
	t.Cleanup(cancel)
	return ctx
}

// waitReady polls base+"/readyz" until it answers 200 (true), the server has exited (exited is
// closed or receives; false) or ctx ends (false). Polling is the only way to see readiness
// from outside: the server says "listening" before it has bound its address.
func waitReady(ctx context.Context, base string, exited <-chan struct{}) bool {
	c := &http.Client{Timeout: 5 * time.Second}
	poll := time.NewTicker(20 * time.Millisecond)
	defer poll.Stop()
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/readyz", nil)
		if err != nil {
			return false
		}
		if resp, err := c.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return true
			}
		}
		select {
		case <-ctx.Done():
			return false
		case <-exited:
			return false
		case <-poll.C:
		}
	}
}
