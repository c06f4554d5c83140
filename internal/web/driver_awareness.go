package web

import (
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/herts-msp/taxi-renewals/internal/domain"
	"github.com/herts-msp/taxi-renewals/internal/leaflet"
	"github.com/herts-msp/taxi-renewals/internal/service"
)

// leafletPage shows the leaflet in full; serving it records the issue.
func (s *Server) leafletPage(c echo.Context) error {
	v, err := s.svc.ShowLeaflet(c.Request().Context(), driverID(c))
	if err != nil {
		if domain.ErrorReason(err) == "not_draft" {
			return redirect(c, "/renew/status")
		}
		return err
	}
	return s.render(c, http.StatusOK, "leaflet", leafletView{Version: v, HTML: s.svc.LeafletHTML(v), InJourney: true})
}

type quizQuestion struct {
	Index       int
	Name        string // form field and id
	Prompt      string
	Options     []string
	Chosen      int // -1 when not answered
	Wrong       bool
	Explanation string
}

type quizView struct {
	LeafletID int64
	Version   string
	Questions []quizQuestion
	Errors    *fieldErrors
}

func quizQuestions(quiz []leaflet.Question) []quizQuestion {
	qs := make([]quizQuestion, len(quiz))
	for i, q := range quiz {
		qs[i] = quizQuestion{Index: i, Name: "q" + strconv.Itoa(i+1), Prompt: q.Prompt, Options: q.Options, Chosen: domain.NoAnswer}
	}
	return qs
}

func (s *Server) quizPage(c echo.Context) error {
	h, err := s.home(c)
	if err != nil {
		return err
	}
	if h.Renewal.Status != domain.StatusDraft {
		return redirect(c, "/renew/status")
	}
	if h.Awareness.Issue.LeafletID != h.Awareness.Current.ID {
		// The questions are about the leaflet: show it first.
		return redirect(c, "/renew/awareness")
	}
	return s.render(c, http.StatusOK, "quiz", quizView{LeafletID: h.Awareness.Current.ID, Version: h.Awareness.Current.Version, Questions: quizQuestions(h.Awareness.Current.Quiz)})
}

func (s *Server) checkQuiz(c echo.Context) error {
	ctx := c.Request().Context()
	h, err := s.home(c)
	if err != nil {
		return err
	}
	leafletID, _ := strconv.ParseInt(c.FormValue("leaflet_id"), 10, 64)
	qs := quizQuestions(h.Awareness.Current.Quiz)
	answers := make([]int, len(qs))
	for i := range qs {
		answers[i] = domain.NoAnswer
		if v, err := strconv.Atoi(c.FormValue(qs[i].Name)); err == nil {
			answers[i] = v
		}
	}
	results, passed, err := s.svc.CheckQuiz(ctx, driverID(c), leafletID, answers)
	if err != nil {
		if domain.ErrorReason(err) == "leaflet_not_current" {
			return redirect(c, "/renew/awareness")
		}
		return err
	}
	if passed {
		return redirect(c, "/renew/awareness/confirm")
	}
	fe := &fieldErrors{}
	for i, r := range results {
		q := &qs[i]
		if r.Answered {
			q.Chosen = answers[i] // an answer that is not one of the options is not shown as chosen
		}
		switch {
		case !r.Answered:
			fe.Add(q.Name, "Answer question "+strconv.Itoa(i+1)+": "+q.Prompt)
		case !r.Correct:
			q.Wrong = true
			q.Explanation = h.Awareness.Current.Quiz[i].Explanation
			fe.Add(q.Name, "Question "+strconv.Itoa(i+1)+" is not right: "+q.Explanation)
		}
	}
	return s.render(c, http.StatusUnprocessableEntity, "quiz", quizView{LeafletID: leafletID, Version: h.Awareness.Current.Version, Questions: qs, Errors: fe})
}

type confirmView struct {
	LeafletID int64
	Version   string
	Title     string
	SHA256    string
	Errors    *fieldErrors
}

