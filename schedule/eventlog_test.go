package schedule

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/vigilsec/vigil/store/alerts"
	"github.com/vigilsec/vigil/store/eventlog"
)

// TestEventLog: the scheduler as a consumer of the real event log
// (embedded JetStream), and manual runs reading it back.
func TestEventLog(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	lg, err := eventlog.Open(ctx, eventlog.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer lg.Close()
	store, err := alerts.OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	clk := &fakeClock{t: t0}
	// Events as the ingest server stores them: _index and _id first.
	var entries []eventlog.Entry
	for i := 0; i < 5; i++ {
		name := "good.exe"
		if i%2 == 0 {
			name = "evil.exe"
		}
		ts := time.Now().Add(-time.Duration(5-i) * time.Minute).UTC().Format(time.RFC3339Nano)
		data := fmt.Sprintf(`{"_index":"logs-endpoint.events.process-default","_id":"doc-%d","@timestamp":%q,"event":{"category":["process"],"type":["start"]},"host":{"name":"h"},"process":{"name":%q}}`, i, ts, name)
		entries = append(entries, eventlog.Entry{Data: []byte(data)})
	}
	for _, r := range lg.Append(ctx, entries, nil) {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
	}
	s, errs := New(nil, Options{Clock: clk, Store: store, Events: &LogSource{Log: lg}, Workers: testWorkers})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	r := eventRule(0)
	r.Index = []string{"logs-endpoint.events.process-*"}
	s.SetRules(nil)
	if errs := s.SetRules(append(s.Rules(), r)); len(errs) > 0 {
		t.Fatal(errs)
	}
	var batch []eventlog.Record
	if err := lg.ReadAll(ctx, func(rec eventlog.Record) error {
		batch = append(batch, eventlog.Record{Seq: rec.Seq, Data: append([]byte(nil), rec.Data...)})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.HandleLog(ctx, batch); err != nil {
		t.Fatal(err)
	}
	if s.Position() != batch[len(batch)-1].Seq || s.Position() == 0 {
		t.Fatalf("position %d", s.Position())
	}
	_, as, _ := store.Query(ctx, alerts.Filter{})
	if len(as) != 3 {
		t.Fatalf("%d alerts from the log, want 3", len(as))
	}
	for _, a := range as {
		if a.Host != "h" || a.Severity != "high" {
			t.Fatalf("%+v", a)
		}
	}
	// A manual run reads the log back: the same alerts, no duplicates.
	recs, err := s.Run(ctx, "r-event", time.Now().Add(-time.Hour), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	dups, scanned := 0, int64(0)
	for _, rec := range recs {
		dups += rec.Duplicates
		scanned += rec.EventsScanned
	}
	if dups != 3 || scanned != 5 {
		t.Fatalf("manual run over the log: %d duplicates, %d scanned", dups, scanned)
	}
}
