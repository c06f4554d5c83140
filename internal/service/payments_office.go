package service

import (
	"context"
	"encoding/csv"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/herts-msp/taxi-renewals/internal/domain"
	"github.com/herts-msp/taxi-renewals/internal/payment"
)

// CaseFees returns a renewal's payments and refunds, for the case page.
func (s *Service) CaseFees(ctx context.Context, a domain.Actor, renewalID int64) (domain.FeeStanding, error) {
	r, err := s.store.RenewalByID(ctx, renewalID)
	if err != nil {
		return domain.FeeStanding{}, err
	}
	if err := a.CanRead(r.CouncilID, "renewal"); err != nil {
		return domain.FeeStanding{}, err
	}
	f, err := s.store.FeeStanding(ctx, renewalID)
	if err != nil {
		return f, domain.Internal(err)
	}
	return f, nil
}

// DriverFees returns the payments and refunds of one of the driver's own renewals.
func (s *Service) DriverFees(ctx context.Context, driverID, renewalID int64) (domain.FeeStanding, error) {
	r, err := s.store.RenewalByID(ctx, renewalID)
	if err != nil {
		return domain.FeeStanding{}, err
	}
	if r.DriverID != driverID {
		return domain.FeeStanding{}, domain.NotFound()
	}
	f, err := s.store.FeeStanding(ctx, renewalID)
	if err != nil {
		return f, domain.Internal(err)
	}
	return f, nil
}

// OfficePaymentInput is an officer's record of a fee taken at the counter or by phone, or
// waived.
type OfficePaymentInput struct {
	Method  domain.PaymentMethod
	Amount  string // as typed, in pounds
	Receipt string
	Reason  string
}

// RecordOfficePayment records a fee taken at the counter or by phone (amount and receipt
// number), or waived (reason), on a renewal of the officer's own council. Audited.
func (s *Service) RecordOfficePayment(ctx context.Context, a domain.Actor, renewalID int64, in OfficePaymentInput) (domain.Payment, error) {
	r, err := s.workable(ctx, a, renewalID)
	if err != nil {
		return domain.Payment{}, err
	}
	fields := map[string]string{}
	p := domain.Payment{RenewalID: r.ID, Method: in.Method, RecordedBy: a.StaffID, CreatedAt: s.now()}
	switch in.Method {
	case domain.PaymentCounter, domain.PaymentPhone:
		amount, err := domain.ParsePounds(in.Amount)
		if err != nil || amount <= 0 {
			fields["amount"] = "Enter the amount taken, in pounds, like 250 or 250.00"
		}
		p.Amount = amount
		p.Receipt = strings.TrimSpace(in.Receipt)
		if p.Receipt == "" || len(p.Receipt) > 60 {
			fields["receipt"] = "Enter the receipt number (up to 60 characters)"
		}
	case domain.PaymentWaived:
		p.Reason = strings.TrimSpace(in.Reason)
		if n := len([]rune(p.Reason)); n < 5 || n > 1000 {
			fields["waive_reason"] = "Give the reason the fee is waived (5 to 1,000 characters)"
		}
	default:
		fields["method"] = "Choose how the fee was paid: at the counter or by phone"
	}
	if len(fields) > 0 {
		return domain.Payment{}, &domain.Error{Code: domain.CodeInvalid, Reason: "office_payment", Message: "Check the payment details", Fields: fields}
	}
	what := domain.FormatPence(p.Amount) + " paid " + map[domain.PaymentMethod]string{domain.PaymentCounter: "at the counter", domain.PaymentPhone: "by phone"}[p.Method] + ", receipt " + p.Receipt
	action := "payment.recorded"
	if p.Method == domain.PaymentWaived {
		what, action = "Fee waived: "+p.Reason, "payment.waived"
	}
	return s.store.RecordOfficePayment(ctx, p,
		domain.CaseEvent{At: s.now(), ActorKind: domain.ActorStaff, ActorID: a.StaffID, Kind: "fee_recorded", Message: what},
		s.entry(a, action, r.CouncilID, "renewal:"+r.Reference, map[string]any{"method": string(p.Method), "amount_pence": p.Amount, "receipt": p.Receipt}))
}

// RefundInput is an officer's refund of a payment.
type RefundInput struct {
	PaymentID int64
	Amount    string
	Reason    string
}

