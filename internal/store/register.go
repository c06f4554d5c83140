package store

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/herts-msp/taxi-renewals/internal/domain"
)

// The register of licensed drivers: imports (preview, then all-or-nothing apply), the list of
// drivers due for renewal, and reminder emails.

type registerImportRow struct {
	ID         int64
	CouncilID  int64
	StaffID    *int64
	FileSHA256 string `gorm:"column:file_sha256"`
	Content    []byte
	RowCount   int
	Summary    string
	CreatedAt  time.Time
	AppliedAt  *time.Time
}

func (registerImportRow) TableName() string { return "register_imports" }

// ImportSummary is kept with each import (as JSON in register_imports.summary).
type ImportSummary struct {
	Source   string               `json:"source"` // "web" or "cli"
	FileName string               `json:"file_name"`
	By       string               `json:"by"`
	Preview  domain.ImportCounts  `json:"preview"`           // at upload
	Applied  *domain.ImportCounts `json:"applied,omitempty"` // what applying did
}

// RegisterImport is an uploaded register file, held between preview and confirmation, and the
// record of the import once applied. Content is empty for imports from the command line.
type RegisterImport struct {
	ID         int64
	CouncilID  int64
	StaffID    int64
	FileSHA256 string
	Content    []byte
	RowCount   int
	Summary    ImportSummary
	CreatedAt  time.Time
	AppliedAt  time.Time // zero until applied
}

func (r registerImportRow) toImport() RegisterImport {
	imp := RegisterImport{ID: r.ID, CouncilID: r.CouncilID, FileSHA256: r.FileSHA256, Content: r.Content, RowCount: r.RowCount,
		CreatedAt: r.CreatedAt.UTC()}
	if r.StaffID != nil {
		imp.StaffID = *r.StaffID
	}
	if r.AppliedAt != nil {
		imp.AppliedAt = r.AppliedAt.UTC()
	}
	_ = json.Unmarshal([]byte(r.Summary), &imp.Summary)
	return imp
}

func summaryJSON(s ImportSummary) (string, error) {
	b, err := json.Marshal(s)
	return string(b), err
}

var errImportNotFound = domain.NewError(domain.CodeNotFound, "import_not_found", "There is no register import with that reference.")

// CreateRegisterImport keeps an uploaded file until the officer confirms it.
func (s *Store) CreateRegisterImport(ctx context.Context, imp RegisterImport) (RegisterImport, error) {
	sum, err := summaryJSON(imp.Summary)
	if err != nil {
		return imp, err
	}
	content := imp.Content
	if content == nil {
		content = []byte{}
	}
	row := registerImportRow{CouncilID: imp.CouncilID, StaffID: optionalID(imp.StaffID), FileSHA256: imp.FileSHA256, Content: content,
		RowCount: imp.RowCount, Summary: sum, CreatedAt: imp.CreatedAt.UTC()}
	if err := s.db.WithContext(ctx).Create(&row).Error; err != nil {
		return imp, err
	}
	return row.toImport(), nil
}

// RegisterImportByID finds an import, with its file.
func (s *Store) RegisterImportByID(ctx context.Context, id int64) (RegisterImport, error) {
	var r registerImportRow
	err := s.db.WithContext(ctx).Take(&r, id).Error
	if isNotFound(err) {
		return RegisterImport{}, errImportNotFound
	}
	if err != nil {
		return RegisterImport{}, err
	}
	return r.toImport(), nil
}

// RecentRegisterImports lists a council's latest imports, newest first, without their files.
func (s *Store) RecentRegisterImports(ctx context.Context, councilID int64, limit int) ([]RegisterImport, error) {
	var rows []registerImportRow
	err := s.db.WithContext(ctx).Omit("content").Where("council_id = ?", councilID).Order("id DESC").Limit(limit).Find(&rows).Error
	if err != nil {
		return nil, err
	}
	out := make([]RegisterImport, len(rows))
	for i, r := range rows {
		out[i] = r.toImport()
	}
	return out, nil
}

