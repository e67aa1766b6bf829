package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/vigilsec/vigil/detect"
	"github.com/vigilsec/vigil/rule"
	"github.com/vigilsec/vigil/schedule"
	"github.com/vigilsec/vigil/store/alerts"
	"github.com/vigilsec/vigil/store/eventlog"
)

// ServiceConfig configures Start.
type ServiceConfig struct {
	// DataDir holds alerts.db and rules.ndjson.
	DataDir string
	// Rules are the configured rules (--rules, or the built-in pack); the
	// API's uploads and enable/disable changes overlay them.
	Rules []*rule.Rule
	// Log is the event log: manual runs and batch rules read it back, and
	// alerts are published on its JetStream when Publish is set (the
	// vigil.alerts.> stream must exist: server.NewJetStreamSink).
	Log     *eventlog.Log
	Publish bool
	// Scheduler settings.
	DefaultIndex  string
	MaxSignalsCap int
	Exceptions    *detect.ExceptionLists
	Clock         schedule.Clock // default: the system clock
	// DetectWorkers evaluate the events (schedule.Options.Workers); <= 1:
	// one engine on the consumer's goroutine.
	DetectWorkers int
	// Tick is how often due executions are checked (default 1s).
	Tick   time.Duration
	Logger *slog.Logger
}

// DefaultDetectWorkers is vigil serve's default number of detect
// workers: every core but one, which ingest, the log and the alert store
// need (at least one). On 2 cores one worker sustained 14-15k events/s of
// the latency benchmark where two, competing with ingest, sustained 9-10k.
func DefaultDetectWorkers() int { return max(1, runtime.GOMAXPROCS(0)-1) }

// Service is the detection side of vigil serve: the alert store, the
// scheduler (a consumer of the event log), the rule registry, the alert
// notifier and the /api/ handler, wired together.
type Service struct {
	Store     *alerts.Store
	Scheduler *schedule.Scheduler
	Rules     *FileRules
	Notifier  *Notifier
	// Handler serves /api/ (mount it as server.Config.API).
	Handler http.Handler

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// Start opens the store and starts the scheduler's clock and the
// notifier. Rules that cannot run are returned as warnings; the others
// run. Feed the scheduler from the log with a consumer named
// schedule.DetectorName whose handler is Scheduler.HandleLog.
func Start(ctx context.Context, cfg ServiceConfig) (*Service, []error, error) {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	st, err := alerts.OpenDir(cfg.DataDir)
	if err != nil {
		return nil, nil, err
	}
	var pub Publisher
	if cfg.Publish && cfg.Log != nil {
		pub = JetStreamPublisher{JS: cfg.Log.JetStream()}
	}
	svc := &Service{Store: st}
	svc.Notifier = NewNotifier(pub, WebhooksFromRules(cfg.Rules), 0, logger)
	var sched *schedule.Scheduler
	reg, err := OpenFileRules(filepath.Join(cfg.DataDir, RulesFile), cfg.Rules, func(rs []*rule.Rule) []error {
		svc.Notifier.SetWebhooks(WebhooksFromRules(rs))
		return sched.SetRules(rs)
	})
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	opts := schedule.Options{
		Clock: cfg.Clock, Store: st, Notify: svc.Notifier.Notify,
		DefaultIndex: cfg.DefaultIndex, MaxSignalsCap: cfg.MaxSignalsCap, Exceptions: cfg.Exceptions,
		Workers: cfg.DetectWorkers,
	}
	if cfg.Log != nil {
		opts.Events = &schedule.LogSource{Log: cfg.Log}
	}
	sched, warns := schedule.New(reg.List(), opts)
	if sched == nil {
		st.Close()
		return nil, nil, errors.Join(warns...)
	}
	svc.Notifier.SetWebhooks(WebhooksFromRules(reg.List()))
	svc.Scheduler, svc.Rules = sched, reg
	svc.Handler = New(Options{Alerts: st, Rules: reg, Runner: sched, OnStatus: sched.AlertStatusChanged})
	runCtx, cancel := context.WithCancel(ctx)
	svc.cancel = cancel
	svc.wg.Add(2)
	go func() { defer svc.wg.Done(); svc.Notifier.Run(runCtx) }()
	go func() { defer svc.wg.Done(); sched.Loop(runCtx, cfg.Tick) }()
	return svc, warns, nil
}

// Close stops the clock and the notifier, saves the rules' state and
// closes the store.
func (s *Service) Close() error {
	s.cancel()
	s.wg.Wait()
	err := s.Scheduler.Close(context.Background())
	return errors.Join(err, s.Store.Close())
}
