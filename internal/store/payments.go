package store

import (
	"context"
	"time"

	"gorm.io/gorm"

	"github.com/herts-msp/taxi-renewals/internal/domain"
)

type paymentRow struct {
	ID              int64
	RenewalID       int64
	DriverID        int64
	CouncilID       int64
	Method          string
	AmountPence     int64
	Status          string
	ProviderID      *string
	NextURL         string
	ReturnKey       *string
	ProviderCode    string
	ProviderMessage string
	Receipt         string
	Reason          string
	RecordedBy      *int64
	CreatedAt       time.Time
	UpdatedAt       time.Time
	FinishedAt      *time.Time
	NextCheckAt     *time.Time
	Checks          int
}

func (paymentRow) TableName() string { return "payments" }

func (r paymentRow) toDomain() domain.Payment {
	p := domain.Payment{ID: r.ID, RenewalID: r.RenewalID, DriverID: r.DriverID, CouncilID: r.CouncilID,
		Method: domain.PaymentMethod(r.Method), Amount: r.AmountPence, Status: domain.PaymentStatus(r.Status),
		NextURL: r.NextURL, ProviderCode: r.ProviderCode, ProviderMessage: r.ProviderMessage, Receipt: r.Receipt,
		Reason: r.Reason, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(), Checks: r.Checks}
	if r.ProviderID != nil {
		p.ProviderID = *r.ProviderID
	}
	if r.ReturnKey != nil {
		p.ReturnKey = *r.ReturnKey
	}
	if r.RecordedBy != nil {
		p.RecordedBy = *r.RecordedBy
	}
	if r.FinishedAt != nil {
		p.FinishedAt = r.FinishedAt.UTC()
	}
	if r.NextCheckAt != nil {
		p.NextCheckAt = r.NextCheckAt.UTC()
	}
	return p
}

type refundRow struct {
	ID          int64
	RenewalID   int64
	PaymentID   int64
	CouncilID   int64
	AmountPence int64
	Reason      string
	ProviderID  string
	RecordedBy  int64
	RecordedAt  time.Time
}

func (refundRow) TableName() string { return "refunds" }

func (r refundRow) toDomain() domain.Refund {
	return domain.Refund{ID: r.ID, RenewalID: r.RenewalID, PaymentID: r.PaymentID, CouncilID: r.CouncilID, Amount: r.AmountPence,
		Reason: r.Reason, ProviderID: r.ProviderID, RecordedBy: r.RecordedBy, RecordedAt: r.RecordedAt.UTC()}
}

func feeStanding(tx *gorm.DB, renewalID int64) (domain.FeeStanding, error) {
	var prows []paymentRow
	if err := tx.Where("renewal_id = ?", renewalID).Order("id").Find(&prows).Error; err != nil {
		return domain.FeeStanding{}, err
	}
	var rrows []refundRow
	if err := tx.Where("renewal_id = ?", renewalID).Order("id").Find(&rrows).Error; err != nil {
		return domain.FeeStanding{}, err
	}
	var f domain.FeeStanding
	for _, r := range prows {
		f.Payments = append(f.Payments, r.toDomain())
	}
	for _, r := range rrows {
		f.Refunds = append(f.Refunds, r.toDomain())
	}
	return f, nil
}

// FeeStanding returns a renewal's payments and refunds, oldest first.
func (s *Store) FeeStanding(ctx context.Context, renewalID int64) (domain.FeeStanding, error) {
	return feeStanding(s.db.WithContext(ctx), renewalID)
}

// PaymentStart is what BeginOnlinePayment decided.
type PaymentStart struct {
	Renewal domain.Renewal
	Payment domain.Payment
	// Existing is set when a payment for this renewal was already in progress: the driver is
	// sent back to it instead of starting a second one (two tabs pay once).
	Existing bool
	// AlreadyPaid is set when the fee has been taken already; nothing new was recorded.
	AlreadyPaid bool
}

