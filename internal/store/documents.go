package store

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"gorm.io/gorm"

	"github.com/herts-msp/taxi-renewals/internal/domain"
)

// documentChunkSize is how much of a document one document_chunks row holds (256 KiB).
const documentChunkSize = 256 * 1024

type documentRow struct {
	ID            int64
	RenewalID     int64
	DriverID      int64
	CouncilID     int64
	Kind          string
	ContentType   string
	FilenameGiven string
	SizeBytes     int64
	SHA256        string `gorm:"column:sha256"`
	Width         int
	Height        int
	Status        string
	ReplacedByID  *int64
	ScanResult    string
	UploadedAt    time.Time
	ReviewedBy    *int64
	ReviewedAt    *time.Time
	ReviewReason  string
}

func (documentRow) TableName() string { return "documents" }

func (r documentRow) toDomain() domain.Document {
	d := domain.Document{ID: r.ID, RenewalID: r.RenewalID, DriverID: r.DriverID, CouncilID: r.CouncilID, Kind: domain.DocumentKind(r.Kind),
		ContentType: r.ContentType, FilenameGiven: r.FilenameGiven, SizeBytes: r.SizeBytes, SHA256: r.SHA256, Width: r.Width, Height: r.Height,
		Status: domain.DocumentStatus(r.Status), ScanResult: r.ScanResult, UploadedAt: r.UploadedAt.UTC(), ReviewReason: r.ReviewReason}
	if r.ReplacedByID != nil {
		d.ReplacedByID = *r.ReplacedByID
	}
	if r.ReviewedBy != nil {
		d.ReviewedBy = *r.ReviewedBy
	}
	if r.ReviewedAt != nil {
		d.ReviewedAt = r.ReviewedAt.UTC()
	}
	return d
}

type documentChunkRow struct {
	DocumentID int64
	Seq        int
	Data       []byte
}

func (documentChunkRow) TableName() string { return "document_chunks" }

// NewDocument is a checked file to store, with its content to read.
type NewDocument struct {
	Kind          domain.DocumentKind
	ContentType   string
	FilenameGiven string
	Size          int64
	SHA256        string
	Width, Height int
	ScanResult    string
	Content       io.Reader
}

// AddDocument stores a document on the driver's open renewal, in one of the driver's own
// transactions: the record, its content in 256 KiB chunks, the previous document of the same
// kind marked replaced (it is kept), and the new one recorded in the renewal's answers. Before
// the renewal is sent the driver may replace any document; after, only one that is missing or
// was rejected.
func (s *Store) AddDocument(ctx context.Context, driverID int64, now time.Time, nd NewDocument) (domain.Document, error) {
	var out domain.Document
	err := s.driverTransaction(ctx, driverID, func(tx *gorm.DB) error {
		r, err := openRenewal(tx, driverID)
		if err != nil {
			return err
		}
		prevID := r.Answers.Documents.ID(nd.Kind)
		var prev documentRow
		if prevID != 0 {
			if err := tx.Take(&prev, prevID).Error; err != nil && !isNotFound(err) {
				return err
			}
		}
		if r.Status != domain.StatusDraft && prev.ID != 0 && prev.Status != string(domain.DocumentRejected) {
			return domain.NewError(domain.CodeConflict, "document_locked",
				"Your "+nd.Kind.Noun()+" is with the licensing team. You can upload a new one only if they ask for it.")
		}
		row := documentRow{RenewalID: r.ID, DriverID: driverID, CouncilID: r.CouncilID, Kind: string(nd.Kind), ContentType: nd.ContentType,
			FilenameGiven: nd.FilenameGiven, SizeBytes: nd.Size, SHA256: nd.SHA256, Width: nd.Width, Height: nd.Height,
			Status: string(domain.DocumentUploaded), ScanResult: nd.ScanResult, UploadedAt: now.UTC()}
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		buf := make([]byte, documentChunkSize)
		var written int64
		for seq := 0; ; seq++ {
			n, rerr := io.ReadFull(nd.Content, buf)
			if n > 0 {
				if err := tx.Create(&documentChunkRow{DocumentID: row.ID, Seq: seq, Data: buf[:n]}).Error; err != nil {
					return err
				}
				written += int64(n)
			}
			if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
				break
			}
			if rerr != nil {
				return rerr
			}
		}
		if written != nd.Size {
			return fmt.Errorf("document: stored %d bytes, expected %d", written, nd.Size)
		}
		if prev.ID != 0 && prev.Status != string(domain.DocumentReplaced) {
			if err := tx.Model(&documentRow{}).Where("id = ?", prev.ID).
				Updates(map[string]any{"status": string(domain.DocumentReplaced), "replaced_by_id": row.ID}).Error; err != nil {
				return err
			}
		}
		r.Answers.Documents.Set(nd.Kind, row.ID)
		b, err := json.Marshal(r.Answers)
		if err != nil {
			return err
		}
		if err := tx.Model(&renewalRow{}).Where("id = ?", r.ID).
			Updates(map[string]any{"answers_json": string(b), "updated_at": now.UTC()}).Error; err != nil {
			return err
		}
		if r.Status != domain.StatusDraft {
			if err := addEvent(tx, domain.CaseEvent{At: now, ActorKind: domain.ActorDriver, ActorID: driverID, Kind: "document_uploaded",
				Message: nd.Kind.Label() + " uploaded again"}, r.ID); err != nil {
				return err
			}
		}
		out = row.toDomain()
		return nil
	})
	return out, err
}

