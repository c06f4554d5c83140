package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/herts-msp/taxi-renewals/db"
	"github.com/herts-msp/taxi-renewals/internal/config"
	"github.com/herts-msp/taxi-renewals/internal/domain"
	"github.com/herts-msp/taxi-renewals/internal/mail"
	"github.com/herts-msp/taxi-renewals/internal/service"
	"github.com/herts-msp/taxi-renewals/internal/store"
	"github.com/herts-msp/taxi-renewals/internal/web"
)

// liveService is the real service, built as "renewals serve" builds it, listening on a
// loopback TCP port. Only the email sender is replaced, by a mailbox the virtual drivers read.
type liveService struct {
	URL      string
	Store    *store.Store
	Service  *service.Service
	Mail     *mailbox
	Location *time.Location
	log      *slog.Logger
	wake     chan struct{}
	cancel   context.CancelFunc
	served   chan error    // the web server's result
	outboxed chan struct{} // closed when the outbox loop has stopped
}

// startService migrates the database and starts the web server and the outbox.
//
// Every virtual driver comes through the load generator on 127.0.0.1, so the service is told
// that 127.0.0.1 is a reverse proxy (the existing --trusted-proxies setting, as a deployment
// behind a proxy sets it) and each driver sends its own X-Forwarded-For address. The per-IP
// sign-in limits keep their production values and apply to each driver's own address.
func startService(ctx context.Context, database string, logTo io.Writer) (*liveService, error) {
	addr, err := freeLoopbackAddr()
	if err != nil {
		return nil, err
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	// The environment is ignored on purpose, so that a run is the same on every machine.
	noEnv := func(string) string { return "" }
	cfg, _, err := config.Load("loadtest", []string{"--addr", addr, "--database", database,
		"--secret-key", hex.EncodeToString(key), "--trusted-proxies", "127.0.0.1/32"}, noEnv, io.Discard, nil)
	if err != nil {
		return nil, err
	}
	st, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	if _, err := st.Migrate(ctx); err != nil {
		st.Close()
		return nil, err
	}
	log := slog.New(slog.NewTextHandler(logTo, nil))
	loc, err := time.LoadLocation(cfg.Timezone)
	if err != nil {
		st.Close()
		return nil, err
	}
	svc := service.New(st, service.Options{SecretKey: []byte(cfg.SecretKey), DueWindowDays: cfg.DueWindowDays,
		BaseURL: cfg.BaseURL, Location: loc, Logger: log})
	srv, err := web.New(cfg, svc, st, log)
	if err != nil {
		st.Close()
		return nil, err
	}
	runCtx, cancel := context.WithCancel(ctx)
	l := &liveService{URL: "http://" + addr, Store: st, Service: svc, Mail: newMailbox(), Location: loc, log: log,
		wake: make(chan struct{}, 1), cancel: cancel, served: make(chan error, 1), outboxed: make(chan struct{})}
	go func() { l.served <- srv.Serve(runCtx, addr) }()
	go func() { l.deliverOutbox(runCtx); close(l.outboxed) }()
	if err := l.waitHealthy(ctx); err != nil {
		l.stop()
		return nil, err
	}
	return l, nil
}

// stop shuts the server down gracefully, waits for the outbox loop and closes the database.
func (l *liveService) stop() error {
	l.cancel()
	err := <-l.served
	<-l.outboxed
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	if cerr := l.Store.Close(); err == nil {
		err = cerr
	}
	return err
}

// waitHealthy waits for /healthz to answer 200: until ctx's deadline when it has one (the test
// sets its own), else for 10 s.
func (l *liveService) waitHealthy(ctx context.Context) error {
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(10 * time.Second)
	}
	for time.Now().Before(deadline) {
		select {
		case err := <-l.served:
			l.served <- err // stop() reads it again
			return fmt.Errorf("the service stopped at start: %v", err)
		default:
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, l.URL+"/healthz", nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("the service did not answer /healthz by %s", deadline.Format(time.TimeOnly))
}

// freeLoopbackAddr finds a free port on 127.0.0.1. web.Server.Serve takes an address, not a
// listener, so the port is released and taken again at once; nothing else runs here to race.
func freeLoopbackAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := ln.Addr().String()
	return addr, ln.Close()
}

// wakeOutbox asks the outbox loop to deliver now; a wake already pending is enough.
func (l *liveService) wakeOutbox() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// deliverOutbox runs the service's own outbox delivery (claim, send, mark sent) as soon as a
// driver is waiting for a code, like a mail system that delivers at once, and every second
// anyway. "renewals serve" polls every 5 s, which here would only leave drivers idle.
func (l *liveService) deliverOutbox(ctx context.Context) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-l.wake:
		case <-tick.C:
		}
		for ctx.Err() == nil {
			sent, _, err := l.Service.DeliverOutbox(ctx, l.Mail)
			if err != nil {
				if ctx.Err() == nil {
					l.log.Error("outbox", "error", err.Error())
				}
				break
			}
			if sent == 0 {
				break
			}
		}
	}
}

