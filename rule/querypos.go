package rule

import (
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// String literal forms a query can be written in.
const (
	litRaw  = 'r' // TOML '...' and '''...''': the text is the value
	litTOML = 't' // TOML "..." and """...""": backslash escapes, line-ending backslashes
	litJSON = 'j' // JSON string (NDJSON exports)
)

// querySpan is the query's string literal in its file.
type querySpan struct {
	kind  byte
	multi bool     // TOML multi-line form (line-ending backslashes apply)
	body  string   // source text between the quotes (after a dropped first newline)
	line  int      // file line of body[0]
	col   int      // rune column of body[0]
	lines []string // file lines line, line+1, ... covering body
}

// newQuerySpan builds the span of the string literal text[vs:ve] (the value
// as scanned, quotes included). It returns nil for a value it does not
// recognise as a string.
//
// share keeps the span's text as slices of the file's (which the rule keeps
// anyway: its strings are slices of it); else they are copied, so that a
// rule does not keep a whole export alive.
func newQuerySpan(li *lineIndex, vs, ve int, json, share bool) *querySpan {
	if vs < 0 || ve > len(li.text) || ve-vs < 2 {
		return nil
	}
	lit := li.text[vs:ve]
	sp := &querySpan{}
	var open, close int
	switch {
	case json:
		sp.kind, open, close = litJSON, 1, 1
	case strings.HasPrefix(lit, `'''`) || strings.HasPrefix(lit, `"""`):
		sp.kind, sp.multi, open, close = litRaw, true, 3, 3
		if lit[0] == '"' {
			sp.kind = litTOML
		}
	case lit[0] == '\'':
		sp.kind, open, close = litRaw, 1, 1
	case lit[0] == '"':
		sp.kind, open, close = litTOML, 1, 1
	default:
		return nil
	}
	if len(lit) < open+close {
		return nil
	}
	start, end := vs+open, ve-close
	if sp.multi {
		// A newline right after the opening quotes is not part of the value.
		if strings.HasPrefix(li.text[start:], "\r\n") {
			start += 2
		} else if strings.HasPrefix(li.text[start:], "\n") {
			start++
		}
	}
	if start > end {
		start = end
	}
	sp.body = li.text[start:end]
	p := li.pos(start)
	sp.line, sp.col = p.Line, p.Col
	n := strings.Count(sp.body, "\n")
	sp.lines = make([]string, 0, n+1)
	for l := p.Line; l <= p.Line+n; l++ {
		if share {
			sp.lines = append(sp.lines, li.line(l))
		} else {
			sp.lines = append(sp.lines, strings.Clone(li.line(l)))
		}
	}
	if !share {
		sp.body = strings.Clone(sp.body)
	}
	return sp
}

// decode unescapes the body, recording for each byte of the value the
// offset in body it came from.
func (sp *querySpan) decode() (string, []int) {
	b := sp.body
	var out strings.Builder
	src := make([]int, 0, len(b)+1)
	emit := func(s string, at int) {
		out.WriteString(s)
		for range len(s) {
			src = append(src, at)
		}
	}
	for i := 0; i < len(b); {
		c := b[i]
		if sp.kind == litRaw || c != '\\' || i+1 >= len(b) {
			emit(b[i:i+1], i)
			i++
			continue
		}
		e := b[i+1]
		switch {
		case sp.kind == litTOML && sp.multi && (e == ' ' || e == '\t' || e == '\r' || e == '\n'):
			// line-ending backslash: drop whitespace and newlines up to the next text
			j := i + 1
			for j < len(b) && (b[j] == ' ' || b[j] == '\t') {
				j++
			}
			if j < len(b) && (b[j] == '\n' || b[j] == '\r') {
				for j < len(b) && (b[j] == ' ' || b[j] == '\t' || b[j] == '\r' || b[j] == '\n') {
					j++
				}
				i = j
				continue
			}
			emit(b[i:i+1], i)
			i++
		case e == 'u' || e == 'U' || (e == 'x' && sp.kind == litTOML):
			n := map[byte]int{'u': 4, 'U': 8, 'x': 2}[e]
			if i+2+n > len(b) {
				emit(b[i:i+1], i)
				i++
				continue
			}
			v, err := strconv.ParseUint(b[i+2:i+2+n], 16, 32)
			if err != nil {
				emit(b[i:i+1], i)
				i++
				continue
			}
			r := rune(v)
			adv := 2 + n
			if sp.kind == litJSON && utf16.IsSurrogate(r) && i+adv+6 <= len(b) && b[i+adv] == '\\' && b[i+adv+1] == 'u' {
				if v2, err := strconv.ParseUint(b[i+adv+2:i+adv+6], 16, 32); err == nil {
					r = utf16.DecodeRune(r, rune(v2))
					adv += 6
				}
			}
			if !utf8.ValidRune(r) {
				r = utf8.RuneError
			}
			emit(string(r), i)
			i += adv
		default:
			var s string
			switch e {
			case 'b':
				s = "\b"
			case 't':
				s = "\t"
			case 'n':
				s = "\n"
			case 'f':
				s = "\f"
			case 'r':
				s = "\r"
			case '"':
				s = `"`
			case '\\':
				s = `\`
			case '/':
				s = "/"
			case 'e':
				s = "\x1b"
			default:
				s = b[i : i+2]
			}
			emit(s, i)
			i += 2
		}
	}
	src = append(src, len(b))
	return out.String(), src
}

// position maps a byte offset of the query value to a file position and
// returns the file line it is on. exact is false when the literal could not
// be matched to the value and the position was estimated from line:col.
func (sp *querySpan) position(query string, off, qline, qcol int) (line, col int, text string, exact bool) {
	val, src := sp.decode()
	if val == query && off >= 0 && off <= len(query) {
		bo := src[off]
		before := sp.body[:bo]
		nl := strings.Count(before, "\n")
		line = sp.line + nl
		if nl == 0 {
			col = sp.col + utf8.RuneCountInString(before)
		} else {
			col = utf8.RuneCountInString(before[strings.LastIndexByte(before, '\n')+1:]) + 1
		}
		exact = true
	} else {
		line = sp.line + qline - 1
		col = qcol
		if qline == 1 {
			col = sp.col + qcol - 1
		}
	}
	if i := line - sp.line; i >= 0 && i < len(sp.lines) {
		text = sp.lines[i]
	}
	return line, col, text, exact
}

// caret renders a file line with a caret under rune column col. Long lines
// (NDJSON records) are cut around the column.
func caret(text string, col int) string {
	if text == "" || col < 1 {
		return ""
	}
	runes := []rune(text)
	lo, hi := 0, len(runes)
	const width = 100
	pre, post := "", ""
	if len(runes) > 2*width {
		lo = max(0, col-1-width/2)
		hi = min(len(runes), lo+width)
		if lo > 0 {
			pre = "..."
		}
		if hi < len(runes) {
			post = "..."
		}
	}
	var pad strings.Builder
	pad.WriteString(strings.Repeat(" ", len(pre)))
	for i := lo; i < col-1 && i < len(runes); i++ {
		if runes[i] == '\t' {
			pad.WriteByte('\t')
		} else {
			pad.WriteByte(' ')
		}
	}
	return "  " + pre + string(runes[lo:hi]) + post + "\n  " + pad.String() + "^"
}
