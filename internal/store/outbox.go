package store

import (
	"context"
	"time"

	"gorm.io/gorm"

	"github.com/herts-msp/taxi-renewals/internal/domain"
)

// OutboxMessage is an email waiting to be sent.
type OutboxMessage struct {
	ID       int64
	To       string
	Subject  string
	Body     string
	Attempts int       // failed attempts so far
	Created  time.Time // when it was queued (part of its Message-ID)
}

func enqueue(tx *gorm.DB, m OutboxMessage, now time.Time) error {
	row := outboxRow{ToAddress: m.To, Subject: m.Subject, Body: m.Body, CreatedAt: now.UTC()}
	return tx.Create(&row).Error
}

// Enqueue queues an email.
func (s *Store) Enqueue(ctx context.Context, m OutboxMessage, now time.Time) error {
	return enqueue(s.db.WithContext(ctx), m, now)
}

// UnsentMessages lists queued emails, oldest first.
func (s *Store) UnsentMessages(ctx context.Context, limit int) ([]OutboxMessage, error) {
	var rows []outboxRow
	if err := s.db.WithContext(ctx).Where("sent_at IS NULL").Order("id").Limit(limit).Find(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]OutboxMessage, len(rows))
	for i, r := range rows {
		out[i] = OutboxMessage{ID: r.ID, To: r.ToAddress, Subject: r.Subject, Body: r.Body}
	}
	return out, nil
}

// MarkSent records that a queued email was handed to the mail system.
func (s *Store) MarkSent(ctx context.Context, id int64, now time.Time) error {
	return s.db.WithContext(ctx).Model(&outboxRow{}).Where("id = ?", id).
		Updates(map[string]any{"sent_at": now.UTC(), "attempts": gorm.Expr("attempts + 1"), "claimed_until": nil}).Error
}

// ClaimDueMessages takes up to limit messages that are due (not sent, not given up, their
// next attempt reached, not claimed by another worker) and leases them until now+lease, in
// one statement, so concurrent workers never take the same message.
func (s *Store) ClaimDueMessages(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]OutboxMessage, error) {
	var rows []outboxRow
	// On PostgreSQL, FOR UPDATE SKIP LOCKED lets workers on several instances claim at once
	// without waiting for each other or taking the same row; SQLite has one writer at a time.
	lock := ""
	if s.dialect == dialectPostgres {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	err := s.db.WithContext(ctx).Raw(`UPDATE outbox SET claimed_until = ?
		WHERE id IN (SELECT id FROM outbox
			WHERE sent_at IS NULL AND failed_at IS NULL
			  AND (next_attempt_at IS NULL OR next_attempt_at <= ?)
			  AND (claimed_until IS NULL OR claimed_until <= ?)
			ORDER BY id LIMIT ?`+lock+`)
		RETURNING id, to_address, subject, body, attempts, created_at`, now.Add(lease).UTC(), now.UTC(), now.UTC(), limit).Scan(&rows).Error
	if err != nil {
		return nil, err
	}
	out := make([]OutboxMessage, len(rows))
	for i, r := range rows {
		out[i] = OutboxMessage{ID: r.ID, To: r.ToAddress, Subject: r.Subject, Body: r.Body, Attempts: r.Attempts, Created: r.CreatedAt.UTC()}
	}
	return out, nil
}

// ReleaseClaim gives a claimed message back unchanged, its attempt not counted (the attempt was
// cut short by shutdown, not refused): it is due again at once.
func (s *Store) ReleaseClaim(ctx context.Context, id int64) error {
	return s.db.WithContext(ctx).Model(&outboxRow{}).Where("id = ? AND sent_at IS NULL", id).
		Update("claimed_until", nil).Error
}

// RecordSendFailure counts a failed attempt and schedules the next one, or gives up (failed_at)
// when next is zero.
func (s *Store) RecordSendFailure(ctx context.Context, id int64, now time.Time, problem string, next time.Time) error {
	update := map[string]any{"attempts": gorm.Expr("attempts + 1"), "last_error": problem, "claimed_until": nil}
	if next.IsZero() {
		update["failed_at"] = now.UTC()
	} else {
		update["next_attempt_at"] = next.UTC()
	}
	return s.db.WithContext(ctx).Model(&outboxRow{}).Where("id = ?", id).Updates(update).Error
}

// OutboxCounts reports the outbox backlog.
func (s *Store) OutboxCounts(ctx context.Context) (domain.OutboxState, error) {
	var st domain.OutboxState
	err := s.db.WithContext(ctx).Raw(`SELECT
		COALESCE(SUM(CASE WHEN sent_at IS NULL AND failed_at IS NULL THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN sent_at IS NOT NULL THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN failed_at IS NOT NULL THEN 1 ELSE 0 END), 0) FROM outbox`).Row().Scan(&st.Waiting, &st.Sent, &st.Failed)
	return st, err
}

// MetricGauges reads the figures for /metrics.
func (s *Store) MetricGauges(ctx context.Context) (domain.Gauges, error) {
	var g domain.Gauges
	db := s.db.WithContext(ctx)
	if err := db.Model(&renewalRow{}).Where("submitted_at IS NOT NULL").Count(&g.RenewalsSubmitted).Error; err != nil {
		return g, err
	}
	if err := db.Model(&evidenceRow{}).Count(&g.Evidence).Error; err != nil {
		return g, err
	}
	var err error
	if g.Outbox, err = s.OutboxCounts(ctx); err != nil {
		return g, err
	}
	if sqlDB, err := s.db.DB(); err == nil {
		g.Pool = sqlDB.Stats()
	}
	return g, nil
}
