package web

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/herts-msp/taxi-renewals/internal/domain"
	"github.com/herts-msp/taxi-renewals/internal/service"
)

// registerRoutes: the register of licensed drivers (import with preview) and due for renewal.
func (s *Server) registerRoutes() {
	get, post := http.MethodGet, http.MethodPost
	s.route(get, "/staff/register", accessStaffRead, s.registerHome)
	s.route(post, registerUploadPath, accessOfficer, s.registerUpload)
	s.route(get, "/staff/register/import/:id", accessStaffRead, s.registerImportPage)
	s.route(post, "/staff/register/import/:id/apply", accessOfficer, s.registerApply)
	s.route(get, "/staff/register/drivers", accessStaffRead, s.registerDriversPage)
	s.route(get, "/staff/due", accessStaffRead, s.duePage)
	s.route(get, "/staff/due.csv", accessStaffRead, s.dueCSV)
}

// ----- request body limits

// registerUploadPath is the one route that takes a body larger than a form: a register file
// of up to 20 MB.
const registerUploadPath = "/staff/register/import"

// maxRegisterUploadBody is the file's 20 MB plus room for the multipart framing and the CSRF
// field.
const maxRegisterUploadBody = "20544K"

func isRegisterUpload(c echo.Context) bool {
	return c.Request().Method == http.MethodPost && c.Path() == registerUploadPath
}

// bodyLimits bounds every request body: 64 KB (maxBodyBytes) for forms, 20 MB for the register
// upload, 10.5 MB for a driver's document upload (driver_documents.go). It must run before the
// CSRF middleware, which reads the form (and so the file), so it replaces the global
// middleware.BodyLimit in New. Echo runs global middleware after routing, so c.Path() is the
// matched route.
func bodyLimits() echo.MiddlewareFunc {
	forms := middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{Limit: maxBodyBytes,
		Skipper: func(c echo.Context) bool { return isRegisterUpload(c) || isDocumentUpload(c) }})
	upload := middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{Limit: maxRegisterUploadBody,
		Skipper: func(c echo.Context) bool { return !isRegisterUpload(c) }})
	documents := middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{Limit: maxDocumentUploadBody,
		Skipper: func(c echo.Context) bool { return !isDocumentUpload(c) }})
	return func(next echo.HandlerFunc) echo.HandlerFunc { return forms(upload(documents(next))) }
}

// registerTime shows a stored UTC time to staff, where they are (Europe/London).
func (s *Server) registerTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(s.svc.Location()).Format("2 Jan 2006 15:04")
}

// ----- choosing a council

// councilChoice is the council a page is about, and the list an analyst or admin chooses from.
type councilChoice struct {
	Council     domain.Council
	Chosen      bool
	ShowCouncil bool // the user may choose (analysts and admins)
	Councils    []domain.Council
}

func (s *Server) chooseCouncil(c echo.Context) (councilChoice, error) {
	ctx := c.Request().Context()
	a := actor(c)
	co, ok, err := s.svc.RegisterCouncil(ctx, a, c.QueryParam("council"))
	if err != nil {
		return councilChoice{}, err
	}
	ch := councilChoice{Council: co, Chosen: ok, ShowCouncil: a.Role != domain.RoleOfficer}
	if ch.ShowCouncil {
		if ch.Councils, err = s.svc.Councils(ctx); err != nil {
			return ch, err
		}
	}
	return ch, nil
}

func registerImportID(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, echo.ErrNotFound
	}
	return id, nil
}

// ----- the register's front page and the upload

type registerHomeView struct {
	councilChoice
	CanImport bool
	Stats     domain.RegisterStats
	Imports   []importRowView
	MaxMB     int
	// After a refused upload:
	Errors   *fieldErrors
	FileName string
	Problems []string
	More     int
}

type importRowView struct {
	ID       int64
	When     string
	By       string
	FileName string
	Source   string
	Rows     int
	Applied  bool
	Counts   domain.ImportCounts
}

