package web_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/herts-msp/taxi-renewals/internal/domain"
	"github.com/herts-msp/taxi-renewals/internal/store"
	"github.com/herts-msp/taxi-renewals/internal/testenv"
)

const photoPath = "/renew/documents/upload/photo"

func draftOf(t *testing.T, env *testenv.Env, licence string) domain.Renewal {
	t.Helper()
	r, err := env.Store.OpenRenewal(context.Background(), env.Drivers[licence].ID)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

const scriptPDF = "%PDF-1.4\n1 0 obj << /Type /Catalog /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"

// TestDocumentUploadsAndEveryBadOne: a photo is uploaded and shown to its owner; every bad
// upload after it is a 422 with its own field error linked from the summary, and the photo
// uploaded before stays.
func TestDocumentUploadsAndEveryBadOne(t *testing.T) {
	env := testenv.New(t, testenv.Options{})
	b := env.SignIn(t, "dacorum", testenv.DueDacorum)
	// An old medical and no Update Service: all three documents are needed.
	b.Get("/renew/checks")
	wantStatus(t, b.Post("/renew/checks", testenv.Copy(testenv.ChecksForm, "dbs_update_service", "no", "dbs_number", "", "dbs_consent", "",
		"medical-year", "2020")), http.StatusSeeOther)
	p := b.Get("/renew")
	mustContain(t, p, "Upload your photo and documents", "Not yet started")
	p = b.Get("/renew/documents")
	wantStatus(t, p, http.StatusOK)
	mustContain(t, p, "Your last Group 2 medical was on 14 August 2020, more than 5 years ago", "You are not on the DBS Update Service",
		"issued within the last 3 months", "at least 600 pixels wide and 750 pixels tall", `enctype="multipart/form-data"`, `accept="image/jpeg,image/png"`)

	p = b.Upload(photoPath, "IMG_0001.JPG", testenv.PhotoJPEG(t))
	wantStatus(t, p, http.StatusSeeOther)
	first := draftOf(t, env, testenv.DueDacorum).Answers.Documents.PhotoID
	if first == 0 {
		t.Fatal("the photo is not recorded in the answers")
	}
	p = b.Get("/renew/documents")
	mustContain(t, p, fmt.Sprintf(`src="/renew/documents/%d/preview"`, first), "IMG_0001.JPG", "Replace your photo")
	mustContain(t, b.Get("/renew"), "In progress")

	big := append([]byte{0xFF, 0xD8, 0xFF}, bytes.Repeat([]byte{0}, 10*1024*1024)...)
	tests := []struct {
		name, path, file string
		content          []byte
		field, message   string
	}{
		{"HTML named photo.jpg", photoPath, "photo.jpg", []byte("<!doctype html><html><body><script>alert(1)</script>"), "file-photo", "The photo must be a JPEG or PNG image"},
		{"empty file", photoPath, "photo.jpg", nil, "file-photo", "The selected file is empty"},
		{"truncated JPEG", photoPath, "photo.jpg", testenv.PhotoJPEG(t)[:3000], "file-photo", "could not be read"},
		{"too large", photoPath, "photo.jpg", big, "file-photo", "The file must be smaller than 10 MB"},
		{"PDF with script as the medical", "/renew/documents/upload/medical", "medical.pdf", []byte(scriptPDF), "file-medical", "The PDF contains /JavaScript"},
		{"a PDF as the photo", photoPath, "photo.jpg", []byte("%PDF-1.4\n%%EOF"), "file-photo", "The photo must be a JPEG or PNG image"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := b.Upload(tt.path, tt.file, tt.content)
			wantStatus(t, p, http.StatusUnprocessableEntity)
			mustContain(t, p, "<title>Error:", `href="#`+tt.field+`"`, tt.message, `id="`+tt.field+`-error"`)
			if got := draftOf(t, env, testenv.DueDacorum).Answers.Documents; got.PhotoID != first || got.MedicalID != 0 {
				t.Fatalf("a bad upload changed the documents: %+v", got)
			}
			mustContain(t, p, fmt.Sprintf(`src="/renew/documents/%d/preview"`, first)) // what was uploaded before stays
		})
	}
	t.Run("no file chosen", func(t *testing.T) {
		p := b.UploadParts(photoPath, b.CSRF, testenv.FilePart{Name: "file"})
		wantStatus(t, p, http.StatusUnprocessableEntity)
		mustContain(t, p, "Select the file of your photo to upload")
	})
	t.Run("two files in one request", func(t *testing.T) {
		p := b.UploadParts(photoPath, b.CSRF, testenv.FilePart{Name: "file", FileName: "a.jpg", Content: testenv.PhotoJPEG(t)},
			testenv.FilePart{Name: "file", FileName: "b.jpg", Content: testenv.PhotoJPEG(t)})
		wantStatus(t, p, http.StatusUnprocessableEntity)
		mustContain(t, p, "Upload one file at a time")
		if got := draftOf(t, env, testenv.DueDacorum).Answers.Documents.PhotoID; got != first {
			t.Fatal("a request with two files stored one")
		}
	})
	t.Run("no CSRF token", func(t *testing.T) {
		p := b.UploadParts(photoPath, "", testenv.FilePart{Name: "file", FileName: "a.jpg", Content: testenv.PhotoJPEG(t)})
		wantStatus(t, p, http.StatusForbidden)
		p = b.UploadParts(photoPath, "forged", testenv.FilePart{Name: "file", FileName: "a.jpg", Content: testenv.PhotoJPEG(t)})
		wantStatus(t, p, http.StatusForbidden)
	})

	// A replacement keeps the old record, marked replaced.
	wantStatus(t, b.Upload(photoPath, "better.png", testenv.PhotoJPEG(t)), http.StatusSeeOther)
	second := draftOf(t, env, testenv.DueDacorum).Answers.Documents.PhotoID
	old, err := env.Store.DocumentByID(context.Background(), first)
	if err != nil || second == first || old.Status != domain.DocumentReplaced || old.ReplacedByID != second {
		t.Fatalf("replacement: new %d old %+v %v", second, old, err)
	}

	// The owner's preview is inline; the download is an attachment with a name we made.
	p = b.Get(fmt.Sprintf("/renew/documents/%d/preview", second))
	wantStatus(t, p, http.StatusOK)
	if p.Header.Get("Content-Type") != "image/jpeg" || !strings.HasPrefix(p.Header.Get("Content-Disposition"), "inline") ||
		p.Header.Get("X-Content-Type-Options") != "nosniff" || !bytes.HasPrefix([]byte(p.Body), []byte{0xFF, 0xD8}) {
		t.Errorf("preview headers %v", p.Header)
	}
	p = b.Get(fmt.Sprintf("/renew/documents/%d/file", second))
	if cd := p.Header.Get("Content-Disposition"); cd != fmt.Sprintf(`attachment; filename="renewal-%d-photo-%d.jpg"`, old.RenewalID, second) {
		t.Errorf("Content-Disposition %q", cd)
	}
}

