package e2e

import "testing"

// TestInChromium starts one Chromium for every browser test; each subtest runs on its own
// server, in private browser contexts.
func TestInChromium(t *testing.T) {
	b := startBrowser(t)
	t.Run("DriverRenewsOnline", func(t *testing.T) { driverRenewsOnline(t, b) })
	t.Run("DriverPaymentNotTaken", func(t *testing.T) { driverPaymentNotTaken(t, b) })
	t.Run("DriverPaysAndClosesTheTab", func(t *testing.T) { driverPaysAndClosesTheTab(t, b) })
	t.Run("DriverPaysWhileANewLeafletIsPublished", func(t *testing.T) { driverPaysWhileANewLeafletIsPublished(t, b) })
	t.Run("DriverRenewsWithTheKeyboard", func(t *testing.T) { driverRenewsWithTheKeyboard(t, b) })
	t.Run("OfficerDecidesACase", func(t *testing.T) { officerDecidesACase(t, b) })
	t.Run("AnalystDownloadsAnExport", func(t *testing.T) { analystDownloadsAnExport(t, b) })
	t.Run("LeafletPrintsOnA4", func(t *testing.T) { leafletPrintsOnA4(t, b) })
	t.Run("AccessibilityStatementIsComplete", func(t *testing.T) { accessibilityStatementIsComplete(t, b) })
	t.Run("EveryPageIsAccessible", func(t *testing.T) { everyPageIsAccessible(t, b) })
}
