package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/herts-msp/taxi-renewals/internal/domain"
)

// Typed bulk writers: large histories (the synthetic generator, benchmarks) are loaded through
// these, in a BulkLoad transaction, so that no package above the store writes SQL of its own.
// Ids are given by the caller (NextIDs says where to start); BulkLoad moves PostgreSQL's id
// sequences past them before it commits.

// BulkDriver is one row of the register as loaded in bulk: the driver's current licence and
// status (the triggers record them in the licence and status histories).
type BulkDriver struct {
	ID, CouncilID                         int64
	LicenceNumber, GivenNames, FamilyName string
	DateOfBirth                           domain.Date
	Email, Phone, Postcode                string
	LicenceStart, LicenceExpiry           domain.Date
	Status                                string
	StatusFrom                            domain.Date // zero: not dated
	CreatedAt, UpdatedAt                  time.Time
}

// BulkLicencePeriod is an earlier licence period of a driver.
type BulkLicencePeriod struct {
	DriverID, CouncilID int64
	Start, Expiry       domain.Date
	RecordedAt          time.Time
}

// BulkEvidence is one evidence record. Voids is the id of the record it voids (0: none).
type BulkEvidence struct {
	ID                     int64
	Kind                   domain.EvidenceKind
	DriverID, CouncilID    int64
	LeafletID              int64
	ContentSHA256          string
	Channel                domain.Channel
	OccurredAt, RecordedAt time.Time
	ActorKind              string
	ActorID                int64
	Voids                  int64
	Reason                 string
}

// BulkRenewal is one renewal. Decided is zero while it is undecided.
type BulkRenewal struct {
	ID                   int64
	Reference            string
	DriverID, CouncilID  int64
	Status               domain.RenewalStatus
	AnswersJSON          string
	AckEvidenceID        int64
	CreatedAt, UpdatedAt time.Time
	Submitted            time.Time
	Channel              string
	Decided              time.Time
	DecisionReason       string
}

// bulkRows is how many rows go into one multi-row INSERT.
const bulkRows = 200

// insertRows inserts rows of width values each, bulkRows to a statement.
func (b *Bulk) insertRows(ctx context.Context, table, cols string, width int, args []any) error {
	row := "(" + strings.TrimSuffix(strings.Repeat("?, ", width), ", ") + ")"
	for len(args) > 0 {
		n := min(len(args)/width, bulkRows)
		q := "INSERT INTO " + table + " (" + cols + ") VALUES " + strings.TrimSuffix(strings.Repeat(row+", ", n), ", ")
		if _, err := b.Exec(ctx, q, args[:n*width]...); err != nil {
			return fmt.Errorf("insert into %s: %w", table, err)
		}
		args = args[n*width:]
	}
	return nil
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

func nullDate(d domain.Date) any {
	if d.IsZero() {
		return nil
	}
	return d.String()
}

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC()
}

// InsertDrivers loads drivers.
func (b *Bulk) InsertDrivers(ctx context.Context, rows []BulkDriver) error {
	args := make([]any, 0, 15*len(rows))
	for _, d := range rows {
		args = append(args, d.ID, d.CouncilID, d.LicenceNumber, d.GivenNames, d.FamilyName, d.DateOfBirth.String(), d.Email, d.Phone,
			d.Postcode, d.LicenceStart.String(), d.LicenceExpiry.String(), d.Status, nullDate(d.StatusFrom), d.CreatedAt.UTC(), d.UpdatedAt.UTC())
	}
	return b.insertRows(ctx, "drivers", "id, council_id, licence_number, given_names, family_name, date_of_birth, email, phone, postcode, licence_start, licence_expiry, status, status_from, created_at, updated_at", 15, args)
}

// InsertLicencePeriods loads earlier licence periods.
func (b *Bulk) InsertLicencePeriods(ctx context.Context, rows []BulkLicencePeriod) error {
	args := make([]any, 0, 5*len(rows))
	for _, p := range rows {
		args = append(args, p.DriverID, p.CouncilID, p.Start.String(), p.Expiry.String(), p.RecordedAt.UTC())
	}
	return b.insertRows(ctx, "licence_periods", "driver_id, council_id, licence_start, licence_expiry, recorded_at", 5, args)
}

// InsertEvidence loads evidence records.
func (b *Bulk) InsertEvidence(ctx context.Context, rows []BulkEvidence) error {
	args := make([]any, 0, 13*len(rows))
	for _, e := range rows {
		args = append(args, e.ID, string(e.Kind), e.DriverID, e.CouncilID, e.LeafletID, e.ContentSHA256, string(e.Channel),
			e.OccurredAt.UTC(), e.RecordedAt.UTC(), e.ActorKind, e.ActorID, nullID(e.Voids), e.Reason)
	}
	return b.insertRows(ctx, "evidence", "id, kind, driver_id, council_id, leaflet_id, content_sha256, channel, occurred_at, recorded_at, actor_kind, actor_id, voids_id, reason", 13, args)
}

// InsertRenewals loads renewals.
func (b *Bulk) InsertRenewals(ctx context.Context, rows []BulkRenewal) error {
	args := make([]any, 0, 13*len(rows))
	for _, r := range rows {
		args = append(args, r.ID, r.Reference, r.DriverID, r.CouncilID, string(r.Status), r.AnswersJSON, r.AckEvidenceID,
			r.CreatedAt.UTC(), r.UpdatedAt.UTC(), nullTime(r.Submitted), r.Channel, nullTime(r.Decided), r.DecisionReason)
	}
	return b.insertRows(ctx, "renewals", "id, reference, driver_id, council_id, status, answers_json, ack_evidence_id, created_at, updated_at, submitted_at, channel, decided_at, decision_reason", 13, args)
}

// EnsureCouncil adds a council unless one with the slug exists.
func (b *Bulk) EnsureCouncil(ctx context.Context, slug, name string) error {
	_, err := b.Exec(ctx, "INSERT INTO councils (slug, name) VALUES (?, ?) ON CONFLICT (slug) DO NOTHING", slug, name)
	return err
}

// NextIDs are the first free ids of the tables a bulk load gives ids in.
type NextIDs struct{ Driver, Evidence, Renewal int64 }

// NextBulkIDs reads the first free ids of drivers, evidence and renewals.
func (s *Store) NextBulkIDs(ctx context.Context) (NextIDs, error) {
	var n NextIDs
	err := s.db.WithContext(ctx).Raw(`SELECT (SELECT COALESCE(MAX(id), 0) + 1 FROM drivers),
 (SELECT COALESCE(MAX(id), 0) + 1 FROM evidence), (SELECT COALESCE(MAX(id), 0) + 1 FROM renewals)`).Row().Scan(&n.Driver, &n.Evidence, &n.Renewal)
	return n, err
}

// FirstCouncilIDs are the ids of the first n councils, in id order.
func (s *Store) FirstCouncilIDs(ctx context.Context, n int) ([]int64, error) {
	var ids []int64
	err := s.db.WithContext(ctx).Raw("SELECT id FROM councils ORDER BY id LIMIT ?", n).Scan(&ids).Error
	return ids, err
}
