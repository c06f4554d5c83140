package domain

import "time"

// PaymentMethod is how a renewal's fee was paid.
type PaymentMethod string

const (
	PaymentOnline  PaymentMethod = "online"  // through the council's payment provider account
	PaymentCounter PaymentMethod = "counter" // taken at the council's counter, recorded by an officer
	PaymentPhone   PaymentMethod = "phone"   // taken by phone, recorded by an officer
	PaymentWaived  PaymentMethod = "waived"  // no fee taken, with the officer's reason
)

// PaymentStatus follows the provider's payment states (GOV.UK Pay), plus "creating" for the
// moment between recording that a payment is being set up and the provider answering.
type PaymentStatus string

const (
	PaymentCreating   PaymentStatus = "creating"
	PaymentCreated    PaymentStatus = "created"
	PaymentStarted    PaymentStatus = "started"
	PaymentSubmitted  PaymentStatus = "submitted"
	PaymentCapturable PaymentStatus = "capturable"
	PaymentSuccess    PaymentStatus = "success"
	PaymentFailed     PaymentStatus = "failed"
	PaymentCancelled  PaymentStatus = "cancelled"
	PaymentError      PaymentStatus = "error"
)

// Finished reports whether the payment can no longer change.
func (s PaymentStatus) Finished() bool {
	switch s {
	case PaymentSuccess, PaymentFailed, PaymentCancelled, PaymentError:
		return true
	}
	return false
}

// Payment is one attempt to take a renewal's fee, or an officer's record of a fee taken
// another way or waived.
type Payment struct {
	ID        int64
	RenewalID int64
	DriverID  int64
	CouncilID int64
	Method    PaymentMethod
	Amount    int64 // pence
	Status    PaymentStatus
	// ProviderID is the provider's payment id (online payments only).
	ProviderID string
	// NextURL is where the driver pays, while the payment is in progress.
	NextURL string
	// ReturnKey is the random part of the return address the provider sends the driver back to.
	ReturnKey string
	// ProviderCode and ProviderMessage say why a payment did not succeed (e.g. P0010 declined).
	ProviderCode    string
	ProviderMessage string
	Receipt         string // counter and phone payments
	Reason          string // waivers
	RecordedBy      int64  // the officer, for counter, phone and waived
	CreatedAt       time.Time
	UpdatedAt       time.Time
	FinishedAt      time.Time
	NextCheckAt     time.Time
	Checks          int
}

// Taken reports whether the payment settles the fee: money taken online, at the counter or by
// phone, or the fee waived.
func (p Payment) Taken() bool { return p.Status == PaymentSuccess }

// InProgress reports whether an online payment is still open at the provider.
func (p Payment) InProgress() bool { return p.Method == PaymentOnline && !p.Status.Finished() }

// Refund is an officer's record of money given back.
type Refund struct {
	ID         int64
	RenewalID  int64
	PaymentID  int64
	CouncilID  int64
	Amount     int64
	Reason     string
	ProviderID string
	RecordedBy int64
	RecordedAt time.Time
}

// FeeStanding sums up a renewal's payments and refunds.
type FeeStanding struct {
	Payments []Payment
	Refunds  []Refund
}

// Paid returns the taken payments.
func (f FeeStanding) Paid() []Payment {
	var out []Payment
	for _, p := range f.Payments {
		if p.Taken() {
			out = append(out, p)
		}
	}
	return out
}

// Settled reports whether the fee is paid or waived.
func (f FeeStanding) Settled() bool { return len(f.Paid()) > 0 }

// AmountTaken is what was taken in money (waivers count nothing), less refunds.
func (f FeeStanding) AmountTaken() int64 {
	var n int64
	for _, p := range f.Paid() {
		if p.Method != PaymentWaived {
			n += p.Amount
		}
	}
	for _, r := range f.Refunds {
		n -= r.Amount
	}
	return n
}

// Refundable is how much of a payment can still be refunded.
func (f FeeStanding) Refundable(paymentID int64) int64 {
	for _, p := range f.Payments {
		if p.ID == paymentID && p.Taken() && p.Method != PaymentWaived {
			left := p.Amount
			for _, r := range f.Refunds {
				if r.PaymentID == paymentID {
					left -= r.Amount
				}
			}
			return left
		}
	}
	return 0
}

// RefundToDecide reports whether an officer must decide a refund: the renewal was withdrawn or
// refused after money was taken, or the fee was taken more than once (two payments that both
// succeeded), and not all of it has been refunded.
func (f FeeStanding) RefundToDecide(status RenewalStatus) bool {
	if f.AmountTaken() <= 0 {
		return false
	}
	money := 0
	for _, p := range f.Paid() {
		if p.Method != PaymentWaived {
			money++
		}
	}
	return status == StatusWithdrawn || money > 1
}

// InProgress returns the online payment still open at the provider, if any.
func (f FeeStanding) InProgress() (Payment, bool) {
	for i := len(f.Payments) - 1; i >= 0; i-- {
		if f.Payments[i].InProgress() {
			return f.Payments[i], true
		}
	}
	return Payment{}, false
}

// LastUnpaid returns the newest online payment that finished without money being taken, to
// tell the driver what happened.
func (f FeeStanding) LastUnpaid() (Payment, bool) {
	for i := len(f.Payments) - 1; i >= 0; i-- {
		p := f.Payments[i]
		if p.Taken() || p.InProgress() {
			return Payment{}, false
		}
		if p.Method == PaymentOnline {
			return p, true
		}
	}
	return Payment{}, false
}

// PaymentBackoff is how long to wait before asking the provider again about a payment still in
// progress: 30 seconds, doubling each time, at most an hour.
func PaymentBackoff(checks int) time.Duration {
	d := 30 * time.Second
	for i := 0; i < checks && d < time.Hour; i++ {
		d *= 2
	}
	if d > time.Hour {
		d = time.Hour
	}
	return d
}

// UnpaidMessage tells the driver why a payment did not go through, in plain words.
func (p Payment) UnpaidMessage() string {
	switch {
	case p.Status == PaymentCancelled || p.ProviderCode == "P0030":
		return "You cancelled your payment. No money was taken. You can pay now, or come back later: your answers are saved."
	case p.ProviderCode == "P0020":
		return "Your payment session timed out before it was finished. No money was taken. Pay again to send your renewal."
	case p.ProviderCode == "P0010":
		return "Your card was declined. No money was taken. Check your card details or use another card, then pay again."
	default:
		return "Your payment did not go through. No money was taken. Pay again to send your renewal."
	}
}

// WithoutPaymentChanges reports whether after differs from before only in what a driver may
// still change once the fee is paid: the awareness step (they may be asked to read a new
// leaflet version) — never the sections the fee and the application depend on.
func WithoutPaymentChanges(before, after Answers) bool {
	before.QuizPassedLeafletID, after.QuizPassedLeafletID = 0, 0
	return before == after
}

// PaymentLine is one row of a council's payments export: a payment with its renewal's
// reference and the driver's licence number.
type PaymentLine struct {
	Payment   Payment
	Reference string
	Licence   string
	Refunded  int64
}
