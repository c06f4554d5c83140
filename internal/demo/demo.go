// Package demo loads made-up drivers for `serve --demo`. Nothing here runs without --demo.
package demo

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io/fs"
	"time"

	"github.com/herts-msp/taxi-renewals/db"
	"github.com/herts-msp/taxi-renewals/internal/document"
	"github.com/herts-msp/taxi-renewals/internal/domain"
	"github.com/herts-msp/taxi-renewals/internal/service"
	"github.com/herts-msp/taxi-renewals/internal/store"
)

// FirstLeafletFile is the driver leaflet shipped with the service.
const FirstLeafletFile = "leaflets/driver-v1.md"

// PublishFirstLeaflet publishes the shipped driver leaflet as version 1.0 when no driver
// leaflet has been published yet.
func PublishFirstLeaflet(ctx context.Context, svc *service.Service) error {
	versions, err := svc.LeafletVersions(ctx, domain.AudienceDriver)
	if err != nil || len(versions) > 0 {
		return err
	}
	src, err := fs.ReadFile(db.Leaflets, FirstLeafletFile)
	if err != nil {
		return err
	}
	_, err = svc.PublishLeaflet(ctx, service.PublishRequest{Source: src, Version: "1.0", By: "demo seed"})
	if domain.ErrorReason(err) == "version_exists" {
		return nil // another instance starting on the same database published it just now
	}
	return err
}

// Driver is a demo driver as printed for whoever runs the demo.
type Driver struct {
	Council string
	domain.Driver
	Note string
}

type person struct {
	council, licence, given, family, dob string
	expiresInDays                        int
	note                                 string
}

// people are made up; names show the service takes any letters.
var people = []person{
	{"dacorum", "DAC-20417", "Priya", "Patel", "1979-03-14", 45, "due for renewal"},
	{"watford", "WAT-31552", "Mehmet", "Yılmaz", "1985-11-02", 30, "renewal already sent, for officers to work"},
	{"st-albans", "STA-11873", "Siobhán", "Ó Briain", "1971-07-23", 60, "due for renewal"},
	{"stevenage", "STE-40291", "Kwame", "Mensah", "1990-01-30", 12, "due for renewal"},
	{"welwyn-hatfield", "WEL-50318", "Agnieszka", "Wójcik", "1983-05-09", 80, "due for renewal"},
	{"hertsmere", "HER-60104", "Tomasz", "Nowak", "1976-09-17", 20, "renewal already sent, for officers to work"},
	{"broxbourne", "BRO-70022", "Zoë", "Clarke", "1988-12-01", 55, "due for renewal"},
	{"north-hertfordshire", "NHE-80777", "Imran", "Hussain", "1969-04-04", 200, "not due yet: expires in 200 days"},
	{"three-rivers", "THR-90013", "Grace", "O’Neill", "1992-06-21", -10, "expired 10 days ago"},
	{"east-hertfordshire", "EHE-10550", "David", "Okafor", "1981-02-28", 70, "due for renewal"},
}

// Seed adds the demo drivers to their councils' registers, with expiry dates counted from
// the first start's today so they are due (or deliberately not). Drivers already there are
// left as they are.
func Seed(ctx context.Context, st *store.Store, today domain.Date, now time.Time) ([]Driver, error) {
	var drivers []domain.Driver
	var out []Driver
	for _, p := range people {
		council, err := st.CouncilBySlug(ctx, p.council)
		if err != nil {
			return nil, fmt.Errorf("demo: council %s: %w", p.council, err)
		}
		dob, err := domain.ParseISODate(p.dob)
		if err != nil {
			return nil, err
		}
		if existing, err := st.DriverByLicence(ctx, council.ID, p.licence); err == nil {
			// Seeded on an earlier start: keep what officers have done since (a renewal
			// approved moves the expiry on), rather than resetting it.
			out = append(out, Driver{Council: council.Name, Driver: existing, Note: p.note})
			continue
		}
		expiry := today.AddDays(p.expiresInDays)
		d := domain.Driver{
			CouncilID: council.ID, LicenceNumber: p.licence, GivenNames: p.given, FamilyName: p.family,
			DateOfBirth: dob, Email: fmt.Sprintf("%s@example.org", p.licence), Phone: "07700900123",
			Postcode: "AL8 6XF", LicenceStart: expiry.AddYears(-3), LicenceExpiry: expiry, Status: "active",
		}
		drivers = append(drivers, d)
		out = append(out, Driver{Council: council.Name, Driver: d, Note: p.note})
	}
	if len(drivers) == 0 {
		return out, nil
	}
	if err := st.UpsertDrivers(ctx, drivers, now); err != nil {
		return nil, err
	}
	return out, nil
}

