package web

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/herts-msp/taxi-renewals/internal/domain"
)

// errorPage is the view for every error the user sees.
type errorPage struct {
	Status   int
	Title    string
	Message  string
	Next     string // where to go from here
	NextText string
}

// statusOf maps each domain code to exactly one HTTP status.
var statusOf = map[domain.Code]int{
	domain.CodeInvalid:      http.StatusUnprocessableEntity,
	domain.CodeNotFound:     http.StatusNotFound,
	domain.CodeForbidden:    http.StatusForbidden,
	domain.CodeConflict:     http.StatusConflict,
	domain.CodeRateLimited:  http.StatusTooManyRequests,
	domain.CodeUnauthorised: http.StatusUnauthorized,
	domain.CodeUnavailable:  http.StatusServiceUnavailable,
	domain.CodeInternal:     http.StatusInternalServerError,
}

// handleError is the one place errors become responses.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	page := errorPage{Status: http.StatusInternalServerError, Title: "Sorry, there is a problem with the service",
		Message: "Try again later.", Next: "/", NextText: "Go to the start page"}
	var he *echo.HTTPError
	var de *domain.Error
	dbReason, dbFault := domain.IsDatabaseFault(err)
	switch {
	case dbFault:
		// The database is away, full or read-only (DESIGN §3 rule 10): the statement that met it
		// wrote nothing, so a form's answers were not saved, and trying again later may work.
		page.Status, page.Title = http.StatusServiceUnavailable, titleFor(http.StatusServiceUnavailable)
		page.Message = "This page cannot be shown just now because the service cannot use its database. Try again in a few minutes."
		switch {
		case isWrite(c.Request().Method) && dbReason == domain.ReasonDatabaseOutcomeUnknown:
			// The answer to the COMMIT was lost: the change may have been made. Say so.
			page.Message = "We cannot tell whether your answers were saved: the connection to the database was lost while they were being saved. Try again in a few minutes, and check your answers before you send them again."
		case isWrite(c.Request().Method):
			page.Message = "Your answers have not been saved: the service cannot use its database just now. Try again in a few minutes."
		}
		c.Response().Header().Set("Retry-After", "30")
	case errors.Is(err, context.DeadlineExceeded) && c.Request().Context().Err() != nil:
		// The request ran out of time (a busy machine, a slow database): the service is busy,
		// not broken, and the user should try again.
		page.Status, page.Title = http.StatusServiceUnavailable, titleFor(http.StatusServiceUnavailable)
		page.Message = "The service is busy. Try again in a few minutes."
		c.Response().Header().Set("Retry-After", "30")
	case errors.As(err, &de):
		page.Status = statusOf[de.Code]
		if de.Code == domain.CodeUnauthorised {
			to := "/renew/sign-in"
			if strings.HasPrefix(c.Path(), "/staff") {
				to = "/staff/sign-in"
			}
			_ = redirect(c, to)
			return
		}
		if de.Code == domain.CodeUnavailable {
			c.Response().Header().Set("Retry-After", "60")
		}
		if de.Code != domain.CodeInternal {
			page.Title, page.Message = titleFor(page.Status), de.Message
			if isLookupNotFound(de) {
				// Another council's record and a missing one: one page, byte for byte.
				page.Message = domain.NotFoundMessage
			}
			page.Next, page.NextText = "/renew", "Go back to your renewal"
			if strings.HasPrefix(c.Path(), "/staff") {
				page.Next, page.NextText = "/staff", "Go to the back office home page"
			}
		}
	case errors.As(err, &he):
		page.Status = he.Code
		page.Title = titleFor(he.Code)
		switch {
		case he.Code == http.StatusForbidden || (he.Code == http.StatusBadRequest && isCSRFMessage(he.Message)):
			page.Status = http.StatusForbidden
			page.Title = "Your form could not be sent"
			page.Message = "For your security, forms expire. Go back, refresh the page and try again."
		case he.Code == http.StatusNotFound:
			page.Message = domain.NotFoundMessage // the same page as a record that is missing or not yours
		case he.Code == http.StatusRequestEntityTooLarge:
			page.Message = "What you sent is too large. Go back and shorten your answer."
			if isRegisterUpload(c) {
				page.Message = "The file is larger than 20 MB, so nothing has been loaded. Split it, or load it with the import-register command."
				page.Next, page.NextText = "/staff/register", "Go back to the register"
			}
		case he.Code == http.StatusMethodNotAllowed:
			page.Message = "That page cannot be used in this way."
		case he.Code == http.StatusServiceUnavailable || he.Code == http.StatusGatewayTimeout:
			page.Message = "The service is busy. Try again in a few minutes."
		case he.Code < 500:
			page.Message = "Something about that request was not right. Go back and try again."
		default:
			page.Title, page.Message = "Sorry, there is a problem with the service", "Try again later."
		}
	}
	if page.Status == http.StatusNotFound && page.Message == domain.NotFoundMessage {
		// However the 404 arose (no such route, an id that is not a number, a record missing or
		// another council's), the page is the same: only the part of the site decides the link.
		page.Next, page.NextText = "/", "Go to the start page"
		if strings.HasPrefix(c.Request().URL.Path, "/staff") {
			page.Next, page.NextText = "/staff", "Go to the back office home page"
		} else if strings.HasPrefix(c.Request().URL.Path, "/renew") {
			page.Next, page.NextText = "/renew", "Go back to your renewal"
		}
	}
	if page.Status >= 500 {
		s.log.Error("request failed", slog.String("id", c.Response().Header().Get(echo.HeaderXRequestID)),
			slog.String("route", c.Path()), slog.Any("error", err))
	}
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(page.Status)
		return
	}
	if rerr := s.render(c, page.Status, "error", page); rerr != nil {
		s.log.Error("error page failed", slog.Any("error", rerr))
		_ = c.String(page.Status, page.Title)
	}
}

// isWrite says whether a request of this method asks to change something.
func isWrite(method string) bool {
	return method != http.MethodGet && method != http.MethodHead && method != http.MethodOptions
}

// isLookupNotFound tells a record lookup that found nothing (or nothing the reader may see) from
// a not-found with something true to say, such as a fee a council has not set.
func isLookupNotFound(de *domain.Error) bool {
	return de.Code == domain.CodeNotFound && (de.Reason == domain.ReasonNotFound || strings.HasSuffix(de.Reason, "_not_found"))
}

func isCSRFMessage(m any) bool {
	s, _ := m.(string)
	return s == "missing csrf token in the form parameter" || s == "invalid csrf token"
}

func titleFor(status int) string {
	switch status {
	case http.StatusNotFound:
		return "Page not found"
	case http.StatusTooManyRequests:
		return "Too many attempts"
	case http.StatusConflict:
		return "You cannot do that yet"
	case http.StatusUnprocessableEntity, http.StatusBadRequest:
		return "There is a problem"
	case http.StatusForbidden:
		return "You do not have access to this page"
	case http.StatusRequestEntityTooLarge:
		return "What you sent is too large"
	case http.StatusServiceUnavailable:
		return "Sorry, the service is unavailable"
	default:
		return "Sorry, there is a problem with the service"
	}
}
