package payment_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/herts-msp/taxi-renewals/internal/payment"
	"github.com/herts-msp/taxi-renewals/internal/payment/paystub"
)

const (
	keyA = "api_test_council_a_0123456789abcdef"
	keyB = "api_test_council_b_0123456789abcdef"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type env struct {
	clock  *clock
	stub   *paystub.Server
	srv    *httptest.Server
	client *payment.Client
}

func newEnv(t *testing.T) *env {
	t.Helper()
	c := &clock{t: time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)}
	stub := paystub.New(paystub.Options{Clock: c.Now})
	srv := httptest.NewServer(stub.Handler())
	t.Cleanup(srv.Close)
	return &env{clock: c, stub: stub, srv: srv, client: payment.NewClient(srv.URL, nil)}
}

func request() payment.CreateRequest {
	return payment.CreateRequest{
		Amount: 12345, Reference: "HTR-2026-000123", Description: "Hackney carriage driver licence renewal, 3 years",
		ReturnURL: "https://renewals.example.gov.uk/payments/return/abc", Email: "driver@example.org", Language: "en",
		Metadata: map[string]string{"renewal_id": "123", "council": "herts-a"},
	}
}

func asError(t *testing.T, err error) *payment.Error {
	t.Helper()
	var pe *payment.Error
	if !errors.As(err, &pe) {
		t.Fatalf("error %v (%T) is not a *payment.Error", err, err)
	}
	return pe
}

