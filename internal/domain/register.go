package domain

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// A council's register of licensed drivers arrives as a CSV file: a header row, then one row
// per driver. This file reads and checks such a file, compares it with the register held, and
// holds the rules for reminder emails and the due-for-renewal list.

// RegisterColumns are the columns a register file must have (in any order, any case), in the
// order the service writes them.
var RegisterColumns = []string{
	"licence_number", "given_names", "family_name", "date_of_birth", "email", "phone", "postcode",
	"licence_start", "licence_expiry", "status",
}

// RegisterCouncilColumn is an optional column: when present, every row must name the council
// the file is being loaded into.
const RegisterCouncilColumn = "council"

// RegisterStatusDateColumn is an optional column: the day the row's status took effect (for
// example the day a suspension began). Left out or empty, a status that is new or changed takes
// effect on the day the file is loaded, and an unchanged one keeps the day it already had.
const RegisterStatusDateColumn = "status_date"

// MaxRegisterProblems is how many problems are kept and shown; the rest are only counted.
const MaxRegisterProblems = 100

// Driver statuses on a register.
const (
	DriverActive    = "active"
	DriverSuspended = "suspended"
	DriverRevoked   = "revoked"
)

// RegisterProblem is one thing wrong with a register file.
type RegisterProblem struct {
	Line    int    // the line the row starts on (the header is line 1); 0 for the file as a whole
	Column  string // the column's name, or "" when the problem is not about one column
	Message string
}

// String is the problem as shown to the officer: "line 12, column email: ...".
func (p RegisterProblem) String() string {
	switch {
	case p.Line > 0 && p.Column != "":
		return fmt.Sprintf("line %d, column %s: %s", p.Line, p.Column, p.Message)
	case p.Line > 0:
		return fmt.Sprintf("line %d: %s", p.Line, p.Message)
	default:
		return p.Message
	}
}

// RegisterRow is one accepted row: a driver without a council or an id yet.
type RegisterRow struct {
	Line   int
	Driver Driver
}

// RegisterFile is a parsed register file: its rows, and everything wrong with it.
type RegisterFile struct {
	Rows []RegisterRow
	// Problems holds the first MaxRegisterProblems problems in file order; ProblemCount
	// counts them all. A file with any problem is not loaded.
	Problems     []RegisterProblem
	ProblemCount int
	// notes counts the leading entries of Problems that summarise others (AddNote); they are
	// not problems themselves.
	notes int
	// Warnings do not stop the file loading (e.g. a driver with no email address).
	Warnings     []RegisterProblem
	WarningCount int
	// NoEmail counts rows without an email address.
	NoEmail int
}

// OK reports whether the file can be loaded.
func (f *RegisterFile) OK() bool { return f.ProblemCount == 0 }

// AddProblem records a problem, keeping the first MaxRegisterProblems.
func (f *RegisterFile) AddProblem(p RegisterProblem) {
	f.ProblemCount++
	if len(f.Problems) < MaxRegisterProblems {
		f.Problems = append(f.Problems, p)
	}
}

// AddNote puts a summary of other problems (such as "12 licence numbers are on another
// council's register") at the top of the list, without counting it as a problem.
func (f *RegisterFile) AddNote(p RegisterProblem) {
	p.Line = 0
	f.Problems = append(f.Problems[:f.notes], append([]RegisterProblem{p}, f.Problems[f.notes:]...)...)
	f.notes++
	if len(f.Problems) > MaxRegisterProblems+f.notes {
		f.Problems = f.Problems[:MaxRegisterProblems+f.notes]
	}
}

func (f *RegisterFile) addWarning(p RegisterProblem) {
	f.WarningCount++
	if len(f.Warnings) < MaxRegisterProblems {
		f.Warnings = append(f.Warnings, p)
	}
}

