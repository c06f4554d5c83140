package domain

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

// normCase is one row of a normaliser table: want is the canonical output
// when wantErr is nil.
type normCase struct {
	in      string
	want    string
	wantErr error
}

// runNormTable runs a table against a normaliser and also checks that
// every success is a fixed point (normalising it again changes nothing).
func runNormTable(t *testing.T, fn func(string) (string, error), tests []normCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(truncateForError(tt.in, 40), func(t *testing.T) {
			got, err := fn(tt.in)
			if err != tt.wantErr {
				t.Fatalf("(%q) error = %v, want %v", tt.in, err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(%q) (-want +got):\n%s", tt.in, diff)
			}
			if err != nil {
				return
			}
			again, err := fn(got)
			if err != nil || again != got {
				t.Errorf("not idempotent: (%q) = %q, %v", got, again, err)
			}
		})
	}
}

func TestNormaliseDVLALicenceNumber(t *testing.T) {
	// Characters 6-11 are decade, month (2), day (2), year: "753116" is
	// decade 7, month 53 (a woman born in March), day 11, year 6.
	runNormTable(t, NormaliseDVLALicenceNumber, []normCase{
		{"MORGA753116SM9IJ", "MORGA753116SM9IJ", nil},
		{"morga 753116 sm9ij", "MORGA753116SM9IJ", nil},
		{"  MORGA-753116-SM9IJ  ", "MORGA753116SM9IJ", nil},
		{"MORGA\u00a0753116\u00a0SM9IJ", "MORGA753116SM9IJ", nil},
		{"LI999753116SM9IJ", "LI999753116SM9IJ", nil}, // short surname padded with 9s
		{"L9999753116SM9IJ", "L9999753116SM9IJ", nil}, // one-letter surname
		{"MORGA712116SM9IJ", "MORGA712116SM9IJ", nil}, // month 12
		{"MORGA751116SM9IJ", "MORGA751116SM9IJ", nil}, // month 51 (woman, January)
		{"MORGA762116SM9IJ", "MORGA762116SM9IJ", nil}, // month 62 (woman, December)
		{"MORGA753316SM9IJ", "MORGA753316SM9IJ", nil}, // day 31
		{"MORGA753016SM9IJ", "MORGA753016SM9IJ", nil}, // day 01
		{"MORGA753116S99IJ", "MORGA753116S99IJ", nil}, // no middle initial
		{"MORGA753116999IJ", "MORGA753116999IJ", nil}, // no initials at all
		{"MORGA753116SM0IJ", "MORGA753116SM0IJ", nil}, // position 14 any digit
		{"MORGA753116SMAIJ", "MORGA753116SMAIJ", nil}, // position 14 letter
		{"", "", ErrEmpty},
		{"   ", "", ErrEmpty},
		{"MORGA753116SM9I", "", ErrFormat},                        // 15 chars
		{"MORGA753116SM9IJK", "", ErrFormat},                      // 17 chars
		{"MORGA753116SM9IJ35", "", ErrFormat},                     // with issue number
		{"MORGA713116SM9IJ", "", ErrFormat},                       // month 13
		{"MORGA700116SM9IJ", "", ErrFormat},                       // month 00
		{"MORGA750116SM9IJ", "", ErrFormat},                       // month 50
		{"MORGA763116SM9IJ", "", ErrFormat},                       // month 63
		{"MORGA753006SM9IJ", "", ErrFormat},                       // day 00
		{"MORGA753326SM9IJ", "", ErrFormat},                       // day 32
		{"MO9GA753116SM9IJ", "", ErrFormat},                       // 9 before a letter
		{"99999753116SM9IJ", "", ErrFormat},                       // no surname letter
		{"9ORGA753116SM9IJ", "", ErrFormat},                       // starts with 9
		{"MORG1753116SM9IJ", "", ErrFormat},                       // digit other than 9 in surname
		{"MORGAA53116SM9IJ", "", ErrFormat},                       // letter in date part
		{"MORGA7531169M9IJ", "", ErrFormat},                       // 9 before an initial
		{"MORGA753116S1MIJ", "", ErrFormat},                       // digit in initials
		{"MORGA753116SMIIJ", "", ErrFormat},                       // I at position 14
		{"MORGA753116SMZIJ", "", ErrFormat},                       // Z at position 14
		{"MORGA753116SM91J", "", ErrFormat},                       // digit in check letters
		{"MORGA753116SM9I9", "", ErrFormat},                       // 9 in check letters
		{"MÖRGA753116SM9IJ", "", ErrFormat},                       // non-ASCII letter
		{"ıORGA753116SM9IJ", "", ErrFormat},                       // dotless i must not become I
		{"MORGA_753116SM9IJ", "", ErrFormat},                      // other punctuation
		{strings.Repeat("MORGA753116SM9IJ", 1000), "", ErrFormat}, // very long
	})
}

