package domain

import (
	"sort"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// awT0 is a fixed UTC instant; evidence times are offsets from it.
var awT0 = time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)

func awAt(minutes int) time.Time { return awT0.Add(time.Duration(minutes) * time.Minute) }

// version builds a published driver leaflet version.
func awVersion(id int64, label string, reack bool) LeafletVersion {
	return LeafletVersion{
		ID: id, Audience: AudienceDriver, Version: label, Title: "Leaflet " + label,
		Content: "content " + label, ContentSHA256: "sha-" + label, RequiresReack: reack,
		PublishedAt: awAt(-1000 + int(id)), PublishedBy: "test",
	}
}

const awDriverID, awCouncilID = 7, 2

func awEvidence(id int64, kind EvidenceKind, leafletID int64, when time.Time) Evidence {
	return Evidence{
		ID: id, Kind: kind, DriverID: awDriverID, CouncilID: awCouncilID, LeafletID: leafletID,
		ContentSHA256: "sha", Channel: ChannelOnline, OccurredAt: when, RecordedAt: when,
		ActorKind: ActorDriver, ActorID: awDriverID,
	}
}

func awIssue(id, leafletID int64, when time.Time) Evidence {
	return awEvidence(id, KindIssue, leafletID, when)
}

func awAck(id, leafletID int64, when time.Time) Evidence {
	return awEvidence(id, KindAcknowledgement, leafletID, when)
}

// awVoid cancels record voids (a void carries the leaflet of the record it cancels).
func awVoid(id, voids, leafletID int64, when time.Time) Evidence {
	e := awEvidence(id, KindVoid, leafletID, when)
	e.VoidsID, e.ActorKind, e.ActorID, e.Reason = voids, ActorStaff, 99, "recorded against the wrong driver"
	return e
}

var (
	awV1Major = awVersion(1, "1.0", true)
	awV1Minor = awVersion(1, "1.0", false) // a first version flagged minor is still in force
	awV2Major = awVersion(2, "2.0", true)
	awV2Minor = awVersion(2, "1.1", false)
	awV3Major = awVersion(3, "3.0", true)
	awV3Minor = awVersion(3, "2.1", false)
	awV4Minor = awVersion(4, "2.2", false)
	awV5Minor = awVersion(5, "2.3", false)
)

