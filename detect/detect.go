// Package detect runs a set of Elastic detection rules over a stream of raw
// NDJSON events and produces alerts as Kibana writes them.
//
// A RuleSet is compiled once; each Engine (one goroutine) offers lines to it.
// Per line, literal dispatch (dispatch.go) decides in one scan which rules
// can match, so a line no rule can match is never parsed; a parsed line is
// then gated by index pattern, event category and time range before the
// candidate rules' EQL runners see it. Dispatch never changes the results
// (TestDispatchEquivalence). Alerts are built when the input ends, with
// Kibana's ids, fields and sequence grouping (alert.go, intersect.go).
package detect

import (
	"errors"
	"fmt"
	"math/bits"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/vigilsec/vigil/eql"
	"github.com/vigilsec/vigil/event"
	"github.com/vigilsec/vigil/rule"
	"github.com/vigilsec/vigil/schema"
)

// RuleSet is a compiled set of runnable rules. It is immutable and may be
// shared by engines running on several goroutines.
type RuleSet struct {
	rules    []*compiledRule
	skipped  map[string]int
	lits     *litIndex
	hasSlash bool // some rule has a literal with '/'
	// vals is the field-value dispatch table (values.go), used instead of
	// the literal scan for rule sets of more than literalDispatchMax filters.
	vals   *valIndex
	all    bitset
	cats   []*catField
	ranges []*rangeSpec

	excWarnings []string // exceptions.go
}

// compiledRule is a rule with everything the engine derives from it.
type compiledRule struct {
	r        *rule.Rule
	prog     *eql.Program
	uuid     string // kibana.alert.rule.uuid
	index    *indexMatcher
	cats     []string // categories the query's filters need; nil: any
	catField string
	literals [][][]eql.RequiredLiteral // per filter, its literal groups
	exc      *exceptionSet             // rule exceptions (exceptions.go); nil: none

	// Alert constants.
	jvOnce               sync.Once
	jv                   *ruleJV
	from, to, interval   string
	createdAt, updatedAt string
	maxSignals, version  int
	immutable            bool
}

// CompileError is a rule that could not be compiled.
type CompileError struct {
	Rule *rule.Rule
	Err  error
}

func (e *CompileError) Error() string {
	return fmt.Sprintf("rule %s (%s): %v", e.Rule.RuleID, e.Rule.Name, e.Err)
}

func (e *CompileError) Unwrap() error { return e.Err }

// Compile compiles the rules Vigil can run (type "eql"); the others are
// counted by type in Skipped. Each rule that fails to compile is reported
// as a *CompileError and left out.
func Compile(rules []*rule.Rule) (*RuleSet, []error) {
	return CompileWith(rules, CompileOptions{})
}

// CompileWith is Compile with options (exception lists).
func CompileWith(rules []*rule.Rule, opts CompileOptions) (*RuleSet, []error) {
	rs := &RuleSet{skipped: map[string]int{}}
	var errs []error
	results := compileAll(rules, opts)
	for i, r := range rules {
		if r.Type != "eql" {
			t := r.Type
			if t == "" {
				t = "(none)"
			}
			rs.skipped[t]++
			continue
		}
		res := results[i]
		rs.excWarnings = append(rs.excWarnings, res.warns...)
		if res.err != nil {
			errs = append(errs, &CompileError{Rule: r, Err: res.err})
			continue
		}
		rs.rules = append(rs.rules, res.cr)
	}
	if opts.dispatch == dispatchValues || (opts.dispatch == dispatchAuto && dispatchFor(len(rs.rules)) == dispatchValues) {
		rs.vals = newValIndex(rs.rules)
	} else {
		// The raw-line literal scan is only for rule sets dispatched by it
		// (building its index is a serial ~40ms with the whole corpus).
		rs.lits = newLitIndex(rs.rules)
		rs.hasSlash = !rs.lits.slash.empty()
	}
	rs.all = newBitset(len(rs.rules))
	catByField := map[string]*catField{}
	rangeByKey := map[string]*rangeSpec{}
	for i, cr := range rs.rules {
		rs.all.set(i)
		cf := catByField[cr.catField]
		if cf == nil {
			cf = &catField{path: event.CompilePath(cr.catField), any: newBitset(len(rs.rules)), by: map[string]bitset{}}
			catByField[cr.catField] = cf
			rs.cats = append(rs.cats, cf)
		}
		if cr.cats == nil {
			cf.any.set(i)
		}
		for _, c := range cr.cats {
			if cf.by[c] == nil {
				cf.by[c] = newBitset(len(rs.rules))
			}
			cf.by[c].set(i)
		}
		key := cr.r.TimestampOverride + "\x00" + fmt.Sprint(cr.r.TimestampOverrideFallbackDisabled)
		rsp := rangeByKey[key]
		if rsp == nil {
			rsp = newRangeSpec(cr.r, len(rs.rules))
			rangeByKey[key] = rsp
			rs.ranges = append(rs.ranges, rsp)
		}
		rsp.rules.set(i)
	}
	return rs, errs
}

