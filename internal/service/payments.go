package service

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/herts-msp/taxi-renewals/internal/domain"
	"github.com/herts-msp/taxi-renewals/internal/payment"
	"github.com/herts-msp/taxi-renewals/internal/store"
)

// PaymentProvider is the council's card payment service (GOV.UK Pay's public API, spoken by
// payment.Client). Each council has its own account, so every call names its API key.
type PaymentProvider interface {
	Create(ctx context.Context, apiKey string, r payment.CreateRequest) (payment.Payment, error)
	Get(ctx context.Context, apiKey, paymentID string) (payment.Payment, error)
	Refund(ctx context.Context, apiKey, paymentID string, amount, refundAmountAvailable int64) (payment.Refund, error)
}

// Checkout is what check your answers shows about the fee.
type Checkout struct {
	// Fee is the fee for the licence term the driver asked for; FeeProblem says why there is
	// none (no term chosen yet, or the council has not set one).
	Fee        domain.Fee
	FeeProblem string
	// Online is set when the council takes the fee online; otherwise the renewal is sent and the
	// licensing team takes the fee another way.
	Online   bool
	Standing domain.FeeStanding
	// Unpaid explains the newest online payment that finished without money being taken.
	Unpaid string
}

// Checkout works out the fee for the driver's draft and where its payment stands. A payment
// still open is checked with the provider first, so the page never says "not paid" about one
// that has just been taken.
func (s *Service) Checkout(ctx context.Context, driverID int64) (Checkout, error) {
	r, err := s.store.OpenRenewal(ctx, driverID)
	if err != nil {
		return Checkout{}, err
	}
	return s.CheckoutOf(ctx, r)
}

// CheckoutOf is Checkout for the driver's open renewal r, read by the caller in this request
// (DriverHome's), so the page does not read it twice.
func (s *Service) CheckoutOf(ctx context.Context, r domain.Renewal) (Checkout, error) {
	var err error
	var out Checkout
	out.Online = s.onlinePayments(ctx, r.CouncilID)
	if r.Answers.Licence.TermYears == 0 {
		out.FeeProblem = "The fee depends on the licence term you choose in your licence details."
	} else if f, err := s.FeeFor(ctx, r.CouncilID, r.Answers.Licence.TermYears, s.Today()); err == nil {
		out.Fee = f
	} else if domain.ErrorCode(err) == domain.CodeNotFound {
		out.FeeProblem = domain.ErrorMessage(err)
	} else {
		return Checkout{}, err
	}
	out.Standing, err = s.store.FeeStanding(ctx, r.ID)
	if err != nil {
		return Checkout{}, domain.Internal(err)
	}
	if p, ok := out.Standing.InProgress(); ok && p.ProviderID != "" {
		if _, err := s.refreshPayment(ctx, p); err == nil {
			if out.Standing, err = s.store.FeeStanding(ctx, r.ID); err != nil {
				return Checkout{}, domain.Internal(err)
			}
		}
	}
	if p, ok := out.Standing.LastUnpaid(); ok {
		out.Unpaid = p.UnpaidMessage()
	}
	return out, nil
}

// onlinePayments reports whether the council's fee is taken online: a provider is configured
// and the council has given its account's API key.
func (s *Service) onlinePayments(ctx context.Context, councilID int64) bool {
	if s.opt.Payments == nil {
		return false
	}
	if c, err := s.councilByID(ctx, councilID); err == nil && !c.PaymentKeySet {
		return false // no key stored: nothing to read or open
	}
	_, err := s.CouncilPaymentKey(ctx, councilID)
	return err == nil
}

