package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/herts-msp/taxi-renewals/internal/domain"
	"github.com/herts-msp/taxi-renewals/internal/service"
)

// taskView is the driver's task list.
type taskView struct {
	Name       string
	Council    string
	Expiry     domain.Date
	Renewal    domain.Renewal
	Tasks      []taskRow
	CanSubmit  bool
	Submitted  bool
	NewLeaflet bool // a version needing re-acknowledgement replaced the one they acknowledged
	// Paid is set when the fee is paid but the renewal is not sent yet: held until the driver
	// finishes what is left (a new leaflet version to read and confirm).
	Paid bool
	// NewLeafletOn is when that version was published.
	NewLeafletOn time.Time
	// FeeText says what the renewal costs: the chosen term's fee, or each term's.
	FeeText string
}

// feeText says what a renewal costs today: the fee for the chosen term once there is one,
// otherwise the fee for each term (the range).
func feeText(fees []domain.Fee, term int) string {
	for _, f := range fees {
		if term != 0 && f.TermYears == term {
			return "The fee for your " + strconv.Itoa(term) + "-year licence is " + f.Display() + "."
		}
	}
	if term != 0 {
		return "Your council has not set a fee for a " + strconv.Itoa(term) + "-year licence yet. Contact the licensing team before you send your renewal."
	}
	if len(fees) == 0 {
		return ""
	}
	parts := make([]string, len(fees))
	for i, f := range fees {
		parts[i] = f.Display() + " for a " + strconv.Itoa(f.TermYears) + "-year licence"
	}
	return "The fee is " + strings.Join(parts, " or ") + ". You choose the term in the licence section."
}

// driverFees are the driver's council's fees today, for the task list and check your answers.
func (s *Server) driverFees(c echo.Context, councilID int64) ([]domain.Fee, error) {
	return s.svc.Fees(c.Request().Context(), councilID, s.svc.Today())
}

type taskRow struct {
	ID     string
	Name   string
	Href   string
	Status string
	Tag    string // tag colour
}

func (s *Server) home(c echo.Context) (service.DriverHome, error) {
	return s.svc.DriverHome(c.Request().Context(), driverID(c))
}

func (s *Server) taskList(c echo.Context) error {
	h, err := s.home(c)
	if err != nil {
		return err
	}
	if h.Renewal.Status != domain.StatusDraft {
		return redirect(c, "/renew/status")
	}
	a := h.Renewal.Answers
	row := func(id, name, href string, done bool) taskRow {
		if done {
			return taskRow{ID: id, Name: name, Href: href, Status: "Completed", Tag: ""}
		}
		return taskRow{ID: id, Name: name, Href: href, Status: "Not yet started", Tag: "blue"}
	}
	tasks := []taskRow{
		row("contact", "Your contact details", "/renew/contact", a.Contact.Saved),
		row("licence", "Your DVLA licence and licence term", "/renew/licence", a.Licence.Saved),
		row("checks", "Your checks", "/renew/checks", a.Checks.Saved),
		documentsTask(a),
		row("declarations", "Your declarations", "/renew/declarations", a.Declarations.Saved),
	}
	aware := taskRow{ID: "awareness", Name: "Modern slavery awareness", Href: "/renew/awareness"}
	switch h.Awareness.Status {
	case domain.AwarenessAcknowledged:
		aware.Status = "Completed"
	case domain.AwarenessIssued:
		aware.Status, aware.Tag = "In progress", "yellow"
	case domain.AwarenessOutdated:
		aware.Status, aware.Tag = "New leaflet to read", "red"
	default:
		aware.Status, aware.Tag = "Not yet started", "blue"
	}
	tasks = append(tasks, aware)
	co, err := s.svc.CheckoutOf(c.Request().Context(), h.Renewal)
	if err != nil {
		return err
	}
	fees, err := s.driverFees(c, h.Council.ID)
	if err != nil {
		return err
	}
	v := taskView{
		Paid: co.Standing.Settled(),
		Name: h.Driver.FullName(), Council: h.Council.Name, Expiry: h.Driver.LicenceExpiry, Renewal: h.Renewal, Tasks: tasks,
		CanSubmit:  len(a.MissingSections()) == 0 && h.Awareness.Status == domain.AwarenessAcknowledged,
		NewLeaflet: h.Awareness.Status == domain.AwarenessOutdated,
		FeeText:    feeText(fees, a.Licence.TermYears),
	}
	if v.NewLeaflet {
		v.NewLeafletOn = h.Awareness.Current.PublishedAt
	}
	return s.render(c, http.StatusOK, "tasks", v)
}

