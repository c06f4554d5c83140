package web_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // "pgx", for the bare page on PostgreSQL
	"github.com/labstack/echo/v4"
	_ "github.com/mattn/go-sqlite3" // "sqlite3", for the bare page on SQLite

	"github.com/herts-msp/taxi-renewals/internal/domain"
	"github.com/herts-msp/taxi-renewals/internal/testenv"
)

// BenchmarkDriverJourney measures one complete online renewal over real HTTP on a SQLite
// file: sign-in with a code, four sections, the awareness step, check answers and submit
// (24 requests). Each iteration is a different driver.
func BenchmarkDriverJourney(b *testing.B) {
	env := testenv.New(b, testenv.Options{})
	ctx := context.Background()
	council, err := env.Store.CouncilBySlug(ctx, "stevenage")
	if err != nil {
		b.Fatal(err)
	}
	dob, _ := domain.ParseISODate(testenv.DriverDOB)
	exp := domain.DateOf(testenv.Start).AddDays(30)
	drivers := make([]domain.Driver, b.N)
	for i := range drivers {
		drivers[i] = domain.Driver{CouncilID: council.ID, LicenceNumber: fmt.Sprintf("STE-B%06d", i), GivenNames: "Bench", FamilyName: "Driver",
			DateOfBirth: dob, Email: fmt.Sprintf("STE-B%06d@example.org", i), LicenceStart: exp.AddYears(-1), LicenceExpiry: exp}
	}
	if err := env.Store.UpsertDrivers(ctx, drivers, testenv.Start); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		env.Clock.Advance(16 * time.Minute) // a new rate-limit window: every iteration signs in from 127.0.0.1
		br := env.SignIn(b, "stevenage", drivers[i].LicenceNumber)
		br.CompleteSections()
		br.CompleteAwareness()
		br.Get("/renew/check-answers")
		if p := br.Post("/renew/submit", nil); p.Status != http.StatusSeeOther {
			b.Fatalf("submit: %d", p.Status)
		}
	}
	b.ReportMetric(24, "requests/op")
}

// BenchmarkDriverPages loads every page a driver GETs, one after another over real HTTP, each
// iteration also loading a bare page in the same run: a bare Echo handler that reads one row by
// its key from the same kind of database (a SQLite file opened with the store's options, or the
// same PostgreSQL schema) and renders a small html/template page. Each sub-benchmark reports
// page-us and bare-us (microseconds per request, measured in alternation, so whatever else the
// machine does weighs on both) and x-bare, the page's speed as a fraction of the bare page's
// (bare time / page time; 1 is as fast as the bare page). On PostgreSQL when
// RENEWALS_TEST_POSTGRES_URL is set.
//
//	go test ./internal/web -run '^$' -bench BenchmarkDriverPages -benchtime 2000x
func BenchmarkDriverPages(b *testing.B) {
	env := testenv.New(b, testenv.Options{})
	bare := startBarePage(b, env.Config.DatabaseURL)

	// A driver half-way: sections done, leaflet read and its check passed, not yet confirmed.
	draft := env.SignIn(b, "dacorum", testenv.DueDacorum)
	draft.CompleteSections()
	draft.Get("/renew/awareness")
	_, answers := env.QuizAnswers(b)
	if p := draft.Post("/renew/awareness/check", answers); p.Status != http.StatusSeeOther {
		b.Fatalf("quiz: %d", p.Status)
	}
	// A driver who has sent their renewal.
	sent := env.SignIn(b, "watford", testenv.DueWatford)
	sent.CompleteSections()
	sent.CompleteAwareness()
	sent.Get("/renew/check-answers")
	if p := sent.Post("/renew/submit", nil); p.Status != http.StatusSeeOther {
		b.Fatalf("submit: %d", p.Status)
	}
	// A driver between the licence check and the code.
	pending := env.NewBrowser(b)
	pending.Get("/renew/sign-in")
	if p := pending.Post("/renew/sign-in", testenv.SignInForm("dacorum", testenv.DueDacorum)); p.Status != http.StatusSeeOther {
		b.Fatalf("sign-in: %d", p.Status)
	}
	public := env.NewBrowser(b)

	pages := []struct {
		path   string
		client *http.Client
	}{
		{"/", public.Client},
		{"/leaflet", public.Client},
		{"/accessibility", public.Client},
		{"/privacy", public.Client},
		{"/renew/sign-in", public.Client},
		{"/renew/signed-out", public.Client},
		{"/renew/code", pending.Client},
		{"/renew", draft.Client},
		{"/renew/contact", draft.Client},
		{"/renew/licence", draft.Client},
		{"/renew/checks", draft.Client},
		{"/renew/declarations", draft.Client},
		{"/renew/documents", draft.Client},
		{"/renew/awareness", draft.Client},
		{"/renew/awareness/check", draft.Client},
		{"/renew/awareness/confirm", draft.Client},
		{"/renew/check-answers", draft.Client},
		{"/renew/withdraw", sent.Client},
		{"/renew/status", sent.Client},
		{"/renew/confirmation", sent.Client},
	}
	for _, pg := range pages {
		url := env.Server.URL + pg.path
		if status := get(b, pg.client, url); status != http.StatusOK {
			b.Fatalf("GET %s: %d, want 200", pg.path, status)
		}
		name := strings.TrimPrefix(pg.path, "/")
		if name == "" {
			name = "start"
		}
		b.Run(name, func(b *testing.B) {
			var pageTime, bareTime time.Duration
			b.ReportAllocs()
			for b.Loop() {
				t0 := time.Now()
				if status := get(b, bare.client, bare.url); status != http.StatusOK {
					b.Fatalf("bare page: %d", status)
				}
				t1 := time.Now()
				if status := get(b, pg.client, url); status != http.StatusOK {
					b.Fatalf("GET %s: %d", pg.path, status)
				}
				bareTime += t1.Sub(t0)
				pageTime += time.Since(t1)
			}
			n := float64(b.N)
			b.ReportMetric(float64(pageTime.Microseconds())/n, "page-us")
			b.ReportMetric(float64(bareTime.Microseconds())/n, "bare-us")
			b.ReportMetric(float64(bareTime)/float64(pageTime), "x-bare")
		})
	}
}

