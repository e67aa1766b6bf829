// Package server is Vigil's HTTP front: an Elasticsearch-compatible ingest
// API (enough of it for Beats, Elastic Agent, Logstash, Vector, rsyslog and
// Fluent Bit to ship to Vigil as if it were Elasticsearch) over the durable
// event log (store/eventlog), with API keys, Prometheus metrics and health
// checks. A request is answered only once its events are stored in the
// log; the detection consumer (Detector) and any other consumer read the
// log at their own pace. An optional handler is mounted at /api/.
package server

import (
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/vigilsec/vigil/event"
	"github.com/vigilsec/vigil/store/eventlog"
)

// Version is the Elasticsearch version the server reports: clients check
// the major version (8) and the product header.
const Version = "8.17.0"

// Defaults for Config limits.
const (
	DefaultMaxBody     = 100 << 20 // Elasticsearch's http.max_content_length
	DefaultMaxLine     = 8 << 20   // one event; also the log's largest message
	DefaultMaxInflight = 512 << 20
	DefaultMaxLag      = 5_000_000
	// DefaultMaxDelay keeps alerts within about a second of acceptance
	// (the bound, then one consumer batch and the alert's storing): p99
	// 0.8-0.95s under the unpaced load test, against 1.6-1.8s with 1s
	// (BenchmarkServeAlertLatency, 2 cores).
	DefaultMaxDelay = 500 * time.Millisecond
)

// Normalizer turns a raw vendor payload into an ECS document, chosen by the
// index name and ?pipeline= (the same document back when none applies).
type Normalizer func(index, pipeline string, doc []byte) ([]byte, error)

// Config configures a Server.
type Config struct {
	Log *eventlog.Log
	// SetupDir keeps the templates, ILM policies and pipelines shippers
	// create at start-up ("" keeps them in memory).
	SetupDir string
	// Keys checks API keys; RequireKeys makes every endpoint but /healthz
	// require one (always so off loopback: the command sets it).
	Keys        *KeyStore
	RequireKeys bool
	// API, when set, serves /api/ (with the same authentication).
	API http.Handler
	// Consumers read the log while the server runs (the detector first).
	Consumers []Consumer
	// Lag is how far the slowest consumer is behind the log's end; above
	// MaxLag ingest answers 429 (back-pressure). Nil: never.
	Lag    func() uint64
	MaxLag uint64
	// Detected is the log position the detection consumer has evaluated
	// up to. With it, ingest answers 429 while the oldest accepted event
	// not evaluated yet has waited more than MaxDelay (0: no limit), so
	// the time from acceptance to alert stays bounded under any load.
	Detected func() uint64
	MaxDelay time.Duration
	// Limits (0: the defaults above). MaxInflight bounds the request
	// bytes held in memory at once, over all requests.
	MaxBody, MaxInflight int64
	MaxLine              int
	// AppendTimeout bounds the wait for the log to store a request's
	// events (default 30s); items not stored by then fail with 429.
	AppendTimeout time.Duration
	// Normalize, when set, is applied to each source document.
	Normalize Normalizer
	// BatchAutoIDs stores consecutive documents without a client-given id
	// (there is nothing to deduplicate) several to a log message, one per
	// line, instead of one message each: several times fewer JetStream
	// messages for Beats-style shipping. Every reader of the stream must
	// then split messages with eventlog.EachEvent (Consume and ReadAll do).
	BatchAutoIDs bool
	Logger       *slog.Logger
	Metrics      *Metrics
	// ShutdownTimeout bounds the drain of in-flight requests (default 30s).
	ShutdownTimeout time.Duration
}

// Server is the HTTP server. It is an http.Handler.
type Server struct {
	cfg      Config
	log      *slog.Logger
	m        *Metrics
	setup    *setupStore
	inflight atomic.Int64
	pool     sync.Pool // *reqState
	uuid     string
	metricsH http.Handler
	maxMsg   int64 // the log's largest message
	accepted acceptClock
}

