package schedule

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/vigilsec/vigil/detect"
	"github.com/vigilsec/vigil/eql"
	"github.com/vigilsec/vigil/event"
	"github.com/vigilsec/vigil/rule"
	"github.com/vigilsec/vigil/schema"
	"github.com/vigilsec/vigil/store/alerts"
)

// ErrNoEventLog: a manual run or a batch rule needs the event log.
var ErrNoEventLog = errors.New("no event log to read back (schedule.Options.Events)")

// ErrUnknownRule: no such rule_id.
var ErrUnknownRule = errors.New("unknown rule")

// ManualWindows splits [from, to] into the executions the schedule
// implies, as Kibana's manual runs do: one run every interval from from,
// each covering its own [run-from, run-to] (so consecutive windows overlap
// by the extra look-back).
func ManualWindows(sp Spec, from, to time.Time) []Window {
	var out []Window
	for run := from.Add(sp.Interval); ; run = run.Add(sp.Interval) {
		out = append(out, Window{From: run.Add(-sp.LookBack), To: run.Add(-sp.ToOffset)})
		if !run.Before(to) || len(out) >= 100000 {
			break
		}
	}
	return out
}

// Backfill is a manual run without a running scheduler (vigil rules run):
// it neither loads nor saves the rules' schedule state. opts needs Store
// and Events.
func Backfill(ctx context.Context, rules []*rule.Rule, ruleID string, from, to time.Time, opts Options) ([]Record, error) {
	if opts.Store == nil {
		return nil, errors.New("backfill: no alert store")
	}
	if opts.Clock == nil {
		opts.Clock = SystemClock{}
	}
	if opts.SpaceID == "" {
		opts.SpaceID = "default"
	}
	s := &Scheduler{opts: opts, rules: rules, execs: map[string]*executor{}}
	return s.Run(ctx, ruleID, from, to)
}

// Run is a manual run (backfill) of one rule over [from, to]: the range is
// split into scheduled-like executions, the rule is evaluated over the
// event log, and alerts are created with max_signals per execution
// (groups over the limit move on to the next execution of the run and are
// counted). Deterministic ids make a run over a covered range create no
// duplicates. Alerts carry kibana.alert.rule.execution.type "manual".
// It does not hold the scheduler's lock while reading the log.
func (s *Scheduler) Run(ctx context.Context, ruleID string, from, to time.Time) ([]Record, error) {
	if !from.Before(to) {
		return nil, fmt.Errorf("manual run: from %s is not before to %s", from.Format(time.RFC3339), to.Format(time.RFC3339))
	}
	s.mu.Lock()
	var r *rule.Rule
	for _, x := range s.rules {
		if x.RuleID == ruleID {
			r = x
		}
	}
	s.mu.Unlock()
	if r == nil {
		return nil, fmt.Errorf("manual run: %w %q", ErrUnknownRule, ruleID)
	}
	if r.Type != "eql" {
		return nil, fmt.Errorf("manual run: rule %s: type %q is not run by Vigil yet", ruleID, r.Type)
	}
	sp, err := SpecOf(r, s.opts.MaxSignalsCap)
	if err != nil {
		return nil, fmt.Errorf("manual run: %w", err)
	}
	windows := ManualWindows(sp, from, to)
	t0 := time.Now()
	groups, scanned, err := s.evaluate(ctx, r, windows)
	if err != nil {
		return nil, fmt.Errorf("manual run of %s: %w", ruleID, err)
	}
	now := s.opts.Clock.Now()
	var supp *detect.Suppressor
	if cfg, err := detect.ParseSuppression(r.AlertSuppression); err != nil {
		return nil, fmt.Errorf("manual run of %s: %w", ruleID, err)
	} else if cfg != nil {
		supp = detect.NewSuppressor(*cfg)
	}
	recs := make([]Record, len(windows))
	runID := executionID(ruleID, now, "manual")
	for i, w := range windows {
		recs[i] = Record{ExecutionID: fmt.Sprintf("%s-%d", runID, i), RuleID: ruleID, Type: "manual", Start: w.To.Add(sp.ToOffset),
			Windows: []Window{w}, KibanaWindows: 1, Status: StatusSucceeded, EventsScanned: scanned[i]}
	}
	// Each group goes to the first execution whose window holds it; the
	// overflow of an execution moves to the next.
	var carry []*group
	gi := 0
	for i, w := range windows {
		rec := &recs[i]
		queue := carry
		carry = nil
		for gi < len(groups) && groups[gi].RangeMs <= w.To.UnixMilli() {
			queue = append(queue, groups[gi])
			gi++
		}
		if supp != nil {
			supp.Reset()
		}
		for _, g := range queue {
			if rec.GroupsCreated >= sp.MaxSignals {
				carry = append(carry, g)
				continue
			}
			s.createManual(ctx, r, g, rec, supp, now)
		}
		rec.NotCreated = len(carry)
		if rec.NotCreated > 0 {
			rec.Status, rec.Message = StatusWarning, MaxSignalsMessage
		}
	}
	for i := range recs {
		if i == len(recs)-1 {
			recs[i].DurationMs = time.Since(t0).Milliseconds()
		}
		if _, err := s.opts.Store.AddExecution(ctx, ruleID, recs[i].Start, recs[i]); err != nil {
			return recs, err
		}
	}
	return recs, nil
}

