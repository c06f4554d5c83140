package service

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/herts-msp/taxi-renewals/internal/domain"
	"github.com/herts-msp/taxi-renewals/internal/store"
)

// SystemActor is the command line (or the demo seed) acting as an administrator. It has no
// account; the audit log names it by label, such as "cli:alice".
func SystemActor(label string) domain.Actor {
	return domain.Actor{Name: label, Email: label, Role: domain.RoleAdmin}
}

// NewStaff is an account to create.
type NewStaff struct {
	Email       string
	Name        string
	Role        domain.Role
	CouncilSlug string // officers only
	// Password is the initial password. Empty generates one, which is returned once and
	// which the member of staff is asked to replace after signing in.
	Password string
}

// CreateStaff adds an account. It returns the generated initial password ("" when one was
// given), which is shown once and never stored or logged.
func (s *Service) CreateStaff(ctx context.Context, a domain.Actor, req NewStaff) (domain.StaffUser, string, error) {
	if err := a.CanAdminister(); err != nil {
		return domain.StaffUser{}, "", err
	}
	fields := map[string]string{}
	email, err := domain.NormaliseEmail(req.Email)
	switch {
	case errors.Is(err, domain.ErrEmpty):
		fields["email"] = "Enter their email address"
	case err != nil:
		fields["email"] = "Enter an email address in the correct format, like name@council.gov.uk"
	}
	email = strings.ToLower(email)
	name, err := domain.NormalisePersonName(req.Name)
	switch {
	case errors.Is(err, domain.ErrEmpty):
		fields["name"] = "Enter their full name"
	case err != nil:
		fields["name"] = "Their name must be 100 characters or fewer and only include letters, spaces, hyphens, apostrophes and full stops"
	}
	var councilID int64
	switch {
	case !req.Role.Valid():
		fields["role"] = "Select what the account can do"
	case req.Role == domain.RoleOfficer:
		if req.CouncilSlug == "" {
			fields["council"] = "Select the officer's council"
		} else if c, err := s.store.CouncilBySlug(ctx, req.CouncilSlug); err == nil {
			councilID = c.ID
		} else if domain.ErrorCode(err) == domain.CodeNotFound {
			fields["council"] = "Select the officer's council"
		} else {
			return domain.StaffUser{}, "", domain.Internal(err)
		}
	case req.CouncilSlug != "":
		fields["council"] = "Only officers belong to a council: leave it empty for analysts and administrators"
	}
	password, generated := req.Password, req.Password == ""
	if generated {
		password = GeneratePassword()
	} else if err := CheckPasswordRules(password, email, name); err != nil {
		fields["password"] = err.(*domain.Error).Message
	}
	if len(fields) > 0 {
		return domain.StaffUser{}, "", &domain.Error{Code: domain.CodeInvalid, Reason: "new_staff", Message: "Check the account details", Fields: fields}
	}
	hash, err := HashPassword(ctx, password)
	if err != nil {
		return domain.StaffUser{}, "", domain.Internal(err)
	}
	now := s.now()
	detail := map[string]any{"role": string(req.Role), "name": name, "initial_password": "given"}
	if generated {
		detail["initial_password"] = "generated"
	}
	if req.CouncilSlug != "" {
		detail["council"] = req.CouncilSlug
	}
	entry := domain.AuditEntry{At: now, ActorID: a.StaffID, Actor: a.Label(), IP: a.IP, Action: "account.created", CouncilID: councilID, Detail: detail}
	u, err := s.store.CreateStaff(ctx, domain.StaffUser{Email: email, Name: name, Role: req.Role, CouncilID: councilID}, hash, generated, now, entry)
	if err != nil {
		if domain.ErrorCode(err) == domain.CodeConflict {
			return domain.StaffUser{}, "", err
		}
		return domain.StaffUser{}, "", domain.Internal(err)
	}
	if !generated {
		password = ""
	}
	return u, password, nil
}

// AccountDetails describes an account for its owner or an administrator.
type AccountDetails struct {
	User                   domain.StaffUser
	CouncilName            string
	Locked                 bool
	RecoveryCodesLeft      int
	RecoveryCodesIssued    bool
	PasswordChangeRequired bool
	Sessions               int64 // signed-in sessions not yet expired
}

