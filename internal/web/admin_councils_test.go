package web_test

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/herts-msp/taxi-renewals/internal/domain"
	"github.com/herts-msp/taxi-renewals/internal/store"
	"github.com/herts-msp/taxi-renewals/internal/testenv"
)

// lockedBuffer collects the server's log; the server writes from its own goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestAdminCouncilPagesAreAdminOnly(t *testing.T) {
	env := testenv.New(t, testenv.Options{NoLeaflet: true})
	gets := []string{"/staff/admin/councils", "/staff/admin/councils/dacorum"}
	posts := map[string]url.Values{
		"/staff/admin/councils/dacorum":             {"phone": {"01442 228000"}, "decision-days": {"3"}, "medical-interval": {"5"}},
		"/staff/admin/councils/dacorum/fees":        {"term": {"3"}, "amount": {"1"}, "from-day": {"1"}, "from-month": {"1"}, "from-year": {"2027"}},
		"/staff/admin/councils/dacorum/payment-key": {"payment-key": {"api_test_officer"}},
	}
	for _, who := range []testenv.StaffLogin{env.AddStaff(t, domain.RoleOfficer, "dacorum"), env.AddStaff(t, domain.RoleAnalyst, "")} {
		b := env.SignInStaff(t, who)
		for _, path := range gets {
			wantStatus(t, b.Get(path), http.StatusForbidden)
		}
		for path, form := range posts {
			b.Get("/staff")
			wantStatus(t, b.Post(path, form), http.StatusForbidden)
		}
	}
	c, _ := env.Service.Council(context.Background(), "dacorum")
	if c.Phone != "" || c.DecisionDays != 10 || c.PaymentKeySet {
		t.Fatalf("a refused POST changed the council: %+v", c)
	}
	fees, _ := env.Service.Fees(context.Background(), c.ID, domain.DateOf(testenv.Start).AddDays(400))
	for _, f := range fees {
		if f.AmountPence == 100 {
			t.Fatal("a refused POST set a fee")
		}
	}
}

