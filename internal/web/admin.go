package web

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/herts-msp/taxi-renewals/internal/domain"
	"github.com/herts-msp/taxi-renewals/internal/service"
)

// adminRoutes: account management and the audit log viewer.
func (s *Server) adminRoutes() {
	get, post := http.MethodGet, http.MethodPost
	s.route(get, "/staff/users", accessAdmin, s.usersPage)
	s.route(get, "/staff/users/new", accessAdmin, s.newUserPage)
	s.route(post, "/staff/users/new", accessAdmin, s.createUser)
	s.route(get, "/staff/users/:id", accessAdmin, s.userPage)
	s.route(post, "/staff/users/:id/disable", accessAdmin, s.disableUser)
	s.route(post, "/staff/users/:id/enable", accessAdmin, s.enableUser)
	s.route(post, "/staff/users/:id/reset-password", accessAdmin, s.resetUserPassword)
	s.route(post, "/staff/users/:id/reset-two-factor", accessAdmin, s.resetUserTwoFactor)
	s.route(get, "/staff/audit", accessAdmin, s.auditPage)
}

// userSummary is one account as the administrator's pages show it.
type userSummary struct {
	ID                  int64
	Email, Name         string
	RoleName            string
	CouncilName         string
	Status, StatusTag   string
	TwoFactor           string
	Created             string
	RecoveryCodesLeft   int
	RecoveryCodesIssued bool
	Sessions            int64
	Disabled            bool
	ChangePassword      bool
	Own                 bool
	AuditURL            string
}

func (s *Server) summaryOf(d service.AccountDetails, self int64) userSummary {
	u := d.User
	v := userSummary{ID: u.ID, Email: u.Email, Name: u.Name, RoleName: roleName(u.Role), CouncilName: d.CouncilName,
		Status: "Active", StatusTag: "green", TwoFactor: "Set up", Created: u.CreatedAt.In(s.svc.Location()).Format("2 January 2006"),
		RecoveryCodesLeft: d.RecoveryCodesLeft, RecoveryCodesIssued: d.RecoveryCodesIssued, Sessions: d.Sessions,
		Disabled: u.Disabled, ChangePassword: d.PasswordChangeRequired, Own: u.ID == self,
		AuditURL: "/staff/audit?" + url.Values{"actor": {u.Email}}.Encode()}
	switch {
	case u.Disabled:
		v.Status, v.StatusTag = "Disabled", "grey"
	case d.Locked:
		v.Status, v.StatusTag = "Locked until "+u.LockedUntil.In(s.svc.Location()).Format("3:04pm"), "red"
	}
	if !u.TOTPConfirmed {
		v.TwoFactor = "Not set up yet"
	}
	if v.CouncilName == "" {
		v.CouncilName = "All councils"
	}
	return v
}

type usersView struct {
	Users []userSummary
}

func (s *Server) usersPage(c echo.Context) error {
	list, err := s.svc.StaffAccounts(c.Request().Context(), actor(c))
	if err != nil {
		return err
	}
	v := usersView{Users: make([]userSummary, len(list))}
	for i, d := range list {
		v.Users[i] = s.summaryOf(d, actor(c).StaffID)
	}
	return s.render(c, http.StatusOK, "admin-users", v)
}

type newUserForm struct {
	Email   string `form:"email" validate:"required,max=254,email_addr"`
	Name    string `form:"name" validate:"required,person_name"`
	Role    string `form:"role" validate:"required,oneof=officer analyst admin"`
	Council string `form:"council" validate:"required_if=Role officer"`
}

var newUserMessages = map[string]string{
	"email.required": "Enter their email address",
	"email":          "Enter an email address in the correct format, like name@council.gov.uk",
	"name.required":  "Enter their full name",
	"name":           "Their name must be 100 characters or fewer and only include letters, spaces, hyphens, apostrophes and full stops",
	"role":           "Select what the account can do",
	"council":        "Select the officer's council",
}

type newUserView struct {
	Form     newUserForm
	Councils []domain.Council
	Errors   *fieldErrors
}

func (s *Server) newUserPage(c echo.Context) error {
	councils, err := s.svc.Councils(c.Request().Context())
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "admin-user-new", newUserView{Councils: councils})
}

