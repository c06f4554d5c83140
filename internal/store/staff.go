package store

import (
	"context"
	"strconv"
	"time"

	"gorm.io/gorm"

	"github.com/herts-msp/taxi-renewals/internal/domain"
)

type staffRow struct {
	ID                     int64
	Email                  string
	Name                   string
	Role                   string
	CouncilID              *int64
	PasswordHash           string
	TOTPSecretEnc          string     `gorm:"column:totp_secret_enc"`
	TOTPConfirmedAt        *time.Time `gorm:"column:totp_confirmed_at"`
	TOTPLastStep           int64      `gorm:"column:totp_last_step"`
	PasswordChangeRequired bool
	FailedAttempts         int
	LockedUntil            *time.Time
	DisabledAt             *time.Time
	CreatedAt              time.Time
	UpdatedAt              time.Time
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

type recoveryCodeRow struct {
	ID       int64
	StaffID  int64
	CodeHash string
	UsedAt   *time.Time
}

func (recoveryCodeRow) TableName() string { return "staff_recovery_codes" }

// StaffSecrets are an account's credentials and sign-in state. They stay in the service
// layer: domain.StaffUser, which views and logs may see, carries none of them.
type StaffSecrets struct {
	PasswordHash           string // argon2id, PHC string
	TOTPSecretEnc          string // AES-GCM sealed; "" until second-factor set-up starts
	TOTPLastStep           int64  // the last time step accepted (replay protection)
	PasswordChangeRequired bool
}

var errStaffNotFound = domain.NewError(domain.CodeNotFound, "staff_not_found", "There is no such account.")

// StaffByID finds a staff account.
func (s *Store) StaffByID(ctx context.Context, id int64) (domain.StaffUser, error) {
	var r staffRow
	err := s.db.WithContext(ctx).Take(&r, id).Error
	if isNotFound(err) {
		return domain.StaffUser{}, errStaffNotFound
	}
	return r.toDomain(), err
}

// StaffByEmail finds a staff account by its (lower-cased) email address.
func (s *Store) StaffByEmail(ctx context.Context, email string) (domain.StaffUser, error) {
	var r staffRow
	err := s.db.WithContext(ctx).Where("email = ?", email).Take(&r).Error
	if isNotFound(err) {
		return domain.StaffUser{}, errStaffNotFound
	}
	return r.toDomain(), err
}

// StaffSecretsByID returns an account's credentials.
func (s *Store) StaffSecretsByID(ctx context.Context, id int64) (StaffSecrets, error) {
	var r staffRow
	err := s.db.WithContext(ctx).Select("password_hash", "totp_secret_enc", "totp_last_step", "password_change_required").Take(&r, id).Error
	if isNotFound(err) {
		return StaffSecrets{}, errStaffNotFound
	}
	return StaffSecrets{PasswordHash: r.PasswordHash, TOTPSecretEnc: r.TOTPSecretEnc, TOTPLastStep: r.TOTPLastStep,
		PasswordChangeRequired: r.PasswordChangeRequired}, err
}

// ListStaff lists every account: administrators, then analysts, then officers, each by email.
func (s *Store) ListStaff(ctx context.Context) ([]domain.StaffUser, error) {
	var rows []staffRow
	err := s.db.WithContext(ctx).
		Order("CASE role WHEN 'admin' THEN 0 WHEN 'analyst' THEN 1 ELSE 2 END").Order("email").Find(&rows).Error
	if err != nil {
		return nil, err
	}
	out := make([]domain.StaffUser, len(rows))
	for i, r := range rows {
		out[i] = r.toDomain()
	}
	return out, nil
}

func appendAll(tx *gorm.DB, entries []domain.AuditEntry) error {
	for _, e := range entries {
		if err := appendAudit(tx, e); err != nil {
			return err
		}
	}
	return nil
}

// CreateStaff adds an account and its audit entry in one transaction. An email already in
// use is a conflict on the email field.
func (s *Store) CreateStaff(ctx context.Context, u domain.StaffUser, passwordHash string, changeRequired bool, now time.Time, audit ...domain.AuditEntry) (domain.StaffUser, error) {
	row := staffRow{Email: u.Email, Name: u.Name, Role: string(u.Role), CouncilID: optionalID(u.CouncilID),
		PasswordHash: passwordHash, PasswordChangeRequired: changeRequired, CreatedAt: now.UTC(), UpdatedAt: now.UTC()}
	err := s.transaction(ctx, func(tx *gorm.DB) error {
		var n int64
		if err := tx.Model(&staffRow{}).Where("email = ?", u.Email).Count(&n).Error; err != nil {
			return err
		}
		if n > 0 {
			const msg = "There is already an account with this email address"
			return &domain.Error{Code: domain.CodeConflict, Reason: "email_taken", Message: msg, Fields: map[string]string{"email": msg}}
		}
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		for i := range audit {
			audit[i].Target = targetOf(row.ID, row.Email)
		}
		return appendAll(tx, audit)
	})
	if err != nil {
		return domain.StaffUser{}, err
	}
	return row.toDomain(), nil
}

// targetOf names an account in the audit log: its id and email, so the entry still makes
// sense if the account is renamed.
func targetOf(id int64, email string) string {
	return "staff:" + strconv.FormatInt(id, 10) + " " + email
}

// StaffTarget is how audit entries name an account.
func StaffTarget(u domain.StaffUser) string { return targetOf(u.ID, u.Email) }

// updateStaff changes columns of one account inside tx; a missing account is not found.
func updateStaff(tx *gorm.DB, id int64, now time.Time, cols map[string]any) error {
	cols["updated_at"] = now.UTC()
	res := tx.Model(&staffRow{}).Where("id = ?", id).Updates(cols)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return errStaffNotFound
	}
	return nil
}

