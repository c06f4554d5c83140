package web

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/herts-msp/taxi-renewals/internal/document"
	"github.com/herts-msp/taxi-renewals/internal/domain"
	"github.com/herts-msp/taxi-renewals/internal/service"
)

// documentRoutes: the driver's photo and documents, and the officers' view of them.
func (s *Server) documentRoutes() {
	get, post := http.MethodGet, http.MethodPost
	s.route(get, "/renew/documents", accessDriver, s.documentsPage)
	s.route(post, documentUploadPath, accessDriver, s.uploadDocument)
	s.route(get, "/renew/documents/:id/file", accessDriver, s.driverDocumentFile)
	s.route(get, "/renew/documents/:id/preview", accessDriver, s.driverDocumentPreview)
	s.route(get, "/staff/documents/:id/file", accessStaffRead, s.staffDocumentFile)
	s.route(post, "/staff/documents/:id/review", accessOfficer, s.reviewDocument)
}

// documentUploadPath takes one file of up to 10 MB (document.MaxBytes) in a multipart form.
const documentUploadPath = "/renew/documents/upload/:kind"

// maxDocumentUploadBody is the file's 10 MB plus room for the multipart framing and the CSRF
// field. The file itself is cut off at 10 MB while it streams, with a field error.
const maxDocumentUploadBody = "10752K"

func isDocumentUpload(c echo.Context) bool {
	return c.Request().Method == http.MethodPost && c.Path() == documentUploadPath
}

// ----- the documents page

type documentsView struct {
	Items       []documentItem
	ChecksSaved bool
	Sent        bool
	MinWidth    int
	MinHeight   int
	MaxMB       int
	Errors      *fieldErrors
}

type documentItem struct {
	Kind      string
	Label     string
	Noun      string
	Why       string
	Hint      string
	Accept    string
	IsPhoto   bool
	Current   *domain.Document
	Size      string
	Uploaded  string
	CanUpload bool
	Rejected  bool
	Accepted  bool
}

func (s *Server) documentsData(c echo.Context, fe *fieldErrors) (documentsView, error) {
	dd, err := s.svc.DocumentsForDriver(c.Request().Context(), driverID(c))
	if err != nil {
		return documentsView{}, err
	}
	a := dd.Renewal.Answers
	v := documentsView{ChecksSaved: a.Checks.Saved, Sent: dd.Renewal.Status != domain.StatusDraft, Errors: fe,
		MinWidth: document.MinPhotoWidth, MinHeight: document.MinPhotoHeight, MaxMB: document.MaxBytes / (1024 * 1024)}
	for _, k := range dd.Required {
		it := documentItem{Kind: string(k), Label: k.Label(), Noun: k.Noun(), IsPhoto: k == domain.DocumentPhoto, Accept: "image/jpeg,image/png,application/pdf"}
		switch k {
		case domain.DocumentPhoto:
			it.Why = "We print it on your badge and licence, so it must be a recent, clear photo of your face."
			it.Hint = fmt.Sprintf("A JPEG or PNG image, at least %d pixels wide and %d pixels tall, smaller than %d MB. A photo from your phone's camera is fine.", v.MinWidth, v.MinHeight, v.MaxMB)
			it.Accept = "image/jpeg,image/png"
		case domain.DocumentMedical:
			it.Why = fmt.Sprintf("Your last Group 2 medical was on %s, more than %d years ago, so we need your new Group 2 medical certificate.",
				a.Checks.MedicalDate.Format("2 January 2006"), s.svc.MedicalIntervalYears(dd.Renewal.CouncilID))
			it.Hint = fmt.Sprintf("A PDF, or a photo or scan (JPEG or PNG) of every page, smaller than %d MB.", v.MaxMB)
		case domain.DocumentDBS:
			it.Why = fmt.Sprintf("You are not on the DBS Update Service, so we need a scan of your enhanced DBS certificate, issued within the last %d months.", domain.DBSCertificateMaxAgeMonths)
			it.Hint = fmt.Sprintf("A PDF, or a photo or scan (JPEG or PNG) of the certificate, smaller than %d MB.", v.MaxMB)
		}
		if d, ok := dd.Current[k]; ok {
			d := d
			it.Current, it.Size, it.Uploaded = &d, humanSize(d.SizeBytes), s.shortTime(d.UploadedAt)
			it.Rejected, it.Accepted = d.Status == domain.DocumentRejected, d.Status == domain.DocumentAccepted
		}
		it.CanUpload = !v.Sent || it.Current == nil || it.Rejected
		v.Items = append(v.Items, it)
	}
	return v, nil
}

func (s *Server) documentsPage(c echo.Context) error {
	h, err := s.home(c)
	if err != nil {
		return err
	}
	if !h.Renewal.Status.Open() {
		return redirect(c, "/renew/status")
	}
	v, err := s.documentsData(c, nil)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "documents", v)
}

// ----- the upload