func (s *Server) registerHome(c echo.Context) error {
	return s.renderRegisterHome(c, http.StatusOK, registerHomeView{})
}

func (s *Server) renderRegisterHome(c echo.Context, status int, v registerHomeView) error {
	ch, err := s.chooseCouncil(c)
	if err != nil {
		return err
	}
	v.councilChoice, v.MaxMB = ch, service.MaxRegisterUploadBytes>>20
	v.CanImport = actor(c).CanWork(ch.Council.ID, "council") == nil
	if ch.Chosen {
		o, err := s.svc.RegisterOverviewOf(c.Request().Context(), actor(c), ch.Council)
		if err != nil {
			return err
		}
		v.Stats = o.Stats
		for _, imp := range o.Imports {
			row := importRowView{ID: imp.ID, When: s.registerTime(imp.CreatedAt), By: imp.Summary.By, FileName: imp.Summary.FileName,
				Source: imp.Summary.Source, Rows: imp.RowCount, Applied: !imp.AppliedAt.IsZero(), Counts: imp.Summary.Preview}
			if imp.Summary.Applied != nil {
				row.Counts = *imp.Summary.Applied
			}
			v.Imports = append(v.Imports, row)
		}
	}
	return s.render(c, status, "register-home", v)
}

func (s *Server) registerUpload(c echo.Context) error {
	fe := &fieldErrors{}
	fh, err := c.FormFile("file")
	if err != nil {
		var he *echo.HTTPError
		if errors.As(err, &he) { // the body limit, reached while reading the form
			return he
		}
		fe.Add("file", "Choose the register file (CSV) to upload")
		return s.renderRegisterHome(c, http.StatusUnprocessableEntity, registerHomeView{Errors: fe})
	}
	if fh.Size > service.MaxRegisterUploadBytes {
		return echo.ErrStatusRequestEntityTooLarge
	}
	f, err := fh.Open()
	if err != nil {
		return err
	}
	defer f.Close()
	content, err := io.ReadAll(io.LimitReader(f, service.MaxRegisterUploadBytes+1))
	if err != nil {
		return err
	}
	imp, err := s.svc.UploadRegister(c.Request().Context(), actor(c), service.RegisterUpload{FileName: fh.Filename, Content: content})
	if re, ok := domain.RegisterErrorsOf(err); ok {
		fe.Add("file", re.Summary())
		v := registerHomeView{Errors: fe, FileName: fh.Filename, More: re.More()}
		for _, p := range re.Problems {
			v.Problems = append(v.Problems, p.String())
		}
		return s.renderRegisterHome(c, http.StatusUnprocessableEntity, v)
	}
	if err != nil {
		return err
	}
	return redirect(c, fmt.Sprintf("/staff/register/import/%d", imp.ID))
}

// ----- the preview, and applying it

type registerPreviewView struct {
	ID          int64
	Council     string
	CouncilSlug string
	FileName    string
	SHA256      string
	Uploaded    string
	By          string
	Source      string

	Applied       bool
	AppliedAt     string
	AppliedCounts domain.ImportCounts
	Result        string // "applied" just now, or "again": it had been applied before
	SameFileAt    string // this file was already loaded by another import
	CanApply      bool
	Nothing       bool // loading it would change nothing

	Counts    domain.ImportCounts
	Adds      []previewRow
	Updates   []previewRow
	Unchanged []previewRow
	Missing   []previewRow
	Shown     int
	Warnings  []string
	MoreWarn  int

	Errors   *fieldErrors
	Problems []string
	More     int
}

type previewRow struct {
	Line     int
	DriverID int64
	Licence  string
	Name     string
	Expiry   domain.Date
	Status   string
	Changes  []changeView
}

type changeView struct{ Field, Old, New string }

var registerFieldNames = map[string]string{
	"given_names": "Given names", "family_name": "Family name", "date_of_birth": "Date of birth", "email": "Email", "phone": "Phone",
	"postcode": "Postcode", "licence_start": "Licence start", "licence_expiry": "Licence expiry", "status": "Status",
}