// LastAppliedImportOf finds the latest applied import of a file (by its SHA-256) into a
// council's register.
func (s *Store) LastAppliedImportOf(ctx context.Context, councilID int64, sha string) (RegisterImport, bool, error) {
	var r registerImportRow
	err := s.db.WithContext(ctx).Omit("content").Where("council_id = ? AND file_sha256 = ? AND applied_at IS NOT NULL", councilID, sha).
		Order("applied_at DESC").Take(&r).Error
	if isNotFound(err) {
		return RegisterImport{}, false, nil
	}
	if err != nil {
		return RegisterImport{}, false, err
	}
	return r.toImport(), true, nil
}

func councilDrivers(tx *gorm.DB, councilID int64) ([]domain.Driver, error) {
	var rows []driverRow
	if err := tx.Where("council_id = ?", councilID).Find(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]domain.Driver, len(rows))
	for i, r := range rows {
		out[i] = r.toDomain()
	}
	return out, nil
}

// foreignLicences finds licence numbers of the file that are on another council's register: a
// file of the wrong council's licences is refused, row by row, with a summary first. The other
// councils' licence numbers are read in one pass (there is no index on the licence number
// alone, so one scan beats many IN lookups).
func foreignLicences(tx *gorm.DB, councilID int64, rows []domain.RegisterRow) ([]domain.RegisterProblem, error) {
	lineOf := make(map[string]int, len(rows))
	for _, r := range rows {
		lineOf[r.Driver.LicenceNumber] = r.Line
	}
	type hit struct {
		LicenceNumber string
		CouncilName   string
	}
	var others []hit
	err := tx.Table("drivers").Select("drivers.licence_number, councils.name AS council_name").
		Joins("JOIN councils ON councils.id = drivers.council_id").
		Where("drivers.council_id <> ?", councilID).Scan(&others).Error
	if err != nil {
		return nil, err
	}
	var hits []hit
	for _, h := range others {
		if _, ok := lineOf[h.LicenceNumber]; ok {
			hits = append(hits, h)
		}
	}
	if len(hits) == 0 {
		return nil, nil
	}
	sort.Slice(hits, func(i, j int) bool { return lineOf[hits[i].LicenceNumber] < lineOf[hits[j].LicenceNumber] })
	perCouncil := map[string]int{}
	problems := make([]domain.RegisterProblem, 0, len(hits)+1)
	for _, h := range hits {
		perCouncil[h.CouncilName]++
		problems = append(problems, domain.RegisterProblem{Line: lineOf[h.LicenceNumber], Column: "licence_number",
			Message: fmt.Sprintf("licence %s is on %s's register, not this council's", h.LicenceNumber, h.CouncilName)})
	}
	names := make([]string, 0, len(perCouncil))
	for n, c := range perCouncil {
		names = append(names, fmt.Sprintf("%s: %d", n, c))
	}
	sort.Strings(names)
	what := "licence numbers in this file are"
	if len(hits) == 1 {
		what = "licence number in this file is"
	}
	summary := domain.RegisterProblem{Message: fmt.Sprintf("%d %s on another council's register (%s). Check that this is your council's file.",
		len(hits), what, strings.Join(names, "; "))}
	return append([]domain.RegisterProblem{summary}, problems...), nil
}

// AddRegisterProblems adds problems found against the database to a file's: a summary
// (line 0) as a note at the top, the rest as problems.
func AddRegisterProblems(f *domain.RegisterFile, problems []domain.RegisterProblem) {
	for _, p := range problems {
		if p.Line == 0 {
			f.AddNote(p)
		} else {
			f.AddProblem(p)
		}
	}
}

// RegisterPreview is what loading a file would do, before anything is written.
type RegisterPreview struct {
	Diff domain.RegisterDiff
	// Problems found against the database (licences on another council's register).
	Problems []domain.RegisterProblem
}

// PreviewRegister compares a file's rows with the council's register. It writes nothing.
func (s *Store) PreviewRegister(ctx context.Context, councilID int64, rows []domain.RegisterRow) (RegisterPreview, error) {
	tx := s.db.WithContext(ctx)
	problems, err := foreignLicences(tx, councilID, rows)
	if err != nil {
		return RegisterPreview{}, err
	}
	existing, err := councilDrivers(tx, councilID)
	if err != nil {
		return RegisterPreview{}, err
	}
	return RegisterPreview{Diff: domain.DiffRegister(existing, rows), Problems: problems}, nil
}

