// Package payment speaks GOV.UK Pay's public API (https://publicapi.payments.service.gov.uk,
// spec: alphagov/pay-publicapi openapi/publicapi_spec.json): create a card payment, get its
// state, refund it. Each call takes the API key of the council's own account; the key is sent
// only in the Authorization header and never appears in an error or a log line.
//
// The package trusts nothing the provider answers: a body that is too large, not JSON, of the
// wrong shape or inconsistent (a finished payment with status "created", say) is reported as
// Unavailable, so the caller tries again later rather than acting on it.
package payment

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// Payment status values (state.status) in GOV.UK Pay's payment lifecycle.
const (
	StatusCreated    = "created"    // payment created, user not yet on the payment pages
	StatusStarted    = "started"    // user is on the payment pages
	StatusSubmitted  = "submitted"  // user submitted card details, authorisation under way
	StatusCapturable = "capturable" // authorised, waiting for a delayed capture
	StatusSuccess    = "success"    // money taken (finished)
	StatusFailed     = "failed"     // declined, expired, or cancelled by the user (finished)
	StatusCancelled  = "cancelled"  // cancelled by the service through the API (finished)
	StatusError      = "error"      // something went wrong at the provider (finished)
)

// state.code values of a finished, unpaid payment.
const (
	CodeDeclined          = "P0010" // Payment method rejected
	CodeExpired           = "P0020" // Payment expired
	CodeCancelledByUser   = "P0030" // Payment was cancelled by the user
	CodeCancelledByServer = "P0040" // Payment was cancelled by your service
	CodeProviderError     = "P0050" // Payment provider returned an error
)

// Error codes of the API's error body {code, description, field} used by this package.
const (
	CodeMissingField      = "P0101" // create: missing mandatory attribute (400)
	CodeInvalidField      = "P0102" // create: invalid attribute value (422)
	CodeUnparseable       = "P0197" // create: unable to parse JSON (400)
	CodeNotFound          = "P0200" // get: not found (404)
	CodeRefundNotFound    = "P0600" // refund: payment not found (404)
	CodeRefundMissing     = "P0601" // refund: missing mandatory attribute (400)
	CodeRefundInvalid     = "P0602" // refund: invalid attribute value (422)
	CodeRefundUnavailable = "P0603" // refund: the payment is not available for refund (400)
	CodeRefundMismatch    = "P0604" // refund: refund amount available mismatch (412)
	CodeRefundsNotFound   = "P0800" // get refunds: not found (404)
	CodeTooManyRequests   = "P0900" // too many requests (429)
)

// Limits from the spec (CreateCardPaymentRequest, PaymentRefundRequest).
const (
	MinAmount       = 1        // pence; the API allows 0 only for accounts with zero amounts enabled
	MaxAmount       = 10000000 // pence (£100,000)
	MaxReference    = 255      // characters
	MaxDescription  = 255      // characters
	MaxReturnURL    = 2000     // characters
	MaxEmail        = 254      // characters
	MaxMetadataKeys = 10
	MaxMetadataKey  = 30  // characters
	MaxMetadataVal  = 100 // characters
)

// State is where a payment is in its lifecycle (the API's "state" object).
type State struct {
	Status   string
	Finished bool
	Code     string // only when finished unpaid: P0010, P0020, P0030...
	Message  string
}

// Success reports that the money was taken.
func (s State) Success() bool { return s.Status == StatusSuccess }

// FinishedUnpaid reports a journey that ended without taking money (failed, cancelled, error):
// the driver may try again with a new payment.
func (s State) FinishedUnpaid() bool { return s.Finished && s.Status != StatusSuccess }

// Payment is a card payment as the provider reports it.
type Payment struct {
	ID          string
	Amount      int64 // pence
	Reference   string
	Description string
	ReturnURL   string
	State       State
	NextURL     string // where to send the user to pay; empty once the journey is finished
	CreatedDate time.Time
	// RefundAvailable is refund_summary.amount_available: how much can still be refunded, in pence.
	RefundAvailable int64
}

// CreateRequest is what the service asks the provider to charge.
type CreateRequest struct {
	Amount      int64 // pence, 1..10,000,000
	Reference   string
	Description string
	ReturnURL   string // absolute http(s) URL the user comes back to
	Email       string // optional: prefills the payment page
	Language    string // optional: "en" or "cy"
	Metadata    map[string]string
}

// Refund is one refund of a payment.
type Refund struct {
	ID          string
	Amount      int64
	Status      string // submitted, success or error
	CreatedDate time.Time
}

// ErrInvalidRequest is wrapped by the *Error returned when a request is refused before it is
// sent (bad amount, empty reference, malformed payment id, no API key...). Such an error has
// Status 0 and names the Field.
var ErrInvalidRequest = errors.New("invalid payment request")

