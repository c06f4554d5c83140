package web_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/herts-msp/taxi-renewals/internal/domain"
	"github.com/herts-msp/taxi-renewals/internal/testenv"
)

// BenchmarkDriverJourney measures one complete online renewal over real HTTP on a SQLite
// file: sign-in with a code, four sections, the awareness step, check answers and submit
// (24 requests). Each iteration is a different driver.
func BenchmarkDriverJourney(b *testing.B) {
	env := testenv.New(b, testenv.Options{})
	ctx := context.Background()
	council, err := env.Store.CouncilBySlug(ctx, "stevenage")
	if err != nil {
		b.Fatal(err)
	}
	dob, _ := domain.ParseISODate(testenv.DriverDOB)
	exp := domain.DateOf(testenv.Start).AddDays(30)
	drivers := make([]domain.Driver, b.N)
	for i := range drivers {
		drivers[i] = domain.Driver{CouncilID: council.ID, LicenceNumber: fmt.Sprintf("STE-B%06d", i), GivenNames: "Bench", FamilyName: "Driver",
			DateOfBirth: dob, Email: fmt.Sprintf("STE-B%06d@example.org", i), LicenceStart: exp.AddYears(-1), LicenceExpiry: exp}
	}
	if err := env.Store.UpsertDrivers(ctx, drivers, testenv.Start); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		env.Clock.Advance(16 * time.Minute) // a new rate-limit window: every iteration signs in from 127.0.0.1
		br := env.SignIn(b, "stevenage", drivers[i].LicenceNumber)
		br.CompleteSections()
		br.CompleteAwareness()
		br.Get("/renew/check-answers")
		if p := br.Post("/renew/submit", nil); p.Status != http.StatusSeeOther {
			b.Fatalf("submit: %d", p.Status)
		}
	}
	b.ReportMetric(24, "requests/op")
}
