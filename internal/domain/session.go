package domain

import "time"

// Session kinds: a driver who has passed the licence check but not yet entered the code, a
// signed-in driver, and (later) a member of staff.
const (
	SessionPendingDriver = "pending_driver"
	SessionDriver        = "driver"
	SessionPendingStaff  = "pending_staff"
	SessionStaff         = "staff"
)

// Session is a server-side session; the cookie holds a random id whose hash is the key.
type Session struct {
	Kind       string
	SubjectID  int64
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time
}

// CodeOutcome is the result of checking a one-time sign-in code.
type CodeOutcome string

const (
	CodeAccepted     CodeOutcome = "accepted"
	CodeWrong        CodeOutcome = "wrong"
	CodeExpired      CodeOutcome = "expired"  // expired, used, or never sent
	CodeTooManyTries CodeOutcome = "too_many" // the attempts allowed are used up
)