func previewRows(list []domain.RegisterChange) []previewRow {
	out := make([]previewRow, 0, min(len(list), service.RegisterPreviewRows))
	for _, ch := range list[:min(len(list), service.RegisterPreviewRows)] {
		r := previewRow{Line: ch.Line, DriverID: ch.Driver.ID, Licence: ch.Driver.LicenceNumber, Name: ch.Driver.FullName(),
			Expiry: ch.Driver.LicenceExpiry, Status: ch.Driver.Status}
		for _, fc := range ch.Changes {
			r.Changes = append(r.Changes, changeView{Field: registerFieldNames[fc.Field], Old: fc.Old, New: fc.New})
		}
		out = append(out, r)
	}
	return out
}

func (s *Server) registerImportPage(c echo.Context) error {
	return s.renderRegisterPreview(c, http.StatusOK, nil)
}

func (s *Server) renderRegisterPreview(c echo.Context, status int, refused *domain.RegisterErrors) error {
	id, err := registerImportID(c)
	if err != nil {
		return err
	}
	a := actor(c)
	p, err := s.svc.PreviewRegisterImport(c.Request().Context(), a, id)
	if err != nil {
		return err
	}
	imp := p.Import
	v := registerPreviewView{ID: imp.ID, Council: p.Council.Name, CouncilSlug: p.Council.Slug, FileName: imp.Summary.FileName,
		SHA256: imp.FileSHA256, Uploaded: s.registerTime(imp.CreatedAt), By: imp.Summary.By, Source: imp.Summary.Source,
		Applied: !imp.AppliedAt.IsZero(), AppliedAt: s.registerTime(imp.AppliedAt), Shown: service.RegisterPreviewRows,
		Counts: domain.CountsOf(p.Diff, p.File.NoEmail), SameFileAt: s.registerTime(p.SameFileAppliedAt)}
	if imp.Summary.Applied != nil {
		v.AppliedCounts = *imp.Summary.Applied
	}
	switch c.QueryParam("result") {
	case "applied", "again":
		v.Result = c.QueryParam("result")
	}
	v.Adds, v.Updates, v.Unchanged = previewRows(p.Diff.Add), previewRows(p.Diff.Update), previewRows(p.Diff.Unchanged)
	for _, d := range p.Diff.Missing[:min(len(p.Diff.Missing), service.RegisterPreviewRows)] {
		v.Missing = append(v.Missing, previewRow{DriverID: d.ID, Licence: d.LicenceNumber, Name: d.FullName(), Expiry: d.LicenceExpiry, Status: d.Status})
	}
	for _, w := range p.File.Warnings[:min(len(p.File.Warnings), service.RegisterPreviewRows)] {
		v.Warnings = append(v.Warnings, w.String())
	}
	v.MoreWarn = p.File.WarningCount - len(v.Warnings)
	if refused == nil && !p.File.OK() {
		refused, _ = domain.RegisterErrorsOf(p.File.Err())
	}
	if refused != nil {
		v.Errors = &fieldErrors{}
		v.Errors.Add("problems", refused.Summary())
		for _, pr := range refused.Problems {
			v.Problems = append(v.Problems, pr.String())
		}
		v.More = refused.More()
	}
	v.Nothing = !v.Applied && p.Diff.Writes() == 0
	v.CanApply = !v.Applied && refused == nil && a.CanWork(imp.CouncilID, "register import") == nil
	return s.render(c, status, "register-preview", v)
}

func (s *Server) registerApply(c echo.Context) error {
	id, err := registerImportID(c)
	if err != nil {
		return err
	}
	res, err := s.svc.ApplyRegisterImport(c.Request().Context(), actor(c), id)
	if re, ok := domain.RegisterErrorsOf(err); ok { // the register changed since the preview
		return s.renderRegisterPreview(c, http.StatusUnprocessableEntity, re)
	}
	if err != nil {
		return err
	}
	result := "applied"
	if res.AlreadyApplied {
		result = "again"
	}
	return redirect(c, fmt.Sprintf("/staff/register/import/%d?result=%s", id, result))
}

