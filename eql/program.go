package eql

import (
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/vigilsec/vigil/event"
)

// Options are the search settings ES takes beside the query.
type Options struct {
	TimestampField  string // default "@timestamp"
	TiebreakerField string // default none
	CategoryField   string // default "event.category"
	// Size limits the number of events or sequences returned (ES size).
	// NoLimit (-1) returns everything; 0 returns nothing, as in ES.
	Size int
	// ResultPosition "tail" (ES default) returns the last Size results,
	// "head" the first.
	ResultPosition string
}

func (o *Options) defaults() {
	if o.TimestampField == "" {
		o.TimestampField = "@timestamp"
	}
	if o.CategoryField == "" {
		o.CategoryField = "event.category"
	}
	if o.ResultPosition == "" {
		o.ResultPosition = "tail"
	}
}

// NoLimit is the Size that returns every result.
const NoLimit = -1

// Program is a parsed and checked query with its options. Its query and
// options do not change and it is safe for concurrent use; Matchers
// compiled from it carry the per-index field types and scratch state.
type Program struct {
	Query *Query
	Opts  Options
	// spare is the schemaless matcher Compile built to check the query,
	// handed to the first caller of Matcher(nil) (the engine, which would
	// build the same one again: half the compile time of a rule set).
	spare atomic.Pointer[Matcher]
	// spareValues is FilterValues, computed by Compile for the first
	// caller: a rule set's compiles run on every core, its dispatch index
	// (which asks for the values of every rule) is built on one.
	spareValues atomic.Pointer[[][][]ValueReq]
}

// Compile checks q (schemaless) and returns a Program.
func Compile(q *Query, opts Options) (*Program, error) {
	opts.defaults()
	p := &Program{Query: q, Opts: opts}
	m, err := p.compileMatcher(nil)
	if err != nil {
		return nil, err
	}
	p.spare.Store(m)
	vals := p.filterValues()
	p.spareValues.Store(&vals)
	return p, nil
}

// ParseAndCompile is Parse then Compile.
func ParseAndCompile(src string, opts Options) (*Program, error) {
	q, err := Parse(src)
	if err != nil {
		return nil, err
	}
	return Compile(q, opts)
}

// filter is one compiled "category where condition".
type filter struct {
	category string
	catField *fieldRef
	pred     predFn
}

