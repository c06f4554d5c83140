package service

import (
	"context"

	"github.com/herts-msp/taxi-renewals/internal/domain"
)

// PurgeResult says what a retention run found and did.
type PurgeResult struct {
	Cutoff  domain.Date // licences that ended before this day
	Drivers int
	Applied bool
}

// PurgePersonalData removes personal data of drivers whose licence ended more than years ago.
// Without apply it only counts (a dry run); every applied run is audited.
func (s *Service) PurgePersonalData(ctx context.Context, a domain.Actor, years int, apply bool) (PurgeResult, error) {
	if err := a.CanAdminister(); err != nil {
		return PurgeResult{}, err
	}
	if years < 1 || years > 50 {
		return PurgeResult{}, domain.NewError(domain.CodeInvalid, "retention", "The retention period must be 1 to 50 years")
	}
	cutoff := s.Today().AddYears(-years)
	ids, err := s.store.PurgeCandidates(ctx, cutoff)
	if err != nil {
		return PurgeResult{}, domain.Internal(err)
	}
	res := PurgeResult{Cutoff: cutoff, Drivers: len(ids)}
	if !apply || len(ids) == 0 {
		return res, nil
	}
	err = s.store.PurgePersonalData(ctx, ids, s.entry(a, "retention.purge", 0, "", map[string]any{
		"drivers": len(ids), "licence_ended_before": cutoff.String(), "retention_years": years}))
	if err != nil {
		return res, domain.Internal(err)
	}
	res.Applied = true
	return res, nil
}
