package e2e

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/herts-msp/taxi-renewals/internal/domain"
	"github.com/herts-msp/taxi-renewals/internal/service"
	"github.com/herts-msp/taxi-renewals/internal/testdb"
	"github.com/herts-msp/taxi-renewals/internal/testenv"
)

// everyPageIsAccessible visits every page of every role, in each state a user meets
// (empty, filled, refused, with errors), on one server whose records build up as a real
// day's would: a driver renews, an officer works the case, an analyst reads the figures and
// an administrator adds an account. Dacorum takes the fee online (its driver pays, is
// declined, comes back while the provider is down, and is held by a new leaflet version);
// Watford does not (its driver sends unpaid, and its officer records the fee).
func everyPageIsAccessible(t *testing.T, b *browser) {
	env, base := payingEnv(t)
	s := newSweep(t, env)
	officer := env.AddStaff(t, domain.RoleOfficer, testenv.DacorumSlug)
	analyst := env.AddStaff(t, domain.RoleAnalyst, "")
	admin := env.AddStaff(t, domain.RoleAdmin, "")

	driver := b.newTab(t, base)
	sweepPublicPages(s, driver, env)
	sweepDriverJourney(s, driver, env)
	sweepDriverPays(s, driver, env, b)

	watfordDriver := b.newTab(t, base)
	sweepDriverSendsUnpaid(s, watfordDriver, env)

	staff := b.newTab(t, base)
	caseURL := sweepOfficerPages(s, staff, env, officer)

	sweepDriverReplies(s, driver)
	sweepOfficerRefuses(s, staff, caseURL)
	sweepDriverSeesRefusal(s, driver)

	analystTab := b.newTab(t, base)
	sweepAnalystPages(s, analystTab, env, analyst, caseURL)

	adminTab := b.newTab(t, base)
	email, password := sweepAdminPages(s, adminTab, env, admin)

	newcomer := b.newTab(t, base)
	sweepFirstSignIn(s, newcomer, env, email, password)
	sweepOfficerRecordsFee(s, newcomer)

	sweepErrorPages(s, analystTab)
	sweepDatabaseFault(s, b, env)
	checkDataRoutes(t, env, analyst)

	s.wantEveryRouteVisited()
	s.table()
}

func sweepPublicPages(s *sweep, tb *tab, env *testenv.Env) {
	s.open(tb, "start", "/", http.StatusOK)
	s.open(tb, "leaflet-public", "/leaflet", http.StatusOK)
	s.open(tb, "accessibility-statement", "/accessibility", http.StatusOK)
	s.open(tb, "privacy-notice", "/privacy", http.StatusOK)
	s.open(tb, "driver-sign-in", "/renew/sign-in", http.StatusOK)
	s.check(tb, "driver-sign-in-empty-error", tb.press("Continue"))

	for _, c := range []struct{ name, licence string }{{"driver-not-due-yet", testenv.NotDue}, {"driver-licence-expired", testenv.Expired}} {
		tb.open("/renew/sign-in")
		tb.fill(map[string]string{"council": testenv.DacorumSlug, "licence_number": c.licence})
		tb.fill(dobFields)
		status := tb.press("Continue")
		tb.wantText("h1", "licence")
		s.check(tb, c.name, status)
	}

	startDriverSignIn(tb, testenv.DacorumSlug, testenv.DueDacorum)
	s.check(tb, "driver-code", http.StatusOK)
	tb.wantStatus(tb.press("Continue"), http.StatusUnprocessableEntity)
	s.check(tb, "driver-code-empty-error", http.StatusUnprocessableEntity)
	s.check(tb, "driver-code-resent", tb.press("send a new code"))
	enterDriverCode(tb, env, testenv.DueDacorum)
}

