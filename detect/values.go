package detect

import (
	"encoding/binary"

	"github.com/vigilsec/vigil/eql"
	"github.com/vigilsec/vigil/event"
)

// Value dispatch picks, for a parsed event, the rules whose filters can
// match it by looking up the event's values of a few fields in hash
// tables, instead of searching the raw line for every rule's literals
// (dispatch.go). With a thousand rules nearly every line holds some rule's
// literal, so the line is parsed anyway; a literal also occurs in fields
// the rule does not test ("svchost.exe" as a parent, in a path), and each
// such occurrence costs an evaluation. Requirements name the field
// (eql.FilterValues), so "process.name is net.exe" is a hash probe of
// process.name.
//
// Each filter of a rule is a unit with requirement groups (CNF); one group
// is its anchor, and the unit is a candidate when the event satisfies the
// anchor. Anchors are chosen on data: the first lines are probed with every
// group of every unit (full mode) and each requirement's frequency is
// counted; then every unit is anchored on its rarest group and only the
// anchor fields are probed. A line in every sampleEvery is still probed in
// full, and the anchors are re-chosen as the samples double, so that a
// stream whose mix changes (a service running for weeks) is re-anchored.
// A rule with a filter without requirements is offered every event its
// index and category allow.
//
// Fields are probed only when some rule that the event's index and
// category allow is anchored on them: a plan per distinct allowed set.

const (
	valCalibrateLines = 512
	valSampleEvery    = 1024
	// containsPenalty is added to a substring requirement's frequency when
	// anchors are chosen: scanning a value costs more than a hash probe.
	containsPenalty = 0.05
	// bytesPerEval: scanning this many bytes of a value for fragments costs
	// about one evaluation of a rule (measured: ~2 ns a byte, ~300 ns).
	bytesPerEval = 150
)

type valTerm struct {
	field    int32
	text     string
	contains bool
}

type valUnit struct {
	rule   int32
	groups [][]int32 // term ids
	gbase  int32     // id of groups[0] among all groups
	static []int     // per group, eql's static selectivity guess
}

type valField struct {
	name string
	path *event.Path
}

// ugRef is a term's membership in one group of one unit (full mode).
type ugRef struct {
	unit int32
	ug   int32
}

// valIndex is the rule set's immutable requirement table.
type valIndex struct {
	fields     []valField
	terms      []valTerm
	units      []valUnit
	termGroups [][]ugRef
	nGroups    int
	always     bitset // rules with a filter without requirements
}

func newValIndex(rules []*compiledRule) *valIndex {
	ix := &valIndex{always: newBitset(len(rules))}
	fieldID := map[string]int32{}
	termID := map[valTerm]int32{}
	for ri, cr := range rules {
		vals := cr.prog.FilterValues()
		free := false
		for _, cnf := range vals {
			if len(cnf) == 0 {
				free = true
			}
		}
		if free || len(vals) == 0 {
			ix.always.set(ri)
			continue
		}
		for _, cnf := range vals {
			u := valUnit{rule: int32(ri), gbase: int32(ix.nGroups)}
			for _, g := range cnf {
				var ids []int32
				for _, r := range g {
					f, ok := fieldID[r.Field]
					if !ok {
						f = int32(len(ix.fields))
						fieldID[r.Field] = f
						ix.fields = append(ix.fields, valField{name: r.Field, path: event.CompilePath(r.Field)})
					}
					t := valTerm{field: f, text: r.Text, contains: r.Contains}
					id, ok := termID[t]
					if !ok {
						id = int32(len(ix.terms))
						termID[t] = id
						ix.terms = append(ix.terms, t)
						ix.termGroups = append(ix.termGroups, nil)
					}
					ids = append(ids, id)
				}
				u.groups = append(u.groups, ids)
				u.static = append(u.static, eql.ValueGroupScore(g))
			}
			ui := int32(len(ix.units))
			for gi, g := range u.groups {
				ug := u.gbase + int32(gi)
				for _, id := range g {
					// A term twice in one group counts once (marks are per group).
					ix.termGroups[id] = append(ix.termGroups[id], ugRef{unit: ui, ug: ug})
				}
			}
			ix.nGroups += len(u.groups)
			ix.units = append(ix.units, u)
		}
	}
	return ix
}

