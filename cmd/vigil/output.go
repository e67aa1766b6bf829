package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/vigilsec/vigil/eql"
	"github.com/vigilsec/vigil/event"
)

// The JSON writers build the output by hand so that each _source goes out
// as the exact bytes read, never decoded and re-encoded (which would
// reorder keys, reformat numbers and lose duplicates).

// writeJSON writes the body of an Elasticsearch EQL search response.
func writeJSON(w *bufio.Writer, res *eql.Results, kind eql.QueryKind, took time.Duration) {
	n := len(res.Events)
	if kind != eql.EventQuery {
		n = len(res.Sequences)
	}
	fmt.Fprintf(w, `{"is_partial":false,"is_running":false,"took":%d,"timed_out":false,"hits":{"total":{"value":%d,"relation":"eq"},`,
		took.Milliseconds(), n)
	if kind == eql.EventQuery {
		w.WriteString(`"events":[`)
		for i, h := range res.Events {
			if i > 0 {
				w.WriteByte(',')
			}
			writeHit(w, h)
		}
	} else {
		w.WriteString(`"sequences":[`)
		for i, s := range res.Sequences {
			if i > 0 {
				w.WriteByte(',')
			}
			writeSequence(w, s)
		}
	}
	w.WriteString("]}}\n")
}

// writeNDJSON writes one event, or one sequence, per line.
func writeNDJSON(w *bufio.Writer, res *eql.Results, kind eql.QueryKind) {
	if kind == eql.EventQuery {
		for _, h := range res.Events {
			writeHit(w, h)
			w.WriteByte('\n')
		}
		return
	}
	for _, s := range res.Sequences {
		writeSequence(w, s)
		w.WriteByte('\n')
	}
}

func writeHit(w *bufio.Writer, h *eql.Hit) {
	if h.Missing {
		w.WriteString(`{"missing":true}`)
		return
	}
	w.WriteString(`{"_index":`)
	writeString(w, h.Index)
	w.WriteString(`,"_id":`)
	writeString(w, h.ID)
	w.WriteString(`,"_source":`)
	w.Write(h.Source)
	w.WriteByte('}')
}

func writeSequence(w *bufio.Writer, s *eql.SequenceResult) {
	w.WriteString(`{"join_keys":`)
	writeJoinKeys(w, s.JoinKeys)
	w.WriteString(`,"events":[`)
	for i, h := range s.Events {
		if i > 0 {
			w.WriteByte(',')
		}
		writeHit(w, h)
	}
	w.WriteString("]}")
}

func writeJoinKeys(w *bufio.Writer, keys []event.Value) {
	w.WriteByte('[')
	for i, v := range keys {
		if i > 0 {
			w.WriteByte(',')
		}
		writeValue(w, v)
	}
	w.WriteByte(']')
}

// writeValue writes a scalar as JSON the way ES renders join keys: strings
// quoted, numbers bare (doubles as Java prints them), null for no value.
func writeValue(w *bufio.Writer, v event.Value) {
	switch v.Kind {
	case event.Bool:
		w.WriteString(strconv.FormatBool(v.B))
	case event.Int:
		w.WriteString(strconv.FormatInt(v.I, 10))
	case event.Float:
		s := event.FormatDouble(v.F)
		if _, err := strconv.ParseFloat(s, 64); err != nil {
			s = "null" // NaN and infinities have no JSON spelling
		}
		w.WriteString(s)
	case event.String:
		writeString(w, v.S)
	default:
		w.WriteString("null")
	}
}

// tableWriter renders results for a person at a terminal.
type tableWriter struct {
	w        *bufio.Writer
	color    bool
	width    int // terminal width; 0: unknown, do not truncate
	tsField  string
	catField string
}

type tableRow struct {
	cells   [4]string // timestamp, index, id, category
	summary string
	missing bool
}

var tableHeader = [4]string{"", "_index", "_id", ""}

const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiDim    = "\x1b[2m"
	ansiCyan   = "\x1b[36m"
	ansiYellow = "\x1b[33m"
	ansiGreen  = "\x1b[32m"
)

// Column caps keep one long value from pushing the summary off screen.
var colMax = [4]int{30, 30, 40, 24}

func (t *tableWriter) paint(code, s string) string {
	if !t.color || code == "" || s == "" {
		return s
	}
	return code + s + ansiReset
}

