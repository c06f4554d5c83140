package service

import (
	"context"
	"strconv"

	"github.com/herts-msp/taxi-renewals/internal/domain"
)

// FeeFor is a council's fee for a licence term on a day: the fee with the latest applies-from
// date on or before it (of two from the same date, the one set last). A fee set today for a
// later date leaves today's fee as it was. With none set it returns a not-found error that
// tells the driver how to reach the licensing team.
func (s *Service) FeeFor(ctx context.Context, councilID int64, termYears int, on domain.Date) (domain.Fee, error) {
	history, err := s.councilFees(ctx, councilID)
	if err != nil {
		return domain.Fee{}, domain.Internal(err)
	}
	if f, ok := domain.CurrentFee(history, termYears, on); ok {
		return f, nil
	}
	c, err := s.councilByID(ctx, councilID)
	if err != nil {
		return domain.Fee{}, err
	}
	return domain.Fee{}, noFee(c, termYears)
}

func noFee(c domain.Council, termYears int) error {
	return domain.NewError(domain.CodeNotFound, "fee_not_set", "This council has not set a fee for a "+
		strconv.Itoa(termYears)+"-year licence yet. "+c.ContactText())
}

// Fees are a council's current fee for each licence term it has a fee for on a day, in the
// order of domain.LicenceTerms.
func (s *Service) Fees(ctx context.Context, councilID int64, on domain.Date) ([]domain.Fee, error) {
	history, err := s.councilFees(ctx, councilID)
	if err != nil {
		return nil, domain.Internal(err)
	}
	return currentFees(history, on), nil
}

func currentFees(history []domain.Fee, on domain.Date) []domain.Fee {
	var out []domain.Fee
	for _, t := range domain.LicenceTerms {
		if f, ok := domain.CurrentFee(history, t, on); ok {
			out = append(out, f)
		}
	}
	return out
}

// CouncilFees is one council's current fees, for the start page's table.
type CouncilFees struct {
	Council domain.Council
	Fees    []domain.Fee // current, per term
}

// Fee returns the current fee for a term, if set.
func (c CouncilFees) Fee(termYears int) (domain.Fee, bool) {
	for _, f := range c.Fees {
		if f.TermYears == termYears {
			return f, true
		}
	}
	return domain.Fee{}, false
}

// AllFees lists every council with its current fees on a day, in name order.
func (s *Service) AllFees(ctx context.Context, on domain.Date) ([]CouncilFees, error) {
	ref, err := s.reference(ctx)
	if err != nil {
		return nil, domain.Internal(err)
	}
	out := make([]CouncilFees, len(ref.councils))
	for i, c := range ref.councils {
		out[i] = CouncilFees{Council: c, Fees: currentFees(ref.fees[c.ID], on)}
	}
	return out, nil
}

// FeeHistory is a council's whole fee history, newest first. Administrators only.
func (s *Service) FeeHistory(ctx context.Context, a domain.Actor, councilID int64) ([]domain.Fee, error) {
	if err := a.CanAdminister(); err != nil {
		return nil, err
	}
	h, err := s.store.CouncilFees(ctx, councilID)
	if err != nil {
		return nil, domain.Internal(err)
	}
	return h, nil
}

// SetFee sets a council's fee for a licence term from a date (today or later: the fee on a day
// already past is history and stays as it was). It adds to the history, never changes it.
// Administrators only; audited.
func (s *Service) SetFee(ctx context.Context, a domain.Actor, councilSlug string, termYears int, amountPence int64, from domain.Date) (domain.Fee, error) {
	if err := a.CanAdminister(); err != nil {
		return domain.Fee{}, err
	}
	c, err := s.store.CouncilBySlug(ctx, councilSlug)
	if err != nil {
		return domain.Fee{}, err
	}
	fields := map[string]string{}
	if !domain.ValidTerm(termYears) {
		fields["term"] = "Choose a licence term of 1 or 3 years"
	}
	switch {
	case amountPence <= 0:
		fields["amount"] = "The fee must be more than £0"
	case amountPence > domain.MaxFeePence:
		fields["amount"] = "The fee must be " + domain.FormatPence(domain.MaxFeePence) + " or less"
	}
	today := s.Today()
	switch {
	case from.IsZero():
		fields["from"] = "Enter the date the fee applies from"
	case from.Before(today):
		fields["from"] = "The date the fee applies from must be today or later: fees already charged are not changed"
	}
	if len(fields) > 0 {
		return domain.Fee{}, invalidFields(fields, "term", "amount", "from")
	}
	f := domain.Fee{CouncilID: c.ID, TermYears: termYears, AmountPence: amountPence, AppliesFrom: from,
		SetAt: s.now(), SetBy: a.Label()}
	saved, err := s.store.AddFee(ctx, f, s.entry(a, "council.fee_set", c.ID, "council:"+c.Slug, map[string]any{
		"term_years": termYears, "amount_pence": amountPence, "applies_from": from.String()}))
	if err != nil {
		return domain.Fee{}, domain.Internal(err)
	}
	return saved, nil
}

// invalidFields is a validation error on several fields; its message is the first field's, in
// the order given.
func invalidFields(fields map[string]string, order ...string) error {
	msg := "Check the answers marked below."
	for _, k := range order {
		if m, ok := fields[k]; ok {
			msg = m
			break
		}
	}
	return &domain.Error{Code: domain.CodeInvalid, Reason: "invalid", Message: msg, Fields: fields}
}