// fieldProbe finds a field's values among the requirements on it.
type fieldProbe struct {
	exact map[string]int32 // folded value -> term
	frags *fragSet         // substring terms
	cache *valCache        // anchor mode: recent values' terms
}

// check is a group of a unit verified once its anchor holds; field is the
// group's field, or -1 when its requirements are on several.
type check struct {
	terms []int32
	field int32
}

type valPlan struct {
	allowed bitset
	fields  []int32
	probed  []bool // per field: in fields
}

// valDispatcher is one engine's value dispatch state.
type valDispatcher struct {
	ix *valIndex

	full        []fieldProbe // every term, for full mode
	fullFields  []int32
	anchor      []fieldProbe // anchor terms only
	anchorUnits [][]int32    // per term: units anchored on it
	fieldRules  []bitset     // per field: rules anchored on it
	anchored    bool
	plans       map[uint64][]*valPlan

	gen       uint32
	termSeen  []uint32
	ugSeen    []uint32
	unitGen   []uint32
	unitCnt   []int32
	out       bitset
	pending   []int32   // units whose anchor holds (anchor mode)
	checks    [][]check // per unit: its other groups, checked after the anchor
	buf       []byte
	mode      bool    // current probe is full
	rec       []int32 // terms hit while recording (valCache)
	recording bool

	lines, samples, nextRebuild int
	termLines                   []uint32
	fieldBytes                  []uint64 // bytes of each field's values, on sampled lines
	alwaysUnits                 []int32  // units without a usable group: candidates whenever allowed
}

func newValDispatcher(ix *valIndex, nRules int) *valDispatcher {
	v := &valDispatcher{
		ix:          ix,
		termSeen:    make([]uint32, len(ix.terms)),
		ugSeen:      make([]uint32, ix.nGroups),
		unitGen:     make([]uint32, len(ix.units)),
		unitCnt:     make([]int32, len(ix.units)),
		out:         newBitset(nRules),
		termLines:   make([]uint32, len(ix.terms)),
		fieldBytes:  make([]uint64, len(ix.fields)),
		nextRebuild: valCalibrateLines,
	}
	all := make([]bool, len(ix.terms))
	for i := range all {
		all[i] = true
	}
	v.full, v.fullFields = v.buildProbes(all)
	return v
}

// buildProbes indexes the terms marked in use, per field.
func (v *valDispatcher) buildProbes(use []bool) ([]fieldProbe, []int32) {
	probes := make([]fieldProbe, len(v.ix.fields))
	var frags [][]fragEnt
	frags = make([][]fragEnt, len(v.ix.fields))
	for id, t := range v.ix.terms {
		if !use[id] {
			continue
		}
		p := &probes[t.field]
		if t.contains {
			frags[t.field] = append(frags[t.field], fragEnt{term: int32(id), text: t.text})
			continue
		}
		if p.exact == nil {
			p.exact = map[string]int32{}
		}
		p.exact[t.text] = int32(id)
	}
	var fields []int32
	for f := range probes {
		if len(frags[f]) > 0 {
			probes[f].frags = newFragSet(frags[f])
		}
		if probes[f].exact != nil || probes[f].frags != nil {
			fields = append(fields, int32(f))
		}
	}
	return probes, fields
}