// Err returns nil for a file that can be loaded, or an invalid-input *Error whose Err is a
// *RegisterErrors listing the problems.
func (f *RegisterFile) Err() error {
	if f.OK() {
		return nil
	}
	rest := f.Problems[f.notes:]
	sort.SliceStable(rest, func(i, j int) bool { return rest[i].Line < rest[j].Line })
	re := &RegisterErrors{Problems: f.Problems, Total: f.ProblemCount, notes: f.notes}
	return &Error{Code: CodeInvalid, Reason: "register_invalid", Message: re.Summary(), Err: re}
}

// RegisterErrors is why a register file was refused.
type RegisterErrors struct {
	Problems []RegisterProblem // the first MaxRegisterProblems, after any summaries of them
	Total    int               // problems in all (summaries are not counted)
	notes    int
}

// More is how many problems were counted but not listed.
func (e *RegisterErrors) More() int { return e.Total - (len(e.Problems) - e.notes) }

// Summary says how many problems there are and that nothing was loaded.
func (e *RegisterErrors) Summary() string {
	if e.Total == 1 {
		return "The file has 1 problem, so nothing has been loaded. Correct it and upload the file again."
	}
	return fmt.Sprintf("The file has %d problems, so nothing has been loaded. Correct them and upload the file again.", e.Total)
}

func (e *RegisterErrors) Error() string {
	if len(e.Problems) == 0 {
		return "register file: no problems"
	}
	return fmt.Sprintf("register file: %d problems, the first: %s", e.Total, e.Problems[0])
}

// RegisterErrorsOf returns the problems inside err, if it is a refused register file.
func RegisterErrorsOf(err error) (*RegisterErrors, bool) {
	var re *RegisterErrors
	ok := errors.As(err, &re)
	return re, ok
}

// RegisterOptions say what a register file is checked against.
type RegisterOptions struct {
	// CouncilSlug and CouncilName are the council the file is loaded into: a council column,
	// when there is one, must name it (by slug or name, any case). Empty skips the check.
	CouncilSlug string
	CouncilName string
	// Today refuses dates of birth in the future; the zero Date skips that check.
	Today Date
	// Progress, when set, is called with the number of rows read every 1,000 rows and at the end.
	Progress func(rows int)
}

// isRegisterColumn reports whether name is a known column.
func isRegisterColumn(name string) bool {
	if name == RegisterCouncilColumn || name == RegisterStatusDateColumn {
		return true
	}
	for _, c := range RegisterColumns {
		if c == name {
			return true
		}
	}
	return false
}

// quoteValue shows a value inside a message: quoted, with control characters escaped (so
// nothing in a file can move a terminal's cursor) and cut short when long.
func quoteValue(s string) string {
	return strconv.Quote(truncateForError(s, 40))
}