// ApplyRegister is a request to load a register file.
type ApplyRegister struct {
	// ImportID is an upload to apply. 0 records a new import from New (the command line).
	ImportID  int64
	New       RegisterImport
	CouncilID int64
	Rows      []domain.RegisterRow
	NoEmail   int
	// Audit is completed with the counts and appended in the same transaction.
	Audit domain.AuditEntry
	Now   time.Time
	// Progress, when set, is called after each batch with the drivers written so far.
	Progress func(done, total int)
}

// RegisterApplied is what applying did.
type RegisterApplied struct {
	ImportID       int64
	AlreadyApplied bool // this import had been applied before: nothing was done now
	AppliedAt      time.Time
	Counts         domain.ImportCounts
}

// upsertBatch is how many drivers go in one INSERT statement (14 values each).
const upsertBatch = 500

// ApplyRegister loads a file's rows into a council's register, all or nothing, in one
// transaction: it compares them with the register again (it may have changed since the
// preview), refuses the whole file if a licence is on another council's register, adds and
// updates drivers in batches, never deletes one, marks the import applied and appends the
// audit entry. Applying an import a second time does nothing and says so.
func (s *Store) ApplyRegister(ctx context.Context, req ApplyRegister) (RegisterApplied, error) {
	var out RegisterApplied
	err := s.transaction(ctx, func(tx *gorm.DB) error {
		var imp registerImportRow
		if req.ImportID != 0 {
			err := tx.Omit("content").Take(&imp, req.ImportID).Error
			if isNotFound(err) || (err == nil && imp.CouncilID != req.CouncilID) {
				return errImportNotFound
			}
			if err != nil {
				return err
			}
			if imp.AppliedAt != nil {
				done := imp.toImport()
				out = RegisterApplied{ImportID: imp.ID, AlreadyApplied: true, AppliedAt: done.AppliedAt}
				if done.Summary.Applied != nil {
					out.Counts = *done.Summary.Applied
				}
				return nil
			}
		}
		problems, err := foreignLicences(tx, req.CouncilID, req.Rows)
		if err != nil {
			return err
		}
		if len(problems) > 0 {
			f := &domain.RegisterFile{}
			AddRegisterProblems(f, problems)
			return f.Err()
		}
		existing, err := councilDrivers(tx, req.CouncilID)
		if err != nil {
			return err
		}
		diff := domain.DiffRegister(existing, req.Rows)
		counts := domain.CountsOf(diff, req.NoEmail)
		now := req.Now.UTC()
		// A status is dated by the file's status_date, else it keeps its day when unchanged, else
		// it takes effect today (London): the status history (migration 0011) is written from it.
		today := s.londonDay(now)
		held := make(map[string]*domain.Driver, len(existing))
		for i := range existing {
			held[existing[i].LicenceNumber] = &existing[i]
		}
		writes := make([]driverRow, 0, diff.Writes())
		for _, list := range [][]domain.RegisterChange{diff.Add, diff.Update} {
			for _, ch := range list {
				d := ch.Driver
				writes = append(writes, driverRow{CouncilID: req.CouncilID, LicenceNumber: d.LicenceNumber, GivenNames: d.GivenNames,
					FamilyName: d.FamilyName, DateOfBirth: d.DateOfBirth, Email: d.Email, Phone: d.Phone, Postcode: d.Postcode,
					LicenceStart: d.LicenceStart, LicenceExpiry: d.LicenceExpiry, Status: d.Status,
					StatusFrom: domain.StatusFromOf(held[d.LicenceNumber], d, today), CreatedAt: now, UpdatedAt: now})
			}
		}
		upsert := clause.OnConflict{
			Columns:   []clause.Column{{Name: "council_id"}, {Name: "licence_number"}},
			DoUpdates: clause.AssignmentColumns(driverUpsertColumns),
		}
		for i := 0; i < len(writes); i += upsertBatch {
			batch := writes[i:min(i+upsertBatch, len(writes))]
			if err := tx.Clauses(upsert).Create(&batch).Error; err != nil {
				return err
			}
			if req.Progress != nil {
				req.Progress(i+len(batch), len(writes))
			}
		}
		if req.Progress != nil && len(writes) == 0 {
			req.Progress(0, 0)
		}

		if req.ImportID == 0 {
			n := req.New
			n.Summary.Preview = counts
			n.Summary.Applied = &counts
			sum, err := summaryJSON(n.Summary)
			if err != nil {
				return err
			}
			imp = registerImportRow{CouncilID: req.CouncilID, StaffID: optionalID(n.StaffID), FileSHA256: n.FileSHA256, Content: []byte{},
				RowCount: len(req.Rows), Summary: sum, CreatedAt: now, AppliedAt: &now}
			if err := tx.Create(&imp).Error; err != nil {
				return err
			}
		} else {
			var full registerImportRow
			if err := tx.Select("summary").Take(&full, imp.ID).Error; err != nil {
				return err
			}
			summary := full.toImport().Summary
			summary.Applied = &counts
			sum, err := summaryJSON(summary)
			if err != nil {
				return err
			}
			res := tx.Model(&registerImportRow{}).Where("id = ? AND applied_at IS NULL", imp.ID).
				Updates(map[string]any{"applied_at": now, "summary": sum})
			if res.Error != nil {
				return res.Error
			}
			if res.RowsAffected != 1 {
				return domain.NewError(domain.CodeConflict, "import_applied", "This import has already been applied.")
			}
		}
		e := req.Audit
		e.CouncilID = req.CouncilID
		e.Target = fmt.Sprintf("register_import:%d", imp.ID)
		detail := map[string]any{"file_sha256": imp.FileSHA256, "rows": counts.Rows, "added": counts.Added, "updated": counts.Updated,
			"unchanged": counts.Unchanged, "missing": counts.Missing, "no_email": counts.NoEmail}
		for k, v := range e.Detail {
			detail[k] = v
		}
		e.Detail = detail
		if err := appendAudit(tx, e); err != nil {
			return err
		}
		out = RegisterApplied{ImportID: imp.ID, AppliedAt: now, Counts: counts}
		return nil
	})
	return out, err
}