// noRedirect is a browser that shows us the 303 instead of following it.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// clickCardButton opens the card page like a browser and presses one of its buttons.
func clickCardButton(t *testing.T, nextURL, action string) *http.Response {
	t.Helper()
	resp, err := noRedirect.Get(nextURL)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), `value="`+action+`"`) {
		t.Fatalf("card page: %d, no %q button:\n%s", resp.StatusCode, action, page)
	}
	resp, err = noRedirect.PostForm(nextURL, url.Values{"action": {action}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func TestCreateThenGetIsCreated(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p, err := e.client.Create(ctx, keyA, request())
	if err != nil {
		t.Fatal(err)
	}
	if !payment.ValidID(p.ID) || len(p.ID) != 26 {
		t.Errorf("payment id %q", p.ID)
	}
	if p.Amount != 12345 || p.Reference != "HTR-2026-000123" || p.ReturnURL != request().ReturnURL {
		t.Errorf("created payment %+v", p)
	}
	if p.State != (payment.State{Status: payment.StatusCreated}) {
		t.Errorf("state %+v, want created and not finished", p.State)
	}
	if want := e.srv.URL + "/pay/" + p.ID; p.NextURL != want {
		t.Errorf("next_url %q, want %q", p.NextURL, want)
	}
	if !p.CreatedDate.Equal(e.clock.Now()) {
		t.Errorf("created_date %v, want %v", p.CreatedDate, e.clock.Now())
	}
	got, err := e.client.Get(ctx, keyA, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != p.ID || got.State.Status != payment.StatusCreated || got.State.Finished || got.RefundAvailable != 0 {
		t.Errorf("get: %+v", got)
	}
	recs := e.stub.Payments()
	if len(recs) != 1 || recs[0].Account != paystub.AccountLabel(keyA) || recs[0].Amount != 12345 {
		t.Errorf("stand-in holds %+v", recs)
	}
}

func TestCardPageOutcomes(t *testing.T) {
	tests := []struct {
		action       string
		status, code string
		success      bool
	}{
		{"pay", payment.StatusSuccess, "", true},
		{"decline", payment.StatusFailed, payment.CodeDeclined, false},
		{"cancel", payment.StatusFailed, payment.CodeCancelledByUser, false},
	}
	for _, tt := range tests {
		t.Run(tt.action, func(t *testing.T) {
			e := newEnv(t)
			ctx := context.Background()
			p, err := e.client.Create(ctx, keyA, request())
			if err != nil {
				t.Fatal(err)
			}
			resp := clickCardButton(t, p.NextURL, tt.action)
			if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != p.ReturnURL {
				t.Fatalf("after %s: %d to %q, want 303 to the return_url", tt.action, resp.StatusCode, resp.Header.Get("Location"))
			}
			got, err := e.client.Get(ctx, keyA, p.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.State.Status != tt.status || got.State.Code != tt.code || !got.State.Finished {
				t.Errorf("state %+v, want %s %s finished", got.State, tt.status, tt.code)
			}
			if got.State.Success() != tt.success || got.State.FinishedUnpaid() == tt.success {
				t.Errorf("Success %v FinishedUnpaid %v", got.State.Success(), got.State.FinishedUnpaid())
			}
			if got.NextURL != "" {
				t.Errorf("finished payment still has next_url %q", got.NextURL)
			}
			if want := map[bool]int64{true: 12345, false: 0}[tt.success]; got.RefundAvailable != want {
				t.Errorf("refund available %d, want %d", got.RefundAvailable, want)
			}
		})
	}
}

func TestExpiresAfter90Minutes(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p, err := e.client.Create(ctx, keyA, request())
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(89*time.Minute + 59*time.Second)
	got, err := e.client.Get(ctx, keyA, p.ID)
	if err != nil || got.State.Finished {
		t.Fatalf("before 90 minutes: %+v %v, want unfinished", got.State, err)
	}
	e.clock.Advance(time.Second)
	got, err = e.client.Get(ctx, keyA, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State.Status != payment.StatusFailed || got.State.Code != payment.CodeExpired || !got.State.FinishedUnpaid() {
		t.Errorf("after 90 minutes: %+v, want failed P0020", got.State)
	}
	if err := e.stub.Complete(p.ID, paystub.OutcomePay); !errors.Is(err, paystub.ErrFinished) {
		t.Errorf("paying an expired payment: %v, want ErrFinished", err)
	}
}

func TestCompleteWithoutBrowser(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p, err := e.client.Create(ctx, keyA, request())
	if err != nil {
		t.Fatal(err)
	}
	if err := e.stub.Complete(p.ID, paystub.OutcomeSubmit); err != nil {
		t.Fatal(err)
	}
	got, _ := e.client.Get(ctx, keyA, p.ID)
	if got.State.Status != payment.StatusSubmitted || got.State.Finished {
		t.Errorf("submitted: %+v", got.State)
	}
	if err := e.stub.Complete(p.ID, paystub.OutcomePay); err != nil {
		t.Fatal(err)
	}
	if got, _ = e.client.Get(ctx, keyA, p.ID); !got.State.Success() {
		t.Errorf("after Complete(pay): %+v", got.State)
	}
	if err := e.stub.Complete(p.ID, paystub.OutcomeDecline); !errors.Is(err, paystub.ErrFinished) {
		t.Errorf("second outcome: %v, want ErrFinished", err)
	}
	if err := e.stub.Complete("nosuchpayment", paystub.OutcomePay); !errors.Is(err, paystub.ErrNotFound) {
		t.Errorf("unknown id: %v", err)
	}
}

func TestAnotherAccountGets404(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p, err := e.client.Create(ctx, keyA, request())
	if err != nil {
		t.Fatal(err)
	}
	if err := e.stub.Complete(p.ID, paystub.OutcomePay); err != nil {
		t.Fatal(err)
	}
	_, err = e.client.Get(ctx, keyB, p.ID)
	pe := asError(t, err)
	if !pe.NotFound() || pe.Unavailable || pe.Code != payment.CodeNotFound || !payment.IsNotFound(err) {
		t.Errorf("get with another key: %+v", pe)
	}
	_, err = e.client.Refund(ctx, keyB, p.ID, 100, 12345)
	if pe := asError(t, err); !pe.NotFound() || pe.Code != payment.CodeRefundNotFound {
		t.Errorf("refund with another key: %+v", pe)
	}
	_, err = e.client.Get(ctx, keyA, "a1b2c3d4e5f6g7h8i9j0k1l2m3")
	if !payment.IsNotFound(err) {
		t.Errorf("unknown id: %v", err)
	}
}

func TestRequestRefusedBeforeSending(t *testing.T) {
	long := strings.Repeat("é", 256)
	tests := []struct {
		name   string
		change func(*payment.CreateRequest)
		field  string
	}{
		{"zero amount", func(r *payment.CreateRequest) { r.Amount = 0 }, "amount"},
		{"negative amount", func(r *payment.CreateRequest) { r.Amount = -5 }, "amount"},
		{"amount over £100,000", func(r *payment.CreateRequest) { r.Amount = 10000001 }, "amount"},
		{"empty reference", func(r *payment.CreateRequest) { r.Reference = " " }, "reference"},
		{"reference of 256 characters", func(r *payment.CreateRequest) { r.Reference = long }, "reference"},
		{"reference with a newline", func(r *payment.CreateRequest) { r.Reference = "a\nb" }, "reference"},
		{"empty description", func(r *payment.CreateRequest) { r.Description = "" }, "description"},
		{"description of 256 characters", func(r *payment.CreateRequest) { r.Description = long }, "description"},
		{"no return url", func(r *payment.CreateRequest) { r.ReturnURL = "" }, "return_url"},
		{"relative return url", func(r *payment.CreateRequest) { r.ReturnURL = "/payments/return" }, "return_url"},
		{"javascript return url", func(r *payment.CreateRequest) { r.ReturnURL = "javascript:alert(1)" }, "return_url"},
		{"return url with credentials", func(r *payment.CreateRequest) { r.ReturnURL = "https://u:p@example.org/" }, "return_url"},
		{"welsh is cy not wl", func(r *payment.CreateRequest) { r.Language = "wl" }, "language"},
		{"11 metadata keys", func(r *payment.CreateRequest) {
			r.Metadata = map[string]string{}
			for i := range 11 {
				r.Metadata[fmt.Sprint("k", i)] = "v"
			}
		}, "metadata"},
		{"metadata value too long", func(r *payment.CreateRequest) { r.Metadata = map[string]string{"k": strings.Repeat("v", 101)} }, "metadata"},
	}
	e := newEnv(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := request()
			tt.change(&r)
			_, err := e.client.Create(context.Background(), keyA, r)
			pe := asError(t, err)
			if !errors.Is(err, payment.ErrInvalidRequest) || pe.Unavailable || pe.Status != 0 || pe.Field != tt.field {
				t.Errorf("%+v, want refused before sending with field %s", pe, tt.field)
			}
		})
	}
	t.Run("bad ids and keys", func(t *testing.T) {
		for _, id := range []string{"", "../v1/payments", "abc/def", "abc?x=1", "abc%2F", strings.Repeat("a", 65)} {
			if _, err := e.client.Get(context.Background(), keyA, id); !errors.Is(err, payment.ErrInvalidRequest) {
				t.Errorf("Get(%q): %v, want ErrInvalidRequest", id, err)
			}
		}
		for _, key := range []string{"", "key with space", "key\r\nX-Evil: 1"} {
			if _, err := e.client.Create(context.Background(), key, request()); !errors.Is(err, payment.ErrInvalidRequest) {
				t.Errorf("key %q: %v, want ErrInvalidRequest", key, err)
			}
		}
	})
	if n := len(e.stub.Payments()); n != 0 {
		t.Errorf("%d payments reached the stand-in, want none", n)
	}
}

// rewrite puts a handler between the client and the stand-in that changes each request.
func rewrite(t *testing.T, stub *paystub.Server, change func(r *http.Request)) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		change(r)
		stub.Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestProviderRefusalsMapToError(t *testing.T) {
	e := newEnv(t)
	setBody := func(old, new string) func(*http.Request) {
		return func(r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			s := strings.Replace(string(b), old, new, 1)
			r.Body, r.ContentLength = io.NopCloser(strings.NewReader(s)), int64(len(s))
		}
	}
	tests := []struct {
		name          string
		change        func(*http.Request)
		status        int
		code, field   string
		descSubstring string
	}{
		{"no credentials", func(r *http.Request) { r.Header.Del("Authorization") }, 401, "", "", ""},
		{"amount over the limit", setBody(`"amount":12345`, `"amount":10000001`), 422, "P0102", "amount", "less than or equal to 10000000"},
		{"amount as text", setBody(`"amount":12345`, `"amount":"12345"`), 422, "P0102", "amount", "numeric"},
		{"reference missing", setBody(`"reference":`, `"ref":`), 400, "P0101", "reference", "Missing mandatory attribute: reference"},
		{"return url not a url", setBody(`"return_url":"https://`, `"return_url":"ftp://`), 422, "P0102", "return_url", "valid URL"},
		{"not json", setBody(`{`, `[`), 400, "P0197", "", "Unable to parse JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := payment.NewClient(rewrite(t, e.stub, tt.change), nil)
			_, err := c.Create(context.Background(), keyA, request())
			pe := asError(t, err)
			if pe.Unavailable || pe.Status != tt.status || pe.Code != tt.code || pe.Field != tt.field ||
				!strings.Contains(pe.Description, tt.descSubstring) {
				t.Errorf("%+v, want refused %d %s %s", pe, tt.status, tt.code, tt.field)
			}
			if errors.Is(err, payment.ErrInvalidRequest) {
				t.Error("a provider's refusal is not a local one")
			}
		})
	}
	if n := len(e.stub.Payments()); n != 0 {
		t.Errorf("%d payments created from refused requests", n)
	}
}

func TestProviderDownSlowOrGarbage(t *testing.T) {
	tests := []struct {
		name  string
		set   func(*paystub.Server, bool)
		setUp func(*paystub.Server)
	}{
		{"down", (*paystub.Server).SetDown, nil},
		{"garbage", (*paystub.Server).SetGarbage, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			ctx := context.Background()
			p, err := e.client.Create(ctx, keyA, request())
			if err != nil {
				t.Fatal(err)
			}
			tt.set(e.stub, true)
			_, err = e.client.Create(ctx, keyA, request())
			if pe := asError(t, err); !pe.Unavailable || pe.NotFound() {
				t.Errorf("create: %+v, want Unavailable", pe)
			}
			_, err = e.client.Get(ctx, keyA, p.ID)
			if !payment.IsUnavailable(err) {
				t.Errorf("get: %v, want Unavailable", err)
			}
			_, err = e.client.Refund(ctx, keyA, p.ID, 1, 0)
			if !payment.IsUnavailable(err) {
				t.Errorf("refund: %v, want Unavailable", err)
			}
			tt.set(e.stub, false)
			if _, err := e.client.Get(ctx, keyA, p.ID); err != nil {
				t.Errorf("back up: %v", err)
			}
			if n := len(e.stub.Payments()); n != 1 {
				t.Errorf("%d payments, want only the first", n)
			}
		})
	}
	t.Run("slow", func(t *testing.T) {
		e := newEnv(t)
		e.stub.SetDelay(5 * time.Second)
		c := payment.NewClient(e.srv.URL, &http.Client{Timeout: 150 * time.Millisecond})
		start := time.Now()
		_, err := c.Create(context.Background(), keyA, request())
		if took := time.Since(start); took > 2*time.Second {
			t.Errorf("took %v, want about the client's 150 ms timeout", took)
		}
		if !payment.IsUnavailable(err) {
			t.Errorf("%v, want Unavailable", err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		start = time.Now()
		_, err = e.client.Get(ctx, keyA, "a1b2c3d4e5f6g7h8i9j0k1l2m3")
		if took := time.Since(start); took > 2*time.Second || !payment.IsUnavailable(err) || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("context deadline: %v after %v", err, took)
		}
	})
}

// TestUntrustworthyAnswers: anything but a well-formed answer is Unavailable, never a panic or
// a payment the service would act on.
func TestUntrustworthyAnswers(t *testing.T) {
	const id = "a1b2c3d4e5f6g7h8i9j0k1l2m3"
	good := func(status string, finished bool) string {
		return fmt.Sprintf(`{"payment_id":%q,"amount":500,"reference":"r","description":"d","return_url":"https://x.example/r",`+
			`"created_date":"2026-03-02T09:30:00.000Z","state":{"status":%q,"finished":%v},"refund_summary":{"amount_available":0}}`,
			id, status, finished)
	}
	tests := []struct {
		name   string
		status int
		ctype  string
		body   string
	}{
		{"html page", 200, "text/html", "<html>maintenance</html>"},
		{"no content type", 200, "", good("success", true)},
		{"truncated json", 200, "application/json", good("success", true)[:40]},
		{"two json values", 200, "application/json", good("success", true) + "{}"},
		{"empty object", 200, "application/json", "{}"},
		{"array", 200, "application/json", "[]"},
		{"unknown status", 200, "application/json", good("paid", true)},
		{"success not finished", 200, "application/json", good("success", false)},
		{"created but finished", 200, "application/json", good("created", true)},
		{"another payment", 200, "application/json", strings.Replace(good("success", true), id, "zzzzzzzzzzzzzzzzzzzzzzzzzz", 1)},
		{"amount as string", 200, "application/json", strings.Replace(good("success", true), `"amount":500`, `"amount":"500"`, 1)},
		{"bad created_date", 200, "application/json", strings.Replace(good("success", true), "2026-03-02T09:30:00.000Z", "yesterday", 1)},
		{"refund available above amount", 200, "application/json", strings.Replace(good("success", true), `"amount_available":0`, `"amount_available":501`, 1)},
		{"over 1 MB", 200, "application/json", `{"payment_id":"` + strings.Repeat("a", payment.MaxResponseBytes) + `"}`},
		{"internal error", 500, "application/json", `{"code":"P0298","description":"Downstream system error"}`},
		{"bad gateway html", 502, "text/html", "<h1>502</h1>"},
		{"too many requests", 429, "application/json", `{"code":"P0900","description":"Too many requests"}`},
		{"redirect", 302, "text/html", ""},
		{"no content", 204, "application/json", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.ctype != "" {
					w.Header().Set("Content-Type", tt.ctype)
				}
				if tt.status == 302 {
					w.Header().Set("Location", "https://elsewhere.example/steal")
				}
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, tt.body)
			}))
			defer srv.Close()
			_, err := payment.NewClient(srv.URL, nil).Get(context.Background(), keyA, id)
			if !payment.IsUnavailable(err) {
				t.Errorf("%v, want Unavailable", err)
			}
		})
	}
	t.Run("the well-formed one is accepted", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			_, _ = io.WriteString(w, good("success", true))
		}))
		defer srv.Close()
		p, err := payment.NewClient(srv.URL, nil).Get(context.Background(), keyA, id)
		if err != nil || !p.State.Success() || p.Amount != 500 {
			t.Errorf("%+v %v", p, err)
		}
	})
	t.Run("bad base url", func(t *testing.T) {
		_, err := payment.NewClient("publicapi.payments.service.gov.uk", nil).Get(context.Background(), keyA, id)
		if !payment.IsUnavailable(err) {
			t.Errorf("%v, want Unavailable", err)
		}
	})
}