func sweepDriverJourney(s *sweep, tb *tab, env *testenv.Env) {
	s.check(tb, "driver-task-list", http.StatusOK)
	for _, sec := range []struct {
		name, path string
		answers    map[string]string
	}{
		{"driver-contact", "/renew/contact", contactAnswers},
		{"driver-licence", "/renew/licence", licenceAnswers},
		{"driver-checks", "/renew/checks", checksAnswers},
		{"driver-declarations", "/renew/declarations", declarationsAnswers},
	} {
		s.open(tb, sec.name, sec.path, http.StatusOK)
		tb.clearForm("Save and continue")
		s.check(tb, sec.name+"-empty-error", tb.press("Save and continue"))
		tb.fill(sec.answers)
		tb.wantStatus(tb.press("Save and continue"), http.StatusOK)
		tb.wantPath("/renew")
	}
	s.open(tb, "driver-check-answers-incomplete", "/renew/check-answers", http.StatusOK)
	sweepDriverDocuments(s, tb, env)

	s.open(tb, "driver-leaflet", "/renew/awareness", http.StatusOK)
	s.check(tb, "driver-quiz", tb.click(`a[href="/renew/awareness/check"].button`))
	s.check(tb, "driver-quiz-empty-error", tb.press("Check my answers"))
	answers := quizAnswers(tb, env)
	wrong := map[string]string{}
	for k, v := range answers {
		wrong[k] = v
	}
	wrong["q1"] = otherAnswer(answers["q1"])
	tb.fill(wrong)
	s.check(tb, "driver-quiz-wrong-answer", tb.press("Check my answers"))
	tb.fill(answers)
	tb.wantStatus(tb.press("Check my answers"), http.StatusOK)
	tb.wantPath("/renew/awareness/confirm")
	s.check(tb, "driver-confirm-leaflet", http.StatusOK)
	s.check(tb, "driver-confirm-leaflet-empty-error", tb.press("Confirm"))
	tb.fill(map[string]string{"understood": "yes"})
	tb.wantStatus(tb.press("Confirm"), http.StatusOK)
	s.check(tb, "driver-task-list-complete", http.StatusOK)

	// A new leaflet version that needs re-acknowledgement is published: the task list's banner
	// and check your answers say so, and the driver reads and confirms it again.
	env.Clock.Advance(time.Minute)
	env.PublishLeaflet(tb.t, "2.0", false)
	s.open(tb, "driver-task-list-new-leaflet", "/renew", http.StatusOK)
	tb.wantText("main", "There is a new version of the awareness leaflet")
	s.open(tb, "driver-check-answers-new-leaflet", "/renew/check-answers", http.StatusOK)
	tb.wantText("main", "a new version of the leaflet (version 2.0) was published on")
	tb.open("/renew/awareness")
	tb.wantStatus(tb.click(`a[href="/renew/awareness/check"].button`), http.StatusOK)
	tb.fill(quizAnswers(tb, env))
	tb.wantStatus(tb.press("Check my answers"), http.StatusOK)
	tb.fill(map[string]string{"understood": "yes"})
	tb.wantStatus(tb.press("Confirm"), http.StatusOK)
	tb.wantPath("/renew")

}

