package service

import (
	"context"
	"strconv"

	"github.com/herts-msp/taxi-renewals/internal/domain"
)

// StaffActor turns a staff session cookie into the Actor every back-office call takes. A
// disabled account's live session stops working at once.
func (s *Service) StaffActor(ctx context.Context, token, ip string) (domain.Actor, error) {
	sess, err := s.Session(ctx, token)
	if err != nil {
		return domain.Actor{}, err
	}
	if sess.Kind != domain.SessionStaff {
		return domain.Actor{}, domain.NewError(domain.CodeUnauthorised, "no_session", "Please sign in.")
	}
	u, err := s.store.StaffByID(ctx, sess.SubjectID)
	if err != nil || u.Disabled {
		_ = s.EndSession(ctx, token)
		return domain.Actor{}, domain.NewError(domain.CodeUnauthorised, "account_disabled", "Please sign in.")
	}
	return domain.Actor{StaffID: u.ID, Name: u.Name, Email: u.Email, Role: u.Role, CouncilID: u.CouncilID, IP: ip}, nil
}

// audit appends an entry for an actor's action.
func (s *Service) audit(ctx context.Context, a domain.Actor, action string, councilID int64, target string, detail map[string]any) error {
	return s.store.AppendAudit(ctx, domain.AuditEntry{At: s.now(), ActorID: a.StaffID, Actor: a.Label(), IP: a.IP,
		Action: action, CouncilID: councilID, Target: target, Detail: detail})
}

// startStaffSession creates a staff session with a new random id. A pending session (between
// the password and the second factor) lives 15 minutes; a signed-in one at most 12 hours,
// and either ends after 30 minutes unused.
func (s *Service) startStaffSession(ctx context.Context, kind string, staffID int64) (string, error) {
	now := s.now()
	maxAge := SessionMaxAge
	if kind == domain.SessionPendingStaff {
		maxAge = PendingSessionAge
	}
	token := randomToken()
	err := s.store.CreateSession(ctx, tokenHash(token), domain.Session{
		Kind: kind, SubjectID: staffID, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(maxAge),
	})
	if err != nil {
		return "", domain.Internal(err)
	}
	return token, nil
}

// actorTarget names the actor's own account as an audit target, as store.StaffTarget does.
func actorTarget(a domain.Actor) string {
	return "staff:" + strconv.FormatInt(a.StaffID, 10) + " " + a.Email
}
