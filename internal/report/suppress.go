package report

import (
	"errors"
	"math"
	"runtime"
	"sort"
	"sync"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/optimize/convex/lp"
)

// Small-count suppression for public release (DESIGN §4), in two steps:
//
//   - primary: a count from 1 to 4 is hidden;
//   - secondary: wherever a hidden count could be worked out from what an export publishes —
//     a total minus the other cells of the same sum — further cells are hidden until it cannot.
//
// The sums an export publishes, in each period row: the councils add up to the partnership total
// (every column, when the total is shown); leaflets by channel add up to leaflets issued (and
// acknowledged), and so do leaflets by version; renewals approved plus refused make renewals
// decided; licensed drivers are aware, outstanding, or neither (a count no column shows, but
// one that licensed − aware − outstanding reveals, so it is protected like a cell); drivers ever
// aware are aware or not now (ever aware − aware); licensed drivers are ever aware or never
// (licensed − ever aware). No export
// publishes a sum across periods (each row is one period; stock figures do not add up), so rows
// are independent.
//
// An export says which rule hid each cell. That is knowledge too: a cell marked primary is from
// 1 to 4, and a cell marked secondary is 1 or more (secondary cells are never zeros). Secondary
// cannot promise "5 or more": hidden cells can pin a small count among themselves, with no
// published cell left to hide — four channels marked <5 under a leaflets count marked <5 make that
// count 4 — and then the only cure is a label that says less, so such a small count is marked
// secondary instead of primary. The check below takes the labels into account: for every hidden
// small count (and every small "neither" count) it works out, by linear programming over every
// published sum at once, the least and the greatest value the cell could have given the published
// cells, the labels and non-negativity, and hides another cell (or re-marks the small count
// secondary, when no published cell of its sums is left) while that range holds fewer than two
// whole numbers.

// SuppressRule says why a cell of an export is hidden.
type SuppressRule string

const (
	// SuppressPrimary hides a count from 1 to 4.
	SuppressPrimary SuppressRule = "primary"
	// SuppressSecondary hides a cell that would let a hidden count be worked out.
	SuppressSecondary SuppressRule = "secondary"
)

// The suppression rules in words, as every suppressed export prints them.
const (
	SuppressionPrimaryText = "Primary suppression: a count from 1 to 4 is not shown (<5 in CSV and XLSX, null in JSON). Zeros are shown: " +
		"a zero counts no driver, so it cannot single one out, and hiding zeros would hide most of the channel and version columns."
	SuppressionSecondaryText = "Secondary suppression: wherever a hidden count could be worked out, or narrowed to a single value, " +
		"from the published cells of a sum — the councils adding up to the partnership total; leaflets by channel, or by version, adding up " +
		"to leaflets issued or acknowledged; renewals approved plus refused making renewals decided; licensed drivers being aware, " +
		"outstanding or neither (the drivers neither aware nor outstanding, licensed_drivers − drivers_aware − outstanding, are protected " +
		"when 1 to 4); drivers ever aware being aware now or not (drivers_ever_aware − drivers_aware, protected when 1 to 4); licensed " +
		"drivers being ever aware or never (licensed_drivers − drivers_ever_aware, protected when 1 to 4) — the smallest non-zero published cell of that sum is hidden too (\"suppressed\" in CSV and XLSX, null in JSON), " +
		"repeated until every hidden count has at least two possible values, checked over all the sums together and knowing that a " +
		"primary cell is 1 to 4 and a secondary cell is 1 or more. Where hidden cells alone would pin a count from 1 to 4 (for example a " +
		"leaflets count and its four channels all from 1 to 4 make it 4), that count is marked secondary instead of primary: a secondary " +
		"cell is any count of 1 or more, small or not, and is never a zero. Ties go to the cell further left, then to the council listed first. " +
		"coverage_pct is withheld (secondary) wherever licensed_drivers or drivers_aware is hidden."
	SuppressionScopeText = "Each period row is protected on its own: this export publishes no sums across periods. " +
		"Exports with a different grouping or council selection are suppressed separately, so do not publish two exports of the same figures."
)

