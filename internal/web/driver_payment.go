package web

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/herts-msp/taxi-renewals/internal/domain"
)

// paymentRoutes: paying the fee online and coming back from the provider.
func (s *Server) paymentRoutes() {
	s.route(http.MethodPost, "/renew/pay", accessDriver, s.startPayment)
	// The provider sends the driver back here. The address itself is the key (a random value
	// in the return URL), and the payment's state is always fetched from the provider: the
	// driver's session may have ended while they were paying, so it is not needed.
	s.route(http.MethodGet, "/renew/payment/:key", accessPublic, s.paymentReturn)
}

// startPayment sends the driver to the provider's payment page. The fee they were shown comes
// back in the form only so that a fee changed since is not taken unseen; the amount charged is
// always the council's own.
func (s *Server) startPayment(c echo.Context) error {
	ctx := c.Request().Context()
	shown, _ := strconv.ParseInt(c.FormValue("amount_pence"), 10, 64)
	next, err := s.svc.StartPayment(ctx, driverID(c), shown)
	if err != nil {
		fe, ok := fromDomain(err, "")
		if !ok || domain.ErrorCode(err) == domain.CodeUnavailable {
			return err
		}
		v, verr := s.checkAnswersView(c)
		if verr != nil {
			return verr
		}
		v.Errors = fe
		return s.render(c, refusalStatus(err), "check-answers", v)
	}
	return c.Redirect(http.StatusSeeOther, next)
}

type paymentReturnView struct {
	Pending bool
	Sent    bool
	Held    bool
	Unpaid  string
	Retry   string
}

func (s *Server) paymentReturn(c echo.Context) error {
	ctx := c.Request().Context()
	var who int64
	if sess, err := s.svc.Session(ctx, s.sessionToken(c)); err == nil && sess.Kind == domain.SessionDriver {
		who = sess.SubjectID
	}
	res, err := s.svc.PaymentReturned(ctx, c.Param("key"), who)
	if err != nil {
		return err
	}
	if res.Owner {
		switch {
		case res.Sent:
			return redirect(c, "/renew/confirmation")
		case res.Held:
			return redirect(c, "/renew")
		case res.Unpaid != "":
			return redirect(c, "/renew/check-answers")
		}
	}
	// Pending, or a browser without the driver's session: say what happened, and nothing
	// about the driver.
	return s.render(c, http.StatusOK, "payment-return", paymentReturnView{Pending: res.Pending, Sent: res.Sent, Held: res.Held,
		Unpaid: res.Unpaid, Retry: c.Request().URL.Path})
}
