package service

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/herts-msp/taxi-renewals/internal/domain"
	"github.com/herts-msp/taxi-renewals/internal/store"
)

// The register of licensed drivers: uploading a council's register (preview, then apply),
// the drivers due for renewal, and reminder emails.

// Audit actions of this file.
const (
	ActionRegisterImport = "register.import"
	ActionRemindersSent  = "reminders.sent"
)

// Limits on register files.
const (
	MaxRegisterUploadBytes = 20 << 20  // through the web page
	MaxRegisterFileBytes   = 200 << 20 // from the command line
	// RegisterPreviewRows is how many rows of each list a preview shows.
	RegisterPreviewRows = 50
	// DueDaysDefault and DueDaysMax bound the due-for-renewal list's window.
	DueDaysDefault = 90
	DueDaysMax     = 365
)

func (s *Service) registerOptions(c domain.Council) domain.RegisterOptions {
	return domain.RegisterOptions{CouncilSlug: c.Slug, CouncilName: c.Name, Today: s.Today()}
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// RegisterCouncil decides whose register a member of staff is looking at: an officer their
// own council's (another council's slug answers not found), an analyst or administrator the
// council they chose. ok is false when they have not chosen one yet.
func (s *Service) RegisterCouncil(ctx context.Context, a domain.Actor, slug string) (domain.Council, bool, error) {
	slug = strings.TrimSpace(slug)
	if slug == "" {
		if a.Role != domain.RoleOfficer {
			return domain.Council{}, false, nil
		}
		c, err := s.store.CouncilByID(ctx, a.CouncilID)
		if err != nil {
			return domain.Council{}, false, err
		}
		return c, true, a.CanRead(c.ID, "council")
	}
	c, err := s.store.CouncilBySlug(ctx, slug)
	if err != nil {
		return domain.Council{}, false, err
	}
	if err := a.CanRead(c.ID, "council"); err != nil {
		return domain.Council{}, false, err
	}
	return c, true, nil
}

// RegisterOverview is the register's front page.
type RegisterOverview struct {
	Council domain.Council
	Stats   domain.RegisterStats
	Imports []store.RegisterImport // the latest, newest first
}

// RegisterOverviewOf summarises a council's register and its latest imports.
func (s *Service) RegisterOverviewOf(ctx context.Context, a domain.Actor, c domain.Council) (RegisterOverview, error) {
	if err := a.CanRead(c.ID, "council"); err != nil {
		return RegisterOverview{}, err
	}
	st, err := s.store.RegisterStatsOf(ctx, c.ID)
	if err != nil {
		return RegisterOverview{}, domain.Internal(err)
	}
	imports, err := s.store.RecentRegisterImports(ctx, c.ID, 10)
	if err != nil {
		return RegisterOverview{}, domain.Internal(err)
	}
	return RegisterOverview{Council: c, Stats: st, Imports: imports}, nil
}

// DriverPage is one page of a council's register.
type DriverPage struct {
	Drivers []domain.Driver
	Total   int64
	Page    int
	Pages   int
}

// RegisterDriversPageSize is how many drivers a page of the register lists.
const RegisterDriversPageSize = 50

// RegisterDrivers lists a council's register, searched by name or licence number.
func (s *Service) RegisterDrivers(ctx context.Context, a domain.Actor, c domain.Council, q string, page int) (DriverPage, error) {
	if err := a.CanRead(c.ID, "council"); err != nil {
		return DriverPage{}, err
	}
	if len(q) > 100 {
		q = q[:100]
	}
	if page < 1 {
		page = 1
	}
	ds, total, err := s.store.SearchDrivers(ctx, c.ID, q, RegisterDriversPageSize, (page-1)*RegisterDriversPageSize)
	if err != nil {
		return DriverPage{}, domain.Internal(err)
	}
	pages := int((total + RegisterDriversPageSize - 1) / RegisterDriversPageSize)
	return DriverPage{Drivers: ds, Total: total, Page: page, Pages: max(pages, 1)}, nil
}

// parseRegister reads a file for a council and checks it against the database too (licences
// on another council's register). The file's problems are in the RegisterFile.
func (s *Service) parseRegister(ctx context.Context, c domain.Council, r io.Reader, progress func(int)) (*domain.RegisterFile, store.RegisterPreview, error) {
	opt := s.registerOptions(c)
	opt.Progress = progress
	file, err := domain.ParseRegister(r, opt)
	if err != nil {
		return nil, store.RegisterPreview{}, err
	}
	preview, err := s.store.PreviewRegister(ctx, c.ID, file.Rows)
	if err != nil {
		return nil, store.RegisterPreview{}, domain.Internal(err)
	}
	store.AddRegisterProblems(file, preview.Problems)
	return file, preview, nil
}

// RegisterUpload is a register file uploaded through the web page.
type RegisterUpload struct {
	FileName string
	Content  []byte
}

// UploadRegister checks an officer's register file and, when it can be loaded, keeps it so
// the officer can see what it would change before confirming. Only officers load registers,
// and only their own council's. A file with problems is refused with all of them (a
// *domain.RegisterErrors inside the error) and nothing is kept.
func (s *Service) UploadRegister(ctx context.Context, a domain.Actor, up RegisterUpload) (store.RegisterImport, error) {
	if err := a.CanWork(a.CouncilID, "council"); err != nil {
		return store.RegisterImport{}, err
	}
	c, err := s.store.CouncilByID(ctx, a.CouncilID)
	if err != nil {
		return store.RegisterImport{}, err
	}
	if len(up.Content) > MaxRegisterUploadBytes {
		return store.RegisterImport{}, domain.NewError(domain.CodeInvalid, "file_too_large", "The file is larger than 20 MB. Split it, or load it with the import-register command.")
	}
	file, preview, err := s.parseRegister(ctx, c, bytes.NewReader(up.Content), nil)
	if err != nil {
		return store.RegisterImport{}, domain.Internal(err)
	}
	if err := file.Err(); err != nil {
		return store.RegisterImport{}, err
	}
	imp, err := s.store.CreateRegisterImport(ctx, store.RegisterImport{
		CouncilID: c.ID, StaffID: a.StaffID, FileSHA256: sha256Hex(up.Content), Content: up.Content, RowCount: len(file.Rows),
		Summary:   store.ImportSummary{Source: "web", FileName: cleanFileName(up.FileName), By: a.Label(), Preview: domain.CountsOf(preview.Diff, file.NoEmail)},
		CreatedAt: s.now(),
	})
	if err != nil {
		return store.RegisterImport{}, domain.Internal(err)
	}
	return imp, nil
}

// cleanFileName keeps the last part of an uploaded file's name, printable and short.
func cleanFileName(name string) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, name)
	if len([]rune(name)) > 100 {
		name = string([]rune(name)[:100])
	}
	return name
}

