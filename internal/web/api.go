package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/herts-msp/taxi-renewals/internal/domain"
	"github.com/herts-msp/taxi-renewals/internal/report"
)

// The read-only API for analysts' tools: authenticated only by "Authorization: Bearer <token>"
// (tokens made at /staff/tokens), GET only, answers JSON (and the evidence CSV).

func (s *Server) apiRoutes() {
	s.route(http.MethodGet, "/api/v1/coverage", accessAPIToken, s.apiCoverage)
	s.route(http.MethodGet, "/api/v1/evidence.csv", accessAPIToken, s.apiEvidenceCSV)
}

// apiErrorBody is every API error.
type apiErrorBody struct {
	Error  string            `json:"error"`
	Reason string            `json:"reason,omitempty"`
	Fields map[string]string `json:"fields,omitempty"`
}

// requireAPIToken lets through a request with a live token and puts its owner's Actor in the
// context; anything else gets 401 with a JSON body.
func (s *Server) requireAPIToken(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Request().Header.Get(echo.HeaderAuthorization)
		scheme, token, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="renewals"`)
			return c.JSON(http.StatusUnauthorized, apiErrorBody{Error: "Send an API token: Authorization: Bearer <token>.", Reason: "missing_token"})
		}
		a, err := s.svc.APIActor(c.Request().Context(), strings.TrimSpace(token), c.RealIP())
		if err != nil {
			return s.apiError(c, err)
		}
		c.Set(ctxActor, a)
		c.Response().Header().Set("Cache-Control", "no-store")
		return next(c)
	}
}

// apiError answers an API request's error as JSON with the one status its code maps to.
func (s *Server) apiError(c echo.Context, err error) error {
	var de *domain.Error
	if !errors.As(err, &de) || de.Code == domain.CodeInternal {
		s.log.Error("api request failed", "route", c.Path(), "error", err)
		return c.JSON(http.StatusInternalServerError, apiErrorBody{Error: "Sorry, there is a problem with the service."})
	}
	status := statusOf[de.Code]
	if status == http.StatusUnauthorized {
		c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="renewals", error="invalid_token"`)
	}
	return c.JSON(status, apiErrorBody{Error: de.Message, Reason: de.Reason, Fields: de.Fields})
}

// mimeJSONUTF8 is the JSON responses' Content-Type: ASVS V3 asks for a charset on every
// response (docs/security.md), and Echo's constant with one is deprecated.
const mimeJSONUTF8 = "application/json; charset=UTF-8"

// apiCoverage: GET /api/v1/coverage?period=|from=&to=&grouping=&council=&suppress=1, the same
// JSON as the page's export.json.
func (s *Server) apiCoverage(c echo.Context) error {
	res, err := s.svc.CoverageReport(c.Request().Context(), actor(c), reportParamsOf(c))
	if err != nil {
		return s.apiError(c, err)
	}
	c.Response().Header().Set(echo.HeaderContentType, mimeJSONUTF8)
	c.Response().WriteHeader(http.StatusOK)
	return report.WriteJSON(c.Response(), res.Report, res.ExportOptions())
}

// apiEvidenceCSV: GET /api/v1/evidence.csv, the streamed detail export.
func (s *Server) apiEvidenceCSV(c echo.Context) error {
	if err := s.streamEvidence(c); err != nil && !c.Response().Committed {
		return s.apiError(c, err)
	}
	return nil
}
