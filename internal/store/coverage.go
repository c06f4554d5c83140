package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
	_ "time/tzdata" // report days are Europe/London dates, whatever the host has installed

	"gorm.io/gorm"

	"github.com/herts-msp/taxi-renewals/internal/domain"
)

// ReportZone is where report days are counted: a record's day is its UTC time's date in London.
const ReportZone = "Europe/London"

// dayInf stands for "never": an interval that has not ended.
const dayInf = math.MaxInt32

// DayNumber is a date as a count of days since 1 January 1970.
func DayNumber(d domain.Date) int32 { return int32(d.Time().Unix() / 86400) }

// DateOfDay is the inverse of DayNumber.
func DateOfDay(n int32) domain.Date { return domain.DateOf(time.Unix(int64(n)*86400, 0).UTC()) }

// DayRange is a half-open range of days [From, To).
type DayRange struct{ From, To domain.Date }

// StockLevel is the number of licensed, aware and outstanding drivers of a council on the last day
// of the Period-th range.
type StockLevel struct {
	Period                       int
	CouncilID                    int64
	Licensed, Aware, Outstanding int
}

// EvidenceCount is a count of non-voided issue or acknowledgement records of one council, kind,
// channel and leaflet version in the Period-th range asked for.
type EvidenceCount struct {
	Period    int
	CouncilID int64
	Kind      string
	Channel   string
	LeafletID int64
	N         int
}

// RenewalCount is a count of renewals submitted, approved and refused in the Period-th range.
type RenewalCount struct {
	Period                       int
	CouncilID                    int64
	Submitted, Approved, Refused int
}

// CoverageSums is what the coverage report is added up from.
type CoverageSums struct {
	Stock    []StockLevel
	Evidence []EvidenceCount
	Renewals []RenewalCount
	Rebuilt  time.Duration // time spent rebuilding the summaries first; 0 when they were current
}

// CoverageSums reads the summaries for the councils (all when empty) and ranges.
//
// Freshness: every write a report depends on moves report_data_version (triggers, migration
// 0004); the summaries record the version they were built from. The version and the summaries are
// read in one read snapshot, so a report never mixes versions. When they are current (the usual
// case) nothing else happens and no lock is taken. When they are not, the summaries are rebuilt
// from the raw tables in that same snapshot (without holding the write lock, so renewals and
// evidence can still be written meanwhile), then written and read back in one short write
// transaction, unless another report has meanwhile written summaries of a newer version, which
// are read instead. Either way the sums include every write committed before the call began.
func (s *Store) CoverageSums(ctx context.Context, councilIDs []int64, ranges []DayRange) (CoverageSums, error) {
	var out CoverageSums
	if len(ranges) == 0 {
		return out, nil
	}
	var b *summaryBuilder
	var version int64
	start := time.Now()
	err := s.readSnapshot(ctx, func(snap snapshot) error {
		cp := snap.cp
		stale, v, err := summaryStale(ctx, cp)
		if err != nil || !stale {
			if err == nil {
				err = readSums(ctx, cp, councilIDs, ranges, &out)
			}
			return err
		}
		version = v
		b, err = buildSummary(ctx, snap)
		return err
	})
	if err != nil || b == nil {
		return out, err
	}
	err = s.writeSummary(ctx, b, version, func(cp gorm.ConnPool) error {
		return readSums(ctx, cp, councilIDs, ranges, &out)
	})
	out.Rebuilt = time.Since(start)
	return out, err
}

// RebuildCoverageSummary rebuilds the summaries whether or not they are current, and says how long
// it took.
func (s *Store) RebuildCoverageSummary(ctx context.Context) (time.Duration, error) {
	start := time.Now()
	var b *summaryBuilder
	var version int64
	err := s.readSnapshot(ctx, func(snap snapshot) error {
		var err error
		if _, version, err = summaryStale(ctx, snap.cp); err != nil {
			return err
		}
		b, err = buildSummary(ctx, snap)
		return err
	})
	if err != nil {
		return 0, err
	}
	err = s.writeSummary(ctx, b, version, nil)
	return time.Since(start), err
}

