package eql

import (
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/vigilsec/vigil/event"
)

// The schemaless matcher Compile builds to check a query is handed out
// once, to the first Matcher(nil) caller; later callers (other workers)
// get matchers of their own that match the same.
func TestSpareMatcher(t *testing.T) {
	prog, err := ParseAndCompile(`process where process.name : "cmd*" and process.pid > 1`, Options{Size: NoLimit})
	if err != nil {
		t.Fatal(err)
	}
	spare := prog.spare.Load()
	if spare == nil {
		t.Fatal("Compile kept no matcher")
	}
	var wg sync.WaitGroup
	ms := make([]*Matcher, 8)
	for i := range ms {
		wg.Go(func() {
			m, err := prog.Matcher(nil)
			if err != nil {
				t.Error(err)
			}
			ms[i] = m
		})
	}
	wg.Wait()
	seen := map[*Matcher]bool{}
	handed := 0
	var p event.Parser
	for _, m := range ms {
		if seen[m] {
			t.Fatal("one matcher handed out twice")
		}
		seen[m] = true
		if m == spare {
			handed++
		}
		for _, c := range []struct {
			doc  string
			want bool
		}{
			{`{"event":{"category":"process"},"process":{"name":"CMD.exe","pid":4}}`, true},
			{`{"event":{"category":"process"},"process":{"name":"sh","pid":4}}`, false},
		} {
			d, err := p.Parse([]byte(c.doc))
			if err != nil {
				t.Fatal(err)
			}
			if got := m.event.match(d); got != c.want {
				t.Errorf("%s: %v, want %v", strings.TrimSpace(c.doc), got, c.want)
			}
		}
	}
	if handed != 1 || prog.spare.Load() != nil {
		t.Fatalf("spare matcher handed out %d times", handed)
	}
	// With field types, a matcher of its own.
	if m, err := prog.Matcher(&Types{}); err != nil || m == spare {
		t.Fatalf("typed matcher: %v, spare %v", err, m == spare)
	}
}

// FilterValues hands out what Compile computed once, then computes afresh:
// the same requirements either way.
func TestSpareValues(t *testing.T) {
	prog, err := ParseAndCompile(`process where process.name : ("cmd.exe", "*powershell*") and user.name == "admin"`, Options{Size: NoLimit})
	if err != nil {
		t.Fatal(err)
	}
	first, second := prog.FilterValues(), prog.FilterValues()
	if !reflect.DeepEqual(first, second) || len(first) != 1 || len(first[0]) != 2 {
		t.Fatalf("first %v, second %v", first, second)
	}
	if prog.spareValues.Load() != nil {
		t.Fatal("spare values kept after the first call")
	}
}
