package e2e

import (
	"net/http"
	"regexp"
	"testing"

	"github.com/herts-msp/taxi-renewals/internal/testenv"
)

var referenceFormat = regexp.MustCompile(`TR-[0-9A-Z]{4}-[0-9A-Z]{4}`)

// driverRenewsOnline is the driver's journey on a phone-sized screen, from the start page to
// the confirmation, with the mistakes people make on the way: each is refused with an error
// summary, and the answers already given are kept. They upload their photo through the
// documents page's form, as a phone would send it. Their council takes the fee online: they
// pay on the provider's card page and come back to the confirmation.
func driverRenewsOnline(t *testing.T, b *browser) {
	env, base := payingEnv(t)
	tb := b.newTab(t, base)
	tb.setWidth(375)
	fee := feeOf(t, env, testenv.DueDacorum)

	tb.wantStatus(tb.open("/"), http.StatusOK)
	tb.wantText("main", "modern slavery awareness step")
	tb.wantStatus(tb.click(`a.button--start`), http.StatusOK)
	tb.wantPath("/renew/sign-in")

	// Sent empty, then with a date of birth that does not match the register.
	tb.wantStatus(tb.press("Continue"), http.StatusUnprocessableEntity)
	tb.wantErrors("Select the council that issued your licence", "Enter your licence number", "Enter date of birth")
	tb.choose("#council", testenv.DacorumSlug)
	tb.typeInto("#licence_number", testenv.DueDacorum)
	tb.typeInto("#dob-day", "28")
	tb.typeInto("#dob-month", "3")
	tb.typeInto("#dob-year", "1980")
	tb.wantStatus(tb.press("Continue"), http.StatusUnprocessableEntity)
	tb.wantErrors("We could not find a licence with that number and date of birth. Check the council and the details on your licence")
	if got := tb.value("#licence_number"); got != testenv.DueDacorum {
		t.Errorf("licence number not kept after an error: %q", got)
	}
	tb.replaceText("#dob-day", "27")
	tb.wantStatus(tb.press("Continue"), http.StatusOK)
	tb.wantPath("/renew/code")

	// A wrong code, then the one in the email.
	tb.typeInto("#code", wrongDriverCode(env.LatestCode(t, testenv.DueDacorum+"@example.org")))
	tb.wantStatus(tb.press("Continue"), http.StatusUnprocessableEntity)
	tb.wantErrors("The code is not right. Check your email and try again (4 tries left).")
	tb.replaceText("#code", env.LatestCode(t, testenv.DueDacorum+"@example.org"))
	tb.wantStatus(tb.press("Continue"), http.StatusOK)
	tb.wantPath("/renew")
	tb.wantText("main", "Your licence renewal", "Not yet started")

	// Contact details: a mistyped email and postcode are refused; the rest is kept.
	tb.wantStatus(tb.click(`a[href="/renew/contact"]`), http.StatusOK)
	tb.replaceText("#email", "zoe.obrien@example")
	tb.replaceText("#phone", "07700 900 982")
	tb.typeInto("#address_line_1", "1 Stanborough Road")
	tb.typeInto("#town", "Welwyn Garden City")
	tb.replaceText("#postcode", "AL8")
	tb.wantStatus(tb.press("Save and continue"), http.StatusUnprocessableEntity)
	tb.wantErrors("Enter an email address in the correct format, like name@example.com", "Enter a real postcode, like AL8 6XF")
	if got := tb.value("#town"); got != "Welwyn Garden City" {
		t.Errorf("town not kept after an error: %q", got)
	}
	tb.replaceText("#email", "zoe.obrien@example.org")
	tb.replaceText("#postcode", "al8 6xf")
	tb.wantStatus(tb.press("Save and continue"), http.StatusOK)
	tb.wantPath("/renew")

	// Licence: a DVLA number in the wrong shape.
	tb.wantStatus(tb.click(`a[href="/renew/licence"]`), http.StatusOK)
	tb.typeInto("#dvla_number", "MORGA75")
	tb.typeInto("#dvla_check_code", "Ab12Cd34")
	tb.tick("term-3")
	tb.wantStatus(tb.press("Save and continue"), http.StatusUnprocessableEntity)
	tb.wantErrors("Enter your DVLA driving licence number as shown on your photocard, like MORGA753116SM9IJ")
	tb.replaceText("#dvla_number", "MORGA753116SM9IJ")
	tb.wantStatus(tb.press("Save and continue"), http.StatusOK)

	tb.wantStatus(tb.click(`a[href="/renew/checks"]`), http.StatusOK)
	tb.tick("dbs_update_service") // "Yes, I am on the DBS Update Service"
	tb.typeInto("#dbs_number", "001234567890")
	tb.tick("dbs_consent")
	tb.typeInto("#tax_check_code", "ABC DEF 123")
	tb.typeInto("#medical-day", "14")
	tb.typeInto("#medical-month", "8")
	tb.typeInto("#medical-year", "2025")
	tb.tick("right_to_work")
	tb.wantStatus(tb.press("Save and continue"), http.StatusOK)
	tb.wantPath("/renew")

	// The photo: the upload button pressed before choosing a file, then the photo from the
	// phone, shown back to the driver to check.
	tb.wantStatus(tb.click(`a[href="/renew/documents"]`), http.StatusOK)
	tb.wantText("main", "Photo", "at least 600 pixels wide and 750 pixels tall")
	tb.wantStatus(tb.upload("photo", ""), http.StatusUnprocessableEntity)
	tb.wantErrors("Select the file of your photo to upload")
	tb.wantStatus(tb.upload("photo", photoFile(t)), http.StatusOK)
	tb.wantPath("/renew/documents")
	tb.wantPreview()
	tb.wantText("main", "You uploaded “IMG_2041.jpg”", "Replace your photo")
	tb.wantStatus(tb.press("Continue"), http.StatusOK)
	tb.wantPath("/renew")

	tb.wantStatus(tb.click(`a[href="/renew/declarations"]`), http.StatusOK)
	tb.tick("has_offences-no")
	tb.wantStatus(tb.press("Save and continue"), http.StatusUnprocessableEntity) // the declaration is not ticked
	tb.wantErrors("Confirm that your answers are true and complete")
	tb.tick("truthful")
	tb.wantStatus(tb.press("Save and continue"), http.StatusOK)

	// The awareness step: the leaflet, a wrong answer explained, then the confirmation.
	tb.wantStatus(tb.click(`a[href="/renew/awareness"]`), http.StatusOK)
	tb.wantText("main", "Modern Slavery Helpline", "08000 121 700")
	tb.wantStatus(tb.click(`a[href="/renew/awareness/check"].button`), http.StatusOK)
	answers := quizAnswers(tb, env)
	tb.tick("q1" + optionSuffix(otherAnswer(answers["q1"])))
	for _, q := range []string{"q2", "q3"} {
		tb.tick(q + optionSuffix(answers[q]))
	}
	tb.wantStatus(tb.press("Check my answers"), http.StatusUnprocessableEntity)
	tb.wantText(".error-summary", "Question 1 is not right: ") // then the leaflet's explanation
	tb.wantText("#q1-error", "That is not right")
	tb.tick("q1" + optionSuffix(answers["q1"]))
	tb.wantStatus(tb.press("Check my answers"), http.StatusOK)
	tb.wantPath("/renew/awareness/confirm")
	tb.wantStatus(tb.press("Confirm"), http.StatusUnprocessableEntity)
	tb.wantErrors("Confirm that you have read and understood the leaflet")
	tb.tick("understood")
	tb.wantStatus(tb.press("Confirm"), http.StatusOK)
	tb.wantPath("/renew")

	tb.wantStatus(tb.click(`a[href="/renew/check-answers"].button`), http.StatusOK)
	tb.wantText("main", "zoe.obrien@example.org", "MORGA753116SM9IJ", "3 years", "Version 1.0: read and confirmed", fee)
	payFee(tb, env, fee)
	onCard := referenceFormat.FindString(tb.text("main"))
	tb.wantStatus(tb.press("Pay"), http.StatusOK)
	tb.wantPath("/renew/confirmation")
	reference := referenceFormat.FindString(tb.text(".panel"))
	if reference == "" {
		t.Fatalf("no reference on the confirmation panel: %q", tb.text(".panel"))
	}
	if onCard != reference {
		t.Errorf("the provider's page showed reference %q, the confirmation %q", onCard, reference)
	}
	wantPaidOnce(t, env, testenv.DueDacorum, 1)
	tb.wantStatus(tb.click(`main a[href="/renew/status"]`), http.StatusOK)
	tb.wantText("main", reference, "Confirmed on")
}

// optionSuffix is the id suffix of the radio for answer option i (the first has none).
func optionSuffix(i string) string {
	if i == "0" {
		return ""
	}
	return "-" + i
}

// wrongDriverCode is a 6-digit code other than right.
func wrongDriverCode(right string) string {
	if right == "000000" {
		return "111111"
	}
	return "000000"
}
