package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
	_ "time/tzdata" // report days are Europe/London dates, whatever the host has installed

	"gorm.io/gorm"

	"github.com/herts-msp/taxi-renewals/internal/domain"
)

// ReportZone is where report days are counted: a record's day is its UTC time's date in London.
const ReportZone = domain.ReportZone

// DayNumber is a date as a count of days since 1 January 1970.
func DayNumber(d domain.Date) int32 { return int32(d.Time().Unix() / 86400) }

// DateOfDay is the inverse of DayNumber.
func DateOfDay(n int32) domain.Date { return domain.DateOf(time.Unix(int64(n)*86400, 0).UTC()) }

// DayRange is a half-open range of days [From, To).
type DayRange struct{ From, To domain.Date }

// StockLevel is the number of licensed, aware and outstanding drivers of a council on the last day
// of the Period-th range.
type StockLevel struct {
	Period                                  int
	CouncilID                               int64
	Licensed, Aware, Outstanding, EverAware int
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
// Freshness: every write transaction of the store appends what it changed to the deltas before
// it commits (coverage_incremental.go), so a report reads summaries and deltas, in one read
// snapshot, and nothing else happens: no lock is taken and nothing is rebuilt. When it finds
// more than CoverageFoldAt unfolded delta rows it folds them first (FoldCoverageDeltas), so that
// reading stays quick when no "serve" folds them. Only when the summaries are not current (never
// built: a new or just-migrated database; a rebuild asked for by a write that could not do it)
// are they first rebuilt, in a write transaction of the store, and read in it; Rebuilt then says
// how long that took, and CoverageCatchUps counts it.
func (s *Store) CoverageSums(ctx context.Context, councilIDs []int64, ranges []DayRange) (CoverageSums, error) {
	var out CoverageSums
	if len(ranges) == 0 {
		return out, nil
	}
	for attempt := 0; ; attempt++ {
		current, fold := false, false
		err := s.readSnapshot(ctx, func(snap snapshot) error {
			n, err := readCoverageNotes(ctx, snap.cp)
			if err != nil || !n.current() {
				return err
			}
			current = true
			if attempt == 0 {
				unfolded, err := unfoldedDeltas(ctx, snap.cp)
				if fold = unfolded > CoverageFoldAt; err != nil || fold {
					return err
				}
			}
			return readSums(ctx, snap.cp, councilIDs, ranges, &out)
		})
		if err != nil {
			return out, err
		}
		if !current {
			break
		}
		if !fold {
			return out, nil
		}
		for {
			n, err := s.FoldCoverageDeltas(ctx)
			if err != nil {
				return out, err
			}
			if n < coverageFoldBatch {
				break
			}
		}
	}
	start := time.Now()
	s.coverage.catchUps.Add(1)
	err := s.transaction(ctx, func(tx *gorm.DB) error {
		cp := s.rawPool(tx.Statement.ConnPool)
		if err := s.catchUpCoverage(ctx, cp); err != nil {
			return err
		}
		return readSums(ctx, cp, councilIDs, ranges, &out)
	})
	out.Rebuilt = time.Since(start)
	return out, err
}

// catchUpCoverage makes the summaries current in the write transaction cp: builds them when they
// have never been built or a rebuild was asked for, otherwise applies the notes.
func (s *Store) catchUpCoverage(ctx context.Context, cp gorm.ConnPool) error {
	n, err := readCoverageNotes(ctx, cp)
	switch {
	case err != nil:
		return err
	case !n.built || n.rebuild:
		_, err = s.rebuildCoverage(ctx, cp)
		return err
	case n.pending():
		return s.applyCoverageNotes(ctx, cp, n)
	}
	return nil
}

// CoverageCatchUps is how many reports of this Store found the summaries not current and had to
// bring them up to date first.
func (s *Store) CoverageCatchUps() int64 { return s.coverage.catchUps.Load() }

// RebuildCoverageSummary rebuilds the summaries (and every driver's contribution) from the raw
// tables whether or not they are current, in one write transaction, and says how long it took.
func (s *Store) RebuildCoverageSummary(ctx context.Context) (time.Duration, error) {
	var took time.Duration
	err := s.transaction(ctx, func(tx *gorm.DB) error {
		var err error
		took, err = s.rebuildCoverage(ctx, s.rawPool(tx.Statement.ConnPool))
		return err
	})
	return took, err
}

// snapshot is one consistent view of the database, for reading only. The coverage sweep reads
// four result sets side by side: SQLite streams them on one connection; PostgreSQL cannot, so
// there each stream has a connection of its own, all in the same exported snapshot.
type snapshot struct {
	cp      gorm.ConnPool    // for one query at a time
	streams [4]gorm.ConnPool // for four queries read side by side
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
		n, begin = len(snapshot{}.streams), "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
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
	// One statement per table sums its summary rows and its unfolded deltas (coverage_*_delta,
	// by day: a delta's day falls in exactly one piece of each range), so it sees a fold whole or
	// not at all whatever the isolation level. A delta can bring an evidence cell to 0 (a void):
	// such a cell is left out, as a fresh build would not have it.
	query := func(ps []piece, cols, sums, table, group, having string, scan func(*sql.Rows) error) error {
		cte, args := piecesCTE(ps)
		cond, cargs := inList("t.council_id", councilIDs)
		args = append(append(args, cargs...), cargs...)
		q := cte + "SELECT idx, council_id, " + sums + " FROM (" +
			"SELECT p.idx, t.council_id, " + cols + " FROM pieces p JOIN " + table +
			" t ON t.grain = p.grain AND t.day >= p.from_day AND t.day < p.to_day WHERE 1 = 1" + cond +
			" UNION ALL SELECT p.idx, t.council_id, " + cols + " FROM pieces p JOIN " + table +
			"_delta t ON t.day >= p.from_day AND t.day < p.to_day WHERE 1 = 1" + cond +
			") u GROUP BY idx, council_id" + group + having
		rows, err := cp.QueryContext(ctx, q, args...)
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
	err := query(stockPieces, "t.licensed, t.aware, t.outstanding, t.ever_aware", "SUM(licensed), SUM(aware), SUM(outstanding), SUM(ever_aware)",
		"coverage_stock", "", "", func(rows *sql.Rows) error {
			var l StockLevel
			if err := rows.Scan(&l.Period, &l.CouncilID, &l.Licensed, &l.Aware, &l.Outstanding, &l.EverAware); err != nil {
				return err
			}
			out.Stock = append(out.Stock, l)
			return nil
		})
	if err != nil {
		return err
	}
	err = query(flowPieces, "t.kind, t.channel, t.leaflet_id, t.n", "kind, channel, leaflet_id, SUM(n)", "coverage_evidence",
		", kind, channel, leaflet_id", " HAVING SUM(n) <> 0", func(rows *sql.Rows) error {
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
	return query(flowPieces, "t.submitted, t.approved, t.refused", "SUM(submitted), SUM(approved), SUM(refused)", "coverage_renewals", "", "", func(rows *sql.Rows) error {
		var c RenewalCount
		if err := rows.Scan(&c.Period, &c.CouncilID, &c.Submitted, &c.Approved, &c.Refused); err != nil {
			return err
		}
		out.Renewals = append(out.Renewals, c)
		return nil
	})
}

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

// summaryBuilder adds up the summaries from the raw tables, by the rules in domain/coverage.go.
type summaryBuilder struct {
	stock   map[stockKey]*[4]int // licensed, aware, outstanding, ever aware
	flows   map[flowKey]int
	renewal map[stockKey]*[3]int
}

// buildSummary adds up the summaries from the raw tables (reading only).
func (s *Store) buildSummary(ctx context.Context, snap snapshot) (*summaryBuilder, error) {
	b := &summaryBuilder{stock: map[stockKey]*[4]int{}, flows: map[flowKey]int{}, renewal: map[stockKey]*[3]int{}}
	h, err := s.historyReader(ctx, snap)
	if err != nil {
		return nil, fmt.Errorf("build coverage summary: %w", err)
	}
	err = h.sweep(ctx, func(d *CoverageDriver) error {
		b.addDriver(d.CouncilID, h.rules(d.CouncilID).StateChanges(d.History, d.Records))
		return nil
	}, func(r *CoverageRecord) error {
		if !r.Voided {
			b.flows[flowKey{DayNumber(r.Day), r.CouncilID, r.Kind, r.Channel, r.LeafletID}]++
		}
		return nil
	})
	if err == nil {
		err = s.scanRenewals(ctx, snap.cp, b.addRenewal)
	}
	if err != nil {
		return nil, fmt.Errorf("build coverage summary: %w", err)
	}
	return b, nil
}

// addDriver adds one driver's state changes to their council's deltas.
func (b *summaryBuilder) addDriver(council int64, changes []domain.StateChange) {
	var prev [4]int
	for _, c := range changes {
		now := [4]int{one(c.State.Licensed), one(c.State.Aware), one(c.State.Outstanding), one(c.State.EverAware)}
		k := stockKey{council, DayNumber(c.Day)}
		d := b.stock[k]
		if d == nil {
			d = &[4]int{}
			b.stock[k] = d
		}
		for j := range d {
			d[j] += now[j] - prev[j]
		}
		prev = now
	}
}

func one(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (b *summaryBuilder) addRenewal(r CoverageRenewal) error {
	add := func(day domain.Date, col int) {
		k := stockKey{r.CouncilID, DayNumber(day)}
		d := b.renewal[k]
		if d == nil {
			d = &[3]int{}
			b.renewal[k] = d
		}
		d[col]++
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
	return nil
}

// write replaces the summaries with what the builder added up, at both grains.
func (b *summaryBuilder) write(ctx context.Context, cp gorm.ConnPool) error {
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
	grains := func(in map[stockKey]*[4]int) map[grainKey[stockKey]][4]int {
		out := make(map[grainKey[stockKey]][4]int, 2*len(in))
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
		v [4]int
	}
	var stock, renewals []stockRow
	for k, v := range grains(b.stock) {
		if v != [4]int{} {
			stock = append(stock, stockRow{k, v})
		}
	}
	four := make(map[stockKey]*[4]int, len(b.renewal))
	for k, v := range b.renewal {
		four[k] = &[4]int{v[0], v[1], v[2]}
	}
	for k, v := range grains(four) {
		renewals = append(renewals, stockRow{k, v})
	}
	err := insert("INSERT INTO coverage_stock (grain, council_id, day, licensed, aware, outstanding, ever_aware) VALUES (?, ?, ?, ?, ?, ?, ?)", len(stock), func(i int) []any {
		r := stock[i]
		return []any{r.k.grain, r.k.key.council, DateOfDay(r.k.key.day).String(), r.v[0], r.v[1], r.v[2], r.v[3]}
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
	_, err = cp.ExecContext(ctx, "INSERT INTO coverage_summary_state (id, built_at) VALUES (1, ?)", time.Now().UTC())
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

// BulkLoad runs fn in one transaction on the raw connection: everything or nothing. Before it
// commits, the coverage summaries are brought up to date with what it loaded, as after any
// write transaction of the store (on PostgreSQL after taking the store's write lock).
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
	if err := s.updateBulkCoverage(ctx, b.conn); err != nil {
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
