package domain

import (
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Date is a calendar date with no time zone (e.g. a date of birth).
//
// The zero value means "no date". Dates are compared and printed field by
// field, so a Date should normally come from ParseDate, ParseISODate, DateOf
// or Scan, which only ever produce real calendar dates.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// isoLayout is the only textual form we read and write for storage.
const isoLayout = "2006-01-02"

// IsZero reports whether d is the zero Date ("no date").
func (d Date) IsZero() bool {
	return d == Date{}
}

// String returns d as "2006-01-02", or "" for the zero Date so that an
// unset date renders as blank rather than "0000-00-00".
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day)
}

// Time returns midnight UTC at the start of d. UTC is used so the result
// never depends on the server's local zone (or DST changes).
func (d Date) Time() time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC)
}

// compare orders dates by their fields, avoiding any time-zone arithmetic.
func (d Date) compare(o Date) int {
	switch {
	case d.Year != o.Year:
		return compareInts(d.Year, o.Year)
	case d.Month != o.Month:
		return compareInts(int(d.Month), int(o.Month))
	default:
		return compareInts(d.Day, o.Day)
	}
}

func compareInts(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Before reports whether d is strictly earlier than o.
func (d Date) Before(o Date) bool { return d.compare(o) < 0 }

// After reports whether d is strictly later than o.
func (d Date) After(o Date) bool { return d.compare(o) > 0 }

// AddDays returns d plus n days (n may be negative). It goes through UTC,
// which has no DST, so every day is exactly one calendar day.
func (d Date) AddDays(n int) Date {
	return DateOf(d.Time().AddDate(0, 0, n))
}

// AddYears returns d plus n years. Unlike time.Time.AddDate, 29 February
// plus one year is 28 February, not 1 March: for licence expiry and age
// calculations the anniversary must stay in the same month.
func (d Date) AddYears(n int) Date {
	// Normalise first so out-of-range fields (which only hand-built Dates
	// can have) cannot produce a month outside 1..12 below.
	d = DateOf(d.Time())
	y := d.Year + n
	day := d.Day
	if last := daysInMonth(y, d.Month); day > last {
		day = last
	}
	return Date{Year: y, Month: d.Month, Day: day}
}

// Format formats d with a time.Time layout, e.g. "2 January 2006".
// The zero Date formats as "" (like String) rather than a nonsense date.
func (d Date) Format(layout string) string {
	if d.IsZero() {
		return ""
	}
	return d.Time().Format(layout)
}

// DateOf returns the calendar date of t in t's own location: the date a
// person looking at a clock in that location would say it is.
func DateOf(t time.Time) Date {
	y, m, day := t.Date()
	return Date{Year: y, Month: m, Day: day}
}

// daysInMonth returns the number of days in month m of year y (Gregorian).
func daysInMonth(y int, m time.Month) int {
	// Day 0 of the next month is the last day of this one.
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// valid reports whether d is a real date that fits the 4-digit-year
// "2006-01-02" form. Year 0 does not exist in the Gregorian calendar.
func (d Date) valid() bool {
	return d.Year >= 1 && d.Year <= 9999 &&
		d.Month >= time.January && d.Month <= time.December &&
		d.Day >= 1 && d.Day <= daysInMonth(d.Year, d.Month)
}

// ParseISODate parses exactly "YYYY-MM-DD" (as produced by String).
// It returns an error wrapping ErrEmpty for "" and ErrFormat for anything
// else that is not a real date in that exact form; no spaces, signs or
// time parts are tolerated because this is for machine-written values.
func ParseISODate(s string) (Date, error) {
	if s == "" {
		return Date{}, fmt.Errorf("domain: parse ISO date: %w", ErrEmpty)
	}
	bad := fmt.Errorf("domain: parse ISO date %q: %w", truncateForError(s, 40), ErrFormat)
	if len(s) != len(isoLayout) || s[4] != '-' || s[7] != '-' {
		return Date{}, bad
	}
	y, ok1 := atoiDigits(s[0:4])
	m, ok2 := atoiDigits(s[5:7])
	day, ok3 := atoiDigits(s[8:10])
	if !ok1 || !ok2 || !ok3 {
		return Date{}, bad
	}
	d := Date{Year: y, Month: time.Month(m), Day: day}
	if !d.valid() {
		return Date{}, bad
	}
	return d, nil
}

// atoiDigits converts a short string of ASCII digits. Unlike strconv.Atoi
// it rejects signs, and callers only pass at most a few digits so it cannot
// overflow.
func atoiDigits(s string) (int, bool) {
	if s == "" {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// truncateForError shortens s for inclusion in error messages, so a huge input
// cannot make a huge log line.
func truncateForError(s string, n int) string {
	if len(s) <= n {
		return s
	}
	// Back off to a rune boundary so we never split a UTF-8 sequence.
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// Scan implements sql.Scanner. It accepts the TEXT form "2006-01-02",
// a time.Time (some drivers, e.g. SQLite with a DATE column, convert for
// us), and NULL or "" as the zero Date. On error d is left unchanged.
func (d *Date) Scan(src any) error {
	if d == nil {
		return errors.New("domain: Scan into nil *Date")
	}
	var (
		v   Date
		err error
	)
	switch s := src.(type) {
	case nil:
		// NULL: no date.
	case string:
		if s != "" {
			v, err = ParseISODate(s)
		}
	case []byte:
		if len(s) != 0 {
			v, err = ParseISODate(string(s))
		}
	case time.Time:
		v = DateOf(s)
	default:
		return fmt.Errorf("domain: cannot scan %T into Date", src)
	}
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// Value implements driver.Valuer: the zero Date is stored as NULL and any
// other date as TEXT "2006-01-02". An impossible date is an error rather
// than being written in a form Scan could not read back.
func (d Date) Value() (driver.Value, error) {
	if d.IsZero() {
		return nil, nil
	}
	if !d.valid() {
		return nil, fmt.Errorf("domain: invalid date %04d-%02d-%02d", d.Year, int(d.Month), d.Day)
	}
	return d.String(), nil
}

// DateProblem says what is wrong with a date typed into day/month/year boxes.
type DateProblem int

// Problems reported by ParseDate, in the order they are checked.
const (
	DateMissing           DateProblem = iota + 1 // all three boxes empty
	DateMissingDay                               // only the day is empty
	DateMissingMonth                             // only the month is empty
	DateMissingYear                              // only the year is empty
	DateMissingParts                             // two of the three boxes empty
	DateNotNumeric                               // a box holds something other than digits (or a month name)
	DateYearNotFourDigits                        // the year is not exactly 4 digits
	DateNotReal                                  // the numbers do not make a real date, e.g. 31/02/2020
)

// DateError is the error returned by ParseDate.
type DateError struct {
	Problem DateProblem
	// Field is the box the error summary should link to and focus:
	// "day", "month" or "year".
	Field string
}

// Error implements error with a developer-facing description; use Message
// for text shown to the user.
func (e *DateError) Error() string {
	if e == nil {
		return "domain: <nil> date error"
	}
	var what string
	switch e.Problem {
	case DateMissing:
		what = "missing"
	case DateMissingDay:
		what = "missing day"
	case DateMissingMonth:
		what = "missing month"
	case DateMissingYear:
		what = "missing year"
	case DateMissingParts:
		what = "missing parts"
	case DateNotNumeric:
		what = "not numeric"
	case DateYearNotFourDigits:
		what = "year not four digits"
	case DateNotReal:
		what = "not a real date"
	default:
		what = fmt.Sprintf("problem %d", int(e.Problem))
	}
	return fmt.Sprintf("domain: date %s (field %q)", what, e.Field)
}

// Message returns a GOV.UK Design System style error message for a date
// field with the given label, e.g. for "Date of birth":
//
//	DateMissing           "Enter date of birth"
//	DateMissingDay        "Date of birth must include a day"
//	DateMissingMonth      "Date of birth must include a month"
//	DateMissingYear       "Date of birth must include a year"
//	DateMissingParts      "Date of birth must include a day, month and year"
//	DateYearNotFourDigits "Year must include 4 numbers"
//	DateNotNumeric        "Date of birth must be a real date"
//	DateNotReal           "Date of birth must be a real date"
//
// DateMissingParts cannot say which two parts are missing because
// DateError only records the first of them (Field).
func (e *DateError) Message(label string) string {
	label = strings.TrimSpace(label)
	if label == "" {
		label = "Date"
	}
	if e == nil {
		return sentenceCase(label) + " must be a real date"
	}
	subject := sentenceCase(label)
	switch e.Problem {
	case DateMissing:
		return "Enter " + midSentence(label)
	case DateMissingDay:
		return subject + " must include a day"
	case DateMissingMonth:
		return subject + " must include a month"
	case DateMissingYear:
		return subject + " must include a year"
	case DateMissingParts:
		return subject + " must include a day, month and year"
	case DateYearNotFourDigits:
		return "Year must include 4 numbers"
	default:
		return subject + " must be a real date"
	}
}

// sentenceCase upper-cases the first letter so the label can start a
// sentence.
func sentenceCase(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}

// midSentence lower-cases the first letter so the label can follow
// "Enter ", but leaves acronyms such as "DBS certificate date" alone.
func midSentence(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError {
		return s
	}
	if next, _ := utf8.DecodeRuneInString(s[n:]); unicode.IsUpper(next) {
		return s
	}
	return string(unicode.ToLower(r)) + s[n:]
}

// monthNames maps lower-case month names and abbreviations to months.
// "sept" is included because it is a common abbreviation in the UK.
var monthNames = func() map[string]time.Month {
	m := make(map[string]time.Month, 25)
	for mon := time.January; mon <= time.December; mon++ {
		name := strings.ToLower(mon.String())
		m[name] = mon
		m[name[:3]] = mon
	}
	m["sept"] = time.September
	return m
}()

// ParseDate parses a date typed into three boxes (day, month, year) as on
// GOV.UK forms. Each box is trimmed; the month may be a number or an
// English month name or abbreviation ("Jan", "january"); the year must be
// exactly 4 digits. Any error is a *DateError, found in this order:
// missing boxes, non-numeric boxes, a year without 4 digits, then a date
// that does not exist (e.g. 31/02/2020).
func ParseDate(day, month, year string) (Date, error) {
	day = strings.TrimSpace(day)
	month = strings.TrimSpace(month)
	year = strings.TrimSpace(year)

	// Missing boxes: focus the first empty one.
	boxes := [3]string{day, month, year}
	names := [3]string{"day", "month", "year"}
	oneMissing := [3]DateProblem{DateMissingDay, DateMissingMonth, DateMissingYear}
	first, count := -1, 0
	for i, v := range boxes {
		if v == "" {
			count++
			if first < 0 {
				first = i
			}
		}
	}
	switch count {
	case 3:
		return Date{}, &DateError{Problem: DateMissing, Field: "day"}
	case 2:
		return Date{}, &DateError{Problem: DateMissingParts, Field: names[first]}
	case 1:
		return Date{}, &DateError{Problem: oneMissing[first], Field: names[first]}
	}

	d, okD := parseDayOrMonth(day)
	if !allASCIIDigits(day) {
		return Date{}, &DateError{Problem: DateNotNumeric, Field: "day"}
	}
	var m int
	okM := true
	switch {
	case allASCIIDigits(month):
		m, okM = parseDayOrMonth(month)
	case isASCIILetters(month) && monthNames[strings.ToLower(month)] != 0:
		// The ASCII check comes first so Unicode case mapping cannot turn
		// look-alike runes into a month name.
		m = int(monthNames[strings.ToLower(month)])
	default:
		return Date{}, &DateError{Problem: DateNotNumeric, Field: "month"}
	}
	if !allASCIIDigits(year) {
		return Date{}, &DateError{Problem: DateNotNumeric, Field: "year"}
	}
	if len(year) != 4 {
		return Date{}, &DateError{Problem: DateYearNotFourDigits, Field: "year"}
	}
	y, _ := atoiDigits(year)

	// Check the month first: "does day 31 exist" depends on the month.
	if !okM || m < 1 || m > 12 {
		return Date{}, &DateError{Problem: DateNotReal, Field: "month"}
	}
	if y < 1 {
		return Date{}, &DateError{Problem: DateNotReal, Field: "year"}
	}
	if !okD || d < 1 || d > daysInMonth(y, time.Month(m)) {
		return Date{}, &DateError{Problem: DateNotReal, Field: "day"}
	}
	return Date{Year: y, Month: time.Month(m), Day: d}, nil
}

// allASCIIDigits reports whether s is non-empty and all ASCII digits. Unicode
// digits (e.g. Arabic-Indic) are deliberately not accepted.
func allASCIIDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isASCIILetters(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i] | 0x20 // fold ASCII upper to lower
		if c < 'a' || c > 'z' {
			return false
		}
	}
	return s != ""
}

// parseDayOrMonth converts a day or month box. Leading zeros are allowed
// ("007"); more than two significant digits cannot be a day or month, and
// refusing them also keeps very long inputs from overflowing.
func parseDayOrMonth(s string) (int, bool) {
	t := strings.TrimLeft(s, "0")
	if t == "" {
		return 0, allASCIIDigits(s)
	}
	if len(t) > 2 {
		return 0, false
	}
	return atoiDigits(t)
}