func TestNormaliseDVLACheckCode(t *testing.T) {
	runNormTable(t, NormaliseDVLACheckCode, []normCase{
		{"Ab3dEf7h", "Ab3dEf7h", nil},
		{" Ab3d Ef7h ", "Ab3dEf7h", nil},
		{"ab3def7h", "ab3def7h", nil}, // case kept
		{"ABCDEFGH", "ABCDEFGH", nil},
		{"12345678", "12345678", nil},
		{"", "", ErrEmpty},
		{" \t", "", ErrEmpty},
		{"Ab3dEf7", "", ErrFormat},   // 7
		{"Ab3dEf7hX", "", ErrFormat}, // 9
		{"Ab3d-Ef7h", "", ErrFormat}, // hyphens are not stripped here
		{"Ab3dEf7é", "", ErrFormat},
		{"Ab3dEf7!", "", ErrFormat},
	})
}

func TestNormaliseDBSCertificateNumber(t *testing.T) {
	runNormTable(t, NormaliseDBSCertificateNumber, []normCase{
		{"001234567890", "001234567890", nil},
		{"0012 3456 7890", "001234567890", nil},
		{"0012-3456-7890", "001234567890", nil},
		{" 001234567890\n", "001234567890", nil},
		{"0012–3456–7890", "001234567890", nil}, // en dashes from a pasted document
		{"", "", ErrEmpty},
		{"00123456789", "", ErrFormat},   // 11
		{"0012345678901", "", ErrFormat}, // 13
		{"00123456789O", "", ErrFormat},  // letter O
		{"-", "", ErrFormat},
		{"００１２３４５６７８９０", "", ErrFormat}, // full-width digits
	})
}

func TestNormaliseTaxCheckCode(t *testing.T) {
	runNormTable(t, NormaliseTaxCheckCode, []normCase{
		{"ABC123DEF", "ABC123DEF", nil},
		{"abc 123 def", "ABC123DEF", nil},
		{"abc-123-def", "ABC123DEF", nil},
		{"123456789", "123456789", nil},
		{"", "", ErrEmpty},
		{"ABC123DE", "", ErrFormat},
		{"ABC123DEFG", "", ErrFormat},
		{"ABC123DE!", "", ErrFormat},
		{"ABC123DEſ", "", ErrFormat}, // long s must not become S
	})
}

func TestNormaliseShareCode(t *testing.T) {
	runNormTable(t, NormaliseShareCode, []normCase{
		{"W12345678", "W12345678", nil},
		{"w2b 4c6 7d8", "W2B4C67D8", nil},
		{"  WABCDEFGH  ", "WABCDEFGH", nil},
		{"", "", ErrEmpty},
		{"A12345678", "", ErrFormat},   // must start with W
		{"W1234567", "", ErrFormat},    // 8
		{"W123456789", "", ErrFormat},  // 10
		{"W12-345-678", "", ErrFormat}, // hyphens are not part of the format
		{"W1234567#", "", ErrFormat},
	})
}

