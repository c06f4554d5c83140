package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/herts-msp/taxi-renewals/internal/domain"
)

type eventRow struct {
	ID        int64
	RenewalID int64
	At        time.Time
	ActorKind string
	ActorID   int64
	Kind      string
	Message   string
}

func (eventRow) TableName() string { return "renewal_events" }

func addEvent(tx *gorm.DB, e domain.CaseEvent, renewalID int64) error {
	return tx.Create(&eventRow{RenewalID: renewalID, At: e.At.UTC(), ActorKind: e.ActorKind, ActorID: e.ActorID, Kind: e.Kind, Message: e.Message}).Error
}

type checkRow struct {
	ID         int64
	RenewalID  int64
	CheckType  string
	CheckedOn  domain.Date
	Result     string
	Notes      string
	RecordedBy int64
	RecordedAt time.Time
}

func (checkRow) TableName() string { return "renewal_checks" }

func (r checkRow) toDomain() domain.StatutoryCheck {
	return domain.StatutoryCheck{ID: r.ID, RenewalID: r.RenewalID, Type: domain.CheckType(r.CheckType), CheckedOn: r.CheckedOn,
		Result: r.Result, Notes: r.Notes, RecordedBy: r.RecordedBy, RecordedAt: r.RecordedAt.UTC()}
}

func renewalByID(tx *gorm.DB, id int64) (domain.Renewal, error) {
	var row renewalRow
	err := tx.Take(&row, id).Error
	if isNotFound(err) {
		return domain.Renewal{}, domain.NotFound()
	}
	if err != nil {
		return domain.Renewal{}, err
	}
	return row.toDomain()
}

// RenewalByID finds a renewal. Callers check the actor may see its council.
func (s *Store) RenewalByID(ctx context.Context, id int64) (domain.Renewal, error) {
	return renewalByID(s.db.WithContext(ctx), id)
}

type queueRow struct {
	RenewalID     int64
	GivenNames    string
	FamilyName    string
	LicenceNumber string
	LicenceExpiry domain.Date
	CouncilName   string
}

// Queue lists sent renewals (never drafts) with the driver's register details.
func (s *Store) Queue(ctx context.Context, f domain.QueueFilter) ([]domain.QueueItem, int64, error) {
	q := s.db.WithContext(ctx).Table("renewals AS r").
		Joins("JOIN drivers AS d ON d.id = r.driver_id").
		Joins("JOIN councils AS c ON c.id = r.council_id").
		Where("r.status <> ?", domain.StatusDraft)
	if f.CouncilID != 0 {
		q = q.Where("r.council_id = ?", f.CouncilID)
	}
	if f.Status != "" {
		q = q.Where("r.status = ?", f.Status)
	}
	if term := strings.TrimSpace(f.Query); term != "" {
		like := "%" + strings.ToLower(strings.NewReplacer("%", "", "_", "").Replace(term)) + "%"
		q = q.Where("LOWER(d.given_names || ' ' || d.family_name) LIKE ? OR LOWER(d.licence_number) LIKE ? OR LOWER(COALESCE(r.reference, '')) LIKE ?", like, like, like)
	}
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, err
	}
	order := "d.licence_expiry ASC, r.id ASC"
	if f.Newest {
		order = "d.licence_expiry DESC, r.id DESC"
	}
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 25
	}
	var rows []queueRow
	err := q.Select("r.id AS renewal_id, d.given_names, d.family_name, d.licence_number, d.licence_expiry, c.name AS council_name").
		Order(order).Limit(f.Limit).Offset(f.Offset).Scan(&rows).Error
	if err != nil {
		return nil, 0, err
	}
	ids := make([]int64, len(rows))
	for i, r := range rows {
		ids[i] = r.RenewalID
	}
	var renewals []renewalRow
	if err := s.db.WithContext(ctx).Where("id IN ?", ids).Find(&renewals).Error; err != nil {
		return nil, 0, err
	}
	byID := make(map[int64]renewalRow, len(renewals))
	for _, r := range renewals {
		byID[r.ID] = r
	}
	out := make([]domain.QueueItem, 0, len(rows))
	for _, r := range rows {
		ren, err := byID[r.RenewalID].toDomain()
		if err != nil {
			return nil, 0, err
		}
		out = append(out, domain.QueueItem{Renewal: ren, Council: r.CouncilName, Driver: domain.Driver{ID: ren.DriverID, CouncilID: ren.CouncilID,
			GivenNames: r.GivenNames, FamilyName: r.FamilyName, LicenceNumber: r.LicenceNumber, LicenceExpiry: r.LicenceExpiry}})
	}
	return out, total, nil
}