// sweepDriverDocuments: the Dacorum driver uploads their photo through the form, after every
// kind of bad upload the page answers with a field error. Then they say they are not on the
// DBS Update Service and that their last medical was more than 5 years ago, so the page asks
// for the Group 2 medical certificate and the DBS certificate too, and they upload both.
func sweepDriverDocuments(s *sweep, tb *tab, env *testenv.Env) {
	t := tb.t
	s.open(tb, "driver-documents-empty", "/renew/documents", http.StatusOK)
	tb.wantText("main", "Photo", "at least 600 pixels wide and 750 pixels tall")
	tooLarge := append([]byte{0xFF, 0xD8, 0xFF}, bytes.Repeat([]byte{0}, 10*1024*1024)...)
	for _, bad := range []struct{ name, file, message string }{
		{"driver-documents-no-file-error", "", "Select the file of your photo to upload"},
		{"driver-documents-wrong-type-error", uploadFile(t, "photo.jpg", []byte("<!doctype html><html><body><script>alert(1)</script>")), "The photo must be a JPEG or PNG image"},
		{"driver-documents-photo-too-small-error", smallPhotoFile(t), "The photo must be at least 600 pixels wide and 750 pixels tall; this one is 320 by 240"},
		{"driver-documents-empty-file-error", uploadFile(t, "photo.jpg", nil), "The selected file is empty"},
		{"driver-documents-damaged-image-error", uploadFile(t, "photo.jpg", testenv.PhotoJPEG(t)[:3000]), "could not be read"},
		{"driver-documents-too-large-error", uploadFile(t, "photo.jpg", tooLarge), "The file must be smaller than 10 MB"},
	} {
		status := tb.upload("photo", bad.file)
		tb.wantStatus(status, http.StatusUnprocessableEntity)
		tb.wantText(".error-summary", bad.message)
		tb.wantText("#file-photo-error", bad.message)
		s.check(tb, bad.name, status)
	}
	tb.wantStatus(tb.upload("photo", photoFile(t)), http.StatusOK)
	tb.wantPath("/renew/documents")
	preview := tb.wantPreview()
	s.check(tb, "driver-documents-photo-uploaded", http.StatusOK)
	c := tb.client(env)
	s.fetchDocument(c, preview, "image/jpeg", "inline")
	s.fetchDocument(c, strings.TrimSuffix(preview, "/preview")+"/file", "image/jpeg", "attachment")

	tb.wantStatus(tb.open("/renew/checks"), http.StatusOK)
	tb.tick("dbs_update_service-no")
	tb.replaceText("#medical-year", "2019")
	tb.wantStatus(tb.press("Save and continue"), http.StatusOK)
	tb.wantPath("/renew")
	s.open(tb, "driver-checks-dbs-no", "/renew/checks", http.StatusOK)
	if !eval[bool](tb, `document.getElementById('dbs_update_service-no').checked`) {
		t.Fatal(`the checks page does not keep the answer "No" to the DBS Update Service`)
	}
	s.open(tb, "driver-documents-medical-and-dbs-required", "/renew/documents", http.StatusOK)
	tb.wantText("main", "Your last Group 2 medical was on 14 August 2019, more than 5 years ago", "You are not on the DBS Update Service",
		"Group 2 medical certificate", "DBS certificate")
	tb.wantPreview() // the photo uploaded before stays
	tb.wantStatus(tb.upload("medical", certificatePDF(t, "medical-2026.pdf")), http.StatusOK)
	tb.wantStatus(tb.upload("dbs", certificatePDF(t, "dbs-certificate.pdf")), http.StatusOK)
	tb.wantText("main", "Download the Group 2 medical certificate you uploaded", "Download the DBS certificate you uploaded")
	s.check(tb, "driver-documents-all-uploaded", http.StatusOK)
	tb.wantStatus(tb.press("Continue"), http.StatusOK)
	tb.wantPath("/renew")
	tb.wantText("#documents-status", "Completed")
}