// RegisterStatsOf counts a council's drivers by status.
func (s *Store) RegisterStatsOf(ctx context.Context, councilID int64) (domain.RegisterStats, error) {
	var rows []struct {
		Status  string
		N       int
		NoEmail int
	}
	err := s.db.WithContext(ctx).Model(&driverRow{}).Select("status, COUNT(*) AS n, SUM(CASE WHEN email = '' THEN 1 ELSE 0 END) AS no_email").
		Where("council_id = ?", councilID).Group("status").Scan(&rows).Error
	var st domain.RegisterStats
	for _, r := range rows {
		st.Total += r.N
		st.NoEmail += r.NoEmail
		switch r.Status {
		case domain.DriverActive:
			st.Active += r.N
		case domain.DriverSuspended:
			st.Suspended += r.N
		case domain.DriverRevoked:
			st.Revoked += r.N
		}
	}
	return st, err
}

// likePattern escapes a search term for LIKE ... ESCAPE '\'.
func likePattern(q string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(q) + "%"
}

// SearchDrivers lists a council's drivers by family name, optionally those whose name or
// licence number contains q, with the total that match.
func (s *Store) SearchDrivers(ctx context.Context, councilID int64, q string, limit, offset int) ([]domain.Driver, int64, error) {
	query := s.db.WithContext(ctx).Model(&driverRow{}).Where("council_id = ?", councilID)
	if q = strings.TrimSpace(q); q != "" {
		p := likePattern(q)
		// SQLite's LIKE ignores the case of ASCII letters; PostgreSQL's ILIKE does that and more.
		like := "LIKE"
		if s.dialect == dialectPostgres {
			like = "ILIKE"
		}
		query = query.Where(strings.ReplaceAll(`(licence_number LIKE ? ESCAPE '\' OR given_names || ' ' || family_name LIKE ? ESCAPE '\' OR family_name || ' ' || given_names LIKE ? ESCAPE '\')`, "LIKE", like),
			likePattern(strings.ToUpper(q)), p, p)
	}
	var total int64
	if err := query.Count(&total).Error; err != nil {
		return nil, 0, err
	}
	var rows []driverRow
	if err := query.Order("family_name, given_names, licence_number").Limit(limit).Offset(offset).Find(&rows).Error; err != nil {
		return nil, 0, err
	}
	out := make([]domain.Driver, len(rows))
	for i, r := range rows {
		out[i] = r.toDomain()
	}
	return out, total, nil
}