// reanchor picks every unit's cheapest group from the counted frequencies
// and rebuilds the anchor tables.
func (v *valDispatcher) reanchor() {
	ix := v.ix
	n := float64(max(v.samples, 1))
	use := make([]bool, len(ix.terms))
	v.anchorUnits = make([][]int32, len(ix.terms))
	v.fieldRules = make([]bitset, len(ix.fields))
	v.alwaysUnits = v.alwaysUnits[:0]
	// Each unit's cheapest group, in evaluations per line: the lines on
	// which it holds (a substring requirement also costs a little more).
	groupCost := func(g []int32) float64 {
		c := 0.0
		for _, id := range g {
			c += float64(v.termLines[id]) / n
			if ix.terms[id].contains {
				c += containsPenalty
			}
		}
		return c
	}
	noScan := make([]bool, len(ix.fields)) // fields not worth scanning
	scans := func(g []int32, f int32) bool {
		for _, id := range g {
			if t := ix.terms[id]; t.contains && (t.field == f || noScan[t.field]) {
				return true
			}
		}
		return false
	}
	anchors := make([]int, len(ix.units))
	costs := make([]float64, len(ix.units))
	choose := func(ui int, avoid int32) {
		u := &ix.units[ui]
		best, bestCost, bestStatic := -1, 0.0, 0
		for gi, g := range u.groups {
			if avoid >= 0 && scans(g, avoid) {
				continue
			}
			c := groupCost(g)
			if best < 0 || c < bestCost || (c == bestCost && u.static[gi] > bestStatic) {
				best, bestCost, bestStatic = gi, c, u.static[gi]
			}
		}
		if best < 0 {
			best, bestCost = -1, 1 // no group left: evaluated whenever allowed
		}
		anchors[ui], costs[ui] = best, bestCost
	}
	for ui := range ix.units {
		choose(ui, -1)
	}
	// Scanning a field's values costs about a byte per bytesPerEval of an
	// evaluation: a field scanned for a few units whose other groups are
	// nearly as rare is not worth it. Those units are re-anchored.
	byField := map[int32][]int{}
	for ui, u := range ix.units {
		if a := anchors[ui]; a >= 0 {
			for _, id := range u.groups[a] {
				if t := ix.terms[id]; t.contains {
					byField[t.field] = append(byField[t.field], ui)
				}
			}
		}
	}
	for f, uis := range byField {
		scan := float64(v.fieldBytes[f]) / n / bytesPerEval
		saved := 0.0
		alt := make([]int, len(uis))
		altCost := make([]float64, len(uis))
		for k, ui := range uis {
			a, c := anchors[ui], costs[ui]
			choose(ui, f)
			alt[k], altCost[k] = anchors[ui], costs[ui]
			saved += altCost[k] - c
			anchors[ui], costs[ui] = a, c
		}
		if saved < scan {
			noScan[f] = true
			for k, ui := range uis {
				anchors[ui], costs[ui] = alt[k], altCost[k]
			}
		}
	}
	for ui, u := range ix.units {
		best := anchors[ui]
		if best < 0 {
			v.alwaysUnits = append(v.alwaysUnits, int32(ui))
			continue
		}
		for _, id := range u.groups[best] {
			use[id] = true
			v.anchorUnits[id] = append(v.anchorUnits[id], int32(ui))
			f := ix.terms[id].field
			if v.fieldRules[f] == nil {
				v.fieldRules[f] = newBitset(len(v.out) * 64)
			}
			v.fieldRules[f].set(int(u.rule))
		}
	}
	// A probed field is probed for every requirement on it: a hash probe
	// costs the same whatever the table's size, and a scanned value is
	// scanned for every fragment at little extra cost. Then a unit whose
	// anchor holds is checked against its other groups on probed fields.
	scanned := make([]bool, len(ix.fields))
	for id, t := range ix.terms {
		if use[id] && t.contains {
			scanned[t.field] = true
		}
	}
	for id, t := range ix.terms {
		if t.contains && scanned[t.field] {
			use[id] = true
		}
	}
	v.anchor, _ = v.buildProbes(use)
	v.checks = make([][]check, len(ix.units))
	for ui, u := range ix.units {
		for gi, g := range u.groups {
			if gi == anchors[ui] {
				continue
			}
			ck := check{terms: g, field: ix.terms[g[0]].field}
			for _, id := range g {
				t := ix.terms[id]
				if t.field != ck.field {
					ck.field = -1
				}
				if t.contains && !scanned[t.field] {
					ck.terms = nil // not found by the probes: the query decides
					break
				}
			}
			if ck.terms != nil {
				v.checks[ui] = append(v.checks[ui], ck)
			}
		}
	}
	for f := range v.anchor {
		v.anchor[f].exact = v.full[f].exact
	}
	v.anchored = true
	v.plans = map[uint64][]*valPlan{}
}

