package testenv

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/jpeg"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"testing"

	"github.com/herts-msp/taxi-renewals/internal/domain"
)

// Valid answers for each section, as a driver would type them.
var (
	ContactForm = url.Values{"email": {"zoe.obrien@example.org"}, "phone": {"07700 900 982"}, "address_line_1": {"1 Stanborough Road"},
		"address_line_2": {""}, "town": {"Welwyn Garden City"}, "postcode": {"al8 6xf"}}
	LicenceForm      = url.Values{"dvla_number": {"MORGA753116SM9IJ"}, "dvla_check_code": {"Ab12Cd34"}, "term": {"3"}}
	ChecksForm       = url.Values{"dbs_update_service": {"yes"}, "dbs_number": {"001234567890"}, "dbs_consent": {"yes"}, "tax_check_code": {"ABC DEF 123"}, "medical-day": {"14"}, "medical-month": {"8"}, "medical-year": {"2025"}, "right_to_work": {"uk_irish_passport"}}
	DeclarationsForm = url.Values{"has_offences": {"no"}, "truthful": {"yes"}}
)

// Copy returns a copy of form with the given fields changed.
func Copy(form url.Values, kv ...string) url.Values {
	out := url.Values{}
	for k, v := range form {
		out[k] = append([]string(nil), v...)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out.Set(kv[i], kv[i+1])
	}
	return out
}

// CompleteSections answers the four answer sections, each with a 303 back to the task list,
// and uploads a photo (the one document every driver sends; ChecksForm needs no other).
func (b *Browser) CompleteSections() {
	b.t.Helper()
	for _, s := range []struct {
		path string
		form url.Values
	}{{"/renew/contact", ContactForm}, {"/renew/licence", LicenceForm}, {"/renew/checks", ChecksForm}, {"/renew/declarations", DeclarationsForm}} {
		b.Get(s.path)
		if p := b.Post(s.path, s.form); p.Status != http.StatusSeeOther {
			b.t.Fatalf("POST %s: %d\n%s", s.path, p.Status, Excerpt(p.Body))
		}
	}
	b.UploadPhoto()
}

// UploadPhoto uploads a valid photo from the documents page.
func (b *Browser) UploadPhoto() {
	b.t.Helper()
	b.Get("/renew/documents")
	if p := b.Upload("/renew/documents/upload/photo", "photo.jpg", PhotoJPEG(b.t)); p.Status != http.StatusSeeOther {
		b.t.Fatalf("upload photo: %d\n%s", p.Status, Excerpt(p.Body))
	}
}

var (
	photoOnce sync.Once
	photo     []byte
)

// PhotoJPEG is a valid 600×750 photo, made once per test binary.
func PhotoJPEG(t testing.TB) []byte {
	photoOnce.Do(func() {
		img := image.NewRGBA(image.Rect(0, 0, 600, 750))
		for y := 0; y < 750; y++ {
			for x := 0; x < 600; x++ {
				img.Set(x, y, color.RGBA{uint8(x), uint8(y), 120, 255})
			}
		}
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 85}); err != nil {
			panic(err)
		}
		photo = buf.Bytes()
	})
	return photo
}

// QuizAnswers returns the right answers to the current leaflet's questions.
func (e *Env) QuizAnswers(t testing.TB) (int64, url.Values) {
	t.Helper()
	v, err := e.Store.CurrentLeaflet(context.Background(), domain.AudienceDriver)
	if err != nil {
		t.Fatal(err)
	}
	form := url.Values{"leaflet_id": {strconv.FormatInt(v.ID, 10)}}
	for i, q := range v.Quiz {
		form.Set("q"+strconv.Itoa(i+1), strconv.Itoa(q.Correct))
	}
	return v.ID, form
}

// CompleteAwareness reads the leaflet, passes the check and acknowledges it.
func (b *Browser) CompleteAwareness() {
	b.t.Helper()
	if p := b.Get("/renew/awareness"); p.Status != http.StatusOK {
		b.t.Fatalf("leaflet: %d", p.Status)
	}
	b.Get("/renew/awareness/check")
	id, answers := b.env.QuizAnswers(b.t)
	if p := b.Post("/renew/awareness/check", answers); p.Status != http.StatusSeeOther {
		b.t.Fatalf("quiz: %d\n%s", p.Status, Excerpt(p.Body))
	}
	b.Get("/renew/awareness/confirm")
	p := b.Post("/renew/awareness/confirm", url.Values{"leaflet_id": {strconv.FormatInt(id, 10)}, "understood": {"yes"}})
	if p.Status != http.StatusSeeOther {
		b.t.Fatalf("confirm: %d\n%s", p.Status, Excerpt(p.Body))
	}
}
