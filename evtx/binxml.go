package evtx

import (
	"encoding/binary"
	"errors"
	"fmt"
	"unicode/utf16"
	"unicode/utf8"
)

// Binary XML tokens (low 5 bits; 0x40 is the "has more"/"has attributes" flag).
const (
	tokEOF          = 0x00
	tokOpenStart    = 0x01
	tokCloseStart   = 0x02
	tokCloseEmpty   = 0x03
	tokEndElement   = 0x04
	tokValue        = 0x05
	tokAttribute    = 0x06
	tokCDATA        = 0x07
	tokCharRef      = 0x08
	tokEntityRef    = 0x09
	tokPITarget     = 0x0a
	tokPIData       = 0x0b
	tokTemplate     = 0x0c
	tokNormalSub    = 0x0d
	tokOptionalSub  = 0x0e
	tokFragmentHdr  = 0x0f
	maxDepth        = 64
	templateHdrSize = 24
)

// parseError is raised (panicked) inside the parser and recovered in parseRecord.
type parseError struct{ err error }

func fail(format string, args ...any) {
	panic(parseError{fmt.Errorf(format, args...)})
}

var errTruncated = errors.New("truncated binary XML")

// node kinds of a parsed (not yet instantiated) Binary XML tree.
const (
	nElem = iota
	nValue
	nSub
	nInst
)

type node struct {
	kind     uint8
	opt      bool
	sub      uint16
	name     string
	attrs    []nattr
	children []*node
	val      Value
	tmpl     *template
	vals     []Value
	nelems   int // element children (capacity hints)
	nvals    int // value and substitution children
}

type nattr struct {
	name  string
	parts []*node
}

type template struct {
	nodes []*node
}

// parser decodes the Binary XML of one chunk. Offsets are chunk-relative.
type parser struct {
	b         []byte
	pos       int
	names     map[uint32]string
	templates map[uint32]*template
	depth     int
	budget    int // nodes left to instantiate for the current record
	chunkLeft int // nodes left to instantiate for the whole chunk
	slab      []Element
}

// maxNodes bounds the elements, attributes and values one record may expand to,
// so that templates nested in templates cannot blow up exponentially.
// maxChunkNodes bounds them for all the records of a chunk together (a real
// 64 KiB chunk expands to a few tens of thousands of nodes).
const (
	maxNodes      = 1 << 18
	maxChunkNodes = 1 << 21
)

func (p *parser) reset(b []byte) {
	p.b = b
	if p.names == nil {
		p.names = make(map[uint32]string)
		p.templates = make(map[uint32]*template)
	}
	clear(p.names)
	clear(p.templates)
	p.chunkLeft = maxChunkNodes
}

func (p *parser) need(pos, n int) {
	if n < 0 || pos < 0 || pos+n > len(p.b) {
		panic(parseError{errTruncated})
	}
}

func (p *parser) u8() byte {
	p.need(p.pos, 1)
	c := p.b[p.pos]
	p.pos++
	return c
}

func (p *parser) u16() uint16 {
	p.need(p.pos, 2)
	v := binary.LittleEndian.Uint16(p.b[p.pos:])
	p.pos += 2
	return v
}

func (p *parser) u32() uint32 {
	p.need(p.pos, 4)
	v := binary.LittleEndian.Uint32(p.b[p.pos:])
	p.pos += 4
	return v
}

func (p *parser) peek() byte {
	p.need(p.pos, 1)
	return p.b[p.pos]
}

// parseRecord decodes the Binary XML in b[start:end] into the event's root element.
func (p *parser) parseRecord(start, end int) (root *Element, err error) {
	defer func() {
		if r := recover(); r != nil {
			pe, ok := r.(parseError)
			if !ok {
				panic(r)
			}
			root, err = nil, pe.err
		}
	}()
	p.pos, p.depth, p.budget = start, 0, min(maxNodes, p.chunkLeft)
	defer func() { p.chunkLeft -= min(maxNodes, p.chunkLeft) - p.budget }()
	nodes := p.parseFragment(end, false)
	var holder Element
	for _, n := range nodes {
		p.instantiate(&holder, n, nil, 0)
	}
	if len(holder.Children) == 0 {
		return nil, errors.New("record holds no element")
	}
	return holder.Children[0], nil
}

