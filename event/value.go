// Package event owns one decoded document: field lookup by compiled path
// (nested objects and dotted keys alike, as Elasticsearch resolves them),
// multi-valued fields and the scalar Value model shared by the engine.
package event

import (
	"math"
	"strconv"
)

// Kind is the type of a scalar value.
type Kind uint8

const (
	Null Kind = iota // explicit JSON null, or the result of a null operation
	Bool
	Int   // JSON integer that fits int64 (Elasticsearch long)
	Float // any other JSON number (Elasticsearch double)
	String
	Object // a JSON object leaf (only reported so that "exists" checks see it)
)

// Value is one scalar. S may alias a parser buffer: it is valid until the
// next Parse on the same Parser unless it was copied with Clone.
type Value struct {
	Kind Kind
	B    bool
	I    int64
	F    float64
	S    string
}

func NullValue() Value           { return Value{} }
func BoolValue(b bool) Value     { return Value{Kind: Bool, B: b} }
func IntValue(i int64) Value     { return Value{Kind: Int, I: i} }
func FloatValue(f float64) Value { return Value{Kind: Float, F: f} }
func StringValue(s string) Value { return Value{Kind: String, S: s} }

// IsNull reports whether v is null.
func (v Value) IsNull() bool { return v.Kind == Null }

// Num returns the value as a float64 and whether it is numeric.
func (v Value) Num() (float64, bool) {
	switch v.Kind {
	case Int:
		return float64(v.I), true
	case Float:
		return v.F, true
	}
	return 0, false
}

// Clone returns v with its string copied out of any parser buffer.
func (v Value) Clone() Value {
	if v.Kind == String {
		v.S = string([]byte(v.S))
	}
	return v
}

// String renders v the way Elasticsearch renders a value as text
// (join keys, string() and concat()).
func (v Value) String() string {
	switch v.Kind {
	case Null:
		return "null"
	case Bool:
		return strconv.FormatBool(v.B)
	case Int:
		return strconv.FormatInt(v.I, 10)
	case Float:
		return FormatDouble(v.F)
	case String:
		return v.S
	case Object:
		return "{}"
	}
	return ""
}

// FormatDouble renders a double as Java's Double.toString does for the
// common range ("7.5", "41.0", "1.0E10"), which is what ES prints.
func FormatDouble(f float64) string {
	if math.IsNaN(f) {
		return "NaN"
	}
	if math.IsInf(f, 1) {
		return "Infinity"
	}
	if math.IsInf(f, -1) {
		return "-Infinity"
	}
	a := math.Abs(f)
	if a == 0 || (a >= 1e-3 && a < 1e7) {
		s := strconv.FormatFloat(f, 'f', -1, 64)
		for i := 0; i < len(s); i++ {
			if s[i] == '.' {
				return s
			}
		}
		return s + ".0"
	}
	s := strconv.FormatFloat(f, 'E', -1, 64)
	// Java writes 1.0E10, Go 1E+10.
	mant, exp := s, ""
	for i := 0; i < len(s); i++ {
		if s[i] == 'E' {
			mant, exp = s[:i], s[i+1:]
			break
		}
	}
	hasDot := false
	for i := 0; i < len(mant); i++ {
		if mant[i] == '.' {
			hasDot = true
		}
	}
	if !hasDot {
		mant += ".0"
	}
	if len(exp) > 0 && exp[0] == '+' {
		exp = exp[1:]
	}
	return mant + "E" + exp
}
