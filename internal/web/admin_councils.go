package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/herts-msp/taxi-renewals/internal/domain"
	"github.com/herts-msp/taxi-renewals/internal/service"
)

// adminCouncilRoutes: each council's contact details, decision time, medical rule, payment key
// and fees. Administrators only.
func (s *Server) adminCouncilRoutes() {
	get, post := http.MethodGet, http.MethodPost
	s.route(get, "/staff/admin/councils", accessAdmin, s.councilsPage)
	s.route(get, "/staff/admin/councils/:slug", accessAdmin, s.councilPage)
	s.route(post, "/staff/admin/councils/:slug", accessAdmin, s.saveCouncilSettings)
	s.route(post, "/staff/admin/councils/:slug/fees", accessAdmin, s.setCouncilFee)
	s.route(post, "/staff/admin/councils/:slug/payment-key", accessAdmin, s.setCouncilPaymentKey)
}

type councilRowView struct {
	Council    domain.Council
	Fees       []string // "1 year: £140.00"
	PaymentKey string   // "Set" or "Not set"
}

type councilsView struct {
	Councils []councilRowView
}

func (s *Server) councilsPage(c echo.Context) error {
	all, err := s.svc.AllFees(c.Request().Context(), s.svc.Today())
	if err != nil {
		return err
	}
	v := councilsView{}
	for _, cf := range all {
		r := councilRowView{Council: cf.Council, PaymentKey: "Not set"}
		if cf.Council.PaymentKeySet {
			r.PaymentKey = "Set"
		}
		for _, f := range cf.Fees {
			r.Fees = append(r.Fees, termName(f.TermYears)+": "+f.Display())
		}
		v.Councils = append(v.Councils, r)
	}
	return s.render(c, http.StatusOK, "admin-councils", v)
}

func termName(years int) string {
	if years == 1 {
		return "1 year"
	}
	return strconv.Itoa(years) + " years"
}

// councilSettingsForm is the contact details, decision time and medical rule. The service
// checks the formats (a UK phone number, an email address, an https page); these tags bound
// the sizes and the numbers.
type councilSettingsForm struct {
	Phone           string `form:"phone" validate:"max=30"`
	PublicEmail     string `form:"public-email" validate:"max=254"`
	WebURL          string `form:"web-url" validate:"max=300"`
	Address         string `form:"address" validate:"max=200"`
	OpeningHours    string `form:"opening-hours" validate:"max=200"`
	DecisionDays    string `form:"decision-days" validate:"required,number,max=3"`
	MedicalInterval string `form:"medical-interval" validate:"required,number,max=2"`
	// RefresherYears is empty for no refresher interval.
	RefresherYears string `form:"refresher-years" validate:"omitempty,number,max=2"`
}

var councilSettingsMessages = map[string]string{
	"phone":                     "Enter a UK phone number of 30 characters or fewer, or leave it empty",
	"public-email":              "Enter an email address of 254 characters or fewer, or leave it empty",
	"web-url":                   "Enter a web address of 300 characters or fewer, or leave it empty",
	"address":                   "Enter an address of 200 characters or fewer",
	"opening-hours":             "Enter opening hours of 200 characters or fewer",
	"decision-days.required":    "Enter how many working days the council aims to decide within",
	"decision-days":             "Enter a whole number of working days from 1 to 365",
	"medical-interval.required": "Enter how many years a Group 2 medical lasts",
	"medical-interval":          "Enter a whole number of years from 1 to 20",
	"refresher-years":           "Enter a whole number of years from 1 to 20, or leave it empty for none",
}

// councilSettingsFields maps the service's field names to the form's ids, in page order.
var councilSettingsFields = [][2]string{
	{"phone", "phone"}, {"public_email", "public-email"}, {"web_url", "web-url"}, {"address", "address"},
	{"opening_hours", "opening-hours"}, {"decision_days", "decision-days"}, {"medical_interval_years", "medical-interval"},
	{"refresher_years", "refresher-years"},
}

// feeForm sets a fee for a term from a date.
type feeForm struct {
	Term   string `form:"term" validate:"required,oneof=1 3"`
	Amount string `form:"amount" validate:"required,max=32"`
	From   dateField
}

var feeMessages = map[string]string{
	"term":            "Select the licence term",
	"amount.required": "Enter the fee in pounds, like 250 or 250.00",
	"amount":          "Enter the fee in pounds, like 250 or 250.00",
}

