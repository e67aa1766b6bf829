package ruletest

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// Suffix ends the name of a rule unit test file.
const Suffix = ".test.toml"

// Suite is one test file: a rule and the cases to run it on.
type Suite struct {
	Path        string // the test file, as given to LoadFile or Load
	Description string
	// Rule is the rule reference as written; "" when the file names none
	// and the rule is the sibling file (x.test.toml tests x.toml).
	Rule string
	// RuleRef is what Run passes to resolve: for a path, the path joined
	// to the test file's directory (in the file system the suite was
	// loaded from); for a rule_id, the rule_id.
	RuleRef string
	// RuleIsPath reports whether RuleRef is a file path (else a rule_id).
	RuleIsPath bool
	Cases      []*Case
}

// Case is one [[case]]: events and what the rule must raise on them.
type Case struct {
	Name        string
	Description string
	// Skip, when set, is why the case is not run.
	Skip string
	Path string // the test file
	Line int    // line of the case's [[case]] header
	// EventsFile is events_file as written; "" for inline events.
	EventsFile string
	Events     []Event
	// ExpectAlerts is expect_alerts; nil when not set.
	ExpectAlerts *int
	// Expect is expect_ids, each resolved to the events it names; nil
	// when expect_ids is not set, empty when it is [].
	Expect []Alert
}

// Alert is one alert, as expected or as raised: the id string (as written
// in expect_ids or as returned by run) and the events it resolves to
// (several for a sequence; nil when it names no event of the case).
type Alert struct {
	ID     string
	Events []int // 1-based positions in Case.Events
}

// key identifies an alert for comparison: its events, or its id when it
// names no event.
func (a Alert) key() string {
	if a.Events == nil {
		return "?" + a.ID
	}
	parts := make([]string, len(a.Events))
	for i, p := range a.Events {
		parts[i] = strconv.Itoa(p)
	}
	return strings.Join(parts, ",")
}

// Data returns the case's events as NDJSON, one event per line (each
// line's number is the event's position): what Run passes to run.
func (c *Case) Data() []byte {
	n := 0
	for _, e := range c.Events {
		n += len(e.Raw) + 1
	}
	b := make([]byte, 0, n)
	for _, e := range c.Events {
		b = append(b, e.Raw...)
		b = append(b, '\n')
	}
	return b
}

// Where is the case's file:line.
func (c *Case) Where() string { return fmt.Sprintf("%s:%d", c.Path, c.Line) }

// Error is one problem in a test file (or an events file it reads), at
// Path:Line:Col. Col is 0 when only the line is known.
type Error struct {
	Path      string
	Line, Col int
	Msg       string
}

func (e *Error) Error() string {
	switch {
	case e.Line <= 0:
		return e.Path + ": " + e.Msg
	case e.Col <= 0:
		return fmt.Sprintf("%s:%d: %s", e.Path, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s:%d:%d: %s", e.Path, e.Line, e.Col, e.Msg)
}

// ErrorList is every problem found in one test file, in file order.
type ErrorList []*Error

func (l ErrorList) Error() string {
	s := make([]string, len(l))
	for i, e := range l {
		s[i] = e.Error()
	}
	return strings.Join(s, "\n")
}

// LoadFile reads and checks a test file. events_file and rule paths are
// relative to the file's directory. The error, if any, is an ErrorList
// (every problem, positioned) or the error reading the file.
func LoadFile(name string) (*Suite, error) {
	src, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	dir := filepath.Dir(name)
	join := func(ref string) string {
		if filepath.IsAbs(ref) {
			return ref
		}
		return filepath.Join(dir, filepath.FromSlash(ref))
	}
	return parse(name, src, join, func(ref string) (string, []byte, error) {
		p := join(ref)
		b, err := os.ReadFile(p)
		return p, b, err
	})
}

// Load reads and checks the test file name in fsys; events_file and rule
// paths are relative to its directory in fsys and must stay inside fsys.
func Load(fsys fs.FS, name string) (*Suite, error) {
	src, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, err
	}
	join := func(ref string) string { return path.Join(path.Dir(name), ref) }
	return parse(name, src, join, func(ref string) (string, []byte, error) {
		p := join(ref)
		if !fs.ValidPath(p) {
			return p, nil, fmt.Errorf("%s is outside the file system the test was loaded from", p)
		}
		b, err := fs.ReadFile(fsys, p)
		return p, b, err
	})
}

// Find returns the test files (*.test.toml) under root, sorted.
func Find(fsys fs.FS, root string) ([]string, error) {
	var out []string
	err := fs.WalkDir(fsys, root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(p, Suffix) {
			out = append(out, p)
		}
		return nil
	})
	sort.Strings(out)
	return out, err
}