// parseFragment reads top-level tokens until EOF or end.
func (p *parser) parseFragment(end int, nested bool) []*node {
	var out []*node
	for p.pos < end {
		t := p.peek()
		switch t & 0x1f {
		case tokEOF:
			p.pos++
			return out
		case tokFragmentHdr:
			p.need(p.pos, 4)
			p.pos += 4
		case tokTemplate:
			out = append(out, p.parseTemplateInstance())
		case tokOpenStart:
			out = append(out, p.parseElement(nested))
		case tokValue, tokCDATA, tokCharRef, tokEntityRef, tokNormalSub, tokOptionalSub:
			out = append(out, p.parseContentToken())
		case tokPITarget:
			p.skipPI()
		default:
			fail("unexpected token %#02x at offset %#x", t, p.pos)
		}
	}
	return out
}

// name reads a name reference (inline when it points just past itself).
func (p *parser) name() string {
	off := p.u32()
	if int(off) == p.pos {
		s, n := p.readName(off)
		p.pos += n
		return s
	}
	if s, ok := p.names[off]; ok {
		return s
	}
	s, _ := p.readName(off)
	return s
}

// readName decodes the name structure at off and returns it and its size.
func (p *parser) readName(off uint32) (string, int) {
	o := int(off)
	p.need(o, 8)
	n := int(binary.LittleEndian.Uint16(p.b[o+6:]))
	p.need(o+8, 2*n+2)
	s := decodeUTF16(p.b[o+8 : o+8+2*n])
	p.names[off] = s
	return s, 8 + 2*n + 2
}

func (p *parser) enter() {
	p.depth++
	if p.depth > maxDepth {
		fail("binary XML nested too deeply")
	}
}

func (p *parser) parseElement(nested bool) *node {
	p.enter()
	defer func() { p.depth-- }()
	start := p.pos
	tok := p.u8()
	// Elements normally carry a 2-byte dependency identifier; in some nested
	// BinXml values it is absent. Take the layout whose name offset is sane.
	if withDep, without := p.layoutOK(p.pos+2), p.layoutOK(p.pos); nested && without || !nested && !withDep && without {
		// no dependency identifier
	} else {
		p.pos += 2
	}
	size := p.u32()
	_ = size
	e := &node{kind: nElem, name: p.name()}
	if tok&0x40 != 0 {
		p.u32() // attribute list size
		for p.peek()&0x1f == tokAttribute {
			p.pos++
			a := nattr{name: p.name()}
			for p.isValueToken() {
				a.parts = append(a.parts, p.parseContentToken())
			}
			e.attrs = append(e.attrs, a)
		}
	}
	switch t := p.u8(); t & 0x1f {
	case tokCloseEmpty:
		return e
	case tokCloseStart:
	default:
		fail("element at %#x: unexpected token %#02x after attributes", start, t)
	}
	for {
		t := p.peek()
		switch t & 0x1f {
		case tokEndElement:
			p.pos++
			return e
		case tokOpenStart:
			e.children = append(e.children, p.parseElement(nested))
			e.nelems++
		case tokTemplate:
			e.children = append(e.children, p.parseTemplateInstance())
			e.nelems++
		case tokValue, tokCDATA, tokCharRef, tokEntityRef, tokNormalSub, tokOptionalSub:
			e.children = append(e.children, p.parseContentToken())
			e.nvals++
		case tokPITarget:
			p.skipPI()
		case tokEOF:
			p.pos++
			return e // lenient: unterminated element
		default:
			fail("element at %#x: unexpected token %#02x at %#x", start, t, p.pos)
		}
	}
}

// layoutOK reports whether an element header whose data size field is at pos
// has a plausible name offset.
func (p *parser) layoutOK(pos int) bool {
	if pos+8 > len(p.b) {
		return false
	}
	off := int(binary.LittleEndian.Uint32(p.b[pos+4:]))
	if off == pos+8 {
		return true
	}
	if _, ok := p.names[uint32(off)]; ok {
		return true
	}
	return off >= chunkHdrSize && off < pos && off+10 <= len(p.b)
}

func (p *parser) isValueToken() bool {
	if p.pos >= len(p.b) {
		return false
	}
	switch p.b[p.pos] & 0x1f {
	case tokValue, tokCDATA, tokCharRef, tokEntityRef, tokNormalSub, tokOptionalSub:
		return true
	}
	return false
}

func (p *parser) skipPI() {
	p.pos++
	p.name()
	if p.pos < len(p.b) && p.b[p.pos]&0x1f == tokPIData {
		p.pos++
		n := int(p.u16())
		p.need(p.pos, 2*n)
		p.pos += 2 * n
	}
}

