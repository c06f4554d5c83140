package e2e

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/herts-msp/taxi-renewals/internal/domain"
	"github.com/herts-msp/taxi-renewals/internal/payment/paystub"
	"github.com/herts-msp/taxi-renewals/internal/testenv"
)

// payingEnv starts the service for a council (Dacorum) that takes the fee online through the
// GOV.UK Pay stand-in, and returns the address the browser should use. The service is served
// at an address chosen before it starts, and that address is its base URL, so the return URL
// it gives the provider brings the browser back to it (as it would in production); the
// stand-in's card page is on another origin, its own httptest server.
func payingEnv(t *testing.T) (*testenv.Env, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	env := testenv.New(t, testenv.Options{BaseURL: base})
	srv := &http.Server{Handler: env.Web.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("serving the service: %v", err)
		}
	}()
	t.Cleanup(func() { srv.Close() })
	env.EnableOnlinePayment(t, testenv.DacorumSlug)
	return env, base
}

// feeOf is the fee a test driver pays for the 3-year licence they choose, as "£330.00".
func feeOf(t *testing.T, env *testenv.Env, licence string) string {
	t.Helper()
	f, err := env.Service.FeeFor(context.Background(), env.Drivers[licence].CouncilID, 3, env.Service.Today())
	if err != nil {
		t.Fatal(err)
	}
	return f.Display()
}

// completeRenewal fills every section, uploads a photo through the documents page, and takes
// the awareness step with the right answers,
// leaving the tab on the task list with the renewal ready to check and send.
func completeRenewal(tb *tab, env *testenv.Env) {
	tb.t.Helper()
	for _, sec := range []struct {
		path    string
		answers map[string]string
	}{
		{"/renew/contact", contactAnswers},
		{"/renew/licence", licenceAnswers},
		{"/renew/checks", checksAnswers},
		{"/renew/declarations", declarationsAnswers},
	} {
		tb.wantStatus(tb.open(sec.path), http.StatusOK)
		tb.fill(sec.answers)
		tb.wantStatus(tb.press("Save and continue"), http.StatusOK)
		tb.wantPath("/renew")
	}
	uploadPhoto(tb)
	tb.wantStatus(tb.press("Continue"), http.StatusOK)
	tb.wantPath("/renew")
	acknowledgeLeaflet(tb, env)
	tb.wantPath("/renew")
}

// acknowledgeLeaflet reads the current leaflet from the task list, answers its questions and
// confirms it, leaving the tab where the service sends the driver next.
func acknowledgeLeaflet(tb *tab, env *testenv.Env) {
	tb.t.Helper()
	tb.wantStatus(tb.click(`a[href="/renew/awareness"]`), http.StatusOK)
	tb.wantStatus(tb.click(`a[href="/renew/awareness/check"].button`), http.StatusOK)
	tb.fill(quizAnswers(tb, env))
	tb.wantStatus(tb.press("Check my answers"), http.StatusOK)
	tb.wantPath("/renew/awareness/confirm")
	tb.tick("understood")
	tb.wantStatus(tb.press("Confirm"), http.StatusOK)
}

// payFee presses "Pay £N and send" on check your answers and returns the id of the payment
// whose card page, on the stand-in's origin, the browser was sent to. The browser follows a
// 303 from the form's POST to the provider's origin, which the page's Content-Security-Policy
// must allow (form-action governs the redirects of a form submission): "net::ERR_ABORTED"
// from this press means it does not.
func payFee(tb *tab, env *testenv.Env, fee string) string {
	tb.t.Helper()
	tb.wantPath("/renew/check-answers")
	tb.wantText("main", "Now pay and send your renewal", "You will pay "+fee+" by card on GOV.UK Pay")
	tb.wantStatus(tb.press("Pay "+fee+" and send"), http.StatusOK)
	return onCardPage(tb, env, fee)
}

// onCardPage fails unless the tab shows the stand-in's card page for an open payment of fee,
// and returns the payment's id.
func onCardPage(tb *tab, env *testenv.Env, fee string) string {
	tb.t.Helper()
	loc := tb.path() // the full address: another origin than the service's
	id, ok := strings.CutPrefix(loc, env.PayURL+"/pay/")
	if !ok {
		tb.t.Fatalf("on %s, want the provider's card page under %s/pay/", loc, env.PayURL)
	}
	tb.wantText("h1", "Pay "+fee)
	tb.wantText("main", "This is a test stand-in for GOV.UK Pay", "Pay", "Decline card", "Cancel payment")
	if _, found := env.Pay.Payment(id); !found {
		tb.t.Fatalf("the stand-in has no payment %q", id)
	}
	return id
}