// TestSubmitRefusedWithoutThePhoto: every section answered and the leaflet acknowledged, but
// no photo: a crafted POST to send gets a clear refusal and nothing is written.
func TestSubmitRefusedWithoutThePhoto(t *testing.T) {
	env := testenv.New(t, testenv.Options{})
	b := env.SignIn(t, "dacorum", testenv.DueDacorum)
	for _, s := range []struct {
		path string
		form url.Values
	}{{"/renew/contact", testenv.ContactForm}, {"/renew/licence", testenv.LicenceForm}, {"/renew/checks", testenv.ChecksForm}, {"/renew/declarations", testenv.DeclarationsForm}} {
		b.Get(s.path)
		wantStatus(t, b.Post(s.path, s.form), http.StatusSeeOther)
	}
	b.CompleteAwareness()
	before := draftOf(t, env, testenv.DueDacorum)
	p := b.Get("/renew")
	if strings.Contains(p.Body, `href="/renew/check-answers"`) {
		t.Error("the task list offers to send without the photo")
	}
	b.Get("/renew/check-answers")
	p = b.Post("/renew/submit", nil)
	wantStatus(t, p, http.StatusUnprocessableEntity)
	mustContain(t, p, "Upload your photo and documents", `href="#documents"`)
	after := draftOf(t, env, testenv.DueDacorum)
	if after.Status != domain.StatusDraft || after.Reference != "" || !after.UpdatedAt.Equal(before.UpdatedAt) {
		t.Fatalf("a refused send wrote something: %+v", after)
	}
	b.UploadPhoto()
	b.Get("/renew/check-answers")
	wantStatus(t, b.Post("/renew/submit", nil), http.StatusSeeOther)
}

