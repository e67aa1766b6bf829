package schedule

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigilsec/vigil/rule"
	"github.com/vigilsec/vigil/store/alerts"
)

// All rules and events here are constructed for these tests.

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Set(t time.Time)     { c.mu.Lock(); c.t = t; c.mu.Unlock() }
func (c *fakeClock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

var t0 = time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)

// testWorkers is Options.Workers for the harness (TestSchedulerWithWorkers).
var testWorkers int

func eventRule(maxSignals int) *rule.Rule {
	return &rule.Rule{
		RuleID: "r-event", Name: "Evil process", Version: 1, Type: "eql", Severity: "high", RiskScore: 73,
		Index: []string{"logs-endpoint.events.*"}, Interval: "5m", From: "now-9m", To: "now", MaxSignals: maxSignals,
		Query: `process where process.name == "evil.exe"`,
	}
}

func seqRule() *rule.Rule {
	return &rule.Rule{
		RuleID: "r-seq", Name: "Recon then C2", Version: 1, Type: "eql", Severity: "medium", RiskScore: 47,
		Index: []string{"logs-endpoint.events.*"}, Interval: "5m", From: "now-9m", To: "now",
		Query: `sequence by host.id with maxspan=10m
  [process where process.name == "whoami.exe"]
  [network where destination.port == 4444]`,
	}
}

func procEv(id string, ts time.Time, name, host string) Event {
	doc := map[string]any{
		"@timestamp":  ts.Format(time.RFC3339Nano),
		"data_stream": map[string]any{"dataset": "endpoint.events.process", "namespace": "default", "type": "logs"},
		"event":       map[string]any{"category": []string{"process"}, "type": []string{"start"}, "kind": "event"},
		"host":        map[string]any{"name": host, "id": "id-" + host},
		"process":     map[string]any{"name": name},
	}
	b, _ := json.Marshal(doc)
	return Event{Line: b, ID: id}
}

func netEv(id string, ts time.Time, host string) Event {
	doc := map[string]any{
		"@timestamp":  ts.Format(time.RFC3339Nano),
		"data_stream": map[string]any{"dataset": "endpoint.events.network", "namespace": "default", "type": "logs"},
		"event":       map[string]any{"category": []string{"network"}, "type": []string{"start"}, "kind": "event"},
		"host":        map[string]any{"name": host, "id": "id-" + host},
		"destination": map[string]any{"port": 4444},
	}
	b, _ := json.Marshal(doc)
	return Event{Line: b, ID: id}
}

type harness struct {
	t     *testing.T
	dir   string
	clock *fakeClock
	store *alerts.Store
	s     *Scheduler
	log   *memLog
	notes []Notification
}

func newHarness(t *testing.T, rules ...*rule.Rule) *harness {
	h := &harness{t: t, dir: t.TempDir(), clock: &fakeClock{t: t0}, log: &memLog{}}
	var err error
	h.store, err = alerts.OpenDir(h.dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.store.Close() })
	h.start(rules...)
	return h
}

func (h *harness) start(rules ...*rule.Rule) {
	s, errs := New(rules, Options{Clock: h.clock, Store: h.store, Events: h.log, Workers: testWorkers,
		Notify: func(n Notification) { h.notes = append(h.notes, n) }})
	if len(errs) > 0 {
		h.t.Fatal(errs)
	}
	h.s = s
}

// feed appends to the log and evaluates, as the server's consumer does.
func (h *harness) feed(evs ...Event) {
	for _, ev := range evs {
		h.log.add(ev)
		if err := h.s.Feed(ev); err != nil {
			h.t.Fatal(err)
		}
	}
}

func (h *harness) tickAt(t time.Time) []Record {
	h.clock.Set(t)
	return h.s.Tick(context.Background())
}

func (h *harness) stored(ruleID string) []*alerts.Alert {
	_, as, err := h.store.Query(context.Background(), alerts.Filter{RuleID: ruleID, BuildingBlocks: true, Size: 1000})
	if err != nil {
		h.t.Fatal(err)
	}
	return as
}

// memLog is an in-memory event log.
type memLog struct {
	mu  sync.Mutex
	evs []Event
}