func TestNormaliseUKPostcode(t *testing.T) {
	runNormTable(t, NormaliseUKPostcode, []normCase{
		{"al86xf", "AL8 6XF", nil}, // AA9
		{"AL8 6XF", "AL8 6XF", nil},
		{" al8   6xf ", "AL8 6XF", nil},
		{"M11AE", "M1 1AE", nil},     // A9
		{"B338TH", "B33 8TH", nil},   // A99
		{"CR26XH", "CR2 6XH", nil},   // AA9
		{"DN551PT", "DN55 1PT", nil}, // AA99
		{"W1A0AX", "W1A 0AX", nil},   // A9A
		{"EC1A1BB", "EC1A 1BB", nil}, // AA9A
		{"gir0aa", "GIR 0AA", nil},
		{"GIR 0AA", "GIR 0AA", nil},
		{"", "", ErrEmpty},
		{"AL8", "", ErrFormat},
		{"AL86X", "", ErrFormat},     // inward too short
		{"AL8 6X1", "", ErrFormat},   // inward 9A9
		{"AL8 XF6", "", ErrFormat},   // inward AA9
		{"AL8-6XF", "", ErrFormat},   // hyphen
		{"ALL8 6XF", "", ErrFormat},  // AAA9 outward
		{"AL888 6XF", "", ErrFormat}, // too long
		{"8AL 6XF", "", ErrFormat},   // starts with digit
		{"GIR 0AB", "", ErrFormat},   // GIR is only valid with 0AA
		{"A1AA 1AA", "", ErrFormat},  // A9AA outward
		{"AL8 6XF GB", "", ErrFormat},
		{"ÅL8 6XF", "", ErrFormat},
	})
}

func TestNormaliseUKPhone(t *testing.T) {
	runNormTable(t, NormaliseUKPhone, []normCase{
		{"07700900123", "07700900123", nil},
		{"07700 900 123", "07700900123", nil},
		{"07700-900-123", "07700900123", nil},
		{"+447700900123", "07700900123", nil},
		{"+44 7700 900123", "07700900123", nil},
		{"+44 (0)7700 900123", "07700900123", nil},
		{"00447700900123", "07700900123", nil},
		{"(01707) 123456", "01707123456", nil},
		{"020 7946 0018", "02079460018", nil},
		{"+44 (0)20 7946 0018", "02079460018", nil},
		{"0169 77 2345", "0169772345", nil}, // 10-digit number
		{"", "", ErrEmpty},
		{"0770090012", "0770090012", nil}, // 10 digits is allowed
		{"077009001", "", ErrFormat},      // 9
		{"077009001234", "", ErrFormat},   // 12
		{"7700900123", "", ErrFormat},     // no leading 0
		{"447700900123", "", ErrFormat},   // country code without +
		{"+33 1 23 45 67 89", "", ErrFormat},
		{"0033123456789", "", ErrFormat},
		{"0012345678", "", ErrFormat}, // starts 00
		{"07700 9OO 123", "", ErrFormat},
		{"07700.900.123", "", ErrFormat},
		{"07700900123 ext 2", "", ErrFormat},
		{"+", "", ErrFormat},
		{"+44", "", ErrFormat},
		{"0770+0900123", "", ErrFormat},
		{"０７７００９００１２３", "", ErrFormat},
	})
}

func TestNormaliseEmail(t *testing.T) {
	runNormTable(t, NormaliseEmail, []normCase{
		{"jo@example.com", "jo@example.com", nil},
		{"  Jo.Bloggs@Example.CO.UK ", "Jo.Bloggs@example.co.uk", nil}, // local part case kept
		{"jo+taxi@sub.example.org", "jo+taxi@sub.example.org", nil},
		{"jo@xn--bcher-kva.de", "jo@xn--bcher-kva.de", nil},
		{"jo@BÜCHER.de", "jo@bücher.de", nil},
		{"zoë@example.com", "zoë@example.com", nil},
		{"a@b.c", "a@b.c", nil},
		{strings.Repeat("a", 64) + "@" + strings.Repeat("b", 185) + ".com", strings.Repeat("a", 64) + "@" + strings.Repeat("b", 185) + ".com", nil}, // 254
		{"", "", ErrEmpty},
		{" \n", "", ErrEmpty},
		{strings.Repeat("a", 64) + "@" + strings.Repeat("b", 186) + ".com", "", ErrFormat}, // 255
		{"jo.example.com", "", ErrFormat},
		{"jo@@example.com", "", ErrFormat},
		{"jo@example@com.uk", "", ErrFormat},
		{"@example.com", "", ErrFormat},
		{"jo@", "", ErrFormat},
		{"jo@example", "", ErrFormat},
		{"jo@.example.com", "", ErrFormat},
		{"jo@example..com", "", ErrFormat},
		{"jo@example.com.", "", ErrFormat},
		{"jo@exam ple.com", "", ErrFormat},
		{"j o@example.com", "", ErrFormat},
		{"jo@example,com", "", ErrFormat},
		{"jo@example.com>", "", ErrFormat},
		{"jo\x00@example.com", "", ErrFormat},
		{"jo@example.com\xff", "", ErrFormat},
	})
}

