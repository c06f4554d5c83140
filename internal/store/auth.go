package store

import (
	"context"
	"crypto/subtle"
	"time"

	"gorm.io/gorm"

	"github.com/herts-msp/taxi-renewals/internal/domain"
)

// CreateSignInCode stores a new one-time code for a driver (only its keyed hash), cancels any
// earlier unused code, and queues the email that carries it, in one transaction.
func (s *Store) CreateSignInCode(ctx context.Context, driverID int64, codeHash string, now time.Time, ttl time.Duration, msg OutboxMessage) error {
	return s.driverTransaction(ctx, driverID, func(tx *gorm.DB) error {
		if err := tx.Model(&signInCodeRow{}).Where("driver_id = ? AND used_at IS NULL", driverID).
			Update("used_at", now.UTC()).Error; err != nil {
			return err
		}
		row := signInCodeRow{DriverID: driverID, CodeHash: codeHash, CreatedAt: now.UTC(), ExpiresAt: now.Add(ttl).UTC()}
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		return enqueue(tx, msg, now)
	})
}

// CheckSignInCode compares codeHash with the driver's live code. Every wrong try is counted,
// even though the caller gets an outcome rather than an error, so the count cannot be reset
// by failing.
func (s *Store) CheckSignInCode(ctx context.Context, driverID int64, codeHash string, now time.Time, maxAttempts int) (domain.CodeOutcome, int, error) {
	outcome, remaining := domain.CodeExpired, 0
	err := s.driverTransaction(ctx, driverID, func(tx *gorm.DB) error {
		var row signInCodeRow
		err := tx.Where("driver_id = ? AND used_at IS NULL", driverID).Order("id DESC").Take(&row).Error
		if isNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		if !now.Before(row.ExpiresAt) {
			return nil
		}
		if row.Attempts >= maxAttempts {
			outcome = domain.CodeTooManyTries
			return nil
		}
		row.Attempts++
		update := map[string]any{"attempts": row.Attempts}
		if subtle.ConstantTimeCompare([]byte(row.CodeHash), []byte(codeHash)) == 1 {
			outcome = domain.CodeAccepted
			update["used_at"] = now.UTC()
		} else if row.Attempts >= maxAttempts {
			outcome = domain.CodeTooManyTries
		} else {
			outcome, remaining = domain.CodeWrong, maxAttempts-row.Attempts
		}
		return tx.Model(&signInCodeRow{}).Where("id = ?", row.ID).Updates(update).Error
	})
	return outcome, remaining, err
}

// CreateSession stores a session under the hash of its id.
func (s *Store) CreateSession(ctx context.Context, idHash string, sess domain.Session) error {
	row := sessionRow{IDHash: idHash, Kind: sess.Kind, SubjectID: sess.SubjectID,
		CreatedAt: sess.CreatedAt.UTC(), LastSeenAt: sess.LastSeenAt.UTC(), ExpiresAt: sess.ExpiresAt.UTC()}
	return s.db.WithContext(ctx).Create(&row).Error
}

// sessionTouchEvery is how stale a session's recorded last use may get before a request writes
// it again. Writing it on every request made every page view a database write (and, on SQLite,
// an fsync); at most once a minute, a session may time out up to a minute before 30 idle
// minutes have passed since its very last request, never after.
const sessionTouchEvery = time.Minute

// TouchSession returns the live session with this id hash and records that it was used now (at
// most once a minute, see sessionTouchEvery). Each step is a single statement: no write
// transaction, so a page view on PostgreSQL does not queue behind the store's writers.
func (s *Store) TouchSession(ctx context.Context, idHash string, now time.Time, idle time.Duration) (domain.Session, error) {
	var row sessionRow
	err := s.db.WithContext(ctx).Where("id_hash = ?", idHash).Take(&row).Error
	if isNotFound(err) {
		return domain.Session{}, noSession()
	}
	if err != nil {
		return domain.Session{}, err
	}
	return s.liveSession(ctx, row, now, idle)
}

// SessionRead is a session read with what a request needs at its start.
type SessionRead struct {
	Session domain.Session
	// Driver is the session's driver, read with it on PostgreSQL (one round trip for both);
	// zero on SQLite, where reading it apart costs no round trip.
	Driver domain.Driver
	// ReferenceVersion is the reference data counter (see ReferenceVersion), read in the same
	// statement as the session.
	ReferenceVersion int64
}

// driverSessionSQL reads a driver's session, the driver and the reference counter in one
// statement: a signed-in driver's page starts with one round trip instead of three.
const driverSessionSQL = `SELECT s.id_hash, s.kind, s.subject_id, s.created_at, s.last_seen_at, s.expires_at,
	v.version AS ref_version,
	d.id, d.council_id, d.licence_number, d.given_names, d.family_name, d.date_of_birth, d.email, d.phone,
	d.postcode, d.licence_start, d.licence_expiry, d.status, d.status_from, d.created_at, d.updated_at
FROM sessions s
JOIN reference_data_version v ON v.id = 1
JOIN drivers d ON d.id = s.subject_id
WHERE s.id_hash = ? AND s.kind = ?`

