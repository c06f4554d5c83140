package domain

import "time"

// DocumentKind is one of the documents a driver uploads.
type DocumentKind string

const (
	DocumentPhoto   DocumentKind = "photo"
	DocumentMedical DocumentKind = "medical"
	DocumentDBS     DocumentKind = "dbs"
)

// DocumentKinds lists the documents in the order the driver and the case page show them.
var DocumentKinds = []DocumentKind{DocumentPhoto, DocumentMedical, DocumentDBS}

// Valid reports whether k is a known kind.
func (k DocumentKind) Valid() bool {
	return k == DocumentPhoto || k == DocumentMedical || k == DocumentDBS
}

// Label is the document's name as a heading.
func (k DocumentKind) Label() string {
	switch k {
	case DocumentPhoto:
		return "Photo"
	case DocumentMedical:
		return "Group 2 medical certificate"
	case DocumentDBS:
		return "DBS certificate"
	}
	return string(k)
}

// Noun is the document's name mid-sentence.
func (k DocumentKind) Noun() string {
	switch k {
	case DocumentPhoto:
		return "photo"
	case DocumentMedical:
		return "Group 2 medical certificate"
	case DocumentDBS:
		return "DBS certificate"
	}
	return string(k)
}

// DocumentStatus is where an uploaded document stands.
type DocumentStatus string

const (
	DocumentUploaded DocumentStatus = "uploaded" // waiting for an officer
	DocumentAccepted DocumentStatus = "accepted"
	DocumentRejected DocumentStatus = "rejected"
	DocumentReplaced DocumentStatus = "replaced" // the driver uploaded a new one; kept as evidence
)

// Document is one uploaded file's record (its content is stored apart, in chunks).
type Document struct {
	ID            int64
	RenewalID     int64
	DriverID      int64
	CouncilID     int64
	Kind          DocumentKind
	ContentType   string
	FilenameGiven string // as the driver's device named it, cleaned; for display only
	SizeBytes     int64
	SHA256        string
	Width, Height int
	Status        DocumentStatus
	ReplacedByID  int64
	ScanResult    string // "not scanned", or the scanner's verdict
	UploadedAt    time.Time
	ReviewedBy    int64
	ReviewedAt    time.Time
	ReviewReason  string
}

// DocumentAnswers records, in the draft, the current document of each kind (0: none yet).
type DocumentAnswers struct {
	PhotoID   int64 `json:"photo_id,omitempty"`
	MedicalID int64 `json:"medical_id,omitempty"`
	DBSID     int64 `json:"dbs_id,omitempty"`
}

// ID returns the current document of kind k.
func (d DocumentAnswers) ID(k DocumentKind) int64 {
	switch k {
	case DocumentPhoto:
		return d.PhotoID
	case DocumentMedical:
		return d.MedicalID
	case DocumentDBS:
		return d.DBSID
	}
	return 0
}

// Set records id as the current document of kind k.
func (d *DocumentAnswers) Set(k DocumentKind, id int64) {
	switch k {
	case DocumentPhoto:
		d.PhotoID = id
	case DocumentMedical:
		d.MedicalID = id
	case DocumentDBS:
		d.DBSID = id
	}
}

// DefaultMedicalIntervalYears is how old a Group 2 medical may be before the driver must send a
// new certificate with their renewal.
// TODO(council-settings): replace with the per-council Council.MedicalIntervalYears another
// branch adds; every caller already takes the interval as a parameter.
const DefaultMedicalIntervalYears = 5

// DBSCertificateMaxAgeMonths is how recent the enhanced DBS certificate of a driver who is not
// on the Update Service must be.
const DBSCertificateMaxAgeMonths = 3

// DocumentsRequired is the one home of the rule for what a driver uploads: a photo always; a
// Group 2 medical certificate when the last medical they give is more than medicalIntervalYears
// before today; a DBS certificate when they are not on the DBS Update Service.
func DocumentsRequired(checks CheckAnswers, medicalIntervalYears int, today Date) (photo, medical, dbs bool) {
	if medicalIntervalYears < 1 {
		medicalIntervalYears = DefaultMedicalIntervalYears
	}
	medical = !checks.MedicalDate.IsZero() && checks.MedicalDate.Before(today.AddYears(-medicalIntervalYears))
	dbs = checks.Saved && !checks.OnUpdateService()
	return true, medical, dbs
}

// RequiredDocuments lists the documents these answers need, from what was worked out when the
// checks were saved (so it needs no clock): the photo, then the medical and DBS certificates
// when due.
func (a Answers) RequiredDocuments() []DocumentKind {
	kinds := []DocumentKind{DocumentPhoto}
	if a.Checks.MedicalCertificateDue {
		kinds = append(kinds, DocumentMedical)
	}
	if a.Checks.Saved && !a.Checks.OnUpdateService() {
		kinds = append(kinds, DocumentDBS)
	}
	return kinds
}

// MissingDocuments lists the required documents not uploaded yet.
func (a Answers) MissingDocuments() []DocumentKind {
	var out []DocumentKind
	for _, k := range a.RequiredDocuments() {
		if a.Documents.ID(k) == 0 {
			out = append(out, k)
		}
	}
	return out
}

// OnUpdateService reports whether the driver said they are on the DBS Update Service. Answers
// saved before the question was asked always had a certificate number and the consent, which
// only a subscriber could give: they mean yes.
func (c CheckAnswers) OnUpdateService() bool {
	switch c.DBSUpdateService {
	case "yes":
		return true
	case "no":
		return false
	}
	return c.DBSNumber != "" && c.DBSConsent
}