func (m *memLog) add(ev Event) { m.mu.Lock(); m.evs = append(m.evs, ev); m.mu.Unlock() }

func (m *memLog) Scan(ctx context.Context, from, to time.Time, fn func(Event) error) error {
	m.mu.Lock()
	evs := append([]Event(nil), m.evs...)
	m.mu.Unlock()
	for _, ev := range evs {
		if err := fn(ev); err != nil {
			return err
		}
	}
	return nil
}

func one(t *testing.T, recs []Record) Record {
	t.Helper()
	if len(recs) != 1 {
		t.Fatalf("%d executions, want 1: %+v", len(recs), recs)
	}
	return recs[0]
}

func TestPlanExecution(t *testing.T) {
	sp := Spec{Interval: 5 * time.Minute, LookBack: 9 * time.Minute, MaxSignals: 100}
	m := time.Minute
	cases := []struct {
		name       string
		sp         Spec
		elapsed    time.Duration // since the previous start; 0: first run
		windows    int
		kibana     int
		gap        time.Duration
		firstShift time.Duration // first window's From is startedAt - LookBack - firstShift
	}{
		{"first run", sp, 0, 1, 1, 0, 0},
		{"on time", sp, 5 * m, 1, 1, 0, 0},
		{"late, covered by the look-back", sp, 9 * m, 1, 1, 0, 0},
		{"late by one interval: one catch-up", sp, 10 * m, 2, 2, 0, 5 * m},
		{"late: two catch-ups", sp, 15*m + 30*time.Second, 3, 3, 0, 10 * m},
		{"gap beyond 4 intervals", sp, 40 * m, 5, 5, 11 * m, 20 * m},
		// docs-content#7708: 5m + 1m look-back absorbs about 26 minutes.
		{"5m/6m absorbs 26m", Spec{Interval: 5 * m, LookBack: 6 * m}, 26 * m, 5, 5, 0, 20 * m},
		{"5m/6m: 27m leaves a gap", Spec{Interval: 5 * m, LookBack: 6 * m}, 27 * m, 5, 5, 1 * m, 20 * m},
		// kibana#285154: 5m with 10m extra look-back, run 12m after the
		// previous: Kibana runs one window (gap < 0); a run was missed.
		{"kibana#285154", Spec{Interval: 5 * m, LookBack: 15 * m}, 12 * m, 2, 1, 0, 5 * m},
	}
	for _, c := range cases {
		start := t0.Add(time.Hour)
		var prev time.Time
		if c.elapsed > 0 {
			prev = start.Add(-c.elapsed)
		}
		p := PlanExecution(c.sp, start, prev)
		if len(p.Windows) != c.windows || p.KibanaWindows != c.kibana {
			t.Errorf("%s: %d windows (Kibana %d), want %d (%d)", c.name, len(p.Windows), p.KibanaWindows, c.windows, c.kibana)
			continue
		}
		var gap time.Duration
		if p.Gap != nil {
			gap = p.Gap.To.Sub(p.Gap.From)
			if !p.Gap.From.Equal(prev) {
				t.Errorf("%s: gap starts %v, want the previous start", c.name, p.Gap.From)
			}
		}
		if gap != c.gap {
			t.Errorf("%s: gap %v, want %v", c.name, gap, c.gap)
		}
		last := p.Windows[len(p.Windows)-1]
		if !last.To.Equal(start) || !last.From.Equal(start.Add(-c.sp.LookBack)) {
			t.Errorf("%s: last window %v", c.name, last)
		}
		if want := start.Add(-c.sp.LookBack - c.firstShift); !p.Windows[0].From.Equal(want) {
			t.Errorf("%s: first window from %v, want %v", c.name, p.Windows[0].From, want)
		}
	}
}