// snapshot is one consistent view of the database, for reading only. The coverage sweep reads
// three result sets side by side: SQLite streams them on one connection; PostgreSQL cannot, so
// there each stream has a connection of its own, all in the same exported snapshot.
type snapshot struct {
	cp      gorm.ConnPool    // for one query at a time
	streams [3]gorm.ConnPool // for three queries read side by side
}

// readSnapshot runs fn in a read transaction: one consistent snapshot of the database, taken
// without the write lock (SQLite's transactions are otherwise BEGIN IMMEDIATE).
func (s *Store) readSnapshot(ctx context.Context, fn func(snapshot) error) error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	n := 1
	begin := "BEGIN"
	if s.dialect == dialectPostgres {
		// A plain BEGIN in PostgreSQL gives each statement its own snapshot; the sweep needs one.
		n, begin = 3, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
	}
	conns := make([]*sql.Conn, 0, n)
	defer func() {
		// Read-only transactions: ending them cannot lose anything. A fresh context, so a
		// cancelled request still ends them before the connections go back to the pool.
		for _, c := range conns {
			c.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
			c.Close()
		}
	}()
	var exported string
	for i := range n {
		c, err := sqlDB.Conn(ctx)
		if err != nil {
			return err
		}
		conns = append(conns, c)
		if _, err := c.ExecContext(ctx, begin); err != nil {
			return err
		}
		switch {
		case n == 1:
		case i == 0:
			if err := c.QueryRowContext(ctx, "SELECT pg_export_snapshot()").Scan(&exported); err != nil {
				return err
			}
		default:
			if _, err := c.ExecContext(ctx, "SET TRANSACTION SNAPSHOT '"+exported+"'"); err != nil {
				return err
			}
		}
	}
	snap := snapshot{cp: s.rawPool(conns[0])}
	for i := range snap.streams {
		snap.streams[i] = s.rawPool(conns[i%n])
	}
	return fn(snap)
}

// writeSummary stores what b added up for version, unless summaries of that version or a newer
// one are already stored, then calls then (when set) in the same transaction.
func (s *Store) writeSummary(ctx context.Context, b *summaryBuilder, version int64, then func(gorm.ConnPool) error) error {
	// Only this writes the summaries, so on PostgreSQL it need not wait for the store's other
	// writers: rebuilds take turns on a lock of their own, so two rebuilds of the same version do
	// not both insert. (SQLite's BEGIN IMMEDIATE makes every writer take turns anyway.)
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		cp := s.rawPool(tx.Statement.ConnPool)
		if s.dialect == dialectPostgres {
			if _, err := cp.ExecContext(ctx, "SELECT pg_advisory_xact_lock(?)", lockSummaries); err != nil {
				return err
			}
		}
		var built int64
		err := cp.QueryRowContext(ctx, "SELECT data_version FROM coverage_summary_state WHERE id = 1").Scan(&built)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if errors.Is(err, sql.ErrNoRows) || built < version {
			if err := b.write(ctx, cp, version); err != nil {
				return fmt.Errorf("write coverage summary: %w", err)
			}
		}
		if then != nil {
			return then(cp)
		}
		return nil
	})
}

func summaryStale(ctx context.Context, cp gorm.ConnPool) (bool, int64, error) {
	var version int64
	if err := cp.QueryRowContext(ctx, "SELECT version FROM report_data_version WHERE id = 1").Scan(&version); err != nil {
		return false, 0, err
	}
	var built int64
	err := cp.QueryRowContext(ctx, "SELECT data_version FROM coverage_summary_state WHERE id = 1").Scan(&built)
	if errors.Is(err, sql.ErrNoRows) {
		return true, version, nil
	}
	if err != nil {
		return false, 0, err
	}
	return built != version, version, nil
}

