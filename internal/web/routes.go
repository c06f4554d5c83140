package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/herts-msp/taxi-renewals/internal/domain"
)

// access is the policy a route declares. Every route is registered through route(), which
// applies the matching middleware and records the policy; the access test fails on any
// route without one.
type access string

const (
	accessPublic        access = "public"         // anyone, signed in or not
	accessPendingDriver access = "pending-driver" // a driver between licence check and code
	accessDriver        access = "driver"         // a signed-in driver, on their own renewal only
	accessPendingStaff  access = "pending-staff"  // staff between password and second factor
	accessStaff         access = "staff"          // any signed-in staff account
	accessStaffRead     access = "staff-read"     // officers (own council), analysts and admins: read only
	accessOfficer       access = "officer"        // officers only: changes to their own council's records
	accessAdmin         access = "admin"          // administrators only
	accessAnalyst       access = "analyst"        // analysts and admins: account actions such as API tokens
	accessAPIToken      access = "api-token"      // a live API token in "Authorization: Bearer"; cookies are not accepted
)

// route registers a handler behind the middleware its policy needs.
func (s *Server) route(method, path string, a access, h echo.HandlerFunc) {
	var mw []echo.MiddlewareFunc
	switch a {
	case accessPublic:
	case accessPendingDriver:
		mw = append(mw, s.requireSession(domain.SessionPendingDriver))
	case accessDriver:
		mw = append(mw, s.requireSession(domain.SessionDriver))
	case accessPendingStaff:
		mw = append(mw, s.requirePendingStaff)
	case accessStaff:
		mw = append(mw, s.requireStaff())
	case accessStaffRead:
		mw = append(mw, s.requireStaff(domain.RoleOfficer, domain.RoleAnalyst, domain.RoleAdmin))
	case accessOfficer:
		mw = append(mw, s.requireStaff(domain.RoleOfficer))
	case accessAdmin:
		mw = append(mw, s.requireStaff(domain.RoleAdmin))
	case accessAnalyst:
		mw = append(mw, s.requireStaff(domain.RoleAnalyst, domain.RoleAdmin))
	case accessAPIToken:
		mw = append(mw, s.requireAPIToken)
	default:
		panic("route " + method + " " + path + ": unknown access policy " + string(a))
	}
	s.echo.Add(method, path, h, mw...)
	s.policies[method+" "+path] = a
	if method == http.MethodGet {
		// HEAD is a GET without the body (net/http drops what the handler writes): the same
		// handler behind the same policy, so a monitor's HEAD never gets 405.
		s.echo.Add(http.MethodHead, path, h, mw...)
		s.policies[http.MethodHead+" "+path] = a
	}
}

// Policies returns the declared policy of every route, keyed "METHOD /path".
func (s *Server) Policies() map[string]string {
	out := make(map[string]string, len(s.policies))
	for k, v := range s.policies {
		out[k] = string(v)
	}
	return out
}

// Routes lists every route Echo will answer, for the access test.
func (s *Server) Routes() []*echo.Route { return s.echo.Routes() }

const ctxActor = "actor"

// requireStaff lets through a signed-in member of staff with one of roles (any role when
// none are given) and puts the Actor in the context.
func (s *Server) requireStaff(roles ...domain.Role) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			a, err := s.svc.StaffActor(c.Request().Context(), s.sessionToken(c), c.RealIP())
			if err != nil {
				if domain.ErrorCode(err) == domain.CodeUnauthorised {
					return redirect(c, "/staff/sign-in")
				}
				return err
			}
			if len(roles) > 0 {
				allowed := false
				for _, r := range roles {
					allowed = allowed || a.Role == r
				}
				if !allowed {
					return domain.NewError(domain.CodeForbidden, "role", "Your account cannot use this page.")
				}
			}
			c.Set(ctxActor, a)
			return next(c)
		}
	}
}

// requirePendingStaff lets through a member of staff who has given their password but not
// yet their second factor.
func (s *Server) requirePendingStaff(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		sess, err := s.svc.Session(c.Request().Context(), s.sessionToken(c))
		if err != nil || sess.Kind != domain.SessionPendingStaff {
			return redirect(c, "/staff/sign-in")
		}
		c.Set(ctxPendingStaffID, sess.SubjectID)
		return next(c)
	}
}

const ctxPendingStaffID = "pending_staff_id"

func actor(c echo.Context) domain.Actor {
	a, _ := c.Get(ctxActor).(domain.Actor)
	return a
}

func pendingStaffID(c echo.Context) int64 {
	id, _ := c.Get(ctxPendingStaffID).(int64)
	return id
}
