package eql

import (
	"strconv"
	"testing"

	"github.com/vigilsec/vigil/event"
)

// longestLiteral gives the first longest fragment that compiling the
// pattern lists.
func FuzzLongestLiteral(f *testing.F) {
	for _, s := range []string{"", "*", "?", "a", "*a*", "ab*cd?efg", "**x??yy*", "C:\\\\Windows\\\\*.exe", "é*\xff?zz", "abc", "*abc", "a*bc*def*gh"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, pattern string) {
		want := ""
		for _, frag := range CompileWildcard(pattern, false).Literals() {
			if len(frag) > len(want) {
				want = frag
			}
		}
		if got := longestLiteral(pattern); got != want {
			t.Fatalf("%q: %q, want %q", pattern, got, want)
		}
	})
}

// parseNumericOracle is parseNumeric as first written (ParseInt tried on
// every string).
func parseNumericOracle(s string) (event.Value, bool) {
	if s == "" {
		return event.Value{}, false
	}
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return event.IntValue(i), true
	}
	c := s[0]
	if !(c >= '0' && c <= '9') && c != '-' && c != '+' && c != '.' {
		return event.Value{}, false
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return event.FloatValue(f), true
	}
	return event.Value{}, false
}

func FuzzParseNumeric(f *testing.F) {
	for _, s := range []string{"", "0", "-0", "+5", "12", "-", "+", "1.5", ".5", "1e3", "9223372036854775807", "9223372036854775808", "-9223372036854775809", "0x10", "1_000", "Infinity", "+Inf", "-NaN", "abc", "1.2.3.4", "٣"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, gok := parseNumeric(s)
		want, wok := parseNumericOracle(s)
		if gok != wok || got.Kind != want.Kind || got.I != want.I || !(got.F == want.F || got.F != got.F && want.F != want.F) {
			t.Fatalf("%q: %v %v, want %v %v", s, got, gok, want, wok)
		}
	})
}
