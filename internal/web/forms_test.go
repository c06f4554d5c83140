package web_test

import (
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/herts-msp/taxi-renewals/internal/testenv"
)

// TestFieldValidation posts each section with one bad field at a time: the page comes back
// with 422, an "Error:" title, a summary linking to the field, the field's own message, and
// every answer the driver typed still in the form. Good variants of each format are accepted.
func TestFieldValidation(t *testing.T) {
	t.Parallel()
	type tc struct {
		name    string
		set     []string // field, value pairs changed from the valid form
		link    string   // the error summary must link here
		message string
	}
	sections := []struct {
		path  string
		valid url.Values
		bad   []tc
		good  [][]string
	}{
		{"/renew/contact", testenv.ContactForm, []tc{
			{"email missing", []string{"email", ""}, "email", "Enter your email address"},
			{"email no @", []string{"email", "zoe.example.org"}, "email", "correct format"},
			{"email two @", []string{"email", "a@b@example.org"}, "email", "correct format"},
			{"phone letters", []string{"phone", "0770O 900 982"}, "phone", "UK phone number"},
			{"phone short", []string{"phone", "07700 900"}, "phone", "UK phone number"},
			{"address missing", []string{"address_line_1", "  "}, "address_line_1", "first line of your address"},
			{"address too long", []string{"address_line_1", strings.Repeat("a", 101)}, "address_line_1", "100 characters or fewer"},
			{"town missing", []string{"town", ""}, "town", "Enter your town or city"},
			{"postcode bad", []string{"postcode", "AL8 XXX"}, "postcode", "Enter a real postcode"},
			{"postcode missing", []string{"postcode", ""}, "postcode", "Enter your postcode"},
		}, [][]string{
			{"phone", "+44 7700 900982"}, {"phone", "01707 354588"}, {"postcode", "GIR 0AA"}, {"postcode", "sw1a1aa"},
			{"email", "Zoë.O'Brien@Example.ORG"}, {"address_line_1", "Flat 3, Ōtaki House"},
		}},
		{"/renew/licence", testenv.LicenceForm, []tc{
			{"licence missing", []string{"dvla_number", ""}, "dvla_number", "Enter your DVLA driving licence number"},
			{"licence short", []string{"dvla_number", "MORGA753116SM9I"}, "dvla_number", "as shown on your photocard"},
			{"licence month 13", []string{"dvla_number", "MORGA713116SM9IJ"}, "dvla_number", "as shown on your photocard"},
			{"licence day 32", []string{"dvla_number", "MORGA701326SM9IJ"}, "dvla_number", "as shown on your photocard"},
			{"licence digit in surname", []string{"dvla_number", "MO9GA753116SM9IJ"}, "dvla_number", "as shown on your photocard"},
			{"check code short", []string{"dvla_check_code", "Ab12Cd3"}, "dvla_check_code", "8 letters and numbers"},
			{"check code symbol", []string{"dvla_check_code", "Ab12Cd3!"}, "dvla_check_code", "8 letters and numbers"},
			{"check code missing", []string{"dvla_check_code", ""}, "dvla_check_code", "Enter your DVLA check code"},
			{"term missing", []string{"term", ""}, "term", "Select how long"},
			{"term 2", []string{"term", "2"}, "term", "Select how long"},
		}, [][]string{
			{"dvla_number", "morga 753116 sm9ij"}, {"dvla_number", "LI999 862306 J99AB"}, {"dvla_number", "SMITH 858156 AB9CD"},
			{"dvla_check_code", "ab 12 cd 34"}, {"term", "1"},
		}},
		{"/renew/checks", testenv.ChecksForm, []tc{
			{"dbs 11 digits", []string{"dbs_number", "00123456789"}, "dbs_number", "12-digit number"},
			{"dbs letters", []string{"dbs_number", "00123456789X"}, "dbs_number", "12-digit number"},
			{"dbs missing", []string{"dbs_number", ""}, "dbs_number", "Enter your DBS certificate number"},
			{"dbs consent missing", []string{"dbs_consent", ""}, "dbs_consent", "DBS Update Service"},
			{"tax code 8", []string{"tax_check_code", "ABC DEF 12"}, "tax_check_code", "9 letters and numbers"},
			{"tax code symbol", []string{"tax_check_code", "ABC-DEF-12#"}, "tax_check_code", "9 letters and numbers"},
			{"medical missing", []string{"medical-day", "", "medical-month", "", "medical-year", ""}, "medical-day", "last Group 2 medical"},
			{"medical no month", []string{"medical-month", ""}, "medical-month", "must include a month"},
			{"medical 31 February", []string{"medical-day", "31", "medical-month", "2"}, "medical-day", "must be a real date"},
			{"medical two-digit year", []string{"medical-year", "25"}, "medical-year", "4 numbers"},
			{"medical in future", []string{"medical-year", "2027"}, "medical-day", "today or in the past"},
			{"medical too old", []string{"medical-year", "2010"}, "medical-day", "last 10 years"},
			{"right to work missing", []string{"right_to_work", ""}, "right_to_work", "Select how you will prove"},
			{"share code missing", []string{"right_to_work", "share_code"}, "share_code", "Enter your share code"},
			{"share code bad", []string{"right_to_work", "share_code", "share_code", "X12 345 678"}, "share_code", "starting with W"},
		}, [][]string{
			{"dbs_number", "0012 3456 7890"}, {"tax_check_code", "abc def 123"}, {"medical-month", "Aug"},
			{"medical-day", "29", "medical-month", "2", "medical-year", "2024"},
			{"right_to_work", "share_code", "share_code", "W12 345 67X"},
		}},
		{"/renew/declarations", testenv.DeclarationsForm, []tc{
			{"offences missing", []string{"has_offences", ""}, "has_offences", "Select yes if"},
			{"details missing", []string{"has_offences", "yes"}, "offence_details", "Give details"},
			{"details too long", []string{"has_offences", "yes", "offence_details", strings.Repeat("é", 2001)}, "offence_details", "2,000 characters"},
			{"not truthful", []string{"truthful", ""}, "truthful", "true and complete"},
		}, [][]string{
			{"has_offences", "yes", "offence_details", "Speeding, 3 points, 2025 – Stevenage Magistrates’ Court"},
		}},
	}
	env := testenv.New(t, testenv.Options{})
	b := env.SignIn(t, "dacorum", testenv.DueDacorum)
	for _, s := range sections {
		for _, c := range s.bad {
			t.Run(s.path+"/"+c.name, func(t *testing.T) {
				b.Get(s.path)
				form := testenv.Copy(s.valid, c.set...)
				p := b.Post(s.path, form)
				wantStatus(t, p, http.StatusUnprocessableEntity)
				mustContain(t, p, "<title>Error:", `class="error-summary"`, `href="#`+c.link+`"`, c.message)
				// Every other answer is kept.
				for k, v := range form {
					if k == "_csrf" || v[0] == "" || k == "dbs_consent" || k == "truthful" || k == "term" || k == "right_to_work" || k == "has_offences" {
						continue
					}
					if !strings.Contains(p.Body, html.EscapeString(v[0])) {
						t.Errorf("answer %s=%q was not kept", k, v[0])
					}
				}
			})
		}
		for _, g := range s.good {
			t.Run(s.path+"/accepts "+strings.Join(g, "="), func(t *testing.T) {
				b.Get(s.path)
				p := b.Post(s.path, testenv.Copy(s.valid, g...))
				wantStatus(t, p, http.StatusSeeOther)
			})
		}
	}
	t.Run("sign-in form", func(t *testing.T) {
		b := env.NewBrowser(t)
		b.Get("/renew/sign-in")
		for _, c := range []tc{
			{"no council", []string{"council", ""}, "council", "Select the council"},
			{"unknown council", []string{"council", "hogwarts"}, "council", "Select the council"},
			{"no licence", []string{"licence_number", ""}, "licence_number", "Enter your licence number"},
			{"no birth year", []string{"dob-year", ""}, "dob-year", "must include a year"},
			{"birth 30 February", []string{"dob-day", "30", "dob-month", "2"}, "dob-day", "must be a real date"},
		} {
			p := b.Post("/renew/sign-in", testenv.Copy(testenv.SignInForm("dacorum", testenv.DueDacorum), c.set...))
			wantStatus(t, p, http.StatusUnprocessableEntity)
			mustContain(t, p, "<title>Error:", `href="#`+c.link+`"`, c.message)
		}
	})
}

