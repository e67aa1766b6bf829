package event

import (
	"math"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unsafe"
)

// Path is a compiled field reference such as "process.parent.name" or
// "@timestamp". It is immutable and safe to share between goroutines.
type Path struct {
	name string
	id   uint32 // same id for the same name: the key of Doc.Values' cache
	// keys[i][k] is segments i..i+k joined with '.', i.e. every key that can
	// stand for the rest of the path at depth i ({"a":{"b":1}}, {"a.b":1}, ...).
	// keys[i][0] is the single segment, so the nested form is tried first.
	keys [][]string
	// heads[i] holds the first 8 bytes of keys[i][0] (zero-padded,
	// little-endian), for a quick comparison with keys in the document.
	heads []uint64
	// root is the path of the first segment alone (nil for a one-segment
	// path): Doc caches where it is.
	root *Path
}

// CompilePath splits name on '.' and precomputes every joined key variant
// so that Lookup builds no strings.
func CompilePath(name string) *Path {
	segs := strings.Split(name, ".")
	p := &Path{name: name, id: pathID(name), keys: make([][]string, len(segs)), heads: make([]uint64, len(segs))}
	for i := range segs {
		var h [8]byte
		copy(h[:], segs[i])
		p.heads[i] = le64(h[:])
		vs := make([]string, 0, len(segs)-i)
		for j := i + 1; j <= len(segs); j++ {
			vs = append(vs, strings.Join(segs[i:j], "."))
		}
		p.keys[i] = vs
	}
	if len(segs) > 1 {
		p.root = CompilePath(segs[0])
	}
	return p
}

// Paths of the same name share an id, so that many queries over one
// document (a rule set) read each field once through Doc.Values.
var pathIDs struct {
	sync.Mutex
	ids map[string]uint32
}

func pathID(name string) uint32 {
	pathIDs.Lock()
	defer pathIDs.Unlock()
	if pathIDs.ids == nil {
		pathIDs.ids = map[string]uint32{}
	}
	id, ok := pathIDs.ids[name]
	if !ok {
		id = uint32(len(pathIDs.ids)) + 1
		pathIDs.ids[name] = id
	}
	return id
}

// Memo ids name results derived from a document that several queries
// share (a join key tuple, a parsed timestamp): MemoID returns the same id
// for the same name.
var memoIDs struct {
	sync.Mutex
	ids map[string]uint32
}

// MemoID returns the id of the memo named name.
func MemoID(name string) uint32 {
	memoIDs.Lock()
	defer memoIDs.Unlock()
	if memoIDs.ids == nil {
		memoIDs.ids = map[string]uint32{}
	}
	id, ok := memoIDs.ids[name]
	if !ok {
		id = uint32(len(memoIDs.ids))
		memoIDs.ids[name] = id
	}
	return id
}

// Memo returns what SetMemo stored under id for this document, if anything.
// Values must not be modified by their readers.
func (d *Doc) Memo(id uint32) (any, bool) {
	if int(id) < len(d.memo) && d.memo[id].gen == d.gen {
		return d.memo[id].v, true
	}
	return nil, false
}

// MemoValue returns the Value SetMemoValue stored under id for this
// document, if any.
func (d *Doc) MemoValue(id uint32) (Value, bool) {
	if int(id) < len(d.memo) && d.memo[id].gen == d.gen {
		return d.memo[id].val, true
	}
	return Value{}, false
}

// SetMemoValue stores v under id until the next Parse: SetMemo for a
// Value, without an allocation per document.
func (d *Doc) SetMemoValue(id uint32, v Value) {
	if int(id) >= len(d.memo) {
		d.memo = append(d.memo, make([]memoSlot, int(id)+8-len(d.memo))...)
	}
	d.memo[id] = memoSlot{gen: d.gen, val: v}
}

