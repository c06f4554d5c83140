package store

import (
	"context"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/herts-msp/taxi-renewals/internal/domain"
)

// Councils lists the councils in name order.
func (s *Store) Councils(ctx context.Context) ([]domain.Council, error) {
	var rows []councilRow
	if err := s.db.WithContext(ctx).Order("name").Find(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]domain.Council, len(rows))
	for i, r := range rows {
		out[i] = r.toDomain()
	}
	return out, nil
}

// CouncilBySlug finds a council by its stable slug.
func (s *Store) CouncilBySlug(ctx context.Context, slug string) (domain.Council, error) {
	var r councilRow
	err := s.db.WithContext(ctx).Where("slug = ?", slug).Take(&r).Error
	if isNotFound(err) {
		return domain.Council{}, domain.NewError(domain.CodeNotFound, "council_not_found", "There is no council with that name.")
	}
	return r.toDomain(), err
}

// CouncilByID finds a council by id.
func (s *Store) CouncilByID(ctx context.Context, id int64) (domain.Council, error) {
	var r councilRow
	err := s.db.WithContext(ctx).Take(&r, id).Error
	if isNotFound(err) {
		return domain.Council{}, domain.NewError(domain.CodeNotFound, "council_not_found", "There is no such council.")
	}
	return r.toDomain(), err
}

// DriverByLicence finds a driver on a council's register by licence number.
func (s *Store) DriverByLicence(ctx context.Context, councilID int64, licenceNumber string) (domain.Driver, error) {
	var r driverRow
	err := s.db.WithContext(ctx).Where("council_id = ? AND licence_number = ?", councilID, licenceNumber).Take(&r).Error
	if isNotFound(err) {
		return domain.Driver{}, domain.NotFound()
	}
	return r.toDomain(), err
}

// DriverByID finds a driver by id.
func (s *Store) DriverByID(ctx context.Context, id int64) (domain.Driver, error) {
	var r driverRow
	err := s.db.WithContext(ctx).Take(&r, id).Error
	if isNotFound(err) {
		return domain.Driver{}, domain.NotFound()
	}
	return r.toDomain(), err
}

// UpsertDrivers adds drivers to registers, or updates them when the council already has that
// licence number, all in one transaction. A driver's StatusFrom, when zero, is worked out as a
// register import does (domain.StatusFromOf, with today the London day of now), so the status
// history is written the same way.
func (s *Store) UpsertDrivers(ctx context.Context, drivers []domain.Driver, now time.Time) error {
	today := s.londonDay(now)
	return s.transaction(ctx, func(tx *gorm.DB) error {
		for _, d := range drivers {
			if d.Status == "" {
				d.Status = domain.DriverActive
			}
			var old *domain.Driver
			var existing driverRow
			err := tx.Where("council_id = ? AND licence_number = ?", d.CouncilID, d.LicenceNumber).Take(&existing).Error
			switch {
			case err == nil:
				o := existing.toDomain()
				old = &o
			case !isNotFound(err):
				return err
			}
			row := driverRow{
				CouncilID: d.CouncilID, LicenceNumber: d.LicenceNumber, GivenNames: d.GivenNames,
				FamilyName: d.FamilyName, DateOfBirth: d.DateOfBirth, Email: d.Email, Phone: d.Phone,
				Postcode: d.Postcode, LicenceStart: d.LicenceStart, LicenceExpiry: d.LicenceExpiry,
				Status: d.Status, StatusFrom: domain.StatusFromOf(old, d, today), CreatedAt: now.UTC(), UpdatedAt: now.UTC(),
			}
			err = tx.Clauses(clause.OnConflict{
				Columns:   []clause.Column{{Name: "council_id"}, {Name: "licence_number"}},
				DoUpdates: clause.AssignmentColumns(driverUpsertColumns),
			}).Create(&row).Error
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// driverUpsertColumns are the columns a register write sets on a driver already on the register.
var driverUpsertColumns = []string{"given_names", "family_name", "date_of_birth", "email",
	"phone", "postcode", "licence_start", "licence_expiry", "status", "status_from", "updated_at"}

// SetCouncilContact sets the email address a council's reports are sent to, with an audit entry.
func (s *Store) SetCouncilContact(ctx context.Context, slug, email string, audit domain.AuditEntry) (domain.Council, error) {
	var out domain.Council
	err := s.transaction(ctx, func(tx *gorm.DB) error {
		var r councilRow
		if err := tx.Where("slug = ?", slug).Take(&r).Error; err != nil {
			if isNotFound(err) {
				return domain.NewError(domain.CodeNotFound, "council_not_found", "There is no council "+slug+".")
			}
			return err
		}
		if err := tx.Model(&councilRow{}).Where("id = ?", r.ID).Update("contact_email", email).Error; err != nil {
			return err
		}
		r.ContactEmail = email
		out = r.toDomain()
		audit.CouncilID, audit.Target = r.ID, "council:"+slug
		return appendAudit(tx, audit)
	})
	return out, err
}