// SuppressionText is the whole rule, as one paragraph.
func SuppressionText() string {
	return SuppressionPrimaryText + " " + SuppressionSecondaryText + " " + SuppressionScopeText
}

// The counts no column shows, but that differences of published columns reveal, so they are
// protected like cells: licensed drivers neither aware nor outstanding (licensed − aware −
// outstanding), drivers who were ever aware but are not aware now (ever aware − aware), and
// licensed drivers never aware (licensed − ever aware).
const (
	restColumn   = "licensed_neither_aware_nor_outstanding"
	lapsedColumn = "drivers_ever_aware_not_aware"
	neverColumn  = "licensed_never_aware"
)

// derived reports whether a column is one of the counts no column shows.
func derived(col string) bool { return col == restColumn || col == lapsedColumn || col == neverColumn }

// derivedCounts are a line's unpublished counts, with their values.
func derivedCounts(f Figures) []namedCount {
	return []namedCount{{restColumn, f.LicensedDrivers - f.DriversAware - f.Outstanding},
		{lapsedColumn, f.DriversEverAware - f.DriversAware}, {neverColumn, f.LicensedDrivers - f.DriversEverAware}}
}

// Suppression is which cells of a report an export hides, and by which rule: per row, per line
// (a council's slug or TotalSlug), per column name of the export.
type Suppression struct {
	rows []map[cellKey]SuppressRule
}

type cellKey struct{ line, col string }

// Rule is why the cell is hidden, or "" when it is published.
func (s *Suppression) Rule(row int, line, column string) SuppressRule {
	if s == nil || row < 0 || row >= len(s.rows) {
		return ""
	}
	return s.rows[row][cellKey{line, column}]
}

// Count is how many cells are hidden by a rule, over the whole report (coverage_pct included).
func (s *Suppression) Count(rule SuppressRule) int {
	n := 0
	if s == nil {
		return 0
	}
	for _, m := range s.rows {
		for k, r := range m {
			if r == rule && !derived(k.col) {
				n++
			}
		}
	}
	return n
}

// namedCount is one count column's value.
type namedCount struct {
	col string
	n   int
}

// countColumns are a line's count columns (every column of the export that is a count), in the
// export's column order.
func countColumns(f Figures, versions []string) []namedCount {
	out := []namedCount{{"licensed_drivers", f.LicensedDrivers}, {"drivers_aware", f.DriversAware}, {"outstanding", f.Outstanding},
		{"drivers_ever_aware", f.DriversEverAware}, {"leaflets_issued", f.LeafletsIssued}, {"leaflets_acknowledged", f.LeafletsAcknowledged}}
	for _, ch := range Channels {
		out = append(out, namedCount{"leaflets_issued_" + ch, f.IssuedByChannel[ch]})
	}
	for _, ch := range Channels {
		out = append(out, namedCount{"leaflets_acknowledged_" + ch, f.AcknowledgedByChannel[ch]})
	}
	for _, v := range versions {
		out = append(out, namedCount{"leaflets_issued_v" + v, f.IssuedByVersion[v]})
	}
	for _, v := range versions {
		out = append(out, namedCount{"leaflets_acknowledged_v" + v, f.AcknowledgedByVersion[v]})
	}
	return append(out, namedCount{"renewals_submitted", f.RenewalsSubmitted}, namedCount{"renewals_decided", f.RenewalsDecided()},
		namedCount{"renewals_approved", f.RenewalsApproved}, namedCount{"renewals_refused", f.RenewalsRefused},
		namedCount{"public_events", f.PublicEvents}, namedCount{"public_leaflets_handed_out", f.PublicLeafletsHandedOut})
}

// term is one cell of a sum, with its sign: the sum's terms add up to zero.
type term struct {
	cell int
	coef int
}

