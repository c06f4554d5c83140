package service

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/herts-msp/taxi-renewals/internal/domain"
)

// SetCouncilContact sets where a council's coverage reports are emailed. Administrators only.
func (s *Service) SetCouncilContact(ctx context.Context, a domain.Actor, slug, email string) (domain.Council, error) {
	if err := a.CanAdminister(); err != nil {
		return domain.Council{}, err
	}
	normalised, err := domain.NormaliseEmail(email)
	if err != nil {
		return domain.Council{}, &domain.Error{Code: domain.CodeInvalid, Reason: "email", Message: "Enter the licensing team's email address, like licensing@council.gov.uk",
			Fields: map[string]string{"email": "Enter the licensing team's email address, like licensing@council.gov.uk"}}
	}
	return s.store.SetCouncilContact(ctx, slug, normalised, s.entry(a, "council.contact_set", 0, "", map[string]any{"email": normalised}))
}

// Council finds a council by slug.
func (s *Service) Council(ctx context.Context, slug string) (domain.Council, error) {
	return s.councilBySlug(ctx, slug)
}

// CouncilByID finds a council by id.
func (s *Service) CouncilByID(ctx context.Context, id int64) (domain.Council, error) {
	return s.councilByID(ctx, id)
}

// Limits on council settings.
const (
	councilTextMax     = 200
	councilURLMax      = 300
	decisionDaysMax    = 365
	medicalIntervalMax = 20
)

// CheckCouncilSettings validates and tidies an administrator's council settings: every contact
// field is optional, but what is given must be usable (a UK phone number, an email address, an
// https web address).
func CheckCouncilSettings(in domain.CouncilSettings) (domain.CouncilSettings, error) {
	out := domain.CouncilSettings{
		Phone: strings.TrimSpace(in.Phone), PublicEmail: strings.TrimSpace(in.PublicEmail),
		WebURL: strings.TrimSpace(in.WebURL), Address: strings.TrimSpace(in.Address),
		OpeningHours: strings.TrimSpace(in.OpeningHours), DecisionDays: in.DecisionDays,
		MedicalIntervalYears: in.MedicalIntervalYears, RefresherYears: in.RefresherYears,
	}
	fields := map[string]string{}
	if out.Phone != "" {
		if _, err := domain.NormaliseUKPhone(out.Phone); err != nil || utf8.RuneCountInString(out.Phone) > 30 {
			fields["phone"] = "Enter a UK phone number, like 01234 567890, or leave it empty"
		}
	}
	if out.PublicEmail != "" {
		e, err := domain.NormaliseEmail(out.PublicEmail)
		if err != nil {
			fields["public_email"] = "Enter an email address, like licensing@council.gov.uk, or leave it empty"
		} else {
			out.PublicEmail = e
		}
	}
	if out.WebURL != "" {
		u, err := url.Parse(out.WebURL)
		if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || len(out.WebURL) > councilURLMax {
			fields["web_url"] = "Enter the web page's full address starting https://, like https://www.council.gov.uk/licensing, or leave it empty"
		}
	}
	for k, v := range map[string]string{"address": out.Address, "opening_hours": out.OpeningHours} {
		if utf8.RuneCountInString(v) > councilTextMax || !utf8.ValidString(v) || strings.ContainsAny(v, "\x00") {
			fields[k] = "Enter " + strconv.Itoa(councilTextMax) + " characters or fewer"
		}
	}
	if out.DecisionDays < 1 || out.DecisionDays > decisionDaysMax {
		fields["decision_days"] = "Enter a number of working days from 1 to " + strconv.Itoa(decisionDaysMax)
	}
	if out.MedicalIntervalYears < 1 || out.MedicalIntervalYears > medicalIntervalMax {
		fields["medical_interval_years"] = "Enter a number of years from 1 to " + strconv.Itoa(medicalIntervalMax)
	}
	if out.RefresherYears < 0 || out.RefresherYears > domain.MaxRefresherYears {
		fields["refresher_years"] = "Enter a number of years from 1 to " + strconv.Itoa(domain.MaxRefresherYears) + ", or leave it empty for none"
	}
	if len(fields) > 0 {
		return out, invalidFields(fields, "phone", "public_email", "web_url", "address", "opening_hours", "decision_days", "medical_interval_years", "refresher_years")
	}
	return out, nil
}

