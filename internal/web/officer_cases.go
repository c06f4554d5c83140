package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/herts-msp/taxi-renewals/internal/domain"
	"github.com/herts-msp/taxi-renewals/internal/service"
)

// caseRoutes: the renewal queue, the case page, checks, decisions and in-person evidence.
func (s *Server) caseRoutes() {
	get, post := http.MethodGet, http.MethodPost
	s.route(get, "/staff/renewals", accessStaffRead, s.queuePage)
	s.route(get, "/staff/renewals/:id", accessStaffRead, s.casePage)
	s.route(post, "/staff/renewals/:id/start-review", accessOfficer, s.startReview)
	s.route(post, "/staff/renewals/:id/checks", accessOfficer, s.recordCheck)
	s.route(post, "/staff/renewals/:id/request-info", accessOfficer, s.requestInfo)
	s.route(post, "/staff/renewals/:id/approve", accessOfficer, s.approve)
	s.route(post, "/staff/renewals/:id/refuse", accessOfficer, s.refuse)
	s.route(post, "/staff/renewals/:id/nr3s", accessOfficer, s.recordNR3S)
	s.route(get, "/staff/drivers/:id", accessStaffRead, s.driverRecordPage)
	s.route(post, "/staff/drivers/:id/evidence", accessOfficer, s.recordEvidence)
	s.route(post, "/staff/drivers/:id/paper-renewal", accessOfficer, s.startPaperRenewal)
	s.route(post, "/staff/evidence/:id/void", accessOfficer, s.voidEvidence)
	s.route(post, "/renew/reply", accessDriver, s.driverReply)
}

// idParam reads a numeric path id; anything else is simply not found.
func idParam(c echo.Context) (int64, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, echo.ErrNotFound
	}
	return id, nil
}

// ----- the queue

type queueView struct {
	Rows        []queueRowView
	Total       int64
	Page        int
	Pages       int
	Status      string
	Query       string
	Sort        string
	Council     string
	Councils    []domain.Council // analysts and admins may choose one
	Statuses    []statusOption
	PrevURL     string
	NextURL     string
	ShowCouncil bool
}

type statusOption struct{ Value, Label string }

type queueRowView struct {
	ID        int64
	Reference string
	Name      string
	Licence   string
	Expiry    domain.Date
	Council   string
	Status    string
	Submitted string
	Aware     string
	AwareTag  string
	Channel   string
}

const queuePageSize = 25

var queueStatuses = []statusOption{
	{"", "All sent"}, {"submitted", "Submitted"}, {"in_review", "In review"}, {"more_info", "More information requested"},
	{"approved", "Approved"}, {"refused", "Refused"}, {"withdrawn", "Withdrawn"},
}

func (s *Server) queuePage(c echo.Context) error {
	ctx := c.Request().Context()
	a := actor(c)
	page, _ := strconv.Atoi(c.QueryParam("page"))
	if page < 1 {
		page = 1
	}
	v := queueView{Status: c.QueryParam("status"), Query: strings.TrimSpace(c.QueryParam("q")), Sort: c.QueryParam("sort"),
		Council: c.QueryParam("council"), Statuses: queueStatuses, Page: page, ShowCouncil: a.Role != domain.RoleOfficer}
	valid := false
	for _, st := range queueStatuses {
		valid = valid || st.Value == v.Status
	}
	if !valid {
		v.Status = ""
	}
	f := domain.QueueFilter{Status: v.Status, Query: v.Query, Newest: v.Sort == "expiry-desc", Limit: queuePageSize, Offset: (page - 1) * queuePageSize}
	if v.ShowCouncil {
		councils, err := s.svc.Councils(ctx)
		if err != nil {
			return err
		}
		v.Councils = councils
		for _, co := range councils {
			if co.Slug == v.Council {
				f.CouncilID = co.ID
			}
		}
	}
	items, total, err := s.svc.Queue(ctx, a, f)
	if err != nil {
		return err
	}
	aware, err := s.svc.QueueAwareness(ctx, items)
	if err != nil {
		return err
	}
	v.Total = total
	v.Pages = int((total + queuePageSize - 1) / queuePageSize)
	for _, it := range items {
		label, tag := awarenessLabel(aware[it.Driver.ID].Status)
		v.Rows = append(v.Rows, queueRowView{ID: it.Renewal.ID, Reference: it.Renewal.Reference, Name: it.Driver.FullName(),
			Licence: it.Driver.LicenceNumber, Expiry: it.Driver.LicenceExpiry, Council: it.Council, Status: statusLabel(it.Renewal.Status),
			Submitted: s.shortTime(it.Renewal.SubmittedAt), Aware: label, AwareTag: tag, Channel: it.Renewal.Channel})
	}
	link := func(p int) string {
		q := url.Values{}
		for k, val := range map[string]string{"status": v.Status, "q": v.Query, "sort": v.Sort, "council": v.Council} {
			if val != "" {
				q.Set(k, val)
			}
		}
		q.Set("page", strconv.Itoa(p))
		return "/staff/renewals?" + q.Encode()
	}
	if page > 1 {
		v.PrevURL = link(page - 1)
	}
	if page < v.Pages {
		v.NextURL = link(page + 1)
	}
	return s.render(c, http.StatusOK, "queue", v)
}