func (t *tableWriter) write(res *eql.Results, kind eql.QueryKind) {
	header := tableHeader
	header[0], header[3] = t.tsField, t.catField
	widths := [4]int{}
	for i, h := range header {
		widths[i] = utf8.RuneCountInString(h)
	}
	grow := func(rows []tableRow) {
		for _, r := range rows {
			for i, c := range r.cells {
				widths[i] = max(widths[i], min(utf8.RuneCountInString(c), colMax[i]))
			}
		}
	}
	if kind == eql.EventQuery {
		rows := t.rows(res.Events)
		grow(rows)
		if len(rows) == 0 {
			fmt.Fprintln(t.w, "no events matched")
			return
		}
		t.line("", header, "summary", widths, true)
		for _, r := range rows {
			t.row("", r, widths)
		}
		fmt.Fprintf(t.w, "\n%s\n", plural(int64(len(rows)), "event"))
		return
	}
	blocks := make([][]tableRow, len(res.Sequences))
	for i, s := range res.Sequences {
		blocks[i] = t.rows(s.Events)
		grow(blocks[i])
	}
	if len(blocks) == 0 {
		fmt.Fprintln(t.w, "no sequences matched")
		return
	}
	noun := "sequence"
	if kind == eql.SampleQuery {
		noun = "sample"
	}
	for i, s := range res.Sequences {
		var keys bytes.Buffer
		bw := bufio.NewWriter(&keys)
		writeJoinKeys(bw, s.JoinKeys)
		bw.Flush()
		fmt.Fprintf(t.w, "%s  join_keys: %s\n", t.paint(ansiBold, fmt.Sprintf("%s %d", noun, i+1)), t.paint(ansiGreen, keys.String()))
		t.line("  ", header, "summary", widths, true)
		for _, r := range blocks[i] {
			t.row("  ", r, widths)
		}
		t.w.WriteByte('\n')
	}
	fmt.Fprintln(t.w, plural(int64(len(blocks)), noun))
}

func (t *tableWriter) rows(hits []*eql.Hit) []tableRow {
	rows := make([]tableRow, len(hits))
	for i, h := range hits {
		if h.Missing {
			rows[i].missing = true
			continue
		}
		f := flatten(h.Source)
		rows[i].cells = [4]string{f.get(t.tsField, ", "), h.Index, h.ID, f.get(t.catField, ", ")}
		rows[i].summary = f.summary(t.tsField, t.catField)
	}
	return rows
}

func (t *tableWriter) row(indent string, r tableRow, widths [4]int) {
	if r.missing {
		fmt.Fprintf(t.w, "%s%s\n", indent, t.paint(ansiDim, "(missing event)"))
		return
	}
	t.line(indent, r.cells, r.summary, widths, false)
}

func (t *tableWriter) line(indent string, cells [4]string, summary string, widths [4]int, header bool) {
	codes := [4]string{ansiDim, ansiCyan, "", ansiYellow}
	t.w.WriteString(indent)
	used := len(indent)
	for i, c := range cells {
		c = truncate(c, widths[i])
		pad := widths[i] - utf8.RuneCountInString(c)
		code := codes[i]
		if header {
			code = ansiBold
		}
		t.w.WriteString(t.paint(code, c))
		t.w.WriteString(strings.Repeat(" ", pad+2))
		used += widths[i] + 2
	}
	if t.width > 0 {
		summary = truncate(summary, max(t.width-used-1, 10))
	}
	if header {
		summary = t.paint(ansiBold, summary)
	}
	t.w.WriteString(strings.TrimRight(summary, " "))
	t.w.WriteByte('\n')
}

// truncate shortens s to n runes, marking the cut with an ellipsis.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	if n <= 1 {
		return "…"
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// fields are the leaves of a document in document order, under their full
// dotted names, nested objects and dotted keys alike.
type fields []field

type field struct {
	name string
	vals []string
}

func flatten(src []byte) fields {
	dec := json.NewDecoder(bytes.NewReader(src))
	dec.UseNumber()
	var out fields
	var walk func(prefix string) bool
	// walk reads one value named prefix; array elements all go under the
	// same name, as Elasticsearch flattens them.
	walk = func(prefix string) bool {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{':
				for dec.More() {
					k, err := dec.Token()
					if err != nil {
						return false
					}
					name, _ := k.(string)
					if prefix != "" {
						name = prefix + "." + name
					}
					if !walk(name) {
						return false
					}
				}
			case '[':
				for dec.More() {
					if !walk(prefix) {
						return false
					}
				}
			}
			_, err := dec.Token() // the closing delimiter
			return err == nil
		case nil:
			return true
		default:
			out.add(prefix, fmt.Sprint(v))
			return true
		}
	}
	walk("")
	return out
}

func (f *fields) add(name, val string) {
	for i := range *f {
		if (*f)[i].name == name {
			(*f)[i].vals = append((*f)[i].vals, val)
			return
		}
	}
	*f = append(*f, field{name: name, vals: []string{val}})
}

func (f fields) get(name, sep string) string {
	for _, x := range f {
		if x.name == name {
			return strings.Join(x.vals, sep)
		}
	}
	return ""
}

// summary says what the event is about: the process and its command line
// for process events (the usual subject of detections), else the first few
// fields.
func (f fields) summary(skip ...string) string {
	name := f.get("process.name", ", ")
	cmd := f.get("process.command_line", " ")
	if cmd == "" {
		cmd = f.get("process.args", " ")
	}
	if name != "" || cmd != "" {
		return strings.TrimSpace(name + "  " + cmd)
	}
	var parts []string
	for _, x := range f {
		if len(parts) == 4 {
			break
		}
		if x.name == "_id" || contains(skip, x.name) {
			continue
		}
		parts = append(parts, x.name+"="+strings.Join(x.vals, ","))
	}
	return strings.Join(parts, " ")
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// writeString writes s as a JSON string.
func writeString(w *bufio.Writer, s string) { w.Write(event.AppendJSONString(w.AvailableBuffer(), s)) }
