package service

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/herts-msp/taxi-renewals/internal/domain"
)

func TestCheckPasswordRules(t *testing.T) {
	t.Parallel()
	const email, name = "priya.patel@dacorum.gov.uk", "Priya Patel"
	// A 128-rune passphrase of varied multibyte letters (more bytes than runes).
	long := []rune(strings.Repeat("Łódź żółw gęś jaźń ", 10))
	tests := []struct {
		name, password string
		want           string // part of the message; "" for accepted
	}{
		{"empty", "", "Enter a password"},
		{"11 characters", "violet-kett", "12 characters or more"},
		{"12 characters", "violet-kettl", ""},
		{"12 multibyte characters", "Łódźżółwgęśj", ""},
		{"11 multibyte characters are too short though 22 bytes", "Łódźżółwgęś", "12 characters or more"},
		{"128 characters", string(long[:128]), ""},
		{"129 characters", string(long[:129]), "128 characters or fewer"},
		{"spaces and symbols allowed, no composition rules", "all lower case words here", ""},
		{"common password", "qwertyuiop123", "too common"},
		{"common password, any case", "PasswordPassword", "too common"},
		{"common word with digits and symbols after", "Sunshine2026!!", "too common"},
		{"common phrase with spaces", "correct horse battery staple", "too common"},
		{"service's own words", "Hertfordshire2026", "too common"},
		{"one repeated character", "aaaaaaaaaaaaaa", "pattern"},
		{"two characters repeated", "abababababab", "pattern"},
		{"a run of letters", "defghijklmnop", "pattern"},
		{"a descending run", "zyxwvutsrqpo", "pattern"},
		{"own email", "priya.patel@dacorum.gov.uk!", "email address or your name"},
		{"email's local part", "my-priya.patel-secret", "email address or your name"},
		{"own name without spaces", "xx PriyaPatel rules", "email address or your name"},
		{"own name with spaces", "i am priya patel ok", "email address or your name"},
		{"control character", "violet-kettle\tharbour", "control characters"},
		{"a good passphrase", "violet kettle harbour 9", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckPasswordRules(tc.password, email, name)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted, want a message containing %q", tc.want)
			}
			de := err.(*domain.Error)
			if de.Code != domain.CodeInvalid || !strings.Contains(de.Fields["password"], tc.want) {
				t.Fatalf("got %s %q, want invalid with %q on the password field", de.Code, de.Fields["password"], tc.want)
			}
		})
	}
}

func TestCommonPasswordListIsLoaded(t *testing.T) {
	t.Parallel()
	if n := len(commonPasswords); n < 1000 {
		t.Fatalf("%d common passwords embedded, want at least 1000", n)
	}
	for _, p := range []string{"123456", "password", "qwerty", "iloveyou", "trustno1", "letmein"} {
		if !commonPasswords[p] {
			t.Errorf("%q is not in the list", p)
		}
	}
}

func TestGeneratePassword(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for i := 0; i < 200; i++ {
		p := GeneratePassword()
		if err := CheckPasswordRules(p, "someone@example.gov.uk", "Some One"); err != nil {
			t.Fatalf("generated password %q breaks the rules: %v", p, err)
		}
		if !regexp.MustCompile(`^[a-z2-9]{4}(-[a-z2-9]{4}){4}$`).MatchString(p) || strings.ContainsAny(p, "01ilo") {
			t.Fatalf("generated password %q has the wrong shape", p)
		}
		if seen[p] {
			t.Fatalf("generated %q twice", p)
		}
		seen[p] = true
	}
}