// StartPayment begins paying the fee for the driver's draft and returns the provider's page to
// send the driver to. expectedAmount is the fee the driver was shown: if it has changed since,
// nothing is started and they are shown the new one. No payment is created unless the renewal
// could be sent now (every section answered, a current acknowledgement held), checked inside
// the transaction that records the payment. A payment already open for the renewal (a second
// tab, the back button) is resumed, not doubled.
func (s *Service) StartPayment(ctx context.Context, driverID int64, expectedAmount int64) (string, error) {
	driver, err := s.driverByID(ctx, driverID)
	if err != nil {
		return "", err
	}
	council, err := s.councilByID(ctx, driver.CouncilID)
	if err != nil {
		return "", domain.Internal(err)
	}
	r, err := s.draft(ctx, driverID)
	if err != nil {
		return "", err
	}
	if missing := r.Answers.MissingSections(); len(missing) > 0 {
		return "", domain.CheckSubmittable(r, domain.Awareness{})
	}
	noOnline := domain.NewError(domain.CodeConflict, "no_online_payment", council.Name+" does not take the fee online. Send your renewal and the licensing team will contact you to take the fee.")
	if s.opt.Payments == nil {
		return "", noOnline
	}
	apiKey, err := s.CouncilPaymentKey(ctx, council.ID)
	if domain.ErrorCode(err) == domain.CodeNotFound {
		return "", noOnline
	}
	if err != nil {
		return "", err
	}
	fee, err := s.FeeFor(ctx, council.ID, r.Answers.Licence.TermYears, s.Today())
	if err != nil {
		return "", err
	}
	if fee.AmountPence != expectedAmount {
		return "", domain.NewError(domain.CodeConflict, "fee_changed", "The fee for your licence is now "+fee.Display()+". Check it, then pay.")
	}
	for attempt := 0; attempt < 2; attempt++ {
		start, err := s.store.BeginOnlinePayment(ctx, driverID, s.now(), fee.AmountPence, NewReference(), newReturnKey())
		if err != nil {
			return "", err
		}
		if start.AlreadyPaid {
			return "/renew", nil // the task list or status page says where it stands
		}
		if start.Existing {
			p := start.Payment
			if p.Status == domain.PaymentCreating {
				if s.now().Sub(p.CreatedAt) < creatingGrace {
					return "", domain.NewError(domain.CodeConflict, "payment_being_set_up", "Your payment is being set up in another window. Wait a few seconds, then try again.")
				}
				// The request that was setting it up is long gone (the server stopped, or the
				// provider never answered): the driver never saw a pay page, so close it and
				// start again.
				if err := s.store.AbandonPaymentCreation(ctx, p.ID, "", "not created: the request setting it up stopped before the provider answered", s.now()); err != nil {
					return "", domain.Internal(err)
				}
				continue
			}
			out, err := s.refreshPayment(ctx, p)
			if err != nil {
				if errors.Is(err, errProviderUnavailable) {
					return "", providerUnavailable()
				}
				return "", err
			}
			if !out.Payment.Status.Finished() {
				return out.Payment.NextURL, nil
			}
			if out.Payment.Status == domain.PaymentSuccess {
				return "/renew", nil
			}
			continue // that one ended unpaid: start a new one
		}
		return s.createAtProvider(ctx, apiKey, start, driver, council, fee)
	}
	return "", domain.NewError(domain.CodeConflict, "payment_retry", "Your payment could not be started. Try again.")
}

func (s *Service) createAtProvider(ctx context.Context, apiKey string, start store.PaymentStart, driver domain.Driver, council domain.Council, fee domain.Fee) (string, error) {
	p, r := start.Payment, start.Renewal
	email := driver.Email
	if r.Answers.Contact.Email != "" {
		email = r.Answers.Contact.Email
	}
	term := "1 year"
	if fee.TermYears != 1 {
		term = fmt.Sprintf("%d years", fee.TermYears)
	}
	req := payment.CreateRequest{
		Amount:      p.Amount,
		Reference:   r.Reference,
		Description: "Taxi driver licence renewal, " + term + ", " + council.Name,
		ReturnURL:   strings.TrimRight(s.opt.BaseURL, "/") + "/renew/payment/" + p.ReturnKey,
		Email:       email,
		Language:    "en",
		Metadata:    map[string]string{"renewal_reference": r.Reference, "council": council.Slug},
	}
	made, err := s.opt.Payments.Create(ctx, apiKey, req)
	if err != nil {
		// The driver never reached a pay page, so no money can have been taken.
		code, msg := "", "not created"
		var pe *payment.Error
		if errors.As(err, &pe) {
			code, msg = pe.Code, pe.Description
		}
		if aerr := s.store.AbandonPaymentCreation(context.WithoutCancel(ctx), p.ID, code, msg, s.now()); aerr != nil {
			s.opt.Logger.Error("abandon payment", "payment", p.ID, "error", aerr.Error())
		}
		s.opt.Logger.Warn("payment provider refused or failed to create a payment", "payment", p.ID, "error", err.Error())
		if payment.IsUnavailable(err) {
			return "", providerUnavailable()
		}
		return "", domain.Internal(err)
	}
	if made.NextURL == "" || made.ID == "" {
		_ = s.store.AbandonPaymentCreation(context.WithoutCancel(ctx), p.ID, "", "no pay page in the answer", s.now())
		return "", providerUnavailable()
	}
	if _, err := s.store.AttachProviderPayment(context.WithoutCancel(ctx), p.ID, made.ID, made.NextURL, providerStatus(made.State.Status), s.now()); err != nil {
		return "", err
	}
	return made.NextURL, nil
}

