package web

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/herts-msp/taxi-renewals/internal/domain"
)

// Gauges is what /metrics reads from the database.
type Gauges interface {
	MetricGauges(ctx context.Context) (domain.Gauges, error)
}

// requestMetrics counts requests and their durations by route pattern, method and status class.
// Routes are patterns, so ids never become labels; methods outside the usual few are "other", so
// a client cannot make new series by inventing methods.
type requestMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newRequestMetrics() *requestMetrics {
	labels := []string{"method", "route", "status"}
	return &requestMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "renewals_http_requests_total",
			Help: "HTTP requests by route pattern, method and status class.",
		}, labels),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "renewals_http_request_duration_seconds",
			Help:    "HTTP request durations by route pattern.",
			Buckets: []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10},
		}, labels),
	}
}

func (m *requestMetrics) observe(method, route string, status int, d time.Duration) {
	if route == "" {
		route = "unmatched"
	}
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions:
	default:
		method = "other"
	}
	class := strconv.Itoa(status/100) + "xx"
	m.requests.WithLabelValues(method, route, class).Inc()
	m.duration.WithLabelValues(method, route, class).Observe(d.Seconds())
}

// MetricsHandler serves /metrics in the Prometheus exposition format from reg, on which it
// registers the request metrics and the Go runtime and process collectors; the database's
// figures are read from g on each scrape. It is mounted on its own listen address
// (--metrics-addr), never on the public one. When the database does not answer, the scrape
// still answers, without the figures read from it.
func (s *Server) MetricsHandler(reg *prometheus.Registry, g Gauges) (http.Handler, error) {
	for _, c := range []prometheus.Collector{
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		s.metrics.requests, s.metrics.duration,
	} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	opts := promhttp.HandlerOpts{ErrorHandling: promhttp.HTTPErrorOnError}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gauges, err := g.MetricGauges(r.Context())
		if err != nil {
			s.log.Warn("metrics: database figures unavailable", slog.Any("error", err))
			promhttp.HandlerFor(reg, opts).ServeHTTP(w, r)
			return
		}
		scrape := prometheus.NewRegistry()
		if err := scrape.Register(dbGauges(gauges)); err != nil {
			http.Error(w, "metrics unavailable", http.StatusInternalServerError)
			return
		}
		promhttp.HandlerFor(prometheus.Gatherers{reg, scrape}, opts).ServeHTTP(w, r)
	}), nil
}

// dbGauges is one scrape's figures read from the database, as a collector.
type dbGauges domain.Gauges

type dbMetric struct {
	desc  *prometheus.Desc
	kind  prometheus.ValueType
	value func(domain.Gauges) float64
}

func dbMetrics() []dbMetric {
	gauge := func(name, help string, v func(domain.Gauges) float64) dbMetric {
		return dbMetric{prometheus.NewDesc(name, help, nil, nil), prometheus.GaugeValue, v}
	}
	return []dbMetric{
		gauge("renewals_renewals_submitted", "Renewals sent, ever.", func(g domain.Gauges) float64 { return float64(g.RenewalsSubmitted) }),
		gauge("renewals_evidence_records", "Evidence records (issues, acknowledgements, voids), ever.", func(g domain.Gauges) float64 { return float64(g.Evidence) }),
		gauge("renewals_outbox_waiting", "Emails waiting to be sent.", func(g domain.Gauges) float64 { return float64(g.Outbox.Waiting) }),
		gauge("renewals_outbox_failed", "Emails given up on after every retry.", func(g domain.Gauges) float64 { return float64(g.Outbox.Failed) }),
		gauge("renewals_db_open_connections", "Open database connections.", func(g domain.Gauges) float64 { return float64(g.Pool.OpenConnections) }),
		gauge("renewals_db_in_use_connections", "Database connections in use.", func(g domain.Gauges) float64 { return float64(g.Pool.InUse) }),
		{prometheus.NewDesc("renewals_db_waits_total", "Waits for a free database connection since the process started.", nil, nil),
			prometheus.CounterValue, func(g domain.Gauges) float64 { return float64(g.Pool.WaitCount) }},
		{prometheus.NewDesc("renewals_db_wait_seconds_total", "Time spent waiting for a free database connection since the process started.", nil, nil),
			prometheus.CounterValue, func(g domain.Gauges) float64 { return g.Pool.WaitDuration.Seconds() }},
	}
}

func (g dbGauges) Describe(ch chan<- *prometheus.Desc) {
	for _, m := range dbMetrics() {
		ch <- m.desc
	}
}

func (g dbGauges) Collect(ch chan<- prometheus.Metric) {
	for _, m := range dbMetrics() {
		ch <- prometheus.MustNewConstMetric(m.desc, m.kind, m.value(domain.Gauges(g)))
	}
}

// observeRequests feeds the request metrics; it runs inside the request logger's values.
func (s *Server) observeRequests(c echo.Context, status int, d time.Duration) {
	s.metrics.observe(c.Request().Method, c.Path(), status, d)
}