func TestErrorNeverShowsTheKey(t *testing.T) {
	// A hostile or broken provider that echoes the Authorization header back.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(400)
		fmt.Fprintf(w, `{"code":"P0199","description":"bad key %s"}`, r.Header.Get("Authorization"))
	}))
	defer srv.Close()
	_, err := payment.NewClient(srv.URL, nil).Get(context.Background(), keyA, "abc123")
	if err == nil || strings.Contains(err.Error(), keyA) || strings.Contains(fmt.Sprintf("%+v", err), keyA) {
		t.Errorf("error shows the key: %v", err)
	}
	if pe := asError(t, err); pe.Status != 400 || pe.Code != "P0199" || pe.Unavailable {
		t.Errorf("%+v", pe)
	}
	// and a network failure's message carries the URL, not the key
	_, err = payment.NewClient("http://127.0.0.1:1", nil).Get(context.Background(), keyA, "abc123")
	if !payment.IsUnavailable(err) || strings.Contains(err.Error(), keyA) {
		t.Errorf("network failure: %v", err)
	}
}

func TestRefunds(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p, err := e.client.Create(ctx, keyA, request())
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.client.Refund(ctx, keyA, p.ID, 100, 12345)
	if pe := asError(t, err); pe.Status != 400 || pe.Code != payment.CodeRefundUnavailable || pe.Unavailable {
		t.Errorf("refund of an unpaid payment: %+v", pe)
	}
	if err := e.stub.Complete(p.ID, paystub.OutcomePay); err != nil {
		t.Fatal(err)
	}
	got, err := e.client.Get(ctx, keyA, p.ID)
	if err != nil || got.RefundAvailable != 12345 {
		t.Fatalf("refund available %d %v", got.RefundAvailable, err)
	}
	e.clock.Advance(time.Hour)
	r, err := e.client.Refund(ctx, keyA, p.ID, 2345, got.RefundAvailable)
	if err != nil {
		t.Fatal(err)
	}
	if !payment.ValidID(r.ID) || r.Amount != 2345 || r.Status != "success" || !r.CreatedDate.Equal(e.clock.Now()) {
		t.Errorf("refund %+v", r)
	}
	got, _ = e.client.Get(ctx, keyA, p.ID)
	if got.RefundAvailable != 10000 {
		t.Errorf("after refund, available %d, want 10000", got.RefundAvailable)
	}
	// a second officer working from the old figure is refused: no double refund
	_, err = e.client.Refund(ctx, keyA, p.ID, 2345, 12345)
	if pe := asError(t, err); pe.Status != http.StatusPreconditionFailed || pe.Code != payment.CodeRefundMismatch || pe.Unavailable {
		t.Errorf("stale refund_amount_available: %+v", pe)
	}
	// more than is left: refused before sending
	_, err = e.client.Refund(ctx, keyA, p.ID, 10001, 10000)
	if !errors.Is(err, payment.ErrInvalidRequest) {
		t.Errorf("over available: %v", err)
	}
	// more than is left, without the check figure: the provider refuses it
	_, err = e.client.Refund(ctx, keyA, p.ID, 10001, 0)
	if pe := asError(t, err); pe.Status != 400 || pe.Code != payment.CodeRefundUnavailable {
		t.Errorf("over available, unchecked: %+v", pe)
	}
	list, err := e.client.Refunds(ctx, keyA, p.ID)
	if err != nil || len(list) != 1 || list[0].ID != r.ID || list[0].Amount != 2345 {
		t.Errorf("refund list %+v %v", list, err)
	}
	if _, err := e.client.Refunds(ctx, keyB, p.ID); !payment.IsNotFound(err) {
		t.Errorf("another account's refunds: %v", err)
	}
	rec, _ := e.stub.Payment(p.ID)
	if len(rec.Refunds) != 1 || rec.Refunds[0].Amount != 2345 {
		t.Errorf("stand-in refunds %+v", rec.Refunds)
	}
	// the rest, exactly
	if _, err := e.client.Refund(ctx, keyA, p.ID, 10000, 10000); err != nil {
		t.Fatal(err)
	}
	if got, _ = e.client.Get(ctx, keyA, p.ID); got.RefundAvailable != 0 {
		t.Errorf("fully refunded, available %d", got.RefundAvailable)
	}
}