func TestHashAndVerifyPassword(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const pw = "violet kettle harbour 9"
	h1, err := HashPassword(ctx, pw)
	if err != nil {
		t.Fatal(err)
	}
	h2, _ := HashPassword(ctx, pw)
	phc := regexp.MustCompile(`^\$argon2id\$v=19\$m=65536,t=2,p=2\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)
	if !phc.MatchString(h1) {
		t.Fatalf("hash %q is not an argon2id PHC string with today's parameters", h1)
	}
	if h1 == h2 {
		t.Fatal("two hashes of one password are equal: the salt is not random")
	}
	for _, tc := range []struct {
		name, hash, password string
		want                 bool
	}{
		{"right password", h1, pw, true},
		{"right password, other salt", h2, pw, true},
		{"wrong password", h1, "violet kettle harbour 8", false},
		{"different case", h1, strings.ToUpper(pw), false},
		{"empty", h1, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ok, rehash, err := VerifyPassword(ctx, tc.hash, tc.password)
			if err != nil || ok != tc.want || rehash {
				t.Fatalf("VerifyPassword = %t, rehash %t, %v; want %t", ok, rehash, err, tc.want)
			}
		})
	}
	t.Run("composed and decomposed accents are the same password", func(t *testing.T) {
		h, _ := HashPassword(ctx, "caf\u00e9 au lait s'il vous plait")
		if ok, _, _ := VerifyPassword(ctx, h, "cafe\u0301 au lait s'il vous plait"); !ok {
			t.Fatal("NFKC normalisation missing: a decomposed é did not match")
		}
	})
	t.Run("weaker stored parameters ask for a rehash", func(t *testing.T) {
		weak := argon2Params{Memory: 8 * 1024, Time: 1, Threads: 1, KeyLen: 32}
		salt := []byte("0123456789abcdef")
		key, _ := argonKey(ctx, normalisePassword(pw), salt, weak)
		ok, rehash, err := VerifyPassword(ctx, encodePHC(weak, salt, key), pw)
		if !ok || !rehash || err != nil {
			t.Fatalf("got ok=%t rehash=%t err=%v, want a match that needs rehashing", ok, rehash, err)
		}
	})
	t.Run("the dummy hash parses and matches nothing", func(t *testing.T) {
		if ok, _, err := VerifyPassword(ctx, dummyHash, pw); ok || err != nil {
			t.Fatalf("dummy hash: ok=%t err=%v", ok, err)
		}
	})
}

func TestParsePHC(t *testing.T) {
	t.Parallel()
	const salt, key = "MDEyMzQ1Njc4OWFiY2RlZg", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	good := "$argon2id$v=19$m=65536,t=2,p=2$" + salt + "$" + key
	p, s, k, err := parsePHC(good)
	if err != nil || p.Memory != 65536 || p.Time != 2 || p.Threads != 2 || p.KeyLen != 32 || string(s) != "0123456789abcdef" || len(k) != 32 {
		t.Fatalf("parsePHC(good) = %+v, %q, %d bytes, %v", p, s, len(k), err)
	}
	bad := map[string]string{
		"empty":              "",
		"argon2i":            "$argon2i$v=19$m=65536,t=2,p=2$" + salt + "$" + key,
		"bcrypt":             "$2a$10$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234",
		"old version":        "$argon2id$v=16$m=65536,t=2,p=2$" + salt + "$" + key,
		"missing parameter":  "$argon2id$v=19$m=65536,t=2$" + salt + "$" + key,
		"repeated parameter": "$argon2id$v=19$m=65536,m=65536,t=2,p=2$" + salt + "$" + key,
		"unknown parameter":  "$argon2id$v=19$m=65536,t=2,p=2,x=1$" + salt + "$" + key,
		"memory too large":   "$argon2id$v=19$m=4194304,t=2,p=2$" + salt + "$" + key,
		"too many passes":    "$argon2id$v=19$m=65536,t=99,p=2$" + salt + "$" + key,
		"zero lanes":         "$argon2id$v=19$m=65536,t=2,p=0$" + salt + "$" + key,
		"too many lanes":     "$argon2id$v=19$m=65536,t=2,p=64$" + salt + "$" + key,
		"negative memory":    "$argon2id$v=19$m=-1,t=2,p=2$" + salt + "$" + key,
		"salt not base64":    "$argon2id$v=19$m=65536,t=2,p=2$!!!!$" + key,
		"salt too short":     "$argon2id$v=19$m=65536,t=2,p=2$MDEy$" + key,
		"padded base64":      "$argon2id$v=19$m=65536,t=2,p=2$" + salt + "==$" + key,
		"key too short":      "$argon2id$v=19$m=65536,t=2,p=2$" + salt + "$AAAA",
		"extra segment":      good + "$x",
		"no leading dollar":  good[1:],
	}
	for name, phc := range bad {
		t.Run(name, func(t *testing.T) {
			if _, _, _, err := parsePHC(phc); err == nil {
				t.Fatalf("parsePHC(%q) accepted it", phc)
			}
			if ok, _, err := VerifyPassword(context.Background(), phc, "anything at all"); ok || err == nil {
				t.Fatalf("VerifyPassword on a bad hash: ok=%t err=%v", ok, err)
			}
		})
	}
}