// ParseRegister reads a register file: UTF-8 (a byte order mark is accepted), RFC 4180
// quoting, CRLF or LF line ends. It reports every problem it finds, with its line and column,
// rather than stopping at the first. The error is only for a failure to read r; a file with
// problems returns them in the RegisterFile.
func ParseRegister(r io.Reader, opt RegisterOptions) (*RegisterFile, error) {
	f := &RegisterFile{}
	br := bufio.NewReaderSize(r, 64*1024)
	head, err := br.Peek(4)
	if err != nil && err != io.EOF {
		return nil, err
	}
	switch {
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		f.AddProblem(RegisterProblem{Message: "This is an Excel workbook or another zipped file, not a CSV file. In your spreadsheet choose Save As and the type “CSV UTF-8 (comma delimited)”, then upload that file."})
		return f, nil
	case bytes.HasPrefix(head, []byte{0xff, 0xfe}), bytes.HasPrefix(head, []byte{0xfe, 0xff}):
		f.AddProblem(RegisterProblem{Message: "The file is saved as UTF-16 text. Save it as “CSV UTF-8 (comma delimited)” and upload it again."})
		return f, nil
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1 // checked below, with a clearer message
	cr.ReuseRecord = false

	// The header row.
	header, err := cr.Read()
	if err == io.EOF {
		f.AddProblem(RegisterProblem{Message: "The file is empty. Upload a CSV file with a header row (" + strings.Join(RegisterColumns, ", ") + ") and one row per licensed driver."})
		return f, nil
	}
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		f.AddProblem(RegisterProblem{Line: pe.StartLine, Message: csvProblem(pe)})
		return f, nil
	}
	if err != nil {
		return nil, err
	}
	headerLine, _ := cr.FieldPos(0)
	cols, ok := parseRegisterHeader(f, header, headerLine)
	if !ok {
		return f, nil
	}

	// The drivers.
	seen := map[string]int{} // licence number -> line
	read := 0
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if errors.As(err, &pe) {
			f.AddProblem(RegisterProblem{Line: pe.StartLine, Message: csvProblem(pe)})
			continue
		}
		if err != nil {
			return nil, err
		}
		read++
		if opt.Progress != nil && read%1000 == 0 {
			opt.Progress(read)
		}
		line, _ := cr.FieldPos(0)
		if blankRecord(rec) {
			continue // a row of empty cells, as spreadsheets often leave at the end
		}
		if len(rec) != len(header) {
			f.AddProblem(RegisterProblem{Line: line, Message: fmt.Sprintf("has %d values but the header has %d columns; check for a missing or extra comma, or a value with a comma that is not in double quotes", len(rec), len(header))})
			continue
		}
		if d, ok := parseRegisterRow(f, rec, cols, line, opt); ok {
			if first, dup := seen[d.LicenceNumber]; dup {
				f.AddProblem(RegisterProblem{Line: line, Column: "licence_number", Message: fmt.Sprintf("%s is also on line %d: each licence number can appear only once", d.LicenceNumber, first)})
				continue
			}
			seen[d.LicenceNumber] = line
			f.Rows = append(f.Rows, RegisterRow{Line: line, Driver: d})
		} else if d.LicenceNumber != "" {
			// Still note the licence number, so a later duplicate of a bad row is reported too.
			if _, dup := seen[d.LicenceNumber]; !dup {
				seen[d.LicenceNumber] = line
			}
		}
	}
	if opt.Progress != nil {
		opt.Progress(read)
	}
	if len(f.Rows) == 0 && f.ProblemCount == 0 {
		f.AddProblem(RegisterProblem{Message: "The file has a header row but no drivers. Add one row for each licensed driver under the header."})
	}
	return f, nil
}

func blankRecord(rec []string) bool {
	for _, v := range rec {
		if strings.TrimSpace(v) != "" {
			return false
		}
	}
	return true
}

// csvProblem explains a CSV syntax error in words an officer can act on.
func csvProblem(pe *csv.ParseError) string {
	switch {
	case errors.Is(pe.Err, csv.ErrBareQuote):
		return "a value has a double quote (\") in it but does not start with one. Put the whole value in double quotes and write each double quote inside it twice (\"\")"
	case errors.Is(pe.Err, csv.ErrQuote):
		return "a value in double quotes is not closed properly. Check the double quotes from this line on: each value that starts with one must end with one"
	default:
		return "this line is not valid CSV: " + pe.Err.Error()
	}
}

// registerCols maps each known column to its position in a row (-1 when absent).
type registerCols map[string]int

func (c registerCols) get(rec []string, name string) string {
	i, ok := c[name]
	if !ok || i < 0 {
		return ""
	}
	return strings.TrimSpace(rec[i])
}

