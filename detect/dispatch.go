package detect

import (
	"bytes"
	"encoding/binary"
	"strings"
	"unsafe"

	"github.com/vigilsec/vigil/eql"
)

// Literal dispatch finds, in one pass over a raw line, which rules' required
// literals it contains, so that a line no rule can match is never parsed
// and a parsed line is evaluated only by the rules that can match it.
//
// A filter of a query (an event query; each term of a sequence or sample)
// can match a line only if each of its literal groups (extract.go) has a
// literal in the line; a rule is a candidate when one of its filters can.
// Each filter is dispatched by its anchor group: the group whose literals
// occurred on the fewest of the first lines. Other groups are checked only
// when all their literals are scanned for anyway: looking for common
// literals ("windows", "process") costs more than evaluating the few
// candidates they would rule out.
//
// Until calibrated, every literal is scanned for, to measure frequencies.
// Then only anchor literals are: a handful are searched one by one by their
// rarest byte (vectorised IndexByte); more are found by sampling every
// second position of the ASCII-folded line and probing a Bloom filter with
// the grams starting there (8 bytes for literals of nine bytes or more, 4
// for five to eight, 3 for four, 2 for three). A literal is indexed by one
// gram at an even and one at an odd offset, so every occurrence has a gram
// at a sampled position; grams are chosen rare in the data and apart from
// other literals' grams. A probe hit is confirmed by comparing the whole
// literal, folded or exactly. The cost grows with the literals found, not
// with the number of rules.

const (
	gramStep  = 2
	minLitLen = 2 + gramStep - 1 // shorter literals cannot be found: their groups are dropped
	pad       = 8                // zero bytes after the folded line, for whole-gram loads

	bloomBits = 18 // 2^18 bits: 32 KiB, shared by the 3-, 4- and 8-byte grams
	hashMul   = 0x9E3779B97F4A7C15
	hashMul2  = 0xC2B2AE3D27D4EB4F

	calibrateLines = 512
	maxFew         = 8
)

// dlit is one distinct required literal of the rule set.
type dlit struct {
	text  string // as it appears in raw JSON; lower-case when fold
	key   string // ASCII-folded text: what the folded line is searched for
	fold  bool
	slash bool
}

// litIndex is the rule set's immutable literal table, shared by engines.
type litIndex struct {
	lits []dlit
	// filters holds per rule, per filter of its query, the usable literal
	// groups (CNF). A rule with a filter without any is in always.
	filters [][][][]int32
	always  bitset // rules every line must be offered to
	slash   bitset // rules with a literal containing '/': candidates on lines with \/
}

func newLitIndex(rules []*compiledRule) *litIndex {
	ix := &litIndex{always: newBitset(len(rules)), slash: newBitset(len(rules))}
	ids := map[dlit]int32{}
	for ri, cr := range rules {
		var filters [][][]int32
		for _, cnf := range cr.literals {
			var groups [][]int32
			for _, g := range cnf {
				var ids1 []int32
				usable := len(g) > 0
				for _, l := range g {
					if len(l.Text) < minLitLen {
						usable = false // too short to be found by the sampled scan
						break
					}
					d := dlit{text: l.Text, key: foldString(l.Text), fold: l.Fold, slash: strings.IndexByte(l.Text, '/') >= 0}
					id, ok := ids[d]
					if !ok {
						id = int32(len(ix.lits))
						ids[d] = id
						ix.lits = append(ix.lits, d)
					}
					ids1 = append(ids1, id)
				}
				if usable {
					groups = append(groups, ids1)
				}
			}
			if len(groups) == 0 {
				filters = nil
				ix.always.set(ri)
				break
			}
			filters = append(filters, groups)
		}
		if len(cr.literals) == 0 {
			ix.always.set(ri)
		}
		ix.filters = append(ix.filters, filters)
		for _, groups := range filters {
			for _, g := range groups {
				for _, id := range g {
					if ix.lits[id].slash {
						ix.slash.set(ri)
					}
				}
			}
		}
	}
	return ix
}

type gramEnt struct {
	lit int32
	off int32 // offset of the gram in the literal
}

type gramSlot struct {
	key      uint64 // gram | tier marker, so that no key is 0; 0 = empty
	start, n uint32 // entries in gramTable.ents
}

