package eql

import (
	"container/heap"
	"errors"
	"io"
	"sort"
	"time"

	"github.com/vigilsec/vigil/event"
)

// Runner executes a Program over a stream of documents. Documents may
// arrive in any order within ReorderWindow of each other; the runner feeds
// them to the engine in ES's order (timestamp, tiebreaker, arrival).
type Runner struct {
	prog *Program
	// ReorderWindow bounds how long (in event time) a candidate is held
	// for reordering. 0 holds everything until Finish: exact ES order at
	// the cost of memory proportional to candidates.
	ReorderWindow time.Duration

	seq     uint64
	maxTs   int64
	started bool
	buf     candHeap // candidates that arrived out of order
	fifo    []*cand  // candidates that arrived in order (the usual case)
	fifoAt  int
	lastOut ordinal
	haveOut bool

	// Stream, when set before the first Feed, receives each result as soon
	// as it is known instead of Finish: matching events at once (their
	// Source copied), sequences when they complete (sources read back).
	// Results then come in processing order and are not kept, so memory
	// does not grow with them. Queries with head/tail pipes, missing events
	// or samples, which need every result first, still return theirs from
	// Finish. An error reading a sequence's events back is passed along.
	Stream     func(ev *Hit, seq *SequenceResult, err error)
	streamInit bool

	// Late counts events that arrived after events more than
	// ReorderWindow newer had already been processed.
	Late int
	// NoTimestamp counts events skipped because they had no timestamp
	// (sequences need one to order events).
	NoTimestamp int

	// Clock, when set, is the newest event time (epoch ms, of this
	// runner's timestamp field) the caller has seen in its stream, every
	// event counted, not only this query's candidates (the caller may
	// decline outliers). Held candidates are
	// then released against it before each new one is placed, so what is
	// reordered does not depend on which events matched: the condition
	// for feeding a sequence only the events that can start one while it
	// has none open (Dormant).
	Clock *int64
	// stage0Held counts held candidates matching the first term.
	stage0Held int

	events *eventCollector
	seqs   *sequenceMatcher
	sample *sampler
}

// NewRunner returns a Runner for p.
func (p *Program) NewRunner() *Runner {
	r := &Runner{prog: p}
	switch p.Query.Kind {
	case EventQuery:
		r.events = newEventCollector(p)
	case SequenceQuery:
		r.seqs = newSequenceMatcher(p)
	case SampleQuery:
		r.sample = newSampler(p)
	}
	return r
}

// cand is a document that matched at least one filter, with everything
// the engine needs from it computed while the document was at hand.
type cand struct {
	ord    ordinal
	hit    *Hit
	hitv   Hit          // hit points here: one allocation for both
	stbuf  [2]int       // backing for stages in the common case
	stages []int        // matched stage indexes (term order)
	keys   [][]keyTuple // join keys per matched stage
	until  []keyTuple   // non-nil when the until filter matched
	tsOK   bool
}

type candHeap []*cand

