package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// ParseError is a mapping error with the 1-based line and column (in
// characters) of the offending input, so that a user can find the problem in
// a hand-written mapping file.
type ParseError struct {
	Line, Col int
	Msg       string
}

func (e *ParseError) Error() string { return fmt.Sprintf("%d:%d: %s", e.Line, e.Col, e.Msg) }

// jkind is the kind of a JSON node.
type jkind uint8

const (
	jNull jkind = iota
	jBool
	jNumber
	jString
	jObject
	jArray
)

func (k jkind) String() string {
	return [...]string{"null", "boolean", "number", "string", "object", "array"}[k]
}

// jnode is a JSON value that remembers where it started. encoding/json's
// map[string]any would lose both key order and positions, and semantic errors
// ("unknown alias target") are only useful with a position.
type jnode struct {
	kind  jkind
	off   int    // byte offset of the value's first character
	str   string // jString, or the literal text of a jNumber
	b     bool
	keys  []string // jObject, in document order
	koff  []int    // offsets of the keys
	vals  []*jnode // jObject values, or jArray elements
	index map[string]int
}

func (n *jnode) get(key string) *jnode {
	if n == nil || n.kind != jObject {
		return nil
	}
	if i, ok := n.index[key]; ok {
		return n.vals[i]
	}
	return nil
}

// maxJSONDepth bounds recursion; real mappings are far shallower (ES caps
// object depth at 20 by default) and fuzzed input must not exhaust the stack.
const maxJSONDepth = 1000

// jparser builds a jnode tree from the token stream of encoding/json.
type jparser struct {
	data []byte
	dec  *json.Decoder
}

// parseJSONTree parses data (already stripped of comment lines) into a tree.
func parseJSONTree(data []byte) (*jnode, error) {
	p := &jparser{data: data, dec: json.NewDecoder(bytes.NewReader(data))}
	p.dec.UseNumber()
	root, err := p.value(0)
	if err != nil {
		return nil, err
	}
	off := p.nextOffset()
	if _, err := p.dec.Token(); err != io.EOF {
		if err != nil {
			return nil, p.wrap(err)
		}
		return nil, p.errAt(off, "unexpected data after the top-level JSON value")
	}
	return root, nil
}

// nextOffset is the offset where the next token starts: the decoder only
// reports where the previous one ended.
func (p *jparser) nextOffset() int {
	off := int(p.dec.InputOffset())
	for off < len(p.data) {
		switch p.data[off] {
		case ' ', '\t', '\r', '\n', ':', ',':
			off++
			continue
		}
		break
	}
	return off
}

func (p *jparser) errAt(off int, format string, args ...any) *ParseError {
	line, col := lineCol(p.data, off)
	return &ParseError{Line: line, Col: col, Msg: fmt.Sprintf(format, args...)}
}

// wrap turns a decoder error into a positioned ParseError. The token
// decoder's SyntaxError offsets are relative to where it resumed, so the
// position comes from a whole-document pass, whose offset is one past the
// offending byte.
func (p *jparser) wrap(err error) error {
	if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
		return p.errAt(len(p.data), "invalid JSON: unexpected end of input")
	}
	var v any
	var se *json.SyntaxError
	if errors.As(json.Unmarshal(p.data, &v), &se) {
		if strings.Contains(se.Error(), "unexpected end") {
			return p.errAt(len(p.data), "invalid JSON: unexpected end of input")
		}
		return p.errAt(int(se.Offset)-1, "invalid JSON: %s", se.Error())
	}
	return p.errAt(int(p.dec.InputOffset()), "invalid JSON: %v", err)
}

func (p *jparser) value(depth int) (*jnode, error) {
	if depth > maxJSONDepth {
		return nil, p.errAt(p.nextOffset(), "JSON nested too deeply")
	}
	off := p.nextOffset()
	tok, err := p.dec.Token()
	if err != nil {
		return nil, p.wrap(err)
	}
	n := &jnode{off: off}
	switch t := tok.(type) {
	case nil:
		n.kind = jNull
	case bool:
		n.kind, n.b = jBool, t
	case json.Number:
		n.kind, n.str = jNumber, string(t)
	case string:
		n.kind, n.str = jString, t
	case json.Delim:
		switch t {
		case '{':
			n.kind = jObject
			n.index = map[string]int{}
			for p.dec.More() {
				koff := p.nextOffset()
				kt, err := p.dec.Token()
				if err != nil {
					return nil, p.wrap(err)
				}
				key, ok := kt.(string)
				if !ok {
					return nil, p.errAt(koff, "invalid JSON: object key is not a string")
				}
				// Elasticsearch parses with strict duplicate detection.
				if _, dup := n.index[key]; dup {
					return nil, p.errAt(koff, "duplicate key %q", key)
				}
				v, err := p.value(depth + 1)
				if err != nil {
					return nil, err
				}
				n.index[key] = len(n.vals)
				n.keys = append(n.keys, key)
				n.koff = append(n.koff, koff)
				n.vals = append(n.vals, v)
			}
		case '[':
			n.kind = jArray
			for p.dec.More() {
				v, err := p.value(depth + 1)
				if err != nil {
					return nil, err
				}
				n.vals = append(n.vals, v)
			}
		default:
			return nil, p.errAt(off, "invalid JSON: unexpected %q", rune(t))
		}
		if _, err := p.dec.Token(); err != nil { // closing delimiter
			return nil, p.wrap(err)
		}
	}
	return n, nil
}

// lineCol converts a byte offset to a 1-based line and character column.
func lineCol(data []byte, off int) (int, int) {
	if off > len(data) {
		off = len(data)
	}
	if off < 0 {
		off = 0
	}
	line := 1 + bytes.Count(data[:off], []byte{'\n'})
	start := bytes.LastIndexByte(data[:off], '\n') + 1
	return line, 1 + utf8.RuneCount(data[start:off])
}

// stripComments blanks lines whose first non-blank character is '#', as in
// Elasticsearch's EQL test mapping templates. Blanking (rather than removing)
// keeps every offset, so error positions still point into the user's file. A
// '#' can never start a JSON token, so no valid JSON line is affected.
func stripComments(data []byte) []byte {
	var out []byte
	lineStart := 0
	for lineStart <= len(data) {
		end := bytes.IndexByte(data[lineStart:], '\n')
		if end < 0 {
			end = len(data)
		} else {
			end += lineStart
		}
		i := lineStart
		for i < end && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r') {
			i++
		}
		if i < end && data[i] == '#' {
			if out == nil {
				out = append([]byte(nil), data...)
			}
			for j := i; j < end; j++ {
				if out[j] != '\r' {
					out[j] = ' '
				}
			}
		}
		lineStart = end + 1
	}
	if out == nil {
		return data
	}
	return out
}