// Case loads a renewal with its driver, checks, history and awareness evidence.
func (s *Store) Case(ctx context.Context, renewalID int64) (domain.CaseData, error) {
	db := s.db.WithContext(ctx)
	r, err := renewalByID(db, renewalID)
	if err != nil {
		return domain.CaseData{}, err
	}
	cd, err := s.DriverRecord(ctx, r.DriverID)
	if err != nil {
		return domain.CaseData{}, err
	}
	cd.Renewal = r
	var checks []checkRow
	if err := db.Where("renewal_id = ?", r.ID).Order("id").Find(&checks).Error; err != nil {
		return domain.CaseData{}, err
	}
	var events []eventRow
	if err := db.Where("renewal_id = ?", r.ID).Order("id").Find(&events).Error; err != nil {
		return domain.CaseData{}, err
	}
	if cd.Documents, err = renewalDocuments(db, r.ID); err != nil {
		return domain.CaseData{}, err
	}
	var staffIDs []int64
	for _, d := range cd.Documents {
		if d.ReviewedBy != 0 {
			staffIDs = append(staffIDs, d.ReviewedBy)
		}
	}
	for _, c := range checks {
		cd.Checks = append(cd.Checks, c.toDomain())
		staffIDs = append(staffIDs, c.RecordedBy)
	}
	for _, e := range events {
		cd.Events = append(cd.Events, domain.CaseEvent{ID: e.ID, At: e.At.UTC(), ActorKind: e.ActorKind, ActorID: e.ActorID, Kind: e.Kind, Message: e.Message})
		if e.ActorKind == domain.ActorStaff {
			staffIDs = append(staffIDs, e.ActorID)
		}
	}
	if err := s.addStaffNames(ctx, cd.StaffName, staffIDs); err != nil {
		return domain.CaseData{}, err
	}
	return cd, nil
}

// CaseEvents lists a renewal's history events of the given kinds, oldest first: what a driver's
// status page shows, without loading the officer's whole case.
func (s *Store) CaseEvents(ctx context.Context, renewalID int64, kinds ...string) ([]domain.CaseEvent, error) {
	var rows []eventRow
	if err := s.db.WithContext(ctx).Where("renewal_id = ? AND kind IN ?", renewalID, kinds).Order("id").Find(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]domain.CaseEvent, len(rows))
	for i, e := range rows {
		out[i] = domain.CaseEvent{ID: e.ID, At: e.At.UTC(), ActorKind: e.ActorKind, ActorID: e.ActorID, Kind: e.Kind, Message: e.Message}
	}
	return out, nil
}

// DriverRecord loads a driver's register entry, awareness evidence and renewals.
func (s *Store) DriverRecord(ctx context.Context, driverID int64) (domain.CaseData, error) {
	db := s.db.WithContext(ctx)
	var cd domain.CaseData
	var err error
	if cd.Driver, err = s.DriverByID(ctx, driverID); err != nil {
		return cd, err
	}
	if cd.Council, err = s.CouncilByID(ctx, cd.Driver.CouncilID); err != nil {
		return cd, err
	}
	if cd.Awareness, cd.Evidence, err = driverAwareness(db, driverID); err != nil {
		return cd, err
	}
	if cd.Versions, err = leafletVersions(db, domain.AudienceDriver); err != nil {
		return cd, err
	}
	var rows []renewalRow
	if err := db.Where("driver_id = ?", driverID).Order("id DESC").Find(&rows).Error; err != nil {
		return cd, err
	}
	for _, row := range rows {
		r, err := row.toDomain()
		if err != nil {
			return cd, err
		}
		cd.Renewals = append(cd.Renewals, r)
	}
	cd.StaffName = map[int64]string{}
	var ids []int64
	for _, e := range cd.Evidence {
		if e.ActorKind == domain.ActorStaff {
			ids = append(ids, e.ActorID)
		}
	}
	return cd, s.addStaffNames(ctx, cd.StaffName, ids)
}

func (s *Store) addStaffNames(ctx context.Context, names map[int64]string, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	var rows []staffRow
	if err := s.db.WithContext(ctx).Select("id", "name").Where("id IN ?", ids).Find(&rows).Error; err != nil {
		return err
	}
	for _, r := range rows {
		names[r.ID] = r.Name
	}
	return nil
}

