package detect

import (
	"cmp"
	"context"
	"errors"
	"runtime/pprof"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/vigilsec/vigil/eql"
	"github.com/vigilsec/vigil/rule"
)

// Parallel runs a rule set on several cores, one Engine per worker. Rules
// that keep state across events (sequences, samples, queries with pipes)
// are dealt round-robin to half the engines, which see every line: a
// sequence keeps its whole state in one engine. Event queries, which
// decide each event alone, are in every engine, and each batch of lines is
// evaluated against them by one worker, the one with the least backlog, so
// that a line is not parsed and dispatched once per worker for them. Nothing is shared between goroutines but the batches of
// lines, and the alerts are emitted in exactly the order one Engine would
// emit them (by line, then rule order; at the end, by Finish's order).
type Parallel struct {
	engines []*Engine
	global  map[*rule.Rule]int // rule -> position in the rule order
	emit    func(*Alert)
	onError func(file string, line []byte, src eql.Source, err error)

	cur     *pbatch
	work    []chan *pbatch
	ordered chan *pbatch // submitted batches, in order, for the collector
	free    chan *pbatch
	wg      sync.WaitGroup // workers
	cdone   chan struct{}  // the collector has drained ordered

	lines, skipped, malformed int64
	cnt                       []int32 // the collector's per-item counters
	finished                  bool
	stopped                   bool
	batches                   int // submitted
}

// pbatch is a run of lines offered to every worker.
type pbatch struct {
	buf   []byte
	items []pitem
	// Filled by the workers (one slice each), read by the collector once
	// all are done.
	alerts [][]keyedAlert
	errs   [][]error // per worker, per item: the line's parse error
	skips  [][]int32 // per worker, the items none of its rules could match
	done   sync.WaitGroup
	// advance, when set, is offered to every engine after the items
	// (Engine.Advance); its alerts sort after the items'.
	advance    time.Time
	hasAdvance bool
	// synced, when set, marks a barrier (no items, no workers): the
	// collector signals it once everything before it has been emitted.
	synced chan struct{}
	owner  int // the worker that runs the event queries on these lines
}

type pitem struct {
	file     string
	off, end int
	src      eql.Source
}

type keyedAlert struct {
	a         *Alert
	item      int
	rule, seq int
}

const (
	batchLines = 256
	batchBytes = 1 << 20
	inFlight   = 4 // batches queued per worker: bounds memory
)

// NewParallel compiles rules into workers rule sets (workers <= 1: one)
// and starts their engines. opts.Emit receives every alert, on one
// goroutine; onError receives malformed lines (file, line, position).
func NewParallel(rules []*rule.Rule, workers int, opts Options, onError func(file string, line []byte, src eql.Source, err error)) (*Parallel, []error) {
	return NewParallelWith(rules, workers, CompileOptions{}, opts, onError)
}

