package eql

import (
	"bytes"
	"strings"
	"unicode"
	"unicode/utf8"
)

// EQL wildcard patterns (`:`, `like`, `like~`): `*` matches any sequence of
// characters, `?` exactly one character (code point), everything else is
// literal. Elasticsearch has no escape for `*` or `?` here (its
// StringUtils.toLikePattern turns every one into a wildcard), and a backslash
// is an ordinary character.
//
// Matching works on characters as Go decodes them: a byte that is not part of
// valid UTF-8 is one character that equals only the same byte. Case-insensitive
// matching uses Unicode simple case folding (strings.EqualFold / RE2 (?i)).

type wcShape uint8

const (
	wcGeneral  wcShape = iota
	wcExact            // lit
	wcPrefix           // lit*
	wcSuffix           // *lit
	wcContains         // *lit*
	wcAll              // *
)

// Wildcard is a compiled wildcard pattern. It is immutable and safe for
// concurrent use.
type Wildcard struct {
	pattern string
	fold    bool
	byteCmp bool // case-sensitive, valid UTF-8 pattern: compare literal bytes
	shape   wcShape
	lit     wcSeg // the literal of the fast shapes
	head    wcSeg // anchored at the start (hasHead)
	tail    wcSeg // anchored at the end (hasTail)
	mid     []wcSeg
	hasHead bool
	hasTail bool
	noStar  bool
}

// wcSeg is the text between two stars; '?' stands for one character.
type wcSeg struct {
	text   string // case-folded when insensitive
	chars  int    // characters matched
	hasQ   bool
	ascii  bool    // fold: text is ASCII without '?', so wcFoldASCII applies
	first  [4]byte // fold search: possible first bytes of a match
	nfirst int
}

// CompileWildcard compiles an EQL wildcard pattern; insensitive selects
// case-insensitive matching (`:` and like~).
func CompileWildcard(pattern string, insensitive bool) *Wildcard {
	w := &Wildcard{pattern: pattern, fold: insensitive}
	valid := utf8.ValidString(pattern)
	w.byteCmp = !insensitive && valid

	parts := strings.Split(pattern, "*")
	w.noStar = len(parts) == 1
	w.hasHead = parts[0] != ""
	w.hasTail = !w.noStar && parts[len(parts)-1] != ""
	if w.hasHead {
		w.head = w.seg(parts[0])
	}
	if w.hasTail {
		w.tail = w.seg(parts[len(parts)-1])
	}
	if !w.noStar {
		for _, p := range parts[1 : len(parts)-1] {
			if p != "" {
				w.mid = append(w.mid, w.seg(p))
			}
		}
	}

	// Fast shapes; an invalid UTF-8 pattern always takes the general path,
	// whose character-wise comparison keeps stray bytes from matching inside
	// a valid character.
	switch {
	case !valid:
	case w.noStar:
		if !w.head.hasQ {
			w.shape, w.lit = wcExact, w.head
		}
	case !w.hasHead && !w.hasTail && len(w.mid) == 0:
		w.shape = wcAll
	case w.hasHead && !w.hasTail && len(w.mid) == 0 && !w.head.hasQ:
		w.shape, w.lit = wcPrefix, w.head
	case !w.hasHead && w.hasTail && len(w.mid) == 0 && !w.tail.hasQ:
		w.shape, w.lit = wcSuffix, w.tail
	case !w.hasHead && !w.hasTail && len(w.mid) == 1 && !w.mid[0].hasQ:
		w.shape, w.lit = wcContains, w.mid[0]
	}
	return w
}

func (w *Wildcard) seg(text string) wcSeg {
	if w.fold {
		text = wcFoldString(text)
	}
	g := wcSeg{text: text, chars: utf8.RuneCountInString(text), hasQ: strings.IndexByte(text, '?') >= 0}
	if !w.fold || text[0] == '?' {
		return g
	}
	g.ascii = !g.hasQ
	for i := 0; i < len(text); i++ {
		if text[i] >= utf8.RuneSelf {
			g.ascii = false
		}
	}
	r, n := utf8.DecodeRuneInString(text)
	if r == utf8.RuneError && n == 1 {
		return g // a stray first byte may sit inside a character: no filter
	}
	// First bytes of every case form of the first character; orbits have at
	// most 4 members, the check only guards the array.
	for c := r; ; {
		var buf [utf8.UTFMax]byte
		utf8.EncodeRune(buf[:], c)
		if bytes.IndexByte(g.first[:g.nfirst], buf[0]) < 0 {
			if g.nfirst == len(g.first) {
				g.nfirst = 0
				return g
			}
			g.first[g.nfirst] = buf[0]
			g.nfirst++
		}
		if c = unicode.SimpleFold(c); c == r {
			break
		}
	}
	for i := g.nfirst; i < len(g.first); i++ {
		g.first[i] = g.first[0]
	}
	return g
}