// candidates narrows c, the rules the event's index and category allow,
// to those with a filter the event may satisfy.
func (v *valDispatcher) candidates(d *event.Doc, c bitset) {
	v.gen++
	if v.gen == 0 {
		clear(v.termSeen)
		clear(v.ugSeen)
		clear(v.unitGen)
		v.gen = 1
	}
	out := v.out
	for i := range out {
		out[i] = v.ix.always[i] & c[i]
	}
	v.lines++
	if !v.anchored || v.lines%valSampleEvery == 0 {
		// Full mode: every requirement, counted.
		v.mode = true
		for _, f := range v.fullFields {
			v.probe(d, f, &v.full[f])
		}
		v.samples++
		if v.samples >= v.nextRebuild {
			v.nextRebuild *= 2
			v.reanchor()
		}
	} else {
		// Anchor mode: the anchor fields are probed for every requirement
		// on them, so that a unit whose anchor holds is also checked
		// against its other groups on those fields.
		v.mode = false
		p := v.plan(c)
		v.pending = v.pending[:0]
		for _, f := range p.fields {
			v.probe(d, f, &v.anchor[f])
		}
		for _, ui := range v.pending {
			if v.checked(ui, p) {
				out.set(int(v.ix.units[ui].rule))
			}
		}
		for _, ui := range v.alwaysUnits {
			out.set(int(v.ix.units[ui].rule))
		}
	}
	c.and(out)
}

