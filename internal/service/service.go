// Package service holds the use cases of the renewal service: what a driver (and later an
// officer or analyst) can do, with the rules applied. Handlers call it; it calls the store.
package service

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"log/slog"
	"time"

	"github.com/herts-msp/taxi-renewals/internal/domain"
	"github.com/herts-msp/taxi-renewals/internal/leaflet"
	"github.com/herts-msp/taxi-renewals/internal/scan"
	"github.com/herts-msp/taxi-renewals/internal/store"
)

// Options configure a Service.
type Options struct {
	// Clock returns the current time; tests replace it.
	Clock func() time.Time
	// SecretKey keys the hashes of one-time codes.
	SecretKey []byte
	// DueWindowDays is how many days before expiry a licence can be renewed online.
	DueWindowDays int
	// Demo prints one-time codes to the log, so the demo can be used without email.
	Demo bool
	// BaseURL is the public address used in emails.
	BaseURL string
	// Location is where dates are shown.
	Location *time.Location
	Logger   *slog.Logger
	// Scanner checks uploads for viruses; nil: uploads are not scanned.
	Scanner scan.Scanner
	// TempDir is where uploads are spooled while they are checked; "" for the system's.
	TempDir string
	// Payments is the card payment provider (GOV.UK Pay, or its stand-in); nil when online
	// payment is not configured, and then renewals are sent without paying online.
	Payments PaymentProvider
}

// Service is the application's use cases.
type Service struct {
	store *store.Store
	opt   Options
	// refs keeps the councils, fees and leaflet versions (see reference.go).
	refs referenceCache
	// leafletHTML keeps each leaflet version's rendered HTML.
	leafletHTML leaflet.HTMLCache
}

// Limits on sign-in, per DESIGN and the issue: codes live 10 minutes and allow 5 tries.
const (
	CodeTTL            = 10 * time.Minute
	CodeMaxAttempts    = 5
	SessionIdleTimeout = 30 * time.Minute
	SessionMaxAge      = 12 * time.Hour
	PendingSessionAge  = 15 * time.Minute
	rateWindow         = 15 * time.Minute
	signInPerLicence   = 5  // code requests per licence per window
	signInPerIP        = 30 // licence checks per IP per window
	codeTriesPerIP     = 30 // code entries per IP per window
)

// New builds a Service on a store.
func New(st *store.Store, opt Options) *Service {
	if opt.Clock == nil {
		opt.Clock = time.Now
	}
	if len(opt.SecretKey) == 0 {
		opt.SecretKey = make([]byte, 32)
		_, _ = rand.Read(opt.SecretKey)
	}
	if opt.Location == nil {
		opt.Location = time.UTC
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.DueWindowDays == 0 {
		opt.DueWindowDays = 90
	}
	return &Service{store: st, opt: opt}
}

func (s *Service) now() time.Time { return s.opt.Clock().UTC() }

// Location is where times are shown.
func (s *Service) Location() *time.Location { return s.opt.Location }

// keyedHash hashes a secret value (a code, a rate-limit key) with the server key, so the
// database never holds the value itself.
func (s *Service) keyedHash(parts ...string) string {
	m := hmac.New(sha256.New, s.opt.SecretKey)
	for _, p := range parts {
		m.Write([]byte(p))
		m.Write([]byte{0})
	}
	return hex.EncodeToString(m.Sum(nil))
}

// randomToken returns 32 random bytes, URL-safe encoded.
func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func tokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Today is the date now where users are.
func (s *Service) Today() domain.Date { return domain.DateOf(s.now().In(s.opt.Location)) }