// compiled is one rule's compilation.
type compiled struct {
	cr    *compiledRule
	warns []string
	err   error
}

// compileAll compiles the EQL rules on every core, or takes them from
// opts.cache (Parallel compiles the event queries once for all engines: a
// compiledRule is immutable once built).
func compileAll(rules []*rule.Rule, opts CompileOptions) []compiled {
	out := make([]compiled, len(rules))
	var todo []int
	for i, r := range rules {
		if r.Type != "eql" {
			continue
		}
		if c, ok := opts.cache.get(r); ok {
			out[i] = c
			continue
		}
		todo = append(todo, i)
	}
	workers := min(runtime.GOMAXPROCS(0), len(todo)/32+1)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := w; k < len(todo); k += workers {
				i := todo[k]
				r := rules[i]
				cr, err := compileRule(r)
				var warns []string
				if err == nil {
					cr.exc, warns, err = compileRuleExceptions(r, opts.Exceptions)
				}
				out[i] = compiled{cr: cr, warns: warns, err: err}
			}
		}()
	}
	wg.Wait()
	for _, i := range todo {
		opts.cache.put(rules[i], out[i])
	}
	return out
}

// compileCache shares compiled rules between the rule sets of one
// Parallel (nil: none).
type compileCache struct{ m map[*rule.Rule]compiled }

func (c *compileCache) get(r *rule.Rule) (compiled, bool) {
	if c == nil {
		return compiled{}, false
	}
	v, ok := c.m[r]
	return v, ok
}

func (c *compileCache) put(r *rule.Rule, v compiled) {
	if c != nil {
		c.m[r] = v
	}
}

// literalDispatchMax is the largest rule set dispatched by a literal scan
// of the raw line. A few rules' literals are rare enough that most lines
// are skipped unparsed; with more, nearly every line holds some rule's
// literal, and value dispatch after parsing evaluates far fewer rules
// (13.3 instead of 19.8 rules per event with the prebuilt corpus over
// generated endpoint events).
const literalDispatchMax = 16

func dispatchFor(rules int) dispatchMode {
	if rules > literalDispatchMax {
		return dispatchValues
	}
	return dispatchLiterals
}

func compileRule(r *rule.Rule) (*compiledRule, error) {
	prog, err := eql.ParseAndCompile(r.Query, eql.Options{
		TimestampField:  r.TimestampField,
		TiebreakerField: r.TiebreakerField,
		CategoryField:   r.EventCategoryOverride,
		Size:            eql.NoLimit,
	})
	if err != nil {
		return nil, err
	}
	cr := &compiledRule{r: r, prog: prog, catField: prog.Opts.CategoryField}
	cr.uuid = r.ID
	if cr.uuid == "" {
		// No saved object: the rule_id (a UUID for prebuilt rules) stands
		// for it, so ids are stable across runs.
		cr.uuid = r.RuleID
	}
	switch {
	case len(r.Index) > 0:
		cr.index = newIndexMatcher(r.Index)
	case r.DataViewID == "":
		cr.index = newIndexMatcher(kibanaDefaultIndex)
	}
	cr.cats = queryCategories(prog.Query)
	cr.literals = prog.FilterLiterals()
	cr.alertConstants()
	return cr, nil
}

