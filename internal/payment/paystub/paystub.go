// Package paystub is a stand-in for GOV.UK Pay that speaks the same JSON API (the parts the
// service uses: create a payment, get it, refund it, list its refunds) and serves a small card
// page with Pay / Decline card / Cancel payment buttons instead of taking a card. `serve --demo`
// and the tests start it on a loopback port and the service talks to it over real HTTP, exactly
// as it would to the real provider.
//
// Accounts: any non-empty API key is an account; a payment belongs to the key that created it and
// another key gets 404, as a payment in another council's GOV.UK Pay account would.
//
// State is kept in memory: a stand-in made with New forgets every payment when its process ends.
// OpenFile keeps the same state in a JSON file as well, written atomically on every change and
// read back at start, so a test can kill the service and a restarted stand-in still knows what
// was paid.
//
// Payments not finished within 90 minutes of being created (by the injected clock) read as
// failed with code P0020 (expired), as on the real service.
package paystub

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/herts-msp/taxi-renewals/internal/payment"
)

// Expiry is how long a payment may stay unfinished before it reads as expired (P0020).
const Expiry = 90 * time.Minute

// Outcomes for Complete and the card page's action field.
const (
	OutcomePay     = "pay"     // success: money taken
	OutcomeDecline = "decline" // failed, P0010 Payment method rejected
	OutcomeCancel  = "cancel"  // failed, P0030 Payment was cancelled by the user
	OutcomeError   = "error"   // error, P0050 Payment provider returned an error
	OutcomeSubmit  = "submit"  // submitted: card details sent, not finished (an in-between state)
)

// Options configure a stand-in.
type Options struct {
	Clock  func() time.Time // nil: time.Now
	Logger *slog.Logger     // nil: no log
	// BaseURL, when set, is used for the links in answers (next_url...); otherwise they are built
	// from the request's Host.
	BaseURL string
}

// Server is the stand-in. Safe for concurrent use.
type Server struct {
	clock func() time.Time
	log   *slog.Logger
	base  string
	path  string // state file; empty: memory only

	mu       sync.Mutex
	payments map[string]stubPayment
	down     bool
	garbage  bool
	delay    time.Duration
	seq      int64 // creation order
}

type stubRefund struct {
	ID      string    `json:"id"`
	Amount  int64     `json:"amount"`
	Status  string    `json:"status"`
	Created time.Time `json:"created"`
}

type stubPayment struct {
	ID          string         `json:"id"`
	Account     string         `json:"account"` // AccountLabel of the key; never the key
	Amount      int64          `json:"amount"`
	Reference   string         `json:"reference"`
	Description string         `json:"description"`
	ReturnURL   string         `json:"return_url"`
	Email       string         `json:"email,omitempty"`
	Language    string         `json:"language"`
	Metadata    map[string]any `json:"metadata,omitempty"`
	Status      string         `json:"status"`
	Finished    bool           `json:"finished"`
	Code        string         `json:"code,omitempty"`
	Message     string         `json:"message,omitempty"`
	Created     time.Time      `json:"created"`
	Seq         int64          `json:"seq"`
	Refunds     []stubRefund   `json:"refunds,omitempty"`
}

// New makes a stand-in that keeps its state in memory only.
func New(o Options) *Server {
	s := &Server{clock: o.Clock, log: o.Logger, base: o.BaseURL, payments: map[string]stubPayment{}}
	if s.clock == nil {
		s.clock = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return s
}

// OpenFile makes a stand-in whose state is also kept in the JSON file at path: loaded now if
// the file exists, and rewritten atomically (temporary file, fsync, rename) on every change. A
// change that cannot be written is not made (the API answers 500).
func OpenFile(path string, o Options) (*Server, error) {
	s := New(o)
	s.path = path
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return s, nil
	case err != nil:
		return nil, fmt.Errorf("paystub: read state: %w", err)
	}
	var st stateFile
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, fmt.Errorf("paystub: state file %s is not valid: %w", path, err)
	}
	for _, p := range st.Payments {
		if !payment.ValidID(p.ID) {
			return nil, fmt.Errorf("paystub: state file %s has a malformed payment id", path)
		}
		s.payments[p.ID] = p
		s.seq = max(s.seq, p.Seq)
	}
	return s, nil
}

type stateFile struct {
	Version  int           `json:"version"`
	Payments []stubPayment `json:"payments"`
}

// AccountLabel is how the stand-in names the account of an API key in Payments and its log:
// a short hash, never the key.
func AccountLabel(apiKey string) string {
	h := sha256.Sum256([]byte(apiKey))
	return "acct-" + hex.EncodeToString(h[:6])
}

// SetDown makes every API call answer 503 (true) or work again (false).
func (s *Server) SetDown(down bool) { s.mu.Lock(); s.down = down; s.mu.Unlock() }

// SetGarbage makes every API call answer 200 with a body that is not JSON, though labelled so.
func (s *Server) SetGarbage(g bool) { s.mu.Lock(); s.garbage = g; s.mu.Unlock() }

// SetDelay makes every API call wait d before answering (0: none). A request whose context ends
// first gets no answer and the wait stops.
func (s *Server) SetDelay(d time.Duration) { s.mu.Lock(); s.delay = d; s.mu.Unlock() }

