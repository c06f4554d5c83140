package service

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/herts-msp/taxi-renewals/internal/mail"
	"github.com/herts-msp/taxi-renewals/internal/store"
)

// Outbox delivery: each message is claimed for a lease when a sending slot is free, sent, and on
// failure retried with a growing delay until it is given up on. A bounded number of messages are
// sent at once, each on its own, so one slow message (or mail server) holds up only its own slot.
const (
	// OutboxConcurrency is how many messages are sent at once unless configured otherwise.
	OutboxConcurrency = 4
	// outboxAttemptLimit bounds one attempt whatever the SMTP phase deadlines add up to; the
	// lease is longer, so no other worker claims a message while an attempt is still running.
	outboxAttemptLimit = 2 * time.Minute
	outboxLease        = outboxAttemptLimit + time.Minute
	outboxMaxAttempts  = 8
	// OutboxShutdownGrace is how long an attempt already under way may still finish once
	// shutdown begins; then its connection is closed and the message stays in the outbox.
	OutboxShutdownGrace = 3 * time.Second
	// outboxBookkeeping bounds recording an attempt's outcome, which happens even during
	// shutdown (with the server's context ended).
	outboxBookkeeping = 3 * time.Second
)

// errShutdown is the cause given to an attempt cut short by shutdown.
var errShutdown = errors.New("delivery interrupted by shutdown")

// OutboxBackoff is the wait before attempt n+1 after n failed attempts: 1, 2, 4 … minutes, at
// most six hours.
func OutboxBackoff(failed int) time.Duration {
	d := time.Minute << min(max(failed-1, 0), 9)
	return min(d, 6*time.Hour)
}

// OutboxOptions tunes the outbox worker.
type OutboxOptions struct {
	Every       time.Duration // how often to look for due messages when there were none
	Concurrency int           // messages sent at once; 0: OutboxConcurrency
}

// DeliverOutbox sends the messages that are due now, once each, OutboxConcurrency at a time,
// and returns when none is left (or ctx ends: no new attempt starts then).
func (s *Service) DeliverOutbox(ctx context.Context, sender mail.Sender) (sent, failed int, err error) {
	var nSent, nFailed atomic.Int64
	err = s.dispatch(ctx, sender, OutboxConcurrency, func(o outcome) {
		switch o {
		case outcomeSent:
			nSent.Add(1)
		case outcomeFailed:
			nFailed.Add(1)
		}
	}, nil)
	return int(nSent.Load()), int(nFailed.Load()), err
}

// RunOutbox delivers due messages until ctx ends, looking again every opt.Every when there were
// none. Once ctx ends no new attempt starts; attempts under way get OutboxShutdownGrace to finish,
// then are cut short, and their messages stay in the outbox for the next start. It returns
// when every attempt has ended and been recorded.
func (s *Service) RunOutbox(ctx context.Context, sender mail.Sender, opt OutboxOptions) {
	every := opt.Every
	if every <= 0 {
		every = 5 * time.Second
	}
	n := opt.Concurrency
	if n <= 0 {
		n = OutboxConcurrency
	}
	idle := func() bool {
		t := time.NewTimer(every)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
			return true
		}
	}
	for {
		err := s.dispatch(ctx, sender, n, nil, idle)
		if err == nil || ctx.Err() != nil {
			return
		}
		s.opt.Logger.Error("outbox", "error", err.Error())
		if !idle() {
			return
		}
	}
}

type outcome int

const (
	outcomeSent outcome = iota
	outcomeFailed
	outcomeInterrupted
)

// dispatch claims one due message whenever one of n slots is free and sends it in that slot.
// When nothing is due it asks idle whether to look again (nil: stop). It stops claiming when ctx
// ends, waits for the attempts under way and returns; an error claiming ends it too.
func (s *Service) dispatch(ctx context.Context, sender mail.Sender, n int, done func(outcome), idle func() bool) error {
	slots := make(chan struct{}, n)
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return nil
		}
		if ctx.Err() != nil { // both were ready and select chose the slot
			return nil
		}
		msgs, err := s.store.ClaimDueMessages(ctx, s.now(), outboxLease, 1)
		if err != nil || len(msgs) == 0 {
			<-slots
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return err
			}
			if idle == nil || !idle() {
				return nil
			}
			continue
		}
		wg.Add(1)
		go func(m store.OutboxMessage) {
			defer wg.Done()
			defer func() { <-slots }()
			o := s.attempt(ctx, sender, m)
			if done != nil {
				done(o)
			}
		}(msgs[0])
	}
}

// attempt sends one claimed message and records the outcome: sent; failed (retried after
// OutboxBackoff, or given up after outboxMaxAttempts); or, when shutdown cut it short,
// released unchanged for the next start, the attempt not counted.
func (s *Service) attempt(ctx context.Context, sender mail.Sender, m store.OutboxMessage) outcome {
	base, cut := context.WithCancelCause(context.WithoutCancel(ctx))
	defer cut(nil)
	sendCtx, cancel := context.WithTimeout(base, outboxAttemptLimit)
	defer cancel()
	stop := context.AfterFunc(ctx, func() {
		t := time.NewTimer(OutboxShutdownGrace)
		defer t.Stop()
		select {
		case <-t.C:
			cut(errShutdown)
		case <-sendCtx.Done():
		}
	})
	defer stop()
	err := sender.Send(sendCtx, mail.Message{ID: m.ID, Created: m.Created, To: m.To, Subject: m.Subject, Body: m.Body})
	interrupted := err != nil && errors.Is(context.Cause(sendCtx), errShutdown)

	book, cancelBook := context.WithTimeout(context.WithoutCancel(ctx), outboxBookkeeping)
	defer cancelBook()
	now := s.now()
	switch {
	case err == nil:
		if rerr := s.store.MarkSent(book, m.ID, now); rerr != nil {
			// Sent but not recorded: once the lease ends it is sent again, with the same
			// Message-ID (better twice than a sign-in code never).
			s.opt.Logger.Error("email sent but not recorded as sent", "outbox_id", m.ID, "error", rerr.Error())
		}
		return outcomeSent
	case interrupted:
		s.opt.Logger.Warn("email not sent: delivery interrupted by shutdown, left in the outbox", "outbox_id", m.ID)
		if rerr := s.store.ReleaseClaim(book, m.ID); rerr != nil {
			s.opt.Logger.Error("outbox release", "outbox_id", m.ID, "error", rerr.Error()) // the lease ends on its own
		}
		return outcomeInterrupted
	default:
		next := now.Add(OutboxBackoff(m.Attempts + 1))
		if m.Attempts+1 >= outboxMaxAttempts {
			next = time.Time{} // give up; the failure stays on record
		}
		s.opt.Logger.Warn("email not sent", "outbox_id", m.ID, "attempt", m.Attempts+1, "error", err.Error())
		if rerr := s.store.RecordSendFailure(book, m.ID, now, err.Error(), next); rerr != nil {
			s.opt.Logger.Error("outbox record failure", "outbox_id", m.ID, "error", rerr.Error())
		}
		return outcomeFailed
	}
}
