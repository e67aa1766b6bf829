package eql

import (
	"fmt"
	"io"
	"strconv"

	"github.com/vigilsec/vigil/event"
)

// Source says where a fed document came from.
type Source struct {
	Index string
	ID    string // optional: callers may name result hits after Finish
	Line  int    // record number in its input, 1-based
	// From, when set, holds the document's bytes at Offset: the runner then
	// keeps only the position of each candidate and reads results back at
	// Finish, instead of copying every candidate event.
	From   io.ReaderAt
	Offset int64
}

// Hit is one event of a result: where it came from and its JSON source.
type Hit struct {
	Index   string
	ID      string
	Line    int
	Source  []byte // the document (a private copy)
	Missing bool   // placeholder for a missing-event step ![...]
	ord     ordinal
	from    io.ReaderAt
	off     int64
	n       int
}

func newHit(raw []byte, src Source) *Hit {
	h := makeHit(raw, src)
	return &h
}

func makeHit(raw []byte, src Source) Hit {
	h := Hit{Index: src.Index, ID: src.ID, Line: src.Line}
	if src.From != nil {
		h.from, h.off, h.n = src.From, src.Offset, len(raw)
	} else {
		h.Source = append([]byte(nil), raw...)
	}
	return h
}

// rawMemo names a document's copy shared by every query's hits on it.
var rawMemo = event.MemoID("eql.raw")

// docHit is makeHit for a document being fed: without a position to read
// it back from, the hits of all the sequences that hold it share one
// copy (hits never modify their Source).
func docHit(d *event.Doc, src Source) Hit {
	if src.From != nil {
		return makeHit(d.Raw(), src)
	}
	raw, ok := d.Memo(rawMemo)
	if !ok {
		raw = append([]byte(nil), d.Raw()...)
		d.SetMemo(rawMemo, raw)
	}
	return Hit{Index: src.Index, ID: src.ID, Line: src.Line, Source: raw.([]byte)}
}

// load reads a referenced document back.
func (h *Hit) load() error {
	if h.from == nil || h.Source != nil {
		return nil
	}
	b := make([]byte, h.n)
	if _, err := h.from.ReadAt(b, h.off); err != nil {
		return fmt.Errorf("%s:%d: reading the event back: %w", h.Index, h.Line, err)
	}
	h.Source, h.from = b, nil
	return nil
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
	if t, ok, simple := singleKeys(refs, d, isoDates); simple {
		if !ok {
			return nil, false
		}
		return []keyTuple{t}, true
	}
	per := make([][]event.Value, len(refs))
	multi := false
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
				if sameKeyValue(w, v) {
					dup = true
					break
				}
			}
			if !dup {
				vals = append(vals, v)
			}
		}
		if len(vals) == 0 {
			if !r.optional {
				return nil, false
			}
			vals = []event.Value{event.NullValue()}
		}
		multi = multi || len(vals) > 1
		per[i] = vals
	}
	if !multi {
		row := make([]event.Value, len(per))
		for i, v := range per {
			row[i] = v[0]
		}
		return []keyTuple{makeKeyTuple(row)}, true
	}
	out := [][]event.Value{nil}
	for _, vals := range per {
		next := make([][]event.Value, 0, len(out)*len(vals))
		for _, t := range out {
			for _, v := range vals {
				next = append(next, append(t[:len(t):len(t)], v))
			}
		}
		out = next
	}
	tuples := make([]keyTuple, len(out))
	for i, row := range out {
		tuples[i] = makeKeyTuple(row)
	}
	return tuples, true
}

// singleKeys is the common case: every key field has one value (or, for an
// optional key, none). simple is false when some field is multi-valued.
func singleKeys(refs []*fieldRef, d *event.Doc, isoDates bool) (t keyTuple, ok, simple bool) {
	row := make([]event.Value, len(refs))
	for i, r := range refs {
		n := 0
		for _, v := range r.values(d) {
			if v.Kind == event.Null || v.Kind == event.Object {
				continue
			}
			if isoDates && r.info.typ == ftDate && v.Kind == event.Int {
				v = event.StringValue(formatISODate(v.I))
			}
			if n > 0 && !sameKeyValue(row[i], v) {
				return keyTuple{}, false, false
			}
			row[i] = v
			n++
		}
		if n == 0 {
			if !r.optional {
				return keyTuple{}, false, true
			}
			row[i] = event.NullValue()
		}
	}
	return makeKeyTuple(row), true, true
}

func sameKeyValue(a, b event.Value) bool {
	return a.Kind == b.Kind && a.I == b.I && a.F == b.F && a.B == b.B && a.S == b.S
}

// makeKeyTuple encodes row into one string and points the row's strings
// into it, so a retained key costs two allocations and never aliases a
// parser buffer.
func makeKeyTuple(row []event.Value) keyTuple {
	enc := encodeKey(row)
	off := 0
	for i := range row {
		v := &row[i]
		off++ // kind byte
		switch v.Kind {
		case event.String:
			v.S = enc[off : off+len(v.S)]
			off += len(v.S)
		default:
			off += len(keyText(*v))
		}
		off++ // separator
	}
	return keyTuple{vals: row, enc: enc}
}

// encodeKey is injective over kinds and values: numbers of equal value
// join regardless of int/float spelling, as ES's doc values do. Layout per
// value: kind byte, text, NUL.
func encodeKey(vals []event.Value) string {
	n := 0
	for _, v := range vals {
		n += 2 + len(keyText(v))
	}
	b := make([]byte, 0, n)
	for _, v := range vals {
		b = append(b, keyKind(v))
		b = append(b, keyText(v)...)
		b = append(b, 0)
	}
	return unsafeString(b)
}

func keyKind(v event.Value) byte {
	switch v.Kind {
	case event.Null:
		return 'n'
	case event.Bool:
		return 'b'
	case event.Int:
		return 'i'
	case event.Float:
		if v.F == float64(int64(v.F)) {
			return 'i'
		}
		return 'f'
	}
	return 's'
}

func keyText(v event.Value) string {
	switch v.Kind {
	case event.Null:
		return ""
	case event.Bool:
		return strconv.FormatBool(v.B)
	case event.Int:
		return strconv.FormatInt(v.I, 10)
	case event.Float:
		if v.F == float64(int64(v.F)) {
			return strconv.FormatInt(int64(v.F), 10)
		}
		return strconv.FormatFloat(v.F, 'g', -1, 64)
	case event.String:
		return v.S
	}
	return ""
}
