package evtx

// offMap maps chunk offsets to what was parsed there (templates, names)
// for the current chunk. A chunk holds a few dozen of each, looked up for
// every record: open addressing with a generation number per slot makes
// the per-chunk reset free, and a lookup cheaper than a Go map's.
type offMap[V any] struct {
	slots []offSlot[V]
	shift uint // 32 - log2(len(slots))
	gen   uint32
	n     int
}

type offSlot[V any] struct {
	gen, off uint32
	v        V
}

// reset empties the map (slots of older generations read as empty).
func (m *offMap[V]) reset() {
	m.gen++
	m.n = 0
	if m.gen == 0 { // wrapped: old generations would come back
		clear(m.slots)
		m.gen = 1
	}
	if len(m.slots) > 1<<12 {
		m.slots = nil // grown by an exceptional chunk
	}
}

func (m *offMap[V]) index(off uint32) int { return int((off * 2654435761) >> m.shift) }

func (m *offMap[V]) get(off uint32) (V, bool) {
	if m.n > 0 {
		mask := len(m.slots) - 1
		for i := m.index(off); ; i = (i + 1) & mask {
			s := &m.slots[i]
			if s.gen != m.gen {
				break
			}
			if s.off == off {
				return s.v, true
			}
		}
	}
	var zero V
	return zero, false
}

func (m *offMap[V]) put(off uint32, v V) {
	if 2*(m.n+1) > len(m.slots) {
		m.grow()
	}
	mask := len(m.slots) - 1
	for i := m.index(off); ; i = (i + 1) & mask {
		s := &m.slots[i]
		if s.gen != m.gen {
			*s = offSlot[V]{gen: m.gen, off: off, v: v}
			m.n++
			return
		}
		if s.off == off {
			s.v = v
			return
		}
	}
}

// grow doubles the table (64 slots at first) and re-inserts the entries
// of the current generation.
func (m *offMap[V]) grow() {
	old := m.slots
	size := max(64, 2*len(old))
	m.slots = make([]offSlot[V], size)
	m.shift = 32
	for s := size; s > 1; s >>= 1 {
		m.shift--
	}
	gen := m.gen
	m.n = 0
	if m.gen == 0 {
		m.gen = 1
	}
	for i := range old {
		if old[i].gen == gen && gen != 0 {
			m.put(old[i].off, old[i].v)
		}
	}
}
