package service

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"unicode"

	"github.com/herts-msp/taxi-renewals/internal/document"
	"github.com/herts-msp/taxi-renewals/internal/domain"
	"github.com/herts-msp/taxi-renewals/internal/store"
)

// Upload is one file a driver sends for a document.
type Upload struct {
	Kind     domain.DocumentKind
	FileName string    // as the browser gave it: shown back, never trusted
	Content  io.Reader // the file part, read once, as it arrives
	// Rest, when set, is called once the file has been read and before anything is checked or
	// stored: the web layer reads the rest of the request there and refuses a second file.
	Rest func() error
}

// UploadDocument checks and stores a document for the driver's renewal. The file is streamed
// to a temporary file (hashed, counted, refused past 10 MB), checked by its content, re-encoded
// when it is an image, scanned for viruses when a scanner is configured, and only then stored,
// in one transaction with the answers that point at it. Nothing is stored when any step fails.
func (s *Service) UploadDocument(ctx context.Context, driverID int64, up Upload) (domain.Document, error) {
	if !up.Kind.Valid() {
		return domain.Document{}, domain.NotFound()
	}
	r, err := s.store.OpenRenewal(ctx, driverID)
	if err != nil {
		return domain.Document{}, err
	}
	if !r.Status.Open() {
		return domain.Document{}, domain.NewError(domain.CodeConflict, "not_open", "This renewal has been decided, so documents can no longer be added.")
	}
	in, err := document.Spool(s.opt.TempDir, up.Content, document.MaxBytes)
	var de *domain.Error
	if err != nil && !errors.As(err, &de) {
		// Reading the request failed (the phone lost its connection, say): nothing was stored.
		return domain.Document{}, &domain.Error{Code: domain.CodeInvalid, Reason: "upload_interrupted",
			Message: "The upload did not finish, so nothing was saved. Try again", Err: err}
	}
	if err != nil {
		return domain.Document{}, err
	}
	defer in.Remove()
	if up.Rest != nil {
		if err := up.Rest(); err != nil {
			return domain.Document{}, err
		}
	}
	p, err := document.Prepare(up.Kind, in, s.opt.TempDir)
	if err != nil {
		return domain.Document{}, uploadError(err)
	}
	defer p.Remove()
	verdict := "not scanned"
	if s.opt.Scanner != nil {
		if verdict, err = s.scanFile(ctx, p); err != nil {
			return domain.Document{}, err
		}
	}
	f, err := p.Open()
	if err != nil {
		return domain.Document{}, domain.Internal(err)
	}
	defer f.Close()
	d, err := s.store.AddDocument(ctx, driverID, s.now(), store.NewDocument{Kind: up.Kind, ContentType: p.ContentType,
		FilenameGiven: CleanFileName(up.FileName), Size: p.Size, SHA256: p.SHA256, Width: p.Width, Height: p.Height,
		ScanResult: verdict, Content: f})
	if err != nil && domain.ErrorCode(err) == domain.CodeInternal {
		return d, domain.Internal(err)
	}
	return d, err
}

func (s *Service) scanFile(ctx context.Context, p document.Prepared) (string, error) {
	f, err := p.Open()
	if err != nil {
		return "", domain.Internal(err)
	}
	defer f.Close()
	res, err := s.opt.Scanner.Scan(ctx, f)
	if err != nil {
		s.opt.Logger.Warn("virus scan failed; upload refused", slog.String("error", err.Error()))
		return "", &domain.Error{Code: domain.CodeUnavailable, Reason: "scanner_unavailable",
			Message: "We could not check your file for viruses just now, so it has not been saved. Try again in a few minutes.", Err: err}
	}
	if !res.Clean {
		s.opt.Logger.Warn("virus found in an upload", slog.String("virus", res.Virus))
		return "", domain.NewError(domain.CodeInvalid, "virus_found", "The file contains a virus ("+res.Virus+"), so it has not been saved. Upload a clean copy")
	}
	return res.Detail, nil
}

// uploadError passes the document checks' own messages through and hides anything else.
func uploadError(err error) error {
	var de *domain.Error
	if errors.As(err, &de) {
		return de
	}
	return domain.Internal(err)
}

// CleanFileName makes the name a browser gave a file safe to show and to offer in a download:
// no path, no control characters, only letters, digits, spaces and . _ - ( ), at most 100
// characters.
func CleanFileName(name string) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	var b strings.Builder
	n := 0
	for _, r := range name {
		if n >= 100 {
			break
		}
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune(" ._-()", r):
			b.WriteRune(r)
		default:
			b.WriteRune('_')
		}
		n++
	}
	return strings.TrimSpace(strings.Trim(b.String(), "."))
}

// DriverDocuments is what the documents page shows a driver.
type DriverDocuments struct {
	Renewal   domain.Renewal
	Required  []domain.DocumentKind
	Current   map[domain.DocumentKind]domain.Document // the document each kind's answer points at
	Documents []domain.Document
}

