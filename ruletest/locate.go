package ruletest

import "strings"

// The TOML decoder reports positions only for syntax errors. To report
// semantic errors (a missing expectation, an unknown key, a bad event) at
// file:line:col, layout scans the source, which the decoder has already
// accepted, for where the keys and [[case]] headers are.

// pos is a 1-based line and column (columns count runes).
type pos struct{ line, col int }

// keyPos is where one key = value pair is.
type keyPos struct {
	key pos // the key
	val pos // the value's first character
	// content is where a multi-line string's text starts: the line after
	// the opening delimiter when the delimiter ends its line (TOML drops
	// that newline). Zero for other values.
	content pos
}

// tableLayout is where a table's header and keys are.
type tableLayout struct {
	header pos
	keys   map[string]keyPos
}

// layout of a test file: top-level keys and each [[case]] in order.
type layout struct {
	top   tableLayout
	cases []tableLayout
}

func (t *tableLayout) add(k string, p keyPos) {
	if t.keys == nil {
		t.keys = map[string]keyPos{}
	}
	if _, dup := t.keys[k]; !dup {
		t.keys[k] = p
	}
	// A dotted key (a.b = 1) is reported by its first part too.
	if first, _, dotted := strings.Cut(k, "."); dotted {
		if _, dup := t.keys[first]; !dup {
			t.keys[first] = p
		}
	}
}

// keyAt returns the position of key k in t, or the header's when k is
// not found (a table from an inline array, say).
func (t *tableLayout) keyAt(k string) keyPos {
	if p, ok := t.keys[k]; ok {
		return p
	}
	return keyPos{key: t.header, val: t.header}
}

type scanner struct {
	src       []byte
	i         int
	line, col int
}

func (s *scanner) pos() pos { return pos{s.line, s.col} }

func (s *scanner) eof() bool { return s.i >= len(s.src) }

// next advances one byte, keeping line and column.
func (s *scanner) next() {
	c := s.src[s.i]
	s.i++
	switch {
	case c == '\n':
		s.line, s.col = s.line+1, 1
	case c&0xC0 != 0x80: // not a UTF-8 continuation byte
		s.col++
	}
}

func (s *scanner) skipN(n int) {
	for ; n > 0 && !s.eof(); n-- {
		s.next()
	}
}

func (s *scanner) has(prefix string) bool {
	return strings.HasPrefix(string(s.src[s.i:min(len(s.src), s.i+len(prefix))]), prefix)
}

func (s *scanner) skipSpace() {
	for !s.eof() && (s.src[s.i] == ' ' || s.src[s.i] == '\t') {
		s.next()
	}
}

// skipLine skips to the start of the next line.
func (s *scanner) skipLine() {
	for !s.eof() && s.src[s.i] != '\n' {
		s.next()
	}
	if !s.eof() {
		s.next()
	}
}

// scanLayout locates the keys and headers of src. It assumes src is valid
// TOML and never fails; on input it does not understand it stops early.
func scanLayout(src []byte) *layout {
	s := &scanner{src: src, line: 1, col: 1}
	l := &layout{top: tableLayout{header: pos{1, 1}}}
	cur := &l.top // nil inside tables other than [[case]]
	caseIdx := -1
	for !s.eof() {
		s.skipSpace()
		if s.eof() {
			break
		}
		switch c := s.src[s.i]; {
		case c == '\n' || c == '\r' || c == '#':
			s.skipLine()
		case c == '[':
			at := s.pos()
			aot := s.has("[[")
			s.skipN(1)
			if aot {
				s.skipN(1)
			}
			start := s.i
			for !s.eof() && s.src[s.i] != ']' && s.src[s.i] != '\n' {
				if q := s.src[s.i]; q == '"' || q == '\'' {
					s.skipString(q)
					continue
				}
				s.next()
			}
			name := normKey(string(s.src[start:s.i]))
			s.skipLine()
			switch {
			case aot && name == "case":
				l.cases = append(l.cases, tableLayout{header: at})
				caseIdx = len(l.cases) - 1
				cur = &l.cases[caseIdx]
			default:
				// Report a table by its header, as a top-level key.
				l.top.add(name, keyPos{key: at, val: at})
				cur = nil
			}
		default:
			kp := s.pos()
			start := s.i
			for !s.eof() && s.src[s.i] != '=' && s.src[s.i] != '\n' {
				if q := s.src[s.i]; q == '"' || q == '\'' {
					s.skipString(q)
					continue
				}
				s.next()
			}
			if s.eof() || s.src[s.i] != '=' {
				s.skipLine()
				continue
			}
			key := normKey(string(s.src[start:s.i]))
			s.next() // '='
			s.skipSpace()
			p := keyPos{key: kp, val: s.pos()}
			p.content = s.skipValue()
			if cur != nil {
				cur.add(key, p)
			}
			s.skipLine()
		}
	}
	return l
}

