package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/herts-msp/taxi-renewals/internal/domain"
	"github.com/herts-msp/taxi-renewals/internal/testdb"
)

// TestReferenceVersionMoves: every kind of change to the data the service keeps in memory
// moves the counter, in the transaction of the change; other writes do not.
func TestReferenceVersionMoves(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, path := newStore(t)
	db := rawDB(t, path)
	version := func() int64 {
		t.Helper()
		v, err := st.ReferenceVersion(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	council, err := st.CouncilBySlug(ctx, "dacorum")
	if err != nil {
		t.Fatal(err)
	}
	audit := domain.AuditEntry{At: now, Actor: "test", Action: "test"}
	for _, change := range []struct {
		name  string
		do    func() error
		moves bool
	}{
		{"council settings", func() error {
			_, err := st.UpdateCouncilSettings(ctx, "dacorum", domain.CouncilSettings{Phone: "01442 228000", DecisionDays: 12, MedicalIntervalYears: 5}, audit)
			return err
		}, true},
		{"council contact", func() error {
			_, err := st.SetCouncilContact(ctx, "dacorum", "licensing@dacorum.gov.uk", audit)
			return err
		}, true},
		{"council payment key", func() error { return st.SetCouncilPaymentKey(ctx, council.ID, "sealed", audit) }, true},
		{"fee", func() error {
			_, err := st.AddFee(ctx, domain.Fee{CouncilID: council.ID, TermYears: 1, AmountPence: 25000, AppliesFrom: domain.DateOf(now), SetAt: now, SetBy: "test"}, audit)
			return err
		}, true},
		{"leaflet version", func() error {
			_, err := st.PublishLeaflet(ctx, domain.LeafletVersion{Audience: domain.AudienceDriver, Version: "9", Title: "T", Content: "C",
				ContentSHA256: "x", RequiresReack: true, PublishedAt: now, PublishedBy: "test"})
			return err
		}, true},
		{"a change in the database by hand", func() error {
			_, err := db.ExecContext(ctx, "UPDATE councils SET name = name || ' ' WHERE slug = 'dacorum'")
			return err
		}, true},
		{"a driver", func() error { addDriver(t, st, "DAC-9"); return nil }, false},
	} {
		before := version()
		if err := change.do(); err != nil {
			t.Fatalf("%s: %v", change.name, err)
		}
		if after := version(); (after > before) != change.moves {
			t.Errorf("%s: counter %d → %d, want moved: %v", change.name, before, after, change.moves)
		}
	}
}

// TestDriverSession: the read of a driver's session gives the same session as TouchSession,
// and on PostgreSQL (where it is one statement with the driver) the same driver as DriverByID, the counter as ReferenceVersion, and refuses what
// TouchSession refuses (and any session that is not a driver's).
func TestDriverSession(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, _ := newStore(t)
	d := addDriver(t, st, "DAC-1")
	const idle = 30 * time.Minute
	create := func(hash, kind string, lifetime time.Duration) {
		t.Helper()
		if err := st.CreateSession(ctx, hash, domain.Session{Kind: kind, SubjectID: d.ID, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(lifetime)}); err != nil {
			t.Fatal(err)
		}
	}
	create("live", domain.SessionDriver, 12*time.Hour)
	got, err := st.DriverSession(ctx, "live", now.Add(2*time.Minute), idle)
	if err != nil {
		t.Fatal(err)
	}
	want, err := st.DriverByID(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !testdb.Postgres() {
		want = domain.Driver{} // SQLite leaves the driver to be read apart
	}
	if diff := cmp.Diff(want, got.Driver); diff != "" {
		t.Errorf("driver (-DriverByID +DriverSession):\n%s", diff)
	}
	v, _ := st.ReferenceVersion(ctx)
	if got.ReferenceVersion != v || v == 0 {
		t.Errorf("reference version %d, want %d", got.ReferenceVersion, v)
	}
	touched, err := st.TouchSession(ctx, "live", now.Add(2*time.Minute), idle)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(touched, got.Session); diff != "" {
		t.Errorf("session (-TouchSession +DriverSession):\n%s", diff)
	}

	create("pending", domain.SessionPendingDriver, time.Hour)
	create("expired", domain.SessionDriver, time.Minute)
	create("idle", domain.SessionDriver, 12*time.Hour)
	for _, c := range []struct {
		hash   string
		at     time.Time
		reason string
	}{
		{"missing", now, "no_session"},
		{"pending", now, "no_session"},
		{"expired", now.Add(2 * time.Minute), "session_expired"},
		{"idle", now.Add(idle + time.Second), "session_expired"},
	} {
		_, err := st.DriverSession(ctx, c.hash, c.at, idle)
		if r := reasonOf(t, err); r != c.reason {
			t.Errorf("%s: reason %q, want %q", c.hash, r, c.reason)
		}
	}
	// Refused sessions are gone, as TouchSession leaves them.
	for _, hash := range []string{"expired", "idle"} {
		if _, err := st.TouchSession(ctx, hash, now, idle); reasonOf(t, err) != "no_session" {
			t.Errorf("%s: still stored after DriverSession refused it", hash)
		}
	}
	// Signing out ends it at once.
	if err := st.DeleteSession(ctx, "live"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.DriverSession(ctx, "live", now.Add(3*time.Minute), idle); reasonOf(t, err) != "no_session" {
		t.Errorf("after sign-out: %v, want no_session", err)
	}
}
