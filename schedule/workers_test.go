package schedule

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/vigilsec/vigil/rule"
	"github.com/vigilsec/vigil/store/alerts"
	"github.com/vigilsec/vigil/store/eventlog"
)

// The events and rules here are constructed for these tests.

// workersRules: event rules with small max_signals (deferrals, backlog),
// suppression, sequences (held for reordering, released by later events
// and by the clock), a batch rule, spread over more rules than workers.
func workersRules() []*rule.Rule {
	var rs []*rule.Rule
	for i := range 5 {
		r := eventRule(2 + i)
		r.RuleID, r.Name = fmt.Sprintf("r-event-%d", i), fmt.Sprintf("Evil process %d", i)
		if i%2 == 1 {
			r.Query = `process where process.name : ("evil.exe", "whoami.exe")`
		}
		rs = append(rs, r)
	}
	supp := eventRule(0)
	supp.RuleID = "r-supp"
	supp.AlertSuppression = json.RawMessage(`{"group_by":["host.name"]}`)
	rs = append(rs, supp)
	for i := range 3 {
		r := seqRule()
		r.RuleID, r.Name = fmt.Sprintf("r-seq-%d", i), fmt.Sprintf("Recon then C2 %d", i)
		r.MaxSignals = 3 + i
		rs = append(rs, r)
	}
	head := eventRule(0)
	head.RuleID, head.Query = "r-head", `process where process.name == "evil.exe" | head 2`
	rs = append(rs, head)
	return rs
}

// workersRun feeds the same stream through a scheduler with workers,
// the way the log consumer does (HandleLog: records of several events,
// Flush), ticking the clock between batches and restarting once without
// Close (the last batch redelivered). It returns everything the run
// left: stored alerts, notifications, execution records, saved state.
func workersRun(t *testing.T, workers int) []string {
	t.Helper()
	dir := t.TempDir()
	st, err := alerts.OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	clock := &fakeClock{t: t0}
	var out []string
	mem := &memLog{}
	start := func() *Scheduler {
		s, errs := New(workersRules(), Options{Clock: clock, Store: st, Events: mem, Workers: workers,
			Notify: func(n Notification) {
				for _, a := range n.Alerts {
					out = append(out, "notify "+n.Rule.RuleID+" "+a.UUID)
				}
			}})
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		return s
	}
	s := start()
	rnd := rand.New(rand.NewPCG(7, 7))
	names := []string{"evil.exe", "whoami.exe", "good.exe", "svchost.exe"}
	hosts := []string{"a", "b", "c", "d", "e"}
	s.Tick(context.Background())
	seq := uint64(0)
	var last []eventlog.Record
	for batch := range 60 {
		var recs []eventlog.Record
		for range 1 + rnd.IntN(4) {
			var data []byte
			for range 1 + rnd.IntN(40) {
				n := len(mem.evs)
				// Event time near the clock, some late, some ahead.
				ts := clock.Now().Add(time.Duration(rnd.IntN(240)-200) * time.Second)
				var ev Event
				if rnd.IntN(3) == 0 {
					ev = netEv(fmt.Sprintf("n%d", n), ts, hosts[rnd.IntN(len(hosts))])
				} else {
					ev = procEv(fmt.Sprintf("p%d", n), ts, names[rnd.IntN(len(names))], hosts[rnd.IntN(len(hosts))])
				}
				if n%97 == 5 {
					ev.Line = []byte(`{"event":{"category":"process"},"process":{"name":"evil.exe"`) // malformed
				}
				// The log's form: _id first (HandleLog gives no id).
				line := []byte(fmt.Sprintf(`{"_index":"logs-endpoint.events.process-default","_id":%q,`, ev.ID))
				line = append(line, ev.Line[1:]...)
				mem.add(Event{Line: line})
				data = append(append(data, line...), '\n')
			}
			seq++
			recs = append(recs, eventlog.Record{Seq: seq, Data: data})
		}
		if err := s.HandleLog(context.Background(), recs); err != nil {
			t.Fatal(err)
		}
		last = recs
		clock.Add(time.Duration(10+rnd.IntN(50)) * time.Second)
		for _, r := range s.Tick(context.Background()) {
			r.DurationMs = 0
			b, _ := json.Marshal(r)
			out = append(out, "record "+string(b))
		}
		if batch == 30 {
			// Crash after the batch was handled, before its ack.
			s = start()
			if err := s.HandleLog(context.Background(), last); err != nil {
				t.Fatal(err)
			}
		}
	}
	stats := s.Stats()
	out = append(out, fmt.Sprintf("stats fed %d malformed %d alerts %d", stats.Fed, stats.Malformed, stats.Engine.Alerts))
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, as, err := st.Query(context.Background(), alerts.Filter{BuildingBlocks: true, Size: alerts.MaxPageSize})
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(as, func(i, j int) bool { return as[i].UUID < as[j].UUID })
	for _, a := range as {
		out = append(out, fmt.Sprintf("alert %s %s %s %s", a.UUID, a.RuleID, a.Kind, a.Doc))
	}
	for _, r := range workersRules() {
		b, err := st.LoadState(context.Background(), r.RuleID)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, "state "+r.RuleID+" "+string(b))
		rows, err := st.LoadDeferred(context.Background(), r.RuleID)
		if err != nil {
			t.Fatal(err)
		}
		for _, row := range rows {
			out = append(out, fmt.Sprintf("deferred %s %s %d %s", r.RuleID, row.UUID, row.RangeMs, row.Data))
		}
	}
	return out
}

