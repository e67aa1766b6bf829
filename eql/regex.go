package eql

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// Elasticsearch runs EQL `regex` as a Lucene RegExp (regexp query, flags ALL)
// anchored over the whole value. CompileLucene mirrors the parser of Lucene
// 9.x (org.apache.lucene.util.automaton.RegExp) construct by construct and
// emits an equivalent RE2 program, so matching stays linear time.
//
// Lucene quirks kept on purpose, because rules are written against them:
//   - a quantifier applies to the whole preceding repeat expression, so `?`
//     after a quantifier makes it optional (`a+?` is `(a+)?`, matching ""),
//     there are no lazy quantifiers;
//   - an operator character where an atom is expected is a literal (`*a`,
//     `|a`, `a|)`...), and `{`, `}`, `]` outside their constructs are literals;
//   - `\d \D \s \S \w \W` are ASCII classes (`\s` is [ \t\n\r]); a backslash
//     before any other ASCII letter is an error; before anything else it
//     makes that character literal, even inside brackets;
//   - `"..."` is a literal string, `#` the empty language, `@` any string,
//     `<n-m>` a decimal interval (same-width bounds fix the width, otherwise
//     any number of leading zeros is accepted).
//
// Case-insensitive matching uses Unicode simple case folding (RE2 (?i)) on
// literals and on character sets before negation; Lucene 9 folds ASCII
// literals only, so this accepts a superset.

// RegexError reports a malformed Lucene regular expression or one using a
// construct RE2 cannot express. Offset is a byte offset into the pattern.
type RegexError struct {
	Offset int
	Msg    string
}

func (e *RegexError) Error() string {
	return fmt.Sprintf("%s at offset %d", e.Msg, e.Offset)
}

// Limits keep the emitted RE2 program inside regexp/syntax's own limits
// (nesting 1000, repeat counts 1000) so failures carry an offset.
const (
	lxMaxParenDepth = 250
	lxMaxHeight     = 800
	lxMaxRepeat     = 1000
)

// CompileLucene translates a Lucene regular expression to an anchored RE2 regexp.
// insensitive: regex~ (case-insensitive). On a construct RE2 cannot express or a syntax
// error it returns *RegexError with the byte offset in the pattern.
func CompileLucene(pattern string, insensitive bool) (*regexp.Regexp, error) {
	root, err := lxParse(pattern, insensitive)
	if err != nil {
		return nil, err
	}
	if err := lxCheck(root); err != nil {
		return nil, err
	}
	var b strings.Builder
	if insensitive {
		b.WriteString("(?is)^(?:")
	} else {
		b.WriteString("(?s)^(?:")
	}
	lxEmit(&b, root, insensitive)
	b.WriteString(")$")
	re, cerr := regexp.Compile(b.String())
	if cerr != nil {
		// Only size limits of regexp/syntax can get here; no single offset.
		return nil, &RegexError{Offset: 0, Msg: "regular expression too large for RE2: " + cerr.Error()}
	}
	return re, nil
}

type lxKind uint8

const (
	lxLit       lxKind = iota // s: literal text ("" is the empty string)
	lxAnyChar                 // .
	lxAnyString               // @
	lxNone                    // # (empty language)
	lxClass                   // set
	lxConcat                  // subs
	lxUnion                   // subs
	lxRepeat                  // subs[0]{min,max}; max < 0: unbounded
	lxInter                   // & (unsupported)
	lxCompl                   // ~ (unsupported)
	lxAutomaton               // <name> (unsupported)
	lxInterval                // <min-max>, digits
)

type lxNode struct {
	kind     lxKind
	off      int // byte offset of the construct, for errors
	height   int
	s        string
	set      []lxRange
	subs     []*lxNode
	min, max int
	digits   int
}

type lxRange struct{ lo, hi rune }

type lxParser struct {
	src   string
	pos   int
	fold  bool
	depth int
}

func lxErr(off int, format string, args ...any) *RegexError {
	return &RegexError{Offset: off, Msg: fmt.Sprintf(format, args...)}
}

func lxParse(src string, fold bool) (*lxNode, error) {
	if src == "" {
		return &lxNode{kind: lxLit, height: 1}, nil
	}
	p := &lxParser{src: src, fold: fold}
	n, err := p.union()
	if err != nil {
		return nil, err
	}
	if p.pos < len(src) {
		return nil, lxErr(p.pos, "end-of-string expected")
	}
	return n, nil
}

