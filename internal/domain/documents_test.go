package domain

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestDocumentsRequired(t *testing.T) {
	today := Date{Year: 2026, Month: 11, Day: 26}
	on := func(y, m, d int) Date { return Date{Year: y, Month: time.Month(m), Day: d} }
	tests := []struct {
		name                string
		checks              CheckAnswers
		years               int
		photo, medical, dbs bool
	}{
		{"recent medical, on the Update Service", CheckAnswers{Saved: true, DBSUpdateService: "yes", MedicalDate: on(2025, 8, 14)}, 5, true, false, false},
		{"medical exactly 5 years ago is not yet due", CheckAnswers{Saved: true, DBSUpdateService: "yes", MedicalDate: on(2021, 11, 26)}, 5, true, false, false},
		{"medical 5 years and a day ago is due", CheckAnswers{Saved: true, DBSUpdateService: "yes", MedicalDate: on(2021, 11, 25)}, 5, true, true, false},
		{"a council with a 3-year rule", CheckAnswers{Saved: true, DBSUpdateService: "yes", MedicalDate: on(2023, 1, 1)}, 3, true, true, false},
		{"not on the Update Service", CheckAnswers{Saved: true, DBSUpdateService: "no", MedicalDate: on(2025, 8, 14)}, 5, true, false, true},
		{"old answers with a number and consent mean yes", CheckAnswers{Saved: true, DBSNumber: "001234567890", DBSConsent: true, MedicalDate: on(2025, 8, 14)}, 5, true, false, false},
		{"checks not answered yet: photo only", CheckAnswers{}, 5, true, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, m, d := DocumentsRequired(tt.checks, tt.years, today)
			if p != tt.photo || m != tt.medical || d != tt.dbs {
				t.Errorf("got photo %v medical %v dbs %v, want %v %v %v", p, m, d, tt.photo, tt.medical, tt.dbs)
			}
		})
	}
}

// TestCheckApprovableListsEverythingInPageOrder: nothing done gives one field per missing
// thing, awareness first, then documents, checks and payment, the order of the case page.
func TestCheckApprovableListsEverythingInPageOrder(t *testing.T) {
	a := awCompleteAnswers()
	a.Checks.DBSUpdateService, a.Checks.MedicalCertificateDue = "no", true
	a.Documents = DocumentAnswers{PhotoID: 10, MedicalID: 11, DBSID: 12}
	r := Renewal{ID: 1, Status: StatusInReview, Channel: "online", Answers: a}
	docs := []Document{{ID: 10, Kind: DocumentPhoto, Status: DocumentUploaded}, {ID: 11, Kind: DocumentMedical, Status: DocumentRejected}}
	err := CheckApprovable(r, Approvability{Awareness: Awareness{Status: AwarenessIssued}, Documents: docs, Paid: false})
	e, ok := err.(*Error)
	if !ok || e.Code != CodeConflict {
		t.Fatalf("want a conflict, got %v", err)
	}
	var got []string
	for _, f := range ApprovalFieldOrder() {
		if _, ok := e.Fields[f]; ok {
			got = append(got, f)
		}
	}
	want := []string{"awareness", "document-photo", "document-medical", "document-dbs", "check-dbs", "check-dvla", "check-nr3s",
		"check-medical", "check-right_to_work", "check-hmrc", "payment"}
	if diff := cmp.Diff(want, got); diff != "" || len(e.Fields) != len(want) {
		t.Fatalf("fields (-want +got):\n%s", diff)
	}
	if e.Fields["document-medical"] != "The Group 2 medical certificate was rejected: the driver must upload a new one" {
		t.Errorf("medical: %q", e.Fields["document-medical"])
	}

	// Everything done: approvable. A paper renewal needs no uploads.
	var checks []StatutoryCheck
	for i, ct := range CheckTypes {
		checks = append(checks, StatutoryCheck{ID: int64(i + 1), Type: ct, Result: CheckSatisfactory})
	}
	for i := range docs {
		docs[i].Status = DocumentAccepted
	}
	docs = append(docs, Document{ID: 12, Kind: DocumentDBS, Status: DocumentAccepted})
	ok2 := Approvability{Awareness: Awareness{Status: AwarenessAcknowledged}, Checks: checks, Documents: docs, Paid: true}
	if err := CheckApprovable(r, ok2); err != nil {
		t.Fatalf("all done: %v", err)
	}
	ok2.Documents = nil
	if err := CheckApprovable(r, ok2); err == nil {
		t.Fatal("online renewal approved without its documents")
	}
	r.Channel = "paper"
	if err := CheckApprovable(r, ok2); err != nil {
		t.Fatalf("paper renewal: %v", err)
	}
}
