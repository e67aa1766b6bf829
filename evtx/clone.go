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
	if k := len(e.Attrs); k > 0 {
		n.Attrs, c.attrs = c.attrs[:k:k], c.attrs[k:]
		for i := range e.Attrs {
			n.Attrs[i] = Attr{Name: e.Attrs[i].Name, Value: c.value(&e.Attrs[i].Value)}
		}
	}
	if k := len(e.Values); k > 0 {
		n.Values, c.vals = c.vals[:k:k], c.vals[k:]
		for i := range e.Values {
			n.Values[i] = c.value(&e.Values[i])
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

func (c *cloner) value(v *Value) Value {
	out := *v
	if len(v.Str) > 0 {
		n := copy(c.buf, v.Str)
		out.Str = unsafe.String(&c.buf[0], n)
		c.buf = c.buf[n:]
	}
	if v.Raw != nil {
		n := copy(c.buf, v.Raw)
		out.Raw, c.buf = c.buf[:n:n], c.buf[n:]
	}
	if v.more != nil {
		m := &c.comps[0]
		c.comps = c.comps[1:]
		m.used = v.more.used
		if k := len(v.more.items); k > 0 {
			m.items, c.vals = c.vals[:k:k], c.vals[k:]
			for i := range v.more.items {
				m.items[i] = c.value(&v.more.items[i])
			}
		}
		if k := len(v.more.elems); k > 0 {
			m.elems, c.ptrs = c.ptrs[:k:k], c.ptrs[k:]
			for i, e := range v.more.elems {
				m.elems[i] = c.elem(e)
			}
		}
		out.more = m
	}
	return out
}
