package detect

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

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

func (o *jobj) find(k string) int {
	for i, key := range o.keys {
		if key == k {
			return i
		}
	}
	return -1
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

// parseJSON reads one JSON document. Duplicate keys keep the first
// position and the last value, as JSON.parse does.
func parseJSON(b []byte) (*jv, error) {
	p := &jparser{b: b}
	p.ws()
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	if p.ws(); p.i != len(p.b) {
		return nil, p.errorf("data after the document")
	}
	return v, nil
}

// jparser is a small recursive-descent JSON parser: alert building parses
// every matched event, and encoding/json's token API is several times
// slower for this.
type jparser struct {
	b []byte
	i int
}

const maxDepth = 10000

func (p *jparser) errorf(format string, args ...any) error {
	return fmt.Errorf("offset %d: %s", p.i, fmt.Sprintf(format, args...))
}

func (p *jparser) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *jparser) value(depth int) (*jv, error) {
	if depth > maxDepth {
		return nil, p.errorf("nested too deeply")
	}
	if p.i >= len(p.b) {
		return nil, p.errorf("unexpected end")
	}
	switch c := p.b[p.i]; {
	case c == '{':
		p.i++
		o := newObj()
		p.ws()
		if p.i < len(p.b) && p.b[p.i] == '}' {
			p.i++
			return jObjV(o), nil
		}
		for {
			p.ws()
			if p.i >= len(p.b) || p.b[p.i] != '"' {
				return nil, p.errorf("expected a key")
			}
			k, err := p.str()
			if err != nil {
				return nil, err
			}
			p.ws()
			if p.i >= len(p.b) || p.b[p.i] != ':' {
				return nil, p.errorf("expected ':'")
			}
			p.i++
			p.ws()
			v, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			o.set(k, v)
			p.ws()
			if p.i < len(p.b) && p.b[p.i] == ',' {
				p.i++
				continue
			}
			if p.i < len(p.b) && p.b[p.i] == '}' {
				p.i++
				return jObjV(o), nil
			}
			return nil, p.errorf("expected ',' or '}'")
		}
	case c == '[':
		p.i++
		a := &jv{kind: jArray, arr: []*jv{}}
		p.ws()
		if p.i < len(p.b) && p.b[p.i] == ']' {
			p.i++
			return a, nil
		}
		for {
			p.ws()
			v, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			a.arr = append(a.arr, v)
			p.ws()
			if p.i < len(p.b) && p.b[p.i] == ',' {
				p.i++
				continue
			}
			if p.i < len(p.b) && p.b[p.i] == ']' {
				p.i++
				return a, nil
			}
			return nil, p.errorf("expected ',' or ']'")
		}
	case c == '"':
		s, err := p.str()
		if err != nil {
			return nil, err
		}
		return jStr(s), nil
	case c == 't' && bytes.HasPrefix(p.b[p.i:], []byte("true")):
		p.i += 4
		return jBoolV(true), nil
	case c == 'f' && bytes.HasPrefix(p.b[p.i:], []byte("false")):
		p.i += 5
		return jBoolV(false), nil
	case c == 'n' && bytes.HasPrefix(p.b[p.i:], []byte("null")):
		p.i += 4
		return &jv{kind: jNull}, nil
	case c == '-' || (c >= '0' && c <= '9'):
		start := p.i
		for p.i < len(p.b) && strings.IndexByte("+-.eE0123456789", p.b[p.i]) >= 0 {
			p.i++
		}
		text := string(p.b[start:p.i])
		if _, err := strconv.ParseFloat(text, 64); err != nil && !errors.Is(err, strconv.ErrRange) {
			return nil, p.errorf("bad number %q", text)
		}
		return &jv{kind: jNumber, s: text}, nil
	}
	return nil, p.errorf("unexpected %q", p.b[p.i])
}

// str reads a string at p.b[p.i] == '"'.
func (p *jparser) str() (string, error) {
	p.i++
	start := p.i
	for p.i < len(p.b) {
		switch c := p.b[p.i]; c {
		case '"':
			s := validUTF8(string(p.b[start:p.i]))
			p.i++
			return s, nil
		case '\\':
			return p.escaped(start)
		}
		p.i++
	}
	return "", p.errorf("unterminated string")
}

func (p *jparser) escaped(start int) (string, error) {
	out := append([]byte(nil), p.b[start:p.i]...)
	for p.i < len(p.b) {
		c := p.b[p.i]
		if c == '"' {
			p.i++
			return validUTF8(string(out)), nil
		}
		if c != '\\' {
			out = append(out, c)
			p.i++
			continue
		}
		if p.i+1 >= len(p.b) {
			break
		}
		p.i += 2
		switch e := p.b[p.i-1]; e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := p.hex4()
			if !ok {
				return "", p.errorf("bad \\u escape")
			}
			if utf16.IsSurrogate(r) {
				if p.i+1 < len(p.b) && p.b[p.i] == '\\' && p.b[p.i+1] == 'u' {
					save := p.i
					p.i += 2
					if r2, ok := p.hex4(); ok {
						if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
							out = utf8.AppendRune(out, d)
							continue
						}
					}
					p.i = save
				}
				r = utf8.RuneError
			}
			out = utf8.AppendRune(out, r)
		default:
			return "", p.errorf("bad escape \\%c", e)
		}
	}
	return "", p.errorf("unterminated string")
}

// validUTF8 replaces invalid bytes (which the event parser lets through)
// with U+FFFD, as a JavaScript decoder does, so alerts are valid JSON.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

func (p *jparser) hex4() (rune, bool) {
	if p.i+4 > len(p.b) {
		return 0, false
	}
	n, err := strconv.ParseUint(string(p.b[p.i:p.i+4]), 16, 32)
	if err != nil {
		return 0, false
	}
	p.i += 4
	return rune(n), true
}

func (v *jv) render(b *bytes.Buffer) {
	switch v.kind {
	case jNull, jUndef:
		b.WriteString("null") // undefined in an array is null, as in JSON.stringify
	case jBool:
		b.WriteString(strconv.FormatBool(v.b))
	case jNumber, jRaw:
		b.WriteString(v.s)
	case jString:
		writeJSONString(b, v.s)
	case jArray:
		b.WriteByte('[')
		for i, e := range v.arr {
			if i > 0 {
				b.WriteByte(',')
			}
			e.render(b)
		}
		b.WriteByte(']')
	case jObject:
		b.WriteByte('{')
		first := true
		for i, k := range v.obj.keys {
			if v.obj.vals[i].kind == jUndef {
				continue
			}
			if !first {
				b.WriteByte(',')
			}
			first = false
			writeJSONString(b, k)
			b.WriteByte(':')
			v.obj.vals[i].render(b)
		}
		b.WriteByte('}')
	}
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
