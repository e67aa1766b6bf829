package ruletest

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
)

// write creates files under a temporary directory and returns it.
func write(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const exampleTest = `# a comment
rule = "rules/x.toml"
description = "example"

[[case]]
name = "inline"
events = '''
{"@timestamp":"2026-01-01T00:00:00Z","process":{"name":"net.exe"}}

{"_id":"b","@timestamp":"2026-01-01T00:00:01Z"}
  {"@timestamp":"2026-01-01T00:00:02Z", "message": "spaced"}
'''
expect_ids = ["1", "b", "#3", "1,3"]

[[case]]
name = "from a file"
description = "d"
events_file = "data/events.ndjson"
expect_alerts = 1

[[case]]
name = "skipped"
skip = "not yet"
events = '{"a":1}'
expect_alerts = 0
`

func TestLoadFile(t *testing.T) {
	dir := write(t, map[string]string{
		"x.test.toml":        exampleTest,
		"data/events.ndjson": "{\"_id\":\"e1\",\"n\":1}\r\n{\"n\":2}\n",
	})
	s, err := LoadFile(filepath.Join(dir, "x.test.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if s.Rule != "rules/x.toml" || !s.RuleIsPath || s.RuleRef != filepath.Join(dir, "rules", "x.toml") || s.Description != "example" {
		t.Errorf("suite: %+v", s)
	}
	if len(s.Cases) != 3 {
		t.Fatalf("%d cases", len(s.Cases))
	}
	c := s.Cases[0]
	if c.Name != "inline" || c.Line != 5 || c.EventsFile != "" || c.ExpectAlerts != nil {
		t.Errorf("case 0: %+v", c)
	}
	var lines []int
	var ids []string
	for i, e := range c.Events {
		if e.Pos != i+1 || e.File != s.Path {
			t.Errorf("event %d: %+v", i, e)
		}
		lines = append(lines, e.Line)
		ids = append(ids, e.ID)
	}
	if want := []int{8, 10, 11}; !reflect.DeepEqual(lines, want) {
		t.Errorf("lines %v, want %v", lines, want)
	}
	if want := []string{"", "b", ""}; !reflect.DeepEqual(ids, want) {
		t.Errorf("ids %v, want %v", ids, want)
	}
	wantExpect := []Alert{{"1", []int{1}}, {"b", []int{2}}, {"#3", []int{3}}, {"1,3", []int{1, 3}}}
	if !reflect.DeepEqual(c.Expect, wantExpect) {
		t.Errorf("expect %+v, want %+v", c.Expect, wantExpect)
	}
	wantData := "{\"@timestamp\":\"2026-01-01T00:00:00Z\",\"process\":{\"name\":\"net.exe\"}}\n" +
		"{\"_id\":\"b\",\"@timestamp\":\"2026-01-01T00:00:01Z\"}\n" +
		"{\"@timestamp\":\"2026-01-01T00:00:02Z\", \"message\": \"spaced\"}\n"
	if got := string(c.Data()); got != wantData {
		t.Errorf("data:\n%s\nwant:\n%s", got, wantData)
	}

	c = s.Cases[1]
	if c.EventsFile != "data/events.ndjson" || c.ExpectAlerts == nil || *c.ExpectAlerts != 1 || c.Expect != nil || len(c.Events) != 2 {
		t.Errorf("case 1: %+v", c)
	}
	if e := c.Events[0]; e.File != filepath.Join(dir, "data", "events.ndjson") || e.Line != 1 || e.ID != "e1" || string(e.Raw) != `{"_id":"e1","n":1}` {
		t.Errorf("case 1 event 1: %+v", e)
	}
	if c := s.Cases[2]; c.Skip != "not yet" || len(c.Events) != 1 || c.Events[0].Line != 24 {
		t.Errorf("case 2: %+v %+v", c, c.Events)
	}
}

func TestRuleReference(t *testing.T) {
	for _, tc := range []struct {
		file, rule string
		ref        string
		isPath     bool
	}{
		{"a/x.test.toml", "", "a/x.toml", true},
		{"a/x.test.toml", `rule = "1aa9181a-492b-4c01-8b16-fa0735786b2b"`, "1aa9181a-492b-4c01-8b16-fa0735786b2b", false},
		{"a/x.test.toml", `rule = "other.toml"`, "a/other.toml", true},
		{"a/tests.toml", `rule = "../rules/y.ndjson"`, "rules/y.ndjson", true},
		{"a/tests.toml", `rule = "my-rule"`, "my-rule", false},
	} {
		fsys := fstest.MapFS{tc.file: {Data: []byte(tc.rule + "\n[[case]]\nname = \"n\"\nevents = '{}'\nexpect_alerts = 0\n")}}
		s, err := Load(fsys, tc.file)
		if err != nil {
			t.Errorf("%s %s: %v", tc.file, tc.rule, err)
			continue
		}
		if s.RuleRef != tc.ref || s.RuleIsPath != tc.isPath {
			t.Errorf("%s %s: ref %q (path %v), want %q (%v)", tc.file, tc.rule, s.RuleRef, s.RuleIsPath, tc.ref, tc.isPath)
		}
	}
}

func TestLoadFS(t *testing.T) {
	fsys := fstest.MapFS{
		"rules/x.test.toml":     {Data: []byte("[[case]]\nname = \"a\"\nevents_file = \"ev/e.json\"\nexpect_ids = [\"2\"]\n\n[[case]]\nname = \"b\"\nevents_file = \"../../etc/passwd\"\nexpect_alerts = 0\n")},
		"rules/ev/e.json":       {Data: []byte("[\n {\"a\": 1},\n {\"b\":\n   [1, 2]}\n]\n")},
		"rules/y.test.toml":     {Data: []byte("[[case]]\nname = \"a\"\nevents_file = \"ev/e.json\"\nexpect_ids = [\"2\"]\n")},
		"rules/y.toml":          {Data: []byte("")},
		"other/z.test.toml":     {Data: []byte("")},
		"other/z.toml.bak":      {Data: []byte("")},
		"other/sub/w.test.toml": {Data: []byte("")},
	}
	_, err := Load(fsys, "rules/x.test.toml")
	if err == nil || !strings.Contains(err.Error(), "rules/x.test.toml:8:15: events_file: ../etc/passwd is outside the file system") {
		t.Errorf("escaping events_file: %v", err)
	}
	s, err := Load(fsys, "rules/y.test.toml")
	if err != nil {
		t.Fatal(err)
	}
	evs := s.Cases[0].Events
	if len(evs) != 2 || evs[0].Line != 2 || evs[1].Line != 3 || string(evs[1].Raw) != `{"b":[1,2]}` || evs[1].File != "rules/ev/e.json" {
		t.Errorf("array events: %+v", evs)
	}
	if got := string(s.Cases[0].Data()); got != "{\"a\":1}\n{\"b\":[1,2]}\n" {
		t.Errorf("data %q", got)
	}
	found, err := Find(fsys, ".")
	if want := []string{"other/sub/w.test.toml", "other/z.test.toml", "rules/x.test.toml", "rules/y.test.toml"}; err != nil || !reflect.DeepEqual(found, want) {
		t.Errorf("Find: %v %v, want %v", found, err, want)
	}
}

// TestLoadErrors checks that each problem is reported at its position.
func TestLoadErrors(t *testing.T) {
	const head = "rule = \"r.toml\"\n"
	files := map[string]string{
		"bad.ndjson":  "{\"a\":1}\n\n{\"a\":\n",
		"dup.ndjson":  "{\"_id\":\"x\"}\n{\"_id\":\"x\"}\n",
		"arr.json":    "[{\"a\":1}, 2]",
		"empty.json":  "\n\n",
		"trail.json":  "[{}] {}",
		"notarr.json": "[{} {}]",
	}
	for _, tc := range []struct {
		name, src string
		want      []string // substrings of the error, in order
	}{
		{"syntax", "rule = \"r.toml\"\n[[case]\n", []string{"t.toml:2:", "expected end of table array name"}},
		{"syntax string", "rule = 'r.toml\n", []string{"t.toml:1:"}},
		{"no case", head, []string{"t.toml:1:1: no [[case]]"}},
		{"no rule", "[[case]]\nname = \"a\"\nevents = '{}'\nexpect_alerts = 0\n", []string{"t.toml:1:1: rule is missing"}},
		{"empty rule", "rule = \"\"\n[[case]]\nname = \"a\"\nevents = '{}'\nexpect_alerts = 0\n", []string{"t.toml:1:8: rule is empty"}},
		{"rule type", "rule = 3\n[[case]]\nname = \"a\"\nevents = '{}'\nexpect_alerts = 0\n", []string{"t.toml:1:8: rule must be a string, not an integer"}},
		{"unknown top key", head + "rules = 1\n[[case]]\nname = \"a\"\nevents = '{}'\nexpect_alerts = 0\n", []string{"t.toml:2:1: unknown key \"rules\""}},
		{"case not tables", head + "case = 1\n", []string{"t.toml:2:8: case must be an array of tables"}},
		{"unknown case key", head + "[[case]]\nname = \"a\"\n  expect_alert = 1\nevents = '{}'\n", []string{
			"t.toml:2:1: case \"a\" expects nothing", "t.toml:4:3: unknown key \"expect_alert\" in [[case]]"}},
		{"dotted unknown key", head + "[[case]]\nname = \"a\"\nexpect.alerts = 1\nevents = '{}'\nexpect_alerts = 0\n", []string{"t.toml:4:1: unknown key \"expect\""}},
		{"no name", head + "[[case]]\nevents = '{}'\nexpect_alerts = 0\n", []string{"t.toml:2:1: [[case]] has no name"}},
		{"empty name", head + "[[case]]\nname = ''\nevents = '{}'\nexpect_alerts = 0\n", []string{"t.toml:3:8: name is empty"}},
		{"duplicate name", head + "[[case]]\nname = \"a\"\nevents = '{}'\nexpect_alerts = 0\n[[case]]\nname = \"a\"\nevents = '{}'\nexpect_alerts = 0\n", []string{"t.toml:7:8: case name \"a\" is used twice (first at line 2)"}},
		{"no events", head + "[[case]]\nname = \"a\"\nexpect_alerts = 0\n", []string{"t.toml:2:1: case \"a\" has no events"}},
		{"both events", head + "[[case]]\nname = \"a\"\nevents = '{}'\nevents_file = \"x\"\nexpect_alerts = 0\n", []string{"t.toml:5:1: events and events_file are both set"}},
		{"empty events", head + "[[case]]\nname = \"a\"\nevents = '''\n\n'''\nexpect_alerts = 0\n", []string{"t.toml:4:10: case \"a\" has no events (the text is empty)"}},
		{"events type", head + "[[case]]\nname = \"a\"\nevents = [1]\nexpect_alerts = 0\n", []string{"t.toml:4:10: events must be a string, not an array"}},
		{"bad inline event", head + "[[case]]\nname = \"a\"\nevents = '''\n{\"a\":1}\n\n{\"a\":}\n[1]\n'''\nexpect_alerts = 0\n", []string{
			"t.toml:7:1: event: invalid JSON", "t.toml:8:1: event: not a JSON object"}},
		{"bad first inline event", head + "[[case]]\nname = \"a\"\nevents = '''{oops}'''\nexpect_alerts = 0\n", []string{"t.toml:4:13: event: invalid JSON"}},
		{"one-line escaped events", head + "[[case]]\nname = \"a\"\n  events = \"{}\\n{x}\\n\"\nexpect_alerts = 0\n", []string{"t.toml:4:12: event: invalid JSON"}},
		{"events file missing", head + "[[case]]\nname = \"a\"\nevents_file = \"nope.ndjson\"\nexpect_alerts = 0\n", []string{"t.toml:4:15: events_file: open "}},
		{"events file empty name", head + "[[case]]\nname = \"a\"\nevents_file = \"\"\nexpect_alerts = 0\n", []string{"t.toml:4:15: events_file is empty"}},
		{"bad events file", head + "[[case]]\nname = \"a\"\nevents_file = \"bad.ndjson\"\nexpect_alerts = 0\n", []string{"bad.ndjson:3:1: event: invalid JSON"}},
		{"bad array element", head + "[[case]]\nname = \"a\"\nevents_file = \"arr.json\"\nexpect_alerts = 0\n", []string{"arr.json:1:1: event: not a JSON object"}},
		{"array trailing data", head + "[[case]]\nname = \"a\"\nevents_file = \"trail.json\"\nexpect_alerts = 0\n", []string{"trail.json:1:1: events: data after the JSON array"}},
		{"array syntax", head + "[[case]]\nname = \"a\"\nevents_file = \"notarr.json\"\nexpect_alerts = 0\n", []string{"notarr.json:1:1: events: invalid JSON"}},
		{"empty events file", head + "[[case]]\nname = \"a\"\nevents_file = \"empty.json\"\nexpect_alerts = 0\n", []string{"t.toml:4:15: case \"a\" has no events"}},
		{"duplicate _id", head + "[[case]]\nname = \"a\"\nevents_file = \"dup.ndjson\"\nexpect_alerts = 0\n", []string{"dup.ndjson:2: _id \"x\" is also the _id of event #1"}},
		{"expect_alerts type", head + "[[case]]\nname = \"a\"\nevents = '{}'\nexpect_alerts = \"1\"\n", []string{"t.toml:5:17: expect_alerts must be an integer, not a string"}},
		{"expect_alerts negative", head + "[[case]]\nname = \"a\"\nevents = '{}'\nexpect_alerts = -1\n", []string{"t.toml:5:17: expect_alerts must be a count"}},
		{"expect_ids type", head + "[[case]]\nname = \"a\"\nevents = '{}'\nexpect_ids = \"1\"\n", []string{"t.toml:5:14: expect_ids must be an array of strings, not a string"}},
		{"expect_ids element", head + "[[case]]\nname = \"a\"\nevents = '{}'\nexpect_ids = [1]\n", []string{"t.toml:5:14: expect_ids[0] must be a string"}},
		{"expect_ids unknown", head + "[[case]]\nname = \"a\"\nevents = '{}'\nexpect_ids = [\"1\", \"2\", \"01\", \"x\", \"1,9\"]\n", []string{
			"expect_ids[1] \"2\" names no event of the case: use an event's _id or its position (1 to 1)",
			"expect_ids[2] \"01\"", "expect_ids[3] \"x\"", "expect_ids[4] \"1,9\""}},
		{"expect count mismatch", head + "[[case]]\nname = \"a\"\nevents = '{}'\nexpect_alerts = 2\nexpect_ids = [\"1\"]\n", []string{"t.toml:5:17: expect_alerts = 2 but expect_ids lists 1 alerts"}},
		{"skip type", head + "[[case]]\nname = \"a\"\nskip = true\nevents = '{}'\nexpect_alerts = 0\n", []string{"t.toml:4:8: skip must be a string, not a boolean"}},
		{"other tables ignored for positions", head + "[x]\nname = 1\n[[case]]\nname = \"a\"\nevents = '{}'\n", []string{"t.toml:2:1: unknown key \"x\"", "t.toml:4:1: case \"a\" expects nothing"}},
	} {
		fs := map[string]string{"t.toml": tc.src}
		for k, v := range files {
			fs[k] = v
		}
		dir := write(t, fs)
		_, err := LoadFile(filepath.Join(dir, "t.toml"))
		if err == nil {
			t.Errorf("%s: no error", tc.name)
			continue
		}
		var list ErrorList
		if !errors.As(err, &list) {
			t.Errorf("%s: %T %v, want an ErrorList", tc.name, err, err)
			continue
		}
		msg := strings.ReplaceAll(err.Error(), dir+string(filepath.Separator), "")
		rest := msg
		for _, w := range tc.want {
			i := strings.Index(rest, w)
			if i < 0 {
				t.Errorf("%s: error\n%s\ndoes not contain (in order) %q", tc.name, msg, w)
				break
			}
			rest = rest[i+len(w):]
		}
	}
}

func TestResolveID(t *testing.T) {
	events := []Event{{Pos: 1}, {Pos: 2, ID: "3"}, {Pos: 3, ID: "a,b"}, {Pos: 4, ID: "x:1"}}
	byID := map[string]int{"3": 2, "a,b": 3, "x:1": 4}
	for id, want := range map[string][]int{
		"1": {1}, "#1": {1}, "3": {2}, "#3": {3}, "a,b": {3}, "x:1": {4}, "events:2": {2}, "4": {4},
		"1,2": {1, 2}, "1, #4": {1, 4}, "3,3": {2, 2},
		"5": nil, "0": nil, "-1": nil, "01": nil, "+1": nil, "#x:1": nil, "1,": nil, "": nil, "a": nil, "x:": nil,
	} {
		if got := resolveID(events, byID, id); !reflect.DeepEqual(got.Events, want) || got.ID != id {
			t.Errorf("resolveID(%q) = %+v, want %v", id, got, want)
		}
	}
}

// TestLayout checks the key locator on TOML it must not be confused by.
func TestLayout(t *testing.T) {
	src := "a = \"x = [\" # c = 1\n" +
		"\"b.c\" . d = '''\nline = 1\n[[case]]\n'''\n" +
		"arr = [\n  1, # ]\n  \"]\",\n]\n" +
		"[[ case ]]\n  name = \"\"\"q\"\"\"\"\"\n" +
		"  events = \"\"\"\\\n{}\"\"\"\n" +
		"[other.t]\nname = 3\n" +
		"[[case]] # c\nname='n'\n" +
		"tbl = { x = 1, y = \"}\" }\n" +
		"k\u00e9 = 1\nafter = 2\n"
	l := scanLayout([]byte(src))
	check := func(what string, got, want pos) {
		t.Helper()
		if got != want {
			t.Errorf("%s at %v, want %v", what, got, want)
		}
	}
	check("a", l.top.keys["a"].key, pos{1, 1})
	check("a value", l.top.keys["a"].val, pos{1, 5})
	check("b.c.d", l.top.keys["b.c.d"].key, pos{2, 1})
	check("b.c.d content", l.top.keys["b.c.d"].content, pos{3, 1})
	check("b", l.top.keys["b"].key, pos{2, 1})
	check("arr", l.top.keys["arr"].key, pos{6, 1})
	if len(l.cases) != 2 {
		t.Fatalf("%d cases", len(l.cases))
	}
	check("case 1", l.cases[0].header, pos{10, 1})
	check("case 1 name", l.cases[0].keys["name"].val, pos{11, 10})
	check("case 1 events", l.cases[0].keys["events"].key, pos{12, 3})
	check("case 1 events content", l.cases[0].keys["events"].content, pos{12, 15})
	check("case 2", l.cases[1].header, pos{16, 1})
	check("case 2 name", l.cases[1].keys["name"].key, pos{17, 1})
	check("case 2 tbl", l.cases[1].keys["tbl"].key, pos{18, 1})
	check("case 2 ké", l.cases[1].keys["ké"].val, pos{19, 6})
	check("case 2 after", l.cases[1].keys["after"].key, pos{20, 1})
	if _, ok := l.top.keys["line"]; ok {
		t.Error("a key inside a multi-line string was taken for a key")
	}
}