func awarenessLabel(st domain.AwarenessStatus) (string, string) {
	switch st {
	case domain.AwarenessAcknowledged:
		return "Acknowledged", "green"
	case domain.AwarenessIssued:
		return "Issued, not acknowledged", "yellow"
	case domain.AwarenessOutdated:
		return "New version to acknowledge", "red"
	case domain.AwarenessNoLeaflet:
		return "No leaflet published", "grey"
	default:
		return "Not issued", "red"
	}
}

var staffStatusText = map[domain.RenewalStatus]string{
	domain.StatusDraft: "Draft", domain.StatusSubmitted: "Submitted", domain.StatusInReview: "In review",
	domain.StatusMoreInfo: "More information requested", domain.StatusApproved: "Approved", domain.StatusRefused: "Refused",
	domain.StatusWithdrawn: "Withdrawn",
}

func statusLabel(st domain.RenewalStatus) string { return staffStatusText[st] }

// shortTime formats a stored UTC time for officers, in London time.
func (s *Server) shortTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(s.svc.Location()).Format("2 Jan 2006 15:04")
}

// ----- the case page

type caseForm struct {
	CheckType   string
	CheckedOn   dateField
	CheckResult string
	CheckNotes  string
	Message     string
	Reason      string
	NR3S        dateField
	Term        string
	// The fee forms (officer_payments.go).
	PayMethod, PayAmount, PayReceipt string
	WaiveReason                      string
	RefundAmount, RefundReason       string
}

type checkView struct {
	Type    string
	Label   string
	Latest  *domain.StatutoryCheck
	By      string
	History int
}

type evidenceView struct {
	ID         int64
	Kind       string
	Version    string
	SHA        string
	Channel    string
	OccurredAt string
	RecordedAt string
	By         string
	Voided     bool
	VoidReason string
	IsVoid     bool
	VoidsID    int64
	Reason     string
}

type eventView struct {
	At      string
	Who     string
	What    string
	Message string
}

type versionOption struct {
	ID      int64
	Label   string
	Current bool
}

type caseView struct {
	Renewal    domain.Renewal
	Status     string
	Driver     domain.Driver
	Council    string
	Answers    []summarySection
	Online     bool
	Aware      string
	AwareTag   string
	Current    domain.LeafletVersion
	AckAt      string
	Evidence   []evidenceView
	Checks     []checkView
	CheckTypes []checkView
	Events     []eventView
	Renewals   []domain.Renewal
	CanWork    bool
	Decidable  bool
	Blockers   []string
	Documents  []caseDocumentView
	// ReviewReason keeps the reason an officer typed for a document's rejection, by document.
	ReviewReason map[int64]string
	Versions     []versionOption
	Form         caseForm
	Errors       *fieldErrors
	Today        domain.Date
	Notice       string
	Fee          feeView
}

