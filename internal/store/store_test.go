package store_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	_ "github.com/mattn/go-sqlite3"

	"github.com/herts-msp/taxi-renewals/internal/domain"
	"github.com/herts-msp/taxi-renewals/internal/store"
	"github.com/herts-msp/taxi-renewals/internal/testdb"
)

// now is the fixed "now" of these tests, in UTC.
var now = time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)

// openStore opens a store on a new temp database without migrating it.
func openStore(t *testing.T) (*store.Store, string) {
	t.Helper()
	path := testdb.URL(t, "x.db")
	st, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st, path
}

// newStore opens and migrates a store on a new temp database.
func newStore(t *testing.T) (*store.Store, string) {
	t.Helper()
	st, path := openStore(t)
	if _, err := st.Migrate(context.Background()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return st, path
}

// rawDB opens the same database with database/sql, for statements the store does not offer.
func rawDB(t *testing.T, path string) *testdb.DB {
	t.Helper()
	return testdb.Raw(t, path)
}

func driverLeaflet(version string, reack bool) domain.LeafletVersion {
	return domain.LeafletVersion{
		Audience: domain.AudienceDriver, Version: version, Title: "Modern slavery awareness " + version,
		Content: "# Modern slavery awareness\n\nVersion " + version + "\n", ContentSHA256: "sha256-of-" + version,
		RequiresReack: reack, PublishedAt: now.Add(-time.Hour), PublishedBy: "test",
	}
}

func publish(t *testing.T, st *store.Store, version string, reack bool) domain.LeafletVersion {
	t.Helper()
	v, err := st.PublishLeaflet(context.Background(), driverLeaflet(version, reack))
	if err != nil {
		t.Fatalf("PublishLeaflet %s: %v", version, err)
	}
	if v.ID == 0 {
		t.Fatalf("PublishLeaflet %s: no id", version)
	}
	return v
}

// addDriver puts one driver on Dacorum's register and returns it as stored.
func addDriver(t *testing.T, st *store.Store, licence string) domain.Driver {
	t.Helper()
	ctx := context.Background()
	c, err := st.CouncilBySlug(ctx, "dacorum")
	if err != nil {
		t.Fatalf("CouncilBySlug: %v", err)
	}
	dob, err := domain.ParseISODate("1980-03-27")
	if err != nil {
		t.Fatal(err)
	}
	expiry := domain.DateOf(now).AddDays(40)
	d := domain.Driver{CouncilID: c.ID, LicenceNumber: licence, GivenNames: "Zoë", FamilyName: "O’Brien-Test",
		DateOfBirth: dob, Email: licence + "@example.org", Phone: "07700900123", Postcode: "AL8 6XF",
		LicenceStart: expiry.AddYears(-3), LicenceExpiry: expiry, Status: "active"}
	if err := st.UpsertDrivers(ctx, []domain.Driver{d}, now); err != nil {
		t.Fatalf("UpsertDrivers: %v", err)
	}
	got, err := st.DriverByLicence(ctx, c.ID, licence)
	if err != nil {
		t.Fatalf("DriverByLicence: %v", err)
	}
	return got
}

func reasonOf(t *testing.T, err error) string {
	t.Helper()
	if err == nil {
		return ""
	}
	r := domain.ErrorReason(err)
	if r == "" {
		t.Fatalf("not a domain error: %v", err)
	}
	return r
}

func TestMigrate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, _ := openStore(t)

	pending, err := st.PendingMigrations(ctx)
	if err != nil {
		t.Fatalf("PendingMigrations before Migrate: %v", err)
	}
	if len(pending) == 0 {
		t.Fatal("PendingMigrations on a fresh file is empty, want every version")
	}
	if diff := cmp.Diff("0001_init", pending[0]); diff != "" {
		t.Errorf("first pending migration (-want +got):\n%s", diff)
	}

	applied, err := st.Migrate(ctx)
	if err != nil {
		t.Fatalf("first Migrate: %v", err)
	}
	if diff := cmp.Diff(pending, applied); diff != "" {
		t.Errorf("first Migrate applied (-want +got):\n%s", diff)
	}

	again, err := st.Migrate(ctx)
	if err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
	if len(again) != 0 {
		t.Errorf("second Migrate applied %v, want nothing", again)
	}

	after, err := st.PendingMigrations(ctx)
	if err != nil {
		t.Fatalf("PendingMigrations after Migrate: %v", err)
	}
	if len(after) != 0 {
		t.Errorf("PendingMigrations after Migrate = %v, want none", after)
	}

	councils, err := st.Councils(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(councils) != 10 {
		t.Errorf("after two Migrate calls there are %d councils, want 10", len(councils))
	}
}

func TestCouncilsSeeded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, _ := newStore(t)
	want := []string{"broxbourne", "dacorum", "east-hertfordshire", "hertsmere", "north-hertfordshire",
		"st-albans", "stevenage", "three-rivers", "watford", "welwyn-hatfield"}

	councils, err := st.Councils(ctx)
	if err != nil {
		t.Fatalf("Councils: %v", err)
	}
	var slugs []string
	for _, c := range councils {
		slugs = append(slugs, c.Slug)
		if c.Name == "" || c.ID == 0 {
			t.Errorf("council %+v has no name or id", c)
		}
	}
	if diff := cmp.Diff(want, slugs); diff != "" {
		t.Errorf("council slugs in name order (-want +got):\n%s", diff)
	}

	for _, slug := range want {
		t.Run(slug, func(t *testing.T) {
			c, err := st.CouncilBySlug(ctx, slug)
			if err != nil {
				t.Fatalf("CouncilBySlug: %v", err)
			}
			byID, err := st.CouncilByID(ctx, c.ID)
			if err != nil {
				t.Fatalf("CouncilByID: %v", err)
			}
			if diff := cmp.Diff(c, byID); diff != "" {
				t.Errorf("CouncilByID(CouncilBySlug(%q).ID) (-want +got):\n%s", slug, diff)
			}
		})
	}

	_, err = st.CouncilBySlug(ctx, "hertfordshire")
	if diff := cmp.Diff("council_not_found", reasonOf(t, err)); diff != "" {
		t.Errorf("unknown slug reason (-want +got):\n%s", diff)
	}
}