// queryCategories lists the categories of a query's filters, nil when one
// of them takes any category: an event of another category cannot match.
func queryCategories(q *eql.Query) []string {
	var filters []*eql.EventFilter
	switch q.Kind {
	case eql.EventQuery:
		filters = append(filters, q.Event)
	case eql.SequenceQuery:
		for _, t := range q.Sequence.Terms {
			filters = append(filters, &t.Filter)
		}
		if q.Sequence.Until != nil {
			filters = append(filters, &q.Sequence.Until.Filter)
		}
	case eql.SampleQuery:
		for _, t := range q.Sample.Terms {
			filters = append(filters, &t.Filter)
		}
	}
	var cats []string
	for _, f := range filters {
		if f.Category == "" {
			return nil
		}
		cats = append(cats, f.Category)
	}
	return cats
}

// Rules returns the compiled rules in their input order.
func (rs *RuleSet) Rules() []*rule.Rule {
	out := make([]*rule.Rule, len(rs.rules))
	for i, cr := range rs.rules {
		out[i] = cr.r
	}
	return out
}

// Skipped counts the rules left out because Vigil cannot run their type.
func (rs *RuleSet) Skipped() map[string]int {
	out := make(map[string]int, len(rs.skipped))
	for k, v := range rs.skipped {
		out[k] = v
	}
	return out
}

// catField is the category dispatch of the rules sharing a category field.
type catField struct {
	path *event.Path
	any  bitset            // rules whose query takes any category
	by   map[string]bitset // rules needing the category
}

// rangeSpec is the time-range filter of rules sharing a timestamp
// override: the override field, falling back to @timestamp when the event
// lacks it (Kibana's buildTimeRangeFilter).
type rangeSpec struct {
	primary, fallback *event.Path
	rules             bitset
}

func newRangeSpec(r *rule.Rule, n int) *rangeSpec {
	s := &rangeSpec{rules: newBitset(n), primary: event.CompilePath("@timestamp")}
	if r.TimestampOverride != "" {
		s.primary = event.CompilePath(r.TimestampOverride)
		if !r.TimestampOverrideFallbackDisabled {
			s.fallback = event.CompilePath("@timestamp")
		}
	}
	return s
}

// Options configure an Engine.
type Options struct {
	// DefaultIndex is the index of events that name none (no _index, no
	// data_stream.dataset and namespace).
	DefaultIndex string
	// From and To bound the event time (inclusive; zero: unbounded), on
	// each rule's timestamp_override (falling back to @timestamp) as
	// Kibana's time range does.
	From, To time.Time
	// ReorderWindow is passed to the sequence runners (eql.Runner).
	ReorderWindow time.Duration
	// ReorderWindowFor, when set, gives each rule's runner its own window
	// (the scheduler uses the rule's extra look-back).
	ReorderWindowFor func(*rule.Rule) time.Duration
	// Now is the alerts' creation time (@timestamp); zero: when Finish runs.
	Now time.Time
	// SpaceID is the Kibana space (default "default").
	SpaceID string
	// Emit, when set, receives alerts as soon as they are known (an event
	// alert when its event is offered, a sequence's alerts when it
	// completes) instead of from Finish, so memory does not grow with the
	// alerts. They come in processing order. Rules whose results need all
	// events first (missing-event sequences, samples, head/tail pipes)
	// still deliver at Finish, also through Emit.
	Emit func(*Alert)
}

// Stats describe an engine's run.
type Stats struct {
	Lines     int64 // lines offered
	Parsed    int64 // lines parsed
	Skipped   int64 // lines no rule could match, never parsed
	Malformed int64 // lines that failed to parse
	NoIndex   int64 // events without index information, offered to every rule
	OutOfTime int64 // parsed events outside From/To for every candidate rule
	// Evaluations counts (event, rule) pairs fed to runners.
	Evaluations int64
	// Deferred counts (event, rule) pairs not fed because the sequence
	// had nothing open and the event could not start one (gate.go).
	Deferred int64
	// Excepted counts (event, rule) pairs a rule exception removed.
	Excepted int64
	// Late and NoTimestamp sum the sequence runners' counters.
	Late, NoTimestamp int

	Alerts           int
	AlertsByRule     map[string]int // by rule_id
	AlertsBySeverity map[string]int
}