func (f *filter) match(d *event.Doc) bool {
	if f.catField != nil {
		ok := false
		for _, v := range f.catField.values(d) {
			if v.Kind == event.String && v.S == f.category {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return f.pred(d)
}

// stage is one compiled sequence or sample term.
type stage struct {
	filter
	keys    []*fieldRef // sequence-level keys, then the term's own
	missing bool
	term    *Term
}

// Matcher evaluates a Program's filters on documents of one index. Not safe
// for concurrent use (it reuses scratch buffers).
type Matcher struct {
	prog  *Program
	types *Types
	// keyGroup[i] numbers the distinct join-key lists of stages (and of
	// until, last), so one event's keys are read once per list.
	keyGroup []int
	keyCache []keyCacheEntry
	keyMemo  [][2]uint32 // per key group: the document memo ids (raw, ISO dates)
	event    *filter
	stages   []*stage
	until    *stage
	ts       *fieldRef
	tb       *fieldRef
}

// Matcher compiles the program's filters for an index with the given field
// types (nil: schemaless).
func (p *Program) Matcher(types *Types) (*Matcher, error) {
	if types == nil {
		if m := p.spare.Swap(nil); m != nil {
			return m, nil
		}
	}
	return p.compileMatcher(types)
}

func (p *Program) compileMatcher(types *Types) (*Matcher, error) {
	ti := types.info(p.Opts.TimestampField)
	c := &exprCompiler{src: p.Query.Src, types: ti}
	m := &Matcher{prog: p, types: types}
	var err error
	if m.ts, err = c.field(&Field{Name: p.Opts.TimestampField, Optional: true}); err != nil {
		return nil, err
	}
	if p.Opts.TiebreakerField != "" {
		if m.tb, err = c.field(&Field{Name: p.Opts.TiebreakerField, Optional: true}); err != nil {
			return nil, err
		}
	}
	q := p.Query
	switch q.Kind {
	case EventQuery:
		if m.event, err = c.filter(q.Event, p.Opts.CategoryField); err != nil {
			return nil, err
		}
	case SequenceQuery:
		for _, t := range q.Sequence.Terms {
			st, err := c.stage(t, q.Sequence.By, p.Opts.CategoryField)
			if err != nil {
				return nil, err
			}
			m.stages = append(m.stages, st)
		}
		if q.Sequence.Until != nil {
			if m.until, err = c.stage(q.Sequence.Until, q.Sequence.By, p.Opts.CategoryField); err != nil {
				return nil, err
			}
		}
	case SampleQuery:
		for _, t := range q.Sample.Terms {
			st, err := c.stage(t, q.Sample.By, p.Opts.CategoryField)
			if err != nil {
				return nil, err
			}
			m.stages = append(m.stages, st)
		}
	}
	if err := m.checkKeys(); err != nil {
		return nil, err
	}
	m.groupKeys()
	return m, nil
}

type keyCacheEntry struct {
	done bool
	ok   bool
	keys []keyTuple
}

// groupKeys finds stages whose join keys are the same fields.
func (m *Matcher) groupKeys() {
	all := append(append([]*stage{}, m.stages...), m.until)
	sig := map[string]int{}
	for _, st := range all {
		g := -1
		if st != nil {
			var b strings.Builder
			for _, k := range st.keys {
				if k.optional {
					b.WriteByte('?')
				}
				b.WriteString(k.name)
				b.WriteByte(0)
				// What expandKeys reads: the same for every query with these
				// keys, whose tuples the document then shares.
				fmt.Fprintf(&b, "%s\x00%d\x00%v\x00", k.info.path, k.info.typ, k.constNull)
				if k.info.nullValue != nil {
					fmt.Fprintf(&b, "%v\x00", *k.info.nullValue)
				}
			}
			var ok bool
			if g, ok = sig[b.String()]; !ok {
				g = len(sig)
				sig[b.String()] = g
				m.keyMemo = append(m.keyMemo, [2]uint32{event.MemoID("eql.keys\x00" + b.String()), event.MemoID("eql.keys.iso\x00" + b.String())})
			}
		}
		m.keyGroup = append(m.keyGroup, g)
	}
	m.keyCache = make([]keyCacheEntry, len(sig))
}

func (m *Matcher) resetKeyCache() {
	for i := range m.keyCache {
		m.keyCache[i] = keyCacheEntry{}
	}
}

// keysFor returns the join keys of stage i (len(stages): until) for d.
// The tuples are shared between stages of one event and never modified.
func (m *Matcher) keysFor(i int, st *stage, d *event.Doc, isoDates bool) ([]keyTuple, bool) {
	g := m.keyGroup[i]
	e := &m.keyCache[g]
	if !e.done {
		id := m.keyMemo[g][0]
		if isoDates {
			id = m.keyMemo[g][1]
		}
		if v, ok := d.Memo(id); ok {
			*e = *v.(*keyCacheEntry)
		} else {
			e.keys, e.ok = expandKeys(st.keys, d, isoDates)
			e.done = true
			c := *e
			d.SetMemo(id, &c)
		}
	}
	return e.keys, e.ok
}

func (c *exprCompiler) filter(f *EventFilter, catField string) (*filter, error) {
	out := &filter{category: f.Category}
	if f.Category != "" {
		ref, err := c.field(&Field{P: f.P, Name: catField, Optional: true})
		if err != nil {
			return nil, err
		}
		out.catField = ref
		if ref.constNull {
			out.pred = func(*event.Doc) bool { return false }
			return out, nil
		}
	}
	pred, err := c.pred(f.Cond)
	if err != nil {
		return nil, err
	}
	out.pred = pred
	return out, nil
}

func (c *exprCompiler) stage(t *Term, by []*Field, catField string) (*stage, error) {
	f, err := c.filter(&t.Filter, catField)
	if err != nil {
		return nil, err
	}
	st := &stage{filter: *f, missing: t.Missing, term: t}
	for _, k := range append(append([]*Field{}, by...), t.By...) {
		ref, err := c.field(k)
		if err != nil {
			return nil, err
		}
		st.keys = append(st.keys, ref)
	}
	return st, nil
}

// checkKeys: every term must have the same number of join keys.
func (m *Matcher) checkKeys() error {
	all := append(append([]*stage{}, m.stages...), m.until)
	n := -1
	for _, st := range all {
		if st == nil {
			continue
		}
		if n >= 0 && len(st.keys) != n {
			return errorf(m.prog.Query.Src, st.term.P, "every query must have the same number of join keys: expected %d, found %d", n, len(st.keys))
		}
		n = len(st.keys)
	}
	return nil
}

// Types returns the field types the matcher was compiled with (nil:
// schemaless), e.g. to build the Prefilter for the same indices.
func (m *Matcher) Types() *Types { return m.types }
