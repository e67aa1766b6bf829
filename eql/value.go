package eql

import (
	"cmp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/vigilsec/vigil/event"
)

// Value semantics shared by comparisons, in, functions and join keys.
// ES compares keywords as UTF-8 bytes (BytesRef order), numbers
// numerically, and coerces a string literal to a number (or the reverse)
// when the field is numeric; schemaless, we coerce by the values' kinds.

// compareValues orders a and b. ok is false when they are not comparable
// (null involved, or kinds that cannot be coerced).
func compareValues(a, b event.Value) (c int, ok bool) {
	if a.Kind == event.Null || b.Kind == event.Null {
		return 0, false
	}
	switch a.Kind {
	case event.Int:
		switch b.Kind {
		case event.Int:
			return cmp.Compare(a.I, b.I), true
		case event.Float:
			return cmpFloat(float64(a.I), b.F), true
		case event.String:
			if n, ok := parseNumeric(b.S); ok {
				return compareValues(a, n)
			}
			return strings.Compare(a.String(), b.S), true
		}
	case event.Float:
		switch b.Kind {
		case event.Int:
			return cmpFloat(a.F, float64(b.I)), true
		case event.Float:
			return cmpFloat(a.F, b.F), true
		case event.String:
			if n, ok := parseNumeric(b.S); ok {
				return compareValues(a, n)
			}
			return strings.Compare(a.String(), b.S), true
		}
	case event.String:
		switch b.Kind {
		case event.String:
			return strings.Compare(a.S, b.S), true
		case event.Int, event.Float:
			c, ok := compareValues(b, a)
			return -c, ok
		case event.Bool:
			return strings.Compare(a.S, b.String()), true
		}
	case event.Bool:
		switch b.Kind {
		case event.Bool:
			return cmpBool(a.B, b.B), true
		case event.String:
			return strings.Compare(a.String(), b.S), true
		}
	}
	return 0, false
}

// equalFold reports case-insensitive equality of a and b (the ":" and in~
// operators on non-pattern values).
func equalFold(a, b event.Value) bool {
	if a.Kind == event.String && b.Kind == event.String {
		return strings.EqualFold(a.S, b.S)
	}
	c, ok := compareValues(a, b)
	return ok && c == 0
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case !a:
		return -1
	}
	return 1
}

// parseNumeric reads a decimal integer or float.
func parseNumeric(s string) (event.Value, bool) {
	if s == "" {
		return event.Value{}, false
	}
	c := s[0]
	if !(c >= '0' && c <= '9') && c != '-' && c != '+' && c != '.' {
		return event.Value{}, false // keeps "Infinity"/"NaN" words out (and no integer starts so)
	}
	// ParseInt only for what it can read (its errors allocate): a sign,
	// then decimal digits.
	if decimalDigits(s) {
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return event.IntValue(i), true
		}
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return event.FloatValue(f), true
	}
	return event.Value{}, false
}

// decimalDigits reports s = [+-]?[0-9]+.
func decimalDigits(s string) bool {
	if s != "" && (s[0] == '+' || s[0] == '-') {
		s = s[1:]
	}
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// truthy is the predicate-level reading of a value: only true is true.
func truthy(v event.Value) bool { return v.Kind == event.Bool && v.B }

// javaLength counts UTF-16 code units, as Java's String.length does.
func javaLength(s string) int {
	n := 0
	for _, r := range s {
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	return n
}

// toLowerASCIIFast lowercases s into buf when s is ASCII (no allocation
// beyond buf growth); otherwise falls back to strings.ToLower.
func lowerInto(buf []byte, s string) ([]byte, string) {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			l := strings.ToLower(s)
			return buf, l
		}
	}
	buf = buf[:0]
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf = append(buf, c)
	}
	return buf, unsafeString(buf)
}
