package paystub_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/herts-msp/taxi-renewals/internal/payment"
	"github.com/herts-msp/taxi-renewals/internal/payment/paystub"
)

const key = "api_test_key_one"

var t0 = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)

func start(t *testing.T, s *paystub.Server) string {
	t.Helper()
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return srv.URL
}

func do(t *testing.T, method, u, auth, body string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

const validBody = `{"amount":4250,"reference":"REF-1","description":"Driver licence renewal","return_url":"https://service.example/return/1"}`

func createRaw(t *testing.T, base string) map[string]any {
	t.Helper()
	code, h, body := do(t, "POST", base+"/v1/payments", "Bearer "+key, validBody)
	if code != 201 || !strings.HasPrefix(h.Get("Content-Type"), "application/json") {
		t.Fatalf("create: %d %s", code, body)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestCreateAnswerHasTheSpecFields checks the answer's field names against the spec's
// CreatePaymentResult.
func TestCreateAnswerHasTheSpecFields(t *testing.T) {
	base := start(t, paystub.New(paystub.Options{Clock: func() time.Time { return t0 }}))
	m := createRaw(t, base)
	for _, f := range []string{"payment_id", "amount", "reference", "description", "return_url", "created_date",
		"state", "refund_summary", "settlement_summary", "language", "payment_provider", "delayed_capture", "moto", "_links"} {
		if _, ok := m[f]; !ok {
			t.Errorf("no %q in %v", f, m)
		}
	}
	if m["created_date"] != "2026-03-02T09:30:00.000Z" || m["amount"] != 4250.0 || m["language"] != "en" {
		t.Errorf("values: %v", m)
	}
	st := m["state"].(map[string]any)
	if st["status"] != "created" || st["finished"] != false {
		t.Errorf("state %v", st)
	}
	links := m["_links"].(map[string]any)
	next := links["next_url"].(map[string]any)
	if next["href"] != base+"/pay/"+m["payment_id"].(string) || next["method"] != "GET" {
		t.Errorf("next_url %v", next)
	}
	if _, ok := links["self"]; !ok {
		t.Error("no self link")
	}
}

func TestAPIRefusals(t *testing.T) {
	base := start(t, paystub.New(paystub.Options{}))
	long := strings.Repeat("x", 256)
	tests := []struct {
		name, auth, body string
		status           int
		code, field      string
	}{
		{"no auth", "", validBody, 401, "", ""},
		{"basic auth", "Basic a2V5Og==", validBody, 401, "", ""},
		{"empty bearer", "Bearer   ", validBody, 401, "", ""},
		{"not json", "Bearer " + key, `amount=1`, 400, "P0197", ""},
		{"json array", "Bearer " + key, `[1]`, 400, "P0197", ""},
		{"missing amount", "Bearer " + key, `{"reference":"r","description":"d","return_url":"https://x.example/"}`, 400, "P0101", "amount"},
		{"zero amount", "Bearer " + key, strings.Replace(validBody, "4250", "0", 1), 422, "P0102", "amount"},
		{"amount too big", "Bearer " + key, strings.Replace(validBody, "4250", "10000001", 1), 422, "P0102", "amount"},
		{"fractional amount", "Bearer " + key, strings.Replace(validBody, "4250", "42.5", 1), 422, "P0102", "amount"},
		{"missing reference", "Bearer " + key, strings.Replace(validBody, `"reference":"REF-1",`, "", 1), 400, "P0101", "reference"},
		{"long reference", "Bearer " + key, strings.Replace(validBody, "REF-1", long, 1), 422, "P0102", "reference"},
		{"long description", "Bearer " + key, strings.Replace(validBody, "Driver licence renewal", long, 1), 422, "P0102", "description"},
		{"missing return_url", "Bearer " + key, `{"amount":1,"reference":"r","description":"d"}`, 400, "P0101", "return_url"},
		{"javascript return_url", "Bearer " + key, strings.Replace(validBody, "https://service.example/return/1", "javascript:alert(1)", 1), 422, "P0102", "return_url"},
		{"french", "Bearer " + key, strings.Replace(validBody, "{", `{"language":"fr",`, 1), 422, "P0102", "language"},
		{"metadata not an object", "Bearer " + key, strings.Replace(validBody, "{", `{"metadata":[1],`, 1), 422, "P0102", "metadata"},
		{"metadata nested", "Bearer " + key, strings.Replace(validBody, "{", `{"metadata":{"a":{"b":1}},`, 1), 422, "P0102", "metadata"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, h, body := do(t, "POST", base+"/v1/payments", tt.auth, tt.body)
			if status != tt.status {
				t.Fatalf("%d %s, want %d", status, body, tt.status)
			}
			if tt.status == 401 {
				if !strings.Contains(body, "Credentials are required") || strings.Contains(body, key) {
					t.Errorf("401 body %q", body)
				}
				return
			}
			var e struct{ Code, Description, Field string }
			if err := json.Unmarshal([]byte(body), &e); err != nil || !strings.HasPrefix(h.Get("Content-Type"), "application/json") {
				t.Fatalf("error body %q: %v", body, err)
			}
			if e.Code != tt.code || e.Field != tt.field || e.Description == "" {
				t.Errorf("%+v, want code %s field %s", e, tt.code, tt.field)
			}
		})
	}
	status, _, _ := do(t, "GET", base+"/v1/nothing/here", "Bearer "+key, "")
	if status != 404 {
		t.Errorf("unknown API path: %d", status)
	}
}

func TestRefundRaw(t *testing.T) {
	s := paystub.New(paystub.Options{})
	base := start(t, s)
	id := createRaw(t, base)["payment_id"].(string)
	u := base + "/v1/payments/" + id + "/refunds"
	if err := s.Complete(id, paystub.OutcomePay); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, body  string
		status      int
		code, field string
	}{
		{"missing amount", `{}`, 400, "P0601", "amount"},
		{"zero", `{"amount":0}`, 422, "P0602", "amount"},
		{"mismatch", `{"amount":100,"refund_amount_available":4000}`, 412, "P0604", ""},
		{"more than paid", `{"amount":4251}`, 400, "P0603", ""},
		{"ok", `{"amount":250,"refund_amount_available":4250}`, 202, "", ""},
		{"repeat with the old figure", `{"amount":250,"refund_amount_available":4250}`, 412, "P0604", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, _, body := do(t, "POST", u, "Bearer "+key, tt.body)
			var e struct{ Code, Field, Status string }
			_ = json.Unmarshal([]byte(body), &e)
			if status != tt.status || e.Code != tt.code || e.Field != tt.field {
				t.Errorf("%d %s, want %d %s %s", status, body, tt.status, tt.code, tt.field)
			}
		})
	}
	if status, _, _ := do(t, "POST", u, "Bearer another_key", `{"amount":1}`); status != 404 {
		t.Errorf("another account's refund: %d", status)
	}
	rec, _ := s.Payment(id)
	if len(rec.Refunds) != 1 || rec.Refunds[0].Amount != 250 {
		t.Errorf("refunds %+v", rec.Refunds)
	}
}

