package evtx

import (
	"encoding/binary"
	"unicode/utf8"
	"unsafe"
)

// The parser builds records in arenas that are reused: a record's elements,
// child lists, attributes, values, strings and byte values are cut from
// slices that are reset for the next record (and template data from slices
// reset for the next chunk), instead of being allocated one by one (which
// cost some 85 allocations per record, and most of the reader's time). Next
// then either copies the finished record out in a few exactly sized
// allocations (Record.Clone), or, with Reader.Reuse, returns it as is.

// pool hands out pieces of a slice that is reused from its start after reset.
// When it is full a larger slice replaces it; pieces already handed out stay
// valid (they keep the old slice alive) until the owner's lifetime ends.
type pool[T any] struct {
	buf []T
}

// take returns n zero values of T with capacity n (so that an append by the
// caller cannot overwrite the next piece).
func (s *pool[T]) take(n, size int) []T {
	if n == 0 {
		return nil
	}
	if cap(s.buf)-len(s.buf) < n {
		s.buf = make([]T, 0, max(size, 2*cap(s.buf), n))
	}
	i := len(s.buf)
	s.buf = s.buf[:i+n]
	out := s.buf[i : i+n : i+n]
	clear(out)
	return out
}

// takeRaw is take without zeroing, for callers that set every element:
// clearing memory that holds pointers costs write barriers while the
// garbage collector runs.
func (s *pool[T]) takeRaw(n, size int) []T {
	if n == 0 {
		return nil
	}
	if cap(s.buf)-len(s.buf) < n {
		s.buf = make([]T, 0, max(size, 2*cap(s.buf), n))
	}
	i := len(s.buf)
	s.buf = s.buf[:i+n]
	return s.buf[i : i+n : i+n]
}

// reset makes the pool's memory reusable. A slice grown past maxKeep items by
// an exceptional record is dropped rather than kept for the reader's life.
func (s *pool[T]) reset() {
	if cap(s.buf) > maxKeep {
		s.buf = nil
	}
	s.buf = s.buf[:0]
}

// maxKeep bounds, in items, the pool slices kept across records and chunks
// (and maxKeepBytes the text slab): a few MiB.
const (
	maxKeep      = 1 << 15
	maxKeepBytes = 4 << 20
)

// Initial pool sizes, in items.
const (
	elemPool  = 128
	ptrPool   = 256
	attrPool  = 64
	valuePool = 256
	bytePool  = 16 << 10
)

// arena is memory for one record (or for one chunk's templates).
type arena struct {
	elems slab
	ptrs  pool[*Element]
	attrs pool[Attr]
	vals  pool[Value]
	comps pool[compound]
	bytes []byte // len = bytes used
}

// slab is the element pool (a named type keeps the generic instantiation
// out of hot call sites' inlining budget).
type slab = pool[Element]

func (a *arena) reset() {
	a.elems.reset()
	a.ptrs.reset()
	a.attrs.reset()
	a.vals.reset()
	a.comps.reset()
	if cap(a.bytes) > maxKeepBytes {
		a.bytes = nil
	}
	a.bytes = a.bytes[:0]
}

func (a *arena) rawElement() *Element      { return &a.elems.takeRaw(1, elemPool)[0] } // caller sets it
func (a *arena) values(n int) []Value      { return a.vals.takeRaw(n, valuePool) }     // callers set them all
func (a *arena) compound() *compound       { return &a.comps.take(1, 16)[0] }
func (a *arena) elemPtrs(n int) []*Element { return a.ptrs.takeRaw(n, ptrPool) } // callers set them all

// reserve makes room for n more bytes and returns the byte slice (to its
// capacity) and the offset where they start.
func (a *arena) reserve(n int) ([]byte, int) {
	if cap(a.bytes)-len(a.bytes) < n {
		a.bytes = make([]byte, 0, max(bytePool, 2*cap(a.bytes), n))
	}
	return a.bytes[:cap(a.bytes)], len(a.bytes)
}

// copyBytes returns a copy of b in the arena (capacity-limited, like take).
func (a *arena) copyBytes(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	buf, i := a.reserve(len(b))
	copy(buf[i:], b)
	a.bytes = buf[:i+len(b)]
	return buf[i : i+len(b) : i+len(b)]
}

// str returns a copy of s in the arena.
func (a *arena) str(s string) string {
	if len(s) == 0 {
		return ""
	}
	buf, i := a.reserve(len(s))
	copy(buf[i:], s)
	a.bytes = buf[:i+len(s)]
	return unsafe.String(&buf[i], len(s))
}

// utf16 decodes UTF-16LE text into the arena; unpaired surrogates become
// U+FFFD (as unicode/utf16.Decode does).
func (a *arena) utf16(b []byte) string {
	n := len(b) / 2
	if n == 0 {
		return ""
	}
	buf, start := a.reserve(3 * n) // a UTF-16 unit is at most 3 bytes of UTF-8; a pair is 4
	o := start
	i := 0
	// ASCII fast path, four code units at a time.
	for ; i+4 <= n; i += 4 {
		w := binary.LittleEndian.Uint64(b[2*i:])
		if w&0xff80ff80ff80ff80 != 0 {
			break
		}
		buf[o] = byte(w)
		buf[o+1] = byte(w >> 16)
		buf[o+2] = byte(w >> 32)
		buf[o+3] = byte(w >> 48)
		o += 4
	}
	for ; i < n; i++ {
		u := rune(binary.LittleEndian.Uint16(b[2*i:]))
		switch {
		case u < 0x80:
			buf[o] = byte(u)
			o++
			continue
		case u >= 0xd800 && u < 0xdc00 && i+1 < n:
			if u2 := rune(binary.LittleEndian.Uint16(b[2*i+2:])); u2 >= 0xdc00 && u2 < 0xe000 {
				o += utf8.EncodeRune(buf[o:], (u-0xd800)<<10|(u2-0xdc00)+0x10000)
				i++
				continue
			}
			u = utf8.RuneError
		case u >= 0xd800 && u < 0xe000:
			u = utf8.RuneError
		}
		o += utf8.EncodeRune(buf[o:], u)
	}
	a.bytes = buf[:o]
	return unsafe.String(&buf[start], o-start)
}

// latin1 decodes single-byte (ANSI) text into the arena as Latin-1.
func (a *arena) latin1(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	buf, start := a.reserve(2 * len(b))
	o := start
	for _, c := range b {
		if c < 0x80 {
			buf[o] = c
			o++
		} else {
			buf[o] = 0xc0 | c>>6
			buf[o+1] = 0x80 | c&0x3f
			o += 2
		}
	}
	a.bytes = buf[:o]
	return unsafe.String(&buf[start], o-start)
}