// New checks the configuration and returns a server.
func New(cfg Config) (*Server, error) {
	if cfg.Log == nil {
		return nil, errors.New("server: no event log")
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.MaxLine <= 0 {
		cfg.MaxLine = DefaultMaxLine
	}
	if cfg.MaxInflight <= 0 {
		cfg.MaxInflight = DefaultMaxInflight
	}
	if cfg.MaxLag == 0 {
		cfg.MaxLag = DefaultMaxLag
	}
	if cfg.AppendTimeout <= 0 {
		cfg.AppendTimeout = 30 * time.Second
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = 30 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.RequireKeys && cfg.Keys == nil {
		return nil, errors.New("server: keys required but no key store")
	}
	if cfg.Metrics == nil {
		lag := cfg.Lag
		cfg.Metrics = NewMetrics(func() float64 {
			if lag == nil {
				return 0
			}
			return float64(lag())
		})
	}
	s := &Server{cfg: cfg, log: cfg.Logger, m: cfg.Metrics, setup: newSetupStore(cfg.SetupDir), maxMsg: cfg.Log.MaxPayload()}
	if s.maxMsg <= 0 {
		s.maxMsg = 1 << 20 // NATS's default
	}
	if cfg.Detected != nil {
		// Scraped, so an operator sees the delay before it throttles.
		s.m.Registry.Register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "vigil_detect_delay_seconds",
			Help: "How long the oldest accepted event that detection has not evaluated yet has waited."},
			func() float64 { return s.accepted.wait(cfg.Detected(), time.Now()).Seconds() }))
	}
	var u [16]byte
	rand.Read(u[:])
	s.uuid = base64.RawURLEncoding.EncodeToString(u[:])
	s.metricsH = promhttp.HandlerFor(cfg.Metrics.Registry, promhttp.HandlerOpts{})
	s.pool.New = func() any { return &reqState{bp: bulkParser{maxLine: cfg.MaxLine}} }
	return s, nil
}

// Metrics returns the server's metrics.
func (s *Server) Metrics() *Metrics { return s.m }

// Serve answers on ln until ctx is done, then stops accepting, drains the
// requests in flight (up to ShutdownTimeout), stops the consumers and
// returns. With certFile and keyFile it serves TLS.
func (s *Server) Serve(ctx context.Context, ln net.Listener, certFile, keyFile string) error {
	hs := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       5 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	cctx, stopConsumers := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, c := range s.cfg.Consumers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			opts := c.Options
			opts.OnError = func(err error) { s.log.Error("consumer", "name", c.Name, "err", err) }
			if err := s.cfg.Log.Consume(cctx, c.Name, opts, c.Handler); err != nil {
				s.log.Error("consumer stopped", "name", c.Name, "err", err)
			}
		}()
	}
	errc := make(chan error, 1)
	go func() {
		var err error
		if certFile != "" {
			err = hs.ServeTLS(ln, certFile, keyFile)
		} else {
			err = hs.Serve(ln)
		}
		errc <- err
	}()
	var err error
	select {
	case err = <-errc:
	case <-ctx.Done():
		s.log.Info("shutting down: draining requests in flight")
		sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
		err = hs.Shutdown(sctx)
		cancel()
		if err != nil {
			s.log.Warn("drain incomplete", "err", err)
		}
		<-errc
		err = nil
	}
	stopConsumers()
	wg.Wait()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// statusWriter records the status for the latency metric.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(c int) {
	if w.code == 0 {
		w.code = c
	}
	w.ResponseWriter.WriteHeader(c)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (s *Server) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	start := time.Now()
	w := &statusWriter{ResponseWriter: rw}
	endpoint := s.route(w, r)
	code := w.code
	if code == 0 {
		code = http.StatusOK
	}
	s.m.Requests.WithLabelValues(endpoint, strconv.Itoa(code/100)+"xx").Observe(time.Since(start).Seconds())
}

