package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/herts-msp/taxi-renewals/internal/domain"
)

// errStopped ends a journey cut short by the end of the run; it is not an error.
var errStopped = errors.New("the run is over")

// codeWait is how long a driver waits for their sign-in code before calling it an error.
const codeWait = 15 * time.Second

// Page titles the journey must reach (the part before " – " in <title>). Anything else, an
// error page included, is an unexpected page.
const (
	titleStart        = "Renew your taxi or private hire driver licence"
	titleSignIn       = "Find your licence"
	titleCode         = "Check your email"
	titleTasks        = "Your licence renewal"
	titleQuiz         = "Check your understanding"
	titleConfirm      = "Confirm you have understood the leaflet"
	titleCheckAnswers = "Check your answers before sending your renewal"
	titleDocuments    = "Upload your photo and documents"
	titleSent         = "Renewal sent"
)

// section is one part of the renewal form with the answers a driver gives.
type section struct {
	Path, Title string
	Form        func(today domain.Date) url.Values
}

var sections = []section{
	{"/renew/contact", "Your contact details", func(domain.Date) url.Values {
		return url.Values{"email": {"driver@example.org"}, "phone": {"07700 900 982"}, "address_line_1": {"1 Stanborough Road"},
			"address_line_2": {""}, "town": {"Welwyn Garden City"}, "postcode": {"al8 6xf"}}
	}},
	{"/renew/licence", "Your DVLA licence and licence term", func(domain.Date) url.Values {
		return url.Values{"dvla_number": {"MORGA753116SM9IJ"}, "dvla_check_code": {"Ab12Cd34"}, "term": {"3"}}
	}},
	{"/renew/checks", "Your checks", func(today domain.Date) url.Values {
		medical := today.AddYears(-1)
		return url.Values{"dbs_update_service": {"yes"}, "dbs_number": {"001234567890"}, "dbs_consent": {"yes"}, "tax_check_code": {"ABC DEF 123"},
			"medical-day": {strconv.Itoa(medical.Day)}, "medical-month": {strconv.Itoa(int(medical.Month))},
			"medical-year": {strconv.Itoa(medical.Year)}, "right_to_work": {"uk_irish_passport"}}
	}},
	{"/renew/declarations", "Your declarations", func(domain.Date) url.Values {
		return url.Values{"has_offences": {"no"}, "truthful": {"yes"}}
	}},
}

// The photo every driver uploads (the one document a driver on the DBS Update Service with a
// recent medical sends), on the documents page, to the route that takes it.
const (
	documentsPath   = "/renew/documents"
	photoUploadPath = "/renew/documents/upload/photo"
	photoWidth      = 600 // the smallest photo the service takes (document.MinPhotoWidth)
	photoHeight     = 750
)