// RecordCheck adds a statutory check to a renewal awaiting a decision.
func (s *Store) RecordCheck(ctx context.Context, c domain.StatutoryCheck, audit domain.AuditEntry) error {
	return s.transaction(ctx, func(tx *gorm.DB) error {
		r, err := renewalByID(tx, c.RenewalID)
		if err != nil {
			return err
		}
		if !r.Decidable() {
			return domain.NewError(domain.CodeConflict, "not_decidable", "Checks can only be recorded on a renewal awaiting a decision.")
		}
		row := checkRow{RenewalID: c.RenewalID, CheckType: string(c.Type), CheckedOn: c.CheckedOn, Result: c.Result, Notes: c.Notes,
			RecordedBy: c.RecordedBy, RecordedAt: c.RecordedAt.UTC()}
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		msg := fmt.Sprintf("%s: %s on %s", c.Type.Label(), c.Result, c.CheckedOn.Format("2 January 2006"))
		if err := addEvent(tx, domain.CaseEvent{At: c.RecordedAt, ActorKind: domain.ActorStaff, ActorID: c.RecordedBy, Kind: "check_recorded", Message: msg}, r.ID); err != nil {
			return err
		}
		return appendAudit(tx, audit)
	})
}

// Transition moves a renewal from one of the allowed statuses to another, with a history
// line, an audit entry (when audit.Action is set) and an email (when mail.To is set).
func (s *Store) Transition(ctx context.Context, renewalID int64, from []domain.RenewalStatus, to domain.RenewalStatus,
	ev domain.CaseEvent, audit domain.AuditEntry, mail OutboxMessage) (domain.Renewal, error) {
	var out domain.Renewal
	err := s.transaction(ctx, func(tx *gorm.DB) error {
		r, err := renewalByID(tx, renewalID)
		if err != nil {
			return err
		}
		allowed := false
		for _, f := range from {
			allowed = allowed || r.Status == f
		}
		if !allowed {
			return domain.NewError(domain.CodeConflict, "wrong_status", "This renewal cannot be moved from "+string(r.Status)+" to "+string(to)+".")
		}
		if err := tx.Model(&renewalRow{}).Where("id = ? AND status = ?", r.ID, r.Status).
			Updates(map[string]any{"status": string(to), "updated_at": ev.At.UTC()}).Error; err != nil {
			return err
		}
		if err := addEvent(tx, ev, r.ID); err != nil {
			return err
		}
		if audit.Action != "" {
			if err := appendAudit(tx, audit); err != nil {
				return err
			}
		}
		if mail.To != "" {
			if err := enqueue(tx, mail, ev.At); err != nil {
				return err
			}
		}
		r.Status = to
		out = r
		return nil
	})
	return out, err
}

