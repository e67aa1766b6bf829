package event

import (
	"strings"
	"testing"
)

// Cases aimed at the tape parser's fast paths and fallbacks.
func TestLookupTape(t *testing.T) {
	long := "a.b.c.d.e.f.g.h.i.j" // more variants than walker.object's array
	tests := []struct {
		name, doc, path string
		want            []Value
		found           bool
	}{
		{"key head equal, tail differs", `{"abcdefghiX":1,"abcdefghiY":2}`, "abcdefghiY", vals(iv(2)), true},
		{"8-byte keys", `{"abcdefgX":1,"abcdefgh":2}`, "abcdefgh", vals(iv(2)), true},
		{"prefix key", `{"abcdefgh":1}`, "abcdefg", nil, false},
		{"longer key", `{"abcdefg":1}`, "abcdefgh", nil, false},
		{"key at end of line", `{"x":1,"abcdefghijklmnopq":2}`, "abcdefghijklmnopq", vals(iv(2)), true},
		{"many variants", `{"` + long + `":1,"a":{"` + long[2:] + `":2}}`, long, vals(iv(2), iv(1)), true},
		{"many variants, mixed", `{"a.b.c.d.e.f.g.h.i":{"j":3},"a":{"b":{"c.d.e.f.g.h.i.j":4}}}`, long, vals(iv(4), iv(3)), true},
		{"dotted object deep in nested ones", `{"a":{"b":{"c.d":1,"c":{"d":2}}}}`, "a.b.c.d", vals(iv(2), iv(1)), true},
		{"dotted key not a segment boundary", `{"a.bc":1,"a.b":2}`, "a.b", vals(iv(2)), true},
		{"escaped key decoded once", `{"\u0061":{"b":1},"\u0061.b":2}`, "a.b", vals(iv(1), iv(2)), true},
		{"escaped duplicate keys", `{"\u0061":1,"a":2,"\u0061":3}`, "a", vals(iv(1)), true},
		{"array of arrays of objects", `{"a":[[{"b":[1,[2]]}],[],{"b":null}]}`, "a.b", vals(iv(1), iv(2), nl), true},
		{"object with all kinds", `{"a":{"s":"x","n":-1.5e1,"t":true,"f":false,"z":null,"o":{},"r":[]}}`, "a", vals(ob), true},
		{"whitespace everywhere", "{ \"a\" :\t{ \"b\" : [ \"x\" , { } , [ ] , null ] } }", "a.b", vals(sv("x"), ob, nl), true},
		{"empty key and empty string", `{"":{"":""}}`, ".", vals(sv("")), true},
	}
	var p Parser
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := p.Parse([]byte(tc.doc))
			if err != nil {
				t.Fatalf("Parse(%s): %v", tc.doc, err)
			}
			// Twice: the first Lookup may decode and cache escaped text.
			for range 2 {
				got, found := d.Lookup(CompilePath(tc.path), nil)
				if found != tc.found || !sameValues(got, tc.want) {
					t.Errorf("Lookup(%q) on %s = %v, %v; want %v, %v", tc.path, tc.doc, got, found, tc.want, tc.found)
				}
			}
		})
	}
}

// Decoded strings live in the Doc's arena; earlier ones must survive later
// decodes that grow it, until the next Parse.
func TestDecodedStringsStable(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{`)
	const n = 200
	for k := range n {
		if k > 0 {
			b.WriteString(",")
		}
		b.WriteString(`"k` + strings.Repeat("x", k) + `":"v\u00e9` + strings.Repeat("y", k) + `"`)
	}
	b.WriteString(`}`)
	var p Parser
	d, err := p.Parse([]byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	got := make([]string, n)
	for k := range n {
		v, ok := d.First(CompilePath("k" + strings.Repeat("x", k)))
		if !ok {
			t.Fatalf("key %d missing", k)
		}
		got[k] = v.S
	}
	for k := range n {
		if want := "vé" + strings.Repeat("y", k); got[k] != want {
			t.Fatalf("value %d = %q, want %q", k, got[k], want)
		}
	}
}

// Parse may be handed the previous document's Raw bytes.
func TestParseOwnRaw(t *testing.T) {
	var p Parser
	d, err := p.Parse([]byte(`{"a":"x\ty","b":[1,2]}`))
	if err != nil {
		t.Fatal(err)
	}
	d, err = p.Parse(d.Raw())
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := d.Lookup(CompilePath("b"), nil); !sameValues(got, vals(iv(1), iv(2))) {
		t.Errorf("b = %v", got)
	}
	if v, _ := d.First(CompilePath("a")); v.S != "x\ty" {
		t.Errorf("a = %q", v.S)
	}
	d, err = p.Parse(d.Raw()[:8]) // `{"a":"x\` : a prefix of itself
	if err == nil {
		t.Fatalf("Parse(prefix) = %v, want an error", d)
	}
}