func TestEvidenceAppendOnly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, path := newStore(t)
	v1 := publish(t, st, "1.0", true)
	d := addDriver(t, st, "DAC-1001")

	issued, current, err := st.IssueOnline(ctx, d, now)
	if err != nil {
		t.Fatalf("IssueOnline: %v", err)
	}
	if diff := cmp.Diff(v1.ID, current.ID); diff != "" {
		t.Errorf("IssueOnline current leaflet (-want +got):\n%s", diff)
	}
	want := domain.Evidence{ID: issued.ID, Kind: domain.KindIssue, DriverID: d.ID, CouncilID: d.CouncilID,
		LeafletID: v1.ID, ContentSHA256: v1.ContentSHA256, Channel: domain.ChannelOnline,
		OccurredAt: now, RecordedAt: now, ActorKind: domain.ActorDriver, ActorID: d.ID}
	if diff := cmp.Diff(want, issued); diff != "" {
		t.Fatalf("IssueOnline evidence (-want +got):\n%s", diff)
	}

	db := rawDB(t, path)
	readRow := func() string {
		t.Helper()
		var kind, sha, channel, occurred string
		var driverID, leafletID int64
		err := db.QueryRowContext(ctx, `SELECT kind, driver_id, leaflet_id, content_sha256, channel, CAST(occurred_at AS TEXT)
			FROM evidence WHERE id = ?`, issued.ID).Scan(&kind, &driverID, &leafletID, &sha, &channel, &occurred)
		if err != nil {
			t.Fatalf("select evidence: %v", err)
		}
		return fmt.Sprint(kind, "|", driverID, "|", leafletID, "|", sha, "|", channel, "|", occurred)
	}
	before := readRow()

	for _, stmt := range []struct{ name, sql string }{
		{"update", "UPDATE evidence SET kind = 'acknowledgement' WHERE id = ?"},
		{"update timestamp", "UPDATE evidence SET occurred_at = '2020-01-01 00:00:00+00:00' WHERE id = ?"},
		{"delete", "DELETE FROM evidence WHERE id = ?"},
	} {
		t.Run(stmt.name, func(t *testing.T) {
			_, err := db.ExecContext(ctx, stmt.sql, issued.ID)
			if err == nil || !strings.Contains(err.Error(), "append-only") {
				t.Errorf("%s: err = %v, want an append-only error", stmt.sql, err)
			}
		})
	}

	if diff := cmp.Diff(before, readRow()); diff != "" {
		t.Errorf("evidence row changed (-before +after):\n%s", diff)
	}
	var n int
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM evidence").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("evidence rows = %d, want 1", n)
	}
	stored, err := st.DriverEvidence(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]domain.Evidence{want}, stored); diff != "" {
		t.Errorf("DriverEvidence after refused changes (-want +got):\n%s", diff)
	}
}

