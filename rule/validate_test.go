package rule

import (
	"strings"
	"testing"
	"unicode/utf8"
)

const ruleHead = "[rule]\nrule_id = \"r\"\nname = \"n\"\ndescription = \"d\"\nseverity = \"low\"\nrisk_score = 1\ntype = \"eql\"\nlanguage = \"eql\"\n"

// Query errors are reported at their position in the file, whatever string
// form holds the query: each case's file has "bogus" (an unknown function)
// exactly once, and the error must point at it.
func TestQueryErrorPosition(t *testing.T) {
	cases := []struct{ name, file, content string }{
		{"literal multi-line", "a.toml", ruleHead + "query = '''\nprocess where\n  process.name : \"a.exe\" and\n    bogus(process.args)\n'''\n"},
		{"literal multi-line, first line", "a.toml", ruleHead + "query = '''process where bogus(x)\n'''\n"},
		{"basic multi-line with escapes", "a.toml", ruleHead + "query = \"\"\"\nprocess where\n  process.name == \"a\\\\\\\\b.exe\" and \\u0070rocess.pid == 4 and bogus(x)\n\"\"\"\n"},
		{"basic multi-line, line-ending backslash", "a.toml", ruleHead + "query = \"\"\"process where process.pid == 1 and \\\n      bogus(x)\"\"\"\n"},
		{"literal one-line", "a.toml", ruleHead + "query = 'process where x == \"é\" and bogus(x)'\n"},
		{"basic one-line with escapes", "a.toml", ruleHead + "query = \"process where x == \\\"a\\\\\\\\b\\\" and\\n\\tbogus(x)\"\n"},
		{"CRLF", "a.toml", strings.ReplaceAll(ruleHead+"query = '''\nprocess where\n  x == 1 and bogus(x)\n'''\n", "\n", "\r\n")},
		{"ndjson", "a.ndjson", "{\"rule_id\":\"x\",\"name\":\"x\",\"type\":\"query\",\"severity\":\"low\",\"description\":\"d\",\"risk_score\":1}\n" +
			`{"rule_id":"r","name":"n","type":"eql","severity":"low","description":"d","risk_score":1,"query":"process where\n  x == \"a\\\\b\" and \u0062ogus(x) and bogus(y)"}` + "\n"},
	}
	for _, c := range cases {
		dir := writeFiles(t, map[string]string{c.file: c.content})
		res, err := Load([]string{dir}, LoadOptions{})
		if err != nil || len(res.Errors) > 0 {
			t.Fatalf("%s: %v %v", c.name, err, res.Errors)
		}
		var r *Rule
		for _, x := range res.Rules {
			if x.RuleID == "r" {
				r = x
			}
		}
		errs, _ := Validate(r, nil)
		if len(errs) != 1 || !strings.Contains(errs[0].Msg, "bogus") {
			t.Errorf("%s: errors %v", c.name, errs)
			continue
		}
		e := errs[0]
		// where "bogus" is in the file (for the NDJSON case, the last one:
		// the first is written \u0062ogus)
		lines := strings.Split(strings.ReplaceAll(c.content, "\r\n", "\n"), "\n")
		wantLine, wantCol := 0, 0
		for i, l := range lines {
			if j := strings.LastIndex(l, "bogus"); j >= 0 {
				wantLine, wantCol = i+1, utf8.RuneCountInString(l[:j])+1
			}
		}
		if c.file == "a.ndjson" {
			l := lines[1]
			wantCol = utf8.RuneCountInString(l[:strings.Index(l, `\u0062ogus`)]) + 1
		}
		if e.Line != wantLine || e.Col != wantCol {
			t.Errorf("%s: error at %d:%d, want %d:%d\n%s", c.name, e.Line, e.Col, wantLine, wantCol, e.Detail())
		}
		ctx := strings.Split(e.Context, "\n")
		if len(ctx) != 2 || strings.TrimPrefix(ctx[0], "  ") != lines[wantLine-1] || utf8.RuneCountInString(ctx[1]) != wantCol+2 {
			t.Errorf("%s: context\n%s", c.name, e.Context)
		}
		if !strings.HasPrefix(e.Error(), e.Path+":") {
			t.Errorf("%s: %s", c.name, e.Error())
		}
	}
}

// A rule built in code (no file) reports query positions.
func TestQueryErrorNoSource(t *testing.T) {
	r := &Rule{RuleID: "x", Type: "eql", Severity: "low", Query: "process where\n  bogus(x)"}
	errs, _ := Validate(r, nil)
	if len(errs) != 1 || errs[0].Error() != "2:3: unknown function 'bogus'" || errs[0].Context != "    bogus(x)\n    ^" {
		t.Errorf("%#v", errs)
	}
}

func TestValidateSettings(t *testing.T) {
	cases := []struct{ key, line, msg string }{
		{"severity", `severity = "urgent"`, "severity must be"},
		{"risk_score", "risk_score = 101", "risk_score must be between"},
		{"interval", `interval = "5x"`, "interval"},
		{"from", `from = "yesterday"`, "date math"},
		{"max_signals", "max_signals = 0", "max_signals must be"},
		{"building_block_type", `building_block_type = "x"`, "building_block_type"},
		{"language", `language = "kuery"`, "language eql"},
		{"type", `type = "magic"`, "unknown rule type"},
	}
	for _, c := range cases {
		content := ruleHead + "query = 'any where true'\n"
		content = strings.Replace(content, c.key+" = ", "old_"+c.key+" = ", 1)
		content = strings.Replace(content, "[rule]\n", "[rule]\n\n"+c.line+"\n", 1)
		r, errs := loadOne(t, "s.toml", content, LoadOptions{})
		if len(errs) > 0 {
			t.Fatalf("%s: %v", c.key, errs)
		}
		verrs, _ := Validate(r, nil)
		if len(verrs) != 1 || !strings.Contains(verrs[0].Msg, c.msg) || verrs[0].Line != 3 || verrs[0].Col != 1 {
			t.Errorf("%s: %v", c.key, verrs)
		}
	}
}