func (s *Service) accountDetails(ctx context.Context, u domain.StaffUser, councils map[int64]string) (AccountDetails, error) {
	out := AccountDetails{User: u, CouncilName: councils[u.CouncilID], Locked: s.now().Before(u.LockedUntil)}
	var err error
	if out.RecoveryCodesLeft, out.RecoveryCodesIssued, err = s.store.RecoveryCodesLeft(ctx, u.ID); err != nil {
		return out, domain.Internal(err)
	}
	sec, err := s.store.StaffSecretsByID(ctx, u.ID)
	if err != nil {
		return out, domain.Internal(err)
	}
	out.PasswordChangeRequired = sec.PasswordChangeRequired
	if out.Sessions, err = s.store.CountStaffSessions(ctx, u.ID, s.now()); err != nil {
		return out, domain.Internal(err)
	}
	return out, nil
}

func (s *Service) councilNames(ctx context.Context) (map[int64]string, error) {
	cs, err := s.store.Councils(ctx)
	if err != nil {
		return nil, domain.Internal(err)
	}
	m := make(map[int64]string, len(cs))
	for _, c := range cs {
		m[c.ID] = c.Name
	}
	return m, nil
}

// MyAccount describes the actor's own account.
func (s *Service) MyAccount(ctx context.Context, a domain.Actor) (AccountDetails, error) {
	u, err := s.store.StaffByID(ctx, a.StaffID)
	if err != nil {
		return AccountDetails{}, domain.Internal(err)
	}
	councils, err := s.councilNames(ctx)
	if err != nil {
		return AccountDetails{}, err
	}
	return s.accountDetails(ctx, u, councils)
}

// StaffAccounts lists every account, for an administrator.
func (s *Service) StaffAccounts(ctx context.Context, a domain.Actor) ([]AccountDetails, error) {
	if err := a.CanAdminister(); err != nil {
		return nil, err
	}
	users, err := s.store.ListStaff(ctx)
	if err != nil {
		return nil, domain.Internal(err)
	}
	councils, err := s.councilNames(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]AccountDetails, len(users))
	now := s.now()
	for i, u := range users {
		// The list needs no codes or session counts: one query, not three per account.
		out[i] = AccountDetails{User: u, CouncilName: councils[u.CouncilID], Locked: now.Before(u.LockedUntil)}
	}
	return out, nil
}

// StaffAccount describes one account, for an administrator.
func (s *Service) StaffAccount(ctx context.Context, a domain.Actor, id int64) (AccountDetails, error) {
	if err := a.CanAdminister(); err != nil {
		return AccountDetails{}, err
	}
	u, err := s.store.StaffByID(ctx, id)
	if err != nil {
		return AccountDetails{}, notFoundOr(err)
	}
	councils, err := s.councilNames(ctx)
	if err != nil {
		return AccountDetails{}, err
	}
	return s.accountDetails(ctx, u, councils)
}

// StaffAccountByEmail finds an account by email, for an administrator (the command line).
func (s *Service) StaffAccountByEmail(ctx context.Context, a domain.Actor, email string) (domain.StaffUser, error) {
	if err := a.CanAdminister(); err != nil {
		return domain.StaffUser{}, err
	}
	u, err := s.store.StaffByEmail(ctx, strings.ToLower(strings.TrimSpace(email)))
	if err != nil {
		if domain.ErrorCode(err) == domain.CodeNotFound {
			return u, domain.NewError(domain.CodeNotFound, "staff_not_found", "There is no account with the email address "+email+".")
		}
		return u, domain.Internal(err)
	}
	return u, nil
}

func notFoundOr(err error) error {
	if domain.ErrorCode(err) == domain.CodeNotFound {
		return err
	}
	return domain.Internal(err)
}

// managedAccount loads an account an administrator is about to change. Their own account is
// refused: they use their account page, and cannot lock themselves out by mistake.
func (s *Service) managedAccount(ctx context.Context, a domain.Actor, id int64) (domain.StaffUser, error) {
	if err := a.CanAdminister(); err != nil {
		return domain.StaffUser{}, err
	}
	if a.StaffID != 0 && a.StaffID == id {
		return domain.StaffUser{}, domain.NewError(domain.CodeForbidden, "own_account", "You cannot change your own account here. Use Your account instead.")
	}
	u, err := s.store.StaffByID(ctx, id)
	if err != nil {
		return u, notFoundOr(err)
	}
	return u, nil
}