func TestIssueOnlineOncePerVersion(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, _ := newStore(t)
	v1 := publish(t, st, "1.0", true)
	d := addDriver(t, st, "DAC-1001")

	first, _, err := st.IssueOnline(ctx, d, now)
	if err != nil {
		t.Fatalf("first IssueOnline: %v", err)
	}
	second, _, err := st.IssueOnline(ctx, d, now.Add(5*time.Minute))
	if err != nil {
		t.Fatalf("second IssueOnline: %v", err)
	}
	if diff := cmp.Diff(first, second); diff != "" {
		t.Errorf("second IssueOnline returned a different record (-first +second):\n%s", diff)
	}
	ev, err := st.DriverEvidence(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]domain.Evidence{first}, ev); diff != "" {
		t.Errorf("evidence after two issues of the same version (-want +got):\n%s", diff)
	}

	// A new version is a new issue.
	v2 := publish(t, st, "2.0", true)
	third, current, err := st.IssueOnline(ctx, d, now.Add(10*time.Minute))
	if err != nil {
		t.Fatalf("IssueOnline of v2: %v", err)
	}
	if current.ID != v2.ID || third.LeafletID != v2.ID || third.ID == first.ID {
		t.Errorf("IssueOnline after v2: current %d, issued leaflet %d id %d; want leaflet %d (v1 was %d) and a new record",
			current.ID, third.LeafletID, third.ID, v2.ID, v1.ID)
	}
	ev, err = st.DriverEvidence(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(ev) != 2 {
		t.Errorf("evidence after issuing v1 and v2 = %d records, want 2", len(ev))
	}
}

func TestIssueOnlineNoLeaflet(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	d := addDriver(t, st, "DAC-1001")
	_, _, err := st.IssueOnline(context.Background(), d, now)
	if diff := cmp.Diff("no_leaflet", reasonOf(t, err)); diff != "" {
		t.Errorf("IssueOnline with no leaflet (-want +got):\n%s", diff)
	}
}

func TestPublishLeaflet(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, _ := newStore(t)

	_, err := st.PublishLeaflet(ctx, driverLeaflet("1.0", false))
	if diff := cmp.Diff("first_version_minor", reasonOf(t, err)); diff != "" {
		t.Errorf("first version minor (-want +got):\n%s", diff)
	}
	if vs, err := st.LeafletVersions(ctx, domain.AudienceDriver); err != nil || len(vs) != 0 {
		t.Errorf("after a refused first version: %d versions, err %v; want none", len(vs), err)
	}

	in := driverLeaflet("1.0", true)
	v1, err := st.PublishLeaflet(ctx, in)
	if err != nil {
		t.Fatalf("PublishLeaflet 1.0: %v", err)
	}
	in.ID = v1.ID
	if diff := cmp.Diff(in, v1); diff != "" {
		t.Errorf("published version (-want +got):\n%s", diff)
	}

	_, err = st.PublishLeaflet(ctx, driverLeaflet("1.0", true))
	if diff := cmp.Diff("version_exists", reasonOf(t, err)); diff != "" {
		t.Errorf("duplicate version (-want +got):\n%s", diff)
	}
	_, err = st.PublishLeaflet(ctx, driverLeaflet("1.0", false))
	if diff := cmp.Diff("version_exists", reasonOf(t, err)); diff != "" {
		t.Errorf("duplicate version, minor (-want +got):\n%s", diff)
	}

	// Later versions may be minor.
	v11, err := st.PublishLeaflet(ctx, driverLeaflet("1.1", false))
	if err != nil {
		t.Fatalf("PublishLeaflet 1.1 minor: %v", err)
	}
	vs, err := st.LeafletVersions(ctx, domain.AudienceDriver)
	if err != nil {
		t.Fatal(err)
	}
	var labels []string
	for _, v := range vs {
		labels = append(labels, v.Version)
	}
	if diff := cmp.Diff([]string{"1.0", "1.1"}, labels); diff != "" {
		t.Errorf("versions (-want +got):\n%s", diff)
	}
	cur, err := st.CurrentLeaflet(ctx, domain.AudienceDriver)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(v11, cur); diff != "" {
		t.Errorf("CurrentLeaflet (-want +got):\n%s", diff)
	}
}