func parseRegisterHeader(f *RegisterFile, header []string, line int) (registerCols, bool) {
	if line == 0 {
		line = 1
	}
	if len(header) > 0 {
		header[0] = strings.TrimPrefix(header[0], "\ufeff")
	}
	if blankRecord(header) {
		f.AddProblem(RegisterProblem{Line: line, Message: "the first line must be the header row (" + strings.Join(RegisterColumns, ", ") + ") but it is empty"})
		return nil, false
	}
	if len(header) == 1 && strings.ContainsAny(header[0], ";\t") {
		f.AddProblem(RegisterProblem{Line: line, Message: "the header row has only one column: the values seem to be separated by semicolons or tabs, not commas. Save the file as “CSV UTF-8 (comma delimited)”"})
		return nil, false
	}
	cols := registerCols{}
	positions := map[string]int{}
	for i, raw := range header {
		name := strings.ToLower(strings.TrimSpace(raw))
		switch {
		case !utf8.ValidString(raw):
			f.AddProblem(RegisterProblem{Line: line, Message: fmt.Sprintf("column %d of the header is not UTF-8 text. Save the file as “CSV UTF-8 (comma delimited)”", i+1)})
		case name == "":
			f.AddProblem(RegisterProblem{Line: line, Message: fmt.Sprintf("column %d of the header has no name", i+1)})
		case !isRegisterColumn(name):
			f.AddProblem(RegisterProblem{Line: line, Column: quoteValue(strings.TrimSpace(raw)), Message: "is not a register column. The columns are " + strings.Join(RegisterColumns, ", ") + ", and optionally council and status_date"})
		default:
			if first, dup := positions[name]; dup {
				f.AddProblem(RegisterProblem{Line: line, Column: name, Message: fmt.Sprintf("appears twice in the header (columns %d and %d)", first+1, i+1)})
				continue
			}
			positions[name] = i
			cols[name] = i
		}
	}
	for _, name := range RegisterColumns {
		if _, ok := positions[name]; !ok {
			f.AddProblem(RegisterProblem{Line: line, Column: name, Message: "is missing from the header row"})
		}
	}
	return cols, f.OK()
}