// renewalOf is the driver's latest renewal, read from the database.
func renewalOf(t *testing.T, env *testenv.Env, licence string) domain.Renewal {
	t.Helper()
	r, err := env.Store.LatestRenewal(context.Background(), env.Drivers[licence].ID)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// wantPaidOnce fails unless the renewal was sent with exactly one payment taken, out of
// tries payments made with the provider.
func wantPaidOnce(t *testing.T, env *testenv.Env, licence string, tries int) domain.Renewal {
	t.Helper()
	r := renewalOf(t, env, licence)
	if r.Status != domain.StatusSubmitted {
		t.Fatalf("renewal %s, want submitted", r.Status)
	}
	f, err := env.Store.FeeStanding(context.Background(), r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Paid()) != 1 || !f.Settled() || len(f.Payments) != tries {
		t.Fatalf("payments %+v: want %d, one of them taken", f.Payments, tries)
	}
	if n := len(env.Pay.Payments()); n != tries {
		t.Fatalf("the provider has %d payments, want %d", n, tries)
	}
	return r
}

// readyToPay signs the Dacorum driver in on a phone-sized screen, completes the renewal and
// opens check your answers.
func readyToPay(t *testing.T, b *browser) (*testenv.Env, *tab, string) {
	t.Helper()
	env, base := payingEnv(t)
	tb := b.newTab(t, base)
	tb.setWidth(375)
	signInDriver(tb, env, testenv.DacorumSlug, testenv.DueDacorum)
	completeRenewal(tb, env)
	tb.wantStatus(tb.click(`a[href="/renew/check-answers"].button`), http.StatusOK)
	return env, tb, feeOf(t, env, testenv.DueDacorum)
}

// driverPaymentNotTaken: the card is declined, or the driver cancels, on the provider's
// page. They are back on check your answers with the reason, every answer kept, and pay
// again successfully.
func driverPaymentNotTaken(t *testing.T, b *browser) {
	for _, c := range []struct{ name, button, message string }{
		{"Declined", "Decline card", "Your card was declined. No money was taken."},
		{"Cancelled", "Cancel payment", "You cancelled your payment. No money was taken."},
	} {
		t.Run(c.name, func(t *testing.T) {
			env, tb, fee := readyToPay(t, b)
			first := payFee(tb, env, fee)
			tb.wantStatus(tb.press(c.button), http.StatusOK)
			tb.wantPath("/renew/check-answers")
			tb.wantText(".notification-banner", "Payment not taken", c.message)
			tb.wantText("main", "zoe.obrien@example.org", "MORGA753116SM9IJ", "3 years", "Version 1.0: read and confirmed", fee)
			if r := renewalOf(t, env, testenv.DueDacorum); r.Status != domain.StatusDraft {
				t.Fatalf("renewal %s after the payment was not taken, want a draft", r.Status)
			}
			second := payFee(tb, env, fee)
			if second == first {
				t.Fatal("paying again reused the payment that was not taken")
			}
			tb.wantStatus(tb.press("Pay"), http.StatusOK)
			tb.wantPath("/renew/confirmation")
			r := wantPaidOnce(t, env, testenv.DueDacorum, 2)
			tb.wantText(".panel", r.Reference)
		})
	}
}

// driverPaysAndClosesTheTab: the payment is taken but the driver never comes back from the
// provider. The reconciler asks the provider, sends the renewal, and the driver signing in
// again sees it sent.
func driverPaysAndClosesTheTab(t *testing.T, b *browser) {
	env, tb, fee := readyToPay(t, b)
	id := payFee(tb, env, fee)
	// Paid on the provider's page, but the browser never follows the redirect back.
	if err := env.Pay.Complete(id, paystub.OutcomePay); err != nil {
		t.Fatal(err)
	}
	tb.close()
	if r := renewalOf(t, env, testenv.DueDacorum); r.Status != domain.StatusDraft {
		t.Fatalf("renewal %s before reconciling, want a draft", r.Status)
	}
	ctx := context.Background()
	env.Clock.Advance(31 * time.Second)
	if n, err := env.Service.ReconcilePayments(ctx); err != nil || n != 1 {
		t.Fatalf("reconcile: %d, %v; want 1 payment settled", n, err)
	}
	r := wantPaidOnce(t, env, testenv.DueDacorum, 1)

	again := b.newTab(t, tb.base)
	again.setWidth(375)
	startDriverSignIn(again, testenv.DacorumSlug, testenv.DueDacorum)
	again.fill(map[string]string{"code": env.LatestCode(t, testenv.DueDacorum+"@example.org")})
	again.wantStatus(again.press("Continue"), http.StatusOK)
	again.wantPath("/renew/status")
	again.wantText("main", r.Reference, "Sent", "Confirmed on")
}

// driverPaysWhileANewLeafletIsPublished: a version needing a new acknowledgement is published
// while the driver is on the provider's page. The paid renewal is held; the task list says
// so, and confirming the new version sends it without paying again.
func driverPaysWhileANewLeafletIsPublished(t *testing.T, b *browser) {
	env, tb, fee := readyToPay(t, b)
	payFee(tb, env, fee)
	env.PublishLeaflet(t, "2.0", false)
	tb.wantStatus(tb.press("Pay"), http.StatusOK)
	tb.wantPath("/renew")
	tb.wantText("main", "You have paid the fee", "A new version of the awareness leaflet was published while you were paying", "You will not be asked to pay again")
	if r := renewalOf(t, env, testenv.DueDacorum); r.Status != domain.StatusDraft {
		t.Fatalf("renewal %s while held, want a draft", r.Status)
	}
	acknowledgeLeaflet(tb, env)
	tb.wantPath("/renew/confirmation")
	r := wantPaidOnce(t, env, testenv.DueDacorum, 1)
	tb.wantText(".panel", r.Reference)
	tb.wantStatus(tb.click(`main a[href="/renew/status"]`), http.StatusOK)
	tb.wantText("main", r.Reference, "Confirmed on")
}