// readyToSubmit gives the driver a draft with every section saved and an acknowledgement of
// the current leaflet.
func readyToSubmit(t *testing.T, st *store.Store, d domain.Driver, v domain.LeafletVersion) domain.Evidence {
	t.Helper()
	ctx := context.Background()
	if _, err := st.StartRenewal(ctx, d, now); err != nil {
		t.Fatalf("StartRenewal: %v", err)
	}
	completeDraft(t, st, d)
	if _, _, err := st.IssueOnline(ctx, d, now); err != nil {
		t.Fatalf("IssueOnline: %v", err)
	}
	if _, err := st.UpdateDraft(ctx, d.ID, now, func(a *domain.Answers) { a.QuizPassedLeafletID = v.ID }); err != nil {
		t.Fatalf("UpdateDraft quiz: %v", err)
	}
	ack, err := st.AcknowledgeOnline(ctx, d, v.ID, now.Add(time.Minute))
	if err != nil {
		t.Fatalf("AcknowledgeOnline: %v", err)
	}
	return ack
}

func completeDraft(t *testing.T, st *store.Store, d domain.Driver) {
	t.Helper()
	medical, err := domain.ParseISODate("2026-10-01")
	if err != nil {
		t.Fatal(err)
	}
	_, err = st.UpdateDraft(context.Background(), d.ID, now, func(a *domain.Answers) {
		a.Contact = domain.ContactAnswers{Saved: true, Email: d.Email, Phone: d.Phone, AddressLine1: "1 High Street",
			Town: "Hemel Hempstead", Postcode: d.Postcode}
		a.Licence = domain.LicenceAnswers{Saved: true, DVLANumber: "OBRIE801274Z99AB", DVLACheckCode: "Ab12Cd34", TermYears: 3}
		a.Checks = domain.CheckAnswers{Saved: true, DBSNumber: "001234567890", DBSConsent: true, TaxCheckCode: "ABC123XYZ",
			MedicalDate: medical, RightToWork: domain.RightToWorkPassport}
		a.Declarations = domain.DeclarationAnswers{Saved: true, Truthful: true}
	})
	if err != nil {
		t.Fatalf("UpdateDraft: %v", err)
	}
	photo := []byte("\xff\xd8 stands in for a photo")
	if _, err := st.AddDocument(context.Background(), d.ID, now, store.NewDocument{Kind: domain.DocumentPhoto, ContentType: "image/jpeg",
		Size: int64(len(photo)), SHA256: "0", Content: bytes.NewReader(photo)}); err != nil {
		t.Fatalf("AddDocument: %v", err)
	}
}

