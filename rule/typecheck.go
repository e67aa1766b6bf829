package rule

import (
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/vigilsec/vigil/eql"
	"github.com/vigilsec/vigil/event"
	"github.com/vigilsec/vigil/schema"
)

// typeChecker finds what Elasticsearch would reject in a query given the
// field types, and nothing else. Its rules, from how Elasticsearch EQL
// verifies a query and then turns it into Query DSL:
//
//   - A comparison (==, !=, <, <=, >, >=, in, and ':' without wildcards) of a
//     long/double field with a string that is not a number, of an ip field
//     with a value that is not an address or CIDR, of a date field with a
//     string its formats cannot parse (date math such as now-1d is fine), of
//     a boolean field with a string other than true/false: the term or range
//     query cannot be built ("failed to create query").
//   - ':' with a wildcard pattern, like and regex on a numeric, ip, date or
//     boolean field: Elasticsearch builds wildcard and regexp queries only on
//     string fields (like/regex fail verification).
//   - A text field without a keyword sub-field in an exact comparison, a
//     pattern match or a string function: it has no exact value to compare.
//   - A function argument of the wrong field type: string functions need a
//     keyword (or exact text) field, arithmetic needs numbers, cidrMatch an
//     ip field.
//
// Only fields whose type is certain are checked: a field missing from the
// types is a warning (unless it is ?optional), and fields whose sources
// disagree, objects and types EQL does not support are left alone.
type typeChecker struct {
	r      *Rule
	types  *schema.Mapping
	errs   []*LoadError
	warns  []*LoadError
	warned map[string]bool
}

func (c *typeChecker) errorf(p eql.Pos, format string, args ...any) {
	c.errs = append(c.errs, c.r.queryErrorAt(p, fmt.Sprintf(format, args...)))
}

// lookup resolves a field; ok is false when its type is unknown or
// uncertain. Unknown fields are warned about once.
func (c *typeChecker) lookup(f *eql.Field) (schema.Field, bool) {
	_, fd, ok := c.types.Resolve(f.Name)
	if !ok {
		if !f.Optional && !c.warned[f.Name] && !c.known(f.Name) {
			c.warned[f.Name] = true
			c.warns = append(c.warns, c.r.queryErrorAt(f.P, fmt.Sprintf("unknown field [%s]: not in the field types", f.Name)))
		}
		return fd, false
	}
	switch fd.Type {
	case schema.Keyword, schema.Text, schema.Long, schema.Double, schema.Boolean, schema.Date, schema.IP, schema.Version:
		return fd, true
	}
	return fd, false
}

// known reports fields that exist without being mapped: the query's own
// settings, and sub-fields of flattened or object fields.
func (c *typeChecker) known(name string) bool {
	for p := name; ; {
		i := strings.LastIndexByte(p, '.')
		if i < 0 {
			return false
		}
		p = p[:i]
		if _, fd, ok := c.types.Resolve(p); ok && (fd.ESType == "flattened" || fd.Type == schema.Object && fd.ESType == "object" && c.isLeafObject(p)) {
			return true
		}
	}
}

// isLeafObject: an object field the types give no sub-fields for (such
// as labels), whose sub-fields are dynamic.
func (c *typeChecker) isLeafObject(name string) bool {
	names := fieldNames(c.types)
	i := sort.SearchStrings(names, name+".")
	return i >= len(names) || !strings.HasPrefix(names[i], name+".")
}

// fieldNames caches the sorted field names of a mapping.
var namesCache sync.Map // *schema.Mapping -> []string

func fieldNames(m *schema.Mapping) []string {
	if v, ok := namesCache.Load(m); ok {
		return v.([]string)
	}
	fs := m.Fields()
	names := make([]string, len(fs))
	for i, f := range fs {
		names[i] = f.Name
	}
	namesCache.Store(m, names)
	return names
}

func (c *typeChecker) query(q *eql.Query) {
	switch q.Kind {
	case eql.EventQuery:
		c.expr(q.Event.Cond)
	case eql.SequenceQuery:
		c.fields(q.Sequence.By)
		for _, t := range q.Sequence.Terms {
			c.term(t)
		}
		if q.Sequence.Until != nil {
			c.term(q.Sequence.Until)
		}
	case eql.SampleQuery:
		c.fields(q.Sample.By)
		for _, t := range q.Sample.Terms {
			c.term(t)
		}
	}
}

func (c *typeChecker) term(t *eql.Term) {
	c.expr(t.Filter.Cond)
	c.fields(t.By)
}

func (c *typeChecker) fields(fs []*eql.Field) {
	for _, f := range fs {
		c.lookup(f)
	}
}