// BeginOnlinePayment records, before the provider is asked, that the driver is about to pay
// amount for their draft renewal. In one transaction it re-reads the draft and the driver's
// evidence and refuses unless the renewal could be sent now (domain.CheckSubmittable): no
// payment is ever started for a renewal that could not be sent. It gives the renewal its
// reference (quoted to the provider) if it has none yet.
func (s *Store) BeginOnlinePayment(ctx context.Context, driverID int64, now time.Time, amount int64, reference, returnKey string) (PaymentStart, error) {
	var out PaymentStart
	err := s.driverTransaction(ctx, driverID, func(tx *gorm.DB) error {
		r, err := openRenewal(tx, driverID)
		if err != nil {
			return err
		}
		aw, _, err := driverAwareness(tx, driverID)
		if err != nil {
			return err
		}
		if err := domain.CheckSubmittable(r, aw); err != nil {
			return err
		}
		fees, err := feeStanding(tx, r.ID)
		if err != nil {
			return err
		}
		out.Renewal = r
		if fees.Settled() {
			out.AlreadyPaid = true
			return nil
		}
		if p, ok := fees.InProgress(); ok {
			out.Payment, out.Existing = p, true
			return nil
		}
		if r.Reference == "" {
			if err := tx.Model(&renewalRow{}).Where("id = ?", r.ID).Update("reference", reference).Error; err != nil {
				return err
			}
			r.Reference = reference
			out.Renewal = r
		}
		key := returnKey
		row := paymentRow{RenewalID: r.ID, DriverID: driverID, CouncilID: r.CouncilID, Method: string(domain.PaymentOnline),
			AmountPence: amount, Status: string(domain.PaymentCreating), ReturnKey: &key, CreatedAt: now.UTC(), UpdatedAt: now.UTC()}
		// Checked by the reconciler too, in case the server dies before the provider answers.
		next := now.Add(domain.PaymentBackoff(0)).UTC()
		row.NextCheckAt = &next
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		out.Payment = row.toDomain()
		return nil
	})
	return out, err
}

// AttachProviderPayment records the provider's id and pay page for a payment being created.
func (s *Store) AttachProviderPayment(ctx context.Context, paymentID int64, providerID, nextURL string, status domain.PaymentStatus, now time.Time) (domain.Payment, error) {
	var out domain.Payment
	err := s.transaction(ctx, func(tx *gorm.DB) error {
		res := tx.Model(&paymentRow{}).Where("id = ? AND status = ?", paymentID, domain.PaymentCreating).
			Updates(map[string]any{"provider_id": providerID, "next_url": nextURL, "status": string(status), "updated_at": now.UTC()})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return domain.NewError(domain.CodeConflict, "payment_not_creating", "This payment has already been set up.")
		}
		var row paymentRow
		if err := tx.Take(&row, paymentID).Error; err != nil {
			return err
		}
		out = row.toDomain()
		return nil
	})
	return out, err
}

// AbandonPaymentCreation records that the provider did not create the payment (it refused, or
// could not be reached): the driver never reached a pay page, so no money was taken.
func (s *Store) AbandonPaymentCreation(ctx context.Context, paymentID int64, code, message string, now time.Time) error {
	return s.transaction(ctx, func(tx *gorm.DB) error {
		return tx.Model(&paymentRow{}).Where("id = ? AND status = ?", paymentID, domain.PaymentCreating).
			Updates(map[string]any{"status": string(domain.PaymentError), "provider_code": code, "provider_message": message,
				"finished_at": now.UTC(), "next_check_at": nil, "updated_at": now.UTC()}).Error
	})
}

// PaymentByReturnKey finds the payment a provider's return address names.
func (s *Store) PaymentByReturnKey(ctx context.Context, key string) (domain.Payment, error) {
	var row paymentRow
	err := s.db.WithContext(ctx).Where("return_key = ?", key).Take(&row).Error
	if isNotFound(err) {
		return domain.Payment{}, domain.NewError(domain.CodeNotFound, "no_payment", "There is no payment at this address.")
	}
	if err != nil {
		return domain.Payment{}, err
	}
	return row.toDomain(), nil
}

// PaymentByID returns one payment.
func (s *Store) PaymentByID(ctx context.Context, id int64) (domain.Payment, error) {
	var row paymentRow
	err := s.db.WithContext(ctx).Take(&row, id).Error
	if isNotFound(err) {
		return domain.Payment{}, domain.NewError(domain.CodeNotFound, "no_payment", "There is no such payment.")
	}
	if err != nil {
		return domain.Payment{}, err
	}
	return row.toDomain(), nil
}

// DuePayments lists online payments still open whose next check with the provider is due.
func (s *Store) DuePayments(ctx context.Context, now time.Time, limit int) ([]domain.Payment, error) {
	var rows []paymentRow
	err := s.db.WithContext(ctx).Where("method = ? AND finished_at IS NULL AND next_check_at <= ?", domain.PaymentOnline, now.UTC()).
		Order("next_check_at").Limit(limit).Find(&rows).Error
	if err != nil {
		return nil, err
	}
	out := make([]domain.Payment, len(rows))
	for i, r := range rows {
		out[i] = r.toDomain()
	}
	return out, nil
}