// TestErrorSummaryInPageOrder: a checks page sent empty lists its problems in the order the
// fields appear, so the summary reads like the form (the medical date is checked after the
// others but sits before the right-to-work question).
func TestErrorSummaryInPageOrder(t *testing.T) {
	t.Parallel()
	env := testenv.New(t, testenv.Options{})
	b := env.SignIn(t, "dacorum", testenv.DueDacorum)
	b.Get("/renew/checks")
	p := b.Post("/renew/checks", url.Values{"dbs_update_service": {"yes"}})
	wantStatus(t, p, http.StatusUnprocessableEntity)
	last := -1
	for _, anchor := range []string{`href="#dbs_number"`, `href="#dbs_consent"`, `href="#tax_check_code"`, `href="#medical-day"`, `href="#right_to_work"`} {
		i := strings.Index(p.Body, anchor)
		if i < 0 {
			t.Fatalf("error summary lacks %s:\n%s", anchor, testenv.Excerpt(p.Body))
		}
		if i < last {
			t.Errorf("%s comes before the field above it in the error summary", anchor)
		}
		last = i
	}
	// Sent with no answer at all, the Update Service question comes first.
	p = b.Post("/renew/checks", url.Values{})
	mustContain(t, p, `href="#dbs_update_service"`, "Select yes if you are on the DBS Update Service")
	if strings.Index(p.Body, `href="#dbs_update_service"`) > strings.Index(p.Body, `href="#tax_check_code"`) {
		t.Error("the Update Service question should lead the error summary")
	}
}
