package schedule

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vigilsec/vigil/detect"
	"github.com/vigilsec/vigil/eql"
	"github.com/vigilsec/vigil/event"
	"github.com/vigilsec/vigil/rule"
	"github.com/vigilsec/vigil/schema"
	"github.com/vigilsec/vigil/store/alerts"
)

// Clock tells the time; tests inject a fake one.
type Clock interface{ Now() time.Time }

// ErrUnsupportedType is wrapped by the warning about a rule whose type
// Vigil does not run yet (callers summarise those by type).
var ErrUnsupportedType = errors.New("is not run by Vigil yet")

// SystemClock is the real clock.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// Event is one event of the log: its NDJSON line, its id (the document
// _id alerts are named after) and index (the _bulk action's _index; used
// when the document names none).
type Event struct {
	Line  []byte
	ID    string
	Index string
}

// EventSource reads the event log back for manual runs and for rules that
// need all of a window's events first (missing-event sequences, samples,
// head/tail pipes).
type EventSource interface {
	// Scan calls fn for every event whose time may lie in [from, to] (a
	// superset is fine: the rule's time range filter applies), in log
	// order. fn's Line is valid only during the call.
	Scan(ctx context.Context, from, to time.Time, fn func(Event) error) error
}

// Notification is the alerts one rule just created, for publishing
// (JetStream subject vigil.alerts.<rule_id>) and webhooks. Manual is set
// for manual runs, where Kibana fires no actions.
type Notification struct {
	Rule   *rule.Rule
	Alerts []*alerts.Alert
	Manual bool
}

// Options configure a Scheduler.
type Options struct {
	Clock Clock         // default SystemClock
	Store *alerts.Store // required
	// Events is the event log, for manual runs and batch rules; nil: such
	// runs fail with a clear message.
	Events EventSource
	// Notify receives created alerts; it is called with the scheduler's
	// lock held, so it must not block (queue, then publish).
	Notify       func(Notification)
	SpaceID      string // default "default"
	DefaultIndex string // index of events that name none
	// MaxSignalsCap is xpack.alerting.rules.run.alerts.max (default 1000).
	MaxSignalsCap int
	Exceptions    *detect.ExceptionLists
	// Workers evaluate the events (detect.Parallel: the rules dealt
	// round-robin, one engine per worker, alerts in one engine's order);
	// <= 1: one engine on the feeding goroutine.
	Workers int
}

// Status of an execution, as Kibana's execution log shows it.
const (
	StatusSucceeded = "succeeded"
	StatusWarning   = "warning"
	StatusFailed    = "failed"
)

// MaxSignalsMessage is Kibana's warning when max_signals is reached.
const MaxSignalsMessage = "This rule reached the maximum alert limit for the rule execution. Some alerts were not created."

// Record is one execution in the log.
type Record struct {
	ExecutionID string    `json:"execution_id"`
	RuleID      string    `json:"rule_id"`
	Type        string    `json:"type"` // scheduled, manual
	Start       time.Time `json:"start"`
	// Windows are the execution's time ranges, oldest first (several when
	// catching up).
	Windows       []Window `json:"windows"`
	KibanaWindows int      `json:"kibana_windows"` // what Kibana would run
	Status        string   `json:"status"`
	Message       string   `json:"message,omitempty"`
	DurationMs    int64    `json:"duration_ms"`
	// EventsScanned: events evaluated for this execution (entered the
	// log during its period; for manual runs, read back in its window).
	EventsScanned int64 `json:"events_scanned"`
	// AlertsCreated counts alert documents (a sequence: shell + building
	// blocks); GroupsCreated counts them as max_signals does (one per
	// event or sequence).
	AlertsCreated int `json:"alerts_created"`
	GroupsCreated int `json:"groups_created"`
	// NotCreated: alert groups over max_signals, left for the next
	// execution (never dropped).
	NotCreated int `json:"alerts_not_created_max_signals"`
	Late       int `json:"late"`       // from events older than the windows
	Duplicates int `json:"duplicates"` // already stored: not created again
	Suppressed int `json:"suppressed"` // folded into an alert by suppression
	// Dropped: groups beyond the backlog of deferred alerts
	// (BacklogFactor x max_signals), counted and reported, not created.
	Dropped int `json:"dropped_backlog_full,omitempty"`
	// Gap is Kibana's remaining gap beyond MaxCatchup intervals. Events
	// are evaluated continuously from the log, so the gap loses no alert;
	// it is recorded as Kibana would, for comparison.
	Gap   *Window `json:"gap,omitempty"`
	GapMs int64   `json:"gap_ms,omitempty"`
}