// RegisterImportPreview is what an uploaded file would do, worked out again against the
// register as it is now.
type RegisterImportPreview struct {
	Import  store.RegisterImport
	Council domain.Council
	Diff    domain.RegisterDiff
	File    *domain.RegisterFile // rows, warnings, and problems that have appeared since the upload
	// SameFileAppliedAt is when this very file was last loaded into this register by another
	// import (zero if never): loading it again would change nothing.
	SameFileAppliedAt time.Time
}

// PreviewRegisterImport shows an upload's preview. Any member of staff who can read the
// council's records can see it; another council's officer gets not found.
func (s *Service) PreviewRegisterImport(ctx context.Context, a domain.Actor, id int64) (RegisterImportPreview, error) {
	imp, err := s.store.RegisterImportByID(ctx, id)
	if err != nil {
		return RegisterImportPreview{}, err
	}
	if err := a.CanRead(imp.CouncilID, "register import"); err != nil {
		return RegisterImportPreview{}, err
	}
	c, err := s.store.CouncilByID(ctx, imp.CouncilID)
	if err != nil {
		return RegisterImportPreview{}, domain.Internal(err)
	}
	out := RegisterImportPreview{Import: imp, Council: c, File: &domain.RegisterFile{}}
	if len(imp.Content) > 0 && imp.AppliedAt.IsZero() {
		file, preview, err := s.parseRegister(ctx, c, bytes.NewReader(imp.Content), nil)
		if err != nil {
			return out, domain.Internal(err)
		}
		out.File, out.Diff = file, preview.Diff
	}
	out.Import.Content = nil
	prev, ok, err := s.store.LastAppliedImportOf(ctx, c.ID, imp.FileSHA256)
	if err != nil {
		return out, domain.Internal(err)
	}
	if ok && prev.ID != imp.ID {
		out.SameFileAppliedAt = prev.AppliedAt
	}
	return out, nil
}

