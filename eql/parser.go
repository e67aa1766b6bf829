package eql

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/vigilsec/vigil/event"
)

// keywords cannot be used as bare field names or categories (quote them
// with backticks). They are lower case: ES's grammar is case-sensitive here.
var keywords = map[string]bool{
	"and": true, "or": true, "not": true, "in": true, "like": true, "regex": true,
	"where": true, "sequence": true, "sample": true, "by": true, "with": true,
	"maxspan": true, "until": true, "any": true, "true": true, "false": true,
	"null": true, "join": true, "of": true,
}

// Parse parses an EQL query (Elasticsearch dialect).
func Parse(src string) (*Query, error) {
	p := &parser{lx: newLexer(src), src: src}
	q, err := p.parseQuery()
	if err != nil {
		return nil, err
	}
	return q, nil
}

type parser struct {
	lx   *lexer
	src  string
	tok  token
	peek *token
}

// bail aborts parsing with a positioned error; parseQuery recovers it.
type bail struct{ err *Error }

func (p *parser) fail(pos Pos, format string, args ...any) {
	panic(bail{errorf(p.src, pos, format, args...)})
}

func (p *parser) next() token {
	if p.peek != nil {
		p.tok = *p.peek
		p.peek = nil
		return p.tok
	}
	t, err := p.lx.next()
	if err != nil {
		panic(bail{err})
	}
	p.tok = t
	return t
}

func (p *parser) lookahead() token {
	if p.peek == nil {
		t, err := p.lx.next()
		if err != nil {
			panic(bail{err})
		}
		p.peek = &t
	}
	return *p.peek
}

func (p *parser) isOp(s string) bool    { return p.tok.kind == tOp && p.tok.text == s }
func (p *parser) isKw(s string) bool    { return p.tok.kind == tIdent && p.tok.text == s && !p.tok.tilde }
func (p *parser) isKwAny(s string) bool { return p.tok.kind == tIdent && p.tok.text == s }

func (p *parser) describe(t token) string {
	switch t.kind {
	case tEOF:
		return "end of query"
	case tString:
		return strconv.Quote(t.text)
	case tQuotedIdent:
		return "`" + t.text + "`"
	}
	s := t.text
	if t.tilde {
		s += "~"
	}
	return "'" + s + "'"
}

func (p *parser) expectOp(s string) token {
	if !p.isOp(s) {
		p.fail(p.tok.pos, "expected '%s' but found %s", s, p.describe(p.tok))
	}
	t := p.tok
	p.next()
	return t
}

func (p *parser) expectKw(s string) {
	if !p.isKw(s) {
		p.fail(p.tok.pos, "expected '%s' but found %s", s, p.describe(p.tok))
	}
	p.next()
}

func (p *parser) parseQuery() (q *Query, err error) {
	defer func() {
		if r := recover(); r != nil {
			b, ok := r.(bail)
			if !ok {
				panic(r)
			}
			q, err = nil, b.err
		}
	}()
	p.next()
	q = &Query{Src: p.src}
	switch {
	case p.isKw("sequence"):
		q.Kind = SequenceQuery
		q.Sequence = p.parseSequence()
	case p.isKw("sample"):
		q.Kind = SampleQuery
		q.Sample = p.parseSample()
	case p.isKw("join"):
		p.fail(p.tok.pos, "join is not supported by Elasticsearch EQL; use sequence")
	default:
		q.Kind = EventQuery
		f := p.parseEventFilter()
		q.Event = &f
	}
	for p.isOp("|") {
		q.Pipes = append(q.Pipes, p.parsePipe())
	}
	if p.tok.kind != tEOF {
		p.fail(p.tok.pos, "unexpected %s after the end of the query", p.describe(p.tok))
	}
	return q, nil
}

func (p *parser) parsePipe() Pipe {
	p.expectOp("|")
	pos := p.tok.pos
	if p.tok.kind != tIdent {
		p.fail(pos, "expected a pipe name (head or tail) but found %s", p.describe(p.tok))
	}
	kind := p.tok.text
	switch kind {
	case "head", "tail":
	case "count", "unique", "unique_count", "filter", "sort", "window":
		p.fail(pos, "pipe '%s' is not supported by Elasticsearch EQL (only head and tail)", kind)
	default:
		p.fail(pos, "unknown pipe '%s' (only head and tail are supported)", kind)
	}
	p.next()
	n := 10 // ES's default for head/tail without a number
	if p.tok.kind == tNumber {
		v, err := strconv.Atoi(p.tok.text)
		if err != nil || v < 0 {
			p.fail(p.tok.pos, "%s takes a non-negative integer, not %s", kind, p.tok.text)
		}
		n = v
		p.next()
	} else if p.isOp("-") {
		p.fail(p.tok.pos, "%s takes a non-negative integer", kind)
	}
	return Pipe{P: pos, Kind: kind, N: n}
}

