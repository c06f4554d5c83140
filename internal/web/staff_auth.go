package web

import (
	"context"
	"errors"
	"net/http"
	"sort"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/herts-msp/taxi-renewals/internal/domain"
	"github.com/herts-msp/taxi-renewals/internal/service"
)

// staffAuthRoutes: staff sign-in, second factor, account and sign-out pages.
func (s *Server) staffAuthRoutes() {
	get, post := http.MethodGet, http.MethodPost
	s.route(get, "/staff/sign-in", accessPublic, s.staffSignInPage)
	s.route(post, "/staff/sign-in", accessPublic, s.staffSignIn)
	s.route(get, "/staff/two-factor", accessPendingStaff, s.twoFactorPage)
	s.route(post, "/staff/two-factor", accessPendingStaff, s.verifyTwoFactor)
	s.route(get, "/staff/two-factor/setup", accessPendingStaff, s.twoFactorSetupPage)
	s.route(post, "/staff/two-factor/setup", accessPendingStaff, s.confirmTwoFactor)
	s.route(get, "/staff/two-factor/recovery", accessPendingStaff, s.recoveryPage)
	s.route(post, "/staff/two-factor/recovery", accessPendingStaff, s.recoverySignIn)
	// Shown straight after set-up, which completes the sign-in: a signed-in page.
	s.route(get, "/staff/two-factor/recovery-codes", accessStaff, s.recoveryCodesPage)
	s.route(get, "/staff", accessStaff, s.staffHome)
	s.route(get, "/staff/account", accessStaff, s.accountPage)
	s.route(get, "/staff/password", accessStaff, s.passwordPage)
	s.route(post, "/staff/password", accessStaff, s.changePassword)
	s.route(post, "/staff/sign-out", accessStaff, s.staffSignOut)
	s.route(post, "/staff/sign-out-everywhere", accessStaff, s.signOutEverywhere)
}

// Notices shown after a redirect, chosen by a fixed key so nothing from the URL is echoed.
var staffNotices = map[string]string{
	"signed-out": "You have signed out.",
	"everywhere": "You have signed out on every device.",
	"password":   "Your password has been changed. You have been signed out on your other devices.",
}

type staffSignInForm struct {
	Email    string `form:"email" validate:"required,max=254"`
	Password string `form:"password" validate:"required,max=512"`
}

var staffSignInMessages = map[string]string{
	"email.required":    "Enter your email address",
	"email":             "Enter your email address as it is on your account",
	"password.required": "Enter your password",
	"password":          "Your password must be 128 characters or fewer",
}

type staffSignInView struct {
	Email  string // kept after an error; the password never is
	Errors *fieldErrors
	Notice string
}

func (s *Server) staffSignInPage(c echo.Context) error {
	if _, err := s.svc.StaffActor(c.Request().Context(), s.sessionToken(c), c.RealIP()); err == nil {
		return redirect(c, "/staff")
	}
	return s.render(c, http.StatusOK, "staff-sign-in", staffSignInView{Notice: staffNotices[c.QueryParam("notice")]})
}

func (s *Server) staffSignIn(c echo.Context) error {
	form := staffSignInForm{Email: strings.TrimSpace(c.FormValue("email")), Password: c.FormValue("password")}
	fe := s.check(form, staffSignInMessages)
	status := http.StatusUnprocessableEntity
	if !fe.Any() {
		res, err := s.svc.StaffSignIn(c.Request().Context(), service.StaffSignInRequest{
			Email: form.Email, Password: form.Password, IP: c.RealIP(), OldToken: s.sessionToken(c)})
		if err == nil {
			s.setSessionCookie(c, res.Token, int(service.PendingSessionAge.Seconds()))
			if res.Next == service.StaffStepSetUpTwoFactor {
				return redirect(c, "/staff/two-factor/setup")
			}
			return redirect(c, "/staff/two-factor")
		}
		var ok bool
		if fe, status, ok = signInProblem(err, "email"); !ok {
			return err
		}
	}
	return s.render(c, status, "staff-sign-in", staffSignInView{Email: form.Email, Errors: fe})
}