// sweepDriverPays: the Dacorum driver pays online. The card is declined first; then the
// provider's API is down when they come back, and a new leaflet version was published while
// they paid, so the paid renewal is held until they confirm it. Someone else opening the
// return address learns nothing about the driver.
func sweepDriverPays(s *sweep, tb *tab, env *testenv.Env, b *browser) {
	fee := feeOf(tb.t, env, testenv.DueDacorum)
	s.check(tb, "driver-check-answers-pay", tb.click(`a[href="/renew/check-answers"].button`))
	payFee(tb, env, fee)
	s.check(tb, "paystub-card-page", http.StatusOK)
	tb.wantStatus(tb.press("Decline card"), http.StatusOK)
	tb.wantPath("/renew/check-answers")
	tb.wantText(".notification-banner", "Payment not taken", "Your card was declined")
	s.check(tb, "driver-check-answers-payment-not-taken", http.StatusOK)

	id := payFee(tb, env, fee)
	env.PublishLeaflet(tb.t, "3.0", false)
	env.Pay.SetDown(true)
	status := tb.press("Pay")
	tb.wantText("h1", "We are checking your payment")
	tb.wantText("main", "Do not pay again")
	s.check(tb, "driver-payment-return-checking", status)
	returnPath := tb.path()
	env.Pay.SetDown(false)

	s.check(tb, "paystub-card-page-finished", tb.openURL(env.PayURL+"/pay/"+id))
	tb.wantText("h1", "Payment successful")
	tb.wantStatus(tb.click(`main a`), http.StatusOK) // "Continue to the service"
	tb.wantPath("/renew")
	tb.wantText("main", "You have paid the fee", "There is a new version of the awareness leaflet")
	s.check(tb, "driver-task-list-paid-new-leaflet", http.StatusOK)
	s.open(tb, "driver-check-answers-paid-new-leaflet", "/renew/check-answers", http.StatusOK)

	stranger := b.newTab(tb.t, tb.base)
	stranger.setWidth(375)
	status = stranger.open(returnPath)
	stranger.wantText("h1", "Payment received")
	if strings.Contains(stranger.text("main"), renewalOf(tb.t, env, testenv.DueDacorum).Reference) {
		tb.t.Error("the return page shows the driver's reference to a browser without their session")
	}
	s.check(stranger, "payment-return-someone-elses-browser", status)
	stranger.close()

	acknowledgeLeaflet(tb, env)
	tb.wantPath("/renew/confirmation")
	s.check(tb, "driver-confirmation", http.StatusOK)
	s.open(tb, "driver-status-sent", "/renew/status", http.StatusOK)
	s.check(tb, "driver-withdraw", tb.click(`a[href="/renew/withdraw"]`))
	tb.fill(map[string]string{"reason": strings.Repeat("x", 501)})
	s.check(tb, "driver-withdraw-reason-too-long-error", tb.press("Withdraw renewal"))
	tb.open("/renew/status") // the renewal is kept: the officer works it next
}

// sweepDriverSendsUnpaid: Watford does not take the fee online, so its driver sends the
// renewal unpaid.
func sweepDriverSendsUnpaid(s *sweep, tb *tab, env *testenv.Env) {
	signInDriver(tb, env, "watford", testenv.DueWatford)
	completeRenewal(tb, env)
	s.check(tb, "driver-check-answers-fee-not-online", tb.click(`a[href="/renew/check-answers"].button`))
	tb.wantText("main", "This council does not take the fee online", feeOf(tb.t, env, testenv.DueWatford))
	tb.wantStatus(tb.press("Accept and send"), http.StatusOK)
	tb.wantPath("/renew/confirmation")
}

// sweepOfficerRecordsFee: the Watford officer opens the unpaid renewal and records the fee
// taken at the counter, with mistakes, then tries to waive it without a reason.
func sweepOfficerRecordsFee(s *sweep, tb *tab) {
	tb.wantStatus(tb.open("/staff/renewals"), http.StatusOK)
	caseURL := eval[string](tb, `document.querySelector('main a[href^="/staff/renewals/"]').getAttribute('href')`)
	s.open(tb, "officer-case-unpaid", caseURL, http.StatusOK)
	tb.wantText("main", "Not paid", "No payment has been recorded")
	// Nothing is done yet: the refusal lists everything still missing at once, in the order
	// of the case page (documents, checks, payment).
	status := tb.press("Approve renewal")
	tb.wantStatus(status, http.StatusConflict)
	tb.wantText(".error-summary", "Accept or reject the photo before approving",
		"Record the DBS Update Service status check before approving", "Record the fee as paid or waived before approving")
	if order := eval[[]string](tb, `[...document.querySelectorAll('.error-summary a')].map(a => a.getAttribute('href'))`); len(order) != 8 ||
		order[0] != "#document-photo" || !strings.HasPrefix(order[1], "#check-") || order[7] != "#payment" {
		tb.t.Errorf("the approval refusal links %v, want the photo, the six checks and the payment, in the case page's order", order)
	}
	s.check(tb, "officer-case-approve-refused-everything-missing", status)
	tb.open(caseURL)
	tb.openDetails("Record a fee taken at the counter or by phone, or waive it")
	s.check(tb, "officer-case-record-fee-form-open", http.StatusOK)
	tb.fill(map[string]string{"method": "counter", "amount": "three hundred", "receipt": ""})
	status = tb.press("Record payment")
	tb.wantText(".error-summary", "Enter the amount taken", "Enter the receipt number")
	s.check(tb, "officer-case-counter-payment-errors", status)
	tb.openDetails("Record a fee taken at the counter or by phone, or waive it")
	s.check(tb, "officer-case-waive-empty-error", tb.press("Waive the fee"))
}

