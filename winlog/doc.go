package winlog

import (
	"github.com/vigilsec/vigil/event"
	"strconv"
	"strings"
)

// val is one JSON value of a doc: a string, an integer, an array of strings
// or an object (kind says which), kept unboxed to spare allocations.
type val struct {
	kind byte // 's' string, 'i' integer, 'a' array of strings, 'o' object, 'O' array of objects (o's values), 'b' boolean (n != 0)
	s    string
	n    int64
	a    []string
	o    *doc
}

// doc is an ordered JSON object under construction. Keys keep their
// insertion order.
type doc struct {
	keys []string
	vals []val
}

func newDoc() *doc { return &doc{keys: make([]string, 0, 8), vals: make([]val, 0, 8)} }

// obj returns the child object at key, creating it.
func (d *doc) obj(key string) *doc {
	for i, k := range d.keys {
		if k == key {
			if d.vals[i].kind != 'o' {
				d.vals[i] = val{kind: 'o', o: newDoc()}
			}
			return d.vals[i].o
		}
	}
	c := newDoc()
	d.keys = append(d.keys, key)
	d.vals = append(d.vals, val{kind: 'o', o: c})
	return c
}

// put sets a dotted path (a.b.c) to v, replacing an existing value.
func (d *doc) put(path string, v val) {
	for {
		i := strings.IndexByte(path, '.')
		if i < 0 {
			break
		}
		d = d.obj(path[:i])
		path = path[i+1:]
	}
	d.putKey(path, v)
}

// putKey sets one literal key (which may contain dots) to v.
func (d *doc) putKey(key string, v val) {
	for i, k := range d.keys {
		if k == key {
			d.vals[i] = v
			return
		}
	}
	d.keys = append(d.keys, key)
	d.vals = append(d.vals, v)
}

// set sets path to a string.
func (d *doc) set(path, s string) { d.put(path, val{kind: 's', s: s}) }

// setInt sets path to an integer.
func (d *doc) setInt(path string, n int64) { d.put(path, val{kind: 'i', n: n}) }

// setList sets path to an array of strings.
func (d *doc) setList(path string, a []string) { d.put(path, val{kind: 'a', a: a}) }

// setObjs sets path to an array of objects.
func (d *doc) setObjs(path string, objs []*doc) {
	arr := &doc{vals: make([]val, len(objs))}
	for i, o := range objs {
		arr.vals[i] = val{kind: 'o', o: o}
	}
	d.put(path, val{kind: 'O', o: arr})
}

// setBool sets path to a boolean.
func (d *doc) setBool(path string, b bool) {
	v := val{kind: 'b'}
	if b {
		v.n = 1
	}
	d.put(path, v)
}

// setKey sets one literal key (which may contain dots) to a string.
func (d *doc) setKey(key, s string) { d.putKey(key, val{kind: 's', s: s}) }

// str sets path to s when s is not empty.
func (d *doc) str(path, s string) {
	if s != "" {
		d.set(path, s)
	}
}

func (d *doc) appendJSON(b []byte) []byte {
	b = append(b, '{')
	first := true
	for i, k := range d.keys {
		v := &d.vals[i]
		if v.kind == 'o' && len(v.o.keys) == 0 {
			continue // empty objects are left out
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = event.AppendJSONString(b, k)
		b = append(b, ':')
		switch v.kind {
		case 's':
			b = event.AppendJSONString(b, v.s)
		case 'i':
			b = strconv.AppendInt(b, v.n, 10)
		case 'a':
			b = append(b, '[')
			for j, s := range v.a {
				if j > 0 {
					b = append(b, ',')
				}
				b = event.AppendJSONString(b, s)
			}
			b = append(b, ']')
		case 'o':
			b = v.o.appendJSON(b)
		case 'O':
			b = append(b, '[')
			for j := range v.o.vals {
				if j > 0 {
					b = append(b, ',')
				}
				b = v.o.vals[j].o.appendJSON(b)
			}
			b = append(b, ']')
		case 'b':
			if v.n != 0 {
				b = append(b, "true"...)
			} else {
				b = append(b, "false"...)
			}
		default:
			b = append(b, "null"...)
		}
	}
	return append(b, '}')
}

// getStr returns the string at a dotted path, or "".
func (d *doc) getStr(path string) string {
	for {
		i := strings.IndexByte(path, '.')
		key := path
		if i >= 0 {
			key = path[:i]
		}
		var v *val
		for j, k := range d.keys {
			if k == key {
				v = &d.vals[j]
				break
			}
		}
		if v == nil {
			return ""
		}
		if i < 0 {
			if v.kind == 's' {
				return v.s
			}
			return ""
		}
		if v.kind != 'o' {
			return ""
		}
		d = v.o
		path = path[i+1:]
	}
}