// gramTable maps a gram to the literals indexed by it (open addressing).
type gramTable struct {
	slots []gramSlot
	shift uint
	ents  []gramEnt
}

func newGramTable(byKey map[uint64][]gramEnt, order []uint64) *gramTable {
	size := 16
	for size < 4*len(order) {
		size <<= 1
	}
	t := &gramTable{slots: make([]gramSlot, size), shift: uint(64 - log2(size))}
	for _, k := range order {
		i := t.slotOf(k)
		for t.slots[i].key != 0 {
			i = (i + 1) & (len(t.slots) - 1)
		}
		es := byKey[k]
		t.slots[i] = gramSlot{key: k, start: uint32(len(t.ents)), n: uint32(len(es))}
		t.ents = append(t.ents, es...)
	}
	return t
}

func (t *gramTable) slotOf(k uint64) int { return int((k * hashMul) >> t.shift) }

// lookup returns the entries of gram k (none for a filter false positive).
func (t *gramTable) lookup(k uint64) []gramEnt {
	for j := t.slotOf(k); ; j = (j + 1) & (len(t.slots) - 1) {
		sl := &t.slots[j]
		if sl.key == k {
			return t.ents[sl.start : sl.start+sl.n]
		}
		if sl.key == 0 {
			return nil
		}
	}
}

// Gram tiers by literal length.
type tier uint8

const (
	tier2 tier = iota // 3 bytes: 2-byte grams
	tier3             // 4 bytes: 3-byte grams
	tier4             // 5-8 bytes: 4-byte grams
	tier8             // 9 bytes or more: 8-byte grams
	numTiers
)

var tierLen = [...]int{2, 3, 4, 8}

func tierOf(n int) tier {
	for t := tier8; t > tier2; t-- {
		if n >= tierLen[t]+gramStep-1 {
			return t
		}
	}
	return tier2
}

// gramKey is the table key of the gram of tier t in the 8 bytes w: the
// gram with a marker bit, so that no key is 0 and tiers do not collide.
func gramKey(t tier, w uint64) uint64 {
	switch t {
	case tier2:
		return w&0xffff | 1<<16
	case tier3:
		return w&0xffffff | 1<<24
	case tier4:
		return w&0xffffffff | 1<<32
	}
	return w // an 8-byte gram of a literal has no NUL, so it is not 0
}

func le64s(s string) uint64 {
	var b [8]byte
	copy(b[:], s)
	return binary.LittleEndian.Uint64(b[:])
}

// scanner is one engine's dispatch state: the tables are rebuilt once
// after calibration, so they are per engine.
type scanner struct {
	ix     *litIndex
	bloom  []uint64 // one-hash Bloom filter of the 3-, 4- and 8-byte grams
	short  []uint64 // bitmap of 2-byte grams; nil: no short literal
	tables [numTiers]*gramTable
	has3   bool // some literal uses 3-byte grams
	// units: one per filter of every rule with literals; anchors: per
	// literal, the units whose anchor group holds it.
	units   []unit
	anchors [][]int32

	inTable  []bool   // the literal is looked for by the scan
	few      []fewLit // when few literals are scanned for: them, searched one by one
	fewFold  bool     // some of them are case-insensitive
	litSeen  []uint32 // == gen: found in the current line
	ruleSeen []uint32 // == gen: already a candidate for the current line
	unitSeen []uint32 // == gen: already checked for the current line
	gen      uint32
	matched  []int32
	fold     []byte

	// Calibration on the first lines: gram and literal frequencies.
	lines    int
	gramFreq []uint32
	litLines []uint32
	byteFreq [256]uint32
}

// fewLit is a literal searched alone, by its rarest byte.
type fewLit struct {
	id     int32
	text   string // searched in the folded line when fold, else the line
	fold   bool
	anchor int // offset of the rarest byte
}

// unit is one filter of a rule for dispatch.
type unit struct {
	rule   int32
	groups [][]int32
	anchor int
	checks [][]int32 // the groups checked once the anchor is found
}

func newScanner(ix *litIndex) *scanner {
	s := &scanner{
		ix:       ix,
		litSeen:  make([]uint32, len(ix.lits)),
		ruleSeen: make([]uint32, len(ix.filters)),
	}
	if len(ix.lits) > 0 {
		s.gramFreq = make([]uint32, 1<<16)
		s.litLines = make([]uint32, len(ix.lits))
	}
	s.build()
	return s
}