// TestWorkersEquivalence: the same log through one engine and through
// detect.Parallel with 2 and 3 workers leaves the same alerts (ids and
// documents), notifications in the same order, the same execution
// records and the same saved state.
func TestWorkersEquivalence(t *testing.T) {
	want := workersRun(t, 1)
	kinds := map[string]int{}
	for _, l := range want {
		k := l[:strings.IndexByte(l, ' ')]
		if k == "alert" {
			k += " " + strings.Fields(l)[3]
		}
		kinds[k]++
	}
	// The scenario must exercise what it claims to compare.
	for _, k := range []string{"alert event", "alert sequence", "notify", "record", "deferred"} {
		if kinds[k] == 0 {
			t.Fatalf("no %q in the one-engine run: %v", k, kinds)
		}
	}
	if !strings.Contains(strings.Join(want, "\n"), `"status":"warning"`) {
		t.Fatal("no execution reached max_signals")
	}
	t.Logf("one engine: %v", kinds)
	for _, workers := range []int{2, 3} {
		got := workersRun(t, workers)
		if len(got) != len(want) {
			t.Errorf("workers=%d: %d lines, one engine %d", workers, len(got), len(want))
		}
		for i := range min(len(got), len(want)) {
			if got[i] != want[i] {
				t.Fatalf("workers=%d: line %d differs:\n got %.400s\nwant %.400s", workers, i, got[i], want[i])
			}
		}
	}
}

// TestSchedulerWithWorkers runs the scheduler's scenario tests again with
// three workers.
func TestSchedulerWithWorkers(t *testing.T) {
	testWorkers = 3
	defer func() { testWorkers = 0 }()
	for name, f := range map[string]func(*testing.T){
		"NormalRuns": TestNormalRuns, "LateRunCatchUp": TestLateRunCatchUp, "GapRecorded": TestGapRecorded,
		"MaxSignals": TestMaxSignals, "OverlappingLookBack": TestOverlappingLookBack, "RestartMidRun": TestRestartMidRun,
		"SequenceAcrossWindows": TestSequenceAcrossWindows, "SequenceQuietStream": TestSequenceQuietStream,
		"Kibana285154": TestKibana285154, "ManualRun": TestManualRun, "SuppressionInSchedule": TestSuppressionInSchedule,
		"BatchRule": TestBatchRule, "BacklogBound": TestBacklogBound, "CloseEndsSuppression": TestCloseEndsSuppression,
		"DisableEnable": TestDisableEnable, "SuppressionInBatch": TestSuppressionInBatch, "EventLog": TestEventLog,
	} {
		t.Run(name, f)
	}
}

