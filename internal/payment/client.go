package payment

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// MaxResponseBytes caps what is read of any answer; a larger one is treated as garbage.
const MaxResponseBytes = 1 << 20

// DefaultTimeout is the whole-request timeout of the client NewClient makes when given none.
const DefaultTimeout = 10 * time.Second

// Client calls the provider's API at one base URL (https://publicapi.payments.service.gov.uk
// for the real one, the stand-in's address in the demo and the tests). Safe for concurrent use.
type Client struct {
	base *url.URL
	hc   *http.Client
}

// NewClient makes a client for baseURL. hc nil gives a client with a 10 s timeout. Redirects are
// never followed (the API does not redirect; following one could send the key elsewhere).
func NewClient(baseURL string, hc *http.Client) *Client {
	var c http.Client
	if hc != nil {
		c = *hc
	} else {
		c.Timeout = DefaultTimeout
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	u, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		u = nil // every call reports the misconfiguration
	}
	return &Client{base: u, hc: &c}
}

// Create asks the provider for a new payment; send the user to the returned NextURL.
func (c *Client) Create(ctx context.Context, apiKey string, r CreateRequest) (Payment, error) {
	if err := r.Validate(); err != nil {
		return Payment{}, err
	}
	body := wireCreate(r)
	data, err := c.call(ctx, apiKey, http.MethodPost, "/v1/payments", body, http.StatusCreated, http.StatusOK)
	if err != nil {
		return Payment{}, err
	}
	p, err := ParsePayment(data)
	if err != nil {
		return Payment{}, garbage(err)
	}
	if p.NextURL == "" && !p.State.Finished {
		return Payment{}, garbage(errors.New("created payment has no next_url"))
	}
	return p, nil
}

// Get fetches a payment's current state. A payment of another account is NotFound.
func (c *Client) Get(ctx context.Context, apiKey, paymentID string) (Payment, error) {
	if !ValidID(paymentID) {
		return Payment{}, invalid("payment_id", "must be 1 to 64 letters and digits")
	}
	data, err := c.call(ctx, apiKey, http.MethodGet, "/v1/payments/"+url.PathEscape(paymentID), nil, http.StatusOK)
	if err != nil {
		return Payment{}, err
	}
	p, err := ParsePayment(data)
	if err != nil {
		return Payment{}, garbage(err)
	}
	if p.ID != paymentID {
		return Payment{}, garbage(errors.New("answer is about another payment"))
	}
	return p, nil
}

// Refund refunds amount pence of a payment. refundAmountAvailable is what the service believes
// can still be refunded (Payment.RefundAvailable from a fresh Get): the provider refuses with
// 412 P0604 if it no longer matches, so two officers cannot refund twice. 0 leaves it out.
func (c *Client) Refund(ctx context.Context, apiKey, paymentID string, amount, refundAmountAvailable int64) (Refund, error) {
	if !ValidID(paymentID) {
		return Refund{}, invalid("payment_id", "must be 1 to 64 letters and digits")
	}
	if amount < MinAmount || amount > MaxAmount {
		return Refund{}, invalid("amount", fmt.Sprintf("must be %d to %d pence", MinAmount, MaxAmount))
	}
	if refundAmountAvailable < 0 || refundAmountAvailable > MaxAmount {
		return Refund{}, invalid("refund_amount_available", fmt.Sprintf("must be 0 to %d pence", MaxAmount))
	}
	if refundAmountAvailable != 0 && amount > refundAmountAvailable {
		return Refund{}, invalid("amount", "must not be more than the amount available for refund")
	}
	body := wireRefundRequest{Amount: amount, RefundAmountAvailable: refundAmountAvailable}
	data, err := c.call(ctx, apiKey, http.MethodPost, "/v1/payments/"+url.PathEscape(paymentID)+"/refunds", body,
		http.StatusOK, http.StatusCreated, http.StatusAccepted)
	if err != nil {
		return Refund{}, err
	}
	r, err := ParseRefund(data)
	if err != nil {
		return Refund{}, garbage(err)
	}
	return r, nil
}

// Refunds lists a payment's refunds.
func (c *Client) Refunds(ctx context.Context, apiKey, paymentID string) ([]Refund, error) {
	if !ValidID(paymentID) {
		return nil, invalid("payment_id", "must be 1 to 64 letters and digits")
	}
	data, err := c.call(ctx, apiKey, http.MethodGet, "/v1/payments/"+url.PathEscape(paymentID)+"/refunds", nil, http.StatusOK)
	if err != nil {
		return nil, err
	}
	var w wireRefunds
	if err := decode(data, &w); err != nil {
		return nil, garbage(err)
	}
	if w.PaymentID != paymentID || w.Embedded == nil {
		return nil, garbage(errors.New("refund list has the wrong shape"))
	}
	out := make([]Refund, 0, len(w.Embedded.Refunds))
	for _, wr := range w.Embedded.Refunds {
		r, err := wr.refund()
		if err != nil {
			return nil, garbage(err)
		}
		out = append(out, r)
	}
	return out, nil
}

