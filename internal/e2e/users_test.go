package e2e

import (
	"net/http"
	"strconv"

	"github.com/herts-msp/taxi-renewals/internal/testenv"
)

// The test drivers' date of birth (testenv.DriverDOB) as the sign-in form takes it.
var dobFields = map[string]string{"dob-day": "27", "dob-month": "3", "dob-year": "1980"}

// startDriverSignIn sends the licence details and leaves the tab on the code page.
func startDriverSignIn(tb *tab, council, licence string) {
	tb.t.Helper()
	tb.wantStatus(tb.open("/renew/sign-in"), http.StatusOK)
	tb.fill(map[string]string{"council": council, "licence_number": licence})
	tb.fill(dobFields)
	tb.wantStatus(tb.press("Continue"), http.StatusOK)
	tb.wantPath("/renew/code")
}

// enterDriverCode types the emailed code and leaves the tab on the task list.
func enterDriverCode(tb *tab, env *testenv.Env, licence string) {
	tb.t.Helper()
	tb.fill(map[string]string{"code": env.LatestCode(tb.t, licence+"@example.org")})
	tb.wantStatus(tb.press("Continue"), http.StatusOK)
	tb.wantPath("/renew")
}

// signInDriver signs a test driver in, through the pages, onto the task list.
func signInDriver(tb *tab, env *testenv.Env, council, licence string) {
	tb.t.Helper()
	startDriverSignIn(tb, council, licence)
	enterDriverCode(tb, env, licence)
}

// The answers of each section, as the driver gives them.
var (
	contactAnswers      = map[string]string{"email": "zoe.obrien@example.org", "phone": "07700 900 982", "address_line_1": "1 Stanborough Road", "town": "Welwyn Garden City", "postcode": "AL8 6XF"}
	licenceAnswers      = map[string]string{"dvla_number": "MORGA753116SM9IJ", "dvla_check_code": "Ab12Cd34", "term": "3"}
	checksAnswers       = map[string]string{"dbs_update_service": "yes", "dbs_number": "001234567890", "dbs_consent": "yes", "tax_check_code": "ABC DEF 123", "medical-day": "14", "medical-month": "8", "medical-year": "2025", "right_to_work": "uk_irish_passport"}
	declarationsAnswers = map[string]string{"has_offences": "no", "truthful": "yes"}
)

// quizAnswers returns the right answer to each question of the current leaflet, by field.
func quizAnswers(tb *tab, env *testenv.Env) map[string]string {
	tb.t.Helper()
	_, form := env.QuizAnswers(tb.t)
	out := map[string]string{}
	for i := 1; ; i++ {
		name := "q" + strconv.Itoa(i)
		if form.Get(name) == "" {
			return out
		}
		out[name] = form.Get(name)
	}
}

// startStaffSignIn gives the email and password and leaves the tab on the second step.
func startStaffSignIn(tb *tab, email, password string) {
	tb.t.Helper()
	tb.wantStatus(tb.open("/staff/sign-in"), http.StatusOK)
	tb.fill(map[string]string{"email": email, "password": password})
	tb.wantStatus(tb.press("Continue"), http.StatusOK)
}

// signInStaff signs a test account in, through the pages, onto the back-office home page.
func signInStaff(tb *tab, env *testenv.Env, login testenv.StaffLogin) {
	tb.t.Helper()
	startStaffSignIn(tb, login.Email, login.Password)
	tb.wantPath("/staff/two-factor")
	tb.fill(map[string]string{"code": env.StaffCode(tb.t, login)})
	tb.wantStatus(tb.press("Sign in"), http.StatusOK)
	tb.wantPath("/staff")
}