// signInProblem turns a refusal at a sign-in step into a message on field and the status to
// answer with; ok is false for errors that are not the user's to fix.
func signInProblem(err error, field string) (*fieldErrors, int, bool) {
	var de *domain.Error
	if !errors.As(err, &de) {
		return nil, 0, false
	}
	fe := &fieldErrors{}
	switch de.Code {
	case domain.CodeInvalid, domain.CodeConflict:
		keys := make([]string, 0, len(de.Fields))
		for k := range de.Fields {
			keys = append(keys, k)
		}
		sort.Strings(keys) // the forms' fields happen to be in alphabetical order too
		for _, k := range keys {
			fe.Add(k, de.Fields[k])
		}
		if !fe.Any() {
			fe.Add(field, de.Message)
		}
		return fe, http.StatusUnprocessableEntity, true
	case domain.CodeRateLimited:
		fe.Add(field, de.Message)
		return fe, http.StatusTooManyRequests, true
	}
	return nil, 0, false
}

func (s *Server) pendingStaff(c echo.Context) service.PendingStaff {
	return service.PendingStaff{StaffID: pendingStaffID(c), Token: s.sessionToken(c), IP: c.RealIP()}
}

// twoFactorProblem handles what can go wrong at a second-factor step that is not a wrong
// code: the account locked (back to the password, with the reason), the session gone, or
// the wrong step for the account.
func (s *Server) twoFactorProblem(c echo.Context, err error) (bool, error) {
	switch domain.ErrorReason(err) {
	case "locked":
		s.clearSessionCookie(c)
		fe := &fieldErrors{}
		fe.Add("email", err.(*domain.Error).Message)
		return true, s.render(c, http.StatusTooManyRequests, "staff-sign-in", staffSignInView{Errors: fe})
	case "no_session":
		s.clearSessionCookie(c)
		return true, redirect(c, "/staff/sign-in")
	case "two_factor_not_set_up":
		return true, redirect(c, "/staff/two-factor/setup")
	case "two_factor_set_up":
		return true, redirect(c, "/staff/two-factor")
	}
	return false, nil
}

// finishSignIn sets the signed-in session's cookie and sends the member of staff on.
func (s *Server) finishSignIn(c echo.Context, res service.StaffSignInResult, next string) error {
	s.setSessionCookie(c, res.Token, int(service.SessionMaxAge.Seconds()))
	s.rotateCSRF(c)
	if next == "" {
		next = "/staff"
		if res.ChangePassword {
			next = "/staff/password"
		}
	}
	return redirect(c, next)
}

type codeStepView struct {
	Errors *fieldErrors
}

func (s *Server) twoFactorPage(c echo.Context) error {
	return s.codeStepPage(c, "staff-two-factor")
}

// codeStepPage shows a second-factor step, or sends to set-up when there is no second factor yet.
func (s *Server) codeStepPage(c echo.Context, page string) error {
	step, err := s.svc.TwoFactorStatus(c.Request().Context(), s.pendingStaff(c))
	if err != nil {
		if done, rerr := s.twoFactorProblem(c, err); done {
			return rerr
		}
		return err
	}
	if step == service.StaffStepSetUpTwoFactor {
		return redirect(c, "/staff/two-factor/setup")
	}
	return s.render(c, http.StatusOK, page, codeStepView{})
}

func (s *Server) verifyTwoFactor(c echo.Context) error {
	return s.codeStep(c, "staff-two-factor", s.svc.VerifyTwoFactor)
}