// DocumentsForDriver loads the driver's open renewal's documents.
func (s *Service) DocumentsForDriver(ctx context.Context, driverID int64) (DriverDocuments, error) {
	r, err := s.store.OpenRenewal(ctx, driverID)
	if err != nil {
		return DriverDocuments{}, err
	}
	docs, err := s.store.RenewalDocuments(ctx, r.ID)
	if err != nil {
		return DriverDocuments{}, domain.Internal(err)
	}
	out := DriverDocuments{Renewal: r, Required: r.Answers.RequiredDocuments(), Documents: docs, Current: map[domain.DocumentKind]domain.Document{}}
	for _, d := range docs {
		if r.Answers.Documents.ID(d.Kind) == d.ID {
			out.Current[d.Kind] = d
		}
	}
	return out, nil
}

// DriverDocument finds one of the driver's own documents; any other id is not found.
func (s *Service) DriverDocument(ctx context.Context, driverID, id int64) (domain.Document, error) {
	d, err := s.store.DocumentByID(ctx, id)
	if err != nil || d.DriverID != driverID {
		return domain.Document{}, domain.NotFound()
	}
	return d, nil
}

// StaffDocument finds a document the actor may read: officers of the driver's council,
// analysts and admins (Actor.CanRead). Another council's document is not found.
func (s *Service) StaffDocument(ctx context.Context, a domain.Actor, id int64) (domain.Document, error) {
	d, err := s.store.DocumentByID(ctx, id)
	if err != nil {
		return domain.Document{}, err
	}
	if err := a.CanRead(d.CouncilID, "document"); err != nil {
		return domain.Document{}, domain.NotFound()
	}
	r, err := s.store.RenewalByID(ctx, d.RenewalID)
	if err != nil || r.Status == domain.StatusDraft {
		// A draft's documents are the driver's until they send it, as the draft itself is.
		return domain.Document{}, domain.NotFound()
	}
	return d, nil
}

// WriteDocument copies a document's content (already authorised by DriverDocument or
// StaffDocument) to w.
func (s *Service) WriteDocument(ctx context.Context, d domain.Document, w io.Writer) error {
	return s.store.WriteDocument(ctx, d.ID, w)
}

// ReviewDocument accepts or rejects a document on a renewal the officer works.
func (s *Service) ReviewDocument(ctx context.Context, a domain.Actor, id int64, accept bool, reason string) (domain.Document, error) {
	d, err := s.store.DocumentByID(ctx, id)
	if err != nil {
		return d, err
	}
	if err := a.CanWork(d.CouncilID, "document"); err != nil {
		return domain.Document{}, err
	}
	status := domain.DocumentAccepted
	reason = strings.TrimSpace(reason)
	if !accept {
		status = domain.DocumentRejected
		if n := len([]rune(reason)); n < 5 || n > 1000 {
			msg := "Say why the " + d.Kind.Noun() + " is rejected, as the driver will read it (5 to 1,000 characters)"
			return domain.Document{}, &domain.Error{Code: domain.CodeInvalid, Reason: "reason", Message: msg,
				Fields: map[string]string{"document-" + string(d.Kind) + "-reason": msg}}
		}
	} else {
		reason = ""
	}
	r, err := s.store.RenewalByID(ctx, d.RenewalID)
	if err != nil {
		return domain.Document{}, err
	}
	return s.store.ReviewDocument(ctx, id, status, a.StaffID, reason, s.now(),
		s.entry(a, "document."+string(status), d.CouncilID, "renewal:"+r.Reference,
			map[string]any{"document_id": d.ID, "kind": string(d.Kind), "sha256": d.SHA256, "reason": reason}))
}

// MedicalIntervalYears is how old a council allows a driver's last Group 2 medical to be before
// a new certificate must come with the renewal (the council's setting, 5 years unless an admin
// changed it).
func (s *Service) MedicalIntervalYears(councilID int64) int {
	if c, err := s.councilByID(context.Background(), councilID); err == nil && c.MedicalIntervalYears > 0 {
		return c.MedicalIntervalYears
	}
	return domain.DefaultMedicalIntervalYears
}

// SaveChecks saves the driver's checks section and records, with it, whether their medical is
// old enough to need a new certificate (domain.DocumentsRequired), so the documents task and
// the rules that read the answers need no clock.
func (s *Service) SaveChecks(ctx context.Context, driverID int64, checks domain.CheckAnswers) error {
	d, err := s.driverByID(ctx, driverID)
	if err != nil {
		return err
	}
	checks.Saved = true
	_, checks.MedicalCertificateDue, _ = domain.DocumentsRequired(checks, s.MedicalIntervalYears(d.CouncilID), s.Today())
	return s.SaveAnswers(ctx, driverID, func(a *domain.Answers) { a.Checks = checks })
}