// uploadDocument reads the multipart form as a stream: the CSRF field first (the hidden input
// comes before the file in the form, and browsers send fields in order), then exactly one
// file, which goes to the service as it arrives, so the request is never held in memory. The
// CSRF middleware skips this route because it would parse the whole form first; the token is
// checked here against the same cookie, in constant time.
func (s *Server) uploadDocument(c echo.Context) error {
	kind := domain.DocumentKind(c.Param("kind"))
	if !kind.Valid() {
		return echo.ErrNotFound
	}
	field := "file-" + string(kind)
	cookie, err := c.Cookie("_csrf")
	if err != nil || cookie.Value == "" {
		return echo.NewHTTPError(http.StatusForbidden, "invalid csrf token")
	}
	c.Set("csrf", cookie.Value) // for the page, should it be shown again
	fail := func(status int, msg string) error {
		fe := &fieldErrors{}
		fe.Add(field, msg)
		v, err := s.documentsData(c, fe)
		if err != nil {
			return err
		}
		return s.render(c, status, "documents", v)
	}
	chooseMsg := "Select the file of your " + kind.Noun() + " to upload"
	mr, err := c.Request().MultipartReader()
	if err != nil {
		return fail(http.StatusUnprocessableEntity, chooseMsg)
	}
	part, err := mr.NextPart()
	if err != nil || part.FormName() != "_csrf" {
		return echo.NewHTTPError(http.StatusForbidden, "invalid csrf token")
	}
	token, _ := io.ReadAll(io.LimitReader(part, 256))
	if subtle.ConstantTimeCompare(token, []byte(cookie.Value)) != 1 {
		return echo.NewHTTPError(http.StatusForbidden, "invalid csrf token")
	}
	var file *multipart.Part
	for {
		p, err := mr.NextPart()
		if err != nil {
			break
		}
		if p.FormName() == "file" {
			file = p
			break
		}
	}
	if file == nil || file.FileName() == "" {
		return fail(http.StatusUnprocessableEntity, chooseMsg)
	}
	tooMany := errors.New("more than one file")
	_, err = s.svc.UploadDocument(c.Request().Context(), driverID(c), service.Upload{Kind: kind, FileName: file.FileName(), Content: file,
		Rest: func() error {
			for {
				p, err := mr.NextPart()
				if err != nil {
					return nil
				}
				if p.FileName() != "" {
					return tooMany
				}
			}
		}})
	if errors.Is(err, tooMany) {
		return fail(http.StatusUnprocessableEntity, "Upload one file at a time: choose only the file of your "+kind.Noun())
	}
	var de *domain.Error
	if errors.As(err, &de) && (de.Code == domain.CodeInvalid || de.Code == domain.CodeConflict) {
		return fail(refusalStatus(err), de.Message)
	}
	if err != nil {
		return err
	}
	return redirect(c, "/renew/documents#document-"+string(kind))
}

// ----- serving a document

// sendDocument streams a document with headers that stop a browser treating it as anything but
// what it is: its stored type, nosniff, and (unless inline) a download with a name we make.
func (s *Server) sendDocument(c echo.Context, d domain.Document, inline bool) error {
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, d.ContentType)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set(echo.HeaderContentLength, strconv.FormatInt(d.SizeBytes, 10))
	h.Set("Cache-Control", "private, no-store")
	disposition := "attachment"
	if inline {
		disposition = "inline"
	}
	h.Set("Content-Disposition", fmt.Sprintf(`%s; filename="%s"`, disposition, downloadName(d)))
	c.Response().WriteHeader(http.StatusOK)
	return s.svc.WriteDocument(c.Request().Context(), d, c.Response())
}

// downloadName is a safe file name built from the record, never from what the driver sent.
func downloadName(d domain.Document) string {
	ext := map[string]string{document.TypeJPEG: "jpg", document.TypePNG: "png", document.TypePDF: "pdf"}[d.ContentType]
	return fmt.Sprintf("renewal-%d-%s-%d.%s", d.RenewalID, d.Kind, d.ID, ext)
}

func (s *Server) driverDocumentFile(c echo.Context) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	d, err := s.svc.DriverDocument(c.Request().Context(), driverID(c), id)
	if err != nil {
		return err
	}
	return s.sendDocument(c, d, false)
}

// driverDocumentPreview shows the driver their own photo in the page, to check it.
func (s *Server) driverDocumentPreview(c echo.Context) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	d, err := s.svc.DriverDocument(c.Request().Context(), driverID(c), id)
	if err != nil {
		return err
	}
	if d.ContentType != document.TypeJPEG && d.ContentType != document.TypePNG {
		return s.sendDocument(c, d, false)
	}
	return s.sendDocument(c, d, true)
}

func (s *Server) staffDocumentFile(c echo.Context) error {
	id, err := idParam(c)
	if err != nil {
		return err
	}
	d, err := s.svc.StaffDocument(c.Request().Context(), actor(c), id)
	if err != nil {
		return err
	}
	return s.sendDocument(c, d, false)
}

// humanSize writes a file size as people read it: 840 KB, 2.4 MB.
func humanSize(n int64) string {
	switch {
	case n >= 1024*1024:
		return strconv.FormatFloat(float64(n)/(1024*1024), 'f', 1, 64) + " MB"
	case n >= 1024:
		return strconv.FormatInt((n+512)/1024, 10) + " KB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}
