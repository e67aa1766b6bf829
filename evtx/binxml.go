package evtx

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
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

// node is a parsed template (or inline Binary XML) node. Templates are parsed
// once per chunk into nodes; every record using the template instantiates
// the nodes with its substitution values.
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
	names     offMap[string]    // name offset -> name, for the current chunk
	intern    map[string]string // UTF-16 bytes -> name, across chunks
	templates offMap[*template] // template offset -> template (nil while being parsed)
	tmpls     pool[template]    // the current chunk's templates
	depth     int
	budget    int // nodes left to instantiate for the current record
	chunkLeft int // nodes left to instantiate for the whole chunk

	// Template nodes (reused per chunk) and the stacks used while building
	// node and element lists.
	nodes  pool[node]
	nptrs  pool[*node]
	nattrs pool[nattr]
	nstack []*node
	astack []nattr
	kids   []*Element
	vstack []Value

	// tail, when set, reads the rest of the chunk: p.b then holds only the
	// header and records, and references past them load the rest (see need).
	tail *Reader

	ra arena  // the record being built (reset per record)
	ca arena  // values in template nodes (reset per chunk)
	va *arena // where value decodes: ra, or ca while parsing nodes
	ia *arena // where instantiate builds elements: ra, or ca for BinXml values in nodes
}

// maxNodes bounds the elements, attributes and values one record may expand to,
// so that templates nested in templates cannot blow up exponentially.
// maxChunkNodes bounds them for all the records of a chunk together (a real
// 64 KiB chunk expands to a few tens of thousands of nodes).
const (
	maxNodes      = 1 << 18
	maxChunkNodes = 1 << 21
	maxInterned   = 4096 // distinct names kept across chunks
)

func (p *parser) reset(b []byte) {
	p.b, p.tail = b, nil
	if p.intern == nil {
		p.intern = make(map[string]string)
	}
	p.names.reset()
	p.templates.reset()
	p.tmpls.reset()
	if len(p.intern) > maxInterned {
		clear(p.intern)
	}
	p.nodes.reset()
	p.nptrs.reset()
	p.nattrs.reset()
	p.ca.reset()
	p.va, p.ia = &p.ra, &p.ra
	p.chunkLeft = maxChunkNodes
}

func (p *parser) need(pos, n int) {
	if n < 0 || pos < 0 || pos+n > len(p.b) {
		if n >= 0 && pos >= 0 && p.extend(pos+n) {
			return
		}
		panic(parseError{errTruncated})
	}
}

// extend loads the rest of the chunk when end lies past the part loaded, and
// reports whether end is then within the chunk.
func (p *parser) extend(end int) bool {
	if p.tail != nil && end > len(p.b) {
		p.b = p.tail.readTail()
		p.tail = nil
	}
	return end <= len(p.b)
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

func (p *parser) newNode(kind uint8) *node {
	n := &p.nodes.take(1, 512)[0]
	n.kind = kind
	return n
}

// popNodes moves the nodes stacked since mark into the node pool.
func (p *parser) popNodes(mark int) []*node {
	out := p.nptrs.takeRaw(len(p.nstack)-mark, 1024) // all copied
	copy(out, p.nstack[mark:])
	p.nstack = p.nstack[:mark]
	return out
}

// popKids moves the elements stacked since mark into the current arena.
func (p *parser) popKids(mark int) []*Element {
	out := p.ia.elemPtrs(len(p.kids) - mark)
	copy(out, p.kids[mark:])
	p.kids = p.kids[:mark]
	return out
}

// popValues moves the values stacked since mark into arena a.
func (p *parser) popValues(a *arena, mark int) []Value {
	out := a.values(len(p.vstack) - mark)
	copy(out, p.vstack[mark:])
	p.vstack = p.vstack[:mark]
	return out
}

// parseRecord decodes the Binary XML in b[start:end] into the event's root
// element. A record's template instance is instantiated as it is read, with
// no intermediate tree; template definitions are parsed once per chunk.
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
	if cap(p.kids) > maxKeep || cap(p.vstack) > maxKeep || cap(p.nstack) > maxKeep {
		p.kids, p.vstack, p.nstack = nil, nil, nil // left large by an exceptional record
	}
	p.nstack, p.astack, p.kids, p.vstack = p.nstack[:0], p.astack[:0], p.kids[:0], p.vstack[:0]
	p.ra.reset()
	p.va, p.ia = &p.ra, &p.ra
	defer func() { p.chunkLeft -= min(maxNodes, p.chunkLeft) - p.budget }()
	p.fragment(end, false)
	if len(p.kids) == 0 {
		return nil, errors.New("record holds no element")
	}
	root = p.kids[0]
	clear(p.kids) // the stack must not keep records alive
	clear(p.vstack)
	return root, nil
}

