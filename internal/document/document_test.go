package document

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/herts-msp/taxi-renewals/internal/domain"
)

// testImage is a w×h picture with a gradient, so it compresses like a photo rather than to
// nothing.
func testImage(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), uint8(x + y), 255})
		}
	}
	return img
}

func jpegBytes(t testing.TB, w, h int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, testImage(w, h), &jpeg.Options{Quality: 80}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func pngBytes(t testing.TB, w, h int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, testImage(w, h)); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// withEXIF inserts an APP1 EXIF segment (orientation, and a marker string standing in for a
// GPS position) straight after the JPEG's SOI.
func withEXIF(jpg []byte, orientation uint16) []byte {
	var tiff bytes.Buffer
	tiff.WriteString("II*\x00")
	binary.Write(&tiff, binary.LittleEndian, uint32(8))
	binary.Write(&tiff, binary.LittleEndian, uint16(1))
	binary.Write(&tiff, binary.LittleEndian, uint16(0x0112)) // orientation
	binary.Write(&tiff, binary.LittleEndian, uint16(3))      // SHORT
	binary.Write(&tiff, binary.LittleEndian, uint32(1))
	binary.Write(&tiff, binary.LittleEndian, orientation)
	binary.Write(&tiff, binary.LittleEndian, uint16(0))
	binary.Write(&tiff, binary.LittleEndian, uint32(0))
	tiff.WriteString("GPS 51.8003N 0.2066W secret-location")
	seg := append([]byte("Exif\x00\x00"), tiff.Bytes()...)
	var out bytes.Buffer
	out.Write(jpg[:2])
	out.Write([]byte{0xFF, 0xE1, byte((len(seg) + 2) >> 8), byte(len(seg) + 2)})
	out.Write(seg)
	out.Write(jpg[2:])
	return out.Bytes()
}

const goodPDF = "%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"

func spool(t *testing.T, content []byte) Spooled {
	t.Helper()
	s, err := Spool(t.TempDir(), bytes.NewReader(content), MaxBytes)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Remove)
	return s
}

func reasonOf(err error) string { return domain.ErrorReason(err) }

func TestPrepareRefusesBadFiles(t *testing.T) {
	good := jpegBytes(t, 600, 750)
	tests := []struct {
		name    string
		kind    domain.DocumentKind
		content []byte
		reason  string
	}{
		{"empty file", domain.DocumentPhoto, nil, ReasonEmpty},
		{"HTML named photo.jpg", domain.DocumentPhoto, []byte("<!DOCTYPE html><html><script>alert(1)</script></html>"), ReasonWrongType},
		{"PDF as a photo", domain.DocumentPhoto, []byte(goodPDF), ReasonWrongType},
		{"GIF as a photo", domain.DocumentPhoto, []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"), ReasonWrongType},
		{"plain text as a medical", domain.DocumentMedical, []byte("I am a certificate, honest"), ReasonWrongType},
		{"truncated JPEG", domain.DocumentPhoto, good[:len(good)/2], ReasonCorrupt},
		{"JPEG header only", domain.DocumentPhoto, good[:20], ReasonCorrupt},
		{"truncated PNG", domain.DocumentPhoto, pngBytes(t, 600, 750)[:400], ReasonCorrupt},
		{"photo too small", domain.DocumentPhoto, jpegBytes(t, 599, 750), ReasonTooSmall},
		{"photo landscape too short", domain.DocumentPhoto, jpegBytes(t, 800, 600), ReasonTooSmall},
		{"PDF with JavaScript", domain.DocumentMedical, []byte(strings.Replace(goodPDF, "/Type /Catalog", "/Type /Catalog /OpenAction << /S /JavaScript /JS (app.alert(1)) >>", 1)), ReasonPDFScript},
		{"PDF with /JS only", domain.DocumentDBS, []byte(strings.Replace(goodPDF, "/Type /Catalog", "/AA << /O << /JS (x) >> >>", 1)), ReasonPDFScript},
		{"PDF with Launch", domain.DocumentDBS, []byte(strings.Replace(goodPDF, "/Type /Catalog", "/OpenAction << /S /Launch /F (cmd.exe) >>", 1)), ReasonPDFScript},
		{"PDF with an embedded file", domain.DocumentDBS, []byte(strings.Replace(goodPDF, "/Type /Catalog", "/Names << /EmbeddedFiles 3 0 R >>", 1)), ReasonPDFScript},
		{"PDF cut off before %%EOF", domain.DocumentMedical, []byte(goodPDF[:len(goodPDF)-7]), ReasonPDFBroken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Prepare(tt.kind, spool(t, tt.content), t.TempDir())
			if err == nil {
				p.Remove()
			}
			if got := reasonOf(err); got != tt.reason {
				t.Fatalf("reason = %q, want %q (err %v)", got, tt.reason, err)
			}
			var de *domain.Error
			if !errors.As(err, &de) || de.Code != domain.CodeInvalid || de.Message == "" {
				t.Fatalf("want an invalid domain error with a message, got %#v", err)
			}
		})
	}
}