// state is one rule's persisted scheduler state.
type state struct {
	PreviousStart time.Time                          `json:"previous_started_at"`
	PeriodStart   time.Time                          `json:"period_start"`
	ExecutionID   string                             `json:"execution_id"`
	Groups        int                                `json:"groups"`
	Alerts        int                                `json:"alerts"`
	RangeMs       []int64                            `json:"range_ms"`
	NotCreated    int                                `json:"not_created"`
	Duplicates    int                                `json:"duplicates"`
	Suppressed    int                                `json:"suppressed"`
	Dropped       int                                `json:"dropped"`
	Scanned       int64                              `json:"scanned"`
	Errors        []string                           `json:"errors,omitempty"`
	Deferred      []*group                           `json:"-"` // rows of store/alerts' deferred table
	Suppression   map[string]*detect.SuppressedGroup `json:"suppression,omitempty"`
}

// group is an alert group ready to store: an event alert, or a sequence's
// shell then building blocks.
type group struct {
	RangeMs int64           `json:"range_ms"`
	Alerts  []*alerts.Alert `json:"alerts"`
	src     []*detect.Alert // as built, while in memory (suppression reads it)
}

// groupAlert is a group's alert as saved: the document as JSON
// (doc_json), not base64 (Alert.Doc's encoding, still read from groups
// saved before).
type groupAlert struct {
	alerts.Alert
	DocJSON json.RawMessage `json:"doc_json,omitempty"`
}

// MarshalJSON writes the documents as they are (they are valid JSON: the
// engine renders them, SetFields keeps them so).
func (g *group) MarshalJSON() ([]byte, error) {
	b := fmt.Appendf(nil, `{"range_ms":%d,"alerts":[`, g.RangeMs)
	for i, a := range g.Alerts {
		if i > 0 {
			b = append(b, ',')
		}
		head := *a
		head.Doc = nil
		h, err := json.Marshal(&head)
		if err != nil {
			return nil, err
		}
		b = append(b, h[:len(h)-1]...)
		b = append(b, `,"doc_json":`...)
		b = append(b, a.Doc...)
		b = append(b, '}')
	}
	return append(b, "]}"...), nil
}

