package eql

import (
	"math"

	"github.com/vigilsec/vigil/event"
)

// Arithmetic: long op long stays long (Java semantics: / truncates, %
// takes the dividend's sign); any double makes a double. Null, a
// non-number, division by zero or long overflow yield null.

func arith(op BinaryOp, a, b event.Value) event.Value {
	if a.Kind == event.String {
		if n, ok := parseNumeric(a.S); ok {
			a = n
		}
	}
	if b.Kind == event.String {
		if n, ok := parseNumeric(b.S); ok {
			b = n
		}
	}
	if a.Kind == event.Int && b.Kind == event.Int {
		x, y := a.I, b.I
		switch op {
		case OpAdd:
			r := x + y
			if (r > x) != (y > 0) {
				return event.NullValue()
			}
			return event.IntValue(r)
		case OpSub:
			r := x - y
			if (r < x) != (y > 0) {
				return event.NullValue()
			}
			return event.IntValue(r)
		case OpMul:
			if x != 0 && y != 0 {
				r := x * y
				if r/y != x || (x == -1 && y == math.MinInt64) || (y == -1 && x == math.MinInt64) {
					return event.NullValue()
				}
				return event.IntValue(r)
			}
			return event.IntValue(0)
		case OpDiv:
			if y == 0 || (x == math.MinInt64 && y == -1) {
				return event.NullValue()
			}
			return event.IntValue(x / y)
		case OpMod:
			if y == 0 {
				return event.NullValue()
			}
			return event.IntValue(x % y)
		}
	}
	x, ok1 := a.Num()
	y, ok2 := b.Num()
	if !ok1 || !ok2 {
		return event.NullValue()
	}
	switch op {
	case OpAdd:
		return event.FloatValue(x + y)
	case OpSub:
		return event.FloatValue(x - y)
	case OpMul:
		return event.FloatValue(x * y)
	case OpDiv:
		if y == 0 {
			return event.NullValue()
		}
		return event.FloatValue(x / y)
	case OpMod:
		if y == 0 {
			return event.NullValue()
		}
		return event.FloatValue(math.Mod(x, y))
	}
	return event.NullValue()
}

func (c *exprCompiler) compileArith(e *Binary, l, r cexpr) (cexpr, error) {
	op := e.Op
	for _, x := range []cexpr{l, r} {
		if x.lit != nil && x.lit.Kind != event.Null {
			if _, ok := x.lit.Num(); !ok {
				if _, ok := parseNumeric(x.lit.S); !ok || x.lit.Kind != event.String {
					return cexpr{}, c.errf(e.P, "'%s' needs numbers, not %s", op, x.lit.String())
				}
			}
		}
	}
	lv, rv := l.val, r.val
	return c.fold(cexpr{val: func(d *event.Doc) event.Value { return arith(op, lv(d), rv(d)) }}, l, r), nil
}

func negate(x valFn) valFn {
	return func(d *event.Doc) event.Value {
		v := x(d)
		switch v.Kind {
		case event.Int:
			if v.I == math.MinInt64 {
				return event.NullValue()
			}
			return event.IntValue(-v.I)
		case event.Float:
			return event.FloatValue(-v.F)
		}
		return event.NullValue()
	}
}