// Engine evaluates a RuleSet over one stream of lines. It is not safe for
// concurrent use; run one engine per goroutine on separate inputs.
type Engine struct {
	rs       *RuleSet
	opts     Options
	p        event.Parser
	sc       *scanner
	matchers []*eql.Matcher
	runners  []*eql.Runner
	cand     bitset
	mask     bitset
	vals     []event.Value

	byName  map[string]*indexEntry
	byDS    map[[3]string]*indexEntry
	noIndex *indexEntry

	fromMs, toMs   int64
	hasFrom, hasTo bool
	stats          Stats
	finished       bool
	streamErrs     []error
	// emitSorted is set while Finish emits its time-sorted alerts, after
	// those the runners streamed as their input ended (Parallel merges
	// the two kinds separately).
	emitSorted bool

	// exhaustive offers every line to every rule the index allows (no
	// literal or category dispatch): the reference the tests compare with.
	exhaustive bool
	vd         *valDispatcher // value dispatch; nil: literal scan
	gate       *gate          // sequence gating; nil: off

	// stateful holds the rules that keep state across events (not event
	// queries streaming their alerts); only, when set, limits an Offer to
	// the rules in it (offerStateful).
	stateful, only bitset
}

type indexEntry struct {
	name string
	mask bitset
}

var (
	indexPath     = event.CompilePath("_index")
	typePath      = event.CompilePath("data_stream.type")
	datasetPath   = event.CompilePath("data_stream.dataset")
	namespacePath = event.CompilePath("data_stream.namespace")
	idPath        = event.CompilePath("_id")
)

// NewEngine returns an engine with its own runners and dispatch state.
func (rs *RuleSet) NewEngine(opts Options) *Engine {
	if opts.SpaceID == "" {
		opts.SpaceID = "default"
	}
	if opts.Emit != nil && opts.Now.IsZero() {
		opts.Now = time.Now() // alerts are built during the run
	}
	e := &Engine{
		rs:     rs,
		opts:   opts,
		cand:   newBitset(len(rs.rules)),
		mask:   newBitset(len(rs.rules)),
		byName: map[string]*indexEntry{},
		byDS:   map[[3]string]*indexEntry{},
	}
	for _, cr := range rs.rules {
		m, err := cr.prog.Matcher(nil)
		if err != nil {
			panic(fmt.Sprintf("detect: rule %s compiled but has no matcher: %v", cr.r.RuleID, err))
		}
		r := cr.prog.NewRunner()
		r.ReorderWindow = opts.ReorderWindow
		if opts.ReorderWindowFor != nil {
			r.ReorderWindow = opts.ReorderWindowFor(cr.r)
		}
		if opts.Emit != nil {
			r.Stream = e.streamer(cr)
		}
		e.matchers = append(e.matchers, m)
		e.runners = append(e.runners, r)
	}
	if !opts.From.IsZero() {
		e.fromMs, e.hasFrom = opts.From.UnixMilli(), true
	}
	if !opts.To.IsZero() {
		e.toMs, e.hasTo = opts.To.UnixMilli(), true
	}
	e.noIndex = &indexEntry{mask: rs.all}
	e.stateful = newBitset(len(rs.rules))
	for i, cr := range rs.rules {
		if q := cr.prog.Query; q.Kind != eql.EventQuery || len(q.Pipes) > 0 {
			e.stateful.set(i)
		}
	}
	if rs.lits != nil {
		e.sc = newScanner(rs.lits)
	}
	if rs.vals != nil {
		e.vd = newValDispatcher(rs.vals, len(rs.rules))
		// Every line is parsed, so the stream's clock is known.
		e.gate = newGate(e)
	}
	return e
}

