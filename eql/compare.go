package eql

import (
	"github.com/vigilsec/vigil/event"
)

// Comparison operators: == != < <= > >=.
// ES rewrites "x == null" to IsNull(x) and "x != null" to IsNotNull(x)
// before anything else, so those read "missing or null" rather than null.

func cmpResult(op BinaryOp, c int) bool {
	switch op {
	case OpEq:
		return c == 0
	case OpNe:
		return c != 0
	case OpLt:
		return c < 0
	case OpLe:
		return c <= 0
	case OpGt:
		return c > 0
	}
	return c >= 0
}

// flip mirrors an operator for "literal op field" written the other way.
func flip(op BinaryOp) BinaryOp {
	switch op {
	case OpLt:
		return OpGt
	case OpLe:
		return OpGe
	case OpGt:
		return OpLt
	case OpGe:
		return OpLe
	}
	return op
}

func isNullLit(e cexpr) bool { return e.lit != nil && e.lit.Kind == event.Null }

// nullCheck handles == null / != null; ok is false when neither side is a
// null literal.
func (c *exprCompiler) nullCheck(op BinaryOp, l, r cexpr) (cexpr, bool) {
	if op != OpEq && op != OpNe {
		return cexpr{}, false
	}
	x := l
	if isNullLit(l) {
		x = r
	} else if !isNullLit(r) {
		return cexpr{}, false
	}
	wantNull := op == OpEq
	if x.field != nil {
		f := x.field
		return cexpr{val: func(d *event.Doc) event.Value {
			return event.BoolValue(fieldIsNull(f, d) == wantNull)
		}}, true
	}
	xv := x.val
	return c.fold(cexpr{val: func(d *event.Doc) event.Value {
		return event.BoolValue(xv(d).IsNull() == wantNull)
	}}, x), true
}

// fieldIsNull: no non-null value (missing, null or an empty array).
func fieldIsNull(f *fieldRef, d *event.Doc) bool {
	for _, v := range f.values(d) {
		if v.Kind != event.Null {
			return false
		}
	}
	return true
}

func (c *exprCompiler) compileComparison(e *Binary, l, r cexpr) (cexpr, error) {
	if nc, ok := c.nullCheck(e.Op, l, r); ok {
		return nc, nil
	}
	op := e.Op
	cmp := compareValues
	if l.field != nil && r.lit != nil {
		cmp = l.field.comparator()
		v := l.field.convertLiteral(*r.lit)
		r = cexpr{val: func(*event.Doc) event.Value { return v }, lit: &v}
	} else if r.field != nil && l.lit != nil {
		cmp = r.field.comparator()
		v := r.field.convertLiteral(*l.lit)
		l = cexpr{val: func(*event.Doc) event.Value { return v }, lit: &v}
	}
	lv, rv := l.val, r.val
	// ES folds two optional fields it has no mapping for to null literals,
	// and "null == null" to true; reading both as null does the same.
	bothOptional := (op == OpEq || op == OpNe) && l.field != nil && r.field != nil && l.field.optional && r.field.optional
	return c.fold(cexpr{val: func(d *event.Doc) event.Value {
		a, b := lv(d), rv(d)
		if bothOptional && a.Kind == event.Null && b.Kind == event.Null {
			return event.BoolValue(op == OpEq)
		}
		n, ok := cmp(a, b)
		if !ok {
			return event.NullValue()
		}
		return event.BoolValue(cmpResult(op, n))
	}}, l, r), nil
}

// fieldComparisonPred is the filter form of "field op literal": true if
// any value satisfies it; != is the negation of ==, as ES's must_not term.
func (c *exprCompiler) fieldComparisonPred(e *Binary) (predFn, bool, error) {
	lf, rf := asField(e.L), asField(e.R)
	ll, rl := asLiteral(e.L), asLiteral(e.R)
	op := e.Op
	var f *Field
	var lit *Literal
	switch {
	case lf != nil && rl != nil:
		f, lit = lf, rl
	case rf != nil && ll != nil:
		f, lit, op = rf, ll, flip(op)
	default:
		return nil, false, nil
	}
	ref, err := c.field(f)
	if err != nil {
		return nil, true, err
	}
	if lit.Val.Kind == event.Null {
		if op != OpEq && op != OpNe {
			return func(*event.Doc) bool { return false }, true, nil
		}
		want := op == OpEq
		return func(d *event.Doc) bool { return fieldIsNull(ref, d) == want }, true, nil
	}
	if ref.constNull {
		return func(*event.Doc) bool { return op == OpNe }, true, nil
	}
	v := ref.convertLiteral(lit.Val)
	cmp := ref.comparator()
	if op == OpNe {
		return func(d *event.Doc) bool {
			for _, x := range ref.values(d) {
				if n, ok := cmp(x, v); ok && n == 0 {
					return false
				}
			}
			return true
		}, true, nil
	}
	if op == OpEq && v.Kind == event.String && plainString(ref.info.typ, v.S) {
		s := v.S
		return func(d *event.Doc) bool {
			for _, x := range ref.values(d) {
				if x.Kind == event.String && x.S == s {
					return true
				}
			}
			return false
		}, true, nil
	}
	return func(d *event.Doc) bool {
		for _, x := range ref.values(d) {
			if n, ok := cmp(x, v); ok && cmpResult(op, n) {
				return true
			}
		}
		return false
	}, true, nil
}

func asField(e Expr) *Field {
	f, _ := e.(*Field)
	return f
}

func asLiteral(e Expr) *Literal {
	l, _ := e.(*Literal)
	return l
}

// plainString says a string literal compares with this field's values as
// bytes only (no numeric or boolean coercion can make another kind equal).
func plainString(t fieldType, s string) bool {
	if t != ftAny && t != ftKeyword && t != ftText {
		return false
	}
	if _, ok := parseNumeric(s); ok {
		return false
	}
	return s != "true" && s != "false"
}