// route dispatches a request and names its endpoint for the metrics.
func (s *Server) route(w *statusWriter, r *http.Request) string {
	path := r.URL.Path
	if path == "/healthz" {
		s.healthz(w)
		return "healthz"
	}
	w.Header().Set("X-Elastic-Product", "Elasticsearch")
	if !s.authorized(w, r) {
		return "unauthorized"
	}
	if path == "/metrics" {
		s.metricsH.ServeHTTP(w, r)
		return "metrics"
	}
	if path == "/api" || strings.HasPrefix(path, "/api/") {
		if s.cfg.API == nil {
			s.writeError(w, &esError{Type: "resource_not_found_exception", Reason: "no API is configured", Status: http.StatusNotFound})
			return "api"
		}
		w.Header().Del("X-Elastic-Product")
		s.cfg.API.ServeHTTP(w, r)
		return "api"
	}
	segs := strings.Split(strings.Trim(path, "/"), "/")
	if path == "/" {
		segs = nil
	}
	m := r.Method
	switch {
	case len(segs) == 0 && (m == http.MethodGet || m == http.MethodHead):
		s.info(w, r)
		return "info"
	case len(segs) == 1 && segs[0] == "_bulk" && (m == http.MethodPost || m == http.MethodPut):
		s.bulk(w, r, "")
		return "bulk"
	case len(segs) == 2 && segs[1] == "_bulk" && (m == http.MethodPost || m == http.MethodPut):
		s.bulk(w, r, segs[0])
		return "bulk"
	case len(segs) == 2 && segs[1] == "_doc" && m == http.MethodPost:
		s.single(w, r, segs[0], "", opIndex)
		return "doc"
	case len(segs) == 3 && segs[1] == "_doc" && (m == http.MethodPost || m == http.MethodPut):
		op := opIndex
		if r.URL.Query().Get("op_type") == "create" {
			op = opCreate
		}
		s.single(w, r, segs[0], segs[2], op)
		return "doc"
	case len(segs) == 3 && segs[1] == "_create" && (m == http.MethodPost || m == http.MethodPut):
		s.single(w, r, segs[0], segs[2], opCreate)
		return "doc"
	case len(segs) == 2 && segs[0] == "_cluster" && segs[1] == "health" && m == http.MethodGet:
		s.writeJSON(w, http.StatusOK, map[string]any{
			"cluster_name": "vigil", "status": "green", "timed_out": false, "number_of_nodes": 1,
			"number_of_data_nodes": 1, "active_primary_shards": 1, "active_shards": 1, "relocating_shards": 0,
			"initializing_shards": 0, "unassigned_shards": 0, "delayed_unassigned_shards": 0,
			"number_of_pending_tasks": 0, "number_of_in_flight_fetch": 0, "task_max_waiting_in_queue_millis": 0,
			"active_shards_percent_as_number": 100.0,
		})
		return "cluster_health"
	case len(segs) == 1 && segs[0] == "_license" && m == http.MethodGet:
		s.writeJSON(w, http.StatusOK, map[string]any{"license": s.license()})
		return "license"
	case len(segs) == 1 && segs[0] == "_xpack" && m == http.MethodGet:
		lic := s.license()
		s.writeJSON(w, http.StatusOK, map[string]any{
			"build":    map[string]any{"hash": "vigil", "date": "2026-01-01T00:00:00.000Z"},
			"license":  map[string]any{"uid": lic["uid"], "type": "basic", "mode": "basic", "status": "active"},
			"features": map[string]any{"ilm": map[string]any{"available": true, "enabled": true}, "security": map[string]any{"available": true, "enabled": true}},
			"tagline":  "You know, for X",
		})
		return "xpack"
	case (len(segs) == 1 && segs[0] == "_refresh") || (len(segs) == 2 && segs[1] == "_refresh"):
		s.writeJSON(w, http.StatusOK, map[string]any{"_shards": map[string]any{"total": 1, "successful": 1, "failed": 0}})
		return "refresh"
	}
	if kind, name, ok := setupPath(segs); ok {
		s.setupCall(w, r, kind, name)
		return "setup"
	}
	if len(segs) == 1 && !strings.HasPrefix(segs[0], "_") {
		// PUT /{index} creates an index; HEAD/GET ask whether it exists.
		s.setupCall(w, r, "index", segs[0])
		return "setup"
	}
	s.log.Info("unsupported request", "method", m, "path", path)
	s.writeError(w, &esError{Type: "illegal_argument_exception",
		Reason: fmt.Sprintf("no handler found for uri [%s] and method [%s]", path, m), Status: http.StatusBadRequest})
	return "unsupported"
}

// setupPath recognises the set-up objects shippers create at start-up.
func setupPath(segs []string) (kind, name string, ok bool) {
	switch {
	case len(segs) == 2 && (segs[0] == "_index_template" || segs[0] == "_template" || segs[0] == "_component_template" || segs[0] == "_data_stream"):
		return segs[0][1:], segs[1], true
	case len(segs) == 3 && segs[0] == "_ilm" && segs[1] == "policy":
		return "ilm_policy", segs[2], true
	case len(segs) == 3 && segs[0] == "_ingest" && segs[1] == "pipeline":
		return "ingest_pipeline", segs[2], true
	}
	return "", "", false
}

