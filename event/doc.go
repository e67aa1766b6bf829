package event

import (
	"math"
	"strconv"
	"strings"
	"unsafe"

	"github.com/valyala/fastjson"
)

// Path is a compiled field reference such as "process.parent.name" or
// "@timestamp". It is immutable and safe to share between goroutines.
type Path struct {
	name string
	// keys[i][k] is segments i..i+k joined with '.', i.e. every key that can
	// stand for the rest of the path at depth i ({"a":{"b":1}}, {"a.b":1}, ...).
	// keys[i][0] is the single segment, so the nested form is tried first.
	keys [][]string
}

// CompilePath splits name on '.' and precomputes every joined key variant
// so that Lookup builds no strings.
func CompilePath(name string) *Path {
	segs := strings.Split(name, ".")
	p := &Path{name: name, keys: make([][]string, len(segs))}
	for i := range segs {
		vs := make([]string, 0, len(segs)-i)
		for j := i + 1; j <= len(segs); j++ {
			vs = append(vs, strings.Join(segs[i:j], "."))
		}
		p.keys[i] = vs
	}
	return p
}

// Name returns the field name the path was compiled from.
func (p *Path) Name() string { return p.name }

// Parser parses one JSON object (one NDJSON line) at a time. The zero value
// is ready to use. It is reusable but not safe for concurrent use; use one
// per goroutine.
type Parser struct {
	fj    fastjson.Parser
	doc   Doc
	fixed []byte // scratch for fixSurrogates
}

// Doc is one parsed document, owned by its Parser. It and every string
// Value obtained from it are valid only until the next Parse on that Parser
// (call Value.Clone to keep one). Lookups decode strings lazily in place, so
// a Doc must not be used from several goroutines at once.
type Doc struct {
	raw    []byte
	root   *fastjson.Object
	dotted bool   // some key contains '.', so flattened variants can match
	num    []byte // scratch for number literals (fastjson keeps them as text)
}

// Parse parses line, which must hold exactly one JSON object (surrounding
// whitespace and a leading UTF-8 BOM are allowed). Errors are *SyntaxError.
func (p *Parser) Parse(line []byte) (*Doc, error) {
	p.doc.root = nil
	s := scanner{data: line}
	start, err := s.topObject()
	if err != nil {
		return nil, err
	}
	body := line[start:]
	if s.loneSurrogate { // rare: repair a private copy, never the caller's bytes
		p.fixed = append(p.fixed[:0], body...)
		fixSurrogates(p.fixed)
		body = p.fixed
	}
	v, err := p.fj.ParseBytes(body)
	if err != nil {
		// Unreachable for input the scanner accepted; kept so a fastjson
		// surprise is an error, not a panic.
		return nil, &SyntaxError{Offset: -1, Msg: err.Error()}
	}
	// Copy so the Doc does not depend on the caller's (often reused) buffer.
	p.doc.raw = append(p.doc.raw[:0], line...)
	p.doc.root = v.GetObject()
	p.doc.dotted = s.dotted
	return &p.doc, nil
}

// Raw returns a copy of the bytes given to Parse, valid until the next Parse.
func (d *Doc) Raw() []byte { return d.raw }

// Lookup appends to dst every leaf value found at path p and returns it.
// found reports whether the field exists at all, even if it is null or an
// empty array. Resolution follows Elasticsearch's _source extraction: every
// split of the dotted name into nested or flattened keys is tried (nested
// first) and all matches are returned; arrays at any level are flattened.
// JSON null yields a Null value, an object leaf an Object value.
func (d *Doc) Lookup(p *Path, dst []Value) (vals []Value, found bool) {
	w := walker{doc: d, keys: p.keys, dotted: d.dotted, dst: dst}
	if d.root != nil {
		w.object(d.root, 0)
	}
	return w.dst, w.found
}

// First returns the first non-null leaf at path p in Lookup order, and
// whether there is one.
func (d *Doc) First(p *Path) (Value, bool) {
	w := walker{doc: d, keys: p.keys, dotted: d.dotted, first: true}
	if d.root != nil {
		w.object(d.root, 0)
	}
	return w.res, w.got
}

// walker carries one Lookup/First traversal; a struct keeps the recursive
// calls cheap and lets it live on the stack.
type walker struct {
	doc    *Doc
	keys   [][]string
	dotted bool
	found  bool
	dst    []Value
	first  bool // First mode: keep only the first non-null leaf in res
	got    bool
	res    Value
}

