package web

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/herts-msp/taxi-renewals/internal/domain"
)

// Gauges is what /metrics reads from the database.
type Gauges interface {
	MetricGauges(ctx context.Context) (domain.Gauges, error)
}

// latencyBuckets are the upper bounds, in seconds, of the request-duration histogram.
var latencyBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// requestMetrics counts requests and their durations by route pattern, method and status class,
// in memory, for the Prometheus text format. Routes are patterns, so ids never become labels.
type requestMetrics struct {
	mu     sync.Mutex
	series map[string]*routeSeries
}

type routeSeries struct {
	method, route, class string
	count                uint64
	sum                  float64
	buckets              []uint64
}

func newRequestMetrics() *requestMetrics { return &requestMetrics{series: map[string]*routeSeries{}} }

func (m *requestMetrics) observe(method, route string, status int, d time.Duration) {
	if route == "" {
		route = "unmatched"
	}
	class := fmt.Sprintf("%dxx", status/100)
	key := method + " " + route + " " + class
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.series[key]
	if !ok {
		s = &routeSeries{method: method, route: route, class: class, buckets: make([]uint64, len(latencyBuckets))}
		m.series[key] = s
	}
	s.count++
	s.sum += d.Seconds()
	for i, b := range latencyBuckets {
		if d.Seconds() <= b {
			s.buckets[i]++
		}
	}
}

func (m *requestMetrics) write(b *strings.Builder) {
	m.mu.Lock()
	defer m.mu.Unlock()
	keys := make([]string, 0, len(m.series))
	for k := range m.series {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	b.WriteString("# HELP renewals_http_requests_total HTTP requests by route pattern, method and status class.\n# TYPE renewals_http_requests_total counter\n")
	for _, k := range keys {
		s := m.series[k]
		fmt.Fprintf(b, "renewals_http_requests_total{method=%q,route=%q,status=%q} %d\n", s.method, s.route, s.class, s.count)
	}
	b.WriteString("# HELP renewals_http_request_duration_seconds HTTP request durations by route pattern.\n# TYPE renewals_http_request_duration_seconds histogram\n")
	for _, k := range keys {
		s := m.series[k]
		labels := fmt.Sprintf("method=%q,route=%q,status=%q", s.method, s.route, s.class)
		for i, le := range latencyBuckets {
			fmt.Fprintf(b, "renewals_http_request_duration_seconds_bucket{%s,le=\"%g\"} %d\n", labels, le, s.buckets[i])
		}
		fmt.Fprintf(b, "renewals_http_request_duration_seconds_bucket{%s,le=\"+Inf\"} %d\n", labels, s.count)
		fmt.Fprintf(b, "renewals_http_request_duration_seconds_sum{%s} %g\n", labels, s.sum)
		fmt.Fprintf(b, "renewals_http_request_duration_seconds_count{%s} %d\n", labels, s.count)
	}
}

// MetricsHandler serves /metrics in the Prometheus text format. It is mounted on its own
// listen address (--metrics-addr), never on the public one.
func (s *Server) MetricsHandler(g Gauges) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gauges, err := g.MetricGauges(r.Context())
		if err != nil {
			http.Error(w, "metrics unavailable", http.StatusServiceUnavailable)
			return
		}
		var b strings.Builder
		s.metrics.write(&b)
		gauge := func(name, help string, v any) {
			fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s gauge\n%s %v\n", name, help, name, name, v)
		}
		gauge("renewals_renewals_submitted", "Renewals sent, ever.", gauges.RenewalsSubmitted)
		gauge("renewals_evidence_records", "Evidence records (issues, acknowledgements, voids), ever.", gauges.Evidence)
		gauge("renewals_outbox_waiting", "Emails waiting to be sent.", gauges.Outbox.Waiting)
		gauge("renewals_outbox_failed", "Emails given up on after every retry.", gauges.Outbox.Failed)
		gauge("renewals_db_open_connections", "Open database connections.", gauges.Pool.OpenConnections)
		gauge("renewals_db_in_use_connections", "Database connections in use.", gauges.Pool.InUse)
		gauge("renewals_db_wait_count", "Waits for a database connection, ever.", gauges.Pool.WaitCount)
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		_, _ = w.Write([]byte(b.String()))
	})
}

// observeRequests feeds the request metrics; it runs inside the request logger's values.
func (s *Server) observeRequests(c echo.Context, status int, d time.Duration) {
	s.metrics.observe(c.Request().Method, c.Path(), status, d)
}