// suppressTable is one period row as cells and the sums it publishes.
type suppressTable struct {
	keys   []cellKey
	vals   []int
	order  []int // tie-break rank: column position, then line position
	rels   [][]term
	inRels [][]int // per cell, the sums it is in
}

func newSuppressTable(row Row, versions []string, includeTotal bool) *suppressTable {
	t := &suppressTable{}
	type line struct {
		slug string
		f    Figures
	}
	var lines []line
	for _, c := range row.Councils {
		lines = append(lines, line{c.Slug, c.Figures})
	}
	if includeTotal {
		lines = append(lines, line{TotalSlug, row.Total})
	}
	index := map[cellKey]int{}
	for li, l := range lines {
		cols := countColumns(l.f, versions)
		cols = append(cols, derivedCounts(l.f)...)
		for ci, c := range cols {
			k := cellKey{l.slug, c.col}
			index[k] = len(t.keys)
			t.keys = append(t.keys, k)
			t.vals = append(t.vals, c.n)
			t.order = append(t.order, ci*1000+li)
		}
	}
	// sum adds whole = Σ parts when it holds for these figures (a relation that does not hold is
	// not one an intruder could use).
	sum := func(whole cellKey, parts []cellKey) {
		w, ok := index[whole]
		if !ok {
			return
		}
		rel := []term{{w, 1}}
		total := 0
		for _, p := range parts {
			i, ok := index[p]
			if !ok {
				return
			}
			rel = append(rel, term{i, -1})
			total += t.vals[i]
		}
		if len(parts) == 0 || total != t.vals[w] {
			return
		}
		t.rels = append(t.rels, rel)
	}
	for _, l := range lines {
		k := func(col string) cellKey { return cellKey{l.slug, col} }
		for _, kind := range []string{"issued", "acknowledged"} {
			var byCh, byVer []cellKey
			for _, ch := range Channels {
				byCh = append(byCh, k("leaflets_"+kind+"_"+ch))
			}
			for _, v := range versions {
				byVer = append(byVer, k("leaflets_"+kind+"_v"+v))
			}
			sum(k("leaflets_"+kind), byCh)
			sum(k("leaflets_"+kind), byVer)
		}
		sum(k("renewals_decided"), []cellKey{k("renewals_approved"), k("renewals_refused")})
		if t.vals[index[k(restColumn)]] >= 0 {
			sum(k("licensed_drivers"), []cellKey{k("drivers_aware"), k("outstanding"), k(restColumn)})
		}
		if t.vals[index[k(lapsedColumn)]] >= 0 && t.vals[index[k(neverColumn)]] >= 0 {
			sum(k("drivers_ever_aware"), []cellKey{k("drivers_aware"), k(lapsedColumn)})
			sum(k("licensed_drivers"), []cellKey{k("drivers_ever_aware"), k(neverColumn)})
		}
	}
	if includeTotal && len(row.Councils) > 0 {
		for _, c := range countColumns(row.Total, versions) {
			var parts []cellKey
			for _, l := range lines[:len(lines)-1] {
				parts = append(parts, cellKey{l.slug, c.col})
			}
			sum(cellKey{TotalSlug, c.col}, parts)
		}
		for _, d := range derivedCounts(row.Total) {
			var parts []cellKey
			for _, l := range lines[:len(lines)-1] {
				parts = append(parts, cellKey{l.slug, d.col})
			}
			if d.n >= 0 {
				sum(cellKey{TotalSlug, d.col}, parts)
			}
		}
	}
	t.inRels = make([][]int, len(t.keys))
	for ri, rel := range t.rels {
		for _, tm := range rel {
			t.inRels[tm.cell] = append(t.inRels[tm.cell], ri)
		}
	}
	return t
}

