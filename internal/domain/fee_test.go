package domain

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestFormatPence(t *testing.T) {
	for _, tc := range []struct {
		in   int64
		want string
	}{
		{0, "£0.00"}, {5, "£0.05"}, {50, "£0.50"}, {12300, "£123.00"}, {12350, "£123.50"},
		{100000, "£1,000.00"}, {123456789, "£1,234,567.89"}, {-500, "-£5.00"},
		{-9223372036854775808, "-£92,233,720,368,547,758.08"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			if got := FormatPence(tc.in); got != tc.want {
				t.Errorf("FormatPence(%d) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
	if got := (Fee{AmountPence: 25000}).Display(); got != "£250.00" {
		t.Errorf("Display = %q", got)
	}
}

func TestParsePounds(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    int64
		wantErr string // part of the message
	}{
		{in: "123", want: 12300},
		{in: "123.5", want: 12350},
		{in: "123.50", want: 12350},
		{in: "£123.50", want: 12350},
		{in: " £ 123.05 ", want: 12305},
		{in: "£1,250.00", want: 125000},
		{in: ".50", want: 50},
		{in: "10000", want: 1000000},
		{in: "", wantErr: "Enter the fee"},
		{in: "abc", wantErr: "numbers only"},
		{in: "12a", wantErr: "numbers only"},
		{in: "1.234", wantErr: "at most 2 digits"},
		{in: "12.", wantErr: "pence after the point"},
		{in: "-5", wantErr: "cannot be negative"},
		{in: "£-5", wantErr: "numbers only"},
		{in: "0", wantErr: "more than £0"},
		{in: "0.00", wantErr: "more than £0"},
		{in: "10000.01", wantErr: "£10,000.00 or less"},
		{in: "99999999999999999999", wantErr: "£10,000.00 or less"},
		{in: "12,50", wantErr: "separate thousands"},
		{in: "1.2.3", wantErr: "at most 2 digits"},
		{in: "1.2x", wantErr: "numbers only"},
		{in: "１２３", wantErr: "numbers only"},
		{in: "$123", wantErr: "numbers only"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParsePounds(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParsePounds(%q) = %d, %v; want error containing %q", tc.in, got, err, tc.wantErr)
				}
				if ErrorCode(err) != CodeInvalid {
					t.Errorf("code %s, want invalid", ErrorCode(err))
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("ParsePounds(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
			}
		})
	}
}

func FuzzParsePounds(f *testing.F) {
	for _, s := range []string{"123", "123.5", "£123.50", "£1,250.00", "", "-1", "1.234", "12,50", "£", "."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePounds(s)
		if err != nil {
			var e *Error
			if ErrorCode(err) != CodeInvalid || !errors.As(err, &e) || e.Fields["amount"] == "" {
				t.Fatalf("ParsePounds(%q): error %v is not a field error", s, err)
			}
			return
		}
		if p <= 0 || p > MaxFeePence {
			t.Fatalf("ParsePounds(%q) = %d, outside (0, %d]", s, p, MaxFeePence)
		}
		// What we show reads back to the same amount.
		if back, err := ParsePounds(FormatPence(p)); err != nil || back != p {
			t.Fatalf("round trip of %q: %d → %q → %d, %v", s, p, FormatPence(p), back, err)
		}
	})
}

func TestCurrentFee(t *testing.T) {
	d := func(s string) Date { v, _ := ParseISODate(s); return v }
	at := func(h int) time.Time { return time.Date(2026, 3, 1, h, 0, 0, 0, time.UTC) }
	history := []Fee{
		{ID: 1, TermYears: 3, AmountPence: 25000, AppliesFrom: d("2026-04-01"), SetAt: at(1)},
		{ID: 2, TermYears: 1, AmountPence: 12000, AppliesFrom: d("2026-04-01"), SetAt: at(1)},
		{ID: 3, TermYears: 3, AmountPence: 27000, AppliesFrom: d("2027-04-01"), SetAt: at(2)},
		// The same date set twice: the later setting wins.
		{ID: 4, TermYears: 3, AmountPence: 26000, AppliesFrom: d("2026-10-01"), SetAt: at(3)},
		{ID: 5, TermYears: 3, AmountPence: 26500, AppliesFrom: d("2026-10-01"), SetAt: at(4)},
	}
	for _, tc := range []struct {
		name string
		term int
		on   string
		want int64 // 0: none
	}{
		{"before any fee", 3, "2026-03-31", 0},
		{"first day", 3, "2026-04-01", 25000},
		{"day before a change", 3, "2026-09-30", 25000},
		{"tie on the change day, latest set wins", 3, "2026-10-01", 26500},
		{"a future fee does not apply today", 3, "2027-03-31", 26500},
		{"the future fee from its day", 3, "2027-04-01", 27000},
		{"other term unaffected", 1, "2027-04-01", 12000},
		{"no such term", 2, "2027-04-01", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := CurrentFee(history, tc.term, d(tc.on))
			if tc.want == 0 {
				if ok {
					t.Fatalf("got %+v, want none", got)
				}
				return
			}
			if !ok || got.AmountPence != tc.want {
				t.Fatalf("got %d (found %v), want %d", got.AmountPence, ok, tc.want)
			}
		})
	}
}

func TestMaskEmail(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"john@example.com", "j•••@e•••.com"},
		{"jo.smith@example.co.uk", "j•••@e•••.co.uk"},
		{"a@b.com", "a•••@b•••.com"},
		{"Émile@exämple.fr", "É•••@e•••.fr"},
		{"x@localhost", "x•••@l•••"},
		{"not-an-address", "•••"},
		{"@example.com", "•••"},
		{"", "•••"},
		{"j@.com", "j•••@•••"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got := MaskEmail(tc.in)
			if got != tc.want {
				t.Errorf("MaskEmail(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if len(tc.in) > 4 && strings.Contains(got, tc.in) {
				t.Errorf("mask shows the address")
			}
		})
	}
}
