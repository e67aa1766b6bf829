package eql

import (
	"strings"

	"github.com/vigilsec/vigil/event"
)

// "x in (...)", "x in~ (...)", "x not in (...)". in is case-sensitive
// equality; in~ is case-insensitive but verbatim (no wildcards), as ES's
// terms query with case_insensitive.

// inSet is a compiled list of constants.
type inSet struct {
	strs        map[string]struct{} // string members (lowercased for in~)
	others      []event.Value       // non-string members
	insensitive bool
	lowerBuf    []byte
	cmp         func(a, b event.Value) (int, bool)
}

func newInSet(list []event.Value, insensitive bool, cmp func(a, b event.Value) (int, bool)) *inSet {
	s := &inSet{strs: map[string]struct{}{}, insensitive: insensitive, cmp: cmp}
	for _, v := range list {
		if v.Kind == event.String {
			k := v.S
			if insensitive {
				k = strings.ToLower(k)
			}
			s.strs[k] = struct{}{}
			if _, ok := parseNumeric(v.S); ok || v.S == "true" || v.S == "false" {
				s.others = append(s.others, v) // may equal a number/bool value
			}
			continue
		}
		if v.Kind != event.Null {
			s.others = append(s.others, v)
		}
	}
	return s
}

func (s *inSet) contains(v event.Value) bool {
	if v.Kind == event.String {
		k := v.S
		if s.insensitive {
			s.lowerBuf, k = lowerInto(s.lowerBuf, k)
		}
		if _, ok := s.strs[k]; ok {
			return true
		}
	}
	for _, o := range s.others {
		if n, ok := s.cmp(v, o); ok && n == 0 {
			return true
		}
	}
	return false
}

func (c *exprCompiler) constList(list []Expr) ([]event.Value, bool, error) {
	vals := make([]event.Value, 0, len(list))
	for _, e := range list {
		ce, err := c.compile(e)
		if err != nil {
			return nil, false, err
		}
		if ce.lit == nil {
			return nil, false, nil
		}
		vals = append(vals, *ce.lit)
	}
	return vals, true, nil
}

func (c *exprCompiler) compileIn(e *In) (cexpr, error) {
	x, err := c.compile(e.X)
	if err != nil {
		return cexpr{}, err
	}
	consts, allConst, err := c.constList(e.List)
	if err != nil {
		return cexpr{}, err
	}
	neg := e.Negated
	xv := x.val
	if allConst {
		cmp := compareValues
		if x.field != nil {
			cmp = x.field.comparator()
			for i := range consts {
				consts[i] = x.field.convertLiteral(consts[i])
			}
		}
		set := newInSet(consts, e.Insensitive, cmp)
		return c.fold(cexpr{val: func(d *event.Doc) event.Value {
			v := xv(d)
			if v.Kind == event.Null {
				return event.NullValue()
			}
			return event.BoolValue(set.contains(v) != neg)
		}}, x), nil
	}
	items := make([]valFn, len(e.List))
	for i, it := range e.List {
		ce, err := c.compile(it)
		if err != nil {
			return cexpr{}, err
		}
		items[i] = ce.val
	}
	ins := e.Insensitive
	return cexpr{val: func(d *event.Doc) event.Value {
		v := xv(d)
		if v.Kind == event.Null {
			return event.NullValue()
		}
		found := false
		for _, it := range items {
			w := it(d)
			if ins && equalFold(v, w) {
				found = true
				break
			}
			if n, ok := compareValues(v, w); ok && n == 0 {
				found = true
				break
			}
		}
		return event.BoolValue(found != neg)
	}}, nil
}

// fieldInPred: any value of the field in the set; "not in" is its negation.
func (c *exprCompiler) fieldInPred(e *In) (predFn, bool, error) {
	f := asField(e.X)
	if f == nil {
		return nil, false, nil
	}
	consts, allConst, err := c.constList(e.List)
	if err != nil || !allConst {
		return nil, err != nil, err
	}
	ref, err := c.field(f)
	if err != nil {
		return nil, true, err
	}
	for i := range consts {
		consts[i] = ref.convertLiteral(consts[i])
	}
	set := newInSet(consts, e.Insensitive, ref.comparator())
	neg := e.Negated
	return func(d *event.Doc) bool {
		for _, v := range ref.values(d) {
			if v.Kind != event.Null && set.contains(v) {
				return !neg
			}
		}
		return neg
	}, true, nil
}