// ApplyRegisterImport loads an upload into the register, all or nothing, and records it in
// the audit log. Applying the same import again changes nothing and reports AlreadyApplied.
func (s *Service) ApplyRegisterImport(ctx context.Context, a domain.Actor, id int64) (store.RegisterApplied, error) {
	imp, err := s.store.RegisterImportByID(ctx, id)
	if err != nil {
		return store.RegisterApplied{}, err
	}
	if err := a.CanWork(imp.CouncilID, "register import"); err != nil {
		return store.RegisterApplied{}, err
	}
	if !imp.AppliedAt.IsZero() {
		out := store.RegisterApplied{ImportID: imp.ID, AlreadyApplied: true, AppliedAt: imp.AppliedAt}
		if imp.Summary.Applied != nil {
			out.Counts = *imp.Summary.Applied
		}
		return out, nil
	}
	c, err := s.store.CouncilByID(ctx, imp.CouncilID)
	if err != nil {
		return store.RegisterApplied{}, domain.Internal(err)
	}
	file, err := domain.ParseRegister(bytes.NewReader(imp.Content), s.registerOptions(c))
	if err != nil {
		return store.RegisterApplied{}, domain.Internal(err)
	}
	if err := file.Err(); err != nil {
		return store.RegisterApplied{}, err
	}
	res, err := s.store.ApplyRegister(ctx, store.ApplyRegister{
		ImportID: imp.ID, CouncilID: c.ID, Rows: file.Rows, NoEmail: file.NoEmail, Now: s.now(),
		Audit: domain.AuditEntry{At: s.now(), ActorID: a.StaffID, Actor: a.Label(), IP: a.IP, Action: ActionRegisterImport,
			Detail: map[string]any{"source": "web", "file_name": imp.Summary.FileName}},
	})
	if err != nil && domain.ErrorCode(err) == domain.CodeInternal {
		return res, domain.Internal(err)
	}
	return res, err
}

// RegisterFileImport is a register file loaded from the command line.
type RegisterFileImport struct {
	CouncilSlug string
	FileName    string
	File        io.Reader
	DryRun      bool
	// By names who ran the command in the audit log, e.g. "cli:alice".
	By string
	// Progress, when set, is told how far validating ("validated", rows read, 0) and applying
	// ("applied", drivers written, drivers to write) have got.
	Progress func(stage string, done, total int)
	// Preview, when set, is shown what the file would do once it has been checked, before
	// anything is written.
	Preview func(RegisterFileResult)
}

// RegisterFileResult is what a command-line import found and did.
type RegisterFileResult struct {
	Council           domain.Council
	SHA256            string
	File              *domain.RegisterFile
	Diff              domain.RegisterDiff
	SameFileAppliedAt time.Time
	Applied           *store.RegisterApplied // nil for a dry run or a refused file
}

// ImportRegisterFile loads a register file from the command line: the same checks, preview
// and all-or-nothing apply as an upload, for whoever can run the command against the
// database (it has no staff account to check). A dry run writes nothing. A file with problems
// returns them (in the result and inside the error) and writes nothing.
func (s *Service) ImportRegisterFile(ctx context.Context, req RegisterFileImport) (RegisterFileResult, error) {
	var out RegisterFileResult
	c, err := s.store.CouncilBySlug(ctx, strings.TrimSpace(req.CouncilSlug))
	if err != nil {
		if domain.ErrorCode(err) == domain.CodeNotFound {
			return out, domain.NewError(domain.CodeInvalid, "no_council", fmt.Sprintf("There is no council %q. The councils are: %s.", req.CouncilSlug, s.councilSlugs(ctx)))
		}
		return out, domain.Internal(err)
	}
	out.Council = c
	progress := func(string, int, int) {}
	if req.Progress != nil {
		progress = req.Progress
	}
	h := sha256.New()
	file, preview, err := s.parseRegister(ctx, c, io.TeeReader(req.File, h), func(n int) { progress("validated", n, 0) })
	if err != nil {
		return out, err
	}
	out.File, out.Diff, out.SHA256 = file, preview.Diff, hex.EncodeToString(h.Sum(nil))
	if err := file.Err(); err != nil {
		return out, err
	}
	if prev, ok, err := s.store.LastAppliedImportOf(ctx, c.ID, out.SHA256); err != nil {
		return out, domain.Internal(err)
	} else if ok {
		out.SameFileAppliedAt = prev.AppliedAt
	}
	if req.Preview != nil {
		req.Preview(out)
	}
	if req.DryRun {
		return out, nil
	}
	res, err := s.store.ApplyRegister(ctx, store.ApplyRegister{
		CouncilID: c.ID, Rows: file.Rows, NoEmail: file.NoEmail, Now: s.now(),
		New: store.RegisterImport{FileSHA256: out.SHA256, Summary: store.ImportSummary{Source: "cli", FileName: cleanFileName(req.FileName), By: req.By}},
		Audit: domain.AuditEntry{At: s.now(), Actor: req.By, Action: ActionRegisterImport,
			Detail: map[string]any{"source": "cli", "file_name": cleanFileName(req.FileName)}},
		Progress: func(done, total int) { progress("applied", done, total) },
	})
	if err != nil {
		if domain.ErrorCode(err) == domain.CodeInternal {
			return out, domain.Internal(err)
		}
		if re, ok := domain.RegisterErrorsOf(err); ok { // the register changed since the preview
			store.AddRegisterProblems(out.File, re.Problems)
		}
		return out, err
	}
	out.Applied = &res
	return out, nil
}

