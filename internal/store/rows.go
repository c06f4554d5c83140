package store

import (
	"encoding/json"
	"time"

	"github.com/herts-msp/taxi-renewals/internal/domain"
	"github.com/herts-msp/taxi-renewals/internal/leaflet"
)

// Rows mirror the tables in db/migrations. They never leave this package.

type councilRow struct {
	ID                   int64
	Slug                 string
	Name                 string
	ContactEmail         string
	Phone                string
	PublicEmail          string
	WebURL               string `gorm:"column:web_url"`
	Address              string
	OpeningHours         string
	DecisionDays         int
	MedicalIntervalYears int
	RefresherYears       int
	PayAPIKeySealed      string `gorm:"column:pay_api_key_sealed"`
}

func (councilRow) TableName() string { return "councils" }

// toDomain maps a council; the sealed payment key stays here, only whether it is set leaves.
func (r councilRow) toDomain() domain.Council {
	return domain.Council{ID: r.ID, Slug: r.Slug, Name: r.Name, ContactEmail: r.ContactEmail,
		Phone: r.Phone, PublicEmail: r.PublicEmail, WebURL: r.WebURL, Address: r.Address,
		OpeningHours: r.OpeningHours, DecisionDays: r.DecisionDays, MedicalIntervalYears: r.MedicalIntervalYears,
		RefresherYears: r.RefresherYears, PaymentKeySet: r.PayAPIKeySealed != ""}
}

type feeRow struct {
	ID          int64
	CouncilID   int64
	TermYears   int
	AmountPence int64
	AppliesFrom domain.Date
	SetAt       time.Time
	SetBy       string
}

func (feeRow) TableName() string { return "council_fees" }

func (r feeRow) toDomain() domain.Fee {
	return domain.Fee{ID: r.ID, CouncilID: r.CouncilID, TermYears: r.TermYears, AmountPence: r.AmountPence,
		AppliesFrom: r.AppliesFrom, SetAt: r.SetAt.UTC(), SetBy: r.SetBy}
}

