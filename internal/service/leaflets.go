package service

import (
	"context"
	"strings"

	"github.com/herts-msp/taxi-renewals/internal/domain"
	"github.com/herts-msp/taxi-renewals/internal/leaflet"
)

// PublishRequest is a new leaflet version as an administrator gives it.
type PublishRequest struct {
	Source   []byte // the leaflet file: content, then its check questions
	Version  string
	Audience string
	// Minor marks a correction that does not need drivers to acknowledge again.
	Minor bool
	By    string
}

// PublishLeaflet parses, hashes and records a new leaflet version.
func (s *Service) PublishLeaflet(ctx context.Context, req PublishRequest) (domain.LeafletVersion, error) {
	version := strings.TrimSpace(req.Version)
	if version == "" || len(version) > 40 {
		return domain.LeafletVersion{}, domain.NewError(domain.CodeInvalid, "version", "Give a version label of 1 to 40 characters, such as 2026.1")
	}
	if req.Audience == "" {
		req.Audience = domain.AudienceDriver
	}
	if req.Audience != domain.AudienceDriver && req.Audience != domain.AudiencePublic {
		return domain.LeafletVersion{}, domain.NewError(domain.CodeInvalid, "audience", "The audience must be driver or public")
	}
	src, err := leaflet.Parse(req.Source)
	if err != nil {
		return domain.LeafletVersion{}, &domain.Error{Code: domain.CodeInvalid, Reason: "leaflet_source", Message: err.Error(), Err: err}
	}
	return s.store.PublishLeaflet(ctx, domain.LeafletVersion{
		Audience: req.Audience, Version: version, Title: src.Title, Content: src.Content,
		ContentSHA256: leaflet.Hash(src.Content), Quiz: src.Quiz, RequiresReack: !req.Minor,
		PublishedAt: s.now(), PublishedBy: req.By,
	})
}

// LeafletVersions lists the published versions for an audience, oldest first.
func (s *Service) LeafletVersions(ctx context.Context, audience string) ([]domain.LeafletVersion, error) {
	return s.leafletVersions(ctx, audience)
}
