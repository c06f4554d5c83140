package main

import (
	"context"
	"strings"
	"testing"

	"github.com/herts-msp/taxi-renewals/internal/domain"
	"github.com/herts-msp/taxi-renewals/internal/testdb"
)

func withKeyStdin(s string, f func()) {
	old := paymentKeyStdin
	paymentKeyStdin = strings.NewReader(s)
	defer func() { paymentKeyStdin = old }()
	f()
}

func TestCouncilSettingsFeesAndPaymentKeyCommands(t *testing.T) {
	db := testdb.URL(t, "c.db")
	council := func(args ...string) (int, string, string) {
		t.Helper()
		return runCmd(t, append([]string{"council", args[0], "--database", db}, args[1:]...)...)
	}
	code, out, errOut := council("list")
	if code != 0 || !strings.Contains(out, "payment: not set") || !strings.Contains(out, "3y £") || !strings.Contains(out, "10 days") {
		t.Fatalf("list: %d\n%s%s", code, out, errOut)
	}

	t.Run("set-contact", func(t *testing.T) {
		code, out, errOut := council("set-contact", "--council", "dacorum", "--phone", "01442 228000", "--decision-days", "15",
			"--public-email", "licensing@dacorum.gov.uk", "--hours", "Monday to Friday, 9am to 5pm", "--medical-interval-years", "3")
		if code != 0 || !strings.Contains(out, "phone 01442 228000") || !strings.Contains(out, "decides within 15 working days") || !strings.Contains(out, "medical every 3 years") {
			t.Fatalf("set-contact: %d\n%s%s", code, out, errOut)
		}
		// Flags not given keep their values: the web page seeded by the migration stays.
		st := userTestStore(t, db)
		c, _ := st.CouncilBySlug(context.Background(), "dacorum")
		if c.WebURL != "https://www.dacorum.gov.uk/licensing" || c.PublicEmail != "licensing@dacorum.gov.uk" {
			t.Fatalf("council %+v", c)
		}
		for _, tc := range []struct {
			args []string
			want string
		}{
			{[]string{"--council", "dacorum", "--phone", "123"}, "UK phone number"},
			{[]string{"--council", "dacorum", "--web", "http://x.gov.uk"}, "https://"},
			{[]string{"--council", "dacorum", "--decision-days", "0"}, "working days from 1 to 365"},
			{[]string{"--council", "dacorum"}, "give at least one"},
			{[]string{"--council", "nowhere", "--phone", "01442 228000"}, "no council"},
		} {
			code, _, errOut := council(append([]string{"set-contact"}, tc.args...)...)
			if code == 0 || !strings.Contains(errOut, tc.want) {
				t.Errorf("%v: exit %d, %q; want %q", tc.args, code, errOut, tc.want)
			}
		}
	})

	t.Run("set-fee", func(t *testing.T) {
		code, out, errOut := council("set-fee", "--council", "watford", "--term", "3", "--amount", "£312.50", "--from", "2099-04-01")
		if code != 0 || !strings.Contains(out, "the fee for a 3-year licence is £312.50 from 1 April 2099") {
			t.Fatalf("set-fee: %d\n%s%s", code, out, errOut)
		}
		for _, tc := range []struct {
			args []string
			want string
		}{
			{[]string{"--council", "watford", "--term", "2", "--amount", "250", "--from", "2099-01-01"}, "1 or 3 years"},
			{[]string{"--council", "watford", "--term", "3", "--amount", "25x", "--from", "2099-01-01"}, "numbers only"},
			{[]string{"--council", "watford", "--term", "3", "--amount", "250", "--from", "2020-01-01"}, "today or later"},
			{[]string{"--council", "watford", "--term", "3", "--amount", "250", "--from", "1/4/2099"}, "date like 2027-04-01"},
			{[]string{"--council", "watford", "--term", "3"}, "needs --council, --term, --amount and --from"},
		} {
			code, _, errOut := council(append([]string{"set-fee"}, tc.args...)...)
			if code == 0 || !strings.Contains(errOut, tc.want) {
				t.Errorf("%v: exit %d, %q; want %q", tc.args, code, errOut, tc.want)
			}
		}
	})

	t.Run("set-payment-key", func(t *testing.T) {
		const key = "api_test_CLIKEY0123456789abcdefghijklmnopqrstuvwxyz"
		var code int
		var out, errOut string
		withKeyStdin(key+"\n", func() { code, out, errOut = council("set-payment-key", "--council", "stevenage") })
		if code != 0 || !strings.Contains(out, "stevenage: payment key set") || strings.Contains(out+errOut, "CLIKEY") {
			t.Fatalf("set-payment-key: %d\n%s%s", code, out, errOut)
		}
		code, out, _ = council("list")
		if code != 0 || strings.Contains(out, "CLIKEY") || strings.Count(out, "payment: set") != 1 {
			t.Fatalf("list after the key:\n%s", out)
		}
		withKeyStdin("\n", func() { code, out, _ = council("set-payment-key", "--council", "stevenage") })
		if code != 0 || !strings.Contains(out, "payment key removed") {
			t.Fatalf("remove: %d %s", code, out)
		}
	})

	if code, out, _ := runCmd(t, "audit", "verify", "--database", db); code != 0 || !strings.Contains(out, "entries checked") {
		t.Fatalf("audit verify: %d %s", code, out)
	}
	st := userTestStore(t, db)
	c, _ := st.CouncilBySlug(context.Background(), "watford")
	fees, _ := st.CouncilFees(context.Background(), c.ID)
	if f, ok := domain.CurrentFee(fees, 3, domain.Date{Year: 2099, Month: 4, Day: 1}); !ok || f.AmountPence != 31250 || !strings.HasPrefix(f.SetBy, "cli:") {
		t.Fatalf("fee %+v", f)
	}
}