// paymentKeyForm is write-only: the key typed is never put back into the page.
type paymentKeyForm struct {
	Key    string `form:"payment-key" validate:"max=200"`
	Remove bool   `form:"remove"`
}

type feeRowView struct {
	Term, Amount, From, SetAt, SetBy string
	Current, Future                  bool
}

type councilView struct {
	Council    domain.Council
	Form       councilSettingsForm
	Errors     *fieldErrors
	FeeForm    feeForm
	FeeErrors  *fieldErrors
	KeyErrors  *fieldErrors
	Current    []feeRowView
	History    []feeRowView
	Notice     string
	TodayLabel string
}

var councilNotices = map[string]string{
	"settings":    "The council's details have been saved.",
	"fee":         "The fee has been set.",
	"key-set":     "The payment key has been saved.",
	"key-removed": "The payment key has been removed. Online payment is off for this council.",
}

func settingsFormOf(c domain.Council) councilSettingsForm {
	return councilSettingsForm{Phone: c.Phone, PublicEmail: c.PublicEmail, WebURL: c.WebURL, Address: c.Address,
		OpeningHours: c.OpeningHours, DecisionDays: strconv.Itoa(c.DecisionDays), MedicalInterval: strconv.Itoa(c.MedicalIntervalYears),
		RefresherYears: refresherText(c.RefresherYears)}
}

// refresherText is a refresher interval as the form shows it: empty for none.
func refresherText(years int) string {
	if years == 0 {
		return ""
	}
	return strconv.Itoa(years)
}

// councilPageView builds the edit page; the caller fills in the form being corrected, if any.
func (s *Server) councilPageView(c echo.Context) (councilView, error) {
	ctx := c.Request().Context()
	council, err := s.svc.Council(ctx, c.Param("slug"))
	if err != nil {
		return councilView{}, err
	}
	history, err := s.svc.FeeHistory(ctx, actor(c), council.ID)
	if err != nil {
		return councilView{}, err
	}
	today := s.svc.Today()
	loc := s.svc.Location()
	v := councilView{Council: council, Form: settingsFormOf(council), FeeForm: feeForm{Term: "3"},
		Notice: councilNotices[c.QueryParam("notice")], TodayLabel: today.Format("2 January 2006")}
	current := map[int64]bool{}
	for _, t := range domain.LicenceTerms {
		if f, ok := domain.CurrentFee(history, t, today); ok {
			current[f.ID] = true
			v.Current = append(v.Current, feeRowView{Term: termName(t), Amount: f.Display(), From: f.AppliesFrom.Format("2 January 2006")})
		} else {
			v.Current = append(v.Current, feeRowView{Term: termName(t), Amount: "Not set"})
		}
	}
	for _, f := range history {
		v.History = append(v.History, feeRowView{Term: termName(f.TermYears), Amount: f.Display(),
			From: f.AppliesFrom.Format("2 January 2006"), SetAt: f.SetAt.In(loc).Format("2 Jan 2006 15:04"), SetBy: f.SetBy,
			Current: current[f.ID], Future: f.AppliesFrom.After(today)})
	}
	return v, nil
}

func (s *Server) councilPage(c echo.Context) error {
	v, err := s.councilPageView(c)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "admin-council", v)
}

func (s *Server) councilDone(c echo.Context, notice string) error {
	return redirect(c, "/staff/admin/councils/"+url.PathEscape(c.Param("slug"))+"?notice="+notice)
}

func (s *Server) saveCouncilSettings(c echo.Context) error {
	form := councilSettingsForm{Phone: c.FormValue("phone"), PublicEmail: c.FormValue("public-email"),
		WebURL: c.FormValue("web-url"), Address: c.FormValue("address"), OpeningHours: c.FormValue("opening-hours"),
		DecisionDays: strings.TrimSpace(c.FormValue("decision-days")), MedicalInterval: strings.TrimSpace(c.FormValue("medical-interval")),
		RefresherYears: strings.TrimSpace(c.FormValue("refresher-years"))}
	v, err := s.councilPageView(c)
	if err != nil {
		return err
	}
	fe := s.check(form, councilSettingsMessages)
	days, _ := strconv.Atoi(form.DecisionDays)
	years, _ := strconv.Atoi(form.MedicalInterval)
	refresher, _ := strconv.Atoi(form.RefresherYears) // empty: 0, none
	set := domain.CouncilSettings{Phone: form.Phone, PublicEmail: form.PublicEmail, WebURL: form.WebURL, Address: form.Address,
		OpeningHours: form.OpeningHours, DecisionDays: days, MedicalIntervalYears: years, RefresherYears: refresher}
	if !fe.Any() {
		_, err := s.svc.UpdateCouncilSettings(c.Request().Context(), actor(c), v.Council.Slug, set)
		if err == nil {
			return s.councilDone(c, "settings")
		}
		if fe, err = serviceFields(err, councilSettingsFields); err != nil {
			return err
		}
	} else if _, err := service.CheckCouncilSettings(set); err != nil {
		// Every problem at once: the service's format checks too, for the fields the tags passed.
		if more, _ := serviceFields(err, councilSettingsFields); more != nil {
			for _, e := range more.List {
				fe.Add(e.Field, e.Message)
			}
		}
	}
	order := make([]string, len(councilSettingsFields))
	for i, f := range councilSettingsFields {
		order[i] = f[1]
	}
	fe.InPageOrder(order...)
	v.Form, v.Errors = form, fe
	return s.render(c, http.StatusUnprocessableEntity, "admin-council", v)
}

