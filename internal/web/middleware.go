package web

import (
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
)

// contentSecurityPolicy allows no script at all: the service works without JavaScript. Forms
// post to the service itself, and "Pay and send" is redirected on to the payment provider's
// pages, so form-action allows that one origin too (browsers apply form-action to the redirect).
func contentSecurityPolicy(payPageOrigin string) string {
	formAction := "'self'"
	if payPageOrigin != "" {
		formAction += " " + payPageOrigin
	}
	return "default-src 'none'; style-src 'self'; img-src 'self' data:; font-src 'self'; " +
		"form-action " + formAction + "; frame-ancestors 'none'; base-uri 'none'"
}

func (s *Server) securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Security-Policy", s.csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if s.cfg.SecureCookies {
			h.Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
		}
		return next(c)
	}
}

// fetchMetadataGuard refuses state changes that a browser says came from another site, then
// hides the header from Echo's CSRF middleware, which would otherwise accept same-origin
// requests without a token. Both checks apply: the token is required on every POST.
func fetchMetadataGuard(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		site := r.Header.Get(echo.HeaderSecFetchSite)
		if r.Method != http.MethodGet && r.Method != http.MethodHead && (site == "cross-site" || site == "same-site") {
			return echo.NewHTTPError(http.StatusForbidden, "cross-site request refused")
		}
		r.Header.Del(echo.HeaderSecFetchSite)
		return next(c)
	}
}

// requestLogger logs each request with slog: method, route pattern, status and time. Not the
// raw URL or any form value, so no personal data reaches the log.
func (s *Server) requestLogger() echo.MiddlewareFunc {
	return middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
		LogStatus: true, LogMethod: true, LogRoutePath: true, LogLatency: true, LogRequestID: true, LogError: true,
		HandleError: true,
		LogValuesFunc: func(c echo.Context, v middleware.RequestLoggerValues) error {
			level := slog.LevelInfo
			if v.Status >= 500 {
				level = slog.LevelError
			}
			s.observeRequests(c, v.Status, v.Latency)
			s.log.LogAttrs(c.Request().Context(), level, "request",
				slog.String("id", v.RequestID), slog.String("method", v.Method), slog.String("route", v.RoutePath),
				slog.Int("status", v.Status), slog.Duration("latency", v.Latency))
			return nil
		},
	})
}
