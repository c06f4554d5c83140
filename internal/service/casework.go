package service

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/herts-msp/taxi-renewals/internal/domain"
	"github.com/herts-msp/taxi-renewals/internal/store"
)

// Every method here takes the Actor and checks it with Actor.CanRead or Actor.CanWork against
// the record's own council before doing anything else: the tenancy rule lives in the domain
// and is applied here, in one layer, never in handlers or templates.

// Queue lists sent renewals the actor may see. An officer only ever sees their own council;
// analysts and admins see all, or one council when they choose it.
func (s *Service) Queue(ctx context.Context, a domain.Actor, f domain.QueueFilter) ([]domain.QueueItem, int64, error) {
	if a.Role == domain.RoleOfficer {
		f.CouncilID = a.CouncilID
	}
	items, total, err := s.store.Queue(ctx, f)
	if err != nil {
		return nil, 0, domain.Internal(err)
	}
	return items, total, nil
}

// QueueAwareness works out the awareness state of the drivers on one page of the queue.
func (s *Service) QueueAwareness(ctx context.Context, items []domain.QueueItem) (map[int64]domain.Awareness, error) {
	out := make(map[int64]domain.Awareness, len(items))
	for _, it := range items {
		aw, err := s.store.DriverAwareness(ctx, it.Driver.ID)
		if err != nil {
			return nil, domain.Internal(err)
		}
		out[it.Driver.ID] = aw
	}
	return out, nil
}

// Case loads a renewal for the case page.
func (s *Service) Case(ctx context.Context, a domain.Actor, renewalID int64) (domain.CaseData, error) {
	r, err := s.store.RenewalByID(ctx, renewalID)
	if err != nil {
		return domain.CaseData{}, err
	}
	if err := a.CanRead(r.CouncilID, "renewal"); err != nil {
		return domain.CaseData{}, err
	}
	if r.Status == domain.StatusDraft {
		// A driver's unsent draft is theirs until they send it.
		return domain.CaseData{}, domain.NotFound()
	}
	return s.store.Case(ctx, renewalID)
}

// DriverRecord loads a driver from the register with their evidence and renewals.
func (s *Service) DriverRecord(ctx context.Context, a domain.Actor, driverID int64) (domain.CaseData, error) {
	d, err := s.store.DriverByID(ctx, driverID)
	if err != nil {
		return domain.CaseData{}, err
	}
	if err := a.CanRead(d.CouncilID, "driver"); err != nil {
		return domain.CaseData{}, err
	}
	return s.store.DriverRecord(ctx, driverID)
}

// workable loads a renewal the actor may change.
func (s *Service) workable(ctx context.Context, a domain.Actor, renewalID int64) (domain.Renewal, error) {
	r, err := s.store.RenewalByID(ctx, renewalID)
	if err != nil {
		return r, err
	}
	if err := a.CanWork(r.CouncilID, "renewal"); err != nil {
		return r, err
	}
	if r.Status == domain.StatusDraft {
		return r, domain.NotFound()
	}
	return r, nil
}

func (s *Service) entry(a domain.Actor, action string, councilID int64, target string, detail map[string]any) domain.AuditEntry {
	if detail == nil {
		detail = map[string]any{}
	}
	return domain.AuditEntry{At: s.now(), ActorID: a.StaffID, Actor: a.Label(), IP: a.IP, Action: action, CouncilID: councilID, Target: target, Detail: detail}
}

// StartReview marks a sent renewal as being checked.
func (s *Service) StartReview(ctx context.Context, a domain.Actor, renewalID int64) error {
	r, err := s.workable(ctx, a, renewalID)
	if err != nil {
		return err
	}
	_, err = s.store.Transition(ctx, r.ID, []domain.RenewalStatus{domain.StatusSubmitted}, domain.StatusInReview,
		domain.CaseEvent{At: s.now(), ActorKind: domain.ActorStaff, ActorID: a.StaffID, Kind: "review_started"},
		s.entry(a, "renewal.review_started", r.CouncilID, "renewal:"+r.Reference, nil), store.OutboxMessage{})
	return err
}

// CheckInput is an officer's record of a statutory check.
type CheckInput struct {
	Type      domain.CheckType
	CheckedOn domain.Date
	Result    string
	Notes     string
}