func TestNormalisePersonName(t *testing.T) {
	runNormTable(t, NormalisePersonName, []normCase{
		{"Jo", "Jo", nil},
		{"Zoë O’Brien-Łukasz", "Zoë O’Brien-Łukasz", nil},
		{"Renée", "Renée", nil},
		{"Rene\u0301e", "Rene\u0301e", nil}, // combining accent
		{"李小龍", "李小龍", nil},
		{"Siân O'Neill", "Siân O'Neill", nil},
		{"J. R. R.", "J. R. R.", nil},
		{"  Mary   Ann \t Smith  ", "Mary Ann Smith", nil},
		{"Mary\u00a0Ann", "Mary Ann", nil},
		{"X", "X", nil},
		{strings.Repeat("a", 100), strings.Repeat("a", 100), nil},
		{strings.Repeat("é", 100), strings.Repeat("é", 100), nil}, // counted in runes, not bytes
		{strings.Repeat("a", 50) + "     " + strings.Repeat("b", 49), strings.Repeat("a", 50) + " " + strings.Repeat("b", 49), nil},
		{"", "", ErrEmpty},
		{"   ", "", ErrEmpty},
		{strings.Repeat("a", 101), "", ErrFormat},
		{"R2D2", "", ErrFormat},
		{"<script>", "", ErrFormat},
		{"Jo!", "", ErrFormat},
		{"Jo_Bloggs", "", ErrFormat},
		{"Jo\u200bBloggs", "", ErrFormat}, // zero-width space
		{"-", "", ErrFormat},              // no letter
		{"'.", "", ErrFormat},
		{"\u0301", "", ErrFormat}, // mark only
		{"Jo\xffBloggs", "", ErrFormat},
		{"Jo 😀", "", ErrFormat},
	})
}

// Canonical shapes used by the fuzz tests, written independently of the
// implementation.
var (
	reLicence  = regexp.MustCompile(`^[A-Z]{1,5}9{0,4}[0-9](?:[05][1-9]|[16][0-2])(?:0[1-9]|[12][0-9]|3[01])[0-9](?:99|[A-Z][A-Z9])[0-9A-HJ-NPR-X][A-Z]{2}$`)
	reCheck    = regexp.MustCompile(`^[A-Za-z0-9]{8}$`)
	reDBS      = regexp.MustCompile(`^[0-9]{12}$`)
	reTaxCheck = regexp.MustCompile(`^[A-Z0-9]{9}$`)
	reShare    = regexp.MustCompile(`^W[A-Z0-9]{8}$`)
	rePostcode = regexp.MustCompile(`^(?:GIR 0AA|(?:[A-Z][0-9]{1,2}|[A-Z]{2}[0-9]{1,2}|[A-Z][0-9][A-Z]|[A-Z]{2}[0-9][A-Z]) [0-9][A-Z]{2})$`)
	rePhone    = regexp.MustCompile(`^0[1-9][0-9]{8,9}$`)
)

// fuzzNormaliser checks the properties every normaliser must have: it does
// not panic, errors are only ErrEmpty or ErrFormat (ErrEmpty exactly for
// blank input), and a result is a fixed point with the canonical shape.
func fuzzNormaliser(f *testing.F, fn func(string) (string, error), seeds []string, shape func(string) bool) {
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := fn(s)
		if blank := strings.TrimSpace(s) == ""; blank != (err == ErrEmpty) {
			t.Fatalf("(%q) error = %v; blank input = %v", s, err, blank)
		}
		if err != nil {
			if err != ErrEmpty && err != ErrFormat {
				t.Fatalf("(%q) unexpected error %v", s, err)
			}
			if got != "" {
				t.Fatalf("(%q) returned %q with error", s, got)
			}
			return
		}
		if !shape(got) {
			t.Fatalf("(%q) = %q, not the canonical shape", s, got)
		}
		again, err := fn(got)
		if err != nil || again != got {
			t.Fatalf("not idempotent: (%q) = %q; again = %q, %v", s, got, again, err)
		}
	})
}