var eventText = map[string]string{
	"submitted": "Renewal sent online", "review_started": "Review started", "check_recorded": "Check recorded",
	"more_info": "More information requested", "driver_reply": "Driver replied", "approved": "Approved", "refused": "Refused",
	"evidence_recorded": "Awareness evidence recorded", "evidence_voided": "Awareness evidence voided",
	"paper_started": "Paper renewal recorded", "nr3s_recorded": "Refusal recorded on NR3S", "withdrawn": "Withdrawn",
	"document_reviewed": "Document reviewed", "document_uploaded": "Document uploaded",
	"paid": "Fee paid online", "fee_recorded": "Fee recorded", "refund_recorded": "Refund recorded",
}

var kindText = map[domain.EvidenceKind]string{domain.KindIssue: "Issued", domain.KindAcknowledgement: "Acknowledged", domain.KindVoid: "Void"}

var channelText = map[domain.Channel]string{domain.ChannelOnline: "Online", domain.ChannelInPerson: "In person", domain.ChannelPost: "Post", domain.ChannelEmail: "Email"}

// evidenceViews turns evidence records into table rows, newest first.
func (s *Server) evidenceViews(cd domain.CaseData) []evidenceView {
	versions := map[int64]string{}
	for _, v := range cd.Versions {
		versions[v.ID] = v.Version
	}
	voidedBy := map[int64]string{}
	for _, e := range cd.Evidence {
		if e.Kind == domain.KindVoid {
			voidedBy[e.VoidsID] = e.Reason
		}
	}
	out := make([]evidenceView, 0, len(cd.Evidence))
	for i := len(cd.Evidence) - 1; i >= 0; i-- {
		e := cd.Evidence[i]
		by := "The driver"
		if e.ActorKind == domain.ActorStaff {
			by = cd.StaffName[e.ActorID]
		}
		reason, voided := voidedBy[e.ID]
		out = append(out, evidenceView{ID: e.ID, Kind: kindText[e.Kind], Version: versions[e.LeafletID], SHA: e.ContentSHA256,
			Channel: channelText[e.Channel], OccurredAt: s.shortTime(e.OccurredAt), RecordedAt: s.shortTime(e.RecordedAt), By: by,
			Voided: voided, VoidReason: reason, IsVoid: e.Kind == domain.KindVoid, VoidsID: e.VoidsID, Reason: e.Reason})
	}
	return out
}

func (s *Server) caseData(c echo.Context, id int64) (caseView, error) {
	a := actor(c)
	cd, err := s.svc.Case(c.Request().Context(), a, id)
	if err != nil {
		return caseView{}, err
	}
	r := cd.Renewal
	v := caseView{Renewal: r, Status: statusLabel(r.Status), Driver: cd.Driver, Council: cd.Council.Name, Online: r.Channel != "paper",
		Current: cd.Awareness.Current, Renewals: cd.Renewals, Decidable: r.Decidable(), Today: s.svc.Today(),
		CanWork: a.CanWork(r.CouncilID, "renewal") == nil, Evidence: s.evidenceViews(cd)}
	v.Aware, v.AwareTag = awarenessLabel(cd.Awareness.Status)
	if cd.Awareness.Status == domain.AwarenessAcknowledged {
		v.AckAt = s.shortTime(cd.Awareness.Acknowledgement.OccurredAt)
	}
	if v.Online {
		// The fee row shows the fee in force when the renewal was sent (today for a draft).
		on := s.svc.Today()
		if !r.SubmittedAt.IsZero() {
			on = domain.DateOf(r.SubmittedAt.In(s.svc.Location()))
		}
		fees, err := s.svc.Fees(c.Request().Context(), r.CouncilID, on)
		if err != nil {
			return caseView{}, err
		}
		v.Answers = checkAnswersData(r.Answers, cd.Awareness, fees, s.svc.Location()).Sections
	}
	latest := domain.LatestChecks(cd.Checks)
	for _, t := range domain.CheckTypes {
		cv := checkView{Type: string(t), Label: t.Label()}
		if l, ok := latest[t]; ok {
			l := l
			cv.Latest, cv.By = &l, cd.StaffName[l.RecordedBy]
		}
		for _, ch := range cd.Checks {
			if ch.Type == t {
				cv.History++
			}
		}
		v.Checks = append(v.Checks, cv)
	}
	fees, err := s.svc.CaseFees(c.Request().Context(), a, id)
	if err != nil {
		return v, err
	}
	v.Fee = s.feeView(fees, r.Status)
	if err := domain.CheckApprovable(r, domain.Approvability{Awareness: cd.Awareness, Checks: cd.Checks, Documents: cd.Documents, Paid: fees.Settled()}); err != nil {
		var de *domain.Error
		if errors.As(err, &de) {
			if len(de.Fields) == 0 {
				v.Blockers = append(v.Blockers, de.Message)
			}
			for _, f := range domain.ApprovalFieldOrder() {
				if m, ok := de.Fields[f]; ok {
					v.Blockers = append(v.Blockers, m)
				}
			}
		}
	}
	v.Documents = s.caseDocuments(cd)
	for _, e := range cd.Events {
		who := "The driver"
		switch e.ActorKind {
		case domain.ActorStaff:
			who = cd.StaffName[e.ActorID]
		case "system":
			who = "The service"
		}
		v.Events = append(v.Events, eventView{At: s.shortTime(e.At), Who: who, What: eventText[e.Kind], Message: e.Message})
	}
	for i := len(cd.Versions) - 1; i >= 0; i-- {
		ver := cd.Versions[i]
		v.Versions = append(v.Versions, versionOption{ID: ver.ID, Label: ver.Version + ": " + ver.Title, Current: i == len(cd.Versions)-1})
	}
	v.Form.Term = strconv.Itoa(r.Answers.Licence.TermYears)
	return v, nil
}