func TestSpecOf(t *testing.T) {
	r := eventRule(0)
	r.Interval, r.From, r.To = "", "", ""
	sp, err := SpecOf(r, 0)
	if err != nil || sp.Interval != 5*time.Minute || sp.LookBack != 6*time.Minute || sp.MaxSignals != 100 || sp.ExtraLookBack() != time.Minute {
		t.Fatalf("defaults: %+v %v", sp, err)
	}
	r.Interval, r.From, r.To, r.MaxSignals = "1h", "now-70m", "now+1m", 5000
	sp, err = SpecOf(r, 0)
	if err != nil || sp.Interval != time.Hour || sp.LookBack != 70*time.Minute || sp.ToOffset != -time.Minute || sp.MaxSignals != 1000 || !sp.Capped || sp.ExtraLookBack() != 11*time.Minute {
		t.Fatalf("%+v %v", sp, err)
	}
	for _, bad := range [][3]string{{"5x", "now-6m", "now"}, {"0m", "now-6m", "now"}, {"5m", "now-6", "now"}, {"5m", "2026-01-01", "now"}, {"5m", "now-6m/d", "now"}, {"5m", "now", "now-1m"}} {
		r.Interval, r.From, r.To = bad[0], bad[1], bad[2]
		if _, err := SpecOf(r, 0); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

// TestNormalRuns: alerts are stored as soon as their events are fed; the
// next execution counts them, with its window on the rule's schedule.
func TestNormalRuns(t *testing.T) {
	h := newHarness(t, eventRule(0))
	rec := one(t, h.tickAt(t0)) // a new rule runs at once
	if rec.Status != StatusSucceeded || len(rec.Windows) != 1 || !rec.Windows[0].From.Equal(t0.Add(-9*time.Minute)) {
		t.Fatalf("first run %+v", rec)
	}
	if recs := h.tickAt(t0.Add(4 * time.Minute)); len(recs) != 0 {
		t.Fatalf("ran before its interval: %+v", recs)
	}
	h.feed(procEv("e1", t0.Add(4*time.Minute), "evil.exe", "a"), procEv("e2", t0.Add(4*time.Minute), "good.exe", "a"))
	if n := len(h.stored("r-event")); n != 1 {
		t.Fatalf("%d alerts stored before the tick, want 1 at once", n)
	}
	rec = one(t, h.tickAt(t0.Add(5*time.Minute)))
	if rec.GroupsCreated != 1 || rec.AlertsCreated != 1 || rec.EventsScanned != 2 || rec.Late != 0 || rec.Status != StatusSucceeded {
		t.Fatalf("%+v", rec)
	}
	if w := rec.Windows[0]; !w.From.Equal(t0.Add(-4*time.Minute)) || !w.To.Equal(t0.Add(5*time.Minute)) {
		t.Fatalf("window %+v", w)
	}
	a := h.stored("r-event")[0]
	var doc map[string]any
	json.Unmarshal(a.Doc, &doc)
	if doc["kibana.alert.rule.execution.uuid"] != rec.ExecutionID || doc["kibana.alert.rule.execution.type"] != "scheduled" ||
		doc["@timestamp"] != "2026-03-02T12:04:00.000Z" || doc["kibana.alert.rule.rule_id"] != "r-event" {
		t.Fatalf("alert doc: %s", a.Doc)
	}
	if len(h.notes) != 1 || h.notes[0].Manual || len(h.notes[0].Alerts) != 1 {
		t.Fatalf("notifications %+v", h.notes)
	}
	// The execution log has both runs.
	total, recs, _ := h.store.Executions(context.Background(), "r-event", 10, 1)
	if total != 2 || !strings.Contains(string(recs[0]), `"groups_created":1`) {
		t.Fatalf("log %d %s", total, recs)
	}
}

// TestLateRunCatchUp: a run 12 minutes after the previous one gets one
// catch-up window, and events older than the windows are still alerted on
// and counted as late.
func TestLateRunCatchUp(t *testing.T) {
	h := newHarness(t, eventRule(0))
	h.tickAt(t0)
	h.feed(procEv("e1", t0.Add(2*time.Minute), "evil.exe", "a"))
	h.feed(procEv("old", t0.Add(-30*time.Minute), "evil.exe", "a")) // older than any window
	rec := one(t, h.tickAt(t0.Add(12*time.Minute)))
	if len(rec.Windows) != 2 || rec.KibanaWindows != 2 || rec.Gap != nil {
		t.Fatalf("%+v", rec)
	}
	if !rec.Windows[0].From.Equal(t0.Add(12*time.Minute - 9*time.Minute - 5*time.Minute)) {
		t.Fatalf("catch-up window %+v", rec.Windows[0])
	}
	if rec.GroupsCreated != 2 || rec.Late != 1 {
		t.Fatalf("created %d, late %d; want 2 and 1", rec.GroupsCreated, rec.Late)
	}
}

// TestGapRecorded: beyond 4 intervals, the rest is recorded as a gap; the
// events of the gap are still evaluated (continuously).
func TestGapRecorded(t *testing.T) {
	h := newHarness(t, eventRule(0))
	h.tickAt(t0)
	h.feed(procEv("in-gap", t0.Add(3*time.Minute), "evil.exe", "a"))
	rec := one(t, h.tickAt(t0.Add(40*time.Minute)))
	if len(rec.Windows) != 5 || rec.Gap == nil || rec.GapMs != (11*time.Minute).Milliseconds() || !rec.Gap.From.Equal(t0) {
		t.Fatalf("%+v", rec)
	}
	if rec.GroupsCreated != 1 || rec.Late != 1 {
		t.Fatalf("gap event: created %d late %d", rec.GroupsCreated, rec.Late)
	}
	var stored map[string]any
	_, raw, _ := h.store.Executions(context.Background(), "r-event", 1, 1)
	json.Unmarshal(raw[0], &stored)
	if stored["gap_ms"] != float64(11*60*1000) {
		t.Fatalf("stored record %s", raw[0])
	}
}

// TestMaxSignals: over the limit, the execution warns with Kibana's
// message and counts what it did not create; those alerts are created by
// the next execution, never dropped.
func TestMaxSignals(t *testing.T) {
	h := newHarness(t, eventRule(3))
	h.tickAt(t0)
	for i := 0; i < 5; i++ {
		h.feed(procEv(fmt.Sprintf("e%d", i), t0.Add(time.Duration(i)*time.Second), "evil.exe", "a"))
	}
	if n := len(h.stored("r-event")); n != 3 {
		t.Fatalf("%d stored, want 3 (the limit)", n)
	}
	rec := one(t, h.tickAt(t0.Add(5*time.Minute)))
	if rec.Status != StatusWarning || rec.Message != MaxSignalsMessage || rec.GroupsCreated != 3 || rec.NotCreated != 2 {
		t.Fatalf("%+v", rec)
	}
	// The next execution creates them at its start.
	if n := len(h.stored("r-event")); n != 5 {
		t.Fatalf("%d stored after the tick, want 5", n)
	}
	rec = one(t, h.tickAt(t0.Add(10*time.Minute)))
	if rec.Status != StatusSucceeded || rec.GroupsCreated != 2 || rec.NotCreated != 0 {
		t.Fatalf("%+v", rec)
	}
	// The earliest events were created first.
	first := map[string]bool{}
	for _, a := range h.notes[:3] {
		first[a.Alerts[0].Timestamp.Format(time.RFC3339)] = true
	}
	if !first[t0.Format(time.RFC3339)] || first[t0.Add(4*time.Second).Format(time.RFC3339)] {
		t.Fatalf("created first: %v", first)
	}
}

// TestOverlappingLookBack: the same event seen again (redelivery, the
// next window's look-back) creates no duplicate.
func TestOverlappingLookBack(t *testing.T) {
	h := newHarness(t, eventRule(0))
	h.tickAt(t0)
	ev := procEv("e1", t0.Add(4*time.Minute), "evil.exe", "a")
	h.feed(ev)
	h.tickAt(t0.Add(5 * time.Minute))
	h.feed(ev) // inside the next window's look-back
	rec := one(t, h.tickAt(t0.Add(10*time.Minute)))
	if rec.GroupsCreated != 0 || rec.Duplicates != 1 || len(h.stored("r-event")) != 1 {
		t.Fatalf("%+v, %d stored", rec, len(h.stored("r-event")))
	}
}

// TestRestartMidRun: the scheduler stops between two executions without
// closing; a new one over the same store resumes the open execution
// (counts, previous start) and the replayed events create no duplicates.
func TestRestartMidRun(t *testing.T) {
	h := newHarness(t, eventRule(2))
	h.tickAt(t0)
	evs := []Event{
		procEv("e1", t0.Add(time.Minute), "evil.exe", "a"),
		procEv("e2", t0.Add(2*time.Minute), "evil.exe", "b"),
		procEv("e3", t0.Add(3*time.Minute), "evil.exe", "c"), // over max_signals: deferred
	}
	h.clock.Set(t0.Add(3 * time.Minute))
	h.feed(evs...)
	// The consumer flushes before acknowledging its batch.
	if err := h.s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Crash: a new scheduler, no Close.
	h.start(eventRule(2))
	for _, ev := range evs {
		h.s.Feed(ev) // the consumer replays unacknowledged events
	}
	if recs := h.tickAt(t0.Add(4 * time.Minute)); len(recs) != 0 {
		t.Fatalf("previous start lost: ran at once: %+v", recs)
	}
	rec := one(t, h.tickAt(t0.Add(5*time.Minute)))
	if rec.GroupsCreated != 2 || rec.NotCreated != 1 || rec.Duplicates != 3 || rec.Status != StatusWarning {
		t.Fatalf("%+v", rec)
	}
	if n := len(h.stored("r-event")); n != 3 {
		t.Fatalf("%d stored, want 3 (the deferred one created by the next execution)", n)
	}
	if rec.Windows[0].To != t0.Add(5*time.Minute) || len(rec.Windows) != 1 {
		t.Fatalf("windows %+v", rec.Windows)
	}
}

// TestSequenceAcrossWindows: a sequence whose events fall in two
// executions' periods (and arrive out of order within the reorder
// allowance) is found exactly once.
func TestSequenceAcrossWindows(t *testing.T) {
	h := newHarness(t, seqRule())
	h.tickAt(t0)
	h.clock.Set(t0.Add(4 * time.Minute))
	h.feed(procEv("p1", t0.Add(4*time.Minute), "whoami.exe", "a"))
	h.tickAt(t0.Add(5 * time.Minute))
	h.clock.Set(t0.Add(7 * time.Minute))
	h.feed(netEv("n1", t0.Add(6*time.Minute), "a"))
	// Out of order within the allowance (4m): a second sequence on host b
	// whose first event arrives after its second.
	h.feed(netEv("n2", t0.Add(7*time.Minute), "b"))
	h.feed(procEv("p2", t0.Add(5*time.Minute), "whoami.exe", "b"))
	// Later events move event time past the reorder allowance.
	h.clock.Set(t0.Add(9 * time.Minute))
	h.feed(procEv("later", t0.Add(12*time.Minute), "whoami.exe", "z"))
	rec := one(t, h.tickAt(t0.Add(10*time.Minute)))
	if rec.GroupsCreated != 2 || rec.AlertsCreated != 6 {
		t.Fatalf("%+v", rec)
	}
	// Seen again (replay of the log): still once.
	h.start(seqRule())
	for _, ev := range h.log.evs {
		h.s.Feed(ev)
	}
	h.s.Feed(procEv("later2", t0.Add(30*time.Minute), "whoami.exe", "z"))
	rec = one(t, h.tickAt(t0.Add(15*time.Minute)))
	if rec.GroupsCreated != 0 || rec.Duplicates != 2 {
		t.Fatalf("replay: %+v", rec)
	}
	shells := 0
	for _, a := range h.stored("r-seq") {
		if a.Kind == "sequence" {
			shells++
		}
	}
	if shells != 2 {
		t.Fatalf("%d sequences stored, want 2", shells)
	}
}

// TestSequenceQuietStream: a sequence whose events are the last of the
// stream is released by the clock once its reorder allowance (4m) has
// passed, not by a newer event that may never come.
func TestSequenceQuietStream(t *testing.T) {
	h := newHarness(t, seqRule())
	h.tickAt(t0)
	h.clock.Set(t0.Add(1 * time.Minute))
	h.feed(procEv("p1", t0.Add(1*time.Minute), "whoami.exe", "a"))
	h.feed(netEv("n1", t0.Add(2*time.Minute), "a"))
	// Within the allowance: still held (an earlier event may yet arrive).
	h.tickAt(t0.Add(5 * time.Minute))
	if n := len(h.stored("r-seq")); n != 0 {
		t.Fatalf("%d alerts before the allowance passed", n)
	}
	// No new event, but the clock is past 2m + 4m: the sequence is found.
	h.tickAt(t0.Add(7 * time.Minute))
	shells := 0
	for _, a := range h.stored("r-seq") {
		if a.Kind == "sequence" {
			shells++
		}
	}
	if shells != 1 {
		t.Fatalf("%d sequences after a quiet spell, want 1", shells)
	}
}

// TestKibana285154: a late run covered by the look-back. Kibana runs one
// window with one max_signals budget (and skips the missed evaluation);
// here the missed run gets its window and budget.
func TestKibana285154(t *testing.T) {
	r := eventRule(2)
	r.From = "now-15m" // 10m of extra look-back
	h := newHarness(t, r)
	h.tickAt(t0)
	for i := 0; i < 4; i++ {
		h.feed(procEv(fmt.Sprintf("e%d", i), t0.Add(time.Duration(i+1)*time.Minute), "evil.exe", "a"))
	}
	rec := one(t, h.tickAt(t0.Add(12*time.Minute)))
	if rec.KibanaWindows != 1 || len(rec.Windows) != 2 || rec.Gap != nil {
		t.Fatalf("%+v", rec)
	}
	if rec.GroupsCreated != 4 || rec.NotCreated != 0 || rec.Status != StatusSucceeded {
		t.Fatalf("budget of the missed run lost: %+v", rec)
	}
}

// TestManualRun: a backfill over a past range splits into executions,
// creates alerts marked manual, and a second run over the same range
// creates none.
func TestManualRun(t *testing.T) {
	h := newHarness(t, eventRule(0))
	// Events already in the log (e.g. before the rule existed).
	for i := 0; i < 6; i++ {
		h.log.add(procEv(fmt.Sprintf("old%d", i), t0.Add(-time.Hour+time.Duration(i)*7*time.Minute), "evil.exe", "a"))
	}
	h.log.add(procEv("noise", t0.Add(-50*time.Minute), "good.exe", "a"))
	recs, err := h.s.Run(context.Background(), "r-event", t0.Add(-time.Hour), t0.Add(-20*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 8 {
		t.Fatalf("%d executions, want 8 (40m / 5m)", len(recs))
	}
	created, scanned := 0, int64(0)
	for _, r := range recs {
		created += r.GroupsCreated
		scanned += r.EventsScanned
		if r.Type != "manual" {
			t.Fatal(r.Type)
		}
	}
	// old0..old5 at -60, -53, -46, -39, -32, -25 minutes: all inside.
	if created != 6 || scanned != 7 {
		t.Fatalf("created %d, scanned %d", created, scanned)
	}
	var doc map[string]any
	json.Unmarshal(h.stored("r-event")[0].Doc, &doc)
	if doc["kibana.alert.rule.execution.type"] != "manual" {
		t.Fatalf("%s", h.stored("r-event")[0].Doc)
	}
	for _, n := range h.notes {
		if !n.Manual {
			t.Fatal("manual alerts notified as scheduled")
		}
	}
	recs, err = h.s.Run(context.Background(), "r-event", t0.Add(-time.Hour), t0.Add(-20*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	created, dups := 0, 0
	for _, r := range recs {
		created += r.GroupsCreated
		dups += r.Duplicates
	}
	if created != 0 || dups != 6 || len(h.stored("r-event")) != 6 {
		t.Fatalf("second run: created %d, duplicates %d", created, dups)
	}
	// The same through Backfill (no scheduler state): still no duplicates.
	recs, err = Backfill(context.Background(), []*rule.Rule{eventRule(0)}, "r-event", t0.Add(-time.Hour), t0, Options{Store: h.store, Events: h.log, Clock: h.clock})
	if err != nil || len(recs) != 12 {
		t.Fatalf("backfill: %d records, %v", len(recs), err)
	}
	for _, r := range recs {
		if r.GroupsCreated != 0 {
			t.Fatalf("backfill duplicated: %+v", r)
		}
	}
	if b, _ := h.store.LoadState(context.Background(), "r-event"); b != nil {
		t.Fatalf("backfill wrote schedule state: %s", b)
	}
	if _, err := h.s.Run(context.Background(), "nope", t0.Add(-time.Hour), t0); err == nil {
		t.Fatal("unknown rule ran")
	}
	if _, err := h.s.Run(context.Background(), "r-event", t0, t0.Add(-time.Hour)); err == nil {
		t.Fatal("reversed range ran")
	}
}

// TestSuppressionInSchedule: per-execution suppression folds same-host
// alerts into the first one, whose stored document counts them.
func TestSuppressionInSchedule(t *testing.T) {
	r := eventRule(0)
	r.AlertSuppression = json.RawMessage(`{"group_by":["host.name"]}`)
	h := newHarness(t, r)
	h.tickAt(t0)
	h.clock.Set(t0.Add(time.Minute))
	h.feed(procEv("e1", t0.Add(time.Minute), "evil.exe", "a"), procEv("e2", t0.Add(2*time.Minute), "evil.exe", "a"),
		procEv("e3", t0.Add(3*time.Minute), "evil.exe", "b"))
	rec := one(t, h.tickAt(t0.Add(5*time.Minute)))
	if rec.GroupsCreated != 2 || rec.Suppressed != 1 {
		t.Fatalf("%+v", rec)
	}
	a, err := h.store.Get(context.Background(), h.notes[0].Alerts[0].UUID)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	json.Unmarshal(a.Doc, &doc)
	if doc["kibana.alert.suppression.docs_count"] != float64(1) || doc["kibana.alert.suppression.end"] != "2026-03-02T12:02:00.000Z" {
		t.Fatalf("%s", a.Doc)
	}
	// A new execution: a new group.
	h.clock.Set(t0.Add(6 * time.Minute))
	h.feed(procEv("e4", t0.Add(6*time.Minute), "evil.exe", "a"))
	rec = one(t, h.tickAt(t0.Add(10*time.Minute)))
	if rec.GroupsCreated != 1 || rec.Suppressed != 0 {
		t.Fatalf("%+v", rec)
	}
}

// TestBatchRule: a query that needs all events of a window (a pipe) runs
// per execution over the event log.
func TestBatchRule(t *testing.T) {
	r := eventRule(0)
	r.RuleID = "r-head"
	r.Query = `process where process.name == "evil.exe" | head 1`
	h := newHarness(t, r)
	h.tickAt(t0)
	h.clock.Set(t0.Add(2 * time.Minute))
	h.feed(procEv("e1", t0.Add(time.Minute), "evil.exe", "a"), procEv("e2", t0.Add(2*time.Minute), "evil.exe", "a"))
	if n := len(h.stored("r-head")); n != 0 {
		t.Fatalf("%d stored before the execution", n)
	}
	rec := one(t, h.tickAt(t0.Add(5*time.Minute)))
	if rec.GroupsCreated != 1 || rec.Status != StatusSucceeded {
		t.Fatalf("%+v", rec)
	}
}

// TestBacklogBound: a rule far beyond max_signals keeps BacklogFactor x
// max_signals groups waiting and counts the rest in its record.
func TestBacklogBound(t *testing.T) {
	h := newHarness(t, eventRule(1))
	h.tickAt(t0)
	for i := 0; i < 103; i++ {
		h.s.Feed(procEv(fmt.Sprintf("e%d", i), t0.Add(time.Duration(i)*time.Second), "evil.exe", "a"))
	}
	rec := one(t, h.tickAt(t0.Add(5*time.Minute)))
	if rec.GroupsCreated != 1 || rec.NotCreated != 100 || rec.Dropped != 2 || rec.Status != StatusWarning ||
		!strings.Contains(rec.Message, "2 alerts were not created") {
		t.Fatalf("%+v", rec)
	}
}

// TestCloseEndsSuppression: closing the alert a group folds into starts a
// new group (Kibana's default on closure).
func TestCloseEndsSuppression(t *testing.T) {
	r := eventRule(0)
	r.AlertSuppression = json.RawMessage(`{"group_by":["host.name"],"duration":{"value":1,"unit":"h"}}`)
	h := newHarness(t, r)
	h.tickAt(t0)
	h.feed(procEv("e1", t0.Add(time.Minute), "evil.exe", "a"), procEv("e2", t0.Add(2*time.Minute), "evil.exe", "a"))
	first := h.notes[0].Alerts[0].UUID
	if _, err := h.store.SetStatus(context.Background(), first, alerts.StatusClosed, "bob", t0); err != nil {
		t.Fatal(err)
	}
	h.s.AlertStatusChanged("r-event", first, alerts.StatusClosed)
	h.feed(procEv("e3", t0.Add(3*time.Minute), "evil.exe", "a"))
	rec := one(t, h.tickAt(t0.Add(5*time.Minute)))
	if rec.GroupsCreated != 2 || rec.Suppressed != 1 {
		t.Fatalf("%+v", rec)
	}
}

func FuzzParseNowOffset(f *testing.F) {
	for _, s := range []string{"now", "now-9m", "now+1m", "now-1h-30m", "now-6m/d", "now-", "now-99999999999999999999d", "5m", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseNowOffset(s)
		if err == nil && !strings.HasPrefix(strings.TrimSpace(s), "now") {
			t.Fatalf("%q accepted: %v", s, d)
		}
		ParseInterval(s)
	})
}

// TestDisableEnable: a rule disabled for a while and enabled again starts
// a new schedule (no gap for the disabled time); a restart of the process
// does record its downtime.
func TestDisableEnable(t *testing.T) {
	r := eventRule(0)
	h := newHarness(t, r)
	h.tickAt(t0)
	off := *r
	f := false
	off.Enabled = &f
	h.s.SetRules([]*rule.Rule{&off})
	h.clock.Set(t0.Add(time.Hour))
	if recs := h.s.Tick(context.Background()); len(recs) != 0 {
		t.Fatalf("disabled rule ran: %+v", recs)
	}
	h.s.SetRules([]*rule.Rule{r})
	rec := one(t, h.tickAt(t0.Add(time.Hour)))
	if rec.Gap != nil || len(rec.Windows) != 1 {
		t.Fatalf("re-enabled: %+v", rec)
	}
	// Process restart after 40 minutes down: Kibana's catch-up and gap.
	h.s.Close(context.Background())
	h.clock.Set(t0.Add(time.Hour + 40*time.Minute))
	h.start(r)
	rec = one(t, h.s.Tick(context.Background()))
	if rec.Gap == nil || len(rec.Windows) != 5 {
		t.Fatalf("after downtime: %+v", rec)
	}
}

// TestSuppressionInBatch: an alert suppressed into one created earlier in
// the same batch (not stored yet) updates it before it is stored.
func TestSuppressionInBatch(t *testing.T) {
	r := eventRule(0)
	r.AlertSuppression = json.RawMessage(`{"group_by":["host.name"]}`)
	h := newHarness(t, r)
	h.tickAt(t0)
	n, err := h.s.FeedBatch(context.Background(), []Event{
		procEv("e1", t0.Add(time.Minute), "evil.exe", "a"),
		procEv("e2", t0.Add(2*time.Minute), "evil.exe", "a"),
		procEv("e3", t0.Add(3*time.Minute), "evil.exe", "a"),
		{Line: []byte(`{"process":{"name":"evil.exe"`)},
	})
	if n != 1 || err == nil {
		t.Fatalf("malformed: %d %v", n, err)
	}
	rec := one(t, h.tickAt(t0.Add(5*time.Minute)))
	if rec.GroupsCreated != 1 || rec.Suppressed != 2 || rec.Status != StatusSucceeded {
		t.Fatalf("%+v", rec)
	}
	var doc map[string]any
	json.Unmarshal(h.stored("r-event")[0].Doc, &doc)
	if doc["kibana.alert.suppression.docs_count"] != float64(2) || doc["kibana.alert.suppression.end"] != "2026-03-02T12:03:00.000Z" {
		t.Fatalf("%s", h.stored("r-event")[0].Doc)
	}
}
