// Package document checks the files drivers upload: the photo, the Group 2 medical certificate
// and the DBS certificate. It streams an upload to a temporary file while hashing and counting
// it, detects the type from the content (never the name or the browser's Content-Type),
// decodes and re-encodes images (which drops their metadata), and checks PDFs for script.
// It knows nothing of HTTP or storage.
package document

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"

	"github.com/herts-msp/taxi-renewals/internal/domain"
)

// Limits on an upload.
const (
	// MaxBytes is the largest file a driver may upload: 10 MB.
	MaxBytes = 10 * 1024 * 1024
	// MaxPixels bounds the size of an image before it is decoded, so a small file that claims
	// a huge picture (a "decompression bomb") cannot exhaust memory: 40 megapixels.
	MaxPixels = 40_000_000
	// MinPhotoWidth and MinPhotoHeight are the smallest photo the council can print a badge from.
	MinPhotoWidth  = 600
	MinPhotoHeight = 750
	// ChunkSize is how much of a file is stored, and read back, at a time.
	ChunkSize = 256 * 1024
	// JPEGQuality is the quality images are re-encoded at.
	JPEGQuality = 90
)

// Content types the service accepts and stores.
const (
	TypeJPEG = "image/jpeg"
	TypePNG  = "image/png"
	TypePDF  = "application/pdf"
)

// Reasons a file is refused; each is a *domain.Error with CodeInvalid and one of these reasons.
const (
	ReasonEmpty     = "file_empty"
	ReasonTooLarge  = "file_too_large"
	ReasonWrongType = "file_wrong_type"
	ReasonCorrupt   = "file_corrupt"
	ReasonTooSmall  = "image_too_small"
	ReasonTooBig    = "image_too_many_pixels"
	ReasonPDFScript = "pdf_active_content"
	ReasonPDFBroken = "pdf_incomplete"
)

func refuse(reason, message string) error {
	return domain.NewError(domain.CodeInvalid, reason, message)
}

// Spooled is an upload written to a temporary file, with its size and SHA-256.
type Spooled struct {
	Path   string
	Size   int64
	SHA256 string
}

// Remove deletes the temporary file.
func (s Spooled) Remove() {
	if s.Path != "" {
		_ = os.Remove(s.Path)
	}
}

// Open opens the spooled file for reading.
func (s Spooled) Open() (*os.File, error) { return os.Open(s.Path) }

// Spool copies r to a new temporary file in dir (the system's when empty), hashing and
// counting as it goes, and refuses a file over max bytes without reading more than max+1.
// The file is removed again on any error.
func Spool(dir string, r io.Reader, max int64) (Spooled, error) {
	f, err := os.CreateTemp(dir, "upload-*")
	if err != nil {
		return Spooled{}, err
	}
	out := Spooled{Path: f.Name()}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), io.LimitReader(r, max+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		out.Remove()
		return Spooled{}, err
	}
	if n > max {
		out.Remove()
		return Spooled{}, refuse(ReasonTooLarge, fmt.Sprintf("The file must be smaller than %d MB", max/(1024*1024)))
	}
	out.Size, out.SHA256 = n, hex.EncodeToString(h.Sum(nil))
	return out, nil
}

// Prepared is a checked file ready to store: the bytes at Path (the upload itself for a PDF, a
// re-encoded JPEG for an image), their type, size, hash and, for an image, its size in pixels.
type Prepared struct {
	Spooled
	ContentType string
	Width       int
	Height      int
}

// Allowed says which content types each kind of document may be.
func Allowed(kind domain.DocumentKind) []string {
	if kind == domain.DocumentPhoto {
		return []string{TypeJPEG, TypePNG}
	}
	return []string{TypePDF, TypeJPEG, TypePNG}
}

// Prepare checks a spooled upload for a document of kind and returns what to store. An image
// is decoded and re-encoded as a JPEG in a new temporary file (the caller removes both); a PDF
// is checked and stored as uploaded. Every refusal is a *domain.Error with CodeInvalid whose
// message is written for the driver.
func Prepare(kind domain.DocumentKind, in Spooled, dir string) (Prepared, error) {
	what := kind.Noun()
	if in.Size == 0 {
		return Prepared{}, refuse(ReasonEmpty, "The selected file is empty. Choose the file of your "+what+" again")
	}
	f, err := in.Open()
	if err != nil {
		return Prepared{}, err
	}
	defer f.Close()
	ct, err := Sniff(f)
	if err != nil {
		return Prepared{}, err
	}
	ok := false
	for _, a := range Allowed(kind) {
		ok = ok || a == ct
	}
	if !ok {
		if kind == domain.DocumentPhoto {
			return Prepared{}, refuse(ReasonWrongType, "The photo must be a JPEG or PNG image")
		}
		return Prepared{}, refuse(ReasonWrongType, "Your "+what+" must be a PDF, JPEG or PNG file")
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return Prepared{}, err
	}
	if ct == TypePDF {
		if err := CheckPDF(f, in.Size); err != nil {
			return Prepared{}, err
		}
		return Prepared{Spooled: in, ContentType: TypePDF}, nil
	}
	return reencode(kind, f, dir)
}

// Sniff names the type of the content r starts with: image/jpeg, image/png, application/pdf,
// or what net/http.DetectContentType says for anything else. It reads at most 512 bytes.
func Sniff(r io.Reader) (string, error) {
	head := make([]byte, 512)
	n, err := io.ReadFull(r, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return "", err
	}
	return SniffBytes(head[:n]), nil
}

// hashWriter counts and hashes what is written through it.
type hashWriter struct {
	w io.Writer
	h hash.Hash
	n int64
}

func (hw *hashWriter) Write(p []byte) (int, error) {
	n, err := hw.w.Write(p)
	hw.h.Write(p[:n])
	hw.n += int64(n)
	return n, err
}

// bufferedFile wraps f for decoders, which read in small pieces.
func bufferedFile(f *os.File) *bufio.Reader { return bufio.NewReaderSize(f, 64*1024) }
