package event

import (
	"encoding/binary"
	"math/bits"
	"slices"
	"unicode/utf8"
	"unsafe"
)

// AppendJSONString appends s to b as a JSON string: quotes, backslashes
// and control characters escaped (nothing else: not <, > or &, as
// JSON.stringify), invalid UTF-8 replaced by U+FFFD as encoding/json does,
// so the output is always valid JSON. One encoder for every writer of
// JSON in Vigil (results, alerts, normalised events). Most values are
// ASCII whose only escapes are the backslashes of Windows paths: runs that
// need nothing are skipped eight bytes at a time, and the first byte that
// needs attention in a word is found from its mask.
func AppendJSONString(b []byte, s string) []byte {
	// Most keys and values are short and need no escape: one check of
	// the whole string (two overlapping words from 8 bytes on), then one
	// copy.
	if len(s) <= 16 {
		var m uint64
		if len(s) >= 8 {
			m = special8(load8(s, 0)) | special8(load8(s, len(s)-8))
		} else {
			for i := 0; i < len(s); i++ {
				if jsonSpecial[s[i]] {
					m = 1
					break
				}
			}
		}
		if m == 0 {
			n := len(b)
			if cap(b)-n < len(s)+2 {
				b = slices.Grow(b, len(s)+2)
			}
			b = b[:n+len(s)+2]
			b[n] = '"'
			copy(b[n+1:], s)
			b[n+1+len(s)] = '"'
			return b
		}
	}
	b = append(b, '"')
	start, i := 0, 0
	for {
		for i+8 <= len(s) {
			if m := special8(load8(s, i)); m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				goto found
			}
			i += 8
		}
		if i < len(s) {
			if len(s) >= 8 {
				// The last 1-7 bytes: the word ending the string, whose
				// first bytes (already seen, clean) are masked off.
				m := special8(load8(s, len(s)-8)) &^ (1<<(8*uint(8-(len(s)-i))) - 1)
				if m == 0 {
					break
				}
				i = len(s) - 8 + bits.TrailingZeros64(m)>>3
			} else {
				for i < len(s) && !jsonSpecial[s[i]] {
					i++
				}
				if i == len(s) {
					break
				}
			}
		} else {
			break
		}
	found:
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, s[start:i]...)
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, s[start:i]...)
			switch c {
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hexLower[c>>4], hexLower[c&0xf])
			}
		default: // non-ASCII: kept when valid UTF-8
			r, size := utf8.DecodeRuneInString(s[i:])
			if r != utf8.RuneError || size != 1 {
				i += size
				continue
			}
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		}
		i++
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// load8 reads s[i:i+8] as a little-endian word (the caller checks the
// bounds: one unaligned load instead of eight byte loads).
func load8(s string, i int) uint64 {
	return binary.LittleEndian.Uint64(unsafe.Slice(unsafe.StringData(s[i:]), 8))
}

const hexLower = "0123456789abcdef"

// jsonSpecial marks the bytes AppendJSONString must look at: control characters,
// '"', '\\' and non-ASCII bytes.
var jsonSpecial = func() (t [256]bool) {
	for c := range t {
		t[c] = c < 0x20 || c >= 0x80 || c == '"' || c == '\\'
	}
	return t
}()

// special8 has the high bit set in each byte of the little-endian word x
// that jsonSpecial marks. Bytes above the first marked one may be marked
// wrongly (borrows), the first is exact: callers only use that one.
func special8(x uint64) uint64 {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	ctl := (x - lo*0x20) &^ x // a byte < 0x20
	q := x ^ (lo * '"')
	bs := x ^ (lo * '\\')
	return (ctl | x | (q-lo)&^q | (bs-lo)&^bs) & hi
}
