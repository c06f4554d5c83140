package domain

import (
	"strconv"
	"time"
)

// CheckType is one of the statutory checks an officer records before deciding.
type CheckType string

const (
	CheckDBS         CheckType = "dbs"
	CheckDVLA        CheckType = "dvla"
	CheckNR3S        CheckType = "nr3s"
	CheckMedical     CheckType = "medical"
	CheckRightToWork CheckType = "right_to_work"
	CheckHMRC        CheckType = "hmrc"
)

// CheckTypes lists the checks in the order the case page shows them.
var CheckTypes = []CheckType{CheckDBS, CheckDVLA, CheckNR3S, CheckMedical, CheckRightToWork, CheckHMRC}

// Label is the check's name as officers know it.
func (c CheckType) Label() string {
	switch c {
	case CheckDBS:
		return "DBS Update Service status check"
	case CheckDVLA:
		return "DVLA driving licence check"
	case CheckNR3S:
		return "NR3S register search"
	case CheckMedical:
		return "Group 2 medical"
	case CheckRightToWork:
		return "Right to work check"
	case CheckHMRC:
		return "HMRC tax check"
	}
	return string(c)
}

// InSentence is the label as it reads mid-sentence.
func (c CheckType) InSentence() string {
	if c == CheckRightToWork {
		return "right to work check"
	}
	return c.Label()
}

// Valid reports whether c is a known check.
func (c CheckType) Valid() bool {
	for _, t := range CheckTypes {
		if t == c {
			return true
		}
	}
	return false
}

// Check results.
const (
	CheckSatisfactory   = "satisfactory"
	CheckUnsatisfactory = "unsatisfactory"
)

// StatutoryCheck is an officer's record of one check.
type StatutoryCheck struct {
	ID         int64
	RenewalID  int64
	Type       CheckType
	CheckedOn  Date
	Result     string
	Notes      string
	RecordedBy int64
	ByName     string
	RecordedAt time.Time
}

// CaseEvent is one line of a renewal's history.
type CaseEvent struct {
	ID        int64
	At        time.Time
	ActorKind string // driver, staff, system
	ActorID   int64
	ActorName string
	Kind      string // submitted, review_started, check_recorded, more_info, driver_reply, approved, refused, evidence_recorded, evidence_voided, paper_started
	Message   string
}

// Decision is what an officer records when deciding a renewal.
type Decision struct {
	RenewalID    int64
	DecidedAt    time.Time
	DecidedBy    int64
	Reason       string
	NR3SRecorded Date // for a refusal: when it was recorded on NR3S
	NewExpiry    Date // for an approval
	NewStart     Date
}

// LatestChecks keeps the newest record of each check type.
func LatestChecks(checks []StatutoryCheck) map[CheckType]StatutoryCheck {
	latest := map[CheckType]StatutoryCheck{}
	for _, c := range checks {
		if prev, ok := latest[c.Type]; !ok || c.ID > prev.ID {
			latest[c.Type] = c
		}
	}
	return latest
}

// Decidable reports whether the renewal is waiting for a decision.
func (r Renewal) Decidable() bool {
	return r.Status == StatusSubmitted || r.Status == StatusInReview || r.Status == StatusMoreInfo
}

// Approvability is what approval is judged on, read inside the transaction that approves.
type Approvability struct {
	Awareness Awareness
	Checks    []StatutoryCheck
	// Documents are the renewal's uploaded documents, every status.
	Documents []Document
	// Paid says the fee is recorded (online, at the counter, or waived).
	Paid bool
}

// ApprovalFieldOrder is the order of the case page, which a refused approval's fields follow:
// the awareness evidence, the documents, the statutory checks, then the payment.
func ApprovalFieldOrder() []string {
	out := []string{"awareness"}
	for _, k := range DocumentKinds {
		out = append(out, "document-"+string(k))
	}
	for _, t := range CheckTypes {
		out = append(out, "check-"+string(t))
	}
	return append(out, "payment")
}

// CheckApprovable is rule 2 of the service: no renewal is approved unless the driver holds an
// acknowledgement of a leaflet version in force, every required document is uploaded and
// accepted, every statutory check is recorded with a satisfactory latest result, and the fee
// is paid. A refusal names everything still missing at once, one field each (keys in
// ApprovalFieldOrder). Storage calls it inside the transaction that approves.
func CheckApprovable(r Renewal, in Approvability) error {
	if !r.Decidable() {
		return NewError(CodeConflict, "not_decidable", "This renewal has already been decided or has not been sent.")
	}
	fields := map[string]string{}
	if in.Awareness.Status != AwarenessAcknowledged {
		fields["awareness"] = "The driver must acknowledge the current leaflet before approval: record an in-person acknowledgement, or ask the driver to complete the step online"
	}
	for k, msg := range documentBlockers(r, in.Documents) {
		fields["document-"+string(k)] = msg
	}
	latest := LatestChecks(in.Checks)
	for _, t := range CheckTypes {
		c, ok := latest[t]
		switch {
		case !ok:
			fields["check-"+string(t)] = "Record the " + t.InSentence() + " before approving"
		case c.Result != CheckSatisfactory:
			fields["check-"+string(t)] = "The latest " + t.InSentence() + " is not satisfactory"
		}
	}
	if !in.Paid {
		fields["payment"] = "Record the fee as paid or waived before approving"
	}
	if len(fields) == 0 {
		return nil
	}
	msg := "This renewal cannot be approved yet: 1 thing is still missing."
	if len(fields) > 1 {
		msg = "This renewal cannot be approved yet: " + strconv.Itoa(len(fields)) + " things are still missing."
	}
	return &Error{Code: CodeConflict, Reason: "not_approvable", Message: msg, Fields: fields}
}

// documentBlockers says what is wrong with each required document of an online renewal. A
// paper renewal's documents were seen at the counter, on paper.
func documentBlockers(r Renewal, docs []Document) map[DocumentKind]string {
	out := map[DocumentKind]string{}
	if r.Channel == "paper" {
		return out
	}
	byID := make(map[int64]Document, len(docs))
	for _, d := range docs {
		byID[d.ID] = d
	}
	for _, k := range r.Answers.RequiredDocuments() {
		d, ok := byID[r.Answers.Documents.ID(k)]
		switch {
		case !ok || d.Kind != k || d.Status == DocumentReplaced:
			out[k] = "The driver has not uploaded their " + k.Noun()
		case d.Status == DocumentRejected:
			out[k] = "The " + k.Noun() + " was rejected: the driver must upload a new one"
		case d.Status != DocumentAccepted:
			out[k] = "Accept or reject the " + k.Noun() + " before approving"
		}
	}
	return out
}

// NewLicencePeriod works out the renewed licence: it starts the day after the old one ends
// (or on the decision day, if that has passed) and runs for the term the driver asked for.
func NewLicencePeriod(oldExpiry, decidedOn Date, termYears int) (start, expiry Date) {
	if termYears != 1 && termYears != 3 {
		termYears = 1
	}
	start = oldExpiry.AddDays(1)
	if start.Before(decidedOn) {
		start = decidedOn
	}
	return start, start.AddYears(termYears).AddDays(-1)
}