// literal returns a constant operand (a literal, or a negated number).
func literal(e eql.Expr) (*eql.Literal, bool) {
	switch e := e.(type) {
	case *eql.Literal:
		return e, true
	case *eql.Unary:
		if l, ok := e.X.(*eql.Literal); ok && e.Op == eql.OpNeg {
			switch l.Val.Kind {
			case event.Int:
				return &eql.Literal{P: e.P, Val: event.IntValue(-l.Val.I)}, true
			case event.Float:
				return &eql.Literal{P: e.P, Val: event.FloatValue(-l.Val.F)}, true
			}
		}
	}
	return nil, false
}

func (c *typeChecker) expr(e eql.Expr) {
	switch e := e.(type) {
	case nil, *eql.Literal:
	case *eql.Field:
		c.lookup(e)
	case *eql.Unary:
		if f, ok := e.X.(*eql.Field); ok && e.Op == eql.OpNeg {
			c.numericOperand(f, "-")
			return
		}
		c.expr(e.X)
	case *eql.Binary:
		switch e.Op {
		case eql.OpAnd, eql.OpOr:
			c.expr(e.L)
			c.expr(e.R)
		case eql.OpEq, eql.OpNe, eql.OpLt, eql.OpLe, eql.OpGt, eql.OpGe:
			if f, ok := e.L.(*eql.Field); ok {
				if l, ok := literal(e.R); ok {
					c.compare(f, e.Op.String(), l)
					return
				}
			}
			if f, ok := e.R.(*eql.Field); ok {
				if l, ok := literal(e.L); ok {
					c.compare(f, e.Op.String(), l)
					return
				}
			}
			c.operand(e.L, e.Op.String())
			c.operand(e.R, e.Op.String())
		default: // arithmetic
			for _, x := range []eql.Expr{e.L, e.R} {
				if f, ok := x.(*eql.Field); ok {
					c.numericOperand(f, e.Op.String())
				} else {
					c.expr(x)
				}
			}
		}
	case *eql.In:
		op := "in"
		if e.Insensitive {
			op = "in~"
		}
		if f, ok := e.X.(*eql.Field); ok {
			for _, item := range e.List {
				if l, ok := literal(item); ok {
					c.compare(f, op, l)
				} else {
					c.expr(item)
				}
			}
			c.lookup(f)
			return
		}
		c.expr(e.X)
		for _, item := range e.List {
			c.expr(item)
		}
	case *eql.Match:
		if f, ok := e.X.(*eql.Field); ok {
			c.match(f, e)
			return
		}
		c.expr(e.X)
	case *eql.Call:
		c.call(e)
	}
}

// operand checks a comparison operand that is not part of a field/literal
// pair: a text field cannot be compared exactly.
func (c *typeChecker) operand(x eql.Expr, op string) {
	if f, ok := x.(*eql.Field); ok {
		if fd, ok := c.lookup(f); ok && fd.Type == schema.Text {
			c.errorf(f.P, "%s", noExact(f.Name, fd, op))
		}
		return
	}
	c.expr(x)
}

func noExact(name string, fd schema.Field, op string) string {
	return fmt.Sprintf("[%s] cannot be used with %s: field [%s] is [%s] with no keyword sub-field, so Elasticsearch has no exact value to compare", op, op, name, fd.ESType)
}

func (c *typeChecker) numericOperand(f *eql.Field, op string) {
	fd, ok := c.lookup(f)
	if !ok {
		return
	}
	if fd.Type != schema.Long && fd.Type != schema.Double {
		c.errorf(f.P, "[%s] needs numbers: field [%s] is [%s]", op, f.Name, fd.ESType)
	}
}

// compare checks "field op literal".
func (c *typeChecker) compare(f *eql.Field, op string, l *eql.Literal) {
	fd, ok := c.lookup(f)
	if !ok {
		return
	}
	v := l.Val
	if v.Kind == event.Null {
		return
	}
	reject := func(why string) {
		c.errorf(l.P, "field [%s] is [%s] and %s: Elasticsearch fails the query", f.Name, fd.ESType, why)
	}
	switch fd.Type {
	case schema.Text:
		c.errorf(f.P, "%s", noExact(f.Name, fd, op))
	case schema.Long, schema.Double:
		if v.Kind == event.String && !isNumber(v.S) {
			reject(fmt.Sprintf("%s is not a number", strconv.Quote(v.S)))
		}
	case schema.IP:
		switch v.Kind {
		case event.String:
			if !isIPOrCIDR(v.S, op) {
				reject(fmt.Sprintf("%s is not an IP address", strconv.Quote(v.S)))
			}
		case event.Int, event.Float:
			reject(fmt.Sprintf("%s is not an IP address", v.String()))
		}
	case schema.Date:
		if v.Kind == event.String && !isDateMath(v.S) {
			if _, ok := schema.ParseDate(v.S, fd.Formats); !ok {
				reject(fmt.Sprintf("%s is not a date in its format", strconv.Quote(v.S)))
			}
		}
	case schema.Boolean:
		if v.Kind == event.String {
			if _, ok := schema.ParseBool(v.S); !ok {
				reject(fmt.Sprintf("%s is not true or false", strconv.Quote(v.S)))
			}
		}
	}
}