func (s *Scheduler) createManual(ctx context.Context, r *rule.Rule, g *group, rec *Record, supp *detect.Suppressor, now time.Time) {
	lead := g.Alerts[0]
	have, err := s.opts.Store.Exists(ctx, []string{lead.UUID})
	if err != nil {
		rec.Status, rec.Message = StatusFailed, err.Error()
		return
	}
	if have[lead.UUID] {
		rec.Duplicates++
		return
	}
	if supp != nil && g.src != nil {
		d, err := supp.Offer(g.src, now)
		if err == nil && d.Suppressed {
			if !d.Duplicate {
				rec.Suppressed++
				s.opts.Store.UpdateFields(ctx, d.Into, []alerts.Field{
					{Key: "kibana.alert.suppression.docs_count", Value: d.DocsCount},
					{Key: "kibana.alert.suppression.end", Value: d.End.UTC().Format("2006-01-02T15:04:05.000Z")},
				})
			} else {
				rec.Duplicates++
			}
			return
		}
		// A new group's suppression fields were written into the detect
		// alert: render again.
		g.Alerts = convert(g.src, now)
	}
	ts := now.UTC().Format("2006-01-02T15:04:05.000Z")
	for _, a := range g.Alerts {
		doc, err := alerts.SetFields(a.Doc, []alerts.Field{
			{Key: "@timestamp", Value: ts},
			{Key: "kibana.alert.start", Value: ts},
			{Key: "kibana.alert.last_detected", Value: ts},
			{Key: "kibana.alert.intended_timestamp", Value: rec.Start.UTC().Format("2006-01-02T15:04:05.000Z")},
			{Key: "kibana.alert.rule.execution.uuid", Value: rec.ExecutionID},
			{Key: "kibana.alert.rule.execution.type", Value: "manual"},
		})
		if err != nil {
			rec.Status, rec.Message = StatusFailed, err.Error()
			return
		}
		a.Doc = doc
	}
	isNew, err := s.opts.Store.Insert(ctx, g.Alerts)
	if err != nil {
		rec.Status, rec.Message = StatusFailed, err.Error()
		return
	}
	if !isNew[0] {
		rec.Duplicates++
		return
	}
	var created []*alerts.Alert
	for i, a := range g.Alerts {
		if isNew[i] {
			created = append(created, a)
		}
	}
	rec.GroupsCreated++
	rec.AlertsCreated += len(created)
	if g.RangeMs < rec.Windows[0].From.UnixMilli() {
		rec.Late++
	}
	if s.opts.Notify != nil {
		s.opts.Notify(Notification{Rule: r, Alerts: created, Manual: true})
	}
}