// documentsTask is the documents row: completed when every required document is uploaded, in
// progress when some are.
func documentsTask(a domain.Answers) taskRow {
	t := taskRow{ID: "documents", Name: "Upload your photo and documents", Href: "/renew/documents"}
	missing, required := len(a.MissingDocuments()), len(a.RequiredDocuments())
	switch {
	case missing == 0 && a.Checks.Saved:
		t.Status = "Completed"
	case missing < required:
		t.Status, t.Tag = "In progress", "yellow"
	default:
		t.Status, t.Tag = "Not yet started", "blue"
	}
	return t
}

// draftAnswers returns the answers of the driver's draft, or sends them to the status page
// once it has been sent.
func (s *Server) draftAnswers(c echo.Context) (domain.Answers, bool, error) {
	r, err := s.svc.DriverRenewal(c.Request().Context(), driverID(c))
	if err != nil {
		return domain.Answers{}, false, err
	}
	if r.Status != domain.StatusDraft {
		return domain.Answers{}, false, redirect(c, "/renew/status")
	}
	return r.Answers, true, nil
}

// ----- contact details

type contactForm struct {
	Email        string `form:"email" validate:"required,max=254,email_addr"`
	Phone        string `form:"phone" validate:"required,max=30,uk_phone"`
	AddressLine1 string `form:"address_line_1" validate:"required,max=100"`
	AddressLine2 string `form:"address_line_2" validate:"max=100"`
	Town         string `form:"town" validate:"required,max=60"`
	Postcode     string `form:"postcode" validate:"required,max=10,uk_postcode"`
}

var contactMessages = map[string]string{
	"email.required":          "Enter your email address",
	"email":                   "Enter an email address in the correct format, like name@example.com",
	"phone.required":          "Enter your phone number",
	"phone":                   "Enter a UK phone number, like 07700 900 982 or 01707 123 456",
	"address_line_1.required": "Enter the first line of your address",
	"address_line_1":          "The first line of your address must be 100 characters or fewer",
	"address_line_2":          "The second line of your address must be 100 characters or fewer",
	"town.required":           "Enter your town or city",
	"town":                    "Town or city must be 60 characters or fewer",
	"postcode.required":       "Enter your postcode",
	"postcode":                "Enter a real postcode, like AL8 6XF",
}

type contactView struct {
	Form   contactForm
	Errors *fieldErrors
}

func (s *Server) contactPage(c echo.Context) error {
	a, ok, err := s.draftAnswers(c)
	if !ok {
		return err
	}
	ca := a.Contact
	return s.render(c, http.StatusOK, "contact", contactView{Form: contactForm{Email: ca.Email, Phone: ca.Phone,
		AddressLine1: ca.AddressLine1, AddressLine2: ca.AddressLine2, Town: ca.Town, Postcode: ca.Postcode}})
}

func (s *Server) saveContact(c echo.Context) error {
	f := contactForm{Email: trimmed(c, "email"), Phone: trimmed(c, "phone"), AddressLine1: trimmed(c, "address_line_1"),
		AddressLine2: trimmed(c, "address_line_2"), Town: trimmed(c, "town"), Postcode: trimmed(c, "postcode")}
	if fe := s.check(f, contactMessages); fe.Any() {
		return s.render(c, http.StatusUnprocessableEntity, "contact", contactView{Form: f, Errors: fe})
	}
	email, _ := domain.NormaliseEmail(f.Email)
	phone, _ := domain.NormaliseUKPhone(f.Phone)
	postcode, _ := domain.NormaliseUKPostcode(f.Postcode)
	err := s.svc.SaveAnswers(c.Request().Context(), driverID(c), func(a *domain.Answers) {
		a.Contact = domain.ContactAnswers{Saved: true, Email: email, Phone: phone, AddressLine1: f.AddressLine1,
			AddressLine2: f.AddressLine2, Town: f.Town, Postcode: postcode}
	})
	return s.afterSave(c, err)
}

// afterSave sends the driver back to the task list, or to check answers when every task is done.
func (s *Server) afterSave(c echo.Context, err error) error {
	if err != nil {
		if domain.ErrorReason(err) == "not_draft" {
			return redirect(c, "/renew/status")
		}
		return err
	}
	if c.QueryParam("from") == "check" {
		return redirect(c, "/renew/check-answers")
	}
	return redirect(c, "/renew")
}

func trimmed(c echo.Context, name string) string { return strings.TrimSpace(c.FormValue(name)) }

// ----- licence

type licenceForm struct {
	DVLANumber    string `form:"dvla_number" validate:"required,max=30,dvla_licence"`
	DVLACheckCode string `form:"dvla_check_code" validate:"required,max=20,dvla_check"`
	Term          string `form:"term" validate:"required,oneof=1 3"`
}