// UpdateCouncilSettings sets a council's contact details for drivers, its decision time, its
// medical rule and its coverage refresher interval. Administrators only; audited with the new
// values (and the refresher interval it replaced).
func (s *Service) UpdateCouncilSettings(ctx context.Context, a domain.Actor, slug string, in domain.CouncilSettings) (domain.Council, error) {
	if err := a.CanAdminister(); err != nil {
		return domain.Council{}, err
	}
	set, err := CheckCouncilSettings(in)
	if err != nil {
		return domain.Council{}, err
	}
	detail := map[string]any{
		"phone": set.Phone, "public_email": set.PublicEmail, "web_url": set.WebURL, "address": set.Address,
		"opening_hours": set.OpeningHours, "decision_days": set.DecisionDays, "medical_interval_years": set.MedicalIntervalYears,
		"refresher_years": set.RefresherYears,
	}
	if old, err := s.store.CouncilBySlug(ctx, slug); err == nil && old.RefresherYears != set.RefresherYears {
		detail["refresher_years_before"] = old.RefresherYears
	}
	c, err := s.store.UpdateCouncilSettings(ctx, slug, set, s.entry(a, "council.settings_set", 0, "", detail))
	if err != nil && domain.ErrorCode(err) == domain.CodeInternal {
		return domain.Council{}, domain.Internal(err)
	}
	return c, err
}

// paymentKeyMax bounds a provider API key (GOV.UK Pay's are about 60 characters).
const paymentKeyMax = 200

// SetCouncilPaymentKey stores a council's GOV.UK Pay API key, sealed (AES-256-GCM under a key
// derived from the server's secret key, bound to the council). An empty key removes it.
// Administrators only; audited without the key.
func (s *Service) SetCouncilPaymentKey(ctx context.Context, a domain.Actor, slug, apiKey string) error {
	if err := a.CanAdminister(); err != nil {
		return err
	}
	c, err := s.store.CouncilBySlug(ctx, slug)
	if err != nil {
		return err
	}
	apiKey = strings.TrimSpace(apiKey)
	if len(apiKey) > paymentKeyMax || strings.ContainsFunc(apiKey, func(r rune) bool { return r <= ' ' || r > '~' }) {
		msg := "Enter the API key exactly as GOV.UK Pay shows it: letters, numbers and dashes, no spaces"
		return &domain.Error{Code: domain.CodeInvalid, Reason: "payment_key", Message: msg, Fields: map[string]string{"payment_key": msg}}
	}
	sealed, action := "", "council.payment_key_removed"
	if apiKey != "" {
		if sealed, err = s.sealCouncilSecret(c.ID, apiKey); err != nil {
			return domain.Internal(err)
		}
		action = "council.payment_key_set"
	}
	if err := s.store.SetCouncilPaymentKey(ctx, c.ID, sealed, s.entry(a, action, c.ID, "council:"+c.Slug, nil)); err != nil {
		if domain.ErrorCode(err) == domain.CodeInternal {
			return domain.Internal(err)
		}
		return err
	}
	return nil
}

// CouncilPaymentKey opens a council's GOV.UK Pay API key, for the payment client. A council
// without one gets a not-found error: online payment is not set up for it.
func (s *Service) CouncilPaymentKey(ctx context.Context, councilID int64) (string, error) {
	sealed, err := s.store.CouncilPaymentKeySealed(ctx, councilID)
	if err != nil {
		if domain.ErrorCode(err) == domain.CodeInternal {
			return "", domain.Internal(err)
		}
		return "", err
	}
	if sealed == "" {
		return "", domain.NewError(domain.CodeNotFound, "payment_not_set_up", "Online payment is not set up for this council.")
	}
	key, err := s.openCouncilSecret(councilID, sealed)
	if err != nil {
		return "", domain.Internal(err)
	}
	return key, nil
}

// councilAEAD is AES-256-GCM under a key derived (HKDF-SHA256) from the server's secret key for
// council secrets, as totpAEAD is for second factors: a copy of the database alone does not give
// away a council's payment account.
func (s *Service) councilAEAD() (cipher.AEAD, error) {
	key, err := hkdf.Key(sha256.New, s.opt.SecretKey, nil, "taxi-renewals council secret v1", 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCMWithRandomNonce(block)
}

func councilAAD(councilID int64) []byte { return []byte("council:" + strconv.FormatInt(councilID, 10)) }

// sealCouncilSecret encrypts a secret bound to its council: copied onto another council, it
// does not open.
func (s *Service) sealCouncilSecret(councilID int64, secret string) (string, error) {
	aead, err := s.councilAEAD()
	if err != nil {
		return "", err
	}
	return sealWith(aead, councilAAD(councilID), secret), nil
}

var errSealedCouncilSecret = errors.New("council: the stored payment key does not open with this server key (was --secret-key changed?)")

func (s *Service) openCouncilSecret(councilID int64, sealed string) (string, error) {
	aead, err := s.councilAEAD()
	if err != nil {
		return "", err
	}
	return openWith(aead, councilAAD(councilID), sealed, errSealedCouncilSecret)
}
