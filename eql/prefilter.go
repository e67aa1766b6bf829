package eql

import (
	"bytes"
	"strings"
	"unicode/utf8"

	"github.com/vigilsec/vigil/event"
)

// Prefilter rejects raw NDJSON lines that cannot match before they are
// parsed, which is what makes selective rules run at memory speed. It is
// derived from literals every match must contain, searched in their
// JSON-escaped form. It never rejects a line that could match: lines with
// \u escapes (which can spell any character) are always accepted, and so
// are lines with \/ when a literal contains '/'.
type Prefilter struct {
	// A line may match only if for every group it contains one of the
	// group's literals.
	groups [][]literal
	slash  bool // some literal contains '/'
	// foldSK: a case-insensitive literal contains s or k, which Unicode
	// folding also matches with ſ (U+017F) and the Kelvin sign (U+212A).
	foldSK bool

	seen, passed int
	freq         *[256]uint32
	off          bool
}

type literal struct {
	text   string // JSON-escaped; lower-cased when fold
	fold   bool   // ASCII case-insensitive
	anchor int    // offset of the rarest byte, searched with IndexByte
}

// Prefilter returns the query's literal prefilter, or nil when the query has
// no literal every match must contain. types are the field types of the
// indices that will be searched (none: schemaless).
func (p *Program) Prefilter(types ...*Types) *Prefilter {
	var infos []*typeInfo
	for _, t := range types {
		infos = append(infos, t.info(p.Opts.TimestampField))
	}
	if len(infos) == 0 {
		infos = []*typeInfo{(*Types)(nil).info(p.Opts.TimestampField)}
	}
	x := &litExtractor{types: infos, catField: p.Opts.CategoryField}
	filters := p.Query.filters()
	// One document may match any filter: a line needs one literal of the
	// best group of any filter.
	var union []literal
	var only [][]literal
	for _, f := range filters {
		cnf := x.filter(f)
		if len(cnf) == 0 {
			return nil
		}
		if len(filters) == 1 {
			only = bestGroups(cnf, 2)
			break
		}
		union = append(union, bestGroups(cnf, 1)[0]...)
	}
	pf := &Prefilter{groups: only}
	if only == nil {
		pf.groups = [][]literal{union}
	}
	for _, g := range pf.groups {
		for _, l := range g {
			if strings.IndexByte(l.text, '/') >= 0 {
				pf.slash = true
			}
			if l.fold && strings.ContainsAny(l.text, "sk") {
				pf.foldSK = true
			}
		}
	}
	return pf
}

// MayMatch reports whether line can possibly match. The prefilter adapts
// to the data it sees (not safe for concurrent use): it re-anchors its
// literals on the bytes that are rarest in the first lines, and switches
// itself off when it lets nearly every line through.
func (f *Prefilter) MayMatch(line []byte) bool {
	if f == nil || f.off {
		return true
	}
	if f.seen < calibrateLines {
		f.calibrate(line)
	}
	for _, g := range f.groups {
		ok := false
		for i := range g {
			if g[i].in(line) {
				ok = true
				break
			}
		}
		if !ok {
			// JSON escapes could spell a literal differently: only a line
			// without them can be rejected.
			if hasEscape(line, 'u') || (f.slash && hasEscape(line, '/')) || (f.foldSK && hasFoldSK(line)) {
				break
			}
			return false
		}
	}
	f.passed++
	return true
}

const calibrateLines = 512

// hasFoldSK reports ſ or the Kelvin sign, which fold to s and k.
func hasFoldSK(line []byte) bool {
	return bytes.Contains(line, []byte("\u017f")) || bytes.Contains(line, []byte("\u212a"))
}

// calibrate learns byte frequencies from the first lines, then picks each
// literal's anchor among its rarest bytes in this data, and turns the
// prefilter off if it rejected almost nothing.
func (f *Prefilter) calibrate(line []byte) {
	if f.freq == nil {
		f.freq = new([256]uint32)
	}
	for _, c := range line {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		f.freq[c]++
	}
	f.seen++
	if f.seen < calibrateLines {
		return
	}
	for _, g := range f.groups {
		for i := range g {
			l := &g[i]
			best := 0
			for j := 1; j < len(l.text); j++ {
				if f.freq[lowerASCII(l.text[j])] < f.freq[lowerASCII(l.text[best])] {
					best = j
				}
			}
			l.anchor = best
		}
	}
	if f.passed > calibrateLines*9/10 {
		f.off = true
	}
	f.freq = nil
}

