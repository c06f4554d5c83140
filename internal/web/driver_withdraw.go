package web

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/herts-msp/taxi-renewals/internal/domain"
)

func (s *Server) driverWithdrawRoutes() {
	s.route(http.MethodGet, "/renew/withdraw", accessDriver, s.withdrawPage)
	s.route(http.MethodPost, "/renew/withdraw", accessDriver, s.withdraw)
	s.route(http.MethodPost, "/renew/start-again", accessDriver, s.startAgain)
}

// withdrawForm is the confirm page: the reason is optional.
type withdrawForm struct {
	Reason string `form:"reason" validate:"max=500"`
}

var withdrawMessages = map[string]string{"reason": "Your reason must be 500 characters or fewer"}

// withdrawPage asks the driver to confirm; only a renewal sent and not yet decided offers it.
func (s *Server) withdrawPage(c echo.Context) error {
	v, err := s.statusData(c)
	if err != nil {
		return err
	}
	if v.Renewal.Status == domain.StatusDraft {
		return redirect(c, "/renew")
	}
	if !v.CanWithdraw {
		return redirect(c, "/renew/status")
	}
	return s.render(c, http.StatusOK, "withdraw", v)
}

func (s *Server) withdraw(c echo.Context) error {
	form := withdrawForm{Reason: strings.TrimSpace(c.FormValue("reason"))}
	fe := s.check(form, withdrawMessages)
	if !fe.Any() {
		_, err := s.svc.Withdraw(c.Request().Context(), driverID(c), form.Reason)
		if err == nil {
			return redirect(c, "/renew/status?withdrawn=1")
		}
		var ok bool
		if fe, ok = fromDomain(err, ""); !ok {
			return err
		}
		if domain.ErrorCode(err) == domain.CodeConflict {
			// Decided (or withdrawn) in the meantime: say so on the status page, nothing written.
			v, verr := s.statusData(c)
			if verr != nil {
				return verr
			}
			v.Errors = &fieldErrors{}
			v.Errors.Add("main-content", err.(*domain.Error).Message)
			return s.render(c, http.StatusConflict, "status", v)
		}
	}
	v, err := s.statusData(c)
	if err != nil {
		return err
	}
	v.WithdrawReason, v.Errors = form.Reason, fe
	return s.render(c, http.StatusUnprocessableEntity, "withdraw", v)
}

func (s *Server) startAgain(c echo.Context) error {
	if err := s.svc.StartAgain(c.Request().Context(), driverID(c)); err != nil {
		return err
	}
	return redirect(c, "/renew")
}