// otherAnswer is a wrong answer to a question whose right answer is right (options 0–2).
func otherAnswer(right string) string {
	if right == "0" {
		return "1"
	}
	return "0"
}

// sweepOfficerPages signs in as the Dacorum officer, works the driver's renewal to a request
// for more information, and visits every officer page. It returns the case's path.
func sweepOfficerPages(s *sweep, tb *tab, env *testenv.Env, officer testenv.StaffLogin) string {
	s.open(tb, "staff-sign-in", "/staff/sign-in", http.StatusOK)
	s.check(tb, "staff-sign-in-empty-error", tb.press("Continue"))
	startStaffSignIn(tb, officer.Email, officer.Password)
	tb.wantPath("/staff/two-factor")
	s.check(tb, "staff-two-factor", http.StatusOK)
	s.check(tb, "staff-two-factor-empty-error", tb.press("Sign in"))
	s.check(tb, "staff-recovery-code", tb.click(`a[href="/staff/two-factor/recovery"]`))
	s.check(tb, "staff-recovery-code-empty-error", tb.press("Sign in"))
	tb.open("/staff/two-factor")
	tb.fill(map[string]string{"code": env.StaffCode(tb.t, officer)})
	tb.wantStatus(tb.press("Sign in"), http.StatusOK)
	s.check(tb, "officer-home", http.StatusOK)

	s.open(tb, "officer-renewals-queue", "/staff/renewals", http.StatusOK)
	caseURL := eval[string](tb, `document.querySelector('main a[href^="/staff/renewals/"]').getAttribute('href')`)
	s.open(tb, "officer-case-paid-online-documents-to-review", caseURL, http.StatusOK)
	tb.wantText("main", "Paid online", "Taken", "GOV.UK Pay ")
	tb.wantText("#documents", "Documents")
	tb.wantText("#document-photo", "Photo", "600 × 750 pixels", "Waiting for review")
	tb.wantText("#document-medical", "Group 2 medical certificate", "PDF", "Waiting for review")
	tb.wantText("#document-dbs", "DBS certificate", "PDF", "Waiting for review")
	staffDownload := eval[string](tb, `document.querySelector('#document-photo a[href^="/staff/documents/"]').getAttribute('href')`)
	s.fetchDocument(tb.client(env), staffDownload, "image/jpeg", "attachment")
	tb.openDetails("Refund a payment")
	s.check(tb, "officer-case-refund-form-open", http.StatusOK)
	tb.clearForm("Refund")
	s.check(tb, "officer-case-refund-empty-error", tb.press("Refund"))
	tb.open(caseURL)
	s.check(tb, "officer-case-approve-refused", tb.press("Approve renewal"))
	tb.wantText(".error-summary", "Accept or reject the photo before approving", "Record the DBS Update Service status check before approving")

	// The documents: a rejection without a reason is refused at its field; then each is accepted.
	tb.open(caseURL)
	tb.openDetails("Reject Photo")
	tb.typeInto("#document-photo-reason", "no")
	status := tb.press("Reject Photo")
	tb.wantStatus(status, http.StatusUnprocessableEntity)
	tb.wantText(".error-summary", "Say why the photo is rejected")
	tb.wantText("#document-photo-reason-error", "Say why the photo is rejected")
	s.check(tb, "officer-case-reject-document-error", status)
	for _, label := range []string{"Photo", "Group 2 medical certificate", "DBS certificate"} {
		tb.wantStatus(tb.press("Accept "+label), http.StatusOK)
	}
	tb.wantText("#document-photo", "Accepted")
	tb.wantText("#document-dbs", "Accepted")
	s.check(tb, "officer-case-documents-accepted", http.StatusOK)
	tb.open(caseURL)
	tb.openDetails("Record a check")
	s.check(tb, "officer-case-record-check-empty-error", tb.press("Record check"))
	tb.open(caseURL)
	tb.openDetails("Ask the driver for more information")
	tb.fill(map[string]string{"message": "Please send a photo of your DBS certificate."})
	s.check(tb, "officer-case-more-information-asked", tb.press("Send request"))

	driverURL := eval[string](tb, `document.querySelector('main a[href^="/staff/drivers/"]').getAttribute('href')`)
	s.open(tb, "officer-driver-record", driverURL, http.StatusOK)
	tb.clearForm("Record evidence")
	s.check(tb, "officer-driver-record-evidence-empty-error", tb.press("Record evidence"))

	s.open(tb, "officer-register", "/staff/register", http.StatusOK)
	s.check(tb, "officer-register-upload-empty-error", tb.press("Check the file"))
	tb.open("/staff/register")
	tb.do("choose the register file", chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{registerFile(tb.t, env)}))
	s.check(tb, "officer-register-check-file", tb.press("Check the file"))
	s.check(tb, "officer-register-loaded", tb.press("Load the register"))
	s.open(tb, "officer-register-drivers", "/staff/register/drivers", http.StatusOK)
	s.open(tb, "officer-due-for-renewal", "/staff/due", http.StatusOK)
	s.open(tb, "officer-events", "/staff/events", http.StatusOK)
	s.check(tb, "officer-events-empty-error", tb.press("Record the event"))
	s.open(tb, "officer-payments-export-dacorum", "/staff/payments", http.StatusOK)
	tb.fill(map[string]string{"from-day": "31", "from-month": "2", "from-year": "2026"})
	status = tb.press("Download CSV")
	tb.wantStatus(status, http.StatusUnprocessableEntity)
	s.check(tb, "officer-payments-export-date-error", status)
	s.open(tb, "officer-coverage", "/staff/reports", http.StatusOK)
	s.open(tb, "officer-council-report", "/staff/reports/council/"+testenv.DacorumSlug, http.StatusOK)
	s.open(tb, "staff-account", "/staff/account", http.StatusOK)
	s.open(tb, "staff-change-password", "/staff/password", http.StatusOK)
	s.check(tb, "staff-change-password-empty-error", tb.press("Change password"))
	return caseURL
}

