package detect

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/vigilsec/vigil/eql"
	"github.com/vigilsec/vigil/event"
)

// Required literals per filter.
//
// eql's Prefilter keeps the two groups it guesses best, from byte rarity,
// which for rule-set dispatch are often words every event holds
// ("windows", "process"). Dispatch instead needs every group, to choose the
// rarest from the data. This extractor derives them from the query's AST
// with the rules of eql's litExtractor (schemaless): a group is a set of
// JSON-escaped literals of which a matching document must contain one.
// TODO: move into eql (an exported "all groups per filter" accessor) so
// that the two cannot drift apart.

// filterLiterals returns, per filter of the query (one for an event query,
// one per term and until for sequences and samples), its literal groups
// (CNF). A filter without groups means any line may match.
func filterLiterals(p *eql.Program) [][][]eql.RequiredLiteral {
	x := &extractor{tsField: p.Opts.TimestampField, catField: p.Opts.CategoryField}
	q := p.Query
	var filters []*eql.EventFilter
	switch q.Kind {
	case eql.EventQuery:
		filters = []*eql.EventFilter{q.Event}
	case eql.SequenceQuery:
		for _, t := range q.Sequence.Terms {
			filters = append(filters, &t.Filter)
		}
		if q.Sequence.Until != nil {
			filters = append(filters, &q.Sequence.Until.Filter)
		}
	case eql.SampleQuery:
		for _, t := range q.Sample.Terms {
			filters = append(filters, &t.Filter)
		}
	}
	out := make([][][]eql.RequiredLiteral, len(filters))
	for i, f := range filters {
		out[i] = x.filter(f)
	}
	return out
}

type extractor struct {
	tsField, catField string
}

func (x *extractor) filter(f *eql.EventFilter) [][]eql.RequiredLiteral {
	cnf := x.expr(f.Cond)
	if f.Category != "" && x.plainField(x.catField) {
		if l, ok := makeLiteral(f.Category, false); ok {
			cnf = append(cnf, []eql.RequiredLiteral{l})
		}
	}
	return cnf
}

// plainField: schemaless, every field but the timestamp (read as a date)
// compares strings as written.
func (x *extractor) plainField(name string) bool { return name != x.tsField }

const maxOrGroups = 9

func (x *extractor) expr(e eql.Expr) [][]eql.RequiredLiteral {
	switch e := e.(type) {
	case *eql.Binary:
		switch e.Op {
		case eql.OpAnd:
			return append(x.expr(e.L), x.expr(e.R)...)
		case eql.OpOr:
			l, r := x.expr(e.L), x.expr(e.R)
			if len(l) == 0 || len(r) == 0 {
				return nil
			}
			// (A∧B)∨(C∧D) implies (A∨C)∧(A∨D)∧(B∨C)∧(B∨D); keep the
			// product small, else one pair of the statically best groups.
			if len(l)*len(r) > maxOrGroups {
				l, r = l[bestGroup(l):][:1], r[bestGroup(r):][:1]
			}
			var out [][]eql.RequiredLiteral
			for _, a := range l {
				for _, b := range r {
					out = append(out, append(append([]eql.RequiredLiteral{}, a...), b...))
				}
			}
			return out
		case eql.OpEq:
			f, lit := asField(e.L), asLiteral(e.R)
			if f == nil {
				f, lit = asField(e.R), asLiteral(e.L)
			}
			if f == nil || lit == nil || lit.Val.Kind != event.String || !x.plainField(f.Name) || !plainString(lit.Val.S) {
				return nil
			}
			if l, ok := makeLiteral(lit.Val.S, false); ok {
				return [][]eql.RequiredLiteral{{l}}
			}
		}
	case *eql.In:
		f := asField(e.X)
		if e.Negated || f == nil || !x.plainField(f.Name) {
			return nil
		}
		var g []eql.RequiredLiteral
		for _, it := range e.List {
			lit := asLiteral(it)
			if lit == nil || lit.Val.Kind != event.String || !plainString(lit.Val.S) {
				return nil
			}
			l, ok := makeLiteral(lit.Val.S, e.Insensitive)
			if !ok {
				return nil
			}
			g = append(g, l)
		}
		return [][]eql.RequiredLiteral{g}
	case *eql.Match:
		f := asField(e.X)
		if e.Kind == eql.MatchRegex || f == nil || !x.plainField(f.Name) {
			return nil
		}
		var g []eql.RequiredLiteral
		for _, p := range e.Patterns {
			lit := asLiteral(p)
			if lit == nil || lit.Val.Kind != event.String {
				return nil
			}
			w := eql.CompileWildcard(lit.Val.S, e.Insensitive)
			best := ""
			for _, frag := range w.Literals() {
				if len(frag) > len(best) {
					best = frag
				}
			}
			if best == "" || (w.IsLiteral() && !plainString(best)) {
				return nil
			}
			l, ok := makeLiteral(best, e.Insensitive)
			if !ok {
				return nil
			}
			g = append(g, l)
		}
		return [][]eql.RequiredLiteral{g}
	}
	return nil
}

func asField(e eql.Expr) *eql.Field {
	f, _ := e.(*eql.Field)
	return f
}

func asLiteral(e eql.Expr) *eql.Literal {
	l, _ := e.(*eql.Literal)
	return l
}

// plainString: a string that no numeric or boolean coercion can make equal
// to a value of another kind.
func plainString(s string) bool {
	if s == "" {
		return true
	}
	if _, err := strconv.ParseInt(s, 10, 64); err == nil {
		return false
	}
	if c := s[0]; (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' {
		if _, err := strconv.ParseFloat(s, 64); err == nil {
			return false
		}
	}
	return s != "true" && s != "false"
}

// makeLiteral JSON-escapes s as it appears inside a JSON string. Literals
// with control characters (several spellings) or non-ASCII text under case
// folding are not usable.
func makeLiteral(s string, fold bool) (eql.RequiredLiteral, bool) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c < 0x20:
			return eql.RequiredLiteral{}, false
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c >= utf8.RuneSelf && fold:
			return eql.RequiredLiteral{}, false
		default:
			b.WriteByte(c)
		}
	}
	t := b.String()
	if t == "" {
		return eql.RequiredLiteral{}, false
	}
	if fold {
		t = strings.ToLower(t)
	}
	return eql.RequiredLiteral{Text: t, Fold: fold}, true
}

// bestGroup is the index of the group whose weakest literal is rarest by
// static byte rarity (fewer alternatives break ties), as eql guesses.
func bestGroup(cnf [][]eql.RequiredLiteral) int {
	best, bestScore := 0, -1
	for i, g := range cnf {
		if s := groupScore(g); s > bestScore {
			best, bestScore = i, s
		}
	}
	return best
}

func groupScore(g []eql.RequiredLiteral) int {
	m := 1 << 30
	for _, l := range g {
		s := 0
		for i := 0; i < len(l.Text); i++ {
			s += byteRarity(lowerASCII(l.Text[i]))
		}
		m = min(m, s)
	}
	return m*4 - len(g)
}

func lowerASCII(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