// endStaffSessions deletes an account's sessions (both kinds) except the one with keepHash.
func endStaffSessions(tx *gorm.DB, id int64, keepHash string) (int64, error) {
	q := tx.Where("kind IN ? AND subject_id = ?", []string{domain.SessionPendingStaff, domain.SessionStaff}, id)
	if keepHash != "" {
		q = q.Where("id_hash <> ?", keepHash)
	}
	res := q.Delete(&sessionRow{})
	return res.RowsAffected, res.Error
}

// EndStaffSessions signs an account out everywhere except the session with keepHash ("" for
// none), and returns how many sessions ended.
func (s *Store) EndStaffSessions(ctx context.Context, id int64, keepHash string, audit ...domain.AuditEntry) (int64, error) {
	var n int64
	err := s.transaction(ctx, func(tx *gorm.DB) error {
		var err error
		if n, err = endStaffSessions(tx, id, keepHash); err != nil {
			return err
		}
		return appendAll(tx, audit)
	})
	return n, err
}

// CountStaffSessions counts an account's signed-in sessions that have not expired.
func (s *Store) CountStaffSessions(ctx context.Context, id int64, now time.Time) (int64, error) {
	var n int64
	err := s.db.WithContext(ctx).Model(&sessionRow{}).
		Where("kind = ? AND subject_id = ? AND expires_at > ?", domain.SessionStaff, id, now.UTC()).Count(&n).Error
	return n, err
}

// StaffFailure is an account's state after a failed sign-in attempt.
type StaffFailure struct {
	Attempts    int       // consecutive failures, this one included
	LockedUntil time.Time // zero unless locked
	JustLocked  bool      // this failure locked the account
}

// RecordStaffFailure counts a failed password or second-factor attempt. The count runs
// across both steps and is reset only by a complete sign-in, so knowing the password does
// not buy unlimited guesses at the code. At maxFailures the account locks for lockFor; a
// lock that has run out starts the count again.
func (s *Store) RecordStaffFailure(ctx context.Context, id int64, now time.Time, maxFailures int, lockFor time.Duration, audit ...domain.AuditEntry) (StaffFailure, error) {
	var out StaffFailure
	err := s.transaction(ctx, func(tx *gorm.DB) error {
		var r staffRow
		if err := tx.Select("id", "failed_attempts", "locked_until").Take(&r, id).Error; err != nil {
			if isNotFound(err) {
				return errStaffNotFound
			}
			return err
		}
		attempts := r.FailedAttempts
		if r.LockedUntil != nil && !now.Before(*r.LockedUntil) {
			attempts = 0
			r.LockedUntil = nil
		}
		attempts++
		cols := map[string]any{"failed_attempts": attempts}
		out.Attempts = attempts
		if r.LockedUntil != nil {
			out.LockedUntil = r.LockedUntil.UTC()
		} else if attempts >= maxFailures {
			until := now.Add(lockFor).UTC()
			cols["locked_until"] = until
			out.LockedUntil, out.JustLocked = until, true
		}
		if r.LockedUntil == nil && !out.JustLocked {
			cols["locked_until"] = nil
		}
		if err := updateStaff(tx, id, now, cols); err != nil {
			return err
		}
		return appendAll(tx, audit)
	})
	return out, err
}