// SetMemo stores v under id until the next Parse.
func (d *Doc) SetMemo(id uint32, v any) {
	if int(id) >= len(d.memo) {
		d.memo = append(d.memo, make([]memoSlot, int(id)+8-len(d.memo))...)
	}
	d.memo[id] = memoSlot{gen: d.gen, v: v}
}

// Name returns the field name the path was compiled from.
func (p *Path) Name() string { return p.name }

// Parser parses one JSON object (one NDJSON line) at a time. The zero value
// is ready to use. It is reusable but not safe for concurrent use; use one
// per goroutine.
type Parser struct {
	doc Doc
}

// Doc is one parsed document, owned by its Parser. It and every string
// Value obtained from it are valid only until the next Parse on that Parser
// (call Value.Clone to keep one). Lookups decode escaped strings lazily and
// cache the result in the Doc, so a Doc must not be used from several
// goroutines at once.
//
// The document is held as the private copy of the line (buf) plus a tape:
// one node per key and per value in document order, where a container's
// node records the index just past its subtree so that Lookup skips it in
// O(1). Unescaped strings alias buf; escaped ones are decoded on first use
// into arena.
type Doc struct {
	buf   []byte // copy of the line followed by padLen zero bytes
	n     int    // length of the line in buf
	tape  []node // empty when the last Parse failed
	arena []byte // decoded escaped strings, reset by Parse

	// Values' cache: slots by path id, valid when their gen is the Doc's.
	gen   uint32
	slots []valueSlot
	cvals []Value
	memo  []memoSlot
	roots []rootSlot // by root path id: where a top-level key's value is
}

type rootSlot struct {
	gen uint32
	j   uint32
	ok  bool
}

type memoSlot struct {
	gen uint32
	v   any
	val Value // SetMemoValue's, without boxing
}

type valueSlot struct {
	gen        uint32
	start, end uint32
	found      bool
}

// node is one tape entry.
type node struct {
	// Strings and keys: content offsets without the quotes (into buf, or
	// into arena once decoded); numbers: the literal's offsets in buf.
	// Containers: end is the parent's index while the container is open.
	start, end uint32
	// next is the tape index just past the value (past the subtree for a
	// container), i.e. the next array element or the next object key: a
	// walk over an object's keys (m = t[m+1].next: keys are followed by
	// their value) or an array's elements is one load per step.
	next  uint32
	kind  uint8
	flags uint8
}

const (
	kObject uint8 = iota + 1 // containers first: kind <= kArray
	kArray
	kKey
	kString
	kNumber
	kTrue
	kFalse
	kNull
)

const (
	fEscaped uint8 = 1 << iota // string or key holds backslash escapes, not yet decoded
	fArena                     // start/end index arena (the decoded text)
	fDotted                    // object: some key contains '.' or an escape
)

const (
	// padLen zero bytes follow the line in buf. Every scanning loop stops at
	// a NUL (a control character, invalid everywhere in JSON), so the
	// parser needs no end-of-input checks and may load up to 16 bytes past
	// the last position it looks at.
	padLen = 16
	// maxDocLen keeps every offset and tape index within a uint32.
	maxDocLen = math.MaxUint32 - padLen - 1
	noParent  = math.MaxUint32
)

// Parse parses line, which must hold exactly one JSON object (surrounding
// whitespace and a leading UTF-8 BOM are allowed). Errors are *SyntaxError.
// The line is copied once; the Doc never refers to the caller's bytes.
func (p *Parser) Parse(line []byte) (*Doc, error) {
	d := &p.doc
	d.tape = d.tape[:0]
	d.arena = d.arena[:0]
	d.cvals = d.cvals[:0]
	if d.gen++; d.gen == 0 { // wrapped: old slots could look current
		clear(d.slots)
		clear(d.memo)
		clear(d.roots)
		d.gen = 1
	}
	n := len(line)
	if uint64(n) > maxDocLen {
		d.n = 0
		return nil, &SyntaxError{Offset: 0, Msg: "document larger than 4 GiB"}
	}
	if cap(d.buf) < n+padLen {
		d.buf = make([]byte, n+padLen, n+padLen+n/4)
	}
	b := d.buf[:n+padLen]
	copy(b, line) // may overlap when line is a previous Raw(); copy handles that
	clear(b[n:])
	d.buf, d.n = b, n
	if fail, ok := d.build(); !ok {
		d.tape = d.tape[:0]
		return nil, syntaxError(line, fail)
	}
	return d, nil
}