func (s *Server) confirmPage(c echo.Context) error {
	h, err := s.home(c)
	if err != nil {
		return err
	}
	if h.Renewal.Status != domain.StatusDraft {
		return redirect(c, "/renew/status")
	}
	if h.Renewal.Answers.QuizPassedLeafletID != h.Awareness.Current.ID {
		return redirect(c, "/renew/awareness/check")
	}
	cur := h.Awareness.Current
	return s.render(c, http.StatusOK, "confirm", confirmView{LeafletID: cur.ID, Version: cur.Version, Title: cur.Title, SHA256: cur.ContentSHA256})
}

func (s *Server) acknowledge(c echo.Context) error {
	ctx := c.Request().Context()
	leafletID, _ := strconv.ParseInt(c.FormValue("leaflet_id"), 10, 64)
	if c.FormValue("understood") != "yes" {
		h, err := s.home(c)
		if err != nil {
			return err
		}
		cur := h.Awareness.Current
		fe := &fieldErrors{}
		fe.Add("understood", "Confirm that you have read and understood the leaflet")
		return s.render(c, http.StatusUnprocessableEntity, "confirm", confirmView{LeafletID: cur.ID, Version: cur.Version, Title: cur.Title, SHA256: cur.ContentSHA256, Errors: fe})
	}
	_, sent, err := s.svc.Acknowledge(ctx, driverID(c), leafletID)
	if err != nil {
		return err
	}
	if sent { // the fee was paid before a new leaflet version came out: now it is sent
		return redirect(c, "/renew/confirmation")
	}
	return redirect(c, "/renew")
}

// ----- check answers, submit, confirmation, status

type summaryRow struct {
	Key, Value, Href, Change string
}

type checkAnswersView struct {
	Checkout  service.Checkout
	Sections  []summarySection
	Awareness domain.Awareness
	LeafletOK bool
	Missing   bool
	Errors    *fieldErrors
	// NotConfirmed explains why the leaflet is not confirmed yet, e.g. a new version since.
	NotConfirmed string
}

type summarySection struct {
	ID    string // the error summary links here
	Title string
	Rows  []summaryRow
}

// dbsRoute says which DBS route the driver chose, once they have.
func dbsRoute(ch domain.CheckAnswers) string {
	switch {
	case !ch.Saved:
		return ""
	case ch.OnUpdateService():
		return "Yes"
	}
	return "No: I will upload my DBS certificate"
}

func dbsNumber(ch domain.CheckAnswers) string {
	if ch.Saved && !ch.OnUpdateService() {
		return "Not needed: you will upload your certificate"
	}
	return ch.DBSNumber
}

// documentsSummary lists the required documents and whether each is uploaded.
func documentsSummary(a domain.Answers) summarySection {
	sec := summarySection{ID: "documents", Title: "Your photo and documents"}
	for _, k := range a.RequiredDocuments() {
		v := "Not uploaded yet"
		if a.Documents.ID(k) != 0 {
			v = "Uploaded"
		}
		sec.Rows = append(sec.Rows, summaryRow{Key: k.Label(), Value: v, Href: "/renew/documents", Change: k.Noun()})
	}
	return sec
}

// notConfirmedText says why the awareness step is not done: a new version published since the
// driver confirmed, started but not confirmed, or not started.
func notConfirmedText(aw domain.Awareness, loc *time.Location) string {
	switch aw.Status {
	case domain.AwarenessAcknowledged:
		return ""
	case domain.AwarenessOutdated:
		return "Not confirmed yet: a new version of the leaflet (version " + aw.Current.Version + ") was published on " +
			aw.Current.PublishedAt.In(loc).Format("2 January 2006") + ". You must read it and confirm it before you send your renewal."
	case domain.AwarenessIssued:
		return "Not confirmed yet: you have opened the leaflet but not answered the questions and confirmed it."
	}
	return "Not confirmed yet: read the leaflet, answer three questions about it and confirm it."
}