// RecordStaffSignIn clears the failure count and any lock after a complete sign-in.
func (s *Store) RecordStaffSignIn(ctx context.Context, id int64, now time.Time, audit ...domain.AuditEntry) error {
	return s.transaction(ctx, func(tx *gorm.DB) error {
		if err := updateStaff(tx, id, now, map[string]any{"failed_attempts": 0, "locked_until": nil}); err != nil {
			return err
		}
		return appendAll(tx, audit)
	})
}

// EnsureStaffTOTPSecret stores sealed as the account's (unconfirmed) second-factor secret
// unless it already has one, and returns the secret now stored. Reloading the set-up page
// therefore shows the same secret the user may already have added to their app.
func (s *Store) EnsureStaffTOTPSecret(ctx context.Context, id int64, sealed string, now time.Time) (string, error) {
	var stored string
	err := s.transaction(ctx, func(tx *gorm.DB) error {
		var r staffRow
		if err := tx.Select("id", "totp_secret_enc").Take(&r, id).Error; err != nil {
			if isNotFound(err) {
				return errStaffNotFound
			}
			return err
		}
		if r.TOTPSecretEnc != "" {
			stored = r.TOTPSecretEnc
			return nil
		}
		stored = sealed
		return updateStaff(tx, id, now, map[string]any{"totp_secret_enc": sealed})
	})
	return stored, err
}

// UseStaffTOTPStep accepts a second-factor code's time step only if it is later than the
// last one accepted, in one statement so two requests cannot both use the same code. With
// confirm, it also confirms the set-up (and only an unconfirmed one).
func (s *Store) UseStaffTOTPStep(ctx context.Context, id, step int64, confirm bool, now time.Time, audit ...domain.AuditEntry) (bool, error) {
	var ok bool
	err := s.transaction(ctx, func(tx *gorm.DB) error {
		cols := map[string]any{"totp_last_step": step, "updated_at": now.UTC()}
		q := tx.Model(&staffRow{}).Where("id = ? AND totp_last_step < ?", id, step)
		if confirm {
			cols["totp_confirmed_at"] = now.UTC()
			q = q.Where("totp_confirmed_at IS NULL")
		} else {
			q = q.Where("totp_confirmed_at IS NOT NULL")
		}
		res := q.Updates(cols)
		if res.Error != nil {
			return res.Error
		}
		if ok = res.RowsAffected == 1; !ok {
			return nil
		}
		return appendAll(tx, audit)
	})
	return ok, err
}

// ProvisionStaffTOTP sets a confirmed second-factor secret directly (the demo and tests,
// which hand the secret to the user themselves), replacing any earlier one and its codes.
func (s *Store) ProvisionStaffTOTP(ctx context.Context, id int64, sealed string, now time.Time, audit ...domain.AuditEntry) error {
	return s.transaction(ctx, func(tx *gorm.DB) error {
		if err := updateStaff(tx, id, now, map[string]any{"totp_secret_enc": sealed, "totp_confirmed_at": now.UTC(), "totp_last_step": 0}); err != nil {
			return err
		}
		if err := tx.Where("staff_id = ?", id).Delete(&recoveryCodeRow{}).Error; err != nil {
			return err
		}
		return appendAll(tx, audit)
	})
}

// IssueRecoveryCodes stores the hashes of an account's recovery codes, only if it has none
// yet; the caller shows the codes only when this reports they were issued. One transaction,
// so two tabs cannot both be shown a set.
func (s *Store) IssueRecoveryCodes(ctx context.Context, id int64, hashes []string, audit ...domain.AuditEntry) (bool, error) {
	var issued bool
	err := s.transaction(ctx, func(tx *gorm.DB) error {
		var n int64
		if err := tx.Model(&recoveryCodeRow{}).Where("staff_id = ?", id).Count(&n).Error; err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		rows := make([]recoveryCodeRow, len(hashes))
		for i, h := range hashes {
			rows[i] = recoveryCodeRow{StaffID: id, CodeHash: h}
		}
		if err := tx.Create(&rows).Error; err != nil {
			return err
		}
		issued = true
		return appendAll(tx, audit)
	})
	return issued, err
}

