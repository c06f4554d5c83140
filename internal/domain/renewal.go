package domain

import "time"

// RenewalStatus is where a renewal is in its life.
type RenewalStatus string

const (
	StatusDraft     RenewalStatus = "draft"
	StatusSubmitted RenewalStatus = "submitted"
	StatusInReview  RenewalStatus = "in_review"
	StatusMoreInfo  RenewalStatus = "more_info"
	StatusApproved  RenewalStatus = "approved"
	StatusRefused   RenewalStatus = "refused"
	StatusWithdrawn RenewalStatus = "withdrawn"
)

// Open reports whether the renewal is still being worked on (by the driver or the council).
func (s RenewalStatus) Open() bool {
	switch s {
	case StatusDraft, StatusSubmitted, StatusInReview, StatusMoreInfo:
		return true
	}
	return false
}

// Renewal is a driver's application to renew their licence.
type Renewal struct {
	ID            int64
	Reference     string
	DriverID      int64
	CouncilID     int64
	Status        RenewalStatus
	Answers       Answers
	AckEvidenceID int64
	CreatedAt     time.Time
	UpdatedAt     time.Time
	SubmittedAt   time.Time
	// Channel is online, or paper for a renewal an officer took at the counter or by post.
	Channel        string
	DecidedAt      time.Time
	DecidedBy      int64
	DecisionReason string
	NR3SRecordedOn Date
	NewExpiry      Date
}

// Answers are the driver's answers, saved section by section as they go.
type Answers struct {
	Contact      ContactAnswers     `json:"contact"`
	Licence      LicenceAnswers     `json:"licence"`
	Checks       CheckAnswers       `json:"checks"`
	Declarations DeclarationAnswers `json:"declarations"`
	Documents    DocumentAnswers    `json:"documents"`
	// QuizPassedLeafletID is the leaflet version whose check questions the driver answered
	// correctly; the acknowledgement is only offered after that.
	QuizPassedLeafletID int64 `json:"quiz_passed_leaflet_id,omitempty"`
}

type ContactAnswers struct {
	Saved        bool   `json:"saved"`
	Email        string `json:"email"`
	Phone        string `json:"phone"`
	AddressLine1 string `json:"address_line_1"`
	AddressLine2 string `json:"address_line_2"`
	Town         string `json:"town"`
	Postcode     string `json:"postcode"`
}

// Licence terms a driver may ask for, in years.
var LicenceTerms = []int{1, 3}

type LicenceAnswers struct {
	Saved         bool   `json:"saved"`
	DVLANumber    string `json:"dvla_number"`
	DVLACheckCode string `json:"dvla_check_code"`
	TermYears     int    `json:"term_years"`
}

// Right to work answers.
const (
	RightToWorkPassport  = "uk_irish_passport"
	RightToWorkShareCode = "share_code"
)

type CheckAnswers struct {
	Saved bool `json:"saved"`
	// DBSUpdateService is "yes" or "no"; "" in answers saved before the question was asked
	// (see OnUpdateService).
	DBSUpdateService string `json:"dbs_update_service,omitempty"`
	DBSNumber        string `json:"dbs_number"`
	DBSConsent       bool   `json:"dbs_consent"`
	TaxCheckCode     string `json:"tax_check_code"`
	MedicalDate      Date   `json:"medical_date"`
	RightToWork      string `json:"right_to_work"`
	ShareCode        string `json:"share_code,omitempty"`
	// MedicalCertificateDue is domain.DocumentsRequired's answer for the medical, worked out
	// when the checks are saved, so MissingSections needs no clock.
	MedicalCertificateDue bool `json:"medical_certificate_due,omitempty"`
}

type DeclarationAnswers struct {
	Saved          bool   `json:"saved"`
	HasOffences    bool   `json:"has_offences"`
	OffenceDetails string `json:"offence_details,omitempty"`
	Truthful       bool   `json:"truthful"`
}

// Section is one task on the driver's task list.
type Section string

const (
	SectionContact      Section = "contact"
	SectionLicence      Section = "licence"
	SectionChecks       Section = "checks"
	SectionDeclarations Section = "declarations"
	SectionDocuments    Section = "documents"
	SectionAwareness    Section = "awareness"
)

// Sections lists the tasks in the order the driver sees them.
var Sections = []Section{SectionContact, SectionLicence, SectionChecks, SectionDocuments, SectionDeclarations, SectionAwareness}

// MissingSections lists the answer sections not yet saved. The awareness step is judged from
// evidence, not answers, so it is not part of this list.
func (a Answers) MissingSections() []Section {
	var missing []Section
	if !a.Contact.Saved {
		missing = append(missing, SectionContact)
	}
	if !a.Licence.Saved {
		missing = append(missing, SectionLicence)
	}
	if !a.Checks.Saved {
		missing = append(missing, SectionChecks)
	}
	if len(a.MissingDocuments()) > 0 {
		missing = append(missing, SectionDocuments)
	}
	if !a.Declarations.Saved {
		missing = append(missing, SectionDeclarations)
	}
	return missing
}

// CheckSubmittable is rule 1 of the service: no renewal is submitted unless every section is
// answered and the driver holds an acknowledgement of a leaflet version in force. Storage calls
// it inside the transaction that submits, with the awareness read in that transaction.
func CheckSubmittable(r Renewal, aw Awareness) error {
	if r.Status != StatusDraft {
		return NewError(CodeConflict, "not_draft", "This renewal has already been sent.")
	}
	if missing := r.Answers.MissingSections(); len(missing) > 0 {
		return &Error{Code: CodeInvalid, Reason: "incomplete", Message: "Complete every section before you send your renewal.", Fields: sectionFields(missing)}
	}
	if aw.Status != AwarenessAcknowledged {
		const msg = "You must read the current modern slavery awareness leaflet and confirm you understood it before you send your renewal"
		return &Error{Code: CodeConflict, Reason: "awareness_required", Message: msg,
			Fields: map[string]string{string(SectionAwareness): msg}}
	}
	return nil
}

func sectionFields(missing []Section) map[string]string {
	names := map[Section]string{
		SectionContact:      "Complete your contact details",
		SectionLicence:      "Complete your licence details",
		SectionChecks:       "Complete your checks",
		SectionDeclarations: "Complete your declarations",
		SectionDocuments:    "Upload your photo and documents",
	}
	f := map[string]string{}
	for _, s := range missing {
		f[string(s)] = names[s]
	}
	return f
}

// Withdrawable reports whether the driver may still withdraw a renewal in this status: once
// sent and until it is decided.
func (s RenewalStatus) Withdrawable() bool {
	return s == StatusSubmitted || s == StatusInReview || s == StatusMoreInfo
}

// WithdrawReasonMax is the longest reason a driver may give for withdrawing, in characters.
const WithdrawReasonMax = 500
