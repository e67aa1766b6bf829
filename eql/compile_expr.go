package eql

import (
	"github.com/vigilsec/vigil/event"
)

// Expressions compile to closures over *event.Doc. Every node has a scalar
// form (three-valued, as ES scripts evaluate) and boolean nodes also a
// predicate form, which is how ES runs a filter: translated to Query DSL,
// where a leaf over a multi-valued field matches if any value matches, and
// not/and/or are two-valued (a missing field makes a leaf false, and
// "not leaf" true).

type valFn func(d *event.Doc) event.Value
type predFn func(d *event.Doc) bool

// cexpr is a compiled expression.
type cexpr struct {
	val   valFn
	field *fieldRef    // set when the expression is a bare field
	lit   *event.Value // set when the expression is a constant
}

// exprCompiler compiles expressions for one index (one set of field types).
type exprCompiler struct {
	src   string
	types *typeInfo
}

func (c *exprCompiler) errf(p Pos, format string, args ...any) *Error {
	return errorf(c.src, p, format, args...)
}

// compile returns the scalar form of e.
func (c *exprCompiler) compile(e Expr) (cexpr, error) {
	switch e := e.(type) {
	case *Literal:
		v := e.Val
		return cexpr{val: func(*event.Doc) event.Value { return v }, lit: &v}, nil
	case *Field:
		f, err := c.field(e)
		if err != nil {
			return cexpr{}, err
		}
		if f.constNull {
			v := event.NullValue()
			return cexpr{val: func(*event.Doc) event.Value { return v }, lit: &v}, nil
		}
		return cexpr{val: f.first, field: f}, nil
	case *Unary:
		x, err := c.compile(e.X)
		if err != nil {
			return cexpr{}, err
		}
		if e.Op == OpNot {
			xv := x.val
			return c.fold(cexpr{val: func(d *event.Doc) event.Value {
				v := xv(d)
				if v.Kind != event.Bool {
					return event.NullValue()
				}
				return event.BoolValue(!v.B)
			}}, x), nil
		}
		return c.fold(cexpr{val: negate(x.val)}, x), nil
	case *Binary:
		return c.compileBinary(e)
	case *In:
		return c.compileIn(e)
	case *Match:
		return c.compileMatch(e)
	case *Call:
		return c.compileCall(e)
	}
	return cexpr{}, c.errf(e.Pos(), "unsupported expression")
}

// fold evaluates constant sub-expressions once at compile time.
func (c *exprCompiler) fold(r cexpr, args ...cexpr) cexpr {
	for _, a := range args {
		if a.lit == nil {
			return r
		}
	}
	v := r.val(nil)
	return cexpr{val: func(*event.Doc) event.Value { return v }, lit: &v}
}

func (c *exprCompiler) compileBinary(e *Binary) (cexpr, error) {
	l, err := c.compile(e.L)
	if err != nil {
		return cexpr{}, err
	}
	r, err := c.compile(e.R)
	if err != nil {
		return cexpr{}, err
	}
	lv, rv := l.val, r.val
	switch e.Op {
	case OpAnd:
		return c.fold(cexpr{val: func(d *event.Doc) event.Value {
			a := lv(d)
			if a.Kind == event.Bool && !a.B {
				return a
			}
			b := rv(d)
			if b.Kind == event.Bool && !b.B {
				return b
			}
			if a.Kind != event.Bool || b.Kind != event.Bool {
				return event.NullValue()
			}
			return event.BoolValue(true)
		}}, l, r), nil
	case OpOr:
		return c.fold(cexpr{val: func(d *event.Doc) event.Value {
			a := lv(d)
			if a.Kind == event.Bool && a.B {
				return a
			}
			b := rv(d)
			if b.Kind == event.Bool && b.B {
				return b
			}
			if a.Kind != event.Bool || b.Kind != event.Bool {
				return event.NullValue()
			}
			return event.BoolValue(false)
		}}, l, r), nil
	case OpEq, OpNe, OpLt, OpLe, OpGt, OpGe:
		return c.compileComparison(e, l, r)
	default:
		return c.compileArith(e, l, r)
	}
}

// pred returns the predicate (filter) form of e.
func (c *exprCompiler) pred(e Expr) (predFn, error) {
	switch x := e.(type) {
	case *Binary:
		switch x.Op {
		case OpAnd, OpOr:
			l, err := c.pred(x.L)
			if err != nil {
				return nil, err
			}
			r, err := c.pred(x.R)
			if err != nil {
				return nil, err
			}
			if x.Op == OpAnd {
				return func(d *event.Doc) bool { return l(d) && r(d) }, nil
			}
			return func(d *event.Doc) bool { return l(d) || r(d) }, nil
		case OpEq, OpNe, OpLt, OpLe, OpGt, OpGe:
			if p, ok, err := c.fieldComparisonPred(x); ok || err != nil {
				return p, err
			}
		}
	case *Unary:
		if x.Op == OpNot {
			p, err := c.pred(x.X)
			if err != nil {
				return nil, err
			}
			return func(d *event.Doc) bool { return !p(d) }, nil
		}
	case *In:
		if p, ok, err := c.fieldInPred(x); ok || err != nil {
			return p, err
		}
	case *Match:
		if p, ok, err := c.fieldMatchPred(x); ok || err != nil {
			return p, err
		}
	}
	ce, err := c.compile(e)
	if err != nil {
		return nil, err
	}
	if ce.lit != nil {
		t := truthy(*ce.lit)
		return func(*event.Doc) bool { return t }, nil
	}
	v := ce.val
	return func(d *event.Doc) bool { return truthy(v(d)) }, nil
}