var licenceMessages = map[string]string{
	"dvla_number.required":     "Enter your DVLA driving licence number",
	"dvla_number":              "Enter your DVLA driving licence number as shown on your photocard, like MORGA753116SM9IJ",
	"dvla_check_code.required": "Enter your DVLA check code",
	"dvla_check_code":          "Enter the 8 letters and numbers of your DVLA check code, like Ab12Cd34",
	"term":                     "Select how long you want your licence for",
}

type licenceView struct {
	Form   licenceForm
	Errors *fieldErrors
}

func (s *Server) licencePage(c echo.Context) error {
	a, ok, err := s.draftAnswers(c)
	if !ok {
		return err
	}
	f := licenceForm{DVLANumber: a.Licence.DVLANumber, DVLACheckCode: a.Licence.DVLACheckCode}
	if a.Licence.TermYears != 0 {
		f.Term = strconv.Itoa(a.Licence.TermYears)
	}
	return s.render(c, http.StatusOK, "licence", licenceView{Form: f})
}

func (s *Server) saveLicence(c echo.Context) error {
	f := licenceForm{DVLANumber: trimmed(c, "dvla_number"), DVLACheckCode: trimmed(c, "dvla_check_code"), Term: c.FormValue("term")}
	if fe := s.check(f, licenceMessages); fe.Any() {
		return s.render(c, http.StatusUnprocessableEntity, "licence", licenceView{Form: f, Errors: fe})
	}
	number, _ := domain.NormaliseDVLALicenceNumber(f.DVLANumber)
	code, _ := domain.NormaliseDVLACheckCode(f.DVLACheckCode)
	term := 1
	if f.Term == "3" {
		term = 3
	}
	err := s.svc.SaveAnswers(c.Request().Context(), driverID(c), func(a *domain.Answers) {
		a.Licence = domain.LicenceAnswers{Saved: true, DVLANumber: number, DVLACheckCode: code, TermYears: term}
	})
	return s.afterSave(c, err)
}

// ----- checks

type checksForm struct {
	DBSUpdateService string `form:"dbs_update_service" validate:"required,oneof=yes no"`
	DBSNumber        string `form:"dbs_number" validate:"required_if=DBSUpdateService yes,omitempty,max=20,dbs_cert"`
	DBSConsent       string `form:"dbs_consent" validate:"required_if=DBSUpdateService yes,omitempty,eq=yes"`
	TaxCheckCode     string `form:"tax_check_code" validate:"required,max=20,tax_check"`
	Medical          dateField
	RightToWork      string `form:"right_to_work" validate:"required,oneof=uk_irish_passport share_code"`
	ShareCode        string `form:"share_code" validate:"required_if=RightToWork share_code,omitempty,max=20,share_code"`
}

var checksMessages = map[string]string{
	"dbs_update_service":      "Select yes if you are on the DBS Update Service",
	"dbs_number.required_if":  "Enter your DBS certificate number",
	"dbs_number":              "Enter the 12-digit number of your DBS certificate, like 001234567890",
	"dbs_consent":             "Confirm that the council may check your certificate on the DBS Update Service",
	"tax_check_code.required": "Enter your HMRC tax check code",
	"tax_check_code":          "Enter the 9 letters and numbers of your tax check code, like ABC DEF 123",
	"right_to_work":           "Select how you will prove your right to work in the UK",
	"share_code.required_if":  "Enter your share code",
	"share_code":              "Enter your share code as it was given to you: 9 letters and numbers starting with W, like W12 345 67X",
}

type checksView struct {
	Form      checksForm
	Errors    *fieldErrors
	DBSMonths int
}

func (s *Server) checksPage(c echo.Context) error {
	a, ok, err := s.draftAnswers(c)
	if !ok {
		return err
	}
	ch := a.Checks
	f := checksForm{DBSNumber: ch.DBSNumber, TaxCheckCode: ch.TaxCheckCode, Medical: dateFieldOf(ch.MedicalDate),
		RightToWork: ch.RightToWork, ShareCode: ch.ShareCode}
	if ch.DBSConsent {
		f.DBSConsent = "yes"
	}
	if ch.Saved {
		f.DBSUpdateService = yesNo(ch.OnUpdateService())
	}
	return s.render(c, http.StatusOK, "checks", checksView{Form: f, DBSMonths: domain.DBSCertificateMaxAgeMonths})
}

