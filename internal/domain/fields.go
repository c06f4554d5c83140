package domain

import (
	"errors"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Errors returned by the Normalise functions. They are returned as-is (not
// wrapped) so callers can compare with == as well as errors.Is.
var (
	// ErrEmpty means the user typed nothing (or only white space).
	ErrEmpty = errors.New("empty")
	// ErrFormat means the input is not in the expected format.
	ErrFormat = errors.New("wrong format")
)

// isDashRune reports whether r is a hyphen or one of the dash characters that
// phones and word processors substitute for it when users paste values.
func isDashRune(r rune) bool {
	switch r {
	case '-', '\u2010', '\u2011', '\u2012', '\u2013', '\u2014', '\u2212':
		return true
	}
	return false
}

// stripSeparators removes every white-space rune (including no-break spaces, which
// often arrive in copy-pasted codes) and, if dashes is set, every dash.
func stripSeparators(s string, dashes bool) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || (dashes && isDashRune(r)) {
			return -1
		}
		return r
	}, s)
}

// upperAlnum upper-cases s if it is made only of ASCII letters and digits.
// The ASCII check comes first because strings.ToUpper would turn some
// non-ASCII letters into ASCII ones (e.g. "ı" -> "I", "ſ" -> "S").
func upperAlnum(s string) (string, bool) {
	b := []byte(s)
	for i, c := range b {
		switch {
		case c >= '0' && c <= '9', c >= 'A' && c <= 'Z':
		case c >= 'a' && c <= 'z':
			b[i] = c - 'a' + 'A'
		default:
			return "", false
		}
	}
	return string(b), true
}

func isASCIIUpper(c byte) bool { return c >= 'A' && c <= 'Z' }
func isASCIIDigit(c byte) bool { return c >= '0' && c <= '9' }

// normaliseCode is the shared path for fixed-length alphanumeric codes:
// trim, strip separators, upper-case, check length.
func normaliseCode(s string, dashes bool, n int) (string, error) {
	if strings.TrimSpace(s) == "" {
		return "", ErrEmpty
	}
	// Check the length of the raw compacted string before converting so a
	// huge paste is rejected cheaply.
	c := stripSeparators(s, dashes)
	if len(c) != n {
		return "", ErrFormat
	}
	u, ok := upperAlnum(c)
	if !ok {
		return "", ErrFormat
	}
	return u, nil
}

// NormaliseDVLALicenceNumber normalises a GB (DVLA) driving licence number
// to its 16-character upper-case form, e.g. "morga 753116 sm9ij" ->
// "MORGA753116SM9IJ". The layout is:
//
//	1-5    surname: letters, right-padded with 9s ("LI999")
//	6      decade of birth
//	7-8    month of birth, 01-12 (men) or 51-62 (women)
//	9-10   day of birth, 01-31
//	11     year of birth within the decade
//	12-13  initials: a letter then a letter or 9, or "99"
//	14     arbitrary character, usually 9
//	15-16  two check letters
//
// Position 14 accepts any digit or a letter other than I, O, Q, Y and Z,
// because the DVLA's own pattern allows letters there. The two-digit issue
// number printed after the licence number on the card is not accepted.
func NormaliseDVLALicenceNumber(s string) (string, error) {
	u, err := normaliseCode(s, true, 16)
	if err != nil {
		return "", err
	}
	// Surname: at least one letter, then only 9s once padding starts.
	padding := false
	for i := 0; i < 5; i++ {
		switch c := u[i]; {
		case c == '9' && i > 0:
			padding = true
		case isASCIIUpper(c) && !padding:
		default:
			return "", ErrFormat
		}
	}
	for i := 5; i < 11; i++ {
		if !isASCIIDigit(u[i]) {
			return "", ErrFormat
		}
	}
	month := int(u[6]-'0')*10 + int(u[7]-'0')
	if month > 50 {
		month -= 50 // women's licences add 5 to the tens digit
	}
	if month < 1 || month > 12 {
		return "", ErrFormat
	}
	if day := int(u[8]-'0')*10 + int(u[9]-'0'); day < 1 || day > 31 {
		return "", ErrFormat
	}
	// Initials: first initial is a letter, a missing middle initial is 9;
	// "99" is also allowed by the DVLA pattern.
	if !(u[11] == '9' && u[12] == '9') && !(isASCIIUpper(u[11]) && (isASCIIUpper(u[12]) || u[12] == '9')) {
		return "", ErrFormat
	}
	if c := u[13]; !isASCIIDigit(c) && !(isASCIIUpper(c) && !strings.ContainsRune("IOQYZ", rune(c))) {
		return "", ErrFormat
	}
	if !isASCIIUpper(u[14]) || !isASCIIUpper(u[15]) {
		return "", ErrFormat
	}
	return u, nil
}