func TestSubmitRenewalConcurrent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, _ := newStore(t)
	v1 := publish(t, st, "1.0", true)
	d := addDriver(t, st, "DAC-1001")
	ack := readyToSubmit(t, st, d, v1)

	const n = 16
	var (
		wg      sync.WaitGroup
		start   = make(chan struct{})
		results = make([]domain.Renewal, n)
		errs    = make([]error, n)
	)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			msg := store.OutboxMessage{To: d.Email, Subject: "Renewal received", Body: fmt.Sprintf("attempt %d", i)}
			results[i], errs[i] = st.SubmitRenewal(ctx, d.ID, now.Add(2*time.Minute), fmt.Sprintf("REF-%02d", i), false, msg)
		}()
	}
	close(start)
	wg.Wait()

	refs := map[string]bool{}
	for i := range n {
		if errs[i] != nil {
			t.Errorf("SubmitRenewal %d: %v", i, errs[i])
			continue
		}
		refs[results[i].Reference] = true
		if results[i].Status != domain.StatusSubmitted {
			t.Errorf("SubmitRenewal %d: status %s, want submitted", i, results[i].Status)
		}
	}
	if len(refs) != 1 {
		t.Errorf("SubmitRenewal returned references %v, want one", refs)
	}
	for ref := range refs {
		if !strings.HasPrefix(ref, "REF-") {
			t.Errorf("reference %q is not one of those submitted", ref)
		}
	}

	count, err := st.CountRenewals(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(int64(1), count); diff != "" {
		t.Errorf("CountRenewals (-want +got):\n%s", diff)
	}
	r, err := st.LatestRenewal(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != domain.StatusSubmitted || !refs[r.Reference] || r.AckEvidenceID != ack.ID || !r.SubmittedAt.Equal(now.Add(2*time.Minute)) {
		t.Errorf("stored renewal: status %s ref %q ack %d submitted %v; want submitted, one of %v, ack %d",
			r.Status, r.Reference, r.AckEvidenceID, r.SubmittedAt, refs, ack.ID)
	}
	msgs, err := st.UnsentMessages(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 {
		t.Errorf("confirmation emails queued = %d, want 1", len(msgs))
	}
}

func TestSubmitRenewalRequiresAwareness(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, _ := newStore(t)
	publish(t, st, "1.0", true)
	d := addDriver(t, st, "DAC-1001")
	if _, err := st.StartRenewal(ctx, d, now); err != nil {
		t.Fatalf("StartRenewal: %v", err)
	}
	completeDraft(t, st, d)
	// Issued but not acknowledged.
	if _, _, err := st.IssueOnline(ctx, d, now); err != nil {
		t.Fatalf("IssueOnline: %v", err)
	}
	before, err := st.OpenRenewal(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}

	_, err = st.SubmitRenewal(ctx, d.ID, now.Add(time.Minute), "REF-01", false,
		store.OutboxMessage{To: d.Email, Subject: "Renewal received", Body: "x"})
	if diff := cmp.Diff("awareness_required", reasonOf(t, err)); diff != "" {
		t.Fatalf("SubmitRenewal without acknowledgement (-want +got):\n%s", diff)
	}

	after, err := st.OpenRenewal(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("draft changed by a refused submit (-before +after):\n%s", diff)
	}
	if after.Status != domain.StatusDraft || after.Reference != "" || !after.SubmittedAt.IsZero() {
		t.Errorf("draft after refused submit: status %s reference %q submitted %v", after.Status, after.Reference, after.SubmittedAt)
	}
	msgs, err := st.UnsentMessages(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 0 {
		t.Errorf("emails queued by a refused submit = %d, want 0", len(msgs))
	}
}

func TestCheckSignInCode(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const maxAttempts = 5
	const ttl = 15 * time.Minute
	st, _ := newStore(t)
	d := addDriver(t, st, "DAC-1001")
	newCode := func(t *testing.T, hash string, at time.Time) {
		t.Helper()
		if err := st.CreateSignInCode(ctx, d.ID, hash, at, ttl, store.OutboxMessage{To: d.Email, Subject: "Your code", Body: "code"}); err != nil {
			t.Fatalf("CreateSignInCode: %v", err)
		}
	}
	type try struct {
		hash          string
		after         time.Duration
		wantOutcome   domain.CodeOutcome
		wantRemaining int
	}
	tests := []struct {
		name string
		code string
		// If set, a newer code replaces the first before the tries.
		replacedBy string
		tries      []try
	}{
		{"right first time", "h-right-1", "", []try{
			{"h-right-1", time.Minute, domain.CodeAccepted, 0},
		}},
		{"five attempts max, then too_many even for the right code", "h-right-2", "", []try{
			{"wrong", time.Minute, domain.CodeWrong, 4},
			{"wrong", time.Minute, domain.CodeWrong, 3},
			{"wrong", time.Minute, domain.CodeWrong, 2},
			{"wrong", time.Minute, domain.CodeWrong, 1},
			{"wrong", time.Minute, domain.CodeTooManyTries, 0},
			{"h-right-2", time.Minute, domain.CodeTooManyTries, 0},
		}},
		{"right on the fifth attempt", "h-right-3", "", []try{
			{"wrong", time.Minute, domain.CodeWrong, 4},
			{"wrong", time.Minute, domain.CodeWrong, 3},
			{"wrong", time.Minute, domain.CodeWrong, 2},
			{"wrong", time.Minute, domain.CodeWrong, 1},
			{"h-right-3", time.Minute, domain.CodeAccepted, 0},
		}},
		{"expired at ExpiresAt", "h-right-4", "", []try{
			{"h-right-4", ttl, domain.CodeExpired, 0},
		}},
		{"expired after ExpiresAt", "h-right-5", "", []try{
			{"h-right-5", ttl + time.Second, domain.CodeExpired, 0},
		}},
		{"accepted once, then expired (used)", "h-right-6", "", []try{
			{"h-right-6", time.Minute, domain.CodeAccepted, 0},
			{"h-right-6", time.Minute, domain.CodeExpired, 0},
		}},
		{"a newer code cancels the older one", "h-old", "h-new", []try{
			{"h-old", time.Minute, domain.CodeWrong, 4},
			{"h-new", time.Minute, domain.CodeAccepted, 0},
		}},
	}
	base := now
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base = base.Add(time.Hour) // each case starts later, with its own code
			newCode(t, tt.code, base)
			if tt.replacedBy != "" {
				newCode(t, tt.replacedBy, base)
			}
			for i, tr := range tt.tries {
				outcome, remaining, err := st.CheckSignInCode(ctx, d.ID, tr.hash, base.Add(tr.after), maxAttempts)
				if err != nil {
					t.Fatalf("try %d: %v", i+1, err)
				}
				got := fmt.Sprintf("%s remaining %d", outcome, remaining)
				want := fmt.Sprintf("%s remaining %d", tr.wantOutcome, tr.wantRemaining)
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("try %d with %q (-want +got):\n%s", i+1, tr.hash, diff)
				}
			}
		})
	}

	t.Run("no code sent", func(t *testing.T) {
		other := addDriver(t, st, "DAC-2002")
		outcome, _, err := st.CheckSignInCode(ctx, other.ID, "anything", now, maxAttempts)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(domain.CodeExpired, outcome); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
}

func TestHitRateLimit(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, _ := newStore(t)
	const window = time.Minute
	w0 := now // on a window boundary
	hit := func(bucket, key string, at time.Time) int {
		t.Helper()
		n, err := st.HitRateLimit(ctx, bucket, key, at, window)
		if err != nil {
			t.Fatalf("HitRateLimit: %v", err)
		}
		return n
	}
	var got []int
	got = append(got, hit("signin", "k1", w0))
	got = append(got, hit("signin", "k1", w0.Add(10*time.Second)))
	got = append(got, hit("signin", "k1", w0.Add(59*time.Second)))
	got = append(got, hit("signin", "k2", w0.Add(20*time.Second))) // another key
	got = append(got, hit("code", "k1", w0.Add(30*time.Second)))   // another bucket
	got = append(got, hit("signin", "k1", w0.Add(window)))         // next window
	got = append(got, hit("signin", "k1", w0.Add(window+time.Second)))
	got = append(got, hit("signin", "k1", w0.Add(30*time.Second))) // back in the first window
	got = append(got, hit("signin", "k1", w0.Add(5*window+time.Second)))
	want := []int{1, 2, 3, 1, 1, 1, 2, 4, 1}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("hits (-want +got):\n%s", diff)
	}
}

