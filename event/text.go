package event

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"unicode/utf8"
)

// The string scanners below run on Doc.buf, whose zero padding guarantees
// that every load stays in bounds: a scan stops at the first NUL at the
// latest, and loads at most 8 bytes from a position before it.

func le32(b []byte) uint32 { return binary.LittleEndian.Uint32(b) }
func le64(b []byte) uint64 { return binary.LittleEndian.Uint64(b) }

// dotMask flags the '.' bytes of x, exact up to the first one (see
// specialMask).
func dotMask(x uint64) uint64 {
	d := x ^ (lsb * '.')
	return (d - lsb) &^ d & msb
}

// scanString scans string content starting at b[i], just after the opening
// quote. It returns the offset of the closing quote and fEscaped if the
// content holds escapes, or on invalid input the offset where it stopped.
func scanString(b []byte, i int) (int, uint8, bool) {
	var fl uint8
	for {
		m := specialMask(le64(b[i:]))
		if m == 0 {
			i += 8
			continue
		}
		i += bits.TrailingZeros64(m) >> 3
		switch b[i] {
		case '"':
			return i, fl, true
		case '\\':
			fl = fEscaped
			if i = escape(b, i); i < 0 {
				return -i, 0, false
			}
		default: // a control character, or the padding after the input
			return i, 0, false
		}
	}
}

// scanKey is scanString for object keys; its flag result is non-zero also
// when the key contains a '.'.
func scanKey(b []byte, i int) (int, uint8, bool) {
	for {
		x := le64(b[i:])
		m := specialMask(x) | dotMask(x)
		if m == 0 {
			i += 8
			continue
		}
		i += bits.TrailingZeros64(m) >> 3
		switch b[i] {
		case '"':
			return i, 0, true
		case '.':
			end, fl, ok := scanString(b, i+1)
			return end, fl | fDotted, ok
		case '\\':
			if i = escape(b, i); i < 0 {
				return -i, 0, false
			}
			end, _, ok := scanString(b, i)
			return end, fEscaped, ok
		default:
			return i, 0, false
		}
	}
}

// escape validates the escape sequence at b[i] == '\\' and returns the
// offset after it, or -i if it is invalid.
func escape(b []byte, i int) int {
	switch b[i+1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return i + 2
	case 'u':
		if _, ok := hex4(b[i+2:]); ok {
			return i + 6
		}
	}
	return -i
}

// unescape appends the decoded content of a validated JSON string to dst.
// Unpaired UTF-16 surrogates become U+FFFD (as encoding/json does, without
// swallowing the escape that follows); other bytes, invalid UTF-8
// included, are copied as they are.
func unescape(dst, s []byte) []byte {
	for {
		k := bytes.IndexByte(s, '\\')
		if k < 0 {
			return append(dst, s...)
		}
		dst = append(dst, s[:k]...)
		c := s[k+1]
		s = s[k+2:]
		switch c {
		case 'u':
			r, _ := hex4(s)
			s = s[4:]
			if isSurrogate(r) {
				if _, paired := lowSurrogateAt(s, 0, r); paired {
					r2, _ := hex4(s[2:])
					r = 0x10000 + (r-0xd800)<<10 + (r2 - 0xdc00)
					s = s[6:]
				} else {
					r = utf8.RuneError
				}
			}
			dst = utf8.AppendRune(dst, r)
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		default: // '"', '\\', '/'
			dst = append(dst, c)
		}
	}
}