func lowerASCII(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// hasEscape reports a real JSON escape \c in line: a backslash run of odd
// length before c (C:\\users is an escaped backslash, not \u).
func hasEscape(line []byte, c byte) bool {
	pat := [2]byte{'\\', c}
	for off := 0; ; {
		i := bytes.Index(line[off:], pat[:])
		if i < 0 {
			return false
		}
		i += off
		n := 1
		for j := i - 1; j >= 0 && line[j] == '\\'; j-- {
			n++
		}
		if n%2 == 1 {
			return true
		}
		off = i + 2
	}
}

func (l *literal) in(line []byte) bool {
	if !l.fold {
		return bytes.Contains(line, unsafeBytes(l.text))
	}
	a := l.text[l.anchor]
	if l.scan(line, a) {
		return true
	}
	if a >= 'a' && a <= 'z' {
		return l.scan(line, a-'a'+'A')
	}
	return false
}

// scan finds anchor byte a and checks the literal around each hit.
func (l *literal) scan(line []byte, a byte) bool {
	n := len(l.text)
	for off := 0; ; {
		i := bytes.IndexByte(line[off:], a)
		if i < 0 {
			return false
		}
		i += off
		start := i - l.anchor
		if start >= 0 && start+n <= len(line) && equalFoldASCII(line[start:start+n], l.text) {
			return true
		}
		off = i + 1
	}
}

func equalFoldASCII(b []byte, lower string) bool {
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

// bestGroups picks the n most selective groups: the longest shortest
// literal wins, fewer alternatives break ties.
func bestGroups(cnf [][]literal, n int) [][]literal {
	score := func(g []literal) int {
		m := 1 << 30
		for _, l := range g {
			s := 0
			for i := 0; i < len(l.text); i++ {
				s += byteRarity(l.text[i])
			}
			m = min(m, s)
		}
		return m*4 - len(g)
	}
	var out [][]literal
	used := make([]bool, len(cnf))
	for k := 0; k < n && k < len(cnf); k++ {
		best := -1
		for i, g := range cnf {
			if !used[i] && (best < 0 || score(g) > score(cnf[best])) {
				best = i
			}
		}
		used[best] = true
		out = append(out, cnf[best])
	}
	return out
}

// ByteRarity is a static guess of how unusual a byte is in JSON logs
// (1 common .. 4 rare; ASCII case folded), used to pick search anchors
// before anything has been calibrated on real lines.
func ByteRarity(c byte) int { return byteRarity(c) }

func byteRarity(c byte) int {
	switch {
	case c >= 'A' && c <= 'Z':
		c += 'a' - 'A'
	}
	switch c {
	case '"', ':', ',', ' ', 'e', 't', 'a', 'o', 'i', 'n', 's', 'r', '0', '1', '2':
		return 1
	case 'c', 'l', 'd', 'h', 'u', 'm', 'p', '.', '_', '\\', '3', '4', '5', '6', '7', '8', '9', '-':
		return 2
	case 'f', 'g', 'w', 'y', 'b', '/', 'v':
		return 3
	case 'k', 'x', 'j', 'q', 'z':
		return 4
	}
	return 4
}

const maxOrGroups = 9

// FilterLiterals returns, per filter of the query (the event query; or each
// term, then until, of a sequence or sample), every literal group (CNF) a
// matching line must satisfy, schemaless. A filter without groups may match
// any line. Rule-set dispatch uses all of them; Prefilter keeps the best.
// The caveats of Groups apply (see LineMaySpellOtherwise).
func (p *Program) FilterLiterals() [][][]RequiredLiteral {
	x := &litExtractor{types: []*typeInfo{(*Types)(nil).info(p.Opts.TimestampField)}, catField: p.Opts.CategoryField}
	filters := p.Query.filters()
	out := make([][][]RequiredLiteral, len(filters))
	for i, f := range filters {
		for _, g := range x.filter(f) {
			var rg []RequiredLiteral
			for _, l := range g {
				rg = append(rg, RequiredLiteral{Text: l.text, Fold: l.fold})
			}
			out[i] = append(out[i], rg)
		}
	}
	return out
}

// LineMaySpellOtherwise reports what makes a literal search unreliable on
// a raw JSON line: a \u escape, \/ when slash is set (a literal contains
// '/'), or, when foldSK is set (a case-insensitive literal contains s or
// k), the runes ſ and K that Unicode folding maps to s and k.
func LineMaySpellOtherwise(line []byte, slash, foldSK bool) bool {
	return hasEscape(line, 'u') || (slash && hasEscape(line, '/')) || (foldSK && hasFoldSK(line))
}

// litExtractor derives required literals (CNF: AND of OR-groups).
type litExtractor struct {
	types    []*typeInfo
	catField string
}

func (x *litExtractor) filter(f *EventFilter) [][]literal {
	cnf := x.expr(f.Cond)
	if f.Category != "" && x.plainField(x.catField) {
		if l, ok := makeLiteral(f.Category, false); ok {
			cnf = append(cnf, []literal{l})
		}
	}
	return cnf
}

// plainField: the field's values are strings compared as written, in every
// index (no null_value, no date/ip/version/number normalisation).
func (x *litExtractor) plainField(name string) bool {
	for _, t := range x.types {
		fi, ok := t.resolve(name)
		if !ok {
			return false
		}
		if fi.nullValue != nil || (fi.typ != ftAny && fi.typ != ftKeyword && fi.typ != ftText) {
			return false
		}
	}
	return true
}

func (x *litExtractor) expr(e Expr) [][]literal {
	switch e := e.(type) {
	case *Binary:
		switch e.Op {
		case OpAnd:
			return append(x.expr(e.L), x.expr(e.R)...)
		case OpOr:
			l, r := x.expr(e.L), x.expr(e.R)
			if len(l) == 0 || len(r) == 0 {
				return nil
			}
			// (A∧B)∨(C∧D) implies (A∨C)∧(A∨D)∧(B∨C)∧(B∨D): every pair is a
			// requirement. Keep the product small, else the best pair.
			if len(l)*len(r) > maxOrGroups {
				l, r = bestGroups(l, 1), bestGroups(r, 1)
			}
			var out [][]literal
			for _, a := range l {
				for _, b := range r {
					out = append(out, append(append([]literal{}, a...), b...))
				}
			}
			return out
		case OpEq:
			f, lit := asField(e.L), asLiteral(e.R)
			if f == nil {
				f, lit = asField(e.R), asLiteral(e.L)
			}
			if f == nil || lit == nil || lit.Val.Kind != event.String || !x.plainField(f.Name) || !plainString(ftAny, lit.Val.S) {
				return nil
			}
			if l, ok := makeLiteral(lit.Val.S, false); ok {
				return [][]literal{{l}}
			}
		}
	case *In:
		f := asField(e.X)
		if e.Negated || f == nil || !x.plainField(f.Name) {
			return nil
		}
		var g []literal
		for _, it := range e.List {
			lit := asLiteral(it)
			if lit == nil || lit.Val.Kind != event.String || !plainString(ftAny, lit.Val.S) {
				return nil
			}
			l, ok := makeLiteral(lit.Val.S, e.Insensitive)
			if !ok {
				return nil
			}
			g = append(g, l)
		}
		return [][]literal{g}
	case *Match:
		f := asField(e.X)
		if e.Kind == MatchRegex || f == nil || !x.plainField(f.Name) {
			return nil
		}
		var g []literal
		for _, p := range e.Patterns {
			lit := asLiteral(p)
			if lit == nil || lit.Val.Kind != event.String {
				return nil
			}
			best := longestLiteral(lit.Val.S)
			if best == "" || (!strings.ContainsAny(lit.Val.S, "*?") && !plainString(ftAny, best)) {
				return nil
			}
			l, ok := makeLiteral(best, e.Insensitive)
			if !ok {
				return nil
			}
			g = append(g, l)
		}
		return [][]literal{g}
	}
	return nil
}

// makeLiteral JSON-escapes s as it appears inside a JSON string. Literals
// with control characters (several spellings) or non-ASCII text under case
// folding are not usable.
func makeLiteral(s string, fold bool) (literal, bool) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c < 0x20:
			return literal{}, false
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c >= utf8.RuneSelf && fold:
			return literal{}, false
		default:
			b.WriteByte(c)
		}
	}
	t := b.String()
	if t == "" {
		return literal{}, false
	}
	if fold {
		t = strings.ToLower(t)
	}
	l := literal{text: t, fold: fold}
	best := -1
	for i := 0; i < len(t); i++ {
		if best < 0 || byteRarity(t[i]) > byteRarity(t[best]) {
			best = i
		}
	}
	l.anchor = best
	return l, true
}