func (s *Service) accountEntry(a domain.Actor, u domain.StaffUser, action string, detail map[string]any) domain.AuditEntry {
	return domain.AuditEntry{At: s.now(), ActorID: a.StaffID, Actor: a.Label(), IP: a.IP, Action: action,
		CouncilID: u.CouncilID, Target: store.StaffTarget(u), Detail: detail}
}

// DisableStaff disables an account and ends its sessions at once; it returns how many ended.
// The last enabled administrator cannot be disabled.
func (s *Service) DisableStaff(ctx context.Context, a domain.Actor, id int64) (int64, error) {
	u, err := s.managedAccount(ctx, a, id)
	if err != nil {
		return 0, err
	}
	if u.Disabled {
		return 0, nil
	}
	if u.Role == domain.RoleAdmin {
		all, err := s.store.ListStaff(ctx)
		if err != nil {
			return 0, domain.Internal(err)
		}
		enabledAdmins := 0
		for _, o := range all {
			if o.Role == domain.RoleAdmin && !o.Disabled {
				enabledAdmins++
			}
		}
		if enabledAdmins <= 1 {
			return 0, domain.NewError(domain.CodeConflict, "last_admin", "This is the only administrator account that is enabled, so it cannot be disabled.")
		}
	}
	n, err := s.store.SetStaffDisabled(ctx, u.ID, true, s.now(), s.accountEntry(a, u, "account.disabled", nil))
	if err != nil {
		return 0, domain.Internal(err)
	}
	s.opt.Logger.Info("staff account disabled", "staff_id", u.ID, "by", a.Label(), "sessions_ended", n)
	return n, nil
}

// EnableStaff re-enables a disabled account (and clears any lock).
func (s *Service) EnableStaff(ctx context.Context, a domain.Actor, id int64) error {
	u, err := s.managedAccount(ctx, a, id)
	if err != nil {
		return err
	}
	if !u.Disabled && u.LockedUntil.IsZero() && u.FailedAttempts == 0 {
		return nil
	}
	if _, err := s.store.SetStaffDisabled(ctx, u.ID, false, s.now(), s.accountEntry(a, u, "account.enabled", nil)); err != nil {
		return domain.Internal(err)
	}
	return nil
}

// ResetStaffPassword gives an account a new generated password, returned once, and ends its
// sessions. The member of staff is asked to choose their own after signing in.
func (s *Service) ResetStaffPassword(ctx context.Context, a domain.Actor, id int64) (string, error) {
	u, err := s.managedAccount(ctx, a, id)
	if err != nil {
		return "", err
	}
	password := GeneratePassword()
	hash, err := HashPassword(ctx, password)
	if err != nil {
		return "", domain.Internal(err)
	}
	if _, err := s.store.SetStaffPassword(ctx, u.ID, hash, true, "", s.now(), s.accountEntry(a, u, "account.password_reset", nil)); err != nil {
		return "", domain.Internal(err)
	}
	return password, nil
}

// ResetStaffTwoFactor removes an account's authenticator app and recovery codes and ends its
// sessions; the member of staff sets up a new app at their next sign-in.
func (s *Service) ResetStaffTwoFactor(ctx context.Context, a domain.Actor, id int64) error {
	u, err := s.managedAccount(ctx, a, id)
	if err != nil {
		return err
	}
	if _, err := s.store.ResetStaffTwoFactor(ctx, u.ID, s.now(), s.accountEntry(a, u, "account.two_factor_reset", nil)); err != nil {
		return domain.Internal(err)
	}
	return nil
}

