package web

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"

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

// formWithinLimit reads a form body before the CSRF middleware does, so a body over the size
// limit answers 413 however it was sent. With a Content-Length over the limit the body limit
// refuses it at once; a chunked body is only found too large as it is read, and the CSRF
// middleware, which reads the form for its token, would swallow that error and answer 403.
// Routes the CSRF check skips (document uploads stream their own form) are skipped here too.
func formWithinLimit(skip func(echo.Context) bool) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			switch r.Method {
			case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
				return next(c)
			}
			if skip(c) {
				return next(c)
			}
			var err error
			if strings.HasPrefix(r.Header.Get(echo.HeaderContentType), echo.MIMEMultipartForm) {
				err = r.ParseMultipartForm(32 << 20) // what Echo's FormValue does
			} else {
				err = r.ParseForm()
			}
			var he *echo.HTTPError
			if errors.As(err, &he) && he.Code == http.StatusRequestEntityTooLarge {
				return echo.ErrStatusRequestEntityTooLarge
			}
			// Any other problem with the form is the CSRF check's and the handler's to report.
			return next(c)
		}
	}
}
