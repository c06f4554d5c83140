package store

import (
	"context"
	"fmt"

	"gorm.io/gorm"

	"github.com/herts-msp/taxi-renewals/internal/domain"
)

// PurgeCandidates lists drivers whose licence ended before cutoff and who have no renewal in
// progress and have not been purged already: their personal data is past its retention period.
func (s *Store) PurgeCandidates(ctx context.Context, cutoff domain.Date) ([]int64, error) {
	var ids []int64
	err := s.db.WithContext(ctx).Model(&driverRow{}).
		Where("licence_expiry < ? AND licence_number NOT LIKE 'PURGED-%'", cutoff.String()).
		Where("NOT EXISTS (SELECT 1 FROM renewals r WHERE r.driver_id = drivers.id AND r.status IN ?)", openStatuses).
		Order("id").Pluck("id", &ids).Error
	return ids, err
}

// PurgePersonalData removes the personal data of the given drivers in one transaction: names,
// date of birth, contact details and licence number on the register, renewal answers,
// decision reasons and case messages, sign-in codes, and uploaded documents (records and
// content). What the coverage figures count stays:
// the driver row (council, status), licence periods, evidence and renewal dates. Evidence holds
// no personal data and is append-only, so it is untouched.
func (s *Store) PurgePersonalData(ctx context.Context, ids []int64, audit domain.AuditEntry) error {
	if len(ids) == 0 {
		return nil
	}
	return s.transaction(ctx, func(tx *gorm.DB) error {
		for _, id := range ids {
			if err := tx.Model(&driverRow{}).Where("id = ?", id).Updates(map[string]any{
				"licence_number": fmt.Sprintf("PURGED-%d", id), "given_names": "(removed)", "family_name": "(removed)",
				"date_of_birth": "1900-01-01", "email": "", "phone": "", "postcode": "",
			}).Error; err != nil {
				return err
			}
		}
		if err := tx.Model(&renewalRow{}).Where("driver_id IN ?", ids).
			Updates(map[string]any{"answers_json": "{}", "decision_reason": ""}).Error; err != nil {
			return err
		}
		if err := tx.Exec("UPDATE renewal_events SET message = '' WHERE renewal_id IN (SELECT id FROM renewals WHERE driver_id IN ?)", ids).Error; err != nil {
			return err
		}
		if err := tx.Where("driver_id IN ?", ids).Delete(&signInCodeRow{}).Error; err != nil {
			return err
		}
		// After the drivers are marked purged above: the documents' triggers allow only that.
		if err := purgeDocuments(tx, ids); err != nil {
			return err
		}
		return appendAudit(tx, audit)
	})
}