// RecordCheck records a statutory check on a renewal.
func (s *Service) RecordCheck(ctx context.Context, a domain.Actor, renewalID int64, in CheckInput) error {
	r, err := s.workable(ctx, a, renewalID)
	if err != nil {
		return err
	}
	if !in.Type.Valid() || (in.Result != domain.CheckSatisfactory && in.Result != domain.CheckUnsatisfactory) {
		return domain.NewError(domain.CodeInvalid, "check", "Choose a check and its result")
	}
	if in.CheckedOn.After(s.Today()) {
		return &domain.Error{Code: domain.CodeInvalid, Reason: "check_date", Message: "The date of the check must be today or in the past",
			Fields: map[string]string{"checked_on": "The date of the check must be today or in the past"}}
	}
	return s.store.RecordCheck(ctx, domain.StatutoryCheck{RenewalID: r.ID, Type: in.Type, CheckedOn: in.CheckedOn, Result: in.Result,
		Notes: in.Notes, RecordedBy: a.StaffID, RecordedAt: s.now()},
		s.entry(a, "check.recorded", r.CouncilID, "renewal:"+r.Reference, map[string]any{"check": string(in.Type), "result": in.Result, "checked_on": in.CheckedOn.String()}))
}

func (s *Service) driverEmail(ctx context.Context, r domain.Renewal) (domain.Driver, domain.Council, string) {
	d, _ := s.store.DriverByID(ctx, r.DriverID)
	c, _ := s.store.CouncilByID(ctx, r.CouncilID)
	email := d.Email
	if r.Answers.Contact.Email != "" {
		email = r.Answers.Contact.Email
	}
	return d, c, email
}

// RequestInformation asks the driver for more; they see the message when they sign in.
func (s *Service) RequestInformation(ctx context.Context, a domain.Actor, renewalID int64, message string) error {
	r, err := s.workable(ctx, a, renewalID)
	if err != nil {
		return err
	}
	message = strings.TrimSpace(message)
	if message == "" || len([]rune(message)) > 2000 {
		return &domain.Error{Code: domain.CodeInvalid, Reason: "message", Message: "Write what the driver needs to send, in 2,000 characters or fewer",
			Fields: map[string]string{"message": "Write what the driver needs to send, in 2,000 characters or fewer"}}
	}
	_, c, email := s.driverEmail(ctx, r)
	mail := store.OutboxMessage{To: email, Subject: "Your taxi driver licence renewal " + r.Reference + ": more information needed",
		Body: fmt.Sprintf("%s's licensing team needs more information to decide your renewal %s.\n\nSign in at %s/renew/sign-in to read their message and reply.\n\n%s\n", c.Name, r.Reference, s.opt.BaseURL, c.ContactText())}
	_, err = s.store.Transition(ctx, r.ID, []domain.RenewalStatus{domain.StatusSubmitted, domain.StatusInReview}, domain.StatusMoreInfo,
		domain.CaseEvent{At: s.now(), ActorKind: domain.ActorStaff, ActorID: a.StaffID, Kind: "more_info", Message: message},
		s.entry(a, "renewal.more_info", r.CouncilID, "renewal:"+r.Reference, nil), mail)
	return err
}

// DriverReply is the driver's answer to a request for more information.
func (s *Service) DriverReply(ctx context.Context, driverID int64, message string) error {
	r, err := s.store.OpenRenewal(ctx, driverID)
	if err != nil {
		return err
	}
	if r.Status != domain.StatusMoreInfo {
		return domain.NewError(domain.CodeConflict, "no_request", "The licensing team has not asked you for more information, so there is nothing to reply to.")
	}
	message = strings.TrimSpace(message)
	if message == "" || len([]rune(message)) > 2000 {
		return &domain.Error{Code: domain.CodeInvalid, Reason: "reply", Message: "Write your reply, in 2,000 characters or fewer",
			Fields: map[string]string{"reply": "Write your reply, in 2,000 characters or fewer"}}
	}
	_, err = s.store.Transition(ctx, r.ID, []domain.RenewalStatus{domain.StatusMoreInfo}, domain.StatusInReview,
		domain.CaseEvent{At: s.now(), ActorKind: domain.ActorDriver, ActorID: driverID, Kind: "driver_reply", Message: message},
		domain.AuditEntry{}, store.OutboxMessage{})
	return err
}