func (s *Server) setupCall(w *statusWriter, r *http.Request, kind, name string) {
	switch r.Method {
	case http.MethodPut, http.MethodPost:
		body, err := io.ReadAll(io.LimitReader(r.Body, 16<<20))
		if err != nil {
			s.writeError(w, errIllegalArgument("reading the body: "+err.Error()))
			return
		}
		if err := s.setup.put(kind, name, body); err != nil {
			s.log.Error("recording set-up call", "kind", kind, "name", name, "err", err)
		}
		s.log.Info("set-up call recorded (not applied)", "kind", kind, "name", name)
		if kind == "index" {
			s.writeJSON(w, http.StatusOK, map[string]any{"acknowledged": true, "shards_acknowledged": true, "index": name})
			return
		}
		s.writeJSON(w, http.StatusOK, map[string]any{"acknowledged": true})
	case http.MethodDelete:
		s.setup.del(kind, name)
		s.writeJSON(w, http.StatusOK, map[string]any{"acknowledged": true})
	case http.MethodGet, http.MethodHead:
		body, ok := s.setup.get(kind, name)
		if !ok {
			if r.Method == http.MethodHead {
				w.WriteHeader(http.StatusNotFound)
				return
			}
			s.writeError(w, &esError{Type: "resource_not_found_exception", Reason: kind + " [" + name + "] missing", Status: http.StatusNotFound})
			return
		}
		if r.Method == http.MethodHead {
			w.WriteHeader(http.StatusOK)
			return
		}
		var out any
		switch kind {
		case "index_template":
			out = map[string]any{"index_templates": []any{map[string]any{"name": name, "index_template": body}}}
		case "component_template":
			out = map[string]any{"component_templates": []any{map[string]any{"name": name, "component_template": body}}}
		case "data_stream":
			out = map[string]any{"data_streams": []any{map[string]any{"name": name}}}
		case "ilm_policy":
			out = map[string]any{name: map[string]any{"version": 1, "policy": json.RawMessage(policyOf(body))}}
		default:
			out = map[string]any{name: body}
		}
		s.writeJSON(w, http.StatusOK, out)
	default:
		s.writeError(w, &esError{Type: "illegal_argument_exception", Reason: "Incorrect HTTP method [" + r.Method + "]", Status: http.StatusMethodNotAllowed})
	}
}

// policyOf is the "policy" member of an ILM policy body (the body itself
// when it has none).
func policyOf(body []byte) []byte {
	var p struct {
		Policy json.RawMessage `json:"policy"`
	}
	if json.Unmarshal(body, &p) == nil && len(p.Policy) > 0 {
		return p.Policy
	}
	return body
}

func (s *Server) license() map[string]any {
	return map[string]any{"status": "active", "uid": s.uuid, "type": "basic", "issue_date": "2026-01-01T00:00:00.000Z",
		"issue_date_in_millis": 1767225600000, "max_nodes": 1000, "max_resource_units": nil, "issued_to": "vigil",
		"issuer": "vigil", "start_date_in_millis": -1}
}

func (s *Server) info(w *statusWriter, r *http.Request) {
	if r.Method == http.MethodHead {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		return
	}
	s.writeJSON(w, http.StatusOK, map[string]any{
		"name": "vigil", "cluster_name": "vigil", "cluster_uuid": s.uuid,
		"version": map[string]any{
			"number": Version, "build_flavor": "default", "build_type": "tar", "build_hash": "vigil",
			"build_date": "2026-01-01T00:00:00.000Z", "build_snapshot": false, "lucene_version": "9.12.0",
			"minimum_wire_compatibility_version": "7.17.0", "minimum_index_compatibility_version": "7.0.0",
		},
		"tagline": "You Know, for Search",
	})
}

func (s *Server) healthz(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if !s.cfg.Log.Conn().IsConnected() {
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, "event log unavailable\n")
		return
	}
	io.WriteString(w, "ok\n")
}

// authorized checks the API key: required when RequireKeys; when not, a
// key given must still be valid.
func (s *Server) authorized(w *statusWriter, r *http.Request) bool {
	h := r.Header.Get("Authorization")
	if h == "" && !s.cfg.RequireKeys {
		return true
	}
	reason := "missing authentication credentials for REST request [" + r.URL.Path + "]"
	if h != "" {
		if s.cfg.Keys != nil {
			if _, ok := s.cfg.Keys.Check(h); ok {
				return true
			}
		}
		reason = "unable to authenticate with provided credentials and anonymous access is not allowed for this request"
	}
	s.m.Rejects.WithLabelValues("unauthorized").Inc()
	w.Header().Set("WWW-Authenticate", `ApiKey, Basic realm="security", charset="UTF-8"`)
	s.writeError(w, &esError{Type: "security_exception", Reason: reason, Status: http.StatusUnauthorized})
	return false
}

