package evtx

import "unsafe"

// Clone returns a deep copy of the record that shares no memory with the
// reader or with r (element and attribute names, which are immutable strings,
// excepted). Next returns clones unless Reader.Reuse is set; with Reuse, Clone
// is how to keep a record past the next call to Next.
//
// The copy takes a handful of exactly sized allocations, whatever the size of
// the record.
func (r *Record) Clone() *Record {
	var c cloner
	if r.Root != nil {
		c.countElem(r.Root)
	}
	c.elems = make([]Element, c.ne)
	if c.np > 0 {
		c.ptrs = make([]*Element, c.np)
	}
	if c.na > 0 {
		c.attrs = make([]Attr, c.na)
	}
	if c.nv > 0 {
		c.vals = make([]Value, c.nv)
	}
	if c.nc > 0 {
		c.comps = make([]compound, c.nc)
	}
	if c.nb > 0 {
		c.buf = make([]byte, c.nb)
	}
	out := new(Record)
	*out = *r
	if r.Root != nil {
		out.Root = c.elem(r.Root)
	}
	return out
}

// cloner counts what a record holds, then copies it into slices of exactly
// that size.
type cloner struct {
	ne, np, na, nv, nc, nb int

	elems []Element
	ptrs  []*Element
	attrs []Attr
	vals  []Value
	comps []compound
	buf   []byte
}

func (c *cloner) countElem(e *Element) {
	c.ne++
	c.np += len(e.Children)
	c.na += len(e.Attrs)
	c.nv += len(e.Values)
	for i := range e.Attrs {
		c.countValue(&e.Attrs[i].Value)
	}
	for i := range e.Values {
		c.countValue(&e.Values[i])
	}
	for _, ch := range e.Children {
		c.countElem(ch)
	}
}

func (c *cloner) countValue(v *Value) {
	c.nb += len(v.Str) + len(v.Raw)
	if v.more != nil {
		c.nc++
		c.nv += len(v.more.items)
		for i := range v.more.items {
			c.countValue(&v.more.items[i])
		}
		c.np += len(v.more.elems)
		for _, e := range v.more.elems {
			c.countElem(e)
		}
	}
}

func (c *cloner) elem(e *Element) *Element {
	n := &c.elems[0]
	c.elems = c.elems[1:]
	n.Name = e.Name
	// Copy the slices whole, then give each value its own text and bytes:
	// fewer writes than building each value anew.
	if k := len(e.Attrs); k > 0 {
		n.Attrs, c.attrs = c.attrs[:k:k], c.attrs[k:]
		copy(n.Attrs, e.Attrs)
		for i := range n.Attrs {
			c.own(&n.Attrs[i].Value)
		}
	}
	if k := len(e.Values); k > 0 {
		n.Values, c.vals = c.vals[:k:k], c.vals[k:]
		copy(n.Values, e.Values)
		for i := range n.Values {
			c.own(&n.Values[i])
		}
	}
	if k := len(e.Children); k > 0 {
		n.Children, c.ptrs = c.ptrs[:k:k], c.ptrs[k:]
		for i, ch := range e.Children {
			n.Children[i] = c.elem(ch)
		}
	}
	return n
}

// own replaces v's text, bytes and compound parts (still the original's) by
// copies.
func (c *cloner) own(v *Value) {
	if len(v.Str) > 0 {
		n := copy(c.buf, v.Str)
		v.Str = unsafe.String(&c.buf[0], n)
		c.buf = c.buf[n:]
	}
	if v.Raw != nil {
		n := copy(c.buf, v.Raw)
		v.Raw, c.buf = c.buf[:n:n], c.buf[n:]
	}
	if old := v.more; old != nil {
		m := &c.comps[0]
		c.comps = c.comps[1:]
		m.used = old.used
		if k := len(old.items); k > 0 {
			m.items, c.vals = c.vals[:k:k], c.vals[k:]
			copy(m.items, old.items)
			for i := range m.items {
				c.own(&m.items[i])
			}
		}
		if k := len(old.elems); k > 0 {
			m.elems, c.ptrs = c.ptrs[:k:k], c.ptrs[k:]
			for i, e := range old.elems {
				m.elems[i] = c.elem(e)
			}
		}
		v.more = m
	}
}
