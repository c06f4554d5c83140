package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/herts-msp/taxi-renewals/internal/domain"
	"github.com/herts-msp/taxi-renewals/internal/payment"
	"github.com/herts-msp/taxi-renewals/internal/payment/paystub"
	"github.com/herts-msp/taxi-renewals/internal/testdb"
	"github.com/herts-msp/taxi-renewals/internal/testenv"
)

// payReady signs in the Dacorum driver of a council that takes the fee online and completes
// every section and the awareness step, so check your answers offers "Pay £N and send".
func payReady(t *testing.T) (*testenv.Env, *testenv.Browser, int64) {
	t.Helper()
	env := testenv.New(t, testenv.Options{})
	env.EnableOnlinePayment(t, testenv.DacorumSlug)
	b := env.SignIn(t, testenv.DacorumSlug, testenv.DueDacorum)
	b.CompleteSections()
	b.CompleteAwareness()
	p := b.Get("/renew/check-answers")
	wantStatus(t, p, http.StatusOK)
	fee, err := env.Service.FeeFor(context.Background(), env.Drivers[testenv.DueDacorum].CouncilID, 3, env.Service.Today())
	if err != nil {
		t.Fatal(err)
	}
	mustContain(t, p, "Pay "+fee.Display()+" and send", `action="/renew/pay"`, `name="amount_pence" value="`+strconv.FormatInt(fee.AmountPence, 10)+`"`)
	return env, b, fee.AmountPence
}

// startPay posts "Pay and send" and returns the stand-in's payment the driver was sent to.
func startPay(t *testing.T, env *testenv.Env, b *testenv.Browser, amount int64) paystub.Record {
	t.Helper()
	p := b.Post("/renew/pay", url.Values{"amount_pence": {strconv.FormatInt(amount, 10)}})
	wantStatus(t, p, http.StatusSeeOther)
	if !strings.HasPrefix(p.Location, env.PayURL+"/pay/") {
		t.Fatalf("sent to %q, want the provider's pay page under %s", p.Location, env.PayURL)
	}
	id := strings.TrimPrefix(p.Location, env.PayURL+"/pay/")
	rec, ok := env.Pay.Payment(id)
	if !ok {
		t.Fatalf("the provider has no payment %s", id)
	}
	return rec
}

// returnFrom follows the provider's return URL with the driver's browser.
func returnFrom(t *testing.T, b *testenv.Browser, rec paystub.Record) testenv.Page {
	t.Helper()
	u, err := url.Parse(rec.ReturnURL)
	if err != nil {
		t.Fatal(err)
	}
	return b.Get(u.RequestURI())
}