// NormaliseDVLACheckCode normalises a DVLA "share your driving licence"
// check code: 8 ASCII letters or digits. Check codes are case-sensitive, so
// only white space is removed and the case is kept.
func NormaliseDVLACheckCode(s string) (string, error) {
	if strings.TrimSpace(s) == "" {
		return "", ErrEmpty
	}
	c := stripSeparators(s, false)
	if len(c) != 8 {
		return "", ErrFormat
	}
	for i := 0; i < len(c); i++ {
		if b := c[i]; !isASCIIDigit(b) && !isASCIIUpper(b) && !(b >= 'a' && b <= 'z') {
			return "", ErrFormat
		}
	}
	return c, nil
}

// NormaliseDBSCertificateNumber normalises a DBS certificate number:
// exactly 12 digits once spaces and hyphens are removed.
func NormaliseDBSCertificateNumber(s string) (string, error) {
	if strings.TrimSpace(s) == "" {
		return "", ErrEmpty
	}
	c := stripSeparators(s, true)
	if len(c) != 12 || !allASCIIDigits(c) {
		return "", ErrFormat
	}
	return c, nil
}

// NormaliseTaxCheckCode normalises an HMRC tax check code for taxi
// licensing: 9 letters or digits, upper-cased, spaces and hyphens removed.
func NormaliseTaxCheckCode(s string) (string, error) {
	return normaliseCode(s, true, 9)
}

// NormaliseShareCode normalises a Home Office right-to-work share code:
// 9 letters or digits starting with "W", upper-cased, spaces removed.
func NormaliseShareCode(s string) (string, error) {
	u, err := normaliseCode(s, false, 9)
	if err != nil {
		return "", err
	}
	if u[0] != 'W' {
		return "", ErrFormat
	}
	return u, nil
}

// NormaliseUKPostcode normalises a UK postcode to upper case with a single
// space before the inward code, e.g. "al86xf" -> "AL8 6XF". It checks the
// shape only (outward A9, A99, AA9, AA99, A9A or AA9A; inward 9AA), plus the
// special "GIR 0AA"; it does not apply per-position letter restrictions,
// so an unusual but real postcode is never refused.
func NormaliseUKPostcode(s string) (string, error) {
	if strings.TrimSpace(s) == "" {
		return "", ErrEmpty
	}
	c := stripSeparators(s, false)
	if len(c) < 5 || len(c) > 7 {
		return "", ErrFormat
	}
	u, ok := upperAlnum(c)
	if !ok {
		return "", ErrFormat
	}
	out, in := u[:len(u)-3], u[len(u)-3:]
	if !isASCIIDigit(in[0]) || !isASCIIUpper(in[1]) || !isASCIIUpper(in[2]) {
		return "", ErrFormat
	}
	if out != "GIR" || in != "0AA" {
		if !validOutward(out) {
			return "", ErrFormat
		}
	}
	return out + " " + in, nil
}

// validOutward checks the outward code against the six standard shapes,
// written as a pattern of A (letter) and 9 (digit).
func validOutward(out string) bool {
	shape := make([]byte, len(out))
	for i := 0; i < len(out); i++ {
		if isASCIIDigit(out[i]) {
			shape[i] = '9'
		} else {
			shape[i] = 'A'
		}
	}
	switch string(shape) {
	case "A9", "A99", "AA9", "AA99", "A9A", "AA9A":
		return true
	}
	return false
}