func freqSlot(k uint64) uint64 { return (k * hashMul2) >> 48 }

func bloomBit(k uint64) uint64 { return (k * hashMul) >> (64 - bloomBits) }

// build (re)creates the anchors and gram tables: from static byte rarity
// and with every literal in the tables before calibration; from measured
// frequencies and with fewer literals in the tables after (see below).
func (s *scanner) build() {
	calibrated := s.lines >= calibrateLines

	// Each filter's anchor: its rarest group. Three-byte literals are
	// found by 2-byte grams, which hit everywhere: their groups are anchors
	// only when a filter has nothing else.
	groupCost := func(g []int32) int {
		for _, id := range g {
			if len(s.ix.lits[id].key) < tierLen[tier3]+gramStep-1 {
				return 1 << 40
			}
		}
		if calibrated {
			c := 0
			for _, id := range g {
				c += int(s.litLines[id])
			}
			return c
		}
		var rl []eql.RequiredLiteral
		for _, id := range g {
			rl = append(rl, eql.RequiredLiteral{Text: s.ix.lits[id].text})
		}
		return -groupScore(rl)
	}
	s.units = s.units[:0]
	s.anchors = make([][]int32, len(s.ix.lits))
	for r, filters := range s.ix.filters {
		for _, groups := range filters {
			u := unit{rule: int32(r), groups: groups}
			bestCost := 0
			for gi, g := range groups {
				c := groupCost(g)
				if gi == 0 || c < bestCost || (c == bestCost && len(g) < len(groups[u.anchor])) {
					u.anchor, bestCost = gi, c
				}
			}
			for _, id := range groups[u.anchor] {
				s.anchors[id] = append(s.anchors[id], int32(len(s.units)))
			}
			s.units = append(s.units, u)
		}
	}
	s.unitSeen = make([]uint32, len(s.units))
	// Calibration needs every literal counted. After it, only anchor
	// literals are scanned for: the others are often common ("windows",
	// "process"), and finding them costs more than evaluating the few
	// extra candidates they would rule out. A unit's other groups are
	// still checked when all their literals happen to be scanned for.
	s.inTable = make([]bool, len(s.ix.lits))
	for id := range s.ix.lits {
		s.inTable[id] = !calibrated || len(s.anchors[id]) > 0
	}
	// A handful of literals is faster to search one by one (SIMD) than
	// with the gram probes.
	s.few, s.fewFold = nil, false
	if calibrated {
		for id, in := range s.inTable {
			if !in {
				continue
			}
			l := &s.ix.lits[id]
			fl := fewLit{id: int32(id), text: l.text, fold: l.fold}
			if l.fold {
				fl.text = l.key
			}
			for j := 1; j < len(fl.text); j++ {
				if s.byteFreq[lowerASCII(fl.text[j])] < s.byteFreq[lowerASCII(fl.text[fl.anchor])] {
					fl.anchor = j
				}
			}
			s.few = append(s.few, fl)
			s.fewFold = s.fewFold || l.fold
		}
		if len(s.few) > maxFew {
			s.few = nil
		}
	}
	for i := range s.units {
		u := &s.units[i]
		u.checks = u.checks[:0]
	groups:
		for gi, g := range u.groups {
			if gi == u.anchor {
				continue
			}
			for _, id := range g {
				if !s.inTable[id] {
					continue groups
				}
			}
			u.checks = append(u.checks, g)
		}
	}

	// Gram tables. A gram already chosen by other literals costs more, so
	// that literals spread over distinct grams.
	used := map[uint64]int{}
	cost := func(t tier, key string, off int) int {
		n := tierLen[t]
		k := gramKey(t, le64s(key[off:off+n]))
		if calibrated {
			return int(s.gramFreq[freqSlot(k)]) * (1 + used[k])
		}
		c := 0
		for j := 0; j < n; j++ {
			c -= eql.ByteRarity(key[off+j])
		}
		return c*(1+used[k]) - used[k]
	}
	keys := [numTiers]map[uint64][]gramEnt{{}, {}, {}, {}}
	var order [numTiers][]uint64
	s.has3 = false
	s.bloom = make([]uint64, 1<<bloomBits/64)
	s.short = nil
	for id, l := range s.ix.lits {
		if !s.inTable[id] {
			continue
		}
		t := tierOf(len(l.key))
		n := tierLen[t]
		for parity := 0; parity < gramStep; parity++ {
			best, bestCost := -1, 0
			for off := parity; off+n <= len(l.key); off += gramStep {
				if c := cost(t, l.key, off); best < 0 || c < bestCost {
					best, bestCost = off, c
				}
			}
			w := le64s(l.key[best : best+n])
			k := gramKey(t, w)
			used[k]++
			if _, ok := keys[t][k]; !ok {
				order[t] = append(order[t], k)
			}
			keys[t][k] = append(keys[t][k], gramEnt{int32(id), int32(best)})
			switch t {
			case tier2:
				if s.short == nil {
					s.short = make([]uint64, 1<<16/64)
				}
				s.short[w>>6] |= 1 << (w & 63)
			default:
				s.has3 = s.has3 || t == tier3
				b := bloomBit(k)
				s.bloom[b>>6] |= 1 << (b & 63)
			}
		}
	}
	for t := range s.tables {
		s.tables[t] = newGramTable(keys[t], order[t])
	}
}