// Approve grants the renewal. The store refuses it unless the driver holds an acknowledgement
// of the leaflet in force and every statutory check is recorded as satisfactory.
func (s *Service) Approve(ctx context.Context, a domain.Actor, renewalID int64, termYears int) (domain.Renewal, error) {
	r, err := s.workable(ctx, a, renewalID)
	if err != nil {
		return r, err
	}
	_, c, email := s.driverEmail(ctx, r)
	return s.store.Approve(ctx, r.ID, a.StaffID, s.now(), s.Today(), termYears,
		s.entry(a, "renewal.approved", r.CouncilID, "renewal:"+r.Reference, map[string]any{}),
		func(d domain.Driver, done domain.Renewal) store.OutboxMessage {
			return store.OutboxMessage{To: email, Subject: "Your taxi driver licence has been renewed (" + r.Reference + ")",
				Body: fmt.Sprintf("%s has approved your renewal %s. Your driver licence now runs until %s.\n\nYour new licence and badge details will follow from the licensing team.\n\n%s\n",
					c.Name, r.Reference, done.NewExpiry.Format("2 January 2006"), c.ContactText())}
		})
}

// Refuse refuses the renewal with a reason. The officer is prompted to record the refusal on
// NR3S; the date it was recorded can be given now or later.
func (s *Service) Refuse(ctx context.Context, a domain.Actor, renewalID int64, reason string, nr3s domain.Date) error {
	r, err := s.workable(ctx, a, renewalID)
	if err != nil {
		return err
	}
	reason = strings.TrimSpace(reason)
	if len([]rune(reason)) < 10 || len([]rune(reason)) > 4000 {
		return &domain.Error{Code: domain.CodeInvalid, Reason: "reason", Message: "Give the reason for refusal, as the driver will read it (10 to 4,000 characters)",
			Fields: map[string]string{"reason": "Give the reason for refusal, as the driver will read it (10 to 4,000 characters)"}}
	}
	if nr3s.After(s.Today()) {
		return &domain.Error{Code: domain.CodeInvalid, Reason: "nr3s_date", Message: "The NR3S date must be today or in the past",
			Fields: map[string]string{"nr3s": "The NR3S date must be today or in the past"}}
	}
	_, c, email := s.driverEmail(ctx, r)
	mail := store.OutboxMessage{To: email, Subject: "Decision on your taxi driver licence renewal " + r.Reference,
		Body: fmt.Sprintf("%s has refused your renewal %s.\n\nReason: %s\n\nThe letter from the licensing team explains how to appeal.\n\n%s\n", c.Name, r.Reference, reason, c.ContactText())}
	_, err = s.store.Refuse(ctx, r.ID, a.StaffID, s.now(), reason, nr3s,
		s.entry(a, "renewal.refused", r.CouncilID, "renewal:"+r.Reference, map[string]any{"nr3s_recorded_on": nr3s.String()}), mail)
	return err
}

// RecordNR3S records the date a refusal was entered on the NR3S register.
func (s *Service) RecordNR3S(ctx context.Context, a domain.Actor, renewalID int64, on domain.Date) error {
	r, err := s.workable(ctx, a, renewalID)
	if err != nil {
		return err
	}
	if on.IsZero() || on.After(s.Today()) {
		return &domain.Error{Code: domain.CodeInvalid, Reason: "nr3s_date", Message: "Enter the date the refusal was recorded on NR3S, today or in the past",
			Fields: map[string]string{"nr3s": "Enter the date the refusal was recorded on NR3S, today or in the past"}}
	}
	return s.store.RecordNR3S(ctx, r.ID, on,
		domain.CaseEvent{At: s.now(), ActorKind: domain.ActorStaff, ActorID: a.StaffID, Kind: "nr3s_recorded", Message: "Recorded on NR3S on " + on.Format("2 January 2006")},
		s.entry(a, "renewal.nr3s_recorded", r.CouncilID, "renewal:"+r.Reference, map[string]any{"on": on.String()}))
}

// EvidenceInput is an officer's record of a leaflet handed over, posted or acknowledged.
type EvidenceInput struct {
	Kind      domain.EvidenceKind // issue or acknowledgement
	Channel   domain.Channel      // in_person, post or email
	LeafletID int64
	On        domain.Date
}

