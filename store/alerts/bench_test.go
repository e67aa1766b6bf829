package alerts

import (
	"context"
	"fmt"
	"testing"
)

// BenchmarkSaveStates: the waiting groups of an alert storm, 100 new rows
// per save (one consumer batch), by row size: the cost of a deferred
// alert group.
func BenchmarkSaveStates(b *testing.B) {
	for _, size := range []int{1 << 10, 2 << 10, 4 << 10, 8 << 10} {
		b.Run(fmt.Sprintf("row=%d", size), func(b *testing.B) {
			s, err := OpenDir(b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			data := make([]byte, size)
			for i := range data {
				data[i] = 'a' + byte(i%26)
			}
			n := 0
			for b.Loop() {
				sv := RuleSave{RuleID: "r", State: []byte(`{"groups":1}`)}
				for range 100 {
					sv.Upsert = append(sv.Upsert, DeferredRow{UUID: fmt.Sprintf("%064x", n*7919), RangeMs: int64(n), Data: data})
					n++
				}
				if err := s.SaveStates(context.Background(), []RuleSave{sv}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(n), "µs/row")
		})
	}
}
