package store_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/herts-msp/taxi-renewals/internal/domain"
	"github.com/herts-msp/taxi-renewals/internal/store"
)

// TestCoverageKeptUpByEachWrite: once built, the summaries are kept up to date by every kind of
// write a report counts, in the writing transaction: after each, they equal a fresh build and a
// report finds them current (no catch-up, no rebuild).
func TestCoverageKeptUpByEachWrite(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, _ := newStore(t)
	ranges := []store.DayRange{{From: domain.Date{Year: 2020, Month: 1, Day: 1}, To: domain.Date{Year: 2031, Month: 1, Day: 1}}}
	if s, err := st.CoverageSums(ctx, nil, ranges); err != nil || s.Rebuilt == 0 {
		t.Fatalf("first report: rebuilt %v, %v", s.Rebuilt, err)
	}
	var writes, statements int64
	check := func(step string) {
		t.Helper()
		// Statements the writes ran to count themselves for the summaries (each a round trip on
		// PostgreSQL), beside the one read of the notes every write transaction makes.
		w, n := st.CoverageWriteStatements()
		t.Logf("%s: %d write transactions with something to count ran %d statements for it", step, w-writes, n-statements)
		diffs, err := st.VerifyCoverageSummary(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(diffs) > 0 {
			t.Errorf("after %s the summaries differ from a fresh build:\n%s", step, strings.Join(diffs, "\n"))
		}
		before, err := st.CoverageSums(ctx, nil, ranges)
		if err != nil {
			t.Fatal(err)
		}
		// Folded into the summaries, the deltas count the same.
		if _, err := st.FoldCoverageDeltas(ctx); err != nil {
			t.Fatal(err)
		}
		if diffs, err := st.VerifyCoverageSummary(ctx); err != nil || len(diffs) > 0 {
			t.Errorf("after %s and a fold the summaries differ from a fresh build (%v):\n%s", step, err, strings.Join(diffs, "\n"))
		}
		s, err := st.CoverageSums(ctx, nil, ranges)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(before, s); diff != "" {
			t.Errorf("after %s a fold changed the report -before +after\n%s", step, diff)
		}
		if s.Rebuilt != 0 || st.CoverageCatchUps() != 1 {
			t.Errorf("after %s a report caught up the summaries (%v; %d catch-ups)", step, s.Rebuilt, st.CoverageCatchUps())
		}
		writes, statements = st.CoverageWriteStatements()
	}
	c, err := st.CouncilBySlug(ctx, "stevenage")
	if err != nil {
		t.Fatal(err)
	}
	officer, err := st.CreateStaff(ctx, domain.StaffUser{Email: "officer@example.org", Name: "Officer", Role: domain.RoleOfficer, CouncilID: c.ID}, "x", false, now)
	if err != nil {
		t.Fatal(err)
	}
	v1, err := st.PublishLeaflet(ctx, domain.LeafletVersion{Audience: domain.AudienceDriver, Version: "1.0", Title: "Leaflet", Content: "# Leaflet\n",
		ContentSHA256: "h1", RequiresReack: true, PublishedAt: now.Add(-400 * 24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	check("publishing the first version")
	audit := domain.AuditEntry{At: now, Actor: "test", Action: "test", Detail: map[string]any{}}
	var drivers []domain.Driver
	for _, n := range []string{"INC1", "INC2", "INC3"} {
		d := domain.Driver{CouncilID: c.ID, LicenceNumber: n, GivenNames: "Ada", FamilyName: "King", DateOfBirth: domain.Date{Year: 1980, Month: 1, Day: 1},
			Email: strings.ToLower(n) + "@example.org", LicenceStart: domain.Date{Year: 2024, Month: 1, Day: 1}, LicenceExpiry: domain.Date{Year: 2026, Month: 12, Day: 31}, Status: "active"}
		if err := st.UpsertDrivers(ctx, []domain.Driver{d}, now); err != nil {
			t.Fatal(err)
		}
		if d, err = st.DriverByLicence(ctx, c.ID, n); err != nil {
			t.Fatal(err)
		}
		drivers = append(drivers, d)
	}
	check("a register import adding drivers")
	d, d2, d3 := drivers[0], drivers[1], drivers[2]

	// The driver's own journey.
	if _, err := st.StartRenewal(ctx, d, now); err != nil {
		t.Fatal(err)
	}
	check("a draft started (counted nowhere)")
	if _, _, err := st.IssueOnline(ctx, d, now); err != nil {
		t.Fatal(err)
	}
	check("an online issue")
	if _, err := st.UpdateDraft(ctx, d.ID, now, func(a *domain.Answers) { a.QuizPassedLeafletID = v1.ID }); err != nil {
		t.Fatal(err)
	}
	if _, err := st.AcknowledgeOnline(ctx, d, v1.ID, now); err != nil {
		t.Fatal(err)
	}
	check("an online acknowledgement")
	completeDraft(t, st, d)
	if _, err := st.SubmitRenewal(ctx, d.ID, now, "INC-R1", false, store.OutboxMessage{}); err != nil {
		t.Fatal(err)
	}
	check("a renewal sent")

	// An officer's.
	if _, err := st.RecordStaffEvidence(ctx, domain.Evidence{Kind: domain.KindIssue, DriverID: d2.ID, CouncilID: c.ID, LeafletID: v1.ID,
		Channel: domain.ChannelPost, OccurredAt: now.Add(-301 * 24 * time.Hour), RecordedAt: now, ActorKind: domain.ActorStaff, ActorID: officer.ID}, audit); err != nil {
		t.Fatal(err)
	}
	check("an issue recorded by an officer")
	ack, err := st.RecordStaffEvidence(ctx, domain.Evidence{Kind: domain.KindAcknowledgement, DriverID: d2.ID, CouncilID: c.ID, LeafletID: v1.ID,
		Channel: domain.ChannelInPerson, OccurredAt: now.Add(-300 * 24 * time.Hour), RecordedAt: now, ActorKind: domain.ActorStaff, ActorID: officer.ID}, audit)
	if err != nil {
		t.Fatal(err)
	}
	check("an acknowledgement recorded by an officer")
	if _, err := st.VoidEvidence(ctx, domain.Evidence{VoidsID: ack.ID, OccurredAt: now, RecordedAt: now, ActorKind: domain.ActorStaff, Reason: "wrong driver"}, audit); err != nil {
		t.Fatal(err)
	}
	check("a void")
	for _, kind := range []domain.EvidenceKind{domain.KindIssue, domain.KindAcknowledgement} {
		if _, err := st.RecordStaffEvidence(ctx, domain.Evidence{Kind: kind, DriverID: d3.ID, CouncilID: c.ID, LeafletID: v1.ID, Channel: domain.ChannelInPerson,
			OccurredAt: now, RecordedAt: now, ActorKind: domain.ActorStaff, ActorID: officer.ID}, audit); err != nil {
			t.Fatal(err)
		}
	}
	r, err := st.StartPaperRenewal(ctx, d3, officer.ID, now, "INC-P1", 3, audit)
	if err != nil {
		t.Fatal(err)
	}
	check("a paper renewal")
	for _, ct := range domain.CheckTypes {
		if err := st.RecordCheck(ctx, domain.StatutoryCheck{RenewalID: r.ID, Type: ct, CheckedOn: domain.DateOf(now), Result: domain.CheckSatisfactory,
			RecordedBy: officer.ID, RecordedAt: now}, audit); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.RecordOfficePayment(ctx, domain.Payment{RenewalID: r.ID, Method: domain.PaymentCounter, Amount: 33000, Receipt: "R-1",
		RecordedBy: officer.ID, CreatedAt: now}, domain.CaseEvent{At: now, ActorKind: domain.ActorStaff, ActorID: officer.ID, Kind: "fee_recorded"}, audit); err != nil {
		t.Fatal(err)
	}
	_, err = st.Approve(ctx, r.ID, officer.ID, now.Add(time.Hour), domain.DateOf(now), 3, audit,
		func(domain.Driver, domain.Renewal) store.OutboxMessage { return store.OutboxMessage{} })
	if err != nil {
		t.Fatal(err)
	}
	check("an approval (new licence dates)")

	// The register's corrections and statuses.
	d2.LicenceExpiry = domain.Date{Year: 2025, Month: 6, Day: 30}
	d2.Status, d2.StatusFrom = domain.DriverSuspended, domain.Date{Year: 2025, Month: 3, Day: 1}
	if err := st.UpsertDrivers(ctx, []domain.Driver{d2}, now); err != nil {
		t.Fatal(err)
	}
	check("a correction shortening a licence and a dated suspension")

	// An admin's: a refresher interval, and new versions with and without re-acknowledgement.
	set := c.Settings()
	set.DecisionDays, set.MedicalIntervalYears, set.RefresherYears = max(set.DecisionDays, 1), max(set.MedicalIntervalYears, 1), 1
	if _, err := st.UpdateCouncilSettings(ctx, c.Slug, set, audit); err != nil {
		t.Fatal(err)
	}
	check("a refresher interval")
	for i, reack := range []bool{false, true} {
		_, err := st.PublishLeaflet(ctx, domain.LeafletVersion{Audience: domain.AudienceDriver, Version: []string{"1.1", "2.0"}[i], Title: "Leaflet",
			Content: "# Leaflet\n", ContentSHA256: []string{"h2", "h3"}[i], RequiresReack: reack, PublishedAt: now.Add(-100 * 24 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		check([]string{"a minor version", "a version requiring re-acknowledgement"}[i])
	}
}

// TestCoverageFoldsUnderConcurrentWrites: drivers' journeys (issue, acknowledgement, renewal
// sent), folds (two at a time), a full rebuild and reports all run side by side. Every report
// is exact: it counts at least every write finished before it began and at most every write
// begun before it ended (a fold seen half, or a delta counted in both the summaries and the
// deltas, or lost, would break that). At the end the summaries, folded and not, equal a fresh
// build, and a report counts every write.
func TestCoverageFoldsUnderConcurrentWrites(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, _ := newStore(t)
	ranges := []store.DayRange{{From: domain.Date{Year: 2020, Month: 1, Day: 1}, To: domain.Date{Year: 2031, Month: 1, Day: 1}}}
	v1, err := st.PublishLeaflet(ctx, domain.LeafletVersion{Audience: domain.AudienceDriver, Version: "1.0", Title: "Leaflet", Content: "# Leaflet\n",
		ContentSHA256: "h1", RequiresReack: true, PublishedAt: now.Add(-400 * 24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	const writers, perWriter = 6, 8
	var drivers []domain.Driver
	for i, slug := range []string{"stevenage", "watford", "dacorum"} {
		c, err := st.CouncilBySlug(ctx, slug)
		if err != nil {
			t.Fatal(err)
		}
		var batch []domain.Driver
		for j := range writers * perWriter / 3 {
			n := fmt.Sprintf("FOLD%d-%02d", i, j)
			batch = append(batch, domain.Driver{CouncilID: c.ID, LicenceNumber: n, GivenNames: "Ada", FamilyName: "King",
				DateOfBirth: domain.Date{Year: 1980, Month: 1, Day: 1}, Email: strings.ToLower(n) + "@example.org",
				LicenceStart: domain.Date{Year: 2024, Month: 1, Day: 1}, LicenceExpiry: domain.Date{Year: 2027, Month: 12, Day: 31}, Status: "active"})
		}
		if err := st.UpsertDrivers(ctx, batch, now); err != nil {
			t.Fatal(err)
		}
		for _, d := range batch {
			got, err := st.DriverByLicence(ctx, c.ID, d.LicenceNumber)
			if err != nil {
				t.Fatal(err)
			}
			drivers = append(drivers, got)
		}
	}
	if s, err := st.CoverageSums(ctx, nil, ranges); err != nil || s.Rebuilt == 0 {
		t.Fatalf("first report: rebuilt %v, %v", s.Rebuilt, err)
	}
	// Writes of each kind begun and finished.
	var begun, done [3]atomic.Int64 // issues, acknowledgements, renewals sent
	totals := func(s store.CoverageSums) [3]int64 {
		var out [3]int64
		for _, e := range s.Evidence {
			switch domain.EvidenceKind(e.Kind) {
			case domain.KindIssue:
				out[0] += int64(e.N)
			case domain.KindAcknowledgement:
				out[1] += int64(e.N)
			}
		}
		for _, r := range s.Renewals {
			out[2] += int64(r.Submitted)
		}
		return out
	}
	var writing sync.WaitGroup
	errs := make(chan error, 100)
	step := func(kind int, fn func() error) {
		begun[kind].Add(1)
		if err := fn(); err != nil {
			errs <- err
			return
		}
		done[kind].Add(1)
	}
	for w := range writers {
		writing.Add(1)
		go func() {
			defer writing.Done()
			for _, d := range drivers[w*perWriter : (w+1)*perWriter] {
				if _, err := st.StartRenewal(ctx, d, now); err != nil {
					errs <- err
					return
				}
				step(0, func() error { _, _, err := st.IssueOnline(ctx, d, now); return err })
				if _, err := st.UpdateDraft(ctx, d.ID, now, func(a *domain.Answers) { a.QuizPassedLeafletID = v1.ID }); err != nil {
					errs <- err
					return
				}
				step(1, func() error { _, err := st.AcknowledgeOnline(ctx, d, v1.ID, now); return err })
				completeDraft(t, st, d)
				step(2, func() error {
					_, err := st.SubmitRenewal(ctx, d.ID, now, "FOLD-"+d.LicenceNumber, false, store.OutboxMessage{})
					return err
				})
			}
		}()
	}
	stop := make(chan struct{})
	var others sync.WaitGroup
	var folded, reports atomic.Int64
	for range 2 {
		others.Add(1)
		go func() {
			defer others.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				n, err := st.FoldCoverageDeltas(ctx)
				if err != nil {
					errs <- err
					return
				}
				folded.Add(int64(n))
				time.Sleep(time.Millisecond)
			}
		}()
	}
	var bad []string
	var badMu sync.Mutex
	for range 2 {
		others.Add(1)
		go func() {
			defer others.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				var lo, hi [3]int64
				for k := range lo {
					lo[k] = done[k].Load()
				}
				s, err := st.CoverageSums(ctx, nil, ranges)
				if err != nil {
					errs <- err
					return
				}
				for k := range hi {
					hi[k] = begun[k].Load()
				}
				reports.Add(1)
				got := totals(s)
				for k := range got {
					if got[k] < lo[k] || got[k] > hi[k] {
						badMu.Lock()
						bad = append(bad, fmt.Sprintf("%s: report counts %d, writes finished before it %d, begun before it ended %d",
							[]string{"issues", "acknowledgements", "renewals sent"}[k], got[k], lo[k], hi[k]))
						badMu.Unlock()
					}
				}
			}
		}()
	}
	others.Add(1)
	go func() { // one rebuild in the middle of it all
		defer others.Done()
		for done[1].Load() < writers*perWriter/3 {
			time.Sleep(time.Millisecond)
		}
		if _, err := st.RebuildCoverageSummary(ctx); err != nil {
			errs <- err
		}
	}()
	writing.Wait()
	close(stop)
	others.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for i, b := range bad {
		if i == 20 {
			t.Errorf("... and %d more", len(bad)-i)
			break
		}
		t.Error(b)
	}
	t.Logf("%d reports and %d delta rows folded during %d journeys", reports.Load(), folded.Load(), len(drivers))
	if folded.Load() == 0 || reports.Load() < 10 {
		t.Errorf("tested too little: %d delta rows folded, %d reports", folded.Load(), reports.Load())
	}
	check := func(when string) {
		t.Helper()
		diffs, err := st.VerifyCoverageSummary(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(diffs) > 0 {
			t.Errorf("%s the summaries differ from a fresh build:\n%s", when, strings.Join(diffs, "\n"))
		}
		s, err := st.CoverageSums(ctx, nil, ranges)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := totals(s), [3]int64{int64(len(drivers)), int64(len(drivers)), int64(len(drivers))}; got != want {
			t.Errorf("%s a report counts %v (issues, acknowledgements, renewals sent), want %v", when, got, want)
		}
	}
	check("at the end")
	if _, err := st.FoldCoverageDeltas(ctx); err != nil {
		t.Fatal(err)
	}
	check("after a last fold")
}
