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
