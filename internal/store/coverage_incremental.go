package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"gorm.io/gorm"

	"github.com/herts-msp/taxi-renewals/internal/domain"
)

// Incremental coverage summaries (migration 0012). The triggers note, in each writing
// transaction, the drivers, evidence records and renewals it touched (coverage_dirty_drivers,
// coverage_pending_evidence, coverage_pending_renewals: rows of that transaction's own). Before
// the store's write transactions commit (transaction, driverTransaction, BulkLoad)
// updateCoverage takes those notes and works out how the summaries change for them:
//   - a touched driver's old contribution to coverage_stock (kept in coverage_driver_changes, the
//     driver's own rows) is taken away and their new one, from domain.CoverageRules.StateChanges,
//     added;
//   - a new issue or acknowledgement of a driver leaflet version adds one to its coverage_evidence
//     cell, and the first void of one takes one away;
//   - a renewal change takes its old values away from coverage_renewals and adds its new ones.
//
// It does not update the summary rows, which every writer of a council on a day shares (on
// PostgreSQL a writer holds the locks of the rows it updated until it commits, so writers of a
// council would run one after another): it appends the changes, by day, to the delta tables
// (coverage_stock_delta, coverage_evidence_delta, coverage_renewals_delta; INSERT only). A report
// sums summaries and deltas in one statement per table, in one read snapshot (readSums). A fold
// (FoldCoverageDeltas: every few seconds from "serve", and from a report finding more than
// CoverageFoldAt) deletes deltas and adds them to the summaries in one short transaction.
//
// A write that reaches every driver (a driver leaflet version requiring re-acknowledgement) asks
// for a full rebuild (coverage_rebuild_needed); the store's exclusive write transactions
// (transaction, BulkLoad: officer and admin writes, bulk loads) do it before they commit. The
// driver's own journey (driverTransaction) never rebuilds: it writes nothing that needs one.
// A council's refresher interval change recomputes the council's drivers, in the admin's
// (exclusive) transaction.
//
// The summaries are current when coverage_summary_state has its row (written by a build, and
// by nothing else) and no rebuild is asked for. When they have never been built (a new
// database, or just migrated) nothing is counted: the notes wait for the first build, which
// clears them.

// coverageChunk is how many drivers are read and recomputed at a time.
const coverageChunk = 500

// coverageNotes is what is pending for the summaries.
type coverageNotes struct {
	built, rebuild        bool
	dirty, evidence, renw bool // notes of each kind are left
}

func (n coverageNotes) pending() bool { return n.dirty || n.evidence || n.renw }

func readCoverageNotes(ctx context.Context, cp gorm.ConnPool) (coverageNotes, error) {
	var n coverageNotes
	var built, rebuild, dirty, ev, ren int
	err := cp.QueryRowContext(ctx, `SELECT
 (SELECT COUNT(*) FROM coverage_summary_state),
 (SELECT COUNT(*) FROM coverage_rebuild_needed),
 (SELECT COUNT(*) FROM (SELECT 1 FROM coverage_dirty_drivers LIMIT 1) a),
 (SELECT COUNT(*) FROM (SELECT 1 FROM coverage_pending_evidence LIMIT 1) b),
 (SELECT COUNT(*) FROM (SELECT 1 FROM coverage_pending_renewals LIMIT 1) c)`).Scan(&built, &rebuild, &dirty, &ev, &ren)
	n.built, n.rebuild, n.dirty, n.evidence, n.renw = built > 0, rebuild > 0, dirty > 0, ev > 0, ren > 0
	return n, err
}

func (n coverageNotes) current() bool { return n.built && !n.rebuild && !n.pending() }

// coverageStats counts the store's coverage work, for tests and benchmarks.
type coverageStats struct {
	catchUps   atomic.Int64 // reports that found the summaries not current
	updates    atomic.Int64 // write transactions that had something to count
	statements atomic.Int64 // statements those ran for it (each a round trip on PostgreSQL)
	folds      atomic.Int64 // delta rows folded into the summaries
}

// CoverageWriteStatements says how many write transactions have had something to count for the
// summaries, and how many statements they ran for it (the notes' read included), since Open.
func (s *Store) CoverageWriteStatements() (writes, statements int64) {
	return s.coverage.updates.Load(), s.coverage.statements.Load()
}

// countingPool counts the statements run through it.
type countingPool struct {
	gorm.ConnPool
	n *int64
}

func (c countingPool) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	*c.n++
	return c.ConnPool.ExecContext(ctx, q, args...)
}

func (c countingPool) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	*c.n++
	return c.ConnPool.QueryContext(ctx, q, args...)
}

func (c countingPool) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	*c.n++
	return c.ConnPool.QueryRowContext(ctx, q, args...)
}

// updateCoverage counts what the transaction cp has written (and anything else noted) as deltas.
// With mayRebuild it rebuilds the summaries in full when a write asked for it; without, such a
// request is left for the next exclusive write or report.
func (s *Store) updateCoverage(ctx context.Context, cp gorm.ConnPool, mayRebuild bool) error {
	n, err := readCoverageNotes(ctx, cp)
	if err != nil || !n.built || !n.rebuild && !n.pending() {
		return err
	}
	if n.rebuild {
		if !mayRebuild {
			return nil
		}
		_, err := s.rebuildCoverage(ctx, cp)
		return err
	}
	statements := int64(1) // the notes' read
	err = s.applyCoverageNotes(ctx, countingPool{cp, &statements}, n)
	s.coverage.updates.Add(1)
	s.coverage.statements.Add(statements)
	return err
}