// codeStep checks a code typed at a second-factor step: signed in, sent back a step, or the
// same page again with the problem.
func (s *Server) codeStep(c echo.Context, page string, check func(context.Context, service.PendingStaff, string) (service.StaffSignInResult, error)) error {
	res, err := check(c.Request().Context(), s.pendingStaff(c), c.FormValue("code"))
	if err == nil {
		return s.finishSignIn(c, res, "")
	}
	if done, rerr := s.twoFactorProblem(c, err); done {
		return rerr
	}
	fe, status, ok := signInProblem(err, "code")
	if !ok {
		return err
	}
	return s.render(c, status, page, codeStepView{Errors: fe})
}

type twoFactorSetupView struct {
	Setup  service.TOTPSetup
	Errors *fieldErrors
}

func (s *Server) twoFactorSetupPage(c echo.Context) error {
	return s.renderSetup(c, http.StatusOK, nil)
}

func (s *Server) renderSetup(c echo.Context, status int, fe *fieldErrors) error {
	setup, err := s.svc.TwoFactorSetup(c.Request().Context(), s.pendingStaff(c))
	if err != nil {
		if done, rerr := s.twoFactorProblem(c, err); done {
			return rerr
		}
		return err
	}
	return s.render(c, status, "staff-two-factor-setup", twoFactorSetupView{Setup: setup, Errors: fe})
}

func (s *Server) confirmTwoFactor(c echo.Context) error {
	res, err := s.svc.ConfirmTwoFactor(c.Request().Context(), s.pendingStaff(c), c.FormValue("code"))
	if err == nil {
		return s.finishSignIn(c, res, "/staff/two-factor/recovery-codes")
	}
	if done, rerr := s.twoFactorProblem(c, err); done {
		return rerr
	}
	fe, status, ok := signInProblem(err, "code")
	if !ok {
		return err
	}
	return s.renderSetup(c, status, fe)
}

func (s *Server) recoveryPage(c echo.Context) error {
	return s.codeStepPage(c, "staff-recovery")
}

func (s *Server) recoverySignIn(c echo.Context) error {
	return s.codeStep(c, "staff-recovery", s.svc.RecoverySignIn)
}

type recoveryCodesView struct {
	Codes          []string // empty when they were shown before
	Left           int
	ChangePassword bool
}

// recoveryCodesPage shows the recovery codes the first time it is loaded after set-up; the
// codes are stored hashed, so they can never be shown again.
func (s *Server) recoveryCodesPage(c echo.Context) error {
	ctx := c.Request().Context()
	codes, err := s.svc.IssueRecoveryCodes(ctx, actor(c))
	if err != nil {
		return err
	}
	acct, err := s.svc.MyAccount(ctx, actor(c))
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "staff-recovery-codes", recoveryCodesView{Codes: codes, Left: acct.RecoveryCodesLeft, ChangePassword: acct.PasswordChangeRequired})
}

type staffLink struct {
	Href, Text, Hint string
}

type staffHomeView struct {
	Name               string
	RoleName           string
	CouncilName        string
	Links              []staffLink
	ChangePassword     bool
	NoRecoveryCodes    bool
	RecoveryCodesLeft  int
	FewRecoveryCodes   bool
	ReadOnly           bool
	AdministratorLinks bool
}

func roleName(r domain.Role) string {
	switch r {
	case domain.RoleOfficer:
		return "Licensing officer"
	case domain.RoleAnalyst:
		return "Partnership analyst"
	case domain.RoleAdmin:
		return "Administrator"
	}
	return string(r)
}

