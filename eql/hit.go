package eql

import (
	"strconv"
	"strings"

	"github.com/vigilsec/vigil/event"
)

// Hit is one event of a result: where it came from and its JSON source.
type Hit struct {
	Index   string
	ID      string
	Source  []byte // a private copy of the document
	Missing bool   // placeholder for a missing-event step ![...]
	ord     ordinal
}

// SequenceResult is one sequence or sample.
type SequenceResult struct {
	JoinKeys []event.Value
	Events   []*Hit
}

// Results of a search, in ES's order.
type Results struct {
	Events    []*Hit            // event queries
	Sequences []*SequenceResult // sequence and sample queries
}

// ordinal orders events as ES does: timestamp, then the tiebreaker, then
// arrival (ES's implicit _shard_doc tiebreaker).
type ordinal struct {
	ts    int64
	hasTB bool
	tb    event.Value
	seq   uint64
}

func (a ordinal) less(b ordinal) bool {
	if a.ts != b.ts {
		return a.ts < b.ts
	}
	if a.hasTB && b.hasTB {
		if c, ok := compareValues(a.tb, b.tb); ok && c != 0 {
			return c < 0
		}
	}
	return a.seq < b.seq
}

// keyTuple is one combination of join-key values.
type keyTuple struct {
	vals []event.Value
	enc  string // canonical encoding, the map key
}

// expandKeys reads the key fields and expands multi-valued ones into their
// cartesian product, de-duplicated per field, as ES does. A null key drops
// the event unless that key is optional (then it joins as null).
//
// isoDates renders date keys as ES's sequence join_keys do (ISO-8601
// strings); sample keys come from an aggregation and stay epoch millis.
func expandKeys(refs []*fieldRef, d *event.Doc, isoDates bool) ([]keyTuple, bool) {
	if len(refs) == 0 {
		return []keyTuple{{}}, true
	}
	per := make([][]event.Value, len(refs))
	for i, r := range refs {
		var vals []event.Value
		for _, v := range r.values(d) {
			if v.Kind == event.Null || v.Kind == event.Object {
				continue
			}
			if isoDates && r.info.typ == ftDate && v.Kind == event.Int {
				v = event.StringValue(formatISODate(v.I))
			}
			dup := false
			for _, w := range vals {
				if w.Kind == v.Kind && w.String() == v.String() {
					dup = true
					break
				}
			}
			if !dup {
				vals = append(vals, v.Clone())
			}
		}
		if len(vals) == 0 {
			if !r.optional {
				return nil, false
			}
			vals = []event.Value{event.NullValue()}
		}
		per[i] = vals
	}
	out := []keyTuple{{}}
	for _, vals := range per {
		next := make([]keyTuple, 0, len(out)*len(vals))
		for _, t := range out {
			for _, v := range vals {
				nv := make([]event.Value, len(t.vals), len(t.vals)+1)
				copy(nv, t.vals)
				next = append(next, keyTuple{vals: append(nv, v)})
			}
		}
		out = next
	}
	for i := range out {
		out[i].enc = encodeKey(out[i].vals)
	}
	return out, true
}

// encodeKey is injective over kinds and values: numbers of equal value
// join regardless of int/float spelling, as ES's doc values do.
func encodeKey(vals []event.Value) string {
	var b strings.Builder
	for _, v := range vals {
		switch v.Kind {
		case event.Null:
			b.WriteString("n")
		case event.Bool:
			b.WriteString("b" + strconv.FormatBool(v.B))
		case event.Int:
			b.WriteString("i" + strconv.FormatInt(v.I, 10))
		case event.Float:
			if v.F == float64(int64(v.F)) {
				b.WriteString("i" + strconv.FormatInt(int64(v.F), 10))
			} else {
				b.WriteString("f" + strconv.FormatFloat(v.F, 'g', -1, 64))
			}
		default:
			b.WriteString("s" + v.S)
		}
		b.WriteByte(0)
	}
	return b.String()
}