func (p *parser) parseEventFilter() EventFilter {
	f := EventFilter{P: p.tok.pos}
	switch {
	case p.isKw("any"):
		p.next()
	case p.tok.kind == tString:
		f.Category = p.tok.text
		p.next()
	case p.tok.kind == tIdent && !keywords[p.tok.text] && !p.tok.tilde, p.tok.kind == tQuotedIdent:
		f.Category = p.tok.text
		p.next()
	default:
		p.fail(p.tok.pos, "expected an event category, 'any', 'sequence' or 'sample' but found %s", p.describe(p.tok))
	}
	p.expectKw("where")
	f.Cond = p.parseExpr()
	return f
}

func (p *parser) parseJoinKeys() []*Field {
	p.expectKw("by")
	var keys []*Field
	for {
		e := p.parseExpr()
		fl, ok := e.(*Field)
		if !ok {
			p.fail(e.Pos(), "join keys must be field names")
		}
		keys = append(keys, fl)
		if !p.isOp(",") {
			return keys
		}
		p.next()
	}
}

// parseAssignedDuration parses "=<number><unit>". The lexer rejects a bare
// '=', so it is read here directly from the source.
func (p *parser) parseAssignedDuration() time.Duration {
	n, pos := p.parseAssignedNumber("maxspan")
	if p.tok.kind != tIdent || p.tok.pos.Offset != pos.end {
		p.fail(pos.pos, "maxspan needs a time unit (ms, s, m, h or d), e.g. maxspan=5m")
	}
	var unit time.Duration
	switch strings.ToLower(p.tok.text) {
	case "ms":
		unit = time.Millisecond
	case "s":
		unit = time.Second
	case "m":
		unit = time.Minute
	case "h":
		unit = time.Hour
	case "d":
		unit = 24 * time.Hour
	default:
		p.fail(p.tok.pos, "unknown time unit '%s' (use ms, s, m, h or d)", p.tok.text)
	}
	p.next()
	if n <= 0 {
		p.fail(pos.pos, "maxspan must be positive")
	}
	d := time.Duration(n) * unit
	if d/unit != time.Duration(n) {
		p.fail(pos.pos, "maxspan is too large")
	}
	return d
}

type numPos struct {
	pos Pos
	end int
}

// parseAssignedNumber reads "= <integer>" where the current token is just
// before the '='. The lexer cannot produce '=' tokens (a lone '=' is an
// error in expressions), so the assignment is scanned here.
func (p *parser) parseAssignedNumber(what string) (int64, numPos) {
	// The lexer has not consumed beyond the current token; rewind to it.
	l := p.lx
	if p.peek != nil {
		p.fail(p.tok.pos, "internal: unexpected lookahead")
	}
	_ = l.skipSpace()
	if l.off >= len(l.src) || l.src[l.off] != '=' || (l.off+1 < len(l.src) && l.src[l.off+1] == '=') {
		p.fail(l.pos(), "expected '=' after %s", what)
	}
	l.advance(1)
	p.next()
	if p.tok.kind != tNumber {
		p.fail(p.tok.pos, "expected a number after '%s=' but found %s", what, p.describe(p.tok))
	}
	v, err := strconv.ParseInt(p.tok.text, 10, 64)
	if err != nil {
		p.fail(p.tok.pos, "%s takes an integer, not %s", what, p.tok.text)
	}
	np := numPos{pos: p.tok.pos, end: p.tok.end}
	p.next()
	return v, np
}