func (w *walker) object(o *fastjson.Object, i int) {
	variants := w.keys[i]
	if !w.dotted {
		variants = variants[:1]
	}
	for k, key := range variants {
		v := o.Get(key)
		if v == nil {
			continue
		}
		if next := i + k + 1; next == len(w.keys) {
			w.found = true
			w.leaf(v)
		} else {
			w.descend(v, next)
		}
		if w.got {
			return
		}
	}
}

// descend continues the path at depth i inside v; scalars end the search
// (they have no fields), arrays are searched element by element.
func (w *walker) descend(v *fastjson.Value, i int) {
	switch v.Type() {
	case fastjson.TypeObject:
		w.object(v.GetObject(), i)
	case fastjson.TypeArray:
		for _, e := range v.GetArray() {
			w.descend(e, i)
			if w.got {
				return
			}
		}
	}
}

func (w *walker) leaf(v *fastjson.Value) {
	switch v.Type() {
	case fastjson.TypeArray:
		for _, e := range v.GetArray() {
			w.leaf(e)
			if w.got {
				return
			}
		}
	case fastjson.TypeNull:
		if !w.first {
			w.dst = append(w.dst, Value{Kind: Null})
		}
	case fastjson.TypeTrue:
		w.emit(Value{Kind: Bool, B: true})
	case fastjson.TypeFalse:
		w.emit(Value{Kind: Bool})
	case fastjson.TypeNumber:
		w.doc.num = v.MarshalTo(w.doc.num[:0])
		w.emit(parseNumber(w.doc.num))
	case fastjson.TypeString:
		b, _ := v.StringBytes()
		// Aliases the parser's buffer: no copy per lookup.
		w.emit(Value{Kind: String, S: unsafe.String(unsafe.SliceData(b), len(b))})
	case fastjson.TypeObject:
		w.emit(Value{Kind: Object})
	}
}

func (w *walker) emit(v Value) {
	if w.first {
		w.res, w.got = v, true
		return
	}
	w.dst = append(w.dst, v)
}

// parseNumber converts a validated JSON number literal: Int when it has no
// fraction or exponent and fits int64 (Elasticsearch long), else Float.
func parseNumber(b []byte) Value {
	neg := b[0] == '-'
	i := 0
	if neg {
		i = 1
	}
	var u uint64
	for ; i < len(b); i++ {
		c := b[i]
		if c < '0' || c > '9' || u > (math.MaxUint64-9)/10 {
			return parseFloat(b)
		}
		u = u*10 + uint64(c-'0')
	}
	switch {
	case !neg && u <= math.MaxInt64:
		return Value{Kind: Int, I: int64(u)}
	case neg && u <= 1<<63:
		return Value{Kind: Int, I: int64(-u)} // -u wraps to the right two's complement, MinInt64 included
	}
	return parseFloat(b)
}

func parseFloat(b []byte) Value {
	// Out-of-range literals come back as ±Inf (or 0), as Jackson reads them;
	// the range error is not a syntax error.
	f, _ := strconv.ParseFloat(unsafe.String(unsafe.SliceData(b), len(b)), 64)
	return Value{Kind: Float, F: f}
}

// SplitArray splits a document holding one top-level JSON array of objects
// into the raw bytes of each element (sub-slices of data, capacity-clipped).
// The whole input is validated; errors are *SyntaxError with offsets into
// data.
func SplitArray(data []byte) ([][]byte, error) {
	s := scanner{data: data}
	s.skipBOM()
	s.skipWS()
	if s.pos >= len(data) {
		return nil, s.errorf(s.pos, "empty document")
	}
	if data[s.pos] != '[' {
		return nil, s.errorf(s.pos, "top-level value is %s, want an array", s.describe())
	}
	s.pos++
	s.skipWS()
	var out [][]byte
	if s.pos < len(data) && data[s.pos] == ']' {
		s.pos++
		return out, s.end("array")
	}
	for {
		if s.pos >= len(data) {
			return nil, s.errorf(s.pos, "unexpected end of input in array, want an object")
		}
		if data[s.pos] != '{' {
			return nil, s.errorf(s.pos, "array element %d is %s, want an object", len(out), s.describe())
		}
		start := s.pos
		if err := s.value(); err != nil {
			return nil, err
		}
		out = append(out, data[start:s.pos:s.pos])
		s.skipWS()
		if s.pos >= len(data) {
			return nil, s.errorf(s.pos, "unexpected end of input in array, want ',' or ']'")
		}
		switch data[s.pos] {
		case ',':
			s.pos++
			s.skipWS()
		case ']':
			s.pos++
			return out, s.end("array")
		default:
			return nil, s.errorf(s.pos, "unexpected %s after array element, want ',' or ']'", s.describe())
		}
	}
}