// ----- the list of drivers

type registerDriversView struct {
	councilChoice
	Query   string
	Rows    []driverListRow
	Total   int64
	Page    int
	Pages   int
	PrevURL string
	NextURL string
}

type driverListRow struct {
	ID      int64
	Licence string
	Name    string
	Born    domain.Date
	Email   string
	Expiry  domain.Date
	Status  string
}

func (s *Server) registerDriversPage(c echo.Context) error {
	ch, err := s.chooseCouncil(c)
	if err != nil {
		return err
	}
	v := registerDriversView{councilChoice: ch, Query: strings.TrimSpace(c.QueryParam("q"))}
	if ch.Chosen {
		page, _ := strconv.Atoi(c.QueryParam("page"))
		dp, err := s.svc.RegisterDrivers(c.Request().Context(), actor(c), ch.Council, v.Query, page)
		if err != nil {
			return err
		}
		v.Total, v.Page, v.Pages = dp.Total, dp.Page, dp.Pages
		for _, d := range dp.Drivers {
			v.Rows = append(v.Rows, driverListRow{ID: d.ID, Licence: d.LicenceNumber, Name: d.FullName(), Born: d.DateOfBirth,
				Email: d.Email, Expiry: d.LicenceExpiry, Status: d.Status})
		}
		link := func(p int) string {
			q := url.Values{"page": {strconv.Itoa(p)}}
			if v.Query != "" {
				q.Set("q", v.Query)
			}
			if ch.ShowCouncil {
				q.Set("council", ch.Council.Slug)
			}
			return "/staff/register/drivers?" + q.Encode()
		}
		if v.Page > 1 {
			v.PrevURL = link(v.Page - 1)
		}
		if v.Page < v.Pages {
			v.NextURL = link(v.Page + 1)
		}
	}
	return s.render(c, http.StatusOK, "register-drivers", v)
}

// ----- due for renewal

type dueView struct {
	councilChoice
	Days    string
	Errors  *fieldErrors
	Today   domain.Date
	Until   domain.Date
	Rows    []dueRow
	Total   int
	Page    int
	Pages   int
	PrevURL string
	NextURL string
	CSVURL  string
}

type dueRow struct {
	DriverID   int64
	Licence    string
	Name       string
	Email      string
	Phone      string
	Expiry     domain.Date
	DaysLeft   int
	Aware      string
	AwareTag   string
	Renewal    string
	Reference  string
	Reminders  string
	Awareness  domain.AwarenessStatus
	RenewalRaw domain.RenewalStatus
}

const duePageSize = 100

var dueRenewalText = map[domain.RenewalStatus]string{
	domain.StatusDraft: "Started, not sent", domain.StatusSubmitted: "Sent", domain.StatusInReview: "In review",
	domain.StatusMoreInfo: "More information requested", domain.StatusApproved: "Approved", domain.StatusRefused: "Refused",
	domain.StatusWithdrawn: "Withdrawn",
}

// dueDays reads ?days=: a whole number from 1 to 365, 90 when absent.
func dueDays(c echo.Context) (int, string) {
	raw := strings.TrimSpace(c.QueryParam("days"))
	if raw == "" {
		return service.DueDaysDefault, ""
	}
	n, err := strconv.Atoi(raw)
	if err != nil {
		return service.DueDaysDefault, "Enter the number of days as a whole number from 1 to 365"
	}
	if d, changed := service.ClampDueDays(n); changed || n == 0 {
		if n == 0 {
			d = 1
		}
		return d, "Enter a number of days from 1 to 365"
	}
	return n, ""
}

