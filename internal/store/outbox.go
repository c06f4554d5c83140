package store

import (
	"context"
	"time"

	"gorm.io/gorm"
)

// OutboxMessage is an email waiting to be sent.
type OutboxMessage struct {
	ID      int64
	To      string
	Subject string
	Body    string
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
		Updates(map[string]any{"sent_at": now.UTC(), "attempts": gorm.Expr("attempts + 1")}).Error
}
