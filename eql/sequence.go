package eql

import (
	"errors"
	"math"
	"sort"

	"github.com/vigilsec/vigil/event"
)

// Sequence matching, as ES's SequenceMatcher: a state machine with one
// pending sequence per (stage, join key); a newer sequence reaching a
// stage replaces the older one there. Each event is tried against the
// stages from last to first, so one event can extend a sequence and start
// another. Terms with runs=N count as N consecutive stages.

type pendingSeq struct {
	hits  []*Hit
	start int64   // timestamp of the first event (maxspan)
	buf   [3]*Hit // backing for hits in the common case: one allocation
}

type seqStage struct {
	term    int  // index of the term in the query
	missing bool // ![...] step (not matched by the state machine)
}

type completed struct {
	key  keyTuple
	hits []*Hit // positive events only
	// missing-event checking needs the ordinals of each positive event
}

type sequenceMatcher struct {
	prog    *Program
	stages  []seqStage // positive stages (runs expanded), in order
	termPos [][]int    // term -> its positive stage indexes
	pending []map[string]*pendingSeq
	maxspan int64 // ms; 0 none
	// deadBefore: with a maxspan, open sequences that started before it
	// cannot complete (Runner.Clock); math.MinInt64 until set.
	deadBefore int64
	done       []*completed
	missing    *missingChecker
	fed        int
	lastTs     int64
	sweepDue   int
	stream     func(*Hit, *SequenceResult, error) // Runner.Stream, when streaming
}

func newSequenceMatcher(p *Program) *sequenceMatcher {
	s := &sequenceMatcher{prog: p, maxspan: p.Query.Sequence.MaxSpan.Milliseconds(), deadBefore: math.MinInt64}
	s.termPos = make([][]int, len(p.Query.Sequence.Terms))
	for ti, t := range p.Query.Sequence.Terms {
		if t.Missing {
			continue
		}
		for r := 0; r < t.Runs; r++ {
			s.termPos[ti] = append(s.termPos[ti], len(s.stages))
			s.stages = append(s.stages, seqStage{term: ti})
		}
	}
	s.pending = make([]map[string]*pendingSeq, len(s.stages))
	for i := range s.pending {
		s.pending[i] = map[string]*pendingSeq{}
	}
	if hasMissing(p.Query.Sequence) {
		s.missing = newMissingChecker(p)
	}
	return s
}

func hasMissing(q *Sequence) bool {
	for _, t := range q.Terms {
		if t.Missing {
			return true
		}
	}
	return false
}

func (s *sequenceMatcher) feed(c *cand) {
	ts := c.ord.ts
	s.lastTs = ts
	if s.missing != nil {
		s.missing.observe(c)
	}
	// Stages from last to first.
	for i := len(c.stages) - 1; i >= 0; i-- {
		term := c.stages[i]
		pos := s.termPos[term]
		for j := len(pos) - 1; j >= 0; j-- {
			st := pos[j]
			for _, k := range c.keys[i] {
				s.advance(st, k, c, ts)
			}
		}
	}
	// until ends the pending sequences of its key after the event has had
	// its chance to complete one (ES: an until event at the same position
	// as a final step does not cancel that sequence).
	for _, k := range c.until {
		for _, m := range s.pending {
			delete(m, k.enc)
		}
	}
	s.fed++
	if s.maxspan > 0 && s.fed >= s.sweepDue {
		s.sweep(ts)
	}
}

func (s *sequenceMatcher) advance(st int, k keyTuple, c *cand, ts int64) {
	last := len(s.stages) - 1
	if st == 0 {
		p := &pendingSeq{start: ts}
		p.buf[0] = c.hit
		p.hits = p.buf[:1]
		if last == 0 {
			s.complete(k, p)
			return
		}
		s.pending[0][k.enc] = p
		return
	}
	p := s.pending[st-1][k.enc]
	if p == nil {
		return
	}
	delete(s.pending[st-1], k.enc)
	if s.maxspan > 0 && (ts-p.start > s.maxspan || p.start < s.deadBefore) {
		return
	}
	// p left the map: it is extended in place (each open sequence has one
	// owner, its stage and key).
	p.hits = append(p.hits, c.hit)
	if st == last {
		s.complete(k, p)
		return
	}
	s.pending[st][k.enc] = p
}

func (s *sequenceMatcher) complete(k keyTuple, p *pendingSeq) {
	if s.stream != nil {
		res := &SequenceResult{JoinKeys: k.vals, Events: p.hits}
		s.stream(nil, res, errors.Join(loadHits(p.hits)...))
		return
	}
	s.done = append(s.done, &completed{key: k, hits: p.hits})
	// With a size or head/tail limit only both ends can be returned: keep
	// memory to them. (Missing-event checks may still reject sequences, so
	// then everything is kept until they are decided.)
	if b := resultBound(s.prog); b > 0 && s.missing == nil && len(s.done) > 4*b+1024 {
		s.sortDone()
		half := b
		s.done = append(s.done[:half:half], s.done[len(s.done)-b:]...)
	}
}

// sortDone orders sequences as ES does: by their last event, then by join
// key (several sequences can end on one event when a key is multi-valued).
func (s *sequenceMatcher) sortDone() {
	sort.SliceStable(s.done, func(i, j int) bool {
		a, b := s.done[i], s.done[j]
		la, lb := a.hits[len(a.hits)-1].ord, b.hits[len(b.hits)-1].ord
		if la.less(lb) || lb.less(la) {
			return la.less(lb)
		}
		return lessKeys(a.key.vals, b.key.vals)
	})
}

// sweep drops pending sequences that can no longer complete within
// maxspan, so memory follows open sequences, not input size.
func (s *sequenceMatcher) sweep(now int64) {
	n := 0
	for _, m := range s.pending {
		for k, p := range m {
			if now-p.start > s.maxspan {
				delete(m, k)
			} else {
				n++
			}
		}
	}
	s.sweepDue = s.fed + max(1024, 2*n)
	if s.missing != nil {
		s.missing.expire(now)
	}
}

func (s *sequenceMatcher) finish() []*SequenceResult {
	s.sortDone()
	var out []*SequenceResult
	for _, d := range s.done {
		res := &SequenceResult{JoinKeys: d.key.vals}
		if s.missing != nil {
			evs, ok := s.missing.check(d)
			if !ok {
				continue
			}
			res.Events = evs
		} else {
			res.Events = d.hits
		}
		out = append(out, res)
	}
	from, to := limits(len(out), s.prog.Query, s.prog.Opts)
	return out[from:to]
}

var _ = event.Null
