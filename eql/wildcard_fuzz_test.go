package eql

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

// wcReference builds the obvious regexp for a wildcard pattern. RE2 decodes
// a stray byte as U+FFFD, so it only agrees with Wildcard for valid UTF-8
// patterns without U+FFFD.
func wcReference(pattern string, fold bool) *regexp.Regexp {
	var b strings.Builder
	b.WriteString("(?s")
	if fold {
		b.WriteString("i")
	}
	b.WriteString(")^")
	for _, r := range pattern {
		switch r {
		case '*':
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}

func FuzzWildcard(f *testing.F) {
	for _, c := range wildcardCases {
		for _, s := range append(c.match, c.nomatch...) {
			f.Add(c.pattern, s, c.ins)
		}
	}
	f.Fuzz(func(t *testing.T, pattern, input string, insensitive bool) {
		w := CompileWildcard(pattern, insensitive)
		got := w.Match(input)
		w.Match(pattern)
		if w.IsLiteral() != !strings.ContainsAny(pattern, "*?") {
			t.Fatalf("IsLiteral(%q) wrong", pattern)
		}
		if !utf8.ValidString(pattern) || strings.ContainsRune(pattern, utf8.RuneError) {
			// Check the definition directly: a stray byte matches only itself.
			if w.IsLiteral() && !insensitive && got != (input == pattern) {
				t.Fatalf("literal %q on %q: got %v", pattern, input, got)
			}
			return
		}
		for _, fold := range []bool{false, true} {
			w, got := w, got
			if fold != insensitive {
				w = CompileWildcard(pattern, fold)
				got = w.Match(input)
			}
			if want := wcReference(pattern, fold).MatchString(input); got != want {
				t.Fatalf("%q (ins=%v, shape %d) on %q: got %v, reference %v", pattern, fold, w.shape, input, got, want)
			}
		}
	})
}