// TestDocumentTenancy: another driver's document, and another council's for an officer, answer
// exactly as a missing one does, byte for byte.
func TestDocumentTenancy(t *testing.T) {
	env := testenv.New(t, testenv.Options{})
	r := submitOnline(t, env, "dacorum", testenv.DueDacorum)
	photo := renewalNow(t, env, r.ID).Answers.Documents.PhotoID
	other := env.SignIn(t, "watford", testenv.DueWatford)
	for _, suffix := range []string{"file", "preview"} {
		missing := other.Get(fmt.Sprintf("/renew/documents/%d/%s", 999999, suffix))
		theirs := other.Get(fmt.Sprintf("/renew/documents/%d/%s", photo, suffix))
		wantStatus(t, theirs, http.StatusNotFound)
		if theirs.Body != missing.Body {
			t.Errorf("another driver's document differs from a missing one:\n%s\n---\n%s", theirs.Body, missing.Body)
		}
	}
	watford := env.SignInStaff(t, env.AddStaff(t, domain.RoleOfficer, "watford"))
	missing := watford.Get("/staff/documents/999999/file")
	theirs := watford.Get(fmt.Sprintf("/staff/documents/%d/file", photo))
	wantStatus(t, theirs, http.StatusNotFound)
	if theirs.Body != missing.Body {
		t.Error("another council's document differs from a missing one")
	}
	watford.Get("/staff/renewals")
	wantStatus(t, watford.Post(fmt.Sprintf("/staff/documents/%d/review", photo), url.Values{"decision": {"accept"}}), http.StatusNotFound)

	// The driver's own council downloads it as an attachment, nosniff, with its real type.
	dacorum := env.SignInStaff(t, env.AddStaff(t, domain.RoleOfficer, "dacorum"))
	p := dacorum.Get(fmt.Sprintf("/staff/documents/%d/file", photo))
	wantStatus(t, p, http.StatusOK)
	if p.Header.Get("Content-Type") != "image/jpeg" || p.Header.Get("X-Content-Type-Options") != "nosniff" ||
		!strings.HasPrefix(p.Header.Get("Content-Disposition"), `attachment; filename="renewal-`) {
		t.Errorf("download headers %v", p.Header)
	}
	analyst := env.SignInStaff(t, env.AddStaff(t, domain.RoleAnalyst, ""))
	wantStatus(t, analyst.Get(fmt.Sprintf("/staff/documents/%d/file", photo)), http.StatusOK)
	analyst.Get("/staff/renewals")
	wantStatus(t, analyst.Post(fmt.Sprintf("/staff/documents/%d/review", photo), url.Values{"decision": {"accept"}}), http.StatusForbidden)
}

// TestOfficerRejectsAndTheDriverReplaces: a rejection needs a reason, is audited, shows the
// driver why, and lets them upload a new photo after sending; the officer then accepts it.
func TestOfficerRejectsAndTheDriverReplaces(t *testing.T) {
	env := testenv.New(t, testenv.Options{})
	driver := env.SignIn(t, "dacorum", testenv.DueDacorum)
	driver.CompleteSections()
	driver.CompleteAwareness()
	driver.Get("/renew/check-answers")
	wantStatus(t, driver.Post("/renew/submit", nil), http.StatusSeeOther)
	r := draftOf(t, env, testenv.DueDacorum)
	photo := r.Answers.Documents.PhotoID
	officer := env.SignInStaff(t, env.AddStaff(t, domain.RoleOfficer, "dacorum"))
	casePath := fmt.Sprintf("/staff/renewals/%d", r.ID)
	p := officer.Get(casePath)
	mustContain(t, p, `id="document-photo"`, "Waiting for review", fmt.Sprintf(`href="/staff/documents/%d/file"`, photo))
	review := fmt.Sprintf("/staff/documents/%d/review", photo)
	p = officer.Post(review, url.Values{"decision": {"reject"}, "reason": {"no"}})
	wantStatus(t, p, http.StatusUnprocessableEntity)
	mustContain(t, p, `href="#document-photo-reason"`, "Say why the photo is rejected")
	wantStatus(t, officer.Post(review, url.Values{"decision": {"reject"}, "reason": {"Your face is in shadow"}}), http.StatusSeeOther)

	// Sent, an accepted or waiting photo cannot be swapped; a rejected one can.
	p = driver.Get("/renew/documents")
	mustContain(t, p, "Rejected", "Your face is in shadow", "Replace your photo")
	wantStatus(t, driver.Upload(photoPath, "new.jpg", testenv.PhotoJPEG(t)), http.StatusSeeOther)
	wantStatus(t, driver.Upload(photoPath, "again.jpg", testenv.PhotoJPEG(t)), http.StatusConflict)
	now := draftOf(t, env, testenv.DueDacorum).Answers.Documents.PhotoID
	if now == photo {
		t.Fatal("the new photo was not recorded")
	}
	p = officer.Get(casePath)
	mustContain(t, p, "Replaced by the driver", "Document uploaded")
	officer.Get(casePath)
	wantStatus(t, officer.Post(fmt.Sprintf("/staff/documents/%d/review", now), url.Values{"decision": {"accept"}}), http.StatusSeeOther)
	wantStatus(t, officer.Post(review, url.Values{"decision": {"accept"}}), http.StatusConflict) // the replaced one
	entries := auditActions(t, env)
	if entries["document.rejected"] != 1 || entries["document.accepted"] != 1 {
		t.Errorf("audit: %v", entries)
	}
}

