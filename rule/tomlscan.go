package rule

import (
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// filePos is a position in a file: 1-based line, 1-based column in runes,
// and the byte offset.
type filePos struct {
	Line, Col, Off int
}

// lineIndex converts byte offsets of a text to line:col. The line starts
// are found on first use: most files loaded need none.
type lineIndex struct {
	text   string
	starts []int // byte offset of each line's first byte
}

func newLineIndex(text string) *lineIndex {
	return &lineIndex{text: text}
}

func (li *lineIndex) index() {
	if li.starts != nil {
		return
	}
	li.starts = make([]int, 1, strings.Count(li.text, "\n")+1)
	for i := 0; ; {
		j := strings.IndexByte(li.text[i:], '\n')
		if j < 0 {
			return
		}
		i += j + 1
		li.starts = append(li.starts, i)
	}
}

func (li *lineIndex) pos(off int) filePos {
	li.index()
	if off < 0 {
		off = 0
	}
	if off > len(li.text) {
		off = len(li.text)
	}
	l := sort.Search(len(li.starts), func(i int) bool { return li.starts[i] > off }) - 1
	return filePos{Line: l + 1, Col: utf8.RuneCountInString(li.text[li.starts[l]:off]) + 1, Off: off}
}

// line returns the text of 1-based line n without its line ending.
func (li *lineIndex) line(n int) string {
	li.index()
	if n < 1 || n > len(li.starts) {
		return ""
	}
	end := len(li.text)
	if n < len(li.starts) {
		end = li.starts[n] - 1
	}
	return strings.TrimRight(li.text[li.starts[n-1]:end], "\r")
}

// keySet locates the keys of a file by path, built with add; finish sorts
// it for the lookups of a rule decoded in full (a map cost more to build
// than the rest of decoding a rule file, and twice the memory; the few
// lookups for a stub rule are cheaper than sorting).
type keySet struct {
	e      []keyEntry
	sorted bool
}

type keyEntry struct {
	path string
	k    tomlKey
}

func (s *keySet) add(path string, k tomlKey) {
	s.e = append(s.e, keyEntry{path, k})
	s.sorted = false
}

// finish sorts the set; of a path added twice the last entry stays, as in a
// map.
func (s *keySet) finish() {
	if s.sorted {
		return
	}
	// Entries are added in file order: among equal paths, the later one has
	// the larger offset.
	slices.SortFunc(s.e, func(a, b keyEntry) int {
		if c := strings.Compare(a.path, b.path); c != 0 {
			return c
		}
		return a.k.Key.Off - b.k.Key.Off
	})
	out := s.e[:0]
	for i, e := range s.e {
		if i+1 < len(s.e) && s.e[i+1].path == e.path {
			continue
		}
		out = append(out, e)
	}
	s.e, s.sorted = out, true
}

func (s *keySet) get(path string) (tomlKey, bool) {
	if !s.sorted {
		for i := len(s.e) - 1; i >= 0; i-- { // the last of a path added twice
			if s.e[i].path == path {
				return s.e[i].k, true
			}
		}
		return tomlKey{}, false
	}
	i, ok := slices.BinarySearchFunc(s.e, path, func(e keyEntry, p string) int { return strings.Compare(e.path, p) })
	if !ok {
		return tomlKey{}, false
	}
	return s.e[i].k, true
}

// tomlKey is where a key and its value are in a TOML document.
type tomlKey struct {
	Key              filePos // the key's first character
	ValStart, ValEnd int     // byte span of the value
}

// scanTOML locates the keys and table headers of a TOML document without
// interpreting values. Paths are dotted and carry array-of-tables indices:
// "rule.query", "rule.threat[1].technique[0].id"; a header is recorded
// under its own path ("rule", "rule.threat[1]") with an empty value span.
// It is lenient: on input it does not understand, it stops and returns
// what it found (the TOML parser reports the actual syntax errors).
func scanTOML(text string) keySet {
	keys, _ := scanTOMLAll(text, newLineIndex(text))
	return keys
}

// scanTOMLAll is scanTOML, also telling whether it understood the whole
// text. li indexes text.
func scanTOMLAll(text string, li *lineIndex) (keySet, bool) {
	s := &tscan{text: text, li: li, arrays: map[string]int{}}
	s.run()
	s.keys.finish()
	return s.keys, s.eof()
}

type tscan struct {
	text   string
	i      int
	li     *lineIndex
	keys   keySet
	arrays map[string]int // array-of-tables path (indexed parents) -> element count
}

func (s *tscan) eof() bool { return s.i >= len(s.text) }

func (s *tscan) skipSpace() {
	for !s.eof() && (s.text[s.i] == ' ' || s.text[s.i] == '\t') {
		s.i++
	}
}

func (s *tscan) skipLine() {
	for !s.eof() && s.text[s.i] != '\n' {
		s.i++
	}
}

func (s *tscan) run() {
	table := ""
	for {
		// skip blank space, newlines and comments between statements
		for !s.eof() {
			c := s.text[s.i]
			if c == ' ' || c == '\t' || c == '\r' || c == '\n' {
				s.i++
			} else if c == '#' {
				s.skipLine()
			} else {
				break
			}
		}
		if s.eof() {
			return
		}
		start := s.i
		if s.text[s.i] == '[' {
			arr := strings.HasPrefix(s.text[s.i:], "[[")
			if arr {
				s.i += 2
			} else {
				s.i++
			}
			s.skipSpace()
			segs, ok := s.keyPath()
			if !ok {
				return
			}
			s.skipSpace()
			closing := "]"
			if arr {
				closing = "]]"
			}
			if !strings.HasPrefix(s.text[s.i:], closing) {
				return
			}
			s.i += len(closing)
			table = s.resolve(segs, arr)
			s.keys.add(table, tomlKey{Key: s.li.pos(start), ValStart: s.i, ValEnd: s.i})
			s.skipLine()
			continue
		}
		segs, ok := s.keyPath()
		if !ok {
			return
		}
		s.skipSpace()
		if s.eof() || s.text[s.i] != '=' {
			return
		}
		s.i++
		s.skipSpace()
		vs := s.i
		if !s.skipValue() {
			return
		}
		path := strings.Join(segs, ".")
		if table != "" {
			path = table + "." + path
		}
		s.keys.add(path, tomlKey{Key: s.li.pos(start), ValStart: vs, ValEnd: s.i})
		s.skipLine()
	}
}

// resolve turns a header's key segments into an indexed path, counting a
// new element for an array-of-tables header.
func (s *tscan) resolve(segs []string, arr bool) string {
	p := ""
	for j, seg := range segs {
		if p != "" {
			p += "."
		}
		p += seg
		if arr && j == len(segs)-1 {
			if s.arrays == nil {
				s.arrays = map[string]int{}
			}
			n := s.arrays[p]
			s.arrays[p] = n + 1
			return p + "[" + strconv.Itoa(n) + "]"
		}
		if n, ok := s.arrays[p]; ok && n > 0 {
			p += "[" + strconv.Itoa(n-1) + "]"
		}
	}
	return p
}

// keyPath reads a dotted key of bare and quoted parts.
func (s *tscan) keyPath() ([]string, bool) {
	var segs []string
	for {
		s.skipSpace()
		if s.eof() {
			return nil, false
		}
		switch c := s.text[s.i]; {
		case c == '"':
			end := s.basicEnd(s.i + 1)
			if end < 0 {
				return nil, false
			}
			v, err := strconv.Unquote(s.text[s.i:end])
			if err != nil {
				v = s.text[s.i+1 : end-1]
			}
			segs = append(segs, v)
			s.i = end
		case c == '\'':
			end := strings.IndexAny(s.text[s.i+1:], "'\n")
			if end < 0 || s.text[s.i+1+end] != '\'' {
				return nil, false
			}
			segs = append(segs, s.text[s.i+1:s.i+1+end])
			s.i += end + 2
		case isBareKey(c):
			j := s.i
			for j < len(s.text) && isBareKey(s.text[j]) {
				j++
			}
			segs = append(segs, s.text[s.i:j])
			s.i = j
		default:
			return nil, false
		}
		s.skipSpace()
		if s.eof() || s.text[s.i] != '.' {
			return segs, true
		}
		s.i++
	}
}

func isBareKey(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// basicEnd returns the offset just past the closing quote of a one-line
// basic string whose content starts at i, or -1.
func (s *tscan) basicEnd(i int) int {
	for i < len(s.text) {
		switch s.text[i] {
		case '\\':
			i += 2
			continue
		case '"':
			return i + 1
		case '\n':
			return -1
		}
		i++
	}
	return -1
}

// skipValue moves past one value: a string of any of the four forms, an
// array or inline table (with nested strings and comments), or a scalar.
func (s *tscan) skipValue() bool {
	if s.eof() {
		return false
	}
	t := s.text[s.i:]
	switch {
	case strings.HasPrefix(t, `"""`):
		return s.skipMulti(`"""`, true)
	case strings.HasPrefix(t, `'''`):
		return s.skipMulti(`'''`, false)
	case t[0] == '"':
		end := s.basicEnd(s.i + 1)
		if end < 0 {
			return false
		}
		s.i = end
		return true
	case t[0] == '\'':
		end := strings.IndexAny(t[1:], "'\n")
		if end < 0 || t[1+end] != '\'' {
			return false
		}
		s.i += end + 2
		return true
	case t[0] == '[' || t[0] == '{':
		return s.skipNested()
	}
	for !s.eof() {
		c := s.text[s.i]
		if c == '\n' || c == '#' || c == ',' || c == ']' || c == '}' || c == '\r' {
			break
		}
		s.i++
	}
	return true
}

// skipMulti skips a multi-line string; up to two extra quotes may end it.
func (s *tscan) skipMulti(delim string, escapes bool) bool {
	i := s.i + 3
	for i < len(s.text) {
		if escapes && s.text[i] == '\\' {
			i += 2
			continue
		}
		if strings.HasPrefix(s.text[i:], delim) {
			i += 3
			for k := 0; k < 2 && i < len(s.text) && s.text[i] == delim[0]; k++ {
				i++
			}
			s.i = i
			return true
		}
		i++
	}
	return false
}

// skipNested skips an array or inline table, which may span lines.
func (s *tscan) skipNested() bool {
	depth := 0
	for !s.eof() {
		c := s.text[s.i]
		switch c {
		case '[', '{':
			depth++
			s.i++
		case ']', '}':
			depth--
			s.i++
			if depth == 0 {
				return true
			}
		case '#':
			s.skipLine()
		case '"', '\'':
			if !s.skipValue() {
				return false
			}
		default:
			s.i++
		}
	}
	return false
}
