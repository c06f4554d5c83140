package e2e

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/jpeg"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/herts-msp/taxi-renewals/internal/testenv"
)

// The files a driver chooses on the documents page, as a phone's file picker would give them.

// uploadFile writes content to a file called name in a folder of the test's, and returns its path.
func uploadFile(t *testing.T, name string, content []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, content, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// photoFile is a valid 600×750 JPEG photo.
func photoFile(t *testing.T) string {
	t.Helper()
	return uploadFile(t, "IMG_2041.jpg", testenv.PhotoJPEG(t))
}

// smallPhotoFile is a real JPEG, too small to print on a badge.
func smallPhotoFile(t *testing.T) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 320, 240))
	for y := range 240 {
		for x := range 320 {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 90, 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, nil); err != nil {
		t.Fatal(err)
	}
	return uploadFile(t, "thumbnail.jpg", buf.Bytes())
}

// certificatePDF is a plain PDF, as a scanner's "save as PDF" makes.
func certificatePDF(t *testing.T, name string) string {
	t.Helper()
	return uploadFile(t, name, []byte("%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"))
}

// upload chooses the file for the document kind's file input (the driver picks it in the
// phone's file chooser; chromedp sets it on the input, as the chooser would), then presses
// that form's button ("Upload photo", "Replace photo"), and returns the answer's status.
// path "" presses the button with no file chosen.
func (tb *tab) upload(kind, path string) int {
	tb.t.Helper()
	input := "#file-" + kind
	if path != "" {
		tb.do("choose "+filepath.Base(path)+" for "+kind, chromedp.SetUploadFiles(chromedp.CSS(input), []string{path}, chromedp.NodeVisible))
	}
	found := call[bool](tb, `id => {
		for (const el of document.querySelectorAll('[data-e2e-marked]')) el.removeAttribute('data-e2e-marked');
		const input = document.getElementById(id), button = input && input.form.querySelector('button[type="submit"]');
		if (button) button.setAttribute('data-e2e-marked', '');
		return !!button;
	}`, strings.TrimPrefix(input, "#"))
	if !found {
		tb.t.Fatalf("no upload form for %s on %s", kind, tb.path())
	}
	return tb.click(marked)
}

// uploadPhoto opens the documents page from the task list, uploads a valid photo, and fails
// unless the page then shows it to the driver (the preview loaded: the image decoded). It
// leaves the tab on the documents page and returns the preview's address.
func uploadPhoto(tb *tab) string {
	tb.t.Helper()
	tb.wantStatus(tb.click(`a[href="/renew/documents"]`), http.StatusOK)
	tb.wantStatus(tb.upload("photo", photoFile(tb.t)), http.StatusOK)
	tb.wantPath("/renew/documents")
	return tb.wantPreview()
}

// wantPreview fails unless the page shows the uploaded photo, decoded at its full size, and
// returns the preview's address.
func (tb *tab) wantPreview() string {
	tb.t.Helper()
	got := eval[struct {
		Src           string
		Width, Height int
	}](tb, `(() => {
		const img = document.querySelector('img.document-preview__image');
		return img ? {Src: img.getAttribute('src'), Width: img.naturalWidth, Height: img.naturalHeight} : {Src: '', Width: 0, Height: 0};
	})()`)
	if got.Src == "" || got.Width != 600 || got.Height != 750 {
		tb.t.Fatalf("%s: the uploaded photo is not shown at 600×750 (src %q, %d×%d); page says: %s", tb.path(), got.Src, got.Width, got.Height, tb.text("main"))
	}
	return got.Src
}

// client is an HTTP client holding the tab's cookies, to fetch what the browser would
// download rather than show (a document sent as an attachment).
func (tb *tab) client(env *testenv.Env) *testenv.Browser {
	tb.t.Helper()
	cookies := run(tb, "read the cookies", func(ctx context.Context, t *chromedp.Target) ([]*network.Cookie, error) {
		res, err := cdp.Call(ctx, t, network.GetCookies, network.GetCookiesParams{URLs: []string{tb.base}})
		return res.Cookies, err
	})
	c := env.NewBrowser(tb.t)
	c.Server = tb.base
	u, err := url.Parse(tb.base)
	if err != nil {
		tb.t.Fatal(err)
	}
	var jar []*http.Cookie
	for _, ck := range cookies {
		jar = append(jar, &http.Cookie{Name: ck.Name, Value: ck.Value, Path: ck.Path})
	}
	c.Client.Jar.SetCookies(u, jar)
	return c
}

// fetchDocument gets a document route with the client, fails unless it answers the file as
// it should (its type, nosniff, inline or as an attachment), and counts the route as checked.
func (s *sweep) fetchDocument(c *testenv.Browser, path, contentType, disposition string) {
	s.t.Helper()
	p := c.Get(path)
	h := p.Header
	if p.Status != http.StatusOK || h.Get("Content-Type") != contentType || h.Get("X-Content-Type-Options") != "nosniff" ||
		!strings.HasPrefix(h.Get("Content-Disposition"), disposition+";") || strconv.Itoa(len(p.Body)) != h.Get("Content-Length") {
		s.t.Errorf("GET %s: %d, headers %v; want 200 %s, nosniff, %s", path, p.Status, h, contentType, disposition)
	}
	if s.fetched == nil {
		s.fetched = map[string]bool{}
	}
	s.fetched[strings.TrimPrefix(s.routeOf(path), "GET ")] = true
}
