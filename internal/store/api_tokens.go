package store

import (
	"context"
	"strconv"
	"time"

	"gorm.io/gorm"

	"github.com/herts-msp/taxi-renewals/internal/domain"
)

// API tokens let analysts' tools read reports. Only a SHA-256 of each token is stored.

type apiTokenRow struct {
	ID         int64
	StaffID    int64
	Name       string
	TokenHash  string
	CreatedAt  time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
}

func (apiTokenRow) TableName() string { return "api_tokens" }

// APIToken is a token's record (never the token itself).
type APIToken struct {
	ID         int64
	StaffID    int64
	Name       string
	CreatedAt  time.Time
	LastUsedAt time.Time // zero: never used
	RevokedAt  time.Time // zero: live
}

func (r apiTokenRow) toAPIToken() APIToken {
	t := APIToken{ID: r.ID, StaffID: r.StaffID, Name: r.Name, CreatedAt: r.CreatedAt}
	if r.LastUsedAt != nil {
		t.LastUsedAt = *r.LastUsedAt
	}
	if r.RevokedAt != nil {
		t.RevokedAt = *r.RevokedAt
	}
	return t
}

// CreateAPIToken stores a new token's hash and audits it, in one transaction.
func (s *Store) CreateAPIToken(ctx context.Context, staffID int64, name, hash string, now time.Time, audit domain.AuditEntry) (APIToken, error) {
	row := apiTokenRow{StaffID: staffID, Name: name, TokenHash: hash, CreatedAt: now.UTC()}
	err := s.transaction(ctx, func(tx *gorm.DB) error {
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		audit.Target = "api_token:" + strconv.FormatInt(row.ID, 10)
		return appendAudit(tx, audit)
	})
	return row.toAPIToken(), err
}

// APITokensOf lists a member of staff's tokens, newest first.
func (s *Store) APITokensOf(ctx context.Context, staffID int64) ([]APIToken, error) {
	var rows []apiTokenRow
	if err := s.db.WithContext(ctx).Where("staff_id = ?", staffID).Order("id DESC").Find(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]APIToken, len(rows))
	for i, r := range rows {
		out[i] = r.toAPIToken()
	}
	return out, nil
}

// RevokeAPIToken revokes one of staffID's own live tokens and audits it. A token that is not
// theirs, or does not exist, is not found; revoking twice changes nothing the second time.
func (s *Store) RevokeAPIToken(ctx context.Context, id, staffID int64, now time.Time, audit domain.AuditEntry) error {
	return s.transaction(ctx, func(tx *gorm.DB) error {
		var row apiTokenRow
		if err := tx.Where("id = ? AND staff_id = ?", id, staffID).Take(&row).Error; err != nil {
			if isNotFound(err) {
				return domain.NotFound()
			}
			return err
		}
		if row.RevokedAt != nil {
			return nil
		}
		if err := tx.Model(&apiTokenRow{}).Where("id = ?", id).Update("revoked_at", now.UTC()).Error; err != nil {
			return err
		}
		audit.Target = "api_token:" + strconv.FormatInt(id, 10)
		return appendAudit(tx, audit)
	})
}

// UseAPIToken finds the live token with this hash, records that it was used, and returns it
// with its owner. A revoked or unknown token is not found.
func (s *Store) UseAPIToken(ctx context.Context, hash string, now time.Time) (APIToken, domain.StaffUser, error) {
	var row apiTokenRow
	db := s.db.WithContext(ctx)
	if err := db.Where("token_hash = ? AND revoked_at IS NULL", hash).Take(&row).Error; err != nil {
		if isNotFound(err) {
			return APIToken{}, domain.StaffUser{}, domain.NewError(domain.CodeUnauthorised, "bad_token", "The API token is not valid.")
		}
		return APIToken{}, domain.StaffUser{}, err
	}
	// Last use is kept to the minute, so a busy tool does not write on every request.
	if row.LastUsedAt == nil || now.Sub(*row.LastUsedAt) >= time.Minute {
		if err := db.Model(&apiTokenRow{}).Where("id = ?", row.ID).Update("last_used_at", now.UTC()).Error; err != nil {
			return APIToken{}, domain.StaffUser{}, err
		}
	}
	u, err := s.StaffByID(ctx, row.StaffID)
	if err != nil {
		return APIToken{}, domain.StaffUser{}, err
	}
	return row.toAPIToken(), u, nil
}