// skipValue skips one value (which may span lines: arrays, multi-line
// strings) and stops at the newline that ends it. It returns where a
// multi-line string's content starts when the value is one.
func (s *scanner) skipValue() (content pos) {
	depth := 0
	first := true
	for !s.eof() {
		c := s.src[s.i]
		switch {
		case c == '"' || c == '\'':
			if s.has(`"""`) || s.has(`'''`) {
				p := s.skipMultiline(c)
				if first {
					content = p
				}
			} else {
				s.skipString(c)
			}
		case c == '[' || c == '{':
			depth++
			s.next()
		case c == ']' || c == '}':
			depth--
			s.next()
		case c == '#':
			for !s.eof() && s.src[s.i] != '\n' {
				s.next()
			}
		case c == '\n':
			if depth <= 0 {
				return content
			}
			s.next()
		default:
			s.next()
		}
		first = false
	}
	return content
}

// skipString skips a one-line string starting at its quote q.
func (s *scanner) skipString(q byte) {
	s.next()
	for !s.eof() {
		c := s.src[s.i]
		switch {
		case c == '\n':
			return
		case c == '\\' && q == '"':
			s.next()
			if !s.eof() && s.src[s.i] != '\n' {
				s.next()
			}
		case c == q:
			s.next()
			return
		default:
			s.next()
		}
	}
}

// skipMultiline skips a multi-line string (triple quotes q) and returns
// where its content starts.
func (s *scanner) skipMultiline(q byte) pos {
	s.skipN(3)
	switch {
	case s.has("\n"):
		s.next()
	case s.has("\r\n"):
		s.skipN(2)
	}
	content := s.pos()
	delim := strings.Repeat(string(q), 3)
	for !s.eof() {
		if s.src[s.i] == '\\' && q == '"' {
			s.skipN(2)
			continue
		}
		if s.has(delim) {
			s.skipN(3)
			// Up to two more quotes belong to the content: """a"""""
			for k := 0; k < 2 && !s.eof() && s.src[s.i] == q; k++ {
				s.next()
			}
			return content
		}
		s.next()
	}
	return content
}

// normKey turns a key or table name as written into its dotted form:
// spaces around parts and the quotes of simple quoted parts removed.
func normKey(k string) string {
	parts := splitDotted(k)
	for i, p := range parts {
		p = strings.TrimSpace(p)
		if len(p) >= 2 && (p[0] == '"' || p[0] == '\'') && p[len(p)-1] == p[0] {
			p = p[1 : len(p)-1]
		}
		parts[i] = p
	}
	return strings.Join(parts, ".")
}

// splitDotted splits a dotted key on the dots outside quotes.
func splitDotted(k string) []string {
	var parts []string
	start := 0
	var quote byte
	for i := 0; i < len(k); i++ {
		c := k[i]
		switch {
		case quote != 0:
			if c == '\\' && quote == '"' {
				i++
			} else if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '.':
			parts = append(parts, k[start:i])
			start = i + 1
		}
	}
	return append(parts, k[start:])
}