// Approve applies domain.CheckApprovable inside the transaction that approves: the awareness
// evidence and the checks are read there, so nothing recorded in between is missed. The
// driver's licence gets its new dates on the register in the same transaction.
func (s *Store) Approve(ctx context.Context, renewalID, staffID int64, now time.Time, today domain.Date, termYears int,
	audit domain.AuditEntry, mail func(domain.Driver, domain.Renewal) OutboxMessage) (domain.Renewal, error) {
	var out domain.Renewal
	err := s.transaction(ctx, func(tx *gorm.DB) error {
		r, err := renewalByID(tx, renewalID)
		if err != nil {
			return err
		}
		aw, _, err := driverAwareness(tx, r.DriverID)
		if err != nil {
			return err
		}
		var checks []checkRow
		if err := tx.Where("renewal_id = ?", r.ID).Find(&checks).Error; err != nil {
			return err
		}
		dc := make([]domain.StatutoryCheck, len(checks))
		for i, c := range checks {
			dc[i] = c.toDomain()
		}
		docs, err := renewalDocuments(tx, r.ID)
		if err != nil {
			return err
		}
		fees, err := feeStanding(tx, r.ID)
		if err != nil {
			return err
		}
		if err := domain.CheckApprovable(r, domain.Approvability{Awareness: aw, Checks: dc, Documents: docs, Paid: fees.Settled()}); err != nil {
			return err
		}
		var d driverRow
		if err := tx.Take(&d, r.DriverID).Error; err != nil {
			return err
		}
		if r.Answers.Licence.TermYears != 0 {
			termYears = r.Answers.Licence.TermYears
		}
		start, expiry := domain.NewLicencePeriod(d.LicenceExpiry, today, termYears)
		res := tx.Model(&renewalRow{}).Where("id = ? AND status = ?", r.ID, r.Status).Updates(map[string]any{
			"status": string(domain.StatusApproved), "decided_at": now.UTC(), "decided_by": staffID,
			"new_expiry": expiry.String(), "updated_at": now.UTC()})
		if res.Error != nil {
			return res.Error
		}
		// The new dates go into the licence history (trigger, migration 0004); a driver who was
		// not active is reinstated from today, into the status history (migration 0011).
		set := map[string]any{"licence_start": start, "licence_expiry": expiry, "status": domain.DriverActive, "updated_at": now.UTC()}
		if d.Status != domain.DriverActive {
			set["status_from"] = today
		}
		if err := tx.Model(&driverRow{}).Where("id = ?", d.ID).Updates(set).Error; err != nil {
			return err
		}
		msg := "Licence renewed until " + expiry.Format("2 January 2006")
		if err := addEvent(tx, domain.CaseEvent{At: now, ActorKind: domain.ActorStaff, ActorID: staffID, Kind: "approved", Message: msg}, r.ID); err != nil {
			return err
		}
		audit.Detail["new_expiry"] = expiry.String()
		if err := appendAudit(tx, audit); err != nil {
			return err
		}
		r.Status, r.DecidedAt, r.DecidedBy, r.NewExpiry = domain.StatusApproved, now.UTC(), staffID, expiry
		if m := mail(d.toDomain(), r); m.To != "" {
			if err := enqueue(tx, m, now); err != nil {
				return err
			}
		}
		out = r
		return nil
	})
	return out, err
}

// Refuse records a refusal with its reason and the date it was recorded on NR3S.
func (s *Store) Refuse(ctx context.Context, renewalID, staffID int64, now time.Time, reason string, nr3s domain.Date,
	audit domain.AuditEntry, mail OutboxMessage) (domain.Renewal, error) {
	var out domain.Renewal
	err := s.transaction(ctx, func(tx *gorm.DB) error {
		r, err := renewalByID(tx, renewalID)
		if err != nil {
			return err
		}
		if !r.Decidable() {
			return domain.NewError(domain.CodeConflict, "not_decidable", "This renewal has already been decided.")
		}
		nr3sText := ""
		if !nr3s.IsZero() {
			nr3sText = nr3s.String()
		}
		if err := tx.Model(&renewalRow{}).Where("id = ? AND status = ?", r.ID, r.Status).Updates(map[string]any{
			"status": string(domain.StatusRefused), "decided_at": now.UTC(), "decided_by": staffID,
			"decision_reason": reason, "nr3s_recorded_on": nr3sText, "updated_at": now.UTC()}).Error; err != nil {
			return err
		}
		if err := addEvent(tx, domain.CaseEvent{At: now, ActorKind: domain.ActorStaff, ActorID: staffID, Kind: "refused", Message: reason}, r.ID); err != nil {
			return err
		}
		if err := appendAudit(tx, audit); err != nil {
			return err
		}
		if mail.To != "" {
			if err := enqueue(tx, mail, now); err != nil {
				return err
			}
		}
		r.Status, r.DecidedAt, r.DecidedBy, r.DecisionReason, r.NR3SRecordedOn = domain.StatusRefused, now.UTC(), staffID, reason, nr3s
		out = r
		return nil
	})
	return out, err
}

// RecordNR3S records, after the refusal, the date it was entered on NR3S.
func (s *Store) RecordNR3S(ctx context.Context, renewalID int64, on domain.Date, ev domain.CaseEvent, audit domain.AuditEntry) error {
	return s.transaction(ctx, func(tx *gorm.DB) error {
		r, err := renewalByID(tx, renewalID)
		if err != nil {
			return err
		}
		if r.Status != domain.StatusRefused {
			return domain.NewError(domain.CodeConflict, "not_refused", "Only a refusal is recorded on NR3S.")
		}
		if err := tx.Model(&renewalRow{}).Where("id = ?", r.ID).Update("nr3s_recorded_on", on.String()).Error; err != nil {
			return err
		}
		if err := addEvent(tx, ev, r.ID); err != nil {
			return err
		}
		return appendAudit(tx, audit)
	})
}

