// Package eventlog is Vigil's durable event log: a NATS JetStream stream in
// file storage. By default the NATS server runs inside the process (the
// nats-server library, no network listener, data under the data
// directory); with a URL the same code talks to an external NATS server or
// cluster, so one machine grows into a cluster without another code path.
//
// Appends return only once JetStream has stored every entry (its PubAck),
// which is what lets the ingest endpoint answer a bulk request only after
// its events are safe. An entry's MsgID becomes the Nats-Msg-Id header:
// JetStream drops a second entry with the same id inside the stream's
// duplicate window, so a client retrying a request stores nothing twice.
// Consumers are durable: a restarted process resumes after the last
// entry its consumer acknowledged.
package eventlog

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Defaults for Config.
const (
	DefaultStream    = "VIGIL_EVENTS"
	DefaultSubject   = "vigil.events"
	DefaultDuplicate = 2 * time.Minute
	DefaultMaxAge    = 7 * 24 * time.Hour
)

// Config says where the log lives and how long it keeps entries.
type Config struct {
	// Dir is the data directory; the embedded server keeps its JetStream
	// files in Dir/jetstream. Unused with URL.
	Dir string
	// URL of an external NATS server (nats://host:4222, comma-separated for
	// a cluster); empty: the embedded server.
	URL string
	// Stream and Subject name the event stream (defaults above).
	Stream, Subject string
	// Replicas of the stream on an external cluster (default 1).
	Replicas int
	// Duplicates is the window in which a repeated MsgID is dropped
	// (default 2 minutes). JetStream keeps every id of the window in
	// memory, so it bounds the memory the dedup table takes.
	Duplicates time.Duration
	// MaxAge and MaxBytes bound what the stream keeps; the oldest entries
	// go first (defaults: 7 days, unlimited bytes).
	MaxAge   time.Duration
	MaxBytes int64
	// SyncAlways makes the embedded server fsync every write before it
	// acknowledges (survives power loss, not only a crash of the process).
	// Without it a write is in the operating system's cache when it is
	// acknowledged: safe against the process being killed.
	SyncAlways bool
	// MaxPending bounds the appends in flight to the server (default 65536).
	MaxPending int
	// Logger receives the embedded server's notices and errors (nil: none).
	Logger *slog.Logger
}

// Log is an open event log.
type Log struct {
	cfg    Config
	ns     *server.Server // nil with an external server
	nc     *nats.Conn
	js     jetstream.JetStream
	stream jetstream.Stream
	// lastSeq is the highest stream sequence this process has seen stored
	// (the log's end, for consumer lag without asking the server).
	lastSeq atomic.Uint64
}

// Open starts the embedded server (or connects to cfg.URL) and creates or
// updates the event stream.
func Open(ctx context.Context, cfg Config) (*Log, error) {
	if cfg.Stream == "" {
		cfg.Stream = DefaultStream
	}
	if cfg.Subject == "" {
		cfg.Subject = DefaultSubject
	}
	if cfg.Duplicates <= 0 {
		cfg.Duplicates = DefaultDuplicate
	}
	if cfg.MaxAge <= 0 {
		cfg.MaxAge = DefaultMaxAge
	}
	if cfg.MaxPending <= 0 {
		cfg.MaxPending = 65536
	}
	if cfg.Replicas <= 0 {
		cfg.Replicas = 1
	}
	l := &Log{cfg: cfg}
	var err error
	if cfg.URL == "" {
		if cfg.Dir == "" {
			return nil, errors.New("eventlog: no data directory and no NATS URL")
		}
		if l.ns, err = startEmbedded(cfg); err != nil {
			return nil, err
		}
	}
	l.nc, err = l.connect("vigil")
	if err != nil {
		l.Close()
		return nil, fmt.Errorf("eventlog: connecting to NATS: %w", err)
	}
	if l.js, err = jetstream.New(l.nc, jetstream.WithPublishAsyncMaxPending(cfg.MaxPending)); err != nil {
		l.Close()
		return nil, fmt.Errorf("eventlog: JetStream: %w", err)
	}
	l.stream, err = l.js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:        cfg.Stream,
		Description: "Vigil event log: ingested events, one message per event",
		Subjects:    []string{cfg.Subject},
		Storage:     jetstream.FileStorage,
		Retention:   jetstream.LimitsPolicy,
		Discard:     jetstream.DiscardOld,
		MaxAge:      cfg.MaxAge,
		MaxBytes:    orUnlimited(cfg.MaxBytes),
		Duplicates:  cfg.Duplicates,
		Replicas:    cfg.Replicas,
	})
	if err != nil {
		l.Close()
		return nil, fmt.Errorf("eventlog: stream %s: %w", cfg.Stream, err)
	}
	info, err := l.stream.Info(ctx)
	if err != nil {
		l.Close()
		return nil, fmt.Errorf("eventlog: stream %s: %w", cfg.Stream, err)
	}
	l.lastSeq.Store(info.State.LastSeq)
	return l, nil
}