// DueDriver is a driver whose licence expires soon, with where they stand.
type DueDriver struct {
	Driver    domain.Driver
	Awareness domain.AwarenessStatus
	// Renewal is the driver's renewal for this expiry, if they have started one.
	RenewalStatus    domain.RenewalStatus
	RenewalReference string
	// RemindersSent are the reminder stages (60, 30, 14) sent for this expiry.
	RemindersSent []int
}

// dueScope selects a council's active drivers whose licence expires from from to to
// (inclusive). councilID 0 means every council.
func dueScope(tx *gorm.DB, councilID int64, from, to domain.Date) *gorm.DB {
	q := tx.Model(&driverRow{}).Where("status = ? AND licence_expiry >= ? AND licence_expiry <= ?", domain.DriverActive, from.String(), to.String())
	if councilID != 0 {
		q = q.Where("council_id = ?", councilID)
	}
	return q
}

type renewalFact struct {
	DriverID  int64
	Status    string
	Reference *string
	CreatedAt time.Time
	NewExpiry string
}

// renewalsFor returns, per driver in scope, the latest renewal that belongs to the driver's
// current licence expiry.
func renewalsFor(tx *gorm.DB, scope *gorm.DB, expiryOf map[int64]domain.Date) (map[int64]renewalFact, error) {
	var facts []renewalFact
	err := tx.Table("renewals").Select("driver_id, status, reference, created_at, new_expiry").
		Where("driver_id IN (?)", scope.Select("id")).Order("id").Scan(&facts).Error
	if err != nil {
		return nil, err
	}
	out := map[int64]renewalFact{}
	for _, f := range facts {
		if exp, ok := expiryOf[f.DriverID]; ok && domain.RenewalForExpiry(domain.RenewalStatus(f.Status), f.CreatedAt, f.NewExpiry, exp) {
			out[f.DriverID] = f // ordered by id: the latest wins
		}
	}
	return out, nil
}

// remindersFor returns, per driver in scope, the reminder stages sent for their current expiry.
func remindersFor(tx *gorm.DB, scope *gorm.DB) (map[int64][]int, error) {
	var sent []struct {
		DriverID int64
		Stage    int
	}
	err := tx.Table("reminders").Select("reminders.driver_id, reminders.stage").
		Joins("JOIN drivers ON drivers.id = reminders.driver_id AND drivers.licence_expiry = reminders.licence_expiry").
		Where("reminders.driver_id IN (?)", scope.Select("id")).Order("reminders.stage DESC").Scan(&sent).Error
	if err != nil {
		return nil, err
	}
	out := map[int64][]int{}
	for _, r := range sent {
		out[r.DriverID] = append(out[r.DriverID], r.Stage)
	}
	return out, nil
}

