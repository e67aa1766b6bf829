package detect

import (
	"fmt"
	"sort"

	"github.com/vigilsec/vigil/eql"
	"github.com/vigilsec/vigil/event"
)

// Sequence gating. Many sequences start on a rare event and continue on a
// common one ("MSBuild started, then a network connection"): while such a
// sequence has nothing open (eql.Runner.Dormant), only a document matching
// its first term can matter, so the others are not fed; they are noted in
// a ring of recent documents instead. When a first-term document comes,
// the rule's noted documents still within the reorder window are fed
// first, in their order, and then it: the runner sees what it would have
// seen, minus what its reorder window had already let go, which could not
// have followed the new start anyway. This needs the runners to release
// held events by the time of the whole stream (eql.Runner.Clock), which
// every engine that parses every line keeps (value dispatch).
type gate struct {
	clock  int64
	timeM  *eql.Matcher // reads the clock's field (rules on another field are not gated)
	gated  bitset
	window int64 // the largest reorder window of the gated rules, ms

	ring    []ringEntry
	head    int
	base    int64     // number of the entry at ring[head]
	cur     int64     // number of the current document's entry; -1: none yet
	skipped [][]int64 // per rule: entries it was not fed, oldest first
	rp      event.Parser
	buf     []byte
	arena   []byte // copies of documents that cannot be read back

	replayed int64 // documents fed late (for the tests)
}

type ringEntry struct {
	src eql.Source
	raw []byte // nil: read back from src.From
	n   int
	ts  int64
}

// newGate sets up gating for the engine's sequence rules, or returns nil
// when none can be gated.
func newGate(e *Engine) *gate {
	g := &gate{cur: -1}
	for i, r := range e.runners {
		q := e.rs.rules[i].prog.Query
		if q.Kind != eql.SequenceQuery || r.ReorderWindow <= 0 {
			continue
		}
		m := e.matchers[i]
		if g.timeM == nil {
			g.timeM = m
		} else if m.TimeField() != g.timeM.TimeField() {
			continue
		}
		if g.gated == nil {
			g.gated = newBitset(len(e.runners))
			g.skipped = make([][]int64, len(e.runners))
		}
		g.gated.set(i)
		r.Clock = &g.clock
		g.window = max(g.window, r.ReorderWindow.Milliseconds())
	}
	if g.gated == nil {
		return nil
	}
	return g
}

// tick advances the clock to d's time and forgets the documents the
// reorder windows have let go. A new document has no entry yet.
func (g *gate) tick(d *event.Doc) {
	g.cur = -1
	if t, ok := g.timeM.Time(d); ok && t > g.clock {
		g.clock = t
	}
	limit := g.clock - g.window
	for g.head < len(g.ring) && g.ring[g.head].ts < limit {
		g.ring[g.head] = ringEntry{}
		g.head++
		g.base++
	}
	if g.head > 1024 && g.head*2 > len(g.ring) {
		n := copy(g.ring, g.ring[g.head:])
		clear(g.ring[n:])
		g.ring, g.head = g.ring[:n], 0
	}
}

// skip notes that rule i was not fed the current document d.
func (g *gate) skip(i int, d *event.Doc, src eql.Source) {
	if g.cur < 0 {
		ent := ringEntry{src: src, n: len(d.Raw()), ts: g.clock}
		if t, ok := g.timeM.Time(d); ok {
			ent.ts = t
		}
		if src.From == nil {
			if len(g.arena)+ent.n > cap(g.arena) {
				g.arena = make([]byte, 0, max(1<<20, ent.n))
			}
			at := len(g.arena)
			g.arena = append(g.arena, d.Raw()...)
			ent.raw = g.arena[at:len(g.arena):len(g.arena)]
		}
		g.ring = append(g.ring, ent)
		g.cur = g.base + int64(len(g.ring)-g.head) - 1
	}
	l := g.skipped[i]
	if len(l) == cap(l) && len(l) > 0 && l[0] < g.base {
		// Drop what the ring has forgotten before growing.
		k := sort.Search(len(l), func(j int) bool { return l[j] >= g.base })
		l = l[:copy(l, l[k:])]
	}
	g.skipped[i] = append(l, g.cur)
}

// replay feeds rule i the documents it was not fed that the ring still
// holds, in their order.
func (e *Engine) replay(i int) {
	g := e.gate
	for _, n := range g.skipped[i] {
		if n < g.base {
			continue
		}
		ent := &g.ring[g.head+int(n-g.base)]
		raw := ent.raw
		if raw == nil {
			g.buf = append(g.buf[:0], make([]byte, ent.n)...)
			if _, err := ent.src.From.ReadAt(g.buf, ent.src.Offset); err != nil {
				e.streamErrs = append(e.streamErrs, fmt.Errorf("%s:%d: reading the event back: %w", ent.src.Index, ent.src.Line, err))
				continue
			}
			raw = g.buf
		}
		d, err := g.rp.Parse(raw)
		if err != nil {
			e.streamErrs = append(e.streamErrs, fmt.Errorf("%s:%d: the event read back does not parse: %w", ent.src.Index, ent.src.Line, err))
			continue
		}
		e.runners[i].Feed(e.matchers[i], d, ent.src)
		e.stats.Evaluations++
		e.stats.Deferred--
		g.replayed++
	}
	g.skipped[i] = g.skipped[i][:0]
}