// bounds is what an intruder knows of a cell: exact when published; 1–4 when marked primary;
// 1 or more when marked secondary (a secondary cell is never a zero, but it may be a small count
// re-marked, see suppress); anything from 0 when never published.
func (t *suppressTable) bounds(i int, hidden []SuppressRule) (lo, hi float64) {
	switch {
	case derived(t.keys[i].col):
		return 0, math.Inf(1)
	case hidden[i] == SuppressPrimary:
		return 1, 4
	case hidden[i] == SuppressSecondary:
		return 1, math.Inf(1)
	default:
		v := float64(t.vals[i])
		return v, v
	}
}

// sensitive reports whether a cell must not be recoverable: a hidden small count (primary, or
// re-marked secondary), or a small count no column shows.
func (t *suppressTable) sensitive(i int, hidden []SuppressRule) bool {
	return isHidden(t, i, hidden) && small(t.vals[i])
}

func isHidden(t *suppressTable, i int, hidden []SuppressRule) bool {
	return hidden[i] != "" || derived(t.keys[i].col)
}

// pinnedInRelation reports whether sum ri alone narrows sensitive cell i to one whole number.
func (t *suppressTable) pinnedInRelation(ri, i int, hidden []SuppressRule) bool {
	// coef_i·x_i = −Σ others; each other term ranges over its bounds.
	lo, hi := 0.0, 0.0
	var ci int
	for _, tm := range t.rels[ri] {
		if tm.cell == i {
			ci = tm.coef
			continue
		}
		l, h := t.bounds(tm.cell, hidden)
		if !isHidden(t, tm.cell, hidden) {
			l, h = float64(t.vals[tm.cell]), float64(t.vals[tm.cell])
		}
		a, b := -float64(tm.coef)*l, -float64(tm.coef)*h
		lo += math.Min(a, b)
		hi += math.Max(a, b)
	}
	if ci < 0 {
		lo, hi = -hi, -lo
	}
	bl, bh := t.bounds(i, hidden)
	return narrow(math.Max(lo, bl), math.Min(hi, bh))
}

// narrow reports whether [lo, hi] holds fewer than two whole numbers.
func narrow(lo, hi float64) bool {
	const eps = 1e-6
	return math.Floor(hi+eps)-math.Ceil(lo-eps) < 1
}

// candidate is the published non-zero cell, among the sums given, to hide next: the smallest,
// then the leftmost column, then the first line.
func (t *suppressTable) candidate(rels []int, hidden []SuppressRule) int {
	best := -1
	for _, ri := range rels {
		for _, tm := range t.rels[ri] {
			i := tm.cell
			if isHidden(t, i, hidden) || t.vals[i] <= 0 {
				continue
			}
			if best < 0 || t.vals[i] < t.vals[best] || (t.vals[i] == t.vals[best] && t.order[i] < t.order[best]) {
				best = i
			}
		}
	}
	return best
}

// suppress works out the hidden cells of one period row.
func (t *suppressTable) suppress() []SuppressRule {
	hidden := make([]SuppressRule, len(t.keys))
	for i, v := range t.vals {
		if !derived(t.keys[i].col) && small(v) {
			hidden[i] = SuppressPrimary
		}
	}
	// Hiding more cells only widens what an intruder must allow for, so a cell once shown safe
	// stays safe.
	safe := make([]bool, len(t.keys))
	var witnesses [][]float64
	hide := func(i int) bool {
		if i < 0 {
			return false
		}
		hidden[i] = SuppressSecondary
		return true
	}
	for {
		// First each sum on its own, which is quick and settles most tables...
		changed := true
		for changed {
			changed = false
			for ri, rel := range t.rels {
				// A sum with a single hidden cell gives it away, whatever its rule (a
				// "neither" count that is not small may be worked out: it is never shown).
				n, only := 0, -1
				for _, tm := range rel {
					if hidden[tm.cell] != "" || t.sensitive(tm.cell, hidden) {
						n, only = n+1, tm.cell
					} else if isHidden(t, tm.cell, hidden) {
						n++
					}
				}
				if n == 1 && only >= 0 {
					changed = hide(t.candidate([]int{ri}, hidden)) || changed
					continue
				}
				for _, tm := range rel {
					if t.sensitive(tm.cell, hidden) && t.pinnedInRelation(ri, tm.cell, hidden) {
						changed = hide(t.candidate([]int{ri}, hidden)) || changed
						break
					}
				}
			}
		}
		// ...then every sum together.
		pinned := t.firstPinned(hidden, safe, &witnesses)
		if pinned < 0 {
			return hidden
		}
		if hide(t.candidate(t.inRels[pinned], hidden)) {
			continue
		}
		// No published cell left in the cell's own sums: the hidden cells pin it among themselves
		// (four channels marked <5 under a leaflets count marked <5 make it 4, whatever else is
		// hidden). Only a label that says less can help: the cell is re-marked secondary (1 or
		// more, no upper bound).
		if hidden[pinned] == SuppressPrimary {
			hidden[pinned] = SuppressSecondary
			continue
		}
		// Then widen to every sum it is linked to, and last re-mark another small count there.
		linked := t.linked(pinned, hidden)
		if hide(t.candidate(linked, hidden)) {
			continue
		}
		if !t.remark(linked, hidden) {
			return hidden // nothing left to hide
		}
	}
}

