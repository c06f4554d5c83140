package domain

import "time"

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

// CheckApprovable is rule 2 of the service: no renewal is approved unless the driver holds an
// acknowledgement of a leaflet version in force, and every statutory check is recorded with a
// satisfactory latest result. Storage calls it inside the transaction that approves.
func CheckApprovable(r Renewal, aw Awareness, checks []StatutoryCheck) error {
	if !r.Decidable() {
		return NewError(CodeConflict, "not_decidable", "This renewal has already been decided or has not been sent.")
	}
	if aw.Status != AwarenessAcknowledged {
		return &Error{Code: CodeConflict, Reason: "awareness_required",
			Message: "The driver has not acknowledged the current awareness leaflet. Record an in-person acknowledgement first, or ask the driver to complete the step online.",
			Fields:  map[string]string{"awareness": "The driver must acknowledge the current leaflet before approval"}}
	}
	latest := LatestChecks(checks)
	fields := map[string]string{}
	for _, t := range CheckTypes {
		c, ok := latest[t]
		switch {
		case !ok:
			fields["check-"+string(t)] = "Record the " + t.InSentence() + " before approving"
		case c.Result != CheckSatisfactory:
			fields["check-"+string(t)] = "The latest " + t.InSentence() + " is not satisfactory"
		}
	}
	if len(fields) > 0 {
		return &Error{Code: CodeConflict, Reason: "checks_incomplete", Message: "Every statutory check must be recorded as satisfactory before approval.", Fields: fields}
	}
	return nil
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