// DriverSession returns the live driver's session with this id hash, with its driver and the
// reference data counter, and records its use as TouchSession does (expiry and idle time are
// checked the same way). Any other kind of session is no session here.
func (s *Store) DriverSession(ctx context.Context, idHash string, now time.Time, idle time.Duration) (SessionRead, error) {
	if s.dialect != dialectPostgres {
		return s.driverSessionSQLite(ctx, idHash, now, idle)
	}
	rows, err := s.db.WithContext(ctx).Raw(driverSessionSQL, idHash, domain.SessionDriver).Rows()
	if err != nil {
		return SessionRead{}, err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return SessionRead{}, err
		}
		return SessionRead{}, noSession()
	}
	var sr sessionRow
	var d driverRow
	var version int64
	if err := rows.Scan(&sr.IDHash, &sr.Kind, &sr.SubjectID, &sr.CreatedAt, &sr.LastSeenAt, &sr.ExpiresAt, &version,
		&d.ID, &d.CouncilID, &d.LicenceNumber, &d.GivenNames, &d.FamilyName, &d.DateOfBirth, &d.Email, &d.Phone,
		&d.Postcode, &d.LicenceStart, &d.LicenceExpiry, &d.Status, &d.StatusFrom, &d.CreatedAt, &d.UpdatedAt); err != nil {
		return SessionRead{}, err
	}
	if err := rows.Close(); err != nil {
		return SessionRead{}, err
	}
	sess, err := s.liveSession(ctx, sr, now, idle)
	if err != nil {
		return SessionRead{}, err
	}
	return SessionRead{Session: sess, Driver: d.toDomain(), ReferenceVersion: version}, nil
}

// sessionVersionSQL reads a session and the reference counter in one statement.
const sessionVersionSQL = `SELECT s.id_hash, s.kind, s.subject_id, s.created_at, s.last_seen_at, s.expires_at, v.version
FROM sessions s JOIN reference_data_version v ON v.id = 1
WHERE s.id_hash = ? AND s.kind = ?`

// driverSessionSQLite is DriverSession without the driver (Driver is left zero, for the caller
// to read when a page needs it): on SQLite, where a statement costs no round trip, the
// three-table join measured slower than the session with the counter alone plus the driver by
// id (store benchmarks on the project machine), and many pages need no driver.
func (s *Store) driverSessionSQLite(ctx context.Context, idHash string, now time.Time, idle time.Duration) (SessionRead, error) {
	rows, err := s.db.WithContext(ctx).Raw(sessionVersionSQL, idHash, domain.SessionDriver).Rows()
	if err != nil {
		return SessionRead{}, err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return SessionRead{}, err
		}
		return SessionRead{}, noSession()
	}
	var sr sessionRow
	var version int64
	if err := rows.Scan(&sr.IDHash, &sr.Kind, &sr.SubjectID, &sr.CreatedAt, &sr.LastSeenAt, &sr.ExpiresAt, &version); err != nil {
		return SessionRead{}, err
	}
	if err := rows.Close(); err != nil {
		return SessionRead{}, err
	}
	sess, err := s.liveSession(ctx, sr, now, idle)
	if err != nil {
		return SessionRead{}, err
	}
	return SessionRead{Session: sess, ReferenceVersion: version}, nil
}

func noSession() error {
	return domain.NewError(domain.CodeUnauthorised, "no_session", "Your session has ended. Please sign in again.")
}

// liveSession checks a session row read just now: an expired or idle session is deleted and
// refused; a live one's last use is recorded (at most once a minute).
func (s *Store) liveSession(ctx context.Context, row sessionRow, now time.Time, idle time.Duration) (domain.Session, error) {
	db := s.db.WithContext(ctx)
	idHash := row.IDHash
	if !now.Before(row.ExpiresAt) || now.Sub(row.LastSeenAt) > idle {
		if err := db.Where("id_hash = ?", idHash).Delete(&sessionRow{}).Error; err != nil {
			return domain.Session{}, err
		}
		return domain.Session{}, domain.NewError(domain.CodeUnauthorised, "session_expired", "Your session has timed out. Please sign in again.")
	}
	lastSeen := row.LastSeenAt.UTC()
	if now.Sub(row.LastSeenAt) >= sessionTouchEvery {
		lastSeen = now.UTC()
		// Only ever forwards: a slower request answered later must not move it back.
		err := db.Model(&sessionRow{}).Where("id_hash = ? AND last_seen_at < ?", idHash, lastSeen).Update("last_seen_at", lastSeen).Error
		if err != nil {
			return domain.Session{}, err
		}
	}
	return domain.Session{Kind: row.Kind, SubjectID: row.SubjectID, CreatedAt: row.CreatedAt.UTC(), LastSeenAt: lastSeen, ExpiresAt: row.ExpiresAt.UTC()}, nil
}

// DeleteSession ends a session.
func (s *Store) DeleteSession(ctx context.Context, idHash string) error {
	return s.db.WithContext(ctx).Where("id_hash = ?", idHash).Delete(&sessionRow{}).Error
}

// HitRateLimit counts one more hit for key in bucket in the fixed window containing now and
// returns the hits in that window so far, this one included.
func (s *Store) HitRateLimit(ctx context.Context, bucket, keyHash string, now time.Time, window time.Duration) (int, error) {
	start := now.UTC().Truncate(window)
	var hits int
	err := s.db.WithContext(ctx).Raw(`INSERT INTO rate_limits (bucket, key_hash, window_start, hits) VALUES (?, ?, ?, 1)
		ON CONFLICT (bucket, key_hash, window_start) DO UPDATE SET hits = rate_limits.hits + 1
		RETURNING hits`, bucket, keyHash, start).Scan(&hits).Error
	return hits, err
}

// PurgeExpired removes sessions, codes and rate-limit windows that can no longer matter.
func (s *Store) PurgeExpired(ctx context.Context, now time.Time) error {
	return s.transaction(ctx, func(tx *gorm.DB) error {
		if err := tx.Where("expires_at < ?", now.UTC()).Delete(&sessionRow{}).Error; err != nil {
			return err
		}
		if err := tx.Where("expires_at < ?", now.Add(-24*time.Hour).UTC()).Delete(&signInCodeRow{}).Error; err != nil {
			return err
		}
		return tx.Exec("DELETE FROM rate_limits WHERE window_start < ?", now.Add(-24*time.Hour).UTC()).Error
	})
}