// connect opens a connection to the log's server.
func (l *Log) connect(name string) (*nats.Conn, error) {
	if l.ns != nil {
		return nats.Connect("", nats.InProcessServer(l.ns), nats.Name(name), nats.MaxReconnects(-1))
	}
	return nats.Connect(l.cfg.URL, nats.Name(name), nats.MaxReconnects(-1), nats.RetryOnFailedConnect(false))
}

func orUnlimited(n int64) int64 {
	if n <= 0 {
		return -1
	}
	return n
}

func startEmbedded(cfg Config) (*server.Server, error) {
	dir := filepath.Join(cfg.Dir, "jetstream")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("eventlog: %w", err)
	}
	opts := &server.Options{
		ServerName: "vigil",
		JetStream:  true,
		StoreDir:   dir,
		// In-process connections only: nothing listens on the network.
		DontListen: true,
		NoSigs:     true,
		SyncAlways: cfg.SyncAlways,
		// Large bulk requests are split into many messages, but one event
		// may be large: allow up to 8 MiB per message.
		MaxPayload: 8 << 20,
		// The connections are in-process pipes to this process's own
		// goroutines: one that is slow for a moment (CPU starved by the
		// detectors, or fetching large batches) must not be cut off as a
		// slow consumer, which fails the appends in flight on it.
		WriteDeadline: time.Minute,
		MaxPending:    1 << 30,
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("eventlog: embedded NATS server: %w", err)
	}
	if cfg.Logger != nil {
		ns.SetLoggerV2(&natsLogger{l: cfg.Logger}, false, false, false)
	}
	go ns.Start()
	if !ns.ReadyForConnections(30 * time.Second) {
		ns.Shutdown()
		return nil, errors.New("eventlog: embedded NATS server did not start in 30s")
	}
	return ns, nil
}

// Close drains the connection and stops the embedded server.
func (l *Log) Close() error {
	if l.nc != nil {
		l.nc.Close()
	}
	if l.ns != nil {
		l.ns.Shutdown()
		l.ns.WaitForShutdown()
	}
	return nil
}

// Conn is the NATS connection (for other streams on the same server, such
// as alerts).
func (l *Log) Conn() *nats.Conn { return l.nc }

// JetStream is the JetStream context of the connection.
func (l *Log) JetStream() jetstream.JetStream { return l.js }

// Subject is the subject events are appended to.
func (l *Log) Subject() string { return l.cfg.Subject }

// LastSeq is the highest stream sequence seen stored, by this process's
// appends or the stream state at Open.
func (l *Log) LastSeq() uint64 { return l.lastSeq.Load() }

func (l *Log) noteSeq(s uint64) {
	for {
		cur := l.lastSeq.Load()
		if s <= cur || l.lastSeq.CompareAndSwap(cur, s) {
			return
		}
	}
}

// Entry is one message to append: one event, or several separated by
// '\n' (consumers see each as a Record).
type Entry struct {
	// MsgID, when set, deduplicates: a second entry with the same id inside
	// the duplicate window is not stored again (Result.Duplicate).
	MsgID string
	Data  []byte
}

