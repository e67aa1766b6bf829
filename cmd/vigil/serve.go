package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigilsec/vigil/detect"
	"github.com/vigilsec/vigil/rule"
	"github.com/vigilsec/vigil/schedule"
	"github.com/vigilsec/vigil/server"
	"github.com/vigilsec/vigil/server/api"
	"github.com/vigilsec/vigil/store/eventlog"
)

type serveFlags struct {
	data           string
	listen         string
	rules          []string
	versionLock    string
	natsURL        string
	tlsCert        string
	tlsKey         string
	insecure       bool
	requireKeys    bool
	noDetect       bool
	maxBodyMB      int64
	maxLineMB      int64
	maxInflightMB  int64
	maxLag         uint64
	maxDelay       time.Duration
	dedupeWindow   time.Duration
	retention      time.Duration
	fsync          bool
	logFormat      string
	logLevel       string
	shutdownTimout time.Duration
	tick           time.Duration
	detectWorkers  int
}

func newServeCmd(e *env) *cobra.Command {
	var f serveFlags
	c := &cobra.Command{
		Use:   "serve --data DIR [flags]",
		Short: "Accept events over an Elasticsearch-compatible API and run detection rules on them continuously",
		Long: `Serve an Elasticsearch-compatible ingest API (GET /, POST /_bulk,
POST /{index}/_bulk, POST|PUT /{index}/_doc[/{id}], POST /{index}/_create/{id},
/_cluster/health, /_license, /_xpack, and the template, ILM and pipeline calls
shippers make at start-up, which are recorded, not applied), so Beats, Elastic
Agent, Logstash, Vector, rsyslog or Fluent Bit ship to Vigil as to
Elasticsearch.

Every accepted event is stored in a durable event log (NATS JetStream, file
storage) before the request is answered; the event gets event.ingested (the
acceptance time) and its _index and _id. A document with a client-given _id is
deduplicated by index and id within --dedupe-window, so a retried request
stores nothing twice. Raw vendor records are normalised to ECS when
?pipeline= (or the action's "pipeline") names a source format (crowdstrike,
sentinelone, m365defender, endgame) or the index does
(logs-crowdstrike.fdr-default); other pipeline names are accepted and ignored. A detection consumer reads the log and runs the rules
(the built-in pack, or --rules) on every event as it arrives, with Elastic's
schedule semantics (interval, from/to, max_signals, catch-up and gaps, as
Kibana computes them). Alerts are Kibana alert documents with deterministic
ids, stored in DIR/alerts.db (SQLite), served by /api/alerts and published to
the JetStream subject vigil.alerts.<rule_id>. After a restart the consumer
resumes where it left off and no alert is created twice.

The JSON API (same authentication): GET /api/alerts (filters rule_id,
severity, host, status, from, to; size, page), GET|PATCH /api/alerts/{id},
GET|POST /api/rules, PATCH /api/rules/{id} (enable/disable),
GET /api/rules/{id}/executions, POST /api/rules/{id}/_run (backfill).

The NATS server runs inside vigil (data under DIR/jetstream) unless --nats
names an external server or cluster.

Security: the default listen address is loopback. A non-loopback address
needs TLS (--tls-cert and --tls-key) or --insecure, and then every endpoint
but /healthz requires an API key (vigil apikey create), sent as
"Authorization: ApiKey <key>". --require-keys requires keys on loopback too.

When the oldest accepted event has waited more than --max-delay for the
detectors (so alerts would come later than that), when the detectors fall
behind the log by more than --max-lag events, or when the requests in memory
exceed --max-inflight-mb, ingest answers 429 with Retry-After: Beats, Agent
and Logstash then retry, and alerts stay within seconds of acceptance. /healthz reports health, /metrics Prometheus metrics. SIGINT or
SIGTERM drains the requests in flight and stops.`,
		Example: `  # Local: the built-in rule pack, Filebeat/Agent pointed at http://127.0.0.1:9200
  vigil serve --data /var/lib/vigil

  # All of Elastic's EQL rules, on the network with TLS and API keys
  vigil apikey create --data /var/lib/vigil --name filebeat
  vigil serve --data /var/lib/vigil --listen 0.0.0.0:9200 --tls-cert cert.pem --tls-key key.pem \
    --rules detection-rules/rules --rules detection-rules/rules_building_block

  # An external NATS cluster holds the log
  vigil serve --data /var/lib/vigil --nats nats://nats-1:4222,nats://nats-2:4222`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runServe(e, &f) },
	}
	fl := c.Flags()
	fl.StringVar(&f.data, "data", "", "data `DIR` (event log, API keys, alerts.db, uploaded rules, recorded set-up calls); required")
	fl.StringVar(&f.listen, "listen", "127.0.0.1:9200", "listen `ADDR` (host:port)")
	fl.StringArrayVar(&f.rules, "rules", nil, "rule `PATH` (detection-rules TOML or Kibana NDJSON; file or directory); repeatable; default: the built-in pack")
	fl.StringVar(&f.versionLock, "version-lock", "", "detection-rules version lock `FILE` for rules without a version")
	fl.StringVar(&f.natsURL, "nats", "", "external NATS `URL`(s), comma-separated; default: the embedded server")
	fl.StringVar(&f.tlsCert, "tls-cert", "", "TLS certificate `FILE` (PEM)")
	fl.StringVar(&f.tlsKey, "tls-key", "", "TLS private key `FILE` (PEM)")
	fl.BoolVar(&f.insecure, "insecure", false, "allow a non-loopback listen address without TLS")
	fl.BoolVar(&f.requireKeys, "require-keys", false, "require an API key on loopback too")
	fl.BoolVar(&f.noDetect, "no-detect", false, "store events only; run no detection consumer")
	fl.Int64Var(&f.maxBodyMB, "max-body-mb", server.DefaultMaxBody>>20, "largest request body, in MiB (after decompression)")
	fl.Int64Var(&f.maxLineMB, "max-line-mb", server.DefaultMaxLine>>20, "largest single event (NDJSON line), in MiB")
	fl.Int64Var(&f.maxInflightMB, "max-inflight-mb", server.DefaultMaxInflight>>20, "request memory over all requests, in MiB; beyond it 429")
	fl.Uint64Var(&f.maxLag, "max-lag", server.DefaultMaxLag, "events the detectors may be behind the log before ingest answers 429")
	fl.DurationVar(&f.maxDelay, "max-delay", server.DefaultMaxDelay, "how long an accepted event may wait for the detectors before ingest answers 429 (0: no limit)")
	fl.DurationVar(&f.dedupeWindow, "dedupe-window", eventlog.DefaultDuplicate, "window in which a retried index+_id is not stored again")
	fl.DurationVar(&f.retention, "retention", eventlog.DefaultMaxAge, "how long the log keeps events")
	fl.BoolVar(&f.fsync, "fsync", false, "embedded log: fsync every write before acknowledging (survives power loss, slower)")
	fl.StringVar(&f.logFormat, "log-format", "text", "log format on stderr: text or json")
	fl.StringVar(&f.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	fl.IntVar(&f.detectWorkers, "detect-workers", api.DefaultDetectWorkers(), "goroutines evaluating the rules, default every core but one (each runs a share of the rules; alerts are the same for any number)")
	fl.DurationVar(&f.tick, "tick", time.Second, "how often due rule executions are checked (each rule runs every its interval)")
	fl.DurationVar(&f.shutdownTimout, "shutdown-timeout", 30*time.Second, "how long to drain requests in flight on SIGINT/SIGTERM")
	return c
}