// parseRegisterRow checks one row, recording each problem against its column. It returns the
// driver (with whatever could be read) and whether the whole row is good.
func parseRegisterRow(f *RegisterFile, rec []string, cols registerCols, line int, opt RegisterOptions) (Driver, bool) {
	before := f.ProblemCount
	notText := map[string]bool{} // columns already reported as not UTF-8: nothing more to say
	bad := func(col, msg string) {
		if !notText[col] {
			f.AddProblem(RegisterProblem{Line: line, Column: col, Message: msg})
		}
	}
	for _, name := range append(RegisterColumns[:len(RegisterColumns):len(RegisterColumns)], RegisterCouncilColumn, RegisterStatusDateColumn) {
		if i, ok := cols[name]; ok && !utf8.ValidString(rec[i]) {
			bad(name, "is not UTF-8 text. Save the file as “CSV UTF-8 (comma delimited)”")
			notText[name] = true
			rec[i] = ""
		}
	}
	var d Driver

	if v := cols.get(rec, "licence_number"); v == "" {
		bad("licence_number", "is empty")
	} else if n, ok := NormaliseRegisterLicence(v); !ok {
		bad("licence_number", quoteValue(v)+" is not a licence number: use 3 to 20 letters, digits and hyphens")
	} else {
		d.LicenceNumber = n
	}

	for _, c := range []struct {
		col  string
		dest *string
		what string
	}{{"given_names", &d.GivenNames, "given names"}, {"family_name", &d.FamilyName, "family name"}} {
		v := cols.get(rec, c.col)
		n, err := NormalisePersonName(v)
		switch {
		case err == ErrEmpty:
			bad(c.col, "is empty: give the driver's "+c.what)
		case err != nil:
			bad(c.col, quoteValue(v)+" can only contain letters, spaces, hyphens, apostrophes and full stops, and be at most 100 characters")
		default:
			*c.dest = n
		}
	}

	dates := []struct {
		col  string
		dest *Date
	}{{"date_of_birth", &d.DateOfBirth}, {"licence_start", &d.LicenceStart}, {"licence_expiry", &d.LicenceExpiry}}
	for _, c := range dates {
		v := cols.get(rec, c.col)
		dt, msg := ParseRegisterDate(v)
		if msg != "" {
			bad(c.col, msg)
			continue
		}
		*c.dest = dt
	}
	if !d.DateOfBirth.IsZero() {
		switch {
		case !opt.Today.IsZero() && d.DateOfBirth.After(opt.Today):
			bad("date_of_birth", d.DateOfBirth.String()+" is in the future")
		case d.DateOfBirth.Year < 1900:
			bad("date_of_birth", d.DateOfBirth.String()+" is too long ago: check the year")
		}
	}
	if !d.LicenceStart.IsZero() && !d.LicenceExpiry.IsZero() && d.LicenceExpiry.Before(d.LicenceStart) {
		bad("licence_expiry", fmt.Sprintf("%s is before licence_start (%s)", d.LicenceExpiry, d.LicenceStart))
	}

	if v := cols.get(rec, "email"); v == "" {
		f.NoEmail++
		f.addWarning(RegisterProblem{Line: line, Column: "email", Message: "is empty: this driver cannot sign in online or get reminder emails"})
	} else if n, err := NormaliseEmail(v); err != nil {
		bad("email", quoteValue(v)+" is not an email address")
	} else {
		d.Email = n
	}
	if v := cols.get(rec, "phone"); v != "" {
		if n, err := NormaliseUKPhone(v); err != nil {
			bad("phone", quoteValue(v)+" is not a UK phone number (10 or 11 digits starting with 0, or +44)")
		} else {
			d.Phone = n
		}
	}
	if v := cols.get(rec, "postcode"); v != "" {
		if n, err := NormaliseUKPostcode(v); err != nil {
			bad("postcode", quoteValue(v)+" is not a UK postcode")
		} else {
			d.Postcode = n
		}
	}
	switch v := strings.ToLower(cols.get(rec, "status")); v {
	case DriverActive, DriverSuspended, DriverRevoked:
		d.Status = v
	case "":
		bad("status", "is empty: use active, suspended or revoked")
	default:
		bad("status", quoteValue(cols.get(rec, "status"))+" is not a status: use active, suspended or revoked")
	}
	if v := cols.get(rec, RegisterStatusDateColumn); v != "" {
		dt, msg := ParseRegisterDate(v)
		switch {
		case msg != "":
			bad(RegisterStatusDateColumn, msg)
		case !opt.Today.IsZero() && dt.After(opt.Today):
			bad(RegisterStatusDateColumn, dt.String()+" is in the future: give the day the status took effect, or leave it empty for today")
		case dt.Year < 1900:
			bad(RegisterStatusDateColumn, dt.String()+" is too long ago: check the year")
		default:
			d.StatusFrom = dt
		}
	}
	if _, ok := cols[RegisterCouncilColumn]; ok && opt.CouncilSlug != "" {
		v := cols.get(rec, RegisterCouncilColumn)
		if !strings.EqualFold(v, opt.CouncilSlug) && !(opt.CouncilName != "" && strings.EqualFold(v, opt.CouncilName)) {
			if v == "" {
				bad(RegisterCouncilColumn, "is empty: it must be "+opt.CouncilSlug)
			} else {
				bad(RegisterCouncilColumn, fmt.Sprintf("names %s, but this file is being loaded into %s's register (%s)", quoteValue(v), councilLabel(opt), opt.CouncilSlug))
			}
		}
	}
	return d, f.ProblemCount == before
}

func councilLabel(opt RegisterOptions) string {
	if opt.CouncilName != "" {
		return opt.CouncilName
	}
	return opt.CouncilSlug
}

// NormaliseRegisterLicence normalises a council licence number: 3 to 20 ASCII letters, digits
// and hyphens, with at least one letter or digit, upper-cased.
func NormaliseRegisterLicence(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if len(s) < 3 || len(s) > 20 {
		return "", false
	}
	b := []byte(s)
	alnum := false
	for i, c := range b {
		switch {
		case c >= 'a' && c <= 'z':
			b[i] = c - 'a' + 'A'
			alnum = true
		case c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
			alnum = true
		case c == '-':
		default:
			return "", false
		}
	}
	return string(b), alnum
}