func TestTypeCheck(t *testing.T) {
	types := ECSMapping()
	cases := []struct {
		query string
		errs  int
		warns int
		msg   string
	}{
		{`process where process.pid == "abc"`, 1, 0, `field [process.pid] is [long] and "abc" is not a number`},
		{`process where process.pid == "123" and process.pid > 4 and process.pid != -1`, 0, 0, ""},
		{`process where process.pid in (1, "x")`, 1, 0, `"x" is not a number`},
		{`process where process.pid : "12*"`, 1, 0, "wildcard patterns only on string fields"},
		{`process where process.pid : 12`, 0, 0, ""},
		{`process where process.pid like "1"`, 1, 0, "[like] needs a string field"},
		{`process where process.pid regex~ "1.*"`, 1, 0, "[regex~] needs a string field"},
		{`network where source.ip == "10.0.0.1" or source.ip in ("::1", "10.0.0.0/8")`, 0, 0, ""},
		{`network where source.ip == "not-an-ip"`, 1, 0, "is not an IP address"},
		{`network where source.ip > "10.0.0.0/8"`, 1, 0, "is not an IP address"},
		{`network where source.ip == 1`, 1, 0, "1 is not an IP address"},
		{`network where source.ip : "10.*"`, 1, 0, "wildcard"},
		{`network where cidrMatch(source.ip, "10.0.0.0/8")`, 0, 0, ""},
		{`network where cidrMatch(source.address, "10.0.0.0/8")`, 1, 0, "argument 1 of cidrMatch must be an ip: field [source.address] is [keyword]"},
		{`process where startsWith(process.pid, "1")`, 1, 0, "argument 1 of startsWith must be a string"},
		{`process where startsWith~(process.name, "a") and length(process.name) > 3 and string(process.pid) == "1"`, 0, 0, ""},
		{`process where add(process.name, 1) == 2`, 1, 0, "argument 1 of add must be a number"},
		{`process where process.name + 1 == 2`, 1, 0, "[+] needs numbers"},
		{`any where @timestamp == "not a date"`, 1, 0, "is not a date"},
		{`any where @timestamp == "2024-01-01" or @timestamp > "now-1d" or @timestamp < 1700000000000`, 0, 0, ""},
		{`any where dll.code_signature.trusted == "yes"`, 1, 0, "is not true or false"},
		{`any where dll.code_signature.trusted == true or dll.code_signature.trusted == "false"`, 0, 0, ""},
		{`any where message == "x"`, 1, 0, "no keyword sub-field"},
		{`any where message : "*x*"`, 1, 0, "no keyword sub-field"},
		{`any where process.command_line : "*x*" and process.command_line.text != null`, 0, 0, ""},
		{`any where process.name == 1 and process.name < "b"`, 0, 0, ""},
		{`process where unknown.field == "x" and unknown.field == "y"`, 0, 1, "unknown field [unknown.field]"},
		{`process where ?unknown.field == "x"`, 0, 0, ""},
		{`any where labels.foo == "x"`, 0, 0, ""},
		{`any where request == 1`, 0, 0, ""}, // sources disagree: not checked
		{`sequence by process.entity_id [process where process.pid == "a"] [network where true] until [process where source.ip == "x"]`, 2, 0, "not a number"},
		{`sequence by nope.key [process where true] [network where true]`, 0, 1, "unknown field [nope.key]"},
		{`sample by host.id [process where process.pid == "z"] [network where true]`, 1, 0, "not a number"},
	}
	for _, c := range cases {
		r := &Rule{RuleID: "x", Type: "eql", Severity: "low", Query: c.query}
		errs, warns := Validate(r, types)
		if len(errs) != c.errs || len(warns) != c.warns {
			t.Errorf("%s: %d errors %v, %d warnings %v; want %d, %d", c.query, len(errs), errs, len(warns), warns, c.errs, c.warns)
			continue
		}
		all := append(errs, warns...)
		if c.msg != "" && !strings.Contains(all[0].Msg, c.msg) {
			t.Errorf("%s: %s; want %q", c.query, all[0].Msg, c.msg)
		}
	}
	// Without types nothing is checked.
	if errs, warns := Validate(&Rule{Type: "eql", Severity: "low", Query: `process where process.pid == "abc" and x == 1`}, nil); len(errs)+len(warns) != 0 {
		t.Errorf("nil types: %v %v", errs, warns)
	}
}

func TestRunnable(t *testing.T) {
	for _, c := range []struct {
		typ, lang string
		want      bool
	}{{"eql", "eql", true}, {"eql", "", true}, {"eql", "kuery", false}, {"query", "kuery", false}, {"esql", "esql", false}, {"threshold", "", false}} {
		if got := Runnable(&Rule{Type: c.typ, Language: c.lang}); got != c.want {
			t.Errorf("%s/%s: %v", c.typ, c.lang, got)
		}
	}
}