// ErrNotFound, ErrFinished and ErrOutcome are returned by Complete.
var (
	ErrNotFound = errors.New("paystub: no such payment")
	ErrFinished = errors.New("paystub: payment already finished")
	ErrOutcome  = errors.New("paystub: unknown outcome")
)

// Complete sets a payment's outcome as if the user had pressed the button on the card page,
// without a browser (the "tab closed" and crash tests). outcome is one of the Outcome constants.
// A payment already finished (or expired) is left alone: ErrFinished.
func (s *Server) Complete(id, outcome string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.payments[id]
	if !ok {
		return ErrNotFound
	}
	p = s.effective(p)
	if p.Finished {
		return ErrFinished
	}
	if !apply(&p, outcome) {
		return ErrOutcome
	}
	return s.put(p)
}

// apply sets the state an outcome leads to; false for an unknown outcome.
func apply(p *stubPayment, outcome string) bool {
	switch outcome {
	case OutcomePay:
		p.Status, p.Finished, p.Code, p.Message = payment.StatusSuccess, true, "", ""
	case OutcomeDecline:
		p.Status, p.Finished, p.Code, p.Message = payment.StatusFailed, true, payment.CodeDeclined, "Payment method rejected"
	case OutcomeCancel:
		p.Status, p.Finished, p.Code, p.Message = payment.StatusFailed, true, payment.CodeCancelledByUser, "Payment was cancelled by the user"
	case OutcomeError:
		p.Status, p.Finished, p.Code, p.Message = payment.StatusError, true, payment.CodeProviderError, "Payment provider returned an error"
	case OutcomeSubmit:
		p.Status, p.Finished, p.Code, p.Message = payment.StatusSubmitted, false, "", ""
	default:
		return false
	}
	return true
}

// effective is the payment as it reads now: an unfinished one older than Expiry is expired.
func (s *Server) effective(p stubPayment) stubPayment {
	if !p.Finished && !s.clock().Before(p.Created.Add(Expiry)) {
		p.Status, p.Finished, p.Code, p.Message = payment.StatusFailed, true, payment.CodeExpired, "Payment expired"
	}
	return p
}

// put stores p (new or changed), first in the state file when there is one. Caller holds mu.
func (s *Server) put(p stubPayment) error {
	if s.path != "" {
		all := make([]stubPayment, 0, len(s.payments)+1)
		for id, q := range s.payments {
			if id != p.ID {
				all = append(all, q)
			}
		}
		all = append(all, p)
		sort.Slice(all, func(i, j int) bool { return all[i].Seq < all[j].Seq })
		if err := writeAtomic(s.path, stateFile{Version: 1, Payments: all}); err != nil {
			s.log.Error("paystub: state not saved", "err", err)
			return err
		}
	}
	s.payments[p.ID] = p
	return nil
}

func writeAtomic(path string, st stateFile) error {
	data, err := json.MarshalIndent(st, "", " ")
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".paystub-*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // no-op after the rename
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// RefundRecord is one refund in a Record.
type RefundRecord struct {
	ID      string
	Amount  int64
	Status  string
	Created time.Time
}

// Record is a payment as the stand-in holds it, for a test's assertions.
type Record struct {
	ID          string
	Account     string // AccountLabel of the key that created it
	Amount      int64
	Reference   string
	Description string
	ReturnURL   string
	Status      string
	Finished    bool
	Code        string
	Created     time.Time
	Refunds     []RefundRecord
}

// Payments is a snapshot of every payment, oldest first, as it reads now (expiry applied).
func (s *Server) Payments() []Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	all := make([]stubPayment, 0, len(s.payments))
	for _, p := range s.payments {
		all = append(all, s.effective(p))
	}
	sort.Slice(all, func(i, j int) bool { return all[i].Seq < all[j].Seq })
	out := make([]Record, 0, len(all))
	for _, p := range all {
		r := Record{ID: p.ID, Account: p.Account, Amount: p.Amount, Reference: p.Reference,
			Description: p.Description, ReturnURL: p.ReturnURL, Status: p.Status, Finished: p.Finished,
			Code: p.Code, Created: p.Created}
		for _, f := range p.Refunds {
			r.Refunds = append(r.Refunds, RefundRecord(f))
		}
		out = append(out, r)
	}
	return out
}

// Payment is one payment's Record; false when there is none.
func (s *Server) Payment(id string) (Record, bool) {
	for _, r := range s.Payments() {
		if r.ID == id {
			return r, true
		}
	}
	return Record{}, false
}

// Start listens on addr (e.g. "127.0.0.1:0") and serves the stand-in in the background. It
// returns the server (Shutdown or Close it when done) and its base URL, e.g.
// "http://127.0.0.1:41234", to give to payment.NewClient.
func (s *Server) Start(addr string) (*http.Server, string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", fmt.Errorf("paystub: listen: %w", err)
	}
	hs := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       60 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	go func() {
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("paystub: serve", "err", err)
		}
	}()
	return hs, "http://" + ln.Addr().String(), nil
}

// newID makes a 26-character id of lower-case letters and digits, like GOV.UK Pay's.
func newID() string {
	const alphabet = "0123456789abcdefghijklmnopqrstuvwxyz"
	b := make([]byte, 26)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}