func (s *Server) writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		s.writeError(w, &esError{Type: "exception", Reason: err.Error(), Status: http.StatusInternalServerError})
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

func (s *Server) writeError(w http.ResponseWriter, e *esError) {
	w.Header().Set("Content-Type", "application/json")
	if e.Status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "1")
	}
	w.WriteHeader(e.Status)
	w.Write(e.body())
}

// reqState is the reusable memory of one ingest request.
type reqState struct {
	bp      bulkParser
	p       event.Parser
	body    []byte
	arena   []byte
	items   []item
	spans   []span
	entries []eventlog.Entry
	idx     []int // items stored, in order; a span covers idx[lo:hi]
	results []eventlog.Result
	resp    []byte
	zr      *gzip.Reader
}

// span is one log entry under construction: arena[off:end] holds the
// stored documents of the items idx[lo:hi], one per line.
type span struct {
	off, end, lo, hi int
	msgID            string
}

// maxBatch bounds the bytes and events of one batched entry.
const (
	maxBatchBytes  = 1 << 20
	maxBatchEvents = 1000
)

// reserve takes n bytes of the in-flight budget; false when it is spent.
func (s *Server) reserve(n int64) bool {
	if s.inflight.Add(n) > s.cfg.MaxInflight {
		s.inflight.Add(-n)
		return false
	}
	return true
}

func (s *Server) throttle(w http.ResponseWriter, reason string) {
	s.m.Throttled.Inc()
	s.writeError(w, errRejected(reason))
}

// readBody reads the (possibly gzip-compressed) request body within the
// body limit and the in-flight budget; it returns the bytes reserved
// (to release) and an error already answered when err is not nil.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request, st *reqState) (reserved int64, ok bool) {
	// The raw body and the stored entries are both held: reserve twice.
	if r.ContentLength > s.cfg.MaxBody {
		s.m.Rejects.WithLabelValues("body_too_large").Inc()
		s.writeError(w, &esError{Type: "content_too_long_exception", Status: http.StatusRequestEntityTooLarge,
			Reason: fmt.Sprintf("request body of %d bytes is over the limit of %d bytes", r.ContentLength, s.cfg.MaxBody)})
		return 0, false
	}
	var src io.Reader = r.Body
	if strings.EqualFold(r.Header.Get("Content-Encoding"), "gzip") {
		var err error
		if st.zr == nil {
			st.zr, err = gzip.NewReader(r.Body)
		} else {
			err = st.zr.Reset(r.Body)
		}
		if err != nil {
			s.m.Rejects.WithLabelValues("malformed_request").Inc()
			s.writeError(w, errParse("request body is not valid gzip: "+err.Error()))
			return 0, false
		}
		src = st.zr
	}
	body := st.body[:0]
	for {
		if len(body) == cap(body) {
			grow := int64(max(64<<10, cap(body)))
			if r.ContentLength > 0 && cap(body) == 0 && src == r.Body {
				grow = r.ContentLength + 1 // one read past the end sees EOF
			}
			if int64(cap(body))+grow > s.cfg.MaxBody+1 {
				grow = s.cfg.MaxBody + 1 - int64(cap(body))
			}
			if !s.reserve(2 * grow) {
				s.inflight.Add(-reserved)
				st.body = body
				s.throttle(w, fmt.Sprintf("rejected: %d bytes of requests already in flight (limit %d); retry later", s.inflight.Load(), s.cfg.MaxInflight))
				return 0, false
			}
			reserved += 2 * grow
			nb := make([]byte, len(body), int64(cap(body))+grow)
			copy(nb, body)
			body = nb
		}
		n, err := src.Read(body[len(body):cap(body)])
		body = body[:len(body)+n]
		if int64(len(body)) > s.cfg.MaxBody {
			s.inflight.Add(-reserved)
			st.body = body[:0]
			s.m.Rejects.WithLabelValues("body_too_large").Inc()
			s.writeError(w, &esError{Type: "content_too_long_exception", Status: http.StatusRequestEntityTooLarge,
				Reason: fmt.Sprintf("request body is over the limit of %d bytes", s.cfg.MaxBody)})
			return 0, false
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			s.inflight.Add(-reserved)
			st.body = body[:0]
			s.m.Rejects.WithLabelValues("malformed_request").Inc()
			s.writeError(w, errParse("reading the request body: "+err.Error()))
			return 0, false
		}
	}
	st.body = body
	s.m.Bytes.Add(float64(len(body)))
	return reserved, true
}

