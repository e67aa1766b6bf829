package detect

import (
	"fmt"
	"slices"

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
// every engine that parses every line keeps (value dispatch). Only
// documents that can be read back (eql.Source.From: plain files) are
// skipped: holding copies of a reorder window's documents would cost more
// memory and time than feeding them.
type gate struct {
	clock    int64
	started  bool
	ahead    int          // times in a row beyond a window ahead of the clock
	aheadMin int64        // the earliest of them
	timeM    *eql.Matcher // reads the clock's field (rules on another field are not gated)
	gated    bitset
	window   int64 // the largest reorder window of the gated rules, ms

	// The ring: entries numbered from 0 in arrival order, in chunks so
	// that it grows without copying; head is the oldest kept.
	chunks [][]ringEntry
	first  int64 // number of chunks[0][0]
	head   int64
	next   int64 // number of the next entry
	cur    *ringEntry
	spare  [][]ringEntry
	// pend[i] is the number of the first entry rule i was not fed since
	// it last woke; -1: none.
	pend  []int64
	skips []int32 // arena of the entries' skipped rules
	rp    event.Parser
	buf   []byte

	replayed int64 // documents fed late (for the tests)
}

const (
	ringChunk = 4096
	clockJump = 16
	minJump   = 60_000 // ms: with a small window, a time this far ahead still counts at once
)

type ringEntry struct {
	src   eql.Source
	skips []int32 // the rules not fed this document
	n     int
	ts    int64
	clock int64 // the clock when it arrived
}

// newGate sets up gating for the engine's sequence rules, or returns nil
// when none can be gated.
func newGate(e *Engine) *gate {
	g := &gate{}
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
			g.pend = make([]int64, len(e.runners))
			for i := range g.pend {
				g.pend[i] = -1
			}
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

func (g *gate) entry(n int64) *ringEntry {
	k := n - g.first
	return &g.chunks[k/ringChunk][k%ringChunk]
}

// tick advances the clock to d's time and forgets the documents the
// reorder windows have let go. A new document has no entry yet.
//
// A time more than a window ahead of the clock is taken only once
// clockJump such times came in a row (a new file, a day later), the
// earliest of them: one event from a host whose clock is a year ahead
// must not make every other event late, nor every open sequence dead.
func (g *gate) tick(d *event.Doc) {
	g.cur = nil
	t, ok := g.timeM.Time(d)
	switch {
	case !ok:
	case !g.started || t <= g.clock+max(g.window, minJump):
		g.clock, g.started, g.ahead = max(g.clock, t), true, 0
	default:
		if g.ahead == 0 || t < g.aheadMin {
			g.aheadMin = t
		}
		if g.ahead++; g.ahead >= clockJump {
			g.clock, g.ahead = g.aheadMin, 0
		}
	}
	limit := g.clock - g.window
	for g.head < g.next && g.entry(g.head).ts < limit {
		*g.entry(g.head) = ringEntry{}
		g.head++
		if g.head-g.first == ringChunk {
			g.spare = append(g.spare, g.chunks[0][:0])
			g.chunks = g.chunks[1:]
			g.first += ringChunk
		}
	}
}

// skip notes that rule i was not fed the current document d.
func (g *gate) skip(i int, d *event.Doc, src eql.Source) {
	if g.cur == nil {
		ts := g.clock
		if t, ok := g.timeM.Time(d); ok {
			ts = t
		}
		if ts < g.clock-g.window {
			// Every window has let it go: fed, it would be released at
			// once, and nothing it could follow is open.
			return
		}
		g.cur = g.add(d, src, ts)
	}
	if g.pend[i] < 0 {
		g.pend[i] = g.next - 1 // (replay starts at the ring's head if that is later)
	}
	e := g.cur
	if len(g.skips) == cap(g.skips) {
		// A new arena block; the entry's list so far moves with it.
		g.skips = append(make([]int32, 0, max(1<<14, 2*len(e.skips))), e.skips...)
		e.skips = g.skips
	}
	g.skips = append(g.skips, int32(i))
	e.skips = g.skips[len(g.skips)-len(e.skips)-1 : len(g.skips) : len(g.skips)]
}

// add appends the current document to the ring.
func (g *gate) add(d *event.Doc, src eql.Source, ts int64) *ringEntry {
	last := len(g.chunks) - 1
	if last < 0 || len(g.chunks[last]) == ringChunk {
		var c []ringEntry
		if n := len(g.spare); n > 0 {
			c, g.spare = g.spare[n-1], g.spare[:n-1]
		} else {
			c = make([]ringEntry, 0, ringChunk)
		}
		if last < 0 {
			g.first = g.next
		}
		g.chunks = append(g.chunks, c)
		last++
	}
	ent := ringEntry{src: src, n: len(d.Raw()), ts: ts, clock: g.clock}
	ent.skips = g.skips[len(g.skips):len(g.skips):len(g.skips)]
	g.chunks[last] = append(g.chunks[last], ent)
	g.next++
	return &g.chunks[last][len(g.chunks[last])-1]
}

// replay feeds rule i the documents it was not fed that the ring still
// holds, in their order, each at the clock it arrived at: what the runner
// releases, and which open sequences are past maxspan for it, are then as
// they would have been.
func (e *Engine) replay(i int) {
	g := e.gate
	from := g.pend[i]
	if from < 0 {
		return
	}
	g.pend[i] = -1
	now := g.clock
	defer func() { g.clock = now }()
	for n := max(from, g.head); n < g.next; n++ {
		ent := g.entry(n)
		if !slices.Contains(ent.skips, int32(i)) {
			continue
		}
		g.buf = append(g.buf[:0], make([]byte, ent.n)...)
		if _, err := ent.src.From.ReadAt(g.buf, ent.src.Offset); err != nil {
			e.streamErrs = append(e.streamErrs, fmt.Errorf("%s:%d: reading the event back: %w", ent.src.Index, ent.src.Line, err))
			continue
		}
		d, err := g.rp.Parse(g.buf)
		if err != nil {
			e.streamErrs = append(e.streamErrs, fmt.Errorf("%s:%d: the event read back does not parse: %w", ent.src.Index, ent.src.Line, err))
			continue
		}
		g.clock = ent.clock
		e.runners[i].Feed(e.matchers[i], d, ent.src)
		e.stats.Evaluations++
		e.stats.Deferred--
		g.replayed++
	}
}