// registerFile writes a register with the Dacorum test drivers and one newcomer, as a
// council's spreadsheet would export it.
func registerFile(t *testing.T, env *testenv.Env) string {
	t.Helper()
	var ds []domain.Driver
	for _, licence := range []string{testenv.DueDacorum, testenv.NotDue, testenv.Expired} {
		ds = append(ds, env.Drivers[licence])
	}
	newcomer := env.Drivers[testenv.NotDue]
	newcomer.LicenceNumber, newcomer.GivenNames, newcomer.Email = "DAC-5005", "Nadia", "nadia@example.org"
	ds = append(ds, newcomer)
	var buf bytes.Buffer
	if err := domain.WriteRegister(&buf, ds); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "dacorum-register.csv")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// sweepDriverReplies: the driver reads the officer's question and replies.
func sweepDriverReplies(s *sweep, tb *tab) {
	s.open(tb, "driver-status-more-information", "/renew/status", http.StatusOK)
	s.check(tb, "driver-status-reply-empty-error", tb.press("Send reply"))
	tb.fill(map[string]string{"reply": "I will bring it to the counter on Monday."})
	s.check(tb, "driver-status-replied", tb.press("Send reply"))
}

// sweepOfficerRefuses refuses the renewal without an NR3S date, so the case asks for one.
func sweepOfficerRefuses(s *sweep, tb *tab, caseURL string) {
	tb.open(caseURL)
	tb.openDetails("Refuse the renewal")
	s.check(tb, "officer-case-refuse-empty-error", tb.press("Refuse renewal"))
	tb.openDetails("Refuse the renewal")
	tb.fill(map[string]string{"reason": "The DBS certificate was not provided.", "nr3s-day": "31", "nr3s-month": "11", "nr3s-year": "2026"})
	s.check(tb, "officer-case-refuse-bad-nr3s-date-error", tb.press("Refuse renewal"))
	tb.openDetails("Refuse the renewal")
	tb.fill(map[string]string{"nr3s-day": "", "nr3s-month": "", "nr3s-year": ""}) // record it on NR3S later
	s.check(tb, "officer-case-refused", tb.press("Refuse renewal"))
	s.check(tb, "officer-case-nr3s-empty-error", tb.press("Save NR3S date"))
}