// stockDelta is a change of the four stock figures: licensed, aware, outstanding, ever aware.
type stockDelta = [4]int

// driverChange is one row of coverage_driver_changes.
type driverChange struct {
	driver int64
	day    int32
	delta  stockDelta
	cnl    int64
}

// driverChanges turns a driver's state changes into their contribution to coverage_stock.
func driverChanges(id, council int64, changes []domain.StateChange) []driverChange {
	out := make([]driverChange, 0, len(changes))
	var prev stockDelta
	for _, c := range changes {
		now := stockDelta{one(c.State.Licensed), one(c.State.Aware), one(c.State.Outstanding), one(c.State.EverAware)}
		var d stockDelta
		for j := range d {
			d[j] = now[j] - prev[j]
		}
		prev = now
		if d != (stockDelta{}) {
			out = append(out, driverChange{id, DayNumber(c.Day), d, council})
		}
	}
	return out
}

// coverageDeltas are changes to be added to the three summary tables, by day.
type coverageDeltas struct {
	stock   map[stockKey]*stockDelta
	flows   map[flowKey]int
	renewal map[stockKey]*[3]int
}

func newCoverageDeltas() *coverageDeltas {
	return &coverageDeltas{stock: map[stockKey]*stockDelta{}, flows: map[flowKey]int{}, renewal: map[stockKey]*[3]int{}}
}

func (d *coverageDeltas) addStock(c driverChange, sign int) {
	k := stockKey{c.cnl, c.day}
	v := d.stock[k]
	if v == nil {
		v = &stockDelta{}
		d.stock[k] = v
	}
	for j := range v {
		v[j] += sign * c.delta[j]
	}
}

func (d *coverageDeltas) addRenewal(r CoverageRenewal, sign int) {
	add := func(day domain.Date, col int) {
		k := stockKey{r.CouncilID, DayNumber(day)}
		v := d.renewal[k]
		if v == nil {
			v = &[3]int{}
			d.renewal[k] = v
		}
		v[col] += sign
	}
	if !r.Submitted.IsZero() {
		add(r.Submitted, 0)
	}
	if !r.Decided.IsZero() {
		switch r.Status {
		case domain.StatusApproved:
			add(r.Decided, 1)
		case domain.StatusRefused:
			add(r.Decided, 2)
		}
	}
}

// driverHistories reads the histories of the drivers whose ids satisfy cond (on a column named
// by its argument), in one statement (a write counting itself runs this: on PostgreSQL each
// statement is a round trip). Each driver's Records are their non-voided issues and
// acknowledgements of driver leaflet versions; record, when set, is also called for each of
// those records, voided or not.
func (s *Store) driverHistories(ctx context.Context, cp gorm.ConnPool, until map[int64]domain.Date, cond func(col string) string, args []any,
	record func(*CoverageRecord)) ([]CoverageDriver, error) {
	var drivers []CoverageDriver
	at := map[int64]int{}
	var recs []CoverageRecord
	voided := map[int64]bool{}
	// part, driver, row id, four texts, council, leaflet, voids: drivers (0), licence periods (1),
	// statuses (2), evidence (3), each in id order within the driver.
	const null = "CAST(NULL AS BIGINT)"
	query := "SELECT 0, id, id, '', '', '', '', council_id, " + null + ", " + null + " FROM drivers WHERE " + cond("id") +
		" UNION ALL SELECT 1, driver_id, id, licence_start, licence_expiry, '', '', " + null + ", " + null + ", " + null + " FROM licence_periods WHERE " + cond("driver_id") +
		" UNION ALL SELECT 2, driver_id, id, status, effective_from, '', '', " + null + ", " + null + ", " + null + " FROM licence_statuses WHERE " + cond("driver_id") +
		" UNION ALL SELECT 3, driver_id, id, kind, channel, CAST(occurred_at AS TEXT), '', council_id, leaflet_id, voids_id FROM evidence WHERE " + cond("driver_id") +
		" ORDER BY 1, 2, 3"
	all := make([]any, 0, 4*len(args))
	for range 4 {
		all = append(all, args...)
	}
	err := queryEach(ctx, cp, query, all, func(rows *sql.Rows) error {
		var part int
		var driver, id int64
		var t1, t2, t3, t4 string
		var council, leaflet, voids sql.NullInt64
		if err := rows.Scan(&part, &driver, &id, &t1, &t2, &t3, &t4, &council, &leaflet, &voids); err != nil {
			return err
		}
		i, known := at[driver]
		var err error
		switch part {
		case 0:
			at[driver] = len(drivers)
			drivers = append(drivers, CoverageDriver{ID: driver, CouncilID: council.Int64})
		case 1:
			var r domain.LicenceRecord
			if r.Start, err = domain.ParseISODate(t1); err == nil {
				r.Expiry, err = domain.ParseISODate(t2)
			}
			if known && err == nil {
				drivers[i].History.Licences = append(drivers[i].History.Licences, r)
			}
		case 2:
			r := domain.StatusRecord{Status: t1}
			r.From, err = domain.ParseISODate(t2)
			if known && err == nil {
				drivers[i].History.Statuses = append(drivers[i].History.Statuses, r)
			}
		case 3:
			if voids.Valid {
				voided[voids.Int64] = true
			}
			if t1 != string(domain.KindIssue) && t1 != string(domain.KindAcknowledgement) {
				return nil
			}
			if _, driverLeaflet := until[leaflet.Int64]; !driverLeaflet {
				return nil
			}
			r := CoverageRecord{ID: id, DriverID: driver, CouncilID: council.Int64, Kind: t1, Channel: t2, LeafletID: leaflet.Int64}
			r.Day, err = s.storedDay(t3)
			recs = append(recs, r)
		}
		return err
	})
	if err != nil || len(drivers) == 0 {
		return drivers, err
	}
	for i := range recs {
		r := &recs[i]
		r.Voided = voided[r.ID]
		if record != nil {
			record(r)
		}
		if j, ok := at[r.DriverID]; ok && !r.Voided {
			drivers[j].Records = append(drivers[j].Records, domain.AwarenessRecord{Kind: domain.EvidenceKind(r.Kind), Day: r.Day, LeafletID: r.LeafletID})
		}
	}
	return drivers, nil
}