var errProviderUnavailable = errors.New("payment provider unavailable")

// creatingGrace is how long a payment may stay "being set up": longer than any request to the
// provider can take (the client gives up after 10 s, the request deadline is 15 s).
const creatingGrace = 30 * time.Second

func providerUnavailable() error {
	return &domain.Error{Code: domain.CodeUnavailable, Reason: "payment_unavailable",
		Message: "Online payment is not available at the moment. Nothing has been paid and your answers are saved. Try again in a few minutes."}
}

func newReturnKey() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func providerStatus(s string) domain.PaymentStatus {
	switch st := domain.PaymentStatus(s); st {
	case domain.PaymentCreated, domain.PaymentStarted, domain.PaymentSubmitted, domain.PaymentCapturable,
		domain.PaymentSuccess, domain.PaymentFailed, domain.PaymentCancelled, domain.PaymentError:
		return st
	}
	return domain.PaymentCreated
}

// refreshPayment asks the provider where an open payment stands and records it, with its
// consequence (see store.ApplyPaymentState). The provider's answer is trusted only when it is
// about this payment: the same id, amount and reference.
func (s *Service) refreshPayment(ctx context.Context, p domain.Payment) (store.PaymentOutcome, error) {
	if p.Status.Finished() || p.ProviderID == "" {
		return s.store.ApplyPaymentState(ctx, p.ID, store.ProviderState{Status: p.Status, Finished: p.Status.Finished()}, s.now(), store.OutboxMessage{})
	}
	if s.opt.Payments == nil {
		return store.PaymentOutcome{}, errProviderUnavailable
	}
	apiKey, err := s.CouncilPaymentKey(ctx, p.CouncilID)
	if err != nil {
		return store.PaymentOutcome{}, err
	}
	unknown := domain.NewError(domain.CodeConflict, "payment_unknown",
		"We could not confirm this payment with the payment provider. Do not pay again: contact the licensing team, who can check it.")
	got, err := s.opt.Payments.Get(ctx, apiKey, p.ProviderID)
	if err != nil {
		if payment.IsUnavailable(err) {
			return store.PaymentOutcome{}, errProviderUnavailable
		}
		// Not in this council's account (or refused): never taken as paid.
		s.opt.Logger.Error("payment provider does not know the payment in this council's account", "payment", p.ID, "error", err.Error())
		return store.PaymentOutcome{}, unknown
	}
	r, err := s.store.RenewalByID(ctx, p.RenewalID)
	if err != nil {
		return store.PaymentOutcome{}, err
	}
	if got.ID != p.ProviderID || got.Amount != p.Amount || got.Reference != r.Reference {
		s.opt.Logger.Error("payment provider answered about another payment", "payment", p.ID)
		return store.PaymentOutcome{}, unknown
	}
	st := store.ProviderState{Status: providerStatus(got.State.Status), Finished: got.State.Finished, Code: got.State.Code, Message: got.State.Message}
	if st.Finished && !st.Status.Finished() {
		st.Status = domain.PaymentError
	}
	msg := store.OutboxMessage{}
	if st.Status == domain.PaymentSuccess {
		msg = s.confirmationMessage(ctx, r)
	}
	return s.store.ApplyPaymentState(ctx, p.ID, st, s.now(), msg)
}

// PaymentResult is where a driver's return from the provider leaves them.
type PaymentResult struct {
	// Owner is set when the signed-in driver is the one who paid.
	Owner bool
	// One of these:
	Sent    bool   // paid, and the renewal is sent
	Held    bool   // paid, but something is left to do before it can be sent
	Unpaid  string // no money taken: why
	Pending bool   // the provider has not said yet (or cannot be reached): do not pay again
	Renewal domain.Renewal
}

