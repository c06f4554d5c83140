package service_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/herts-msp/taxi-renewals/internal/domain"
	"github.com/herts-msp/taxi-renewals/internal/service"
	"github.com/herts-msp/taxi-renewals/internal/store"
	"github.com/herts-msp/taxi-renewals/internal/testdb"
	"github.com/herts-msp/taxi-renewals/internal/testenv"
)

func date(t *testing.T, s string) domain.Date {
	t.Helper()
	d, err := domain.ParseISODate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

var admin = service.SystemActor("test-admin")

func TestFeeForOnDates(t *testing.T) {
	env := testenv.New(t, testenv.Options{NoLeaflet: true})
	ctx := context.Background()
	svc := env.Service
	dac, _ := svc.Council(ctx, "dacorum")

	// The migration's starting fee (a placeholder) applies from 2026-04-01.
	seeded, err := svc.FeeFor(ctx, dac.ID, 3, date(t, "2026-11-26"))
	if err != nil || seeded.AmountPence <= 0 || seeded.AppliesFrom != date(t, "2026-04-01") {
		t.Fatalf("seeded fee: %+v, %v", seeded, err)
	}
	// Today (2026-11-26) an admin sets a fee from 2027-04-01, then sets 2027-04-01 again (a
	// correction the same day: the later setting wins), and one from today.
	if _, err := svc.SetFee(ctx, admin, "dacorum", 3, 30000, date(t, "2027-04-01")); err != nil {
		t.Fatal(err)
	}
	env.Clock.Advance(time.Minute)
	if _, err := svc.SetFee(ctx, admin, "dacorum", 3, 31000, date(t, "2027-04-01")); err != nil {
		t.Fatal(err)
	}
	env.Clock.Advance(time.Minute)
	if _, err := svc.SetFee(ctx, admin, "dacorum", 1, 17500, date(t, "2026-11-26")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		term int
		on   string
		want int64
	}{
		{"before the first fee", 3, "2026-03-31", 0},
		{"today: the future fee leaves today's as it was", 3, "2026-11-26", seeded.AmountPence},
		{"the day before the change", 3, "2027-03-31", seeded.AmountPence},
		{"the change day: the later of two settings", 3, "2027-04-01", 31000},
		{"long after", 3, "2030-01-01", 31000},
		{"a fee from today applies today", 1, "2026-11-26", 17500},
		{"yesterday's 1-year fee is the seeded one", 1, "2026-11-25", 0 /* checked below */},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := svc.FeeFor(ctx, dac.ID, tc.term, date(t, tc.on))
			if tc.name == "yesterday's 1-year fee is the seeded one" {
				if err != nil || got.AmountPence == 17500 || got.AppliesFrom != date(t, "2026-04-01") {
					t.Fatalf("got %+v, %v", got, err)
				}
				return
			}
			if tc.want == 0 {
				if domain.ErrorCode(err) != domain.CodeNotFound {
					t.Fatalf("got %+v, %v; want not found", got, err)
				}
				if !strings.Contains(err.Error(), "has not set a fee for a 3-year licence yet") ||
					!strings.Contains(err.Error(), "Dacorum Borough Council") {
					t.Errorf("message %q", err)
				}
				return
			}
			if err != nil || got.AmountPence != tc.want {
				t.Fatalf("got %d, %v; want %d", got.AmountPence, err, tc.want)
			}
		})
	}
	fees, err := svc.Fees(ctx, dac.ID, date(t, "2027-04-01"))
	if err != nil || len(fees) != 2 || fees[0].TermYears != 1 || fees[0].AmountPence != 17500 || fees[1].AmountPence != 31000 {
		t.Fatalf("Fees = %+v, %v", fees, err)
	}
	if fees[1].Display() != "£310.00" || fees[1].SetBy != "test-admin" {
		t.Errorf("fee %+v shows %q", fees[1], fees[1].Display())
	}
}