// Result is the outcome of one appended entry.
type Result struct {
	Seq       uint64 // stream sequence (of the first copy, for a duplicate)
	Duplicate bool
	Err       error
}

// Append stores entries and returns one result per entry, in order, once
// every entry is stored or has failed. ctx bounds the wait.
func (l *Log) Append(ctx context.Context, entries []Entry, results []Result) []Result {
	results = results[:0]
	futs := make([]jetstream.PubAckFuture, len(entries))
	for i := range entries {
		m := &nats.Msg{Subject: l.cfg.Subject, Data: entries[i].Data}
		if entries[i].MsgID != "" {
			m.Header = nats.Header{jetstream.MsgIDHeader: []string{entries[i].MsgID}}
		}
		f, err := l.js.PublishMsgAsync(m)
		results = append(results, Result{Err: err})
		futs[i] = f
	}
	for i, f := range futs {
		if f == nil {
			continue
		}
		select {
		case ack := <-f.Ok():
			results[i].Seq, results[i].Duplicate = ack.Sequence, ack.Duplicate
			l.noteSeq(ack.Sequence)
		case err := <-f.Err():
			results[i].Err = err
		case <-ctx.Done():
			results[i].Err = ctx.Err()
		}
	}
	return results
}

// Record is one stored event as a consumer sees it.
type Record struct {
	Seq uint64 // stream sequence of the message holding the event
	// Part is the event's place in its message: an entry may hold several
	// events, one per line (EachEvent), and each is a Record of its own.
	Part int
	Data []byte
	// MsgID is the entry's dedup id ("" when it had none).
	MsgID string
}

// EachEvent calls fn for each event of a stored message: its lines (an
// entry holds one event, or several separated by '\n', which a JSON
// document never contains unescaped). Readers of the stream that do not
// go through Consume or ReadAll must split messages with it.
func EachEvent(data []byte, fn func(part int, event []byte) error) error {
	for part := 0; len(data) > 0; part++ {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		if len(line) == 0 {
			continue
		}
		if err := fn(part, line); err != nil {
			return err
		}
	}
	return nil
}

// MaxPayload is the largest message the NATS server accepts: the bound on
// one entry.
func (l *Log) MaxPayload() int64 { return l.nc.MaxPayload() }

// Handler processes a batch of records in log order. The batch is
// acknowledged (the consumer's position moves past it) only when it
// returns nil; on an error the batch is delivered again after a pause.
type Handler func(ctx context.Context, batch []Record) error

// ConsumeOptions tune Consume.
type ConsumeOptions struct {
	// Batch is the most records per Handler call (default 1000).
	Batch int
	// MaxWait is how long a fetch waits for a full batch (default 200ms).
	MaxWait time.Duration
	// OnError is told of fetch and handler errors (default: ignored).
	OnError func(error)
}