func TestInForceFrom(t *testing.T) {
	tests := []struct {
		name     string
		versions []LeafletVersion
		want     int
	}{
		{"no versions", nil, -1},
		{"empty slice", []LeafletVersion{}, -1},
		{"one major", []LeafletVersion{awV1Major}, 0},
		{"one version flagged minor is still in force", []LeafletVersion{awV1Minor}, 0},
		{"first version flagged minor then minor", []LeafletVersion{awV1Minor, awV2Minor}, 0},
		{"major then minor", []LeafletVersion{awV1Major, awV2Minor}, 0},
		{"major then major", []LeafletVersion{awV1Major, awV2Major}, 1},
		{"major, major, minor", []LeafletVersion{awV1Major, awV2Major, awV3Minor}, 1},
		{"major, minor, major", []LeafletVersion{awV1Major, awV2Minor, awV3Major}, 2},
		{"major, minor, major, minor, minor", []LeafletVersion{awV1Major, awV2Minor, awV3Major, awV4Minor, awV5Minor}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, InForceFrom(tt.versions)); diff != "" {
				t.Errorf("InForceFrom (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAssessAwareness(t *testing.T) {
	one := []LeafletVersion{awV1Major}
	majorThenMajor := []LeafletVersion{awV1Major, awV2Major}
	majorThenMinor := []LeafletVersion{awV1Major, awV2Minor}
	three := []LeafletVersion{awV1Major, awV2Major, awV3Minor}
	tests := []struct {
		name     string
		versions []LeafletVersion
		evidence []Evidence
		want     Awareness
	}{
		{
			name: "no versions: no_leaflet",
			want: Awareness{Status: AwarenessNoLeaflet},
		},
		{
			name:     "no versions, stray evidence: still no_leaflet",
			evidence: []Evidence{awIssue(1, 1, awAt(0)), awAck(2, 1, awAt(1))},
			want:     Awareness{Status: AwarenessNoLeaflet},
		},
		{
			name:     "one version, no evidence: none",
			versions: one,
			want:     Awareness{Status: AwarenessNone, Current: awV1Major},
		},
		{
			name:     "issued only: issued",
			versions: one,
			evidence: []Evidence{awIssue(1, 1, awAt(0))},
			want:     Awareness{Status: AwarenessIssued, Current: awV1Major, Issue: awIssue(1, 1, awAt(0))},
		},
		{
			name:     "issued twice: latest issue chosen",
			versions: one,
			evidence: []Evidence{awIssue(2, 1, awAt(5)), awIssue(1, 1, awAt(0))},
			want:     Awareness{Status: AwarenessIssued, Current: awV1Major, Issue: awIssue(2, 1, awAt(5))},
		},
		{
			name:     "issued and acknowledged: acknowledged",
			versions: one,
			evidence: []Evidence{awIssue(1, 1, awAt(0)), awAck(2, 1, awAt(3))},
			want: Awareness{Status: AwarenessAcknowledged, Current: awV1Major,
				Acknowledgement: awAck(2, 1, awAt(3)), Issue: awIssue(1, 1, awAt(0))},
		},
		{
			name:     "acknowledged twice, any order: latest acknowledgement chosen",
			versions: one,
			evidence: []Evidence{awAck(3, 1, awAt(9)), awIssue(1, 1, awAt(0)), awAck(2, 1, awAt(3))},
			want: Awareness{Status: AwarenessAcknowledged, Current: awV1Major,
				Acknowledgement: awAck(3, 1, awAt(9)), Issue: awIssue(1, 1, awAt(0))},
		},
		{
			name:     "acknowledgement voided: back to issued",
			versions: one,
			evidence: []Evidence{awIssue(1, 1, awAt(0)), awAck(2, 1, awAt(3)), awVoid(3, 2, 1, awAt(10))},
			want:     Awareness{Status: AwarenessIssued, Current: awV1Major, Issue: awIssue(1, 1, awAt(0))},
		},
		{
			name:     "latest acknowledgement voided: the earlier one counts",
			versions: one,
			evidence: []Evidence{awIssue(1, 1, awAt(0)), awAck(2, 1, awAt(3)), awAck(3, 1, awAt(9)), awVoid(4, 3, 1, awAt(10))},
			want: Awareness{Status: AwarenessAcknowledged, Current: awV1Major,
				Acknowledgement: awAck(2, 1, awAt(3)), Issue: awIssue(1, 1, awAt(0))},
		},
		{
			name:     "void listed before the record it voids",
			versions: one,
			evidence: []Evidence{awVoid(3, 2, 1, awAt(10)), awIssue(1, 1, awAt(0)), awAck(2, 1, awAt(3))},
			want:     Awareness{Status: AwarenessIssued, Current: awV1Major, Issue: awIssue(1, 1, awAt(0))},
		},
		{
			name:     "issue and acknowledgement both voided: none",
			versions: one,
			evidence: []Evidence{awIssue(1, 1, awAt(0)), awAck(2, 1, awAt(3)), awVoid(3, 2, 1, awAt(10)), awVoid(4, 1, 1, awAt(11))},
			want:     Awareness{Status: AwarenessNone, Current: awV1Major},
		},
		{
			name:     "v1 acknowledged, v2 requires re-acknowledgement: reack_needed",
			versions: majorThenMajor,
			evidence: []Evidence{awIssue(1, 1, awAt(0)), awAck(2, 1, awAt(3))},
			want:     Awareness{Status: AwarenessOutdated, Current: awV2Major},
		},
		{
			name:     "v1 acknowledged, v2 major issued: issued",
			versions: majorThenMajor,
			evidence: []Evidence{awIssue(1, 1, awAt(0)), awAck(2, 1, awAt(3)), awIssue(3, 2, awAt(20))},
			want:     Awareness{Status: AwarenessIssued, Current: awV2Major, Issue: awIssue(3, 2, awAt(20))},
		},
		{
			name:     "v1 acknowledged, v2 major acknowledged: acknowledged",
			versions: majorThenMajor,
			evidence: []Evidence{awIssue(1, 1, awAt(0)), awAck(2, 1, awAt(3)), awIssue(3, 2, awAt(20)), awAck(4, 2, awAt(21))},
			want: Awareness{Status: AwarenessAcknowledged, Current: awV2Major,
				Acknowledgement: awAck(4, 2, awAt(21)), Issue: awIssue(3, 2, awAt(20))},
		},
		{
			name:     "v1 acknowledged but voided, v2 major: none, not reack_needed",
			versions: majorThenMajor,
			evidence: []Evidence{awIssue(1, 1, awAt(0)), awAck(2, 1, awAt(3)), awVoid(3, 2, 1, awAt(4))},
			want:     Awareness{Status: AwarenessNone, Current: awV2Major},
		},
		{
			name:     "v1 acknowledged, v2 minor: still acknowledged",
			versions: majorThenMinor,
			evidence: []Evidence{awIssue(1, 1, awAt(0)), awAck(2, 1, awAt(3))},
			want: Awareness{Status: AwarenessAcknowledged, Current: awV2Minor,
				Acknowledgement: awAck(2, 1, awAt(3)), Issue: awIssue(1, 1, awAt(0))},
		},
		{
			name:     "v1 major, v2 major, v3 minor: acknowledgement of v2 counts",
			versions: three,
			evidence: []Evidence{awIssue(1, 2, awAt(0)), awAck(2, 2, awAt(3))},
			want: Awareness{Status: AwarenessAcknowledged, Current: awV3Minor,
				Acknowledgement: awAck(2, 2, awAt(3)), Issue: awIssue(1, 2, awAt(0))},
		},
		{
			name:     "v1 major, v2 major, v3 minor: acknowledgement of v1 does not count",
			versions: three,
			evidence: []Evidence{awIssue(1, 1, awAt(0)), awAck(2, 1, awAt(3))},
			want:     Awareness{Status: AwarenessOutdated, Current: awV3Minor},
		},
		{
			name:     "v1 major, v2 major, v3 minor: acknowledgement of v3 counts",
			versions: three,
			evidence: []Evidence{awIssue(1, 3, awAt(0)), awAck(2, 3, awAt(3))},
			want: Awareness{Status: AwarenessAcknowledged, Current: awV3Minor,
				Acknowledgement: awAck(2, 3, awAt(3)), Issue: awIssue(1, 3, awAt(0))},
		},
		{
			name:     "v1 major, v2 major, v3 minor: acks of v1 and v3, the v3 one counts",
			versions: three,
			evidence: []Evidence{awIssue(1, 1, awAt(0)), awAck(2, 1, awAt(3)), awIssue(3, 3, awAt(30)), awAck(4, 3, awAt(31))},
			want: Awareness{Status: AwarenessAcknowledged, Current: awV3Minor,
				Acknowledgement: awAck(4, 3, awAt(31)), Issue: awIssue(3, 3, awAt(30))},
		},
		{
			name:     "v1 major, v2 major, v3 minor: issue of v1 only is not an issue in force",
			versions: three,
			evidence: []Evidence{awIssue(1, 1, awAt(0))},
			want:     Awareness{Status: AwarenessNone, Current: awV3Minor},
		},
		{
			name:     "issue of a leaflet id that does not exist: none",
			versions: one,
			evidence: []Evidence{awIssue(1, 99, awAt(0))},
			want:     Awareness{Status: AwarenessNone, Current: awV1Major},
		},
		{
			name:     "issue and acknowledgement of a leaflet id that does not exist: none",
			versions: one,
			evidence: []Evidence{awIssue(1, 99, awAt(0)), awAck(2, 99, awAt(3))},
			want:     Awareness{Status: AwarenessNone, Current: awV1Major},
		},
		{
			name:     "evidence of a leaflet id that does not exist beside a real acknowledgement",
			versions: one,
			evidence: []Evidence{awIssue(1, 99, awAt(0)), awAck(2, 99, awAt(30)), awIssue(3, 1, awAt(1)), awAck(4, 1, awAt(2))},
			want: Awareness{Status: AwarenessAcknowledged, Current: awV1Major,
				Acknowledgement: awAck(4, 1, awAt(2)), Issue: awIssue(3, 1, awAt(1))},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := AssessAwareness(tt.versions, tt.evidence)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("AssessAwareness (-want +got):\n%s", diff)
			}
		})
	}
}

func TestIssued(t *testing.T) {
	tests := []struct {
		name      string
		evidence  []Evidence
		leafletID int64
		want      bool
	}{
		{"no evidence", nil, 1, false},
		{"issue of this leaflet", []Evidence{awIssue(1, 1, awAt(0))}, 1, true},
		{"issue of another leaflet", []Evidence{awIssue(1, 2, awAt(0))}, 1, false},
		{"acknowledgement without issue", []Evidence{awAck(1, 1, awAt(0))}, 1, false},
		{"issue voided", []Evidence{awIssue(1, 1, awAt(0)), awVoid(2, 1, 1, awAt(1))}, 1, false},
		{"void listed before the issue", []Evidence{awVoid(2, 1, 1, awAt(1)), awIssue(1, 1, awAt(0))}, 1, false},
		{"issue voided then issued again", []Evidence{awIssue(1, 1, awAt(0)), awVoid(2, 1, 1, awAt(1)), awIssue(3, 1, awAt(2))}, 1, true},
		{"void of another record", []Evidence{awIssue(1, 1, awAt(0)), awAck(2, 1, awAt(1)), awVoid(3, 2, 1, awAt(2))}, 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, Issued(tt.evidence, tt.leafletID)); diff != "" {
				t.Errorf("Issued (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCheckAcknowledgeable(t *testing.T) {
	versions := []LeafletVersion{awV1Major, awV2Major}
	issuedV2 := []Evidence{awIssue(1, 1, awAt(0)), awIssue(2, 2, awAt(5))}
	tests := []struct {
		name       string
		versions   []LeafletVersion
		evidence   []Evidence
		leafletID  int64
		quizPassed int64
		want       string // reason; "" for nil
	}{
		{"no leaflet published", nil, nil, 1, 1, "no_leaflet"},
		{"older version", versions, issuedV2, 1, 1, "leaflet_not_current"},
		{"unknown leaflet id", versions, issuedV2, 99, 99, "leaflet_not_current"},
		{"zero leaflet id", versions, issuedV2, 0, 0, "leaflet_not_current"},
		{"current version not issued", versions, []Evidence{awIssue(1, 1, awAt(0))}, 2, 2, "not_issued"},
		{"current version issue voided", versions, []Evidence{awIssue(2, 2, awAt(5)), awVoid(3, 2, 2, awAt(6))}, 2, 2, "not_issued"},
		{"quiz not passed", versions, issuedV2, 2, 0, "check_required"},
		{"quiz passed on an older version", versions, issuedV2, 2, 1, "check_required"},
		{"ok", versions, issuedV2, 2, 2, ""},
		{"ok when already acknowledged", versions, append(issuedV2, awAck(3, 2, awAt(6))), 2, 2, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			aw := AssessAwareness(tt.versions, tt.evidence)
			err := CheckAcknowledgeable(aw, tt.evidence, tt.leafletID, tt.quizPassed)
			if diff := cmp.Diff(tt.want, ErrorReason(err)); diff != "" {
				t.Errorf("CheckAcknowledgeable reason (-want +got):\n%s\nerr: %v", diff, err)
			}
			if tt.want == "" && err != nil {
				t.Errorf("CheckAcknowledgeable: unexpected error %v", err)
			}
		})
	}
}

func awCompleteAnswers() Answers {
	medical, err := ParseISODate("2026-10-01")
	if err != nil {
		panic(err)
	}
	return Answers{
		Contact: ContactAnswers{Saved: true, Email: "driver@example.org", Phone: "07700900123",
			AddressLine1: "1 High Street", Town: "Welwyn Garden City", Postcode: "AL8 6XF"},
		Licence: LicenceAnswers{Saved: true, DVLANumber: "SMITH801274J99AB", DVLACheckCode: "Ab12Cd34", TermYears: 3},
		Checks: CheckAnswers{Saved: true, DBSNumber: "001234567890", DBSConsent: true, TaxCheckCode: "ABC 123 XYZ",
			MedicalDate: medical, RightToWork: RightToWorkPassport},
		Declarations:        DeclarationAnswers{Saved: true, Truthful: true},
		Documents:           DocumentAnswers{PhotoID: 1},
		QuizPassedLeafletID: 1,
	}
}

func TestCheckSubmittable(t *testing.T) {
	versions := []LeafletVersion{awV1Major}
	acknowledged := AssessAwareness(versions, []Evidence{awIssue(1, 1, awAt(0)), awAck(2, 1, awAt(1))})
	issued := AssessAwareness(versions, []Evidence{awIssue(1, 1, awAt(0))})
	none := AssessAwareness(versions, nil)
	outdated := AssessAwareness([]LeafletVersion{awV1Major, awV2Major}, []Evidence{awIssue(1, 1, awAt(0)), awAck(2, 1, awAt(1))})
	noLeaflet := AssessAwareness(nil, nil)
	if acknowledged.Status != AwarenessAcknowledged || issued.Status != AwarenessIssued || none.Status != AwarenessNone ||
		outdated.Status != AwarenessOutdated || noLeaflet.Status != AwarenessNoLeaflet {
		t.Fatalf("fixture awareness statuses wrong: %s %s %s %s %s",
			acknowledged.Status, issued.Status, none.Status, outdated.Status, noLeaflet.Status)
	}

	renewal := func(status RenewalStatus, change func(*Answers)) Renewal {
		a := awCompleteAnswers()
		if change != nil {
			change(&a)
		}
		return Renewal{ID: 1, DriverID: awDriverID, CouncilID: awCouncilID, Status: status, Answers: a, CreatedAt: awT0, UpdatedAt: awT0}
	}
	nothingSaved := func(a *Answers) { *a = Answers{} }
	tests := []struct {
		name       string
		renewal    Renewal
		awareness  Awareness
		wantReason string   // "" for nil
		wantFields []string // sorted keys of Error.Fields
	}{
		{"submitted", renewal(StatusSubmitted, nil), acknowledged, "not_draft", nil},
		{"approved", renewal(StatusApproved, nil), acknowledged, "not_draft", nil},
		{"withdrawn", renewal(StatusWithdrawn, nil), acknowledged, "not_draft", nil},
		{"not draft beats incomplete and not acknowledged", renewal(StatusSubmitted, nothingSaved), none, "not_draft", nil},
		{"nothing saved", renewal(StatusDraft, nothingSaved), acknowledged, "incomplete",
			[]string{"checks", "contact", "declarations", "documents", "licence"}},
		{"licence and declarations missing", renewal(StatusDraft, func(a *Answers) {
			a.Licence.Saved, a.Declarations.Saved = false, false
		}), acknowledged, "incomplete", []string{"declarations", "licence"}},
		{"only checks missing", renewal(StatusDraft, func(a *Answers) { a.Checks.Saved = false }), acknowledged, "incomplete",
			[]string{"checks"}},
		{"incomplete beats not acknowledged", renewal(StatusDraft, func(a *Answers) { a.Contact.Saved = false }), none, "incomplete",
			[]string{"contact"}},
		{"complete, awareness none", renewal(StatusDraft, nil), none, "awareness_required", []string{"awareness"}},
		{"complete, awareness issued", renewal(StatusDraft, nil), issued, "awareness_required", []string{"awareness"}},
		{"complete, awareness reack_needed", renewal(StatusDraft, nil), outdated, "awareness_required", []string{"awareness"}},
		{"complete, no leaflet", renewal(StatusDraft, nil), noLeaflet, "awareness_required", []string{"awareness"}},
		{"complete and acknowledged", renewal(StatusDraft, nil), acknowledged, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckSubmittable(tt.renewal, tt.awareness)
			if diff := cmp.Diff(tt.wantReason, ErrorReason(err)); diff != "" {
				t.Fatalf("CheckSubmittable reason (-want +got):\n%s\nerr: %v", diff, err)
			}
			if tt.wantReason == "" {
				if err != nil {
					t.Fatalf("CheckSubmittable: unexpected error %v", err)
				}
				return
			}
			e := err.(*Error)
			var fields []string
			for k, msg := range e.Fields {
				fields = append(fields, k)
				if msg == "" {
					t.Errorf("field %q has an empty message", k)
				}
			}
			sort.Strings(fields)
			if diff := cmp.Diff(tt.wantFields, fields); diff != "" {
				t.Errorf("CheckSubmittable fields (-want +got):\n%s", diff)
			}
			if e.Message == "" {
				t.Error("CheckSubmittable: empty message")
			}
		})
	}
}