// ProvisionTwoFactor gives an account a confirmed second-factor secret chosen by the caller.
// Only the demo seed and tests use it: they hand the secret to the user themselves.
func (s *Service) ProvisionTwoFactor(ctx context.Context, a domain.Actor, id int64, secret string) error {
	if err := a.CanAdminister(); err != nil {
		return err
	}
	if _, err := decodeTOTPSecret(secret); err != nil {
		return domain.NewError(domain.CodeInvalid, "totp_secret", err.Error())
	}
	u, err := s.store.StaffByID(ctx, id)
	if err != nil {
		return notFoundOr(err)
	}
	sealed, err := s.sealTOTPSecret(u.ID, secret)
	if err != nil {
		return domain.Internal(err)
	}
	if err := s.store.ProvisionStaffTOTP(ctx, u.ID, sealed, s.now(), s.accountEntry(a, u, "account.two_factor_provisioned", nil)); err != nil {
		return domain.Internal(err)
	}
	return nil
}

// StaffTOTPSecret opens an account's second-factor secret. Only the command line (a system
// actor, which has no account) may, for the demo's totp-code helper.
func (s *Service) StaffTOTPSecret(ctx context.Context, a domain.Actor, id int64) (string, error) {
	if a.StaffID != 0 || a.CanAdminister() != nil {
		return "", domain.NewError(domain.CodeForbidden, "command_line_only", "Only the command line can read a second-factor secret.")
	}
	sec, err := s.store.StaffSecretsByID(ctx, id)
	if err != nil {
		return "", notFoundOr(err)
	}
	if sec.TOTPSecretEnc == "" {
		return "", domain.NewError(domain.CodeConflict, "two_factor_not_set_up", "This account has no authenticator app set up.")
	}
	secret, err := s.openTOTPSecret(id, sec.TOTPSecretEnc)
	if err != nil {
		return "", domain.NewError(domain.CodeConflict, "secret_key_mismatch", err.Error())
	}
	return secret, nil
}

// AuditQuery filters the audit log.
type AuditQuery struct {
	Action     string      // prefix, e.g. "sign_in" or "account."
	ActorEmail string      // the account that acted
	From, To   domain.Date // inclusive, in the service's time zone
	Page       int         // from 1
}

// AuditPageSize is how many entries a page of the audit log shows.
const AuditPageSize = 50

// AuditLine is an audit entry with its council's name.
type AuditLine struct {
	domain.AuditEntry
	CouncilName string
}

// AuditPage is one page of the filtered audit log, newest first.
type AuditPage struct {
	Lines       []AuditLine
	Total       int64
	Page, Pages int
	// NoSuchActor is set when the actor filter names no account: nothing can match.
	NoSuchActor bool
}

// AuditLog lists the audit log for an administrator.
func (s *Service) AuditLog(ctx context.Context, a domain.Actor, q AuditQuery) (AuditPage, error) {
	if err := a.CanAdminister(); err != nil {
		return AuditPage{}, err
	}
	if q.Page < 1 {
		q.Page = 1
	}
	out := AuditPage{Page: q.Page}
	f := store.AuditFilter{Action: strings.TrimSpace(q.Action), Limit: AuditPageSize, Offset: (q.Page - 1) * AuditPageSize}
	if email := strings.ToLower(strings.TrimSpace(q.ActorEmail)); email != "" {
		u, err := s.store.StaffByEmail(ctx, email)
		if err != nil {
			if domain.ErrorCode(err) != domain.CodeNotFound {
				return out, domain.Internal(err)
			}
			out.NoSuchActor = true
			return out, nil
		}
		f.ActorID = u.ID
	}
	loc := s.opt.Location
	if !q.From.IsZero() {
		f.From = time.Date(q.From.Year, q.From.Month, q.From.Day, 0, 0, 0, 0, loc)
	}
	if !q.To.IsZero() {
		next := q.To.AddDays(1)
		f.To = time.Date(next.Year, next.Month, next.Day, 0, 0, 0, 0, loc)
	}
	entries, total, err := s.store.AuditEntries(ctx, f)
	if err != nil {
		return out, domain.Internal(err)
	}
	councils, err := s.councilNames(ctx)
	if err != nil {
		return out, err
	}
	out.Total = total
	out.Pages = int((total + AuditPageSize - 1) / AuditPageSize)
	out.Lines = make([]AuditLine, len(entries))
	for i, e := range entries {
		out.Lines[i] = AuditLine{AuditEntry: e, CouncilName: councils[e.CouncilID]}
	}
	return out, nil
}