// fragment reads top-level tokens until EOF or end, instantiating them onto
// the element and value stacks.
func (p *parser) fragment(end int, nested bool) {
	for p.pos < end {
		t := p.peek()
		switch t & 0x1f {
		case tokEOF:
			p.pos++
			return
		case tokFragmentHdr:
			p.need(p.pos, 4)
			p.pos += 4
		case tokTemplate:
			t, vals := p.instance(p.ia)
			p.spend(1)
			for _, c := range t.nodes {
				p.instantiate(c, vals, 1)
			}
		case tokOpenStart:
			p.instantiate(p.parseElement(nested), nil, 0)
		case tokValue, tokCDATA, tokCharRef, tokEntityRef, tokNormalSub, tokOptionalSub:
			p.instantiate(p.parseContentToken(), nil, 0)
		case tokPITarget:
			p.skipPI()
		default:
			fail("unexpected token %#02x at offset %#x", t, p.pos)
		}
	}
}

// parseFragment reads top-level tokens until EOF or end into nodes (for
// template definitions).
func (p *parser) parseFragment(end int, nested bool) []*node {
	mark := len(p.nstack)
	for p.pos < end {
		t := p.peek()
		switch t & 0x1f {
		case tokEOF:
			p.pos++
			return p.popNodes(mark)
		case tokFragmentHdr:
			p.need(p.pos, 4)
			p.pos += 4
		case tokTemplate:
			n := p.parseTemplateInstance()
			p.nstack = append(p.nstack, n)
		case tokOpenStart:
			n := p.parseElement(nested)
			p.nstack = append(p.nstack, n)
		case tokValue, tokCDATA, tokCharRef, tokEntityRef, tokNormalSub, tokOptionalSub:
			n := p.parseContentToken()
			p.nstack = append(p.nstack, n)
		case tokPITarget:
			p.skipPI()
		default:
			fail("unexpected token %#02x at offset %#x", t, p.pos)
		}
	}
	return p.popNodes(mark)
}

// name reads a name reference (inline when it points just past itself).
func (p *parser) name() string {
	off := p.u32()
	if int(off) == p.pos {
		s, n := p.readName(off)
		p.pos += n
		return s
	}
	if s, ok := p.names.get(off); ok {
		return s
	}
	s, _ := p.readName(off)
	return s
}

// readName decodes the name structure at off and returns it and its size.
// Names are interned across chunks: the same few dozen names recur in every
// chunk.
func (p *parser) readName(off uint32) (string, int) {
	o := int(off)
	p.need(o, 8)
	n := int(binary.LittleEndian.Uint16(p.b[o+6:]))
	p.need(o+8, 2*n+2)
	raw := p.b[o+8 : o+8+2*n]
	s, ok := p.intern[string(raw)]
	if !ok {
		s = decodeUTF16(raw)
		p.intern[string(raw)] = s
	}
	p.names.put(off, s)
	return s, 8 + 2*n + 2
}

func (p *parser) enter() {
	p.depth++
	if p.depth > maxDepth {
		fail("binary XML nested too deeply")
	}
}

// parseElement parses an element. (Depth is restored without defer, which
// costs; after a parse error parseRecord resets it.)
func (p *parser) parseElement(nested bool) *node {
	p.enter()
	e := p.parseElementBody(nested)
	p.depth--
	return e
}

