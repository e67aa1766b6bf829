package eql

import (
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/vigilsec/vigil/event"
	"github.com/vigilsec/vigil/schema"
)

// The ES EQL functions. Any null argument gives null (except where noted);
// string positions are Java's (UTF-16 code units), so results match ES for
// non-ASCII text too. fn~ variants compare case-insensitively.

type fnImpl func(args []event.Value, insensitive bool) event.Value

var functions = map[string]fnImpl{
	"add":            func(a []event.Value, _ bool) event.Value { return arith(OpAdd, a[0], a[1]) },
	"subtract":       func(a []event.Value, _ bool) event.Value { return arith(OpSub, a[0], a[1]) },
	"multiply":       func(a []event.Value, _ bool) event.Value { return arith(OpMul, a[0], a[1]) },
	"divide":         func(a []event.Value, _ bool) event.Value { return arith(OpDiv, a[0], a[1]) },
	"modulo":         func(a []event.Value, _ bool) event.Value { return arith(OpMod, a[0], a[1]) },
	"between":        fnBetween,
	"concat":         fnConcat,
	"endsWith":       fnStringTest(strings.HasSuffix),
	"startsWith":     fnStringTest(strings.HasPrefix),
	"stringContains": fnStringTest(strings.Contains),
	"indexOf":        fnIndexOf,
	"length":         fnLength,
	"number":         fnNumber,
	"string":         fnString,
	"substring":      fnSubstring,
}

func (c *exprCompiler) compileCall(e *Call) (cexpr, error) {
	impl := functions[e.Name]
	args := make([]cexpr, len(e.Args))
	fns := make([]valFn, len(e.Args))
	for i, a := range e.Args {
		ce, err := c.compile(a)
		if err != nil {
			return cexpr{}, err
		}
		args[i], fns[i] = ce, ce.val
	}
	if err := c.checkCallArgs(e, args); err != nil {
		return cexpr{}, err
	}
	if e.Name == "cidrMatch" {
		// The ranges are constants (checkCallArgs): parse them once.
		var ranges []schema.CIDR
		for _, a := range args[1:] {
			r, err := schema.ParseCIDR(a.lit.S)
			if err != nil { // checked above; kept for safety
				return cexpr{}, c.errf(e.P, "cidrMatch: %v", err)
			}
			ranges = append(ranges, r)
		}
		ip := fns[0]
		return c.fold(cexpr{val: func(d *event.Doc) event.Value {
			s, ok := str(ip(d))
			if !ok {
				return event.NullValue()
			}
			a, ok := schema.ParseIP(s)
			if !ok {
				return event.BoolValue(false)
			}
			for _, r := range ranges {
				if r.Contains(a) {
					return event.BoolValue(true)
				}
			}
			return event.BoolValue(false)
		}}, args...), nil
	}
	ins := e.Insensitive
	buf := make([]event.Value, len(fns))
	return c.fold(cexpr{val: func(d *event.Doc) event.Value {
		for i, f := range fns {
			buf[i] = f(d)
		}
		return impl(buf, ins)
	}}, args...), nil
}

// checkCallArgs rejects constant arguments of the wrong type, as ES's
// verifier does, so a typo fails at compile time with a position.
func (c *exprCompiler) checkCallArgs(e *Call, args []cexpr) error {
	numericArgs := map[string][]int{
		"add": {0, 1}, "subtract": {0, 1}, "multiply": {0, 1}, "divide": {0, 1}, "modulo": {0, 1},
		"indexOf": {2}, "substring": {1, 2}, "number": {1},
	}
	for _, i := range numericArgs[e.Name] {
		if i < len(args) && args[i].lit != nil {
			k := args[i].lit.Kind
			if k != event.Int && k != event.Float && k != event.Null {
				return c.errf(e.Args[i].Pos(), "argument %d of %s must be a number", i+1, e.Name)
			}
		}
	}
	if e.Name == "cidrMatch" {
		for i := 1; i < len(args); i++ {
			if args[i].lit == nil || args[i].lit.Kind != event.String {
				return c.errf(e.Args[i].Pos(), "cidrMatch takes constant CIDR strings after the address")
			}
			if _, err := schema.ParseCIDR(args[i].lit.S); err != nil {
				return c.errf(e.Args[i].Pos(), "invalid CIDR %q: %v", args[i].lit.S, err)
			}
		}
	}
	return nil
}

// str reads a value as a string argument (numbers render as text).
func str(v event.Value) (string, bool) {
	switch v.Kind {
	case event.Null:
		return "", false
	case event.String:
		return v.S, true
	}
	return v.String(), true
}

func fnStringTest(test func(s, sub string) bool) fnImpl {
	return func(a []event.Value, ins bool) event.Value {
		s, ok1 := str(a[0])
		sub, ok2 := str(a[1])
		if !ok1 || !ok2 {
			return event.NullValue()
		}
		if ins {
			s, sub = strings.ToLower(s), strings.ToLower(sub)
		}
		return event.BoolValue(test(s, sub))
	}
}

