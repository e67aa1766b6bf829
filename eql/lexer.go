package eql

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// lexer turns the query text into tokens. It tracks line and column itself
// so that every token carries a Pos without rescanning.
type lexer struct {
	src  string
	off  int
	line int
	col  int
}

func newLexer(src string) *lexer { return &lexer{src: src, line: 1, col: 1} }

func (l *lexer) pos() Pos { return Pos{Offset: l.off, Line: l.line, Col: l.col} }

func (l *lexer) peekByte(n int) byte {
	if l.off+n < len(l.src) {
		return l.src[l.off+n]
	}
	return 0
}

// advance moves over n bytes, keeping line/col right.
func (l *lexer) advance(n int) {
	end := l.off + n
	for l.off < end {
		r, sz := utf8.DecodeRuneInString(l.src[l.off:])
		if r == '\n' {
			l.line++
			l.col = 1
		} else {
			l.col++
		}
		l.off += sz
	}
}

func (l *lexer) errAt(p Pos, format string, args ...any) *Error {
	return errorf(l.src, p, format, args...)
}

// skipSpace skips white space and // and /* */ comments.
func (l *lexer) skipSpace() *Error {
	for l.off < len(l.src) {
		c := l.src[l.off]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f':
			l.advance(1)
		case c == '/' && l.peekByte(1) == '/':
			i := strings.IndexByte(l.src[l.off:], '\n')
			if i < 0 {
				i = len(l.src) - l.off
			}
			l.advance(i)
		case c == '/' && l.peekByte(1) == '*':
			p := l.pos()
			i := strings.Index(l.src[l.off+2:], "*/")
			if i < 0 {
				return l.errAt(p, "unterminated /* comment")
			}
			l.advance(i + 4)
		default:
			r, _ := utf8.DecodeRuneInString(l.src[l.off:])
			if r != utf8.RuneError && unicode.IsSpace(r) {
				l.advance(utf8.RuneLen(r))
				continue
			}
			return nil
		}
	}
	return nil
}

func isIdentStart(c byte) bool {
	return c == '_' || c == '@' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80
}

func isIdentPart(c byte) bool { return isIdentStart(c) || (c >= '0' && c <= '9') }

// next returns the next token.
func (l *lexer) next() (token, *Error) {
	if err := l.skipSpace(); err != nil {
		return token{}, err
	}
	p := l.pos()
	if l.off >= len(l.src) {
		return token{kind: tEOF, pos: p, end: l.off}, nil
	}
	c := l.src[l.off]
	switch {
	case isIdentStart(c):
		start := l.off
		n := 0
		for l.off+n < len(l.src) && isIdentPart(l.src[l.off+n]) {
			n++
		}
		l.advance(n)
		t := token{kind: tIdent, text: l.src[start:l.off], pos: p}
		if l.peekByte(0) == '~' {
			l.advance(1)
			t.tilde = true
		}
		t.end = l.off
		return t, nil
	case c >= '0' && c <= '9':
		return l.number(p)
	case c == '.' && l.peekByte(1) >= '0' && l.peekByte(1) <= '9':
		return l.number(p)
	case c == '"':
		return l.str(p)
	case c == '\'':
		return token{}, l.errAt(p, "single quotes are not supported for strings; use double quotes")
	case c == '`':
		return l.backtick(p)
	}
	// Operators, longest first.
	two := ""
	if l.off+1 < len(l.src) {
		two = l.src[l.off : l.off+2]
	}
	switch two {
	case "==", "!=", "<=", ">=", "![":
		l.advance(2)
		return token{kind: tOp, text: two, pos: p, end: l.off}, nil
	}
	switch c {
	case '<', '>', ':', '+', '-', '*', '/', '%', '(', ')', '[', ']', ',', '|', '?', '.', '!':
		l.advance(1)
		return token{kind: tOp, text: string(c), pos: p, end: l.off}, nil
	case '=':
		return token{}, l.errAt(p, "'=' is not supported; use '==' for equality")
	case '~':
		return token{}, l.errAt(p, "unexpected '~': it must directly follow in, like, regex or a function name")
	}
	r, _ := utf8.DecodeRuneInString(l.src[l.off:])
	return token{}, l.errAt(p, "unexpected character %q", r)
}