// checked reports whether every checkable group of unit ui (on probed
// fields) has a requirement the event satisfies.
func (v *valDispatcher) checked(ui int32, p *valPlan) bool {
	for _, ck := range v.checks[ui] {
		if ck.field >= 0 {
			if !p.probed[ck.field] {
				continue
			}
		} else if !v.allProbed(ck.terms, p) {
			continue
		}
		ok := false
		for _, id := range ck.terms {
			if v.termSeen[id] == v.gen {
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

func (v *valDispatcher) allProbed(terms []int32, p *valPlan) bool {
	for _, id := range terms {
		if !p.probed[v.ix.terms[id].field] {
			return false
		}
	}
	return true
}

// plan returns the fields worth probing for the allowed rules c.
func (v *valDispatcher) plan(c bitset) *valPlan {
	h := uint64(len(c))
	for _, w := range c {
		h = (h ^ w) * hashMul
	}
	for _, p := range v.plans[h] {
		if equalBits(p.allowed, c) {
			return p
		}
	}
	p := &valPlan{allowed: append(bitset(nil), c...), probed: make([]bool, len(v.ix.fields))}
	for f, rules := range v.fieldRules {
		if rules != nil && intersects(rules, c) {
			p.fields = append(p.fields, int32(f))
			p.probed[f] = true
		}
	}
	v.plans[h] = append(v.plans[h], p)
	return p
}

func equalBits(a, b bitset) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func intersects(a, b bitset) bool {
	for i := range a {
		if a[i]&b[i] != 0 {
			return true
		}
	}
	return false
}

func (v *valDispatcher) probe(d *event.Doc, f int32, p *fieldProbe) {
	vals, _ := d.Values(v.ix.fields[f].path)
	for i := range vals {
		x := &vals[i]
		var s string
		switch x.Kind {
		case event.String:
			s = x.S
		case event.Null:
			continue
		default:
			// A pattern compares with a number's or boolean's text; an
			// exact requirement never holds for them (eql.FilterValues).
			if p.frags == nil {
				continue
			}
			s = x.String()
		}
		if !v.mode && x.Kind == event.String {
			if p.cache == nil {
				p.cache = newValCache()
			}
			if c := p.cache; !c.off {
				h, terms, ok := c.get(s)
				if ok {
					for _, t := range terms {
						v.hit(t)
					}
					continue
				}
				v.rec, v.recording = v.rec[:0], true
				v.match(p, s, f, true)
				v.recording = false
				c.put(h, s, v.rec)
				continue
			}
		}
		v.match(p, s, f, x.Kind == event.String)
	}
}

// match looks up value s of field f in p's requirements; exact ones only
// hold for strings.
func (v *valDispatcher) match(p *fieldProbe, s string, f int32, str bool) {
	v.buf = eql.FoldValue(v.buf[:0], s)
	if v.mode {
		v.fieldBytes[f] += uint64(len(v.buf))
	}
	if p.exact != nil && str {
		if t, ok := p.exact[bytesView(v.buf)]; ok {
			v.hit(t)
		}
	}
	if p.frags != nil {
		p.frags.find(v, v.buf)
	}
}

// hit records that the event satisfies term t.
func (v *valDispatcher) hit(t int32) {
	if v.recording {
		v.rec = append(v.rec, t)
	}
	if v.termSeen[t] == v.gen {
		return
	}
	v.termSeen[t] = v.gen
	if !v.mode {
		for _, ui := range v.anchorUnits[t] {
			if v.unitGen[ui] != v.gen {
				v.unitGen[ui] = v.gen
				v.pending = append(v.pending, ui)
			}
		}
		return
	}
	v.termLines[t]++
	for _, r := range v.ix.termGroups[t] {
		if v.ugSeen[r.ug] == v.gen {
			continue
		}
		v.ugSeen[r.ug] = v.gen
		if v.unitGen[r.unit] != v.gen {
			v.unitGen[r.unit] = v.gen
			v.unitCnt[r.unit] = 0
		}
		v.unitCnt[r.unit]++
		if u := &v.ix.units[r.unit]; int(v.unitCnt[r.unit]) == len(u.groups) {
			v.out.set(int(u.rule))
		}
	}
}

// fragSet finds which of a field's substring requirements occur in a
// folded value: each fragment is indexed by one gram at its rarest offset,
// 4 bytes long for fragments of 4 bytes or more, else 2; one pass over the
// value probes a 2-byte gram bitmap and a 4-byte gram Bloom filter at every
// position, and hits are confirmed by comparing the fragment.
type fragSet struct {
	ents   []fragEnt
	bits2  []uint64 // by the 2-byte gram itself
	bits4  []uint64 // by gramHash of the 4-byte gram
	table2 map[uint32][]int32
	table4 map[uint32][]int32
}

type fragEnt struct {
	term int32
	text string
	off  int // offset of the indexed gram in text
}

func newFragSet(ents []fragEnt) *fragSet {
	s := &fragSet{ents: ents}
	for i := range s.ents {
		e := &s.ents[i]
		k := 2
		if len(e.text) >= 4 {
			k = 4
		}
		best, bestScore := 0, -1
		for off := 0; off+k <= len(e.text); off++ {
			sc := 0
			for j := off; j < off+k; j++ {
				sc += eql.ByteRarity(e.text[j])
			}
			if sc > bestScore {
				best, bestScore = off, sc
			}
		}
		e.off = best
		g := gramOf(e.text[best:best+k], k)
		if k == 2 {
			if s.bits2 == nil {
				s.bits2 = make([]uint64, 1<<16/64)
				s.table2 = map[uint32][]int32{}
			}
			s.bits2[g>>6] |= 1 << (g & 63)
			s.table2[g] = append(s.table2[g], int32(i))
			continue
		}
		if s.bits4 == nil {
			s.bits4 = make([]uint64, 1<<16/64)
			s.table4 = map[uint32][]int32{}
		}
		h := gramHash(g)
		s.bits4[h>>6] |= 1 << (h & 63)
		s.table4[g] = append(s.table4[g], int32(i))
	}
	return s
}

func gramOf(b string, k int) uint32 {
	var w uint32
	for j := k - 1; j >= 0; j-- {
		w = w<<8 | uint32(b[j])
	}
	return w
}

func gramHash(g uint32) uint32 { return (g * 0x9E3779B1) >> 16 }

func (s *fragSet) find(v *valDispatcher, b []byte) {
	n := len(b)
	if n < 2 {
		return
	}
	// Whole 4-byte loads: the folded value is followed by zero padding.
	b = append(b, 0, 0, 0, 0)
	v.buf = b[:0]
	bits2, bits4 := s.bits2, s.bits4
	for i := 0; i+2 <= n; i++ {
		w := binary.LittleEndian.Uint32(b[i:])
		if bits2 != nil {
			if g := w & 0xffff; bits2[g>>6]&(1<<(g&63)) != 0 {
				s.confirm(v, b, n, i, s.table2[g])
			}
		}
		if bits4 != nil && i+4 <= n {
			if h := gramHash(w); bits4[h>>6]&(1<<(h&63)) != 0 {
				s.confirm(v, b, n, i, s.table4[w])
			}
		}
	}
}

func (s *fragSet) confirm(v *valDispatcher, b []byte, n, i int, ents []int32) {
	for _, ei := range ents {
		e := &s.ents[ei]
		p := i - e.off
		if p >= 0 && p+len(e.text) <= n && string(b[p:p+len(e.text)]) == e.text {
			v.hit(e.term)
		}
	}
}