// sweepDriverSeesRefusal: the driver reads the decision and signs out.
func sweepDriverSeesRefusal(s *sweep, tb *tab) {
	s.open(tb, "driver-status-refused", "/renew/status", http.StatusOK)
	tb.wantText("main", "Refused", "The DBS certificate was not provided.")
	tb.wantStatus(tb.press("Sign out"), http.StatusOK)
	s.check(tb, "driver-signed-out", http.StatusOK)
}

func sweepAnalystPages(s *sweep, tb *tab, env *testenv.Env, analyst testenv.StaffLogin, caseURL string) {
	signInStaff(tb, env, analyst)
	s.check(tb, "analyst-home", http.StatusOK)
	s.open(tb, "analyst-renewals-queue", "/staff/renewals", http.StatusOK)
	s.open(tb, "analyst-case-read-only", caseURL, http.StatusOK)
	s.open(tb, "analyst-coverage", "/staff/reports?period=2026", http.StatusOK)
	s.open(tb, "analyst-coverage-bad-period-error", "/staff/reports?period=last+summer", http.StatusUnprocessableEntity)
	s.open(tb, "analyst-council-report", "/staff/reports/council/"+testenv.DacorumSlug+"?period=2026", http.StatusOK)
	s.open(tb, "analyst-register-choose-council", "/staff/register", http.StatusOK)
	s.open(tb, "analyst-events", "/staff/events", http.StatusOK)
	s.open(tb, "analyst-payments-export-choose-council", "/staff/payments", http.StatusOK)
	s.open(tb, "analyst-api-tokens", "/staff/tokens", http.StatusOK)
	s.check(tb, "analyst-api-tokens-empty-error", tb.press("Make a token"))
	tb.fill(map[string]string{"name": "coverage dashboard"})
	s.check(tb, "analyst-api-token-made", tb.press("Make a token"))
	s.open(tb, "analyst-recovery-codes-already-shown", "/staff/two-factor/recovery-codes", http.StatusOK)
}

// sweepAdminPages visits the administrator's pages and adds an account, returning the new
// account's email and first password.
func sweepAdminPages(s *sweep, tb *tab, env *testenv.Env, admin testenv.StaffLogin) (email, password string) {
	signInStaff(tb, env, admin)
	s.check(tb, "admin-home", http.StatusOK)
	s.open(tb, "admin-accounts", "/staff/users", http.StatusOK)
	s.check(tb, "admin-add-account", tb.click(`main a[href="/staff/users/new"]`))
	s.check(tb, "admin-add-account-empty-error", tb.press("Add account"))
	email = "amara.okafor@watford.gov.uk"
	tb.fill(map[string]string{"name": "Amara Okafor", "email": email, "role": "officer", "council": "watford"})
	s.check(tb, "admin-account-added", tb.press("Add account"))
	password = tb.text("#initial-password")
	s.check(tb, "admin-account", tb.click(`main a[href^="/staff/users/"]`))
	s.open(tb, "admin-councils", "/staff/admin/councils", http.StatusOK)
	s.check(tb, "admin-council", tb.click(`main a[href="/staff/admin/councils/dacorum"]`))
	tb.fill(map[string]string{"phone": "12345", "decision-days": "0"})
	s.check(tb, "admin-council-settings-error", tb.press("Save contact details"))
	tb.fill(map[string]string{"phone": "01442 228000", "decision-days": "15"})
	s.check(tb, "admin-council-settings-saved", tb.press("Save contact details"))
	s.check(tb, "admin-council-fee-empty-error", tb.press("Set fee"))
	s.open(tb, "admin-audit-log", "/staff/audit", http.StatusOK)
	s.open(tb, "admin-audit-log-bad-dates-error", "/staff/audit?from=yesterday", http.StatusUnprocessableEntity)
	return email, strings.TrimSpace(password)
}