// SubmitDemoRenewals sends online renewals for a few demo drivers, through the same store
// calls the driver's journey makes (leaflet issued, check passed, photo uploaded, acknowledged,
// submitted), so officers have a queue to work. Drivers who already have one are left alone.
func SubmitDemoRenewals(ctx context.Context, st *store.Store, licences map[string]string, now time.Time) error {
	medical, _ := domain.ParseISODate("2026-06-01")
	photo, err := demoPhoto()
	if err != nil {
		return err
	}
	for slug, licence := range licences {
		council, err := st.CouncilBySlug(ctx, slug)
		if err != nil {
			return err
		}
		d, err := st.DriverByLicence(ctx, council.ID, licence)
		if err != nil {
			return err
		}
		if r, err := st.LatestRenewal(ctx, d.ID); err == nil && r.Status != domain.StatusDraft {
			continue
		}
		if _, err := st.StartRenewal(ctx, d, now); err != nil {
			return err
		}
		_, v, err := st.IssueOnline(ctx, d, now)
		if err != nil {
			return err
		}
		if _, err := st.UpdateDraft(ctx, d.ID, now, func(a *domain.Answers) {
			a.Contact = domain.ContactAnswers{Saved: true, Email: d.Email, Phone: d.Phone, AddressLine1: "1 High Street", Town: "Watford", Postcode: d.Postcode}
			a.Licence = domain.LicenceAnswers{Saved: true, DVLANumber: "MORGA753116SM9IJ", DVLACheckCode: "Ab12Cd34", TermYears: 3}
			a.Checks = domain.CheckAnswers{Saved: true, DBSUpdateService: "yes", DBSNumber: "001234567890", DBSConsent: true, TaxCheckCode: "ABC123DEF", MedicalDate: medical, RightToWork: domain.RightToWorkPassport}
			a.Declarations = domain.DeclarationAnswers{Saved: true, Truthful: true}
			a.QuizPassedLeafletID = v.ID
		}); domain.ErrorReason(err) == "not_draft" {
			continue // another instance starting on the same database sent it just now
		} else if err != nil {
			return err
		}
		sum := sha256.Sum256(photo)
		if _, err := st.AddDocument(ctx, d.ID, now, store.NewDocument{Kind: domain.DocumentPhoto, ContentType: "image/jpeg",
			FilenameGiven: "photo.jpg", Size: int64(len(photo)), SHA256: hex.EncodeToString(sum[:]),
			Width: demoPhotoWidth, Height: demoPhotoHeight, ScanResult: "not scanned", Content: bytes.NewReader(photo)}); domain.ErrorReason(err) == "document_locked" {
			continue // another instance starting on the same database sent it just now
		} else if err != nil {
			return err
		}
		if _, err := st.AcknowledgeOnline(ctx, d, v.ID, now); err != nil {
			return err
		}
		if _, err := st.SubmitRenewal(ctx, d.ID, now, service.NewReference(), false, store.OutboxMessage{}); err != nil {
			return err
		}
	}
	return nil
}

// The demo photo is the smallest a badge can be printed from.
const demoPhotoWidth, demoPhotoHeight = document.MinPhotoWidth, document.MinPhotoHeight

// demoPhoto is a made-up photo for the demo's sent renewals, which need one like any other.
func demoPhoto() ([]byte, error) {
	img := image.NewRGBA(image.Rect(0, 0, demoPhotoWidth, demoPhotoHeight))
	for y := range demoPhotoHeight {
		for x := range demoPhotoWidth {
			img.Set(x, y, color.RGBA{uint8(x / 3), uint8(y / 3), 140, 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 80}); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// SetCouncilContacts gives each council a made-up licensing address, where none is set, so
// `renewals report` has somewhere to send the demo reports.
func SetCouncilContacts(ctx context.Context, svc *service.Service) error {
	councils, err := svc.Councils(ctx)
	if err != nil {
		return err
	}
	for _, c := range councils {
		if c.ContactEmail != "" {
			continue
		}
		if _, err := svc.SetCouncilContact(ctx, service.SystemActor("demo seed"), c.Slug, "licensing@"+c.Slug+".example.gov.uk"); err != nil {
			return err
		}
	}
	return nil
}

// NoOnlinePaymentCouncil is the demo council that does not take the fee online, to show that
// path: its drivers send their renewal and the licensing team takes the fee another way.
const NoOnlinePaymentCouncil = "three-rivers"

// DemoPaymentKey is the made-up API key of a council's account on the local payment stand-in.
func DemoPaymentKey(councilSlug string) string {
	return "demo-" + councilSlug + "-api-key-not-a-real-key"
}

// SetPaymentKeys gives every demo council but one an account on the local payment stand-in.
func SetPaymentKeys(ctx context.Context, svc *service.Service) error {
	councils, err := svc.Councils(ctx)
	if err != nil {
		return err
	}
	for _, c := range councils {
		if c.Slug == NoOnlinePaymentCouncil || c.PaymentKeySet {
			continue
		}
		if err := svc.SetCouncilPaymentKey(ctx, service.SystemActor("demo seed"), c.Slug, DemoPaymentKey(c.Slug)); err != nil {
			return err
		}
	}
	return nil
}