func (s *Server) casePage(c echo.Context) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	v, err := s.caseData(c, id)
	if err != nil {
		return err
	}
	v.Notice = noticeText[c.QueryParam("done")]
	return s.render(c, http.StatusOK, "case", v)
}

var noticeText = map[string]string{
	"review": "Review started.", "check": "Check recorded.", "info": "Your request has been sent to the driver.",
	"approved": "Renewal approved. The driver has been emailed.", "refused": "Renewal refused. The driver has been emailed.",
	"nr3s": "NR3S date recorded.", "evidence": "Evidence recorded.", "void": "Evidence record voided.",
	"document-accepted": "Document accepted.", "document-rejected": "Document rejected. The driver will see why when they sign in.",
	"payment": "Payment recorded.", "waived": "Fee waived.", "refunded": "Refund recorded.",
}

// caseAction runs an officer's action on a case: a refusal re-renders the case page with the
// error summary and the officer's answers (422 or 409); success redirects with a notice.
func (s *Server) caseAction(c echo.Context, form caseForm, done string, act func(id int64) error) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	if err := act(id); err != nil {
		fe, ok := fromDomain(err, "")
		if !ok {
			return err
		}
		v, verr := s.caseData(c, id)
		if verr != nil {
			return verr
		}
		v.Form, v.Errors = form, fe
		fe.InPageOrder(domain.ApprovalFieldOrder()...) // a refused approval reads in the order of the page
		status := refusalStatus(err)
		return s.render(c, status, "case", v)
	}
	return redirect(c, fmt.Sprintf("/staff/renewals/%d?done=%s", id, done))
}

func (s *Server) startReview(c echo.Context) error {
	return s.caseAction(c, caseForm{}, "review", func(id int64) error {
		return s.svc.StartReview(c.Request().Context(), actor(c), id)
	})
}

func (s *Server) recordCheck(c echo.Context) error {
	form := caseForm{CheckType: c.FormValue("check_type"), CheckResult: c.FormValue("result"), CheckNotes: trimmed(c, "notes"),
		CheckedOn: dateField{Day: c.FormValue("checked_on-day"), Month: c.FormValue("checked_on-month"), Year: c.FormValue("checked_on-year")}}
	return s.caseAction(c, form, "check", func(id int64) error {
		fe := &fieldErrors{}
		if !domain.CheckType(form.CheckType).Valid() {
			fe.Add("check_type", "Choose which check you made")
		}
		on := form.CheckedOn.parse(fe, "checked_on", "The date of the check")
		if form.CheckResult != domain.CheckSatisfactory && form.CheckResult != domain.CheckUnsatisfactory {
			fe.Add("result", "Choose the result of the check")
		}
		if len([]rune(form.CheckNotes)) > 2000 {
			fe.Add("notes", "Notes must be 2,000 characters or fewer")
		}
		if fe.Any() {
			return fieldsError(fe)
		}
		return s.svc.RecordCheck(c.Request().Context(), actor(c), id, service.CheckInput{Type: domain.CheckType(form.CheckType), CheckedOn: on, Result: form.CheckResult, Notes: form.CheckNotes})
	})
}