var (
	reLang    = regexp.MustCompile(`<html lang="en">`)
	reTitle   = regexp.MustCompile(`<title>[^<]*\S[^<]*</title>`)
	reH1      = regexp.MustCompile(`<h1>([^<]+)</h1>`)
	reForm    = regexp.MustCompile(`<form method="post" action="/pay/[a-z0-9]+"><input type="hidden" name="action" value="(\w+)"><button type="submit"[^>]*>([^<]+)</button></form>`)
	reViewp   = regexp.MustCompile(`<meta name="viewport" content="width=device-width, initial-scale=1">`)
	reAnyLink = regexp.MustCompile(`<a href="([^"]+)">([^<]+)</a>`)
)

func getPage(t *testing.T, u string) (int, http.Header, string) {
	t.Helper()
	return do(t, "GET", u, "", "")
}

func TestCardPage(t *testing.T) {
	s := paystub.New(paystub.Options{})
	base := start(t, s)
	body := strings.Replace(validBody, "Driver licence renewal", `Renewal <script>alert(1)</script> & co`, 1)
	_, _, created := do(t, "POST", base+"/v1/payments", "Bearer "+key, body)
	var m struct {
		PaymentID string `json:"payment_id"`
		Links     struct {
			NextURL struct{ Href string } `json:"next_url"`
		} `json:"_links"`
	}
	if err := json.Unmarshal([]byte(created), &m); err != nil {
		t.Fatal(err)
	}
	status, h, page := getPage(t, m.Links.NextURL.Href)
	if status != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/html") {
		t.Fatalf("card page %d %s", status, h.Get("Content-Type"))
	}
	for name, re := range map[string]*regexp.Regexp{"lang": reLang, "title": reTitle, "h1": reH1, "viewport": reViewp} {
		if !re.MatchString(page) {
			t.Errorf("card page has no %s", name)
		}
	}
	if h1 := reH1.FindStringSubmatch(page); h1 == nil || h1[1] != "Pay £42.50" {
		t.Errorf("heading %v, want Pay £42.50", h1)
	}
	buttons := map[string]string{}
	for _, f := range reForm.FindAllStringSubmatch(page, -1) {
		buttons[f[1]] = f[2]
	}
	want := map[string]string{"pay": "Pay", "decline": "Decline card", "cancel": "Cancel payment"}
	for action, text := range want {
		if buttons[action] != text {
			t.Errorf("button for %s: %q, want %q (all: %v)", action, buttons[action], text, buttons)
		}
	}
	for _, s := range []string{"£42.50", "Renewal &lt;script&gt;alert(1)&lt;/script&gt; &amp; co", "REF-1", "test stand-in", "No real card is taken"} {
		if !strings.Contains(page, s) {
			t.Errorf("card page lacks %q", s)
		}
	}
	if strings.Contains(strings.ToLower(page), "<script") {
		t.Error("card page has a script")
	}
	if rec, _ := s.Payment(m.PaymentID); rec.Status != payment.StatusStarted {
		t.Errorf("after visiting, status %s, want started", rec.Status)
	}

	// press Decline card
	status, _, _ = do(t, "POST", m.Links.NextURL.Href+"?", "", "")
	if status != 400 {
		t.Errorf("no action: %d", status)
	}
	req, _ := http.NewRequest("POST", m.Links.NextURL.Href, strings.NewReader(url.Values{"action": {"decline"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "https://service.example/return/1" {
		t.Errorf("decline: %d to %s", resp.StatusCode, resp.Header.Get("Location"))
	}

	// the finished page shows the outcome and a way back, and no buttons
	_, _, page = getPage(t, m.Links.NextURL.Href)
	if h1 := reH1.FindStringSubmatch(page); h1 == nil || h1[1] != "Your payment was declined" {
		t.Errorf("finished heading %v", h1)
	}
	if l := reAnyLink.FindStringSubmatch(page); l == nil || l[1] != "https://service.example/return/1" {
		t.Errorf("link back %v", l)
	}
	if reForm.MatchString(page) {
		t.Error("finished page still offers buttons")
	}
	// pressing Pay afterwards changes nothing
	if err := s.Complete(m.PaymentID, paystub.OutcomePay); !errors.Is(err, paystub.ErrFinished) {
		t.Errorf("Complete after decline: %v", err)
	}
	if rec, _ := s.Payment(m.PaymentID); rec.Status != payment.StatusFailed || rec.Code != payment.CodeDeclined {
		t.Errorf("record %+v", rec)
	}
	if status, _, _ := getPage(t, base+"/pay/nosuchpayment"); status != 404 {
		t.Errorf("unknown card page: %d", status)
	}
}

func TestDelayStopsWhenTheCallerGivesUp(t *testing.T) {
	s := paystub.New(paystub.Options{})
	s.SetDelay(time.Hour)
	srv := httptest.NewServer(s.Handler())
	c := payment.NewClient(srv.URL, &http.Client{Timeout: 100 * time.Millisecond})
	if _, err := c.Create(context.Background(), key, payment.CreateRequest{
		Amount: 1, Reference: "r", Description: "d", ReturnURL: "https://x.example/",
	}); !payment.IsUnavailable(err) {
		t.Errorf("%v, want Unavailable", err)
	}
	done := make(chan struct{})
	go func() { srv.Close(); close(done) }() // Close waits for handlers still running
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		t.Fatal("the delayed handler is still waiting after its caller left")
	}
}

func TestStateFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "paystub.json")
	clock := func() time.Time { return t0 }
	s1, err := paystub.OpenFile(path, paystub.Options{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	base := start(t, s1)
	paid := createRaw(t, base)["payment_id"].(string)
	open := createRaw(t, base)["payment_id"].(string)
	if err := s1.Complete(paid, paystub.OutcomePay); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	if strings.Contains(string(data), key) {
		t.Error("state file holds the API key")
	}

	// a new stand-in on the same file knows both, for the same account only
	s2, err := paystub.OpenFile(path, paystub.Options{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	base2 := start(t, s2)
	c := payment.NewClient(base2, nil)
	p, err := c.Get(context.Background(), key, paid)
	if err != nil || !p.State.Success() {
		t.Errorf("paid payment after restart: %+v %v", p.State, err)
	}
	if p, err := c.Get(context.Background(), key, open); err != nil || p.State.Status != payment.StatusCreated {
		t.Errorf("open payment after restart: %+v %v", p.State, err)
	}
	if _, err := c.Get(context.Background(), "other", paid); !payment.IsNotFound(err) {
		t.Errorf("other account after restart: %v", err)
	}
	if n := len(s2.Payments()); n != 2 {
		t.Errorf("%d payments after restart", n)
	}
	// new ones are still created after the loaded ones
	third := createRaw(t, base2)["payment_id"].(string)
	if recs := s2.Payments(); len(recs) != 3 || recs[2].ID != third {
		t.Errorf("order after restart: %+v", recs)
	}

	if err := os.WriteFile(path, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := paystub.OpenFile(path, paystub.Options{}); err == nil {
		t.Error("a corrupt state file was accepted")
	}
	// memory only: nothing written anywhere
	s3 := paystub.New(paystub.Options{})
	createRaw(t, start(t, s3))
	if n := len(s3.Payments()); n != 1 {
		t.Errorf("memory stand-in: %d", n)
	}
}

func TestStartListensOnLoopback(t *testing.T) {
	s := paystub.New(paystub.Options{})
	hs, base, err := s.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer hs.Close()
	if !strings.HasPrefix(base, "http://127.0.0.1:") {
		t.Errorf("base %q", base)
	}
	p, err := payment.NewClient(base, nil).Create(context.Background(), key, payment.CreateRequest{
		Amount: 100, Reference: "r", Description: "d", ReturnURL: "http://127.0.0.1:8080/return",
	})
	if err != nil || !strings.HasPrefix(p.NextURL, base+"/pay/") {
		t.Errorf("%+v %v", p, err)
	}
}

func TestPounds(t *testing.T) {
	for pence, want := range map[int64]string{0: "£0.00", 5: "£0.05", 4250: "£42.50", 10000000: "£100000.00"} {
		if got := paystub.Pounds(pence); got != want {
			t.Errorf("Pounds(%d) = %q, want %q", pence, got, want)
		}
	}
}