func (p *lxParser) more() bool { return p.pos < len(p.src) }

// peek reports whether the next byte is in set; every operator is ASCII, so a
// byte test never splits a multi-byte character.
func (p *lxParser) peek(set string) bool {
	return p.pos < len(p.src) && strings.IndexByte(set, p.src[p.pos]) >= 0
}

func (p *lxParser) match(c byte) bool {
	if p.pos < len(p.src) && p.src[p.pos] == c {
		p.pos++
		return true
	}
	return false
}

func (p *lxParser) next() (rune, error) {
	if p.pos >= len(p.src) {
		return 0, lxErr(p.pos, "unexpected end-of-string")
	}
	r, w := utf8.DecodeRuneInString(p.src[p.pos:])
	if r == utf8.RuneError && w <= 1 {
		return 0, lxErr(p.pos, "invalid UTF-8")
	}
	p.pos += w
	return r, nil
}

func lxHeight(subs []*lxNode) int {
	h := 0
	for _, s := range subs {
		h = max(h, s.height)
	}
	return h + 1
}

func (p *lxParser) container(kind lxKind, off int, subs []*lxNode) (*lxNode, error) {
	n := &lxNode{kind: kind, off: off, subs: subs, height: lxHeight(subs)}
	if n.height > lxMaxHeight {
		return nil, lxErr(off, "regular expression nests too deeply")
	}
	return n, nil
}

// Lucene's unionexp/interexp/concatexp are right-recursive; loops parse the
// same language without deep recursion on long patterns.
func (p *lxParser) union() (*lxNode, error) {
	n, err := p.inter()
	if err != nil || !p.peek("|") {
		return n, err
	}
	subs := []*lxNode{n}
	for p.match('|') {
		m, err := p.inter()
		if err != nil {
			return nil, err
		}
		subs = append(subs, m)
	}
	return p.container(lxUnion, n.off, subs)
}

func (p *lxParser) inter() (*lxNode, error) {
	n, err := p.concat()
	if err != nil || !p.peek("&") {
		return n, err
	}
	off := p.pos
	subs := []*lxNode{n}
	for p.match('&') {
		m, err := p.concat()
		if err != nil {
			return nil, err
		}
		subs = append(subs, m)
	}
	return p.container(lxInter, off, subs)
}

func (p *lxParser) concat() (*lxNode, error) {
	n, err := p.repeat()
	if err != nil {
		return nil, err
	}
	if !p.more() || p.peek(")|&") {
		return n, nil
	}
	subs := []*lxNode{n}
	for p.more() && !p.peek(")|&") {
		m, err := p.repeat()
		if err != nil {
			return nil, err
		}
		subs = append(subs, m)
	}
	return p.container(lxConcat, n.off, subs)
}

func (p *lxParser) repeat() (*lxNode, error) {
	e, err := p.compl()
	if err != nil {
		return nil, err
	}
	for p.peek("?*+{") {
		off := p.pos
		c := p.src[p.pos]
		p.pos++
		var lo, hi int
		switch c {
		case '?':
			lo, hi = 0, 1
		case '*':
			lo, hi = 0, -1
		case '+':
			lo, hi = 1, -1
		default:
			if lo, err = p.integer(); err != nil {
				return nil, err
			}
			hi = lo
			if p.match(',') {
				hi = -1
				if p.peek("0123456789") {
					if hi, err = p.integer(); err != nil {
						return nil, err
					}
				}
			}
			if !p.match('}') {
				return nil, lxErr(p.pos, "expected '}'")
			}
		}
		if e, err = p.mkRepeat(e, lo, hi, off); err != nil {
			return nil, err
		}
	}
	return e, nil
}

func (p *lxParser) integer() (int, error) {
	start := p.pos
	for p.peek("0123456789") {
		p.pos++
	}
	if start == p.pos {
		return 0, lxErr(p.pos, "integer expected")
	}
	n, err := strconv.ParseInt(p.src[start:p.pos], 10, 32) // Java Integer.parseInt range
	if err != nil {
		return 0, lxErr(start, "integer out of range")
	}
	return int(n), nil
}

