package store

import (
	"context"
	"encoding/json"

	"gorm.io/gorm"

	"github.com/herts-msp/taxi-renewals/internal/domain"
)

// PublishLeaflet records a new leaflet version. The first version of an audience must require
// acknowledgement: a "minor" first version is refused.
func (s *Store) PublishLeaflet(ctx context.Context, v domain.LeafletVersion) (domain.LeafletVersion, error) {
	quiz, err := json.Marshal(v.Quiz)
	if err != nil {
		return v, err
	}
	row := leafletRow{
		Audience: v.Audience, Version: v.Version, Title: v.Title, Content: v.Content,
		ContentSHA256: v.ContentSHA256, QuizJSON: string(quiz), RequiresReack: v.RequiresReack,
		PublishedAt: v.PublishedAt.UTC(), PublishedBy: v.PublishedBy,
	}
	err = s.transaction(ctx, func(tx *gorm.DB) error {
		var n int64
		if err := tx.Model(&leafletRow{}).Where("audience = ?", v.Audience).Count(&n).Error; err != nil {
			return err
		}
		if n == 0 && !row.RequiresReack {
			return domain.NewError(domain.CodeInvalid, "first_version_minor", "The first version of a leaflet cannot be a minor correction: every driver must acknowledge it.")
		}
		if err := tx.Model(&leafletRow{}).Where("audience = ? AND version = ?", v.Audience, v.Version).Count(&n).Error; err != nil {
			return err
		}
		if n > 0 {
			return domain.NewError(domain.CodeConflict, "version_exists", "Version "+v.Version+" of this leaflet has already been published.")
		}
		return tx.Create(&row).Error
	})
	if err != nil {
		return v, err
	}
	return row.toDomain()
}

// LeafletVersions lists every published version for an audience, oldest first.
func (s *Store) LeafletVersions(ctx context.Context, audience string) ([]domain.LeafletVersion, error) {
	return leafletVersions(s.db.WithContext(ctx), audience)
}

func leafletVersions(tx *gorm.DB, audience string) ([]domain.LeafletVersion, error) {
	var rows []leafletRow
	q := tx.Order("id")
	if audience != "" {
		q = q.Where("audience = ?", audience)
	}
	if err := q.Find(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]domain.LeafletVersion, 0, len(rows))
	for _, r := range rows {
		v, err := r.toDomain()
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// CurrentLeaflet returns the newest version for an audience.
func (s *Store) CurrentLeaflet(ctx context.Context, audience string) (domain.LeafletVersion, error) {
	var r leafletRow
	err := s.db.WithContext(ctx).Where("audience = ?", audience).Order("id DESC").Take(&r).Error
	if isNotFound(err) {
		return domain.LeafletVersion{}, domain.NewError(domain.CodeConflict, "no_leaflet",
			"The awareness leaflet has not been published yet. Please contact your council's licensing team.")
	}
	if err != nil {
		return domain.LeafletVersion{}, err
	}
	return r.toDomain()
}
