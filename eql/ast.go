package eql

import (
	"time"

	"github.com/vigilsec/vigil/event"
)

// Expr is an expression node. Every node carries the position of its first
// token so that checker and compiler errors point into the query.
type Expr interface {
	Pos() Pos
}

// Literal is a constant: string, number, boolean or null.
type Literal struct {
	P   Pos
	Val event.Value
}

// Field is a field reference; Optional is the ?field form.
type Field struct {
	P        Pos
	Name     string
	Optional bool
}

// UnaryOp is "not" or arithmetic negation.
type UnaryOp uint8

const (
	OpNot UnaryOp = iota
	OpNeg
)

type Unary struct {
	P  Pos
	Op UnaryOp
	X  Expr
}

// BinaryOp covers boolean, comparison and arithmetic operators.
type BinaryOp uint8

const (
	OpAnd BinaryOp = iota
	OpOr
	OpEq
	OpNe
	OpLt
	OpLe
	OpGt
	OpGe
	OpAdd
	OpSub
	OpMul
	OpDiv
	OpMod
)

var binaryOpText = [...]string{"and", "or", "==", "!=", "<", "<=", ">", ">=", "+", "-", "*", "/", "%"}

func (o BinaryOp) String() string { return binaryOpText[o] }

type Binary struct {
	P    Pos
	Op   BinaryOp
	L, R Expr
}

// In is "x in (...)", "x in~ (...)" and "x not in (...)".
type In struct {
	P           Pos
	X           Expr
	List        []Expr
	Insensitive bool
	Negated     bool
}

// MatchKind is the pattern operator of a Match node.
type MatchKind uint8

const (
	MatchSeq   MatchKind = iota // ":" (case-insensitive, wildcards)
	MatchLike                   // like / like~
	MatchRegex                  // regex / regex~
)

// Match is x : "p", x like~ ("a*", "b"), x regex "...".
type Match struct {
	P           Pos
	X           Expr
	Kind        MatchKind
	Insensitive bool
	Patterns    []Expr // literals; ":" also accepts non-string constants
}

// Call is a function call; Insensitive is the fn~() form.
type Call struct {
	P           Pos
	Name        string // canonical spelling, e.g. "startsWith"
	Insensitive bool
	Args        []Expr
}

func (e *Literal) Pos() Pos { return e.P }
func (e *Field) Pos() Pos   { return e.P }
func (e *Unary) Pos() Pos   { return e.P }
func (e *Binary) Pos() Pos  { return e.P }
func (e *In) Pos() Pos      { return e.P }
func (e *Match) Pos() Pos   { return e.P }
func (e *Call) Pos() Pos    { return e.P }

// EventFilter is "category where condition"; Category is "" for any.
type EventFilter struct {
	P        Pos
	Category string
	Cond     Expr
}

// Term is one step of a sequence or sample.
type Term struct {
	P       Pos
	Filter  EventFilter
	By      []*Field
	Runs    int // with runs=N; 1 when absent
	Missing bool
}

// Sequence is "sequence [by k] [with maxspan=d] terms [until term]".
type Sequence struct {
	P       Pos
	By      []*Field
	MaxSpan time.Duration // 0: no maxspan
	Terms   []*Term
	Until   *Term
}

// Sample is "sample [by k] terms".
type Sample struct {
	P     Pos
	By    []*Field
	Terms []*Term
}

// Pipe is "| head N" or "| tail N".
type Pipe struct {
	P    Pos
	Kind string
	N    int
}

// QueryKind says which of Event, Sequence and Sample is set.
type QueryKind uint8

const (
	EventQuery QueryKind = iota
	SequenceQuery
	SampleQuery
)

// Query is a parsed EQL statement.
type Query struct {
	Src      string
	Kind     QueryKind
	Event    *EventFilter
	Sequence *Sequence
	Sample   *Sample
	Pipes    []Pipe
}
