package service

import (
	"bytes"
	"context"
	"encoding/base32"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/herts-msp/taxi-renewals/internal/domain"
	"github.com/herts-msp/taxi-renewals/internal/store"
	"github.com/herts-msp/taxi-renewals/internal/testdb"
)

// rfcSecret is the SHA-1 key of RFC 6238's test vectors, "12345678901234567890", in base32.
var rfcSecret = base32.StdEncoding.EncodeToString([]byte("12345678901234567890"))

func TestTOTPCodeMatchesRFC6238(t *testing.T) {
	t.Parallel()
	// RFC 6238 appendix B (SHA-1), last six of the eight digits.
	for _, tc := range []struct {
		unix int64
		want string
	}{
		{59, "287082"}, {1111111109, "081804"}, {1111111111, "050471"},
		{1234567890, "005924"}, {2000000000, "279037"}, {20000000000, "353130"},
	} {
		got, err := TOTPCode(rfcSecret, time.Unix(tc.unix, 0))
		if err != nil || got != tc.want {
			t.Errorf("TOTPCode at %d = %q, %v; want %q", tc.unix, got, err, tc.want)
		}
	}
}

func TestMatchTOTPAllowsOneStepOfDrift(t *testing.T) {
	t.Parallel()
	key, _ := decodeTOTPSecret(rfcSecret)
	now := time.Date(2026, 11, 26, 10, 0, 10, 0, time.UTC)
	cur := totpStep(now)
	for _, tc := range []struct {
		offset int64
		ok     bool
	}{{-2, false}, {-1, true}, {0, true}, {1, true}, {2, false}} {
		step, ok := matchTOTP(key, hotp(key, cur+tc.offset), now)
		if ok != tc.ok || (ok && step != cur+tc.offset) {
			t.Errorf("code of step %+d: matched=%t step=%d, want %t", tc.offset, ok, step-cur, tc.ok)
		}
	}
}

func TestTOTPSecretFormats(t *testing.T) {
	t.Parallel()
	s := NewTOTPSecret()
	if len(s) != 32 || strings.ContainsAny(s, "=018") {
		t.Fatalf("secret %q: want 32 base32 characters without padding", s)
	}
	grouped := GroupSecret(s)
	if len(grouped) != 39 || strings.Count(grouped, " ") != 7 {
		t.Fatalf("grouped %q: want 8 groups of 4", grouped)
	}
	// People type the grouped form, in any case.
	a, _ := TOTPCode(s, time.Unix(1e9, 0))
	b, err := TOTPCode(strings.ToLower(grouped), time.Unix(1e9, 0))
	if err != nil || a != b {
		t.Fatalf("grouped lower-case secret gives %q (%v), want %q", b, err, a)
	}
	uri := TOTPURI(s, "officer@dacorum.example.gov.uk")
	want := "otpauth://totp/Herts%20taxi%20renewals:officer@dacorum.example.gov.uk?secret=" + s +
		"&issuer=Herts%20taxi%20renewals&algorithm=SHA1&digits=6&period=30"
	if uri != want {
		t.Fatalf("URI\n got %s\nwant %s", uri, want)
	}
	for _, bad := range []string{"", "not base32!", "ABCD"} {
		if _, err := decodeTOTPSecret(bad); err == nil {
			t.Errorf("decodeTOTPSecret(%q) accepted", bad)
		}
	}
}

func TestNormaliseCodes(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"123456": "123456", " 123 456 ": "123456", "12345": "", "1234567": "", "12a456": "", "１２３４５６": ""} {
		got, ok := normaliseTOTPCode(in)
		if (want == "") == ok || got != want {
			t.Errorf("normaliseTOTPCode(%q) = %q, %t; want %q", in, got, ok, want)
		}
	}
	for in, want := range map[string]string{"7KQ2M-X9TRP": "7KQ2MX9TRP", "7kq2m x9trp": "7KQ2MX9TRP", "7KQ2M-X9TR": "", "7KQ2M-X9TRP2": "", "0KQ2M-X9TRP": "", "<script>": ""} {
		got, ok := normaliseRecoveryCode(in)
		if (want == "") == ok || got != want {
			t.Errorf("normaliseRecoveryCode(%q) = %q, %t; want %q", in, got, ok, want)
		}
	}
	for i := 0; i < 50; i++ {
		c := newRecoveryCode()
		if got, ok := normaliseRecoveryCode(c[:5] + "-" + c[5:]); !ok || got != c {
			t.Fatalf("a generated code %q does not read back: %q %t", c, got, ok)
		}
	}
}

func TestSealedTOTPSecret(t *testing.T) {
	t.Parallel()
	svc := New(nil, Options{SecretKey: []byte("the-first-server-key-of-32-characters")})
	other := New(nil, Options{SecretKey: []byte("another-server-key-of-32-characters!!")})
	secret := NewTOTPSecret()
	sealed, err := svc.sealTOTPSecret(7, secret)
	if err != nil || !strings.HasPrefix(sealed, "v1.") || strings.Contains(sealed, secret) {
		t.Fatalf("sealed %q, %v", sealed, err)
	}
	if got, err := svc.openTOTPSecret(7, sealed); err != nil || got != secret {
		t.Fatalf("open = %q, %v", got, err)
	}
	again, _ := svc.sealTOTPSecret(7, secret)
	if again == sealed {
		t.Fatal("sealing twice gave the same text: the nonce is not random")
	}
	tampered := sealed[:len(sealed)-2] + map[bool]string{true: "AA", false: "BB"}[!strings.HasSuffix(sealed, "AA")]
	for name, open := range map[string]func() (string, error){
		"another account":    func() (string, error) { return svc.openTOTPSecret(8, sealed) },
		"another server key": func() (string, error) { return other.openTOTPSecret(7, sealed) },
		"tampered":           func() (string, error) { return svc.openTOTPSecret(7, tampered) },
		"unknown format":     func() (string, error) { return svc.openTOTPSecret(7, "v2."+sealed[3:]) },
	} {
		if got, err := open(); err == nil {
			t.Errorf("%s: opened as %q", name, got)
		}
	}
}

func TestStaffSignInFailuresAreLoggedWithoutPasswords(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := store.Open(ctx, testdb.URL(t, "x.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	svc := New(st, Options{SecretKey: []byte("a-test-server-key-of-32-characters!!"), Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if _, _, err := svc.CreateStaff(ctx, SystemActor("test"), NewStaff{Email: "sam@herts.gov.uk", Name: "Sam Whitfield",
		Role: domain.RoleAnalyst, Password: "the right password here"}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ email, password string }{
		{"sam@herts.gov.uk", "first wrong guess"},
		{"someone.else@herts.gov.uk", "second wrong guess"},
	} {
		if _, err := svc.StaffSignIn(ctx, StaffSignInRequest{Email: tc.email, Password: tc.password, IP: "192.0.2.7"}); domain.ErrorReason(err) != "bad_credentials" {
			t.Fatalf("%s: %v", tc.email, err)
		}
	}
	got := logs.String()
	for _, want := range []string{`msg="staff sign-in failed" reason=wrong_password`, "reason=unknown_account", "ip=192.0.2.7"} {
		if !strings.Contains(got, want) {
			t.Errorf("log lacks %q:\n%s", want, got)
		}
	}
	for _, secret := range []string{"first wrong guess", "second wrong guess", "the right password here"} {
		if strings.Contains(got, secret) {
			t.Fatalf("a password reached the log:\n%s", got)
		}
	}
}