func lxSimpleCount(lo, hi int) bool { return (lo == 0 || lo == 1) && (hi == 1 || hi < 0) }

func (p *lxParser) mkRepeat(e *lxNode, lo, hi, off int) (*lxNode, error) {
	switch {
	case hi >= 0 && lo > hi: // Operations.repeat(a, min, max) with min > max: empty language
		return &lxNode{kind: lxNone, off: off, height: 1}, nil
	case hi == 0 || (e.kind == lxLit && e.s == ""):
		return &lxNode{kind: lxLit, off: off, height: 1}, nil
	case lo == 1 && hi == 1:
		return e, nil
	case e.kind == lxRepeat && lxSimpleCount(lo, hi) && lxSimpleCount(e.min, e.max):
		// Stacked ?, *, + collapse (e.g. `.*?` is `.*`), keeping RE2 trees flat.
		nlo, nhi := lo*e.min, 1
		if hi < 0 || e.max < 0 {
			nhi = -1
		}
		return p.mkRepeat(e.subs[0], nlo, nhi, off)
	}
	n, err := p.container(lxRepeat, off, []*lxNode{e})
	if err != nil {
		return nil, err
	}
	n.min, n.max = lo, hi
	return n, nil
}

func (p *lxParser) compl() (*lxNode, error) {
	off, count := p.pos, 0
	for p.match('~') {
		count++
	}
	e, err := p.charClassExp()
	if err != nil || count%2 == 0 { // ~~x is x
		return e, err
	}
	return p.container(lxCompl, off, []*lxNode{e})
}

func (p *lxParser) charClassExp() (*lxNode, error) {
	if !p.match('[') {
		return p.simple()
	}
	off := p.pos - 1
	negate := p.match('^')
	set, err := p.charClass()
	if err != nil {
		return nil, err
	}
	for p.more() && !p.peek("]") {
		more, err := p.charClass()
		if err != nil {
			return nil, err
		}
		set = lxUnionSet(set, more)
	}
	if negate {
		set = lxComplement(set)
	}
	if !p.match(']') {
		return nil, lxErr(p.pos, "expected ']'")
	}
	return &lxNode{kind: lxClass, off: off, set: set, height: 1}, nil
}

func (p *lxParser) charClass() ([]lxRange, error) {
	if set, ok, err := p.predefined(); ok || err != nil {
		return set, err
	}
	start := p.pos
	c, err := p.charExp()
	if err != nil {
		return nil, err
	}
	if !p.match('-') {
		return p.leaf(c, c), nil
	}
	d, err := p.charExp() // Lucene: the range end is a plain charexp, so `\d` there is 'd'
	if err != nil {
		return nil, err
	}
	if c > d {
		return nil, lxErr(start, "invalid range: from (%c) cannot be > to (%c)", c, d)
	}
	return p.leaf(c, d), nil
}

// leaf folds a positive set so that later negation excludes every case form,
// as RE2 (?i)[^a] does.
func (p *lxParser) leaf(lo, hi rune) []lxRange {
	set := []lxRange{{lo, hi}}
	if p.fold {
		set = lxFoldSet(set)
	}
	return set
}

func (p *lxParser) charExp() (rune, error) {
	p.match('\\')
	return p.next()
}