// EvidenceByID finds one evidence record.
func (s *Store) EvidenceByID(ctx context.Context, id int64) (domain.Evidence, error) {
	var row evidenceRow
	err := s.db.WithContext(ctx).Take(&row, id).Error
	if isNotFound(err) {
		return domain.Evidence{}, domain.NotFound()
	}
	return row.toDomain(), err
}

// RecordStaffEvidence records a leaflet handed over or posted (issue), or the driver's signed
// acknowledgement, as an officer saw it. An acknowledgement needs a standing issue of the same
// version first.
func (s *Store) RecordStaffEvidence(ctx context.Context, e domain.Evidence, audit domain.AuditEntry) (domain.Evidence, error) {
	var out domain.Evidence
	err := s.transaction(ctx, func(tx *gorm.DB) error {
		var lv leafletRow
		err := tx.Where("id = ? AND audience = ?", e.LeafletID, domain.AudienceDriver).Take(&lv).Error
		if isNotFound(err) {
			return &domain.Error{Code: domain.CodeInvalid, Reason: "leaflet", Message: "Choose a published version of the driver leaflet",
				Fields: map[string]string{"leaflet_id": "Choose a published version of the driver leaflet"}}
		}
		if err != nil {
			return err
		}
		evidence, err := driverEvidence(tx, e.DriverID)
		if err != nil {
			return err
		}
		if e.Kind == domain.KindAcknowledgement && !domain.Issued(evidence, e.LeafletID) {
			return &domain.Error{Code: domain.CodeConflict, Reason: "not_issued",
				Message: "Record that version " + lv.Version + " was handed over or posted before recording the driver's acknowledgement",
				Fields:  map[string]string{"kind": "Record the leaflet being handed over or posted first"}}
		}
		e.ContentSHA256 = lv.ContentSHA256
		row := evidenceRowOf(e)
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		out = row.toDomain()
		audit.Target = fmt.Sprintf("evidence:%d", out.ID)
		if err := appendAudit(tx, audit); err != nil {
			return err
		}
		if r, err := openRenewal(tx, e.DriverID); err == nil {
			msg := fmt.Sprintf("Leaflet %s %s (%s)", lv.Version, map[domain.EvidenceKind]string{domain.KindIssue: "issued", domain.KindAcknowledgement: "acknowledged"}[e.Kind], strings.ReplaceAll(string(e.Channel), "_", " "))
			return addEvent(tx, domain.CaseEvent{At: e.RecordedAt, ActorKind: domain.ActorStaff, ActorID: e.ActorID, Kind: "evidence_recorded", Message: msg}, r.ID)
		}
		return nil
	})
	return out, err
}

// VoidEvidence appends a void record cancelling a wrong one; the wrong record stays.
func (s *Store) VoidEvidence(ctx context.Context, v domain.Evidence, audit domain.AuditEntry) (domain.Evidence, error) {
	var out domain.Evidence
	err := s.transaction(ctx, func(tx *gorm.DB) error {
		var target evidenceRow
		if err := tx.Take(&target, v.VoidsID).Error; err != nil {
			if isNotFound(err) {
				return domain.NotFound()
			}
			return err
		}
		if target.Kind == string(domain.KindVoid) {
			return domain.NewError(domain.CodeConflict, "void_of_void", "A voiding record cannot itself be voided.")
		}
		var n int64
		if err := tx.Model(&evidenceRow{}).Where("voids_id = ?", target.ID).Count(&n).Error; err != nil {
			return err
		}
		if n > 0 {
			return domain.NewError(domain.CodeConflict, "already_voided", "This record has already been voided.")
		}
		v.Kind, v.DriverID, v.CouncilID, v.LeafletID, v.ContentSHA256, v.Channel =
			domain.KindVoid, target.DriverID, target.CouncilID, target.LeafletID, target.ContentSHA256, domain.Channel(target.Channel)
		row := evidenceRowOf(v)
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		out = row.toDomain()
		if err := appendAudit(tx, audit); err != nil {
			return err
		}
		if r, err := openRenewal(tx, target.DriverID); err == nil {
			return addEvent(tx, domain.CaseEvent{At: v.RecordedAt, ActorKind: domain.ActorStaff, ActorID: v.ActorID, Kind: "evidence_voided",
				Message: fmt.Sprintf("Evidence record %d voided: %s", target.ID, v.Reason)}, r.ID)
		}
		return nil
	})
	return out, err
}

