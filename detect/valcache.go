package detect

import "hash/maphash"

// valCache remembers, per probed field, which requirements a recent value
// satisfied: most fields repeat a few values (process names, paths), and
// looking one up costs less than folding it and scanning it for pattern
// fragments again. Direct-mapped; a field whose values rarely repeat
// (command lines) stops using it.
type valCache struct {
	slots   [valCacheSlots]valCacheSlot
	lookups int
	hits    int
	off     bool
}

const (
	valCacheSlots = 512
	valCacheTerms = 6    // values satisfying more are not cached
	valCacheTrial = 4096 // lookups before the hit rate is judged
)

type valCacheSlot struct {
	h     uint64
	b     []byte // the value, in storage the slot reuses
	n     int8   // terms; -1: empty
	terms [valCacheTerms]int32
}

var valCacheSeed = maphash.MakeSeed()

func newValCache() *valCache {
	c := &valCache{}
	for i := range c.slots {
		c.slots[i].n = -1
	}
	return c
}

// get returns the terms s satisfied, if remembered.
func (c *valCache) get(s string) (uint64, []int32, bool) {
	h := maphash.String(valCacheSeed, s)
	c.lookups++
	sl := &c.slots[h%valCacheSlots]
	if sl.n >= 0 && sl.h == h && bytesView(sl.b) == s {
		c.hits++
		return h, sl.terms[:sl.n], true
	}
	if c.lookups == valCacheTrial && c.hits*3 < c.lookups {
		c.off = true // fewer than 1 in 3 repeat: not worth the copies
	}
	return h, nil, false
}

func (c *valCache) put(h uint64, s string, terms []int32) {
	if len(terms) > valCacheTerms {
		return
	}
	sl := &c.slots[h%valCacheSlots]
	sl.h, sl.b, sl.n = h, append(sl.b[:0], s...), int8(copy(sl.terms[:], terms))
}
