package eql

import "fmt"

// Pos is a position in the query text. Line and Col are 1-based; Col counts
// runes, so a caret drawn under the quoted line lands on the right character.
type Pos struct {
	Offset int
	Line   int
	Col    int
}

func (p Pos) String() string { return fmt.Sprintf("%d:%d", p.Line, p.Col) }

type tokenKind uint8

const (
	tEOF tokenKind = iota
	tIdent
	tQuotedIdent // `backtick quoted`
	tString
	tNumber
	tOp // punctuation and operators; text in tok.text
)

type token struct {
	kind tokenKind
	text string // identifier name, unescaped string value, number text or operator
	pos  Pos
	end  int  // byte offset just past the token
	raw  bool // string was """raw"""
	// tilde is set when an identifier is immediately followed by '~'
	// (in~, like~, regex~, startsWith~(...)).
	tilde bool
}

func (k tokenKind) String() string {
	switch k {
	case tEOF:
		return "end of query"
	case tIdent, tQuotedIdent:
		return "identifier"
	case tString:
		return "string"
	case tNumber:
		return "number"
	}
	return "operator"
}
