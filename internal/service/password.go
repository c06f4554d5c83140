package service

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/subtle"
	_ "embed"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
	"golang.org/x/text/unicode/norm"

	"github.com/herts-msp/taxi-renewals/internal/domain"
)

// Password length limits, counted in characters (runes) as the user typed them.
const (
	PasswordMinLength = 12
	PasswordMaxLength = 128
)

// argon2Params are the cost of a password hash.
type argon2Params struct {
	Memory  uint32 // KiB
	Time    uint32
	Threads uint8
	KeyLen  uint32
}

// passwordParams: 64 MiB, 2 passes, 2 lanes takes about 55 ms on the project machine
// (2 cores), within the 50-100 ms aimed for. Stored hashes carry their own parameters, so
// raising these re-hashes each account at its next sign-in.
var passwordParams = argon2Params{Memory: 64 * 1024, Time: 2, Threads: 2, KeyLen: 32}

// UseTestPasswordCost makes new password hashes cheap (64 KiB, one pass) for the rest of the
// process, and the unknown-account check as cheap. It is for test binaries only and panics in
// any other program. Today's cost takes about 0.5 s a hash under the race detector, where
// the suite hashes some hundreds of passwords. This package's own tests never call it: they
// check today's cost. Nothing guards the parameters, so call it from an init function of a
// test file, before any test runs.
func UseTestPasswordCost() {
	if !testing.Testing() {
		panic("service.UseTestPasswordCost outside a test binary")
	}
	passwordParams = argon2Params{Memory: 64, Time: 1, Threads: 2, KeyLen: 32}
	dummyHash = encodePHC(passwordParams, make([]byte, passwordSaltLen), make([]byte, passwordParams.KeyLen))
}

const passwordSaltLen = 16

// Bounds on parameters read from a stored hash, so a corrupt or planted hash cannot make a
// sign-in allocate gigabytes or spin for minutes.
const (
	maxArgonMemory  = 1024 * 1024 // 1 GiB in KiB
	maxArgonTime    = 16
	maxArgonThreads = 16
)

// hashSlots bounds how many hashes run at once in this process: each holds 64 MiB, so a
// burst of sign-ins must queue rather than exhaust memory. It guards a process-wide
// resource, which is why it is not a field of a Service.
var hashSlots = make(chan struct{}, max(1, runtime.GOMAXPROCS(0)))

func argonKey(ctx context.Context, password, salt []byte, p argon2Params) ([]byte, error) {
	select {
	case hashSlots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-hashSlots }()
	return argon2.IDKey(password, salt, p.Time, p.Memory, p.Threads, p.KeyLen), nil
}

// normalisePassword makes the same password typed on different devices (composed or
// decomposed accents, full-width forms) hash alike, as NIST SP 800-63B advises.
func normalisePassword(pw string) []byte { return []byte(norm.NFKC.String(pw)) }

// HashPassword hashes a password with argon2id into a PHC string:
// $argon2id$v=19$m=65536,t=2,p=2$<salt>$<hash> (unpadded standard base64).
func HashPassword(ctx context.Context, password string) (string, error) {
	salt := make([]byte, passwordSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	p := passwordParams
	key, err := argonKey(ctx, normalisePassword(password), salt, p)
	if err != nil {
		return "", err
	}
	return encodePHC(p, salt, key), nil
}

func encodePHC(p argon2Params, salt, key []byte) string {
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key))
}

var errBadHash = errors.New("password hash: not a valid argon2id PHC string")

// parsePHC reads an argon2id PHC string, refusing other algorithms, versions and
// parameters outside sane bounds.
func parsePHC(s string) (argon2Params, []byte, []byte, error) {
	var p argon2Params
	parts := strings.Split(s, "$")
	// "", "argon2id", "v=19", "m=..,t=..,p=..", salt, hash
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, errBadHash
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return p, nil, nil, fmt.Errorf("%w: unsupported version %q", errBadHash, parts[2])
	}
	seen := map[string]bool{}
	for _, kv := range strings.Split(parts[3], ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || seen[k] {
			return p, nil, nil, errBadHash
		}
		seen[k] = true
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil || n == 0 {
			return p, nil, nil, errBadHash
		}
		switch k {
		case "m":
			p.Memory = uint32(n)
		case "t":
			p.Time = uint32(n)
		case "p":
			if n > maxArgonThreads {
				return p, nil, nil, errBadHash
			}
			p.Threads = uint8(n)
		default:
			return p, nil, nil, errBadHash
		}
	}
	if !seen["m"] || !seen["t"] || !seen["p"] || p.Memory > maxArgonMemory || p.Time > maxArgonTime || p.Memory < 8*uint32(p.Threads) {
		return p, nil, nil, errBadHash
	}
	salt, err := base64.RawStdEncoding.Strict().DecodeString(parts[4])
	if err != nil || len(salt) < 8 || len(salt) > 64 {
		return p, nil, nil, errBadHash
	}
	key, err := base64.RawStdEncoding.Strict().DecodeString(parts[5])
	if err != nil || len(key) < 16 || len(key) > 128 {
		return p, nil, nil, errBadHash
	}
	p.KeyLen = uint32(len(key))
	return p, salt, key, nil
}