func TestSetFeeRules(t *testing.T) {
	env := testenv.New(t, testenv.Options{NoLeaflet: true})
	ctx := context.Background()
	svc := env.Service
	officer := domain.Actor{StaffID: 7, Email: "o@dacorum.gov.uk", Role: domain.RoleOfficer, CouncilID: 1}
	analyst := domain.Actor{StaffID: 8, Email: "a@herts.gov.uk", Role: domain.RoleAnalyst}
	for _, tc := range []struct {
		name   string
		actor  domain.Actor
		slug   string
		term   int
		amount int64
		from   string
		code   domain.Code
		field  string
	}{
		{"officer refused", officer, "dacorum", 3, 25000, "2027-01-01", domain.CodeForbidden, ""},
		{"analyst refused", analyst, "dacorum", 3, 25000, "2027-01-01", domain.CodeForbidden, ""},
		{"no such council", admin, "nowhere", 3, 25000, "2027-01-01", domain.CodeNotFound, ""},
		{"term not offered", admin, "dacorum", 2, 25000, "2027-01-01", domain.CodeInvalid, "term"},
		{"zero", admin, "dacorum", 3, 0, "2027-01-01", domain.CodeInvalid, "amount"},
		{"too much", admin, "dacorum", 3, domain.MaxFeePence + 1, "2027-01-01", domain.CodeInvalid, "amount"},
		{"in the past", admin, "dacorum", 3, 25000, "2026-11-25", domain.CodeInvalid, "from"},
		{"no date", admin, "dacorum", 3, 25000, "", domain.CodeInvalid, "from"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var from domain.Date
			if tc.from != "" {
				from = date(t, tc.from)
			}
			before, _ := svc.AllFees(ctx, date(t, "2030-01-01"))
			_, err := svc.SetFee(ctx, tc.actor, tc.slug, tc.term, tc.amount, from)
			if domain.ErrorCode(err) != tc.code {
				t.Fatalf("err %v, want code %s", err, tc.code)
			}
			if e, ok := err.(*domain.Error); tc.field != "" && (!ok || e.Fields[tc.field] == "") {
				t.Errorf("want a message on field %q, got %v", tc.field, err)
			}
			after, _ := svc.AllFees(ctx, date(t, "2030-01-01"))
			if len(before) != len(after) || before[1].Fees[1].ID != after[1].Fees[1].ID {
				t.Errorf("a refused fee changed the fees")
			}
		})
	}
	// A fee set is audited with who, what and from when.
	f, err := svc.SetFee(ctx, admin, "watford", 1, 13999, date(t, "2027-01-01"))
	if err != nil {
		t.Fatal(err)
	}
	entries, _, err := env.Store.AuditEntries(ctx, store.AuditFilter{Action: "council.fee_set"})
	if err != nil || len(entries) != 1 {
		t.Fatalf("audit: %v, %v", entries, err)
	}
	e := entries[0]
	if e.Actor != "test-admin" || e.Target != "council:watford" || e.Detail["amount_pence"] != float64(13999) ||
		e.Detail["applies_from"] != "2027-01-01" || e.Detail["fee_id"] != float64(f.ID) {
		t.Errorf("audit entry %+v", e)
	}
}

// Fee history is append-only in the database itself, like evidence.
func TestFeeHistoryIsAppendOnly(t *testing.T) {
	env := testenv.New(t, testenv.Options{NoLeaflet: true})
	raw := testdb.Raw(t, env.Config.DatabaseURL)
	for _, q := range []string{"UPDATE council_fees SET amount_pence = 1", "DELETE FROM council_fees"} {
		if _, err := raw.Exec(q); err == nil || !strings.Contains(err.Error(), "fee history is append-only") {
			t.Errorf("%s: err %v, want refused", q, err)
		}
	}
}

