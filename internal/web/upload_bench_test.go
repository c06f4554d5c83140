package web_test

import (
	"bytes"
	"image"
	"image/jpeg"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/herts-msp/taxi-renewals/internal/testenv"
)

// The upload benchmarks send one file of about 10 MB over real HTTP into SQLite, the client
// streaming the body, so the figures are the service's: the part is streamed to a temp file
// with its hash, checked, and stored in 256 KiB chunks. peak-heap-MB is the largest heap in use
// sampled during the run, against a baseline taken before it. BenchmarkUploadBare10MB is the
// baseline in the same run: a bare handler that only streams the same multipart body to a temp
// file.
//
//	go test ./internal/web/ -run '^$' -bench 'Upload' -benchtime 5x

// BenchmarkUpload10MB: a PDF medical certificate just under the 10 MB limit. If memory grew
// with the file, peak-heap-MB would be over 10.
func BenchmarkUpload10MB(b *testing.B) {
	const size = 10*1024*1024 - 64
	line := []byte("0 0 0 RG 1 0 0 1 72 720 cm 0 0 m 100 100 l S % filler line\n")
	pdf := func(w io.Writer) {
		_, _ = w.Write([]byte("%PDF-1.4\n"))
		written := 9
		for written+len(line) < size-7 {
			n, _ := w.Write(line)
			written += n
		}
		_, _ = w.Write(bytes.Repeat([]byte(" "), size-7-written))
		_, _ = w.Write([]byte("\n%%EOF\n"))
	}
	env, br := uploadReady(b)
	benchUpload(b, size, func() *http.Response {
		return postFile(b, br, env.Server.URL+"/renew/documents/upload/medical", "medical.pdf", pdf)
	})
}

// BenchmarkUploadPhoto10MB: a 10 MB phone photo (JPEG). It is decoded and re-encoded, so its
// memory follows its pixels (bounded by the 40-megapixel cap), not its bytes.
func BenchmarkUploadPhoto10MB(b *testing.B) {
	photo := bigPhoto(b)
	env, br := uploadReady(b)
	benchUpload(b, int64(len(photo)), func() *http.Response {
		return postFile(b, br, env.Server.URL+"/renew/documents/upload/photo", "photo.jpg", func(w io.Writer) { _, _ = w.Write(photo) })
	})
	b.ReportMetric(float64(len(photo))/(1024*1024), "file-MB")
}

// BenchmarkUploadBare10MB is the baseline: the same 10 MB photo posted to a bare handler that
// streams the part to a temp file and answers 303, with no checks and no database.
func BenchmarkUploadBare10MB(b *testing.B) {
	photo := bigPhoto(b)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mr, err := r.MultipartReader()
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		for {
			part, err := mr.NextPart()
			if err != nil {
				break
			}
			f, _ := os.CreateTemp("", "bare-upload-*")
			_, _ = io.Copy(f, part)
			f.Close()
			os.Remove(f.Name())
		}
		http.Redirect(w, r, "/done", http.StatusSeeOther)
	}))
	defer srv.Close()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	benchUpload(b, int64(len(photo)), func() *http.Response {
		pr, pw := io.Pipe()
		mw := multipart.NewWriter(pw)
		go func() {
			fw, _ := mw.CreateFormFile("file", "photo.jpg")
			_, _ = fw.Write(photo)
			_ = mw.Close()
			_ = pw.Close()
		}()
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/upload", pr)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		return resp
	})
}

// uploadReady signs a driver in whose medical is old enough to need a certificate.
func uploadReady(b *testing.B) (*testenv.Env, *testenv.Browser) {
	env := testenv.New(b, testenv.Options{})
	br := env.SignIn(b, "dacorum", testenv.DueDacorum)
	br.Get("/renew/checks")
	if p := br.Post("/renew/checks", testenv.Copy(testenv.ChecksForm, "medical-year", "2019")); p.Status != http.StatusSeeOther {
		b.Fatalf("checks: %d", p.Status)
	}
	br.Get("/renew/documents")
	return env, br
}

// postFile streams one file part (after the CSRF token, which must come first) to url.
func postFile(b *testing.B, br *testenv.Browser, url, name string, body func(io.Writer)) *http.Response {
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		_ = mw.WriteField("_csrf", br.CSRF)
		fw, _ := mw.CreateFormFile("file", name)
		body(fw)
		_ = mw.Close()
		_ = pw.Close()
	}()
	req, _ := http.NewRequest(http.MethodPost, url, pr)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := br.Client.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	return resp
}

// benchUpload runs send b.N times, wanting 303 each time, and reports the peak heap.
func benchUpload(b *testing.B, size int64, send func() *http.Response) {
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	var peak atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var m runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak.Load() {
				peak.Store(m.HeapInuse)
			}
		}
	}()
	b.SetBytes(size)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		resp := send()
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther {
			b.Fatalf("upload: %d\n%s", resp.StatusCode, testenv.Excerpt(string(body)))
		}
	}
	b.StopTimer()
	close(stop)
	wg.Wait()
	b.ReportMetric(float64(peak.Load()-min(peak.Load(), base.HeapInuse))/(1024*1024), "peak-heap-MB")
}

var (
	bigPhotoOnce  sync.Once
	bigPhotoBytes []byte
)

// bigPhoto is a JPEG just under the 10 MB limit, as a phone camera makes: 4000×3000 pixels of
// fine detail (noise, which compresses worst) at the highest quality that stays under 10 MB.
func bigPhoto(b *testing.B) []byte {
	bigPhotoOnce.Do(func() {
		for _, q := range []int{95, 90, 85, 80, 70} {
			img := image.NewYCbCr(image.Rect(0, 0, 4000, 3000), image.YCbCrSubsampleRatio420)
			rng := rand.New(rand.NewPCG(1, 2))
			for i := range img.Y {
				img.Y[i] = uint8(rng.IntN(256))
			}
			for i := range img.Cb {
				img.Cb[i], img.Cr[i] = uint8(rng.IntN(256)), uint8(rng.IntN(256))
			}
			var buf bytes.Buffer
			if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: q}); err != nil {
				panic(err)
			}
			if buf.Len() < 10*1024*1024-4096 {
				bigPhotoBytes = buf.Bytes()
				return
			}
		}
	})
	if bigPhotoBytes == nil {
		b.Fatal("could not make a photo under 10 MB")
	}
	return bigPhotoBytes
}
