package domain

import (
	"errors"
	"testing"
)

func TestNormaliseSignInCode(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		err      error
	}{
		{"123456", "123456", nil},
		{" 123 456 ", "123456", nil},
		{"123-456", "123456", nil},
		{"000000", "000000", nil},
		{"", "", ErrEmpty},
		{"   ", "", ErrEmpty},
		{"12345", "", ErrFormat},
		{"1234567", "", ErrFormat},
		{"12a456", "", ErrFormat},
		{"١٢٣٤٥٦", "", ErrFormat}, // Arabic-Indic digits are not accepted as ASCII digits
		{"+12345", "", ErrFormat},
	} {
		got, err := NormaliseSignInCode(tc.in)
		if got != tc.want || !errors.Is(err, tc.err) {
			t.Errorf("NormaliseSignInCode(%q) = %q, %v; want %q, %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func FuzzNormaliseSignInCode(f *testing.F) {
	for _, s := range []string{"123456", "123 456", "", "abc", "12-34-56"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := NormaliseSignInCode(s)
		if err != nil {
			return
		}
		if len(got) != 6 {
			t.Fatalf("%q normalised to %q", s, got)
		}
		if again, err := NormaliseSignInCode(got); err != nil || again != got {
			t.Fatalf("not idempotent: %q -> %q -> %q, %v", s, got, again, err)
		}
	})
}