func (p *parser) parseSequence() *Sequence {
	s := &Sequence{P: p.tok.pos}
	p.next()
	// "by" and "with maxspan" may come in either order.
	for i := 0; i < 2; i++ {
		if p.isKw("by") && s.By == nil {
			s.By = p.parseJoinKeys()
		} else if p.isKw("with") && s.MaxSpan == 0 {
			p.next()
			if !p.isKw("maxspan") {
				p.fail(p.tok.pos, "expected 'maxspan' after 'with' but found %s", p.describe(p.tok))
			}
			s.MaxSpan = p.parseAssignedDuration()
		}
	}
	for p.isOp("[") || p.isOp("![") {
		s.Terms = append(s.Terms, p.parseTerm(true))
	}
	if p.isKw("until") {
		p.next()
		if p.isOp("![") {
			p.fail(p.tok.pos, "until cannot be a missing event")
		}
		t := p.parseTerm(false)
		s.Until = t
	}
	positive, steps := 0, 0
	for _, t := range s.Terms {
		steps += t.Runs
		if !t.Missing {
			positive++
		}
	}
	// One query repeated with runs=N is a sequence of N steps.
	if steps < 2 {
		p.fail(s.P, "a sequence needs at least two steps: two queries in [ ], or one with runs=N")
	}
	hasMissing := positive < len(s.Terms)
	if positive == 0 {
		p.fail(s.P, "a sequence needs at least one query that is not a missing event")
	}
	if hasMissing && s.MaxSpan == 0 {
		p.fail(s.P, "a sequence with missing events ![...] requires 'with maxspan'")
	}
	if hasMissing && s.Until != nil {
		p.fail(s.Until.P, "until is not supported in sequences with missing events")
	}
	return s
}

func (p *parser) parseTerm(inSequence bool) *Term {
	t := &Term{P: p.tok.pos, Runs: 1}
	if p.isOp("![") {
		t.Missing = true
		p.next()
	} else {
		p.expectOp("[")
	}
	t.Filter = p.parseEventFilter()
	p.expectOp("]")
	if p.isKw("by") {
		t.By = p.parseJoinKeys()
	}
	if inSequence && p.isKw("with") {
		p.next()
		if !p.isKw("runs") && !p.isKwAny("runs") {
			p.fail(p.tok.pos, "expected 'runs' after 'with' but found %s", p.describe(p.tok))
		}
		n, np := p.parseAssignedNumber("runs")
		if n < 1 || n > 100 {
			p.fail(np.pos, "runs must be between 1 and 100, not %d", n)
		}
		t.Runs = int(n)
	}
	return t
}

func (p *parser) parseSample() *Sample {
	s := &Sample{P: p.tok.pos}
	p.next()
	if p.isKw("by") {
		s.By = p.parseJoinKeys()
	}
	if p.isKw("with") {
		p.fail(p.tok.pos, "sample does not support 'with' (no maxspan or runs)")
	}
	for p.isOp("[") || p.isOp("![") {
		if p.isOp("![") {
			p.fail(p.tok.pos, "sample does not support missing events")
		}
		s.Terms = append(s.Terms, p.parseTerm(false))
		if p.isKw("with") {
			p.fail(p.tok.pos, "sample does not support 'with runs'")
		}
	}
	if len(s.Terms) < 2 {
		p.fail(p.tok.pos, "a sample needs at least two queries in [ ], found %d", len(s.Terms))
	}
	if p.isKw("until") {
		p.fail(p.tok.pos, "sample does not support 'until'")
	}
	return s
}

// ---- expressions ----

func (p *parser) parseExpr() Expr { return p.parseOr() }

func (p *parser) parseOr() Expr {
	l := p.parseAnd()
	for p.isKw("or") {
		pos := p.tok.pos
		p.next()
		r := p.parseAnd()
		l = &Binary{P: pos, Op: OpOr, L: l, R: r}
	}
	return l
}

func (p *parser) parseAnd() Expr {
	l := p.parseNot()
	for p.isKw("and") {
		pos := p.tok.pos
		p.next()
		r := p.parseNot()
		l = &Binary{P: pos, Op: OpAnd, L: l, R: r}
	}
	return l
}

func (p *parser) parseNot() Expr {
	if p.isKw("not") {
		pos := p.tok.pos
		p.next()
		return &Unary{P: pos, Op: OpNot, X: p.parseNot()}
	}
	return p.parseComparison()
}

var cmpOps = map[string]BinaryOp{"==": OpEq, "!=": OpNe, "<": OpLt, "<=": OpLe, ">": OpGt, ">=": OpGe}

func (p *parser) parseComparison() Expr {
	l := p.parseAdditive()
	if p.tok.kind == tOp {
		if op, ok := cmpOps[p.tok.text]; ok {
			pos := p.tok.pos
			p.next()
			r := p.parseAdditive()
			if p.tok.kind == tOp {
				if _, ok := cmpOps[p.tok.text]; ok {
					p.fail(p.tok.pos, "comparisons cannot be chained; use 'and'")
				}
			}
			return &Binary{P: pos, Op: op, L: l, R: r}
		}
	}
	return p.parsePredicate(l)
}