func TestAdminEditsCouncil(t *testing.T) {
	logs := &lockedBuffer{}
	env := testenv.New(t, testenv.Options{NoLeaflet: true, Log: logs})
	ctx := context.Background()
	admin := env.AddStaff(t, domain.RoleAdmin, "")
	b := env.SignInStaff(t, admin)

	p := b.Get("/staff/admin/councils")
	wantStatus(t, p, http.StatusOK)
	mustContain(t, p, "10 councils", "Dacorum Borough Council", "3 years: £", "Not set")

	p = b.Get("/staff/admin/councils/dacorum")
	wantStatus(t, p, http.StatusOK)
	mustContain(t, p, "https://www.dacorum.gov.uk/licensing", "Fee history", "not set", `type="password"`)

	t.Run("contact details: CSRF needed", func(t *testing.T) {
		form := url.Values{"phone": {"01442 228000"}, "decision-days": {"15"}, "medical-interval": {"3"}, "_csrf": {"forged"}}
		wantStatus(t, b.Post("/staff/admin/councils/dacorum", form), http.StatusForbidden)
		wantStatus(t, b.PostRaw("/staff/admin/councils/dacorum", "phone=01442+228000&decision-days=15&medical-interval=3"), http.StatusForbidden)
	})
	t.Run("contact details: errors keep the answers", func(t *testing.T) {
		b.Get("/staff/admin/councils/dacorum")
		p := b.Post("/staff/admin/councils/dacorum", url.Values{"phone": {"12345"}, "public-email": {"licensing@dacorum.gov.uk"},
			"web-url": {"http://insecure.example"}, "decision-days": {"0"}, "medical-interval": {"x"}})
		wantStatus(t, p, http.StatusUnprocessableEntity)
		mustContain(t, p, "Error: Dacorum", "There is a problem", "Enter a UK phone number", "starting https://",
			"Enter a whole number of years from 1 to 20", `value="licensing@dacorum.gov.uk"`, `value="12345"`)
		// Format errors come from the service once the sizes pass.
		p = b.Post("/staff/admin/councils/dacorum", url.Values{"phone": {"12345"}, "decision-days": {"0"}, "medical-interval": {"5"}})
		wantStatus(t, p, http.StatusUnprocessableEntity)
		mustContain(t, p, "Enter a UK phone number", "Enter a number of working days from 1 to 365")
		c, _ := env.Service.Council(ctx, "dacorum")
		if c.Phone != "" {
			t.Fatalf("an invalid form was saved: %+v", c)
		}
	})
	t.Run("contact details saved, 303, audited", func(t *testing.T) {
		b.Get("/staff/admin/councils/dacorum")
		p := b.Post("/staff/admin/councils/dacorum", url.Values{"phone": {"01442 228000"}, "public-email": {"licensing@dacorum.gov.uk"},
			"web-url": {"https://www.dacorum.gov.uk/licensing"}, "address": {"The Forum, Marlowes, Hemel Hempstead, HP1 1DN"},
			"opening-hours": {"Monday to Friday, 9am to 5pm"}, "decision-days": {"15"}, "medical-interval": {"3"}})
		wantRedirect(t, p, "/staff/admin/councils/dacorum?notice=settings")
		mustContain(t, b.Follow(p), "The council&#39;s details have been saved", `value="01442 228000"`, `value="15"`)
		c, _ := env.Service.Council(ctx, "dacorum")
		if c.Phone != "01442 228000" || c.DecisionDays != 15 || c.MedicalIntervalYears != 3 {
			t.Fatalf("saved %+v", c)
		}
		entries, _, _ := env.Store.AuditEntries(ctx, store.AuditFilter{Action: "council.settings_set"})
		if len(entries) != 1 || entries[0].Actor != admin.Email || entries[0].Target != "council:dacorum" || entries[0].Detail["decision_days"] != float64(15) {
			t.Fatalf("audit %+v", entries)
		}
	})
	t.Run("refresher interval: refused out of range, saved, audited, cleared", func(t *testing.T) {
		b.Get("/staff/admin/councils/dacorum")
		base := func(refresher string) url.Values {
			return url.Values{"phone": {"01442 228000"}, "decision-days": {"15"}, "medical-interval": {"3"}, "refresher-years": {refresher}}
		}
		for _, bad := range []string{"x", "25", "-1"} {
			p := b.Post("/staff/admin/councils/dacorum", base(bad))
			wantStatus(t, p, http.StatusUnprocessableEntity)
			mustContain(t, p, "or leave it empty for none", `value="`+bad+`"`)
		}
		p := b.Post("/staff/admin/councils/dacorum", base("3"))
		wantRedirect(t, p, "/staff/admin/councils/dacorum?notice=settings")
		mustContain(t, b.Follow(p), `id="refresher-years"`, `value="3"`)
		if c, _ := env.Service.Council(ctx, "dacorum"); c.RefresherYears != 3 {
			t.Fatalf("refresher interval %d, want 3", c.RefresherYears)
		}
		entries, _, _ := env.Store.AuditEntries(ctx, store.AuditFilter{Action: "council.settings_set"})
		if len(entries) == 0 || entries[0].Detail["refresher_years"] != float64(3) || entries[0].Detail["refresher_years_before"] != float64(0) {
			t.Fatalf("audit %+v", entries)
		}
		wantRedirect(t, b.Post("/staff/admin/councils/dacorum", base("")), "/staff/admin/councils/dacorum?notice=settings")
		if c, _ := env.Service.Council(ctx, "dacorum"); c.RefresherYears != 0 {
			t.Fatalf("refresher interval %d after clearing, want none", c.RefresherYears)
		}
	})
	t.Run("fee: errors keep the answers", func(t *testing.T) {
		b.Get("/staff/admin/councils/dacorum")
		for _, tc := range []struct {
			form url.Values
			want []string
		}{
			{url.Values{"amount": {"abc"}}, []string{"Select the licence term", "numbers only", `value="abc"`}},
			{url.Values{"term": {"3"}, "amount": {"12.345"}, "from-day": {"1"}, "from-month": {"4"}, "from-year": {"2027"}}, []string{"at most 2 digits", `value="12.345"`}},
			{url.Values{"term": {"3"}, "amount": {"250"}, "from-day": {"1"}, "from-month": {"1"}, "from-year": {"2026"}}, []string{"must be today or later", `value="250"`}},
			{url.Values{"term": {"2"}, "amount": {"250"}, "from-day": {"1"}, "from-month": {"1"}, "from-year": {"2027"}}, []string{"Select the licence term"}},
			{url.Values{"term": {"1"}, "amount": {"250"}, "from-day": {"31"}, "from-month": {"2"}, "from-year": {"2027"}}, []string{"real date"}},
		} {
			p := b.Post("/staff/admin/councils/dacorum/fees", tc.form)
			wantStatus(t, p, http.StatusUnprocessableEntity)
			mustContain(t, p, tc.want...)
		}
		entries, _, _ := env.Store.AuditEntries(ctx, store.AuditFilter{Action: "council.fee_set"})
		if len(entries) != 0 {
			t.Fatalf("a refused fee was audited: %+v", entries)
		}
	})
	t.Run("fee set from a date, today's unchanged", func(t *testing.T) {
		c, _ := env.Service.Council(ctx, "dacorum")
		today := env.Service.Today()
		before, _ := env.Service.FeeFor(ctx, c.ID, 3, today)
		b.Get("/staff/admin/councils/dacorum")
		p := b.Post("/staff/admin/councils/dacorum/fees", url.Values{"term": {"3"}, "amount": {"£345.50"},
			"from-day": {"1"}, "from-month": {"4"}, "from-year": {"2027"}})
		wantRedirect(t, p, "/staff/admin/councils/dacorum?notice=fee")
		page := b.Follow(p)
		mustContain(t, page, "The fee has been set", "£345.50", "Future", "1 April 2027", before.Display())
		now, _ := env.Service.FeeFor(ctx, c.ID, 3, today)
		if now.AmountPence != before.AmountPence {
			t.Fatalf("today's fee changed: %d → %d", before.AmountPence, now.AmountPence)
		}
		later, _ := env.Service.FeeFor(ctx, c.ID, 3, domain.Date{Year: 2027, Month: 4, Day: 1})
		if later.AmountPence != 34550 || later.SetBy != admin.Email {
			t.Fatalf("fee from 1 April 2027: %+v", later)
		}
	})
	const key = "api_test_SECRETKEYVALUE0123456789abcdefghijklmnop"
	t.Run("payment key: write-only", func(t *testing.T) {
		b.Get("/staff/admin/councils/dacorum")
		p := b.Post("/staff/admin/councils/dacorum/payment-key", url.Values{"payment-key": {""}})
		wantStatus(t, p, http.StatusUnprocessableEntity)
		mustContain(t, p, "Enter the council&#39;s GOV.UK Pay API key")
		p = b.Post("/staff/admin/councils/dacorum/payment-key", url.Values{"payment-key": {"bad key " + key}})
		wantStatus(t, p, http.StatusUnprocessableEntity)
		if strings.Contains(p.Body, key) {
			t.Fatal("a refused key is shown back")
		}
		p = b.Post("/staff/admin/councils/dacorum/payment-key", url.Values{"payment-key": {key}})
		wantRedirect(t, p, "/staff/admin/councils/dacorum?notice=key-set")
		page := b.Follow(p)
		mustContain(t, page, "The payment key has been saved", "<strong>set</strong>")
		c, _ := env.Service.Council(ctx, "dacorum")
		got, err := env.Service.CouncilPaymentKey(ctx, c.ID)
		if err != nil || got != key {
			t.Fatalf("key %q, %v", got, err)
		}
		for _, path := range []string{"/staff/admin/councils", "/staff/admin/councils/dacorum", "/staff/audit", "/staff/audit?action=council"} {
			if p := b.Get(path); strings.Contains(p.Body, "SECRETKEYVALUE") {
				t.Errorf("%s shows the key", path)
			}
		}
		mustContain(t, b.Get("/staff/audit?action=council.payment_key"), "council.payment_key_set")
		p = b.Post("/staff/admin/councils/dacorum/payment-key", url.Values{"remove": {"yes"}})
		wantRedirect(t, p, "/staff/admin/councils/dacorum?notice=key-removed")
		if c, _ := env.Service.Council(ctx, "dacorum"); c.PaymentKeySet {
			t.Fatal("key not removed")
		}
	})
	if strings.Contains(logs.String(), "SECRETKEYVALUE") {
		t.Error("the payment key is in the server's log")
	}
	if logs.String() == "" {
		t.Log("(the server logged nothing)")
	}
}
