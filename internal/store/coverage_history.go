package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/herts-msp/taxi-renewals/internal/domain"
)

// Streaming readers of what coverage is counted from: each driver's licence and status history
// and awareness records, every issue and acknowledgement record, every sent or decided renewal.
// The summaries are built from them, and the report's naive reference reads them too; the rules
// that turn them into figures are in domain/coverage.go.

// CoverageDriver is one driver as the coverage rules see them.
type CoverageDriver struct {
	ID        int64
	CouncilID int64
	History   domain.LicenceHistory
	// Records are the driver's non-voided issues and acknowledgements of driver leaflet versions.
	Records []domain.AwarenessRecord
}

// CoverageRecord is one issue or acknowledgement record of a driver leaflet version.
type CoverageRecord struct {
	ID        int64
	DriverID  int64
	CouncilID int64
	Kind      string
	Channel   string
	LeafletID int64
	Day       domain.Date // its London day
	Voided    bool        // a void record (recorded at any time) names it
}

// CoverageRenewal is a renewal that has been sent or decided: its council, status and days
// (zero when not sent or not decided).
type CoverageRenewal struct {
	CouncilID int64
	Status    domain.RenewalStatus
	Submitted domain.Date
	Decided   domain.Date
}

// CoverageInputs are the facts the rules need besides each driver's own history: the driver
// leaflet versions (oldest first) and each council's refresher interval.
type CoverageInputs struct {
	Leaflets  []domain.LeafletDay
	Refresher map[int64]int // council id -> years (0: none)
}

// Rules are the coverage rules for a driver of the council.
func (in CoverageInputs) Rules(council int64) domain.CoverageRules {
	return domain.CoverageRules{InForceUntil: domain.InForceUntil(in.Leaflets), RefresherYears: in.Refresher[council]}
}

// historyReader reads drivers' histories in one snapshot.
type historyReader struct {
	s      *Store
	snap   snapshot
	inputs CoverageInputs
	until  map[int64]domain.Date
	voided map[int64]bool
	byCnl  map[int64]domain.CoverageRules
}

func (s *Store) historyReader(ctx context.Context, snap snapshot) (*historyReader, error) {
	in, err := s.coverageInputs(ctx, snap.cp)
	if err != nil {
		return nil, err
	}
	h := &historyReader{s: s, snap: snap, inputs: in, until: domain.InForceUntil(in.Leaflets), voided: map[int64]bool{},
		byCnl: map[int64]domain.CoverageRules{}}
	for c, n := range in.Refresher {
		h.byCnl[c] = domain.CoverageRules{InForceUntil: h.until, RefresherYears: n}
	}
	rows, err := snap.cp.QueryContext(ctx, "SELECT voids_id FROM evidence WHERE voids_id IS NOT NULL")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		h.voided[id] = true
	}
	return h, rows.Err()
}

func (h *historyReader) rules(council int64) domain.CoverageRules {
	if r, ok := h.byCnl[council]; ok {
		return r
	}
	return domain.CoverageRules{InForceUntil: h.until}
}

func (s *Store) coverageInputs(ctx context.Context, cp gorm.ConnPool) (CoverageInputs, error) {
	in := CoverageInputs{Refresher: map[int64]int{}}
	// One statement (a round trip on PostgreSQL; writes run this to count themselves): the driver
	// leaflet versions in id order, then each council's refresher interval.
	rows, err := cp.QueryContext(ctx, `SELECT 0, id, CASE WHEN requires_reack THEN 1 ELSE 0 END, CAST(published_at AS TEXT) FROM leaflets WHERE audience = 'driver'
UNION ALL SELECT 1, id, refresher_years, '' FROM councils ORDER BY 1, 2`)
	if err != nil {
		return in, err
	}
	defer rows.Close()
	for rows.Next() {
		var part, n int
		var id int64
		var at string
		if err := rows.Scan(&part, &id, &n, &at); err != nil {
			return in, err
		}
		if part == 1 {
			in.Refresher[id] = n
			continue
		}
		l := domain.LeafletDay{ID: id, RequiresReack: n == 1}
		if l.Published, err = s.storedDay(at); err != nil {
			return in, err
		}
		in.Leaflets = append(in.Leaflets, l)
	}
	return in, rows.Err()
}