func auditActions(t *testing.T, env *testenv.Env) map[string]int {
	t.Helper()
	out := map[string]int{}
	entries, _, err := env.Store.AuditEntries(context.Background(), store.AuditFilter{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		out[e.Action]++
	}
	return out
}

// clamdListener speaks clamd's zINSTREAM protocol on a local port and finds the EICAR string.
func clamdListener(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				cmd := make([]byte, 10)
				if _, err := io.ReadFull(conn, cmd); err != nil || string(cmd) != "zINSTREAM\x00" {
					return
				}
				var stream []byte
				for {
					var n [4]byte
					if _, err := io.ReadFull(conn, n[:]); err != nil {
						return
					}
					size := binary.BigEndian.Uint32(n[:])
					if size == 0 {
						break
					}
					chunk := make([]byte, size)
					if _, err := io.ReadFull(conn, chunk); err != nil {
						return
					}
					stream = append(stream, chunk...)
				}
				if bytes.Contains(stream, []byte("EICAR-STANDARD-ANTIVIRUS-TEST-FILE")) {
					conn.Write([]byte("stream: Eicar-Signature FOUND\x00"))
				} else {
					conn.Write([]byte("stream: OK\x00"))
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// TestUploadsAreScannedWhenConfigured: with a scanner, a clean photo is stored with the
// scanner's verdict, a PDF carrying EICAR is a field error, and a scanner that is down is a
// 503 "try again" with nothing stored.
func TestUploadsAreScannedWhenConfigured(t *testing.T) {
	env := testenv.New(t, testenv.Options{ClamdAddr: clamdListener(t)})
	b := env.SignIn(t, "dacorum", testenv.DueDacorum)
	b.Get("/renew/checks")
	wantStatus(t, b.Post("/renew/checks", testenv.Copy(testenv.ChecksForm, "medical-year", "2019")), http.StatusSeeOther)
	b.Get("/renew/documents")
	wantStatus(t, b.Upload(photoPath, "photo.jpg", testenv.PhotoJPEG(t)), http.StatusSeeOther)
	d, _ := env.Store.DocumentByID(context.Background(), draftOf(t, env, testenv.DueDacorum).Answers.Documents.PhotoID)
	if d.ScanResult != "stream: OK" {
		t.Errorf("scan result %q", d.ScanResult)
	}
	eicarPDF := "%PDF-1.4\n" + `X5O!P%@AP[4\PZX54(P^)7CC)7}$` + "EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*\n%%EOF\n"
	p := b.Upload("/renew/documents/upload/medical", "medical.pdf", []byte(eicarPDF))
	wantStatus(t, p, http.StatusUnprocessableEntity)
	mustContain(t, p, `href="#file-medical"`, "The file contains a virus (Eicar-Signature)")

	down := testenv.New(t, testenv.Options{ClamdAddr: "127.0.0.1:1"})
	b = down.SignIn(t, "dacorum", testenv.DueDacorum)
	b.Get("/renew/documents")
	p = b.Upload(photoPath, "photo.jpg", testenv.PhotoJPEG(t))
	wantStatus(t, p, http.StatusServiceUnavailable)
	mustContain(t, p, "Try again in a few minutes")
	if got := draftOf(t, down, testenv.DueDacorum).Answers.Documents.PhotoID; got != 0 {
		t.Fatal("an unscanned upload was stored")
	}
}