// DueDrivers lists a council's active drivers whose licence expires from from to to
// (inclusive), soonest first, each with their awareness, renewal and reminders. It reads in a
// handful of queries however many drivers there are: evidence is assessed with the same rule
// as DriverAwareness (domain.AssessAwareness), for all of them at once.
func (s *Store) DueDrivers(ctx context.Context, councilID int64, from, to domain.Date) ([]DueDriver, error) {
	tx := s.db.WithContext(ctx)
	var rows []driverRow
	if err := dueScope(tx, councilID, from, to).Order("licence_expiry, family_name, given_names, licence_number").Find(&rows).Error; err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, nil
	}
	versions, err := leafletVersions(tx, domain.AudienceDriver)
	if err != nil {
		return nil, err
	}
	var ev []evidenceRow
	if err := tx.Where("driver_id IN (?)", dueScope(tx, councilID, from, to).Select("id")).Order("id").Find(&ev).Error; err != nil {
		return nil, err
	}
	evidenceOf := map[int64][]domain.Evidence{}
	for _, e := range ev {
		evidenceOf[e.DriverID] = append(evidenceOf[e.DriverID], e.toDomain())
	}
	expiryOf := make(map[int64]domain.Date, len(rows))
	for _, r := range rows {
		expiryOf[r.ID] = r.LicenceExpiry
	}
	renewals, err := renewalsFor(tx, dueScope(tx, councilID, from, to), expiryOf)
	if err != nil {
		return nil, err
	}
	reminders, err := remindersFor(tx, dueScope(tx, councilID, from, to))
	if err != nil {
		return nil, err
	}
	out := make([]DueDriver, len(rows))
	for i, r := range rows {
		dd := DueDriver{Driver: r.toDomain(), Awareness: domain.AssessAwareness(versions, evidenceOf[r.ID]).Status, RemindersSent: reminders[r.ID]}
		if f, ok := renewals[r.ID]; ok {
			dd.RenewalStatus = domain.RenewalStatus(f.Status)
			if f.Reference != nil {
				dd.RenewalReference = *f.Reference
			}
		}
		out[i] = dd
	}
	return out, nil
}

// ReminderCandidate is an active driver with an email address whose licence expires soon.
type ReminderCandidate struct {
	Driver  domain.Driver
	Council domain.Council
	// Sent are the stages already sent for this expiry.
	Sent []int
	// RenewalSent is set when the driver has sent (or been decided on) a renewal for this expiry.
	RenewalSent bool
}

// Reminder is one reminder to queue: recorded in reminders and emailed through the outbox.
type Reminder struct {
	DriverID      int64
	CouncilID     int64
	LicenceExpiry domain.Date
	Stage         int
	Message       OutboxMessage
}

// SendReminders queues reminder emails in one transaction. It reads the drivers whose licence
// expires from today to until (councilID 0: every council), asks decide which reminder each
// should get, and records each one in reminders (at most one per driver, expiry and stage:
// the table's unique key) and the outbox together. audit builds the run's audit entry from
// what was queued; it is appended in the same transaction. Running it twice on a day queues
// nothing the second time.
func (s *Store) SendReminders(ctx context.Context, councilID int64, today, until domain.Date, now time.Time,
	decide func(ReminderCandidate) (Reminder, bool), audit func(queued []Reminder) domain.AuditEntry) ([]Reminder, error) {
	var queued []Reminder
	err := s.transaction(ctx, func(tx *gorm.DB) error {
		queued = nil
		scope := func() *gorm.DB { return dueScope(tx, councilID, today, until).Where("email <> ''") }
		var rows []driverRow
		if err := scope().Order("council_id, licence_expiry, id").Find(&rows).Error; err != nil {
			return err
		}
		councils := map[int64]domain.Council{}
		var crs []councilRow
		if err := tx.Find(&crs).Error; err != nil {
			return err
		}
		for _, c := range crs {
			councils[c.ID] = c.toDomain()
		}
		expiryOf := make(map[int64]domain.Date, len(rows))
		for _, r := range rows {
			expiryOf[r.ID] = r.LicenceExpiry
		}
		renewals, err := renewalsFor(tx, scope(), expiryOf)
		if err != nil {
			return err
		}
		sent, err := remindersFor(tx, scope())
		if err != nil {
			return err
		}
		for _, r := range rows {
			c := ReminderCandidate{Driver: r.toDomain(), Council: councils[r.CouncilID], Sent: sent[r.ID]}
			if f, ok := renewals[r.ID]; ok {
				c.RenewalSent = domain.RenewalSent(domain.RenewalStatus(f.Status))
			}
			rem, ok := decide(c)
			if !ok {
				continue
			}
			res := tx.Exec("INSERT INTO reminders (driver_id, licence_expiry, stage, sent_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
				rem.DriverID, rem.LicenceExpiry.String(), rem.Stage, now.UTC())
			if res.Error != nil {
				return res.Error
			}
			if res.RowsAffected != 1 {
				continue // already sent: the unique key keeps it to one
			}
			if err := enqueue(tx, rem.Message, now); err != nil {
				return err
			}
			queued = append(queued, rem)
		}
		return appendAudit(tx, audit(queued))
	})
	return queued, err
}