func queryEach(ctx context.Context, cp gorm.ConnPool, query string, args []any, each func(*sql.Rows) error) error {
	rows, err := cp.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := each(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// idsIn is a condition "col IN (?, ...)" for the ids.
func idsIn(ids []int64) (func(string) string, []any) {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	list := "(?" + strings.Repeat(", ?", len(ids)-1) + ")"
	return func(col string) string { return col + " IN " + list }, args
}

func rulesFor(in CoverageInputs, until map[int64]domain.Date) func(int64) domain.CoverageRules {
	return func(council int64) domain.CoverageRules {
		return domain.CoverageRules{InForceUntil: until, RefresherYears: in.Refresher[council]}
	}
}

// applyCoverageNotes counts what the notes n name as deltas and clears the notes. Each note
// table is read and cleared by one DELETE ... RETURNING; the deltas are appended by one INSERT
// per table (never an UPDATE of a row another writer shares).
func (s *Store) applyCoverageNotes(ctx context.Context, cp gorm.ConnPool, n coverageNotes) error {
	deltas := newCoverageDeltas()
	var until map[int64]domain.Date
	if n.dirty || n.evidence {
		in, err := s.coverageInputs(ctx, cp)
		if err != nil {
			return err
		}
		until = domain.InForceUntil(in.Leaflets)
		rules := rulesFor(in, until)

		// Drivers.
		var dirty []int64
		err = queryEach(ctx, cp, "DELETE FROM coverage_dirty_drivers RETURNING driver_id", nil, func(rows *sql.Rows) error {
			var id int64
			err := rows.Scan(&id)
			dirty = append(dirty, id)
			return err
		})
		if err != nil {
			return err
		}
		slices.Sort(dirty)
		for chunk := range slices.Chunk(dirty, coverageChunk) {
			cond, args := idsIn(chunk)
			err := queryEach(ctx, cp, "DELETE FROM coverage_driver_changes WHERE "+cond("driver_id")+
				" RETURNING driver_id, day, council_id, licensed, aware, outstanding, ever_aware", args, func(rows *sql.Rows) error {
				var c driverChange
				var day string
				if err := rows.Scan(&c.driver, &day, &c.cnl, &c.delta[0], &c.delta[1], &c.delta[2], &c.delta[3]); err != nil {
					return err
				}
				d, err := domain.ParseISODate(day)
				c.day = DayNumber(d)
				deltas.addStock(c, -1)
				return err
			})
			if err != nil {
				return err
			}
			drivers, err := s.driverHistories(ctx, cp, until, cond, args, nil)
			if err != nil {
				return err
			}
			var rows []driverChange
			for _, d := range drivers {
				for _, c := range driverChanges(d.ID, d.CouncilID, rules(d.CouncilID).StateChanges(d.History, d.Records)) {
					deltas.addStock(c, 1)
					rows = append(rows, c)
				}
			}
			if err := insertDriverChanges(ctx, cp, rows); err != nil {
				return err
			}
		}
	}

	// Evidence records: new issues and acknowledgements count one, the first void of one takes it
	// away. (IN, not a join: SQLite would otherwise walk the whole evidence table in id order.)
	if n.evidence {
		type pendingRecord struct {
			id, driver, council, leaflet int64
			kind, channel, at            string
			voids                        sql.NullInt64
			earlier                      int // voids of the record this one voids, before this one
		}
		var ids []int64
		err := queryEach(ctx, cp, "DELETE FROM coverage_pending_evidence RETURNING evidence_id", nil, func(rows *sql.Rows) error {
			var id int64
			err := rows.Scan(&id)
			ids = append(ids, id)
			return err
		})
		if err != nil {
			return err
		}
		slices.Sort(ids)
		var pending, voided []pendingRecord
		for chunk := range slices.Chunk(ids, coverageChunk) {
			cond, args := idsIn(chunk)
			err = queryEach(ctx, cp, `SELECT e.id, e.driver_id, e.council_id, e.leaflet_id, e.kind, e.channel, CAST(e.occurred_at AS TEXT), e.voids_id
FROM evidence e WHERE `+cond("e.id")+" ORDER BY e.id", args, func(rows *sql.Rows) error {
				var r pendingRecord
				err := rows.Scan(&r.id, &r.driver, &r.council, &r.leaflet, &r.kind, &r.channel, &r.at, &r.voids)
				pending = append(pending, r)
				return err
			})
			if err != nil {
				return err
			}
		}
		count := func(r pendingRecord, sign int) error {
			if r.kind != string(domain.KindIssue) && r.kind != string(domain.KindAcknowledgement) {
				return nil
			}
			if _, driverLeaflet := until[r.leaflet]; !driverLeaflet {
				return nil
			}
			day, err := s.storedDay(r.at)
			deltas.flows[flowKey{DayNumber(day), r.council, r.kind, r.channel, r.leaflet}] += sign
			return err
		}
		for _, r := range pending {
			if !r.voids.Valid {
				if err := count(r, 1); err != nil {
					return err
				}
				continue
			}
			var t pendingRecord
			err := cp.QueryRowContext(ctx, `SELECT e.id, e.driver_id, e.council_id, e.leaflet_id, e.kind, e.channel, CAST(e.occurred_at AS TEXT),
 (SELECT COUNT(*) FROM evidence v WHERE v.driver_id = e.driver_id AND v.voids_id = e.id AND v.id < ?)
FROM evidence e WHERE e.id = ?`, r.id, r.voids.Int64).Scan(&t.id, &t.driver, &t.council, &t.leaflet, &t.kind, &t.channel, &t.at, &t.earlier)
			if errors.Is(err, sql.ErrNoRows) {
				continue
			}
			if err != nil {
				return err
			}
			voided = append(voided, t)
		}
		for _, t := range voided {
			if t.earlier == 0 {
				if err := count(t, -1); err != nil {
					return err
				}
			}
		}
	}

	// Renewals.
	if n.renw {
		err := queryEach(ctx, cp, "DELETE FROM coverage_pending_renewals RETURNING sign, council_id, status, CAST(submitted_at AS TEXT), CAST(decided_at AS TEXT)", nil, func(rows *sql.Rows) error {
			var sign int
			var r CoverageRenewal
			var status string
			var submitted, decided sql.NullString
			if err := rows.Scan(&sign, &r.CouncilID, &status, &submitted, &decided); err != nil {
				return err
			}
			r.Status = domain.RenewalStatus(status)
			var err error
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
			deltas.addRenewal(r, sign)
			return nil
		})
		if err != nil {
			return err
		}
	}
	if err := deltas.appendTo(ctx, cp); err != nil {
		return fmt.Errorf("append coverage deltas: %w", err)
	}
	return nil
}

// insertRows inserts rows of width columns into table, a few hundred to a statement.
func insertRows(ctx context.Context, cp gorm.ConnPool, table, columns string, width int, rows [][]any) error {
	const perStatement = 400
	for chunk := range slices.Chunk(rows, perStatement) {
		var b strings.Builder
		b.WriteString("INSERT INTO " + table + " (" + columns + ") VALUES ")
		one := "(?" + strings.Repeat(", ?", width-1) + ")"
		args := make([]any, 0, width*len(chunk))
		for i, r := range chunk {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(one)
			args = append(args, r...)
		}
		if _, err := cp.ExecContext(ctx, b.String(), args...); err != nil {
			return err
		}
	}
	return nil
}

func insertDriverChanges(ctx context.Context, cp gorm.ConnPool, rows []driverChange) error {
	vals := make([][]any, len(rows))
	for i, c := range rows {
		vals[i] = []any{c.driver, DateOfDay(c.day).String(), c.cnl, c.delta[0], c.delta[1], c.delta[2], c.delta[3]}
	}
	return insertRows(ctx, cp, "coverage_driver_changes", "driver_id, day, council_id, licensed, aware, outstanding, ever_aware", 7, vals)
}

// appendTo appends the non-zero deltas, by day, to the delta tables: INSERTs only.
func (d *coverageDeltas) appendTo(ctx context.Context, cp gorm.ConnPool) error {
	var stock, flows, renewals [][]any
	for k, v := range d.stock {
		if *v != (stockDelta{}) {
			stock = append(stock, []any{DateOfDay(k.day).String(), k.council, v[0], v[1], v[2], v[3]})
		}
	}
	for k, n := range d.flows {
		if n != 0 {
			flows = append(flows, []any{DateOfDay(k.day).String(), k.council, k.kind, k.channel, k.leaflet, n})
		}
	}
	for k, v := range d.renewal {
		if *v != ([3]int{}) {
			renewals = append(renewals, []any{DateOfDay(k.day).String(), k.council, v[0], v[1], v[2]})
		}
	}
	if err := insertRows(ctx, cp, "coverage_stock_delta", "day, council_id, licensed, aware, outstanding, ever_aware", 6, stock); err != nil {
		return err
	}
	if err := insertRows(ctx, cp, "coverage_evidence_delta", "day, council_id, kind, channel, leaflet_id, n", 6, flows); err != nil {
		return err
	}
	return insertRows(ctx, cp, "coverage_renewals_delta", "day, council_id, submitted, approved, refused", 5, renewals)
}

// apply adds the deltas to the summary tables at both grains, in key order (so that writers
// side by side on PostgreSQL take the rows' locks in the same order).
func (d *coverageDeltas) apply(ctx context.Context, cp gorm.ConnPool) error {
	type gk struct {
		grain string
		day   int32
	}
	month := func(day int32) int32 { return DayNumber(monthOf(DateOfDay(day))) }
	grainsOf := func(day int32) []gk { return []gk{{"d", day}, {"m", month(day)}} }

	type stockRow struct {
		g   gk
		cnl int64
		v   stockDelta
	}
	stock := map[[2]int64]*stockRow{}
	for k, v := range d.stock {
		if *v == (stockDelta{}) {
			continue
		}
		for i, g := range grainsOf(k.day) {
			key := [2]int64{int64(g.day)*4 + int64(i), k.council}
			r := stock[key]
			if r == nil {
				r = &stockRow{g: g, cnl: k.council}
				stock[key] = r
			}
			for j := range r.v {
				r.v[j] += v[j]
			}
		}
	}
	renewals := map[[2]int64]*stockRow{}
	for k, v := range d.renewal {
		if *v == [3]int{} {
			continue
		}
		for i, g := range grainsOf(k.day) {
			key := [2]int64{int64(g.day)*4 + int64(i), k.council}
			r := renewals[key]
			if r == nil {
				r = &stockRow{g: g, cnl: k.council}
				renewals[key] = r
			}
			for j := range 3 {
				r.v[j] += v[j]
			}
		}
	}
	type flowRow struct {
		g gk
		k flowKey
		n int
	}
	flows := map[flowKey]*flowRow{}
	for k, n := range d.flows {
		if n == 0 {
			continue
		}
		for _, g := range grainsOf(k.day) {
			fk := k
			fk.day = g.day
			if g.grain == "m" {
				fk.day = -g.day - 1 // keeps the two grains apart in the map
			}
			r := flows[fk]
			if r == nil {
				r = &flowRow{g: g, k: k}
				flows[fk] = r
			}
			r.n += n
		}
	}
	sortedStock := func(m map[[2]int64]*stockRow) []*stockRow {
		out := make([]*stockRow, 0, len(m))
		for _, r := range m {
			if r.v != (stockDelta{}) {
				out = append(out, r)
			}
		}
		slices.SortFunc(out, func(a, b *stockRow) int {
			return cmp.Or(cmp.Compare(a.g.grain, b.g.grain), cmp.Compare(a.g.day, b.g.day), cmp.Compare(a.cnl, b.cnl))
		})
		return out
	}
	exec := func(query string, rows int, args func(i int) []any) error {
		if rows == 0 {
			return nil
		}
		st, err := cp.PrepareContext(ctx, query)
		if err != nil {
			return err
		}
		defer st.Close()
		for i := range rows {
			if _, err := st.ExecContext(ctx, args(i)...); err != nil {
				return err
			}
		}
		return nil
	}
	sr := sortedStock(stock)
	err := exec(`INSERT INTO coverage_stock (grain, council_id, day, licensed, aware, outstanding, ever_aware) VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (grain, day, council_id) DO UPDATE SET licensed = coverage_stock.licensed + excluded.licensed,
 aware = coverage_stock.aware + excluded.aware, outstanding = coverage_stock.outstanding + excluded.outstanding,
 ever_aware = coverage_stock.ever_aware + excluded.ever_aware`, len(sr), func(i int) []any {
		r := sr[i]
		return []any{r.g.grain, r.cnl, DateOfDay(r.g.day).String(), r.v[0], r.v[1], r.v[2], r.v[3]}
	})
	if err != nil {
		return err
	}
	fr := make([]*flowRow, 0, len(flows))
	for _, r := range flows {
		if r.n != 0 {
			fr = append(fr, r)
		}
	}
	slices.SortFunc(fr, func(a, b *flowRow) int {
		return cmp.Or(cmp.Compare(a.g.grain, b.g.grain), cmp.Compare(a.g.day, b.g.day), cmp.Compare(a.k.council, b.k.council),
			cmp.Compare(a.k.kind, b.k.kind), cmp.Compare(a.k.channel, b.k.channel), cmp.Compare(a.k.leaflet, b.k.leaflet))
	})
	err = exec(`INSERT INTO coverage_evidence (grain, day, council_id, kind, channel, leaflet_id, n) VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (grain, day, council_id, kind, channel, leaflet_id) DO UPDATE SET n = coverage_evidence.n + excluded.n`, len(fr), func(i int) []any {
		r := fr[i]
		return []any{r.g.grain, DateOfDay(r.g.day).String(), r.k.council, r.k.kind, r.k.channel, r.k.leaflet, r.n}
	})
	if err != nil {
		return err
	}
	// A cell a void has emptied goes, as a rebuild would not write it (the report would
	// otherwise show a channel or version with 0). Stock and renewal cells left at zero add
	// nothing and stay.
	var emptied []*flowRow
	for _, r := range fr {
		if r.n < 0 {
			emptied = append(emptied, r)
		}
	}
	err = exec(`DELETE FROM coverage_evidence WHERE grain = ? AND day = ? AND council_id = ? AND kind = ? AND channel = ? AND leaflet_id = ? AND n = 0`,
		len(emptied), func(i int) []any {
			r := emptied[i]
			return []any{r.g.grain, DateOfDay(r.g.day).String(), r.k.council, r.k.kind, r.k.channel, r.k.leaflet}
		})
	if err != nil {
		return err
	}
	rr := sortedStock(renewals)
	return exec(`INSERT INTO coverage_renewals (grain, council_id, day, submitted, approved, refused) VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (grain, day, council_id) DO UPDATE SET submitted = coverage_renewals.submitted + excluded.submitted,
 approved = coverage_renewals.approved + excluded.approved, refused = coverage_renewals.refused + excluded.refused`, len(rr), func(i int) []any {
		r := rr[i]
		return []any{r.g.grain, r.cnl, DateOfDay(r.g.day).String(), r.v[0], r.v[1], r.v[2]}
	})
}

// rebuildCoverage rebuilds every summary, and every driver's contribution, from the raw tables
// in the write transaction cp, a chunk of drivers at a time, and clears every note.
func (s *Store) rebuildCoverage(ctx context.Context, cp gorm.ConnPool) (time.Duration, error) {
	start := time.Now()
	in, err := s.coverageInputs(ctx, cp)
	if err != nil {
		return 0, err
	}
	until := domain.InForceUntil(in.Leaflets)
	rules := rulesFor(in, until)
	for _, t := range []string{"coverage_driver_changes", "coverage_dirty_drivers", "coverage_pending_evidence", "coverage_pending_renewals", "coverage_rebuild_needed",
		"coverage_stock_delta", "coverage_evidence_delta", "coverage_renewals_delta"} {
		if _, err := cp.ExecContext(ctx, "DELETE FROM "+t); err != nil {
			return 0, err
		}
	}
	b := &summaryBuilder{stock: map[stockKey]*[4]int{}, flows: map[flowKey]int{}, renewal: map[stockKey]*[3]int{}}
	record := func(r *CoverageRecord) {
		if !r.Voided {
			b.flows[flowKey{DayNumber(r.Day), r.CouncilID, r.Kind, r.Channel, r.LeafletID}]++
		}
	}
	const chunk = 5000
	after := int64(-1 << 62)
	for {
		var ids []int64
		err := queryEach(ctx, cp, "SELECT id FROM drivers WHERE id > ? ORDER BY id LIMIT ?", []any{after, chunk}, func(rows *sql.Rows) error {
			var id int64
			err := rows.Scan(&id)
			ids = append(ids, id)
			return err
		})
		if err != nil {
			return 0, err
		}
		if len(ids) == 0 {
			break
		}
		lo, hi := ids[0], ids[len(ids)-1]
		after = hi
		cond := func(col string) string { return col + " >= ? AND " + col + " <= ?" }
		drivers, err := s.driverHistories(ctx, cp, until, cond, []any{lo, hi}, record)
		if err != nil {
			return 0, err
		}
		var rows []driverChange
		for _, d := range drivers {
			for _, c := range driverChanges(d.ID, d.CouncilID, rules(d.CouncilID).StateChanges(d.History, d.Records)) {
				rows = append(rows, c)
				k := stockKey{c.cnl, c.day}
				v := b.stock[k]
				if v == nil {
					v = &[4]int{}
					b.stock[k] = v
				}
				for j := range v {
					v[j] += c.delta[j]
				}
			}
		}
		if err := insertDriverChanges(ctx, cp, rows); err != nil {
			return 0, err
		}
	}
	if err := s.scanRenewals(ctx, cp, b.addRenewal); err != nil {
		return 0, err
	}
	if err := b.write(ctx, cp); err != nil {
		return 0, fmt.Errorf("write coverage summary: %w", err)
	}
	return time.Since(start), nil
}

// updateBulkCoverage is updateCoverage for a bulk load, which on PostgreSQL first takes the
// store's write lock (when there is anything to update), so no other writer's notes are applied
// meanwhile.
func (s *Store) updateBulkCoverage(ctx context.Context, cp gorm.ConnPool) error {
	if s.dialect == dialectPostgres {
		n, err := readCoverageNotes(ctx, cp)
		if err != nil || !n.built || !n.rebuild && !n.pending() {
			return err
		}
		if _, err := cp.ExecContext(ctx, "SELECT pg_advisory_xact_lock(?)", lockWrites); err != nil {
			return err
		}
	}
	return s.updateCoverage(ctx, cp, true)
}

// VerifyCoverageSummary compares the stored summaries with a fresh build from the raw tables (by
// the streaming sweep, not the code that keeps them up to date), in one read snapshot, and lists
// every difference (none when they agree): a cell whose stored figures differ from the fresh
// ones, and notes left unapplied. Cells whose figures are all zero count as absent.
func (s *Store) VerifyCoverageSummary(ctx context.Context) ([]string, error) {
	var diffs []string
	err := s.readSnapshot(ctx, func(snap snapshot) error {
		n, err := readCoverageNotes(ctx, snap.cp)
		if err != nil {
			return err
		}
		if !n.built {
			diffs = append(diffs, "the summaries have never been built")
		}
		if n.rebuild {
			diffs = append(diffs, "a full rebuild has been asked for and not done")
		}
		if n.pending() {
			diffs = append(diffs, "writes are noted that the summaries do not count yet")
		}
		b, err := s.buildSummary(ctx, snap)
		if err != nil {
			return err
		}
		want := b.cells()
		got := map[string][]int{}
		add := func(k string, vals []int) {
			cur := got[k]
			if cur == nil {
				cur = make([]int, len(vals))
				got[k] = cur
			}
			for i := range vals {
				cur[i] += vals[i]
			}
		}
		read := func(query, table string, keyCols, width int) error {
			return queryEach(ctx, snap.cp, query, nil, func(rows *sql.Rows) error {
				key := make([]string, keyCols)
				vals := make([]int, width)
				dest := make([]any, 0, keyCols+width)
				for i := range key {
					dest = append(dest, &key[i])
				}
				for i := range vals {
					dest = append(dest, &vals[i])
				}
				if err := rows.Scan(dest...); err != nil {
					return err
				}
				add(table+" "+strings.Join(key, " "), vals)
				return nil
			})
		}
		// A delta (by day) counts at both grains.
		readDelta := func(query, table string, keyCols, width int) error {
			return queryEach(ctx, snap.cp, query, nil, func(rows *sql.Rows) error {
				var day string
				key := make([]string, keyCols)
				vals := make([]int, width)
				dest := []any{&day}
				for i := range key {
					dest = append(dest, &key[i])
				}
				for i := range vals {
					dest = append(dest, &vals[i])
				}
				if err := rows.Scan(dest...); err != nil {
					return err
				}
				d, err := domain.ParseISODate(day)
				if err != nil {
					return err
				}
				rest := ""
				if len(key) > 1 {
					rest = " " + strings.Join(key[1:], " ")
				}
				add(fmt.Sprintf("%s d %s %s%s", table, key[0], d, rest), vals)
				add(fmt.Sprintf("%s m %s %s%s", table, key[0], monthOf(d), rest), vals)
				return nil
			})
		}
		if err := read("SELECT grain, CAST(council_id AS TEXT), day, licensed, aware, outstanding, ever_aware FROM coverage_stock", "stock", 3, 4); err != nil {
			return err
		}
		if err := read("SELECT grain, CAST(council_id AS TEXT), day, kind, channel, CAST(leaflet_id AS TEXT), n FROM coverage_evidence", "evidence", 6, 1); err != nil {
			return err
		}
		if err := read("SELECT grain, CAST(council_id AS TEXT), day, submitted, approved, refused FROM coverage_renewals", "renewals", 3, 3); err != nil {
			return err
		}
		if err := readDelta("SELECT day, CAST(council_id AS TEXT), licensed, aware, outstanding, ever_aware FROM coverage_stock_delta", "stock", 1, 4); err != nil {
			return err
		}
		if err := readDelta("SELECT day, CAST(council_id AS TEXT), kind, channel, CAST(leaflet_id AS TEXT), n FROM coverage_evidence_delta", "evidence", 4, 1); err != nil {
			return err
		}
		if err := readDelta("SELECT day, CAST(council_id AS TEXT), submitted, approved, refused FROM coverage_renewals_delta", "renewals", 1, 3); err != nil {
			return err
		}
		for k, v := range got {
			if allZero(v) {
				delete(got, k)
			}
		}
		var keys []string
		for k := range want {
			keys = append(keys, k)
		}
		for k := range got {
			if _, ok := want[k]; !ok {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		for _, k := range keys {
			if !slices.Equal(want[k], got[k]) {
				diffs = append(diffs, fmt.Sprintf("%s: stored %s, fresh %s", k, orNone(got[k]), orNone(want[k])))
			}
		}
		return nil
	})
	return diffs, err
}

func allZero(v []int) bool {
	for _, x := range v {
		if x != 0 {
			return false
		}
	}
	return true
}

func orNone(v []int) string {
	if v == nil {
		return "none"
	}
	return fmt.Sprint(v)
}

// cells are the builder's figures at both grains, keyed as VerifyCoverageSummary keys them
// ("table grain council day ..."), all-zero cells left out.
func (b *summaryBuilder) cells() map[string][]int {
	out := map[string][]int{}
	month := func(day int32) int32 { return DayNumber(monthOf(DateOfDay(day))) }
	add := func(table string, day int32, council int64, rest string, v []int) {
		for _, g := range []struct {
			grain string
			day   int32
		}{{"d", day}, {"m", month(day)}} {
			k := fmt.Sprintf("%s %s %d %s%s", table, g.grain, council, DateOfDay(g.day), rest)
			cur := out[k]
			if cur == nil {
				cur = make([]int, len(v))
				out[k] = cur
			}
			for i := range v {
				cur[i] += v[i]
			}
		}
	}
	for k, v := range b.stock {
		add("stock", k.day, k.council, "", v[:])
	}
	for k, n := range b.flows {
		add("evidence", k.day, k.council, fmt.Sprintf(" %s %s %d", k.kind, k.channel, k.leaflet), []int{n})
	}
	for k, v := range b.renewal {
		add("renewals", k.day, k.council, "", v[:])
	}
	for k, v := range out {
		if allZero(v) {
			delete(out, k)
		}
	}
	return out
}

// coverageFoldBatch is the most delta rows of each table one fold takes.
const coverageFoldBatch = 20000

// CoverageFoldAt is how many unfolded delta rows (of any one table) make a report fold them
// before it reads.
const CoverageFoldAt = 5000

// lockFold (PostgreSQL): folds run one at a time; a fold finding another running leaves it be.
const lockFold = 7216412

// FoldCoverageDeltas moves unfolded deltas into the summaries, in one short transaction: it
// deletes a batch of delta rows (DELETE ... RETURNING: exactly the rows it deletes are the rows
// it adds) and adds them to the summary rows at both grains. A report sums summaries and deltas
// in one snapshot, so it sees a fold whole or not at all. On PostgreSQL it takes the write lock
// shared (as a driver's own write does: folds wait for exclusive writes, which may rebuild, and
// run beside drivers' writes, which only append) and the fold lock, skipping when another fold
// holds it. It says how many delta rows it folded.
func (s *Store) FoldCoverageDeltas(ctx context.Context) (int, error) {
	folded := 0
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		cp := s.rawPool(tx.Statement.ConnPool)
		if s.dialect == dialectPostgres {
			if _, err := cp.ExecContext(ctx, "SELECT pg_advisory_xact_lock_shared(?)", lockWrites); err != nil {
				return err
			}
			var got bool
			if err := cp.QueryRowContext(ctx, "SELECT pg_try_advisory_xact_lock(?)", lockFold).Scan(&got); err != nil || !got {
				return err
			}
		}
		d := newCoverageDeltas()
		take := func(table, cols string, scan func(*sql.Rows) error) error {
			return queryEach(ctx, cp, "DELETE FROM "+table+" WHERE id IN (SELECT id FROM "+table+" ORDER BY id LIMIT ?) RETURNING "+cols,
				[]any{coverageFoldBatch}, func(rows *sql.Rows) error {
					folded++
					return scan(rows)
				})
		}
		day := func(text string) (int32, error) {
			d, err := domain.ParseISODate(text)
			return DayNumber(d), err
		}
		err := take("coverage_stock_delta", "day, council_id, licensed, aware, outstanding, ever_aware", func(rows *sql.Rows) error {
			var c driverChange
			var text string
			if err := rows.Scan(&text, &c.cnl, &c.delta[0], &c.delta[1], &c.delta[2], &c.delta[3]); err != nil {
				return err
			}
			var err error
			c.day, err = day(text)
			d.addStock(c, 1)
			return err
		})
		if err != nil {
			return err
		}
		err = take("coverage_evidence_delta", "day, council_id, kind, channel, leaflet_id, n", func(rows *sql.Rows) error {
			var k flowKey
			var text string
			var n int
			if err := rows.Scan(&text, &k.council, &k.kind, &k.channel, &k.leaflet, &n); err != nil {
				return err
			}
			var err error
			k.day, err = day(text)
			d.flows[k] += n
			return err
		})
		if err != nil {
			return err
		}
		err = take("coverage_renewals_delta", "day, council_id, submitted, approved, refused", func(rows *sql.Rows) error {
			var text string
			var cnl int64
			var v [3]int
			if err := rows.Scan(&text, &cnl, &v[0], &v[1], &v[2]); err != nil {
				return err
			}
			dn, err := day(text)
			k := stockKey{cnl, dn}
			cur := d.renewal[k]
			if cur == nil {
				cur = &[3]int{}
				d.renewal[k] = cur
			}
			for j := range v {
				cur[j] += v[j]
			}
			return err
		})
		if err != nil || folded == 0 {
			return err
		}
		return d.apply(ctx, cp)
	})
	if err != nil {
		return 0, fmt.Errorf("fold coverage deltas: %w", err)
	}
	s.coverage.folds.Add(int64(folded))
	return folded, nil
}

// CoverageDeltasFolded is how many delta rows this Store's folds have moved into the summaries.
func (s *Store) CoverageDeltasFolded() int64 { return s.coverage.folds.Load() }

// unfoldedDeltas is the largest number of unfolded delta rows in any one delta table.
func unfoldedDeltas(ctx context.Context, cp gorm.ConnPool) (int, error) {
	var a, b, c int
	err := cp.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM coverage_stock_delta), (SELECT COUNT(*) FROM coverage_evidence_delta),
 (SELECT COUNT(*) FROM coverage_renewals_delta)`).Scan(&a, &b, &c)
	return max(a, b, c), err
}
