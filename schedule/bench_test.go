package schedule

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/vigilsec/vigil/detect"
	"github.com/vigilsec/vigil/eql"
	"github.com/vigilsec/vigil/internal/benchgen"
	"github.com/vigilsec/vigil/rule"
	"github.com/vigilsec/vigil/store/alerts"
	"github.com/vigilsec/vigil/store/eventlog"
)

// benchEvents: process events that pass the rule's dispatch (same
// category and literal), one in `every` matching.
func benchEvents(n, every int) []Event {
	evs := make([]Event, n)
	for i := range evs {
		name := "evil.exe.bak" // holds the literal: parsed and evaluated, no match
		if every > 0 && i%every == 0 {
			name = "evil.exe"
		}
		evs[i] = procEv(fmt.Sprintf("b%d", i), t0.Add(time.Duration(i)*time.Millisecond), name, "h")
	}
	return evs
}

// BenchmarkFeed compares Scheduler.Feed with the bare engine (the
// baseline) on events that are all parsed and evaluated, none matching:
// the scheduling layer's own cost per event.
func BenchmarkFeed(b *testing.B) {
	evs := benchEvents(4096, 0)
	var bytes int64
	for _, e := range evs {
		bytes += int64(len(e.Line))
	}
	b.Run("engine", func(b *testing.B) {
		rs, _ := detect.Compile([]*rule.Rule{eventRule(0)})
		e := rs.NewEngine(detect.Options{Emit: func(*detect.Alert) {}})
		b.SetBytes(bytes / int64(len(evs)))
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			ev := evs[i%len(evs)]
			e.Offer(ev.Line, eql.Source{ID: ev.ID})
		}
	})
	b.Run("scheduler", func(b *testing.B) {
		st, err := alerts.OpenDir(b.TempDir())
		if err != nil {
			b.Fatal(err)
		}
		defer st.Close()
		s, _ := New([]*rule.Rule{eventRule(0)}, Options{Clock: &fakeClock{t: t0}, Store: st})
		b.SetBytes(bytes / int64(len(evs)))
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			s.Feed(evs[i%len(evs)])
		}
	})
}

// BenchmarkAlerts measures alerts created per second (each a SQLite
// insert after an existence check): Feed stores each alert in its own
// transaction, FeedBatch (the log consumer's path, 500 events a batch)
// stores a batch's alerts in one.
func BenchmarkAlerts(b *testing.B) {
	for _, batch := range []int{1, 500} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			st, err := alerts.OpenDir(b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			s, _ := New([]*rule.Rule{eventRule(1 << 30)}, Options{Clock: &fakeClock{t: t0}, Store: st, MaxSignalsCap: 1 << 30})
			proto := benchEvents(1, 1)[0]
			evs := make([]Event, batch)
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				for j := range evs {
					evs[j] = proto
					evs[j].ID = fmt.Sprintf("a%d", n)
					n++
				}
				s.FeedBatch(context.Background(), evs)
				s.Flush(context.Background())
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "alerts/s")
		})
	}
}

// consumerBench is the log consumer's input: every EQL rule of the
// prebuilt corpus (../shared; the benchmark skips without it) and
// generated endpoint events (internal/benchgen) as the ingest server
// stores them (_index and _id first), up to 1,000 to a log record.
var consumerBench struct {
	once    sync.Once
	rules   []*rule.Rule
	lines   [][]byte
	records []eventlog.Record
	err     error
}

func consumerSetup(b *testing.B) {
	b.Helper()
	shared := filepath.Join("..", "..", "shared", "rules", "detection-rules")
	if _, err := os.Stat(shared); err != nil {
		b.Skipf("prebuilt rules absent (%s): %v", shared, err)
	}
	c := &consumerBench
	c.once.Do(func() {
		res, err := rule.Load([]string{filepath.Join(shared, "rules"), filepath.Join(shared, "rules_building_block")}, rule.LoadOptions{})
		if err != nil {
			c.err = err
			return
		}
		c.rules = res.Rules
		var buf bytes.Buffer
		if _, err := benchgen.Generate(&buf, 16<<20, 1); err != nil {
			c.err = err
			return
		}
		var rec []byte
		for i, l := range bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n")) {
			line := fmt.Appendf(nil, `{"_index":"logs-endpoint.events.process-default","_id":"g%d",%s`, i, l[1:])
			c.lines = append(c.lines, line)
			rec = append(append(rec, line...), '\n')
			if (i+1)%1000 == 0 {
				c.records = append(c.records, eventlog.Record{Seq: uint64(len(c.records) + 1), Data: rec})
				rec = nil
			}
		}
	})
	if c.err != nil {
		b.Fatal(c.err)
	}
}

// BenchmarkConsumer compares the log consumer (HandleLog: split, feed,
// store, save state) with the bare engine over the same events (the
// baseline, same run): events/s of each. One op is one record of 1,000
// events.
//
//	go test ./schedule -run '^$' -bench Consumer -benchtime 100x
func BenchmarkConsumer(b *testing.B) {
	consumerSetup(b)
	c := &consumerBench
	b.Run("engine", func(b *testing.B) {
		rs, _ := detect.Compile(c.rules)
		e := rs.NewEngine(detect.Options{Emit: func(*detect.Alert) {}})
		n := 0
		for i := 0; b.Loop(); i++ {
			for range 1000 {
				e.Offer(c.lines[n%len(c.lines)], eql.Source{Line: n})
				n++
			}
		}
		b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
	})
	for _, workers := range []int{1, runtime.GOMAXPROCS(0)} {
		b.Run(fmt.Sprintf("handlelog-workers=%d", workers), func(b *testing.B) {
			st, err := alerts.OpenDir(b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			s, _ := New(c.rules, Options{Store: st, Workers: workers})
			defer s.Close(context.Background())
			n := 0
			for i := 0; b.Loop(); i++ {
				r := c.records[i%len(c.records)]
				// Fresh ids each round: alerts are new, as under real load
				// (until max_signals defers them).
				r.Data = bytes.ReplaceAll(r.Data, []byte(`"_id":"g`), fmt.Appendf(nil, `"_id":"%d-g`, i/len(c.records)))
				r.Seq = uint64(i + 1)
				if err := s.HandleLog(context.Background(), []eventlog.Record{r}); err != nil {
					b.Fatal(err)
				}
				n += 1000
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64(s.Stats().Engine.Alerts)*1000/float64(n), "alerts/1k-events")
		})
	}
}