func inList(column string, ids []int64) (string, []any) {
	if len(ids) == 0 {
		return "", nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	return " AND " + column + " IN (?" + strings.Repeat(", ?", len(ids)-1) + ")", args
}

// piece is part of the idx-th range, summed from rows of one grain.
type piece struct {
	idx      int
	grain    string
	from, to domain.Date
}

func monthOf(d domain.Date) domain.Date { return domain.Date{Year: d.Year, Month: d.Month, Day: 1} }

// splitRange cuts [from, to) into whole calendar months (grain m) and the days either side (grain d).
func splitRange(idx int, from, to domain.Date) []piece {
	first := monthOf(from)
	if first != from {
		first = domain.Date{Year: from.Year, Month: from.Month + 1, Day: 1}.AddDays(0)
	}
	last := monthOf(to)
	if !first.Before(last) {
		return []piece{{idx, "d", from, to}}
	}
	var out []piece
	if from.Before(first) {
		out = append(out, piece{idx, "d", from, first})
	}
	out = append(out, piece{idx, "m", first, last})
	if last.Before(to) {
		out = append(out, piece{idx, "d", last, to})
	}
	return out
}

// piecesCTE is a WITH clause naming the pieces (idx, grain, from_day, to_day), portable to PostgreSQL.
func piecesCTE(ps []piece) (string, []any) {
	var b strings.Builder
	args := make([]any, 0, 4*len(ps))
	b.WriteString("WITH pieces (idx, grain, from_day, to_day) AS (VALUES ")
	for i, p := range ps {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(CAST(? AS INTEGER), ?, ?, ?)") // PostgreSQL would take an untyped value as text
		args = append(args, p.idx, p.grain, p.from.String(), p.to.String())
	}
	b.WriteString(") ")
	return b.String(), args
}

// stockEpochYear is before any licence: stock levels are sums of every change since 1 January.
const stockEpochYear = 1900

func readSums(ctx context.Context, cp gorm.ConnPool, councilIDs []int64, ranges []DayRange, out *CoverageSums) error {
	var stockPieces, flowPieces []piece
	for i, r := range ranges {
		stockPieces = append(stockPieces, splitRange(i, domain.Date{Year: stockEpochYear, Month: time.January, Day: 1}, r.To)...)
		flowPieces = append(flowPieces, splitRange(i, r.From, r.To)...)
	}
	query := func(ps []piece, sel, table, group string, scan func(*sql.Rows) error) error {
		cte, args := piecesCTE(ps)
		cond, cargs := inList("t.council_id", councilIDs)
		rows, err := cp.QueryContext(ctx, cte+"SELECT p.idx, t.council_id, "+sel+" FROM pieces p JOIN "+table+
			" t ON t.grain = p.grain AND t.day >= p.from_day AND t.day < p.to_day WHERE 1 = 1"+cond+
			" GROUP BY p.idx, t.council_id"+group, append(args, cargs...)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			if err := scan(rows); err != nil {
				return err
			}
		}
		return rows.Err()
	}
	err := query(stockPieces, "SUM(t.licensed), SUM(t.aware), SUM(t.outstanding)", "coverage_stock", "", func(rows *sql.Rows) error {
		var l StockLevel
		if err := rows.Scan(&l.Period, &l.CouncilID, &l.Licensed, &l.Aware, &l.Outstanding); err != nil {
			return err
		}
		out.Stock = append(out.Stock, l)
		return nil
	})
	if err != nil {
		return err
	}
	err = query(flowPieces, "t.kind, t.channel, t.leaflet_id, SUM(t.n)", "coverage_evidence", ", t.kind, t.channel, t.leaflet_id", func(rows *sql.Rows) error {
		var c EvidenceCount
		if err := rows.Scan(&c.Period, &c.CouncilID, &c.Kind, &c.Channel, &c.LeafletID, &c.N); err != nil {
			return err
		}
		out.Evidence = append(out.Evidence, c)
		return nil
	})
	if err != nil {
		return err
	}
	return query(flowPieces, "SUM(t.submitted), SUM(t.approved), SUM(t.refused)", "coverage_renewals", "", func(rows *sql.Rows) error {
		var c RenewalCount
		if err := rows.Scan(&c.Period, &c.CouncilID, &c.Submitted, &c.Approved, &c.Refused); err != nil {
			return err
		}
		out.Renewals = append(out.Renewals, c)
		return nil
	})
}

// ival is a half-open range of day numbers [a, b).
type ival struct{ a, b int32 }

type stockKey struct {
	council int64
	day     int32
}

type flowKey struct {
	day     int32
	council int64
	kind    string
	channel string
	leaflet int64
}

// summaryBuilder adds up the summaries from the raw tables.
type summaryBuilder struct {
	loc     *time.Location
	kill    map[int64]int32 // driver leaflet id -> first day it is no longer in force
	voided  map[int64]bool
	stock   map[stockKey]*[3]int
	flows   map[flowKey]int
	renewal map[stockKey]*[3]int
}

// londonDay parses a timestamp as the SQLite driver stores it ("2006-01-02 15:04:05.999999999-07:00",
// or with a T, or Z) and returns its date in the report zone as a day number.
func (b *summaryBuilder) londonDay(s string) (int32, error) {
	t, err := parseStoredTime(s)
	if err != nil {
		return 0, err
	}
	return DayNumber(domain.DateOf(t.In(b.loc))), nil
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

// inForceUntil works out, for every version of the driver leaflet (ordered by id), the first
// London day on which it is no longer in force: the publication day of the first later version
// requiring re-acknowledgement (dayInf when there is none). A version is in force on day D
// exactly when D is before that day.
func inForceUntil(ids []int64, reack []bool, published []int32) map[int64]int32 {
	kill := make(map[int64]int32, len(ids))
	next := int32(dayInf)
	for i := len(ids) - 1; i >= 0; i-- {
		kill[ids[i]] = next
		if reack[i] && published[i] < next {
			next = published[i]
		}
	}
	return kill
}

// buildSummary adds up the summaries from the raw tables (reading only).
func buildSummary(ctx context.Context, snap snapshot) (*summaryBuilder, error) {
	loc, err := time.LoadLocation(ReportZone)
	if err != nil {
		return nil, err
	}
	b := &summaryBuilder{loc: loc, voided: map[int64]bool{}, stock: map[stockKey]*[3]int{}, flows: map[flowKey]int{}, renewal: map[stockKey]*[3]int{}}
	steps := []func() error{
		func() error { return b.loadLeaflets(ctx, snap.cp) },
		func() error { return b.loadVoids(ctx, snap.cp) },
		func() error { return b.sweepDrivers(ctx, snap.streams) },
		func() error { return b.addRenewals(ctx, snap.cp) },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, fmt.Errorf("build coverage summary: %w", err)
		}
	}
	return b, nil
}

func (b *summaryBuilder) loadLeaflets(ctx context.Context, cp gorm.ConnPool) error {
	rows, err := cp.QueryContext(ctx, "SELECT id, requires_reack, CAST(published_at AS TEXT) FROM leaflets WHERE audience = 'driver' ORDER BY id")
	if err != nil {
		return err
	}
	defer rows.Close()
	var ids []int64
	var reack []bool
	var pub []int32
	for rows.Next() {
		var id int64
		var r bool
		var at string
		if err := rows.Scan(&id, &r, &at); err != nil {
			return err
		}
		day, err := b.londonDay(at)
		if err != nil {
			return err
		}
		ids, reack, pub = append(ids, id), append(reack, r || len(ids) == 0), append(pub, day)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	b.kill = inForceUntil(ids, reack, pub)
	return nil
}

func (b *summaryBuilder) loadVoids(ctx context.Context, cp gorm.ConnPool) error {
	rows, err := cp.QueryContext(ctx, "SELECT voids_id FROM evidence WHERE voids_id IS NOT NULL")
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return err
		}
		b.voided[id] = true
	}
	return rows.Err()
}

