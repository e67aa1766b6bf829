package rule

import (
	"encoding/binary"
	"strconv"
	"strings"
	"unicode/utf8"
)

// fastTOML decodes the plain TOML detection-rules files are written in,
// to exactly what BurntSushi/toml's Decode into map[string]any gives, and
// locates the keys exactly as scanTOML does, in one pass: decoding was
// most of the start-up of a run over the prebuilt corpus (BurntSushi's
// lexer hands every token over a channel and copies the input).
//
// The subset: bare keys (dotted only in table headers), [table] and
// [[array.of.tables]] headers that name a new table, strings of the four
// forms (escapes \" \\ \n \t \r \b \f), decimal integers, booleans and
// arrays of these. ok is false for anything else, for a duplicate key or
// table, and for invalid text (a control character, a carriage return,
// invalid UTF-8): the caller then decodes with BurntSushi, which reports
// errors with their positions. FuzzFastTOML and TestFastTOMLCorpus check
// the equivalence.
//
// With keysOnly, values are checked but not kept (doc is nil), and only the
// keys partialTOML reads are located: for a rule only read as far as its
// type, id and name.
func fastTOML(text string, keysOnly bool) (doc map[string]any, keys keySet, ok bool) {
	if !plainText(text) {
		return nil, keySet{}, false
	}
	n := 64 // most rule files have fewer keys
	if keysOnly {
		n = len(stubKeys)
	}
	d := &tdec{tscan: tscan{text: text, keys: keySet{e: make([]keyEntry, 0, n)}}, line: 1, keysOnly: keysOnly}
	d.root = map[string]any{}
	if !d.run() {
		return nil, keySet{}, false
	}
	if keysOnly {
		return nil, d.keys, true
	}
	return d.root, d.keys, true
}

// plainText reports whether text has no byte that the fast decoder leaves
// to BurntSushi wherever it occurs: control characters other than tab and
// newline (BurntSushi rejects them outside escapes; a carriage return is
// valid before a newline but changes string values), and invalid UTF-8.
func plainText(text string) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	ascii := true
	i := 0
	// Eight bytes at a time: a word with no byte below 0x20 (tab and
	// newline included) and none equal to 0x7f needs no closer look.
	for ; i+8 <= len(text); i += 8 {
		x := binary.LittleEndian.Uint64([]byte(text[i : i+8]))
		y := x ^ 0x7f7f7f7f7f7f7f7f
		if (x-0x20*ones)&^x&highs == 0 && (y-ones)&^y&highs == 0 {
			if x&highs != 0 {
				ascii = false
			}
			continue
		}
		if !plainBytes(text[i:i+8], &ascii) {
			return false
		}
	}
	if !plainBytes(text[i:], &ascii) {
		return false
	}
	return ascii || utf8.ValidString(text)
}

func plainBytes(s string, ascii *bool) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 && c != '\t' && c != '\n' || c == 0x7f {
			return false
		}
		if c >= 0x80 {
			*ascii = false
		}
	}
	return true
}

type tdec struct {
	tscan
	root map[string]any
	// Key positions are counted on from the previous key's (line, start
	// of its line, offset): keys come in file order, and the line index
	// is then needed only for messages and the query.
	line, lineStart, at int
	// keysOnly: values are nil in the tables (which still tell duplicates).
	keysOnly bool
}

// pos is lineIndex.pos for an offset at or after the previous one.
func (d *tdec) pos(off int) filePos {
	gap := d.text[d.at:off]
	if n := strings.Count(gap, "\n"); n > 0 {
		d.line += n
		d.lineStart = d.at + strings.LastIndexByte(gap, '\n') + 1
	}
	d.at = off
	return filePos{Line: d.line, Col: utf8.RuneCountInString(d.text[d.lineStart:off]) + 1, Off: off}
}

// skipBlank skips spaces, tabs, newlines and comments.
func (d *tdec) skipBlank() {
	for !d.eof() {
		switch d.text[d.i] {
		case ' ', '\t', '\n':
			d.i++
		case '#':
			d.skipLine()
		default:
			return
		}
	}
}

// lineEnd accepts what may follow a header or a key/value pair: blank
// space, a comment, then a newline or the end.
func (d *tdec) lineEnd() bool {
	d.skipSpace()
	if d.eof() {
		return true
	}
	switch d.text[d.i] {
	case '#':
		d.skipLine()
		return true
	case '\n':
		return true
	}
	return false
}

// key reads one key part: bare, or quoted without escapes (which scanTOML
// reads the same way). An empty quoted key is left to BurntSushi, which
// decodes [{""=1}] as an array of tables.
func (d *tdec) key() (string, bool) {
	if d.eof() {
		return "", false
	}
	switch q := d.text[d.i]; q {
	case '"', '\'':
		n := strings.IndexAny(d.text[d.i+1:], "\"'\\\n")
		if n < 0 || d.text[d.i+1+n] != q {
			return "", false
		}
		if n == 0 {
			return "", false
		}
		k := d.text[d.i+1 : d.i+1+n]
		d.i += n + 2
		return k, true
	}
	j := d.i
	for j < len(d.text) && isBareKey(d.text[j]) {
		j++
	}
	if j == d.i {
		return "", false
	}
	k := d.text[d.i:j]
	d.i = j
	return k, true
}

