package schema

import "testing"

func TestParseBool(t *testing.T) {
	cases := []struct {
		in        string
		value, ok bool
	}{
		{"true", true, true}, {"false", false, true}, {"", false, true},
		{"True", false, false}, {"TRUE", false, false}, {"1", false, false}, {"0", false, false},
		{"yes", false, false}, {" true", false, false}, {"on", false, false},
	}
	for _, c := range cases {
		v, ok := ParseBool(c.in)
		if v != c.value || ok != c.ok {
			t.Errorf("ParseBool(%q) = %v, %v; want %v, %v", c.in, v, ok, c.value, c.ok)
		}
	}
}