// storedDay is the London day of a timestamp as the database gives it as text.
func (s *Store) storedDay(at string) (domain.Date, error) {
	t, err := parseStoredTime(at)
	if err != nil {
		return domain.Date{}, err
	}
	return s.londonDay(t), nil
}

func parseStoredTime(s string) (time.Time, error) {
	// The last two are PostgreSQL's text form of a timestamptz ("+00" in a UTC session).
	for _, layout := range []string{"2006-01-02 15:04:05.999999999-07:00", "2006-01-02T15:04:05.999999999-07:00",
		"2006-01-02 15:04:05.999999999Z07:00", "2006-01-02T15:04:05.999999999Z07:00", "2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999",
		"2006-01-02 15:04:05.999999999-07", "2006-01-02 15:04:05.999999999-07:00:00", time.RFC3339Nano} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("unreadable time %q", s)
}

// cursor reads rows ordered by driver id, one driver's rows at a time.
type cursor struct {
	rows *sql.Rows
	has  bool
	err  error
	scan func() (int64, error) // scans the current row, returning its driver id
	cur  int64
}

func (c *cursor) next() {
	c.has = c.rows.Next()
	if !c.has {
		c.err = c.rows.Err()
		return
	}
	c.cur, c.err = c.scan()
	if c.err != nil {
		c.has = false
	}
}

// sweep reads drivers, their licence and status histories (each in the order recorded) and their
// evidence side by side in driver order, and calls driver for each driver and record for each
// issue or acknowledgement record of a driver leaflet version. The values passed are reused:
// copy what you keep.
func (h *historyReader) sweep(ctx context.Context, driver func(*CoverageDriver) error, record func(*CoverageRecord) error) error {
	st := h.snap.streams
	drows, err := st[0].QueryContext(ctx, "SELECT id, council_id FROM drivers ORDER BY id")
	if err != nil {
		return err
	}
	defer drows.Close()
	prows, err := st[1].QueryContext(ctx, "SELECT driver_id, licence_start, licence_expiry FROM licence_periods ORDER BY driver_id, id")
	if err != nil {
		return err
	}
	defer prows.Close()
	srows, err := st[2].QueryContext(ctx, "SELECT driver_id, status, effective_from FROM licence_statuses ORDER BY driver_id, id")
	if err != nil {
		return err
	}
	defer srows.Close()
	erows, err := st[3].QueryContext(ctx, `SELECT id, driver_id, council_id, kind, channel, leaflet_id, CAST(occurred_at AS TEXT)
FROM evidence WHERE kind IN ('issue', 'acknowledgement') ORDER BY driver_id, id`)
	if err != nil {
		return err
	}
	defer erows.Close()

	var lic domain.LicenceRecord
	pc := &cursor{rows: prows}
	pc.scan = func() (int64, error) {
		var id int64
		var a, b string
		if err := prows.Scan(&id, &a, &b); err != nil {
			return 0, err
		}
		var err error
		if lic.Start, err = domain.ParseISODate(a); err == nil {
			lic.Expiry, err = domain.ParseISODate(b)
		}
		return id, err
	}
	var status domain.StatusRecord
	sc := &cursor{rows: srows}
	sc.scan = func() (int64, error) {
		var id int64
		var from string
		if err := srows.Scan(&id, &status.Status, &from); err != nil {
			return 0, err
		}
		var err error
		status.From, err = domain.ParseISODate(from)
		return id, err
	}
	var rec CoverageRecord
	ec := &cursor{rows: erows}
	ec.scan = func() (int64, error) {
		var at string
		if err := erows.Scan(&rec.ID, &rec.DriverID, &rec.CouncilID, &rec.Kind, &rec.Channel, &rec.LeafletID, &at); err != nil {
			return 0, err
		}
		var err error
		rec.Day, err = h.s.storedDay(at)
		rec.Voided = h.voided[rec.ID]
		return rec.DriverID, err
	}
	pc.next()
	sc.next()
	ec.next()

	var d CoverageDriver
	for drows.Next() {
		if err := drows.Scan(&d.ID, &d.CouncilID); err != nil {
			return err
		}
		d.History.Licences, d.History.Statuses, d.Records = d.History.Licences[:0], d.History.Statuses[:0], d.Records[:0]
		for pc.has && pc.cur < d.ID {
			pc.next()
		}
		for ; pc.has && pc.cur == d.ID; pc.next() {
			d.History.Licences = append(d.History.Licences, lic)
		}
		for sc.has && sc.cur < d.ID {
			sc.next()
		}
		for ; sc.has && sc.cur == d.ID; sc.next() {
			d.History.Statuses = append(d.History.Statuses, status)
		}
		for ec.has && ec.cur < d.ID {
			ec.next()
		}
		for ; ec.has && ec.cur == d.ID; ec.next() {
			if _, driverLeaflet := h.until[rec.LeafletID]; !driverLeaflet {
				continue
			}
			if record != nil {
				if err := record(&rec); err != nil {
					return err
				}
			}
			if !rec.Voided {
				d.Records = append(d.Records, domain.AwarenessRecord{Kind: domain.EvidenceKind(rec.Kind), Day: rec.Day, LeafletID: rec.LeafletID})
			}
		}
		if driver != nil {
			if err := driver(&d); err != nil {
				return err
			}
		}
	}
	if err := drows.Err(); err != nil {
		return err
	}
	for _, c := range []*cursor{pc, sc, ec} {
		if c.err != nil {
			return c.err
		}
	}
	return nil
}

