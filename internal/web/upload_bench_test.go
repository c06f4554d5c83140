package web_test

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/herts-msp/taxi-renewals/internal/testenv"
)

// BenchmarkUpload10MB measures one 10 MB document (a PDF medical certificate just under the
// 10 MB limit) uploaded over real HTTP into SQLite: streamed to a temp file with its hash,
// checked, and stored in 256 KiB chunks. The client streams the body too, so the figures are
// the service's. peak-heap-MB is the largest heap in use sampled during the run, against a
// baseline taken before it; if memory grew with the file it would be over 10.
func BenchmarkUpload10MB(b *testing.B) {
	env := testenv.New(b, testenv.Options{})
	br := env.SignIn(b, "dacorum", testenv.DueDacorum)
	br.Get("/renew/checks")
	if p := br.Post("/renew/checks", testenv.Copy(testenv.ChecksForm, "medical-year", "2019")); p.Status != http.StatusSeeOther {
		b.Fatalf("checks: %d", p.Status)
	}
	br.Get("/renew/documents")
	const size = 10*1024*1024 - 64
	line := []byte("0 0 0 RG 1 0 0 1 72 720 cm 0 0 m 100 100 l S % filler line\n")

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
		pr, pw := io.Pipe()
		mw := multipart.NewWriter(pw)
		go func() {
			_ = mw.WriteField("_csrf", br.CSRF)
			fw, _ := mw.CreateFormFile("file", "medical.pdf")
			_, _ = fw.Write([]byte("%PDF-1.4\n"))
			written := 9
			for written+len(line) < size-7 {
				n, _ := fw.Write(line)
				written += n
			}
			_, _ = fw.Write(bytes.Repeat([]byte(" "), size-7-written))
			_, _ = fw.Write([]byte("\n%%EOF\n"))
			_ = mw.Close()
			_ = pw.Close()
		}()
		req, _ := http.NewRequest(http.MethodPost, env.Server.URL+"/renew/documents/upload/medical", pr)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		resp, err := br.Client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther {
			b.Fatalf("upload: %d", resp.StatusCode)
		}
	}
	b.StopTimer()
	close(stop)
	wg.Wait()
	b.ReportMetric(float64(peak.Load()-min(peak.Load(), base.HeapInuse))/(1024*1024), "peak-heap-MB")
}