// ParseRegisterDate reads a date written YYYY-MM-DD or DD/MM/YYYY (the day and month may have
// one digit, as spreadsheets write them). It returns a message for the officer when the value
// is not a real date in one of those forms.
func ParseRegisterDate(s string) (Date, string) {
	const how = "write dates as YYYY-MM-DD (for example 1980-03-27) or DD/MM/YYYY (27/03/1980)"
	switch {
	case s == "":
		return Date{}, "is empty: " + how
	case strings.Count(s, "/") == 2:
		p := strings.Split(s, "/")
		if !allASCIIDigits(p[0]) || !allASCIIDigits(p[1]) || !allASCIIDigits(p[2]) || len(p[0]) > 2 || len(p[1]) > 2 || len(p[2]) != 4 {
			return Date{}, quoteValue(s) + " is not a date: " + how
		}
		d, err := ParseDate(p[0], p[1], p[2])
		if err != nil {
			return Date{}, quoteValue(s) + " is not a real date"
		}
		return d, ""
	case len(s) == len(isoLayout) && s[4] == '-' && s[7] == '-':
		d, err := ParseISODate(s)
		if err != nil {
			return Date{}, quoteValue(s) + " is not a real date"
		}
		return d, ""
	default:
		return Date{}, quoteValue(s) + " is not a date: " + how
	}
}

