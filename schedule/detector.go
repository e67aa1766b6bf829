package schedule

import (
	"errors"
	"time"

	"github.com/vigilsec/vigil/detect"
	"github.com/vigilsec/vigil/eql"
	"github.com/vigilsec/vigil/rule"
)

// detector evaluates every event against the running rules: one
// detect.Engine on the consumer's goroutine, or a detect.Parallel that
// deals the rules to Options.Workers engines. Either way alerts reach the
// scheduler in one Engine's order, and by the end of sync (every public
// Scheduler call syncs before it releases the lock) all alerts of the
// events offered so far have been emitted and malformed events noted.
type detector interface {
	offer(line []byte, src eql.Source)
	sync()
	advance(t time.Time) // sync included
	stats() detect.Stats // after sync
	rules() []*rule.Rule // compiled, in the input's order
	stop()
}

// newDetector compiles rules for opts.Workers (<= 1: one engine). emit
// and bad are called in order, on any goroutine, but never concurrently
// with the detector's own methods returning.
func newDetector(rules []*rule.Rule, workers int, copts detect.CompileOptions, opts detect.Options, emit func(*detect.Alert), bad func(error)) (detector, []error) {
	opts.Emit = emit
	if workers <= 1 {
		rs, errs := detect.CompileWith(rules, copts)
		return &engineDetector{e: rs.NewEngine(opts), rs: rs, bad: bad}, errs
	}
	p, errs := detect.NewParallelWith(rules, workers, copts, opts, func(_ string, _ []byte, _ eql.Source, err error) { bad(err) })
	compiled := map[*rule.Rule]bool{}
	for _, r := range p.Rules() {
		compiled[r] = true
	}
	var inOrder []*rule.Rule
	for _, r := range rules {
		if compiled[r] {
			inOrder = append(inOrder, r)
			delete(compiled, r) // a rule given twice runs once
		}
	}
	return &parallelDetector{p: p, compiled: inOrder}, errs
}

type engineDetector struct {
	e   *detect.Engine
	rs  *detect.RuleSet
	bad func(error)
}

func (d *engineDetector) offer(line []byte, src eql.Source) {
	if err := d.e.Offer(line, src); err != nil {
		d.bad(err)
	}
}
func (d *engineDetector) sync()               {}
func (d *engineDetector) advance(t time.Time) { d.e.Advance(t) }
func (d *engineDetector) stats() detect.Stats { return d.e.Stats() }
func (d *engineDetector) rules() []*rule.Rule { return d.rs.Rules() }
func (d *engineDetector) stop()               {}

type parallelDetector struct {
	p        *detect.Parallel
	compiled []*rule.Rule
}

func (d *parallelDetector) offer(line []byte, src eql.Source) { d.p.Offer("", line, src) }
func (d *parallelDetector) sync()                             { d.p.Sync() }
func (d *parallelDetector) advance(t time.Time)               { d.p.Advance(t) }
func (d *parallelDetector) stats() detect.Stats               { return d.p.Stats() }
func (d *parallelDetector) rules() []*rule.Rule               { return d.compiled }
func (d *parallelDetector) stop()                             { d.p.Stop() }

// errClosed: the scheduler was closed.
var errClosed = errors.New("schedule: the scheduler is closed")