func checkAnswersData(a domain.Answers, aw domain.Awareness, fees []domain.Fee, loc *time.Location) checkAnswersView {
	fee := "Not set yet by your council"
	for _, f := range fees {
		if f.TermYears == a.Licence.TermYears {
			fee = f.Display()
		}
	}
	if a.Licence.TermYears == 0 {
		fee = ""
	}
	ch := a.Checks
	rtw := "UK or Irish passport"
	if ch.RightToWork == domain.RightToWorkShareCode {
		rtw = "Share code " + ch.ShareCode
	}
	offences := "No"
	if a.Declarations.HasOffences {
		offences = "Yes: " + a.Declarations.OffenceDetails
	}
	address := a.Contact.AddressLine1
	if a.Contact.AddressLine2 != "" {
		address += ", " + a.Contact.AddressLine2
	}
	address += ", " + a.Contact.Town + ", " + a.Contact.Postcode
	term := "1 year"
	if a.Licence.TermYears == 3 {
		term = "3 years"
	}
	medical := ""
	if !ch.MedicalDate.IsZero() {
		medical = ch.MedicalDate.Format("2 January 2006")
	}
	return checkAnswersView{
		Sections: []summarySection{
			{ID: "contact", Title: "Your contact details", Rows: []summaryRow{
				{Key: "Email address", Value: a.Contact.Email, Href: "/renew/contact?from=check", Change: "email address"},
				{Key: "Phone number", Value: a.Contact.Phone, Href: "/renew/contact?from=check", Change: "phone number"},
				{Key: "Address", Value: address, Href: "/renew/contact?from=check", Change: "address"},
			}},
			{ID: "licence", Title: "Your licence", Rows: []summaryRow{
				{Key: "DVLA driving licence number", Value: a.Licence.DVLANumber, Href: "/renew/licence?from=check", Change: "DVLA driving licence number"},
				{Key: "DVLA check code", Value: a.Licence.DVLACheckCode, Href: "/renew/licence?from=check", Change: "DVLA check code"},
				{Key: "Licence term", Value: term, Href: "/renew/licence?from=check", Change: "licence term"},
				{Key: "Fee", Value: fee, Href: "/renew/licence?from=check", Change: "licence term and so the fee"},
			}},
			{ID: "checks", Title: "Your checks", Rows: []summaryRow{
				{Key: "On the DBS Update Service", Value: dbsRoute(ch), Href: "/renew/checks?from=check", Change: "DBS Update Service answer"},
				{Key: "DBS certificate number", Value: dbsNumber(ch), Href: "/renew/checks?from=check", Change: "DBS certificate number"},
				{Key: "HMRC tax check code", Value: ch.TaxCheckCode, Href: "/renew/checks?from=check", Change: "tax check code"},
				{Key: "Last Group 2 medical", Value: medical, Href: "/renew/checks?from=check", Change: "medical date"},
				{Key: "Right to work", Value: rtw, Href: "/renew/checks?from=check", Change: "right to work"},
			}},
			documentsSummary(a),
			{ID: "declarations", Title: "Your declarations", Rows: []summaryRow{
				{Key: "Offences since your last licence", Value: offences, Href: "/renew/declarations?from=check", Change: "offences"},
			}},
		},
		Awareness:    aw,
		LeafletOK:    aw.Status == domain.AwarenessAcknowledged,
		Missing:      len(a.MissingSections()) > 0,
		NotConfirmed: notConfirmedText(aw, loc),
	}
}

// checkAnswersView is check your answers for the signed-in driver's draft, with the fee and
// where its payment stands.
func (s *Server) checkAnswersView(c echo.Context) (checkAnswersView, error) {
	h, err := s.home(c)
	if err != nil {
		return checkAnswersView{}, err
	}
	return s.checkAnswersFrom(c, h)
}

// checkAnswersFrom is checkAnswersView from the driver's home already read.
func (s *Server) checkAnswersFrom(c echo.Context, h service.DriverHome) (checkAnswersView, error) {
	fees, err := s.driverFees(c, h.Council.ID)
	if err != nil {
		return checkAnswersView{}, err
	}
	v := checkAnswersData(h.Renewal.Answers, h.Awareness, fees, s.svc.Location())
	if h.Renewal.Status == domain.StatusDraft {
		if v.Checkout, err = s.svc.CheckoutOf(c.Request().Context(), h.Renewal); err != nil {
			return v, err
		}
	}
	return v, nil
}

