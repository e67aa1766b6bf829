package event

import (
	"strconv"
	"strings"
	"sync"
)

// bval is one JSON value of a doc: a string, an integer, an array of strings
// or an object (kind says which), kept unboxed to spare allocations.
type bval struct {
	kind byte // 's' string, 'i' integer, 'a' array of strings, 'o' object, 'O' array of objects (o's values), 'b' boolean (n != 0)
	s    string
	n    int64
	a    []string
	o    *Builder
}

// Builder is an ordered JSON object under construction, for normalisers that
// produce ECS documents. Keys keep their insertion order; Set and friends
// take dotted paths (a.b.c) and create the objects on the way.
type Builder struct {
	keys []string
	vals []bval
	// arena holds the objects made under a root (children, array
	// elements), kept with their slices across Reset, so a normaliser that
	// reuses its root builds documents without allocating; nil in
	// children, which use their root's.
	arena *arena
}

type arena struct {
	objs []*Builder
	used int
}

// NewBuilder returns an empty object. Reset and AcquireBuilder let a
// normaliser reuse one for every record.
func NewBuilder() *Builder {
	return &Builder{keys: make([]string, 0, 8), vals: make([]bval, 0, 8), arena: &arena{}}
}

// New returns an empty object from d's arena, for array elements
// (SetObjs); it lives until d's root is Reset.
func (d *Builder) New() *Builder {
	a := d.arena
	if a.used < len(a.objs) {
		c := a.objs[a.used]
		a.used++
		c.keys, c.vals = c.keys[:0], c.vals[:0]
		return c
	}
	c := &Builder{keys: make([]string, 0, 8), vals: make([]bval, 0, 8), arena: a}
	a.objs = append(a.objs, c)
	a.used++
	return c
}

// Reset empties a root builder for the next document; every object made
// under it becomes invalid. Strings set earlier are released.
func (d *Builder) Reset() {
	clear(d.vals)
	d.keys, d.vals = d.keys[:0], d.vals[:0]
	for _, c := range d.arena.objs[:d.arena.used] {
		clear(c.vals)
	}
	d.arena.used = 0
}

var builders = sync.Pool{New: func() any { return NewBuilder() }}

// AcquireBuilder returns an empty root builder from a pool; give it back
// with ReleaseBuilder once its JSON is written.
func AcquireBuilder() *Builder { return builders.Get().(*Builder) }

// ReleaseBuilder resets d and returns it to the pool.
func ReleaseBuilder(d *Builder) {
	d.Reset()
	builders.Put(d)
}

// Obj returns the child object at key, creating it.
func (d *Builder) Obj(key string) *Builder {
	for i, k := range d.keys {
		if k == key {
			if d.vals[i].kind != 'o' {
				d.vals[i] = bval{kind: 'o', o: d.New()}
			}
			return d.vals[i].o
		}
	}
	c := d.New()
	d.keys = append(d.keys, key)
	d.vals = append(d.vals, bval{kind: 'o', o: c})
	return c
}

// put sets a dotted path (a.b.c) to v, replacing an existing value.
func (d *Builder) put(path string, v bval) {
	for {
		i := strings.IndexByte(path, '.')
		if i < 0 {
			break
		}
		d = d.Obj(path[:i])
		path = path[i+1:]
	}
	d.putKey(path, v)
}

// putKey sets one literal key (which may contain dots) to v.
func (d *Builder) putKey(key string, v bval) {
	for i, k := range d.keys {
		if k == key {
			d.vals[i] = v
			return
		}
	}
	d.keys = append(d.keys, key)
	d.vals = append(d.vals, v)
}

// Set sets path to a string.
func (d *Builder) Set(path, s string) { d.put(path, bval{kind: 's', s: s}) }

// SetInt sets path to an integer.
func (d *Builder) SetInt(path string, n int64) { d.put(path, bval{kind: 'i', n: n}) }

// SetList sets path to an array of strings.
func (d *Builder) SetList(path string, a []string) { d.put(path, bval{kind: 'a', a: a}) }

// SetObjs sets path to an array of objects.
func (d *Builder) SetObjs(path string, objs []*Builder) {
	arr := d.New()
	for _, o := range objs {
		arr.vals = append(arr.vals, bval{kind: 'o', o: o})
	}
	d.put(path, bval{kind: 'O', o: arr})
}

// SetBool sets path to a boolean.
func (d *Builder) SetBool(path string, b bool) {
	v := bval{kind: 'b'}
	if b {
		v.n = 1
	}
	d.put(path, v)
}

// SetKey sets one literal key (which may contain dots) to a string.
func (d *Builder) SetKey(key, s string) { d.putKey(key, bval{kind: 's', s: s}) }

// Str sets path to s when s is not empty.
func (d *Builder) Str(path, s string) {
	if s != "" {
		d.Set(path, s)
	}
}

// AppendJSON appends the object as JSON; empty child objects are left out.
func (d *Builder) AppendJSON(b []byte) []byte {
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
		b = AppendJSONString(b, k)
		b = append(b, ':')
		switch v.kind {
		case 's':
			b = AppendJSONString(b, v.s)
		case 'i':
			b = strconv.AppendInt(b, v.n, 10)
		case 'a':
			b = append(b, '[')
			for j, s := range v.a {
				if j > 0 {
					b = append(b, ',')
				}
				b = AppendJSONString(b, s)
			}
			b = append(b, ']')
		case 'o':
			b = v.o.AppendJSON(b)
		case 'O':
			b = append(b, '[')
			for j := range v.o.vals {
				if j > 0 {
					b = append(b, ',')
				}
				b = v.o.vals[j].o.AppendJSON(b)
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

// GetStr returns the string at a dotted path, or "".
func (d *Builder) GetStr(path string) string {
	for {
		i := strings.IndexByte(path, '.')
		key := path
		if i >= 0 {
			key = path[:i]
		}
		var v *bval
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