func (s *Server) dueRows(c echo.Context, ch councilChoice, days int) (service.DueList, []dueRow, error) {
	l, err := s.svc.DueForRenewal(c.Request().Context(), actor(c), ch.Council, days)
	if err != nil {
		return l, nil, err
	}
	rows := make([]dueRow, len(l.Drivers))
	for i, d := range l.Drivers {
		label, tag := awarenessLabel(d.Awareness)
		var stages []string
		for _, st := range d.RemindersSent {
			stages = append(stages, strconv.Itoa(st))
		}
		rows[i] = dueRow{DriverID: d.Driver.ID, Licence: d.Driver.LicenceNumber, Name: d.Driver.FullName(), Email: d.Driver.Email,
			Phone: d.Driver.Phone, Expiry: d.Driver.LicenceExpiry, DaysLeft: domain.DaysBetween(l.Today, d.Driver.LicenceExpiry),
			Aware: label, AwareTag: tag, Renewal: dueRenewalText[d.RenewalStatus], Reference: d.RenewalReference,
			Reminders: strings.Join(stages, ", "), Awareness: d.Awareness, RenewalRaw: d.RenewalStatus}
	}
	return l, rows, nil
}

func (s *Server) duePage(c echo.Context) error {
	ch, err := s.chooseCouncil(c)
	if err != nil {
		return err
	}
	days, problem := dueDays(c)
	v := dueView{councilChoice: ch, Days: strconv.Itoa(days), Errors: &fieldErrors{}}
	status := http.StatusOK
	if problem != "" {
		v.Errors.Add("days", problem)
		v.Days = c.QueryParam("days")
		status = http.StatusUnprocessableEntity
	}
	if ch.Chosen {
		l, rows, err := s.dueRows(c, ch, days)
		if err != nil {
			return err
		}
		v.Today, v.Until, v.Total = l.Today, l.Until, len(rows)
		v.Pages = max(1, (len(rows)+duePageSize-1)/duePageSize)
		v.Page, _ = strconv.Atoi(c.QueryParam("page"))
		v.Page = min(max(v.Page, 1), v.Pages)
		v.Rows = rows[(v.Page-1)*duePageSize : min(v.Page*duePageSize, len(rows))]
		q := url.Values{"days": {strconv.Itoa(days)}}
		if ch.ShowCouncil {
			q.Set("council", ch.Council.Slug)
		}
		v.CSVURL = "/staff/due.csv?" + q.Encode()
		link := func(p int) string {
			q.Set("page", strconv.Itoa(p))
			return "/staff/due?" + q.Encode()
		}
		if v.Page > 1 {
			v.PrevURL = link(v.Page - 1)
		}
		if v.Page < v.Pages {
			v.NextURL = link(v.Page + 1)
		}
	}
	return s.render(c, status, "due", v)
}

// dueCSVHeader are the columns of the due-for-renewal export.
var dueCSVHeader = []string{"council", "licence_number", "given_names", "family_name", "email", "phone", "licence_expiry", "days_left",
	"awareness", "renewal_status", "renewal_reference", "reminders_sent"}

func (s *Server) dueCSV(c echo.Context) error {
	ch, err := s.chooseCouncil(c)
	if err != nil {
		return err
	}
	if !ch.Chosen {
		return redirect(c, "/staff/due")
	}
	days, _ := dueDays(c)
	l, rows, err := s.dueRows(c, ch, days)
	if err != nil {
		return err
	}
	records := make([][]string, len(rows))
	for i, r := range rows {
		d := l.Drivers[i].Driver
		records[i] = []string{ch.Council.Slug, r.Licence, d.GivenNames, d.FamilyName, r.Email, r.Phone, r.Expiry.String(),
			strconv.Itoa(r.DaysLeft), string(r.Awareness), string(r.RenewalRaw), r.Reference, strings.ReplaceAll(r.Reminders, ", ", ";")}
	}
	var buf bytes.Buffer
	if err := domain.WriteSafeCSV(&buf, dueCSVHeader, records); err != nil {
		return err
	}
	name := fmt.Sprintf("due-for-renewal-%s-%s-%ddays.csv", ch.Council.Slug, l.Today, days)
	h := c.Response().Header()
	h.Set("Cache-Control", "no-store")
	h.Set(echo.HeaderContentDisposition, `attachment; filename="`+name+`"`)
	return c.Blob(http.StatusOK, "text/csv; charset=utf-8", buf.Bytes())
}
