package main

import (
	"context"
	"strings"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"

	"github.com/herts-msp/taxi-renewals/internal/domain"
	"github.com/herts-msp/taxi-renewals/internal/store"
	"github.com/herts-msp/taxi-renewals/internal/testdb"
)

// TestAuditVerifyDetectsTampering writes a few audit entries, then changes, removes and
// re-orders rows directly in the database (as someone with file access could, after dropping
// the append-only triggers) and checks `renewals audit verify` notices each time.
func TestAuditVerifyDetectsTampering(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		tamper []string
	}{
		{"a changed action", []string{"UPDATE audit_log SET action = 'renewal.refused' WHERE id = 2"}},
		{"a changed detail", []string{`UPDATE audit_log SET detail = '{"n":99}' WHERE id = 3`}},
		{"a removed row", []string{"DELETE FROM audit_log WHERE id = 2"}},
		{"a changed time", []string{"UPDATE audit_log SET at = '2020-01-01 00:00:00+00:00' WHERE id = 1"}},
		{"a row rewritten with a recomputed hash but the old link", []string{"UPDATE audit_log SET actor_label = 'someone-else', hash = prev_hash WHERE id = 4"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			dbPath := testdb.URL(t, "a.db")
			st, err := store.Open(ctx, dbPath)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := st.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			for i := 1; i <= 5; i++ {
				if err := st.AppendAudit(ctx, domain.AuditEntry{At: time.Date(2026, 11, 26, 10, i, 0, 0, time.UTC), Actor: "cli:test",
					Action: "renewal.approved", Target: "renewal:TR-TEST", Detail: map[string]any{"n": i}}); err != nil {
					t.Fatal(err)
				}
			}
			st.Close()
			if code, out, errOut := runCmd(t, "audit", "verify", "--database", dbPath); code != 0 || !strings.Contains(out, "audit log intact: 5 entries checked") {
				t.Fatalf("before tampering: exit %d %s %s", code, out, errOut)
			}

			raw := testdb.Raw(t, dbPath)
			if _, err := raw.Exec("UPDATE audit_log SET action = 'x' WHERE id = 1"); err == nil || !strings.Contains(err.Error(), "append-only") {
				t.Fatalf("the trigger did not refuse an UPDATE: %v", err)
			}
			unguard := []string{"DROP TRIGGER audit_log_no_update", "DROP TRIGGER audit_log_no_delete"}
			if testdb.Postgres() {
				unguard = []string{"DROP TRIGGER audit_log_no_update ON audit_log", "DROP TRIGGER audit_log_no_delete ON audit_log"}
			}
			for _, q := range append(unguard, tc.tamper...) {
				if _, err := raw.Exec(q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			raw.Close()
			code, _, errOut := runCmd(t, "audit", "verify", "--database", dbPath)
			if code == 0 || !strings.Contains(errOut, "audit log is NOT intact") {
				t.Fatalf("tampering not detected: exit %d %s", code, errOut)
			}
		})
	}
}
