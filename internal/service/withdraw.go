package service

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/herts-msp/taxi-renewals/internal/domain"
	"github.com/herts-msp/taxi-renewals/internal/store"
)

// Withdraw withdraws the driver's own sent renewal before it is decided, with an optional
// reason. The status is re-checked in the same transaction that writes the case event, the
// audit entry and the confirmation email; a decided renewal is refused with nothing written.
// The renewal is always the signed-in driver's own: there is no renewal id to tamper with.
func (s *Service) Withdraw(ctx context.Context, driverID int64, reason string) (domain.Renewal, error) {
	reason = strings.TrimSpace(reason)
	if !utf8.ValidString(reason) || utf8.RuneCountInString(reason) > domain.WithdrawReasonMax || strings.ContainsRune(reason, 0) {
		msg := fmt.Sprintf("Your reason must be %d characters or fewer", domain.WithdrawReasonMax)
		return domain.Renewal{}, &domain.Error{Code: domain.CodeInvalid, Reason: "reason", Message: msg, Fields: map[string]string{"reason": msg}}
	}
	driver, err := s.driverByID(ctx, driverID)
	if err != nil {
		return domain.Renewal{}, err
	}
	council, err := s.councilByID(ctx, driver.CouncilID)
	if err != nil {
		return domain.Renewal{}, domain.Internal(err)
	}
	now := s.now()
	detail := map[string]any{}
	if reason != "" {
		detail["reason"] = reason
	}
	audit := domain.AuditEntry{At: now, Actor: "driver:" + driver.LicenceNumber, Action: "renewal.withdrawn", Detail: detail}
	ev := domain.CaseEvent{At: now, ActorKind: domain.ActorDriver, ActorID: driver.ID, Kind: "withdrawn", Message: withdrawMessage(reason)}
	mail := func(r domain.Renewal) store.OutboxMessage {
		to := driver.Email
		if r.Answers.Contact.Email != "" {
			to = r.Answers.Contact.Email
		}
		return store.OutboxMessage{To: to, Subject: "You have withdrawn your taxi driver licence renewal " + r.Reference,
			Body: fmt.Sprintf("You have withdrawn your application %s to renew your driver licence with %s. "+
				"The licensing team will not decide it.\n\n"+
				"Your licence still runs until %s. To renew it, start a new renewal at %s/renew/sign-in\n\n%s\n",
				r.Reference, council.Name, driver.LicenceExpiry.Format("2 January 2006"), s.opt.BaseURL, council.ContactText())}
	}
	r, err := s.store.WithdrawRenewal(ctx, driverID, ev, audit, mail)
	if err != nil && domain.ErrorCode(err) == domain.CodeInternal {
		return domain.Renewal{}, domain.Internal(err)
	}
	return r, err
}

func withdrawMessage(reason string) string {
	if reason == "" {
		return "Withdrawn by the driver (no reason given)"
	}
	return "Withdrawn by the driver: " + reason
}

// StartAgain opens a new draft for a driver whose last renewal was withdrawn.
func (s *Service) StartAgain(ctx context.Context, driverID int64) error {
	driver, err := s.driverByID(ctx, driverID)
	if err != nil {
		return err
	}
	latest, err := s.store.LatestRenewal(ctx, driverID)
	if err == nil && latest.Status != domain.StatusWithdrawn {
		return domain.NewError(domain.CodeConflict, "not_withdrawn", "You can only start again after withdrawing your renewal.")
	}
	if _, err := s.store.StartRenewal(ctx, driver, s.now()); err != nil {
		return domain.Internal(err)
	}
	return nil
}
