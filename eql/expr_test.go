package eql

import (
	"bufio"
	"os"
	"strings"
	"testing"

	"github.com/vigilsec/vigil/event"
)

const exprEvent = `{"@timestamp":"2026-01-01T00:00:00.000Z","event":{"category":["process"]},
"process":{"name":"net.exe","pid":4242,"executable":"C:\\Windows\\System32\\net.exe",
"command_line":"net user bob /add","args":["net","user","bob","/add"],"elevated":true},
"source":{"ip":"10.1.2.3"},"score":2.5}`

// TestExpressions runs testdata/expressions.txt: one condition per line,
// evaluated as "process where <condition>" against exprEvent.
func TestExpressions(t *testing.T) {
	f, err := os.Open("testdata/expressions.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var p event.Parser
	sc := bufio.NewScanner(f)
	n := 0
	for line := 1; sc.Scan(); line++ {
		l := strings.TrimSpace(sc.Text())
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		i := strings.LastIndex(l, "|")
		cond, want := strings.TrimSpace(l[:i]), strings.TrimSpace(l[i+1:]) == "true"
		prog, err := ParseAndCompile("process where "+cond, Options{Size: NoLimit})
		if err != nil {
			t.Errorf("expressions.txt:%d: %v", line, err)
			continue
		}
		m, err := prog.Matcher(nil)
		if err != nil {
			t.Fatal(err)
		}
		d, err := p.Parse([]byte(strings.ReplaceAll(exprEvent, "\n", "")))
		if err != nil {
			t.Fatal(err)
		}
		if got := m.event.match(d); got != want {
			t.Errorf("expressions.txt:%d: %s: got %v, want %v", line, cond, got, want)
		}
		n++
	}
	if n < 50 {
		t.Fatalf("only %d expressions ran", n)
	}
}
