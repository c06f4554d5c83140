package store

import (
	"context"
	"time"

	"github.com/herts-msp/taxi-renewals/internal/domain"
)

type staffRow struct {
	ID              int64
	Email           string
	Name            string
	Role            string
	CouncilID       *int64
	PasswordHash    string
	TOTPSecretEnc   string     `gorm:"column:totp_secret_enc"`
	TOTPConfirmedAt *time.Time `gorm:"column:totp_confirmed_at"`
	FailedAttempts  int
	LockedUntil     *time.Time
	DisabledAt      *time.Time
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

func (staffRow) TableName() string { return "staff_users" }

func (r staffRow) toDomain() domain.StaffUser {
	u := domain.StaffUser{ID: r.ID, Email: r.Email, Name: r.Name, Role: domain.Role(r.Role),
		TOTPConfirmed: r.TOTPConfirmedAt != nil, Disabled: r.DisabledAt != nil, FailedAttempts: r.FailedAttempts, CreatedAt: r.CreatedAt.UTC()}
	if r.CouncilID != nil {
		u.CouncilID = *r.CouncilID
	}
	if r.LockedUntil != nil {
		u.LockedUntil = r.LockedUntil.UTC()
	}
	return u
}

// StaffByID finds a staff account.
func (s *Store) StaffByID(ctx context.Context, id int64) (domain.StaffUser, error) {
	var r staffRow
	err := s.db.WithContext(ctx).Take(&r, id).Error
	if isNotFound(err) {
		return domain.StaffUser{}, domain.NewError(domain.CodeNotFound, "staff_not_found", "There is no such account.")
	}
	return r.toDomain(), err
}
