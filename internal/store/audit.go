package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/herts-msp/taxi-renewals/internal/domain"
)

type auditRow struct {
	ID           int64
	At           time.Time
	ActorStaffID *int64
	ActorLabel   string
	IP           string `gorm:"column:ip"`
	Action       string
	CouncilID    *int64
	Target       string
	Detail       string
	PrevHash     string
	Hash         string
}

func (auditRow) TableName() string { return "audit_log" }

// genesisHash is the "previous hash" of the first entry.
const genesisHash = "0000000000000000000000000000000000000000000000000000000000000000"

// auditHash chains an entry to the one before it. Every stored field is covered, so changing
// any of them, or removing a row, breaks the chain from that point on.
func auditHash(r auditRow) string {
	var actor, council int64
	if r.ActorStaffID != nil {
		actor = *r.ActorStaffID
	}
	if r.CouncilID != nil {
		council = *r.CouncilID
	}
	fields := []string{r.PrevHash, r.At.UTC().Format(time.RFC3339Nano), strconv.FormatInt(actor, 10), r.ActorLabel, r.IP,
		r.Action, strconv.FormatInt(council, 10), r.Target, r.Detail}
	h := sha256.New()
	for _, f := range fields {
		h.Write([]byte(strconv.Itoa(len(f)))) // length-prefixed, so no two field lists hash alike
		h.Write([]byte{':'})
		h.Write([]byte(f))
	}
	return hex.EncodeToString(h.Sum(nil))
}

func optionalID(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}

// appendAudit adds an entry inside tx. Transactions take the write lock at BEGIN, so the
// entry before is read and chained without a race.
func appendAudit(tx *gorm.DB, e domain.AuditEntry) error {
	detail := "{}"
	if len(e.Detail) > 0 {
		b, err := json.Marshal(e.Detail) // maps marshal with sorted keys: stable for hashing
		if err != nil {
			return err
		}
		detail = string(b)
	}
	var prev auditRow
	err := tx.Select("hash").Order("id DESC").Take(&prev).Error
	prevHash := genesisHash
	if err == nil {
		prevHash = prev.Hash
	} else if !isNotFound(err) {
		return err
	}
	// PostgreSQL keeps microseconds: hash the time as it will read back, on either database.
	row := auditRow{At: e.At.UTC().Truncate(time.Microsecond), ActorStaffID: optionalID(e.ActorID), ActorLabel: e.Actor, IP: e.IP, Action: e.Action,
		CouncilID: optionalID(e.CouncilID), Target: e.Target, Detail: detail, PrevHash: prevHash}
	row.Hash = auditHash(row)
	return tx.Create(&row).Error
}

// AppendAudit records a staff action on its own.
func (s *Store) AppendAudit(ctx context.Context, e domain.AuditEntry) error {
	return s.transaction(ctx, func(tx *gorm.DB) error { return appendAudit(tx, e) })
}

// AuditVerification is the result of checking the chain.
type AuditVerification struct {
	Checked int64
	// FirstBrokenID is the first entry whose hash or link does not match (0 when intact).
	FirstBrokenID int64
	Problem       string
}

// VerifyAudit walks the whole log in order, recomputing each hash and its link to the entry
// before, in batches so memory stays flat.
func (s *Store) VerifyAudit(ctx context.Context) (AuditVerification, error) {
	var v AuditVerification
	prevHash := genesisHash
	var lastID int64
	for {
		var rows []auditRow
		if err := s.db.WithContext(ctx).Where("id > ?", lastID).Order("id").Limit(1000).Find(&rows).Error; err != nil {
			return v, err
		}
		if len(rows) == 0 {
			return v, nil
		}
		for _, r := range rows {
			v.Checked++
			switch {
			case r.PrevHash != prevHash:
				v.FirstBrokenID, v.Problem = r.ID, fmt.Sprintf("entry %d does not follow the entry before it (a row was removed or changed)", r.ID)
				return v, nil
			case auditHash(r) != r.Hash:
				v.FirstBrokenID, v.Problem = r.ID, fmt.Sprintf("entry %d has been changed since it was written", r.ID)
				return v, nil
			}
			prevHash, lastID = r.Hash, r.ID
		}
	}
}

// AuditFilter narrows the audit log view.
type AuditFilter struct {
	Action  string // prefix, e.g. "sign_in"
	ActorID int64
	From    time.Time
	To      time.Time
	Limit   int
	Offset  int
}

// AuditEntries lists entries newest first.
func (s *Store) AuditEntries(ctx context.Context, f AuditFilter) ([]domain.AuditEntry, int64, error) {
	q := s.db.WithContext(ctx).Model(&auditRow{})
	if f.Action != "" {
		q = q.Where("action LIKE ?", strings.ReplaceAll(f.Action, "%", "")+"%")
	}
	if f.ActorID != 0 {
		q = q.Where("actor_staff_id = ?", f.ActorID)
	}
	if !f.From.IsZero() {
		q = q.Where("at >= ?", f.From.UTC())
	}
	if !f.To.IsZero() {
		q = q.Where("at < ?", f.To.UTC())
	}
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, err
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 100
	}
	var rows []auditRow
	if err := q.Order("id DESC").Limit(f.Limit).Offset(f.Offset).Find(&rows).Error; err != nil {
		return nil, 0, err
	}
	out := make([]domain.AuditEntry, len(rows))
	for i, r := range rows {
		e := domain.AuditEntry{ID: r.ID, At: r.At.UTC(), Actor: r.ActorLabel, IP: r.IP, Action: r.Action, Target: r.Target, PrevHash: r.PrevHash, Hash: r.Hash}
		if r.ActorStaffID != nil {
			e.ActorID = *r.ActorStaffID
		}
		if r.CouncilID != nil {
			e.CouncilID = *r.CouncilID
		}
		_ = json.Unmarshal([]byte(r.Detail), &e.Detail)
		out[i] = e
	}
	return out, total, nil
}