func (s *Server) checkAnswersPage(c echo.Context) error {
	h, err := s.home(c)
	if err != nil {
		return err
	}
	if h.Renewal.Status != domain.StatusDraft {
		return redirect(c, "/renew/status")
	}
	v, err := s.checkAnswersFrom(c, h)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "check-answers", v)
}

func (s *Server) submit(c echo.Context) error {
	ctx := c.Request().Context()
	if _, err := s.svc.Submit(ctx, driverID(c)); err != nil {
		// A refusal re-renders check answers with the reason at the top; nothing was written.
		fe, ok := fromDomain(err, "")
		if !ok {
			return err
		}
		v, verr := s.checkAnswersView(c)
		if verr != nil {
			return verr
		}
		v.Errors = fe
		return s.render(c, refusalStatus(err), "check-answers", v)
	}
	return redirect(c, "/renew/confirmation")
}

type statusView struct {
	Renewal   domain.Renewal
	Council   string
	Name      string
	Status    string
	Awareness domain.Awareness
	Messages  []driverMessage
	Reply     string
	Replied   bool
	Errors    *fieldErrors
	// Contact is the driver's council, for its contact details and decision time.
	Contact domain.Council
	// CanWithdraw: the renewal is sent and not yet decided.
	CanWithdraw bool
	// RefundToDecide: the fee was paid and the renewal withdrawn (or the fee taken twice), so
	// the licensing team will decide a refund (domain.FeeStanding.RefundToDecide).
	RefundToDecide bool
	// WithdrawReason is the form's answer on the withdraw page.
	WithdrawReason string
	// Withdrew: the driver has just withdrawn (the page after the POST).
	Withdrew bool
}

// driverMessage is a request from the licensing team or the driver's reply.
type driverMessage struct {
	At     string
	FromUs bool
	Text   string
}

var statusText = map[domain.RenewalStatus]string{
	domain.StatusDraft:     "Not sent yet",
	domain.StatusSubmitted: "Received: waiting for the licensing team",
	domain.StatusInReview:  "Being checked by the licensing team",
	domain.StatusMoreInfo:  "The licensing team needs more information",
	domain.StatusApproved:  "Approved",
	domain.StatusRefused:   "Refused",
	domain.StatusWithdrawn: "Withdrawn",
}

func (s *Server) statusData(c echo.Context) (statusView, error) {
	h, err := s.home(c)
	if err != nil {
		return statusView{}, err
	}
	v := statusView{Renewal: h.Renewal, Council: h.Council.Name, Name: h.Driver.FullName(), Status: statusText[h.Renewal.Status],
		Awareness: h.Awareness, Replied: c.QueryParam("replied") == "1", Contact: h.Council, Withdrew: c.QueryParam("withdrawn") == "1",
		CanWithdraw: h.Renewal.Status.Withdrawable()}
	if h.Renewal.ID != 0 && h.Renewal.Status != domain.StatusDraft {
		fees, err := s.svc.DriverFees(c.Request().Context(), driverID(c), h.Renewal.ID)
		if err != nil {
			return v, err
		}
		v.RefundToDecide = fees.RefundToDecide(h.Renewal.Status)
	}
	if h.Renewal.Status != domain.StatusDraft {
		events, err := s.svc.DriverMessages(c.Request().Context(), h.Renewal.ID)
		if err != nil {
			return v, err
		}
		for _, e := range events {
			v.Messages = append(v.Messages, driverMessage{At: s.shortTime(e.At), FromUs: e.Kind == "more_info", Text: e.Message})
		}
	}
	return v, nil
}

func (s *Server) confirmationPage(c echo.Context) error {
	v, err := s.statusData(c)
	if err != nil {
		return err
	}
	if v.Renewal.Status == domain.StatusDraft {
		return redirect(c, "/renew")
	}
	return s.render(c, http.StatusOK, "confirmation", v)
}

func (s *Server) statusPage(c echo.Context) error {
	v, err := s.statusData(c)
	if err != nil {
		return err
	}
	if v.Renewal.Status == domain.StatusDraft {
		return redirect(c, "/renew")
	}
	return s.render(c, http.StatusOK, "status", v)
}
