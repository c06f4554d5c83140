package e2e

import (
	"testing"

	"github.com/herts-msp/taxi-renewals/internal/service"
)

// Staff passwords are hashed cheaply in these tests (argon2 at today's cost takes about 0.5 s
// under the race detector): set before any test runs.
func init() { service.UseTestPasswordCost() }

// TestInChromium starts one Chromium for every browser test; each subtest runs on its own
// server, in private browser contexts, side by side with the others.
func TestInChromium(t *testing.T) {
	b := startBrowser(t)
	parallel := func(f func(*testing.T, *browser)) func(*testing.T) {
		return func(t *testing.T) { t.Parallel(); f(t, b) }
	}
	t.Run("DriverRenewsOnline", parallel(driverRenewsOnline))
	t.Run("DriverPaymentNotTaken", parallel(driverPaymentNotTaken))
	t.Run("DriverPaysAndClosesTheTab", parallel(driverPaysAndClosesTheTab))
	t.Run("DriverPaysWhileANewLeafletIsPublished", parallel(driverPaysWhileANewLeafletIsPublished))
	t.Run("DriverRenewsWithTheKeyboard", parallel(driverRenewsWithTheKeyboard))
	t.Run("OfficerDecidesACase", parallel(officerDecidesACase))
	t.Run("AnalystDownloadsAnExport", parallel(analystDownloadsAnExport))
	t.Run("LeafletPrintsOnA4", parallel(leafletPrintsOnA4))
	t.Run("AccessibilityStatementIsComplete", parallel(accessibilityStatementIsComplete))
	t.Run("EveryPageIsAccessible", parallel(everyPageIsAccessible))
}