// staffHome lists what the account's role can do.
func (s *Server) staffHome(c echo.Context) error {
	a := actor(c)
	acct, err := s.svc.MyAccount(c.Request().Context(), a)
	if err != nil {
		return err
	}
	v := staffHomeView{Name: a.Name, RoleName: roleName(a.Role), CouncilName: acct.CouncilName,
		ChangePassword: acct.PasswordChangeRequired, NoRecoveryCodes: !acct.RecoveryCodesIssued,
		RecoveryCodesLeft: acct.RecoveryCodesLeft, FewRecoveryCodes: acct.RecoveryCodesIssued && acct.RecoveryCodesLeft <= 3}
	switch a.Role {
	case domain.RoleOfficer:
		v.Links = []staffLink{
			{"/staff/renewals", "Renewals", "Work " + acct.CouncilName + "'s renewal queue, record checks and decide renewals"},
			{"/staff/due", "Due for renewal", "Drivers whose licence expires soon, and whether they have acknowledged the leaflet"},
			{"/staff/register", "Register of licensed drivers", "Load the council's register from a CSV file"},
			{"/staff/payments", "Payments export", "Fees paid and refunded in a period, to reconcile with GOV.UK Pay"},
		}
	case domain.RoleAnalyst:
		v.ReadOnly = true
		v.Links = []staffLink{
			{"/staff/renewals", "Renewals", "Every council's renewals and their awareness evidence, read only"},
			{"/staff/payments", "Payments export", "Each council's fees paid and refunded in a period"},
		}
	case domain.RoleAdmin:
		v.AdministratorLinks = true
		v.Links = []staffLink{
			{"/staff/users", "Staff accounts", "Add accounts, disable them, reset passwords and authenticator apps"},
			{"/staff/audit", "Audit log", "Every sign-in and every staff action, with who, when and from where"},
			{"/staff/admin/councils", "Councils", "Contact details, decision times, fees and online payment for each council"},
			{"/staff/renewals", "Renewals", "Every council's renewals, read only"},
		}
	}
	return s.render(c, http.StatusOK, "staff-home", v)
}

type accountView struct {
	Name, Email, RoleName, CouncilName string
	RecoveryCodesLeft                  int
	RecoveryCodesIssued                bool
	Sessions                           int64
	Notice                             string
}

func (s *Server) accountPage(c echo.Context) error {
	a := actor(c)
	acct, err := s.svc.MyAccount(c.Request().Context(), a)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "staff-account", accountView{Name: acct.User.Name, Email: acct.User.Email,
		RoleName: roleName(acct.User.Role), CouncilName: acct.CouncilName, RecoveryCodesLeft: acct.RecoveryCodesLeft,
		RecoveryCodesIssued: acct.RecoveryCodesIssued, Sessions: acct.Sessions, Notice: staffNotices[c.QueryParam("notice")]})
}

type passwordView struct {
	Errors   *fieldErrors
	Required bool
	Min, Max int
}

func (s *Server) passwordPage(c echo.Context) error {
	acct, err := s.svc.MyAccount(c.Request().Context(), actor(c))
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "staff-password", passwordView{Required: acct.PasswordChangeRequired,
		Min: service.PasswordMinLength, Max: service.PasswordMaxLength})
}

func (s *Server) changePassword(c echo.Context) error {
	token, err := s.svc.ChangePassword(c.Request().Context(), actor(c), service.PasswordChange{
		Current: c.FormValue("current_password"), New: c.FormValue("password"), Confirm: c.FormValue("password_confirm")})
	if err != nil {
		fe, status, ok := signInProblem(err, "current_password")
		if !ok {
			return err
		}
		// Passwords are never sent back to the browser, not even to refill the form.
		return s.render(c, status, "staff-password", passwordView{Errors: fe, Min: service.PasswordMinLength, Max: service.PasswordMaxLength})
	}
	s.setSessionCookie(c, token, int(service.SessionMaxAge.Seconds()))
	return redirect(c, "/staff/account?notice=password")
}

func (s *Server) staffSignOut(c echo.Context) error {
	if err := s.svc.StaffSignOut(c.Request().Context(), actor(c), s.sessionToken(c)); err != nil {
		return err
	}
	s.clearSessionCookie(c)
	return redirect(c, "/staff/sign-in?notice=signed-out")
}

func (s *Server) signOutEverywhere(c echo.Context) error {
	if _, err := s.svc.SignOutEverywhere(c.Request().Context(), actor(c)); err != nil {
		return err
	}
	s.clearSessionCookie(c)
	return redirect(c, "/staff/sign-in?notice=everywhere")
}