type evidenceFact struct {
	council int64
	kind    string
	channel string
	leaflet int64
	day     int32
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

// sweepDrivers reads drivers, their licence history and their evidence in driver order, works out
// each driver's licensed, aware and outstanding days, and adds them up per council as deltas.
func (b *summaryBuilder) sweepDrivers(ctx context.Context, streams [3]gorm.ConnPool) error {
	drows, err := streams[0].QueryContext(ctx, "SELECT id, council_id, status FROM drivers ORDER BY id")
	if err != nil {
		return err
	}
	defer drows.Close()
	prows, err := streams[1].QueryContext(ctx, "SELECT driver_id, licence_start, licence_expiry FROM licence_periods ORDER BY driver_id")
	if err != nil {
		return err
	}
	defer prows.Close()
	erows, err := streams[2].QueryContext(ctx, `SELECT id, driver_id, council_id, kind, channel, leaflet_id, CAST(occurred_at AS TEXT)
FROM evidence WHERE kind IN ('issue', 'acknowledgement') ORDER BY driver_id`)
	if err != nil {
		return err
	}
	defer erows.Close()

	var period ival
	pc := &cursor{rows: prows}
	pc.scan = func() (int64, error) {
		var id int64
		var s, e string
		if err := prows.Scan(&id, &s, &e); err != nil {
			return 0, err
		}
		sd, err := domain.ParseISODate(s)
		if err != nil {
			return 0, err
		}
		ed, err := domain.ParseISODate(e)
		if err != nil {
			return 0, err
		}
		period = ival{DayNumber(sd), DayNumber(ed) + 1}
		return id, nil
	}
	var ev evidenceFact
	var evID int64
	ec := &cursor{rows: erows}
	ec.scan = func() (int64, error) {
		var driver int64
		var at string
		if err := erows.Scan(&evID, &driver, &ev.council, &ev.kind, &ev.channel, &ev.leaflet, &at); err != nil {
			return 0, err
		}
		var err error
		ev.day, err = b.londonDay(at)
		return driver, err
	}
	pc.next()
	ec.next()

	var licensed, acks, issues []ival
	for drows.Next() {
		var id, council int64
		var status string
		if err := drows.Scan(&id, &council, &status); err != nil {
			return err
		}
		licensed, acks, issues = licensed[:0], acks[:0], issues[:0]
		for pc.has && pc.cur < id {
			pc.next()
		}
		for pc.has && pc.cur == id {
			// Status history is not kept: a driver's current status stands for the whole history.
			if status == domain.DriverActive && period.a < period.b {
				licensed = append(licensed, period)
			}
			pc.next()
		}
		for ec.has && ec.cur < id {
			ec.next()
		}
		for ec.has && ec.cur == id {
			kill, driverLeaflet := b.kill[ev.leaflet]
			if driverLeaflet && !b.voided[evID] {
				b.flows[flowKey{ev.day, ev.council, ev.kind, ev.channel, ev.leaflet}]++
				if ev.day < kill {
					if ev.kind == string(domain.KindAcknowledgement) {
						acks = append(acks, ival{ev.day, kill})
					} else {
						issues = append(issues, ival{ev.day, kill})
					}
				}
			}
			ec.next()
		}
		b.addDriver(council, licensed, acks, issues)
	}
	if err := drows.Err(); err != nil {
		return err
	}
	if pc.err != nil {
		return pc.err
	}
	return ec.err
}

func covers(set []ival, d int32) bool {
	for _, iv := range set {
		if iv.a <= d && d < iv.b {
			return true
		}
	}
	return false
}

// addDriver adds one driver's days to their council's deltas: licensed on the days a licence
// period covers; aware on licensed days covered by an acknowledgement still in force; outstanding
// on licensed days covered by an issue in force but no such acknowledgement.
func (b *summaryBuilder) addDriver(council int64, licensed, acks, issues []ival) {
	if len(licensed) == 0 {
		return
	}
	points := make([]int32, 0, 2*(len(licensed)+len(acks)+len(issues)))
	for _, set := range [][]ival{licensed, acks, issues} {
		for _, iv := range set {
			points = append(points, iv.a, iv.b)
		}
	}
	sort.Slice(points, func(i, j int) bool { return points[i] < points[j] })
	var prev [3]int
	for i, p := range points {
		if p == dayInf || (i > 0 && p == points[i-1]) {
			continue
		}
		var now [3]int
		if covers(licensed, p) {
			now[0] = 1
			a := covers(acks, p)
			if a {
				now[1] = 1
			} else if covers(issues, p) {
				now[2] = 1
			}
		}
		if now != prev {
			k := stockKey{council, p}
			d := b.stock[k]
			if d == nil {
				d = &[3]int{}
				b.stock[k] = d
			}
			for j := range d {
				d[j] += now[j] - prev[j]
			}
			prev = now
		}
	}
}

func (b *summaryBuilder) addRenewals(ctx context.Context, cp gorm.ConnPool) error {
	rows, err := cp.QueryContext(ctx, `SELECT council_id, status, CAST(submitted_at AS TEXT), CAST(decided_at AS TEXT)
FROM renewals WHERE submitted_at IS NOT NULL OR decided_at IS NOT NULL`)
	if err != nil {
		return err
	}
	defer rows.Close()
	add := func(council int64, at string, col int) error {
		day, err := b.londonDay(at)
		if err != nil {
			return err
		}
		k := stockKey{council, day}
		d := b.renewal[k]
		if d == nil {
			d = &[3]int{}
			b.renewal[k] = d
		}
		d[col]++
		return nil
	}
	for rows.Next() {
		var council int64
		var status string
		var submitted, decided sql.NullString
		if err := rows.Scan(&council, &status, &submitted, &decided); err != nil {
			return err
		}
		if submitted.Valid {
			if err := add(council, submitted.String, 0); err != nil {
				return err
			}
		}
		if decided.Valid {
			switch domain.RenewalStatus(status) {
			case domain.StatusApproved:
				err = add(council, decided.String, 1)
			case domain.StatusRefused:
				err = add(council, decided.String, 2)
			}
			if err != nil {
				return err
			}
		}
	}
	return rows.Err()
}

// write replaces the summaries with what the builder added up, at both grains.
func (b *summaryBuilder) write(ctx context.Context, cp gorm.ConnPool, version int64) error {
	for _, t := range []string{"coverage_stock", "coverage_evidence", "coverage_renewals", "coverage_summary_state"} {
		if _, err := cp.ExecContext(ctx, "DELETE FROM "+t); err != nil {
			return err
		}
	}
	monthDay := map[int32]int32{}
	month := func(day int32) int32 {
		m, ok := monthDay[day]
		if !ok {
			m = DayNumber(monthOf(DateOfDay(day)))
			monthDay[day] = m
		}
		return m
	}
	// Counts keyed by day become counts keyed by (grain, day).
	type grainKey[K comparable] struct {
		grain string
		key   K
	}
	threes := func(in map[stockKey]*[3]int) map[grainKey[stockKey]][3]int {
		out := make(map[grainKey[stockKey]][3]int, 2*len(in))
		for k, v := range in {
			for _, g := range []grainKey[stockKey]{{"d", k}, {"m", stockKey{k.council, month(k.day)}}} {
				sum := out[g]
				for i := range sum {
					sum[i] += v[i]
				}
				out[g] = sum
			}
		}
		return out
	}
	insert := func(query string, n int, row func(i int) []any) error {
		st, err := cp.PrepareContext(ctx, query)
		if err != nil {
			return err
		}
		defer st.Close()
		for i := range n {
			if _, err := st.ExecContext(ctx, row(i)...); err != nil {
				return err
			}
		}
		return nil
	}
	type stockRow struct {
		k grainKey[stockKey]
		v [3]int
	}
	var stock, renewals []stockRow
	for k, v := range threes(b.stock) {
		if v != [3]int{} {
			stock = append(stock, stockRow{k, v})
		}
	}
	for k, v := range threes(b.renewal) {
		renewals = append(renewals, stockRow{k, v})
	}
	err := insert("INSERT INTO coverage_stock (grain, council_id, day, licensed, aware, outstanding) VALUES (?, ?, ?, ?, ?, ?)", len(stock), func(i int) []any {
		r := stock[i]
		return []any{r.k.grain, r.k.key.council, DateOfDay(r.k.key.day).String(), r.v[0], r.v[1], r.v[2]}
	})
	if err != nil {
		return err
	}
	err = insert("INSERT INTO coverage_renewals (grain, council_id, day, submitted, approved, refused) VALUES (?, ?, ?, ?, ?, ?)", len(renewals), func(i int) []any {
		r := renewals[i]
		return []any{r.k.grain, r.k.key.council, DateOfDay(r.k.key.day).String(), r.v[0], r.v[1], r.v[2]}
	})
	if err != nil {
		return err
	}
	flows := make(map[grainKey[flowKey]]int, 2*len(b.flows))
	for k, n := range b.flows {
		flows[grainKey[flowKey]{"d", k}] += n
		m := k
		m.day = month(k.day)
		flows[grainKey[flowKey]{"m", m}] += n
	}
	type flowRow struct {
		k grainKey[flowKey]
		n int
	}
	fr := make([]flowRow, 0, len(flows))
	for k, n := range flows {
		fr = append(fr, flowRow{k, n})
	}
	err = insert("INSERT INTO coverage_evidence (grain, day, council_id, kind, channel, leaflet_id, n) VALUES (?, ?, ?, ?, ?, ?, ?)", len(fr), func(i int) []any {
		r := fr[i]
		return []any{r.k.grain, DateOfDay(r.k.key.day).String(), r.k.key.council, r.k.key.kind, r.k.key.channel, r.k.key.leaflet, r.n}
	})
	if err != nil {
		return err
	}
	_, err = cp.ExecContext(ctx, "INSERT INTO coverage_summary_state (id, data_version, built_at) VALUES (1, ?, ?)", version, time.Now().UTC())
	return err
}

// Bulk is one transaction on the raw database connection, for loading large amounts of data
// without GORM. Statements are prepared once and reused.
type Bulk struct {
	conn  gorm.ConnPool // the transaction, speaking either dialect (rawPool)
	stmts map[string]*sql.Stmt
}

// Exec runs a statement (prepared on first use) in the bulk transaction.
func (b *Bulk) Exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, ok := b.stmts[query]
	if !ok {
		var err error
		if st, err = b.conn.PrepareContext(ctx, query); err != nil {
			return nil, err
		}
		b.stmts[query] = st
	}
	return st.ExecContext(ctx, args...)
}

