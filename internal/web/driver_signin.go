package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/herts-msp/taxi-renewals/internal/domain"
	"github.com/herts-msp/taxi-renewals/internal/service"
)

func (s *Server) driverRoutes() {
	get, post := http.MethodGet, http.MethodPost
	s.route(get, "/", accessPublic, s.startPage)
	s.route(get, "/leaflet", accessPublic, s.publicLeaflet)
	s.route(get, "/accessibility", accessPublic, s.accessibilityPage)
	s.route(get, "/privacy", accessPublic, s.privacyPage)
	s.route(get, "/renew/sign-in", accessPublic, s.signInPage)
	s.route(post, "/renew/sign-in", accessPublic, s.signIn)
	s.route(get, "/renew/code", accessPendingDriver, s.codePage)
	s.route(post, "/renew/code", accessPendingDriver, s.verifyCode)
	s.route(post, "/renew/code/resend", accessPendingDriver, s.resendCode)
	s.route(post, "/renew/sign-out", accessPublic, s.signOut)
	s.route(get, "/renew/signed-out", accessPublic, s.signedOutPage)

	s.route(get, "/renew", accessDriver, s.taskList)
	s.route(get, "/renew/contact", accessDriver, s.contactPage)
	s.route(post, "/renew/contact", accessDriver, s.saveContact)
	s.route(get, "/renew/licence", accessDriver, s.licencePage)
	s.route(post, "/renew/licence", accessDriver, s.saveLicence)
	s.route(get, "/renew/checks", accessDriver, s.checksPage)
	s.route(post, "/renew/checks", accessDriver, s.saveChecks)
	s.route(get, "/renew/declarations", accessDriver, s.declarationsPage)
	s.route(post, "/renew/declarations", accessDriver, s.saveDeclarations)
	s.route(get, "/renew/awareness", accessDriver, s.leafletPage)
	s.route(get, "/renew/awareness/check", accessDriver, s.quizPage)
	s.route(post, "/renew/awareness/check", accessDriver, s.checkQuiz)
	s.route(get, "/renew/awareness/confirm", accessDriver, s.confirmPage)
	s.route(post, "/renew/awareness/confirm", accessDriver, s.acknowledge)
	s.route(get, "/renew/check-answers", accessDriver, s.checkAnswersPage)
	s.route(post, "/renew/submit", accessDriver, s.submit)
	s.route(get, "/renew/confirmation", accessDriver, s.confirmationPage)
	s.route(get, "/renew/status", accessDriver, s.statusPage)
}

// startView lists each council's fee for each licence term today.
type startView struct {
	Terms    []int
	Councils []startFeeRow
}

type startFeeRow struct {
	Name string
	Fees []string // in the order of Terms; "Not set yet" when a council has none
}

func (s *Server) startPage(c echo.Context) error {
	all, err := s.svc.AllFees(c.Request().Context(), s.svc.Today())
	if err != nil {
		return err
	}
	v := startView{Terms: domain.LicenceTerms}
	for _, cf := range all {
		row := startFeeRow{Name: cf.Council.Name}
		for _, t := range domain.LicenceTerms {
			if f, ok := cf.Fee(t); ok {
				row.Fees = append(row.Fees, f.Display())
			} else {
				row.Fees = append(row.Fees, "Not set yet")
			}
		}
		v.Councils = append(v.Councils, row)
	}
	return s.render(c, http.StatusOK, "start", v)
}

type signInForm struct {
	Council       string `form:"council" validate:"required"`
	LicenceNumber string `form:"licence_number" validate:"required,max=20,printascii"`
	DOB           dateField
}

type signInView struct {
	Councils []domain.Council
	Form     signInForm
	Errors   *fieldErrors
}

var signInMessages = map[string]string{
	"council":                 "Select the council that issued your licence",
	"licence_number.required": "Enter your licence number",
	"licence_number":          "Enter your licence number as it is shown on your licence",
}

func (s *Server) signInPage(c echo.Context) error {
	councils, err := s.svc.Councils(c.Request().Context())
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "sign-in", signInView{Councils: councils})
}