// scanRenewals calls fn for every renewal that has been sent or decided.
func (s *Store) scanRenewals(ctx context.Context, cp gorm.ConnPool, fn func(CoverageRenewal) error) error {
	rows, err := cp.QueryContext(ctx, `SELECT council_id, status, CAST(submitted_at AS TEXT), CAST(decided_at AS TEXT)
FROM renewals WHERE submitted_at IS NOT NULL OR decided_at IS NOT NULL`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var r CoverageRenewal
		var status string
		var submitted, decided sql.NullString
		if err := rows.Scan(&r.CouncilID, &status, &submitted, &decided); err != nil {
			return err
		}
		r.Status = domain.RenewalStatus(status)
		if submitted.Valid {
			if r.Submitted, err = s.storedDay(submitted.String); err != nil {
				return err
			}
		}
		if decided.Valid {
			if r.Decided, err = s.storedDay(decided.String); err != nil {
				return err
			}
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	return rows.Err()
}

// CoverageHistory reads, in one read snapshot, what coverage is counted from: the rules' inputs
// (returned), every driver with their histories and awareness records (driver, in driver id
// order), every issue and acknowledgement record of a driver leaflet version (record) and every
// sent or decided renewal (renewal). Any callback may be nil. Values passed by pointer are
// reused between calls: copy what you keep.
func (s *Store) CoverageHistory(ctx context.Context, driver func(*CoverageDriver) error, record func(*CoverageRecord) error,
	renewal func(CoverageRenewal) error) (CoverageInputs, error) {
	var in CoverageInputs
	err := s.readSnapshot(ctx, func(snap snapshot) error {
		h, err := s.historyReader(ctx, snap)
		if err != nil {
			return err
		}
		in = h.inputs
		if driver != nil || record != nil {
			if err := h.sweep(ctx, driver, record); err != nil {
				return err
			}
		}
		if renewal != nil {
			return s.scanRenewals(ctx, snap.cp, renewal)
		}
		return nil
	})
	return in, err
}
