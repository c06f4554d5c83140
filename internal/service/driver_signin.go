package service

import (
	"context"
	"crypto/rand"
	"fmt"
	"math/big"
	"strings"

	"github.com/herts-msp/taxi-renewals/internal/domain"
	"github.com/herts-msp/taxi-renewals/internal/store"
)

// SignInRequest is what a driver types to start signing in.
type SignInRequest struct {
	CouncilSlug   string
	LicenceNumber string
	DateOfBirth   domain.Date
	IP            string
}

// Ineligible is returned (inside a domain error's reason) when a licence cannot be renewed
// online today; the caller shows a page explaining what to do instead.
type Ineligible struct {
	Driver      domain.Driver
	Council     domain.Council
	Eligibility domain.Eligibility
}

func (i *Ineligible) Error() string { return "licence not eligible: " + string(i.Eligibility) }

// StartSignIn checks a licence number and date of birth against the council's register and,
// when they match a licence due for renewal, emails a one-time code. It returns the driver
// so the caller can start a pending session.
func (s *Service) StartSignIn(ctx context.Context, req SignInRequest) (domain.Driver, error) {
	now := s.now()
	if err := s.limit(ctx, "signin_ip", req.IP, signInPerIP); err != nil {
		return domain.Driver{}, err
	}
	const noMatch = "We could not find a licence with that number and date of birth. Check the council and the details on your licence"
	notFound := &domain.Error{Code: domain.CodeInvalid, Reason: "no_match", Message: noMatch,
		Fields: map[string]string{"licence_number": noMatch}}
	council, err := s.councilBySlug(ctx, req.CouncilSlug)
	if err != nil {
		if domain.ErrorCode(err) == domain.CodeNotFound {
			return domain.Driver{}, &domain.Error{Code: domain.CodeInvalid, Reason: "no_council",
				Message: "Select the council that issued your licence", Fields: map[string]string{"council": "Select the council that issued your licence"}}
		}
		return domain.Driver{}, domain.Internal(err)
	}
	if err := s.limit(ctx, "signin_licence", council.Slug+"/"+req.LicenceNumber, signInPerLicence); err != nil {
		return domain.Driver{}, err
	}
	driver, err := s.store.DriverByLicence(ctx, council.ID, req.LicenceNumber)
	if err != nil {
		if domain.ErrorCode(err) == domain.CodeNotFound {
			return domain.Driver{}, notFound
		}
		return domain.Driver{}, domain.Internal(err)
	}
	if driver.DateOfBirth != req.DateOfBirth {
		return domain.Driver{}, notFound
	}
	if el := driver.RenewalEligibility(domain.DateOf(now.In(s.opt.Location)), s.opt.DueWindowDays); el != domain.EligibleDue {
		return driver, &domain.Error{Code: domain.CodeConflict, Reason: "ineligible_" + string(el),
			Message: "This licence cannot be renewed online today.", Err: &Ineligible{Driver: driver, Council: council, Eligibility: el}}
	}
	if strings.TrimSpace(driver.Email) == "" {
		return driver, domain.NewError(domain.CodeConflict, "no_email",
			"We do not hold an email address for your licence, so we cannot send you a code. Ask the licensing team to add one. "+council.ContactText())
	}
	if err := s.sendCode(ctx, driver, council); err != nil {
		return driver, err
	}
	return driver, nil
}

// ResendCode sends a fresh code to a driver part-way through signing in.
func (s *Service) ResendCode(ctx context.Context, driverID int64, ip string) error {
	if err := s.limit(ctx, "signin_ip", ip, signInPerIP); err != nil {
		return err
	}
	driver, err := s.driverByID(ctx, driverID)
	if err != nil {
		return domain.Internal(err)
	}
	council, err := s.councilByID(ctx, driver.CouncilID)
	if err != nil {
		return domain.Internal(err)
	}
	if err := s.limit(ctx, "signin_licence", council.Slug+"/"+driver.LicenceNumber, signInPerLicence); err != nil {
		return err
	}
	return s.sendCode(ctx, driver, council)
}

func (s *Service) sendCode(ctx context.Context, driver domain.Driver, council domain.Council) error {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return domain.Internal(err)
	}
	code := fmt.Sprintf("%06d", n.Int64())
	msg := store.OutboxMessage{
		To:      driver.Email,
		Subject: "Your sign-in code for renewing your taxi licence",
		Body: fmt.Sprintf("Your code is %s\n\nEnter it to continue renewing your %s driver licence. It expires in 10 minutes.\n\n"+
			"If you did not ask for this code, you can ignore this email.\n", code, council.Name),
	}
	if err := s.store.CreateSignInCode(ctx, driver.ID, s.keyedHash("code", fmt.Sprint(driver.ID), code), s.now(), CodeTTL, msg); err != nil {
		return domain.Internal(err)
	}
	if s.opt.Demo {
		// Demo only: there is no mail server, so the code is shown to whoever runs the demo.
		s.opt.Logger.Info("demo sign-in code", "licence", driver.LicenceNumber, "code", code)
	}
	return nil
}

// VerifyCode checks a one-time code typed by a driver.
func (s *Service) VerifyCode(ctx context.Context, driverID int64, typed, ip string) error {
	code, err := domain.NormaliseSignInCode(typed)
	if err != nil {
		return &domain.Error{Code: domain.CodeInvalid, Reason: "code_format", Message: "Enter the 6-digit code from your email",
			Fields: map[string]string{"code": "Enter the 6-digit code from your email"}}
	}
	if err := s.limit(ctx, "code_ip", ip, codeTriesPerIP); err != nil {
		return err
	}
	outcome, remaining, err := s.store.CheckSignInCode(ctx, driverID, s.keyedHash("code", fmt.Sprint(driverID), code), s.now(), CodeMaxAttempts)
	if err != nil {
		return domain.Internal(err)
	}
	switch outcome {
	case domain.CodeAccepted:
		return nil
	case domain.CodeWrong:
		msg := fmt.Sprintf("The code is not right. Check your email and try again (%d tries left).", remaining)
		return &domain.Error{Code: domain.CodeInvalid, Reason: "code_wrong", Message: msg, Fields: map[string]string{"code": msg}}
	case domain.CodeTooManyTries:
		return domain.NewError(domain.CodeRateLimited, "code_too_many", "You have entered a wrong code too many times. Request a new code.")
	default:
		return domain.NewError(domain.CodeConflict, "code_expired", "This code has expired or has already been used. Request a new code.")
	}
}

// limit counts a hit against a rate limit and refuses past max in the window.
func (s *Service) limit(ctx context.Context, bucket, key string, max int) error {
	hits, err := s.store.HitRateLimit(ctx, bucket, s.keyedHash("rate", bucket, key), s.now(), rateWindow)
	if err != nil {
		return domain.Internal(err)
	}
	if hits > max {
		return domain.NewError(domain.CodeRateLimited, "rate_limited", "There have been too many attempts. Wait 15 minutes and try again.")
	}
	return nil
}

// CodeSentTo is where a signed-in-pending driver's code went, masked (j•••@e•••.com), and
// their council, for the code page.
func (s *Service) CodeSentTo(ctx context.Context, driverID int64) (string, domain.Council, error) {
	d, err := s.driverByID(ctx, driverID)
	if err != nil {
		return "", domain.Council{}, err
	}
	c, err := s.councilByID(ctx, d.CouncilID)
	if err != nil {
		return "", domain.Council{}, err
	}
	return domain.MaskEmail(d.Email), c, nil
}