func (p *parser) parseContentToken() *node {
	t := p.u8()
	switch t & 0x1f {
	case tokValue:
		vt := ValueType(p.u8())
		switch vt {
		case StringType:
			n := int(p.u16())
			p.need(p.pos, 2*n)
			s := decodeUTF16(p.b[p.pos : p.pos+2*n])
			p.pos += 2 * n
			return &node{kind: nValue, val: Value{Type: StringType, Str: s}}
		case AnsiStringType:
			n := int(p.u16())
			p.need(p.pos, n)
			s := decodeANSI(p.b[p.pos : p.pos+n])
			p.pos += n
			return &node{kind: nValue, val: Value{Type: AnsiStringType, Str: s}}
		default:
			fail("value text of type %#02x", vt)
		}
	case tokCDATA:
		n := int(p.u16())
		p.need(p.pos, 2*n)
		s := decodeUTF16(p.b[p.pos : p.pos+2*n])
		p.pos += 2 * n
		return &node{kind: nValue, val: Value{Type: StringType, Str: s}}
	case tokCharRef:
		c := p.u16()
		return &node{kind: nValue, val: Value{Type: StringType, Str: string(rune(c))}}
	case tokEntityRef:
		name := p.name()
		s := "&" + name + ";"
		switch name {
		case "amp":
			s = "&"
		case "lt":
			s = "<"
		case "gt":
			s = ">"
		case "quot":
			s = `"`
		case "apos":
			s = "'"
		}
		return &node{kind: nValue, val: Value{Type: StringType, Str: s}}
	case tokNormalSub, tokOptionalSub:
		id := p.u16()
		p.u8() // declared value type; the instance's descriptor is authoritative
		return &node{kind: nSub, sub: id, opt: t&0x1f == tokOptionalSub}
	}
	fail("unexpected token %#02x", t)
	return nil
}

func (p *parser) parseTemplateInstance() *node {
	p.enter()
	defer func() { p.depth-- }()
	p.pos++ // token
	p.u8()  // unknown
	p.u32() // template identifier
	off := p.u32()
	var t *template
	if int(off) == p.pos {
		p.need(p.pos, templateHdrSize)
		size := int(binary.LittleEndian.Uint32(p.b[p.pos+20:]))
		t = p.template(off)
		p.need(p.pos, templateHdrSize+size)
		p.pos += templateHdrSize + size
	} else {
		t = p.template(off)
	}
	n := int(p.u32())
	p.need(p.pos, 4*n)
	desc := p.pos
	p.pos += 4 * n
	vals := make([]Value, n)
	for i := 0; i < n; i++ {
		size := int(binary.LittleEndian.Uint16(p.b[desc+4*i:]))
		vt := ValueType(p.b[desc+4*i+2])
		p.need(p.pos, size)
		vals[i] = p.value(vt, p.pos, size)
		p.pos += size
	}
	return &node{kind: nInst, tmpl: t, vals: vals}
}

// template returns the template definition at chunk offset off, parsing and
// caching it on first use.
func (p *parser) template(off uint32) *template {
	if t, ok := p.templates[off]; ok {
		if t == nil {
			fail("recursive template at %#x", off)
		}
		return t
	}
	o := int(off)
	p.need(o, templateHdrSize)
	size := int(binary.LittleEndian.Uint32(p.b[o+20:]))
	p.need(o+templateHdrSize, size)
	p.templates[off] = nil
	save := p.pos
	p.pos = o + templateHdrSize
	nodes := p.parseFragment(o+templateHdrSize+size, false)
	p.pos = save
	t := &template{nodes: nodes}
	p.templates[off] = t
	return t
}