// Offer evaluates one raw NDJSON line. src says where it came from: Line,
// ID (optional: else the event's own "_id", else "<index>:<line>") and
// From/Offset (so matching events are read back at Finish instead of being
// copied). src.Index is ignored: the event's index is its "_index", else
// its data stream <data_stream.type|logs>-<dataset>-<namespace>, else
// Options.DefaultIndex, else none (offered to every rule, counted in
// Stats.NoIndex). A malformed line is counted and its parse error
// returned; lines no rule can match are not parsed, so not validated.
func (e *Engine) Offer(line []byte, src eql.Source) error {
	if e.finished {
		return errors.New("detect: Offer after Finish")
	}
	e.stats.Lines++
	c := e.cand
	if e.vd != nil && !e.exhaustive {
		return e.offerValues(line, src)
	}
	if e.exhaustive || eql.LineMaySpellOtherwise(line, false, true) {
		c.copyFrom(e.rs.all) // \u can spell any literal
	} else {
		c.copyFrom(e.rs.lits.always)
		e.sc.scan(line, c)
		if e.rs.hasSlash && eql.LineMaySpellOtherwise(line, true, false) {
			c.or(e.rs.lits.slash)
		}
	}
	if e.only != nil {
		c.and(e.only)
	}
	if c.empty() {
		e.stats.Skipped++
		return nil
	}
	d, err := e.parse(line)
	if err != nil {
		return err
	}
	ie := e.indexOf(d)
	if !c.and(ie.mask) || (!e.exhaustive && !e.categoryGate(d, c)) {
		return nil
	}
	e.evaluate(line, d, ie, c, src)
	return nil
}

func (e *Engine) parse(line []byte) (*event.Doc, error) {
	d, err := e.p.Parse(line)
	if err != nil {
		e.stats.Malformed++
		return nil, err
	}
	e.stats.Parsed++
	if e.gate != nil {
		e.gate.tick(d) // the stream's clock counts every event parsed
	}
	return d, nil
}

// offerStateful offers line to the rules that keep state only (Parallel:
// another worker runs the event queries on it, and counts it). It reports
// whether the line was skipped unparsed.
func (e *Engine) offerStateful(line []byte, src eql.Source) bool {
	saved := e.stats
	e.only = e.stateful
	e.Offer(line, src)
	e.only = nil
	skipped := e.stats.Skipped != saved.Skipped
	e.stats.Lines, e.stats.Parsed, e.stats.Skipped, e.stats.Malformed = saved.Lines, saved.Parsed, saved.Skipped, saved.Malformed
	e.stats.NoIndex, e.stats.OutOfTime = saved.NoIndex, saved.OutOfTime
	return skipped
}

// offerValues is Offer with value dispatch: every line is parsed, then
// offered to the rules its index and category allow whose requirements on
// its field values it may satisfy.
func (e *Engine) offerValues(line []byte, src eql.Source) error {
	d, err := e.parse(line)
	if err != nil {
		return err
	}
	ie := e.indexOf(d)
	c := e.cand
	c.copyFrom(ie.mask)
	if (e.only != nil && !c.and(e.only)) || !e.categoryGate(d, c) {
		return nil
	}
	e.vd.candidates(d, c)
	if !c.empty() {
		e.evaluate(line, d, ie, c, src)
	}
	return nil
}

// evaluate feeds the event to the candidate rules c whose time range
// (--from/--to) it is in.
func (e *Engine) evaluate(line []byte, d *event.Doc, ie *indexEntry, c bitset, src eql.Source) {
	if (e.hasFrom || e.hasTo) && !e.timeGate(d, c) {
		e.stats.OutOfTime++
		return
	}
	src.Index = ie.name
	if src.ID == "" {
		if v, ok := d.First(idPath); ok && v.Kind == event.String {
			src.ID = strings.Clone(v.S)
		}
	}
	for wi, w := range c {
		for w != 0 {
			i := wi<<6 | bits.TrailingZeros64(w)
			w &= w - 1
			if x := e.rs.rules[i].exc; x != nil && x.match(d) {
				e.stats.Excepted++ // removed by a rule exception before the query
				continue
			}
			if g := e.gate; g != nil && !e.exhaustive && g.gated.has(i) {
				// Gating needs the documents to be readable back (src.From:
				// plain files); copies would cost more than they save.
				if src.From != nil && e.runners[i].Dormant() && !e.runners[i].Wakes(e.matchers[i], d) {
					g.skip(i, d, src)
					e.stats.Deferred++
					continue
				}
				if g.pend[i] >= 0 {
					e.replay(i) // what it was not fed comes first
				}
			}
			e.runners[i].Feed(e.matchers[i], d, src)
			e.stats.Evaluations++
		}
	}
}