// isLoopback reports whether a listen address binds loopback only.
func isLoopback(addr string) (bool, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false, err
	}
	if host == "localhost" {
		return true, nil
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback(), nil
}

func runServe(e *env, f *serveFlags) error {
	if f.data == "" {
		return usageErrorf("serve: --data DIR is required")
	}
	loopback, err := isLoopback(f.listen)
	if err != nil {
		return usageErrorf("serve: --listen %q: %v", f.listen, err)
	}
	if (f.tlsCert == "") != (f.tlsKey == "") {
		return usageErrorf("serve: --tls-cert and --tls-key go together")
	}
	if !loopback && f.tlsCert == "" && !f.insecure {
		return usageErrorf("serve: --listen %s is not loopback: give --tls-cert and --tls-key, or --insecure", f.listen)
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(f.logLevel)); err != nil {
		return usageErrorf("serve: --log-level %q: want debug, info, warn or error", f.logLevel)
	}
	var logger *slog.Logger
	switch f.logFormat {
	case "text":
		logger = slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: level}))
	case "json":
		logger = slog.New(slog.NewJSONHandler(e.stderr, &slog.HandlerOptions{Level: level}))
	default:
		return usageErrorf("serve: --log-format %q: want text or json", f.logFormat)
	}
	if err := os.MkdirAll(f.data, 0o700); err != nil {
		return usageErrorf("serve: --data: %v", err)
	}

	// Rules first: a bad rule path should fail before anything starts.
	var rules []*rule.Rule
	if !f.noDetect {
		res, err := loadRules(f.rules, f.versionLock)
		if err != nil {
			return err
		}
		for _, le := range res.Errors {
			logger.Warn("rule not loaded", "err", le.Detail())
		}
		rs, cerrs := detect.Compile(res.Rules) // a check only: the scheduler compiles its own
		for _, ce := range cerrs {
			var le *rule.LoadError
			if errors.As(ce, &le) {
				logger.Warn("rule not compiled", "err", le.Detail())
			} else {
				logger.Warn("rule not compiled", "err", ce)
			}
		}
		if len(rs.Rules()) == 0 {
			return usageErrorf("serve: no runnable rule (EQL) among %d loaded", len(res.Rules))
		}
		logger.Info("rules loaded", "runnable", len(rs.Rules()), "skipped_by_type", rs.Skipped(), "problems", len(res.Errors)+len(cerrs))
		rules = res.Rules
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	keys, err := server.NewKeyStore(f.data)
	if err != nil {
		return usageErrorf("serve: API keys: %v", err)
	}
	requireKeys := f.requireKeys || !loopback
	if requireKeys && keys.Len() == 0 {
		logger.Warn("API keys are required but none exists: create one with vigil apikey create --data " + f.data)
	}

	lg, err := eventlog.Open(ctx, eventlog.Config{
		Dir: f.data, URL: f.natsURL, Duplicates: f.dedupeWindow, MaxAge: f.retention, SyncAlways: f.fsync, Logger: logger,
	})
	if err != nil {
		return &exitError{code: exitInput, msg: fmt.Sprintf("serve: %v", err)}
	}
	defer lg.Close()

	cfg := server.Config{
		Log:             lg,
		SetupDir:        filepath.Join(f.data, "setup"),
		Keys:            keys,
		RequireKeys:     requireKeys,
		MaxBody:         f.maxBodyMB << 20,
		MaxLine:         int(f.maxLineMB << 20),
		MaxInflight:     f.maxInflightMB << 20,
		MaxLag:          f.maxLag,
		MaxDelay:        f.maxDelay,
		Logger:          logger,
		ShutdownTimeout: f.shutdownTimout,
		Normalize:       server.SourceNormalizer,
		// Documents without a client id are stored up to 1,000 to a log
		// message (the scheduler splits them): about 2x the ingest rate.
		BatchAutoIDs: true,
	}
	// Detection: the scheduler consumes the log (every event evaluated once,
	// as it arrives), runs Elastic's schedule over the alerts, stores them
	// in DIR/alerts.db, publishes them on vigil.alerts.<rule_id> and serves
	// /api/.
	var svc *api.Service
	var metrics atomic.Pointer[server.Metrics] // the server's, once it exists: the consumer reports into them
	if rules != nil {
		if _, err := server.NewJetStreamSink(ctx, lg.JetStream(), f.retention); err != nil { // creates the alerts stream
			return &exitError{code: exitInput, msg: fmt.Sprintf("serve: %v", err)}
		}
		var warns []error
		svc, warns, err = api.Start(ctx, api.ServiceConfig{DataDir: f.data, Rules: rules, Log: lg, Publish: true,
			Tick: f.tick, Logger: logger, DetectWorkers: f.detectWorkers})
		if err != nil {
			return &exitError{code: exitInput, msg: fmt.Sprintf("serve: %v", err)}
		}
		defer svc.Close()
		for _, w := range warns {
			// Compile errors and unsupported types were logged above.
			var ce *detect.CompileError
			if errors.Is(w, schedule.ErrUnsupportedType) || errors.As(w, &ce) {
				continue
			}
			logger.Warn("rule not scheduled", "err", w)
		}
		cfg.API = svc.Handler
		sched := svc.Scheduler
		cfg.Consumers = append(cfg.Consumers, server.Consumer{Name: schedule.DetectorName,
			Handler: func(ctx context.Context, batch []eventlog.Record) error {
				before := sched.Stats()
				err := sched.HandleLog(ctx, batch)
				if m := metrics.Load(); m != nil {
					after := sched.Stats()
					m.Detected.Add(float64(after.Fed - before.Fed))
					m.Malformed.Add(float64(after.Malformed - before.Malformed))
					m.Alerts.Add(float64(after.Engine.Alerts - before.Engine.Alerts))
				}
				return err
			},
			Options: eventlog.ConsumeOptions{Batch: 2000, MaxWait: 200 * time.Millisecond}})
		// Until the scheduler has caught up once, its position is unknown
		// (0): start from the consumer's acknowledged position.
		if pos, err := lg.ConsumerPosition(ctx, schedule.DetectorName); err == nil {
			svc.Scheduler.SetPosition(pos)
		}
		cfg.Detected = svc.Scheduler.Position
		cfg.Lag = func() uint64 {
			end, pos := lg.LastSeq(), svc.Scheduler.Position()
			if pos >= end {
				return 0
			}
			return end - pos
		}
	}
	srv, err := server.New(cfg)
	if err != nil {
		return &exitError{code: exitInput, msg: fmt.Sprintf("serve: %v", err)}
	}
	metrics.Store(srv.Metrics())
	ln, err := net.Listen("tcp", f.listen)
	if err != nil {
		return &exitError{code: exitInput, msg: fmt.Sprintf("serve: %v", err)}
	}
	scheme := "http"
	if f.tlsCert != "" {
		scheme = "https"
	}
	logger.Info("listening", "addr", ln.Addr().String(), "url", scheme+"://"+ln.Addr().String(),
		"api_keys_required", requireKeys, "log", logTarget(f), "detect", svc != nil)
	if err := srv.Serve(ctx, ln, f.tlsCert, f.tlsKey); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return &exitError{code: exitInput, msg: fmt.Sprintf("serve: %v", err)}
	}
	logger.Info("stopped")
	return nil
}

func logTarget(f *serveFlags) string {
	if f.natsURL != "" {
		return "nats " + strings.Split(f.natsURL, ",")[0]
	}
	return "embedded " + filepath.Join(f.data, "jetstream")
}