func TestPrepareAcceptsGoodFiles(t *testing.T) {
	tests := []struct {
		name          string
		kind          domain.DocumentKind
		content       []byte
		wantType      string
		width, height int
	}{
		{"JPEG photo", domain.DocumentPhoto, jpegBytes(t, 600, 750), TypeJPEG, 600, 750},
		{"PNG photo becomes JPEG", domain.DocumentPhoto, pngBytes(t, 640, 800), TypeJPEG, 640, 800},
		{"PDF medical kept as is", domain.DocumentMedical, []byte(goodPDF), TypePDF, 0, 0},
		{"PDF with trailing white space", domain.DocumentDBS, []byte(goodPDF + "\r\n  \n"), TypePDF, 0, 0},
		{"PDF naming /JSON is not script", domain.DocumentDBS, []byte(strings.Replace(goodPDF, "/Type /Catalog", "/Type /Catalog /JSONData 1", 1)), TypePDF, 0, 0},
		{"small scan of a DBS certificate", domain.DocumentDBS, pngBytes(t, 300, 200), TypeJPEG, 300, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := spool(t, tt.content)
			p, err := Prepare(tt.kind, in, t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			defer p.Remove()
			if p.ContentType != tt.wantType || p.Width != tt.width || p.Height != tt.height {
				t.Fatalf("got %s %dx%d, want %s %dx%d", p.ContentType, p.Width, p.Height, tt.wantType, tt.width, tt.height)
			}
			stored, err := os.ReadFile(p.Path)
			if err != nil {
				t.Fatal(err)
			}
			if int64(len(stored)) != p.Size {
				t.Errorf("size %d, file has %d bytes", p.Size, len(stored))
			}
			if got := SniffBytes(stored); got != tt.wantType {
				t.Errorf("stored content sniffs as %s", got)
			}
			if tt.wantType == TypePDF && !bytes.Equal(stored, tt.content) {
				t.Error("a PDF must be stored exactly as uploaded")
			}
		})
	}
}