// RecordRefund gives back money taken for a renewal of the officer's own council. An online
// payment is refunded through the council's provider account first; the refund is recorded
// only once the provider has accepted it. Audited.
func (s *Service) RecordRefund(ctx context.Context, a domain.Actor, renewalID int64, in RefundInput) (domain.Refund, error) {
	r, err := s.workable(ctx, a, renewalID)
	if err != nil {
		return domain.Refund{}, err
	}
	fields := map[string]string{}
	amount, perr := domain.ParsePounds(in.Amount)
	if perr != nil || amount <= 0 {
		fields["refund_amount"] = "Enter the amount to refund, in pounds, like 250 or 250.00"
	}
	reason := strings.TrimSpace(in.Reason)
	if n := len([]rune(reason)); n < 5 || n > 1000 {
		fields["refund_reason"] = "Give the reason for the refund (5 to 1,000 characters)"
	}
	if len(fields) > 0 {
		return domain.Refund{}, &domain.Error{Code: domain.CodeInvalid, Reason: "refund", Message: "Check the refund details", Fields: fields}
	}
	fees, err := s.store.FeeStanding(ctx, r.ID)
	if err != nil {
		return domain.Refund{}, domain.Internal(err)
	}
	var paid domain.Payment
	for _, p := range fees.Payments {
		if p.ID == in.PaymentID {
			paid = p
		}
	}
	left := fees.Refundable(in.PaymentID)
	if paid.ID == 0 || left <= 0 {
		return domain.Refund{}, &domain.Error{Code: domain.CodeInvalid, Reason: "refund_payment", Message: "Choose a payment with money left to refund",
			Fields: map[string]string{"payment_id": "Choose a payment with money left to refund"}}
	}
	if amount > left {
		return domain.Refund{}, &domain.Error{Code: domain.CodeInvalid, Reason: "refund_too_large", Message: "The refund is more than was paid",
			Fields: map[string]string{"refund_amount": "The refund must be " + domain.FormatPence(left) + " or less"}}
	}
	rf := domain.Refund{RenewalID: r.ID, PaymentID: paid.ID, CouncilID: r.CouncilID, Amount: amount, Reason: reason, RecordedBy: a.StaffID, RecordedAt: s.now()}
	if paid.Method == domain.PaymentOnline {
		if s.opt.Payments == nil {
			return domain.Refund{}, providerUnavailable()
		}
		key, err := s.CouncilPaymentKey(ctx, r.CouncilID)
		if err != nil {
			return domain.Refund{}, err
		}
		got, err := s.opt.Payments.Refund(ctx, key, paid.ProviderID, amount, left)
		if err != nil {
			if payment.IsUnavailable(err) {
				return domain.Refund{}, &domain.Error{Code: domain.CodeUnavailable, Reason: "payment_unavailable",
					Message: "The payment provider could not be reached, so nothing was refunded. Try again in a few minutes."}
			}
			return domain.Refund{}, &domain.Error{Code: domain.CodeConflict, Reason: "refund_refused",
				Message: "The payment provider refused the refund, so nothing was refunded: " + providerDescription(err)}
		}
		rf.ProviderID = got.ID
	}
	return s.store.RecordRefund(context.WithoutCancel(ctx), rf,
		domain.CaseEvent{At: s.now(), ActorKind: domain.ActorStaff, ActorID: a.StaffID, Kind: "refund_recorded", Message: domain.FormatPence(amount) + " refunded: " + reason},
		s.entry(a, "payment.refunded", r.CouncilID, "renewal:"+r.Reference, map[string]any{"payment": paid.ID, "amount_pence": amount}))
}

func providerDescription(err error) string {
	if pe, ok := err.(*payment.Error); ok && pe.Description != "" {
		return pe.Description
	}
	return "no reason given"
}

// WritePaymentsCSV writes a council's payments and refunds created on the days from..to
// (Europe/London, inclusive), for finance to reconcile against the provider's reports. An
// officer may only export their own council.
func (s *Service) WritePaymentsCSV(ctx context.Context, a domain.Actor, councilSlug string, from, to domain.Date, w io.Writer) error {
	c, err := s.store.CouncilBySlug(ctx, councilSlug)
	if err != nil {
		return err
	}
	if err := a.CanRead(c.ID, "council"); err != nil {
		return err
	}
	if from.IsZero() || to.IsZero() || to.Before(from) {
		return domain.NewError(domain.CodeInvalid, "period", "Choose a period: a start date on or before the end date.")
	}
	loc := s.opt.Location
	start := time.Date(from.Year, from.Month, from.Day, 0, 0, 0, 0, loc)
	end := time.Date(to.Year, to.Month, to.Day, 0, 0, 0, 0, loc).AddDate(0, 0, 1)
	lines, refunds, err := s.store.PaymentLines(ctx, c.ID, start, end)
	if err != nil {
		return domain.Internal(err)
	}
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"council", "date (Europe/London)", "kind", "renewal reference", "licence number", "method", "status",
		"provider payment id", "amount (GBP)", "receipt", "provider code", "reason"})
	refOf := map[int64]domain.PaymentLine{}
	for _, l := range lines {
		refOf[l.Payment.ID] = l
		p := l.Payment
		_ = cw.Write(safeRow([]string{c.Slug, p.CreatedAt.In(loc).Format("2006-01-02 15:04"), "payment", l.Reference, l.Licence, string(p.Method),
			string(p.Status), p.ProviderID, pounds(p.Amount), p.Receipt, p.ProviderCode, p.Reason}))
	}
	for _, r := range refunds {
		l, ok := refOf[r.PaymentID]
		if !ok {
			if p, err := s.store.PaymentByID(ctx, r.PaymentID); err == nil {
				l = domain.PaymentLine{Payment: p}
				if rn, err := s.store.RenewalByID(ctx, r.RenewalID); err == nil {
					l.Reference = rn.Reference
				}
			}
		}
		_ = cw.Write(safeRow([]string{c.Slug, r.RecordedAt.In(loc).Format("2006-01-02 15:04"), "refund", l.Reference, l.Licence, string(l.Payment.Method),
			"refunded", l.Payment.ProviderID, "-" + pounds(r.Amount), r.ProviderID, "", r.Reason}))
	}
	cw.Flush()
	return cw.Error()
}

func pounds(p int64) string {
	return strconv.FormatInt(p/100, 10) + "." + strconv.FormatInt(p%100/10, 10) + strconv.FormatInt(p%10, 10)
}

// safeRow neutralises cells a spreadsheet would run as a formula.
func safeRow(cells []string) []string {
	for i, c := range cells {
		if c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) && !(c[0] == '-' && len(c) > 1 && c[1] >= '0' && c[1] <= '9') {
			cells[i] = "'" + c
		}
	}
	return cells
}