func (p *parser) parseElementBody(nested bool) *node {
	start := p.pos
	tok := p.u8()
	// Elements normally carry a 2-byte dependency identifier; in some nested
	// BinXml values it is absent. Take the layout whose name offset is sane.
	if withDep, without := p.layoutOK(p.pos+2), p.layoutOK(p.pos); nested && without || !nested && !withDep && without {
		// no dependency identifier
	} else {
		p.pos += 2
	}
	p.u32() // data size
	e := p.newNode(nElem)
	e.name = p.name()
	if tok&0x40 != 0 {
		p.u32() // attribute list size
		amark := len(p.astack)
		for p.peek()&0x1f == tokAttribute {
			p.pos++
			a := nattr{name: p.name()}
			nmark := len(p.nstack)
			for p.isValueToken() {
				n := p.parseContentToken()
				p.nstack = append(p.nstack, n)
			}
			a.parts = p.popNodes(nmark)
			p.astack = append(p.astack, a)
		}
		e.attrs = p.nattrs.takeRaw(len(p.astack)-amark, 256) // all copied
		copy(e.attrs, p.astack[amark:])
		p.astack = p.astack[:amark]
	}
	switch t := p.u8(); t & 0x1f {
	case tokCloseEmpty:
		return e
	case tokCloseStart:
	default:
		fail("element at %#x: unexpected token %#02x after attributes", start, t)
	}
	mark := len(p.nstack)
	for {
		t := p.peek()
		switch t & 0x1f {
		case tokEndElement:
			p.pos++
			e.children = p.popNodes(mark)
			return e
		case tokOpenStart:
			n := p.parseElement(nested)
			p.nstack = append(p.nstack, n)
		case tokTemplate:
			n := p.parseTemplateInstance()
			p.nstack = append(p.nstack, n)
		case tokValue, tokCDATA, tokCharRef, tokEntityRef, tokNormalSub, tokOptionalSub:
			n := p.parseContentToken()
			p.nstack = append(p.nstack, n)
		case tokPITarget:
			p.skipPI()
		case tokEOF:
			p.pos++
			e.children = p.popNodes(mark)
			return e // lenient: unterminated element
		default:
			fail("element at %#x: unexpected token %#02x at %#x", start, t, p.pos)
		}
	}
}

// layoutOK reports whether an element header whose data size field is at pos
// has a plausible name offset.
func (p *parser) layoutOK(pos int) bool {
	if pos+8 > len(p.b) && !p.extend(pos+8) {
		return false
	}
	off := int(binary.LittleEndian.Uint32(p.b[pos+4:]))
	if off == pos+8 {
		return true
	}
	if _, ok := p.names.get(uint32(off)); ok {
		return true
	}
	return off >= chunkHdrSize && off < pos && (off+10 <= len(p.b) || p.extend(off+10))
}

func (p *parser) isValueToken() bool {
	if p.pos >= len(p.b) && !p.extend(p.pos+1) {
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
	if (p.pos < len(p.b) || p.extend(p.pos+1)) && p.b[p.pos]&0x1f == tokPIData {
		p.pos++
		n := int(p.u16())
		p.need(p.pos, 2*n)
		p.pos += 2 * n
	}
}

func (p *parser) valueNode(v Value) *node {
	n := p.newNode(nValue)
	n.val = v
	return n
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
			s := p.ca.utf16(p.b[p.pos : p.pos+2*n])
			p.pos += 2 * n
			return p.valueNode(Value{Type: StringType, Str: s})
		case AnsiStringType:
			n := int(p.u16())
			p.need(p.pos, n)
			s := p.ca.latin1(p.b[p.pos : p.pos+n])
			p.pos += n
			return p.valueNode(Value{Type: AnsiStringType, Str: s})
		default:
			fail("value text of type %#02x", vt)
		}
	case tokCDATA:
		n := int(p.u16())
		p.need(p.pos, 2*n)
		s := p.ca.utf16(p.b[p.pos : p.pos+2*n])
		p.pos += 2 * n
		return p.valueNode(Value{Type: StringType, Str: s})
	case tokCharRef:
		c := p.u16()
		return p.valueNode(Value{Type: StringType, Str: string(rune(c))})
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
		return p.valueNode(Value{Type: StringType, Str: s})
	case tokNormalSub, tokOptionalSub:
		id := p.u16()
		p.u8() // declared value type; the instance's descriptor is authoritative
		n := p.newNode(nSub)
		n.sub, n.opt = id, t&0x1f == tokOptionalSub
		return n
	}
	fail("unexpected token %#02x", t)
	return nil
}