func (d *tdec) run() bool {
	table := d.root
	tpath := ""
	var segBuf [6]string // a header's parts, without allocating
	for {
		d.skipBlank()
		if d.eof() {
			return true
		}
		start := d.i
		if d.text[d.i] == '[' {
			arr := strings.HasPrefix(d.text[d.i:], "[[")
			d.i++
			if arr {
				d.i++
			}
			segs := segBuf[:0]
			for {
				d.skipSpace()
				k, ok := d.key()
				if !ok {
					return false
				}
				segs = append(segs, k)
				d.skipSpace()
				if d.eof() || d.text[d.i] != '.' {
					break
				}
				d.i++
			}
			closing := "]"
			if arr {
				closing = "]]"
			}
			if !strings.HasPrefix(d.text[d.i:], closing) {
				return false
			}
			d.i += len(closing)
			t, ok := d.header(segs, arr)
			if !ok {
				return false
			}
			table = t
			switch {
			case !d.keysOnly:
				tpath = d.resolve(segs, arr)
				d.keys.add(tpath, tomlKey{Key: d.pos(start), ValStart: d.i, ValEnd: d.i})
			case !arr && len(segs) == 1 && segs[0] == "rule":
				tpath = "rule" // as resolve has it: a second [rule] or [[rule]] is not decoded
			default:
				tpath = "\x00" // no key of a stub here
			}
			if !d.lineEnd() {
				return false
			}
			continue
		}
		k, ok := d.key()
		if !ok {
			return false
		}
		d.skipSpace()
		if d.eof() || d.text[d.i] != '=' {
			return false // also a dotted key
		}
		d.i++
		d.skipSpace()
		if _, dup := table[k]; dup {
			return false
		}
		vs := d.i
		v, end, ok := d.value()
		if !ok {
			return false
		}
		table[k] = v
		if !d.keysOnly {
			path := k
			if tpath != "" {
				path = tpath + "." + k
			}
			d.keys.add(path, tomlKey{Key: d.pos(start), ValStart: vs, ValEnd: end})
		} else if path, ok := stubPath(tpath, k); ok {
			d.keys.add(path, tomlKey{Key: d.pos(start), ValStart: vs, ValEnd: end})
		}
		if !d.lineEnd() {
			return false
		}
	}
}

// stubKeys are the keys partialTOML reads.
var stubKeys = []string{"rule.type", "rule.rule_id", "rule.name", "rule.language"}

// stubPath returns the path of key k in the table at tpath when it is one
// of stubKeys (a quoted top-level key may be one too).
func stubPath(tpath, k string) (string, bool) {
	for _, s := range stubKeys {
		if tpath == "rule" && s[len("rule."):] == k || tpath == "" && s == k {
			return s, true
		}
	}
	return "", false
}

// header finds or makes the table a header names. Parents are tables,
// made implicitly when missing, or arrays of tables (their last element);
// the table itself must be new, or for [[...]] an array of tables.
func (d *tdec) header(segs []string, arr bool) (map[string]any, bool) {
	t := d.root
	for _, seg := range segs[:len(segs)-1] {
		switch x := t[seg].(type) {
		case nil:
			if _, present := t[seg]; present {
				return nil, false
			}
			m := map[string]any{}
			t[seg] = m
			t = m
		case map[string]any:
			t = x
		case []map[string]any:
			t = x[len(x)-1]
		default:
			return nil, false
		}
	}
	last := segs[len(segs)-1]
	x, present := t[last]
	var m map[string]any
	if len(segs) == 1 && last == "rule" {
		m = make(map[string]any, 24) // [rule] has 16 to 26 keys: no regrowing
	} else {
		m = map[string]any{}
	}
	if !arr {
		if present {
			return nil, false // defining an implicit table, or a redefinition
		}
		t[last] = m
		return m, true
	}
	if !present {
		t[last] = []map[string]any{m}
		return m, true
	}
	list, ok := x.([]map[string]any)
	if !ok {
		return nil, false
	}
	t[last] = append(list, m)
	return m, true
}

// value decodes the value at d.i. end is where scanTOML's value span ends:
// after a string's quotes or an array's bracket, else at the next newline,
// comment or separator.
func (d *tdec) value() (v any, end int, ok bool) {
	if d.eof() {
		return nil, 0, false
	}
	switch c := d.text[d.i]; {
	case c == '"' || c == '\'':
		s, ok := d.str()
		if d.keysOnly {
			return nil, d.i, ok
		}
		return s, d.i, ok
	case c == '[':
		a, ok := d.array()
		if d.keysOnly {
			return nil, d.i, ok
		}
		return a, d.i, ok
	case c == '{':
		t, ok := d.inline()
		return t, d.i, ok
	}
	v, ok = d.scalar()
	if !ok {
		return nil, 0, false
	}
	end = d.i
	for end < len(d.text) && strings.IndexByte("\n#,]}\r", d.text[end]) < 0 {
		end++
	}
	return v, end, true
}

