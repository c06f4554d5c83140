package main

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/herts-msp/taxi-renewals/internal/domain"
	"github.com/herts-msp/taxi-renewals/internal/store"
)

// TestBackupWhileServing copies a live database that is being written to and checks the copy
// opens, is fully migrated, passes the audit check and holds the data written before it.
func TestBackupWhileServing(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "live.db")
	serveFor(t, []string{"--demo", "--database", dbPath}, func(base, _ string) {
		ctx := context.Background()
		st, err := store.Open(ctx, dbPath)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		// Keep writing (audit entries) and reading (pages) while the backup runs.
		var writes atomic.Int64
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(2)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if err := st.AppendAudit(ctx, domain.AuditEntry{Actor: "test", Action: "test.write"}); err == nil {
					writes.Add(1)
				}
			}
		}()
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if resp, err := http.Get(base + "/leaflet"); err == nil {
					resp.Body.Close()
				}
			}
		}()
		copyPath := filepath.Join(dir, "backups", "copy.db")
		code, out, errOut := runCmd(t, "backup", copyPath, "--database", dbPath)
		close(stop)
		wg.Wait()
		if code != 0 || !strings.Contains(out, "backed up to") {
			t.Fatalf("backup: exit %d %s %s", code, out, errOut)
		}
		if code, _, errOut := runCmd(t, "backup", copyPath, "--database", dbPath); code == 0 || !strings.Contains(errOut, "already exists") {
			t.Fatalf("backup over an existing file: exit %d %s", code, errOut)
		}
		cp, err := store.Open(ctx, copyPath)
		if err != nil {
			t.Fatal(err)
		}
		defer cp.Close()
		if pending, err := cp.PendingMigrations(ctx); err != nil || len(pending) != 0 {
			t.Fatalf("copy migrations: %v %v", pending, err)
		}
		if v, err := cp.VerifyAudit(ctx); err != nil || v.FirstBrokenID != 0 || v.Checked == 0 {
			t.Fatalf("copy audit: %+v %v", v, err)
		}
		councils, err := cp.Councils(ctx)
		if err != nil || len(councils) != 10 {
			t.Fatalf("copy councils: %d %v", len(councils), err)
		}
		if writes.Load() == 0 {
			t.Fatal("no writes happened during the backup")
		}
	})
}