// get loads a page and reads all of it, as a browser does.
func get(b *testing.B, client *http.Client, url string) int {
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
	if err != nil {
		b.Fatal(err)
	}
	resp, err := client.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		b.Fatal(err)
	}
	return resp.StatusCode
}

var barePageTemplate = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en-GB">
<head><meta charset="utf-8"><title>{{.Name}} – bare page</title></head>
<body>
<main>
<h1>{{.Name}}</h1>
<p>Row {{.ID}}, read at {{.At.Format "15:04:05"}}.</p>
<ul>{{range .Items}}<li>{{.}}</li>{{end}}</ul>
</main>
</body>
</html>
`))

type barePage struct {
	url    string
	client *http.Client
}

// startBarePage serves GET /page: one row read by its key, one small template rendered into a
// buffer first (as the service renders), on the same kind of database as the service's.
func startBarePage(b *testing.B, database string) barePage {
	var db *sql.DB
	var err error
	query := "SELECT name FROM bare_pages WHERE id = ?"
	if strings.HasPrefix(database, "postgres") {
		db, err = sql.Open("pgx", database)
		query = "SELECT name FROM bare_pages WHERE id = $1"
	} else {
		path := filepath.Join(b.TempDir(), "bare.db")
		db, err = sql.Open("sqlite3", "file:"+path+"?_txlock=immediate&_foreign_keys=1&_journal_mode=WAL&_busy_timeout=10000&_synchronous=FULL")
	}
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	db.SetMaxOpenConns(8)
	for _, q := range []string{"CREATE TABLE bare_pages (id INTEGER PRIMARY KEY, name TEXT NOT NULL)",
		"INSERT INTO bare_pages (id, name) VALUES (1, 'Bare page')"} {
		if _, err := db.Exec(q); err != nil {
			b.Fatal(err)
		}
	}
	e := echo.New()
	e.GET("/page", func(c echo.Context) error {
		var name string
		if err := db.QueryRowContext(c.Request().Context(), query, 1).Scan(&name); err != nil {
			return err
		}
		var buf bytes.Buffer
		data := struct {
			ID    int64
			Name  string
			At    time.Time
			Items []string
		}{1, name, time.Now(), []string{"one row read", "one page rendered", "nothing else"}}
		if err := barePageTemplate.Execute(&buf, data); err != nil {
			return err
		}
		return c.HTMLBlob(http.StatusOK, buf.Bytes())
	})
	hs := httptest.NewServer(e)
	b.Cleanup(hs.Close)
	return barePage{url: hs.URL + "/page?n=" + strconv.Itoa(1), client: &http.Client{}}
}