// indexOf finds the event's index and which rules search it, caching the
// decision per distinct index.
func (e *Engine) indexOf(d *event.Doc) *indexEntry {
	if v, ok := d.First(indexPath); ok && v.Kind == event.String {
		return e.named(v.S)
	}
	if ds, ok := d.First(datasetPath); ok && ds.Kind == event.String {
		if ns, ok := d.First(namespacePath); ok && ns.Kind == event.String {
			// A data stream is named <type>-<dataset>-<namespace>; Elastic
			// Agent's events are logs unless data_stream.type says otherwise.
			typ := "logs"
			if t, ok := d.First(typePath); ok && t.Kind == event.String && t.S != "" {
				typ = t.S
			}
			key := [3]string{typ, ds.S, ns.S}
			if ie := e.byDS[key]; ie != nil {
				return ie
			}
			ie := e.newEntry(typ + "-" + ds.S + "-" + ns.S)
			e.byDS[[3]string{strings.Clone(typ), strings.Clone(ds.S), strings.Clone(ns.S)}] = ie
			return ie
		}
	}
	if e.opts.DefaultIndex != "" {
		return e.named(e.opts.DefaultIndex)
	}
	e.stats.NoIndex++
	return e.noIndex
}

func (e *Engine) named(name string) *indexEntry {
	if ie := e.byName[name]; ie != nil {
		return ie
	}
	ie := e.newEntry(strings.Clone(name))
	e.byName[ie.name] = ie
	return ie
}

func (e *Engine) newEntry(name string) *indexEntry {
	ie := &indexEntry{name: name, mask: newBitset(len(e.rs.rules))}
	for i, cr := range e.rs.rules {
		if cr.index.match(name) {
			ie.mask.set(i)
		}
	}
	return ie
}

// categoryGate drops the candidates whose query cannot match the event's
// category; it reports whether any are left.
func (e *Engine) categoryGate(d *event.Doc, c bitset) bool {
	m := e.mask
	m.clear()
	for _, cf := range e.rs.cats {
		m.or(cf.any)
		if len(cf.by) == 0 {
			continue
		}
		e.vals, _ = d.Lookup(cf.path, e.vals[:0])
		for _, v := range e.vals {
			if v.Kind == event.String {
				if b := cf.by[v.S]; b != nil {
					m.or(b)
				}
			}
		}
	}
	return c.and(m)
}

// timeGate drops the candidates whose time-range field is outside
// From/To (or absent); it reports whether any are left.
func (e *Engine) timeGate(d *event.Doc, c bitset) bool {
	for _, rsp := range e.rs.ranges {
		ms, ok := e.eventTime(d, rsp.primary)
		if !ok && rsp.fallback != nil {
			if _, present := d.First(rsp.primary); !present {
				ms, ok = e.eventTime(d, rsp.fallback)
			}
		}
		if ok && (!e.hasFrom || ms >= e.fromMs) && (!e.hasTo || ms <= e.toMs) {
			continue
		}
		for i, w := range rsp.rules {
			c[i] &^= w
		}
	}
	return !c.empty()
}

