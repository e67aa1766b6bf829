package eql

import (
	"errors"
	"sort"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

func FuzzCompileLucene(f *testing.F) {
	for _, c := range luceneCases {
		in := ""
		if len(c.match) > 0 {
			in = c.match[0]
		}
		f.Add(c.pattern, in, c.ins)
	}
	for _, c := range luceneErrorCases {
		f.Add(c.pattern, "", false)
	}
	f.Fuzz(func(t *testing.T, pattern, input string, insensitive bool) {
		if len(pattern) > 512 {
			// Long patterns only add RE2 compile time (x{1000} repeated), which
			// stalls the fuzzer; still exercise the parser.
			if root, err := lxParse(pattern, insensitive); err == nil {
				_ = lxCheck(root)
			}
			return
		}
		re, err := CompileLucene(pattern, insensitive)
		if err != nil {
			var rerr *RegexError
			if !errors.As(err, &rerr) {
				t.Fatalf("%q: error %v is not a *RegexError", pattern, err)
			}
			if rerr.Offset < 0 || rerr.Offset > len(pattern) {
				t.Fatalf("%q: offset %d out of range", pattern, rerr.Offset)
			}
			return
		}
		got := re.MatchString(input)
		re.MatchString(pattern)

		if lxOnlyAlnum(pattern) {
			if !re.MatchString(pattern) {
				t.Fatalf("literal %q does not match itself", pattern)
			}
			want := input == pattern
			if insensitive {
				want = strings.EqualFold(input, pattern)
			}
			if got != want {
				t.Fatalf("literal %q (ins=%v) on %q: got %v want %v", pattern, insensitive, input, got, want)
			}
		}

		// Cross-check the emitted RE2 against a direct evaluation of the tree.
		if len(pattern) <= 256 && utf8.RuneCountInString(input) <= 32 {
			root, err := lxParse(pattern, insensitive)
			if err != nil {
				t.Fatalf("%q compiled but does not parse: %v", pattern, err)
			}
			if want := lxEvalMatch(root, input, insensitive); got != want {
				t.Fatalf("%q (ins=%v, RE2 %s) on %q: RE2 %v, eval %v", pattern, insensitive, re, input, got, want)
			}
		}
	})
}

func lxOnlyAlnum(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

// lxEvalMatch evaluates a parsed tree over s by tracking the set of reachable
// character positions; it is a slow reference independent of RE2.
func lxEvalMatch(root *lxNode, s string, fold bool) bool {
	var runes []rune
	for _, r := range s {
		runes = append(runes, r)
	}
	start := make([]bool, len(runes)+1)
	start[0] = true
	return lxEval(root, runes, start, fold)[len(runes)]
}

func lxEval(n *lxNode, rs []rune, from []bool, fold bool) []bool {
	out := make([]bool, len(rs)+1)
	switch n.kind {
	case lxLit:
		lit := []rune(n.s)
		for p, ok := range from {
			if !ok || p+len(lit) > len(rs) {
				continue
			}
			m := true
			for i, r := range lit {
				if rs[p+i] != r && !(fold && wcFoldEq(r, rs[p+i])) {
					m = false
					break
				}
			}
			out[p+len(lit)] = out[p+len(lit)] || m
		}
	case lxAnyChar:
		for p, ok := range from {
			if ok && p < len(rs) {
				out[p+1] = true
			}
		}
	case lxAnyString:
		for p, ok := range from {
			if ok {
				for q := p; q <= len(rs); q++ {
					out[q] = true
				}
				break
			}
		}
	case lxNone:
	case lxClass:
		for p, ok := range from {
			if ok && p < len(rs) && lxInSet(n.set, rs[p]) {
				out[p+1] = true
			}
		}
	case lxConcat:
		out = from
		for _, sub := range n.subs {
			out = lxEval(sub, rs, out, fold)
		}
	case lxUnion:
		for _, sub := range n.subs {
			lxOr(out, lxEval(sub, rs, from, fold))
		}
	case lxRepeat:
		if n.min == 0 {
			lxOr(out, from)
		}
		cur := from
		for k := 1; n.max < 0 || k <= n.max; k++ {
			next := lxEval(n.subs[0], rs, cur, fold)
			if lxEqual(next, cur) { // fixpoint: every later count, up to max, gives next
				lxOr(out, next)
				break
			}
			cur = next
			if k >= n.min {
				if n.max < 0 && lxSubset(cur, out) {
					break
				}
				lxOr(out, cur)
			}
		}
	case lxInterval:
		for p, ok := range from {
			if !ok {
				continue
			}
			for q := p + 1; q <= len(rs) && rs[q-1] >= '0' && rs[q-1] <= '9'; q++ {
				if lxInInterval(string(rs[p:q]), n) {
					out[q] = true
				}
			}
		}
	default:
		panic("unexpected node kind in a compiled pattern")
	}
	return out
}

func lxInInterval(d string, n *lxNode) bool {
	if n.digits > 0 && len(d) != n.digits {
		return false
	}
	t := strings.TrimLeft(d, "0")
	if t == "" {
		t = "0"
	}
	if len(t) > 10 {
		return false
	}
	v, _ := strconv.ParseInt(t, 10, 64)
	return v >= int64(n.min) && v <= int64(n.max)
}

func lxInSet(set []lxRange, r rune) bool {
	i := sort.Search(len(set), func(i int) bool { return set[i].hi >= r })
	return i < len(set) && set[i].lo <= r
}

func lxOr(dst, src []bool) {
	for i, ok := range src {
		dst[i] = dst[i] || ok
	}
}

func lxEqual(a, b []bool) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func lxSubset(a, b []bool) bool {
	for i := range a {
		if a[i] && !b[i] {
			return false
		}
	}
	return true
}