// evaluate runs one rule over the log's events of the windows and returns
// its alert groups in range-time order, with the events scanned per
// window (by range time).
func (s *Scheduler) evaluate(ctx context.Context, r *rule.Rule, windows []Window) ([]*group, []int64, error) {
	if s.opts.Events == nil {
		return nil, nil, ErrNoEventLog
	}
	rs, errs := detect.CompileWith([]*rule.Rule{r}, detect.CompileOptions{Exceptions: s.opts.Exceptions})
	if len(errs) > 0 {
		return nil, nil, errors.Join(errs...)
	}
	if len(rs.Rules()) == 0 {
		return nil, nil, fmt.Errorf("rule %s cannot run", r.RuleID)
	}
	from, to := windows[0].From, windows[len(windows)-1].To
	now := s.opts.Clock.Now()
	eng := rs.NewEngine(detect.Options{DefaultIndex: s.opts.DefaultIndex, SpaceID: s.opts.SpaceID, Now: now, From: from, To: to})
	x := &executor{r: r}
	field := "@timestamp"
	if r.TimestampOverride != "" {
		field, x.fallback = r.TimestampOverride, !r.TimestampOverrideFallbackDisabled
	}
	x.rangePath = event.CompilePath(field)
	ts := event.CompilePath("@timestamp")
	scanned := make([]int64, len(windows))
	var p event.Parser
	var buf []byte
	n := 0
	err := s.opts.Events.Scan(ctx, from, to, func(ev Event) error {
		n++
		line := bytes.TrimSpace(ev.Line)
		if ev.Index != "" && len(line) > 1 && line[0] == '{' && !bytes.Contains(line, []byte(`"_index"`)) {
			buf = append(buf[:0], `{"_index":`...)
			buf = event.AppendJSONString(buf, ev.Index)
			rest := bytes.TrimSpace(line[1:])
			if len(rest) > 0 && rest[0] != '}' {
				buf = append(buf, ',')
			}
			line = append(buf, rest...)
		}
		if d, err := p.Parse(line); err == nil {
			ms, ok := docTime(d, x.rangePath)
			if !ok && x.fallback {
				if _, present := d.First(x.rangePath); !present {
					ms, ok = docTime(d, ts)
				}
			}
			if ok {
				for i, w := range windows {
					if ms >= w.From.UnixMilli() && ms <= w.To.UnixMilli() {
						scanned[i]++
						break
					}
				}
			}
		}
		eng.Offer(line, eql.Source{ID: ev.ID, Line: n}) // malformed lines are counted by the engine
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	as, ferr := eng.Finish()
	var out []*group
	for i := 0; i < len(as); {
		j := i + 1
		if as[i].Kind == detect.SequenceAlert {
			for j < len(as) && as[j].Kind == detect.BuildingBlockAlert && as[j].GroupID == as[i].UUID {
				j++
			}
		}
		g := as[i:j:j]
		ms, ok := x.rangeTime(g)
		if !ok {
			ms = now.UnixMilli()
		}
		out = append(out, &group{RangeMs: ms, Alerts: convert(g, now), src: g})
		i = j
	}
	sortGroups(out)
	return out, scanned, ferr
}

func docTime(d *event.Doc, p *event.Path) (int64, bool) {
	v, ok := d.First(p)
	if !ok {
		return 0, false
	}
	switch v.Kind {
	case event.Int:
		return v.I, true
	case event.Float:
		return int64(v.F), true
	case event.String:
		return schema.ParseDate(v.S, nil)
	}
	return 0, false
}

// runBatch evaluates a rule that cannot stream over the execution's
// windows and offers its groups as continuous evaluation would.
func (x *executor) runBatch(ctx context.Context, windows []Window, now time.Time, rec *Record) {
	groups, scanned, err := x.s.evaluate(ctx, x.r, windows)
	if err != nil {
		x.fail(fmt.Errorf("rule %s needs all events of its window (missing events, samples or pipes): %w", x.r.RuleID, err))
	}
	for _, n := range scanned {
		rec.EventsScanned += n
	}
	leads := make([]string, len(groups))
	for i, g := range groups {
		leads[i] = g.src[0].UUID
	}
	have, err := x.s.opts.Store.Exists(ctx, leads) // one query: the store changes only at commit
	if err != nil {
		x.fail(err)
		return
	}
	for _, g := range groups {
		x.offer(g.src, have[g.src[0].UUID], now)
	}
}