// QueryRow runs a query returning one row in the bulk transaction.
func (b *Bulk) QueryRow(ctx context.Context, query string, args ...any) *sql.Row {
	return b.conn.QueryRowContext(ctx, query, args...)
}

// BulkLoad runs fn in one transaction on the raw connection: everything or nothing.
func (s *Store) BulkLoad(ctx context.Context, fn func(*Bulk) error) error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	tx, err := sqlDB.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	b := &Bulk{conn: s.rawPool(tx), stmts: map[string]*sql.Stmt{}}
	defer func() {
		for _, st := range b.stmts {
			st.Close()
		}
	}()
	if err := fn(b); err != nil {
		tx.Rollback()
		return err
	}
	if s.dialect == dialectPostgres {
		if err := syncIdentities(ctx, tx); err != nil {
			tx.Rollback()
			return err
		}
	}
	return tx.Commit()
}

// syncIdentities moves each id sequence past the largest id in its table. A bulk load may give
// ids itself; PostgreSQL's identity columns do not notice, and the next ordinary insert would
// otherwise be given an id already taken.
func syncIdentities(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, `SELECT table_name FROM information_schema.columns
		WHERE table_schema = current_schema() AND column_name = 'id' AND is_identity = 'YES'`)
	if err != nil {
		return err
	}
	var tables []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			rows.Close()
			return err
		}
		tables = append(tables, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, t := range tables {
		q := fmt.Sprintf(`SELECT setval(pg_get_serial_sequence('%[1]s', 'id'), COALESCE(MAX(id), 0) + 1, false) FROM %[1]s`, t)
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("sync id sequence of %s: %w", t, err)
		}
	}
	return nil
}

// ReadQuery runs a read-only SQL query on the raw tables and calls each for every row with a
// function that scans it. It is for report tools that must be written against the raw tables
// (the reference implementation of the coverage report, the synthetic-history generator).
func (s *Store) ReadQuery(ctx context.Context, query string, args []any, each func(scan func(dest ...any) error) error) error {
	rows, err := s.db.WithContext(ctx).Raw(query, args...).Rows()
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := each(rows.Scan); err != nil {
			return err
		}
	}
	return rows.Err()
}