func TestReencodeStripsEXIFAndAppliesOrientation(t *testing.T) {
	// A landscape 750×600 sensor image held upright (orientation 6: rotate 90° clockwise) is a
	// 600×750 portrait photo.
	src := withEXIF(jpegBytes(t, 750, 600), 6)
	if !bytes.Contains(src, []byte("secret-location")) {
		t.Fatal("fixture has no EXIF")
	}
	p, err := Prepare(domain.DocumentPhoto, spool(t, src), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer p.Remove()
	stored, _ := os.ReadFile(p.Path)
	if bytes.Contains(stored, []byte("Exif")) || bytes.Contains(stored, []byte("secret-location")) {
		t.Error("the stored photo still carries its EXIF segment")
	}
	for i := 2; i+1 < len(stored) && stored[i] == 0xFF && stored[i+1] != 0xDA; {
		if stored[i+1] == 0xE1 {
			t.Fatal("the stored photo has an APP1 segment")
		}
		i += 2 + int(stored[i+2])<<8 + int(stored[i+3])
	}
	if p.Width != 600 || p.Height != 750 {
		t.Errorf("orientation not applied: %dx%d, want 600x750", p.Width, p.Height)
	}
	if p.SHA256 == spool(t, src).SHA256 {
		t.Error("hash of the stored bytes should be the re-encoded file's, not the upload's")
	}
}

func TestPrepareRefusesHugeDimensionsBeforeDecoding(t *testing.T) {
	// A PNG header claiming 10000×10000 pixels (100 MP), with no pixel data: DecodeConfig
	// reads it and the file is refused without allocating the picture.
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := []byte("IHDR")
	ihdr = binary.BigEndian.AppendUint32(ihdr, 10000)
	ihdr = binary.BigEndian.AppendUint32(ihdr, 10000)
	ihdr = append(ihdr, 8, 2, 0, 0, 0)
	binary.Write(&b, binary.BigEndian, uint32(13))
	b.Write(ihdr)
	binary.Write(&b, binary.BigEndian, crc32IEEE(ihdr))
	_, err := Prepare(domain.DocumentPhoto, spool(t, b.Bytes()), t.TempDir())
	if reasonOf(err) != ReasonTooBig {
		t.Fatalf("reason %q, want %q (%v)", reasonOf(err), ReasonTooBig, err)
	}
}

func TestSpoolRefusesTooLarge(t *testing.T) {
	dir := t.TempDir()
	_, err := Spool(dir, bytes.NewReader(make([]byte, 1025)), 1024)
	if reasonOf(err) != ReasonTooLarge {
		t.Fatalf("reason %q, want %q", reasonOf(err), ReasonTooLarge)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "*")); len(left) != 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
	s, err := Spool(dir, bytes.NewReader(make([]byte, 1024)), 1024)
	if err != nil || s.Size != 1024 || len(s.SHA256) != 64 {
		t.Fatalf("a file of exactly the limit: %+v %v", s, err)
	}
	s.Remove()
}

func TestCheckPDFFindsANameSplitAcrossReads(t *testing.T) {
	// Put "/JavaScript" across the boundary of the first ChunkSize read.
	pad := ChunkSize - 5 - len("%PDF-1.4\n")
	content := "%PDF-1.4\n" + strings.Repeat(" ", pad) + "/JavaScript (x)\n%%EOF"
	err := CheckPDF(strings.NewReader(content), int64(len(content)))
	if reasonOf(err) != ReasonPDFScript {
		t.Fatalf("reason %q, want %q", reasonOf(err), ReasonPDFScript)
	}
}

// FuzzPrepare feeds arbitrary bytes through the content checks, as every kind of document: it
// must never panic, and whatever it accepts must be one of the allowed types, re-encoded to a
// decodable JPEG when it is an image.
func FuzzPrepare(f *testing.F) {
	f.Add(jpegBytes(f, 64, 80))
	f.Add(pngBytes(f, 16, 16))
	f.Add([]byte(goodPDF))
	f.Add([]byte("<html>"))
	f.Add([]byte("%PDF-1.7\n/JavaScript\n%%EOF"))
	f.Add(withEXIF(jpegBytes(f, 32, 32), 8))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, content []byte) {
		for _, kind := range []domain.DocumentKind{domain.DocumentPhoto, domain.DocumentMedical} {
			in, err := Spool(dir, bytes.NewReader(content), MaxBytes)
			if err != nil {
				t.Fatal(err)
			}
			p, err := Prepare(kind, in, dir)
			if err != nil {
				in.Remove()
				if domain.ErrorCode(err) != domain.CodeInvalid {
					t.Fatalf("unexpected error kind: %v", err)
				}
				continue
			}
			stored, _ := os.ReadFile(p.Path)
			p.Remove()
			in.Remove()
			switch p.ContentType {
			case TypeJPEG:
				if _, err := jpeg.Decode(bytes.NewReader(stored)); err != nil {
					t.Fatalf("re-encoded JPEG does not decode: %v", err)
				}
			case TypePDF:
				if kind == domain.DocumentPhoto {
					t.Fatal("a PDF accepted as a photo")
				}
			default:
				t.Fatalf("accepted content type %q", p.ContentType)
			}
		}
	})
}
