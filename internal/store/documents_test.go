package store_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"path/filepath"
	"strings"
	"testing"

	"github.com/herts-msp/taxi-renewals/internal/domain"
	"github.com/herts-msp/taxi-renewals/internal/store"
)

func addDoc(t *testing.T, st *store.Store, d domain.Driver, kind domain.DocumentKind, content []byte) domain.Document {
	t.Helper()
	doc, err := st.AddDocument(context.Background(), d.ID, now, store.NewDocument{Kind: kind, ContentType: "application/pdf",
		Size: int64(len(content)), SHA256: "x", Content: bytes.NewReader(content)})
	if err != nil {
		t.Fatalf("AddDocument: %v", err)
	}
	return doc
}

// TestDocumentsStoredInChunksReplacedAndProtected: a 600 KB document goes in as three chunks
// and comes back byte for byte; a second upload replaces it (the first is kept, marked); the
// content cannot be changed or deleted, and the record's content columns cannot be changed.
func TestDocumentsStoredInChunksReplacedAndProtected(t *testing.T) {
	ctx := context.Background()
	st, path := newStore(t)
	publish(t, st, "1.0", true)
	d := addDriver(t, st, "DAC-2001")
	if _, err := st.StartRenewal(ctx, d, now); err != nil {
		t.Fatal(err)
	}
	content := make([]byte, 600*1024)
	rand.Read(content)
	first := addDoc(t, st, d, domain.DocumentMedical, content)
	var got bytes.Buffer
	if err := st.WriteDocument(ctx, first.ID, &got); err != nil || !bytes.Equal(got.Bytes(), content) {
		t.Fatalf("content read back differs (%d bytes, err %v)", got.Len(), err)
	}
	db := rawDB(t, path)
	var chunks int
	if err := db.QueryRow("SELECT COUNT(*) FROM document_chunks WHERE document_id = ?", first.ID).Scan(&chunks); err != nil || chunks != 3 {
		t.Fatalf("chunks = %d (%v), want 3 of 256 KiB", chunks, err)
	}

	second := addDoc(t, st, d, domain.DocumentMedical, []byte("%PDF-1.4 second"))
	r, _ := st.OpenRenewal(ctx, d.ID)
	if r.Answers.Documents.MedicalID != second.ID {
		t.Errorf("answers point at %d, want the new document %d", r.Answers.Documents.MedicalID, second.ID)
	}
	old, _ := st.DocumentByID(ctx, first.ID)
	if old.Status != domain.DocumentReplaced || old.ReplacedByID != second.ID {
		t.Errorf("old document: status %s replaced by %d", old.Status, old.ReplacedByID)
	}

	for _, stmt := range []string{
		"UPDATE document_chunks SET data = x'00' WHERE document_id = ?",
		"DELETE FROM document_chunks WHERE document_id = ?",
		"UPDATE documents SET sha256 = 'forged' WHERE id = ?",
		"DELETE FROM documents WHERE id = ?",
	} {
		if _, err := db.Exec(stmt, first.ID); err == nil {
			t.Errorf("%s: allowed, want refused", stmt)
		}
	}
	got.Reset()
	if err := st.WriteDocument(ctx, first.ID, &got); err != nil || !bytes.Equal(got.Bytes(), content) {
		t.Fatal("a refused change altered the content")
	}
}

// TestPurgeRemovesDocumentsAndBackupKeepsThem: a backup copy holds the document; the retention
// purge deletes the purged driver's documents, records and content, and no one else's.
func TestPurgeRemovesDocumentsAndBackupKeepsThem(t *testing.T) {
	ctx := context.Background()
	st, _ := newStore(t)
	publish(t, st, "1.0", true)
	gone, kept := addDriver(t, st, "DAC-2002"), addDriver(t, st, "DAC-2003")
	for _, d := range []domain.Driver{gone, kept} {
		if _, err := st.StartRenewal(ctx, d, now); err != nil {
			t.Fatal(err)
		}
	}
	doc := addDoc(t, st, gone, domain.DocumentPhoto, []byte("photo of the driver to purge"))
	other := addDoc(t, st, kept, domain.DocumentPhoto, []byte("photo of a driver to keep"))

	backup := filepath.Join(t.TempDir(), "backup.db")
	if err := st.Backup(ctx, backup); err != nil {
		if strings.Contains(err.Error(), "PostgreSQL") {
			t.Log("backup is pg_dump on PostgreSQL; skipping the copy")
		} else {
			t.Fatal(err)
		}
	} else {
		copyStore, err := store.Open(ctx, backup)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := copyStore.WriteDocument(ctx, doc.ID, &b); err != nil || b.String() != "photo of the driver to purge" {
			t.Errorf("backup copy: %q %v", b.String(), err)
		}
		copyStore.Close()
	}

	if err := st.PurgePersonalData(ctx, []int64{gone.ID}, domain.AuditEntry{At: now, Actor: "test", Action: "retention.purge", Detail: map[string]any{}}); err != nil {
		t.Fatalf("purge: %v", err)
	}
	if _, err := st.DocumentByID(ctx, doc.ID); domain.ErrorCode(err) != domain.CodeNotFound {
		t.Errorf("purged driver's document still there: %v", err)
	}
	var b bytes.Buffer
	if err := st.WriteDocument(ctx, doc.ID, &b); err != nil || b.Len() != 0 {
		t.Errorf("purged content still readable: %d bytes, %v", b.Len(), err)
	}
	b.Reset()
	if err := st.WriteDocument(ctx, other.ID, &b); err != nil || b.String() != "photo of a driver to keep" {
		t.Errorf("another driver's document was touched: %q %v", b.String(), err)
	}
}