// VerifyPassword compares a password with a PHC hash in constant time. needsRehash reports a
// match whose hash used weaker parameters than today's.
func VerifyPassword(ctx context.Context, phc, password string) (ok, needsRehash bool, err error) {
	p, salt, want, err := parsePHC(phc)
	if err != nil {
		return false, false, err
	}
	got, err := argonKey(ctx, normalisePassword(password), salt, p)
	if err != nil {
		return false, false, err
	}
	if subtle.ConstantTimeCompare(got, want) != 1 {
		return false, false, nil
	}
	cur := passwordParams
	return true, p.Memory < cur.Memory || p.Time < cur.Time || p.KeyLen < cur.KeyLen, nil
}

// dummyHash is verified against when the account does not exist (or is disabled), so an
// unknown email takes as long to refuse as a wrong password and reveals nothing by timing.
var dummyHash = encodePHC(passwordParams, make([]byte, passwordSaltLen), make([]byte, passwordParams.KeyLen))

//go:embed common-passwords.txt
var commonPasswordsText string

// commonPasswords is the embedded list, lower-cased. Built once; read-only afterwards.
var commonPasswords = func() map[string]bool {
	m := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(commonPasswordsText))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		m[strings.ToLower(line)] = true
	}
	return m
}()

func passwordError(msg string) error {
	return &domain.Error{Code: domain.CodeInvalid, Reason: "password_rules", Message: msg, Fields: map[string]string{"password": msg}}
}

// CheckPasswordRules applies the password policy of NIST SP 800-63B: 12 to 128 characters,
// no composition rules, and not a common, patterned or personal password. email and name
// are the account's own, which the password must not contain.
func CheckPasswordRules(password, email, name string) error {
	if password == "" {
		return passwordError("Enter a password")
	}
	if !utf8.ValidString(password) {
		return passwordError("Your password contains characters that cannot be read. Type it again")
	}
	n := utf8.RuneCountInString(password)
	if n < PasswordMinLength {
		return passwordError(fmt.Sprintf("Your password must be %d characters or more", PasswordMinLength))
	}
	if n > PasswordMaxLength {
		return passwordError(fmt.Sprintf("Your password must be %d characters or fewer", PasswordMaxLength))
	}
	for _, r := range password {
		if unicode.IsControl(r) {
			return passwordError("Your password must not contain control characters such as tabs or line breaks")
		}
	}
	folded := strings.ToLower(norm.NFKC.String(password))
	squeezed := strings.Join(strings.Fields(folded), "")
	if isCommonPassword(folded) || isCommonPassword(squeezed) {
		return passwordError("This password is too common and easy to guess. Choose another, for example three or four random words")
	}
	if isPatterned(squeezed) {
		return passwordError("Your password must not be a repeated or sequential pattern such as aaaa or 1234")
	}
	if containsPersonal(squeezed, email, name) {
		return passwordError("Your password must not contain your email address or your name")
	}
	return nil
}

// isCommonPassword checks the word as typed and with trailing digits and symbols removed, so
// "Password2026!" counts as "password".
func isCommonPassword(s string) bool {
	if commonPasswords[s] {
		return true
	}
	base := strings.TrimRightFunc(s, func(r rune) bool { return !unicode.IsLetter(r) })
	base = strings.TrimLeftFunc(base, func(r rune) bool { return !unicode.IsLetter(r) })
	return base != s && commonPasswords[base]
}

// isPatterned reports a password of at most three distinct characters, or a run where each
// character is one more (or one less) than the one before.
func isPatterned(s string) bool {
	distinct := map[rune]bool{}
	rs := []rune(s)
	for _, r := range rs {
		distinct[r] = true
	}
	if len(distinct) <= 3 {
		return true
	}
	up, down := true, true
	for i := 1; i < len(rs); i++ {
		up = up && rs[i] == rs[i-1]+1
		down = down && rs[i] == rs[i-1]-1
	}
	return up || down
}

// containsPersonal reports a password containing the account's email, its local part, or
// the full name (spaces removed): the first things an attacker tries.
func containsPersonal(pw, email, name string) bool {
	email = strings.ToLower(strings.TrimSpace(email))
	if email != "" {
		if strings.Contains(pw, email) {
			return true
		}
		if local, _, _ := strings.Cut(email, "@"); utf8.RuneCountInString(local) >= 3 && strings.Contains(pw, local) {
			return true
		}
	}
	squeezedName := strings.Join(strings.Fields(strings.ToLower(norm.NFKC.String(name))), "")
	return utf8.RuneCountInString(squeezedName) >= 3 && strings.Contains(pw, squeezedName)
}

// initialPasswordAlphabet has no look-alike characters (0/o, 1/l/i), so a password read
// aloud or copied from a screen is typed right first time.
const initialPasswordAlphabet = "abcdefghjkmnpqrstuvwxyz23456789"

// GeneratePassword makes an initial password: five groups of four from a 31-character
// alphabet (about 99 bits), such as "k7qm-x3vt-9fpw-h2cd-re4n".
func GeneratePassword() string {
	var b strings.Builder
	buf := make([]byte, 1)
	for i := 0; i < 20; i++ {
		if i > 0 && i%4 == 0 {
			b.WriteByte('-')
		}
		for {
			_, _ = rand.Read(buf)
			// Rejection sampling: 248 is the largest multiple of 31 below 256, so no letter is
			// more likely than another.
			if buf[0] < 248 {
				b.WriteByte(initialPasswordAlphabet[int(buf[0])%len(initialPasswordAlphabet)])
				break
			}
		}
	}
	return b.String()
}
