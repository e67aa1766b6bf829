package detect

import (
	"bytes"
	"math"
	"strconv"
	"strings"
	"sync"

	"github.com/vigilsec/vigil/event"
)

// jv is a JSON value that keeps object key order and number text, so that
// an alert copies its event's fields exactly and renders deterministically.
// Alerts are few; this model favours fidelity over speed.
type jv struct {
	kind jkind
	s    string // string, or a number's literal text
	b    bool
	arr  []*jv
	obj  *jobj
}

type jkind uint8

const (
	jNull  jkind = iota
	jUndef       // JavaScript undefined: the key keeps its place but is not rendered
	jBool
	jNumber
	jString
	jArray
	jObject
	jRaw // pre-rendered JSON (s), for constant alert fields
)

// jobj is an ordered object. As in JavaScript, setting an existing key
// keeps its position.
type jobj struct {
	keys []string
	vals []*jv
}

func newObj() *jobj { return &jobj{} }

// newObjCap returns an object with room for n keys.
func newObjCap(n int) *jobj { return &jobj{keys: make([]string, 0, n), vals: make([]*jv, 0, n)} }

func (o *jobj) find(k string) int {
	for i, key := range o.keys {
		if key == k {
			return i
		}
	}
	return -1
}

// add appends a key the caller knows is not there yet.
func (o *jobj) add(k string, v *jv) {
	o.keys = append(o.keys, k)
	o.vals = append(o.vals, v)
}

func (o *jobj) get(k string) (*jv, bool) {
	if i := o.find(k); i >= 0 {
		return o.vals[i], true
	}
	return nil, false
}

func (o *jobj) set(k string, v *jv) {
	if i := o.find(k); i >= 0 {
		o.vals[i] = v
		return
	}
	o.keys = append(o.keys, k)
	o.vals = append(o.vals, v)
}

func (o *jobj) del(k string) {
	if i := o.find(k); i >= 0 {
		o.keys = append(o.keys[:i], o.keys[i+1:]...)
		o.vals = append(o.vals[:i], o.vals[i+1:]...)
	}
}

func jStr(s string) *jv { return &jv{kind: jString, s: s} }

// frozen pre-renders v: constant fields shared by many alerts are
// rendered once.
func frozen(v *jv) *jv {
	if v.kind == jUndef {
		return v
	}
	var b bytes.Buffer
	v.render(&b)
	return &jv{kind: jRaw, s: b.String()}
}

func jUndefined() *jv    { return &jv{kind: jUndef} }
func jBoolV(b bool) *jv  { return &jv{kind: jBool, b: b} }
func jInt(i int) *jv     { return &jv{kind: jNumber, s: strconv.Itoa(i)} }
func jNum(f float64) *jv { return &jv{kind: jNumber, s: jsNumber(f)} }
func jObjV(o *jobj) *jv  { return &jv{kind: jObject, obj: o} }
func jArr(a ...*jv) *jv  { return &jv{kind: jArray, arr: append([]*jv{}, a...)} }
func jStrs(ss []string) *jv {
	a := make([]*jv, len(ss))
	for i, s := range ss {
		a[i] = jStr(s)
	}
	return &jv{kind: jArray, arr: a}
}

// parseJSON reads one JSON document into a tree, with event's parser.
// Duplicate keys keep the first position and the last value, as JSON.parse
// does. A document that is not an object (a rule's array parameter) is
// read as the member of a wrapping object, since event parses objects.
func parseJSON(b []byte) (*jv, error) {
	p := parsers.Get().(*event.Parser)
	defer parsers.Put(p)
	t := bytes.TrimSpace(b)
	if len(t) > 0 && t[0] == '{' {
		d, err := p.Parse(t)
		if err != nil {
			return nil, err
		}
		return treeOf(d.Root()), nil
	}
	d, err := p.Parse(append(append([]byte(`{"v":`), t...), '}'))
	if err != nil {
		return nil, err
	}
	var v *jv
	d.Root().Members(func(_ string, n event.Node) { v = treeOf(n) })
	return v, nil
}

var parsers = sync.Pool{New: func() any { return new(event.Parser) }}

// treeOf copies a parsed value into a jv tree (strings copied out of the
// parser's buffers; numbers keep their literal text).
func treeOf(n event.Node) *jv {
	var s slab
	return s.tree(n)
}