// wcFoldString lower-cases the pattern once so the ASCII path of matching is
// a single compare; a rune is only replaced by a lower case form in its own
// fold orbit (not e.g. U+0130 -> 'i'), keeping simple-fold semantics.
func wcFoldString(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			b.WriteByte(c)
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			b.WriteByte(c)
		} else if l := unicode.ToLower(r); l != r && wcFoldEq(l, r) {
			b.WriteRune(l)
		} else {
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// IsLiteral reports whether the pattern has no wildcard.
func (w *Wildcard) IsLiteral() bool { return !strings.ContainsAny(w.pattern, "*?") }

// longestLiteral is the first longest of CompileWildcard(pattern,
// ...).Literals(), found without compiling the pattern: the dispatch
// requirements of a rule set need only that.
func longestLiteral(pattern string) string {
	best := ""
	for len(pattern) > 0 {
		i := strings.IndexAny(pattern, "*?")
		if i < 0 {
			i = len(pattern)
		}
		if i > len(best) {
			best = pattern[:i]
		}
		pattern = pattern[min(i+1, len(pattern)):]
	}
	return best
}

// Literals returns the non-empty literal fragments between wildcards, as
// written in the pattern (not case-folded), for prefilters.
func (w *Wildcard) Literals() []string {
	var out []string // nil when there are none
	for _, f := range strings.FieldsFunc(w.pattern, func(r rune) bool { return r == '*' || r == '?' }) {
		out = append(out, f)
	}
	return out
}

// Match reports whether the whole of s matches the pattern. It does not
// allocate; time is O(len(s)) for the fast shapes and at worst
// O(len(s)·len(pattern)) otherwise (middle segments are placed leftmost,
// which needs no backtracking).
func (w *Wildcard) Match(s string) bool {
	switch w.shape {
	case wcAll:
		return true
	case wcExact:
		if w.byteCmp {
			return s == w.lit.text
		}
		if w.lit.ascii {
			// Each character takes 1 to utf8.UTFMax bytes.
			if len(s) < len(w.lit.text) || len(s) > utf8.UTFMax*len(w.lit.text) {
				return false
			}
			if len(s) == len(w.lit.text) {
				if eq, ascii := wcFoldASCII(w.lit.text, s); ascii {
					return eq
				}
			}
		}
		n, ok := w.matchAt(&w.lit, s, 0)
		return ok && n == len(s)
	case wcPrefix:
		if w.byteCmp {
			return strings.HasPrefix(s, w.lit.text)
		}
		if w.lit.ascii && len(s) >= len(w.lit.text) {
			if eq, ascii := wcFoldASCII(w.lit.text, s[:len(w.lit.text)]); ascii {
				return eq
			}
		}
		_, ok := w.matchAt(&w.lit, s, 0)
		return ok
	case wcSuffix:
		if w.byteCmp {
			return strings.HasSuffix(s, w.lit.text)
		}
		// An all-ASCII tail holds exactly the last len(text) characters.
		if w.lit.ascii && len(s) >= len(w.lit.text) {
			if eq, ascii := wcFoldASCII(w.lit.text, s[len(s)-len(w.lit.text):]); ascii {
				return eq
			}
		}
		_, ok := w.matchTail(&w.lit, s, 0)
		return ok
	case wcContains:
		if w.byteCmp {
			return strings.Contains(s, w.lit.text)
		}
		_, ok := w.find(&w.lit, s, 0)
		return ok
	}
	return w.matchGeneral(s)
}

func (w *Wildcard) matchGeneral(s string) bool {
	i := 0
	if w.hasHead {
		n, ok := w.matchAt(&w.head, s, 0)
		if !ok {
			return false
		}
		if w.noStar {
			return n == len(s)
		}
		i = n
	}
	end := len(s)
	if w.hasTail {
		k, ok := w.matchTail(&w.tail, s, i)
		if !ok {
			return false
		}
		end = k
	}
	// Between the anchors, the leftmost placement of each segment leaves the
	// most room for the rest, so a failed search is final.
	for j := range w.mid {
		n, ok := w.find(&w.mid[j], s[:end], i)
		if !ok {
			return false
		}
		i = n
	}
	return true
}

// matchTail matches g against the end of s, starting at or after min, and
// returns where the match starts.
func (w *Wildcard) matchTail(g *wcSeg, s string, min int) (int, bool) {
	k, ok := w.tailStart(g, s, min)
	if !ok {
		return 0, false
	}
	n, ok := w.matchAt(g, s, k)
	return k, ok && n == len(s)
}

// tailStart returns where the last g.chars characters of s begin, if that is
// not before min. Backward decoding finds the same character boundaries as
// forward decoding because min and len(s) are boundaries.
func (w *Wildcard) tailStart(g *wcSeg, s string, min int) (int, bool) {
	if w.byteCmp && !g.hasQ {
		k := len(s) - len(g.text)
		return k, k >= min
	}
	k := len(s)
	for n := 0; n < g.chars; n++ {
		if k <= min {
			return 0, false
		}
		if s[k-1] < utf8.RuneSelf {
			k--
		} else {
			_, size := utf8.DecodeLastRuneInString(s[min:k])
			k -= size
		}
	}
	return k, true
}

// find returns the end of the leftmost match of g in s starting at or after
// from.
func (w *Wildcard) find(g *wcSeg, s string, from int) (int, bool) {
	switch {
	case w.byteCmp && !g.hasQ:
		if i := strings.Index(s[from:], g.text); i >= 0 {
			return from + i + len(g.text), true
		}
		return 0, false
	case w.byteCmp && g.text[0] != '?':
		// A valid pattern starts with an ASCII or leading byte, so every hit
		// is a character boundary.
		c := g.text[0]
		for p := from; p < len(s); p++ {
			i := strings.IndexByte(s[p:], c)
			if i < 0 {
				return 0, false
			}
			p += i
			if n, ok := w.matchAt(g, s, p); ok {
				return n, true
			}
		}
		return 0, false
	case g.nfirst > 0:
		f := &g.first
		for p := from; p < len(s); p++ {
			if b := s[p]; b != f[0] && b != f[1] && b != f[2] && b != f[3] {
				continue
			}
			if g.ascii && p+len(g.text) <= len(s) {
				if eq, ascii := wcFoldASCII(g.text, s[p:p+len(g.text)]); ascii {
					if eq {
						return p + len(g.text), true
					}
					continue
				}
			}
			if n, ok := w.matchAt(g, s, p); ok {
				return n, true
			}
		}
		return 0, false
	}
	for p := from; p < len(s); p += wcCharLen(s, p) {
		if n, ok := w.matchAt(g, s, p); ok {
			return n, true
		}
	}
	return 0, false
}

// matchAt matches g at s[i:], returning the end offset.
func (w *Wildcard) matchAt(g *wcSeg, s string, i int) (int, bool) {
	t := g.text
	if w.byteCmp {
		if !g.hasQ {
			if strings.HasPrefix(s[i:], t) {
				return i + len(t), true
			}
			return 0, false
		}
		for j := 0; j < len(t); j++ {
			if i >= len(s) {
				return 0, false
			}
			switch c := t[j]; {
			case c == '?':
				i += wcCharLen(s, i)
			case s[i] == c:
				i++
			default:
				return 0, false
			}
		}
		return i, true
	}
	for j := 0; j < len(t); {
		if i >= len(s) {
			return 0, false
		}
		c, b := t[j], s[i]
		if c == '?' {
			i += wcCharLen(s, i)
			j++
			continue
		}
		if c < utf8.RuneSelf && b < utf8.RuneSelf {
			if b != c {
				if !w.fold || 'A' > b || b > 'Z' || b+('a'-'A') != c {
					return 0, false
				}
			}
			i++
			j++
			continue
		}
		pr, pn := utf8.DecodeRuneInString(t[j:])
		r, n := utf8.DecodeRuneInString(s[i:])
		if pr == utf8.RuneError && pn == 1 || r == utf8.RuneError && n == 1 {
			// A stray byte only equals the same stray byte.
			if pn != n || c != b {
				return 0, false
			}
		} else if pr != r && (!w.fold || !wcFoldEq(pr, r)) {
			return 0, false
		}
		i += n
		j += pn
	}
	return i, true
}

// wcFoldASCII compares s with the folded ASCII literal t of the same length,
// 8 bytes at a time. ascii is false when s has a non-ASCII byte (which may
// fold to ASCII: K KELVIN SIGN, ſ), and then eq means nothing. A mismatch
// does not stop the scan: a later multi-byte character shifts the alignment
// of a suffix, so only an all-ASCII window gives a definite answer.
func wcFoldASCII(t, s string) (eq, ascii bool) {
	const hi = 0x8080808080808080
	var diff uint64
	i := 0
	for ; i+8 <= len(s); i += 8 {
		x := wcLoad64(s, i)
		if x&hi != 0 {
			return false, false
		}
		// Set 0x20 in bytes 'A'..'Z': (x+0x3f) has the top bit from 'A' up,
		// (x+0x25) from '['; no byte carries since x < 0x80.
		x |= (x + 0x3f3f3f3f3f3f3f3f) &^ (x + 0x2525252525252525) & hi >> 2
		diff |= x ^ wcLoad64(t, i)
	}
	for ; i < len(s); i++ {
		b := s[i]
		if b >= utf8.RuneSelf {
			return false, false
		}
		if 'A' <= b && b <= 'Z' {
			b += 'a' - 'A'
		}
		diff |= uint64(b ^ t[i])
	}
	return diff == 0, true
}

// wcLoad64 compiles to a single 8-byte load.
func wcLoad64(s string, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

func wcCharLen(s string, i int) int {
	if s[i] < utf8.RuneSelf {
		return 1
	}
	_, n := utf8.DecodeRuneInString(s[i:])
	return n
}

// wcFoldEq reports whether a and b are in the same simple case-fold orbit.
func wcFoldEq(a, b rune) bool {
	if a == b {
		return true
	}
	for f := unicode.SimpleFold(a); f != a; f = unicode.SimpleFold(f) {
		if f == b {
			return true
		}
	}
	return false
}
