package schedule

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/vigilsec/vigil/store/eventlog"
)

// DetectorName is the durable consumer name the scheduler reads the event
// log with.
const DetectorName = "vigil-schedule"

// HandleChunk is the most events HandleLog evaluates before it stores
// their alerts.
const HandleChunk = 8192

// HandleLog is an eventlog.Handler: it feeds a batch of log records (each
// an event with its _index and _id, as the ingest server stores them) and
// saves the rules' state before the batch is acknowledged. Malformed
// records are counted (Stats) and skipped, never retried; a state that
// cannot be saved fails the batch, which the log then redelivers.
func (s *Scheduler) HandleLog(ctx context.Context, batch []eventlog.Record) error {
	if len(batch) == 0 {
		return nil
	}
	// A record may hold several events, one per line (the server batches
	// documents without a client id). A consumer that fell behind gets
	// large batches (up to millions of events): their alerts are stored
	// chunk by chunk, so an alert waits for its chunk, not for the batch
	// (a redelivered batch finds them stored: duplicates, not created
	// twice).
	evs := make([]Event, 0, min(len(batch), HandleChunk))
	var whole uint64 // the last record whose events were all fed
	for _, r := range batch {
		eventlog.EachEvent(r.Data, func(_ int, line []byte) error {
			evs = append(evs, Event{Line: line})
			if len(evs) >= HandleChunk {
				s.FeedBatch(ctx, evs) // malformed events: counted (Stats)
				evs = evs[:0]
				if whole > 0 {
					// Progress within the batch, for the server's wait
					// measure (back-pressure); acknowledging stays per batch.
					s.pos.Store(whole)
				}
			}
			return nil
		})
		whole = r.Seq
	}
	if len(evs) > 0 {
		s.FeedBatch(ctx, evs)
	}
	if err := s.Flush(ctx); err != nil {
		return err
	}
	s.pos.Store(batch[len(batch)-1].Seq)
	return nil
}

// Position is the stream sequence of the last record HandleLog evaluated
// (for the server's consumer lag and back-pressure); SetPosition seeds it
// at start from the durable consumer's acknowledged position.
func (s *Scheduler) Position() uint64 { return s.pos.Load() }

// SetPosition sets Position.
func (s *Scheduler) SetPosition(seq uint64) { s.pos.Store(seq) }

// LogSource reads the event log back (EventSource) from a JetStream
// ordered consumer, starting at the records stored since the window's
// start minus Skew: an event is stored after it happens, so its record
// cannot be older than its time, unless its clock runs ahead.
type LogSource struct {
	Log    *eventlog.Log
	Stream string        // default eventlog.DefaultStream
	Skew   time.Duration // default 1h
}

// Scan implements EventSource. It stops at the log's end as of the call.
func (l *LogSource) Scan(ctx context.Context, from, to time.Time, fn func(Event) error) error {
	name := l.Stream
	if name == "" {
		name = eventlog.DefaultStream
	}
	skew := l.Skew
	if skew <= 0 {
		skew = time.Hour
	}
	st, err := l.Log.JetStream().Stream(ctx, name)
	if err != nil {
		return fmt.Errorf("event log: %w", err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		return fmt.Errorf("event log: %w", err)
	}
	end := info.State.LastSeq
	if info.State.Msgs == 0 {
		return nil
	}
	start := from.Add(-skew)
	oc, err := st.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverByStartTimePolicy, OptStartTime: &start})
	if err != nil {
		return fmt.Errorf("event log: %w", err)
	}
	for {
		mb, err := oc.Fetch(1000, jetstream.FetchMaxWait(time.Second))
		if err != nil {
			return fmt.Errorf("event log: %w", err)
		}
		n := 0
		for m := range mb.Messages() {
			n++
			md, err := m.Metadata()
			if err != nil {
				return fmt.Errorf("event log: %w", err)
			}
			if err := eventlog.EachEvent(m.Data(), func(_ int, line []byte) error { return fn(Event{Line: line}) }); err != nil {
				return err
			}
			if md.Sequence.Stream >= end {
				return nil
			}
		}
		if err := mb.Error(); err != nil && !errors.Is(err, nats.ErrTimeout) {
			return fmt.Errorf("event log: %w", err)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if n == 0 {
			// Nothing stored since start (all older): done.
			return nil
		}
	}
}