// release returns a request's memory to the pool; very large buffers are
// dropped so that one huge request does not pin its memory.
func (s *Server) release(st *reqState, reserved int64) {
	s.inflight.Add(-reserved)
	if cap(st.body) > 16<<20 {
		st.body = nil
	}
	if cap(st.arena) > 32<<20 {
		st.arena = nil
	}
	clear(st.items)
	st.items = st.items[:0]
	clear(st.entries)
	s.pool.Put(st)
}

// overloaded answers 429 when a consumer is too far behind.
func (s *Server) overloaded(w http.ResponseWriter) bool {
	if s.cfg.Detected != nil && s.cfg.MaxDelay > 0 {
		if d := s.accepted.wait(s.cfg.Detected(), time.Now()); d > s.cfg.MaxDelay {
			s.throttle(w, fmt.Sprintf("rejected: detection is %.1fs behind acceptance (limit %s); retry later", d.Seconds(), s.cfg.MaxDelay))
			return true
		}
	}
	if s.cfg.Lag == nil {
		return false
	}
	if lag := s.cfg.Lag(); lag > s.cfg.MaxLag {
		s.throttle(w, fmt.Sprintf("rejected: detection is %d events behind the log (limit %d); retry later", lag, s.cfg.MaxLag))
		return true
	}
	return false
}

func (s *Server) bulk(w *statusWriter, r *http.Request, urlIndex string) {
	start := time.Now()
	if s.overloaded(w) {
		return
	}
	st := s.pool.Get().(*reqState)
	reserved, ok := s.readBody(w, r, st)
	if !ok {
		s.pool.Put(st)
		return
	}
	defer s.release(st, reserved)
	var err error
	st.items, err = st.bp.parse(st.body, urlIndex, r.URL.Query().Get("pipeline"), st.items[:0])
	if err != nil {
		var re *requestError
		if errors.As(err, &re) {
			s.m.Rejects.WithLabelValues("malformed_request").Inc()
			s.writeError(w, re.e)
			return
		}
		s.writeError(w, errIllegalArgument(err.Error()))
		return
	}
	s.store(r.Context(), st, time.Now())
	st.resp = s.bulkResponse(st.resp[:0], st.items, time.Since(start))
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	w.Write(st.resp)
}

func (s *Server) single(w *statusWriter, r *http.Request, index, id string, o op) {
	if s.overloaded(w) {
		return
	}
	st := s.pool.Get().(*reqState)
	reserved, ok := s.readBody(w, r, st)
	if !ok {
		s.pool.Put(st)
		return
	}
	defer s.release(st, reserved)
	it := item{op: o, index: index, id: id, pipeline: r.URL.Query().Get("pipeline"), line: 1, srcLine: 1, doc: st.body}
	if id == "" && r.Method == http.MethodPut {
		s.writeError(w, errValidation("an id is required for a PUT request"))
		return
	}
	st.items = append(st.items[:0], it)
	s.store(r.Context(), st, time.Now())
	res := &st.items[0]
	if res.err != nil {
		e := *res.err
		e.Status = res.status
		s.writeError(w, &e)
		return
	}
	b := st.resp[:0]
	b = append(b, '{')
	b = appendItemBody(b, res)
	b = append(b, "}\n"...)
	st.resp = b
	w.Header().Set("Content-Type", "application/json")
	if res.status == http.StatusCreated {
		w.Header().Set("Location", "/"+index+"/_doc/"+res.id)
	}
	w.WriteHeader(res.status)
	w.Write(b)
}