func (s *Server) saveChecks(c echo.Context) error {
	f := checksForm{DBSUpdateService: c.FormValue("dbs_update_service"), DBSNumber: trimmed(c, "dbs_number"), DBSConsent: c.FormValue("dbs_consent"), TaxCheckCode: trimmed(c, "tax_check_code"),
		Medical:     dateField{Day: c.FormValue("medical-day"), Month: c.FormValue("medical-month"), Year: c.FormValue("medical-year")},
		RightToWork: c.FormValue("right_to_work"), ShareCode: trimmed(c, "share_code")}
	if f.RightToWork != domain.RightToWorkShareCode {
		f.ShareCode = ""
	}
	if f.DBSUpdateService == "no" { // not on the Update Service: no number or consent to give
		f.DBSNumber, f.DBSConsent = "", ""
	}
	fe := s.check(f, checksMessages)
	medical := f.Medical.parse(fe, "medical", "The date of your last Group 2 medical")
	if !medical.IsZero() {
		today := s.svc.Today()
		switch {
		case medical.After(today):
			fe.Add("medical", "The date of your last Group 2 medical must be today or in the past")
		case medical.Before(today.AddYears(-10)):
			fe.Add("medical", "The date of your last Group 2 medical must be in the last 10 years")
		}
		if fe.Get("medical") != "" {
			fe.focus("medical", "medical-day")
		}
	}
	if fe.Any() {
		fe.InPageOrder("dbs_update_service", "dbs_number", "dbs_consent", "tax_check_code", "medical", "right_to_work", "share_code")
		return s.render(c, http.StatusUnprocessableEntity, "checks", checksView{Form: f, Errors: fe, DBSMonths: domain.DBSCertificateMaxAgeMonths})
	}
	dbs := ""
	if f.DBSNumber != "" {
		dbs, _ = domain.NormaliseDBSCertificateNumber(f.DBSNumber)
	}
	tax, _ := domain.NormaliseTaxCheckCode(f.TaxCheckCode)
	share := ""
	if f.ShareCode != "" {
		share, _ = domain.NormaliseShareCode(f.ShareCode)
	}
	err := s.svc.SaveChecks(c.Request().Context(), driverID(c), domain.CheckAnswers{DBSUpdateService: f.DBSUpdateService,
		DBSNumber: dbs, DBSConsent: f.DBSUpdateService == "yes", TaxCheckCode: tax,
		MedicalDate: medical, RightToWork: f.RightToWork, ShareCode: share})
	return s.afterSave(c, err)
}

// ----- declarations

type declarationsForm struct {
	HasOffences    string `form:"has_offences" validate:"required,oneof=yes no"`
	OffenceDetails string `form:"offence_details" validate:"required_if=HasOffences yes,max=2000"`
	Truthful       string `form:"truthful" validate:"required,eq=yes"`
}

var declarationsMessages = map[string]string{
	"has_offences":                "Select yes if you have had any convictions, cautions, warnings or motoring offences since your last licence",
	"offence_details.required_if": "Give details of each conviction, caution, warning or motoring offence",
	"offence_details":             "Details must be 2,000 characters or fewer",
	"truthful":                    "Confirm that your answers are true and complete",
}

type declarationsView struct {
	Form   declarationsForm
	Errors *fieldErrors
}

func (s *Server) declarationsPage(c echo.Context) error {
	a, ok, err := s.draftAnswers(c)
	if !ok {
		return err
	}
	d := a.Declarations
	f := declarationsForm{OffenceDetails: d.OffenceDetails}
	if d.Saved {
		f.HasOffences = yesNo(d.HasOffences)
		if d.Truthful {
			f.Truthful = "yes"
		}
	}
	return s.render(c, http.StatusOK, "declarations", declarationsView{Form: f})
}

func (s *Server) saveDeclarations(c echo.Context) error {
	f := declarationsForm{HasOffences: c.FormValue("has_offences"), OffenceDetails: trimmed(c, "offence_details"), Truthful: c.FormValue("truthful")}
	if f.HasOffences == "no" {
		f.OffenceDetails = ""
	}
	if fe := s.check(f, declarationsMessages); fe.Any() {
		return s.render(c, http.StatusUnprocessableEntity, "declarations", declarationsView{Form: f, Errors: fe})
	}
	err := s.svc.SaveAnswers(c.Request().Context(), driverID(c), func(a *domain.Answers) {
		a.Declarations = domain.DeclarationAnswers{Saved: true, HasOffences: f.HasOffences == "yes", OffenceDetails: f.OffenceDetails, Truthful: true}
	})
	return s.afterSave(c, err)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// ----- the public, printable leaflet

type leafletView struct {
	Version   domain.LeafletVersion
	HTML      any
	InJourney bool
}

func (s *Server) publicLeaflet(c echo.Context) error {
	v, err := s.svc.CurrentLeaflet(c.Request().Context())
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "leaflet", leafletView{Version: v, HTML: s.svc.LeafletHTML(v)})
}