func renewalOf(t *testing.T, env *testenv.Env, licence string) domain.Renewal {
	t.Helper()
	r, err := env.Store.LatestRenewal(context.Background(), env.Drivers[licence].ID)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func fees(t *testing.T, env *testenv.Env, renewalID int64) domain.FeeStanding {
	t.Helper()
	f, err := env.Store.FeeStanding(context.Background(), renewalID)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestPayAndSend(t *testing.T) {
	t.Parallel()
	env, b, amount := payReady(t)
	rec := startPay(t, env, b, amount)
	r := renewalOf(t, env, testenv.DueDacorum)
	if rec.Amount != amount || rec.Reference != r.Reference || rec.Account != paystub.AccountLabel(testenv.PaymentKey(testenv.DacorumSlug)) {
		t.Fatalf("provider payment %+v: want amount %d, reference %q, Dacorum's account", rec, amount, r.Reference)
	}
	if r.Status != domain.StatusDraft {
		t.Fatalf("renewal %s before paying, want draft", r.Status)
	}
	// A second tab (or the back button) resumes the same payment instead of starting another.
	if again := startPay(t, env, b, amount); again.ID != rec.ID || len(env.Pay.Payments()) != 1 {
		t.Fatalf("second Pay: payment %s (of %d), want %s resumed", again.ID, len(env.Pay.Payments()), rec.ID)
	}
	// While paying, the answers the fee depends on cannot change under it.
	if p := b.Post("/renew/licence", testenv.Copy(testenv.LicenceForm, "term", "1")); p.Status != http.StatusConflict {
		t.Fatalf("changing the licence term during payment: %d, want 409", p.Status)
	}
	// The driver pays on the provider's page and is sent back.
	if err := env.Pay.Complete(rec.ID, paystub.OutcomePay); err != nil {
		t.Fatal(err)
	}
	p := returnFrom(t, b, rec)
	wantStatus(t, p, http.StatusSeeOther)
	if p.Location != "/renew/confirmation" {
		t.Fatalf("after paying: to %q, want the confirmation", p.Location)
	}
	p = b.Follow(p)
	mustContain(t, p, "Renewal sent", r.Reference)
	r = renewalOf(t, env, testenv.DueDacorum)
	if r.Status != domain.StatusSubmitted {
		t.Fatalf("renewal %s after paying, want submitted", r.Status)
	}
	// A replayed return (the back button, a second tab) records nothing more.
	for i := 0; i < 2; i++ {
		p = returnFrom(t, b, rec)
		if p.Status != http.StatusSeeOther || p.Location != "/renew/confirmation" {
			t.Fatalf("replayed return: %d %s", p.Status, p.Location)
		}
	}
	f := fees(t, env, r.ID)
	if len(f.Payments) != 1 || !f.Settled() || f.AmountTaken() != amount {
		t.Fatalf("payments %+v: want one taken payment of %d", f.Payments, amount)
	}
	events, err := env.Store.CaseEvents(context.Background(), r.ID, "submitted")
	if err != nil || len(events) != 1 {
		t.Fatalf("submitted events: %d (%v), want 1", len(events), err)
	}
	// Paying again is not offered and not possible.
	p = b.Post("/renew/pay", url.Values{"amount_pence": {strconv.FormatInt(amount, 10)}})
	if len(env.Pay.Payments()) != 1 {
		t.Fatalf("a second POST /renew/pay created another provider payment (status %d)", p.Status)
	}
}

func TestPaymentNotTakenKeepsEverything(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		outcome string
		message string
	}{
		{paystub.OutcomeDecline, "Your card was declined. No money was taken."},
		{paystub.OutcomeCancel, "You cancelled your payment. No money was taken."},
		{paystub.OutcomeError, "Your payment did not go through. No money was taken."},
	} {
		t.Run(tc.outcome, func(t *testing.T) {
			t.Parallel()
			env, b, amount := payReady(t)
			rec := startPay(t, env, b, amount)
			if err := env.Pay.Complete(rec.ID, tc.outcome); err != nil {
				t.Fatal(err)
			}
			p := returnFrom(t, b, rec)
			if p.Status != http.StatusSeeOther || p.Location != "/renew/check-answers" {
				t.Fatalf("return: %d %s, want check your answers", p.Status, p.Location)
			}
			p = b.Follow(p)
			mustContain(t, p, "Payment not taken", tc.message, "Pay £", "MORGA753116SM9IJ")
			r := renewalOf(t, env, testenv.DueDacorum)
			if r.Status != domain.StatusDraft || !r.Answers.Licence.Saved {
				t.Fatalf("renewal %s, answers saved %v: want the draft kept", r.Status, r.Answers.Licence.Saved)
			}
			// The driver can pay again: a new payment, which succeeds this time.
			rec2 := startPay(t, env, b, amount)
			if rec2.ID == rec.ID {
				t.Fatal("paying again resumed the finished payment")
			}
			if err := env.Pay.Complete(rec2.ID, paystub.OutcomePay); err != nil {
				t.Fatal(err)
			}
			p = returnFrom(t, b, rec2)
			if p.Location != "/renew/confirmation" {
				t.Fatalf("second payment: to %q", p.Location)
			}
			if f := fees(t, env, r.ID); len(f.Paid()) != 1 || len(f.Payments) != 2 {
				t.Fatalf("payments %+v: want two, one taken", f.Payments)
			}
		})
	}
}

// TestPaidWithTheTabClosed: the driver pays and never comes back. The reconciler asks the
// provider and sends the renewal.
func TestPaidWithTheTabClosed(t *testing.T) {
	t.Parallel()
	env, b, amount := payReady(t)
	rec := startPay(t, env, b, amount)
	if err := env.Pay.Complete(rec.ID, paystub.OutcomePay); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if n, err := env.Service.ReconcilePayments(ctx); err != nil || n != 0 {
		t.Fatalf("reconcile before the first check is due: %d, %v; want nothing due", n, err)
	}
	env.Clock.Advance(31 * time.Second)
	if n, err := env.Service.ReconcilePayments(ctx); err != nil || n != 1 {
		t.Fatalf("reconcile: %d, %v; want 1", n, err)
	}
	r := renewalOf(t, env, testenv.DueDacorum)
	if r.Status != domain.StatusSubmitted {
		t.Fatalf("renewal %s after reconciling, want submitted", r.Status)
	}
	// The driver coming back later changes nothing.
	if p := returnFrom(t, b, rec); p.Location != "/renew/confirmation" {
		t.Fatalf("late return: %d %s", p.Status, p.Location)
	}
	if f := fees(t, env, r.ID); len(f.Payments) != 1 || !f.Settled() {
		t.Fatalf("payments %+v", f.Payments)
	}
}

// TestNewLeafletWhilePaying: a version needing re-acknowledgement is published while the
// driver is on the provider's page. The paid renewal is held; acknowledging sends it, without
// paying again.
func TestNewLeafletWhilePaying(t *testing.T) {
	t.Parallel()
	env, b, amount := payReady(t)
	rec := startPay(t, env, b, amount)
	env.PublishLeaflet(t, "2.0", false)
	if err := env.Pay.Complete(rec.ID, paystub.OutcomePay); err != nil {
		t.Fatal(err)
	}
	p := returnFrom(t, b, rec)
	if p.Status != http.StatusSeeOther || p.Location != "/renew" {
		t.Fatalf("return: %d %s, want the task list", p.Status, p.Location)
	}
	p = b.Follow(p)
	mustContain(t, p, "You have paid the fee", "A new version of the awareness leaflet was published while you were paying", "You will not be asked to pay again")
	r := renewalOf(t, env, testenv.DueDacorum)
	if r.Status != domain.StatusDraft {
		t.Fatalf("renewal %s, want held as a draft", r.Status)
	}
	// The renewal cannot be sent without the new acknowledgement, by any route.
	b.Get("/renew/check-answers")
	if p := b.Post("/renew/submit", nil); p.Status == http.StatusSeeOther {
		t.Fatalf("submit without the new acknowledgement: %d %s", p.Status, p.Location)
	}
	b.Get("/renew/awareness")
	b.Get("/renew/awareness/check")
	id, answers := env.QuizAnswers(t)
	wantStatus(t, b.Post("/renew/awareness/check", answers), http.StatusSeeOther)
	b.Get("/renew/awareness/confirm")
	p = b.Post("/renew/awareness/confirm", url.Values{"leaflet_id": {strconv.FormatInt(id, 10)}, "understood": {"yes"}})
	if p.Status != http.StatusSeeOther || p.Location != "/renew/confirmation" {
		t.Fatalf("acknowledging the new version: %d %s, want the confirmation", p.Status, p.Location)
	}
	r = renewalOf(t, env, testenv.DueDacorum)
	if r.Status != domain.StatusSubmitted || r.AckEvidenceID == 0 {
		t.Fatalf("renewal %s, ack %d: want sent with the new acknowledgement", r.Status, r.AckEvidenceID)
	}
	if len(env.Pay.Payments()) != 1 {
		t.Fatalf("%d provider payments, want 1", len(env.Pay.Payments()))
	}
}

// TestPaymentRefusals: each attack or fault gets a clear answer and no money is asked for.
func TestPaymentRefusals(t *testing.T) {
	t.Parallel()
	t.Run("send without paying", func(t *testing.T) {
		t.Parallel()
		env, b, _ := payReady(t)
		p := b.Post("/renew/submit", nil)
		wantStatus(t, p, http.StatusConflict)
		mustContain(t, p, "Pay the fee to send your renewal")
		if r := renewalOf(t, env, testenv.DueDacorum); r.Status != domain.StatusDraft {
			t.Fatalf("renewal %s", r.Status)
		}
	})
	t.Run("amount changed in the form", func(t *testing.T) {
		t.Parallel()
		env, b, amount := payReady(t)
		p := b.Post("/renew/pay", url.Values{"amount_pence": {strconv.FormatInt(amount-1000, 10)}})
		wantStatus(t, p, http.StatusConflict)
		mustContain(t, p, "The fee for your licence is now £")
		if n := len(env.Pay.Payments()); n != 0 {
			t.Fatalf("%d provider payments", n)
		}
	})
	t.Run("not ready to send", func(t *testing.T) {
		t.Parallel()
		env := testenv.New(t, testenv.Options{})
		env.EnableOnlinePayment(t, testenv.DacorumSlug)
		b := env.SignIn(t, testenv.DacorumSlug, testenv.DueDacorum)
		b.CompleteSections() // no awareness step
		b.Get("/renew/check-answers")
		p := b.Post("/renew/pay", url.Values{"amount_pence": {"33000"}})
		if p.Status == http.StatusSeeOther {
			t.Fatalf("payment started without the acknowledgement: %s", p.Location)
		}
		mustContain(t, p, "modern slavery awareness leaflet")
		if n := len(env.Pay.Payments()); n != 0 {
			t.Fatalf("%d provider payments, want none", n)
		}
	})
	t.Run("provider down", func(t *testing.T) {
		t.Parallel()
		env, b, amount := payReady(t)
		env.Pay.SetDown(true)
		p := b.Post("/renew/pay", url.Values{"amount_pence": {strconv.FormatInt(amount, 10)}})
		wantStatus(t, p, http.StatusServiceUnavailable)
		mustContain(t, p, "Nothing has been paid and your answers are saved")
		if p.Header.Get("Retry-After") == "" {
			t.Error("no Retry-After")
		}
		env.Pay.SetDown(false)
		rec := startPay(t, env, b, amount) // and it works once the provider is back
		if err := env.Pay.Complete(rec.ID, paystub.OutcomePay); err != nil {
			t.Fatal(err)
		}
		if p := returnFrom(t, b, rec); p.Location != "/renew/confirmation" {
			t.Fatalf("after the outage: %d %s", p.Status, p.Location)
		}
	})
	t.Run("provider answers garbage", func(t *testing.T) {
		t.Parallel()
		env, b, amount := payReady(t)
		env.Pay.SetGarbage(true)
		p := b.Post("/renew/pay", url.Values{"amount_pence": {strconv.FormatInt(amount, 10)}})
		wantStatus(t, p, http.StatusServiceUnavailable)
	})
	t.Run("provider down on return", func(t *testing.T) {
		t.Parallel()
		env, b, amount := payReady(t)
		rec := startPay(t, env, b, amount)
		if err := env.Pay.Complete(rec.ID, paystub.OutcomePay); err != nil {
			t.Fatal(err)
		}
		env.Pay.SetDown(true)
		p := returnFrom(t, b, rec)
		wantStatus(t, p, http.StatusOK)
		mustContain(t, p, "We are checking your payment", "Do not pay again")
		env.Pay.SetDown(false)
		if p := returnFrom(t, b, rec); p.Location != "/renew/confirmation" {
			t.Fatalf("check again: %d %s", p.Status, p.Location)
		}
	})
	t.Run("forged return address", func(t *testing.T) {
		t.Parallel()
		env, b, amount := payReady(t)
		startPay(t, env, b, amount)
		for _, key := range []string{strings.Repeat("0", 48), "../../renew", strings.Repeat("a", 47), "x"} {
			p := b.Get("/renew/payment/" + url.PathEscape(key))
			if p.Status != http.StatusNotFound {
				t.Errorf("return key %q: %d, want 404", key, p.Status)
			}
		}
	})
	t.Run("return opened by someone else", func(t *testing.T) {
		t.Parallel()
		env, b, amount := payReady(t)
		rec := startPay(t, env, b, amount)
		if err := env.Pay.Complete(rec.ID, paystub.OutcomePay); err != nil {
			t.Fatal(err)
		}
		other := env.SignIn(t, "watford", testenv.DueWatford)
		p := returnFrom(t, other, rec)
		wantStatus(t, p, http.StatusOK)
		mustContain(t, p, "Payment received")
		if strings.Contains(p.Body, "Zoë") || strings.Contains(p.Body, renewalOf(t, env, testenv.DueDacorum).Reference) {
			t.Error("the page shows the paying driver's details to another driver")
		}
		// The payment still counted for its own driver.
		if r := renewalOf(t, env, testenv.DueDacorum); r.Status != domain.StatusSubmitted {
			t.Fatalf("renewal %s", r.Status)
		}
		if r := renewalOf(t, env, testenv.DueWatford); r.Status != domain.StatusDraft {
			t.Fatalf("the other driver's renewal is %s", r.Status)
		}
	})
	t.Run("no online payment at this council", func(t *testing.T) {
		t.Parallel()
		env := testenv.New(t, testenv.Options{})
		b := env.SignIn(t, testenv.DacorumSlug, testenv.DueDacorum)
		b.CompleteSections()
		b.CompleteAwareness()
		p := b.Get("/renew/check-answers")
		mustContain(t, p, "This council does not take the fee online", "Accept and send")
		if p := b.Post("/renew/pay", url.Values{"amount_pence": {"1"}}); p.Status != http.StatusConflict {
			t.Fatalf("pay where online payment is off: %d", p.Status)
		}
	})
}

// TestOfficerRecordsFees: a counter payment, a waiver refused once paid, an online refund
// through the provider, and the payments export.
func TestOfficerRecordsFees(t *testing.T) {
	t.Parallel()
	env, b, amount := payReady(t)
	rec := startPay(t, env, b, amount)
	if err := env.Pay.Complete(rec.ID, paystub.OutcomePay); err != nil {
		t.Fatal(err)
	}
	returnFrom(t, b, rec)
	r := renewalOf(t, env, testenv.DueDacorum)

	officer := env.SignInStaff(t, env.AddStaff(t, domain.RoleOfficer, testenv.DacorumSlug))
	path := "/staff/renewals/" + strconv.FormatInt(r.ID, 10)
	p := officer.Get(path)
	mustContain(t, p, "Paid online", "Taken", "GOV.UK Pay "+rec.ID)
	// Paid already: another payment or a waiver is refused.
	p = officer.Post(path+"/payments", url.Values{"method": {"counter"}, "amount": {"10"}, "receipt": {"R1"}})
	wantStatus(t, p, http.StatusConflict)
	mustContain(t, p, "already been paid")
	// A refund bigger than the payment is refused with the limit.
	p = officer.Post(path+"/refund", url.Values{"payment_id": {"1"}, "refund_amount": {"9999"}, "refund_reason": {"Paid by mistake"}})
	wantStatus(t, p, http.StatusUnprocessableEntity)
	mustContain(t, p, "The refund must be "+domain.FormatPence(amount)+" or less")
	p = officer.Post(path+"/refund", url.Values{"payment_id": {"1"}, "refund_amount": {"10.00"}, "refund_reason": {"Overcharged by £10"}})
	wantStatus(t, p, http.StatusSeeOther)
	got, _ := env.Pay.Payment(rec.ID)
	if len(got.Refunds) != 1 || got.Refunds[0].Amount != 1000 {
		t.Fatalf("provider refunds %+v, want one of 1000", got.Refunds)
	}
	if f := fees(t, env, r.ID); len(f.Refunds) != 1 || f.AmountTaken() != amount-1000 {
		t.Fatalf("refunds %+v", f.Refunds)
	}
	// The export for finance.
	today := env.Service.Today()
	q := url.Values{"from-day": {"1"}, "from-month": {strconv.Itoa(int(today.Month))}, "from-year": {strconv.Itoa(today.Year)},
		"to-day": {strconv.Itoa(today.Day)}, "to-month": {strconv.Itoa(int(today.Month))}, "to-year": {strconv.Itoa(today.Year)}}
	p = officer.Get("/staff/payments.csv?" + q.Encode())
	wantStatus(t, p, http.StatusOK)
	for _, want := range []string{"dacorum", "payment," + r.Reference, rec.ID, "refund," + r.Reference, "-10.00", "Overcharged by £10"} {
		if !strings.Contains(p.Body, want) {
			t.Errorf("payments CSV lacks %q:\n%s", want, p.Body)
		}
	}
	// Another council's officer cannot see it, and cannot export Dacorum's payments.
	other := env.SignInStaff(t, env.AddStaff(t, domain.RoleOfficer, "watford"))
	p = other.Get("/staff/payments.csv?" + q.Encode() + "&council=dacorum")
	if strings.Contains(p.Body, rec.ID) {
		t.Fatal("a Watford officer exported Dacorum's payments")
	}
	p = other.Post(path+"/refund", url.Values{"payment_id": {"1"}, "refund_amount": {"1"}, "refund_reason": {"Not my council"}})
	wantStatus(t, p, http.StatusNotFound)
}

// TestCounterPaymentAndWaiver: where the fee is not taken online, the officer records it.
func TestCounterPaymentAndWaiver(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	for _, licence := range []string{testenv.DueDacorum} {
		b := env.SignIn(t, testenv.DacorumSlug, licence)
		b.CompleteSections()
		b.CompleteAwareness()
		b.Get("/renew/check-answers")
		wantStatus(t, b.Post("/renew/submit", nil), http.StatusSeeOther)
	}
	r := renewalOf(t, env, testenv.DueDacorum)
	officer := env.SignInStaff(t, env.AddStaff(t, domain.RoleOfficer, testenv.DacorumSlug))
	path := "/staff/renewals/" + strconv.FormatInt(r.ID, 10)
	mustContain(t, officer.Get(path), "Not paid", "Record a fee taken at the counter or by phone", "Record the fee as paid or waived before approving")
	p := officer.Post(path+"/payments", url.Values{"method": {"counter"}, "amount": {"abc"}, "receipt": {""}})
	wantStatus(t, p, http.StatusUnprocessableEntity)
	mustContain(t, p, "Enter the amount taken", "Enter the receipt number")
	p = officer.Post(path+"/waive", url.Values{"waive_reason": {"no"}})
	wantStatus(t, p, http.StatusUnprocessableEntity)
	p = officer.Post(path+"/payments", url.Values{"method": {"counter"}, "amount": {"£330.00"}, "receipt": {"DAC-000123"}})
	wantStatus(t, p, http.StatusSeeOther)
	p = officer.Follow(p)
	mustContain(t, p, "Payment recorded.", "Paid at the counter", "£330.00", "Receipt DAC-000123")
	if f := fees(t, env, r.ID); !f.Settled() || f.AmountTaken() != 33000 {
		t.Fatalf("fees %+v", f)
	}
}

// TestWithdrawnPaidRenewalShowsARefundToDecide: a driver who paid online and then withdraws is
// told a refund will be decided, and the officer's case page says "Refund to decide".
func TestWithdrawnPaidRenewalShowsARefundToDecide(t *testing.T) {
	t.Parallel()
	env, b, amount := payReady(t)
	rec := startPay(t, env, b, amount)
	if err := env.Pay.Complete(rec.ID, paystub.OutcomePay); err != nil {
		t.Fatal(err)
	}
	if p := returnFrom(t, b, rec); p.Location != "/renew/confirmation" {
		t.Fatalf("return: %d %s", p.Status, p.Location)
	}
	b.Get("/renew/withdraw")
	p := b.Post("/renew/withdraw", url.Values{"reason": {"I am moving away"}})
	wantStatus(t, p, http.StatusSeeOther)
	mustContain(t, b.Follow(p), "Withdrawn", "the licensing team will decide a refund")
	r := renewalOf(t, env, testenv.DueDacorum)
	officer := env.SignInStaff(t, env.AddStaff(t, domain.RoleOfficer, testenv.DacorumSlug))
	mustContain(t, officer.Get("/staff/renewals/"+strconv.FormatInt(r.ID, 10)), "Refund to decide", "Refund a payment")
}

// TestProviderSlowOrOtherAccount: a provider slower than the client's timeout is "not
// available, nothing paid"; a payment the council's account does not know (here: one of
// another council's account put in its place) is never taken as paid.
func TestProviderSlowOrOtherAccount(t *testing.T) {
	t.Parallel()
	t.Run("slow", func(t *testing.T) {
		t.Parallel()
		env, b, amount := payReady(t)
		env.Pay.SetDelay(6 * time.Second) // the test client gives up after 5 s
		p := b.Post("/renew/pay", url.Values{"amount_pence": {strconv.FormatInt(amount, 10)}})
		wantStatus(t, p, http.StatusServiceUnavailable)
		mustContain(t, p, "Nothing has been paid and your answers are saved")
		if r := renewalOf(t, env, testenv.DueDacorum); r.Status != domain.StatusDraft {
			t.Fatalf("renewal %s", r.Status)
		}
	})
	t.Run("another council's account", func(t *testing.T) {
		t.Parallel()
		env, b, amount := payReady(t)
		rec := startPay(t, env, b, amount)
		// A payment in Watford's account, taken, and swapped in for Dacorum's.
		other, err := payment.NewClient(env.PayURL, nil).Create(context.Background(), testenv.PaymentKey("watford"), payment.CreateRequest{
			Amount: amount, Reference: rec.Reference, Description: "x", ReturnURL: "http://127.0.0.1/x"})
		if err != nil {
			t.Fatal(err)
		}
		if err := env.Pay.Complete(other.ID, paystub.OutcomePay); err != nil {
			t.Fatal(err)
		}
		raw := testdb.Raw(t, env.Config.DatabaseURL)
		if _, err := raw.ExecContext(context.Background(), `UPDATE payments SET provider_id = ? WHERE provider_id = ?`, other.ID, rec.ID); err != nil {
			t.Fatal(err)
		}
		p := returnFrom(t, b, rec)
		wantStatus(t, p, http.StatusConflict)
		mustContain(t, p, "We could not confirm this payment with the payment provider. Do not pay again")
		r := renewalOf(t, env, testenv.DueDacorum)
		if f := fees(t, env, r.ID); r.Status != domain.StatusDraft || f.Settled() {
			t.Fatalf("renewal %s, settled %v: a payment from another account was taken as paid", r.Status, f.Settled())
		}
	})
}

// TestPaymentExpired: a payment left unfinished on the provider's page for 90 minutes expires;
// coming back then says so, takes nothing and keeps the answers.
func TestPaymentExpired(t *testing.T) {
	t.Parallel()
	env, b, amount := payReady(t)
	rec := startPay(t, env, b, amount)
	env.Clock.Advance(91 * time.Minute)
	b = env.SignIn(t, testenv.DacorumSlug, testenv.DueDacorum) // the session ended while they were away
	p := returnFrom(t, b, rec)
	if p.Status != http.StatusSeeOther || p.Location != "/renew/check-answers" {
		t.Fatalf("return after expiry: %d %s", p.Status, p.Location)
	}
	mustContain(t, b.Follow(p), "Payment not taken", "Your payment session timed out before it was finished. No money was taken.")
	r := renewalOf(t, env, testenv.DueDacorum)
	if f := fees(t, env, r.ID); r.Status != domain.StatusDraft || f.Settled() || len(f.Payments) != 1 || f.Payments[0].ProviderCode != "P0020" {
		t.Fatalf("renewal %s, payments %+v", r.Status, f.Payments)
	}
}