// DocumentByID finds a document's record. Callers check who may see it.
func (s *Store) DocumentByID(ctx context.Context, id int64) (domain.Document, error) {
	var row documentRow
	err := s.db.WithContext(ctx).Take(&row, id).Error
	if isNotFound(err) {
		return domain.Document{}, domain.NotFound()
	}
	if err != nil {
		return domain.Document{}, err
	}
	return row.toDomain(), nil
}

func renewalDocuments(tx *gorm.DB, renewalID int64) ([]domain.Document, error) {
	var rows []documentRow
	if err := tx.Where("renewal_id = ?", renewalID).Order("id").Find(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]domain.Document, len(rows))
	for i, r := range rows {
		out[i] = r.toDomain()
	}
	return out, nil
}

// RenewalDocuments lists every document uploaded with a renewal, oldest first, replaced ones
// included.
func (s *Store) RenewalDocuments(ctx context.Context, renewalID int64) ([]domain.Document, error) {
	return renewalDocuments(s.db.WithContext(ctx), renewalID)
}

// WriteDocument copies a document's content to w one chunk at a time.
func (s *Store) WriteDocument(ctx context.Context, id int64, w io.Writer) error {
	rows, err := s.db.WithContext(ctx).Model(&documentChunkRow{}).Select("data").Where("document_id = ?", id).Order("seq").Rows()
	if err != nil {
		return err
	}
	defer rows.Close()
	var data []byte
	for rows.Next() {
		if err := rows.Scan(&data); err != nil {
			return err
		}
		if _, err := w.Write(data); err != nil {
			return err
		}
	}
	return rows.Err()
}

// ReviewDocument records an officer's acceptance or rejection of a document on a renewal
// awaiting a decision, with a history line and an audit entry. A replaced document cannot be
// reviewed; a review can be changed until the decision.
func (s *Store) ReviewDocument(ctx context.Context, id int64, status domain.DocumentStatus, staffID int64, reason string, now time.Time, audit domain.AuditEntry) (domain.Document, error) {
	var out domain.Document
	err := s.transaction(ctx, func(tx *gorm.DB) error {
		var row documentRow
		if err := tx.Take(&row, id).Error; err != nil {
			if isNotFound(err) {
				return domain.NotFound()
			}
			return err
		}
		r, err := renewalByID(tx, row.RenewalID)
		if err != nil {
			return err
		}
		if !r.Decidable() {
			return domain.NewError(domain.CodeConflict, "not_decidable", "Documents can only be reviewed on a renewal awaiting a decision.")
		}
		if row.Status == string(domain.DocumentReplaced) {
			return domain.NewError(domain.CodeConflict, "document_replaced", "The driver has replaced this document: review the newer one.")
		}
		res := tx.Model(&documentRow{}).Where("id = ? AND status = ?", row.ID, row.Status).Updates(map[string]any{
			"status": string(status), "reviewed_by": staffID, "reviewed_at": now.UTC(), "review_reason": reason})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return domain.NewError(domain.CodeConflict, "document_changed", "This document changed while you were looking at it. Check it again.")
		}
		msg := domain.DocumentKind(row.Kind).Label() + " accepted"
		if status == domain.DocumentRejected {
			msg = domain.DocumentKind(row.Kind).Label() + " rejected: " + reason
		}
		if err := addEvent(tx, domain.CaseEvent{At: now, ActorKind: domain.ActorStaff, ActorID: staffID, Kind: "document_reviewed", Message: msg}, r.ID); err != nil {
			return err
		}
		if err := appendAudit(tx, audit); err != nil {
			return err
		}
		row.Status, row.ReviewReason = string(status), reason
		row.ReviewedBy, row.ReviewedAt = &staffID, &now
		out = row.toDomain()
		return nil
	})
	return out, err
}

// purgeDocuments deletes the documents of drivers already marked purged in tx. The triggers
// on documents and document_chunks allow it for such drivers only (migration 0010).
func purgeDocuments(tx *gorm.DB, driverIDs []int64) error {
	if err := tx.Exec("DELETE FROM document_chunks WHERE document_id IN (SELECT id FROM documents WHERE driver_id IN ?)", driverIDs).Error; err != nil {
		return err
	}
	// replaced_by_id only points between one driver's documents, all deleted by this one
	// statement; both databases check the (NO ACTION) foreign key at its end.
	return tx.Exec("DELETE FROM documents WHERE driver_id IN ?", driverIDs).Error
}