// syntaxError explains why line was rejected. Invalid input is rare, so the
// fast parser only says where it stopped and the strict scanner (which
// accepts exactly the same language) is rerun for the precise message.
func syntaxError(line []byte, fail int) error {
	s := scanner{data: line}
	if _, err := s.topObject(); err != nil {
		return err
	}
	// Unreachable unless the parser and the scanner disagree.
	return &SyntaxError{Offset: min(fail, len(line)), Msg: "rejected by the parser"}
}

// Raw returns a copy of the bytes given to Parse, valid until the next Parse.
func (d *Doc) Raw() []byte { return d.buf[:d.n:d.n] }

// build parses d.buf[:d.n] into d.tape, validating it as strictly as
// scanner does. On failure it returns the offset where it stopped.
func (d *Doc) build() (int, bool) {
	b := d.buf
	n := d.n
	tape := d.tape[:0]
	cur := uint32(noParent) // innermost open container
	depth := 0
	i := 0
	var (
		ok  bool
		fl  uint8
		end int
		c   byte
		nd  *node
		x   uint64
		m   uint64
	)
	if n >= 3 && b[0] == 0xef && b[1] == 0xbb && b[2] == 0xbf {
		i = 3
	}
	i = skipWS(b, i)
	if b[i] != '{' {
		return i, false
	}

value: // a value starts at b[i] (whitespace skipped)
	switch c = b[i]; c {
	case '"':
		if end, fl, ok = scanString(b, i+1); !ok {
			return end, false
		}
		tape, nd = push(tape)
		nd.start = uint32(i + 1)
		nd.end = uint32(end)
		nd.next = uint32(len(tape))
		nd.kind = kString
		nd.flags = fl
		i = end + 1
	case '{', '[':
		depth++
		if depth > maxNesting {
			return i, false
		}
		k := kObject
		if c == '[' {
			k = kArray
		}
		tape, nd = push(tape)
		nd.start = 0
		nd.end = cur
		nd.next = 0
		nd.kind = k
		nd.flags = 0
		cur = uint32(len(tape) - 1)
		i++
		if b[i] <= ' ' {
			i = skipWS(b, i)
		}
		if b[i] == c+2 { // '{'+2 == '}', '['+2 == ']'
			goto close
		}
		if c == '{' {
			goto key
		}
		goto value
	case 't':
		if le32(b[i:]) != 'e'<<24|'u'<<16|'r'<<8|'t' {
			return i, false
		}
		tape, nd = push(tape)
		nd.start = 0
		nd.end = 0
		nd.next = uint32(len(tape))
		nd.kind = kTrue
		nd.flags = 0
		i += 4
	case 'f':
		if le32(b[i+1:]) != 'e'<<24|'s'<<16|'l'<<8|'a' {
			return i, false
		}
		tape, nd = push(tape)
		nd.start = 0
		nd.end = 0
		nd.next = uint32(len(tape))
		nd.kind = kFalse
		nd.flags = 0
		i += 5
	case 'n':
		if le32(b[i:]) != 'l'<<24|'l'<<16|'u'<<8|'n' {
			return i, false
		}
		tape, nd = push(tape)
		nd.start = 0
		nd.end = 0
		nd.next = uint32(len(tape))
		nd.kind = kNull
		nd.flags = 0
		i += 4
	default:
		start := i
		if c == '-' {
			i++
		}
		if b[i] == '0' {
			i++
			if isDigit(b[i]) {
				return start, false
			}
		} else if isDigit(b[i]) {
			i++
			for isDigit(b[i]) {
				i++
			}
		} else {
			return i, false
		}
		if b[i] == '.' {
			i++
			if !isDigit(b[i]) {
				return start, false
			}
			for i++; isDigit(b[i]); i++ {
			}
		}
		if b[i]|0x20 == 'e' {
			i++
			if b[i] == '+' || b[i] == '-' {
				i++
			}
			if !isDigit(b[i]) {
				return start, false
			}
			for i++; isDigit(b[i]); i++ {
			}
		}
		tape, nd = push(tape)
		nd.start = uint32(start)
		nd.end = uint32(i)
		nd.next = uint32(len(tape))
		nd.kind = kNumber
		nd.flags = 0
	}

next: // a value ended just before b[i]
	if b[i] <= ' ' {
		i = skipWS(b, i)
	}
	switch b[i] {
	case ',':
		i++
		if b[i] <= ' ' {
			i = skipWS(b, i)
		}
		if tape[cur].kind == kObject {
			goto key
		}
		goto value
	case '}':
		if tape[cur].kind != kObject {
			return i, false
		}
		goto close
	case ']':
		if tape[cur].kind != kArray {
			return i, false
		}
		goto close
	}
	return i, false

close: // b[i] closes the container cur
	{
		nd := &tape[cur]
		nd.next = uint32(len(tape))
		cur = nd.end
	}
	depth--
	i++
	if cur == noParent { // the top-level object is complete
		i = skipWS(b, i)
		d.tape = tape
		return i, i == n
	}
	goto next

key: // an object key starts at b[i]
	if b[i] != '"' {
		return i, false
	}
	// Most keys are short and plain: finish them without a call.
	x = le64(b[i+1:])
	m = specialMask(x) | dotMask(x)
	end, fl = i+1+bits.TrailingZeros64(m)>>3, 0 // i+9 when m == 0
	if m == 0 || b[end] != '"' {
		if end, fl, ok = scanKey(b, i+1); !ok {
			return end, false
		}
	}
	if fl != 0 { // a dot or an escape: flattened variants may match
		tape[cur].flags |= fDotted
		fl &= fEscaped
	}
	tape, nd = push(tape)
	nd.start = uint32(i + 1)
	nd.end = uint32(end)
	nd.next = uint32(len(tape)) // its value
	nd.kind = kKey
	nd.flags = fl
	i = end + 1
	if b[i] <= ' ' {
		i = skipWS(b, i)
	}
	if b[i] != ':' {
		return i, false
	}
	i++
	if b[i] <= ' ' {
		i = skipWS(b, i)
	}
	goto value
}