// remark re-marks secondary the first primary cell of the sums given (leftmost column, then
// first line), reporting whether there was one.
func (t *suppressTable) remark(rels []int, hidden []SuppressRule) bool {
	best := -1
	for _, ri := range rels {
		for _, tm := range t.rels[ri] {
			if i := tm.cell; hidden[i] == SuppressPrimary && (best < 0 || t.order[i] < t.order[best]) {
				best = i
			}
		}
	}
	if best < 0 {
		return false
	}
	hidden[best] = SuppressSecondary
	return true
}

// linked lists the sums reachable from cell i through hidden cells.
func (t *suppressTable) linked(i int, hidden []SuppressRule) []int {
	seenRel := map[int]bool{}
	seenCell := map[int]bool{i: true}
	queue := []int{i}
	var out []int
	for len(queue) > 0 {
		c := queue[0]
		queue = queue[1:]
		for _, ri := range t.inRels[c] {
			if seenRel[ri] {
				continue
			}
			seenRel[ri] = true
			out = append(out, ri)
			for _, tm := range t.rels[ri] {
				if isHidden(t, tm.cell, hidden) && !seenCell[tm.cell] {
					seenCell[tm.cell] = true
					queue = append(queue, tm.cell)
				}
			}
		}
	}
	sort.Ints(out)
	return out
}

// firstPinned is the first sensitive cell that the published cells, taken together, narrow to
// a single whole number, or -1. A cell is safe when some solution of what an intruder knows
// gives it a value at least 1 away from its true one (the true figures are a solution too, and
// the solutions form a convex set). Solutions found on the way are kept and tried first: one
// solution shows many cells safe at once.
func (t *suppressTable) firstPinned(hidden []SuppressRule, safe []bool, witnesses *[][]float64) int {
	certify := func(w []float64) {
		for k := range t.keys {
			if !safe[k] && t.sensitive(k, hidden) && math.Abs(w[k]-float64(t.vals[k])) >= 1-1e-6 {
				safe[k] = true
			}
		}
	}
	record := func(x []float64, cells []int) {
		if x == nil {
			return
		}
		w := make([]float64, len(t.vals))
		for k, v := range t.vals {
			w[k] = float64(v)
		}
		for v, k := range cells {
			w[k] = x[v]
		}
		*witnesses = append(*witnesses, w)
		certify(w)
	}
	for i := range t.keys {
		if safe[i] || !t.sensitive(i, hidden) || len(t.inRels[i]) == 0 {
			continue
		}
		for _, w := range *witnesses {
			certify(w)
		}
		if safe[i] {
			continue
		}
		sys, cells := t.system(i, hidden)
		rs := NewRangeSolver(sys)
		// Push every unsettled cell of the system down together, then up together.
		for _, sign := range []float64{1, -1} {
			obj := make([]float64, len(cells))
			for v, k := range cells {
				if !safe[k] && t.sensitive(k, hidden) {
					obj[v] = sign
				}
			}
			if x, _, err := rs.Optimum(obj); err == nil {
				record(x, cells)
			}
			if safe[i] {
				break
			}
		}
		if safe[i] {
			continue
		}
		lo, hi, atLo, atHi := rs.Range(sys.Target)
		record(atLo, cells)
		record(atHi, cells)
		if narrow(lo, hi) {
			return i
		}
		safe[i] = true // unbounded above, or a range of two whole numbers or more
	}
	return -1
}