// call sends one request and returns the body of an answer with one of the wanted statuses.
func (c *Client) call(ctx context.Context, apiKey, method, path string, body any, want ...int) ([]byte, error) {
	if c.base == nil {
		return nil, &Error{Unavailable: true, Description: "the payment provider's base URL is not an absolute http(s) URL"}
	}
	if apiKey == "" || !validKey(apiKey) {
		return nil, invalid("api_key", "no usable API key for this account")
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, invalid("body", "cannot be encoded")
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base.String()+path, rd)
	if err != nil {
		return nil, &Error{Unavailable: true, Description: "cannot build the request"}
	}
	req.Header.Set("Authorization", "Bearer "+apiKey)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, &Error{Unavailable: true, Err: scrub(err, apiKey)}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes+1))
	if err != nil {
		return nil, &Error{Unavailable: true, Status: resp.StatusCode, Err: scrub(err, apiKey)}
	}
	if len(data) > MaxResponseBytes {
		return nil, &Error{Unavailable: true, Status: resp.StatusCode, Description: "answer larger than 1 MB"}
	}
	isJSON := jsonType(resp.Header.Get("Content-Type"))
	for _, w := range want {
		if resp.StatusCode == w {
			if !isJSON {
				return nil, &Error{Unavailable: true, Status: resp.StatusCode, Description: "answer is not JSON"}
			}
			return data, nil
		}
	}
	e := &Error{Status: resp.StatusCode}
	if isJSON {
		var we wireError
		if json.Unmarshal(data, &we) == nil {
			e.Code = clip(we.Code, 16)
			e.Field = clip(we.Field, 64)
			e.Description = scrubString(clip(we.Description, 500), apiKey)
		}
	}
	switch {
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		e.Unavailable = true
	case resp.StatusCode >= 400:
		// refused: the error body, when there is one, says why
	default:
		e.Unavailable = true
		if e.Description == "" {
			e.Description = "unexpected answer"
		}
	}
	return nil, e
}

func garbage(err error) *Error {
	return &Error{Unavailable: true, Description: "answer is not of the expected shape", Err: err}
}

func jsonType(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

// validKey refuses keys that cannot go in a header unchanged.
func validKey(k string) bool {
	if len(k) > 512 {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] <= 0x20 || k[i] >= 0x7f {
			return false
		}
	}
	return true
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		return string(r[:n])
	}
	return s
}

func scrubString(s, key string) string {
	if key == "" {
		return s
	}
	return strings.ReplaceAll(s, key, "[api key]")
}

type scrubbed struct {
	msg string
	err error
}

func (s scrubbed) Error() string { return s.msg }
func (s scrubbed) Unwrap() error { return s.err }

// scrub keeps an error's chain (errors.Is still finds context.DeadlineExceeded) but removes the
// key from its text, in case something echoes it.
func scrub(err error, key string) error {
	if msg := err.Error(); key != "" && strings.Contains(msg, key) {
		return scrubbed{msg: scrubString(msg, key), err: err}
	}
	return err
}

// ValidReturnURL reports whether u is an absolute http(s) URL with a host, of at most 2000
// characters, that the provider would accept as a return_url.
func ValidReturnURL(u string) bool {
	if len(u) > MaxReturnURL || strings.ContainsAny(u, " \t\r\n") {
		return false
	}
	p, err := url.Parse(u)
	return err == nil && (p.Scheme == "http" || p.Scheme == "https") && p.Host != "" && p.User == nil
}

// ---- wire format (field names exactly as the spec) ----

type wireCreate struct {
	Amount      int64             `json:"amount"`
	Reference   string            `json:"reference"`
	Description string            `json:"description"`
	ReturnURL   string            `json:"return_url"`
	Email       string            `json:"email,omitempty"`
	Language    string            `json:"language,omitempty"`
	Metadata    map[string]string `json:"metadata,omitempty"`
}

type wireRefundRequest struct {
	Amount                int64 `json:"amount"`
	RefundAmountAvailable int64 `json:"refund_amount_available,omitempty"`
}

type wireError struct {
	Code        string `json:"code"`
	Description string `json:"description"`
	Field       string `json:"field"`
}

type wireLink struct {
	Href   string `json:"href"`
	Method string `json:"method"`
}

type wireState struct {
	Status   *string `json:"status"`
	Finished *bool   `json:"finished"`
	Code     string  `json:"code,omitempty"`
	Message  string  `json:"message,omitempty"`
}