// mailbox is the one fake, at the edge: it takes the place of the SMTP server and hands each
// sign-in code to the virtual driver waiting for it, as their inbox would.
type mailbox struct {
	mu      sync.Mutex
	waiting map[string]chan string
	others  int // messages without a code: confirmations
}

func newMailbox() *mailbox { return &mailbox{waiting: map[string]chan string{}} }

var codeInEmail = regexp.MustCompile(`Your code is (\d{6})`)

// expect registers a driver's address before they ask for a code.
func (m *mailbox) expect(address string) <-chan string {
	ch := make(chan string, 1)
	m.mu.Lock()
	m.waiting[strings.ToLower(address)] = ch
	m.mu.Unlock()
	return ch
}

func (m *mailbox) forget(address string) {
	m.mu.Lock()
	delete(m.waiting, strings.ToLower(address))
	m.mu.Unlock()
}

// Send implements mail.Sender.
func (m *mailbox) Send(_ context.Context, msg mail.Message) error {
	match := codeInEmail.FindStringSubmatch(msg.Body)
	m.mu.Lock()
	defer m.mu.Unlock()
	ch := m.waiting[strings.ToLower(msg.To)]
	if match == nil || ch == nil {
		m.others++
		return nil
	}
	select {
	case ch <- match[1]:
	default: // a second code for the same driver; they use the first
	}
	return nil
}

// seededDriver is what a driver knows to sign in: their council, licence and date of birth.
type seededDriver struct {
	Council     string
	Licence     string
	DateOfBirth domain.Date
	Email       string
}

// seed publishes the shipped driver leaflet (unless one is already in force) and puts n new
// drivers, due for renewal, on the registers of every council in turn. Licence numbers carry a
// run id, so a database used before still gets drivers who have never signed in.
func seed(ctx context.Context, l *liveService, n int) ([]seededDriver, domain.LeafletVersion, error) {
	lv, err := l.Service.CurrentLeaflet(ctx)
	if domain.ErrorReason(err) == "no_leaflet" {
		src, rerr := fs.ReadFile(db.Leaflets, "leaflets/driver-v1.md")
		if rerr != nil {
			return nil, lv, rerr
		}
		lv, err = l.Service.PublishLeaflet(ctx, service.PublishRequest{Source: src, Version: "1.0", By: "loadtest"})
	}
	if err != nil {
		return nil, lv, fmt.Errorf("leaflet: %w", err)
	}
	councils, err := l.Service.Councils(ctx)
	if err != nil {
		return nil, lv, err
	}
	if len(councils) == 0 {
		return nil, lv, errors.New("no councils: the migrations should have seeded them")
	}
	runID := make([]byte, 3)
	if _, err := rand.Read(runID); err != nil {
		return nil, lv, err
	}
	run := strings.ToUpper(hex.EncodeToString(runID))
	now := time.Now()
	today := domain.DateOf(now.In(l.Location))
	firstBirthday := domain.Date{Year: 1960, Month: time.January, Day: 1}
	drivers := make([]seededDriver, 0, n)
	const batch = 1000 // short transactions
	for start := 0; start < n; start += batch {
		var rows []domain.Driver
		for i := start; i < min(start+batch, n); i++ {
			c := councils[i%len(councils)]
			licence := "LT" + run + "-" + strconv.Itoa(100000+i)
			d := seededDriver{Council: c.Slug, Licence: licence, DateOfBirth: firstBirthday.AddDays(i * 37 % 14000),
				Email: strings.ToLower(licence) + "@example.org"}
			expiry := today.AddDays(14 + i%70) // due: inside the 90-day window, not yet expired
			rows = append(rows, domain.Driver{CouncilID: c.ID, LicenceNumber: licence, GivenNames: "Load", FamilyName: "Driver",
				DateOfBirth: d.DateOfBirth, Email: d.Email, Phone: "07700900123", Postcode: "AL8 6XF",
				LicenceStart: expiry.AddYears(-3), LicenceExpiry: expiry, Status: "active"})
			drivers = append(drivers, d)
		}
		if err := l.Store.UpsertDrivers(ctx, rows, now); err != nil {
			return nil, lv, fmt.Errorf("seed drivers: %w", err)
		}
	}
	return drivers, lv, nil
}

func countCouncils(drivers []seededDriver) int {
	seen := map[string]bool{}
	for _, d := range drivers {
		seen[d.Council] = true
	}
	return len(seen)
}
