package api

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// httpMetrics are the HTTP layer's Prometheus metrics. Routes are labelled
// by template (c.FullPath()), never by raw path, so ids never become label
// values and the label set stays bounded.
type httpMetrics struct {
	requests      *prometheus.CounterVec
	latency       *prometheus.HistogramVec
	inFlight      prometheus.Gauge
	rateLimited   *prometheus.CounterVec
	embedRejected prometheus.Counter
	// photoBytesRejected counts photo requests refused because the photo
	// bytes in flight were at MaxPhotoBytesInFlight.
	photoBytesRejected prometheus.Counter
	auditFailures      prometheus.Counter
}

// newHTTPMetrics registers the HTTP metrics on reg; embedsInUse reports how
// many embedding slots are taken.
func newHTTPMetrics(reg prometheus.Registerer, embedsInUse func() float64) *httpMetrics {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "trackmatch_http_requests_total",
			Help: "HTTP requests answered, by method, route template and status.",
		}, []string{"method", "route", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "trackmatch_http_request_duration_seconds",
			Help:    "HTTP request latency, by method, route template and status.",
			Buckets: []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30},
		}, []string{"method", "route", "status"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "trackmatch_http_requests_in_flight",
			Help: "HTTP requests being served now.",
		}),
		rateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "trackmatch_http_rate_limited_total",
			Help: "Requests refused with 429, by the key's role.",
		}, []string{"role"}),
		embedRejected: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "trackmatch_http_embed_slot_rejected_total",
			Help: "Photo requests refused with 503 because every embedding slot stayed busy.",
		}),
		photoBytesRejected: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "trackmatch_http_photo_bytes_rejected_total",
			Help: "Photo requests refused with 503 because the photo bytes being received were at their limit.",
		}),
		auditFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "trackmatch_audit_write_failures_total",
			Help: "Audit entries that could not be written.",
		}),
	}
	reg.MustRegister(m.requests, m.latency, m.inFlight, m.rateLimited, m.embedRejected, m.photoBytesRejected, m.auditFailures,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "trackmatch_http_embed_slots_in_use",
			Help: "Embedding slots held by photo uploads and photo searches.",
		}, embedsInUse))
	return m
}

// observe records one answered request.
func (m *httpMetrics) observe(method, route string, status int, d time.Duration) {
	st := strconv.Itoa(status)
	m.requests.WithLabelValues(method, route, st).Inc()
	m.latency.WithLabelValues(method, route, st).Observe(d.Seconds())
}
