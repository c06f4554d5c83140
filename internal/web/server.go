// Package web is the HTTP side of the service: Echo, routes, forms and rendering. Handlers
// parse the request, call the service, and render or redirect; nothing else.
package web

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/go-playground/validator/v10"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/herts-msp/taxi-renewals/internal/config"
	"github.com/herts-msp/taxi-renewals/internal/domain"
	"github.com/herts-msp/taxi-renewals/internal/service"
	"github.com/herts-msp/taxi-renewals/views"
)

// Health is what readiness needs to know about the database.
type Health interface {
	Ping(ctx context.Context) error
	PendingMigrations(ctx context.Context) ([]string, error)
	// ProbeWrite commits a small write that nothing reads, to prove writes succeed now.
	ProbeWrite(ctx context.Context) error
}

// Server holds the HTTP server's dependencies.
type Server struct {
	echo     *echo.Echo
	svc      *service.Service
	health   Health
	cfg      config.Config
	log      *slog.Logger
	views    *templates
	validate *validator.Validate
	policies map[string]access
	metrics  *requestMetrics
	csp      string
	ready    readiness
}

// maxBodyBytes bounds every request body: the largest form is well under this.
const maxBodyBytes = "64K"

// New builds the server and its routes. It fails if a template does not parse.
func New(cfg config.Config, svc *service.Service, health Health, log *slog.Logger) (*Server, error) {
	tmpl, err := parseTemplates(svc.Location())
	if err != nil {
		return nil, err
	}
	s := &Server{echo: echo.New(), svc: svc, health: health, cfg: cfg, log: log, views: tmpl, validate: newValidator(), policies: map[string]access{}, metrics: newRequestMetrics(),
		csp: contentSecurityPolicy(cfg.PayPageOrigin())}
	e := s.echo
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.handleError
	// Without an extractor Echo believes any X-Forwarded-For, and rate limits per IP could be
	// dodged by sending a new one each time. Trust the header only from configured proxies.
	if len(cfg.TrustedProxies) > 0 {
		opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
		for _, n := range cfg.TrustedProxies {
			opts = append(opts, echo.TrustIPRange(n))
		}
		e.IPExtractor = echo.ExtractIPFromXFFHeader(opts...)
	} else {
		e.IPExtractor = echo.ExtractIPDirect()
	}

	e.Use(middleware.RequestID())
	e.Use(s.requestLogger())
	e.Use(middleware.Recover())
	e.Use(bodyLimits()) // 64 KB for forms, 20 MB for the register upload, 10.5 MB for a document (officer_register.go)
	e.Use(middleware.ContextTimeoutWithConfig(middleware.ContextTimeoutConfig{Timeout: cfg.RequestTimeout,
		// Streamed exports may take longer than a page; they stop when the client goes away.
		Skipper: func(c echo.Context) bool { return strings.HasSuffix(c.Path(), "evidence.csv") }}))
	e.Use(s.securityHeaders)
	e.Use(fetchMetadataGuard)
	// The API takes no cookies and only answers GET, so it needs no CSRF cookie either.
	// A document upload checks the token itself as the form streams in (driver_documents.go).
	csrfSkipper := func(c echo.Context) bool {
		return isInfraPath(c.Path()) || strings.HasPrefix(c.Path(), "/api/") || isDocumentUpload(c)
	}
	e.Use(formWithinLimit(csrfSkipper)) // a body over the limit is 413 before the CSRF check reads it
	e.Use(middleware.CSRFWithConfig(middleware.CSRFConfig{
		Skipper:        csrfSkipper,
		TokenLookup:    "form:_csrf",
		CookieName:     "_csrf",
		CookiePath:     "/",
		CookieHTTPOnly: true,
		CookieSecure:   cfg.SecureCookies,
		CookieSameSite: http.SameSiteStrictMode,
	}))

	static, err := fs.Sub(views.Static, "static")
	if err != nil {
		return nil, err
	}
	s.route(http.MethodGet, "/static*", accessPublic, echo.StaticDirectoryHandler(static, !e.EnablePathUnescapingStaticFiles))
	s.route(http.MethodGet, "/healthz", accessPublic, s.healthz)
	s.route(http.MethodGet, "/readyz", accessPublic, s.readyz)
	s.driverRoutes()
	s.paymentRoutes()
	s.staffAuthRoutes()
	s.adminRoutes()
	s.adminCouncilRoutes()
	s.driverWithdrawRoutes()
	s.registerRoutes()
	s.caseRoutes()
	s.documentRoutes()
	s.officerPaymentRoutes()
	s.reportRoutes()
	return s, nil
}