// StartPaperRenewal records a renewal a driver made on paper or at the counter, as sent.
func (s *Store) StartPaperRenewal(ctx context.Context, d domain.Driver, staffID int64, now time.Time, reference string, termYears int, audit domain.AuditEntry) (domain.Renewal, error) {
	var out domain.Renewal
	err := s.transaction(ctx, func(tx *gorm.DB) error {
		if existing, err := openRenewal(tx, d.ID); err == nil {
			if existing.Status != domain.StatusDraft {
				return domain.NewError(domain.CodeConflict, "open_renewal", "This driver already has a renewal in progress ("+existing.Reference+").")
			}
			// The driver started online but is finishing on paper: the draft is kept, withdrawn.
			if err := tx.Model(&renewalRow{}).Where("id = ?", existing.ID).
				Updates(map[string]any{"status": string(domain.StatusWithdrawn), "updated_at": now.UTC()}).Error; err != nil {
				return err
			}
			if err := addEvent(tx, domain.CaseEvent{At: now, ActorKind: domain.ActorStaff, ActorID: staffID, Kind: "withdrawn",
				Message: "Online draft replaced by a paper renewal"}, existing.ID); err != nil {
				return err
			}
		}
		answers := fmt.Sprintf(`{"licence":{"term_years":%d}}`, termYears)
		row := renewalRow{DriverID: d.ID, CouncilID: d.CouncilID, Status: string(domain.StatusSubmitted), Channel: "paper",
			AnswersJSON: answers, CreatedAt: now.UTC(), UpdatedAt: now.UTC(), SubmittedAt: &now, Reference: &reference}
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		if err := addEvent(tx, domain.CaseEvent{At: now, ActorKind: domain.ActorStaff, ActorID: staffID, Kind: "paper_started",
			Message: "Paper renewal recorded by the licensing team"}, row.ID); err != nil {
			return err
		}
		audit.Target = "renewal:" + reference
		if err := appendAudit(tx, audit); err != nil {
			return err
		}
		var err error
		out, err = row.toDomain()
		return err
	})
	return out, err
}

// WithdrawRenewal withdraws the driver's sent renewal, in one transaction that re-reads its
// status: only a renewal sent and not yet decided can be withdrawn; anything else is refused
// with nothing written. The case event, the audit entry and the driver's email go with it.
func (s *Store) WithdrawRenewal(ctx context.Context, driverID int64, ev domain.CaseEvent, audit domain.AuditEntry, mail func(domain.Renewal) OutboxMessage) (domain.Renewal, error) {
	var out domain.Renewal
	err := s.transaction(ctx, func(tx *gorm.DB) error {
		var row renewalRow
		err := tx.Where("driver_id = ?", driverID).Order("id DESC").Take(&row).Error
		if isNotFound(err) {
			return domain.NewError(domain.CodeConflict, "not_sent", "You have not sent a renewal, so there is nothing to withdraw.")
		}
		if err != nil {
			return err
		}
		r, err := row.toDomain()
		if err != nil {
			return err
		}
		switch {
		case r.Status == domain.StatusDraft:
			return domain.NewError(domain.CodeConflict, "not_sent", "You have not sent your renewal yet, so there is nothing to withdraw.")
		case r.Status == domain.StatusWithdrawn:
			return domain.NewError(domain.CodeConflict, "already_withdrawn", "Your renewal "+r.Reference+" has already been withdrawn.")
		case !r.Status.Withdrawable():
			return domain.NewError(domain.CodeConflict, "decided", "Your renewal "+r.Reference+" has already been decided, so it cannot be withdrawn.")
		}
		res := tx.Model(&renewalRow{}).Where("id = ? AND status = ?", r.ID, string(r.Status)).
			Updates(map[string]any{"status": string(domain.StatusWithdrawn), "updated_at": ev.At.UTC()})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return domain.NewError(domain.CodeConflict, "changed", "Your renewal changed while you were withdrawing it. Check its status and try again.")
		}
		if err := addEvent(tx, ev, r.ID); err != nil {
			return err
		}
		audit.CouncilID, audit.Target = r.CouncilID, "renewal:"+r.Reference
		if err := appendAudit(tx, audit); err != nil {
			return err
		}
		r.Status = domain.StatusWithdrawn
		if m := mail(r); m.To != "" {
			if err := enqueue(tx, m, ev.At); err != nil {
				return err
			}
		}
		out = r
		return nil
	})
	return out, err
}