// Consume runs a durable consumer named durable over the log until ctx is
// done, handing batches to h. A restarted process resumes after the last
// acknowledged batch: a batch that was handled but not yet acknowledged
// when the process died is delivered again, so handlers must tolerate
// seeing a record twice (alerts carry deterministic ids for this).
func (l *Log) Consume(ctx context.Context, durable string, opts ConsumeOptions, h Handler) error {
	if opts.Batch <= 0 {
		opts.Batch = 1000
	}
	if opts.MaxWait <= 0 {
		opts.MaxWait = 200 * time.Millisecond
	}
	// A connection of its own: a consumer that reads slowly (evaluating a
	// large batch) can be cut off by the server as a slow consumer, and on
	// the shared connection that failed the appends in flight: requests
	// answered with errors under load. Deliveries lost with it are
	// re-read (the gap check below).
	nc, err := l.connect("vigil-consumer-" + durable)
	if err != nil {
		return fmt.Errorf("eventlog: consumer %s: %w", durable, err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("eventlog: consumer %s: %w", durable, err)
	}
	stream, err := js.Stream(ctx, l.cfg.Stream)
	if err != nil {
		return fmt.Errorf("eventlog: consumer %s: %w", durable, err)
	}
	cons, err := l.durableOn(ctx, stream, durable)
	if err != nil {
		return fmt.Errorf("eventlog: consumer %s: %w", durable, err)
	}
	report := func(err error) {
		if opts.OnError != nil {
			opts.OnError(err)
		}
	}
	var batch []Record
	var msgs []jetstream.Msg
	// Deliveries are numbered by the consumer (its sequence, 1 up from
	// its creation). One the client never received (a fetch that gave up
	// waiting while the server still sent; the server counts it
	// delivered) shows as a gap: with AckAll, acknowledging a later
	// message would acknowledge it unseen and it would never be
	// evaluated. So a batch ends at a gap, and the consumer is then
	// re-created at its acknowledged position (durable), which delivers
	// everything after it again.
	var next uint64 // the next delivery's consumer sequence; 0: unknown
	gap := false
	// take reads one fetch's messages into batch, up to a gap.
	take := func(mb jetstream.MessageBatch) {
		for m := range mb.Messages() {
			if gap {
				continue // delivered again after the re-creation
			}
			md, err := m.Metadata()
			if err != nil {
				report(fmt.Errorf("eventlog: message metadata: %w", err))
				continue
			}
			if next != 0 && md.Sequence.Consumer != next {
				gap = true
				report(fmt.Errorf("eventlog: consumer %s: delivery %d expected, %d came (stream sequence %d): resuming from the acknowledged position",
					durable, next, md.Sequence.Consumer, md.Sequence.Stream))
				continue
			}
			next = md.Sequence.Consumer + 1
			id := m.Headers().Get(jetstream.MsgIDHeader)
			EachEvent(m.Data(), func(part int, ev []byte) error {
				batch = append(batch, Record{Seq: md.Sequence.Stream, Part: part, Data: ev, MsgID: id})
				return nil
			})
			msgs = append(msgs, m)
		}
		if err := mb.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) && ctx.Err() == nil {
			report(fmt.Errorf("eventlog: fetch: %w", err))
		}
	}
	for ctx.Err() == nil {
		if gap {
			// The batch before the gap was handled and acknowledged.
			c, err := l.durableOn(ctx, stream, durable)
			if err != nil {
				if ctx.Err() != nil {
					break
				}
				report(fmt.Errorf("eventlog: consumer %s: %w", durable, err))
				sleep(ctx, time.Second)
				continue
			}
			cons, next, gap = c, 0, false
		}
		batch, msgs = batch[:0], msgs[:0]
		// What is stored now, at once; when nothing is, wait for the
		// first message, then take what came with it. (A fetch of a full
		// batch would wait up to MaxWait for it to fill: the latency of
		// every alert at a low rate.)
		mb, err := cons.FetchNoWait(opts.Batch)
		if err == nil {
			take(mb)
			if len(msgs) == 0 {
				if mb, err = cons.Fetch(1, jetstream.FetchMaxWait(opts.MaxWait)); err == nil {
					take(mb)
					if len(msgs) > 0 && opts.Batch > 1 && !gap {
						if mb, err = cons.FetchNoWait(opts.Batch - 1); err == nil {
							take(mb)
						}
					}
				}
			}
		}
		if err != nil && len(msgs) == 0 {
			if ctx.Err() != nil {
				break
			}
			report(fmt.Errorf("eventlog: fetch: %w", err))
			sleep(ctx, time.Second)
			continue
		}
		if len(msgs) == 0 {
			continue
		}
		if len(batch) == 0 {
			// Only empty messages: nothing to evaluate, but acknowledged.
			msgs[len(msgs)-1].DoubleAck(ctx)
			continue
		}
		if err := h(ctx, batch); err != nil {
			if ctx.Err() != nil {
				break
			}
			report(fmt.Errorf("eventlog: consumer %s: %w", durable, err))
			// Not acknowledged: asking for redelivery now would spin on a
			// persistent failure; the ack wait brings the batch back.
			for _, m := range msgs {
				m.Nak()
			}
			sleep(ctx, time.Second)
			continue
		}
		// AckAll: the last message acknowledges the whole batch.
		if err := msgs[len(msgs)-1].DoubleAck(ctx); err != nil && ctx.Err() == nil {
			report(fmt.Errorf("eventlog: ack: %w", err))
		}
	}
	return nil
}

