package eql

import (
	"fmt"
	"net/netip"
	"strings"
	"sync"

	"github.com/vigilsec/vigil/event"
)

// fieldType is what the engine needs to know of a mapped field.
type fieldType uint8

const (
	ftAny fieldType = iota // schemaless: JSON kinds decide
	ftKeyword
	ftText
	ftLong
	ftDouble
	ftBool
	ftDate
	ftIP
	ftVersion
	ftObject
)

// fieldInfo describes one field for one index.
type fieldInfo struct {
	path      string       // the concrete field (aliases resolved)
	typ       fieldType    //
	nullValue *event.Value // mapping null_value: what an explicit null reads as
	parseDate func(s string) (int64, bool)
	unmapped  bool // not in the mapping (dynamically mapped in ES)
}

// typeInfo resolves field names for one index. A nil lookup is schemaless.
type typeInfo struct {
	lookup func(name string) (fieldInfo, bool)
	// dateFields are treated as dates even schemaless (the timestamp field).
	dateFields map[string]bool
	parseDate  func(s string) (int64, bool)
}

func (t *typeInfo) resolve(name string) (fieldInfo, bool) {
	if t != nil && t.lookup != nil {
		return t.lookup(name)
	}
	fi := fieldInfo{path: name}
	if t != nil && t.dateFields[name] {
		fi.typ = ftDate
		fi.parseDate = t.parseDate
	}
	return fi, true
}

// fieldRef is a compiled field access. It owns a scratch buffer, which is
// why a compiled program is used by one goroutine at a time.
type fieldRef struct {
	name      string
	path      *event.Path
	optional  bool
	info      fieldInfo
	constNull bool // ?field absent from the mapping: ES folds it to null
	buf       []event.Value
	memo      uint32 // document memo id of firstShared
	memoOK    bool
}

func (c *exprCompiler) field(e *Field) (*fieldRef, error) {
	info, ok := c.types.resolve(e.Name)
	if !ok {
		if e.Optional {
			return &fieldRef{name: e.Name, optional: true, constNull: true}, nil
		}
		return nil, c.errf(e.P, "unknown field [%s] (not in the index mapping; use ?%s if it may be absent)", e.Name, e.Name)
	}
	f := &fieldRef{name: e.Name, path: compiledPath(info.path), optional: e.Optional, info: info}
	if !f.sharedValues() {
		// values normalises into it; shared values need none (a rule set's
		// fields, schemaless, kept 3 MB of these).
		f.buf = make([]event.Value, 0, 4)
	}
	if c.types == nil || c.types.lookup == nil || info.unmapped {
		// Normalised the same way by every query: shareable per document.
		f.memo, f.memoOK = firstMemoID(info), true
	}
	return f, nil
}

// A rule set names the same fields in rule after rule: their compiled
// paths (immutable) and memo ids are made once per process.
var (
	pathCache sync.Map // field path -> *event.Path
	memoCache sync.Map // memoKey -> uint32, for fields without a null_value
)

type memoKey struct {
	path string
	typ  fieldType
}

func compiledPath(name string) *event.Path {
	if p, ok := pathCache.Load(name); ok {
		return p.(*event.Path)
	}
	p, _ := pathCache.LoadOrStore(name, event.CompilePath(name))
	return p.(*event.Path)
}

func firstMemoID(info fieldInfo) uint32 {
	if info.nullValue == nil {
		if id, ok := memoCache.Load(memoKey{info.path, info.typ}); ok {
			return id.(uint32)
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "eql.first\x00%s\x00%d\x00%v", info.path, info.typ, info.nullValue != nil)
	if info.nullValue != nil {
		fmt.Fprintf(&b, "\x00%v", *info.nullValue)
	}
	id := event.MemoID(b.String())
	if info.nullValue == nil {
		memoCache.Store(memoKey{info.path, info.typ}, id)
	}
	return id
}

// firstShared is first, computed once per document for every query that
// reads the field the same way (the timestamp: a date parsed per rule
// otherwise).
func (f *fieldRef) firstShared(d *event.Doc) event.Value {
	if !f.memoOK || (f.info.typ == ftAny && f.info.nullValue == nil) {
		return f.first(d) // Doc.Values already shares it
	}
	if v, ok := d.MemoValue(f.memo); ok {
		return v
	}
	v := f.first(d) // its text lives as long as the document, like the memo
	d.SetMemoValue(f.memo, v)
	return v
}

// sharedValues: values reads the document's values as they are.
func (f *fieldRef) sharedValues() bool { return f.info.typ == ftAny && f.info.nullValue == nil }

// values returns the field's values, normalised to its mapped type. The
// slice is reused by the next call.
func (f *fieldRef) values(d *event.Doc) []event.Value {
	if f.constNull || d == nil {
		return nil
	}
	if f.sharedValues() {
		// Read-only and shared by every query over this document.
		vals, _ := d.Values(f.path)
		return vals
	}
	vals, _ := d.Lookup(f.path, f.buf[:0])
	f.buf = vals
	for i := range vals {
		vals[i] = f.normalize(vals[i])
	}
	return vals
}

// normalize applies what ES does at index time for the field's type.
func (f *fieldRef) normalize(v event.Value) event.Value {
	if v.Kind == event.Null {
		if f.info.nullValue != nil {
			return *f.info.nullValue
		}
		return v
	}
	switch f.info.typ {
	case ftDate:
		return toDate(v, f.info.parseDate)
	case ftLong, ftDouble:
		if v.Kind == event.String {
			if n, ok := parseNumeric(v.S); ok {
				if f.info.typ == ftLong && n.Kind == event.Float {
					return event.IntValue(int64(n.F))
				}
				return n
			}
		}
	case ftBool:
		if v.Kind == event.String {
			switch v.S {
			case "true":
				return event.BoolValue(true)
			case "false", "":
				return event.BoolValue(false)
			}
		}
	}
	return v
}

// toDate turns a date value into epoch milliseconds (Int).
func toDate(v event.Value, parse func(string) (int64, bool)) event.Value {
	switch v.Kind {
	case event.Int:
		return v
	case event.Float:
		return event.IntValue(int64(v.F))
	case event.String:
		if parse != nil {
			if ms, ok := parse(v.S); ok {
				return event.IntValue(ms)
			}
		}
	}
	return v
}

// first is the scalar reading of a field: its first non-null value.
func (f *fieldRef) first(d *event.Doc) event.Value {
	for _, v := range f.values(d) {
		if v.Kind != event.Null {
			return v
		}
	}
	return event.NullValue()
}

// comparator returns how values of this field compare with others.
func (f *fieldRef) comparator() func(a, b event.Value) (int, bool) {
	switch f.info.typ {
	case ftVersion:
		return compareVersionValues
	case ftIP:
		return compareIPValues
	}
	return compareValues
}

// convertLiteral turns a literal compared with this field into the field's
// type, as ES does when it builds the query (a date string becomes millis).
func (f *fieldRef) convertLiteral(v event.Value) event.Value {
	switch f.info.typ {
	case ftDate:
		return toDate(v, f.info.parseDate)
	case ftBool:
		return f.normalize(v)
	}
	return v
}

func compareIPValues(a, b event.Value) (int, bool) {
	if a.Kind == event.String && b.Kind == event.String {
		x, err1 := netip.ParseAddr(a.S)
		y, err2 := netip.ParseAddr(b.S)
		if err1 == nil && err2 == nil {
			return x.Unmap().Compare(y.Unmap()), true
		}
	}
	return compareValues(a, b)
}