func (e *Engine) eventTime(d *event.Doc, p *event.Path) (int64, bool) {
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

// Stats returns the run's counters (alert counts once Finish has run).
// Advance tells the sequence runners that time has reached t with no
// newer event (vigil serve calls it on its clock): candidates held for
// reordering longer than their rule's reorder window are processed, and
// the alerts they complete are emitted.
func (e *Engine) Advance(t time.Time) {
	ms := t.UnixMilli()
	if e.gate != nil && ms > e.gate.clock {
		e.gate.clock = ms // as if an event said so: gated or not, the same is let go
	}
	for _, r := range e.runners {
		if r != nil {
			r.Advance(ms)
		}
	}
}

func (e *Engine) Stats() Stats {
	s := e.stats
	s.AlertsByRule = copyCounts(e.stats.AlertsByRule)
	s.AlertsBySeverity = copyCounts(e.stats.AlertsBySeverity)
	return s
}

func copyCounts(m map[string]int) map[string]int {
	out := make(map[string]int, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// Finish ends the input and returns the alerts, ordered by original time,
// then rule (name, rule_id); a sequence's alerts stay together, the shell
// first. An error means some events could not be read back or decoded:
// the alerts of the others are still returned.
// streamer turns one rule's streamed results into emitted alerts.
func (e *Engine) streamer(cr *compiledRule) func(*eql.Hit, *eql.SequenceResult, error) {
	return func(h *eql.Hit, sq *eql.SequenceResult, err error) {
		if err != nil {
			e.streamErrs = append(e.streamErrs, fmt.Errorf("rule %s: %w", cr.r.RuleID, err))
			return
		}
		b := &alertBuilder{now: isoMillis(e.opts.Now), spaceID: e.opts.SpaceID}
		var as []*Alert
		if h != nil {
			a, err := b.eventAlert(cr, h)
			if err != nil {
				e.streamErrs = append(e.streamErrs, fmt.Errorf("rule %s: %w", cr.r.RuleID, err))
				return
			}
			as = []*Alert{a}
		} else if readable(sq) {
			if as, err = b.sequenceAlerts(cr, sq); err != nil {
				e.streamErrs = append(e.streamErrs, fmt.Errorf("rule %s: %w", cr.r.RuleID, err))
				return
			}
		}
		for _, a := range as {
			e.count(a)
			e.opts.Emit(a)
		}
	}
}

func (e *Engine) count(a *Alert) {
	if e.stats.AlertsByRule == nil {
		e.stats.AlertsByRule = map[string]int{}
		e.stats.AlertsBySeverity = map[string]int{}
	}
	e.stats.Alerts++
	e.stats.AlertsByRule[a.Rule.RuleID]++
	e.stats.AlertsBySeverity[a.Severity]++
}

func (e *Engine) Finish() ([]*Alert, error) {
	if e.finished {
		return nil, errors.New("detect: Finish called twice")
	}
	e.finished = true
	now := e.opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	b := &alertBuilder{now: isoMillis(now), spaceID: e.opts.SpaceID}
	type group struct {
		alerts []*Alert
		rule   int
		seq    int
	}
	var groups []group
	errs := e.streamErrs
	for i, cr := range e.rs.rules {
		r := e.runners[i]
		res, err := r.Finish()
		if err != nil {
			errs = append(errs, fmt.Errorf("rule %s: %w", cr.r.RuleID, err))
		}
		e.stats.Late += r.Late
		e.stats.NoTimestamp += r.NoTimestamp
		for _, h := range res.Events {
			if h.Source == nil {
				continue // unreadable: reported by Finish
			}
			a, err := b.eventAlert(cr, h)
			if err != nil {
				errs = append(errs, fmt.Errorf("rule %s: %w", cr.r.RuleID, err))
				continue
			}
			groups = append(groups, group{alerts: []*Alert{a}, rule: i, seq: len(groups)})
		}
		for _, sq := range res.Sequences {
			if !readable(sq) {
				continue
			}
			as, err := b.sequenceAlerts(cr, sq)
			if err != nil {
				errs = append(errs, fmt.Errorf("rule %s: %w", cr.r.RuleID, err))
				continue
			}
			if len(as) > 0 {
				groups = append(groups, group{alerts: as, rule: i, seq: len(groups)})
			}
		}
		e.runners[i] = nil // release the runner's state
	}
	sort.SliceStable(groups, func(i, j int) bool {
		a, b := groups[i], groups[j]
		if ta, tb := a.alerts[0].originalMs(), b.alerts[0].originalMs(); ta != tb {
			return ta < tb
		}
		ra, rb := e.rs.rules[a.rule].r, e.rs.rules[b.rule].r
		if ra.Name != rb.Name {
			return ra.Name < rb.Name
		}
		if ra.RuleID != rb.RuleID {
			return ra.RuleID < rb.RuleID
		}
		if a.rule != b.rule {
			return a.rule < b.rule
		}
		return a.seq < b.seq
	})
	var out []*Alert
	e.emitSorted = true
	for _, g := range groups {
		for _, a := range g.alerts {
			e.count(a)
			if e.opts.Emit != nil {
				e.opts.Emit(a)
				continue
			}
			out = append(out, a)
		}
	}
	if e.stats.AlertsByRule == nil {
		e.stats.AlertsByRule = map[string]int{}
		e.stats.AlertsBySeverity = map[string]int{}
	}
	return out, errors.Join(errs...)
}

func readable(sq *eql.SequenceResult) bool {
	for _, h := range sq.Events {
		if !h.Missing && h.Source == nil {
			return false
		}
	}
	return true
}
