package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/herts-msp/taxi-renewals/internal/domain"
)

// evidenceExportQuery is the detail export's query, in evidence id order. It is also what
// the benchmark gives `sqlite3 -csv`.
const evidenceExportQuery = `SELECT e.id, e.kind, c.slug, d.licence_number, l.version, e.content_sha256, e.channel,
 CAST(e.occurred_at AS TEXT), CAST(e.recorded_at AS TEXT), e.actor_kind, e.actor_id, e.voids_id, e.reason
 FROM evidence e JOIN councils c ON c.id = e.council_id JOIN drivers d ON d.id = e.driver_id
 JOIN leaflets l ON l.id = e.leaflet_id`

// EvidenceExportSQL is the export's SQL for the given number of councils (placeholders).
func EvidenceExportSQL(councils int) string {
	q := evidenceExportQuery
	if councils > 0 {
		q += " WHERE e.council_id IN (?" + strings.Repeat(",?", councils-1) + ")"
	}
	return q + " ORDER BY e.id"
}

// StreamEvidence calls fn for every evidence record of the given councils (every council when
// councilIDs is empty), in id order, reading one row at a time: memory does not grow with the
// number of rows. It stops at the first error fn returns.
func (s *Store) StreamEvidence(ctx context.Context, councilIDs []int64, fn func(*domain.EvidenceExportRow) error) error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	args := make([]any, len(councilIDs))
	for i, id := range councilIDs {
		args[i] = id
	}
	rows, err := s.rawPool(sqlDB).QueryContext(ctx, EvidenceExportSQL(len(councilIDs)), args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	var r domain.EvidenceExportRow
	var occurred, recorded string
	for rows.Next() {
		if err := rows.Scan(&r.ID, &r.Kind, &r.CouncilSlug, &r.LicenceNumber, &r.LeafletVer, &r.ContentSHA256, &r.Channel,
			&occurred, &recorded, &r.ActorKind, &r.ActorID, &r.VoidsID, &r.Reason); err != nil {
			return err
		}
		if r.OccurredAt, err = rfc3339UTC(occurred); err != nil {
			return fmt.Errorf("evidence %d: occurred_at: %w", r.ID, err)
		}
		if r.RecordedAt, err = rfc3339UTC(recorded); err != nil {
			return fmt.Errorf("evidence %d: recorded_at: %w", r.ID, err)
		}
		if err := fn(&r); err != nil {
			return err
		}
	}
	return rows.Err()
}

// rfc3339UTC turns a stored time ("2006-01-02 15:04:05.999999999+00:00", as the SQLite driver
// writes a UTC time.Time) into RFC 3339 in UTC. The common UTC form is rewritten without
// parsing, which keeps the export fast; anything else is parsed and converted.
func rfc3339UTC(s string) (string, error) {
	if n := len(s); n >= 25 && s[10] == ' ' && s[n-6:] == "+00:00" {
		b := make([]byte, 0, n-5)
		b = append(b, s[:10]...)
		b = append(b, 'T')
		b = append(b, s[11:n-6]...)
		return string(append(b, 'Z')), nil
	}
	t, err := parseStoredTime(s)
	if err != nil {
		return "", err
	}
	return t.UTC().Format(time.RFC3339Nano), nil
}
