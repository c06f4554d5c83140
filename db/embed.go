// Package db holds the versioned SQL migrations and the published leaflet sources,
// embedded into the binary so a deployment needs nothing beside it.
package db

import "embed"

// Migrations holds migrations/<dialect>/NNNN_name.sql, applied in name order.
//
//go:embed migrations
var Migrations embed.FS

// Leaflets holds the leaflet sources shipped with the service (the first driver leaflet).
//
//go:embed leaflets
var Leaflets embed.FS