// parsePredicate parses the in / : / like / regex forms after x.
func (p *parser) parsePredicate(x Expr) Expr {
	pos := p.tok.pos
	switch {
	case p.isKw("not") && p.lookahead().kind == tIdent && p.lookahead().text == "in":
		p.next()
		if p.tok.tilde {
			p.fail(p.tok.pos, "'not in~' is not supported; use 'not x in~ (...)'")
		}
		p.next()
		return &In{P: pos, X: x, List: p.parseList(false), Negated: true}
	case p.isKwAny("in"):
		ins := p.tok.tilde
		p.next()
		return &In{P: pos, X: x, List: p.parseList(false), Insensitive: ins}
	case p.isOp(":"):
		p.next()
		return &Match{P: pos, X: x, Kind: MatchSeq, Insensitive: true, Patterns: p.parsePatterns()}
	case p.isKwAny("like"):
		ins := p.tok.tilde
		p.next()
		return &Match{P: pos, X: x, Kind: MatchLike, Insensitive: ins, Patterns: p.parsePatterns()}
	case p.isKwAny("regex"):
		ins := p.tok.tilde
		p.next()
		return &Match{P: pos, X: x, Kind: MatchRegex, Insensitive: ins, Patterns: p.parsePatterns()}
	}
	return x
}

// parsePatterns reads a constant or a parenthesised list of constants.
func (p *parser) parsePatterns() []Expr {
	if p.isOp("(") {
		return p.parseList(true)
	}
	return []Expr{p.parseConstant()}
}

func (p *parser) parseList(constants bool) []Expr {
	p.expectOp("(")
	var list []Expr
	for {
		if constants {
			list = append(list, p.parseConstant())
		} else {
			list = append(list, p.parseExpr())
		}
		if p.isOp(")") {
			p.next()
			return list
		}
		p.expectOp(",")
	}
}

func (p *parser) parseConstant() Expr {
	e := p.parseUnary()
	if _, ok := e.(*Literal); !ok {
		p.fail(e.Pos(), "expected a constant (string or number) here")
	}
	return e
}

func (p *parser) parseAdditive() Expr {
	l := p.parseMultiplicative()
	for p.isOp("+") || p.isOp("-") {
		op := OpAdd
		if p.tok.text == "-" {
			op = OpSub
		}
		pos := p.tok.pos
		p.next()
		r := p.parseMultiplicative()
		l = &Binary{P: pos, Op: op, L: l, R: r}
	}
	return l
}

func (p *parser) parseMultiplicative() Expr {
	l := p.parseUnary()
	for p.isOp("*") || p.isOp("/") || p.isOp("%") {
		op := map[string]BinaryOp{"*": OpMul, "/": OpDiv, "%": OpMod}[p.tok.text]
		pos := p.tok.pos
		p.next()
		r := p.parseUnary()
		l = &Binary{P: pos, Op: op, L: l, R: r}
	}
	return l
}

func (p *parser) parseUnary() Expr {
	if p.isOp("-") {
		pos := p.tok.pos
		p.next()
		x := p.parseUnary()
		if lit, ok := x.(*Literal); ok { // fold -1 into a literal
			switch lit.Val.Kind {
			case event.Int:
				if lit.Val.I != math.MinInt64 {
					return &Literal{P: pos, Val: event.IntValue(-lit.Val.I)}
				}
			case event.Float:
				return &Literal{P: pos, Val: event.FloatValue(-lit.Val.F)}
			}
		}
		return &Unary{P: pos, Op: OpNeg, X: x}
	}
	if p.isOp("+") {
		p.next()
		return p.parseUnary()
	}
	return p.parsePrimary()
}

