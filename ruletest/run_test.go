package ruletest

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/vigilsec/vigil/rule"
)

const runTest = `rule = "1aa9181a-492b-4c01-8b16-fa0735786b2b"

[[case]]
name = "pass by position"
events = '''
{"host":{"name":"WS-1"},"process":{"command_line":"net  user x /add"}}
{"_id":"n1","process":{"command_line":"C:\\Windows\\system32\\net1  user x /add"}}
{"message":"hello"}
'''
expect_alerts = 1
expect_ids = ["1"]

[[case]]
name = "pass by _id and sequence"
events = '''
{"_id":"a"}
{"_id":"b"}
{"_id":"c"}
'''
expect_ids = ["a", "b,c", "a"]

[[case]]
name = "wrong alerts"
events = '''
{"host":{"name":"WS-1"},"process":{"command_line":"net  user x /add"}}
{"_id":"n1","process":{"command_line":"C:\\Windows\\system32\\net1  user x /add"}}
{"message":"hello"}
'''
expect_alerts = 1
expect_ids = ["1"]

[[case]]
name = "count only"
events = '''
{"event":{"action":"start"}}
{"a":1}
'''
expect_alerts = 0

[[case]]
name = "run fails"
events = '{}'
expect_alerts = 0

[[case]]
name = "run panics"
events = '{}'
expect_alerts = 0

[[case]]
name = "later"
skip = "the engine does not do this yet"
events = '{}'
expect_alerts = 0
`

func TestRun(t *testing.T) {
	src := runTest
	// Make the cases' data tell the fake engine apart.
	src = strings.Replace(src, `name = "run fails"
events = '{}'`, `name = "run fails"
events = '{"m":"run-fails"}'`, 1)
	src = strings.Replace(src, `name = "run panics"
events = '{}'`, `name = "run panics"
events = '{"m":"run-panics"}'`, 1)
	src = strings.Replace(src, `name = "wrong alerts"
events = '''
{"host"`, `name = "wrong alerts"
events = '''
{"wrong":1,"host"`, 1)
	s, err := Load(fstest.MapFS{"rules/x.test.toml": {Data: []byte(src)}}, "rules/x.test.toml")
	if err != nil {
		t.Fatal(err)
	}
	var resolved string
	resolve := func(ref string) (*rule.Rule, error) {
		resolved = ref
		return &rule.Rule{Name: "User Account Creation", RuleID: ref}, nil
	}
	rep := Run(s, resolve, func(r *rule.Rule, events []byte) ([]string, error) {
		if r == nil || r.Name != "User Account Creation" {
			return nil, errors.New("wrong rule")
		}
		d := string(events)
		switch {
		case strings.Contains(d, `"wrong":1`):
			return []string{"2", "events:3", "nope", "2"}, nil
		case strings.Contains(d, `"message":"hello"`):
			return []string{"1"}, nil
		case strings.Contains(d, `{"_id":"a"}`):
			return []string{"a", "#1", "b,c"}, nil
		case strings.Contains(d, `"action":"start"`):
			return []string{"2"}, nil
		case strings.Contains(d, "run-fails"):
			return nil, errors.New("engine exploded\nsecond line")
		case strings.Contains(d, "run-panics"):
			panic("boom")
		}
		return nil, nil
	})
	if resolved != "1aa9181a-492b-4c01-8b16-fa0735786b2b" {
		t.Errorf("resolve got %q", resolved)
	}
	var statuses []Status
	for _, c := range rep.Cases {
		statuses = append(statuses, c.Status)
	}
	if want := []Status{Passed, Passed, Failed, Failed, Errored, Errored, Skipped}; !reflect.DeepEqual(statuses, want) {
		t.Fatalf("statuses %v, want %v", statuses, want)
	}
	if rep.OK() || rep.Count(Passed) != 2 || rep.Count(Failed) != 2 || rep.Count(Errored) != 2 || rep.Count(Skipped) != 1 {
		t.Errorf("counts: ok %v %d %d %d %d", rep.OK(), rep.Count(Passed), rep.Count(Failed), rep.Count(Errored), rep.Count(Skipped))
	}

	w := rep.Cases[2]
	if !w.CountMismatch {
		t.Error("wrong alerts: count mismatch not seen")
	}
	if want := []Alert{{"1", []int{1}}}; !reflect.DeepEqual(w.Missing, want) {
		t.Errorf("missing %+v, want %+v", w.Missing, want)
	}
	if want := []Alert{{"2", []int{2}}, {"events:3", []int{3}}, {"nope", nil}, {"2", []int{2}}}; !reflect.DeepEqual(w.Unexpected, want) {
		t.Errorf("unexpected %+v, want %+v", w.Unexpected, want)
	}
	wantDiff := `--- FAIL: wrong alerts (rules/x.test.toml:22)
    expect_alerts = 1, got 4 alerts
    expect_ids = ["1"]
           got ["2", "3", "nope"(?), "2"]
    missing: #1 (rules/x.test.toml:25): WS-1: net  user x /add
    unexpected: #2 (_id "n1") (rules/x.test.toml:26): C:\Windows\system32\net1  user x /add
    unexpected: #3 (rules/x.test.toml:27): hello
    unexpected: "nope" names no event of the case (use an _id or a line number, 1 to 3)
    unexpected: #2 (_id "n1") (rules/x.test.toml:26): C:\Windows\system32\net1  user x /add
`
	if got := w.Diff(); got != wantDiff {
		t.Errorf("diff:\n%s\nwant:\n%s", got, wantDiff)
	}

	if got, want := rep.Cases[3].Diff(), `--- FAIL: count only (rules/x.test.toml:32)
    expect_alerts = 0, got 1 alert
    raised: #2 (rules/x.test.toml:36): {"a":1}
`; got != want {
		t.Errorf("count-only diff:\n%s\nwant:\n%s", got, want)
	}

	out := rep.String()
	for _, want := range []string{
		"rules/x.test.toml: rule \"User Account Creation\" (1aa9181a-492b-4c01-8b16-fa0735786b2b): 2 passed, 2 failed, 2 errors, 1 skipped\n",
		"--- ERROR: run fails (rules/x.test.toml:40)\n    error: engine exploded\n    error: second line\n",
		"--- ERROR: run panics (rules/x.test.toml:45)\n    error: panic: boom\n",
		"--- SKIP: later (rules/x.test.toml:50)\n    skip: the engine does not do this yet\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "PASS") {
		t.Errorf("non-verbose report shows passing cases:\n%s", out)
	}
	var b strings.Builder
	if err := rep.Write(&b, true); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "--- PASS: pass by _id and sequence (rules/x.test.toml:13)\n    3 alerts\n") {
		t.Errorf("verbose report:\n%s", b.String())
	}
}

