package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"
	"github.com/labstack/echo/v4"
	_ "github.com/mattn/go-sqlite3" // registers "sqlite3", the driver under gorm's SQLite

	"github.com/herts-msp/taxi-renewals/internal/store"
)

// The bare baseline: the least a web handler can do that still renders a page and writes a
// row, on the same kind of database as the service, to show what the service's own work costs.

// bareSQLiteOptions are the connection options internal/store uses for SQLite, so both
// parts pay for the same durability: every write takes the lock at BEGIN and is synced (FULL).
const bareSQLiteOptions = "?_txlock=immediate&_foreign_keys=1&_journal_mode=WAL&_busy_timeout=10000&_synchronous=FULL"

// bareTable is dropped and made afresh in PostgreSQL, which holds the service's tables too.
const bareTable = "loadtest_bare_hits"

var barePage = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en-GB">
<head><meta charset="utf-8"><title>Saved – bare handler</title></head>
<body>
<main>
<h1>Saved</h1>
<p>Row {{.ID}} was saved for {{.Name}} at {{.At.Format "15:04:05"}}.</p>
<ul>{{range .Items}}<li>{{.}}</li>{{end}}</ul>
</main>
</body>
</html>
`))

type barePageData struct {
	ID    int64
	Name  string
	At    time.Time
	Items []string
}

// bareApp is one Echo handler and its database.
type bareApp struct {
	URL     string
	db      *sql.DB
	insert  string
	srv     *http.Server
	served  chan error
	cleanup func() error
}

// startBare opens the same kind of database as database (for SQLite, a new file in the same
// directory) and serves POST /hit on a loopback port.
func startBare(ctx context.Context, database string) (*bareApp, error) {
	a := &bareApp{served: make(chan error, 1), cleanup: func() error { return nil }}
	var create string
	if store.IsPostgresURL(database) {
		db, err := sql.Open("pgx", database)
		if err != nil {
			return nil, err
		}
		db.SetMaxOpenConns(16) // as internal/store opens PostgreSQL
		db.SetMaxIdleConns(4)
		a.db = db
		create = "DROP TABLE IF EXISTS " + bareTable + "; CREATE TABLE " + bareTable +
			" (id BIGSERIAL PRIMARY KEY, name TEXT NOT NULL, created_at TIMESTAMPTZ NOT NULL)"
		a.insert = "INSERT INTO " + bareTable + " (name, created_at) VALUES ($1, $2) RETURNING id"
		a.cleanup = func() error { _, err := db.Exec("DROP TABLE " + bareTable); return err }
	} else {
		dir, err := os.MkdirTemp(filepath.Dir(strings.TrimPrefix(database, "file:")), "loadtest-bare-")
		if err != nil {
			return nil, err
		}
		db, err := sql.Open("sqlite3", "file:"+filepath.Join(dir, "bare.db")+bareSQLiteOptions)
		if err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		db.SetMaxOpenConns(8) // as internal/store opens SQLite
		a.db = db
		create = "CREATE TABLE " + bareTable + " (id INTEGER PRIMARY KEY, name TEXT NOT NULL, created_at TIMESTAMP NOT NULL)"
		a.insert = "INSERT INTO " + bareTable + " (name, created_at) VALUES (?, ?) RETURNING id"
		a.cleanup = func() error { return os.RemoveAll(dir) }
	}
	a.db.SetConnMaxIdleTime(5 * time.Minute)
	if _, err := a.db.ExecContext(ctx, create); err != nil {
		a.db.Close()
		a.cleanup()
		return nil, fmt.Errorf("bare table: %w", err)
	}

	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.POST("/hit", a.hit)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		a.db.Close()
		a.cleanup()
		return nil, err
	}
	a.URL = "http://" + ln.Addr().String()
	// The same server timeouts as web.Server.Serve.
	a.srv = &http.Server{Handler: e, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second, MaxHeaderBytes: 1 << 16}
	go func() { a.served <- a.srv.Serve(ln) }()
	return a, nil
}

// hit inserts one row and renders a page about it, into a buffer first as the service does.
func (a *bareApp) hit(c echo.Context) error {
	name := c.FormValue("name")
	now := time.Now().UTC()
	var id int64
	if err := a.db.QueryRowContext(c.Request().Context(), a.insert, name, now).Scan(&id); err != nil {
		return err
	}
	var buf bytes.Buffer
	data := barePageData{ID: id, Name: name, At: now, Items: []string{"one row inserted", "one page rendered", "nothing else"}}
	if err := barePage.Execute(&buf, data); err != nil {
		return err
	}
	return c.HTMLBlob(http.StatusOK, buf.Bytes())
}

func (a *bareApp) stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err := a.srv.Shutdown(ctx)
	if serr := <-a.served; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	if cerr := a.cleanup(); err == nil {
		err = cerr
	}
	if cerr := a.db.Close(); err == nil {
		err = cerr
	}
	return err
}

// bareTurn has n clients post to the bare handler for d, each waiting for its answer before
// sending the next, as the virtual drivers do. It returns what they measured and how long the
// turn took, until the last answer.
func bareTurn(ctx context.Context, baseURL string, n int, d time.Duration) (*recorder, time.Duration) {
	transport := newTransport(n)
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport, Timeout: 30 * time.Second}
	recs := make([]*recorder, n)
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
	for w := range n {
		recs[w] = newRecorder()
		wg.Go(func() {
			for i := 0; time.Now().Before(deadline) && ctx.Err() == nil; i++ {
				if err := bareHit(ctx, client, baseURL, "client-"+strconv.Itoa(w)+"-"+strconv.Itoa(i), recs[w]); err != nil && ctx.Err() == nil {
					recs[w].fail(err)
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	all := newRecorder()
	for _, r := range recs {
		all.merge(r)
	}
	return all, elapsed
}

func bareHit(ctx context.Context, client *http.Client, baseURL, name string, rec *recorder) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, baseURL+"/hit", strings.NewReader(url.Values{"name": {name}}.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	t0 := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		rec.request("POST /hit", time.Since(t0))
		return fmt.Errorf("POST /hit: %w", err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	rec.request("POST /hit", time.Since(t0))
	if err != nil {
		return fmt.Errorf("POST /hit: reading the answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte("<h1>Saved</h1>")) {
		return fmt.Errorf("POST /hit: got %d, want 200 and the saved page", resp.StatusCode)
	}
	return nil
}