func (s *Server) signIn(c echo.Context) error {
	ctx := c.Request().Context()
	form := signInForm{
		Council:       c.FormValue("council"),
		LicenceNumber: strings.ToUpper(strings.TrimSpace(c.FormValue("licence_number"))),
		DOB:           dateField{Day: c.FormValue("dob-day"), Month: c.FormValue("dob-month"), Year: c.FormValue("dob-year")},
	}
	fe := s.check(form, signInMessages)
	dob := form.DOB.parse(fe, "dob", "Date of birth")
	councils, err := s.svc.Councils(ctx)
	if err != nil {
		return err
	}
	if !fe.Any() {
		driver, err := s.svc.StartSignIn(ctx, service.SignInRequest{CouncilSlug: form.Council, LicenceNumber: form.LicenceNumber, DateOfBirth: dob, IP: c.RealIP()})
		var inel *service.Ineligible
		switch {
		case errors.As(err, &inel):
			return s.render(c, http.StatusOK, "ineligible", ineligibleView{Eligibility: string(inel.Eligibility), Expiry: inel.Driver.LicenceExpiry, Council: inel.Council.Name, Contact: inel.Council})
		case err != nil:
			var ok bool
			if fe, ok = fromDomain(err, ""); !ok {
				return err
			}
			if domain.ErrorReason(err) == "no_email" {
				fe = &fieldErrors{}
				fe.Add("licence_number", err.(*domain.Error).Message)
			}
		default:
			token, err := s.svc.StartSession(ctx, domain.SessionPendingDriver, driver.ID)
			if err != nil {
				return err
			}
			s.setSessionCookie(c, token, int(service.PendingSessionAge.Seconds()))
			return redirect(c, "/renew/code")
		}
	}
	return s.render(c, http.StatusUnprocessableEntity, "sign-in", signInView{Councils: councils, Form: form, Errors: fe})
}

type ineligibleView struct {
	Eligibility string
	Expiry      domain.Date
	Council     string
	Contact     domain.Council
}

type codeView struct {
	Code    string
	Errors  *fieldErrors
	Resent  bool
	SentTo  string // the driver's email address, masked
	Council domain.Council
}

// renderCode shows the code page, saying where the code went.
func (s *Server) renderCode(c echo.Context, status int, v codeView) error {
	to, council, err := s.svc.CodeSentTo(c.Request().Context(), driverID(c))
	if err != nil {
		return err
	}
	v.SentTo, v.Council = to, council
	return s.render(c, status, "code", v)
}

func (s *Server) codePage(c echo.Context) error {
	return s.renderCode(c, http.StatusOK, codeView{Resent: c.QueryParam("resent") == "1"})
}

func (s *Server) verifyCode(c echo.Context) error {
	ctx := c.Request().Context()
	typed := c.FormValue("code")
	err := s.svc.VerifyCode(ctx, driverID(c), typed, c.RealIP())
	if err != nil {
		fe, ok := fromDomain(err, "code")
		if !ok {
			fe = &fieldErrors{}
			var de *domain.Error
			if !errors.As(err, &de) || de.Code != domain.CodeRateLimited {
				return err
			}
			fe.Add("code", de.Message)
		}
		return s.renderCode(c, http.StatusUnprocessableEntity, codeView{Code: typed, Errors: fe})
	}
	// A new session id at sign-in: the pending session's id is thrown away.
	_ = s.svc.EndSession(ctx, s.sessionToken(c))
	token, err := s.svc.StartSession(ctx, domain.SessionDriver, driverID(c))
	if err != nil {
		return err
	}
	s.setSessionCookie(c, token, int(service.SessionMaxAge.Seconds()))
	s.rotateCSRF(c)
	return redirect(c, "/renew")
}

func (s *Server) resendCode(c echo.Context) error {
	if err := s.svc.ResendCode(c.Request().Context(), driverID(c), c.RealIP()); err != nil {
		if domain.ErrorCode(err) == domain.CodeRateLimited {
			fe := &fieldErrors{}
			fe.Add("code", err.(*domain.Error).Message)
			return s.renderCode(c, http.StatusTooManyRequests, codeView{Errors: fe})
		}
		return err
	}
	return redirect(c, "/renew/code?resent=1")
}

func (s *Server) signOut(c echo.Context) error {
	_ = s.svc.EndSession(c.Request().Context(), s.sessionToken(c))
	s.clearSessionCookie(c)
	return redirect(c, "/renew/signed-out")
}

func (s *Server) signedOutPage(c echo.Context) error {
	return s.render(c, http.StatusOK, "signed-out", struct{}{})
}

func (s *Server) accessibilityPage(c echo.Context) error {
	return s.render(c, http.StatusOK, "accessibility", struct{}{})
}

func (s *Server) privacyPage(c echo.Context) error {
	return s.render(c, http.StatusOK, "privacy", struct{}{})
}