type driverRow struct {
	ID            int64
	CouncilID     int64
	LicenceNumber string
	GivenNames    string
	FamilyName    string
	DateOfBirth   domain.Date
	Email         string
	Phone         string
	Postcode      string
	LicenceStart  domain.Date
	LicenceExpiry domain.Date
	Status        string
	StatusFrom    domain.Date
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

func (driverRow) TableName() string { return "drivers" }

func (r driverRow) toDomain() domain.Driver {
	return domain.Driver{
		ID: r.ID, CouncilID: r.CouncilID, LicenceNumber: r.LicenceNumber,
		GivenNames: r.GivenNames, FamilyName: r.FamilyName, DateOfBirth: r.DateOfBirth,
		Email: r.Email, Phone: r.Phone, Postcode: r.Postcode,
		LicenceStart: r.LicenceStart, LicenceExpiry: r.LicenceExpiry, Status: r.Status, StatusFrom: r.StatusFrom,
	}
}

type leafletRow struct {
	ID            int64
	Audience      string
	Version       string
	Title         string
	Content       string
	ContentSHA256 string `gorm:"column:content_sha256"`
	QuizJSON      string `gorm:"column:quiz_json"`
	RequiresReack bool
	PublishedAt   time.Time
	PublishedBy   string
}

func (leafletRow) TableName() string { return "leaflets" }

func (r leafletRow) toDomain() (domain.LeafletVersion, error) {
	var quiz []leaflet.Question
	if err := json.Unmarshal([]byte(r.QuizJSON), &quiz); err != nil {
		return domain.LeafletVersion{}, err
	}
	return domain.LeafletVersion{
		ID: r.ID, Audience: r.Audience, Version: r.Version, Title: r.Title, Content: r.Content,
		ContentSHA256: r.ContentSHA256, Quiz: quiz, RequiresReack: r.RequiresReack,
		PublishedAt: r.PublishedAt.UTC(), PublishedBy: r.PublishedBy,
	}, nil
}

type evidenceRow struct {
	ID            int64
	Kind          string
	DriverID      int64
	CouncilID     int64
	LeafletID     int64
	ContentSHA256 string `gorm:"column:content_sha256"`
	Channel       string
	OccurredAt    time.Time
	RecordedAt    time.Time
	ActorKind     string
	ActorID       int64
	VoidsID       *int64
	Reason        string
}

func (evidenceRow) TableName() string { return "evidence" }

func (r evidenceRow) toDomain() domain.Evidence {
	e := domain.Evidence{
		ID: r.ID, Kind: domain.EvidenceKind(r.Kind), DriverID: r.DriverID, CouncilID: r.CouncilID,
		LeafletID: r.LeafletID, ContentSHA256: r.ContentSHA256, Channel: domain.Channel(r.Channel),
		OccurredAt: r.OccurredAt.UTC(), RecordedAt: r.RecordedAt.UTC(),
		ActorKind: r.ActorKind, ActorID: r.ActorID, Reason: r.Reason,
	}
	if r.VoidsID != nil {
		e.VoidsID = *r.VoidsID
	}
	return e
}

func evidenceRowOf(e domain.Evidence) evidenceRow {
	r := evidenceRow{
		Kind: string(e.Kind), DriverID: e.DriverID, CouncilID: e.CouncilID, LeafletID: e.LeafletID,
		ContentSHA256: e.ContentSHA256, Channel: string(e.Channel),
		OccurredAt: e.OccurredAt.UTC(), RecordedAt: e.RecordedAt.UTC(),
		ActorKind: e.ActorKind, ActorID: e.ActorID, Reason: e.Reason,
	}
	if e.VoidsID != 0 {
		v := e.VoidsID
		r.VoidsID = &v
	}
	return r
}

type renewalRow struct {
	ID             int64
	Reference      *string
	DriverID       int64
	CouncilID      int64
	Status         string
	AnswersJSON    string `gorm:"column:answers_json"`
	AckEvidenceID  *int64
	CreatedAt      time.Time
	UpdatedAt      time.Time
	SubmittedAt    *time.Time
	Channel        string
	DecidedAt      *time.Time
	DecidedBy      *int64
	DecisionReason string
	NR3SRecordedOn string `gorm:"column:nr3s_recorded_on"`
	NewExpiry      string
}

func (renewalRow) TableName() string { return "renewals" }

func (r renewalRow) toDomain() (domain.Renewal, error) {
	out := domain.Renewal{
		ID: r.ID, DriverID: r.DriverID, CouncilID: r.CouncilID, Status: domain.RenewalStatus(r.Status),
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}
	if r.Reference != nil {
		out.Reference = *r.Reference
	}
	if r.AckEvidenceID != nil {
		out.AckEvidenceID = *r.AckEvidenceID
	}
	if r.SubmittedAt != nil {
		out.SubmittedAt = r.SubmittedAt.UTC()
	}
	out.Channel, out.DecisionReason = r.Channel, r.DecisionReason
	if r.DecidedAt != nil {
		out.DecidedAt = r.DecidedAt.UTC()
	}
	if r.DecidedBy != nil {
		out.DecidedBy = *r.DecidedBy
	}
	if r.NR3SRecordedOn != "" {
		out.NR3SRecordedOn, _ = domain.ParseISODate(r.NR3SRecordedOn)
	}
	if r.NewExpiry != "" {
		out.NewExpiry, _ = domain.ParseISODate(r.NewExpiry)
	}
	if err := json.Unmarshal([]byte(r.AnswersJSON), &out.Answers); err != nil {
		return out, err
	}
	return out, nil
}

type signInCodeRow struct {
	ID        int64
	DriverID  int64
	CodeHash  string
	Attempts  int
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    *time.Time
}

func (signInCodeRow) TableName() string { return "sign_in_codes" }

type sessionRow struct {
	IDHash     string `gorm:"primaryKey"`
	Kind       string
	SubjectID  int64
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time
}

func (sessionRow) TableName() string { return "sessions" }

type outboxRow struct {
	ID            int64
	ToAddress     string
	Subject       string
	Body          string
	CreatedAt     time.Time
	SentAt        *time.Time
	Attempts      int
	LastError     string
	NextAttemptAt *time.Time
	ClaimedUntil  *time.Time
	FailedAt      *time.Time
}

func (outboxRow) TableName() string { return "outbox" }
