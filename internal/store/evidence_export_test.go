package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/herts-msp/taxi-renewals/internal/domain"
	"github.com/herts-msp/taxi-renewals/internal/store"
)

func TestStreamEvidenceRowsInOrderAndByCouncil(t *testing.T) {
	t.Parallel()
	st, path := newStore(t)
	ctx := context.Background()
	v := publish(t, st, "1.0", true)
	d := addDriver(t, st, "DAC-0001")
	if _, _, err := st.IssueOnline(ctx, d, now); err != nil {
		t.Fatal(err)
	}
	// Many more rows straight into the table (append-only allows INSERT).
	db := rawDB(t, path)
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 1500; i++ {
		if _, err := tx.Exec(db.Rebind(`INSERT INTO evidence (kind, driver_id, council_id, leaflet_id, content_sha256, channel, occurred_at, recorded_at, actor_kind, actor_id)
			VALUES ('issue', ?, ?, ?, ?, 'post', ?, ?, 'staff', 1)`), d.ID, d.CouncilID, v.ID, v.ContentSHA256, now, now); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	var n int
	var last int64
	var first domain.EvidenceExportRow
	err = st.StreamEvidence(ctx, nil, func(r *domain.EvidenceExportRow) error {
		if n == 0 {
			first = *r
		}
		if r.ID <= last {
			t.Fatalf("rows out of order: %d after %d", r.ID, last)
		}
		last = r.ID
		n++
		return nil
	})
	if err != nil || n != 1501 {
		t.Fatalf("streamed %d rows, err %v", n, err)
	}
	if first.Kind != "issue" || first.CouncilSlug != "dacorum" || first.LicenceNumber != "DAC-0001" || first.LeafletVer != "1.0" ||
		first.Channel != string(domain.ChannelOnline) || first.OccurredAt != now.UTC().Format(time.RFC3339Nano) || first.ActorKind != "driver" || first.VoidsID.Valid {
		t.Errorf("first row %+v", first)
	}
	watford, _ := st.CouncilBySlug(ctx, "watford")
	n = 0
	if err := st.StreamEvidence(ctx, []int64{watford.ID}, func(*domain.EvidenceExportRow) error { n++; return nil }); err != nil || n != 0 {
		t.Errorf("Watford's export: %d rows, %v", n, err)
	}
	// The callback's error stops the stream.
	stop := context.Canceled
	n = 0
	if err := st.StreamEvidence(ctx, []int64{d.CouncilID}, func(*domain.EvidenceExportRow) error { n++; return stop }); err != stop || n != 1 {
		t.Errorf("stop: %d rows, %v", n, err)
	}
}

func TestAPITokensStoredHashedAndRevoked(t *testing.T) {
	t.Parallel()
	st, _ := newStore(t)
	ctx := context.Background()
	staff := addAnalyst(t, st)
	tok, err := st.CreateAPIToken(ctx, staff, "tool", "hash-1", now, domain.AuditEntry{At: now, Actor: "test", Action: "api_token.created"})
	if err != nil {
		t.Fatal(err)
	}
	if _, u, err := st.UseAPIToken(ctx, "hash-1", now); err != nil || u.ID != staff {
		t.Fatalf("use: %v %+v", err, u)
	}
	if _, _, err := st.UseAPIToken(ctx, "hash-2", now); domain.ErrorCode(err) != domain.CodeUnauthorised {
		t.Errorf("unknown hash: %v", err)
	}
	if err := st.RevokeAPIToken(ctx, tok.ID, staff+1, now, domain.AuditEntry{At: now, Actor: "test", Action: "api_token.revoked"}); domain.ErrorCode(err) != domain.CodeNotFound {
		t.Errorf("someone else's revoke: %v", err)
	}
	if err := st.RevokeAPIToken(ctx, tok.ID, staff, now, domain.AuditEntry{At: now, Actor: "test", Action: "api_token.revoked"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.UseAPIToken(ctx, "hash-1", now); domain.ErrorCode(err) != domain.CodeUnauthorised {
		t.Errorf("revoked token: %v", err)
	}
	ts, _ := st.APITokensOf(ctx, staff)
	if len(ts) != 1 || ts[0].RevokedAt.IsZero() || ts[0].LastUsedAt.IsZero() {
		t.Errorf("tokens %+v", ts)
	}
}

func addAnalyst(t *testing.T, st *store.Store) int64 {
	t.Helper()
	u, err := st.CreateStaff(context.Background(), domain.StaffUser{Email: "analyst@example.gov.uk", Name: "Ana Lyst", Role: domain.RoleAnalyst, CreatedAt: now}, "x", false, now, domain.AuditEntry{At: now, Actor: "test", Action: "staff.created"})
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}
