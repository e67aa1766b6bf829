package ruletest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Event is one event of a case.
type Event struct {
	Pos  int    // 1-based position among the case's events
	ID   string // the document's top-level "_id" string; "" if none
	File string // the file it is written in (the test file for inline events)
	Line int    // its line in File (for a JSON array, the element's first line)
	Raw  []byte // the event, compact JSON on one line
}

// Label names the event in reports: "#3" or `#3 (_id "a")`, with its
// file:line.
func (e *Event) Label() string {
	s := "#" + strconv.Itoa(e.Pos)
	if e.ID != "" {
		s += " (_id " + strconv.Quote(e.ID) + ")"
	}
	return s
}

// Where is the event's file:line.
func (e *Event) Where() string { return fmt.Sprintf("%s:%d", e.File, e.Line) }

// eventSource says where a block of events comes from, to position errors
// and events.
type eventSource struct {
	file string
	// line, col: where data's first byte is in file. Lines of data map
	// to consecutive lines of file, unless oneLine (a one-line TOML string
	// whose "\n" escapes make the lines): then all are at line, col.
	line, col int
	oneLine   bool
}

func (src eventSource) at(line int) (int, int) {
	if line <= 1 || src.oneLine {
		return src.line, src.col
	}
	return src.line + line - 1, 1
}

// parseEvents splits data (NDJSON, one event per line, blank lines
// ignored; or one JSON array of events) into events. Errors are positioned
// in src.file.
func parseEvents(data []byte, src eventSource) ([]Event, []*Error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if t := bytes.TrimLeft(data, " \t\r\n"); len(t) > 0 && t[0] == '[' {
		return parseArray(data, src)
	}
	var evs []Event
	var errs []*Error
	line := 0
	for rest := data; len(rest) > 0; {
		line++
		var rec []byte
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			rec, rest = rest[:i], rest[i+1:]
		} else {
			rec, rest = rest, nil
		}
		rec = bytes.TrimSpace(rec)
		if len(rec) == 0 {
			continue
		}
		l, c := src.at(line)
		if err := checkObject(rec); err != nil {
			errs = append(errs, &Error{Path: src.file, Line: l, Col: c, Msg: "event: " + err.Error()})
			continue
		}
		evs = append(evs, Event{Pos: len(evs) + 1, File: src.file, Line: l, Raw: rec})
	}
	return evs, errs
}

func parseArray(data []byte, src eventSource) ([]Event, []*Error) {
	lineOf := func(off int64) int { return 1 + bytes.Count(data[:off], []byte("\n")) }
	errAt := func(off int64, msg string) []*Error {
		l, c := src.at(lineOf(off))
		return []*Error{{Path: src.file, Line: l, Col: c, Msg: msg}}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if _, err := dec.Token(); err != nil { // '['
		return nil, errAt(dec.InputOffset(), "events: "+jsonErr(err))
	}
	var evs []Event
	for dec.More() {
		off := dec.InputOffset()
		// The element starts after the separator and blanks.
		for off < int64(len(data)) && strings.IndexByte(" \t\r\n,", data[off]) >= 0 {
			off++
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return evs, errAt(off, "events: "+jsonErr(err))
		}
		if len(raw) == 0 || raw[0] != '{' {
			return evs, errAt(off, "event: not a JSON object")
		}
		var b bytes.Buffer
		if err := json.Compact(&b, raw); err != nil {
			return evs, errAt(off, "event: "+jsonErr(err))
		}
		l, _ := src.at(lineOf(off))
		evs = append(evs, Event{Pos: len(evs) + 1, File: src.file, Line: l, Raw: b.Bytes()})
	}
	if _, err := dec.Token(); err != nil { // ']'
		return evs, errAt(dec.InputOffset(), "events: "+jsonErr(err))
	}
	if _, err := dec.Token(); err == nil {
		return evs, errAt(dec.InputOffset(), "events: data after the JSON array")
	}
	return evs, nil
}

// checkObject reports whether rec is one valid JSON object.
func checkObject(rec []byte) error {
	if !json.Valid(rec) {
		var v any
		err := json.Unmarshal(rec, &v)
		if err == nil { // cannot happen; keep a message anyway
			err = errors.New("invalid JSON")
		}
		return errors.New(jsonErr(err))
	}
	if rec[0] != '{' {
		return errors.New("not a JSON object (one event per line)")
	}
	return nil
}

func jsonErr(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("invalid JSON at byte %d: %s", se.Offset, se.Error())
	}
	return err.Error()
}

// docID returns the top-level "_id" of an event when it is a string.
func docID(raw []byte) string {
	var top map[string]json.RawMessage
	if json.Unmarshal(raw, &top) != nil {
		return ""
	}
	var id string
	if v, ok := top["_id"]; ok && json.Unmarshal(v, &id) == nil {
		return id
	}
	return ""
}

// summary describes an event in one short line for reports: its command
// line, message or action when it has one, else its JSON, shortened.
func summary(raw []byte) string {
	var doc map[string]any
	if json.Unmarshal(raw, &doc) == nil {
		for _, f := range []string{"process.command_line", "message", "event.action"} {
			if s, ok := lookup(doc, f).(string); ok && s != "" {
				host, _ := lookup(doc, "host.name").(string)
				if host != "" {
					s = host + ": " + s
				}
				return shorten(s, 100)
			}
		}
	}
	return shorten(string(raw), 100)
}

// lookup reads a field by dotted name, through nested objects and dotted
// keys alike.
func lookup(doc map[string]any, name string) any {
	if v, ok := doc[name]; ok {
		return v
	}
	for i := 0; i < len(name); i++ {
		if name[i] != '.' {
			continue
		}
		if sub, ok := doc[name[:i]].(map[string]any); ok {
			if v := lookup(sub, name[i+1:]); v != nil {
				return v
			}
		}
	}
	return nil
}

func shorten(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