func (p *parser) parseTemplateInstance() *node {
	// The node may belong to a template, used by later records of the chunk.
	t, vals := p.instance(&p.ca)
	n := p.newNode(nInst)
	n.tmpl, n.vals = t, vals
	return n
}

// instance reads a template instance: the template (defined inline or by
// reference) and its substitution values, decoded into arena a.
func (p *parser) instance(a *arena) (*template, []Value) {
	p.enter()
	// p.va and p.depth are restored below (after a parse error, parseRecord
	// resets them).
	saveVA := p.va
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
	vals := a.values(n)
	p.va = a
	for i := range vals {
		size := int(binary.LittleEndian.Uint16(p.b[desc+4*i:]))
		vt := ValueType(p.b[desc+4*i+2])
		p.need(p.pos, size)
		p.decode(&vals[i], vt, p.pos, size)
		p.pos += size
	}
	p.depth--
	p.va = saveVA
	return t, vals
}

// template returns the template definition at chunk offset off, parsing and
// caching it on first use.
func (p *parser) template(off uint32) *template {
	if t, ok := p.templates.get(off); ok {
		if t == nil {
			fail("recursive template at %#x", off)
		}
		return t
	}
	o := int(off)
	p.need(o, templateHdrSize)
	size := int(binary.LittleEndian.Uint32(p.b[o+20:]))
	p.need(o+templateHdrSize, size)
	p.templates.put(off, nil)
	save := p.pos
	p.pos = o + templateHdrSize
	nodes := p.parseFragment(o+templateHdrSize+size, false)
	p.pos = save
	t := &p.tmpls.take(1, 64)[0]
	t.nodes = nodes
	p.templates.put(off, t)
	return t
}

// value decodes a substitution value of type vt stored in b[pos:pos+size].
func (p *parser) value(vt ValueType, pos, size int) Value {
	var v Value
	p.decode(&v, vt, pos, size)
	return v
}

// decode is value writing into *v (values are large: copies cost).
func (p *parser) decode(v *Value, vt ValueType, pos, size int) {
	b := p.b[pos : pos+size]
	le := binary.LittleEndian
	*v = Value{Type: vt}
	fixed := func(n int) bool { return len(b) >= n }
	switch vt {
	case NullType:
	case StringType:
		b = b[:len(b)&^1]
		for len(b) >= 2 && b[len(b)-1] == 0 && b[len(b)-2] == 0 {
			b = b[:len(b)-2] // trailing NULs
		}
		v.Str = p.va.utf16(b)
	case AnsiStringType:
		for len(b) > 0 && b[len(b)-1] == 0 {
			b = b[:len(b)-1]
		}
		v.Str = p.va.latin1(b)
	case Int8Type, Uint8Type:
		if !fixed(1) {
			*v = Value{}
			return
		}
		v.Num = uint64(b[0])
		if vt == Int8Type {
			v.Num = uint64(int64(int8(b[0])))
		}
	case Int16Type, Uint16Type:
		if !fixed(2) {
			*v = Value{}
			return
		}
		v.Num = uint64(le.Uint16(b))
		if vt == Int16Type {
			v.Num = uint64(int64(int16(le.Uint16(b))))
		}
	case Int32Type, Uint32Type, Hex32Type, BoolType, Real32Type:
		if !fixed(4) {
			*v = Value{}
			return
		}
		v.Num = uint64(le.Uint32(b))
		if vt == Int32Type {
			v.Num = uint64(int64(int32(le.Uint32(b))))
		}
	case Int64Type, Uint64Type, Hex64Type, Real64Type, FileTimeType:
		if !fixed(8) {
			*v = Value{}
			return
		}
		v.Num = le.Uint64(b)
	case SizeTType:
		switch {
		case len(b) >= 8:
			v.Num, v.Size = le.Uint64(b), 8
		case len(b) >= 4:
			v.Num, v.Size = uint64(le.Uint32(b)), 4
		default:
			*v = Value{}
			return
		}
	case GUIDType, SysTimeType:
		if !fixed(16) {
			*v = Value{}
			return
		}
		v.Raw = p.va.copyBytes(b[:16])
	case SIDType, BinaryType, EvtHandleType, EvtXMLType:
		v.Raw = p.va.copyBytes(b)
	case BinXMLType:
		save := p.pos
		p.pos = pos
		kmark, vmark := len(p.kids), len(p.vstack)
		saveIA := p.ia
		p.ia = p.va
		p.fragment(pos+size, true)
		p.pos, p.ia = save, saveIA
		elems := p.popKids(kmark)
		p.vstack = p.vstack[:vmark]
		v.more = p.va.compound()
		v.more.elems = elems
	default:
		if vt&ArrayFlag == 0 {
			v.Raw = p.va.copyBytes(b)
			return
		}
		*v = p.array(vt, b)
	}
}