// WriteRegister writes drivers as a register file that ParseRegister reads back: the header
// row, then one row per driver, dates as YYYY-MM-DD. (For re-import, not for spreadsheets:
// use WriteSafeCSV for files people open.) It has no status_date column: loading it back
// leaves each unchanged status's date as it is.
func WriteRegister(w io.Writer, drivers []Driver) error {
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	if err := cw.Write(RegisterColumns); err != nil {
		return err
	}
	for _, d := range drivers {
		if err := cw.Write(registerRecord(d)); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func registerRecord(d Driver) []string {
	return []string{d.LicenceNumber, d.GivenNames, d.FamilyName, d.DateOfBirth.String(), d.Email, d.Phone, d.Postcode,
		d.LicenceStart.String(), d.LicenceExpiry.String(), d.Status}
}

// FieldChange is one field a register import changes for a driver.
type FieldChange struct {
	Field string
	Old   string
	New   string
}

// RegisterChange is a row of the file compared with the register.
type RegisterChange struct {
	Line    int
	Driver  Driver // the driver as the file has it (with the register's id and council for an update)
	Changes []FieldChange
}

// RegisterDiff is what loading a file would do to a council's register. Drivers on the
// register but not in the file are listed in Missing; loading never deletes them.
type RegisterDiff struct {
	Add       []RegisterChange
	Update    []RegisterChange
	Unchanged []RegisterChange
	Missing   []Driver
}

// Writes is how many drivers loading the file would add or change.
func (d RegisterDiff) Writes() int { return len(d.Add) + len(d.Update) }

// DiffRegister compares the rows of a file with a council's register.
func DiffRegister(existing []Driver, rows []RegisterRow) RegisterDiff {
	byLicence := make(map[string]Driver, len(existing))
	for _, d := range existing {
		byLicence[d.LicenceNumber] = d
	}
	inFile := make(map[string]bool, len(rows))
	var diff RegisterDiff
	for _, r := range rows {
		inFile[r.Driver.LicenceNumber] = true
		old, ok := byLicence[r.Driver.LicenceNumber]
		if !ok {
			diff.Add = append(diff.Add, RegisterChange{Line: r.Line, Driver: r.Driver})
			continue
		}
		d := r.Driver
		d.ID, d.CouncilID = old.ID, old.CouncilID
		ch := RegisterChange{Line: r.Line, Driver: d, Changes: DriverChanges(old, d)}
		if len(ch.Changes) == 0 {
			diff.Unchanged = append(diff.Unchanged, ch)
		} else {
			diff.Update = append(diff.Update, ch)
		}
	}
	for _, d := range existing {
		if !inFile[d.LicenceNumber] {
			diff.Missing = append(diff.Missing, d)
		}
	}
	sort.Slice(diff.Missing, func(i, j int) bool { return diff.Missing[i].LicenceNumber < diff.Missing[j].LicenceNumber })
	return diff
}

// DriverChanges lists the register fields that differ between two versions of a driver. The
// status date is compared only when new has one (a file without status dates leaves them).
func DriverChanges(old, new Driver) []FieldChange {
	a, b := registerRecord(old), registerRecord(new)
	var out []FieldChange
	for i := 1; i < len(RegisterColumns); i++ { // the licence number is the key
		if a[i] != b[i] {
			out = append(out, FieldChange{Field: RegisterColumns[i], Old: a[i], New: b[i]})
		}
	}
	if !new.StatusFrom.IsZero() && new.StatusFrom != old.StatusFrom {
		out = append(out, FieldChange{Field: RegisterStatusDateColumn, Old: old.StatusFrom.String(), New: new.StatusFrom.String()})
	}
	return out
}

// ReminderStages are the days before expiry at which a reminder email is sent.
var ReminderStages = []int{60, 30, 14}

// ReminderStage decides which reminder, if any, a driver whose licence expires in daysLeft days
// should get now, given the stages already sent for that expiry. It is the latest stage whose
// threshold they are within, unless it (or a later one) has been sent: a job that missed a few
// days sends one reminder, not several.
func ReminderStage(daysLeft int, sent []int) (int, bool) {
	if daysLeft < 0 {
		return 0, false
	}
	stage := 0
	for _, s := range ReminderStages {
		if daysLeft <= s {
			stage = s
		}
	}
	if stage == 0 {
		return 0, false
	}
	for _, s := range sent {
		if s <= stage {
			return 0, false
		}
	}
	return stage, true
}

// DaysBetween is the number of calendar days from a to b (negative when b is before a).
func DaysBetween(a, b Date) int {
	return int(b.Time().Sub(a.Time()).Hours() / 24)
}

// RenewalForExpiry reports whether a renewal belongs to the licence period that ends on
// expiry, rather than to an earlier one: it is still open, or it was started in the year
// before that expiry and did not itself set it (an approval sets the next expiry).
func RenewalForExpiry(status RenewalStatus, created time.Time, setExpiry string, expiry Date) bool {
	if status.Open() {
		return true
	}
	if status == StatusApproved && setExpiry != "" && setExpiry == expiry.String() {
		return false
	}
	return !created.Before(expiry.AddDays(-365).Time())
}

// RenewalSent reports whether a renewal has been sent to the council (or decided), so the
// driver need not be reminded.
func RenewalSent(status RenewalStatus) bool {
	switch status {
	case StatusSubmitted, StatusInReview, StatusMoreInfo, StatusApproved, StatusRefused:
		return true
	}
	return false
}

// NeutraliseCSVCell makes a value safe to open in a spreadsheet: a value that starts with a
// character a spreadsheet reads as the start of a formula (= + - @, a tab or a carriage
// return) gets a single quote in front, so it is shown as text and never run.
func NeutraliseCSVCell(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}

// WriteSafeCSV writes a CSV file for people to open in a spreadsheet: UTF-8 with a byte order
// mark (so spreadsheets read names such as Zoë correctly), a header row, RFC 4180 quoting,
// CRLF line ends, and every cell neutralised against formula injection.
func WriteSafeCSV(w io.Writer, header []string, rows [][]string) error {
	if _, err := io.WriteString(w, "\ufeff"); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	cells := make([]string, 0, len(header))
	write := func(rec []string) error {
		cells = cells[:0]
		for _, c := range rec {
			cells = append(cells, NeutraliseCSVCell(c))
		}
		return cw.Write(cells)
	}
	if err := write(header); err != nil {
		return err
	}
	for _, r := range rows {
		if err := write(r); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
