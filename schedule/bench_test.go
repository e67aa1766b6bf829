package schedule

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/vigilsec/vigil/detect"
	"github.com/vigilsec/vigil/eql"
	"github.com/vigilsec/vigil/rule"
	"github.com/vigilsec/vigil/store/alerts"
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