func (l *lexer) number(p Pos) (token, *Error) {
	start := l.off
	i := l.off
	for i < len(l.src) && l.src[i] >= '0' && l.src[i] <= '9' {
		i++
	}
	if i < len(l.src) && l.src[i] == '.' && i+1 < len(l.src) && l.src[i+1] >= '0' && l.src[i+1] <= '9' {
		i++
		for i < len(l.src) && l.src[i] >= '0' && l.src[i] <= '9' {
			i++
		}
	} else if i < len(l.src) && l.src[i] == '.' && (i+1 >= len(l.src) || !isIdentStart(l.src[i+1])) {
		i++ // "1." is a decimal in ES's grammar
	}
	if i < len(l.src) && (l.src[i] == 'e' || l.src[i] == 'E') {
		j := i + 1
		if j < len(l.src) && (l.src[j] == '+' || l.src[j] == '-') {
			j++
		}
		if j < len(l.src) && l.src[j] >= '0' && l.src[j] <= '9' {
			for j < len(l.src) && l.src[j] >= '0' && l.src[j] <= '9' {
				j++
			}
			i = j
		}
	}
	l.advance(i - start)
	return token{kind: tNumber, text: l.src[start:l.off], pos: p, end: l.off}, nil
}

func (l *lexer) backtick(p Pos) (token, *Error) {
	var b strings.Builder
	i := l.off + 1
	for {
		if i >= len(l.src) {
			return token{}, l.errAt(p, "unterminated `quoted` identifier")
		}
		if l.src[i] == '`' {
			if i+1 < len(l.src) && l.src[i+1] == '`' { // `` is an escaped backtick
				b.WriteByte('`')
				i += 2
				continue
			}
			break
		}
		b.WriteByte(l.src[i])
		i++
	}
	l.advance(i + 1 - l.off)
	if b.Len() == 0 {
		return token{}, l.errAt(p, "empty `quoted` identifier")
	}
	return token{kind: tQuotedIdent, text: b.String(), pos: p, end: l.off}, nil
}

func (l *lexer) str(p Pos) (token, *Error) {
	if strings.HasPrefix(l.src[l.off:], `"""`) {
		body := l.src[l.off+3:]
		i := strings.Index(body, `"""`)
		if i < 0 {
			return token{}, l.errAt(p, `unterminated """raw""" string`)
		}
		// A raw string may end in quotes: """a""""" is a"" (the last three close it).
		for i+3 < len(body) && body[i+3] == '"' {
			i++
		}
		l.advance(3 + i + 3)
		return token{kind: tString, text: body[:i], pos: p, end: l.off, raw: true}, nil
	}
	var b strings.Builder
	i := l.off + 1
	for {
		if i >= len(l.src) || l.src[i] == '\n' || l.src[i] == '\r' {
			return token{}, l.errAt(p, "unterminated string")
		}
		c := l.src[i]
		if c == '"' {
			break
		}
		if c != '\\' {
			b.WriteByte(c)
			i++
			continue
		}
		if i+1 >= len(l.src) {
			return token{}, l.errAt(p, "unterminated string")
		}
		e := l.src[i+1]
		switch e {
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case '"', '\'', '\\':
			b.WriteByte(e)
		case 'u':
			// \u{XXXX}: 2 to 8 hex digits, as ES accepts.
			if i+2 >= len(l.src) || l.src[i+2] != '{' {
				return token{}, l.errAt(posAt(l.src, i), `invalid unicode escape: use \u{XXXX}`)
			}
			j := strings.IndexByte(l.src[i+3:], '}')
			if j < 2 || j > 8 {
				return token{}, l.errAt(posAt(l.src, i), `invalid unicode escape: \u{...} takes 2 to 8 hex digits`)
			}
			v, err := strconv.ParseUint(l.src[i+3:i+3+j], 16, 32)
			if err != nil || v > unicode.MaxRune || (v >= 0xD800 && v <= 0xDFFF) {
				return token{}, l.errAt(posAt(l.src, i), "invalid unicode code point %q", l.src[i+3:i+3+j])
			}
			b.WriteRune(rune(v))
			i += 3 + j + 1
			continue
		default:
			return token{}, l.errAt(posAt(l.src, i), `invalid escape sequence "\%c"`, e)
		}
		i += 2
	}
	l.advance(i + 1 - l.off)
	return token{kind: tString, text: b.String(), pos: p, end: l.off}, nil
}