func (s *Service) councilSlugs(ctx context.Context) string {
	cs, err := s.store.Councils(ctx)
	if err != nil {
		return "(unavailable)"
	}
	slugs := make([]string, len(cs))
	for i, c := range cs {
		slugs[i] = c.Slug
	}
	sort.Strings(slugs)
	return strings.Join(slugs, ", ")
}

// DueList is a council's drivers due for renewal.
type DueList struct {
	Council domain.Council
	Days    int
	Today   domain.Date
	Until   domain.Date
	Drivers []store.DueDriver
}

// ClampDueDays keeps the due list's window from 1 to DueDaysMax days (DueDaysDefault when
// not given), and says whether it had to change it.
func ClampDueDays(days int) (int, bool) {
	switch {
	case days == 0:
		return DueDaysDefault, false
	case days < 1:
		return 1, true
	case days > DueDaysMax:
		return DueDaysMax, true
	}
	return days, false
}

// DueForRenewal lists a council's active drivers whose licence expires within days days (and
// has not expired), soonest first, with their awareness, renewal and reminders.
func (s *Service) DueForRenewal(ctx context.Context, a domain.Actor, c domain.Council, days int) (DueList, error) {
	if err := a.CanRead(c.ID, "council"); err != nil {
		return DueList{}, err
	}
	days, _ = ClampDueDays(days)
	today := s.Today()
	until := today.AddDays(days)
	ds, err := s.store.DueDrivers(ctx, c.ID, today, until)
	if err != nil {
		return DueList{}, domain.Internal(err)
	}
	return DueList{Council: c, Days: days, Today: today, Until: until, Drivers: ds}, nil
}

// ReminderRun is what a reminder run queued.
type ReminderRun struct {
	Date domain.Date
	// Counts maps a council's name to the reminders queued per stage (60, 30, 14).
	Counts map[string]map[int]int
	Total  int
}

// SendReminders queues the reminder emails due today for every council (or one, by slug),
// for a daily job: renewals remind. by names the job in the audit log ("cli:alice").
func (s *Service) SendReminders(ctx context.Context, by, councilSlug string) (ReminderRun, error) {
	var councilID int64
	if councilSlug != "" {
		c, err := s.store.CouncilBySlug(ctx, councilSlug)
		if err != nil {
			if domain.ErrorCode(err) == domain.CodeNotFound {
				return ReminderRun{}, domain.NewError(domain.CodeInvalid, "no_council", fmt.Sprintf("There is no council %q. The councils are: %s.", councilSlug, s.councilSlugs(ctx)))
			}
			return ReminderRun{}, domain.Internal(err)
		}
		councilID = c.ID
	}
	return s.sendReminders(ctx, domain.AuditEntry{Actor: by}, councilID)
}

// SendCouncilReminders is the same run for an officer's own council.
func (s *Service) SendCouncilReminders(ctx context.Context, a domain.Actor, councilID int64) (ReminderRun, error) {
	if err := a.CanWork(councilID, "council"); err != nil {
		return ReminderRun{}, err
	}
	return s.sendReminders(ctx, domain.AuditEntry{ActorID: a.StaffID, Actor: a.Label(), IP: a.IP}, councilID)
}