// makePhoto makes the virtual drivers' photo, once per run: a 600×750 JPEG, the smallest the
// service takes, so the upload measures the service's work on a photo and not the size of a
// phone camera's file.
func makePhoto() ([]byte, error) {
	img := image.NewRGBA(image.Rect(0, 0, photoWidth, photoHeight))
	for y := range photoHeight {
		for x := range photoWidth {
			img.Set(x, y, color.RGBA{uint8(x / 3), uint8(y / 3), 120, 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 80}); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// stepWrites says whether a step of the journey writes to the database: every POST does (a code,
// a session, an answer, the photo, the acknowledgement, the renewal); of the page views only the leaflet
// (it records the issue) and the first task list of a journey (it starts the draft) do.
// Sessions record their last use at most once a minute, so other page views only read.
func stepWrites(step string) string {
	switch {
	case strings.HasPrefix(step, "POST "), step == "GET /renew/awareness":
		return "yes"
	case step == "GET /renew":
		return "first"
	}
	return "no"
}

// journeyResult is what the virtual drivers measured.
type journeyResult struct {
	phaseResult
	Journeys     int
	JourneyTimes []time.Duration
	CodeWaits    []time.Duration // waiting for the emailed code: not a request
	RanOut       bool            // every seeded driver was used before the end
}

// journeyRun is the virtual drivers at work. They send requests only during the service's
// turns (see gate); between turns they wait where they are, in the middle of a journey.
type journeyRun struct {
	gate   *gate
	recs   []*recorder
	wg     sync.WaitGroup
	ranOut atomic.Bool
}

// startJourneys starts n virtual drivers. Each takes the next seeded driver, walks the whole
// journey with a new cookie jar and address, and starts again with another driver, until the
// run is over.
func startJourneys(ctx context.Context, live *liveService, drivers []seededDriver, lv domain.LeafletVersion, photo []byte, n int) *journeyRun {
	jr := &journeyRun{gate: newGate(), recs: make([]*recorder, n)}
	transport := newTransport(n)
	var next atomic.Int64
	for w := range n {
		rec := newRecorder()
		jr.recs[w] = rec
		jr.wg.Go(func() {
			defer transport.CloseIdleConnections()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(drivers) {
					jr.ranOut.Store(true)
					return
				}
				v := newVirtualDriver(live, transport, rec, jr.gate, photo, i)
				paused, t0 := jr.gate.paused(), time.Now()
				err := v.renew(ctx, drivers[i], lv)
				switch {
				case errors.Is(err, errStopped):
					return
				case err != nil:
					rec.fail(fmt.Errorf("driver %s: %w", drivers[i].Licence, err))
				default:
					rec.journeyDone(time.Since(t0) - (jr.gate.paused() - paused)) // the other part's turns do not count
				}
			}
		})
	}
	return jr
}

// turn lets the virtual drivers work for d, then waits for the requests in flight to be
// answered, and returns how long the turn took.
func (jr *journeyRun) turn(ctx context.Context, d time.Duration) time.Duration {
	t0 := time.Now()
	jr.gate.setOpen(true)
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
	jr.gate.setOpen(false)
	jr.gate.drain()
	return time.Since(t0)
}

// finish stops the virtual drivers and gathers what they measured over the service's turns.
func (jr *journeyRun) finish(elapsed time.Duration) journeyResult {
	jr.gate.end()
	jr.wg.Wait()
	all := newRecorder()
	for _, r := range jr.recs {
		all.merge(r)
	}
	return journeyResult{phaseResult: all.result(elapsed), Journeys: len(all.journeys), JourneyTimes: all.journeys,
		CodeWaits: all.codeWaits, RanOut: jr.ranOut.Load()}
}

// gate lets the virtual drivers' requests through only while it is open, so that the service
// and the bare handler take turns on the machine. It counts requests in flight, so that a turn
// ends when they have been answered, and the time it has been shut.
type gate struct {
	mu       sync.Mutex
	changed  *sync.Cond
	open     bool
	over     bool
	inFlight int
	shutAt   time.Time
	shut     time.Duration // closed time before shutAt
}

func newGate() *gate {
	g := &gate{shutAt: time.Now()}
	g.changed = sync.NewCond(&g.mu)
	return g
}

// enter waits for the gate to open; errStopped once the run is over.
func (g *gate) enter() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	for !g.open && !g.over {
		g.changed.Wait()
	}
	if g.over {
		return errStopped
	}
	g.inFlight++
	return nil
}

func (g *gate) leave() {
	g.mu.Lock()
	g.inFlight--
	g.changed.Broadcast()
	g.mu.Unlock()
}

func (g *gate) setOpen(open bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if open == g.open {
		return
	}
	if open {
		g.shut += time.Since(g.shutAt)
	} else {
		g.shutAt = time.Now()
	}
	g.open = open
	g.changed.Broadcast()
}

// drain waits until no request let through is still unanswered.
func (g *gate) drain() {
	g.mu.Lock()
	for g.inFlight > 0 {
		g.changed.Wait()
	}
	g.mu.Unlock()
}

func (g *gate) end() {
	g.mu.Lock()
	g.over = true
	g.changed.Broadcast()
	g.mu.Unlock()
}

// paused is how long the gate has been shut so far.
func (g *gate) paused() time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.open {
		return g.shut
	}
	return g.shut + time.Since(g.shutAt)
}

func newTransport(clients int) *http.Transport {
	return &http.Transport{Proxy: nil, MaxIdleConns: 2 * clients, MaxIdleConnsPerHost: 2 * clients, IdleConnTimeout: 90 * time.Second}
}

// virtualDriver is one driver's phone: its own cookies, address and CSRF token.
type virtualDriver struct {
	live   *liveService
	client *http.Client
	rec    *recorder
	gate   *gate
	ip     string
	csrf   string
	photo  []byte // the JPEG the driver uploads, shared by all (never changed)
}