// value decodes a substitution value of type vt stored in b[pos:pos+size].
func (p *parser) value(vt ValueType, pos, size int) Value {
	b := p.b[pos : pos+size]
	le := binary.LittleEndian
	v := Value{Type: vt}
	fixed := func(n int) bool { return len(b) >= n }
	switch vt {
	case NullType:
	case StringType:
		v.Str = trimNul(decodeUTF16(b[:len(b)&^1]))
	case AnsiStringType:
		v.Str = trimNul(decodeANSI(b))
	case Int8Type, Uint8Type:
		if !fixed(1) {
			return Value{}
		}
		v.Num = uint64(b[0])
		if vt == Int8Type {
			v.Num = uint64(int64(int8(b[0])))
		}
	case Int16Type, Uint16Type:
		if !fixed(2) {
			return Value{}
		}
		v.Num = uint64(le.Uint16(b))
		if vt == Int16Type {
			v.Num = uint64(int64(int16(le.Uint16(b))))
		}
	case Int32Type, Uint32Type, Hex32Type, BoolType, Real32Type:
		if !fixed(4) {
			return Value{}
		}
		v.Num = uint64(le.Uint32(b))
		if vt == Int32Type {
			v.Num = uint64(int64(int32(le.Uint32(b))))
		}
	case Int64Type, Uint64Type, Hex64Type, Real64Type, FileTimeType:
		if !fixed(8) {
			return Value{}
		}
		v.Num = le.Uint64(b)
	case SizeTType:
		switch {
		case len(b) >= 8:
			v.Num, v.Size = le.Uint64(b), 8
		case len(b) >= 4:
			v.Num, v.Size = uint64(le.Uint32(b)), 4
		default:
			return Value{}
		}
	case GUIDType, SysTimeType:
		if !fixed(16) {
			return Value{}
		}
		v.Raw = append([]byte(nil), b[:16]...)
	case SIDType, BinaryType, EvtHandleType, EvtXMLType:
		v.Raw = append([]byte(nil), b...)
	case BinXMLType:
		save := p.pos
		p.pos = pos
		nodes := p.parseFragment(pos+size, true)
		p.pos = save
		var holder Element
		for _, n := range nodes {
			p.instantiate(&holder, n, nil, 0)
		}
		v.more = &compound{elems: holder.Children}
	default:
		if vt&ArrayFlag == 0 {
			v.Raw = append([]byte(nil), b...)
			return v
		}
		return p.array(vt, b)
	}
	return v
}

func (p *parser) array(vt ValueType, b []byte) Value {
	v := Value{Type: vt, more: &compound{}}
	base := vt &^ ArrayFlag
	switch base {
	case StringType:
		s := b[:len(b)&^1]
		for len(s) > 0 {
			i := 0
			for i+1 < len(s) && (s[i] != 0 || s[i+1] != 0) {
				i += 2
			}
			v.more.items = append(v.more.items, Value{Type: StringType, Str: decodeUTF16(s[:i])})
			if i+2 > len(s) {
				break
			}
			s = s[i+2:]
		}
		return v
	case AnsiStringType:
		for len(b) > 0 {
			i := 0
			for i < len(b) && b[i] != 0 {
				i++
			}
			v.more.items = append(v.more.items, Value{Type: AnsiStringType, Str: decodeANSI(b[:i])})
			if i+1 > len(b) {
				break
			}
			b = b[i+1:]
		}
		return v
	}
	var w int
	switch base {
	case Int8Type, Uint8Type:
		w = 1
	case Int16Type, Uint16Type:
		w = 2
	case Int32Type, Uint32Type, Hex32Type, BoolType, Real32Type:
		w = 4
	case Int64Type, Uint64Type, Hex64Type, Real64Type, FileTimeType, SizeTType:
		w = 8
	case GUIDType, SysTimeType:
		w = 16
	case SIDType:
		for len(b) >= 8 {
			n := 8 + 4*int(b[1])
			if n > len(b) {
				n = len(b)
			}
			v.more.items = append(v.more.items, Value{Type: SIDType, Raw: append([]byte(nil), b[:n]...)})
			b = b[n:]
		}
		return v
	default:
		v.Raw = append([]byte(nil), b...)
		return v
	}
	save := p.b
	for i := 0; i+w <= len(b); i += w {
		p.b = b[i : i+w]
		v.more.items = append(v.more.items, p.value(base, 0, w))
	}
	p.b = save
	return v
}

