package cmdline

import (
	"reflect"
	"testing"
)

func TestWindowsArgv(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []string
	}{
		{`"C:\Windows\system32\net.exe" user bob P@ss /add`, []string{`C:\Windows\system32\net.exe`, "user", "bob", "P@ss", "/add"}},
		{`"C:\Windows\system32\notepad.exe" `, []string{`C:\Windows\system32\notepad.exe`}},
		{`a\\\"b "c""d" e\\"f g"`, []string{`a\"b`, `c"d e\f`, "g"}},
		{"  \t", nil},
		{`x  y`, []string{"x", "y"}},
	} {
		if got := WindowsArgv(c.in); !reflect.DeepEqual(got, c.want) {
			t.Errorf("WindowsArgv(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func FuzzWindowsArgv(f *testing.F) {
	f.Add(`"C:\a b\c.exe" -x "y z" \\"q"`)
	f.Fuzz(func(t *testing.T, s string) {
		for _, a := range WindowsArgv(s) {
			if len(a) > len(s) {
				t.Fatalf("argument longer than the line: %q from %q", a, s)
			}
		}
	})
}
