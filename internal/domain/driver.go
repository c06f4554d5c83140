package domain

import "strings"

// Council is one licensing authority: a tenant of the service.
type Council struct {
	ID   int64
	Slug string
	Name string
	// ContactEmail is where the council's coverage reports are sent (not shown to drivers).
	ContactEmail string
	// How drivers reach the licensing team; any may be empty, and pages show only what is set.
	Phone        string
	PublicEmail  string
	WebURL       string
	Address      string
	OpeningHours string
	// DecisionDays is the council's aim: "we aim to decide within N working days".
	DecisionDays int
	// MedicalIntervalYears: a Group 2 medical certificate is needed when the driver's last
	// medical is older than this many years.
	MedicalIntervalYears int
	// RefresherYears is the council's refresher interval for coverage (0: none).
	RefresherYears int
	// PaymentKeySet says whether the council's GOV.UK Pay API key is stored (the key itself
	// never leaves the service layer).
	PaymentKeySet bool
}

// HasContact reports whether any way to reach the licensing team is set.
func (c Council) HasContact() bool {
	return c.Phone != "" || c.PublicEmail != "" || c.WebURL != "" || c.Address != ""
}

// PhoneURI is the council's phone number as a tel: link ("tel:+441234567890"), or "" when none
// is set.
func (c Council) PhoneURI() string {
	return TelURI(c.Phone)
}

// TelURI turns a UK phone number as written ("01234 567 890", "101") into a tel: URI with the
// digits only, keeping a leading +. It returns "" when there are no digits.
func TelURI(phone string) string {
	var b []byte
	for i, r := range phone {
		switch {
		case r >= '0' && r <= '9':
			b = append(b, byte(r))
		case r == '+' && len(b) == 0 && i == 0:
			b = append(b, '+')
		}
	}
	if len(b) == 0 || (len(b) == 1 && b[0] == '+') {
		return ""
	}
	return "tel:" + string(b)
}

// Driver is an entry on a council's register of licensed drivers.
type Driver struct {
	ID            int64
	CouncilID     int64
	LicenceNumber string
	GivenNames    string
	FamilyName    string
	DateOfBirth   Date
	Email         string
	Phone         string
	Postcode      string
	LicenceStart  Date
	LicenceExpiry Date
	Status        string // active, suspended, revoked
	// StatusFrom is the day Status took effect: the register file's status_date, or the day the
	// status was recorded. Zero for a driver active since the licence began.
	StatusFrom Date
}

// FullName is the name as a letter would address the driver.
func (d Driver) FullName() string { return d.GivenNames + " " + d.FamilyName }

// Eligibility says whether a licence can be renewed online today.
type Eligibility string

const (
	EligibleDue      Eligibility = "due"       // within the renewal window
	EligibleTooEarly Eligibility = "too_early" // expires later than the window
	EligibleExpired  Eligibility = "expired"   // already expired: a new application is needed
	EligibleInactive Eligibility = "inactive"  // suspended or revoked: talk to the council
)

// RenewalEligibility applies the renewal window: a licence can be renewed online from
// windowDays before its expiry up to and including its expiry date.
func (d Driver) RenewalEligibility(today Date, windowDays int) Eligibility {
	switch {
	case d.Status != "" && d.Status != "active":
		return EligibleInactive
	case d.LicenceExpiry.Before(today):
		return EligibleExpired
	case d.LicenceExpiry.After(today.AddDays(windowDays)):
		return EligibleTooEarly
	default:
		return EligibleDue
	}
}

// CouncilSettings are what an administrator edits about a council: how drivers reach its
// licensing team, its decision time and its medical rule. (The payment key and fees are set
// separately: the key is write-only and fees are history.)
type CouncilSettings struct {
	Phone                string
	PublicEmail          string
	WebURL               string
	Address              string
	OpeningHours         string
	DecisionDays         int
	MedicalIntervalYears int
	// RefresherYears: an acknowledgement counts towards drivers_aware only when dated within
	// this many years before the period's end (DESIGN §4). 0: no refresher interval.
	RefresherYears int
}

// MaxRefresherYears is the longest refresher interval a council may set.
const MaxRefresherYears = 20

// Settings returns the council's editable settings.
func (c Council) Settings() CouncilSettings {
	return CouncilSettings{Phone: c.Phone, PublicEmail: c.PublicEmail, WebURL: c.WebURL, Address: c.Address,
		OpeningHours: c.OpeningHours, DecisionDays: c.DecisionDays, MedicalIntervalYears: c.MedicalIntervalYears,
		RefresherYears: c.RefresherYears}
}

// ContactText is how to reach the council's licensing team in one plain-text sentence, for
// emails and messages: "Contact the licensing team at Watford Borough Council: phone 01923
// 226400, email licensing@watford.gov.uk, web page https://… (Monday to Friday, 9am to 5pm)."
// With nothing set it names the council only.
func (c Council) ContactText() string {
	var ways []string
	if c.Phone != "" {
		ways = append(ways, "phone "+c.Phone)
	}
	if c.PublicEmail != "" {
		ways = append(ways, "email "+c.PublicEmail)
	}
	if c.WebURL != "" {
		ways = append(ways, "web page "+c.WebURL)
	}
	if c.Address != "" {
		ways = append(ways, "write to or visit "+c.Address)
	}
	out := "Contact the licensing team at " + c.Name
	if len(ways) == 0 {
		return out + "."
	}
	out += ": " + strings.Join(ways, ", ")
	if c.OpeningHours != "" {
		out += " (" + c.OpeningHours + ")"
	}
	return out + "."
}
