package service

import (
	"context"

	"github.com/herts-msp/taxi-renewals/internal/domain"
)

// StartSession creates a server-side session and returns the token for the cookie. A new token
// is made at every sign-in step, so a token known before sign-in is worthless after it.
func (s *Service) StartSession(ctx context.Context, kind string, subjectID int64) (string, error) {
	now := s.now()
	maxAge := SessionMaxAge
	if kind == domain.SessionPendingDriver {
		maxAge = PendingSessionAge
	}
	token := randomToken()
	err := s.store.CreateSession(ctx, tokenHash(token), domain.Session{
		Kind: kind, SubjectID: subjectID, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(maxAge),
	})
	if err != nil {
		return "", domain.Internal(err)
	}
	return token, nil
}

// Session returns the live session for a cookie token.
func (s *Service) Session(ctx context.Context, token string) (domain.Session, error) {
	if token == "" {
		return domain.Session{}, domain.NewError(domain.CodeUnauthorised, "no_session", "Please sign in.")
	}
	return s.store.TouchSession(ctx, tokenHash(token), s.now(), SessionIdleTimeout)
}

// EndSession signs out.
func (s *Service) EndSession(ctx context.Context, token string) error {
	if token == "" {
		return nil
	}
	return s.store.DeleteSession(ctx, tokenHash(token))
}

// PurgeExpired removes dead sessions, codes and rate-limit windows.
func (s *Service) PurgeExpired(ctx context.Context) error {
	return s.store.PurgeExpired(ctx, s.now())
}
