package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/herts-msp/taxi-renewals/internal/domain"
)

const (
	ctxSignedIn = "signed_in"
	ctxDriverID = "driver_id"
)

// sessionCookieName uses the __Host- prefix over HTTPS, which browsers only accept from this
// exact host with Secure and Path=/ set.
func (s *Server) sessionCookieName() string {
	if s.cfg.SecureCookies {
		return "__Host-renewals_session"
	}
	return "renewals_session"
}

func (s *Server) setSessionCookie(c echo.Context, token string, maxAge int) {
	c.SetCookie(&http.Cookie{
		Name: s.sessionCookieName(), Value: token, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: s.cfg.SecureCookies, SameSite: http.SameSiteLaxMode,
	})
}

func (s *Server) clearSessionCookie(c echo.Context) { s.setSessionCookie(c, "", -1) }

func (s *Server) sessionToken(c echo.Context) string {
	ck, err := c.Cookie(s.sessionCookieName())
	if err != nil {
		return ""
	}
	return ck.Value
}

// requireSession lets a request through only with a live session of the given kind, and puts
// its subject in the context. Anyone else is sent to sign in.
func (s *Server) requireSession(kind string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			// The session is checked on every request; what was read with it (the driver, the
			// reference data counter) travels in the request's context for the page's own reads.
			ctx, sess, err := s.svc.SessionContext(c.Request().Context(), s.sessionToken(c), kind)
			if err != nil || sess.Kind != kind {
				if err != nil && domain.ErrorCode(err) != domain.CodeUnauthorised {
					return err
				}
				return redirect(c, "/renew/sign-in")
			}
			c.SetRequest(c.Request().WithContext(ctx))
			c.Set(ctxDriverID, sess.SubjectID)
			c.Set(ctxSignedIn, kind == domain.SessionDriver)
			return next(c)
		}
	}
}

func driverID(c echo.Context) int64 {
	id, _ := c.Get(ctxDriverID).(int64)
	return id
}

// rotateCSRF drops the CSRF cookie when someone signs in, so the token used before sign-in
// is not the one used after it; the next page sets a new one.
func (s *Server) rotateCSRF(c echo.Context) {
	c.SetCookie(&http.Cookie{Name: "_csrf", Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: s.cfg.SecureCookies, SameSite: http.SameSiteStrictMode})
}
