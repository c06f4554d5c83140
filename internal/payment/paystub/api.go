package paystub

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/herts-msp/taxi-renewals/internal/payment"
)

const maxRequestBody = 64 << 10

// Handler serves the API under /v1/ and the card page under /pay/.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/payments", s.api(s.create))
	mux.HandleFunc("GET /v1/payments/{id}", s.api(s.get))
	mux.HandleFunc("POST /v1/payments/{id}/refunds", s.api(s.refund))
	mux.HandleFunc("GET /v1/payments/{id}/refunds", s.api(s.refunds))
	mux.HandleFunc("GET /v1/payments/{id}/refunds/{refundID}", s.api(s.getRefund))
	mux.HandleFunc("/v1/", s.api(func(w http.ResponseWriter, r *http.Request, _ string) {
		writeError(w, http.StatusNotFound, "", "P0200", "Not found")
	}))
	mux.HandleFunc("GET /pay/{id}", s.cardPage)
	mux.HandleFunc("POST /pay/{id}", s.cardAction)
	return s.logged(mux)
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) { w.status = code; w.ResponseWriter.WriteHeader(code) }

// logged logs each request: method, path, status, account label. Never a header or a body.
func (s *Server) logged(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		start := time.Now()
		h.ServeHTTP(sw, r)
		acct := ""
		if key, ok := bearer(r); ok {
			acct = AccountLabel(key)
		}
		s.log.Info("paystub", "method", r.Method, "path", r.URL.Path, "status", sw.status,
			"account", acct, "ms", time.Since(start).Milliseconds())
	})
}

// api wraps an API handler: the SetDown / SetDelay / SetGarbage switches, then Bearer auth.
func (s *Server) api(h func(http.ResponseWriter, *http.Request, string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		down, garbage, delay := s.down, s.garbage, s.delay
		s.mu.Unlock()
		if delay > 0 {
			// Read the body first: only then does net/http notice a client that hangs up, and
			// end the request's context.
			body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBody))
			if err != nil {
				writeError(w, http.StatusRequestEntityTooLarge, "", "P0197", "Unable to parse JSON")
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			t := time.NewTimer(delay)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			}
		}
		if down {
			writeError(w, http.StatusServiceUnavailable, "", "P0198", "Downstream system error")
			return
		}
		if garbage {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write([]byte("<html><body>Service Unavailable</body></html>\n{\"payment_id\":"))
			return
		}
		key, ok := bearer(r)
		if !ok {
			// As the real API (Dropwizard's OAuth filter): 401, plain text.
			w.Header().Set("Content-Type", "text/plain")
			w.Header().Set("WWW-Authenticate", `Bearer realm="realm"`)
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte("Credentials are required to access this resource."))
			return
		}
		h(w, r, AccountLabel(key))
	}
}

