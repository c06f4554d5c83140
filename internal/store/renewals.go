package store

import (
	"context"
	"encoding/json"
	"time"

	"gorm.io/gorm"

	"github.com/herts-msp/taxi-renewals/internal/domain"
)

var openStatuses = []string{
	string(domain.StatusDraft), string(domain.StatusSubmitted), string(domain.StatusInReview), string(domain.StatusMoreInfo),
}

func openRenewal(tx *gorm.DB, driverID int64) (domain.Renewal, error) {
	var row renewalRow
	err := tx.Where("driver_id = ? AND status IN ?", driverID, openStatuses).Take(&row).Error
	if isNotFound(err) {
		return domain.Renewal{}, domain.NewError(domain.CodeNotFound, "no_open_renewal", "You have no renewal in progress.")
	}
	if err != nil {
		return domain.Renewal{}, err
	}
	return row.toDomain()
}

// OpenRenewal returns the driver's renewal in progress, draft or submitted.
func (s *Store) OpenRenewal(ctx context.Context, driverID int64) (domain.Renewal, error) {
	return openRenewal(s.db.WithContext(ctx), driverID)
}

// StartRenewal returns the driver's renewal in progress, creating a draft (with the contact
// details from the register filled in) when there is none.
func (s *Store) StartRenewal(ctx context.Context, d domain.Driver, now time.Time) (domain.Renewal, error) {
	var out domain.Renewal
	err := s.driverTransaction(ctx, d.ID, func(tx *gorm.DB) error {
		r, err := openRenewal(tx, d.ID)
		if err == nil {
			out = r
			return nil
		}
		if domain.ErrorCode(err) != domain.CodeNotFound {
			return err
		}
		answers := domain.Answers{Contact: domain.ContactAnswers{Email: d.Email, Phone: d.Phone, Postcode: d.Postcode}}
		b, err := json.Marshal(answers)
		if err != nil {
			return err
		}
		row := renewalRow{DriverID: d.ID, CouncilID: d.CouncilID, Status: string(domain.StatusDraft), Channel: "online",
			AnswersJSON: string(b), CreatedAt: now.UTC(), UpdatedAt: now.UTC()}
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		out, err = row.toDomain()
		return err
	})
	return out, err
}

// UpdateDraft changes the answers of the driver's draft renewal. It refuses once the renewal
// has been submitted.
func (s *Store) UpdateDraft(ctx context.Context, driverID int64, now time.Time, change func(*domain.Answers)) (domain.Renewal, error) {
	var out domain.Renewal
	err := s.driverTransaction(ctx, driverID, func(tx *gorm.DB) error {
		r, err := openRenewal(tx, driverID)
		if err != nil {
			return err
		}
		if r.Status != domain.StatusDraft {
			return domain.NewError(domain.CodeConflict, "not_draft", "You have already sent this renewal, so its answers can no longer be changed.")
		}
		before := r.Answers
		change(&r.Answers)
		if !domain.WithoutPaymentChanges(before, r.Answers) {
			fees, err := feeStanding(tx, r.ID)
			if err != nil {
				return err
			}
			if fees.Settled() {
				return domain.NewError(domain.CodeConflict, "paid_locked", "You have paid the fee, so your answers can no longer be changed. Contact the licensing team if something is wrong.")
			}
			if _, ok := fees.InProgress(); ok {
				return domain.NewError(domain.CodeConflict, "payment_in_progress", "You have a payment in progress. Finish or cancel it before you change your answers.")
			}
		}
		b, err := json.Marshal(r.Answers)
		if err != nil {
			return err
		}
		res := tx.Model(&renewalRow{}).Where("id = ? AND status = ?", r.ID, domain.StatusDraft).
			Updates(map[string]any{"answers_json": string(b), "updated_at": now.UTC()})
		if res.Error != nil {
			return res.Error
		}
		r.UpdatedAt = now.UTC()
		out = r
		return nil
	})
	return out, err
}

// SubmitRenewal sends the driver's draft. Inside one transaction it re-reads the draft and the
// driver's evidence and applies domain.CheckSubmittable, so no request can skip the awareness
// step; with requirePayment (the council takes the fee online) it also refuses unless the fee is
// paid. Submitting an already-submitted renewal returns it unchanged: a double submit or a retry
// produces one renewal.
func (s *Store) SubmitRenewal(ctx context.Context, driverID int64, now time.Time, reference string, requirePayment bool, confirmation OutboxMessage) (domain.Renewal, error) {
	var out domain.Renewal
	err := s.driverTransaction(ctx, driverID, func(tx *gorm.DB) error {
		r, err := openRenewal(tx, driverID)
		if err != nil {
			return err
		}
		if r.Status != domain.StatusDraft {
			out = r
			return nil
		}
		aw, _, err := driverAwareness(tx, driverID)
		if err != nil {
			return err
		}
		if err := domain.CheckSubmittable(r, aw); err != nil {
			return err
		}
		if requirePayment {
			fees, err := feeStanding(tx, r.ID)
			if err != nil {
				return err
			}
			if !fees.Settled() {
				return domain.NewError(domain.CodeConflict, "payment_required", "Pay the fee to send your renewal.")
			}
		}
		if r.Reference != "" {
			reference = r.Reference
		}
		out, err = submitTx(tx, r, aw, now, reference, confirmation)
		return err
	})
	return out, err
}

// submitTx sends draft r, which the caller has checked with domain.CheckSubmittable inside tx.
func submitTx(tx *gorm.DB, r domain.Renewal, aw domain.Awareness, now time.Time, reference string, confirmation OutboxMessage) (domain.Renewal, error) {
	res := tx.Model(&renewalRow{}).Where("id = ? AND status = ?", r.ID, domain.StatusDraft).Updates(map[string]any{
		"status": string(domain.StatusSubmitted), "reference": reference, "submitted_at": now.UTC(),
		"updated_at": now.UTC(), "ack_evidence_id": aw.Acknowledgement.ID,
	})
	if res.Error != nil {
		return r, res.Error
	}
	if res.RowsAffected != 1 {
		return r, domain.NewError(domain.CodeConflict, "not_draft", "This renewal has already been sent.")
	}
	if err := addEvent(tx, domain.CaseEvent{At: now, ActorKind: domain.ActorDriver, ActorID: r.DriverID, Kind: "submitted"}, r.ID); err != nil {
		return r, err
	}
	if confirmation.To != "" {
		if err := enqueue(tx, confirmation, now); err != nil {
			return r, err
		}
	}
	r.Status, r.Reference, r.SubmittedAt, r.AckEvidenceID = domain.StatusSubmitted, reference, now.UTC(), aw.Acknowledgement.ID
	return r, nil
}

// LatestRenewal returns the driver's most recent renewal, open or decided.
func (s *Store) LatestRenewal(ctx context.Context, driverID int64) (domain.Renewal, error) {
	var row renewalRow
	err := s.db.WithContext(ctx).Where("driver_id = ?", driverID).Order("id DESC").Take(&row).Error
	if isNotFound(err) {
		return domain.Renewal{}, domain.NewError(domain.CodeNotFound, "no_renewal", "You have not started a renewal.")
	}
	if err != nil {
		return domain.Renewal{}, err
	}
	return row.toDomain()
}

// CountRenewals counts renewals in a status (used by tests and health figures).
func (s *Store) CountRenewals(ctx context.Context, driverID int64) (int64, error) {
	var n int64
	err := s.db.WithContext(ctx).Model(&renewalRow{}).Where("driver_id = ?", driverID).Count(&n).Error
	return n, err
}
