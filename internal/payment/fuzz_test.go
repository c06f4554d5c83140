package payment_test

import (
	"testing"

	"github.com/herts-msp/taxi-renewals/internal/payment"
)

// FuzzParsePayment: whatever the provider sends, parsing never panics, and what it accepts is a
// payment the service can act on safely.
func FuzzParsePayment(f *testing.F) {
	seeds := []string{
		`{"amount":12345,"description":"d","reference":"r","language":"en","state":{"status":"created","finished":false},` +
			`"payment_id":"hu20sqlact5260q2nanm0q8u93","created_date":"2026-03-02T09:30:00.000Z","return_url":"https://x.example/r",` +
			`"refund_summary":{"status":"pending","amount_available":0,"amount_submitted":0},` +
			`"_links":{"next_url":{"href":"https://pay.example/pay/hu20sqlact5260q2nanm0q8u93","method":"GET"}}}`,
		`{"amount":500,"state":{"status":"success","finished":true},"payment_id":"abc","created_date":"2026-03-02T09:30:00Z","refund_summary":{"amount_available":500}}`,
		`{"amount":500,"state":{"status":"failed","finished":true,"code":"P0010","message":"Payment method rejected"},"payment_id":"abc","created_date":"2026-03-02T09:30:00Z"}`,
		`{"payment_id":null}`, `[]`, `null`, `{"amount":1e400}`, `{"state":{"status":7}}`, "",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := payment.ParsePayment(data)
		if err != nil {
			return
		}
		if !payment.ValidID(p.ID) {
			t.Errorf("accepted id %q", p.ID)
		}
		if p.Amount < 0 || p.Amount > payment.MaxAmount || p.RefundAvailable < 0 || p.RefundAvailable > p.Amount {
			t.Errorf("accepted amounts %d / %d", p.Amount, p.RefundAvailable)
		}
		if p.State.Success() && !p.State.Finished {
			t.Error("accepted success that is not finished")
		}
		if p.State.FinishedUnpaid() && p.State.Success() {
			t.Error("both paid and unpaid")
		}
		if p.NextURL != "" && !payment.ValidReturnURL(p.NextURL) {
			t.Errorf("accepted next_url %q", p.NextURL)
		}
		if p.CreatedDate.IsZero() {
			t.Error("accepted no created_date")
		}
	})
}

func FuzzParseRefund(f *testing.F) {
	f.Add([]byte(`{"refund_id":"act4c33g40j3edfmi8jknab84x","created_date":"2017-01-10T16:52:07.855Z","amount":120,"status":"success"}`))
	f.Add([]byte(`{"refund_id":"x/y","amount":-1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := payment.ParseRefund(data)
		if err != nil {
			return
		}
		if !payment.ValidID(r.ID) || r.Amount < 1 || r.Amount > payment.MaxAmount {
			t.Errorf("accepted %+v", r)
		}
	})
}
