package domain

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestDateBasics(t *testing.T) {
	d := Date{Year: 2024, Month: time.February, Day: 9}
	tests := []struct {
		name string
		got  any
		want any
	}{
		{"IsZero zero", Date{}.IsZero(), true},
		{"IsZero set", d.IsZero(), false},
		{"String", d.String(), "2024-02-09"},
		{"String zero", Date{}.String(), ""},
		{"String early year pads", Date{Year: 12, Month: 3, Day: 4}.String(), "0012-03-04"},
		{"Time", d.Time(), time.Date(2024, 2, 9, 0, 0, 0, 0, time.UTC)},
		{"Format", d.Format("2 January 2006"), "9 February 2024"},
		{"Format zero", Date{}.Format("2 January 2006"), ""},
		{"Before earlier day", d.Before(Date{2024, 2, 10}), true},
		{"Before same", d.Before(d), false},
		{"Before later year", d.Before(Date{2023, 12, 31}), false},
		{"Before month beats day", Date{2024, 1, 31}.Before(d), true},
		{"After", d.After(Date{2024, 2, 8}), true},
		{"After same", d.After(d), false},
		{"After zero", d.After(Date{}), true},
		{"AddDays +1 end of month", Date{2024, 1, 31}.AddDays(1), Date{2024, 2, 1}},
		{"AddDays leap", Date{2024, 2, 28}.AddDays(1), Date{2024, 2, 29}},
		{"AddDays non-leap", Date{2023, 2, 28}.AddDays(1), Date{2023, 3, 1}},
		{"AddDays negative over year", Date{2024, 1, 1}.AddDays(-1), Date{2023, 12, 31}},
		{"AddDays zero", d.AddDays(0), d},
		{"AddDays across UK DST change", Date{2024, 3, 30}.AddDays(2), Date{2024, 4, 1}},
		{"AddYears 29 Feb +1 -> 28 Feb", Date{2024, 2, 29}.AddYears(1), Date{2025, 2, 28}},
		{"AddYears 29 Feb +4 stays", Date{2024, 2, 29}.AddYears(4), Date{2028, 2, 29}},
		{"AddYears 29 Feb -1", Date{2024, 2, 29}.AddYears(-1), Date{2023, 2, 28}},
		{"AddYears 29 Feb +100 (2124 leap)", Date{2024, 2, 29}.AddYears(100), Date{2124, 2, 29}},
		{"AddYears 29 Feb 2096 +4 (2100 not leap)", Date{2096, 2, 29}.AddYears(4), Date{2100, 2, 28}},
		{"AddYears ordinary", Date{2021, 7, 31}.AddYears(3), Date{2024, 7, 31}},
		{"AddYears out-of-range fields normalised", Date{2023, 13, 1}.AddYears(1), Date{2025, 1, 1}},
		{"DateOf UTC", DateOf(time.Date(2024, 6, 30, 23, 59, 0, 0, time.UTC)), Date{2024, 6, 30}},
		{"DateOf keeps own location", DateOf(time.Date(2024, 6, 30, 23, 30, 0, 0, time.FixedZone("BST", 3600))), Date{2024, 6, 30}},
		{"DateOf other zone", DateOf(time.Date(2024, 6, 30, 23, 30, 0, 0, time.UTC).In(time.FixedZone("BST", 3600))), Date{2024, 7, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tt.got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseISODate(t *testing.T) {
	tests := []struct {
		in      string
		want    Date
		wantErr error
	}{
		{"2024-02-29", Date{2024, 2, 29}, nil},
		{"1999-12-31", Date{1999, 12, 31}, nil},
		{"0001-01-01", Date{1, 1, 1}, nil},
		{"9999-12-31", Date{9999, 12, 31}, nil},
		{"", Date{}, ErrEmpty},
		{"2023-02-29", Date{}, ErrFormat},
		{"2024-13-01", Date{}, ErrFormat},
		{"2024-00-01", Date{}, ErrFormat},
		{"2024-04-31", Date{}, ErrFormat},
		{"2024-01-32", Date{}, ErrFormat},
		{"2024-01-00", Date{}, ErrFormat},
		{"0000-01-01", Date{}, ErrFormat},
		{"2024-1-01", Date{}, ErrFormat},
		{"2024/01/01", Date{}, ErrFormat},
		{" 2024-01-01", Date{}, ErrFormat},
		{"2024-01-01T00:00:00Z", Date{}, ErrFormat},
		{"+024-01-01", Date{}, ErrFormat},
		{"2024-+1-01", Date{}, ErrFormat},
		{"２０２４-01-01", Date{}, ErrFormat},
		{"01-01-2024", Date{}, ErrFormat},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseISODate(tt.in)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("ParseISODate(%q) error = %v, want %v", tt.in, err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseISODate(%q) (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestDateScan(t *testing.T) {
	start := Date{2000, 1, 1}
	tests := []struct {
		name    string
		src     any
		want    Date
		wantErr bool
	}{
		{"nil", nil, Date{}, false},
		{"string", "2024-02-29", Date{2024, 2, 29}, false},
		{"bytes", []byte("1980-07-05"), Date{1980, 7, 5}, false},
		{"empty string", "", Date{}, false},
		{"empty bytes", []byte{}, Date{}, false},
		{"time", time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC), Date{2024, 3, 1}, false},
		{"time in own zone", time.Date(2024, 3, 1, 23, 0, 0, 0, time.FixedZone("X", -5*3600)), Date{2024, 3, 1}, false},
		{"bad string keeps old value", "2024-02-30", start, true},
		{"bad bytes keeps old value", []byte("yesterday"), start, true},
		{"int", int64(20240101), start, true},
		{"float", 1.5, start, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := start
			err := got.Scan(tt.src)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Scan(%#v) error = %v, wantErr %v", tt.src, err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Scan(%#v) (-want +got):\n%s", tt.src, diff)
			}
		})
	}
	t.Run("nil receiver", func(t *testing.T) {
		var d *Date
		if err := d.Scan("2024-01-01"); err == nil {
			t.Error("Scan into nil *Date: want error, got nil")
		}
	})
}

func TestDateValue(t *testing.T) {
	tests := []struct {
		name    string
		in      Date
		want    any
		wantErr bool
	}{
		{"zero is NULL", Date{}, nil, false},
		{"date", Date{2024, 2, 29}, "2024-02-29", false},
		{"single digit fields padded", Date{987, 1, 2}, "0987-01-02", false},
		{"impossible date", Date{2023, 2, 29}, nil, true},
		{"month 13", Date{2024, 13, 1}, nil, true},
		{"year 10000", Date{10000, 1, 1}, nil, true},
		{"negative year", Date{-1, 1, 1}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := tt.in.Value()
			if (err != nil) != tt.wantErr {
				t.Fatalf("Value() error = %v, wantErr %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, any(v)); diff != "" {
				t.Errorf("Value() (-want +got):\n%s", diff)
			}
			if err != nil {
				return
			}
			// Whatever Value writes, Scan must read back unchanged.
			var back Date
			if err := back.Scan(v); err != nil {
				t.Fatalf("Scan(Value()) error: %v", err)
			}
			if diff := cmp.Diff(tt.in, back); diff != "" {
				t.Errorf("Scan(Value()) round trip (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseDate(t *testing.T) {
	tests := []struct {
		name               string
		day, month, year   string
		want               Date
		wantProblem        DateProblem
		wantField, wantMsg string
	}{
		// Valid.
		{name: "plain", day: "5", month: "7", year: "1980", want: Date{1980, 7, 5}},
		{name: "leading zeros", day: "05", month: "07", year: "1980", want: Date{1980, 7, 5}},
		{name: "extra leading zeros", day: "005", month: "0007", year: "1980", want: Date{1980, 7, 5}},
		{name: "spaces trimmed", day: " 5 ", month: "\t7", year: "1980\n", want: Date{1980, 7, 5}},
		{name: "no-break space trimmed", day: "5\u00a0", month: "7", year: "1980", want: Date{1980, 7, 5}},
		{name: "month abbreviation", day: "1", month: "Jan", year: "2000", want: Date{2000, 1, 1}},
		{name: "month name lower", day: "1", month: "january", year: "2000", want: Date{2000, 1, 1}},
		{name: "month name upper", day: "30", month: "SEPTEMBER", year: "2000", want: Date{2000, 9, 30}},
		{name: "month sept", day: "30", month: "Sept", year: "2000", want: Date{2000, 9, 30}},
		{name: "month 12", day: "31", month: "12", year: "1999", want: Date{1999, 12, 31}},
		{name: "day 31 in January", day: "31", month: "1", year: "1999", want: Date{1999, 1, 31}},
		{name: "leap day 2024", day: "29", month: "02", year: "2024", want: Date{2024, 2, 29}},
		{name: "leap day 2000", day: "29", month: "2", year: "2000", want: Date{2000, 2, 29}},
		{name: "year 0001", day: "1", month: "1", year: "0001", want: Date{1, 1, 1}},

		// Missing boxes.
		{name: "all missing", wantProblem: DateMissing, wantField: "day", wantMsg: "Enter date of birth"},
		{name: "all blank", day: " ", month: "\t", year: " ", wantProblem: DateMissing, wantField: "day", wantMsg: "Enter date of birth"},
		{name: "missing day", month: "7", year: "1980", wantProblem: DateMissingDay, wantField: "day", wantMsg: "Date of birth must include a day"},
		{name: "missing month", day: "5", year: "1980", wantProblem: DateMissingMonth, wantField: "month", wantMsg: "Date of birth must include a month"},
		{name: "missing year", day: "5", month: "7", wantProblem: DateMissingYear, wantField: "year", wantMsg: "Date of birth must include a year"},
		{name: "missing day and month", year: "1980", wantProblem: DateMissingParts, wantField: "day", wantMsg: "Date of birth must include a day, month and year"},
		{name: "missing day and year", month: "7", wantProblem: DateMissingParts, wantField: "day", wantMsg: "Date of birth must include a day, month and year"},
		{name: "missing month and year", day: "5", wantProblem: DateMissingParts, wantField: "month", wantMsg: "Date of birth must include a day, month and year"},
		{name: "missing parts reported before bad values", day: "abc", wantProblem: DateMissingParts, wantField: "month"},

		// Not numeric.
		{name: "day abc", day: "abc", month: "7", year: "1980", wantProblem: DateNotNumeric, wantField: "day", wantMsg: "Date of birth must be a real date"},
		{name: "month abc", day: "5", month: "abc", year: "1980", wantProblem: DateNotNumeric, wantField: "month"},
		{name: "year abc", day: "5", month: "7", year: "abc", wantProblem: DateNotNumeric, wantField: "year"},
		{name: "negative day", day: "-5", month: "7", year: "1980", wantProblem: DateNotNumeric, wantField: "day"},
		{name: "plus sign", day: "+5", month: "7", year: "1980", wantProblem: DateNotNumeric, wantField: "day"},
		{name: "decimal", day: "5.0", month: "7", year: "1980", wantProblem: DateNotNumeric, wantField: "day"},
		{name: "inner space", day: "5", month: "7", year: "19 80", wantProblem: DateNotNumeric, wantField: "year"},
		{name: "full-width digits", day: "５", month: "7", year: "1980", wantProblem: DateNotNumeric, wantField: "day"},
		{name: "month name with dot", day: "5", month: "Jan.", year: "1980", wantProblem: DateNotNumeric, wantField: "month"},
		{name: "long s is not sept", day: "5", month: "ſept", year: "1980", wantProblem: DateNotNumeric, wantField: "month"},
		{name: "first bad box wins", day: "x", month: "y", year: "z", wantProblem: DateNotNumeric, wantField: "day"},

		// Year length.
		{name: "year 24", day: "5", month: "7", year: "24", wantProblem: DateYearNotFourDigits, wantField: "year", wantMsg: "Year must include 4 numbers"},
		{name: "year 5 digits", day: "5", month: "7", year: "19800", wantProblem: DateYearNotFourDigits, wantField: "year"},
		{name: "year 3 digits", day: "5", month: "7", year: "980", wantProblem: DateYearNotFourDigits, wantField: "year"},
		{name: "year checked before real date", day: "31", month: "2", year: "24", wantProblem: DateYearNotFourDigits, wantField: "year"},

		// Not real.
		{name: "31 Feb", day: "31", month: "02", year: "2020", wantProblem: DateNotReal, wantField: "day", wantMsg: "Date of birth must be a real date"},
		{name: "29 Feb 2023", day: "29", month: "02", year: "2023", wantProblem: DateNotReal, wantField: "day"},
		{name: "29 Feb 1900", day: "29", month: "2", year: "1900", wantProblem: DateNotReal, wantField: "day"},
		{name: "day 32", day: "32", month: "1", year: "2020", wantProblem: DateNotReal, wantField: "day"},
		{name: "31 April", day: "31", month: "4", year: "2020", wantProblem: DateNotReal, wantField: "day"},
		{name: "day 0", day: "0", month: "1", year: "2020", wantProblem: DateNotReal, wantField: "day"},
		{name: "day 00", day: "00", month: "1", year: "2020", wantProblem: DateNotReal, wantField: "day"},
		{name: "day 100", day: "100", month: "1", year: "2020", wantProblem: DateNotReal, wantField: "day"},
		{name: "day huge", day: strings.Repeat("9", 40), month: "1", year: "2020", wantProblem: DateNotReal, wantField: "day"},
		{name: "month 13", day: "1", month: "13", year: "2020", wantProblem: DateNotReal, wantField: "month"},
		{name: "month 0", day: "1", month: "0", year: "2020", wantProblem: DateNotReal, wantField: "month"},
		{name: "month checked before day", day: "32", month: "13", year: "2020", wantProblem: DateNotReal, wantField: "month"},
		{name: "year 0000", day: "1", month: "1", year: "0000", wantProblem: DateNotReal, wantField: "year"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseDate(tt.day, tt.month, tt.year)
			if tt.wantProblem == 0 {
				if err != nil {
					t.Fatalf("ParseDate(%q, %q, %q) unexpected error: %v", tt.day, tt.month, tt.year, err)
				}
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("ParseDate(%q, %q, %q) (-want +got):\n%s", tt.day, tt.month, tt.year, diff)
				}
				return
			}
			var de *DateError
			if !errors.As(err, &de) {
				t.Fatalf("ParseDate(%q, %q, %q) error = %v (%T), want *DateError", tt.day, tt.month, tt.year, err, err)
			}
			want := &DateError{Problem: tt.wantProblem, Field: tt.wantField}
			if diff := cmp.Diff(want, de); diff != "" {
				t.Errorf("ParseDate(%q, %q, %q) error (-want +got):\n%s", tt.day, tt.month, tt.year, diff)
			}
			if diff := cmp.Diff(Date{}, got); diff != "" {
				t.Errorf("ParseDate returned a date with an error (-want +got):\n%s", diff)
			}
			if tt.wantMsg != "" {
				if diff := cmp.Diff(tt.wantMsg, de.Message("Date of birth")); diff != "" {
					t.Errorf("Message (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestDateErrorMessageLabels(t *testing.T) {
	tests := []struct {
		name  string
		err   *DateError
		label string
		want  string
	}{
		{"lower-cases label after Enter", &DateError{DateMissing, "day"}, "Date of birth", "Enter date of birth"},
		{"keeps acronym", &DateError{DateMissing, "day"}, "DBS certificate issue date", "Enter DBS certificate issue date"},
		{"capitalises label at start", &DateError{DateMissingMonth, "month"}, "date of birth", "Date of birth must include a month"},
		{"non-ASCII label", &DateError{DateNotReal, "day"}, "élan date", "Élan date must be a real date"},
		{"empty label", &DateError{DateMissing, "day"}, "", "Enter date"},
		{"year message ignores label", &DateError{DateYearNotFourDigits, "year"}, "Licence expiry", "Year must include 4 numbers"},
		{"unknown problem", &DateError{DateProblem(99), "day"}, "Date of birth", "Date of birth must be a real date"},
		{"nil error", nil, "Date of birth", "Date of birth must be a real date"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tt.err.Message(tt.label)); diff != "" {
				t.Errorf("Message(%q) (-want +got):\n%s", tt.label, diff)
			}
		})
	}
}

func TestDateErrorError(t *testing.T) {
	tests := []struct {
		name string
		err  *DateError
		want string
	}{
		{"missing month", &DateError{DateMissingMonth, "month"}, `domain: date missing month (field "month")`},
		{"not real", &DateError{DateNotReal, "day"}, `domain: date not a real date (field "day")`},
		{"unknown", &DateError{DateProblem(42), ""}, `domain: date problem 42 (field "")`},
		{"nil", nil, "domain: <nil> date error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tt.err.Error()); diff != "" {
				t.Errorf("Error() (-want +got):\n%s", diff)
			}
		})
	}
}

func FuzzParseDate(f *testing.F) {
	for _, s := range [][3]string{
		{"29", "02", "2024"}, {"29", "2", "2023"}, {"31", "12", "1999"}, {"1", "Jan", "2000"},
		{"", "", ""}, {"5", "", ""}, {"abc", "7", "1980"}, {"5", "7", "24"}, {" 5 ", "september", "1980"},
		{"0", "13", "0000"}, {"99999999999999999999", "1", "2020"}, {"5", "ſept", "1980"},
	} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, day, month, year string) {
		d, err := ParseDate(day, month, year)
		if err != nil {
			var de *DateError
			if !errors.As(err, &de) {
				t.Fatalf("error %v is %T, want *DateError", err, err)
			}
			if de.Problem < DateMissing || de.Problem > DateNotReal {
				t.Errorf("unknown Problem %d", de.Problem)
			}
			if de.Field != "day" && de.Field != "month" && de.Field != "year" {
				t.Errorf("Field = %q, want day, month or year", de.Field)
			}
			if msg := de.Message("Date of birth"); msg == "" {
				t.Error("empty Message")
			}
			if !d.IsZero() {
				t.Errorf("got date %v with error", d)
			}
			return
		}
		if !d.valid() {
			t.Fatalf("ParseDate(%q, %q, %q) = %#v, not a valid date", day, month, year, d)
		}
		// Idempotent: re-entering the canonical numbers gives the same date.
		again, err := ParseDate(strconv.Itoa(d.Day), strconv.Itoa(int(d.Month)), fmt.Sprintf("%04d", d.Year))
		if err != nil || again != d {
			t.Fatalf("re-parse of %v = %v, %v", d, again, err)
		}
		// The storage form round-trips too.
		iso, err := ParseISODate(d.String())
		if err != nil || iso != d {
			t.Fatalf("ParseISODate(%q) = %v, %v", d.String(), iso, err)
		}
		if DateOf(d.Time()) != d {
			t.Fatalf("DateOf(Time()) changed %v", d)
		}
	})
}

func FuzzParseISODate(f *testing.F) {
	for _, s := range []string{"2024-02-29", "2023-02-29", "", "0000-01-01", "9999-12-31", "2024-1-1", "2024-01-01T00:00:00Z", "+024-01-01"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseISODate(s)
		if err != nil {
			if !errors.Is(err, ErrEmpty) && !errors.Is(err, ErrFormat) {
				t.Fatalf("error %v wraps neither ErrEmpty nor ErrFormat", err)
			}
			return
		}
		// Strict: the only accepted text is exactly the canonical form.
		if d.String() != s {
			t.Fatalf("ParseISODate(%q) = %v, not canonical", s, d)
		}
		if v, err := d.Value(); err != nil || v != s {
			t.Fatalf("Value() = %v, %v; want %q", v, err, s)
		}
	})
}

func FuzzDateScan(f *testing.F) {
	for _, s := range []string{"2024-02-29", "", "2024-02-30", "yesterday"} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, s string, asBytes bool) {
		var src any = s
		if asBytes {
			src = []byte(s)
		}
		var d Date
		if err := d.Scan(src); err != nil {
			if !d.IsZero() {
				t.Fatalf("failed Scan changed the date to %v", d)
			}
			return
		}
		v, err := d.Value()
		if err != nil {
			t.Fatalf("Value() after Scan(%q): %v", s, err)
		}
		var back Date
		if err := back.Scan(v); err != nil || back != d {
			t.Fatalf("Scan(Value()) = %v, %v; want %v", back, err, d)
		}
	})
}
