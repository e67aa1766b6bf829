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
		if got, _ := AppendWindowsArgv(nil, nil, c.in); !reflect.DeepEqual(got, c.want) {
			t.Errorf("AppendWindowsArgv(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func FuzzWindowsArgv(f *testing.F) {
	f.Add(`"C:\a b\c.exe" -x "y z" \\"q"`)
	f.Fuzz(func(t *testing.T, s string) {
		want := WindowsArgv(s)
		// The append form gives the same arguments, also when buf already
		// holds bytes (which must stay as they were).
		buf := []byte("prefix")
		got, buf := AppendWindowsArgv([]string{"x"}, buf, s)
		if len(got) != len(want)+1 || got[0] != "x" || string(buf[:6]) != "prefix" {
			t.Fatalf("AppendWindowsArgv(%q) = %q (buf %q), want x then %q", s, got, buf, want)
		}
		for i, a := range want {
			if got[i+1] != a {
				t.Fatalf("AppendWindowsArgv(%q) = %q, want x then %q", s, got, want)
			}
		}
		for _, a := range want {
			if len(a) > len(s) {
				t.Fatalf("argument longer than the line: %q from %q", a, s)
			}
		}
	})
}

// The append form allocates nothing per argument once args and buf have
// grown: normalisers split a command line per event.
func TestAppendWindowsArgvAllocs(t *testing.T) {
	cmd := `"C:\Program Files\x.exe" -a b\c "d e" f\\"g h"`
	args, buf := AppendWindowsArgv(nil, nil, cmd)
	if n := testing.AllocsPerRun(100, func() {
		args, buf = AppendWindowsArgv(args[:0], buf[:0], cmd)
	}); n != 0 {
		t.Errorf("%v allocations per call, want 0", n)
	}
	if want := WindowsArgv(cmd); !reflect.DeepEqual(args, want) {
		t.Errorf("got %q, want %q", args, want)
	}
}