// UnmarshalJSON reads both forms of the documents.
func (g *group) UnmarshalJSON(b []byte) error {
	var v struct {
		RangeMs int64         `json:"range_ms"`
		Alerts  []*groupAlert `json:"alerts"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	g.RangeMs, g.Alerts = v.RangeMs, make([]*alerts.Alert, len(v.Alerts))
	for i, a := range v.Alerts {
		if a.DocJSON != nil {
			a.Doc = a.DocJSON
		}
		g.Alerts[i] = &a.Alert
	}
	return nil
}

func sortGroups(gs []*group) {
	sort.SliceStable(gs, func(i, j int) bool { return gs[i].RangeMs < gs[j].RangeMs })
}

// Scheduler runs the enabled rules of a rule set. It is safe for
// concurrent use (one lock: Feed, Tick and the API serialise).
type Scheduler struct {
	mu      sync.Mutex
	opts    Options
	rules   []*rule.Rule
	det     detector // nil once closed
	execs   map[string]*executor
	emitted []*detect.Alert // by det, dispatched after each sync
	leads   []string        // dispatch's scratch
	buf     []byte
	fed     int64
	feedErr int64
	// Malformed events since the caller last took them (takeBad).
	badN     int
	badFirst error
	// pending are alert groups decided (counted, budgeted) but not yet
	// stored: commit stores them in one transaction.
	pending []pendingGroup
	started bool          // rules were loaded once (New)
	pos     atomic.Uint64 // last log sequence handled (HandleLog)
}

type pendingGroup struct {
	x   *executor
	g   *group
	typ string
}

// New starts a scheduler for rules (the enabled EQL ones run; others are
// reported). Each rule's state is loaded from the store, so a restarted
// scheduler resumes where it stopped. Errors name rules that cannot run;
// the others do.
func New(rules []*rule.Rule, opts Options) (*Scheduler, []error) {
	if opts.Clock == nil {
		opts.Clock = SystemClock{}
	}
	if opts.SpaceID == "" {
		opts.SpaceID = "default"
	}
	if opts.Store == nil {
		return nil, []error{errors.New("schedule: no alert store")}
	}
	s := &Scheduler{opts: opts, execs: map[string]*executor{}}
	errs := s.load(rules)
	return s, errs
}

// SetRules replaces the rule set (after an upload or an enable/disable).
// Executors of rules that stay keep their state; partial sequences in
// flight restart.
func (s *Scheduler) SetRules(rules []*rule.Rule) []error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.load(rules)
}

// Rules returns all rules, enabled or not.
func (s *Scheduler) Rules() []*rule.Rule {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*rule.Rule(nil), s.rules...)
}

func enabled(r *rule.Rule) bool { return r.Enabled == nil || *r.Enabled }

func (s *Scheduler) load(rules []*rule.Rule) []error {
	var errs []error
	var run, batch []*rule.Rule
	specs := map[string]Spec{}
	for _, r := range rules {
		if !enabled(r) {
			continue
		}
		if r.Type != "eql" {
			errs = append(errs, fmt.Errorf("rule %s (%s): type %q: %w", r.RuleID, r.Name, r.Type, ErrUnsupportedType))
			continue
		}
		sp, err := SpecOf(r, s.opts.MaxSignalsCap)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		specs[r.RuleID] = sp
		if needsAllEvents(r) {
			// Evaluated per execution over the log (runBatch): in the
			// continuous detector they would only accumulate their
			// matches, never completing on an endless stream.
			batch = append(batch, r)
			continue
		}
		run = append(run, r)
	}
	if s.det != nil {
		s.det.stop() // synced by the last call: nothing is in flight
	}
	det, cerrs := newDetector(run, s.opts.Workers, detect.CompileOptions{Exceptions: s.opts.Exceptions}, detect.Options{
		DefaultIndex: s.opts.DefaultIndex,
		SpaceID:      s.opts.SpaceID,
		Now:          s.opts.Clock.Now(),
		ReorderWindowFor: func(r *rule.Rule) time.Duration {
			return specs[r.RuleID].ExtraLookBack()
		},
	}, func(a *detect.Alert) { s.emitted = append(s.emitted, a) }, s.noteBad)
	errs = append(errs, cerrs...)
	brs, cerrs := detect.CompileWith(batch, detect.CompileOptions{Exceptions: s.opts.Exceptions})
	errs = append(errs, cerrs...)
	s.rules = append([]*rule.Rule(nil), rules...)
	s.det = det
	old := s.execs
	running := s.started
	s.started = true
	s.execs = map[string]*executor{}
	now := s.opts.Clock.Now()
	for _, r := range append(det.rules(), brs.Rules()...) {
		if x := old[r.RuleID]; x != nil {
			if err := x.configure(r, specs[r.RuleID]); err != nil {
				errs = append(errs, err)
				continue
			}
			s.execs[r.RuleID] = x
			continue
		}
		x, err := s.newExecutor(r, specs[r.RuleID], now)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if running {
			// Enabled (or added) while running: a new schedule starts now,
			// as Kibana schedules a newly enabled rule; the time it was
			// disabled is no gap. Alerts still waiting are kept.
			x.st = state{PeriodStart: now, ExecutionID: executionID(r.RuleID, now, "scheduled"), Deferred: x.st.Deferred}
			x.scannedBase = s.fed
			x.markDirty()
		}
		s.execs[r.RuleID] = x
	}
	return errs
}

// Feed evaluates one event as it enters the log: alerts are created at
// once (within the current execution's max_signals budget). A malformed
// event is counted and its error returned.
func (s *Scheduler) Feed(ev Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.det == nil {
		return errClosed
	}
	s.feed(ev)
	s.det.sync()
	s.dispatch()
	s.commit(context.Background())
	_, err := s.takeBad()
	return err
}

// FeedBatch evaluates events, storing their alerts in one transaction at
// the end (an insert per alert costs a commit each). It returns the
// number of malformed events and the first one's error.
func (s *Scheduler) FeedBatch(ctx context.Context, evs []Event) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.det == nil {
		return len(evs), errClosed
	}
	for _, ev := range evs {
		s.feed(ev)
	}
	// Every alert of the batch is known after the barrier: they are
	// routed (in one engine's order) and stored in one transaction.
	s.det.sync()
	s.dispatch()
	s.commit(ctx)
	return s.takeBad()
}

// noteBad counts a malformed event (the detector calls it in event
// order, before its sync returns).
func (s *Scheduler) noteBad(err error) {
	s.feedErr++
	if s.badN == 0 {
		s.badFirst = err
	}
	s.badN++
}

// takeBad returns and resets the malformed events noted since the last
// call.
func (s *Scheduler) takeBad() (int, error) {
	n, err := s.badN, s.badFirst
	s.badN, s.badFirst = 0, nil
	return n, err
}

func (s *Scheduler) feed(ev Event) {
	s.fed++
	line := bytes.TrimSpace(ev.Line)
	if ev.Index != "" && len(line) > 1 && line[0] == '{' && !bytes.Contains(line, []byte(`"_index"`)) {
		// The engine reads the index from the document: carry the _bulk
		// action's index into it.
		s.buf = append(s.buf[:0], `{"_index":`...)
		s.buf = event.AppendJSONString(s.buf, ev.Index)
		rest := bytes.TrimSpace(line[1:])
		if len(rest) > 0 && rest[0] != '}' {
			s.buf = append(s.buf, ',')
		}
		s.buf = append(s.buf, rest...)
		line = s.buf
	}
	s.det.offer(line, eql.Source{ID: ev.ID, Line: int(s.fed)})
}

// dispatch routes the alerts the engine emitted, grouped, to executors.
func (s *Scheduler) dispatch() {
	if len(s.emitted) == 0 {
		return
	}
	em := s.emitted
	s.emitted = s.emitted[:0]
	now := s.opts.Clock.Now()
	// Which groups are stored already, in one query for the batch (the
	// store changes only at commit, after this).
	s.leads = s.leads[:0]
	for _, a := range em {
		if a.Kind != detect.BuildingBlockAlert {
			s.leads = append(s.leads, a.UUID)
		}
	}
	have, err := s.opts.Store.Exists(context.Background(), s.leads)
	clear(s.leads)
	for i := 0; i < len(em); {
		j := i + 1
		if em[i].Kind == detect.SequenceAlert {
			for j < len(em) && em[j].Kind == detect.BuildingBlockAlert && em[j].GroupID == em[i].UUID {
				j++
			}
		}
		if x := s.execs[em[i].Rule.RuleID]; x != nil {
			if err != nil {
				x.fail(err)
			} else {
				x.offer(em[i:j], have[em[i].UUID], now)
			}
		}
		i = j
	}
	clear(em)
}

// Tick runs the executions that are due at the clock's time and returns
// their records.
func (s *Scheduler) Tick(ctx context.Context) []Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.det == nil {
		return nil
	}
	now := s.opts.Clock.Now()
	// A sequence completed by the last events before a quiet spell is
	// released once its reorder allowance has passed on the clock.
	s.det.advance(now)
	s.dispatch()
	s.commit(ctx)
	var out []Record
	ids := make([]string, 0, len(s.execs))
	for id := range s.execs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		x := s.execs[id]
		if x.st.PreviousStart.IsZero() || !now.Before(x.st.PreviousStart.Add(x.spec.Interval)) {
			out = append(out, x.execute(ctx, now))
		}
	}
	return out
}

// NextDue is when the next execution is due (zero: one is due now).
func (s *Scheduler) NextDue() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	var next time.Time
	for _, x := range s.execs {
		if x.st.PreviousStart.IsZero() {
			return time.Time{}
		}
		if due := x.st.PreviousStart.Add(x.spec.Interval); next.IsZero() || due.Before(next) {
			next = due
		}
	}
	return next
}

// Loop ticks until ctx ends: at every due time, checking at least every
// poll (for rule changes). The server runs it on a goroutine.
func (s *Scheduler) Loop(ctx context.Context, poll time.Duration) {
	if poll <= 0 {
		poll = time.Second
	}
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		s.Tick(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Close stops the detector and saves every rule's state. The scheduler
// evaluates no event afterwards (Feed and FeedBatch fail).
func (s *Scheduler) Close(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.det != nil {
		s.det.stop()
		s.det = nil
	}
	xs := make([]*executor, 0, len(s.execs))
	for _, x := range s.execs {
		xs = append(xs, x)
	}
	return s.save(ctx, xs)
}

// AlertStatusChanged tells the scheduler an alert's workflow status
// changed (the API calls it): closing an alert that suppression folds
// alerts into ends its suppression group, so the next alert of the group
// is created (Kibana's default on closure).
func (s *Scheduler) AlertStatusChanged(ruleID, uuid, status string) {
	if status != alerts.StatusClosed {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if x := s.execs[ruleID]; x != nil && x.supp != nil {
		x.supp.Forget(uuid)
		x.markDirty()
	}
}

// Flush saves the state of every rule that changed since it was last
// saved. A log consumer calls it before acknowledging a batch: what a
// crash loses is then exactly what the redelivered batch rebuilds.
func (s *Scheduler) Flush(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var xs []*executor
	for _, x := range s.execs {
		if x.dirty {
			xs = append(xs, x)
		}
	}
	if err := s.save(ctx, xs); err != nil {
		return err
	}
	for _, x := range xs {
		x.dirty = false
	}
	return nil
}

// Stats are the scheduler's feed counters.
type Stats struct {
	Fed, Malformed int64
	Engine         detect.Stats
}

// Stats returns the feed counters.
func (s *Scheduler) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := Stats{Fed: s.fed, Malformed: s.feedErr}
	if s.det != nil {
		st.Engine = s.det.stats()
	}
	return st
}

// executor is one rule's schedule state.
type executor struct {
	s           *Scheduler
	r           *rule.Rule
	spec        Spec
	supp        *detect.Suppressor
	batch       bool
	rangePath   *event.Path
	fallback    bool
	st          state
	scannedBase int64 // s.fed when the open period's count was restored
	dirty       bool  // state changed since it was saved
	// pendingIDs and deferredIDs index the groups queued for the store
	// (Scheduler.pending) and those waiting in st.Deferred by their
	// lead alert's id.
	pendingIDs  map[string]*group
	deferredIDs map[string]*group
	// Deferred groups changed since the last save: to upsert, to delete.
	deferUp   map[string]*group
	deferGone map[string]bool
}

func (s *Scheduler) newExecutor(r *rule.Rule, sp Spec, now time.Time) (*executor, error) {
	x := &executor{s: s, scannedBase: s.fed}
	if err := x.configure(r, sp); err != nil {
		return nil, err
	}
	b, err := s.opts.Store.LoadState(context.Background(), r.RuleID)
	if err != nil {
		return nil, err
	}
	if b != nil {
		if err := json.Unmarshal(b, &x.st); err != nil {
			return nil, fmt.Errorf("rule %s: saved scheduler state: %w", r.RuleID, err)
		}
		// The open period's scan count continues from what was saved.
		x.scannedBase = s.fed - x.st.Scanned
		rows, err := s.opts.Store.LoadDeferred(context.Background(), r.RuleID)
		if err != nil {
			return nil, err
		}
		for _, row := range rows {
			var g group
			if err := json.Unmarshal(row.Data, &g); err != nil || len(g.Alerts) == 0 {
				return nil, fmt.Errorf("rule %s: saved deferred alert %s: %v", r.RuleID, row.UUID, err)
			}
			x.st.Deferred = append(x.st.Deferred, &g)
			x.indexDeferred(&g)
		}
		if x.supp != nil {
			x.supp.Restore(x.st.Suppression)
		}
	} else {
		x.st.PeriodStart = now
		x.st.ExecutionID = executionID(r.RuleID, now, "scheduled")
	}
	return x, nil
}

// configure derives what the executor needs from its rule; a changed
// suppression setting starts new groups.
func (x *executor) configure(r *rule.Rule, sp Spec) error {
	cfg, err := detect.ParseSuppression(r.AlertSuppression)
	if err != nil {
		return fmt.Errorf("rule %s (%s): %w", r.RuleID, r.Name, err)
	}
	switch {
	case cfg == nil:
		x.supp = nil
	case x.supp == nil || !reflect.DeepEqual(x.supp.Config(), *cfg):
		x.supp = detect.NewSuppressor(*cfg)
	}
	x.r, x.spec = r, sp
	x.batch = needsAllEvents(r)
	field := "@timestamp"
	x.fallback = false
	if r.TimestampOverride != "" {
		field = r.TimestampOverride
		x.fallback = !r.TimestampOverrideFallbackDisabled
	}
	x.rangePath = event.CompilePath(field)
	return nil
}

// needsAllEvents: queries whose results need every event of a window
// first cannot stream (eql.Runner.Stream); they run per execution over
// the event log instead.
func needsAllEvents(r *rule.Rule) bool {
	q, err := eql.Parse(r.Query)
	if err != nil {
		return false
	}
	if len(q.Pipes) > 0 || q.Kind == eql.SampleQuery {
		return true
	}
	if q.Kind == eql.SequenceQuery {
		for _, t := range q.Sequence.Terms {
			if t.Missing {
				return true
			}
		}
	}
	return false
}

func executionID(ruleID string, t time.Time, typ string) string {
	sum := sha256.Sum256([]byte(ruleID + "\x00" + t.UTC().Format(time.RFC3339Nano) + "\x00" + typ))
	h := hex.EncodeToString(sum[:16])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// rangeTime is the time Kibana's range filter sees: timestamp_override,
// else (with fallback, when the field is absent) @timestamp.
func (x *executor) rangeTime(g []*detect.Alert) (int64, bool) {
	a := g[0]
	if len(g) > 1 {
		a = g[1] // a sequence: its first event
	}
	// The alert's own @timestamp is its creation time: the event's is
	// OriginalTime. An override field is copied from the event.
	field := x.rangePath.Name()
	if field != "@timestamp" {
		if s := a.Field(field); s != "" {
			ms, ok := schema.ParseDate(s, nil)
			return ms, ok
		}
		if !x.fallback {
			return 0, false
		}
	}
	if !a.OriginalTime.IsZero() {
		return a.OriginalTime.UnixMilli(), true
	}
	return 0, false
}

// convert renders detect alerts for the store.
func convert(g []*detect.Alert, now time.Time) []*alerts.Alert {
	out := make([]*alerts.Alert, len(g))
	for i, a := range g {
		ts := a.OriginalTime
		if ts.IsZero() {
			ts = now
		}
		out[i] = &alerts.Alert{
			UUID: a.UUID, RuleID: a.Rule.RuleID, Severity: a.Severity, Host: a.Field("host.name"),
			Timestamp: ts, Created: now, Kind: a.Kind.String(), BuildingBlock: a.BuildingBlock,
			GroupID: a.GroupID, Doc: a.JSON(),
		}
	}
	return out
}

// offer takes one alert group found by continuous evaluation; stored
// says whether its lead alert is in the store already.
func (x *executor) offer(g []*detect.Alert, stored bool, now time.Time) {
	ctx := context.Background()
	lead := g[0]
	if stored || x.isDeferred(lead.UUID) {
		x.st.Duplicates++
		x.markDirty()
		return
	}
	rangeMs, ok := x.rangeTime(g)
	if !ok {
		rangeMs = now.UnixMilli()
	}
	if x.supp != nil {
		d, err := x.supp.Offer(g, now)
		if err != nil {
			x.fail(err)
			return
		}
		if d.Duplicate {
			x.st.Duplicates++
			x.markDirty()
			return
		}
		if d.Suppressed {
			x.st.Suppressed++
			x.applySuppression(ctx, d, now)
			x.markDirty()
			return
		}
	}
	if x.st.Groups < x.spec.MaxSignals {
		x.create(ctx, &group{RangeMs: rangeMs, Alerts: convert(g, now)}, now, "scheduled")
	} else {
		x.st.NotCreated++
		if len(x.st.Deferred) >= x.backlogCap() {
			// A rule far beyond its limit: keep the earliest, count the
			// rest (reported in the execution record). Not rendered: under
			// an alert storm most groups end here.
			x.st.Dropped++
		} else {
			x.defer1(&group{RangeMs: rangeMs, Alerts: convert(g, now)})
		}
	}
	x.markDirty()
}

func (x *executor) isDeferred(uuid string) bool {
	return x.pendingIDs[uuid] != nil || x.deferredIDs[uuid] != nil
}

func (x *executor) indexDeferred(g *group) {
	if x.deferredIDs == nil {
		x.deferredIDs = map[string]*group{}
	}
	x.deferredIDs[g.Alerts[0].UUID] = g
}

// defer1 queues a group in range-time order (the earliest are created
// first, as Kibana keeps the earliest matches).
func (x *executor) defer1(g *group) {
	i := sort.Search(len(x.st.Deferred), func(i int) bool { return x.st.Deferred[i].RangeMs > g.RangeMs })
	x.st.Deferred = append(x.st.Deferred, nil)
	copy(x.st.Deferred[i+1:], x.st.Deferred[i:])
	x.st.Deferred[i] = g
	x.indexDeferred(g)
	x.deferChanged(g)
}

// deferChanged notes a waiting group to save (new or updated).
func (x *executor) deferChanged(g *group) {
	if x.deferUp == nil {
		x.deferUp = map[string]*group{}
	}
	u := g.Alerts[0].UUID
	x.deferUp[u] = g
	delete(x.deferGone, u)
	x.dirty = true
}

func (x *executor) applySuppression(ctx context.Context, d detect.Decision, now time.Time) {
	fields := []alerts.Field{
		{Key: "kibana.alert.suppression.docs_count", Value: d.DocsCount},
		{Key: "kibana.alert.suppression.end", Value: d.End.UTC().Format("2006-01-02T15:04:05.000Z")},
		{Key: "kibana.alert.last_detected", Value: now.UTC().Format("2006-01-02T15:04:05.000Z")},
	}
	// The alert it folds into may not be stored yet: queued for this
	// batch's transaction, or deferred by max_signals.
	if g := x.pendingIDs[d.Into]; g != nil {
		doc, err := alerts.SetFields(g.Alerts[0].Doc, fields)
		if err != nil {
			x.fail(err)
		} else {
			g.Alerts[0].Doc = doc
		}
		return
	}
	if g := x.deferredIDs[d.Into]; g != nil {
		doc, err := alerts.SetFields(g.Alerts[0].Doc, fields)
		if err != nil {
			x.fail(err)
		} else {
			g.Alerts[0].Doc = doc
			x.deferChanged(g)
		}
		return
	}
	err := x.s.opts.Store.UpdateFields(ctx, d.Into, fields)
	if err != nil {
		x.fail(err)
	}
}

func (x *executor) fail(err error) {
	if len(x.st.Errors) < 20 {
		x.st.Errors = append(x.st.Errors, err.Error())
	}
	x.dirty = true
}

// create counts a group as created by the open execution and queues it
// for the store (Scheduler.commit).
func (x *executor) create(ctx context.Context, g *group, now time.Time, typ string) bool {
	ts := now.UTC().Format("2006-01-02T15:04:05.000Z")
	for _, a := range g.Alerts {
		doc, err := alerts.SetFields(a.Doc, []alerts.Field{
			{Key: "@timestamp", Value: ts},
			{Key: "kibana.alert.start", Value: ts},
			{Key: "kibana.alert.last_detected", Value: ts},
			{Key: "kibana.alert.intended_timestamp", Value: ts},
			{Key: "kibana.alert.rule.execution.uuid", Value: x.st.ExecutionID},
			{Key: "kibana.alert.rule.execution.type", Value: typ},
		})
		if err != nil {
			x.fail(err)
			return false
		}
		a.Doc, a.Created = doc, now
	}
	x.st.Groups++
	x.st.Alerts += len(g.Alerts)
	x.st.RangeMs = append(x.st.RangeMs, g.RangeMs)
	if x.pendingIDs == nil {
		x.pendingIDs = map[string]*group{}
	}
	x.pendingIDs[g.Alerts[0].UUID] = g
	x.s.pending = append(x.s.pending, pendingGroup{x: x, g: g, typ: typ})
	x.markDirty()
	return true
}

// uncount takes back a group create counted.
func (x *executor) uncount(g *group) {
	x.st.Groups--
	x.st.Alerts -= len(g.Alerts)
	for i := len(x.st.RangeMs) - 1; i >= 0; i-- {
		if x.st.RangeMs[i] == g.RangeMs {
			x.st.RangeMs = append(x.st.RangeMs[:i], x.st.RangeMs[i+1:]...)
			break
		}
	}
}

// commit stores the pending groups in one transaction and notifies. A
// group already stored (a race the existence check missed) is counted as
// a duplicate; on a store error the groups wait for the next execution
// (an alert is never lost to a store error).
func (s *Scheduler) commit(ctx context.Context) {
	if len(s.pending) == 0 {
		return
	}
	pend := s.pending
	s.pending = nil
	var all []*alerts.Alert
	for _, p := range pend {
		all = append(all, p.g.Alerts...)
		delete(p.x.pendingIDs, p.g.Alerts[0].UUID)
	}
	isNew, err := s.opts.Store.Insert(ctx, all)
	if err != nil {
		for _, p := range pend {
			p.x.uncount(p.g)
			p.x.fail(err)
			p.x.defer1(p.g)
		}
		return
	}
	i := 0
	for _, p := range pend {
		n := len(p.g.Alerts)
		flags := isNew[i : i+n]
		i += n
		if !flags[0] {
			p.x.uncount(p.g)
			p.x.st.Duplicates++
			continue
		}
		var created []*alerts.Alert
		for j, a := range p.g.Alerts {
			if flags[j] {
				created = append(created, a)
			} else {
				p.x.st.Alerts--
			}
		}
		if s.opts.Notify != nil && len(created) > 0 {
			s.opts.Notify(Notification{Rule: p.x.r, Alerts: created, Manual: p.typ == "manual"})
		}
	}
}

// drain creates deferred groups while the budget allows.
func (x *executor) drain(ctx context.Context, budget int, now time.Time) {
	for len(x.st.Deferred) > 0 && x.st.Groups < budget {
		g := x.st.Deferred[0]
		x.st.Deferred = x.st.Deferred[1:]
		if x.deferGone == nil {
			x.deferGone = map[string]bool{}
		}
		x.deferGone[g.Alerts[0].UUID] = true
		delete(x.deferUp, g.Alerts[0].UUID)
		delete(x.deferredIDs, g.Alerts[0].UUID)
		if !x.create(ctx, g, now, "scheduled") {
			break
		}
	}
}

// execute closes the open execution at startedAt and opens the next.
func (x *executor) execute(ctx context.Context, startedAt time.Time) Record {
	t0 := time.Now()
	plan := PlanExecution(x.spec, startedAt, x.st.PreviousStart)
	rec := Record{
		ExecutionID: x.st.ExecutionID, RuleID: x.r.RuleID, Type: "scheduled", Start: startedAt,
		Windows: plan.Windows, KibanaWindows: plan.KibanaWindows, Gap: plan.Gap,
	}
	if plan.Gap != nil {
		rec.GapMs = plan.Gap.To.Sub(plan.Gap.From).Milliseconds()
	}
	if x.batch {
		x.runBatch(ctx, plan.Windows, startedAt, &rec)
	}
	// Each window has a max_signals budget: deferred groups fill what the
	// period left of it.
	budget := len(plan.Windows) * x.spec.MaxSignals
	x.drain(ctx, budget, startedAt)
	x.s.commit(ctx)
	first := plan.Windows[0].From.UnixMilli()
	for _, ms := range x.st.RangeMs {
		if ms < first {
			rec.Late++
		}
	}
	rec.EventsScanned += x.s.fed - x.scannedBase
	rec.AlertsCreated += x.st.Alerts
	rec.GroupsCreated += x.st.Groups
	rec.NotCreated = len(x.st.Deferred)
	rec.Duplicates += x.st.Duplicates
	rec.Suppressed += x.st.Suppressed
	var msgs []string
	rec.Status = StatusSucceeded
	if rec.NotCreated > 0 {
		rec.Status = StatusWarning
		msgs = append(msgs, MaxSignalsMessage)
	}
	if x.st.Dropped > 0 {
		rec.Dropped = x.st.Dropped
		rec.Status = StatusWarning
		msgs = append(msgs, fmt.Sprintf("%d alerts were not created: more than %d were waiting for later executions.", x.st.Dropped, x.backlogCap()))
	}
	if x.spec.Capped {
		rec.Status = StatusWarning
		msgs = append(msgs, fmt.Sprintf("max_signals %d is above the limit of %d alerts per run: %d applies", x.r.MaxSignals, x.capOrDefault(), x.spec.MaxSignals))
	}
	if len(x.st.Errors) > 0 {
		rec.Status = StatusFailed
		msgs = append(msgs, x.st.Errors...)
	}
	rec.Message = strings.Join(msgs, " ")
	rec.DurationMs = time.Since(t0).Milliseconds()
	if _, err := x.s.opts.Store.AddExecution(ctx, x.r.RuleID, startedAt, rec); err != nil {
		rec.Status, rec.Message = StatusFailed, strings.TrimSpace(rec.Message+" "+err.Error())
	}
	// The next execution's period starts now.
	deferred := x.st.Deferred
	x.st = state{PreviousStart: startedAt, PeriodStart: startedAt, ExecutionID: executionID(x.r.RuleID, startedAt, "scheduled"), Deferred: deferred}
	x.scannedBase = x.s.fed
	if x.supp != nil {
		x.supp.Reset()
		x.supp.Expire(startedAt)
	}
	x.drain(ctx, x.spec.MaxSignals, startedAt)
	x.s.commit(ctx)
	x.saveQuiet(ctx)
	return rec
}

// BacklogFactor bounds the deferred alert groups of a rule to
// BacklogFactor x max_signals.
const BacklogFactor = 100

func (x *executor) backlogCap() int { return BacklogFactor * x.spec.MaxSignals }

func (x *executor) capOrDefault() int {
	if x.s.opts.MaxSignalsCap > 0 {
		return x.s.opts.MaxSignalsCap
	}
	return DefaultMaxSignalsCap
}

// save stores the executors' states and waiting groups in one
// transaction.
func (s *Scheduler) save(ctx context.Context, xs []*executor) error {
	saves := make([]alerts.RuleSave, 0, len(xs))
	for _, x := range xs {
		sv, err := x.saveData()
		if err != nil {
			return fmt.Errorf("rule %s: state: %w", x.r.RuleID, err)
		}
		saves = append(saves, sv)
	}
	if err := s.opts.Store.SaveStates(ctx, saves); err != nil {
		return err
	}
	for _, x := range xs {
		clear(x.deferUp)
		clear(x.deferGone)
	}
	return nil
}

// saveData is what save stores for x.
func (x *executor) saveData() (alerts.RuleSave, error) {
	sv := alerts.RuleSave{RuleID: x.r.RuleID}
	if x.supp != nil {
		x.st.Suppression = x.supp.Groups()
	}
	x.st.Scanned = x.s.fed - x.scannedBase
	for u, g := range x.deferUp {
		data, err := g.MarshalJSON() // not json.Marshal: it would re-scan every document
		if err != nil {
			return sv, err
		}
		sv.Upsert = append(sv.Upsert, alerts.DeferredRow{UUID: u, RangeMs: g.RangeMs, Data: data})
	}
	for u := range x.deferGone {
		sv.Delete = append(sv.Delete, u)
	}
	b, err := json.Marshal(&x.st)
	sv.State = b
	return sv, err
}

func (x *executor) saveQuiet(ctx context.Context) {
	if err := x.s.save(ctx, []*executor{x}); err != nil {
		x.fail(err)
	}
	x.dirty = false
}

// markDirty notes a state change; Flush or the next execution saves it.
func (x *executor) markDirty() { x.dirty = true }