func log2(n int) int {
	k := 0
	for 1<<k < n {
		k++
	}
	return k
}

// scan adds to cand every rule whose literal groups are all present in
// line. It does not look at JSON escapes; the caller does.
func (s *scanner) scan(line []byte, cand bitset) {
	if len(s.ix.lits) == 0 {
		return
	}
	s.gen++
	if s.gen == 0 { // wrapped: forget every mark
		clear(s.litSeen)
		clear(s.ruleSeen)
		clear(s.unitSeen)
		s.gen = 1
	}
	s.matched = s.matched[:0]
	if s.few != nil {
		s.searchFew(line)
		s.candidates(cand)
		return
	}
	n := len(line)
	if cap(s.fold) < n+pad {
		s.fold = make([]byte, n+pad, n+n/4+pad)
	}
	// Zero padding lets the last positions load whole grams; no literal
	// holds a NUL byte.
	f := s.fold[:n+pad]
	foldASCII(f, line)
	clear(f[n:])
	bloom := s.bloom[: 1<<bloomBits/64 : 1<<bloomBits/64]
	short := s.short
	if short == nil {
		short = noShort[:]
	}
	short = short[: 1<<16/64 : 1<<16/64]
	has3 := s.has3
	for i := 0; i+2 <= n; i += gramStep {
		w := binary.LittleEndian.Uint64(f[i:])
		k4 := w&0xffffffff | 1<<32
		if b := (k4 * hashMul) >> (64 - bloomBits); bloom[b>>6]&(1<<(b&63)) != 0 {
			s.confirm(s.tables[tier4], k4, i, line, f)
		}
		if b := (w * hashMul) >> (64 - bloomBits); bloom[b>>6]&(1<<(b&63)) != 0 {
			s.confirm(s.tables[tier8], w, i, line, f)
		}
		if k2 := w & 0xffff; short[k2>>6]&(1<<(k2&63)) != 0 {
			s.confirm(s.tables[tier2], k2|1<<16, i, line, f)
		}
		if has3 {
			k3 := w&0xffffff | 1<<24
			if b := (k3 * hashMul) >> (64 - bloomBits); bloom[b>>6]&(1<<(b&63)) != 0 {
				s.confirm(s.tables[tier3], k3, i, line, f)
			}
		}
	}
	if s.lines < calibrateLines {
		s.calibrate(f[:n])
	}
	s.candidates(cand)
}

// candidates adds the rules of the units whose anchor was found and whose
// checked groups are satisfied.
func (s *scanner) candidates(cand bitset) {
	for _, id := range s.matched {
		for _, ui := range s.anchors[id] {
			u := &s.units[ui]
			if s.ruleSeen[u.rule] == s.gen || s.unitSeen[ui] == s.gen {
				continue
			}
			s.unitSeen[ui] = s.gen
			if s.satisfied(u) {
				s.ruleSeen[u.rule] = s.gen
				cand.set(int(u.rule))
			}
		}
	}
}

