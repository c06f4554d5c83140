package store

import (
	"context"
	"strconv"
	"time"

	"gorm.io/gorm"

	"github.com/herts-msp/taxi-renewals/internal/domain"
)

// Public leaflet events: enforcement operations and awareness events where the general-public
// leaflet was handed out. Recorded by a council's officers; counted beside driver coverage.

type publicEventRow struct {
	ID         int64
	CouncilID  int64
	EventDate  domain.Date
	Kind       string
	Place      string
	Leaflets   int
	RecordedBy int64
	RecordedAt time.Time
}

func (publicEventRow) TableName() string { return "public_events" }

// PublicEvent is one recorded event.
type PublicEvent struct {
	ID          int64
	CouncilID   int64
	CouncilName string
	Date        domain.Date
	Kind        string // enforcement, awareness or other
	Place       string
	Leaflets    int
	RecordedBy  string // the officer's name
	RecordedAt  time.Time
}

// RecordPublicEvent stores an event and its audit entry in one transaction.
func (s *Store) RecordPublicEvent(ctx context.Context, e PublicEvent, staffID int64, audit domain.AuditEntry) (int64, error) {
	row := publicEventRow{CouncilID: e.CouncilID, EventDate: e.Date, Kind: e.Kind, Place: e.Place, Leaflets: e.Leaflets,
		RecordedBy: staffID, RecordedAt: e.RecordedAt.UTC()}
	err := s.transaction(ctx, func(tx *gorm.DB) error {
		if err := tx.Create(&row).Error; err != nil {
			return err
		}
		audit.Target = "public_event:" + strconv.FormatInt(row.ID, 10)
		return appendAudit(tx, audit)
	})
	return row.ID, err
}

// PublicEvents lists events of the given councils (every council when councilIDs is empty),
// newest first, at most limit.
func (s *Store) PublicEvents(ctx context.Context, councilIDs []int64, limit int) ([]PublicEvent, error) {
	type listed struct {
		ID          int64
		CouncilID   int64
		EventDate   domain.Date
		Kind        string
		Place       string
		Leaflets    int
		RecordedAt  time.Time
		CouncilName string
		StaffName   string
	}
	q := s.db.WithContext(ctx).Table("public_events AS e").
		Select("e.id, e.council_id, e.event_date, e.kind, e.place, e.leaflets, e.recorded_at, c.name AS council_name, u.name AS staff_name").
		Joins("JOIN councils c ON c.id = e.council_id").
		Joins("JOIN staff_users u ON u.id = e.recorded_by")
	if len(councilIDs) > 0 {
		q = q.Where("e.council_id IN ?", councilIDs)
	}
	var rows []listed
	if err := q.Order("e.event_date DESC, e.id DESC").Limit(limit).Scan(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]PublicEvent, len(rows))
	for i, r := range rows {
		out[i] = PublicEvent{ID: r.ID, CouncilID: r.CouncilID, CouncilName: r.CouncilName, Date: r.EventDate, Kind: r.Kind,
			Place: r.Place, Leaflets: r.Leaflets, RecordedBy: r.StaffName, RecordedAt: r.RecordedAt}
	}
	return out, nil
}

// PublicEventDay is the events of one council on one day.
type PublicEventDay struct {
	CouncilID int64
	Date      domain.Date
	Events    int
	Leaflets  int
}

// PublicEventDays counts events and leaflets per council per day in [from, to), for the
// given councils (every council when empty). Reports bucket the days into their periods.
func (s *Store) PublicEventDays(ctx context.Context, councilIDs []int64, from, to domain.Date) ([]PublicEventDay, error) {
	q := s.db.WithContext(ctx).Table("public_events").
		Select("council_id, event_date AS date, COUNT(*) AS events, COALESCE(SUM(leaflets), 0) AS leaflets").
		Where("event_date >= ? AND event_date < ?", from, to)
	if len(councilIDs) > 0 {
		q = q.Where("council_id IN ?", councilIDs)
	}
	var out []PublicEventDay
	err := q.Group("council_id, event_date").Order("event_date, council_id").Scan(&out).Error
	return out, err
}
