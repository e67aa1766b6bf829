package eql

import (
	"strings"
	"testing"
)

// Every construct of the ES dialect parses; errors carry line:col and a
// caret under the offending token.

func TestParseValid(t *testing.T) {
	valid := []string{
		`process where true`,
		`any where false`,
		`"process" where process.name == "a"`,
		"`my category` where x == 1",
		`process where @timestamp > 1`,
		`process where ?process.missing == null`,
		"process where `sequence` == 3 and `a``b` == 1",
		`process where process.name : ("net.exe", "net1.exe") and not process.parent.name : "net.exe"`,
		`process where x like~ "a*" and y like ("b?", "c") and z regex """[a-z]+\d""" and w regex~ ".*"`,
		`process where x in (1, 2, 3) and y in~ ("A", "b") and z not in ("c")`,
		`process where x == "tab\there \"quoted\" \\ back \u{1F600}"`,
		`process where startsWith~(process.name, "NET") and indexOf(a, "b", 2) == null`,
		`process where -x + 2 * 3 % 4 / 5 - (6 - 7) > -1.5e3`,
		"process where true // trailing comment\n",
		"/* block\ncomment */ process where true",
		`sequence by host.id with maxspan=5m [process where true] [network where true] by source.ip until [process where false]`,
		`sequence with maxspan=500ms by a [process where true] with runs=3 ![file where true] [network where true]`,
		`sample by host [process where true] [file where true] by user.name`,
		`sequence by user.name with maxspan=1m [authentication where event.outcome == "failure"] with runs=5`,
		`process where true | head 5 | tail 2`,
		`process where true | tail`,
		`process where startsWith (process.name, "a") and stringContains~  (x, "b")`,
		`process where x == 1.`,
	}
	for _, q := range valid {
		if _, err := Parse(q); err != nil {
			t.Errorf("Parse(%q): %v", q, err)
		}
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct {
		query, pos, msg string
	}{
		{`process where x = 1`, "1:17", "'=' is not supported"},
		{`process where x == 'a'`, "1:20", "single quotes"},
		{`process where x == "abc`, "1:20", "unterminated string"},
		{`process where x == "\q"`, "1:21", "invalid escape"},
		{`process where`, "1:14", "expected an expression"},
		{`process x == 1`, "1:9", "expected 'where'"},
		{"process where\n  x == 1 and\n  y ===", "3:7", "'=' is not supported"},
		{`process where foo(x)`, "1:15", "unknown function 'foo'"},
		{`process where length~(x) > 1`, "1:15", "no case-insensitive form"},
		{`process where substring(x)`, "1:15", "takes 2 or 3 arguments"},
		{`process where true | count`, "1:22", "not supported"},
		{`process where true | head -1`, "1:27", "non-negative"},
		{`sequence [process where true]`, "1:1", "at least two steps"},
		{`sequence [process where true] ![file where true]`, "1:1", "requires 'with maxspan'"},
		{`sequence with maxspan=5 [a where true] [b where true]`, "1:23", "time unit"},
		{`sequence with maxspan=5y [a where true] [b where true]`, "1:24", "unknown time unit"},
		{`sequence [a where true] with runs=0 [b where true]`, "1:35", "between 1 and 100"},
		{`sequence by a [a where true] by b [b where true]`, "1:35", "same number of join keys"},
		{`sample by a [a where true] [b where true] until [c where true]`, "1:43", "until"},
		{`join [a where true] [b where true]`, "1:1", "join is not supported"},
		{`process where x == 1 == 2`, "1:22", "cannot be chained"},
		{`process where x : y`, "1:19", "constant"},
		{`process where process.args[0] == "a"`, "1:27", "array indexes"},
		{`process where x regex "ab&c"`, "1:26", "invalid regular expression"},
		{`process where x == 1 )`, "1:22", "unexpected"},
	}
	for _, c := range cases {
		_, err := ParseAndCompile(c.query, Options{Size: NoLimit})
		if err == nil {
			t.Errorf("%q: no error, want %s %q", c.query, c.pos, c.msg)
			continue
		}
		e, ok := err.(*Error)
		if !ok {
			t.Errorf("%q: error %T %v is not *Error", c.query, err, err)
			continue
		}
		if e.Pos.String() != c.pos || !strings.Contains(e.Msg, c.msg) {
			t.Errorf("%q: got %s %q, want %s %q", c.query, e.Pos, e.Msg, c.pos, c.msg)
		}
		d := e.Detail()
		if !strings.Contains(d, "^") || !strings.HasPrefix(d, e.Error()) {
			t.Errorf("%q: detail lacks the quoted line and caret:\n%s", c.query, d)
		}
	}
}

func TestErrorDetailCaret(t *testing.T) {
	_, err := Parse("process where\n  x = 1")
	e := err.(*Error)
	want := "2:5: '=' is not supported; use '==' for equality\n    x = 1\n      ^"
	if e.Detail() != want {
		t.Errorf("detail:\n%s\nwant:\n%s", e.Detail(), want)
	}
}

func TestParseShape(t *testing.T) {
	q, err := Parse(`sequence by a with maxspan=2h [x where true] by b with runs=2 ![y where true] by c [z where true] by d | tail 3`)
	if err != nil {
		t.Fatal(err)
	}
	s := q.Sequence
	if q.Kind != SequenceQuery || s.MaxSpan.Hours() != 2 || len(s.Terms) != 3 || s.Terms[0].Runs != 2 || !s.Terms[1].Missing || s.By[0].Name != "a" {
		t.Fatalf("unexpected shape: %+v", s)
	}
	if len(q.Pipes) != 1 || q.Pipes[0].Kind != "tail" || q.Pipes[0].N != 3 {
		t.Fatalf("pipes: %+v", q.Pipes)
	}
	q, _ = Parse(`a where not b == 1 and c or d`)
	or, ok := q.Event.Cond.(*Binary)
	if !ok || or.Op != OpOr {
		t.Fatalf("or should bind loosest: %#v", q.Event.Cond)
	}
	and := or.L.(*Binary)
	if and.Op != OpAnd {
		t.Fatalf("and under or: %#v", or.L)
	}
	if n, ok := and.L.(*Unary); !ok || n.Op != OpNot {
		t.Fatalf("not binds looser than ==: %#v", and.L)
	}
}