// system is the linear system of the hidden cells linked to cell i, for FeasibleRange, and the
// cell of each of its variables.
func (t *suppressTable) system(i int, hidden []SuppressRule) (LinearSystem, []int) {
	rels := t.linked(i, hidden)
	varOf := map[int]int{}
	var cells []int
	var sys LinearSystem
	for _, ri := range rels {
		for _, tm := range t.rels[ri] {
			if _, ok := varOf[tm.cell]; !ok && isHidden(t, tm.cell, hidden) {
				varOf[tm.cell] = len(sys.Lo)
				cells = append(cells, tm.cell)
				lo, hi := t.bounds(tm.cell, hidden)
				sys.Lo, sys.Hi = append(sys.Lo, lo), append(sys.Hi, hi)
			}
		}
	}
	for _, ri := range rels {
		row := make([]float64, len(sys.Lo))
		rhs := 0.0
		for _, tm := range t.rels[ri] {
			if v, ok := varOf[tm.cell]; ok {
				row[v] += float64(tm.coef)
			} else {
				rhs -= float64(tm.coef * t.vals[tm.cell])
			}
		}
		sys.A, sys.B = append(sys.A, row), append(sys.B, rhs)
	}
	sys.Target = varOf[i]
	return sys, cells
}

// Suppress works out which cells of the report an export for public release hides. Rows are
// independent (no export publishes a sum across periods), so they are worked out side by side.
func Suppress(r Report, includeTotal bool) *Suppression {
	versions := Versions(r)
	s := &Suppression{rows: make([]map[cellKey]SuppressRule, len(r.Rows))}
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), max(len(r.Rows), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				s.rows[i] = suppressRow(r.Rows[i], versions, includeTotal)
			}
		}()
	}
	for i := range r.Rows {
		next <- i
	}
	close(next)
	wg.Wait()
	return s
}

func suppressRow(row Row, versions []string, includeTotal bool) map[cellKey]SuppressRule {
	t := newSuppressTable(row, versions, includeTotal)
	hidden := t.suppress()
	m := map[cellKey]SuppressRule{}
	for i, h := range hidden {
		if h != "" {
			m[t.keys[i]] = h
		}
	}
	lines := []string{}
	for _, c := range row.Councils {
		lines = append(lines, c.Slug)
	}
	if includeTotal {
		lines = append(lines, TotalSlug)
	}
	for _, l := range lines {
		if m[cellKey{l, "licensed_drivers"}] != "" || m[cellKey{l, "drivers_aware"}] != "" {
			m[cellKey{l, "coverage_pct"}] = SuppressSecondary
		}
	}
	return m
}

// LinearSystem is what an intruder knows of some hidden cells: A·x = B, Lo ≤ x ≤ Hi (Hi may be
// +Inf). Target is the cell whose range is asked.
type LinearSystem struct {
	A      [][]float64
	B      []float64
	Lo, Hi []float64
	Target int
}

// FeasibleRange is the least and the greatest value of x[Target] over the real solutions of the
// system (linear programming; the greatest is +Inf when unbounded), with a solution at each
// (atHi is nil when unbounded), so that a caller can check them.
func FeasibleRange(s LinearSystem) (lo, hi float64, atLo, atHi []float64) {
	return NewRangeSolver(s).Range(s.Target)
}

