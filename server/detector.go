package server

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/vigilsec/vigil/detect"
	"github.com/vigilsec/vigil/eql"
	"github.com/vigilsec/vigil/store/eventlog"
)

// AlertSink receives the alerts of the detection consumer, a batch of log
// records at a time. The batch's position in the log is acknowledged only
// after Alerts returns nil (it is retried until then), so a sink sees every
// alert at least once; alerts carry deterministic ids
// (kibana.alert.uuid) for deduplication.
type AlertSink interface {
	Alerts(ctx context.Context, alerts []*detect.Alert) error
}

// Consumer is a durable reader of the event log: the detection consumer,
// or one the embedding program adds (Config.Consumers).
type Consumer struct {
	Name    string // durable consumer name: the position survives restarts
	Handler eventlog.Handler
	Options eventlog.ConsumeOptions
}

// Detector runs a rule set continuously over the event log.
type Detector struct {
	eng     *detect.Engine
	sink    AlertSink
	logger  *slog.Logger
	metrics *Metrics

	pending []*detect.Alert
	// pos is the stream sequence of the last record evaluated.
	pos atomic.Uint64
}

// DetectorName is the durable consumer name of the detection consumer.
const DetectorName = "vigil-detect"

// NewDetector evaluates rs on every event of the log and hands alerts to
// sink. Rules whose results need the end of the input (missing-event
// sequences, samples, head/tail pipes) never complete on an endless log.
func NewDetector(rs *detect.RuleSet, sink AlertSink, logger *slog.Logger, m *Metrics) *Detector {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	d := &Detector{sink: sink, logger: logger, metrics: m}
	d.eng = rs.NewEngine(detect.Options{
		ReorderWindow: 0,
		Emit:          func(a *detect.Alert) { d.pending = append(d.pending, a) },
	})
	return d
}

// Position is the stream sequence of the last evaluated record.
func (d *Detector) Position() uint64 { return d.pos.Load() }

// Consumer returns the detector as a log consumer.
func (d *Detector) Consumer() Consumer {
	return Consumer{Name: DetectorName, Handler: d.handle, Options: eventlog.ConsumeOptions{Batch: 2000}}
}

func (d *Detector) handle(ctx context.Context, batch []eventlog.Record) error {
	for _, r := range batch {
		if err := d.eng.Offer(r.Data, eql.Source{Line: int(r.Seq)}); err != nil {
			d.logger.Warn("malformed record in the event log", "seq", r.Seq, "err", err)
			if d.metrics != nil {
				d.metrics.Malformed.Inc()
			}
		}
	}
	if d.metrics != nil {
		d.metrics.Detected.Add(float64(len(batch)))
	}
	if len(d.pending) > 0 {
		// The engine has moved on: retry the sink rather than fail the
		// batch (a redelivered batch would be evaluated twice).
		for wait := 100 * time.Millisecond; ; wait = min(2*wait, 10*time.Second) {
			err := d.sink.Alerts(ctx, d.pending)
			if err == nil {
				break
			}
			d.logger.Error("alert sink failed; retrying", "alerts", len(d.pending), "err", err)
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(wait):
			}
		}
		if d.metrics != nil {
			d.metrics.Alerts.Add(float64(len(d.pending)))
		}
		clear(d.pending)
		d.pending = d.pending[:0]
	}
	d.pos.Store(batch[len(batch)-1].Seq)
	return nil
}

// MultiSink hands alerts to each sink in turn.
type MultiSink []AlertSink

func (m MultiSink) Alerts(ctx context.Context, alerts []*detect.Alert) error {
	for _, s := range m {
		if err := s.Alerts(ctx, alerts); err != nil {
			return err
		}
	}
	return nil
}

// FileSink appends alerts as NDJSON to a file, synced after each batch.
type FileSink struct {
	mu sync.Mutex
	f  *os.File
	w  *bufio.Writer
}

// NewFileSink opens (appends to) path.
func NewFileSink(path string) (*FileSink, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, err
	}
	return &FileSink{f: f, w: bufio.NewWriterSize(f, 64<<10)}, nil
}

func (s *FileSink) Alerts(ctx context.Context, alerts []*detect.Alert) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range alerts {
		s.w.Write(a.JSON())
		s.w.WriteByte('\n')
	}
	if err := s.w.Flush(); err != nil {
		return err
	}
	return s.f.Sync()
}

// Close closes the file.
func (s *FileSink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.w.Flush()
	return s.f.Close()
}

// AlertStream is the JetStream stream of alert documents.
const (
	AlertStream        = "VIGIL_ALERTS"
	AlertSubjectPrefix = "vigil.alerts."
)

// JetStreamSink publishes each alert document to vigil.alerts.<rule_id>
// (the rule_id with characters a subject token cannot hold replaced by
// '_'), with its kibana.alert.uuid as Nats-Msg-Id.
type JetStreamSink struct {
	js jetstream.JetStream
}

// NewJetStreamSink creates or updates the alert stream.
func NewJetStreamSink(ctx context.Context, js jetstream.JetStream, maxAge time.Duration) (*JetStreamSink, error) {
	_, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        AlertStream,
		Description: "Vigil alerts (Kibana .alerts-security.alerts documents), subject per rule_id",
		Subjects:    []string{AlertSubjectPrefix + ">"},
		Storage:     jetstream.FileStorage,
		MaxAge:      maxAge,
		Duplicates:  10 * time.Minute,
	})
	if err != nil {
		return nil, fmt.Errorf("alert stream: %w", err)
	}
	return &JetStreamSink{js: js}, nil
}

func (s *JetStreamSink) Alerts(ctx context.Context, alerts []*detect.Alert) error {
	futs := make([]jetstream.PubAckFuture, 0, len(alerts))
	for _, a := range alerts {
		m := &nats.Msg{Subject: AlertSubjectPrefix + subjectToken(a.Rule.RuleID), Data: a.JSON(),
			Header: nats.Header{jetstream.MsgIDHeader: []string{a.UUID}}}
		f, err := s.js.PublishMsgAsync(m)
		if err != nil {
			return err
		}
		futs = append(futs, f)
	}
	for _, f := range futs {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			return err
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// subjectToken makes s usable as one subject token.
func subjectToken(s string) string {
	if s == "" {
		return "_"
	}
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			b[i] = '_'
		}
	}
	return string(b)
}

// SetMetrics makes the detector count into m (the server's metrics).
func (d *Detector) SetMetrics(m *Metrics) { d.metrics = m }

// SetPosition sets the position reported until the first batch (the
// consumer's acknowledged position at start-up).
func (d *Detector) SetPosition(seq uint64) { d.pos.Store(seq) }