// store validates each item, builds its log entry and appends the valid
// ones, setting every item's outcome.
func (s *Server) store(ctx context.Context, st *reqState, accepted time.Time) {
	ingested := strconv.AppendQuote(make([]byte, 0, 40), accepted.UTC().Format(time.RFC3339Nano))
	st.arena, st.spans, st.idx = st.arena[:0], st.spans[:0], st.idx[:0]
	batchLimit := min(int(s.maxMsg/2), maxBatchBytes)
	open := false // the last span takes more auto-id documents
	for i := range st.items {
		it := &st.items[i]
		if e := s.check(st, it); e != nil {
			it.status, it.err = e.Status, e
			s.m.Rejects.WithLabelValues(e.Type).Inc()
			continue
		}
		if it.id == "" {
			it.id, it.autoID = newID(), true
		}
		doc := it.doc
		if s.cfg.Normalize != nil {
			nd, err := s.cfg.Normalize(it.index, it.pipeline, doc)
			if err != nil {
				it.status, it.err = http.StatusBadRequest, &esError{Type: "document_parsing_exception", Reason: err.Error(), Status: http.StatusBadRequest}
				s.m.Rejects.WithLabelValues("normalizer").Inc()
				continue
			}
			doc = nd
		}
		if open && s.cfg.BatchAutoIDs && it.autoID {
			sp := &st.spans[len(st.spans)-1]
			if sp.hi-sp.lo < maxBatchEvents && sp.end-sp.off+len(doc)+len(it.index)+len(it.id)+128 <= batchLimit {
				st.arena = append(st.arena, '\n')
				st.arena = stored(st.arena, it.index, it.id, doc, string(ingested))
				st.idx = append(st.idx, i)
				sp.end, sp.hi = len(st.arena), len(st.idx)
				continue
			}
		}
		off := len(st.arena)
		st.arena = stored(st.arena, it.index, it.id, doc, string(ingested))
		if int64(len(st.arena)-off) > s.maxMsg {
			st.arena = st.arena[:off]
			it.status, it.err = http.StatusBadRequest, &esError{Type: "document_parsing_exception", Status: http.StatusBadRequest,
				Reason: fmt.Sprintf("[%d:1] document is over the event log's message limit of %d bytes", it.srcLine, s.maxMsg)}
			s.m.Rejects.WithLabelValues("too_large").Inc()
			continue
		}
		st.idx = append(st.idx, i)
		sp := span{off: off, end: len(st.arena), lo: len(st.idx) - 1, hi: len(st.idx)}
		if !it.autoID {
			sp.msgID = msgID(it.index, it.id)
		}
		st.spans = append(st.spans, sp)
		open = it.autoID
	}
	st.entries = st.entries[:0]
	for _, sp := range st.spans {
		st.entries = append(st.entries, eventlog.Entry{Data: st.arena[sp.off:sp.end], MsgID: sp.msgID})
	}
	if len(st.entries) == 0 {
		return
	}
	actx, cancel := context.WithTimeout(ctx, s.cfg.AppendTimeout)
	began := time.Now()
	st.results = s.cfg.Log.Append(actx, st.entries, st.results)
	cancel()
	stored := 0
	var top uint64
	for k, res := range st.results {
		if res.Err == nil && !res.Duplicate {
			top = max(top, res.Seq)
		}
		sp := st.spans[k]
		for _, ii := range st.idx[sp.lo:sp.hi] {
			it := &st.items[ii]
			switch {
			case res.Err != nil:
				it.status, it.err = http.StatusTooManyRequests, errRejected("the event log did not store the event: "+res.Err.Error())
				s.m.Rejects.WithLabelValues("log_unavailable").Inc()
			case res.Duplicate && it.op == opCreate:
				it.status, it.seq, it.dup = http.StatusConflict, res.Seq, true
				it.err = &esError{Type: "version_conflict_engine_exception", Status: http.StatusConflict, Index: it.index,
					Reason: "[" + it.id + "]: version conflict, document already exists (current version [1])"}
			case res.Duplicate:
				it.status, it.seq, it.dup = http.StatusOK, res.Seq, true
			default:
				it.status, it.seq = http.StatusCreated, res.Seq
				stored++
			}
		}
	}
	if top > 0 && s.cfg.Detected != nil {
		s.accepted.mark(top, began, stored)
	}
	s.m.Events.Add(float64(stored))
	if stored < len(st.idx) {
		s.log.Debug("bulk items not stored", "items", len(st.items), "stored", stored)
	}
}

