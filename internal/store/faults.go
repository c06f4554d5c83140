package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/mattn/go-sqlite3"
	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"

	"github.com/herts-msp/taxi-renewals/internal/domain"
)

// classify is the one place a database driver's error becomes a domain error: a database that
// cannot be reached, is full or is read-only is domain.CodeUnavailable with a reason saying which
// (the service can do nothing about it, and nothing was written); any other error is returned
// as it is. The driver's error stays inside, for the log.
func classify(err error) error {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err // the request gave up or ran out of time: the web layer says so
	}
	var de *domain.Error
	if errors.As(err, &de) {
		return err // already classified (an error passes through gorm more than once)
	}
	if reason := faultOf(err); reason != "" {
		return domain.DatabaseUnavailable(reason, err)
	}
	return err
}

// faultOf names the fault behind a driver error, or "" when it is not one of the database faults.
func faultOf(err error) string {
	var se sqlite3.Error
	if errors.As(err, &se) {
		switch se.Code {
		case sqlite3.ErrFull:
			return domain.ReasonDatabaseFull
		case sqlite3.ErrReadonly:
			if se.ExtendedCode == sqlite3.ErrReadonlyDbMoved {
				return domain.ReasonDatabaseUnreachable // the file was deleted or moved under us
			}
			return domain.ReasonDatabaseReadOnly
		case sqlite3.ErrBusy, sqlite3.ErrLocked:
			return domain.ReasonDatabaseBusy
		case sqlite3.ErrCantOpen, sqlite3.ErrIoErr:
			return domain.ReasonDatabaseUnreachable
		}
		return ""
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "53100": // disk_full
			return domain.ReasonDatabaseFull
		case pe.Code == "25006": // read_only_sql_transaction (a standby, default_transaction_read_only)
			return domain.ReasonDatabaseReadOnly
		case len(pe.Code) == 5 && pe.Code[:2] == "08", // connection exception
			pe.Code == "57P01", pe.Code == "57P02", pe.Code == "57P03": // shut down, crashed, starting up
			return domain.ReasonDatabaseUnreachable
		case pe.Code == "53300", pe.Code == "53200", pe.Code == "55P03", pe.Code == "57014":
			// too many connections, out of memory, lock not available, statement timeout
			return domain.ReasonDatabaseBusy
		}
		return ""
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	switch {
	case errors.As(err, &ce), errors.As(err, &ne),
		errors.Is(err, pgconn.ErrConnClosed), errors.Is(err, driver.ErrBadConn), errors.Is(err, sql.ErrConnDone),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return domain.ReasonDatabaseUnreachable
	}
	return ""
}

// The dialects with classify as gorm's error translator (gormConfig sets TranslateError), so
// every statement, BEGIN and COMMIT gorm runs hands its error through classify. The rest of
// each dialect (savepoints, its migrator) is the driver's own; its own translation (unique
// violations into gorm.ErrDuplicatedKey) is left out, as the store reads those errors itself.
type (
	sqliteDialect   struct{ *sqlite.Dialector }
	postgresDialect struct{ *postgres.Dialector }
)

func (sqliteDialect) Translate(err error) error   { return classify(err) }
func (postgresDialect) Translate(err error) error { return classify(err) }

var (
	_ gorm.ErrorTranslator               = sqliteDialect{}
	_ gorm.SavePointerDialectorInterface = sqliteDialect{}
	_ gorm.ErrorTranslator               = postgresDialect{}
	_ gorm.SavePointerDialectorInterface = postgresDialect{}
)

// classifyRowErrors hands the errors of Raw(…).Rows() and Raw(…).Scan(…) through classify too:
// gorm's row callback sets them without its error translator.
func classifyRowErrors(gdb *gorm.DB) error {
	return gdb.Callback().Row().After("gorm:row").Register("renewals:classify", func(tx *gorm.DB) {
		if tx.Error != nil {
			tx.Error = classify(tx.Error)
		}
	})
}

// watchCommit wraps a transaction's body so that committing(err) can tell a COMMIT whose answer was
// lost from any other failure: when the body had finished and the connection was lost, the
// transaction may or may not have been committed (the server may have committed it and the answer
// never arrived), and the user must not be told it was not saved.
func watchCommit(fn func(tx *gorm.DB) error) (body func(tx *gorm.DB) error, committing func(error) error) {
	finished := false
	body = func(tx *gorm.DB) error {
		if err := fn(tx); err != nil {
			return err
		}
		finished = true
		return nil
	}
	committing = func(err error) error {
		if reason, ok := domain.IsDatabaseFault(err); finished && ok && reason == domain.ReasonDatabaseUnreachable {
			return domain.DatabaseUnavailable(domain.ReasonDatabaseOutcomeUnknown, err)
		}
		return err
	}
	return body, committing
}

// probePad is what each SQLite probe writes and frees again: a few pages, so the probe needs room
// in the file (or on its disk) as a real write would.
const probePad = 3 * 4096

// ProbeWrite proves the database takes a write now: it commits an update of the one row of
// readiness_probe (migration 0014). A read-only file, mount or server, a full disk or size limit,
// and a server that is away all fail it, classified as the store's other errors are. It runs
// outside the store's write turns (see transaction): it touches no row anything else reads.
func (s *Store) ProbeWrite(ctx context.Context) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		now := time.Now().UTC()
		if s.dialect == dialectPostgres {
			return tx.Exec("UPDATE readiness_probe SET checked_at = ? WHERE id = 1", now).Error
		}
		// SQLite writes pages only at commit, and an update that fits where the row was needs
		// no new room: the pad makes the write take pages (from the free list, or by growing the
		// file), and clearing it in the same transaction frees them for the next probe.
		if err := tx.Exec("UPDATE readiness_probe SET checked_at = ?, pad = zeroblob(?) WHERE id = 1", now, probePad).Error; err != nil {
			return err
		}
		return tx.Exec("UPDATE readiness_probe SET pad = NULL WHERE id = 1").Error
	})
}
