package event

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/bits"
)

// maxNesting bounds object/array nesting. It keeps every recursion in
// scanner and in Lookup shallow.
const maxNesting = 256

// SyntaxError reports input that is not acceptable JSON.
type SyntaxError struct {
	Offset int // byte offset into the data given to Parse/SplitArray; -1 if unknown
	Msg    string
}

func (e *SyntaxError) Error() string {
	if e.Offset < 0 {
		return "invalid JSON: " + e.Msg
	}
	return fmt.Sprintf("invalid JSON at byte %d: %s", e.Offset, e.Msg)
}

// scanner is a strict RFC 8259 validator with precise error messages. It
// validates SplitArray input, and explains documents that Parse's one-pass
// parser (Doc.build, which accepts exactly the same language) rejected.
// Bytes >= 0x80 in strings are passed through unchecked: dropping a log
// event over a bad UTF-8 byte would hide it from detection.
type scanner struct {
	data  []byte
	pos   int
	depth int
}

func (s *scanner) errorf(off int, format string, args ...any) error {
	return &SyntaxError{Offset: off, Msg: fmt.Sprintf(format, args...)}
}

// skipBOM skips a leading UTF-8 byte order mark, which Windows tools write.
func (s *scanner) skipBOM() {
	if bytes.HasPrefix(s.data[s.pos:], []byte("\xef\xbb\xbf")) {
		s.pos += 3
	}
}

func (s *scanner) skipWS() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// describe names the JSON value starting at s.pos, for error messages.
func (s *scanner) describe() string {
	if s.pos >= len(s.data) {
		return "end of input"
	}
	switch c := s.data[s.pos]; {
	case c == '{':
		return "an object"
	case c == '[':
		return "an array"
	case c == '"':
		return "a string"
	case c == 't' || c == 'f':
		return "a boolean"
	case c == 'n':
		return "null"
	case c == '-' || (c >= '0' && c <= '9'):
		return "a number"
	default:
		return fmt.Sprintf("character %q", c)
	}
}

// topObject validates a whole document that must be one object and returns
// the offset where the object starts.
func (s *scanner) topObject() (int, error) {
	s.skipBOM()
	s.skipWS()
	if s.pos >= len(s.data) {
		return 0, s.errorf(s.pos, "empty document")
	}
	if s.data[s.pos] != '{' {
		return 0, s.errorf(s.pos, "top-level value is %s, want an object", s.describe())
	}
	start := s.pos
	if err := s.value(); err != nil {
		return 0, err
	}
	return start, s.end("object")
}

// end checks that only whitespace follows the top-level value.
func (s *scanner) end(what string) error {
	s.skipWS()
	if s.pos < len(s.data) {
		return s.errorf(s.pos, "unexpected %s after top-level %s", s.describe(), what)
	}
	return nil
}

func (s *scanner) value() error {
	if s.pos >= len(s.data) {
		return s.errorf(s.pos, "unexpected end of input, want a value")
	}
	switch c := s.data[s.pos]; c {
	case '{':
		return s.object()
	case '[':
		return s.array()
	case '"':
		return s.str()
	case 't':
		return s.literal("true")
	case 'f':
		return s.literal("false")
	case 'n':
		return s.literal("null")
	default:
		if c == '-' || (c >= '0' && c <= '9') {
			return s.number()
		}
		return s.errorf(s.pos, "unexpected character %q, want a value", c)
	}
}

func (s *scanner) enter() error {
	s.depth++
	if s.depth > maxNesting {
		return s.errorf(s.pos, "nesting deeper than %d levels", maxNesting)
	}
	return nil
}

func (s *scanner) object() error {
	if err := s.enter(); err != nil {
		return err
	}
	s.pos++ // '{'
	s.skipWS()
	if s.pos < len(s.data) && s.data[s.pos] == '}' {
		s.pos++
		s.depth--
		return nil
	}
	for {
		if s.pos >= len(s.data) {
			return s.errorf(s.pos, "unexpected end of input in object, want a key")
		}
		if s.data[s.pos] != '"' {
			return s.errorf(s.pos, "unexpected %s, want an object key string", s.describe())
		}
		if err := s.str(); err != nil {
			return err
		}
		s.skipWS()
		if s.pos >= len(s.data) || s.data[s.pos] != ':' {
			return s.errorf(s.pos, "unexpected %s after object key, want ':'", s.describe())
		}
		s.pos++
		s.skipWS()
		if err := s.value(); err != nil {
			return err
		}
		s.skipWS()
		if s.pos >= len(s.data) {
			return s.errorf(s.pos, "unexpected end of input in object, want ',' or '}'")
		}
		switch s.data[s.pos] {
		case ',':
			s.pos++
			s.skipWS()
		case '}':
			s.pos++
			s.depth--
			return nil
		default:
			return s.errorf(s.pos, "unexpected %s after object value, want ',' or '}'", s.describe())
		}
	}
}