// PaymentReturned handles the driver coming back from the provider. The return itself proves
// nothing: the payment's state is fetched from the provider and recorded, and a success sends
// the renewal in the same transaction. Calling it again (a replayed return, a second tab)
// changes nothing more.
func (s *Service) PaymentReturned(ctx context.Context, returnKey string, driverID int64) (PaymentResult, error) {
	if len(returnKey) != 48 || strings.Trim(returnKey, "0123456789abcdef") != "" {
		return PaymentResult{}, domain.NewError(domain.CodeNotFound, "no_payment", "There is no payment at this address.")
	}
	p, err := s.store.PaymentByReturnKey(ctx, returnKey)
	if err != nil {
		return PaymentResult{}, err
	}
	res := PaymentResult{Owner: p.DriverID == driverID}
	out, err := s.refreshPayment(ctx, p)
	if errors.Is(err, errProviderUnavailable) {
		res.Pending = true
		return res, nil
	}
	if err != nil {
		return res, err
	}
	res.Renewal = out.Renewal
	switch {
	case out.Sent:
		res.Sent = true
	case out.Held:
		res.Held = true
	case out.Payment.Status == domain.PaymentSuccess:
		res.Sent = out.Renewal.Status != domain.StatusDraft
		res.Held = out.Renewal.Status == domain.StatusDraft
	case out.Payment.Status.Finished():
		res.Unpaid = out.Payment.UnpaidMessage()
	default:
		res.Pending = true
	}
	return res, nil
}

// ReconcilePayments asks the provider about every open payment that is due a check, so a
// payment taken while the driver's tab was closed, or this server was down, still sends its
// renewal (or holds it, or shows an officer a refund to decide). A payment stuck being created
// (the server died before the provider answered) never reached a pay page, so it is closed.
func (s *Service) ReconcilePayments(ctx context.Context) (int, error) {
	due, err := s.store.DuePayments(ctx, s.now(), 50)
	if err != nil {
		return 0, err
	}
	done := 0
	for _, p := range due {
		if ctx.Err() != nil {
			break
		}
		if p.Status == domain.PaymentCreating {
			if s.now().Sub(p.CreatedAt) >= creatingGrace {
				if err := s.store.AbandonPaymentCreation(ctx, p.ID, "", "not created: the service stopped before the provider answered", s.now()); err != nil {
					return done, err
				}
				done++
			}
			continue
		}
		if _, err := s.refreshPayment(ctx, p); err != nil {
			if !errors.Is(err, errProviderUnavailable) {
				s.opt.Logger.Error("reconcile payment", "payment", p.ID, "error", err.Error())
			}
			// Still open: ApplyPaymentState was not reached, so push the next check back.
			_, _ = s.store.ApplyPaymentState(ctx, p.ID, store.ProviderState{Status: p.Status}, s.now(), store.OutboxMessage{})
			continue
		}
		done++
	}
	return done, nil
}

// RunPaymentReconciler runs ReconcilePayments every interval until ctx ends.
func (s *Service) RunPaymentReconciler(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := s.ReconcilePayments(ctx); err != nil && ctx.Err() == nil {
			s.opt.Logger.Error("reconcile payments", "error", err.Error())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// confirmationMessage is the email that tells the driver their renewal was received.
func (s *Service) confirmationMessage(ctx context.Context, r domain.Renewal) store.OutboxMessage {
	driver, err := s.driverByID(ctx, r.DriverID)
	if err != nil {
		return store.OutboxMessage{}
	}
	council, err := s.councilByID(ctx, r.CouncilID)
	if err != nil {
		return store.OutboxMessage{}
	}
	email := driver.Email
	if r.Answers.Contact.Email != "" {
		email = r.Answers.Contact.Email
	}
	return store.OutboxMessage{
		To:      email,
		Subject: "We have received your taxi driver licence renewal " + r.Reference,
		Body: fmt.Sprintf("Thank you. %s has received your application to renew your driver licence.\n\n"+
			"Your reference is %s. Quote it if you contact the licensing team.\n\n"+
			"What happens next: the licensing team checks your application and aims to decide it within %d working days. "+
			"We will email you when it is decided, or if they need anything else from you.\n\n"+
			"You can check progress, or withdraw your renewal until it is decided, at %s/renew/status\n\n%s\n",
			council.Name, r.Reference, council.DecisionDays, s.opt.BaseURL, council.ContactText()),
	}
}