// predefined mirrors RegExp.matchPredefinedCharacterClass: after a backslash
// that starts no class, the backslash stays consumed and the caller reads the
// escaped character.
func (p *lxParser) predefined() ([]lxRange, bool, error) {
	if !p.match('\\') {
		return nil, false, nil
	}
	start := p.pos - 1
	if !p.more() {
		return nil, false, nil
	}
	c := p.src[p.pos]
	var base []lxRange
	switch c | 0x20 {
	case 'd':
		base = []lxRange{{'0', '9'}}
	case 's':
		base = []lxRange{{'\t', '\n'}, {'\r', '\r'}, {' ', ' '}}
	case 'w':
		base = []lxRange{{'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}}
	default:
		if c == '\\' {
			p.pos++
			return []lxRange{{'\\', '\\'}}, true, nil
		}
		if ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') {
			return nil, false, lxErr(start, "invalid character class \\%c", c)
		}
		return nil, false, nil
	}
	p.pos++
	if p.fold {
		base = lxFoldSet(base)
	}
	if 'A' <= c && c <= 'Z' {
		base = lxComplement(base)
	}
	return base, true, nil
}

func (p *lxParser) simple() (*lxNode, error) {
	off := p.pos
	switch {
	case p.match('.'):
		return &lxNode{kind: lxAnyChar, off: off, height: 1}, nil
	case p.match('#'):
		return &lxNode{kind: lxNone, off: off, height: 1}, nil
	case p.match('@'):
		return &lxNode{kind: lxAnyString, off: off, height: 1}, nil
	case p.match('"'):
		i := strings.IndexByte(p.src[p.pos:], '"')
		if i < 0 {
			return nil, lxErr(len(p.src), "expected '\"'")
		}
		s := p.src[p.pos : p.pos+i]
		if !utf8.ValidString(s) {
			return nil, lxErr(p.pos, "invalid UTF-8")
		}
		p.pos += i + 1
		return &lxNode{kind: lxLit, off: off, s: s, height: 1}, nil
	case p.match('('):
		if p.match(')') {
			return &lxNode{kind: lxLit, off: off, height: 1}, nil
		}
		if p.depth++; p.depth > lxMaxParenDepth {
			return nil, lxErr(off, "regular expression nests too deeply")
		}
		e, err := p.union()
		if err != nil {
			return nil, err
		}
		p.depth--
		if !p.match(')') {
			return nil, lxErr(p.pos, "expected ')'")
		}
		return e, nil
	case p.match('<'):
		return p.angle(off)
	}
	if set, ok, err := p.predefined(); ok || err != nil {
		if err != nil {
			return nil, err
		}
		return &lxNode{kind: lxClass, off: off, set: set, height: 1}, nil
	}
	c, err := p.charExp()
	if err != nil {
		return nil, err
	}
	return &lxNode{kind: lxLit, off: off, s: string(c), height: 1}, nil
}

// angle parses <identifier> (named automaton) or <n-m> (numeric interval).
func (p *lxParser) angle(off int) (*lxNode, error) {
	i := strings.IndexByte(p.src[p.pos:], '>')
	if i < 0 {
		return nil, lxErr(len(p.src), "expected '>'")
	}
	s := p.src[p.pos : p.pos+i]
	gt := p.pos + i
	p.pos = gt + 1
	dash := strings.IndexByte(s, '-')
	if dash < 0 {
		return &lxNode{kind: lxAutomaton, off: off, s: s, height: 1}, nil
	}
	if dash == 0 || dash == len(s)-1 || strings.Count(s, "-") > 1 {
		return nil, lxErr(gt, "interval syntax error")
	}
	smin, smax := s[:dash], s[dash+1:]
	lo, ok1 := lxJavaInt(smin)
	hi, ok2 := lxJavaInt(smax)
	if !ok1 || !ok2 {
		return nil, lxErr(gt, "interval syntax error")
	}
	digits := 0
	if len(smin) == len(smax) {
		digits = len(smin)
	}
	if lo > hi {
		lo, hi = hi, lo
	}
	return &lxNode{kind: lxInterval, off: off, min: lo, max: hi, digits: digits, height: 1}, nil
}

// lxJavaInt accepts what Integer.parseInt accepts for non-negative ASCII input.
func lxJavaInt(s string) (int, bool) {
	digits := strings.TrimPrefix(s, "+")
	if digits == "" || strings.Trim(digits, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.ParseInt(digits, 10, 32)
	return int(n), err == nil
}

// lxCheck rejects constructs RE2 cannot express, in pattern order, and
// repeat counts regexp/syntax would refuse (its repeatIsValid rule).
func lxCheck(n *lxNode) error {
	switch n.kind {
	case lxInter:
		return lxErr(n.off, "intersection (&) cannot be translated to RE2")
	case lxCompl:
		return lxErr(n.off, "complement (~) cannot be translated to RE2")
	case lxAutomaton:
		return lxErr(n.off, "named automaton <%s> is not defined", n.s)
	}
	for _, s := range n.subs {
		if err := lxCheck(s); err != nil {
			return err
		}
	}
	if n.kind == lxRepeat && !lxRepeatValid(n, lxMaxRepeat) {
		return lxErr(n.off, "repeat count exceeds %d", lxMaxRepeat)
	}
	return nil
}

func lxRepeatValid(n *lxNode, budget int) bool {
	if n.kind == lxRepeat && !lxSimpleCount(n.min, n.max) {
		m := n.max
		if m < 0 {
			m = n.min
		}
		if m > budget {
			return false
		}
		if m > 0 {
			budget /= m
		}
	}
	for _, s := range n.subs {
		if !lxRepeatValid(s, budget) {
			return false
		}
	}
	return true
}

const lxNoMatch = `[^\x00-\x{10FFFF}]`

func lxEmit(b *strings.Builder, n *lxNode, fold bool) {
	switch n.kind {
	case lxLit:
		if n.s == "" {
			b.WriteString("(?:)")
		} else {
			b.WriteString(regexp.QuoteMeta(n.s))
		}
	case lxAnyChar:
		b.WriteByte('.')
	case lxAnyString:
		b.WriteString("(?:.*)")
	case lxNone:
		b.WriteString(lxNoMatch)
	case lxClass:
		lxEmitClass(b, n.set, fold)
	case lxConcat:
		for _, s := range n.subs {
			lxEmit(b, s, fold)
		}
	case lxUnion:
		b.WriteString("(?:")
		for i, s := range n.subs {
			if i > 0 {
				b.WriteByte('|')
			}
			lxEmit(b, s, fold)
		}
		b.WriteByte(')')
	case lxRepeat:
		if sub := n.subs[0]; lxAtom(sub) {
			lxEmit(b, sub, fold)
		} else {
			b.WriteString("(?:")
			lxEmit(b, sub, fold)
			b.WriteByte(')')
		}
		switch {
		case n.min == 0 && n.max == 1:
			b.WriteByte('?')
		case n.min == 0 && n.max < 0:
			b.WriteByte('*')
		case n.min == 1 && n.max < 0:
			b.WriteByte('+')
		case n.max < 0:
			fmt.Fprintf(b, "{%d,}", n.min)
		case n.min == n.max:
			fmt.Fprintf(b, "{%d}", n.min)
		default:
			fmt.Fprintf(b, "{%d,%d}", n.min, n.max)
		}
	case lxInterval:
		b.WriteString(lxIntervalRegex(n.min, n.max, n.digits))
	}
}

// lxAtom reports whether n emits a single RE2 atom that takes a quantifier.
func lxAtom(n *lxNode) bool {
	switch n.kind {
	case lxAnyChar, lxNone:
		return true
	case lxClass:
		return true // a bracket, or a (?-i:...) group
	case lxLit:
		return utf8.RuneCountInString(n.s) == 1
	}
	return false
}

// Sets are already folded and negated; (?-i:) stops RE2 from folding the
// negated result again (which would put excluded case forms back).
func lxEmitClass(b *strings.Builder, set []lxRange, fold bool) {
	if len(set) == 0 {
		b.WriteString(lxNoMatch)
		return
	}
	if fold {
		b.WriteString("(?-i:")
	}
	b.WriteByte('[')
	for _, r := range set {
		lxClassChar(b, r.lo)
		if r.hi != r.lo {
			b.WriteByte('-')
			lxClassChar(b, r.hi)
		}
	}
	b.WriteByte(']')
	if fold {
		b.WriteByte(')')
	}
}

func lxClassChar(b *strings.Builder, r rune) {
	if r < utf8.RuneSelf && ('0' <= r && r <= '9' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || r == '_' || r == ' ') {
		b.WriteRune(r)
	} else {
		fmt.Fprintf(b, `\x{%X}`, r)
	}
}

func lxNormalize(set []lxRange) []lxRange {
	if len(set) < 2 {
		return set
	}
	sort.Slice(set, func(i, j int) bool { return set[i].lo < set[j].lo })
	out := set[:1]
	for _, r := range set[1:] {
		last := &out[len(out)-1]
		if r.lo <= last.hi+1 {
			last.hi = max(last.hi, r.hi)
		} else {
			out = append(out, r)
		}
	}
	return out
}

func lxUnionSet(a, b []lxRange) []lxRange {
	return lxNormalize(append(append([]lxRange(nil), a...), b...))
}

func lxComplement(set []lxRange) []lxRange {
	var out []lxRange
	next := rune(0)
	for _, r := range set {
		if r.lo > next {
			out = append(out, lxRange{next, r.lo - 1})
		}
		next = r.hi + 1
	}
	if next <= unicode.MaxRune {
		out = append(out, lxRange{next, unicode.MaxRune})
	}
	return out
}

// lxFoldSet adds the simple case-fold orbit of every member.
func lxFoldSet(set []lxRange) []lxRange {
	out := append([]lxRange(nil), set...)
	foldable := lxFoldableRunes()
	for _, r := range set {
		i := sort.Search(len(foldable), func(i int) bool { return foldable[i] >= r.lo })
		for ; i < len(foldable) && foldable[i] <= r.hi; i++ {
			c := foldable[i]
			for f := unicode.SimpleFold(c); f != c; f = unicode.SimpleFold(f) {
				out = append(out, lxRange{f, f})
			}
		}
	}
	return lxNormalize(out)
}

// lxFoldableRunes lists, sorted, the runes with a non-trivial fold orbit, so
// folding a large range visits only those. Every orbit has a member with a
// case mapping (ß has none, but ẞ does), so orbits of unicode.CaseRanges
// cover them all.
var lxFoldableRunes = sync.OnceValue(func() []rune {
	seen := map[rune]bool{}
	for _, cr := range unicode.CaseRanges {
		for c := rune(cr.Lo); c <= rune(cr.Hi); c++ {
			for f := unicode.SimpleFold(c); f != c; f = unicode.SimpleFold(f) {
				seen[c], seen[f] = true, true
			}
		}
	}
	out := make([]rune, 0, len(seen))
	for c := range seen {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
})

// lxIntervalRegex matches the decimal numbers in [lo, hi] like Lucene's
// Automata.makeDecimalInterval: digits > 0 fixes the width (zero padded),
// otherwise any number of leading zeros is accepted. The alternation has
// O(digits) branches per length, so no size limit is needed.
func lxIntervalRegex(lo, hi, digits int) string {
	var alts []string
	if digits > 0 {
		alts = lxFixedRange(lxPad(lo, digits), lxPad(hi, digits))
		return "(?:" + strings.Join(alts, "|") + ")"
	}
	ls, hs := strconv.Itoa(lo), strconv.Itoa(hi)
	for n := len(ls); n <= len(hs); n++ {
		a, b := ls, hs
		if n > len(ls) {
			a = "1" + strings.Repeat("0", n-1)
		}
		if n < len(hs) {
			b = strings.Repeat("9", n)
		}
		alts = append(alts, lxFixedRange(a, b)...)
	}
	return "0*(?:" + strings.Join(alts, "|") + ")"
}

func lxPad(n, width int) string {
	s := strconv.Itoa(n)
	if len(s) < width {
		s = strings.Repeat("0", width-len(s)) + s
	}
	return s
}

// lxFixedRange returns alternatives matching exactly the digit strings of
// len(a) between a and b inclusive (a <= b, same length).
func lxFixedRange(a, b string) []string {
	if a == b {
		return []string{a}
	}
	rest := len(a) - 1
	if a[0] == b[0] {
		alts := lxFixedRange(a[1:], b[1:])
		for i := range alts {
			alts[i] = a[:1] + alts[i]
		}
		return alts
	}
	anyRest := ""
	switch {
	case rest == 1:
		anyRest = "[0-9]"
	case rest > 1:
		anyRest = "[0-9]{" + strconv.Itoa(rest) + "}"
	}
	var alts []string
	lo, hi := a[0], b[0]
	if strings.Trim(a[1:], "0") != "" {
		for _, s := range lxFixedRange(a[1:], strings.Repeat("9", rest)) {
			alts = append(alts, a[:1]+s)
		}
		lo++
	}
	lowerHi := strings.Trim(b[1:], "9") != ""
	if lowerHi {
		hi--
	}
	if lo <= hi {
		if lo == hi {
			alts = append(alts, string(lo)+anyRest)
		} else {
			alts = append(alts, "["+string(lo)+"-"+string(hi)+"]"+anyRest)
		}
	}
	if lowerHi {
		for _, s := range lxFixedRange(strings.Repeat("0", rest), b[1:]) {
			alts = append(alts, b[:1]+s)
		}
	}
	return alts
}