func (c *typeChecker) match(f *eql.Field, m *eql.Match) {
	fd, ok := c.lookup(f)
	op := map[eql.MatchKind]string{eql.MatchSeq: ":", eql.MatchLike: "like", eql.MatchRegex: "regex"}[m.Kind]
	if m.Insensitive && m.Kind != eql.MatchSeq {
		op += "~"
	}
	if !ok {
		return
	}
	switch fd.Type {
	case schema.Keyword, schema.Version:
		return
	case schema.Text:
		c.errorf(f.P, "%s", noExact(f.Name, fd, op))
		return
	}
	if m.Kind != eql.MatchSeq {
		c.errorf(f.P, "[%s] needs a string field: field [%s] is [%s], and Elasticsearch rejects the query", op, f.Name, fd.ESType)
		return
	}
	for _, p := range m.Patterns {
		l, ok := literal(p)
		if !ok {
			continue
		}
		if l.Val.Kind == event.String && strings.ContainsAny(l.Val.S, "*?") {
			c.errorf(l.P, "field [%s] is [%s]: Elasticsearch runs wildcard patterns only on string fields and fails the query", f.Name, fd.ESType)
			continue
		}
		c.compare(f, op, l)
	}
}

// Argument kinds of the EQL functions.
const (
	argAny     = 'a' // anything exact
	argString  = 's'
	argNumeric = 'n'
	argIP      = 'i'
)

var fnArgs = map[string]string{
	"add": "nn", "subtract": "nn", "multiply": "nn", "divide": "nn", "modulo": "nn",
	"between": "sss", "cidrMatch": "i", "concat": "", "endsWith": "ss", "startsWith": "ss",
	"stringContains": "ss", "indexOf": "ssn", "length": "s", "number": "sn", "string": "a",
	"substring": "snn",
}

var argKindName = map[byte]string{argString: "a string", argNumeric: "a number", argIP: "an ip"}

func (c *typeChecker) call(e *eql.Call) {
	kinds, known := fnArgs[e.Name]
	for i, a := range e.Args {
		f, isField := a.(*eql.Field)
		if !isField {
			c.expr(a)
			continue
		}
		fd, ok := c.lookup(f)
		if !ok || !known {
			continue
		}
		kind := byte(argAny)
		if i < len(kinds) {
			kind = kinds[i]
		}
		if fd.Type == schema.Text && e.Name != "string" {
			c.errorf(f.P, "%s", noExact(f.Name, fd, e.Name))
			continue
		}
		var good bool
		switch kind {
		case argString:
			good = fd.Type == schema.Keyword || fd.Type == schema.Version
		case argNumeric:
			good = fd.Type == schema.Long || fd.Type == schema.Double
		case argIP:
			good = fd.Type == schema.IP
		default:
			good = true
		}
		if !good {
			c.errorf(f.P, "argument %d of %s must be %s: field [%s] is [%s], and Elasticsearch rejects the query", i+1, e.Name, argKindName[kind], f.Name, fd.ESType)
		}
	}
}

func isNumber(s string) bool {
	s = strings.TrimSpace(s)
	if s == "" {
		return false
	}
	if _, err := strconv.ParseInt(s, 10, 64); err == nil {
		return true
	}
	_, err := strconv.ParseFloat(s, 64)
	return err == nil && !strings.ContainsAny(s, "xXpP_") && !strings.EqualFold(strings.TrimLeft(s, "+-"), "inf") && !strings.EqualFold(strings.TrimLeft(s, "+-"), "infinity") && !strings.EqualFold(s, "nan")
}

// isIPOrCIDR: Elasticsearch's term query on an ip field takes an address
// or a CIDR block; a range bound must be an address.
func isIPOrCIDR(s, op string) bool {
	if _, ok := schema.ParseIP(s); ok {
		return true
	}
	if op == "==" || op == "!=" || op == ":" || strings.HasPrefix(op, "in") {
		if _, err := netip.ParsePrefix(s); err == nil {
			return true
		}
	}
	return false
}

// isDateMath: Elasticsearch date fields accept date math in queries.
func isDateMath(s string) bool {
	return strings.HasPrefix(s, "now") || strings.Contains(s, "||")
}