// IsRulePath reports whether a rule reference is a file path (it has a
// path separator or ends in .toml, .json or .ndjson) rather than a
// rule_id.
func IsRulePath(ref string) bool {
	if strings.ContainsAny(ref, `/\`) {
		return true
	}
	for _, ext := range []string{".toml", ".json", ".ndjson"} {
		if strings.HasSuffix(strings.ToLower(ref), ext) {
			return true
		}
	}
	return false
}

var topKeys = map[string]bool{"rule": true, "description": true, "case": true}

var caseKeys = map[string]bool{
	"name": true, "description": true, "skip": true,
	"events": true, "events_file": true,
	"expect_alerts": true, "expect_ids": true,
}

// loader state for one file.
type loader struct {
	name       string
	layout     *layout
	join       func(ref string) string
	readEvents func(ref string) (string, []byte, error)
	errs       ErrorList
}

func (l *loader) errAt(p pos, format string, args ...any) {
	l.errs = append(l.errs, &Error{Path: l.name, Line: p.line, Col: p.col, Msg: fmt.Sprintf(format, args...)})
}

func parse(name string, src []byte, join func(string) string, readEvents func(string) (string, []byte, error)) (*Suite, error) {
	var doc map[string]any
	if _, err := toml.Decode(string(src), &doc); err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			line, col := pe.Position.Line, pe.Position.Col
			if off := pe.Position.Start; off > 0 && off <= len(src) {
				// The decoder counts a newline it stops at as the next
				// line; the byte offset is exact.
				line, col = offsetPos(src, off)
			}
			return nil, ErrorList{{Path: name, Line: line, Col: col, Msg: pe.Message}}
		}
		return nil, ErrorList{{Path: name, Msg: err.Error()}}
	}
	l := &loader{name: name, layout: scanLayout(src), join: join, readEvents: readEvents}
	s := &Suite{Path: name}
	top := &l.layout.top

	for _, k := range sortedKeys(doc) {
		if !topKeys[k] {
			l.errAt(top.keyAt(k).key, "unknown key %q (want rule, description and [[case]] tables)", k)
		}
	}
	s.Description = l.str(doc, "description", top)
	s.Rule = l.str(doc, "rule", top)
	switch {
	case s.Rule != "":
		s.RuleIsPath = IsRulePath(s.Rule)
		s.RuleRef = s.Rule
		if s.RuleIsPath {
			s.RuleRef = join(s.Rule)
		}
	case strings.HasSuffix(name, Suffix):
		s.RuleIsPath = true
		s.RuleRef = strings.TrimSuffix(name, Suffix) + ".toml"
	default:
		if _, set := doc["rule"]; !set {
			l.errAt(pos{1, 1}, "rule is missing: set rule = \"<rule file>\" or \"<rule_id>\" (only a file named <rule>%s may omit it)", Suffix)
		} else if _, ok := doc["rule"].(string); ok {
			l.errAt(top.keyAt("rule").val, "rule is empty")
		}
	}

	cases, ok := tables(doc["case"])
	switch {
	case doc["case"] == nil:
		l.errAt(pos{1, 1}, "no [[case]]: a test file needs at least one case")
	case !ok:
		l.errAt(top.keyAt("case").val, "case must be an array of tables ([[case]])")
	}
	names := map[string]int{}
	for i, c := range cases {
		lay := &tableLayout{header: top.keyAt("case").key, keys: map[string]keyPos{}}
		if len(l.layout.cases) == len(cases) {
			lay = &l.layout.cases[i]
		}
		tc := l.loadCase(c, lay)
		if tc.Name != "" {
			if line, dup := names[tc.Name]; dup {
				l.errAt(lay.keyAt("name").val, "case name %q is used twice (first at line %d)", tc.Name, line)
			} else {
				names[tc.Name] = tc.Line
			}
		}
		s.Cases = append(s.Cases, tc)
	}
	if len(l.errs) > 0 {
		sort.SliceStable(l.errs, func(i, j int) bool {
			a, b := l.errs[i], l.errs[j]
			if a.Path != b.Path {
				return a.Path == name // the test file's own errors first
			}
			if a.Line != b.Line {
				return a.Line < b.Line
			}
			return a.Col < b.Col
		})
		return nil, l.errs
	}
	return s, nil
}

func (l *loader) loadCase(c map[string]any, lay *tableLayout) *Case {
	tc := &Case{Path: l.name, Line: lay.header.line}
	for _, k := range sortedKeys(c) {
		if !caseKeys[k] {
			l.errAt(lay.keyAt(k).key, "unknown key %q in [[case]] (want name, description, skip, events or events_file, expect_alerts, expect_ids)", k)
		}
	}
	tc.Name = l.str(c, "name", lay)
	if _, set := c["name"]; !set {
		l.errAt(lay.header, "[[case]] has no name")
	} else if tc.Name == "" {
		l.errAt(lay.keyAt("name").val, "name is empty")
	}
	tc.Description = l.str(c, "description", lay)
	tc.Skip = l.str(c, "skip", lay)

	// Events.
	nerrs := len(l.errs)
	_, inline := c["events"]
	_, file := c["events_file"]
	switch {
	case inline && file:
		l.errAt(lay.keyAt("events_file").key, "events and events_file are both set: use one")
	case inline:
		text := l.str(c, "events", lay)
		p := lay.keyAt("events")
		src := eventSource{file: l.name, line: p.val.line, col: p.val.col, oneLine: true}
		if p.content.line > 0 {
			src = eventSource{file: l.name, line: p.content.line, col: p.content.col}
		}
		evs, errs := parseEvents([]byte(text), src)
		tc.Events = evs
		l.errs = append(l.errs, errs...)
	case file:
		tc.EventsFile = l.str(c, "events_file", lay)
		p := lay.keyAt("events_file").val
		if tc.EventsFile == "" {
			if _, ok := c["events_file"].(string); ok {
				l.errAt(p, "events_file is empty")
			}
			break
		}
		fname, data, err := l.readEvents(tc.EventsFile)
		if err != nil {
			l.errAt(p, "events_file: %v", err)
			break
		}
		evs, errs := parseEvents(data, eventSource{file: fname, line: 1, col: 1})
		tc.Events = evs
		l.errs = append(l.errs, errs...)
	default:
		l.errAt(lay.header, "case %q has no events: set events = '''<NDJSON>''' or events_file = \"<path>\"", tc.Name)
	}
	if (inline || file) && len(tc.Events) == 0 && len(l.errs) == nerrs {
		key := "events"
		if file {
			key = "events_file"
		}
		l.errAt(lay.keyAt(key).val, "case %q has no events (the text is empty)", tc.Name)
	}
	byID := map[string]int{}
	for i := range tc.Events {
		e := &tc.Events[i]
		e.ID = docID(e.Raw)
		if e.ID == "" {
			continue
		}
		if j, dup := byID[e.ID]; dup {
			l.errs = append(l.errs, &Error{Path: e.File, Line: e.Line, Msg: fmt.Sprintf("_id %q is also the _id of event #%d (%s): ids must be unique in a case", e.ID, j, tc.Events[j-1].Where())})
			continue
		}
		byID[e.ID] = e.Pos
	}

	// Expectations.
	_, hasN := c["expect_alerts"]
	_, hasIDs := c["expect_ids"]
	if !hasN && !hasIDs {
		l.errAt(lay.header, "case %q expects nothing: set expect_alerts = N and/or expect_ids = [...]", tc.Name)
	}
	if hasN {
		p := lay.keyAt("expect_alerts").val
		switch n, ok := c["expect_alerts"].(int64); {
		case !ok:
			l.errAt(p, "expect_alerts must be an integer, not %s", kind(c["expect_alerts"]))
		case n < 0 || n > 1<<31:
			l.errAt(p, "expect_alerts must be a count (0 or more), not %d", n)
		default:
			v := int(n)
			tc.ExpectAlerts = &v
		}
	}
	if hasIDs {
		p := lay.keyAt("expect_ids").val
		list, ok := c["expect_ids"].([]any)
		if !ok {
			l.errAt(p, "expect_ids must be an array of strings, not %s", kind(c["expect_ids"]))
		}
		tc.Expect = []Alert{}
		for i, v := range list {
			id, ok := v.(string)
			if !ok {
				l.errAt(p, "expect_ids[%d] must be a string (an _id or a position such as \"3\"), not %s", i, kind(v))
				continue
			}
			a := resolveID(tc.Events, byID, id)
			if a.Events == nil && len(tc.Events) > 0 {
				l.errAt(p, "expect_ids[%d] %q names no event of the case: use an event's _id or its position (1 to %d)", i, id, len(tc.Events))
			}
			tc.Expect = append(tc.Expect, a)
		}
		if tc.ExpectAlerts != nil && len(list) != *tc.ExpectAlerts {
			l.errAt(lay.keyAt("expect_alerts").val, "expect_alerts = %d but expect_ids lists %d alerts", *tc.ExpectAlerts, len(list))
		}
	}
	return tc
}

// offsetPos turns a byte offset of src into a line and a column (runes).
func offsetPos(src []byte, off int) (line, col int) {
	line, col = 1, 1
	for _, c := range src[:off] {
		switch {
		case c == '\n':
			line, col = line+1, 1
		case c&0xC0 != 0x80:
			col++
		}
	}
	return line, col
}

// str reads an optional string value, reporting another type.
func (l *loader) str(m map[string]any, key string, lay *tableLayout) string {
	v, ok := m[key]
	if !ok {
		return ""
	}
	s, ok := v.(string)
	if !ok {
		l.errAt(lay.keyAt(key).val, "%s must be a string, not %s", key, kind(v))
	}
	return s
}

// tables returns the [[case]] tables (also accepting an inline array of
// tables).
func tables(v any) ([]map[string]any, bool) {
	switch v := v.(type) {
	case []map[string]any:
		return v, true
	case []any:
		out := make([]map[string]any, 0, len(v))
		for _, x := range v {
			m, ok := x.(map[string]any)
			if !ok {
				return nil, false
			}
			out = append(out, m)
		}
		return out, true
	}
	return nil, false
}

func kind(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case int64:
		return "an integer"
	case float64:
		return "a float"
	case bool:
		return "a boolean"
	case []any, []map[string]any:
		return "an array"
	case map[string]any:
		return "a table"
	case nil:
		return "nothing"
	}
	return "a date or time"
}

func sortedKeys(m map[string]any) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// resolveID resolves an alert id (from expect_ids or returned by run) to
// events of the case. Each id is, in this order: an event's _id; a
// position "N" or "#N" (1 to len(events)); "<anything>:N" (the CLI's
// "<index>:<line>" naming); or several of these joined by "," (the events
// of a sequence alert). An id naming no event resolves to nil Events.
func resolveID(events []Event, byID map[string]int, id string) Alert {
	a := Alert{ID: id}
	if p := resolveOne(events, byID, id); p > 0 {
		a.Events = []int{p}
		return a
	}
	if !strings.Contains(id, ",") {
		return a
	}
	var ps []int
	for part := range strings.SplitSeq(id, ",") {
		p := resolveOne(events, byID, strings.TrimSpace(part))
		if p == 0 {
			return a
		}
		ps = append(ps, p)
	}
	a.Events = ps
	return a
}

func resolveOne(events []Event, byID map[string]int, id string) int {
	if p, ok := byID[id]; ok {
		return p
	}
	num := strings.TrimPrefix(id, "#")
	if i := strings.LastIndexByte(num, ':'); i >= 0 && num == id {
		num = num[i+1:]
	}
	n, err := strconv.Atoi(num)
	if err != nil || n < 1 || n > len(events) || num != strconv.Itoa(n) {
		return 0
	}
	return n
}