// serviceFields turns a service validation error into form errors under the form's ids; any
// other error is returned as it is.
func serviceFields(err error, fields [][2]string) (*fieldErrors, error) {
	de, ok := err.(*domain.Error)
	if !ok || de.Code != domain.CodeInvalid {
		return nil, err
	}
	fe := &fieldErrors{}
	for _, f := range fields {
		if m := de.Fields[f[0]]; m != "" {
			fe.Add(f[1], m)
		}
	}
	if !fe.Any() {
		fe.Add("main-content", de.Message)
	}
	return fe, nil
}

func (s *Server) setCouncilFee(c echo.Context) error {
	form := feeForm{Term: c.FormValue("term"), Amount: strings.TrimSpace(c.FormValue("amount")),
		From: dateField{Day: strings.TrimSpace(c.FormValue("from-day")), Month: strings.TrimSpace(c.FormValue("from-month")),
			Year: strings.TrimSpace(c.FormValue("from-year"))}}
	v, err := s.councilPageView(c)
	if err != nil {
		return err
	}
	fe := s.check(form, feeMessages)
	var pence int64
	if fe.Get("amount") == "" {
		if pence, err = domain.ParsePounds(form.Amount); err != nil {
			fe.Add("amount", err.(*domain.Error).Message)
		}
	}
	from := form.From.parse(fe, "from", "The date the fee applies from")
	if !fe.Any() {
		term, _ := strconv.Atoi(form.Term)
		_, err := s.svc.SetFee(c.Request().Context(), actor(c), v.Council.Slug, term, pence, from)
		if err == nil {
			return s.councilDone(c, "fee")
		}
		if fe, err = serviceFields(err, [][2]string{{"term", "term"}, {"amount", "amount"}, {"from", "from-day"}}); err != nil {
			return err
		}
		if m := fe.Get("from-day"); m != "" {
			fe.byField["from"] = m
		}
	}
	fe.InPageOrder("term", "amount", "from")
	v.FeeForm, v.FeeErrors = form, fe
	return s.render(c, http.StatusUnprocessableEntity, "admin-council", v)
}

func (s *Server) setCouncilPaymentKey(c echo.Context) error {
	form := paymentKeyForm{Key: c.FormValue("payment-key"), Remove: c.FormValue("remove") == "yes"}
	v, err := s.councilPageView(c)
	if err != nil {
		return err
	}
	fe := s.check(form, map[string]string{"payment-key": "The API key must be 200 characters or fewer"})
	if !fe.Any() && !form.Remove && strings.TrimSpace(form.Key) == "" {
		fe.Add("payment-key", "Enter the council's GOV.UK Pay API key, or choose to remove the key")
	}
	if !fe.Any() {
		key := form.Key
		if form.Remove {
			key = ""
		}
		err := s.svc.SetCouncilPaymentKey(c.Request().Context(), actor(c), v.Council.Slug, key)
		if err == nil {
			if form.Remove {
				return s.councilDone(c, "key-removed")
			}
			return s.councilDone(c, "key-set")
		}
		if fe, err = serviceFields(err, [][2]string{{"payment_key", "payment-key"}}); err != nil {
			return err
		}
	}
	v.KeyErrors = fe
	return s.render(c, http.StatusUnprocessableEntity, "admin-council", v)
}

// Problems are the errors of whichever form on the page was sent (one at a time).
func (v councilView) Problems() *fieldErrors {
	for _, fe := range []*fieldErrors{v.Errors, v.FeeErrors, v.KeyErrors} {
		if fe.Any() {
			return fe
		}
	}
	return nil
}