type wirePayment struct {
	PaymentID     *string    `json:"payment_id"`
	Amount        *int64     `json:"amount"`
	Reference     string     `json:"reference"`
	Description   string     `json:"description"`
	ReturnURL     string     `json:"return_url"`
	CreatedDate   string     `json:"created_date"`
	State         *wireState `json:"state"`
	RefundSummary *struct {
		Status          string `json:"status"`
		AmountAvailable int64  `json:"amount_available"`
		AmountSubmitted int64  `json:"amount_submitted"`
	} `json:"refund_summary"`
	Links struct {
		NextURL *wireLink `json:"next_url"`
	} `json:"_links"`
}

type wireRefund struct {
	RefundID    string `json:"refund_id"`
	Amount      *int64 `json:"amount"`
	Status      string `json:"status"`
	CreatedDate string `json:"created_date"`
}

type wireRefunds struct {
	PaymentID string `json:"payment_id"`
	Embedded  *struct {
		Refunds []wireRefund `json:"refunds"`
	} `json:"_embedded"`
}

func decode(data []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(data))
	if err := d.Decode(v); err != nil {
		return err
	}
	if d.More() {
		return errors.New("trailing data after the JSON value")
	}
	if _, err := d.Token(); err != io.EOF {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}

var finishedStatus = map[string]bool{
	StatusCreated: false, StatusStarted: false, StatusSubmitted: false, StatusCapturable: false,
	StatusSuccess: true, StatusFailed: true, StatusCancelled: true, StatusError: true,
}

// ParsePayment reads a payment as the API returns it (CreatePaymentResult, PaymentWithAllLinks)
// and checks that it makes sense: a valid payment_id, an amount in range, a known status whose
// "finished" agrees with it, a created_date, an absolute next_url when there is one. It never
// panics; any error means the answer cannot be trusted.
func ParsePayment(data []byte) (Payment, error) {
	var w wirePayment
	if err := decode(data, &w); err != nil {
		return Payment{}, err
	}
	if w.PaymentID == nil || !ValidID(*w.PaymentID) {
		return Payment{}, errors.New("payment_id missing or malformed")
	}
	if w.Amount == nil || *w.Amount < 0 || *w.Amount > MaxAmount {
		return Payment{}, errors.New("amount missing or out of range")
	}
	if w.State == nil || w.State.Status == nil || w.State.Finished == nil {
		return Payment{}, errors.New("state missing")
	}
	fin, known := finishedStatus[*w.State.Status]
	if !known {
		return Payment{}, fmt.Errorf("unknown payment status %.20q", *w.State.Status)
	}
	if fin != *w.State.Finished {
		return Payment{}, errors.New("state.finished disagrees with state.status")
	}
	created, err := time.Parse(time.RFC3339Nano, w.CreatedDate)
	if err != nil {
		return Payment{}, errors.New("created_date missing or malformed")
	}
	p := Payment{
		ID:          *w.PaymentID,
		Amount:      *w.Amount,
		Reference:   w.Reference,
		Description: w.Description,
		ReturnURL:   w.ReturnURL,
		State: State{
			Status: *w.State.Status, Finished: *w.State.Finished,
			Code: clip(w.State.Code, 16), Message: clip(w.State.Message, 500),
		},
		CreatedDate: created.UTC(),
	}
	if w.Links.NextURL != nil && w.Links.NextURL.Href != "" {
		if !ValidReturnURL(w.Links.NextURL.Href) {
			return Payment{}, errors.New("next_url is not an absolute http(s) URL")
		}
		p.NextURL = w.Links.NextURL.Href
	}
	if w.RefundSummary != nil {
		a := w.RefundSummary.AmountAvailable
		if a < 0 || a > p.Amount {
			return Payment{}, errors.New("refund_summary.amount_available out of range")
		}
		p.RefundAvailable = a
	}
	return p, nil
}

// ParseRefund reads a Refund object.
func ParseRefund(data []byte) (Refund, error) {
	var w wireRefund
	if err := decode(data, &w); err != nil {
		return Refund{}, err
	}
	return w.refund()
}

func (w wireRefund) refund() (Refund, error) {
	if !ValidID(w.RefundID) {
		return Refund{}, errors.New("refund_id missing or malformed")
	}
	if w.Amount == nil || *w.Amount < 1 || *w.Amount > MaxAmount {
		return Refund{}, errors.New("refund amount missing or out of range")
	}
	switch w.Status {
	case "submitted", "success", "error":
	default:
		return Refund{}, fmt.Errorf("unknown refund status %.20q", w.Status)
	}
	created, err := time.Parse(time.RFC3339Nano, w.CreatedDate)
	if err != nil {
		return Refund{}, errors.New("created_date missing or malformed")
	}
	return Refund{ID: w.RefundID, Amount: *w.Amount, Status: w.Status, CreatedDate: created.UTC()}, nil
}