// ProviderState is what the provider says of a payment.
type ProviderState struct {
	Status   domain.PaymentStatus
	Finished bool
	Code     string
	Message  string
}

// PaymentOutcome is where a payment left its renewal.
type PaymentOutcome struct {
	Payment domain.Payment
	Renewal domain.Renewal
	// Sent is set when this call sent the renewal, or it had been sent already.
	Sent bool
	// Held is set when the fee is paid but the renewal cannot be sent yet (a new leaflet
	// version to acknowledge): it is sent when the driver acknowledges, without paying again.
	Held bool
	// Problem is why it was held.
	Problem error
}

// ApplyPaymentState records what the provider said of an online payment, in one transaction
// with its consequence: a payment that succeeded sends its draft renewal there and then (or
// holds it, if it cannot be sent yet); one still open is checked again later; one that failed is
// closed, leaving the draft as it was. Applying the same state twice changes nothing, so a
// replayed return, a second tab and the reconciler all end in one payment and one renewal.
func (s *Store) ApplyPaymentState(ctx context.Context, paymentID int64, st ProviderState, now time.Time, confirmation OutboxMessage) (PaymentOutcome, error) {
	p, err := s.PaymentByID(ctx, paymentID)
	if err != nil {
		return PaymentOutcome{}, err
	}
	var out PaymentOutcome
	err = s.driverTransaction(ctx, p.DriverID, func(tx *gorm.DB) error {
		var row paymentRow
		if err := tx.Take(&row, paymentID).Error; err != nil {
			return err
		}
		cur := row.toDomain()
		if !cur.Status.Finished() {
			update := map[string]any{"status": string(st.Status), "provider_code": st.Code, "provider_message": st.Message,
				"updated_at": now.UTC(), "checks": gorm.Expr("checks + 1")}
			if st.Finished || st.Status.Finished() {
				update["finished_at"], update["next_check_at"] = now.UTC(), nil
			} else {
				update["next_check_at"] = now.Add(domain.PaymentBackoff(cur.Checks + 1)).UTC()
			}
			if err := tx.Model(&paymentRow{}).Where("id = ?", paymentID).Updates(update).Error; err != nil {
				return err
			}
			if err := tx.Take(&row, paymentID).Error; err != nil {
				return err
			}
			cur = row.toDomain()
			if cur.Status == domain.PaymentSuccess {
				if err := addEvent(tx, domain.CaseEvent{At: now, ActorKind: domain.ActorDriver, ActorID: cur.DriverID, Kind: "paid",
					Message: domain.FormatPence(cur.Amount) + " paid online (" + cur.ProviderID + ")"}, cur.RenewalID); err != nil {
					return err
				}
			}
		}
		out.Payment = cur
		r, err := renewalByID(tx, cur.RenewalID)
		if err != nil {
			return err
		}
		out.Renewal = r
		if cur.Status != domain.PaymentSuccess {
			return nil
		}
		if r.Status != domain.StatusDraft {
			out.Sent = r.Status != domain.StatusWithdrawn
			return nil
		}
		aw, _, err := driverAwareness(tx, r.DriverID)
		if err != nil {
			return err
		}
		if err := domain.CheckSubmittable(r, aw); err != nil {
			out.Held, out.Problem = true, err
			return nil
		}
		sent, err := submitTx(tx, r, aw, now, r.Reference, confirmation)
		if err != nil {
			return err
		}
		out.Renewal, out.Sent = sent, true
		return nil
	})
	return out, err
}

// RecordOfficePayment records a fee taken at the counter or by phone, or waived, for a renewal
// whose fee is not settled yet, with its audit entry.
func (s *Store) RecordOfficePayment(ctx context.Context, p domain.Payment, ev domain.CaseEvent, audit domain.AuditEntry) (domain.Payment, error) {
	var out domain.Payment
	err := s.transaction(ctx, func(tx *gorm.DB) error {
		r, err := renewalByID(tx, p.RenewalID)
		if err != nil {
			return err
		}
		if r.Status == domain.StatusDraft || !r.Status.Open() && r.Status != domain.StatusApproved {
			return domain.NewError(domain.CodeConflict, "not_payable", "A fee can only be recorded for a renewal that has been sent and not refused or withdrawn.")
		}
		fees, err := feeStanding(tx, r.ID)
		if err != nil {
			return err
		}
		if fees.Settled() {
			return domain.NewError(domain.CodeConflict, "already_paid", "The fee for this renewal has already been paid or waived.")
		}
		if _, ok := fees.InProgress(); ok {
			return domain.NewError(domain.CodeConflict, "payment_in_progress", "The driver has an online payment in progress. Wait for it to finish (at most 90 minutes) before recording another.")
		}
		by := p.RecordedBy
		row := paymentRow{RenewalID: r.ID, DriverID: r.DriverID, CouncilID: r.CouncilID, Method: string(p.Method), AmountPence: p.Amount,
			Status: string(domain.PaymentSuccess), Receipt: p.Receipt, Reason: p.Reason, RecordedBy: &by,
			CreatedAt: p.CreatedAt.UTC(), UpdatedAt: p.CreatedAt.UTC()}
		fin := p.CreatedAt.UTC()
		row.FinishedAt = &fin
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		if err := addEvent(tx, ev, r.ID); err != nil {
			return err
		}
		out = row.toDomain()
		return appendAudit(tx, audit)
	})
	return out, err
}

