package service

import (
	"context"

	"github.com/herts-msp/taxi-renewals/internal/domain"
)

// SetCouncilContact sets where a council's coverage reports are emailed. Administrators only.
func (s *Service) SetCouncilContact(ctx context.Context, a domain.Actor, slug, email string) (domain.Council, error) {
	if err := a.CanAdminister(); err != nil {
		return domain.Council{}, err
	}
	normalised, err := domain.NormaliseEmail(email)
	if err != nil {
		return domain.Council{}, &domain.Error{Code: domain.CodeInvalid, Reason: "email", Message: "Enter the licensing team's email address, like licensing@council.gov.uk",
			Fields: map[string]string{"email": "Enter the licensing team's email address, like licensing@council.gov.uk"}}
	}
	return s.store.SetCouncilContact(ctx, slug, normalised, s.entry(a, "council.contact_set", 0, "", map[string]any{"email": normalised}))
}