func (s *Server) requestInfo(c echo.Context) error {
	form := caseForm{Message: trimmed(c, "message")}
	return s.caseAction(c, form, "info", func(id int64) error {
		return s.svc.RequestInformation(c.Request().Context(), actor(c), id, form.Message)
	})
}

func (s *Server) approve(c echo.Context) error {
	form := caseForm{Term: c.FormValue("term")}
	return s.caseAction(c, form, "approved", func(id int64) error {
		term, _ := strconv.Atoi(form.Term)
		_, err := s.svc.Approve(c.Request().Context(), actor(c), id, term)
		return err
	})
}

func (s *Server) refuse(c echo.Context) error {
	form := caseForm{Reason: trimmed(c, "reason"), NR3S: dateField{Day: c.FormValue("nr3s-day"), Month: c.FormValue("nr3s-month"), Year: c.FormValue("nr3s-year")}}
	return s.caseAction(c, form, "refused", func(id int64) error {
		var nr3s domain.Date
		if form.NR3S != (dateField{}) {
			fe := &fieldErrors{}
			nr3s = form.NR3S.parse(fe, "nr3s", "The NR3S date")
			if fe.Any() {
				return fieldsError(fe)
			}
		}
		return s.svc.Refuse(c.Request().Context(), actor(c), id, form.Reason, nr3s)
	})
}

func (s *Server) recordNR3S(c echo.Context) error {
	form := caseForm{NR3S: dateField{Day: c.FormValue("nr3s-day"), Month: c.FormValue("nr3s-month"), Year: c.FormValue("nr3s-year")}}
	return s.caseAction(c, form, "nr3s", func(id int64) error {
		fe := &fieldErrors{}
		on := form.NR3S.parse(fe, "nr3s", "The NR3S date")
		if fe.Any() {
			return fieldsError(fe)
		}
		return s.svc.RecordNR3S(c.Request().Context(), actor(c), id, on)
	})
}

// fieldsError carries form problems found in the handler through the same path as the
// service's own validation errors.
func fieldsError(fe *fieldErrors) error {
	de := &domain.Error{Code: domain.CodeInvalid, Reason: "form", Message: "Check the form", Fields: map[string]string{}}
	for _, f := range fe.List {
		de.Fields[f.Field] = f.Message
	}
	return de
}

// ----- driver record: awareness evidence in person, by post or email; paper renewals

type driverRecordView struct {
	Driver   domain.Driver
	Council  string
	Aware    string
	AwareTag string
	Current  domain.LeafletVersion
	Evidence []evidenceView
	Renewals []renewalLink
	Versions []versionOption
	CanWork  bool
	Form     evidenceForm
	Errors   *fieldErrors
	Notice   string
	HasOpen  bool
}

type renewalLink struct {
	ID        int64
	Reference string
	Status    string
	Channel   string
	Submitted string
}

type evidenceForm struct {
	Kind      string
	Channel   string
	LeafletID string
	On        dateField
	Reason    string
	VoidID    string
	Term      string
}

func (s *Server) driverRecordData(c echo.Context, id int64) (driverRecordView, error) {
	a := actor(c)
	cd, err := s.svc.DriverRecord(c.Request().Context(), a, id)
	if err != nil {
		return driverRecordView{}, err
	}
	v := driverRecordView{Driver: cd.Driver, Council: cd.Council.Name, Current: cd.Awareness.Current, Evidence: s.evidenceViews(cd),
		CanWork: a.CanWork(cd.Driver.CouncilID, "driver") == nil}
	v.Aware, v.AwareTag = awarenessLabel(cd.Awareness.Status)
	for _, r := range cd.Renewals {
		if r.Status == domain.StatusDraft {
			continue
		}
		v.HasOpen = v.HasOpen || r.Status.Open()
		v.Renewals = append(v.Renewals, renewalLink{ID: r.ID, Reference: r.Reference, Status: statusLabel(r.Status), Channel: r.Channel, Submitted: s.shortTime(r.SubmittedAt)})
	}
	for i := len(cd.Versions) - 1; i >= 0; i-- {
		ver := cd.Versions[i]
		v.Versions = append(v.Versions, versionOption{ID: ver.ID, Label: ver.Version + ": " + ver.Title, Current: i == len(cd.Versions)-1})
	}
	if len(cd.Versions) > 0 {
		v.Form.LeafletID = strconv.FormatInt(cd.Versions[len(cd.Versions)-1].ID, 10)
	}
	return v, nil
}