// RecordRefund records money given back against a taken payment, refusing more than is left.
func (s *Store) RecordRefund(ctx context.Context, rf domain.Refund, ev domain.CaseEvent, audit domain.AuditEntry) (domain.Refund, error) {
	var out domain.Refund
	err := s.transaction(ctx, func(tx *gorm.DB) error {
		fees, err := feeStanding(tx, rf.RenewalID)
		if err != nil {
			return err
		}
		left := fees.Refundable(rf.PaymentID)
		if left <= 0 {
			return domain.NewError(domain.CodeConflict, "nothing_to_refund", "There is nothing left to refund on this payment.")
		}
		if rf.Amount > left {
			return &domain.Error{Code: domain.CodeInvalid, Reason: "refund_too_large", Message: "The refund is more than was paid.",
				Fields: map[string]string{"refund_amount": "The refund must be " + domain.FormatPence(left) + " or less"}}
		}
		row := refundRow{RenewalID: rf.RenewalID, PaymentID: rf.PaymentID, CouncilID: rf.CouncilID, AmountPence: rf.Amount,
			Reason: rf.Reason, ProviderID: rf.ProviderID, RecordedBy: rf.RecordedBy, RecordedAt: rf.RecordedAt.UTC()}
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		if err := addEvent(tx, ev, rf.RenewalID); err != nil {
			return err
		}
		out = row.toDomain()
		return appendAudit(tx, audit)
	})
	return out, err
}

// PaymentLines lists a council's payments created in [from, to), with their renewal's
// reference and the driver's licence number, for finance to reconcile.
func (s *Store) PaymentLines(ctx context.Context, councilID int64, from, to time.Time) ([]domain.PaymentLine, []domain.Refund, error) {
	var rows []paymentRow
	db := s.db.WithContext(ctx)
	if err := db.Where("council_id = ? AND created_at >= ? AND created_at < ?", councilID, from.UTC(), to.UTC()).Order("created_at, id").Find(&rows).Error; err != nil {
		return nil, nil, err
	}
	var rrows []refundRow
	if err := db.Where("council_id = ? AND recorded_at >= ? AND recorded_at < ?", councilID, from.UTC(), to.UTC()).Order("recorded_at, id").Find(&rrows).Error; err != nil {
		return nil, nil, err
	}
	type extra struct {
		ID            int64
		Reference     *string
		LicenceNumber string
	}
	ids := map[int64]bool{}
	for _, r := range rows {
		ids[r.RenewalID] = true
	}
	for _, r := range rrows {
		ids[r.RenewalID] = true
	}
	var idList []int64
	for id := range ids {
		idList = append(idList, id)
	}
	refs := map[int64]extra{}
	if len(idList) > 0 {
		var ex []extra
		if err := db.Table("renewals").Select("renewals.id, renewals.reference, drivers.licence_number").
			Joins("JOIN drivers ON drivers.id = renewals.driver_id").Where("renewals.id IN ?", idList).Scan(&ex).Error; err != nil {
			return nil, nil, err
		}
		for _, e := range ex {
			refs[e.ID] = e
		}
	}
	refunded := map[int64]int64{}
	var refunds []domain.Refund
	for _, r := range rrows {
		refunded[r.PaymentID] += r.AmountPence
		refunds = append(refunds, r.toDomain())
	}
	out := make([]domain.PaymentLine, len(rows))
	for i, r := range rows {
		e := refs[r.RenewalID]
		ref := ""
		if e.Reference != nil {
			ref = *e.Reference
		}
		out[i] = domain.PaymentLine{Payment: r.toDomain(), Reference: ref, Licence: e.LicenceNumber, Refunded: refunded[r.ID]}
	}
	return out, refunds, nil
}
