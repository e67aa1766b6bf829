package eql

import (
	"strings"
	"testing"
)

// FuzzParse: any input either parses (and then compiles or fails with a
// positioned error) or fails with a positioned error; never a panic.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`process where process.name : ("net.exe", "net1.exe")`,
		`sequence by a with maxspan=1m [x where true] ![y where b == 1] [z where c regex """a+"""]`,
		`sample by h [a where true] [b where x in~ ("A")] | head 2`,
		`any where concat(a, "b") == null and substring(x, -4) : "*.exe"`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		q, err := Parse(src)
		if err != nil {
			e, ok := err.(*Error)
			if !ok {
				t.Fatalf("error is %T, not *Error", err)
			}
			if e.Pos.Line < 1 || e.Pos.Col < 1 || e.Pos.Offset > len(src) {
				t.Fatalf("bad position %+v for %q", e.Pos, src)
			}
			_ = e.Detail()
			return
		}
		prog, err := Compile(q, Options{Size: NoLimit})
		if err != nil {
			if _, ok := err.(*Error); !ok && !strings.Contains(err.Error(), ":") {
				t.Fatalf("compile error without position: %v", err)
			}
			return
		}
		// What dispatch derives from a compiled query: never a panic, and
		// requirements as FilterValues documents them.
		for _, cnf := range prog.FilterValues() {
			for _, g := range cnf {
				if len(g) == 0 {
					t.Fatalf("empty requirement group for %q", src)
				}
				for _, r := range g {
					if r.Field == "" || r.Text == "" || r.Text != strings.ToLower(r.Text) || !asciiText(r.Text) {
						t.Fatalf("bad requirement %+v for %q", r, src)
					}
				}
			}
		}
		_ = prog.FilterLiterals()
	})
}
