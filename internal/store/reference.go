package store

import (
	"context"

	"github.com/herts-msp/taxi-renewals/internal/domain"
)

// ReferenceVersion reads the counter that every change to councils, their fees and the leaflet
// versions moves, in the same transaction as the change (the triggers of migration 0013). The
// service keeps those in memory and reloads them when the counter has moved, so a change made on
// another instance, or in the database by hand, is seen from the next request on.
func (s *Store) ReferenceVersion(ctx context.Context) (int64, error) {
	var v int64
	err := s.db.WithContext(ctx).Raw("SELECT version FROM reference_data_version WHERE id = 1").Scan(&v).Error
	return v, err
}

// Reference is the reference data the service keeps in memory.
type Reference struct {
	Councils []domain.Council        // in name order
	Fees     map[int64][]domain.Fee  // each council's fee history, newest first
	Leaflets []domain.LeafletVersion // every audience's versions, oldest first
}

// Reference reads the councils, their fees and every leaflet version. Everything read reflects
// at least every change committed before the call.
func (s *Store) Reference(ctx context.Context) (Reference, error) {
	var ref Reference
	var err error
	if ref.Councils, err = s.Councils(ctx); err != nil {
		return ref, err
	}
	if ref.Fees, err = s.AllCouncilFees(ctx); err != nil {
		return ref, err
	}
	ref.Leaflets, err = leafletVersions(s.db.WithContext(ctx), "")
	return ref, err
}