func (p *parser) parsePrimary() Expr {
	t := p.tok
	switch t.kind {
	case tString:
		p.next()
		return &Literal{P: t.pos, Val: event.StringValue(t.text)}
	case tNumber:
		p.next()
		return &Literal{P: t.pos, Val: parseNumber(p, t)}
	case tOp:
		switch t.text {
		case "(":
			p.next()
			e := p.parseExpr()
			p.expectOp(")")
			return e
		case "?":
			p.next()
			if p.tok.kind != tIdent && p.tok.kind != tQuotedIdent {
				p.fail(p.tok.pos, "expected a field name after '?'")
			}
			if p.tok.pos.Offset != t.end {
				p.fail(p.tok.pos, "no space allowed between '?' and the field name")
			}
			f := p.parseFieldName()
			f.P = t.pos
			f.Optional = true
			return f
		}
	case tIdent:
		switch t.text {
		case "true", "false":
			if !t.tilde {
				p.next()
				return &Literal{P: t.pos, Val: event.BoolValue(t.text == "true")}
			}
		case "null":
			if !t.tilde {
				p.next()
				return &Literal{P: t.pos, Val: event.NullValue()}
			}
		}
		// ES's grammar allows space before the parenthesis: "startsWith (x, y)".
		if la := p.lookahead(); la.kind == tOp && la.text == "(" {
			return p.parseCall()
		}
		if t.tilde {
			p.fail(t.pos, "'~' after '%s': only in~, like~, regex~ and function names take '~'", t.text)
		}
		if keywords[t.text] {
			p.fail(t.pos, "unexpected keyword '%s' (quote a field of that name with backticks: `%s`)", t.text, t.text)
		}
		return p.parseFieldName()
	case tQuotedIdent:
		return p.parseFieldName()
	}
	p.fail(t.pos, "expected an expression but found %s", p.describe(t))
	return nil
}

// parseFieldName reads a dotted field name starting at the current token.
func (p *parser) parseFieldName() *Field {
	f := &Field{P: p.tok.pos}
	var b strings.Builder
	b.WriteString(p.tok.text)
	end := p.tok.end
	p.next()
	for p.isOp(".") && p.tok.pos.Offset == end {
		p.next()
		if (p.tok.kind != tIdent && p.tok.kind != tQuotedIdent && p.tok.kind != tNumber) || p.tok.tilde {
			p.fail(p.tok.pos, "expected a field name after '.'")
		}
		b.WriteByte('.')
		b.WriteString(p.tok.text)
		end = p.tok.end
		p.next()
	}
	if p.isOp("[") && p.tok.pos.Offset == end {
		p.fail(p.tok.pos, "array indexes in field names are not supported")
	}
	f.Name = b.String()
	return f
}

func parseNumber(p *parser, t token) event.Value {
	if !strings.ContainsAny(t.text, ".eE") {
		if v, err := strconv.ParseInt(t.text, 10, 64); err == nil {
			return event.IntValue(v)
		}
	}
	f, err := strconv.ParseFloat(t.text, 64)
	if err != nil {
		p.fail(t.pos, "invalid number %s", t.text)
	}
	return event.FloatValue(f)
}

// funcSpec: canonical name, arity bounds, and whether fn~ is allowed.
type funcSpec struct {
	name             string
	minArgs, maxArgs int // maxArgs -1: variadic
	tilde            bool
}

var funcSpecs = map[string]funcSpec{}

func init() {
	for _, s := range []funcSpec{
		{"add", 2, 2, false}, {"between", 3, 4, true}, {"cidrMatch", 2, -1, false},
		{"concat", 1, -1, false}, {"divide", 2, 2, false}, {"endsWith", 2, 2, true},
		{"indexOf", 2, 3, true}, {"length", 1, 1, false}, {"modulo", 2, 2, false},
		{"multiply", 2, 2, false}, {"number", 1, 2, false}, {"startsWith", 2, 2, true},
		{"string", 1, 1, false}, {"stringContains", 2, 2, true}, {"substring", 2, 3, false},
		{"subtract", 2, 2, false},
	} {
		funcSpecs[strings.ToLower(s.name)] = s
	}
}

func (p *parser) parseCall() Expr {
	t := p.tok
	spec, ok := funcSpecs[strings.ToLower(t.text)]
	if !ok {
		p.fail(t.pos, "unknown function '%s'", t.text)
	}
	if t.tilde && !spec.tilde {
		p.fail(t.pos, "function '%s' has no case-insensitive form '%s~'", spec.name, spec.name)
	}
	p.next()
	p.expectOp("(")
	var args []Expr
	if !p.isOp(")") {
		for {
			args = append(args, p.parseExpr())
			if p.isOp(")") {
				break
			}
			p.expectOp(",")
		}
	}
	p.expectOp(")")
	if len(args) < spec.minArgs || (spec.maxArgs >= 0 && len(args) > spec.maxArgs) {
		want := strconv.Itoa(spec.minArgs)
		switch {
		case spec.maxArgs < 0:
			want = "at least " + want
		case spec.maxArgs != spec.minArgs:
			want += " or " + strconv.Itoa(spec.maxArgs)
		}
		p.fail(t.pos, "function '%s' takes %s arguments, got %d", spec.name, want, len(args))
	}
	return &Call{P: t.pos, Name: spec.name, Insensitive: t.tilde, Args: args}
}