func (s *scanner) array() error {
	if err := s.enter(); err != nil {
		return err
	}
	s.pos++ // '['
	s.skipWS()
	if s.pos < len(s.data) && s.data[s.pos] == ']' {
		s.pos++
		s.depth--
		return nil
	}
	for {
		if err := s.value(); err != nil {
			return err
		}
		s.skipWS()
		if s.pos >= len(s.data) {
			return s.errorf(s.pos, "unexpected end of input in array, want ',' or ']'")
		}
		switch s.data[s.pos] {
		case ',':
			s.pos++
			s.skipWS()
		case ']':
			s.pos++
			s.depth--
			return nil
		default:
			return s.errorf(s.pos, "unexpected %s after array element, want ',' or ']'", s.describe())
		}
	}
}

func (s *scanner) literal(lit string) error {
	if !bytes.HasPrefix(s.data[s.pos:], []byte(lit)) {
		return s.errorf(s.pos, "invalid literal, want %q", lit)
	}
	s.pos += len(lit)
	return nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func (s *scanner) number() error {
	d, i := s.data, s.pos
	start := i
	if d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
		if i < len(d) && isDigit(d[i]) {
			return s.errorf(start, "invalid number: leading zero")
		}
	case i < len(d) && isDigit(d[i]):
		for i < len(d) && isDigit(d[i]) {
			i++
		}
	default:
		return s.errorf(start, "invalid number: want a digit after '-'")
	}
	if i < len(d) && d[i] == '.' {
		i++
		if i >= len(d) || !isDigit(d[i]) {
			return s.errorf(start, "invalid number: want a digit after '.'")
		}
		for i < len(d) && isDigit(d[i]) {
			i++
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if i >= len(d) || !isDigit(d[i]) {
			return s.errorf(start, "invalid number: want a digit in exponent")
		}
		for i < len(d) && isDigit(d[i]) {
			i++
		}
	}
	s.pos = i
	return nil
}

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// specialMask flags (in bit 7 of each byte) the bytes of the little-endian
// word x that are '"', '\\' or control characters (< 0x20). Borrows only
// corrupt flags above the first real hit, so the lowest flag is exact; the
// word-at-a-time scan makes long command lines cheap to validate.
func specialMask(x uint64) uint64 {
	q := x ^ (lsb * '"')
	b := x ^ (lsb * '\\')
	return ((x-lsb*0x20)&^x | (q-lsb)&^q | (b-lsb)&^b) & msb
}

func isSpecial(c byte) bool { return c < 0x20 || c == '"' || c == '\\' }

// str validates a string starting at the opening quote at s.pos.
func (s *scanner) str() error {
	d := s.data
	start := s.pos
	i := start + 1
	for {
		if i+8 <= len(d) {
			m := specialMask(binary.LittleEndian.Uint64(d[i:]))
			if m == 0 {
				i += 8
				continue
			}
			i += bits.TrailingZeros64(m) >> 3
		} else {
			for i < len(d) && !isSpecial(d[i]) {
				i++
			}
			if i >= len(d) {
				return s.errorf(start, "unterminated string")
			}
		}
		switch c := d[i]; {
		case c == '"':
			s.pos = i + 1
			return nil
		case c == '\\':
			if i+1 >= len(d) {
				return s.errorf(start, "unterminated string")
			}
			switch d[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(d) {
					return s.errorf(i, "truncated \\u escape in string")
				}
				if _, ok := hex4(d[i+2:]); !ok {
					return s.errorf(i, "invalid \\u escape in string: %q", d[i:i+6])
				}
				i += 6
			default:
				return s.errorf(i, "invalid escape %q in string", d[i:i+2])
			}
		default: // c < 0x20
			return s.errorf(i, "control character %#02x in string must be escaped", c)
		}
	}
}

// hex4 decodes the 4 hex digits at the start of b.
func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

func isSurrogate(r rune) bool { return r >= 0xd800 && r < 0xe000 }

// lowSurrogateAt reports whether high surrogate r is completed by a
// "\uDCxx" escape at d[i:], and that escape's length.
func lowSurrogateAt(d []byte, i int, r rune) (int, bool) {
	if r >= 0xdc00 || i+6 > len(d) || d[i] != '\\' || d[i+1] != 'u' {
		return 0, false
	}
	r2, ok := hex4(d[i+2:])
	return 6, ok && r2 >= 0xdc00 && r2 < 0xe000
}