// RangeSolver answers FeasibleRange for any cell of one system, set up once.
type RangeSolver struct {
	s       LinearSystem
	n, arts int
	A       *mat.Dense
	b       []float64
	basic   []int
	bigM    float64
}

// NewRangeSolver prepares a system in the simplex's standard form: x = Lo + y with y ≥ 0; each
// equation A·y = B − A·Lo (signed so that its right side is not negative) gets an artificial
// variable, priced out by a large cost (the sums an export publishes are not independent, which
// the artificial variables absorb); each cell with an upper bound gets y + s = Hi − Lo. The
// artificial and slack variables are the starting basis, so no search for one is needed.
func NewRangeSolver(s LinearSystem) *RangeSolver {
	n := len(s.Lo)
	var upper []int
	for j := 0; j < n; j++ {
		if !math.IsInf(s.Hi[j], 1) {
			upper = append(upper, j)
		}
	}
	eq := len(s.A)
	m, cols := eq+len(upper), n+len(upper)+eq
	rs := &RangeSolver{s: s, n: n, arts: eq, bigM: 1e5 * float64(n+1)}
	if m == 0 {
		return rs
	}
	rs.A = mat.NewDense(m, cols, nil)
	rs.b = make([]float64, m)
	for r, a := range s.A {
		rhs := s.B[r]
		for j := 0; j < n; j++ {
			rhs -= a[j] * s.Lo[j]
		}
		sign := 1.0
		if rhs < 0 {
			sign = -1
		}
		for j := 0; j < n; j++ {
			rs.A.Set(r, j, sign*a[j])
		}
		rs.b[r] = sign * rhs
		rs.A.Set(r, n+len(upper)+r, 1)
		rs.basic = append(rs.basic, n+len(upper)+r)
	}
	for k, j := range upper {
		rs.A.Set(eq+k, j, 1)
		rs.A.Set(eq+k, n+k, 1)
		rs.b[eq+k] = s.Hi[j] - s.Lo[j]
		rs.basic = append(rs.basic, n+k)
	}
	return rs
}

// Optimum minimises w·x over the system: a solution, or unbounded, or an error.
func (rs *RangeSolver) Optimum(w []float64) (x []float64, unbounded bool, err error) {
	if rs.A == nil {
		return nil, false, errors.New("no equations")
	}
	_, cols := rs.A.Dims()
	c := make([]float64, cols)
	copy(c, w)
	for k := 0; k < rs.arts; k++ {
		c[cols-rs.arts+k] = rs.bigM
	}
	_, y, err := lp.Simplex(c, rs.A, rs.b, 1e-9, append([]int(nil), rs.basic...))
	if errors.Is(err, lp.ErrUnbounded) {
		return nil, true, nil
	}
	if err != nil {
		return nil, false, err
	}
	for k := 0; k < rs.arts; k++ {
		if y[cols-rs.arts+k] > 1e-7 {
			return nil, false, errors.New("lp: infeasible")
		}
	}
	x = make([]float64, rs.n)
	for j := range x {
		x[j] = rs.s.Lo[j] + y[j]
	}
	return x, false, nil
}

// Range is FeasibleRange for cell target.
func (rs *RangeSolver) Range(target int) (lo, hi float64, atLo, atHi []float64) {
	s := rs.s
	if rs.A == nil {
		return s.Lo[target], s.Hi[target], nil, nil
	}
	w := make([]float64, rs.n)
	w[target] = 1
	x, _, err := rs.Optimum(w)
	if err != nil {
		// A numeric failure: say the cell is pinned, so that more is hidden rather than less.
		return s.Lo[target], s.Lo[target], nil, nil
	}
	lo, atLo = x[target], x
	w[target] = -1
	x, unbounded, err := rs.Optimum(w)
	switch {
	case unbounded:
		return lo, s.Hi[target], atLo, nil
	case err != nil:
		return lo, lo, atLo, nil
	}
	return lo, math.Min(x[target], s.Hi[target]), atLo, x
}