func TestRunResolveFails(t *testing.T) {
	s, err := Load(fstest.MapFS{"x.test.toml": {Data: []byte(runTest)}}, "x.test.toml")
	if err != nil {
		t.Fatal(err)
	}
	ran := false
	run := func(*rule.Rule, []byte) ([]string, error) { ran = true; return nil, nil }
	for _, resolve := range []func(string) (*rule.Rule, error){
		func(ref string) (*rule.Rule, error) { return nil, errors.New("no rule with rule_id " + ref) },
		func(string) (*rule.Rule, error) { return nil, nil },
	} {
		rep := Run(s, resolve, run)
		if ran || rep.OK() || rep.Err == nil || rep.Rule != nil || rep.Count(Errored) != 6 || rep.Count(Skipped) != 1 {
			t.Errorf("ran %v, report %+v", ran, rep)
		}
		out := rep.String()
		if !strings.Contains(out, "x.test.toml: rule 1aa9181a-492b-4c01-8b16-fa0735786b2b: 0 passed, 6 errors, 1 skipped\n    rule: ") ||
			!strings.Contains(out, "--- ERROR: pass by position (x.test.toml:3)\n--- ERROR:") {
			t.Errorf("report:\n%s", out)
		}
	}
}

func TestDiffMultiset(t *testing.T) {
	a := func(id string, ev ...int) Alert { return Alert{ID: id, Events: ev} }
	missing, unexpected := diff(
		[]Alert{a("1", 1), a("1", 1), a("2", 2), a("2,3", 2, 3)},
		[]Alert{a("#2", 2), a("x:1", 1), a("3,2", 3, 2), a("?", nil...), a("2", 2)},
	)
	if want := []Alert{a("1", 1), a("2,3", 2, 3)}; !reflect.DeepEqual(missing, want) {
		t.Errorf("missing %+v, want %+v", missing, want)
	}
	if want := []Alert{a("3,2", 3, 2), a("?", nil...), a("2", 2)}; !reflect.DeepEqual(unexpected, want) {
		t.Errorf("unexpected %+v, want %+v", unexpected, want)
	}
}

func TestSummary(t *testing.T) {
	for raw, want := range map[string]string{
		`{"process.command_line":"a b","host":{"name":"h"}}`: "h: a b",
		`{"process":{"command_line":""},"message":"m"}`:      "m",
		`{"event":{"action":"start"}}`:                       "start",
		`{"x":1}`:                                            `{"x":1}`,
		`{"message":"` + strings.Repeat("é", 120) + `"}`:     strings.Repeat("é", 99) + "…",
	} {
		if got := summary([]byte(raw)); got != want {
			t.Errorf("summary(%s) = %q, want %q", raw, got, want)
		}
	}
}
