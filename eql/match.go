package eql

import (
	"errors"
	"regexp"

	"github.com/vigilsec/vigil/event"
)

// ":" (case-insensitive, wildcards * and ?), like / like~ (wildcards),
// regex / regex~ (Lucene syntax run as RE2). All take a constant or a list
// of constants and match when any pattern matches.

type matcher struct {
	wild  []*Wildcard
	re    []*regexp.Regexp
	exact []event.Value // non-string constants (":" only): equality
}

func (m *matcher) match(v event.Value) bool {
	if v.Kind == event.Null {
		return false
	}
	if len(m.exact) > 0 {
		for _, e := range m.exact {
			if equalFold(v, e) {
				return true
			}
		}
	}
	if len(m.wild) == 0 && len(m.re) == 0 {
		return false
	}
	s := v.S
	if v.Kind != event.String {
		s = v.String()
	}
	for _, w := range m.wild {
		if w.Match(s) {
			return true
		}
	}
	for _, r := range m.re {
		if r.MatchString(s) {
			return true
		}
	}
	return false
}

func (c *exprCompiler) compileMatcher(e *Match) (*matcher, error) {
	m := &matcher{}
	for _, p := range e.Patterns {
		lit := asLiteral(p)
		if lit == nil {
			return nil, c.errf(p.Pos(), "expected a constant pattern")
		}
		if lit.Val.Kind != event.String {
			if e.Kind != MatchSeq {
				return nil, c.errf(p.Pos(), "%s needs string patterns", matchName(e))
			}
			if lit.Val.Kind == event.Null {
				return nil, c.errf(p.Pos(), "':' cannot be used with null; use == null")
			}
			m.exact = append(m.exact, lit.Val)
			continue
		}
		switch e.Kind {
		case MatchRegex:
			re, err := CompileLucene(lit.Val.S, e.Insensitive)
			if err != nil {
				var rerr *RegexError
				pos := p.Pos()
				if errors.As(err, &rerr) {
					pos = patternPos(c.src, pos, rerr.Offset)
					return nil, c.errf(pos, "invalid regular expression: %s", rerr.Msg)
				}
				return nil, c.errf(pos, "invalid regular expression: %v", err)
			}
			m.re = append(m.re, re)
		default:
			m.wild = append(m.wild, CompileWildcard(lit.Val.S, e.Insensitive))
		}
	}
	return m, nil
}

// patternPos points into a string literal at byte offset off of its value
// (exact for patterns without escapes, which is the common case).
func patternPos(src string, lit Pos, off int) Pos {
	start := lit.Offset + 1
	if len(src) >= lit.Offset+3 && src[lit.Offset:lit.Offset+3] == `"""` {
		start = lit.Offset + 3
	}
	if start+off > len(src) {
		return lit
	}
	return posAt(src, start+off)
}

func matchName(e *Match) string {
	n := map[MatchKind]string{MatchSeq: ":", MatchLike: "like", MatchRegex: "regex"}[e.Kind]
	if e.Insensitive && e.Kind != MatchSeq {
		n += "~"
	}
	return n
}

func (c *exprCompiler) compileMatch(e *Match) (cexpr, error) {
	x, err := c.compile(e.X)
	if err != nil {
		return cexpr{}, err
	}
	m, err := c.compileMatcher(e)
	if err != nil {
		return cexpr{}, err
	}
	xv := x.val
	return c.fold(cexpr{val: func(d *event.Doc) event.Value {
		v := xv(d)
		if v.Kind == event.Null {
			return event.NullValue()
		}
		return event.BoolValue(m.match(v))
	}}, x), nil
}

func (c *exprCompiler) fieldMatchPred(e *Match) (predFn, bool, error) {
	f := asField(e.X)
	if f == nil {
		return nil, false, nil
	}
	ref, err := c.field(f)
	if err != nil {
		return nil, true, err
	}
	m, err := c.compileMatcher(e)
	if err != nil {
		return nil, true, err
	}
	return func(d *event.Doc) bool {
		for _, v := range ref.values(d) {
			if m.match(v) {
				return true
			}
		}
		return false
	}, true, nil
}
