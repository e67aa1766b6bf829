package server

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics are the server's Prometheus metrics, on their own registry.
type Metrics struct {
	Registry *prometheus.Registry

	Events    prometheus.Counter
	Bytes     prometheus.Counter
	Rejects   *prometheus.CounterVec // by reason
	Throttled prometheus.Counter
	Requests  *prometheus.HistogramVec // by endpoint and status class
	Detected  prometheus.Counter
	Alerts    prometheus.Counter
	Malformed prometheus.Counter
}

// NewMetrics registers the metrics; lag is read at scrape time.
func NewMetrics(lag func() float64) *Metrics {
	r := prometheus.NewRegistry()
	m := &Metrics{
		Registry: r,
		Events: prometheus.NewCounter(prometheus.CounterOpts{Name: "vigil_ingest_events_total",
			Help: "Events stored in the event log (duplicates of a retry not counted)."}),
		Bytes: prometheus.NewCounter(prometheus.CounterOpts{Name: "vigil_ingest_bytes_total",
			Help: "Request body bytes received on ingest endpoints (after decompression)."}),
		Rejects: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vigil_ingest_rejected_total",
			Help: "Events or requests rejected, by reason."}, []string{"reason"}),
		Throttled: prometheus.NewCounter(prometheus.CounterOpts{Name: "vigil_ingest_throttled_total",
			Help: "Requests answered 429 Too Many Requests (back-pressure)."}),
		Requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "vigil_http_request_duration_seconds",
			Help:    "HTTP request latency by endpoint and status.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}}, []string{"endpoint", "code"}),
		Detected: prometheus.NewCounter(prometheus.CounterOpts{Name: "vigil_detect_events_total",
			Help: "Events the detection consumer has evaluated."}),
		Alerts: prometheus.NewCounter(prometheus.CounterOpts{Name: "vigil_alerts_total",
			Help: "Alerts produced by the detection consumer."}),
		Malformed: prometheus.NewCounter(prometheus.CounterOpts{Name: "vigil_detect_malformed_total",
			Help: "Log records the detection consumer could not parse."}),
	}
	r.MustRegister(m.Events, m.Bytes, m.Rejects, m.Throttled, m.Requests, m.Detected, m.Alerts, m.Malformed,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "vigil_log_lag_events",
			Help: "Events stored in the log that the detection consumer has not yet evaluated."}, lag),
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}