func (s *Service) sendReminders(ctx context.Context, who domain.AuditEntry, councilID int64) (ReminderRun, error) {
	now := s.now()
	today := s.Today()
	run := ReminderRun{Date: today, Counts: map[string]map[int]int{}}
	decide := func(c store.ReminderCandidate) (store.Reminder, bool) {
		if c.RenewalSent || strings.TrimSpace(c.Driver.Email) == "" {
			return store.Reminder{}, false
		}
		days := domain.DaysBetween(today, c.Driver.LicenceExpiry)
		stage, ok := domain.ReminderStage(days, c.Sent)
		if !ok {
			return store.Reminder{}, false
		}
		return store.Reminder{DriverID: c.Driver.ID, CouncilID: c.Council.ID, LicenceExpiry: c.Driver.LicenceExpiry, Stage: stage,
			Message: s.reminderEmail(c, days, today)}, true
	}
	names := map[int64]string{}
	audit := func(queued []store.Reminder) domain.AuditEntry {
		byCouncil := map[string]any{}
		for _, r := range queued {
			name := names[r.CouncilID]
			if run.Counts[name] == nil {
				run.Counts[name] = map[int]int{}
			}
			run.Counts[name][r.Stage]++
			run.Total++
		}
		for name, stages := range run.Counts {
			m := map[string]int{}
			for st, n := range stages {
				m[fmt.Sprintf("%d_days", st)] = n
			}
			byCouncil[name] = m
		}
		e := who
		e.At, e.Action, e.CouncilID, e.Target = now, ActionRemindersSent, councilID, "reminders:"+today.String()
		e.Detail = map[string]any{"date": today.String(), "queued": run.Total, "by_council": byCouncil}
		return e
	}
	cs, err := s.store.Councils(ctx)
	if err != nil {
		return run, domain.Internal(err)
	}
	for _, c := range cs {
		names[c.ID] = c.Name
	}
	_, err = s.store.SendReminders(ctx, councilID, today, today.AddDays(domain.ReminderStages[0]), now, decide, audit)
	if err != nil {
		return ReminderRun{}, domain.Internal(err)
	}
	return run, nil
}

// reminderEmail writes a reminder: when the licence expires, how to renew online, and that
// renewing includes the awareness step.
func (s *Service) reminderEmail(c store.ReminderCandidate, daysLeft int, today domain.Date) store.OutboxMessage {
	d := c.Driver
	expiry := d.LicenceExpiry.Format("2 January 2006")
	renewURL := strings.TrimRight(s.opt.BaseURL, "/") + "/renew"
	var when string
	switch daysLeft {
	case 0:
		when = "today"
	case 1:
		when = "tomorrow"
	default:
		when = fmt.Sprintf("in %d days", daysLeft)
	}
	opens := d.LicenceExpiry.AddDays(-s.opt.DueWindowDays)
	var how string
	if opens.After(today) {
		how = fmt.Sprintf("You can renew online from %s at %s", opens.Format("2 January 2006"), renewURL)
	} else {
		how = "You can renew online now at " + renewURL
	}
	// The council's details for drivers (not ContactEmail, which is where reports go).
	contact := c.Council.ContactText()
	body := fmt.Sprintf(`Dear %s,

Your %s taxi and private hire driver licence (%s) expires on %s, %s.

%s. Sign in with your licence number and date of birth; we will email you a code. You will need your DVLA driving licence number and check code, your DBS certificate number, your HMRC tax check code and the date of your last Group 2 medical.

Renewing includes a short modern slavery awareness step. You read the Hertfordshire Modern Slavery Partnership's leaflet on spotting the signs of exploitation and trafficking and where to report them, answer three questions about it and confirm you have understood it. We cannot accept your renewal without it. It takes about 10 minutes.

If you have started your renewal, sign in to finish it. If you have already sent it, you can ignore this email.

If you have a question: %s

We send these reminders 60, 30 and 14 days before a licence expires.
`, d.FullName(), c.Council.Name, d.LicenceNumber, expiry, when, how, contact)
	return store.OutboxMessage{To: d.Email, Subject: fmt.Sprintf("Your taxi driver licence expires on %s: renew online", expiry), Body: body}
}