// TestHandleLogChunks: a batch larger than HandleChunk is stored chunk by
// chunk, with the same result as one FeedBatch of all its events.
func TestHandleLogChunks(t *testing.T) {
	n := HandleChunk*2 + 100
	var data []byte
	var evs []Event
	for i := range n {
		name := "good.exe"
		if i%500 == 0 {
			name = "evil.exe"
		}
		ev := procEv(fmt.Sprintf("c%d", i), t0.Add(time.Duration(i)*time.Millisecond), name, "h")
		line := append([]byte(fmt.Sprintf(`{"_id":%q,`, ev.ID)), ev.Line[1:]...)
		data = append(append(data, line...), '\n')
		evs = append(evs, Event{Line: line})
	}
	run := func(feed func(*Scheduler)) ([]string, Record) {
		st, err := alerts.OpenDir(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		clock := &fakeClock{t: t0}
		s, errs := New([]*rule.Rule{eventRule(5)}, Options{Clock: clock, Store: st, Workers: 2})
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		s.Tick(context.Background())
		feed(s)
		clock.Add(5 * time.Minute)
		rec := one(t, s.Tick(context.Background()))
		rec.DurationMs = 0
		_, as, err := st.Query(context.Background(), alerts.Filter{Size: alerts.MaxPageSize})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, a := range as {
			out = append(out, string(a.Doc))
		}
		sort.Strings(out)
		s.Close(context.Background())
		return out, rec
	}
	got, grec := run(func(s *Scheduler) {
		if err := s.HandleLog(context.Background(), []eventlog.Record{{Seq: 1, Data: data}}); err != nil {
			t.Fatal(err)
		}
		if s.Stats().Fed != int64(n) {
			t.Fatalf("fed %d of %d", s.Stats().Fed, n)
		}
	})
	want, wrec := run(func(s *Scheduler) { s.FeedBatch(context.Background(), evs); s.Flush(context.Background()) })
	// 5 created in the period, 5 more from the waiting ones as the next
	// period opens.
	if len(want) != 10 || wrec.GroupsCreated != 5 || wrec.NotCreated != n/500+1-5 {
		t.Fatalf("one batch: %d alerts, record %+v", len(want), wrec)
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("chunked: %d alerts\n%s\nwant %d\n%s", len(got), strings.Join(got, "\n"), len(want), strings.Join(want, "\n"))
	}
	gb, _ := json.Marshal(grec)
	wb, _ := json.Marshal(wrec)
	if string(gb) != string(wb) {
		t.Fatalf("record %s\nwant %s", gb, wb)
	}
}

// A waiting group is saved with its documents as JSON, read back equal,
// and groups saved before (documents in base64) still read.
func TestGroupEncoding(t *testing.T) {
	g := &group{RangeMs: 42, Alerts: []*alerts.Alert{
		{UUID: "u1", RuleID: "r", Severity: "high", Host: "h", Timestamp: t0, Created: t0.Add(time.Second), Kind: "sequence",
			Doc: []byte(`{"kibana.alert.uuid":"u1","host":{"name":"h"},"s":"a\"b"}`)},
		{UUID: "u2", RuleID: "r", Kind: "building_block", BuildingBlock: true, GroupID: "u1", Doc: []byte(`{}`)},
	}}
	b, err := json.Marshal(g)
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(b) || !strings.Contains(string(b), `"doc_json":{"kibana.alert.uuid":"u1"`) {
		t.Fatalf("%s", b)
	}
	var back group
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	type plain struct { // the encoding before: Alert's own (base64 documents)
		RangeMs int64           `json:"range_ms"`
		Alerts  []*alerts.Alert `json:"alerts"`
	}
	old, _ := json.Marshal(plain{g.RangeMs, g.Alerts})
	var fromOld group
	if err := json.Unmarshal(old, &fromOld); err != nil {
		t.Fatal(err)
	}
	want, _ := json.Marshal(plain{g.RangeMs, g.Alerts})
	for name, got := range map[string]*group{"new": &back, "old": &fromOld} {
		if gb, _ := json.Marshal(plain{got.RangeMs, got.Alerts}); string(gb) != string(want) {
			t.Errorf("%s form read back:\n%s\nwant\n%s", name, gb, want)
		}
	}
}