// check validates one item; nil when it can be stored.
func (s *Server) check(st *reqState, it *item) *esError {
	switch it.op {
	case opUpdate, opDelete:
		return &esError{Type: "illegal_argument_exception", Status: http.StatusBadRequest,
			Reason: "action [" + it.op.String() + "] is not supported: Vigil's event log is append-only (use index or create)"}
	}
	if why := validIndex(it.index); why != "" {
		return &esError{Type: "invalid_index_name_exception", Status: http.StatusBadRequest, Index: it.index,
			Reason: "Invalid index name [" + it.index + "], " + why}
	}
	if len(it.id) > 512 {
		return &esError{Type: "illegal_argument_exception", Status: http.StatusBadRequest,
			Reason: "id [" + it.id[:32] + "...] is too long, must be no longer than 512 bytes but was: " + strconv.Itoa(len(it.id))}
	}
	if len(it.doc) > s.cfg.MaxLine {
		return &esError{Type: "document_parsing_exception", Status: http.StatusBadRequest,
			Reason: fmt.Sprintf("[%d:1] document of %d bytes is over the limit of %d bytes", it.srcLine, len(it.doc), s.cfg.MaxLine)}
	}
	if _, err := st.p.Parse(it.doc); err != nil {
		col := 1
		var se *event.SyntaxError
		if errors.As(err, &se) && se.Offset >= 0 {
			col = se.Offset + 1
		}
		return &esError{Type: "document_parsing_exception", Status: http.StatusBadRequest,
			Reason: fmt.Sprintf("[%d:%d] failed to parse: %v", it.srcLine, col, err)}
	}
	if k := topLevelMeta(it.doc); k != "" {
		return &esError{Type: "document_parsing_exception", Status: http.StatusBadRequest,
			Reason: fmt.Sprintf("[%d:1] failed to parse: Field [%s] is a metadata field and cannot be added inside a document. Use the index API request parameters.", it.srcLine, k)}
	}
	return nil
}

func (s *Server) bulkResponse(b []byte, items []item, took time.Duration) []byte {
	errs := false
	for i := range items {
		if items[i].err != nil {
			errs = true
			break
		}
	}
	b = append(b, `{"errors":`...)
	b = strconv.AppendBool(b, errs)
	b = append(b, `,"took":`...)
	b = strconv.AppendInt(b, took.Milliseconds(), 10)
	b = append(b, `,"items":[`...)
	for i := range items {
		if i > 0 {
			b = append(b, ',')
		}
		it := &items[i]
		b = append(b, `{"`...)
		b = append(b, it.op.String()...)
		b = append(b, `":{`...)
		b = appendItemBody(b, it)
		b = append(b, `}}`...)
	}
	return append(b, "]}\n"...)
}

// appendItemBody appends the members of an item's result object.
func appendItemBody(b []byte, it *item) []byte {
	b = append(b, `"_index":`...)
	b = appendStr(b, it.index)
	if it.id != "" {
		b = append(b, `,"_id":`...)
		b = appendStr(b, it.id)
	}
	if it.err == nil || it.dup {
		result := "created"
		if it.dup {
			result = "noop"
		}
		b = append(b, `,"_version":1,"result":"`...)
		b = append(b, result...)
		b = append(b, `","_shards":{"total":1,"successful":1,"failed":0},"_seq_no":`...)
		b = strconv.AppendUint(b, it.seq, 10)
		b = append(b, `,"_primary_term":1`...)
	}
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(it.status), 10)
	if it.err != nil {
		b = append(b, `,"error":`...)
		b = it.err.appendJSON(b)
	}
	return b
}

func appendStr(b []byte, s string) []byte { return event.AppendJSONString(b, s) }

// Auto-generated ids: 15 bytes (milliseconds, a per-process random part, a
// counter) in URL-safe base64, 20 characters like Elasticsearch's.
var (
	idNode [3]byte
	idSeq  atomic.Uint64
)

func init() {
	rand.Read(idNode[:])
	var b [8]byte
	rand.Read(b[:])
	idSeq.Store(binary.LittleEndian.Uint64(b[:]) & (1<<40 - 1))
}

func newID() string {
	var b [15]byte
	ms := uint64(time.Now().UnixMilli())
	b[0], b[1], b[2], b[3], b[4], b[5] = byte(ms>>40), byte(ms>>32), byte(ms>>24), byte(ms>>16), byte(ms>>8), byte(ms)
	copy(b[6:9], idNode[:])
	n := idSeq.Add(1)
	b[9], b[10], b[11], b[12], b[13], b[14] = byte(n>>40), byte(n>>32), byte(n>>24), byte(n>>16), byte(n>>8), byte(n)
	return base64.RawURLEncoding.EncodeToString(b[:])
}
