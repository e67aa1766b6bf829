package eql

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Error is a query error with its position. Error() gives "line:col: msg";
// Detail() adds the offending line and a caret under the column.
type Error struct {
	Pos Pos
	Msg string
	src string
}

func (e *Error) Error() string { return fmt.Sprintf("%d:%d: %s", e.Pos.Line, e.Pos.Col, e.Msg) }

// Detail renders the error with the query line quoted and a caret.
func (e *Error) Detail() string {
	lines := strings.Split(e.src, "\n")
	if e.Pos.Line < 1 || e.Pos.Line > len(lines) {
		return e.Error()
	}
	line := strings.TrimRight(lines[e.Pos.Line-1], "\r")
	pad := make([]byte, 0, e.Pos.Col)
	n := 0
	for _, r := range line {
		if n >= e.Pos.Col-1 {
			break
		}
		if r == '\t' {
			pad = append(pad, '\t')
		} else {
			pad = append(pad, ' ')
		}
		n++
	}
	return fmt.Sprintf("%s\n  %s\n  %s^", e.Error(), line, pad)
}

func errorf(src string, p Pos, format string, args ...any) *Error {
	return &Error{Pos: p, Msg: fmt.Sprintf(format, args...), src: src}
}

// posAt computes the Pos of a byte offset in src.
func posAt(src string, off int) Pos {
	line, col := 1, 1
	for i := 0; i < off && i < len(src); {
		r, sz := utf8.DecodeRuneInString(src[i:])
		if r == '\n' {
			line++
			col = 1
		} else {
			col++
		}
		i += sz
	}
	return Pos{Offset: off, Line: line, Col: col}
}