func TestConcurrentCreates(t *testing.T) {
	e := newEnv(t)
	const n = 24
	ids := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			key := keyA
			if i%2 == 1 {
				key = keyB
			}
			r := request()
			r.Reference = fmt.Sprint("REF-", i)
			p, err := e.client.Create(context.Background(), key, r)
			ids[i], errs[i] = p.ID, err
			if err == nil {
				if i%3 == 0 {
					errs[i] = e.stub.Complete(p.ID, paystub.OutcomePay)
				}
				_, err = e.client.Get(context.Background(), key, p.ID)
				if errs[i] == nil {
					errs[i] = err
				}
			}
		})
	}
	wg.Wait()
	seen := map[string]bool{}
	for i := range n {
		if errs[i] != nil {
			t.Errorf("create %d: %v", i, errs[i])
		}
		if seen[ids[i]] {
			t.Errorf("id %s twice", ids[i])
		}
		seen[ids[i]] = true
	}
	recs := e.stub.Payments()
	if len(recs) != n {
		t.Fatalf("%d payments, want %d", len(recs), n)
	}
	paid := 0
	for _, r := range recs {
		if r.Status == payment.StatusSuccess {
			paid++
		}
	}
	if paid != n/3 {
		t.Errorf("%d paid, want %d", paid, n/3)
	}
}