// instantiate appends the content of n, with substitutions subs, to parent.
func (p *parser) instantiate(parent *Element, n *node, subs []Value, depth int) {
	if depth > maxDepth {
		fail("template instantiation nested too deeply")
	}
	p.budget--
	if p.budget < 0 {
		fail("record expands to more than %d nodes", maxNodes)
	}
	switch n.kind {
	case nElem:
		e := p.newElement()
		e.Name = n.name
		if len(n.attrs) > 0 {
			e.Attrs = make([]Attr, 0, len(n.attrs))
		}
		for _, a := range n.attrs {
			var v Value
			if len(a.parts) == 1 && a.parts[0].kind != nInst {
				v = p.attrValue(a.parts[0], subs)
			} else {
				var tmp Element
				for _, part := range a.parts {
					p.instantiate(&tmp, part, subs, depth+1)
				}
				v = tmp.Value()
			}
			p.charge(v)
			e.Attrs = append(e.Attrs, Attr{Name: a.name, Value: v})
		}
		if len(n.children) == 1 && n.children[0].kind == nSub {
			// The common <Data>{sub}</Data>: share the instance's value slot.
			if id := int(n.children[0].sub); id < len(subs) && subs[id].Type != BinXMLType {
				if subs[id].Type != NullType {
					p.charge(subs[id])
					e.Values = subs[id : id+1 : id+1]
				}
				parent.Children = append(parent.Children, e)
				return
			}
		}
		if n.nelems > 0 {
			e.Children = make([]*Element, 0, n.nelems)
		}
		if n.nvals > 0 {
			e.Values = make([]Value, 0, n.nvals)
		}
		for _, c := range n.children {
			p.instantiate(e, c, subs, depth+1)
		}
		parent.Children = append(parent.Children, e)
	case nValue:
		p.charge(n.val)
		parent.Values = append(parent.Values, n.val)
	case nSub:
		if int(n.sub) >= len(subs) {
			return
		}
		v := subs[n.sub]
		switch {
		case v.Type == BinXMLType:
			// Copy: a value substituted several times must not make the tree
			// a DAG (whose rendering could grow exponentially).
			for _, e := range v.Elements() {
				parent.Children = append(parent.Children, p.copyElement(e))
			}
		case v.Type == NullType:
		default:
			p.charge(v)
			parent.Values = append(parent.Values, v)
		}
	case nInst:
		for _, c := range n.tmpl.nodes {
			p.instantiate(parent, c, n.vals, depth+1)
		}
	}
}

// newElement allocates elements in small slabs (fewer, larger allocations).
func (p *parser) newElement() *Element {
	if len(p.slab) == 0 {
		p.slab = make([]Element, 32)
	}
	e := &p.slab[0]
	p.slab = p.slab[1:]
	return e
}

// attrValue evaluates a single-part attribute value.
func (p *parser) attrValue(n *node, subs []Value) Value {
	p.budget--
	if p.budget < 0 {
		fail("record expands to more than %d nodes", maxNodes)
	}
	switch n.kind {
	case nValue:
		return n.val
	case nSub:
		if int(n.sub) < len(subs) && subs[n.sub].Type != BinXMLType {
			return subs[n.sub]
		}
	}
	return Value{}
}

// charge counts a value against the expansion budget by its size, so that a
// large value substituted many times cannot make a huge record.
func (p *parser) charge(v Value) {
	p.budget -= (len(v.Str)+len(v.Raw))/16 + len(v.Items())
	if p.budget < 0 {
		fail("record expands to more than %d nodes", maxNodes)
	}
}

func (p *parser) copyElement(e *Element) *Element {
	p.budget -= 1 + len(e.Attrs) + len(e.Values)
	if p.budget < 0 {
		fail("record expands to more than %d nodes", maxNodes)
	}
	for _, v := range e.Values {
		p.charge(v)
	}
	for _, a := range e.Attrs {
		p.charge(a.Value)
	}
	c := &Element{Name: e.Name, Attrs: e.Attrs, Values: e.Values}
	if len(e.Children) > 0 {
		c.Children = make([]*Element, len(e.Children))
		for i, ch := range e.Children {
			c.Children[i] = p.copyElement(ch)
		}
	}
	return c
}

func trimNul(s string) string {
	for len(s) > 0 && s[len(s)-1] == 0 {
		s = s[:len(s)-1]
	}
	return s
}

func decodeANSI(b []byte) string {
	for _, c := range b {
		if c >= 0x80 {
			r := make([]rune, 0, len(b))
			for _, c := range b {
				r = append(r, rune(c))
			}
			return string(r)
		}
	}
	return string(b)
}

// decodeUTF16 decodes UTF-16LE; unpaired surrogates become U+FFFD.
func decodeUTF16(b []byte) string {
	n := len(b) / 2
	ascii := true
	for i := 0; i < n; i++ {
		if b[2*i+1] != 0 || b[2*i] >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		out := make([]byte, n)
		for i := 0; i < n; i++ {
			out[i] = b[2*i]
		}
		return string(out)
	}
	u := make([]uint16, n)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	out := make([]byte, 0, len(b)+len(b)/2)
	for _, r := range utf16.Decode(u) {
		out = utf8.AppendRune(out, r)
	}
	return string(out)
}