func newVirtualDriver(live *liveService, transport http.RoundTripper, rec *recorder, g *gate, photo []byte, n int) *virtualDriver {
	jar, _ := cookiejar.New(nil)
	n++ // 10.0.0.0 is not a host address
	return &virtualDriver{live: live, rec: rec, gate: g, photo: photo,
		ip: fmt.Sprintf("10.%d.%d.%d", n>>16&255, n>>8&255, n&255),
		client: &http.Client{Jar: jar, Transport: transport, Timeout: 30 * time.Second,
			// Redirects are followed by hand, so each one is a request of its own and is checked.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

var (
	csrfInput      = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)
	leafletIDInput = regexp.MustCompile(`name="leaflet_id" value="(\d+)"`)
	pageTitle      = regexp.MustCompile(`<title>([^<]*)</title>`)
	photoPreview   = regexp.MustCompile(`<img src="/renew/documents/\d+/preview"`)
	reference      = regexp.MustCompile(`\bTR-[0-9A-Z]{4}-[0-9A-Z]{4}\b`)
)

// renew walks the whole online renewal as a driver does, following every redirect.
func (v *virtualDriver) renew(ctx context.Context, d seededDriver, lv domain.LeafletVersion) error {
	today := domain.DateOf(time.Now().In(v.live.Location))
	if _, err := v.get(ctx, "/", titleStart); err != nil {
		return err
	}
	if _, err := v.get(ctx, "/renew/sign-in", titleSignIn); err != nil {
		return err
	}
	codes := v.live.Mail.expect(d.Email)
	defer v.live.Mail.forget(d.Email)
	signIn := url.Values{"council": {d.Council}, "licence_number": {d.Licence}, "dob-day": {strconv.Itoa(d.DateOfBirth.Day)},
		"dob-month": {strconv.Itoa(int(d.DateOfBirth.Month))}, "dob-year": {strconv.Itoa(d.DateOfBirth.Year)}}
	if _, err := v.postFollow(ctx, "/renew/sign-in", signIn, "/renew/code", titleCode); err != nil {
		return err
	}
	code, err := v.waitForCode(ctx, codes)
	if err != nil {
		return err
	}
	if _, err := v.postFollow(ctx, "/renew/code", url.Values{"code": {code}}, "/renew", titleTasks); err != nil {
		return err
	}
	for _, s := range sections {
		if _, err := v.get(ctx, s.Path, s.Title); err != nil {
			return err
		}
		if _, err := v.postFollow(ctx, s.Path, s.Form(today), "/renew", titleTasks); err != nil {
			return err
		}
	}
	if err := v.uploadPhoto(ctx); err != nil {
		return err
	}
	if _, err := v.get(ctx, "/renew/awareness", lv.Title); err != nil {
		return err
	}
	quiz, err := v.get(ctx, "/renew/awareness/check", titleQuiz)
	if err != nil {
		return err
	}
	m := leafletIDInput.FindStringSubmatch(quiz)
	if m == nil {
		return errors.New("GET /renew/awareness/check: no leaflet_id in the form")
	}
	answers := url.Values{"leaflet_id": {m[1]}}
	for i, q := range lv.Quiz { // the driver has read the leaflet
		answers.Set("q"+strconv.Itoa(i+1), strconv.Itoa(q.Correct))
	}
	if _, err := v.postFollow(ctx, "/renew/awareness/check", answers, "/renew/awareness/confirm", titleConfirm); err != nil {
		return err
	}
	ack := url.Values{"leaflet_id": {m[1]}, "understood": {"yes"}}
	if _, err := v.postFollow(ctx, "/renew/awareness/confirm", ack, "/renew", titleTasks); err != nil {
		return err
	}
	if _, err := v.get(ctx, "/renew/check-answers", titleCheckAnswers); err != nil {
		return err
	}
	sent, err := v.postFollow(ctx, "/renew/submit", url.Values{}, "/renew/confirmation", titleSent)
	if err != nil {
		return err
	}
	if !reference.MatchString(sent) {
		return errors.New("GET /renew/confirmation: no reference on the page")
	}
	return nil
}

func (v *virtualDriver) waitForCode(ctx context.Context, codes <-chan string) (string, error) {
	v.live.wakeOutbox()
	t0 := time.Now()
	timer := time.NewTimer(codeWait)
	defer timer.Stop()
	select {
	case code := <-codes:
		v.rec.codeWaited(time.Since(t0))
		return code, nil
	case <-timer.C:
		return "", fmt.Errorf("no sign-in code emailed within %s", codeWait)
	case <-ctx.Done():
		return "", errStopped
	}
}

// get loads a page and checks it is the one expected: 200 and its title.
func (v *virtualDriver) get(ctx context.Context, path, wantTitle string) (string, error) {
	status, body, _, err := v.do(ctx, http.MethodGet, path, nil)
	if err != nil {
		return "", err
	}
	return body, checkPage("GET "+path, status, body, wantTitle)
}

// uploadPhoto uploads the driver's photo from the documents page, as a phone's browser sends a
// file input: a multipart form with the CSRF field first (the service reads the stream in order
// and checks the token before the file), then the file. It expects a 303 back to the documents
// page, loads it, and checks it now shows the photo to the driver.
func (v *virtualDriver) uploadPhoto(ctx context.Context) error {
	if _, err := v.get(ctx, documentsPath, titleDocuments); err != nil {
		return err
	}
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	if err := w.WriteField("_csrf", v.csrf); err != nil {
		return err
	}
	part, err := w.CreateFormFile("file", "photo.jpg")
	if err != nil {
		return err
	}
	if _, err := part.Write(v.photo); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	status, page, location, err := v.send(ctx, http.MethodPost, photoUploadPath, w.FormDataContentType(), &body)
	if err != nil {
		return err
	}
	if want := documentsPath + "#document-photo"; status != http.StatusSeeOther || location != want {
		return fmt.Errorf("POST %s: got %d %q, want 303 to %s%s", photoUploadPath, status, location, want, pageSummary(page))
	}
	page, err = v.get(ctx, documentsPath, titleDocuments)
	if err != nil {
		return err
	}
	if !photoPreview.MatchString(page) {
		return fmt.Errorf("GET %s after the upload: the photo is not shown%s", documentsPath, pageSummary(page))
	}
	return nil
}

// postFollow sends a form with the page's CSRF token, expects a 303 to wantLocation and loads
// that page, as a browser does.
func (v *virtualDriver) postFollow(ctx context.Context, path string, form url.Values, wantLocation, wantTitle string) (string, error) {
	form.Set("_csrf", v.csrf)
	status, body, location, err := v.do(ctx, http.MethodPost, path, form)
	if err != nil {
		return "", err
	}
	if status != http.StatusSeeOther || location != wantLocation {
		return "", fmt.Errorf("POST %s: got %d %q, want 303 to %s%s", path, status, location, wantLocation, pageSummary(body))
	}
	return v.get(ctx, wantLocation, wantTitle)
}

// do sends one request (with a form, unless it is nil), reads the whole answer and records its
// time under "METHOD /path".
func (v *virtualDriver) do(ctx context.Context, method, path string, form url.Values) (status int, body, location string, err error) {
	if form == nil {
		return v.send(ctx, method, path, "", nil)
	}
	return v.send(ctx, method, path, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
}

// send is do with a body of any type (none if reqBody is nil).
func (v *virtualDriver) send(ctx context.Context, method, path, contentType string, reqBody io.Reader) (status int, body, location string, err error) {
	if err := v.gate.enter(); err != nil {
		return 0, "", "", err
	}
	defer v.gate.leave()
	req, err := http.NewRequestWithContext(ctx, method, v.live.URL+path, reqBody)
	if err != nil {
		return 0, "", "", err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("X-Forwarded-For", v.ip)
	step := method + " " + path
	t0 := time.Now()
	resp, err := v.client.Do(req)
	if err != nil {
		v.rec.request(step, time.Since(t0))
		if ctx.Err() != nil {
			return 0, "", "", errStopped
		}
		return 0, "", "", fmt.Errorf("%s: %w", step, err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	v.rec.request(step, time.Since(t0))
	if err != nil {
		return 0, "", "", fmt.Errorf("%s: reading the answer: %w", step, err)
	}
	body = string(b)
	if m := csrfInput.FindStringSubmatch(body); m != nil {
		v.csrf = m[1]
	}
	return resp.StatusCode, body, resp.Header.Get("Location"), nil
}

// checkPage accepts a 200 whose title is wantTitle; anything else is an error.
func checkPage(step string, status int, body, wantTitle string) error {
	title := ""
	if m := pageTitle.FindStringSubmatch(body); m != nil {
		title = html.UnescapeString(m[1])
	}
	if status != http.StatusOK || !strings.HasPrefix(title, wantTitle+" – ") {
		return fmt.Errorf("%s: got %d %q, want 200 %q%s", step, status, title, wantTitle, pageSummary(body))
	}
	return nil
}

var (
	errorSummary = regexp.MustCompile(`(?s)<div class="error-summary.*?</ul>`)
	heading      = regexp.MustCompile(`(?s)<h1[^>]*>.*?</h1>`)
	tag          = regexp.MustCompile(`<[^>]+>`)
)

// pageSummary picks the error summary, or else the heading, out of an unexpected page.
func pageSummary(body string) string {
	s := errorSummary.FindString(body)
	if s == "" {
		s = heading.FindString(body)
	}
	if s == "" {
		return ""
	}
	s = tag.ReplaceAllString(s, " ")
	return ": " + strings.Join(strings.Fields(html.UnescapeString(s)), " ")
}
