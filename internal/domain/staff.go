package domain

import "time"

// Role is what a member of staff may do.
type Role string

const (
	RoleOfficer Role = "officer" // works one council's renewals and register
	RoleAnalyst Role = "analyst" // reads every council, changes nothing
	RoleAdmin   Role = "admin"   // manages accounts, councils and leaflets
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r == RoleOfficer || r == RoleAnalyst || r == RoleAdmin }

// StaffUser is a member of staff's account.
type StaffUser struct {
	ID             int64
	Email          string
	Name           string
	Role           Role
	CouncilID      int64 // officers only
	TOTPConfirmed  bool
	Disabled       bool
	LockedUntil    time.Time
	FailedAttempts int
	CreatedAt      time.Time
}

// Actor is who is making a request: a signed-in member of staff. Every back-office service
// call takes one, and the tenancy rules below are the only place access is decided.
type Actor struct {
	StaffID   int64
	Name      string
	Email     string
	Role      Role
	CouncilID int64
	IP        string
}

// Label names the actor in the audit log.
func (a Actor) Label() string { return a.Email }

// CanRead decides whether the actor may see a council's records (drivers, renewals, evidence).
// Officers see their own council only; analysts and admins see all. what names the record
// for the code's reader only: the answer is NotFound, never naming it.
func (a Actor) CanRead(councilID int64, what string) error {
	switch a.Role {
	case RoleAnalyst, RoleAdmin:
		return nil
	case RoleOfficer:
		if a.CouncilID == councilID && councilID != 0 {
			return nil
		}
	}
	return NotFound() // another council's record: the same answer as a missing one
}

// CanWork decides whether the actor may change a council's casework or register. Only that
// council's officers may; an analyst is refused, an admin is refused (they manage the
// service, not licences), and another council's officer gets not-found.
func (a Actor) CanWork(councilID int64, what string) error {
	if a.Role == RoleOfficer {
		if a.CouncilID == councilID && councilID != 0 {
			return nil
		}
		return NotFound() // another council's record: the same answer as a missing one
	}
	return NewError(CodeForbidden, "read_only", "Your account can view records but not change them.")
}

// CanAdminister decides whether the actor may manage accounts and leaflets.
func (a Actor) CanAdminister() error {
	if a.Role == RoleAdmin {
		return nil
	}
	return NewError(CodeForbidden, "admin_only", "Only an administrator can do this.")
}

// AuditEntry is one line of the audit log.
type AuditEntry struct {
	ID        int64
	At        time.Time
	ActorID   int64 // 0 for the system or an unknown account
	Actor     string
	IP        string
	Action    string
	CouncilID int64
	Target    string
	Detail    map[string]any
	PrevHash  string
	Hash      string
}