// createUser adds an account and shows its initial password, once, on the answer to the
// POST itself: the password is stored only as a hash, so no later page could show it.
func (s *Server) createUser(c echo.Context) error {
	ctx := c.Request().Context()
	form := newUserForm{Email: strings.TrimSpace(c.FormValue("email")), Name: strings.TrimSpace(c.FormValue("name")),
		Role: c.FormValue("role"), Council: c.FormValue("council")}
	if form.Role != string(domain.RoleOfficer) {
		form.Council = "" // only officers belong to a council; ignore a choice left in the list
	}
	councils, err := s.svc.Councils(ctx)
	if err != nil {
		return err
	}
	fe := s.check(form, newUserMessages)
	if !fe.Any() {
		u, password, err := s.svc.CreateStaff(ctx, actor(c), service.NewStaff{Email: form.Email, Name: form.Name,
			Role: domain.Role(form.Role), CouncilSlug: form.Council})
		if err == nil {
			return s.render(c, http.StatusOK, "admin-user-password", passwordShownView{Created: true, ID: u.ID, Email: u.Email, Name: u.Name, Password: password})
		}
		var ok bool
		if fe, _, ok = signInProblem(err, "email"); !ok {
			return err
		}
	}
	return s.render(c, http.StatusUnprocessableEntity, "admin-user-new", newUserView{Form: form, Councils: councils, Errors: fe})
}

// passwordShownView shows a generated password once: after creating an account or
// resetting its password.
type passwordShownView struct {
	Created  bool
	ID       int64
	Email    string
	Name     string
	Password string
}

var userNotices = map[string]string{
	"disabled":         "The account has been disabled and signed out everywhere.",
	"enabled":          "The account has been enabled. It can sign in again.",
	"two-factor-reset": "The authenticator app has been removed. They will set up a new one the next time they sign in.",
}

type userView struct {
	User   userSummary
	Notice string
	Errors *fieldErrors
}

func userID(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, domain.NewError(domain.CodeNotFound, "staff_not_found", "There is no such account.")
	}
	return id, nil
}

func (s *Server) userPage(c echo.Context) error {
	return s.renderUser(c, http.StatusOK, staffNoticeOf(c), nil)
}

func staffNoticeOf(c echo.Context) string { return userNotices[c.QueryParam("notice")] }

func (s *Server) renderUser(c echo.Context, status int, notice string, fe *fieldErrors) error {
	id, err := userID(c)
	if err != nil {
		return err
	}
	d, err := s.svc.StaffAccount(c.Request().Context(), actor(c), id)
	if err != nil {
		return err
	}
	return s.render(c, status, "admin-user", userView{User: s.summaryOf(d, actor(c).StaffID), Notice: notice, Errors: fe})
}

// userAction runs an account change and returns to the account's page, or shows why the
// change was refused there (the last administrator, one's own account).
func (s *Server) userAction(c echo.Context, notice string, do func(id int64) error) error {
	id, err := userID(c)
	if err != nil {
		return err
	}
	if err := do(id); err != nil {
		return s.userRefused(c, err)
	}
	return redirect(c, fmt.Sprintf("/staff/users/%d?notice=%s", id, url.QueryEscape(notice)))
}

// userRefused shows the account page with the reason an action was refused (for example,
// disabling the last admin); any other error goes to the error handler.
func (s *Server) userRefused(c echo.Context, err error) error {
	code := domain.ErrorCode(err)
	if code != domain.CodeConflict && code != domain.CodeForbidden {
		return err
	}
	fe := &fieldErrors{}
	fe.Add("actions", err.(*domain.Error).Message)
	return s.renderUser(c, statusOf[code], "", fe)
}

func (s *Server) disableUser(c echo.Context) error {
	return s.userAction(c, "disabled", func(id int64) error {
		_, err := s.svc.DisableStaff(c.Request().Context(), actor(c), id)
		return err
	})
}

func (s *Server) enableUser(c echo.Context) error {
	return s.userAction(c, "enabled", func(id int64) error { return s.svc.EnableStaff(c.Request().Context(), actor(c), id) })
}

func (s *Server) resetUserTwoFactor(c echo.Context) error {
	return s.userAction(c, "two-factor-reset", func(id int64) error {
		return s.svc.ResetStaffTwoFactor(c.Request().Context(), actor(c), id)
	})
}

