package store

import (
	"context"

	"gorm.io/gorm"

	"github.com/herts-msp/taxi-renewals/internal/domain"
)

func councilNotFound(slug string) error {
	return domain.NewError(domain.CodeNotFound, "council_not_found", "There is no council "+slug+".")
}

// UpdateCouncilSettings sets a council's contact details, decision time, medical rule and
// coverage refresher interval, with
// an audit entry, in one transaction.
func (s *Store) UpdateCouncilSettings(ctx context.Context, slug string, set domain.CouncilSettings, audit domain.AuditEntry) (domain.Council, error) {
	var out domain.Council
	err := s.transaction(ctx, func(tx *gorm.DB) error {
		var r councilRow
		if err := tx.Where("slug = ?", slug).Take(&r).Error; err != nil {
			if isNotFound(err) {
				return councilNotFound(slug)
			}
			return err
		}
		err := tx.Model(&councilRow{}).Where("id = ?", r.ID).Updates(map[string]any{
			"phone": set.Phone, "public_email": set.PublicEmail, "web_url": set.WebURL, "address": set.Address,
			"opening_hours": set.OpeningHours, "decision_days": set.DecisionDays,
			"medical_interval_years": set.MedicalIntervalYears, "refresher_years": set.RefresherYears,
		}).Error
		if err != nil {
			return err
		}
		if err := tx.Take(&r, r.ID).Error; err != nil {
			return err
		}
		out = r.toDomain()
		audit.CouncilID, audit.Target = r.ID, "council:"+slug
		return appendAudit(tx, audit)
	})
	return out, err
}

// SetCouncilPaymentKey stores a council's sealed payment provider key (empty removes it), with an
// audit entry (which must not hold the key).
func (s *Store) SetCouncilPaymentKey(ctx context.Context, councilID int64, sealed string, audit domain.AuditEntry) error {
	return s.transaction(ctx, func(tx *gorm.DB) error {
		res := tx.Model(&councilRow{}).Where("id = ?", councilID).Update("pay_api_key_sealed", sealed)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return domain.NewError(domain.CodeNotFound, "council_not_found", "There is no such council.")
		}
		audit.CouncilID = councilID
		return appendAudit(tx, audit)
	})
}

// CouncilPaymentKeySealed returns a council's sealed payment key, empty when none is set.
func (s *Store) CouncilPaymentKeySealed(ctx context.Context, councilID int64) (string, error) {
	var r councilRow
	err := s.db.WithContext(ctx).Select("id", "pay_api_key_sealed").Take(&r, councilID).Error
	if isNotFound(err) {
		return "", domain.NewError(domain.CodeNotFound, "council_not_found", "There is no such council.")
	}
	return r.PayAPIKeySealed, err
}

// CouncilFees returns a council's whole fee history, newest first (latest applies-from, then
// latest set).
func (s *Store) CouncilFees(ctx context.Context, councilID int64) ([]domain.Fee, error) {
	var rows []feeRow
	err := s.db.WithContext(ctx).Where("council_id = ?", councilID).
		Order("applies_from DESC, set_at DESC, id DESC").Find(&rows).Error
	if err != nil {
		return nil, err
	}
	out := make([]domain.Fee, len(rows))
	for i, r := range rows {
		out[i] = r.toDomain()
	}
	return out, nil
}

// AllCouncilFees returns every council's fee history, keyed by council id, newest first.
func (s *Store) AllCouncilFees(ctx context.Context) (map[int64][]domain.Fee, error) {
	var rows []feeRow
	err := s.db.WithContext(ctx).Order("council_id, applies_from DESC, set_at DESC, id DESC").Find(&rows).Error
	if err != nil {
		return nil, err
	}
	out := map[int64][]domain.Fee{}
	for _, r := range rows {
		out[r.CouncilID] = append(out[r.CouncilID], r.toDomain())
	}
	return out, nil
}

// AddFee appends a fee to a council's history, with an audit entry, in one transaction.
func (s *Store) AddFee(ctx context.Context, f domain.Fee, audit domain.AuditEntry) (domain.Fee, error) {
	row := feeRow{CouncilID: f.CouncilID, TermYears: f.TermYears, AmountPence: f.AmountPence,
		AppliesFrom: f.AppliesFrom, SetAt: f.SetAt.UTC(), SetBy: f.SetBy}
	err := s.transaction(ctx, func(tx *gorm.DB) error {
		row.ID = 0
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		audit.CouncilID = f.CouncilID
		if audit.Detail == nil {
			audit.Detail = map[string]any{}
		}
		audit.Detail["fee_id"] = row.ID
		return appendAudit(tx, audit)
	})
	return row.toDomain(), err
}