// RecordEvidence records in-person, postal or email evidence for a driver of the officer's
// council, dated the day it happened.
func (s *Service) RecordEvidence(ctx context.Context, a domain.Actor, driverID int64, in EvidenceInput) (domain.Evidence, error) {
	d, err := s.store.DriverByID(ctx, driverID)
	if err != nil {
		return domain.Evidence{}, err
	}
	if err := a.CanWork(d.CouncilID, "driver"); err != nil {
		return domain.Evidence{}, err
	}
	fe := map[string]string{}
	if in.Kind != domain.KindIssue && in.Kind != domain.KindAcknowledgement {
		fe["kind"] = "Choose what happened: the leaflet was handed over or posted, or the driver signed to acknowledge it"
	}
	if in.Channel == domain.ChannelOnline || !in.Channel.Valid() {
		fe["channel"] = "Choose how: in person, by post or by email"
	}
	today := s.Today()
	switch {
	case in.On.IsZero():
		fe["on"] = "Enter the date it happened"
	case in.On.After(today):
		fe["on"] = "The date must be today or in the past"
	case in.On.Before(today.AddYears(-5)):
		fe["on"] = "The date must be within the last 5 years"
	}
	if len(fe) > 0 {
		return domain.Evidence{}, &domain.Error{Code: domain.CodeInvalid, Reason: "evidence", Message: "Check the evidence details", Fields: fe}
	}
	occurred := s.now()
	if in.On != today {
		// A past date has no time: record midday, London time, so the date never shifts.
		occurred = time.Date(in.On.Year, in.On.Month, in.On.Day, 12, 0, 0, 0, s.opt.Location).UTC()
	}
	return s.store.RecordStaffEvidence(ctx, domain.Evidence{Kind: in.Kind, DriverID: d.ID, CouncilID: d.CouncilID, LeafletID: in.LeafletID,
		Channel: in.Channel, OccurredAt: occurred, RecordedAt: s.now(), ActorKind: domain.ActorStaff, ActorID: a.StaffID},
		s.entry(a, "evidence.recorded", d.CouncilID, "", map[string]any{"kind": string(in.Kind), "channel": string(in.Channel), "leaflet_id": in.LeafletID, "driver_id": d.ID, "on": in.On.String()}))
}

// VoidEvidence cancels a wrong evidence record with a reason.
func (s *Service) VoidEvidence(ctx context.Context, a domain.Actor, evidenceID int64, reason string) (domain.Evidence, error) {
	e, err := s.store.EvidenceByID(ctx, evidenceID)
	if err != nil {
		return domain.Evidence{}, err
	}
	if err := a.CanWork(e.CouncilID, "evidence record"); err != nil {
		return domain.Evidence{}, err
	}
	reason = strings.TrimSpace(reason)
	if len([]rune(reason)) < 5 || len([]rune(reason)) > 1000 {
		return domain.Evidence{}, &domain.Error{Code: domain.CodeInvalid, Reason: "reason", Message: "Say why this record is wrong (5 to 1,000 characters)",
			Fields: map[string]string{"reason": "Say why this record is wrong (5 to 1,000 characters)"}}
	}
	return s.store.VoidEvidence(ctx, domain.Evidence{VoidsID: e.ID, OccurredAt: s.now(), RecordedAt: s.now(), ActorKind: domain.ActorStaff, ActorID: a.StaffID, Reason: reason},
		s.entry(a, "evidence.voided", e.CouncilID, fmt.Sprintf("evidence:%d", e.ID), map[string]any{"reason": reason}))
}

// StartPaperRenewal records a renewal made on paper or at the counter, ready to be worked.
func (s *Service) StartPaperRenewal(ctx context.Context, a domain.Actor, driverID int64, termYears int) (domain.Renewal, error) {
	d, err := s.store.DriverByID(ctx, driverID)
	if err != nil {
		return domain.Renewal{}, err
	}
	if err := a.CanWork(d.CouncilID, "driver"); err != nil {
		return domain.Renewal{}, err
	}
	if termYears != 1 && termYears != 3 {
		return domain.Renewal{}, &domain.Error{Code: domain.CodeInvalid, Reason: "term", Message: "Choose the licence term the driver asked for",
			Fields: map[string]string{"term": "Choose the licence term the driver asked for"}}
	}
	return s.store.StartPaperRenewal(ctx, d, a.StaffID, s.now(), NewReference(), termYears,
		s.entry(a, "renewal.paper_started", d.CouncilID, "", map[string]any{"driver_id": d.ID, "term_years": termYears}))
}

// EvidenceForActor finds an evidence record the actor may see.
func (s *Service) EvidenceForActor(ctx context.Context, a domain.Actor, id int64) (domain.Evidence, error) {
	e, err := s.store.EvidenceByID(ctx, id)
	if err != nil {
		return e, err
	}
	return e, a.CanRead(e.CouncilID, "evidence record")
}

// DriverMessages returns the history lines of the driver's renewal that the driver should
// see: the officer's requests and the driver's own replies.
func (s *Service) DriverMessages(ctx context.Context, renewalID int64) ([]domain.CaseEvent, error) {
	return s.store.CaseEvents(ctx, renewalID, "more_info", "driver_reply")
}