func FuzzNormaliseDVLALicenceNumber(f *testing.F) {
	fuzzNormaliser(f, NormaliseDVLALicenceNumber,
		[]string{"MORGA753116SM9IJ", "morga 753116 sm9ij", "LI999753116SM9IJ", "MO9GA753116SM9IJ", "MORGA763116SM9IJ", "ıORGA753116SM9IJ", ""},
		reLicence.MatchString)
}

func FuzzNormaliseDVLACheckCode(f *testing.F) {
	fuzzNormaliser(f, NormaliseDVLACheckCode,
		[]string{"Ab3dEf7h", " Ab3d Ef7h ", "Ab3d-Ef7h", "Ab3dEf7é", ""},
		reCheck.MatchString)
}

func FuzzNormaliseDBSCertificateNumber(f *testing.F) {
	fuzzNormaliser(f, NormaliseDBSCertificateNumber,
		[]string{"001234567890", "0012-3456-7890", "0012 3456 7890", "00123456789O", ""},
		reDBS.MatchString)
}

func FuzzNormaliseTaxCheckCode(f *testing.F) {
	fuzzNormaliser(f, NormaliseTaxCheckCode,
		[]string{"ABC123DEF", "abc-123-def", "ABC123DEſ", ""},
		reTaxCheck.MatchString)
}

func FuzzNormaliseShareCode(f *testing.F) {
	fuzzNormaliser(f, NormaliseShareCode,
		[]string{"W12345678", "w2b 4c6 7d8", "A12345678", ""},
		reShare.MatchString)
}

func FuzzNormaliseUKPostcode(f *testing.F) {
	fuzzNormaliser(f, NormaliseUKPostcode,
		[]string{"al86xf", "EC1A 1BB", "W1A0AX", "gir0aa", "GIR 0AB", "AL8-6XF", ""},
		rePostcode.MatchString)
}

func FuzzNormaliseUKPhone(f *testing.F) {
	fuzzNormaliser(f, NormaliseUKPhone,
		[]string{"07700900123", "+44 (0)7700 900123", "00447700900123", "(01707) 123456", "+33 1 23 45 67 89", "+44", ""},
		rePhone.MatchString)
}

func FuzzNormaliseEmail(f *testing.F) {
	fuzzNormaliser(f, NormaliseEmail,
		[]string{"jo@example.com", "  Jo.Bloggs@Example.CO.UK ", "jo@BÜCHER.de", "jo@İ.com", "jo@@x.com", "jo@x..com", "jo@x.com\xff", ""},
		func(s string) bool {
			local, domain, ok := strings.Cut(s, "@")
			return ok && local != "" && len(s) <= 254 && utf8.ValidString(s) &&
				!strings.Contains(domain, "@") && strings.Contains(domain, ".") &&
				domain == strings.ToLower(domain) &&
				!strings.ContainsFunc(s, unicode.IsSpace)
		})
}

func FuzzNormalisePersonName(f *testing.F) {
	fuzzNormaliser(f, NormalisePersonName,
		[]string{"Zoë O’Brien-Łukasz", "  Mary   Ann  ", "李小龍", "R2D2", "<b>", "Jo\xffBloggs", "\u0301", ""},
		func(s string) bool {
			n := utf8.RuneCountInString(s)
			return n >= 1 && n <= 100 && utf8.ValidString(s) &&
				s == strings.TrimSpace(s) && !strings.Contains(s, "  ") &&
				strings.ContainsFunc(s, unicode.IsLetter) &&
				!strings.ContainsFunc(s, func(r rune) bool { return unicode.IsSpace(r) && r != ' ' })
		})
}

// The sentinels must stay distinct, with the texts given in the spec.
func TestNormaliseSentinels(t *testing.T) {
	if errors.Is(ErrEmpty, ErrFormat) || ErrEmpty.Error() != "empty" || ErrFormat.Error() != "wrong format" {
		t.Fatal("sentinel errors changed")
	}
}