// Handler returns the server as an http.Handler.
func (s *Server) Handler() http.Handler { return s.echo }

// ShutdownGrace is how long requests under way may take to finish once shutdown begins.
const ShutdownGrace = 7 * time.Second

// Serve runs the server until ctx is cancelled, then shuts down gracefully.
func (s *Server) Serve(ctx context.Context, addr string) error {
	srv := &http.Server{
		Addr:              addr,
		Handler:           s.echo,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    1 << 16,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	// SIGTERM ends the process within 10 s (a container platform's grace period is often 10 s):
	// requests still running after ShutdownGrace are cut off with the process. Their transactions
	// are rolled back and they were never answered, so nothing answered as done is lost.
	shutdownCtx, cancel := context.WithTimeout(context.Background(), ShutdownGrace)
	defer cancel()
	return srv.Shutdown(shutdownCtx)
}

func isInfraPath(path string) bool {
	return path == "/healthz" || path == "/readyz" || len(path) >= 8 && path[:8] == "/static/"
}

func (s *Server) healthz(c echo.Context) error {
	return c.String(http.StatusOK, "ok\n")
}

// readiness is the last answer of /readyz. Each check writes to the database, so an answer is
// kept for a while (readyFor, or retryFor after a failure) and checks run one at a time.
type readiness struct {
	mu      sync.Mutex
	checked time.Time
	reason  string // why the service is not ready; "" when it is
}

const (
	readyFor = 5 * time.Second // a success is checked again after this
	retryFor = time.Second     // a failure sooner, so a recovery is seen quickly
)

// readyz answers 200 only when the database answers, every migration has been applied and a
// write commits; otherwise 503 with the reason in plain words (never a driver's message).
func (s *Server) readyz(c echo.Context) error {
	s.ready.mu.Lock()
	defer s.ready.mu.Unlock()
	keep := readyFor
	if s.ready.reason != "" {
		keep = retryFor
	}
	if s.ready.checked.IsZero() || time.Since(s.ready.checked) >= keep {
		reason, err := s.checkReady(c.Request().Context())
		if reason != s.ready.reason {
			if reason != "" {
				s.log.Warn("not ready", slog.String("reason", reason), slog.Any("error", err))
			} else {
				s.log.Info("ready")
			}
		}
		s.ready.checked, s.ready.reason = time.Now(), reason
	}
	if s.ready.reason != "" {
		c.Response().Header().Set("Retry-After", "5")
		return c.String(http.StatusServiceUnavailable, "not ready: "+s.ready.reason+"\n")
	}
	return c.String(http.StatusOK, "ready\n")
}

// checkReady runs the checks of /readyz and says what failed.
func (s *Server) checkReady(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	because := func(what string, err error) (string, error) {
		if reason, ok := domain.IsDatabaseFault(err); ok {
			return what + ": " + domain.DatabaseFaultText(reason), err
		}
		if errors.Is(err, context.DeadlineExceeded) {
			return what + ": the database did not answer within 3 seconds", err
		}
		return what + ": the database failed", err
	}
	if err := s.health.Ping(ctx); err != nil {
		return because("database not answering", err)
	}
	pending, err := s.health.PendingMigrations(ctx)
	if err != nil {
		return because("migrations not readable", err)
	}
	if len(pending) > 0 {
		return fmt.Sprintf("migrations not current: %d not applied (run renewals migrate)", len(pending)), nil
	}
	if err := s.health.ProbeWrite(ctx); err != nil {
		return because("database not writable", err)
	}
	return "", nil
}
