package eql

import (
	"strings"
	"testing"

	"github.com/vigilsec/vigil/event"
)

func TestHasEscape(t *testing.T) {
	cases := map[string]bool{
		`{"a":"\u0041"}`:     true,
		`{"a":"C:\\users"}`:  false, // escaped backslash, then u
		`{"a":"C:\\\u0041"}`: true,
		`{"a":"x\\\\users"}`: false,
		`{"a":"plain"}`:      false,
		`\u`:                 true,
	}
	for in, want := range cases {
		if got := hasEscape([]byte(in), 'u'); got != want {
			t.Errorf("hasEscape(%s) = %v, want %v", in, got, want)
		}
	}
}

func TestPrefilterRejectsAndAccepts(t *testing.T) {
	prog, err := ParseAndCompile(`process where process.name : ("net.exe", "net1.exe") and process.args : "/add"`, Options{Size: NoLimit})
	if err != nil {
		t.Fatal(err)
	}
	pf := prog.Prefilter()
	if pf == nil {
		t.Fatal("expected a prefilter")
	}
	check := func(line string, want bool) {
		t.Helper()
		if got := pf.MayMatch([]byte(line)); got != want {
			t.Errorf("MayMatch(%s) = %v, want %v", line, got, want)
		}
	}
	check(`{"process":{"name":"NET.EXE","args":["/ADD"]}}`, true)
	check(`{"process":{"name":"svchost.exe","args":["C:\\users"]}}`, false)
	// \u escapes could spell the literal: never rejected.
	check(`{"process":{"name":"n\u0065t.exe","args":["/add"]}}`, true)
	// \/ could spell "/add".
	check(`{"process":{"name":"net.exe","args":["\/add"]}}`, true)
}

func TestPrefilterSwitchesOffWhenUseless(t *testing.T) {
	prog, err := ParseAndCompile(`process where process.pid > 1`, Options{Size: NoLimit})
	if err != nil {
		t.Fatal(err)
	}
	pf := prog.Prefilter() // only the category literal "process"
	line := []byte(`{"event":{"category":["process"]},"process":{"pid":5}}`)
	for i := 0; i < calibrateLines+1; i++ {
		pf.MayMatch(line)
	}
	if !pf.off {
		t.Fatal("a prefilter that passes every line should switch itself off")
	}
	other := []byte(`{"event":{"category":["file"]},"` + strings.Repeat("x", 10) + `":1}`)
	if !pf.MayMatch(other) {
		t.Fatal("switched-off prefilter must accept everything")
	}
}

// Case-insensitive matching folds Unicode: ſ (long s) matches s and the
// Kelvin sign matches k, so such lines must reach the engine.
func TestPrefilterUnicodeFolding(t *testing.T) {
	prog, err := ParseAndCompile(`process where process.name : "powershell.exe"`, Options{Size: NoLimit})
	if err != nil {
		t.Fatal(err)
	}
	line := []byte(`{"event":{"category":"process"},"process":{"name":"powerſhell.exe"}}`)
	if !prog.Prefilter().MayMatch(line) {
		t.Fatal("prefilter rejects a line the query matches (ſ folds to s)")
	}
	m, _ := prog.Matcher(nil)
	var p event.Parser
	d, err := p.Parse(line)
	if err != nil {
		t.Fatal(err)
	}
	if !m.event.match(d) {
		t.Fatal("the query should match powerſhell.exe case-insensitively")
	}
}
