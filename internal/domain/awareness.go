package domain

import (
	"time"

	"github.com/herts-msp/taxi-renewals/internal/leaflet"
)

// Audience says who a leaflet is for.
const (
	AudienceDriver = "driver"
	AudiencePublic = "public"
)

// LeafletVersion is one published version of a leaflet. Versions are ordered by ID:
// a later version has a larger ID.
type LeafletVersion struct {
	ID            int64
	Audience      string
	Version       string
	Title         string
	Content       string
	ContentSHA256 string
	Quiz          []leaflet.Question
	RequiresReack bool // a driver who acknowledged an earlier version must acknowledge this one
	PublishedAt   time.Time
	PublishedBy   string
}

// EvidenceKind is what an evidence record proves.
type EvidenceKind string

const (
	KindIssue           EvidenceKind = "issue"
	KindAcknowledgement EvidenceKind = "acknowledgement"
	KindVoid            EvidenceKind = "void"
)

// Channel is how the leaflet reached the driver.
type Channel string

const (
	ChannelOnline   Channel = "online"
	ChannelInPerson Channel = "in_person"
	ChannelPost     Channel = "post"
	ChannelEmail    Channel = "email"
)

// Valid reports whether c is one of the four channels.
func (c Channel) Valid() bool {
	switch c {
	case ChannelOnline, ChannelInPerson, ChannelPost, ChannelEmail:
		return true
	}
	return false
}

// Actor kinds: who made an evidence record.
const (
	ActorDriver = "driver"
	ActorStaff  = "staff"
)

// Evidence is one append-only record: an issue, an acknowledgement, or the voiding of one.
type Evidence struct {
	ID            int64
	Kind          EvidenceKind
	DriverID      int64
	CouncilID     int64
	LeafletID     int64
	ContentSHA256 string
	Channel       Channel
	OccurredAt    time.Time // when it happened (UTC)
	RecordedAt    time.Time // when it was written (UTC)
	ActorKind     string
	ActorID       int64
	VoidsID       int64 // for a void: the record it cancels
	Reason        string
}

// AwarenessStatus is where a driver stands with the leaflet.
type AwarenessStatus string

const (
	AwarenessNone         AwarenessStatus = "none"         // never issued a version in force
	AwarenessIssued       AwarenessStatus = "issued"       // issued a version in force, not acknowledged
	AwarenessAcknowledged AwarenessStatus = "acknowledged" // acknowledged a version in force
	AwarenessOutdated     AwarenessStatus = "reack_needed" // acknowledged only versions no longer in force
	AwarenessNoLeaflet    AwarenessStatus = "no_leaflet"   // no leaflet has been published yet
)

// Awareness is a driver's standing against the published leaflet versions.
type Awareness struct {
	Status AwarenessStatus
	// Current is the newest published version: the one a driver is shown now.
	Current LeafletVersion
	// Acknowledgement is the latest valid acknowledgement (when Status is acknowledged).
	Acknowledgement Evidence
	// Issue is the latest valid issue of a version in force.
	Issue Evidence
}

// InForceFrom returns the index in versions (ordered oldest first) of the oldest version still
// in force: the newest version that required re-acknowledgement. Acknowledging it, or any minor
// version after it, counts. It returns -1 when there are no versions.
func InForceFrom(versions []LeafletVersion) int {
	for i := len(versions) - 1; i >= 0; i-- {
		if versions[i].RequiresReack || i == 0 {
			return i
		}
	}
	return -1
}

// AssessAwareness works out a driver's awareness from all published versions of the driver
// leaflet (oldest first) and the driver's evidence records (any order). Voided records do
// not count.
func AssessAwareness(versions []LeafletVersion, evidence []Evidence) Awareness {
	from := InForceFrom(versions)
	if from < 0 {
		return Awareness{Status: AwarenessNoLeaflet}
	}
	inForce, superseded := map[int64]bool{}, map[int64]bool{}
	for _, v := range versions[from:] {
		inForce[v.ID] = true
	}
	for _, v := range versions[:from] {
		superseded[v.ID] = true
	}
	voided := map[int64]bool{}
	for _, e := range evidence {
		if e.Kind == KindVoid {
			voided[e.VoidsID] = true
		}
	}
	a := Awareness{Status: AwarenessNone, Current: versions[len(versions)-1]}
	var anyOldAck bool
	for _, e := range evidence {
		if voided[e.ID] || e.Kind == KindVoid {
			continue
		}
		switch {
		case e.Kind == KindAcknowledgement && inForce[e.LeafletID]:
			if a.Acknowledgement.ID == 0 || e.OccurredAt.After(a.Acknowledgement.OccurredAt) {
				a.Acknowledgement = e
			}
		case e.Kind == KindAcknowledgement && superseded[e.LeafletID]:
			anyOldAck = true
		case e.Kind == KindIssue && inForce[e.LeafletID]:
			if a.Issue.ID == 0 || e.OccurredAt.After(a.Issue.OccurredAt) {
				a.Issue = e
			}
		}
	}
	switch {
	case a.Acknowledgement.ID != 0:
		a.Status = AwarenessAcknowledged
	case a.Issue.ID != 0:
		a.Status = AwarenessIssued
	case anyOldAck:
		a.Status = AwarenessOutdated
	}
	return a
}

// Issued reports whether a non-voided issue of leafletID is among the evidence.
func Issued(evidence []Evidence, leafletID int64) bool {
	voided := map[int64]bool{}
	for _, e := range evidence {
		if e.Kind == KindVoid {
			voided[e.VoidsID] = true
		}
	}
	for _, e := range evidence {
		if e.Kind == KindIssue && e.LeafletID == leafletID && !voided[e.ID] {
			return true
		}
	}
	return false
}

// CheckAcknowledgeable is the rule for an online acknowledgement: only of the current version,
// only once it has been issued to the driver, and only after the driver answered the check
// questions about that version correctly.
func CheckAcknowledgeable(aw Awareness, evidence []Evidence, leafletID, quizPassedLeafletID int64) error {
	switch {
	case aw.Status == AwarenessNoLeaflet:
		return NewError(CodeConflict, "no_leaflet", "The awareness leaflet has not been published yet. Please contact your council's licensing team.")
	case leafletID != aw.Current.ID:
		return NewError(CodeInvalid, "leaflet_not_current", "The leaflet you confirmed is not the current version. Read the current leaflet and confirm again.")
	case !Issued(evidence, leafletID):
		return NewError(CodeConflict, "not_issued", "Read the leaflet before you confirm you have understood it.")
	case quizPassedLeafletID != leafletID:
		return NewError(CodeConflict, "check_required", "Answer the questions about the leaflet before you confirm you have understood it.")
	}
	return nil
}