func TestTouchSession(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, path := newStore(t)
	db := rawDB(t, path)
	const idle = 30 * time.Minute
	stored := func(t *testing.T, hash string) bool {
		t.Helper()
		var n int
		if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM sessions WHERE id_hash = ?", hash).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n == 1
	}
	create := func(t *testing.T, hash string, lifetime time.Duration) domain.Session {
		t.Helper()
		s := domain.Session{Kind: domain.SessionDriver, SubjectID: 42, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(lifetime)}
		if err := st.CreateSession(ctx, hash, s); err != nil {
			t.Fatalf("CreateSession: %v", err)
		}
		return s
	}
	touch := func(t *testing.T, hash string, at time.Time) (domain.Session, string) {
		t.Helper()
		s, err := st.TouchSession(ctx, hash, at, idle)
		return s, reasonOf(t, err)
	}

	t.Run("live session is touched", func(t *testing.T) {
		s := create(t, "live", 12*time.Hour)
		got, reason := touch(t, "live", now.Add(10*time.Minute))
		if reason != "" {
			t.Fatalf("TouchSession: %s", reason)
		}
		if !stored(t, "live") {
			t.Fatal("live session row missing")
		}
		s.LastSeenAt = now.Add(10 * time.Minute)
		if diff := cmp.Diff(s, got); diff != "" {
			t.Errorf("session (-want +got):\n%s", diff)
		}
		// Idle is measured from the last touch, not from creation.
		if _, reason := touch(t, "live", now.Add(10*time.Minute+idle)); reason != "" {
			t.Errorf("touch exactly idle after the last touch: %s, want live", reason)
		}
	})

	t.Run("uses within a minute are not written", func(t *testing.T) {
		create(t, "busy", 12*time.Hour)
		lastSeen := func() time.Time {
			var at time.Time
			if err := db.QueryRowContext(ctx, "SELECT last_seen_at FROM sessions WHERE id_hash = ?", "busy").Scan(&at); err != nil {
				t.Fatal(err)
			}
			return at.UTC()
		}
		if got, reason := touch(t, "busy", now.Add(59*time.Second)); reason != "" || !got.LastSeenAt.Equal(now) {
			t.Fatalf("touch after 59 s: %s, last seen %v, want %v", reason, got.LastSeenAt, now)
		}
		if at := lastSeen(); !at.Equal(now) {
			t.Errorf("last use written after 59 s: %v", at)
		}
		if got, _ := touch(t, "busy", now.Add(time.Minute)); !got.LastSeenAt.Equal(now.Add(time.Minute)) || !lastSeen().Equal(now.Add(time.Minute)) {
			t.Errorf("after a minute: returned %v, stored %v, want both %v", got.LastSeenAt, lastSeen(), now.Add(time.Minute))
		}
		// The idle time counts from the last use written.
		if _, reason := touch(t, "busy", now.Add(time.Minute+idle+time.Second)); reason != "session_expired" {
			t.Errorf("idle after the last written use: %q, want session_expired", reason)
		}
	})

	t.Run("idle timeout deletes the session", func(t *testing.T) {
		create(t, "idle", 12*time.Hour)
		if _, reason := touch(t, "idle", now.Add(idle+time.Second)); reason != "session_expired" {
			t.Errorf("touch after idle timeout: reason %q, want session_expired", reason)
		}
		if stored(t, "idle") {
			t.Error("idle session row still stored after TouchSession refused it, want deleted")
		}
		if _, reason := touch(t, "idle", now.Add(idle+2*time.Second)); reason != "no_session" {
			t.Errorf("touch after deletion: reason %q, want no_session", reason)
		}
	})

	t.Run("absolute expiry deletes the session", func(t *testing.T) {
		create(t, "absolute", time.Hour)
		for m := 20; m < 60; m += 20 {
			if _, reason := touch(t, "absolute", now.Add(time.Duration(m)*time.Minute)); reason != "" {
				t.Fatalf("touch at +%dm: %s", m, reason)
			}
		}
		if _, reason := touch(t, "absolute", now.Add(time.Hour)); reason != "session_expired" {
			t.Errorf("touch at absolute expiry: reason %q, want session_expired", reason)
		}
		if stored(t, "absolute") {
			t.Error("expired session row still stored after TouchSession refused it, want deleted")
		}
		if _, reason := touch(t, "absolute", now.Add(time.Hour+time.Second)); reason != "no_session" {
			t.Errorf("touch after deletion: reason %q, want no_session", reason)
		}
	})

	t.Run("unknown session", func(t *testing.T) {
		if _, reason := touch(t, "never-created", now); reason != "no_session" {
			t.Errorf("reason %q, want no_session", reason)
		}
	})

	t.Run("deleted session", func(t *testing.T) {
		create(t, "signed-out", 12*time.Hour)
		if err := st.DeleteSession(ctx, "signed-out"); err != nil {
			t.Fatal(err)
		}
		if _, reason := touch(t, "signed-out", now.Add(time.Minute)); reason != "no_session" {
			t.Errorf("reason %q, want no_session", reason)
		}
	})
}
