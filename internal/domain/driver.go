package domain

// Council is one licensing authority: a tenant of the service.
type Council struct {
	ID           int64
	Slug         string
	Name         string
	ContactEmail string
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
