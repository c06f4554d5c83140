package domain

import "strings"

// NormaliseSignInCode accepts a 6-digit one-time code as people type or paste it: with
// spaces or a hyphen in the middle. Anything else is ErrFormat (or ErrEmpty).
func NormaliseSignInCode(s string) (string, error) {
	s = strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '\t' || r == '\u00a0' {
			return -1
		}
		return r
	}, s)
	if s == "" {
		return "", ErrEmpty
	}
	if len(s) != 6 {
		return "", ErrFormat
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return "", ErrFormat
		}
	}
	return s, nil
}
