package eql

import (
	"strings"
	"unicode/utf8"

	"github.com/vigilsec/vigil/event"
)

// Field-value requirements let a rule set dispatch a parsed event to the
// few filters that can match it: a filter such as
//
//	process.name : ("net.exe", "net1.exe") and process.args : "*/add*"
//
// can match only an event whose process.name is one of two values, and
// whose process.args contain "/add". Unlike literals searched in the raw
// line (prefilter.go), these requirements name the field, so a value that
// occurs elsewhere in the event (a parent's name, a path) does not make
// the filter a candidate, and JSON escapes play no part.

// ValueReq is one alternative of a requirement: field Field holds a value
// equal to Text (Exact), or containing Text (Contains), compared after
// ASCII case folding (Text is lower-case ASCII). Folding makes a
// case-sensitive comparison a superset, which is what dispatch needs.
type ValueReq struct {
	Field    string
	Text     string
	Contains bool
}

// FilterValues returns, per filter of the query (the event query; or each
// term, then until, of a sequence or sample), every requirement group
// (CNF: a matching event satisfies one alternative of every group). A
// filter without groups may match any event of its category.
//
// An event's string values are compared after FoldValue; non-string values
// never satisfy a requirement: requirements are only derived from string
// constants that no number or boolean can equal (see plainString).
func (p *Program) FilterValues() [][][]ValueReq {
	if v := p.spareValues.Swap(nil); v != nil {
		return *v
	}
	return p.filterValues()
}

func (p *Program) filterValues() [][][]ValueReq {
	filters := p.Query.filters()
	out := make([][][]ValueReq, len(filters))
	for i, f := range filters {
		out[i] = valueExpr(f.Cond)
	}
	return out
}

const maxValueOrGroups = 16

func valueExpr(e Expr) [][]ValueReq {
	switch e := e.(type) {
	case *Binary:
		switch e.Op {
		case OpAnd:
			return append(valueExpr(e.L), valueExpr(e.R)...)
		case OpOr:
			l, r := valueExpr(e.L), valueExpr(e.R)
			if len(l) == 0 || len(r) == 0 {
				return nil
			}
			// (A∧B)∨(C∧D) implies (A∨C)∧(A∨D)∧(B∨C)∧(B∨D). Keep the
			// product small, else the most selective group of each side.
			if len(l)*len(r) > maxValueOrGroups {
				l, r = [][]ValueReq{bestValueGroup(l)}, [][]ValueReq{bestValueGroup(r)}
			}
			out := make([][]ValueReq, 0, len(l)*len(r))
			for _, a := range l {
				for _, b := range r {
					out = append(out, append(append([]ValueReq{}, a...), b...))
				}
			}
			return out
		case OpEq:
			f, lit := asField(e.L), asLiteral(e.R)
			if f == nil {
				f, lit = asField(e.R), asLiteral(e.L)
			}
			if f == nil || lit == nil {
				return nil
			}
			if r, ok := exactReq(f.Name, lit); ok {
				return [][]ValueReq{{r}}
			}
		}
	case *In:
		f := asField(e.X)
		if e.Negated || f == nil {
			return nil
		}
		g := make([]ValueReq, 0, len(e.List))
		for _, it := range e.List {
			lit := asLiteral(it)
			if lit == nil {
				return nil
			}
			r, ok := exactReq(f.Name, lit)
			if !ok {
				return nil
			}
			g = append(g, r)
		}
		if len(g) > 0 {
			return [][]ValueReq{g}
		}
	case *Match:
		f := asField(e.X)
		if e.Kind == MatchRegex || f == nil {
			return nil
		}
		g := make([]ValueReq, 0, len(e.Patterns))
		for _, p := range e.Patterns {
			lit := asLiteral(p)
			if lit == nil || lit.Val.Kind != event.String {
				return nil
			}
			if !strings.ContainsAny(lit.Val.S, "*?") {
				r, ok := exactReq(f.Name, lit)
				if !ok {
					return nil
				}
				g = append(g, r)
				continue
			}
			// The longest fragment between wildcards must occur in the value.
			best := longestLiteral(lit.Val.S)
			if !asciiText(best) || len(best) < 2 {
				return nil
			}
			g = append(g, ValueReq{Field: f.Name, Text: strings.ToLower(best), Contains: true})
		}
		if len(g) > 0 {
			return [][]ValueReq{g}
		}
	}
	return nil
}

// exactReq is field == lit as a requirement, when only a string value can
// satisfy it and folding ASCII text is enough to compare it.
func exactReq(field string, lit *Literal) (ValueReq, bool) {
	if lit.Val.Kind != event.String || !plainString(ftAny, lit.Val.S) || !asciiText(lit.Val.S) || lit.Val.S == "" {
		return ValueReq{}, false
	}
	return ValueReq{Field: field, Text: strings.ToLower(lit.Val.S)}, true
}

func asciiText(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// bestValueGroup guesses the most selective group before any data was
// seen: exact values beat fragments, longer texts beat shorter ones, and
// fields that take a handful of values everywhere come last.
func bestValueGroup(cnf [][]ValueReq) []ValueReq {
	best, bestScore := 0, 0
	for i, g := range cnf {
		s := ValueGroupScore(g)
		if i == 0 || s > bestScore {
			best, bestScore = i, s
		}
	}
	return cnf[best]
}

// ValueGroupScore is a static guess of a group's selectivity (higher is
// rarer), for dispatch before any data was seen.
func ValueGroupScore(g []ValueReq) int {
	m := 1 << 30
	for _, r := range g {
		s := len(r.Text)
		if !r.Contains {
			s += 8
		}
		if lowCardinality(r.Field) {
			s -= 16
		}
		m = min(m, s)
	}
	return m*4 - len(g)
}

// lowCardinality lists ECS fields with few distinct values, which make
// poor dispatch anchors.
func lowCardinality(field string) bool {
	switch field {
	case "event.type", "event.action", "event.category", "event.kind", "event.outcome", "event.module",
		"event.dataset", "event.provider", "host.os.type", "host.os.family", "host.os.platform", "agent.type",
		"data_stream.dataset", "data_stream.type", "data_stream.namespace", "network.direction",
		"network.transport", "network.protocol", "network.type", "user.domain", "process.code_signature.trusted",
		"process.code_signature.status":
		return true
	}
	return false
}

// FoldValue appends to dst the form of s that ValueReq texts are compared
// with: ASCII letters lower-cased, and the two non-ASCII runes that
// Unicode simple folding makes equal to ASCII letters (ſ to s, the Kelvin
// sign to k) replaced; other non-ASCII bytes are kept and never equal an
// ASCII text.
func FoldValue(dst []byte, s string) []byte {
	start := len(dst)
	dst = append(dst, s...)
	b := dst[start:]
	for i, c := range b {
		if c >= utf8.RuneSelf {
			return foldValueSlow(dst[:start], s)
		}
		if c-'A' < 26 {
			b[i] = c + 'a' - 'A'
		}
	}
	return dst
}

func foldValueSlow(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		case c >= utf8.RuneSelf:
			if strings.HasPrefix(s[i:], "\u017f") {
				dst = append(dst, 's')
				i++
				continue
			}
			if strings.HasPrefix(s[i:], "\u212a") {
				dst = append(dst, 'k')
				i += 2
				continue
			}
		}
		dst = append(dst, c)
	}
	return dst
}
