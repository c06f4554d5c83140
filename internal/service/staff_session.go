package service

import (
	"context"

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