func (p *parser) array(vt ValueType, b []byte) Value {
	v := Value{Type: vt, more: p.va.compound()}
	base := vt &^ ArrayFlag
	mark := len(p.vstack)
	switch base {
	case StringType:
		s := b[:len(b)&^1]
		for len(s) > 0 {
			i := 0
			for i+1 < len(s) && (s[i] != 0 || s[i+1] != 0) {
				i += 2
			}
			p.vstack = append(p.vstack, Value{Type: StringType, Str: p.va.utf16(s[:i])})
			if i+2 > len(s) {
				break
			}
			s = s[i+2:]
		}
	case AnsiStringType:
		for len(b) > 0 {
			i := 0
			for i < len(b) && b[i] != 0 {
				i++
			}
			p.vstack = append(p.vstack, Value{Type: AnsiStringType, Str: p.va.latin1(b[:i])})
			if i+1 > len(b) {
				break
			}
			b = b[i+1:]
		}
	case SIDType:
		for len(b) >= 8 {
			n := 8 + 4*int(b[1])
			if n > len(b) {
				n = len(b)
			}
			p.vstack = append(p.vstack, Value{Type: SIDType, Raw: p.va.copyBytes(b[:n])})
			b = b[n:]
		}
	default:
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
		default:
			v.Raw = p.va.copyBytes(b)
			return v
		}
		save, saveTail := p.b, p.tail
		p.tail = nil // p.b is not the chunk here
		for i := 0; i+w <= len(b); i += w {
			p.b = b[i : i+w]
			p.vstack = append(p.vstack, p.value(base, 0, w))
		}
		p.b, p.tail = save, saveTail
	}
	v.more.items = p.popValues(p.va, mark)
	return v
}

// spend counts n nodes against the record's expansion budget.
func (p *parser) spend(n int) {
	p.budget -= n
	if p.budget < 0 {
		fail("record expands to more than %d nodes", maxNodes)
	}
}