func fnBetween(a []event.Value, ins bool) event.Value {
	src, ok1 := str(a[0])
	left, ok2 := str(a[1])
	right, ok3 := str(a[2])
	if !ok1 || !ok2 || !ok3 {
		return event.NullValue()
	}
	greedy := false
	if len(a) > 3 {
		if a[3].Kind == event.Bool {
			greedy = a[3].B
		} else if a[3].Kind != event.Null {
			return event.NullValue()
		}
	}
	m, l, r := src, left, right
	if ins {
		m, l, r = strings.ToLower(src), strings.ToLower(left), strings.ToLower(right)
		if len(m) != len(src) { // lower-casing changed byte lengths: work on the lowered text
			src = m
		}
	}
	start := strings.Index(m, l)
	if start < 0 {
		return event.StringValue("")
	}
	start += len(l)
	var end int
	if greedy {
		end = strings.LastIndex(m, r)
	} else {
		end = strings.Index(m[start:], r)
		if end >= 0 {
			end += start
		}
	}
	if end < start {
		return event.StringValue("")
	}
	return event.StringValue(src[start:end])
}

func fnConcat(a []event.Value, _ bool) event.Value {
	var b strings.Builder
	for _, v := range a {
		s, ok := str(v)
		if !ok {
			return event.NullValue()
		}
		b.WriteString(s)
	}
	return event.StringValue(b.String())
}

// toUnits and fromUnits convert between Go strings and Java UTF-16 indexes.
func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func fnIndexOf(a []event.Value, ins bool) event.Value {
	s, ok1 := str(a[0])
	sub, ok2 := str(a[1])
	if !ok1 || !ok2 {
		return event.NullValue()
	}
	start := int64(0)
	if len(a) > 2 && a[2].Kind != event.Null {
		n, ok := a[2].Num()
		if !ok {
			return event.NullValue()
		}
		start = int64(n)
	}
	if ins {
		s, sub = strings.ToLower(s), strings.ToLower(sub)
	}
	if start < 0 {
		start = 0
	}
	if isASCII(s) && isASCII(sub) {
		if start > int64(len(s)) {
			return event.NullValue()
		}
		i := strings.Index(s[start:], sub)
		if i < 0 {
			return event.NullValue()
		}
		return event.IntValue(int64(i) + start)
	}
	u, su := utf16.Encode([]rune(s)), utf16.Encode([]rune(sub))
	for i := int(start); i+len(su) <= len(u); i++ {
		match := true
		for j := range su {
			if u[i+j] != su[j] {
				match = false
				break
			}
		}
		if match {
			return event.IntValue(int64(i))
		}
	}
	return event.NullValue()
}

func fnLength(a []event.Value, _ bool) event.Value {
	s, ok := str(a[0])
	if !ok {
		return event.NullValue()
	}
	return event.IntValue(int64(javaLength(s)))
}

// fnNumber follows ES's ToNumberFunctionProcessor: a "0x" prefix means
// base 16 when no base is given; bases other than 10 parse a 32-bit int,
// base 10 a long or a double. Where ES fails the query (not a string, bad
// base or digits) one event's value is null here.
func fnNumber(a []event.Value, _ bool) event.Value {
	if a[0].Kind == event.Null {
		return event.NullValue()
	}
	if a[0].Kind != event.String {
		return event.NullValue()
	}
	s := a[0].S
	hex := strings.HasPrefix(s, "0x")
	base := int64(10)
	if len(a) > 1 && a[1].Kind != event.Null {
		if a[1].Kind != event.Int || a[1].I < 2 || a[1].I > 36 {
			return event.NullValue()
		}
		base = a[1].I
	} else if hex {
		base = 16
	}
	if hex && base == 16 {
		s = s[2:]
	}
	if base != 10 {
		i, err := strconv.ParseInt(s, int(base), 32)
		if err != nil {
			return event.NullValue()
		}
		return event.IntValue(i)
	}
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return event.IntValue(i)
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && !strings.ContainsAny(s, "eEnNiI_xXpP") {
		return event.FloatValue(f)
	}
	return event.NullValue()
}

// fnString renders null as "null", as ES's ToStringFunctionProcessor does.
func fnString(a []event.Value, _ bool) event.Value {
	s, ok := str(a[0])
	if !ok {
		return event.StringValue("null")
	}
	return event.StringValue(s)
}

// fnSubstring slices like Python: negative positions count from the end.
func fnSubstring(a []event.Value, _ bool) event.Value {
	s, ok := str(a[0])
	if !ok || a[1].Kind == event.Null {
		return event.NullValue()
	}
	st, ok := a[1].Num()
	if !ok {
		return event.NullValue()
	}
	ascii := isASCII(s)
	var u []uint16
	n := len(s)
	if !ascii {
		u = utf16.Encode([]rune(s))
		n = len(u)
	}
	start := int(st)
	end := n
	if len(a) > 2 && a[2].Kind != event.Null {
		en, ok := a[2].Num()
		if !ok {
			return event.NullValue()
		}
		end = int(en)
	}
	if start < 0 {
		start += n
	}
	if end < 0 {
		end += n
	}
	start = clamp(start, 0, n)
	end = clamp(end, 0, n)
	if start >= end {
		return event.StringValue("")
	}
	if ascii {
		return event.StringValue(s[start:end])
	}
	return event.StringValue(string(utf16.Decode(u[start:end])))
}

func clamp(v, lo, hi int) int {
	if v < lo {
		return lo
	}
	if v > hi {
		return hi
	}
	return v
}