// push appends a node to tape, to be filled in field by field (a composite
// literal would be built on the stack and copied, stalling on the partial
// writes).
func push(tape []node) ([]node, *node) {
	k := len(tape)
	if k == cap(tape) {
		tape = slices.Grow(tape, 1)
	}
	tape = tape[:k+1]
	return tape, &tape[k]
}

func skipWS(b []byte, i int) int {
	for {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
}

// Lookup appends to dst every leaf value found at path p and returns it.
// found reports whether the field exists at all, even if it is null or an
// empty array. Resolution follows Elasticsearch's _source extraction: every
// split of the dotted name into nested or flattened keys is tried (nested
// first) and all matches are returned; arrays at any level are flattened.
// JSON null yields a Null value, an object leaf an Object value. When an
// object repeats a key, only its first occurrence counts.
func (d *Doc) Lookup(p *Path, dst []Value) (vals []Value, found bool) {
	if j, ok := d.direct(p); ok {
		if j == 0 {
			return dst, false
		}
		if n := &d.tape[j]; n.kind != kArray {
			return d.appendScalar(dst, n), true
		}
		return d.appendArray(dst, j), true
	}
	w := walker{doc: d, tape: d.tape, keys: p.keys, dst: dst}
	w.object(0, 0)
	return w.dst, w.found
}

// Values is Lookup with the result kept for the rest of this document: the
// next call for a path of the same name returns it without a walk. The
// slice is shared and must not be modified; it is valid until the next
// Parse, like the Doc.
func (d *Doc) Values(p *Path) (vals []Value, found bool) {
	if int(p.id) >= len(d.slots) {
		d.slots = append(d.slots, make([]valueSlot, int(p.id)+16-len(d.slots))...)
	}
	sl := &d.slots[p.id]
	if sl.gen == d.gen {
		return d.cvals[sl.start:sl.end:sl.end], sl.found
	}
	start := len(d.cvals)
	d.cvals, found = d.Lookup(p, d.cvals)
	*sl = valueSlot{gen: d.gen, start: uint32(start), end: uint32(len(d.cvals)), found: found}
	return d.cvals[start:len(d.cvals):len(d.cvals)], found
}

// First returns the first non-null leaf at path p in Lookup order, and
// whether there is one.
func (d *Doc) First(p *Path) (Value, bool) {
	w := walker{doc: d, tape: d.tape, keys: p.keys, first: true}
	if j, ok := d.direct(p); ok {
		if j == 0 {
			return Value{}, false
		}
		if n := &d.tape[j]; n.kind != kArray {
			return d.scalar(n), n.kind != kNull
		}
		w.leaf(j)
		return w.res, w.got
	}
	w.object(0, 0)
	return w.res, w.got
}

// direct resolves p in the common case where every object on the way has
// only plain keys (no '.', no escapes), so that only the nested form can
// match and at most one value is found. It returns the tape index of that
// value, or 0 if there is none; ok is false when an object with dotted keys
// or an array on the way needs the general walker.
func (d *Doc) direct(p *Path) (j uint32, ok bool) {
	t := d.tape
	if len(t) == 0 {
		return 0, true
	}
	start := 0
	if p.root != nil {
		// The first step is shared by every path under the same top-level
		// key ("process.name", "process.args", ...): done once per document.
		if int(p.root.id) >= len(d.roots) {
			d.roots = append(d.roots, make([]rootSlot, int(p.root.id)+16-len(d.roots))...)
		}
		rs := &d.roots[p.root.id]
		if rs.gen != d.gen {
			rj, rok := d.step(p.root, 0, 0)
			*rs = rootSlot{gen: d.gen, j: rj, ok: rok}
		}
		if !rs.ok || rs.j == 0 {
			return 0, rs.ok
		}
		j, start = rs.j, 1
	}
	for i := start; i < len(p.keys); i++ {
		if j, ok = d.step(p, i, j); !ok || j == 0 {
			return 0, ok
		}
	}
	return j, true
}

// step finds key i of p in the object at tape index j: the value's index,
// 0 when it is absent, ok false when the general walker is needed.
func (d *Doc) step(p *Path, i int, j uint32) (uint32, bool) {
	t, buf := d.tape, d.buf
	{
		variants := p.keys[i]
		o := &t[j]
		if o.kind != kObject || o.flags&fDotted != 0 {
			// A scalar on the way has no fields.
			return 0, o.kind != kArray && o.kind != kObject
		}
		key, head := variants[0], p.heads[i]
		n := uint32(len(key))
		mask := ^uint64(0)
		if n < 8 {
			mask = 1<<(8*n) - 1
		}
		m, end := j+1, o.next
		for ; m < end; m = t[m+1].next {
			// Keys here are unescaped, so they are the raw bytes; the
			// padding after the line makes the 8-byte load safe.
			if kn := &t[m]; kn.end-kn.start == n && le64(buf[kn.start:])&mask == head &&
				(n <= 8 || string(buf[kn.start+8:kn.end]) == key[8:]) {
				break
			}
		}
		if m >= end {
			return 0, true
		}
		return m + 1, true
	}
}

// walker carries one Lookup/First traversal; a struct keeps the recursive
// calls cheap and lets it live on the stack.
type walker struct {
	doc   *Doc
	tape  []node
	keys  [][]string
	found bool
	dst   []Value
	first bool // First mode: keep only the first non-null leaf in res
	got   bool
	res   Value
}

// object continues the path at depth i in the object at tape index j.
func (w *walker) object(j uint32, i int) {
	variants := w.keys[i]
	if len(variants) == 1 || w.tape[j].flags&fDotted == 0 {
		// Only the nested form can match.
		if m := w.doc.find(j, variants[0]); m != 0 {
			w.member(m+1, i+1)
		}
		return
	}
	if len(variants) > maxVariants {
		for k, key := range variants {
			if m := w.doc.find(j, key); m != 0 {
				w.member(m+1, i+k+1)
				if w.got {
					return
				}
			}
		}
		return
	}
	// One pass over the keys finds the first occurrence of every variant.
	// Each variant is a prefix of the longest one, ending where it has a
	// '.' (every '.' in it separates segments), so a key is a variant iff
	// it is such a prefix.
	var at [maxVariants]uint32
	long := variants[len(variants)-1]
	t := w.tape
	buf := w.doc.buf
	for m, end := j+1, t[j].next; m < end; m = t[m+1].next {
		kn := &t[m]
		var n int
		if kn.flags == 0 {
			n = int(kn.end - kn.start)
			if n > len(long) || n < len(long) && long[n] != '.' || string(buf[kn.start:kn.end]) != long[:n] {
				continue
			}
		} else {
			key := w.doc.text(kn)
			n = len(key)
			if n > len(long) || n < len(long) && long[n] != '.' || key != long[:n] {
				continue
			}
		}
		for k := range variants {
			if len(variants[k]) == n {
				if at[k] == 0 {
					at[k] = m
				}
				break
			}
		}
	}
	for k, m := range at[:len(variants)] {
		if m != 0 {
			w.member(m+1, i+k+1)
			if w.got {
				return
			}
		}
	}
}

// maxVariants bounds the per-object array of walker.object; longer paths
// take one pass per variant.
const maxVariants = 8

// member continues the path at depth i in the value at tape index j, where
// an object key matched.
func (w *walker) member(j uint32, i int) {
	if i == len(w.keys) {
		w.found = true
		w.leaf(j)
	} else {
		w.descend(j, i)
	}
}

// find returns the tape index of the first key in the object at j that
// equals key, or 0.
func (d *Doc) find(j uint32, key string) uint32 {
	t, buf := d.tape, d.buf
	for m, end := j+1, t[j].next; m < end; m = t[m+1].next {
		kn := &t[m]
		if kn.flags == 0 {
			if int(kn.end-kn.start) == len(key) && string(buf[kn.start:kn.end]) == key {
				return m
			}
		} else if d.text(kn) == key {
			return m
		}
	}
	return 0
}

// descend continues the path at depth i inside the value at j; scalars end
// the search (they have no fields), arrays are searched element by element.
func (w *walker) descend(j uint32, i int) {
	t := w.tape
	switch t[j].kind {
	case kObject:
		w.object(j, i)
	case kArray:
		for e, end := j+1, t[j].next; e < end; e = t[e].next {
			w.descend(e, i)
			if w.got {
				return
			}
		}
	}
}

// appendArray appends the leaves of the array at tape index j to dst.
func (d *Doc) appendArray(dst []Value, j uint32) []Value {
	t := d.tape
	for e, end := j+1, t[j].next; e < end; e = t[e].next {
		if n := &t[e]; n.kind != kArray {
			dst = d.appendScalar(dst, n)
		} else {
			dst = d.appendArray(dst, e)
		}
	}
	return dst
}

// leaf collects the value at tape index j, where the path ends.
func (w *walker) leaf(j uint32) {
	t := w.tape
	switch n := &t[j]; {
	case !w.first && n.kind == kArray:
		w.dst = w.doc.appendArray(w.dst, j)
	case !w.first:
		w.dst = w.doc.appendScalar(w.dst, n)
	case n.kind == kArray:
		for e, end := j+1, n.next; e < end; e = t[e].next {
			if w.leaf(e); w.got {
				return
			}
		}
	case n.kind != kNull:
		w.res, w.got = w.doc.scalar(n), true
	}
}

// appendScalar appends the Value of n, which is not an array, to dst. It
// sets the new element field by field: append(dst, d.scalar(n)) would build
// the Value in a temporary and copy it with wide loads that stall on the
// narrow stores just made.
func (d *Doc) appendScalar(dst []Value, n *node) []Value {
	k := len(dst)
	if k == cap(dst) {
		dst = slices.Grow(dst, 1)
	}
	dst = dst[:k+1]
	v := &dst[k]
	v.B, v.I, v.F = false, 0, 0
	switch n.kind {
	case kString:
		// Aliases the Doc's buffers: no copy per lookup.
		v.Kind, v.S = String, d.text(n)
		return dst
	case kNumber:
		v.Kind, v.I, v.F = parseNumber(d.buf[n.start:n.end])
	case kTrue:
		v.Kind, v.B = Bool, true
	case kFalse:
		v.Kind = Bool
	case kObject:
		v.Kind = Object
	default:
		v.Kind = Null
	}
	v.S = ""
	return dst
}

// scalar returns the Value of a node that is not an array.
func (d *Doc) scalar(n *node) Value {
	switch n.kind {
	case kString:
		// Aliases the Doc's buffers: no copy per lookup.
		return Value{Kind: String, S: d.text(n)}
	case kNumber:
		k, i, f := parseNumber(d.buf[n.start:n.end])
		return Value{Kind: k, I: i, F: f}
	case kTrue:
		return Value{Kind: Bool, B: true}
	case kFalse:
		return Value{Kind: Bool}
	case kObject:
		return Value{Kind: Object}
	}
	return Value{Kind: Null}
}

// text returns the decoded text of a string or key node, aliasing buf or
// arena. Escaped text is decoded on first use and the node is repointed at
// the decoded copy, so each string is decoded at most once per Parse.
func (d *Doc) text(n *node) string {
	if n.flags == 0 { // the common case, kept small enough to inline
		return unsafe.String(&d.buf[n.start], int(n.end-n.start))
	}
	return d.decoded(n)
}

func (d *Doc) decoded(n *node) string {
	if n.flags&fEscaped != 0 {
		start := len(d.arena)
		d.arena = unescape(d.arena, d.buf[n.start:n.end])
		n.start, n.end = uint32(start), uint32(len(d.arena))
		n.flags = n.flags&^fEscaped | fArena
	}
	b := d.buf
	if n.flags&fArena != 0 {
		b = d.arena
	}
	if n.start == n.end {
		return ""
	}
	// Strings alias the Doc's buffers; an arena that grows later leaves
	// them on the old array, which stays alive and unchanged.
	return unsafe.String(&b[n.start], int(n.end-n.start))
}

// parseNumber converts a validated JSON number literal: Int when it has no
// fraction or exponent and fits int64 (Elasticsearch long), else Float.
func parseNumber(b []byte) (Kind, int64, float64) {
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
		return Int, int64(u), 0
	case neg && u <= 1<<63:
		return Int, int64(-u), 0 // -u wraps to the right two's complement, MinInt64 included
	}
	return parseFloat(b)
}

func parseFloat(b []byte) (Kind, int64, float64) {
	// Out-of-range literals come back as ±Inf (or 0), as Jackson reads them;
	// the range error is not a syntax error.
	f, _ := strconv.ParseFloat(unsafe.String(unsafe.SliceData(b), len(b)), 64)
	return Float, 0, f
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