// resetUserPassword shows the new password once, like createUser.
func (s *Server) resetUserPassword(c echo.Context) error {
	var password string
	id, err := userID(c)
	if err != nil {
		return err
	}
	if password, err = s.svc.ResetStaffPassword(c.Request().Context(), actor(c), id); err != nil {
		return s.userRefused(c, err)
	}
	d, err := s.svc.StaffAccount(c.Request().Context(), actor(c), id)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "admin-user-password", passwordShownView{ID: id, Email: d.User.Email, Name: d.User.Name, Password: password})
}

// auditFilterForm is the audit log's filter, read from the query string.
type auditFilterForm struct {
	Action string `form:"action" validate:"max=60,printascii"`
	Actor  string `form:"actor" validate:"max=254"`
	From   string `form:"from"`
	To     string `form:"to"`
}

var auditMessages = map[string]string{
	"action": "Enter the start of an action name, such as sign_in or account.",
	"actor":  "Enter the email address of a staff account",
}

type auditRowView struct {
	When, Actor, IP, Action, Council, Target, Detail string
}

type auditView struct {
	Form        auditFilterForm
	Errors      *fieldErrors
	Rows        []auditRowView
	Total       int64
	Page, Pages int
	PrevURL     string
	NextURL     string
	NoSuchActor bool
	TimeZone    string
}

// auditPage lists the audit log, newest first, filtered and paged by the query string.
func (s *Server) auditPage(c echo.Context) error {
	form := auditFilterForm{Action: strings.TrimSpace(c.QueryParam("action")), Actor: strings.TrimSpace(c.QueryParam("actor")),
		From: strings.TrimSpace(c.QueryParam("from")), To: strings.TrimSpace(c.QueryParam("to"))}
	fe := s.check(form, auditMessages)
	q := service.AuditQuery{Action: form.Action, ActorEmail: form.Actor}
	for _, d := range []struct {
		id, value, label string
		into             *domain.Date
	}{{"from", form.From, "From", &q.From}, {"to", form.To, "To", &q.To}} {
		if d.value == "" {
			continue
		}
		date, err := domain.ParseISODate(d.value)
		if err != nil {
			fe.Add(d.id, d.label+" must be a real date, such as 2026-11-26")
			continue
		}
		*d.into = date
	}
	if !q.From.IsZero() && !q.To.IsZero() && q.To.Before(q.From) {
		fe.Add("to", "To must be the same as or after From")
	}
	v := auditView{Form: form, Errors: fe, TimeZone: s.svc.Location().String()}
	if fe.Any() {
		return s.render(c, http.StatusUnprocessableEntity, "admin-audit", v)
	}
	q.Page, _ = strconv.Atoi(c.QueryParam("page"))
	page, err := s.svc.AuditLog(c.Request().Context(), actor(c), q)
	if err != nil {
		return err
	}
	loc := s.svc.Location()
	v.Total, v.Page, v.Pages, v.NoSuchActor = page.Total, page.Page, page.Pages, page.NoSuchActor
	for _, l := range page.Lines {
		v.Rows = append(v.Rows, auditRowView{When: l.At.In(loc).Format("2 Jan 2006 15:04:05"), Actor: l.Actor, IP: l.IP,
			Action: l.Action, Council: l.CouncilName, Target: l.Target, Detail: detailText(l.Detail)})
	}
	link := func(p int) string {
		vals := url.Values{}
		for k, val := range map[string]string{"action": form.Action, "actor": form.Actor, "from": form.From, "to": form.To} {
			if val != "" {
				vals.Set(k, val)
			}
		}
		vals.Set("page", strconv.Itoa(p))
		return "/staff/audit?" + vals.Encode()
	}
	if v.Page > 1 {
		v.PrevURL = link(v.Page - 1)
	}
	if v.Page < v.Pages {
		v.NextURL = link(v.Page + 1)
	}
	return s.render(c, http.StatusOK, "admin-audit", v)
}

// detailText shows an entry's detail as "key: value" pairs in key order.
func detailText(d map[string]any) string {
	keys := make([]string, 0, len(d))
	for k := range d {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s: %v", strings.ReplaceAll(k, "_", " "), d[k])
	}
	return strings.Join(parts, "; ")
}
