package document

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"image/draw"
	"image/jpeg"
	_ "image/png" // registers the PNG decoder
	"io"
	"os"

	"github.com/herts-msp/taxi-renewals/internal/domain"
)

// reencode decodes the image in f and writes it again as a JPEG to a new temporary file. What
// is stored is only pixels: EXIF (camera, time, GPS position), comments and colour profiles
// are gone. The EXIF orientation of a phone photo is applied first, so the picture stays the
// right way up once the tag is dropped.
func reencode(kind domain.DocumentKind, f *os.File, dir string) (Prepared, error) {
	what := kind.Noun()
	orientation := 1
	if o, err := jpegOrientation(f); err == nil {
		orientation = o
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return Prepared{}, err
	}
	cfg, _, err := image.DecodeConfig(bufferedFile(f))
	if err != nil {
		return Prepared{}, refuse(ReasonCorrupt, "The "+what+" could not be read: the file may be damaged or incomplete. Take or save it again")
	}
	if int64(cfg.Width)*int64(cfg.Height) > MaxPixels || cfg.Width <= 0 || cfg.Height <= 0 {
		return Prepared{}, refuse(ReasonTooBig, fmt.Sprintf("The image is too big: it must be %d megapixels or fewer", MaxPixels/1_000_000))
	}
	w, h := cfg.Width, cfg.Height
	if orientation >= 5 {
		w, h = h, w
	}
	if kind == domain.DocumentPhoto && (w < MinPhotoWidth || h < MinPhotoHeight) {
		return Prepared{}, refuse(ReasonTooSmall, fmt.Sprintf("The photo must be at least %d pixels wide and %d pixels tall; this one is %d by %d", MinPhotoWidth, MinPhotoHeight, w, h))
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return Prepared{}, err
	}
	img, _, err := image.Decode(bufferedFile(f))
	if err != nil {
		return Prepared{}, refuse(ReasonCorrupt, "The "+what+" could not be read: the file may be damaged or incomplete. Take or save it again")
	}
	img = orient(img, orientation)
	out, err := os.CreateTemp(dir, "document-*.jpg")
	if err != nil {
		return Prepared{}, err
	}
	p := Prepared{Spooled: Spooled{Path: out.Name()}, ContentType: TypeJPEG, Width: img.Bounds().Dx(), Height: img.Bounds().Dy()}
	hw := &hashWriter{w: out, h: sha256.New()}
	err = jpeg.Encode(hw, img, &jpeg.Options{Quality: JPEGQuality})
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		p.Remove()
		return Prepared{}, err
	}
	p.Size, p.SHA256 = hw.n, hex.EncodeToString(hw.h.Sum(nil))
	return p, nil
}

var errNoOrientation = errors.New("no EXIF orientation")

// jpegOrientation reads the EXIF orientation (1 to 8) from a JPEG's APP1 segment, looking only
// at the segments before the image data.
func jpegOrientation(r io.Reader) (int, error) {
	var b [4]byte
	if _, err := io.ReadFull(r, b[:2]); err != nil || b[0] != 0xFF || b[1] != 0xD8 {
		return 0, errNoOrientation
	}
	for i := 0; i < 32; i++ {
		if _, err := io.ReadFull(r, b[:4]); err != nil || b[0] != 0xFF {
			return 0, errNoOrientation
		}
		marker, n := b[1], int(b[2])<<8|int(b[3])
		if n < 2 || marker == 0xDA || marker == 0xD9 {
			return 0, errNoOrientation
		}
		seg := make([]byte, n-2)
		if _, err := io.ReadFull(r, seg); err != nil {
			return 0, errNoOrientation
		}
		if marker == 0xE1 && len(seg) > 14 && string(seg[:6]) == "Exif\x00\x00" {
			return tiffOrientation(seg[6:])
		}
	}
	return 0, errNoOrientation
}

func tiffOrientation(t []byte) (int, error) {
	if len(t) < 8 {
		return 0, errNoOrientation
	}
	var u16 func([]byte) int
	var u32 func([]byte) int
	switch string(t[:2]) {
	case "II":
		u16 = func(b []byte) int { return int(b[0]) | int(b[1])<<8 }
		u32 = func(b []byte) int { return int(b[0]) | int(b[1])<<8 | int(b[2])<<16 | int(b[3])<<24 }
	case "MM":
		u16 = func(b []byte) int { return int(b[1]) | int(b[0])<<8 }
		u32 = func(b []byte) int { return int(b[3]) | int(b[2])<<8 | int(b[1])<<16 | int(b[0])<<24 }
	default:
		return 0, errNoOrientation
	}
	off := u32(t[4:8])
	if off < 8 || off+2 > len(t) {
		return 0, errNoOrientation
	}
	count := u16(t[off:])
	for i := 0; i < count; i++ {
		e := off + 2 + 12*i
		if e+12 > len(t) {
			break
		}
		if u16(t[e:]) == 0x0112 {
			if o := u16(t[e+8:]); o >= 1 && o <= 8 {
				return o, nil
			}
		}
	}
	return 0, errNoOrientation
}

// orient turns img the way EXIF orientation o says the camera held it.
func orient(img image.Image, o int) image.Image {
	if o <= 1 || o > 8 {
		return img
	}
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	dw, dh := w, h
	if o >= 5 {
		dw, dh = h, w
	}
	src := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(src, src.Bounds(), img, b.Min, draw.Src)
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			var dx, dy int
			switch o {
			case 2:
				dx, dy = w-1-x, y
			case 3:
				dx, dy = w-1-x, h-1-y
			case 4:
				dx, dy = x, h-1-y
			case 5:
				dx, dy = y, x
			case 6:
				dx, dy = h-1-y, x
			case 7:
				dx, dy = h-1-y, w-1-x
			case 8:
				dx, dy = y, w-1-x
			}
			si, di := src.PixOffset(x, y), dst.PixOffset(dx, dy)
			copy(dst.Pix[di:di+4], src.Pix[si:si+4])
		}
	}
	return dst
}