// instantiate instantiates n with substitutions subs: elements are pushed on
// p.kids, text values on p.vstack, for the caller to collect.
func (p *parser) instantiate(n *node, subs []Value, depth int) {
	if depth > maxDepth {
		fail("template instantiation nested too deeply")
	}
	p.spend(1)
	switch n.kind {
	case nElem:
		var attrs []Attr
		if len(n.attrs) > 0 {
			attrs = p.ia.attrs.takeRaw(len(n.attrs), attrPool) // all set below
			for i := range n.attrs {
				na, at := &n.attrs[i], &attrs[i]
				at.Name = na.name
				if len(na.parts) == 1 && na.parts[0].kind != nInst {
					p.attrValue(&at.Value, na.parts[0], subs)
				} else {
					at.Value = p.attrParts(na.parts, subs, depth)
				}
				p.charge(&at.Value)
			}
		}
		if len(n.children) == 1 && n.children[0].kind == nSub {
			// The common <Data>{sub}</Data>: share the instance's value slot.
			if id := int(n.children[0].sub); id < len(subs) && subs[id].Type != BinXMLType {
				var vals []Value
				if subs[id].Type != NullType {
					p.charge(&subs[id])
					vals = subs[id : id+1 : id+1]
				}
				e := p.ia.rawElement()
				// Field by field: a composite literal is built on the
				// stack and copied, which costs more.
				e.Name, e.Attrs, e.Children, e.Values = n.name, attrs, nil, vals
				p.kids = append(p.kids, e)
				return
			}
		}
		kmark, vmark := len(p.kids), len(p.vstack)
		for _, c := range n.children {
			p.instantiate(c, subs, depth+1)
		}
		children := p.popKids(kmark)
		vals := p.popValues(p.ia, vmark)
		e := p.ia.rawElement()
		e.Name, e.Attrs, e.Children, e.Values = n.name, attrs, children, vals
		p.kids = append(p.kids, e)
	case nValue:
		p.charge(&n.val)
		p.vstack = append(p.vstack, n.val)
	case nSub:
		if int(n.sub) >= len(subs) {
			return
		}
		v := &subs[n.sub]
		switch {
		case v.Type == BinXMLType:
			if v.more == nil {
				return
			}
			// The first use takes the value's elements (charged when they
			// were made); later ones copy them, so that a value substituted
			// several times does not make the tree a DAG (whose rendering
			// could grow exponentially).
			first := !v.more.used
			v.more.used = true
			for _, e := range v.more.elems {
				if first {
					p.kids = append(p.kids, e)
				} else {
					p.kids = append(p.kids, p.copyElement(e))
				}
			}
		case v.Type == NullType:
		default:
			p.charge(v)
			p.vstack = append(p.vstack, *v)
		}
	case nInst:
		for _, c := range n.tmpl.nodes {
			p.instantiate(c, n.vals, depth+1)
		}
	}
}

// attrParts evaluates an attribute value made of several parts (or a
// template instance): one value stays typed, several are joined as text.
func (p *parser) attrParts(parts []*node, subs []Value, depth int) Value {
	kmark, vmark := len(p.kids), len(p.vstack)
	for _, part := range parts {
		p.instantiate(part, subs, depth+1)
	}
	var v Value
	switch vs := p.vstack[vmark:]; len(vs) {
	case 0:
	case 1:
		v = vs[0]
	default:
		var sb strings.Builder
		for _, x := range vs {
			sb.WriteString(x.String())
		}
		v = Value{Type: StringType, Str: sb.String()}
	}
	p.kids, p.vstack = p.kids[:kmark], p.vstack[:vmark]
	return v
}

// attrValue evaluates a single-part attribute value into *dst.
func (p *parser) attrValue(dst *Value, n *node, subs []Value) {
	p.spend(1)
	switch n.kind {
	case nValue:
		*dst = n.val
		return
	case nSub:
		if int(n.sub) < len(subs) && subs[n.sub].Type != BinXMLType {
			*dst = subs[n.sub]
			return
		}
	}
	*dst = Value{}
}

// charge counts a value against the expansion budget by its size, so that a
// large value substituted many times cannot make a huge record.
func (p *parser) charge(v *Value) {
	n := (len(v.Str) + len(v.Raw)) / 16
	if v.more != nil {
		n += len(v.more.items)
	}
	p.spend(n)
}

func (p *parser) copyElement(e *Element) *Element {
	p.spend(1 + len(e.Attrs) + len(e.Values))
	for i := range e.Values {
		p.charge(&e.Values[i])
	}
	for i := range e.Attrs {
		p.charge(&e.Attrs[i].Value)
	}
	var children []*Element
	if len(e.Children) > 0 {
		children = p.ia.elemPtrs(len(e.Children))
		for i, ch := range e.Children {
			children[i] = p.copyElement(ch)
		}
	}
	c := p.ia.rawElement()
	*c = Element{Name: e.Name, Attrs: e.Attrs, Children: children, Values: e.Values}
	return c
}

// decodeUTF16 decodes UTF-16LE into a new string; unpaired surrogates become
// U+FFFD. Record text is decoded into the arena instead (arena.utf16).
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