// slab hands out the nodes of one tree from shared blocks: an alert's
// event has a hundred or so values, and one allocation each dominated.
type slab struct{ free []jv }

func (s *slab) node(v jv) *jv {
	if len(s.free) == 0 {
		s.free = make([]jv, 64)
	}
	p := &s.free[0]
	*p = v
	s.free = s.free[1:]
	return p
}

func (s *slab) tree(n event.Node) *jv {
	switch n.Kind() {
	case event.NodeObject:
		o := newObj()
		n.Members(func(k string, v event.Node) { o.set(strings.Clone(k), s.tree(v)) })
		return s.node(jv{kind: jObject, obj: o})
	case event.NodeArray:
		a := s.node(jv{kind: jArray, arr: []*jv{}})
		n.Elements(func(v event.Node) { a.arr = append(a.arr, s.tree(v)) })
		return a
	case event.NodeString:
		return s.node(jv{kind: jString, s: strings.Clone(n.Text())})
	case event.NodeNumber:
		return s.node(jv{kind: jNumber, s: n.Text()})
	case event.NodeBool:
		return s.node(jv{kind: jBool, b: n.Text() == "true"})
	}
	return s.node(jv{kind: jNull})
}

func (v *jv) render(b *bytes.Buffer) {
	b.Write(v.appendTo(b.AvailableBuffer()))
}

// appendTo appends v as JSON.
func (v *jv) appendTo(b []byte) []byte {
	switch v.kind {
	case jNull, jUndef:
		b = append(b, "null"...) // undefined in an array is null, as in JSON.stringify
	case jBool:
		b = strconv.AppendBool(b, v.b)
	case jNumber, jRaw:
		b = append(b, v.s...)
	case jString:
		b = event.AppendJSONString(b, v.s)
	case jArray:
		b = append(b, '[')
		for i, e := range v.arr {
			if i > 0 {
				b = append(b, ',')
			}
			b = e.appendTo(b)
		}
		b = append(b, ']')
	case jObject:
		b = append(b, '{')
		first := true
		for i, k := range v.obj.keys {
			if v.obj.vals[i].kind == jUndef {
				continue
			}
			if !first {
				b = append(b, ',')
			}
			first = false
			b = event.AppendJSONString(b, k)
			b = append(b, ':')
			b = v.obj.vals[i].appendTo(b)
		}
		b = append(b, '}')
	}
	return b
}

// num returns the value of a number as JavaScript reads it (a double).
func (v *jv) num() float64 {
	f, err := strconv.ParseFloat(v.s, 64)
	if err != nil {
		return math.NaN()
	}
	return f
}

// lodashGet reads path the way lodash's get does: the whole dotted path as
// one key first, else one key per segment through nested objects. nil means
// undefined.
func lodashGet(o *jobj, path string) *jv {
	if v, ok := o.get(path); ok {
		return v
	}
	cur := o
	segs := strings.Split(path, ".")
	for i, seg := range segs {
		v, ok := cur.get(seg)
		if !ok {
			return nil
		}
		if i == len(segs)-1 {
			return v
		}
		if v.kind != jObject {
			return nil
		}
		cur = v.obj
	}
	return nil
}

// jsNumber renders a double as JavaScript's Number#toString does.
func jsNumber(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		return "0"
	}
	if a := math.Abs(f); a >= 1e21 || a < 1e-6 {
		s := strconv.FormatFloat(f, 'e', -1, 64) // 1e+21, 1.5e-07
		i := strings.IndexByte(s, 'e')
		mant, exp := s[:i], s[i+1:]
		sign := exp[0]
		exp = strings.TrimLeft(exp[1:], "0")
		return mant + "e" + string(sign) + exp
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// jsString is String(v) for a scalar, and Array#join's element text.
func (v *jv) jsString() string {
	switch v.kind {
	case jNull, jUndef:
		return "" // join renders null and undefined as empty
	case jBool:
		return strconv.FormatBool(v.b)
	case jNumber:
		return jsNumber(v.num())
	case jString:
		return v.s
	case jArray:
		parts := make([]string, len(v.arr))
		for i, e := range v.arr {
			parts[i] = e.jsString()
		}
		return strings.Join(parts, ",")
	}
	return "[object Object]"
}

// writeJSONString writes s as a JSON string (JSON.stringify's escaping).
func writeJSONString(b *bytes.Buffer, s string) {
	b.Write(event.AppendJSONString(b.AvailableBuffer(), s))
}