// durableOn opens the named consumer so that it delivers from just after its
// acknowledged position. Records delivered but not acknowledged when the
// last process stopped would otherwise come back only after the ack wait,
// behind newer ones: such a consumer is recreated at its ack floor.
func (l *Log) durableOn(ctx context.Context, stream jetstream.Stream, name string) (jetstream.Consumer, error) {
	cfg := jetstream.ConsumerConfig{
		Durable:       name,
		Description:   "Vigil consumer " + name,
		AckPolicy:     jetstream.AckAllPolicy,
		DeliverPolicy: jetstream.DeliverAllPolicy,
		// A batch is redelivered when not acknowledged in time (a handler
		// that hangs).
		AckWait:       2 * time.Minute,
		MaxAckPending: -1,
	}
	c, err := stream.Consumer(ctx, name)
	if errors.Is(err, jetstream.ErrConsumerNotFound) {
		return stream.CreateConsumer(ctx, cfg)
	}
	if err != nil {
		return nil, err
	}
	info, err := c.Info(ctx)
	if err != nil {
		return nil, err
	}
	if info.NumAckPending == 0 && info.Delivered.Stream <= info.AckFloor.Stream {
		return c, nil
	}
	if err := stream.DeleteConsumer(ctx, name); err != nil {
		return nil, err
	}
	cfg.DeliverPolicy = jetstream.DeliverByStartSequencePolicy
	cfg.OptStartSeq = info.AckFloor.Stream + 1
	return stream.CreateConsumer(ctx, cfg)
}

// ReadAll calls fn for every record in the log, in order, from an
// ephemeral consumer (for tests and tools; it does not move any durable
// consumer). It stops at the log's end as of the call.
func (l *Log) ReadAll(ctx context.Context, fn func(Record) error) error {
	info, err := l.stream.Info(ctx)
	if err != nil {
		return err
	}
	end := info.State.LastSeq
	if info.State.Msgs == 0 {
		return nil
	}
	oc, err := l.stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverAllPolicy})
	if err != nil {
		return err
	}
	for {
		mb, err := oc.Fetch(1000, jetstream.FetchMaxWait(time.Second))
		if err != nil {
			return err
		}
		for m := range mb.Messages() {
			md, err := m.Metadata()
			if err != nil {
				return err
			}
			id := m.Headers().Get(jetstream.MsgIDHeader)
			if err := EachEvent(m.Data(), func(part int, ev []byte) error {
				return fn(Record{Seq: md.Sequence.Stream, Part: part, Data: ev, MsgID: id})
			}); err != nil {
				return err
			}
			if md.Sequence.Stream >= end {
				return nil
			}
		}
		if err := mb.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
}

// ConsumerPosition is the stream sequence up to which the durable
// consumer has acknowledged (0: none, or no such consumer).
func (l *Log) ConsumerPosition(ctx context.Context, durable string) (uint64, error) {
	c, err := l.stream.Consumer(ctx, durable)
	if errors.Is(err, jetstream.ErrConsumerNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	info, err := c.Info(ctx)
	if err != nil {
		return 0, err
	}
	return info.AckFloor.Stream, nil
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// natsLogger sends the embedded server's log to slog (debug and trace are
// dropped: they are per-connection chatter).
type natsLogger struct{ l *slog.Logger }

func (n *natsLogger) Noticef(format string, v ...any) {
	n.l.Info(fmt.Sprintf(format, v...), "component", "nats")
}
func (n *natsLogger) Warnf(format string, v ...any) {
	n.l.Warn(fmt.Sprintf(format, v...), "component", "nats")
}
func (n *natsLogger) Fatalf(format string, v ...any) {
	n.l.Error(fmt.Sprintf(format, v...), "component", "nats")
}
func (n *natsLogger) Errorf(format string, v ...any) {
	n.l.Error(fmt.Sprintf(format, v...), "component", "nats")
}
func (n *natsLogger) Debugf(format string, v ...any) {}
func (n *natsLogger) Tracef(format string, v ...any) {}