// Error is what the provider (or the network) said. Unavailable means: down, timed out, 5xx,
// 429, or an answer that is not valid JSON of the expected shape — try again later. Otherwise
// the provider refused the request (4xx, Status set) or it was refused before sending (Status
// 0, Err is ErrInvalidRequest); Code, Field and Description say why. NotFound reports a 404.
type Error struct {
	Unavailable bool
	Status      int    // HTTP status of the provider's answer; 0 when there was none
	Code        string // the API's error code (P0102...) when it gave one
	Field       string // the request field at fault, when known
	Description string
	Err         error
}

// Error describes the failure; it never includes the API key.
func (e *Error) Error() string {
	var b strings.Builder
	switch {
	case e.Unavailable:
		b.WriteString("payment provider unavailable")
	case e.Status == 0:
		b.WriteString("payment request not sent")
	default:
		b.WriteString("payment provider refused the request")
	}
	if e.Status != 0 {
		fmt.Fprintf(&b, ": HTTP %d", e.Status)
	}
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	}
	if e.Field != "" {
		b.WriteString(" (" + e.Field + ")")
	}
	if e.Description != "" {
		b.WriteString(": " + e.Description)
	}
	if e.Err != nil && !errors.Is(e.Err, ErrInvalidRequest) {
		b.WriteString(": " + e.Err.Error())
	}
	return b.String()
}

// Unwrap gives the underlying error (a network error, context.DeadlineExceeded,
// ErrInvalidRequest...).
func (e *Error) Unwrap() error { return e.Err }

// NotFound reports that the provider has no such payment in this account (404).
func (e *Error) NotFound() bool { return e.Status == 404 }

// IsUnavailable reports whether err is an *Error saying the provider could not be reached or
// answered nonsense: the outcome is unknown, ask again later.
func IsUnavailable(err error) bool {
	var pe *Error
	return errors.As(err, &pe) && pe.Unavailable
}

// IsNotFound reports whether err is an *Error for a 404.
func IsNotFound(err error) bool {
	var pe *Error
	return errors.As(err, &pe) && pe.NotFound()
}

var idPattern = regexp.MustCompile(`^[A-Za-z0-9]{1,64}$`)

// ValidID reports whether s looks like a provider id (payment_id, refund_id): 1-64 letters
// and digits. Anything else is never sent in a path.
func ValidID(s string) bool { return idPattern.MatchString(s) }

func invalid(field, desc string) *Error {
	return &Error{Code: CodeInvalidField, Field: field, Description: desc, Err: ErrInvalidRequest}
}

func missing(field string) *Error {
	return &Error{Code: CodeMissingField, Field: field, Description: "missing mandatory attribute: " + field, Err: ErrInvalidRequest}
}

// Validate checks the request against the API's rules before anything is sent.
func (r CreateRequest) Validate() error {
	switch {
	case r.Amount < MinAmount:
		return invalid("amount", fmt.Sprintf("must be at least %d pence", MinAmount))
	case r.Amount > MaxAmount:
		return invalid("amount", fmt.Sprintf("must be at most %d pence", MaxAmount))
	}
	if err := text("reference", r.Reference, MaxReference); err != nil {
		return err
	}
	if err := text("description", r.Description, MaxDescription); err != nil {
		return err
	}
	if r.ReturnURL == "" {
		return missing("return_url")
	}
	if !ValidReturnURL(r.ReturnURL) {
		return invalid("return_url", "must be an absolute http or https URL of at most 2000 characters")
	}
	if len([]rune(r.Email)) > MaxEmail || strings.ContainsAny(r.Email, "\r\n") {
		return invalid("email", fmt.Sprintf("must be at most %d characters on one line", MaxEmail))
	}
	if r.Language != "" && r.Language != "en" && r.Language != "cy" {
		return invalid("language", `must be "en" or "cy"`)
	}
	if err := ValidateMetadata(r.Metadata); err != nil {
		return err
	}
	return nil
}

func text(field, v string, max int) error {
	if strings.TrimSpace(v) == "" {
		return missing(field)
	}
	if n := len([]rune(v)); n > max {
		return invalid(field, fmt.Sprintf("must be at most %d characters (it has %d)", max, n))
	}
	if !validText(v) {
		return invalid(field, "must be valid text without control characters")
	}
	return nil
}

func validText(v string) bool {
	if !utf8.ValidString(v) {
		return false
	}
	for _, r := range v {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

// ValidateMetadata checks metadata against the API's limits: at most 10 keys of 1-30
// characters, values of at most 100 characters.
func ValidateMetadata(m map[string]string) error {
	if len(m) > MaxMetadataKeys {
		return invalid("metadata", fmt.Sprintf("must have at most %d keys", MaxMetadataKeys))
	}
	for k, v := range m {
		if n := len([]rune(k)); n < 1 || n > MaxMetadataKey || !validText(k) {
			return invalid("metadata", fmt.Sprintf("keys must be 1 to %d characters", MaxMetadataKey))
		}
		if len([]rune(v)) > MaxMetadataVal || !validText(v) {
			return invalid("metadata", fmt.Sprintf("values must be at most %d characters", MaxMetadataVal))
		}
	}
	return nil
}
