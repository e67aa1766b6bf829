package eql

import (
	"sort"
)

// Missing events ![...]: a sequence of the positive steps is reported when
// the events it says must not happen did not happen:
//   - a missing step between two positive events is violated by any event
//     matching it (same join key) strictly between them;
//   - the leading and trailing missing steps together are violated when
//     all of them can be filled with matching events (leading before the
//     first positive event, trailing after the last) so that the whole
//     sequence still fits in maxspan.
// A sequence is decided only once maxspan has passed after its last event
// (or the input ended): ES decides early and so reports sequences that a
// later trailing event would have excluded (elasticsearch#145323).

type missingEvent struct {
	ord  ordinal
	keys []string
}

type missingChecker struct {
	prog    *Program
	maxspan int64
	// events[t] are the events that matched missing term t, in order.
	events map[int][]missingEvent
	layout []*Term
}

func newMissingChecker(p *Program) *missingChecker {
	return &missingChecker{
		prog:    p,
		maxspan: p.Query.Sequence.MaxSpan.Milliseconds(),
		events:  map[int][]missingEvent{},
		layout:  p.Query.Sequence.Terms,
	}
}

func (m *missingChecker) observe(c *cand) {
	for i, t := range c.stages {
		if !m.layout[t].Missing {
			continue
		}
		keys := make([]string, len(c.keys[i]))
		for j, k := range c.keys[i] {
			keys[j] = k.enc
		}
		m.events[t] = append(m.events[t], missingEvent{ord: c.ord, keys: keys})
	}
}

// expire forgets missing-step events too old to matter for any sequence
// still open or undecided at time now.
func (m *missingChecker) expire(now int64) {
	limit := now - 3*m.maxspan
	for t, evs := range m.events {
		i := sort.Search(len(evs), func(i int) bool { return evs[i].ord.ts >= limit })
		if i > 0 {
			m.events[t] = append(evs[:0:0], evs[i:]...)
		}
	}
}

func hasKey(e missingEvent, key string) bool {
	for _, k := range e.keys {
		if k == key {
			return true
		}
	}
	return false
}

// check decides a completed sequence; it returns its events with
// placeholders for missing steps, or false when it is excluded.
func (m *missingChecker) check(d *completed) ([]*Hit, bool) {
	type slot struct {
		term int
		hit  *Hit
	}
	var slots []slot
	hi := 0
	for ti, t := range m.layout {
		for r := 0; r < t.Runs; r++ {
			if t.Missing {
				slots = append(slots, slot{term: ti})
			} else {
				slots = append(slots, slot{term: ti, hit: d.hits[hi]})
				hi++
			}
		}
	}
	first, last := d.hits[0], d.hits[len(d.hits)-1]
	key := d.key.enc
	// Middle steps.
	var prev *Hit
	for i, s := range slots {
		if s.hit != nil {
			prev = s.hit
			continue
		}
		if prev == nil {
			continue // leading
		}
		var next *Hit
		for _, n := range slots[i+1:] {
			if n.hit != nil {
				next = n.hit
				break
			}
		}
		if next == nil {
			continue // trailing
		}
		for _, e := range m.events[s.term] {
			if prev.ord.less(e.ord) && e.ord.less(next.ord) && hasKey(e, key) {
				return nil, false
			}
		}
	}
	// Leading and trailing steps, together.
	var lead, trail []int
	for _, s := range slots {
		if s.hit != nil {
			break
		}
		lead = append(lead, s.term)
	}
	for i := len(slots) - 1; i >= 0 && slots[i].hit == nil; i-- {
		trail = append(trail, slots[i].term)
	}
	if len(lead)+len(trail) > 0 {
		start, end := first.ord.ts, last.ord.ts
		filled := true
		for _, t := range lead { // the latest event before the first positive one
			best, ok := int64(0), false
			for _, e := range m.events[t] {
				if e.ord.less(first.ord) && hasKey(e, key) {
					best, ok = e.ord.ts, true
				}
			}
			if !ok {
				filled = false
				break
			}
			start = min(start, best)
		}
		for _, t := range trail { // the earliest event after the last one
			if !filled {
				break
			}
			best, ok := int64(0), false
			for _, e := range m.events[t] {
				if last.ord.less(e.ord) && hasKey(e, key) {
					best, ok = e.ord.ts, true
					break
				}
			}
			if !ok {
				filled = false
				break
			}
			end = max(end, best)
		}
		if filled && end-start <= m.maxspan {
			return nil, false
		}
	}
	out := make([]*Hit, len(slots))
	for i, s := range slots {
		if s.hit != nil {
			out[i] = s.hit
		} else {
			out[i] = &Hit{Missing: true}
		}
	}
	return out, true
}