// RequiredLiteral is one required literal of a Prefilter, as it appears in raw
// JSON (escaped; lower-cased when Fold).
type RequiredLiteral struct {
	Text string
	Fold bool // ASCII case-insensitive
}

// Groups exposes the prefilter's requirement: a line may match only if it
// contains, for every group, one of the group's literals — provided it has
// no JSON \u escape (and no \/ when a literal contains '/'), since escapes
// can spell a literal differently. For rule-set dispatch, which searches
// the literals of many queries at once.
func (f *Prefilter) Groups() [][]RequiredLiteral {
	if f == nil {
		return nil
	}
	out := make([][]RequiredLiteral, len(f.groups))
	for i, g := range f.groups {
		for _, l := range g {
			out[i] = append(out[i], RequiredLiteral{Text: l.text, Fold: l.fold})
		}
	}
	return out
}

// filters lists the query's event filters: the event query's; or each
// term's, then until's, of a sequence or sample.
func (q *Query) filters() []*EventFilter {
	var filters []*EventFilter
	switch q.Kind {
	case EventQuery:
		filters = []*EventFilter{q.Event}
	case SequenceQuery:
		for _, t := range q.Sequence.Terms {
			filters = append(filters, &t.Filter)
		}
		if q.Sequence.Until != nil {
			filters = append(filters, &q.Sequence.Until.Filter)
		}
	case SampleQuery:
		for _, t := range q.Sample.Terms {
			filters = append(filters, &t.Filter)
		}
	}
	return filters
}
