// Package domain holds the service's types and rules. It knows nothing of HTTP or storage.
package domain

import (
	"errors"
	"fmt"
	"strings"
)

// Code classifies an error; the web layer maps each code to one HTTP status.
type Code string

const (
	CodeInvalid      Code = "invalid"      // the input is wrong; the user can correct it
	CodeNotFound     Code = "not_found"    // no such thing, or not yours to see
	CodeForbidden    Code = "forbidden"    // you may not do this
	CodeConflict     Code = "conflict"     // the state does not allow it (yet)
	CodeRateLimited  Code = "rate_limited" // too many attempts; try later
	CodeUnauthorised Code = "unauthorised" // sign in first
	CodeUnavailable  Code = "unavailable"  // something the service depends on is away; try again soon
	CodeInternal     Code = "internal"     // a bug or an outage; never shown in detail
)

// Error is the one error type the service returns to its callers.
type Error struct {
	Code Code
	// Reason is a stable machine-readable reason, e.g. "awareness_required".
	Reason string
	// Message is safe to show to the user.
	Message string
	// Fields maps a form field to its message, for validation errors.
	Fields map[string]string
	// Err is the underlying cause, logged but never shown.
	Err error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s (%s): %s: %v", e.Code, e.Reason, e.Message, e.Err)
	}
	return fmt.Sprintf("%s (%s): %s", e.Code, e.Reason, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// NewError builds an Error with a code, a reason and a message for the user.
func NewError(code Code, reason, message string) *Error {
	return &Error{Code: code, Reason: reason, Message: message}
}

// NotFoundMessage is the one message for a record that does not exist and for one that is not
// the reader's to see (another council's): the two answers are the same, byte for byte, so a
// guessed reference reveals nothing (DESIGN §3 rule 10).
const NotFoundMessage = "There is nothing at this address. If you typed or pasted it, check it is correct."

// ReasonNotFound is the reason of NotFound.
const ReasonNotFound = "not_found"

// NotFound is the answer to a lookup of a record that does not exist or is not the reader's.
// Every lookup of a record by a reference in a web address returns it.
func NotFound() *Error {
	return &Error{Code: CodeNotFound, Reason: ReasonNotFound, Message: NotFoundMessage}
}

// Internal wraps an unexpected error. An error that is already a database fault (see
// DatabaseUnavailable) stays what it is: the service passes store errors through Internal, and the
// user must hear that the database is away, not that the service is broken.
func Internal(err error) *Error {
	var e *Error
	if errors.As(err, &e) && e.Code == CodeUnavailable {
		return e
	}
	return &Error{Code: CodeInternal, Reason: "internal", Message: "Sorry, there is a problem with the service.", Err: err}
}

// Reasons of a database the service cannot use just now; each is CodeUnavailable.
const (
	ReasonDatabaseUnreachable = "database_unreachable" // not answering, connection refused or cut, file gone
	ReasonDatabaseFull        = "database_full"        // its disk, or its size limit, is full
	ReasonDatabaseReadOnly    = "database_read_only"   // a read-only file, mount or server
	ReasonDatabaseBusy        = "database_busy"        // a lock or a connection slot was not had in time
	// The connection was lost while a write was being committed: it may or may not have been.
	ReasonDatabaseOutcomeUnknown = "database_outcome_unknown"
)

// DatabaseUnavailable is the error for a database fault (one of the ReasonDatabase… reasons): the
// statement that met it wrote nothing (unless the reason is ReasonDatabaseOutcomeUnknown), and
// trying again later may work.
func DatabaseUnavailable(reason string, err error) *Error {
	return &Error{Code: CodeUnavailable, Reason: reason, Message: DatabaseUnavailableMessage, Err: err}
}

// DatabaseUnavailableMessage is what a user is told when the database is away.
const DatabaseUnavailableMessage = "The service cannot use its database just now. Try again in a few minutes."

// IsDatabaseFault says whether err is, or wraps, a DatabaseUnavailable error, and which reason.
func IsDatabaseFault(err error) (string, bool) {
	var e *Error
	for errors.As(err, &e) {
		if e.Code == CodeUnavailable && strings.HasPrefix(e.Reason, "database_") {
			return e.Reason, true
		}
		err = e.Err
	}
	return "", false
}

// DatabaseFaultText says in a few words, for an operator, what a database fault reason means.
func DatabaseFaultText(reason string) string {
	switch reason {
	case ReasonDatabaseUnreachable:
		return "the database cannot be reached (not answering, connection refused or cut, or its file is gone)"
	case ReasonDatabaseFull:
		return "the database is full (its disk, or its size limit)"
	case ReasonDatabaseReadOnly:
		return "the database is read-only"
	case ReasonDatabaseBusy:
		return "the database is busy (a lock or a connection was not had in time)"
	case ReasonDatabaseOutcomeUnknown:
		return "the connection to the database was lost while a write was being committed"
	}
	return "the database failed"
}

// ErrorCode returns the code of err, or CodeInternal for any other error. A database fault
// anywhere inside err is CodeUnavailable, however the error was wrapped.
func ErrorCode(err error) Code {
	if _, ok := IsDatabaseFault(err); ok {
		return CodeUnavailable
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return CodeInternal
}

// ErrorReason returns the reason of err, or "" when err is not an *Error.
func ErrorReason(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ""
}

// ErrorMessage returns the message of err that is safe to show, or "" when err is not an *Error.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return ""
}