// searchFew looks for each of the few scanned literals, skipping through
// the line by the literal's rarest byte (IndexByte is vectorised).
func (s *scanner) searchFew(line []byte) {
	f := line
	if s.fewFold {
		if cap(s.fold) < len(line) {
			s.fold = make([]byte, len(line), len(line)+len(line)/4+pad)
		}
		f = s.fold[:len(line)]
		foldASCII(f, line)
	}
	for _, fl := range s.few {
		b := line
		if fl.fold {
			b = f
		}
		if containsAnchored(b, fl.text, fl.anchor) {
			s.litSeen[fl.id] = s.gen
			s.matched = append(s.matched, fl.id)
		}
	}
}

func containsAnchored(b []byte, lit string, anchor int) bool {
	a := lit[anchor]
	for off := anchor; off < len(b); {
		i := bytes.IndexByte(b[off:], a)
		if i < 0 {
			return false
		}
		p := off + i - anchor
		if p+len(lit) <= len(b) && bytesView(b[p:p+len(lit)]) == lit {
			return true
		}
		off += i + 1
	}
	return false
}

// noShort stands in for the 2-byte gram bitmap when there are no short
// literals, so the scan loop has no extra branch.
var noShort [1 << 16 / 64]uint64

// confirm checks the literals indexed under gram k sampled at line[i:].
func (s *scanner) confirm(t *gramTable, k uint64, i int, line, f []byte) {
	for _, e := range t.lookup(k) {
		if s.litSeen[e.lit] == s.gen {
			continue
		}
		l := &s.ix.lits[e.lit]
		p := i - int(e.off)
		if p < 0 || p+len(l.key) > len(line) {
			continue
		}
		if l.fold {
			if string(f[p:p+len(l.key)]) != l.key {
				continue
			}
		} else if string(line[p:p+len(l.text)]) != l.text {
			continue
		}
		s.litSeen[e.lit] = s.gen
		s.matched = append(s.matched, e.lit)
	}
}

// satisfied reports whether every checked group of u (its anchor is
// found) has a literal in the line.
func (s *scanner) satisfied(u *unit) bool {
	for _, g := range u.checks {
		ok := false
		for _, id := range g {
			if s.litSeen[id] == s.gen {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// calibrate counts gram frequencies at every position and which literals
// each line holds, then rebuilds the tables once enough lines were seen.
func (s *scanner) calibrate(f []byte) {
	f = f[:len(f)+pad] // the zero padding
	for i := 0; i+pad < len(f); i++ {
		w := binary.LittleEndian.Uint64(f[i:])
		for t := tier2; t < numTiers; t++ {
			s.gramFreq[freqSlot(gramKey(t, w))]++
		}
	}
	for _, id := range s.matched {
		s.litLines[id]++
	}
	for _, c := range f[:len(f)-pad] {
		s.byteFreq[c]++
	}
	s.lines++
	if s.lines == calibrateLines {
		s.build()
		s.gramFreq, s.litLines = nil, nil
	}
}

// foldASCII lower-cases the ASCII letters of src into dst, eight bytes at
// a time: bytes >= 0x80 and non-letters are unchanged.
func foldASCII(dst, src []byte) {
	dst = dst[:len(src)]
	i := 0
	for ; i+8 <= len(src); i += 8 {
		w := binary.LittleEndian.Uint64(src[i:])
		binary.LittleEndian.PutUint64(dst[i:], fold8(w))
	}
	for ; i < len(src); i++ {
		c := src[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst[i] = c
	}
}

func fold8(w uint64) uint64 {
	const hi = 0x8080808080808080
	h := w &^ hi                 // each byte < 0x80: the additions below cannot carry
	ge := h + 0x3f3f3f3f3f3f3f3f // bit 7 set where byte >= 'A'
	gt := h + 0x2525252525252525 // bit 7 set where byte > 'Z'
	upper := ge &^ gt &^ w & hi  // ASCII upper-case letters
	return w | upper>>2          // 0x80 >> 2 = 0x20
}

func foldString(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			foldASCII(b, b)
			return string(b)
		}
	}
	return s
}

// bytesView reads b as a string without copying; b must not change while
// the string is in use.
func bytesView(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// groupScore rates a literal group by static byte rarity (its weakest
// literal; fewer alternatives break ties), before calibration on data.
func groupScore(g []eql.RequiredLiteral) int {
	m := 1 << 30
	for _, l := range g {
		s := 0
		for i := 0; i < len(l.Text); i++ {
			s += eql.ByteRarity(lowerASCII(l.Text[i]))
		}
		m = min(m, s)
	}
	return m*4 - len(g)
}

func lowerASCII(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