func (h candHeap) Len() int           { return len(h) }
func (h candHeap) Less(i, j int) bool { return h[i].ord.less(h[j].ord) }
func (h candHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *candHeap) Push(x any)        { *h = append(*h, x.(*cand)) }
func (h *candHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// Matches reports whether d matches any filter of m; cheap check used by
// callers that count or prefilter.
func (r *Runner) ordinalOf(m *Matcher, d *event.Doc) (ordinal, bool) {
	r.seq++
	o := ordinal{seq: r.seq}
	var ok bool
	o.ts, ok = m.Time(d)
	if m.tb != nil {
		if v := m.tb.firstShared(d); v.Kind != event.Null {
			o.tb, o.hasTB = v.Clone(), true
		}
	}
	return o, ok
}

// TimeField names the field a Matcher orders events by.
func (m *Matcher) TimeField() string { return m.ts.name }

// Time is d's time as a Runner orders it (epoch ms).
func (m *Matcher) Time(d *event.Doc) (int64, bool) {
	switch v := m.ts.firstShared(d); v.Kind {
	case event.Int:
		return v.I, true
	case event.Float:
		return int64(v.F), true
	}
	return 0, false
}

// Feed offers one document; src names it in results.
func (r *Runner) Feed(m *Matcher, d *event.Doc, src Source) {
	switch {
	case r.events != nil:
		if !m.event.match(d) {
			r.seq++
			return
		}
		o, ok := r.ordinalOf(m, d)
		if !ok {
			o.ts = 0
		}
		if r.streaming() {
			src.From = nil // copy now: nothing is kept for later
			h := newHit(d.Raw(), src)
			h.ord = o
			r.Stream(h, nil, nil)
			return
		}
		h := newHit(d.Raw(), src)
		h.ord = o
		r.events.add(h)
		return
	}
	var c *cand
	m.resetKeyCache()
	for i, st := range m.stages {
		if !st.match(d) {
			continue
		}
		keys, ok := m.keysFor(i, st, d, r.sample == nil)
		if !ok {
			continue
		}
		if c == nil {
			c = &cand{}
			c.stages = c.stbuf[:0]
		}
		c.stages = append(c.stages, i)
		c.keys = append(c.keys, keys)
	}
	if m.until != nil && m.until.match(d) {
		if keys, ok := m.keysFor(len(m.stages), m.until, d, true); ok {
			if c == nil {
				c = &cand{}
			}
			c.until = keys
		}
	}
	if c == nil {
		r.seq++
		return
	}
	o, ok := r.ordinalOf(m, d)
	c.ord, c.tsOK = o, ok
	c.hitv = docHit(d, src)
	c.hit = &c.hitv
	c.hit.ord = o
	if r.sample != nil {
		r.sample.add(c)
		return
	}
	if !ok {
		r.NoTimestamp++
		return
	}
	r.push(c)
}

func (r *Runner) push(c *cand) {
	if r.Clock != nil && r.ReorderWindow > 0 {
		// The stream's clock alone says how far time has come (a
		// candidate's own time may be an outlier the clock declined).
		// Release first what it has passed: a candidate older than that
		// is late whichever events came in between.
		r.maxTs, r.started = *r.Clock, true
		r.release()
	} else if !r.started || c.ord.ts > r.maxTs {
		r.maxTs, r.started = c.ord.ts, true
	}
	if r.haveOut && c.ord.less(r.lastOut) {
		r.Late++
		r.process(c) // too late to reorder: process now, counted
		return
	}
	r.hold(c)
	if r.ReorderWindow > 0 {
		r.release()
	}
}

// release processes the held candidates older than the newest time minus
// the reorder window.
func (r *Runner) release() {
	limit := r.maxTs - r.ReorderWindow.Milliseconds()
	for {
		c := r.peekHeld()
		if c == nil || c.ord.ts >= limit {
			return
		}
		r.emit(r.popHeld())
	}
}

// Dormant reports whether a sequence query has nothing open: no partial
// sequence and no held candidate that could start one. Until a document
// matches its first term (Wakes), the others cannot complete anything,
// so a caller keeping a Clock may skip feeding them, provided it feeds
// them, in their order, before that document (a replay): only what is
// then still within the reorder window can follow it.
func (r *Runner) Dormant() bool {
	if r.seqs == nil || r.seqs.missing != nil || r.Clock == nil || r.ReorderWindow <= 0 || r.stage0Held > 0 {
		return false
	}
	n := 0
	for _, p := range r.seqs.pending {
		n += len(p)
	}
	if n == 0 {
		return true
	}
	// A few open sequences may all be past maxspan at the release limit
	// (the sweep that drops them runs every thousand events or so).
	if n > 16 || r.seqs.maxspan <= 0 {
		return false
	}
	dead := *r.Clock - r.ReorderWindow.Milliseconds() - r.seqs.maxspan
	for _, m := range r.seqs.pending {
		for k, p := range m {
			if p.start >= dead {
				return false
			}
			delete(m, k)
		}
	}
	return true
}

// Wakes reports whether d matches the first term's filter: the documents
// a Dormant runner must be fed.
func (r *Runner) Wakes(m *Matcher, d *event.Doc) bool {
	return len(m.stages) > 0 && m.stages[0].match(d)
}

// Advance tells a sequence runner that time has reached ts (epoch ms)
// even if no event says so: held candidates older than ts minus the
// reorder window are processed now, so a sequence whose last event came
// before a quiet spell completes without waiting for a newer event. Events
// arriving later than what was released are processed late (Late), as
// after any release.
func (r *Runner) Advance(ts int64) {
	if r.seqs == nil || r.ReorderWindow <= 0 {
		return
	}
	limit := ts - r.ReorderWindow.Milliseconds()
	for {
		c := r.peekHeld()
		if c == nil || c.ord.ts >= limit {
			return
		}
		r.emit(r.popHeld())
	}
}

func (r *Runner) emit(c *cand) {
	r.lastOut, r.haveOut = c.ord, true
	r.process(c)
}

func (r *Runner) process(c *cand) {
	if r.Clock != nil && r.ReorderWindow > 0 {
		// Open sequences that started more than maxspan before the release
		// limit are dead even for an event arriving late, so that results
		// do not depend on when the sweep ran (nor on which events fed it).
		r.seqs.deadBefore = *r.Clock - r.ReorderWindow.Milliseconds() - r.seqs.maxspan
	}
	if !r.streamInit {
		r.streamInit = true
		if r.streaming() {
			r.seqs.stream = r.Stream
		}
	}
	r.seqs.feed(c)
}

// streaming reports whether results can go to Stream as they come.
func (r *Runner) streaming() bool {
	q := r.prog.Query
	if r.Stream == nil || len(q.Pipes) > 0 || r.prog.Opts.Size >= 0 || q.Kind == SampleQuery {
		return false
	}
	return q.Kind != SequenceQuery || !hasMissing(q.Sequence)
}

// Finish drains the engine and returns the results with pipes, size and
// result_position applied. An error means some referenced events could not
// be read back (Source.From); their Hits have a nil Source.
func (r *Runner) Finish() (*Results, error) {
	res := &Results{}
	switch {
	case r.events != nil:
		res.Events = r.events.finish()
	case r.seqs != nil:
		for c := r.popHeld(); c != nil; c = r.popHeld() {
			r.emit(c)
		}
		res.Sequences = r.seqs.finish()
	case r.sample != nil:
		res.Sequences = r.sample.finish()
	}
	// Read every result back, collecting failures: one unreadable event
	// must not cost the others (its Hit keeps a nil Source).
	var hits []*Hit
	hits = append(hits, res.Events...)
	for _, sq := range res.Sequences {
		hits = append(hits, sq.Events...)
	}
	errs := loadHits(hits)
	return res, errors.Join(errs...)
}

// limits applies the pipes, then size with result_position.
func limits(n int, q *Query, opts Options) (from, to int) {
	from, to = 0, n
	for _, p := range q.Pipes {
		switch p.Kind {
		case "head":
			if to-from > p.N {
				to = from + p.N
			}
		case "tail":
			if to-from > p.N {
				from = to - p.N
			}
		}
	}
	if opts.Size >= 0 && to-from > opts.Size {
		// With pipes, ES cuts the implicit size limit from the end the
		// first pipe reads; otherwise result_position decides.
		head := opts.ResultPosition == "head"
		if len(q.Pipes) > 0 {
			head = q.Pipes[0].Kind == "head"
		}
		if head {
			to = from + opts.Size
		} else {
			from = to - opts.Size
		}
	}
	return from, to
}

// eventCollector keeps matching events; with a size limit and no head
// pipe it keeps only what can be returned.
type eventCollector struct {
	prog *Program
	hits []*Hit
}

func newEventCollector(p *Program) *eventCollector { return &eventCollector{prog: p} }

func (e *eventCollector) add(h *Hit) {
	e.hits = append(e.hits, h)
	if cap := e.bound(); cap > 0 && len(e.hits) > 4*cap+1024 {
		e.trim(cap)
	}
}

// bound is the most results any position can need, 0 when unbounded.
func (e *eventCollector) bound() int { return resultBound(e.prog) }

// resultBound: every limit cuts from one end, so the first and the last
// max(N) results always contain the answer; 0 when there is no limit.
func resultBound(p *Program) int {
	b := 0
	if len(p.Query.Pipes) == 0 && p.Opts.Size < 0 {
		return 0
	}
	for _, pp := range p.Query.Pipes {
		b = max(b, pp.N)
	}
	if p.Opts.Size >= 0 {
		b = max(b, p.Opts.Size)
	}
	if b == 0 {
		return 1 // head 0 / tail 0: keep a token, finish() returns none
	}
	return 2 * b
}

func (e *eventCollector) trim(keep int) {
	sortHits(e.hits)
	if len(e.hits) <= keep {
		return
	}
	half := keep / 2
	e.hits = append(e.hits[:half:half], e.hits[len(e.hits)-(keep-half):]...)
}

func sortHits(h []*Hit) {
	sort.Slice(h, func(i, j int) bool { return h[i].ord.less(h[j].ord) })
}

func (e *eventCollector) finish() []*Hit {
	sortHits(e.hits)
	from, to := limits(len(e.hits), e.prog.Query, e.prog.Opts)
	return e.hits[from:to]
}

// loadHits reads referenced events back, coalescing events that lie close
// together in one file into one read: results of a big file are thousands
// of small reads otherwise.
func loadHits(hits []*Hit) []error {
	var refs []*Hit
	group := map[io.ReaderAt]int{}
	for _, h := range hits {
		if h.from != nil && h.Source == nil {
			refs = append(refs, h)
			if _, ok := group[h.from]; !ok {
				group[h.from] = len(group)
			}
		}
	}
	sort.Slice(refs, func(i, j int) bool {
		if gi, gj := group[refs[i].from], group[refs[j].from]; gi != gj {
			return gi < gj
		}
		return refs[i].off < refs[j].off
	})
	// Only events nearly adjacent are merged: dense results would
	// otherwise read the whole file again.
	const maxGap, maxSpan = 4 << 10, 1 << 20
	var errs []error
	var buf []byte
	for i := 0; i < len(refs); {
		first := refs[i]
		end := first.off + int64(first.n)
		j := i + 1
		for j < len(refs) && refs[j].from == first.from && refs[j].off-end <= maxGap && refs[j].off+int64(refs[j].n)-first.off <= maxSpan {
			end = max(end, refs[j].off+int64(refs[j].n))
			j++
		}
		if j == i+1 {
			if err := first.load(); err != nil {
				errs = append(errs, err)
			}
			i = j
			continue
		}
		if n := int(end - first.off); cap(buf) < n {
			buf = make([]byte, n)
		} else {
			buf = buf[:n]
		}
		if _, err := first.from.ReadAt(buf, first.off); err != nil {
			// Fall back to one read each, so the error names the events.
			for _, h := range refs[i:j] {
				if err := h.load(); err != nil {
					errs = append(errs, err)
				}
			}
			i = j
			continue
		}
		for _, h := range refs[i:j] {
			rel := h.off - first.off
			h.Source = append([]byte(nil), buf[rel:rel+int64(h.n)]...)
			h.from = nil
		}
		i = j
	}
	return errs
}

// Held candidates live in a FIFO while they arrive in order, which costs
// O(1) each; only those arriving out of order go to the heap. The next to
// process is the smaller head of the two.
func (r *Runner) hold(c *cand) {
	if len(c.stages) > 0 && c.stages[0] == 0 {
		r.stage0Held++
	}
	if n := len(r.fifo); n == r.fifoAt || !c.ord.less(r.fifo[n-1].ord) {
		if r.fifoAt > 0 && r.fifoAt == len(r.fifo) {
			r.fifo, r.fifoAt = r.fifo[:0], 0
		}
		r.fifo = append(r.fifo, c)
		return
	}
	heap.Push(&r.buf, c)
}

func (r *Runner) peekHeld() *cand {
	var f *cand
	if r.fifoAt < len(r.fifo) {
		f = r.fifo[r.fifoAt]
	}
	if len(r.buf) > 0 && (f == nil || r.buf[0].ord.less(f.ord)) {
		return r.buf[0]
	}
	return f
}

func (r *Runner) popHeld() *cand {
	c := r.peekHeld()
	if c == nil {
		return nil
	}
	if len(c.stages) > 0 && c.stages[0] == 0 {
		r.stage0Held--
	}
	if r.fifoAt < len(r.fifo) && r.fifo[r.fifoAt] == c {
		r.fifo[r.fifoAt] = nil
		r.fifoAt++
		// Reclaim the consumed front once it is most of the slice.
		if r.fifoAt > 1024 && r.fifoAt*2 > len(r.fifo) {
			n := copy(r.fifo, r.fifo[r.fifoAt:])
			r.fifo, r.fifoAt = r.fifo[:n], 0
		}
		return c
	}
	return heap.Pop(&r.buf).(*cand)
}