func TestCouncilPaymentKey(t *testing.T) {
	env := testenv.New(t, testenv.Options{NoLeaflet: true})
	ctx := context.Background()
	svc := env.Service
	dac, _ := svc.Council(ctx, "dacorum")
	wat, _ := svc.Council(ctx, "watford")
	if dac.PaymentKeySet {
		t.Fatal("a key is set before any was")
	}
	if _, err := svc.CouncilPaymentKey(ctx, dac.ID); domain.ErrorCode(err) != domain.CodeNotFound ||
		!strings.Contains(err.Error(), "Online payment is not set up for this council") {
		t.Fatalf("no key: %v", err)
	}
	officer := domain.Actor{StaffID: 7, Email: "o@dacorum.gov.uk", Role: domain.RoleOfficer, CouncilID: dac.ID}
	if err := svc.SetCouncilPaymentKey(ctx, officer, "dacorum", "api_test_x"); domain.ErrorCode(err) != domain.CodeForbidden {
		t.Fatalf("officer: %v", err)
	}
	if err := svc.SetCouncilPaymentKey(ctx, admin, "dacorum", "has space"); domain.ErrorCode(err) != domain.CodeInvalid {
		t.Fatalf("bad key: %v", err)
	}
	const key = "api_test_abc123def456ghi789jkl012mno345pqr678stu901vwx234yz"
	if err := svc.SetCouncilPaymentKey(ctx, admin, "dacorum", key+"\n"); err != nil {
		t.Fatal(err)
	}
	got, err := svc.CouncilPaymentKey(ctx, dac.ID)
	if err != nil || got != key {
		t.Fatalf("key back: %q, %v", got, err)
	}
	dac, _ = svc.Council(ctx, "dacorum")
	if !dac.PaymentKeySet {
		t.Error("PaymentKeySet false after setting")
	}
	// Stored sealed: neither the database nor the audit log holds the key.
	raw := testdb.Raw(t, env.Config.DatabaseURL)
	var sealed string
	if err := raw.QueryRow("SELECT pay_api_key_sealed FROM councils WHERE slug = 'dacorum'").Scan(&sealed); err != nil {
		t.Fatal(err)
	}
	if sealed == "" || strings.Contains(sealed, "abc123") {
		t.Fatalf("stored %q", sealed)
	}
	var n int
	if err := raw.QueryRow("SELECT COUNT(*) FROM audit_log WHERE detail LIKE '%abc123%' OR target LIKE '%abc123%'").Scan(&n); err != nil || n != 0 {
		t.Fatalf("key in the audit log: %d, %v", n, err)
	}
	entries, _, _ := env.Store.AuditEntries(ctx, store.AuditFilter{Action: "council.payment_key_set"})
	if len(entries) != 1 {
		t.Fatalf("audit entries %v", entries)
	}
	// Copied onto another council, the sealed key does not open.
	if _, err := raw.Exec("UPDATE councils SET pay_api_key_sealed = ? WHERE slug = 'watford'", sealed); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CouncilPaymentKey(ctx, wat.ID); domain.ErrorCode(err) != domain.CodeInternal {
		t.Fatalf("copied key: %v, want it not to open", err)
	}
	// An empty key removes it.
	if err := svc.SetCouncilPaymentKey(ctx, admin, "dacorum", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CouncilPaymentKey(ctx, dac.ID); domain.ErrorCode(err) != domain.CodeNotFound {
		t.Fatalf("after removal: %v", err)
	}
}

func TestUpdateCouncilSettings(t *testing.T) {
	env := testenv.New(t, testenv.Options{NoLeaflet: true})
	ctx := context.Background()
	svc := env.Service
	good := domain.CouncilSettings{Phone: " 01442 228000 ", PublicEmail: "Licensing@Dacorum.gov.uk", WebURL: "https://www.dacorum.gov.uk/licensing",
		Address: "The Forum, Marlowes, Hemel Hempstead, HP1 1DN", OpeningHours: "Monday to Friday, 9am to 5pm", DecisionDays: 15, MedicalIntervalYears: 3}
	c, err := svc.UpdateCouncilSettings(ctx, admin, "dacorum", good)
	if err != nil {
		t.Fatal(err)
	}
	if c.Phone != "01442 228000" || c.PublicEmail != "Licensing@dacorum.gov.uk" || c.DecisionDays != 15 || c.MedicalIntervalYears != 3 || c.PhoneURI() != "tel:01442228000" {
		t.Errorf("saved %+v", c)
	}
	for _, tc := range []struct {
		name  string
		edit  func(*domain.CouncilSettings)
		field string
	}{
		{"phone", func(s *domain.CouncilSettings) { s.Phone = "12345" }, "phone"},
		{"email", func(s *domain.CouncilSettings) { s.PublicEmail = "not an email" }, "public_email"},
		{"http web page", func(s *domain.CouncilSettings) { s.WebURL = "http://www.dacorum.gov.uk" }, "web_url"},
		{"script web page", func(s *domain.CouncilSettings) { s.WebURL = "javascript:alert(1)" }, "web_url"},
		{"decision days", func(s *domain.CouncilSettings) { s.DecisionDays = 0 }, "decision_days"},
		{"medical", func(s *domain.CouncilSettings) { s.MedicalIntervalYears = 99 }, "medical_interval_years"},
		{"long address", func(s *domain.CouncilSettings) { s.Address = strings.Repeat("a", 201) }, "address"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := good
			tc.edit(&in)
			_, err := svc.UpdateCouncilSettings(ctx, admin, "dacorum", in)
			e, ok := err.(*domain.Error)
			if !ok || e.Code != domain.CodeInvalid || e.Fields[tc.field] == "" {
				t.Fatalf("err %v, want a message on %s", err, tc.field)
			}
			now, _ := svc.Council(ctx, "dacorum")
			if now.Settings() != c.Settings() {
				t.Errorf("a refused change was saved: %+v", now)
			}
		})
	}
	// Empty contact fields are allowed: pages show only what is set.
	if _, err := svc.UpdateCouncilSettings(ctx, admin, "dacorum", domain.CouncilSettings{DecisionDays: 10, MedicalIntervalYears: 5}); err != nil {
		t.Fatal(err)
	}
	analyst := domain.Actor{StaffID: 8, Email: "a@herts.gov.uk", Role: domain.RoleAnalyst}
	if _, err := svc.UpdateCouncilSettings(ctx, analyst, "dacorum", good); domain.ErrorCode(err) != domain.CodeForbidden {
		t.Fatalf("analyst: %v", err)
	}
}
