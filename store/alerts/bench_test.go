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

// BenchmarkSetFields: the scheduler's six fields on an alert-sized
// document, by the byte walk (SetFields) and by the token decoder (the
// baseline).
func BenchmarkSetFields(b *testing.B) {
	doc := []byte(`{"@timestamp":"2026-03-01T10:00:00.000Z","kibana.alert.uuid":"u"`)
	for i := range 120 {
		doc = fmt.Appendf(doc, `,"kibana.alert.field_%d":{"value":"some text %d","list":[1,2,3],"nested":{"a":"b\"c"}}`, i, i)
	}
	doc = append(doc, '}')
	fields := []Field{{"@timestamp", "2026-03-01T10:00:00.000Z"}, {"kibana.alert.start", "x"}, {"kibana.alert.last_detected", "x"},
		{"kibana.alert.intended_timestamp", "x"}, {"kibana.alert.rule.execution.uuid", "e"}, {"kibana.alert.rule.execution.type", "scheduled"}}
	for name, f := range map[string]func([]byte, []Field) ([]byte, error){"walk": SetFields, "tokens": setFieldsTokens} {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(doc)))
			for b.Loop() {
				if _, err := f(doc, fields); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