// NewParallelWith is NewParallel with compile options (exception lists).
// Compile errors come in the rules' order.
func NewParallelWith(rules []*rule.Rule, workers int, copts CompileOptions, opts Options, onError func(file string, line []byte, src eql.Source, err error)) (*Parallel, []error) {
	workers = max(workers, 1)
	var eqlRules []*rule.Rule
	var others []*rule.Rule
	for _, r := range rules {
		if r.Type == "eql" {
			eqlRules = append(eqlRules, r)
		} else {
			others = append(others, r)
		}
	}
	workers = min(workers, max(len(eqlRules), 1))
	if copts.dispatch == dispatchAuto {
		// Every engine dispatches as one engine with all the rules would.
		copts.dispatch = dispatchFor(len(eqlRules))
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	p := &Parallel{global: map[*rule.Rule]int{}, emit: opts.Emit, onError: onError,
		ordered: make(chan *pbatch, inFlight*workers), free: make(chan *pbatch, inFlight*workers+2), cdone: make(chan struct{})}
	var stateless, stateful []*rule.Rule
	copts.cache = &compileCache{m: map[*rule.Rule]compiled{}}
	if workers > 1 {
		compileAll(eqlRules, copts) // once, on every core; the engines take them from the cache
	}
	for _, r := range eqlRules {
		if workers > 1 && statelessRule(r, copts.cache) {
			stateless = append(stateless, r)
		} else {
			stateful = append(stateful, r)
		}
	}
	var errs []error
	// Rules that keep state live in half the engines: each of those parses
	// and dispatches every line for them, so fewer holders means less of
	// that work twice; the others take more of the event queries' batches
	// (submit balances by backlog).
	holders := max(1, workers/2)
	for w := range workers {
		var part []*rule.Rule
		if w == 0 {
			part = append(part, others...) // counted as skipped once
		}
		part = append(part, stateless...)
		for i := w; w < holders && i < len(stateful); i += holders {
			part = append(part, stateful[i])
		}
		rs, cerrs := CompileWith(part, copts)
		if w > 0 {
			// The event queries' errors were reported by the first engine.
			cerrs = slices.DeleteFunc(cerrs, func(err error) bool {
				var ce *CompileError
				return errors.As(err, &ce) && slices.Contains(stateless, ce.Rule)
			})
		}
		errs = append(errs, cerrs...)
		wo := opts
		// Workers always stream (their Emit is replaced in worker), and
		// share one creation time.
		wo.Emit = func(*Alert) {}
		p.engines = append(p.engines, rs.NewEngine(wo))
	}
	for i, r := range eqlRules {
		p.global[r] = i
	}
	// Each worker reports its own rules' errors: restore the input order.
	slices.SortStableFunc(errs, func(x, y error) int {
		return cmp.Compare(p.errPos(x, len(eqlRules)), p.errPos(y, len(eqlRules)))
	})
	for w, e := range p.engines {
		ch := make(chan *pbatch, inFlight)
		p.work = append(p.work, ch)
		p.wg.Add(1)
		// Labelled so that a CPU profile shows each worker's share.
		go pprof.Do(context.Background(), pprof.Labels("vigil_worker", strconv.Itoa(w)), func(context.Context) { p.worker(w, e, ch) })
	}
	go p.collect()
	return p, errs
}

// owner picks the worker to run the event queries on the next batch: the
// one furthest ahead (fewest batches queued), the last on a tie, since
// the first ones also hold the stateful rules. Any choice gives the same
// alerts in the same order.
func (p *Parallel) owner() int {
	best := len(p.work) - 1
	for w := len(p.work) - 2; w >= 0; w-- {
		if len(p.work[w]) < len(p.work[best]) {
			best = w
		}
	}
	return max(best, 0)
}

// errPos is the input position of the rule an error names (n: none).
func (p *Parallel) errPos(err error, n int) int {
	var ce *CompileError
	if errors.As(err, &ce) {
		if i, ok := p.global[ce.Rule]; ok {
			return i
		}
	}
	return n
}

// Rules returns the compiled rules, each once.
func (p *Parallel) Rules() []*rule.Rule {
	var out []*rule.Rule
	seen := map[*rule.Rule]bool{}
	for _, e := range p.engines {
		for _, r := range e.rs.Rules() {
			if !seen[r] {
				seen[r] = true
				out = append(out, r)
			}
		}
	}
	return out
}

// statelessRule is statelessQuery of a rule, from its compiled program
// when there is one.
func statelessRule(r *rule.Rule, cache *compileCache) bool {
	if c, ok := cache.get(r); ok && c.err == nil {
		q := c.cr.prog.Query
		return q.Kind == eql.EventQuery && len(q.Pipes) == 0
	}
	return statelessQuery(r.Query)
}

// statelessQuery reports a query that decides each event alone and streams
// its alerts: an event query without pipes. Anything else (or a query that
// does not parse: its error is reported once) keeps state in one engine.
func statelessQuery(query string) bool {
	q, err := eql.Parse(query)
	return err == nil && q.Kind == eql.EventQuery && len(q.Pipes) == 0
}

// Skipped counts the rules left out, by type.
func (p *Parallel) Skipped() map[string]int { return p.engines[0].rs.Skipped() }

// Offer queues one line; file names it in errors. The line is copied.
func (p *Parallel) Offer(file string, line []byte, src eql.Source) {
	b := p.batch()
	off := len(b.buf)
	b.buf = append(b.buf, line...)
	b.items = append(b.items, pitem{file: file, off: off, end: len(b.buf), src: src})
	if len(b.items) >= batchLines || len(b.buf) >= batchBytes {
		p.submit()
	}
}

func (p *Parallel) submit() {
	b := p.cur
	if b == nil {
		return
	}
	p.cur = nil
	b.owner = p.owner()
	p.batches++
	b.done.Add(len(p.engines))
	p.ordered <- b
	for _, ch := range p.work {
		ch <- b
	}
}

func (p *Parallel) worker(w int, e *Engine, ch chan *pbatch) {
	defer p.wg.Done()
	var b *pbatch
	item, seq := 0, 0
	e.opts.Emit = func(a *Alert) {
		b.alerts[w] = append(b.alerts[w], keyedAlert{a: a, item: item, rule: p.global[a.Rule], seq: seq})
		seq++
	}
	for b = range ch {
		errs := b.errs[w][:0]
		for i := range b.items {
			it := &b.items[i]
			item = i
			line := b.buf[it.off:it.end]
			switch {
			case b.owner == w || len(p.engines) == 1:
				before := e.stats.Skipped
				errs = append(errs, e.Offer(line, it.src))
				if e.stats.Skipped != before {
					b.skips[w] = append(b.skips[w], int32(i))
				}
			case e.stateful.empty():
				errs = append(errs, nil)
				b.skips[w] = append(b.skips[w], int32(i)) // nothing to do here
			default:
				// The owner reports the line's errors and counts it.
				errs = append(errs, nil)
				if e.offerStateful(line, it.src) {
					b.skips[w] = append(b.skips[w], int32(i))
				}
			}
		}
		b.errs[w] = errs
		if b.hasAdvance {
			item = len(b.items)
			e.Advance(b.advance)
		}
		b.done.Done()
	}
}

func (p *Parallel) collect() {
	defer close(p.cdone)
	for b := range p.ordered {
		if b.synced != nil {
			close(b.synced)
			continue
		}
		b.done.Wait()
		for i := range b.items {
			var err error
			for w := range p.engines {
				if e := b.errs[w][i]; e != nil {
					err = e
					break
				}
			}
			p.lines++
			if err != nil {
				p.malformed++
				if p.onError != nil {
					it := &b.items[i]
					p.onError(it.file, b.buf[it.off:it.end], it.src, err)
				}
			}
		}
		// A line is skipped when no worker's rules could match it.
		p.cnt = slices.Grow(p.cnt[:0], len(b.items))[:len(b.items)]
		clear(p.cnt)
		for w := range b.skips {
			for _, i := range b.skips[w] {
				if p.cnt[i]++; int(p.cnt[i]) == len(p.engines) {
					p.skipped++
				}
			}
			b.skips[w] = b.skips[w][:0]
		}
		var all []keyedAlert
		for w := range b.alerts {
			all = append(all, b.alerts[w]...)
			clear(b.alerts[w]) // a reused batch must not keep its alerts alive
			b.alerts[w] = b.alerts[w][:0]
		}
		slices.SortFunc(all, func(x, y keyedAlert) int {
			return cmp.Or(cmp.Compare(x.item, y.item), cmp.Compare(x.rule, y.rule), cmp.Compare(x.seq, y.seq))
		})
		for i, k := range all {
			if p.emit != nil {
				p.emit(k.a)
			}
			all[i] = keyedAlert{}
		}
		b.buf, b.items, b.hasAdvance = b.buf[:0], b.items[:0], false
		select {
		case p.free <- b:
		default:
		}
	}
}

// batch returns the batch being filled, starting one if needed.
func (p *Parallel) batch() *pbatch {
	if p.stopped || p.finished {
		panic("detect: Parallel used after Finish or Stop")
	}
	if p.cur == nil {
		select {
		case p.cur = <-p.free:
		default:
			n := len(p.engines)
			p.cur = &pbatch{alerts: make([][]keyedAlert, n), errs: make([][]error, n), skips: make([][]int32, n)}
		}
	}
	return p.cur
}

// Sync is a barrier for streaming use (vigil serve): it returns once the
// alerts of every line offered so far have been emitted and their
// malformed lines reported, in the order one Engine would have emitted
// them. Afterwards, until the next Offer, Stats is exact and safe to read.
func (p *Parallel) Sync() {
	p.submit()
	if p.finished || p.stopped {
		return
	}
	done := make(chan struct{})
	p.ordered <- &pbatch{synced: done}
	<-done
}

// Advance tells every engine that time has reached t (Engine.Advance)
// after the lines offered so far, and waits until the alerts this
// releases (and those of the lines before) have been emitted: in one
// Engine's order, after the lines' alerts, by rule.
func (p *Parallel) Advance(t time.Time) {
	b := p.batch()
	b.advance, b.hasAdvance = t, true
	p.Sync()
}

// Stop ends the workers without Finish: alerts the engines still hold
// (sequences waiting for their reorder window, rules that need the end of
// the input) are dropped, as when a streaming Engine is replaced. Call
// Sync first to emit those of the lines already offered. Offer, Sync and
// Advance must not be called afterwards; Stop may be called again.
func (p *Parallel) Stop() {
	if p.stopped || p.finished {
		return
	}
	p.Sync()
	p.stopped = true
	for _, ch := range p.work {
		close(ch)
	}
	p.wg.Wait()
	close(p.ordered)
	<-p.cdone
}

// Finish ends the input: it waits for the workers, then emits the alerts
// the engines hold until the end, merged in Finish's order.
func (p *Parallel) Finish() error {
	if p.finished {
		return errors.New("detect: Finish called twice")
	}
	if p.stopped {
		return errors.New("detect: Finish after Stop")
	}
	p.finished = true
	p.submit()
	for _, ch := range p.work {
		close(ch)
	}
	p.wg.Wait()
	close(p.ordered)
	<-p.cdone
	// One engine's Finish first streams what its runners still held, rule
	// by rule, then emits the rest sorted by time in groups (an event
	// alert, or a sequence's shell and its building blocks). Merge each
	// kind across engines in that order: the first by rule order, the
	// second by Finish's comparator. Ties between engines are impossible
	// (a rule lives in one engine), so stable sorts keep an engine's order.
	var errs []error
	var streamed []keyedAlert
	var groups [][]*Alert
	for _, e := range p.engines {
		var sorted []*Alert
		seq := 0
		e.opts.Emit = func(a *Alert) {
			if e.emitSorted {
				sorted = append(sorted, a)
				return
			}
			streamed = append(streamed, keyedAlert{a: a, rule: p.global[a.Rule], seq: seq})
			seq++
		}
		if _, err := e.Finish(); err != nil {
			errs = append(errs, err)
		}
		for i := 0; i < len(sorted); {
			j := i + 1
			for j < len(sorted) && sorted[j].Kind == BuildingBlockAlert {
				j++
			}
			groups = append(groups, sorted[i:j])
			i = j
		}
	}
	slices.SortStableFunc(streamed, func(x, y keyedAlert) int {
		return cmp.Or(cmp.Compare(x.rule, y.rule), cmp.Compare(x.seq, y.seq))
	})
	slices.SortStableFunc(groups, func(x, y []*Alert) int {
		a, b := x[0], y[0]
		return cmp.Or(cmp.Compare(a.originalMs(), b.originalMs()), cmp.Compare(a.Rule.Name, b.Rule.Name), cmp.Compare(a.Rule.RuleID, b.Rule.RuleID))
	})
	if p.emit != nil {
		for _, k := range streamed {
			p.emit(k.a)
		}
		for _, g := range groups {
			for _, a := range g {
				p.emit(a)
			}
		}
	}
	return errors.Join(errs...)
}

// Stats sums the engines' counters; call it after Finish, or after Sync
// (or Advance) before the next Offer. Parsed, NoIndex and OutOfTime are
// counted by the worker that runs a line's event queries.
func (p *Parallel) Stats() Stats {
	s := Stats{Lines: p.lines, Skipped: p.skipped, Malformed: p.malformed,
		AlertsByRule: map[string]int{}, AlertsBySeverity: map[string]int{}}
	for _, e := range p.engines {
		es := e.Stats()
		s.Parsed += es.Parsed
		s.NoIndex += es.NoIndex
		s.OutOfTime += es.OutOfTime
		s.Evaluations += es.Evaluations
		s.Deferred += es.Deferred
		s.Excepted += es.Excepted
		s.Late += es.Late
		s.NoTimestamp += es.NoTimestamp
		s.Alerts += es.Alerts
		for k, v := range es.AlertsByRule {
			s.AlertsByRule[k] += v
		}
		for k, v := range es.AlertsBySeverity {
			s.AlertsBySeverity[k] += v
		}
	}
	return s
}