// scalar reads a boolean or a decimal integer without underscores.
func (d *tdec) scalar() (any, bool) {
	j := d.i
	for j < len(d.text) && (isBareKey(d.text[j]) || d.text[j] == '+' || d.text[j] == '.' || d.text[j] == ':') {
		j++
	}
	w := d.text[d.i:j]
	d.i = j
	switch w {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	digits := w
	if len(digits) > 0 && (digits[0] == '-' || digits[0] == '+') {
		digits = digits[1:]
	}
	if digits == "" || digits[0] == '0' && len(digits) > 1 {
		return nil, false
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return nil, false // floats, dates, other bases, underscores, bare words
		}
	}
	n, err := strconv.ParseInt(w, 10, 64)
	if err != nil {
		return nil, false
	}
	if d.keysOnly {
		return nil, true
	}
	return n, true
}

// array reads [v, ...]: blank space, newlines and comments anywhere, a
// trailing comma allowed. Like BurntSushi, an empty array is not nil.
func (d *tdec) array() ([]any, bool) {
	d.i++ // [
	var out []any
	if !d.keysOnly {
		out = make([]any, 0, 2)
	}
	for {
		d.skipBlank()
		if d.eof() {
			return nil, false
		}
		if d.text[d.i] == ']' {
			d.i++
			return out, true
		}
		var v any
		var ok bool
		switch d.text[d.i] {
		case '"', '\'':
			var s string
			if s, ok = d.str(); !d.keysOnly {
				v = s
			}
		case '[':
			v, ok = d.array()
		case '{':
			v, ok = d.inline()
		default:
			v, ok = d.scalar()
		}
		if !ok {
			return nil, false
		}
		if !d.keysOnly {
			out = append(out, v)
		}
		d.skipBlank()
		if d.eof() {
			return nil, false
		}
		switch d.text[d.i] {
		case ',':
			d.i++
		case ']':
		default:
			return nil, false
		}
	}
}

// inline reads an inline table in TOML 1.0's form: on one line, no
// trailing comma, undotted keys.
func (d *tdec) inline() (map[string]any, bool) {
	start := d.i
	d.i++ // {
	t := map[string]any{}
	d.skipSpace()
	if !d.eof() && d.text[d.i] == '}' {
		d.i++
		return t, true
	}
	for {
		d.skipSpace()
		k, ok := d.key()
		if !ok {
			return nil, false
		}
		d.skipSpace()
		if d.eof() || d.text[d.i] != '=' {
			return nil, false
		}
		d.i++
		d.skipSpace()
		if _, dup := t[k]; dup {
			return nil, false
		}
		v, _, ok := d.value()
		if !ok {
			return nil, false
		}
		t[k] = v
		d.skipSpace()
		if d.eof() {
			return nil, false
		}
		switch d.text[d.i] {
		case ',':
			d.i++
		case '}':
			d.i++
			if strings.IndexByte(d.text[start:d.i], '\n') >= 0 {
				return nil, false
			}
			return t, true
		default:
			return nil, false
		}
	}
}

// str reads a string of any of the four forms.
func (d *tdec) str() (string, bool) {
	t := d.text[d.i:]
	switch {
	case strings.HasPrefix(t, `'''`), strings.HasPrefix(t, `"""`):
		delim := t[:3]
		body := t[3:]
		n := strings.Index(body, delim)
		if n < 0 || strings.HasPrefix(body[n+3:], delim[:1]) {
			return "", false // unclosed, or quotes just before the closing ones
		}
		d.i += 3 + n + 3
		s := body[:n]
		if strings.HasPrefix(s, "\n") {
			s = s[1:]
		}
		if delim[0] == '\'' {
			return s, true
		}
		// The closing quotes found may be escaped (\"""): unescape stops
		// there and the caller falls back.
		return unescapeTOML(s)
	case t[0] == '\'':
		n := strings.IndexAny(t[1:], "'\n")
		if n < 0 || t[1+n] != '\'' {
			return "", false
		}
		d.i += n + 2
		return t[1 : 1+n], true
	}
	// basic string: find the closing quote, skipping escaped characters
	j := 1
	for j < len(t) && t[j] != '"' {
		switch t[j] {
		case '\\':
			j += 2
			continue
		case '\n':
			return "", false
		}
		j++
	}
	if j >= len(t) {
		return "", false
	}
	d.i += j + 1
	return unescapeTOML(t[1:j])
}

// unescapeTOML replaces the escapes of a basic string's body. ok is false
// for escapes outside the subset (\u, \U, \x, \e, a line-ending backslash)
// and for invalid ones.
func unescapeTOML(s string) (string, bool) {
	i := strings.IndexByte(s, '\\')
	if i < 0 {
		return s, true
	}
	var b strings.Builder
	b.Grow(len(s))
	for i >= 0 {
		b.WriteString(s[:i])
		if i+1 >= len(s) {
			return "", false
		}
		switch s[i+1] {
		case '"':
			b.WriteByte('"')
		case '\\':
			b.WriteByte('\\')
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		default:
			return "", false
		}
		s = s[i+2:]
		i = strings.IndexByte(s, '\\')
	}
	b.WriteString(s)
	return b.String(), true
}
