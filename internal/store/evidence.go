package store

import (
	"context"
	"time"

	"gorm.io/gorm"

	"github.com/herts-msp/taxi-renewals/internal/domain"
)

func driverEvidence(tx *gorm.DB, driverID int64) ([]domain.Evidence, error) {
	var rows []evidenceRow
	if err := tx.Where("driver_id = ?", driverID).Order("id").Find(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]domain.Evidence, len(rows))
	for i, r := range rows {
		out[i] = r.toDomain()
	}
	return out, nil
}

// driverAwareness reads a driver's evidence and the driver leaflet versions inside tx.
func driverAwareness(tx *gorm.DB, driverID int64) (domain.Awareness, []domain.Evidence, error) {
	versions, err := leafletVersions(tx, domain.AudienceDriver)
	if err != nil {
		return domain.Awareness{}, nil, err
	}
	evidence, err := driverEvidence(tx, driverID)
	if err != nil {
		return domain.Awareness{}, nil, err
	}
	return domain.AssessAwareness(versions, evidence), evidence, nil
}

// DriverAwareness works out where a driver stands with the leaflet now.
func (s *Store) DriverAwareness(ctx context.Context, driverID int64) (domain.Awareness, error) {
	aw, _, err := driverAwareness(s.db.WithContext(ctx), driverID)
	return aw, err
}

// DriverEvidence lists a driver's evidence records, oldest first.
func (s *Store) DriverEvidence(ctx context.Context, driverID int64) ([]domain.Evidence, error) {
	return driverEvidence(s.db.WithContext(ctx), driverID)
}

// IssueOnline records that the current leaflet was shown to a driver online. Showing the same
// version again records nothing new: one issue per driver per version is the evidence that counts.
func (s *Store) IssueOnline(ctx context.Context, driver domain.Driver, now time.Time) (domain.Evidence, domain.LeafletVersion, error) {
	var issued domain.Evidence
	var current domain.LeafletVersion
	err := s.driverTransaction(ctx, driver.ID, func(tx *gorm.DB) error {
		aw, evidence, err := driverAwareness(tx, driver.ID)
		if err != nil {
			return err
		}
		if aw.Status == domain.AwarenessNoLeaflet {
			return domain.NewError(domain.CodeConflict, "no_leaflet", "The awareness leaflet has not been published yet. Please contact your council's licensing team.")
		}
		current = aw.Current
		for _, e := range evidence {
			if e.Kind == domain.KindIssue && e.LeafletID == current.ID && !voidedIn(evidence, e.ID) {
				issued = e
				return nil
			}
		}
		row := evidenceRowOf(domain.Evidence{
			Kind: domain.KindIssue, DriverID: driver.ID, CouncilID: driver.CouncilID, LeafletID: current.ID,
			ContentSHA256: current.ContentSHA256, Channel: domain.ChannelOnline, OccurredAt: now, RecordedAt: now,
			ActorKind: domain.ActorDriver, ActorID: driver.ID,
		})
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		issued = row.toDomain()
		return nil
	})
	return issued, current, err
}

func voidedIn(evidence []domain.Evidence, id int64) bool {
	for _, e := range evidence {
		if e.Kind == domain.KindVoid && e.VoidsID == id {
			return true
		}
	}
	return false
}

// AcknowledgeOnline records a driver's own acknowledgement of leafletID, after checking in the
// same transaction that it is the current version, that it was issued to them and that they
// passed the check questions on it. Acknowledging the same version twice records it once.
func (s *Store) AcknowledgeOnline(ctx context.Context, driver domain.Driver, leafletID int64, now time.Time) (domain.Evidence, error) {
	var ack domain.Evidence
	err := s.driverTransaction(ctx, driver.ID, func(tx *gorm.DB) error {
		aw, evidence, err := driverAwareness(tx, driver.ID)
		if err != nil {
			return err
		}
		if aw.Status == domain.AwarenessAcknowledged && aw.Acknowledgement.LeafletID == leafletID {
			ack = aw.Acknowledgement
			return nil
		}
		draft, err := openRenewal(tx, driver.ID)
		if err != nil {
			return err
		}
		if err := domain.CheckAcknowledgeable(aw, evidence, leafletID, draft.Answers.QuizPassedLeafletID); err != nil {
			return err
		}
		row := evidenceRowOf(domain.Evidence{
			Kind: domain.KindAcknowledgement, DriverID: driver.ID, CouncilID: driver.CouncilID, LeafletID: leafletID,
			ContentSHA256: aw.Current.ContentSHA256, Channel: domain.ChannelOnline, OccurredAt: now, RecordedAt: now,
			ActorKind: domain.ActorDriver, ActorID: driver.ID,
		})
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		ack = row.toDomain()
		return nil
	})
	return ack, err
}
