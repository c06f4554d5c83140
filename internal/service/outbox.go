package service

import (
	"context"
	"time"

	"github.com/herts-msp/taxi-renewals/internal/mail"
)

// Outbox delivery: messages are claimed for a lease, sent, and on failure retried with a
// growing delay until they are given up on.
const (
	outboxLease       = 2 * time.Minute
	outboxBatch       = 50
	outboxMaxAttempts = 8
)

// OutboxBackoff is the wait before attempt n+1 after n failed attempts: 1, 2, 4 … minutes, at
// most six hours.
func OutboxBackoff(failed int) time.Duration {
	d := time.Minute << min(max(failed-1, 0), 9)
	return min(d, 6*time.Hour)
}

// DeliverOutbox sends the messages that are due, once each.
func (s *Service) DeliverOutbox(ctx context.Context, sender mail.Sender) (sent, failed int, err error) {
	msgs, err := s.store.ClaimDueMessages(ctx, s.now(), outboxLease, outboxBatch)
	if err != nil {
		return 0, 0, err
	}
	for _, m := range msgs {
		if ctx.Err() != nil {
			return sent, failed, ctx.Err()
		}
		if err := sender.Send(ctx, mail.Message{ID: m.ID, To: m.To, Subject: m.Subject, Body: m.Body}); err != nil {
			failed++
			next := s.now().Add(OutboxBackoff(m.Attempts + 1))
			if m.Attempts+1 >= outboxMaxAttempts {
				next = time.Time{} // give up; the failure stays on record
			}
			s.opt.Logger.Warn("email not sent", "outbox_id", m.ID, "attempt", m.Attempts+1, "error", err.Error())
			if rerr := s.store.RecordSendFailure(ctx, m.ID, s.now(), err.Error(), next); rerr != nil {
				return sent, failed, rerr
			}
			continue
		}
		if err := s.store.MarkSent(ctx, m.ID, s.now()); err != nil {
			return sent, failed, err
		}
		sent++
	}
	return sent, failed, nil
}

// RunOutbox delivers due messages every interval until ctx ends; it finishes the message in
// hand before stopping.
func (s *Service) RunOutbox(ctx context.Context, sender mail.Sender, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, _, err := s.DeliverOutbox(context.WithoutCancel(ctx), sender); err != nil {
			s.opt.Logger.Error("outbox", "error", err.Error())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