func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	const prefix = "Bearer "
	if len(h) <= len(prefix) || !strings.EqualFold(h[:len(prefix)], prefix) {
		return "", false
	}
	k := strings.TrimSpace(h[len(prefix):])
	return k, k != ""
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(v); err != nil {
		http.Error(w, "encode", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

type errorBody struct {
	Field       string `json:"field,omitempty"`
	Code        string `json:"code"`
	Description string `json:"description"`
}

func writeError(w http.ResponseWriter, status int, field, code, desc string) {
	writeJSON(w, status, errorBody{Field: field, Code: code, Description: desc})
}

// fieldError is one validation failure, reported as the real API does: a missing attribute is
// 400 with the "missing" code, a bad value 422 with the "invalid" code.
type fieldError struct {
	status      int
	field, code string
	desc        string
}

func missingField(code, field string) *fieldError {
	return &fieldError{http.StatusBadRequest, field, code, "Missing mandatory attribute: " + field}
}

func invalidField(code, field, why string) *fieldError {
	return &fieldError{http.StatusUnprocessableEntity, field, code, "Invalid attribute value: " + field + ". " + why}
}

// readObject reads a JSON object body into raw fields; nil when the body is not one.
func readObject(w http.ResponseWriter, r *http.Request) map[string]json.RawMessage {
	r.Body = http.MaxBytesReader(w, r.Body, maxRequestBody)
	var m map[string]json.RawMessage
	d := json.NewDecoder(r.Body)
	if err := d.Decode(&m); err != nil || m == nil || d.More() {
		return nil
	}
	return m
}

func present(m map[string]json.RawMessage, k string) bool {
	v, ok := m[k]
	return ok && string(v) != "null"
}

func intField(m map[string]json.RawMessage, code, name string, min, max int64) (int64, *fieldError) {
	raw := bytes.TrimSpace(m[name])
	if len(raw) == 0 || (raw[0] != '-' && (raw[0] < '0' || raw[0] > '9')) {
		return 0, invalidField(code, name, "Must be a valid numeric format")
	}
	var n json.Number
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if err := d.Decode(&n); err != nil {
		return 0, invalidField(code, name, "Must be a valid numeric format")
	}
	v, err := n.Int64()
	if err != nil {
		return 0, invalidField(code, name, "Must be a valid numeric format")
	}
	if v < min {
		return 0, invalidField(code, name, fmt.Sprintf("Must be greater than or equal to %d", min))
	}
	if v > max {
		return 0, invalidField(code, name, fmt.Sprintf("Must be less than or equal to %d", max))
	}
	return v, nil
}

func stringField(m map[string]json.RawMessage, code, name string, max int, required bool) (string, *fieldError) {
	if !present(m, name) {
		if required {
			return "", missingField(payment.CodeMissingField, name)
		}
		return "", nil
	}
	var v string
	if err := json.Unmarshal(m[name], &v); err != nil {
		return "", invalidField(code, name, "Must be of type String")
	}
	if required && strings.TrimSpace(v) == "" {
		return "", missingField(payment.CodeMissingField, name)
	}
	if utf8.RuneCountInString(v) > max {
		return "", invalidField(code, name, fmt.Sprintf("Must be less than or equal to %d characters length", max))
	}
	return v, nil
}

func (s *Server) create(w http.ResponseWriter, r *http.Request, acct string) {
	m := readObject(w, r)
	if m == nil {
		writeError(w, http.StatusBadRequest, "", payment.CodeUnparseable, "Unable to parse JSON")
		return
	}
	p, fe := parseCreate(m)
	if fe != nil {
		writeError(w, fe.status, fe.field, fe.code, fe.desc)
		return
	}
	s.mu.Lock()
	s.seq++
	p.ID, p.Account, p.Seq = newID(), acct, s.seq
	p.Status = payment.StatusCreated
	p.Created = s.clock().UTC().Truncate(time.Millisecond)
	err := s.put(p)
	s.mu.Unlock()
	if err != nil {
		writeError(w, http.StatusInternalServerError, "", "P0198", "Downstream system error")
		return
	}
	writeJSON(w, http.StatusCreated, s.view(r, p))
}

func parseCreate(m map[string]json.RawMessage) (stubPayment, *fieldError) {
	const bad = payment.CodeInvalidField
	var p stubPayment
	var fe *fieldError
	if !present(m, "amount") {
		return p, missingField(payment.CodeMissingField, "amount")
	}
	if p.Amount, fe = intField(m, bad, "amount", payment.MinAmount, payment.MaxAmount); fe != nil {
		return p, fe
	}
	if p.Reference, fe = stringField(m, bad, "reference", payment.MaxReference, true); fe != nil {
		return p, fe
	}
	if p.Description, fe = stringField(m, bad, "description", payment.MaxDescription, true); fe != nil {
		return p, fe
	}
	if p.ReturnURL, fe = stringField(m, bad, "return_url", payment.MaxReturnURL, true); fe != nil {
		return p, fe
	}
	if u, err := url.Parse(p.ReturnURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return p, invalidField(bad, "return_url", "Must be a valid URL format")
	}
	if p.Email, fe = stringField(m, bad, "email", payment.MaxEmail, false); fe != nil {
		return p, fe
	}
	if p.Language, fe = stringField(m, bad, "language", 2, false); fe != nil {
		return p, fe
	}
	switch p.Language {
	case "":
		p.Language = "en"
	case "en", "cy":
	default:
		return p, invalidField(bad, "language", `Must be "en" or "cy"`)
	}
	if present(m, "metadata") {
		var md map[string]any
		if err := json.Unmarshal(m["metadata"], &md); err != nil || md == nil {
			return p, invalidField(bad, "metadata", "Must be an object of JSON key-value pairs")
		}
		if len(md) > payment.MaxMetadataKeys {
			return p, invalidField(bad, "metadata", fmt.Sprintf("Cannot have more than %d key-value pairs", payment.MaxMetadataKeys))
		}
		for k, v := range md {
			if n := utf8.RuneCountInString(k); n < 1 || n > payment.MaxMetadataKey {
				return p, invalidField(bad, "metadata", fmt.Sprintf("Keys must be between 1 and %d characters long", payment.MaxMetadataKey))
			}
			switch v := v.(type) {
			case string:
				if utf8.RuneCountInString(v) > payment.MaxMetadataVal {
					return p, invalidField(bad, "metadata", fmt.Sprintf("Values must be no greater than %d characters long", payment.MaxMetadataVal))
				}
			case float64, bool:
			default:
				return p, invalidField(bad, "metadata", "Values must be of type String, Boolean or Number")
			}
		}
		p.Metadata = md
	}
	return p, nil
}

// lookup finds a payment of this account, as it reads now. Another account's is not found.
func (s *Server) lookup(id, acct string) (stubPayment, bool) {
	if !payment.ValidID(id) {
		return stubPayment{}, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.payments[id]
	if !ok || p.Account != acct {
		return stubPayment{}, false
	}
	return s.effective(p), true
}

func (s *Server) get(w http.ResponseWriter, r *http.Request, acct string) {
	p, ok := s.lookup(r.PathValue("id"), acct)
	if !ok {
		writeError(w, http.StatusNotFound, "", payment.CodeNotFound, "Not found")
		return
	}
	writeJSON(w, http.StatusOK, s.view(r, p))
}

func (s *Server) refund(w http.ResponseWriter, r *http.Request, acct string) {
	id := r.PathValue("id")
	m := readObject(w, r)
	if m == nil {
		writeError(w, http.StatusBadRequest, "", "P0697", "Unable to parse JSON")
		return
	}
	if !present(m, "amount") {
		fe := missingField(payment.CodeRefundMissing, "amount")
		writeError(w, fe.status, fe.field, fe.code, fe.desc)
		return
	}
	amount, fe := intField(m, payment.CodeRefundInvalid, "amount", 1, payment.MaxAmount)
	if fe != nil {
		writeError(w, fe.status, fe.field, fe.code, fe.desc)
		return
	}
	var expect int64 = -1
	if present(m, "refund_amount_available") {
		if expect, fe = intField(m, payment.CodeRefundInvalid, "refund_amount_available", 1, payment.MaxAmount); fe != nil {
			writeError(w, fe.status, fe.field, fe.code, fe.desc)
			return
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.payments[id]
	if !ok || p.Account != acct || !payment.ValidID(id) {
		writeError(w, http.StatusNotFound, "", payment.CodeRefundNotFound, "Not found")
		return
	}
	p = s.effective(p)
	status, available, _ := refundSummary(p)
	if p.Status != payment.StatusSuccess {
		writeError(w, http.StatusBadRequest, "", payment.CodeRefundUnavailable,
			"The payment is not available for refund. Payment refund status: "+status)
		return
	}
	if expect >= 0 && expect != available {
		writeError(w, http.StatusPreconditionFailed, "", payment.CodeRefundMismatch, "Refund amount available mismatch.")
		return
	}
	if amount > available {
		writeError(w, http.StatusBadRequest, "", payment.CodeRefundUnavailable,
			"The payment is not available for refund. Payment refund status: "+status)
		return
	}
	f := stubRefund{ID: newID(), Amount: amount, Status: "success", Created: s.clock().UTC().Truncate(time.Millisecond)}
	p.Refunds = append(append([]stubRefund(nil), p.Refunds...), f)
	if err := s.put(p); err != nil {
		writeError(w, http.StatusInternalServerError, "", "P0698", "Downstream system error")
		return
	}
	writeJSON(w, http.StatusAccepted, s.refundView(r, p.ID, f))
}

func (s *Server) refunds(w http.ResponseWriter, r *http.Request, acct string) {
	p, ok := s.lookup(r.PathValue("id"), acct)
	if !ok {
		writeError(w, http.StatusNotFound, "", payment.CodeRefundsNotFound, "Not found")
		return
	}
	base := s.baseURL(r)
	list := make([]refundJSON, 0, len(p.Refunds))
	for _, f := range p.Refunds {
		list = append(list, s.refundView(r, p.ID, f))
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"payment_id": p.ID,
		"_links": map[string]link{
			"self":    {base + "/v1/payments/" + p.ID + "/refunds", "GET"},
			"payment": {base + "/v1/payments/" + p.ID, "GET"},
		},
		"_embedded": map[string]any{"refunds": list},
	})
}

func (s *Server) getRefund(w http.ResponseWriter, r *http.Request, acct string) {
	p, ok := s.lookup(r.PathValue("id"), acct)
	if ok {
		for _, f := range p.Refunds {
			if f.ID == r.PathValue("refundID") {
				writeJSON(w, http.StatusOK, s.refundView(r, p.ID, f))
				return
			}
		}
	}
	writeError(w, http.StatusNotFound, "", "P0700", "Not found")
}

// refundSummary: status (pending, available, full, unavailable), amount available, submitted.
func refundSummary(p stubPayment) (string, int64, int64) {
	var submitted int64
	for _, f := range p.Refunds {
		if f.Status != "error" {
			submitted += f.Amount
		}
	}
	switch {
	case p.Status == payment.StatusSuccess && submitted >= p.Amount:
		return "full", 0, submitted
	case p.Status == payment.StatusSuccess:
		return "available", p.Amount - submitted, submitted
	case p.Finished:
		return "unavailable", 0, submitted
	default:
		return "pending", 0, submitted
	}
}

func (s *Server) baseURL(r *http.Request) string {
	if s.base != "" {
		return strings.TrimRight(s.base, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

const dateFormat = "2006-01-02T15:04:05.000Z"

type link struct {
	Href   string `json:"href"`
	Method string `json:"method"`
}

type postLink struct {
	Type   string            `json:"type"`
	Params map[string]string `json:"params"`
	Href   string            `json:"href"`
	Method string            `json:"method"`
}

type stateJSON struct {
	Status   string `json:"status"`
	Finished bool   `json:"finished"`
	Message  string `json:"message,omitempty"`
	Code     string `json:"code,omitempty"`
}

type paymentJSON struct {
	Amount            int64          `json:"amount"`
	Description       string         `json:"description"`
	Reference         string         `json:"reference"`
	Language          string         `json:"language"`
	Email             string         `json:"email,omitempty"`
	Metadata          map[string]any `json:"metadata,omitempty"`
	State             stateJSON      `json:"state"`
	PaymentID         string         `json:"payment_id"`
	PaymentProvider   string         `json:"payment_provider"`
	CreatedDate       string         `json:"created_date"`
	RefundSummary     map[string]any `json:"refund_summary"`
	SettlementSummary map[string]any `json:"settlement_summary"`
	DelayedCapture    bool           `json:"delayed_capture"`
	Moto              bool           `json:"moto"`
	AuthorisationMode string         `json:"authorisation_mode"`
	ReturnURL         string         `json:"return_url"`
	CardDetails       map[string]any `json:"card_details,omitempty"`
	Links             map[string]any `json:"_links"`
}

// view is the payment as the API shows it (CreatePaymentResult / PaymentWithAllLinks).
func (s *Server) view(r *http.Request, p stubPayment) paymentJSON {
	base := s.baseURL(r)
	self := base + "/v1/payments/" + p.ID
	status, available, submitted := refundSummary(p)
	links := map[string]any{
		"self":    link{self, "GET"},
		"events":  link{self + "/events", "GET"},
		"refunds": link{self + "/refunds", "GET"},
	}
	if !p.Finished {
		links["next_url"] = link{base + "/pay/" + p.ID, "GET"}
		links["next_url_post"] = postLink{"application/x-www-form-urlencoded",
			map[string]string{"chargeTokenId": p.ID}, base + "/pay/" + p.ID, "POST"}
		links["cancel"] = link{self + "/cancel", "POST"}
	}
	v := paymentJSON{
		Amount: p.Amount, Description: p.Description, Reference: p.Reference, Language: p.Language,
		Email: p.Email, Metadata: p.Metadata,
		State:     stateJSON{Status: p.Status, Finished: p.Finished, Message: p.Message, Code: p.Code},
		PaymentID: p.ID, PaymentProvider: "sandbox",
		CreatedDate: p.Created.UTC().Format(dateFormat),
		RefundSummary: map[string]any{
			"status": status, "amount_available": available, "amount_submitted": submitted,
		},
		SettlementSummary: map[string]any{},
		AuthorisationMode: "web",
		ReturnURL:         p.ReturnURL,
		Links:             links,
	}
	if p.Status == payment.StatusSuccess || p.Status == payment.StatusSubmitted {
		v.CardDetails = map[string]any{
			"last_digits_card_number": "4242", "first_digits_card_number": "424242",
			"cardholder_name": "Test Card", "expiry_date": "12/30", "card_brand": "Visa", "card_type": "debit",
		}
	}
	return v
}

type refundJSON struct {
	RefundID          string          `json:"refund_id"`
	CreatedDate       string          `json:"created_date"`
	Amount            int64           `json:"amount"`
	Status            string          `json:"status"`
	SettlementSummary map[string]any  `json:"settlement_summary"`
	Links             map[string]link `json:"_links"`
}

func (s *Server) refundView(r *http.Request, paymentID string, f stubRefund) refundJSON {
	base := s.baseURL(r) + "/v1/payments/" + paymentID
	return refundJSON{
		RefundID: f.ID, CreatedDate: f.Created.UTC().Format(dateFormat), Amount: f.Amount, Status: f.Status,
		SettlementSummary: map[string]any{},
		Links: map[string]link{
			"self":    {base + "/refunds/" + f.ID, "GET"},
			"payment": {base, "GET"},
		},
	}
}