// UseRecoveryCode marks an unused recovery code of the account as used; false when there is
// no such unused code.
func (s *Store) UseRecoveryCode(ctx context.Context, id int64, hash string, now time.Time) (bool, error) {
	res := s.db.WithContext(ctx).Model(&recoveryCodeRow{}).
		Where("staff_id = ? AND code_hash = ? AND used_at IS NULL", id, hash).Update("used_at", now.UTC())
	return res.RowsAffected == 1, res.Error
}

// RecoveryCodesLeft counts an account's unused recovery codes, and whether any were issued.
func (s *Store) RecoveryCodesLeft(ctx context.Context, id int64) (left int, issued bool, err error) {
	var rows []recoveryCodeRow
	if err := s.db.WithContext(ctx).Select("id", "used_at").Where("staff_id = ?", id).Find(&rows).Error; err != nil {
		return 0, false, err
	}
	for _, r := range rows {
		if r.UsedAt == nil {
			left++
		}
	}
	return left, len(rows) > 0, nil
}

// SetStaffDisabled disables or re-enables an account. Disabling ends its sessions in the same
// transaction; enabling clears any lock.
func (s *Store) SetStaffDisabled(ctx context.Context, id int64, disabled bool, now time.Time, audit ...domain.AuditEntry) (int64, error) {
	var ended int64
	err := s.transaction(ctx, func(tx *gorm.DB) error {
		cols := map[string]any{"disabled_at": nil, "failed_attempts": 0, "locked_until": nil}
		if disabled {
			cols = map[string]any{"disabled_at": now.UTC()}
		}
		if err := updateStaff(tx, id, now, cols); err != nil {
			return err
		}
		if disabled {
			var err error
			if ended, err = endStaffSessions(tx, id, ""); err != nil {
				return err
			}
		}
		return appendAll(tx, audit)
	})
	return ended, err
}

// SetStaffPassword replaces an account's password hash, clears any lock, and ends every
// session of the account but keepHash's ("" ends them all).
func (s *Store) SetStaffPassword(ctx context.Context, id int64, hash string, changeRequired bool, keepHash string, now time.Time, audit ...domain.AuditEntry) (int64, error) {
	var ended int64
	err := s.transaction(ctx, func(tx *gorm.DB) error {
		cols := map[string]any{"password_hash": hash, "password_change_required": changeRequired, "failed_attempts": 0, "locked_until": nil}
		if err := updateStaff(tx, id, now, cols); err != nil {
			return err
		}
		var err error
		if ended, err = endStaffSessions(tx, id, keepHash); err != nil {
			return err
		}
		return appendAll(tx, audit)
	})
	return ended, err
}

// RehashStaffPassword stores a stronger hash of the same password (after the parameters
// were raised); nothing else changes.
func (s *Store) RehashStaffPassword(ctx context.Context, id int64, oldHash, newHash string) error {
	return s.db.WithContext(ctx).Model(&staffRow{}).Where("id = ? AND password_hash = ?", id, oldHash).
		Update("password_hash", newHash).Error
}

// ResetStaffTwoFactor removes an account's second factor and recovery codes and ends its
// sessions: the member of staff sets up a new authenticator at their next sign-in.
func (s *Store) ResetStaffTwoFactor(ctx context.Context, id int64, now time.Time, audit ...domain.AuditEntry) (int64, error) {
	var ended int64
	err := s.transaction(ctx, func(tx *gorm.DB) error {
		cols := map[string]any{"totp_secret_enc": "", "totp_confirmed_at": nil, "totp_last_step": 0}
		if err := updateStaff(tx, id, now, cols); err != nil {
			return err
		}
		if err := tx.Where("staff_id = ?", id).Delete(&recoveryCodeRow{}).Error; err != nil {
			return err
		}
		var err error
		if ended, err = endStaffSessions(tx, id, ""); err != nil {
			return err
		}
		return appendAll(tx, audit)
	})
	return ended, err
}