var setupKey = regexp.MustCompile(`^[A-Z2-7 ]+$`)

// sweepFirstSignIn follows a new account through setting up its authenticator app.
func sweepFirstSignIn(s *sweep, tb *tab, env *testenv.Env, email, password string) {
	startStaffSignIn(tb, email, password)
	tb.wantPath("/staff/two-factor/setup")
	s.check(tb, "staff-set-up-authenticator", http.StatusOK)
	s.check(tb, "staff-set-up-authenticator-empty-error", tb.press("Continue"))
	key := strings.TrimSpace(tb.text("#secret"))
	if !setupKey.MatchString(key) {
		tb.t.Fatalf("no setup key on the page: %q", key)
	}
	code, err := service.TOTPCode(strings.ReplaceAll(key, " ", ""), env.Clock.Now())
	if err != nil {
		tb.t.Fatal(err)
	}
	tb.fill(map[string]string{"code": code})
	s.check(tb, "staff-recovery-codes-shown-once", tb.press("Continue"))
	tb.wantPath("/staff/two-factor/recovery-codes")
}

func sweepErrorPages(s *sweep, tb *tab) {
	s.open(tb, "error-not-found", "/renew/no-such-page", http.StatusNotFound)
	s.open(tb, "error-forbidden", "/staff/users", http.StatusForbidden)
	s.open(tb, "error-no-such-renewal", "/staff/renewals/999999", http.StatusNotFound)
}

// sweepDatabaseFault sends a form to a second instance of the service that can only read the
// database (SQLite mode=ro; a read-only PostgreSQL session): the page a user gets when the
// database takes no writes, a 503 saying their answers have not been saved.
func sweepDatabaseFault(s *sweep, b *browser, env *testenv.Env) {
	u := env.Config.DatabaseURL
	if testdb.Postgres() {
		u += "&default_transaction_read_only=on"
	} else {
		u = "file:" + u + "?mode=ro"
	}
	tb := b.newTab(s.t, env.InstanceAt(s.t, u).Server.URL)
	tb.open("/renew/sign-in")
	tb.fill(map[string]string{"council": "watford", "licence_number": testenv.DueWatford})
	tb.fill(dobFields)
	status := tb.press("Continue")
	tb.wantStatus(status, http.StatusServiceUnavailable)
	tb.wantText("h1", "Sorry, the service is unavailable")
	tb.wantText("main", "Your answers have not been saved")
	s.check(tb, "error-database-read-only", status)
}

// checkDataRoutes fetches each route that answers data, not a page, and checks its type.
func checkDataRoutes(t *testing.T, env *testenv.Env, analyst testenv.StaffLogin) {
	t.Helper()
	client := env.SignInStaff(t, analyst)
	for _, r := range notPages {
		p := client.Get(r.request)
		if r.contentType == "" { // API routes take a token, never a cookie
			if p.Status != http.StatusUnauthorized {
				t.Errorf("GET %s with a session cookie: %d, want 401", r.request, p.Status)
			}
			continue
		}
		if got := p.Header.Get("Content-Type"); p.Status != http.StatusOK || !strings.HasPrefix(got, r.contentType) {
			t.Errorf("GET %s: %d %q, want 200 %s", r.request, p.Status, got, r.contentType)
		}
	}
}