// NormaliseUKPhone normalises a UK phone number to digits only, e.g.
// "+44 (0)7700 900-123" -> "07700900123". Spaces, hyphens and brackets are
// ignored; a "+44" or "0044" prefix becomes "0". The result must be 10 or
// 11 digits, start with 0 and not with 00 (an international number).
func NormaliseUKPhone(s string) (string, error) {
	if strings.TrimSpace(s) == "" {
		return "", ErrEmpty
	}
	c := strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || isDashRune(r) || r == '(' || r == ')' {
			return -1
		}
		return r
	}, s)
	if len(c) > 20 {
		return "", ErrFormat // far too long for any phone number format
	}
	intl := false
	if rest, ok := strings.CutPrefix(c, "+44"); ok {
		c, intl = rest, true
	} else if rest, ok := strings.CutPrefix(c, "0044"); ok {
		c, intl = rest, true
	}
	if intl {
		// People often write "+44 (0)20 ..."; UK national numbers never
		// start with 0 after the country code, so drop that trunk 0.
		c = "0" + strings.TrimPrefix(c, "0")
	}
	if !allASCIIDigits(c) || (len(c) != 10 && len(c) != 11) || c[0] != '0' || c[1] == '0' {
		return "", ErrFormat
	}
	return c, nil
}

// NormaliseEmail checks an email address loosely (real validation is
// sending a message to it) and lower-cases the domain, which is
// case-insensitive; the local part is kept as typed because in principle it
// is case-sensitive. Rules: exactly one "@", a non-empty local part, no
// white space or control characters, a domain of letters, digits and
// hyphens in at least two non-empty dot-separated labels, and at most 254
// bytes (the SMTP limit) after normalising.
func NormaliseEmail(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", ErrEmpty
	}
	if len(s) > 4*254 || !utf8.ValidString(s) {
		return "", ErrFormat // cheap early reject; exact limit checked below
	}
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" || strings.Contains(domain, "@") {
		return "", ErrFormat
	}
	for _, r := range local {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			return "", ErrFormat
		}
	}
	domain = strings.ToLower(domain)
	labels := strings.Split(domain, ".")
	if len(labels) < 2 {
		return "", ErrFormat
	}
	for _, l := range labels {
		if l == "" {
			return "", ErrFormat // catches "a@.com", "a@b..com", "a@b.com."
		}
		for _, r := range l {
			if r != '-' && !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.IsMark(r) {
				return "", ErrFormat
			}
		}
	}
	out := local + "@" + domain
	// Measured after lower-casing: a few runes change UTF-8 length.
	if len(out) > 254 {
		return "", ErrFormat
	}
	return out, nil
}

// NormalisePersonName checks a person's name and tidies its spacing.
// Allowed are Unicode letters and combining marks (so "Zoë", "Łukasz" and
// "李小龍" all work, in any script), spaces, hyphens, apostrophes (' and ’)
// and full stops. White space is trimmed and inner runs of it collapse to
// one space. The result must contain a letter and be 1 to 100 runes long.
func NormalisePersonName(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", ErrEmpty
	}
	if len(s) > 4*1000 || !utf8.ValidString(s) {
		return "", ErrFormat // cheap early reject of huge or broken input
	}
	var b strings.Builder
	b.Grow(len(s))
	hasLetter, inSpace, n := false, false, 0
	for _, r := range s {
		switch {
		case unicode.IsSpace(r):
			inSpace = true
			continue
		case unicode.IsLetter(r):
			hasLetter = true
		case unicode.IsMark(r), r == '-', r == '\'', r == '’', r == '.':
		default:
			return "", ErrFormat
		}
		if inSpace {
			// s is trimmed, so a pending space always has text both sides.
			b.WriteByte(' ')
			n++
			inSpace = false
		}
		b.WriteRune(r)
		n++
	}
	if !hasLetter || n > 100 {
		return "", ErrFormat
	}
	return b.String(), nil
}