func (s *Server) driverRecordPage(c echo.Context) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	v, err := s.driverRecordData(c, id)
	if err != nil {
		return err
	}
	v.Notice = noticeText[c.QueryParam("done")]
	return s.render(c, http.StatusOK, "driver-record", v)
}

// driverAction mirrors caseAction for the driver record page.
func (s *Server) driverAction(c echo.Context, driverID int64, form evidenceForm, done string, act func() error) error {
	if err := act(); err != nil {
		fe, ok := fromDomain(err, "")
		if !ok {
			return err
		}
		v, verr := s.driverRecordData(c, driverID)
		if verr != nil {
			return verr
		}
		v.Form, v.Errors = form, fe
		status := refusalStatus(err)
		return s.render(c, status, "driver-record", v)
	}
	return redirect(c, fmt.Sprintf("/staff/drivers/%d?done=%s", driverID, done))
}

func (s *Server) recordEvidence(c echo.Context) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	form := evidenceForm{Kind: c.FormValue("kind"), Channel: c.FormValue("channel"), LeafletID: c.FormValue("leaflet_id"),
		On: dateField{Day: c.FormValue("on-day"), Month: c.FormValue("on-month"), Year: c.FormValue("on-year")}}
	return s.driverAction(c, id, form, "evidence", func() error {
		fe := &fieldErrors{}
		on := form.On.parse(fe, "on", "The date")
		leafletID, _ := strconv.ParseInt(form.LeafletID, 10, 64)
		if fe.Any() {
			return fieldsError(fe)
		}
		_, err := s.svc.RecordEvidence(c.Request().Context(), actor(c), id, service.EvidenceInput{
			Kind: domain.EvidenceKind(form.Kind), Channel: domain.Channel(form.Channel), LeafletID: leafletID, On: on})
		return err
	})
}

func (s *Server) voidEvidence(c echo.Context) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	e, err := s.svc.EvidenceForActor(ctx, actor(c), id)
	if err != nil {
		return err
	}
	form := evidenceForm{Reason: trimmed(c, "reason-"+c.Param("id")), VoidID: c.Param("id")}
	return s.driverAction(c, e.DriverID, form, "void", func() error {
		_, err := s.svc.VoidEvidence(ctx, actor(c), id, form.Reason)
		if de, ok := err.(*domain.Error); ok && de.Fields != nil {
			if m, ok := de.Fields["reason"]; ok {
				de.Fields = map[string]string{fmt.Sprintf("reason-%d", id): m}
			}
		}
		return err
	})
}

func (s *Server) startPaperRenewal(c echo.Context) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	term, _ := strconv.Atoi(c.FormValue("term"))
	r, err := s.svc.StartPaperRenewal(c.Request().Context(), actor(c), id, term)
	if err != nil {
		return s.driverAction(c, id, evidenceForm{Term: c.FormValue("term")}, "", func() error { return err })
	}
	return redirect(c, fmt.Sprintf("/staff/renewals/%d", r.ID))
}

// ----- the driver's reply to a request for more information

func (s *Server) driverReply(c echo.Context) error {
	reply := trimmed(c, "reply")
	if err := s.svc.DriverReply(c.Request().Context(), driverID(c), reply); err != nil {
		fe, ok := fromDomain(err, "")
		if !ok {
			return err
		}
		v, verr := s.statusData(c)
		if verr != nil {
			return verr
		}
		if fe.Get("reply") == "" {
			fe = &fieldErrors{}
			fe.Add("reply", err.(*domain.Error).Message)
		}
		v.Reply, v.Errors = reply, fe
		status := refusalStatus(err)
		return s.render(c, status, "status", v)
	}
	return redirect(c, "/renew/status?replied=1")
}
