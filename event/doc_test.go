package event

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
)

var (
	iv = IntValue
	fv = FloatValue
	sv = StringValue
	bv = BoolValue
	nl = Value{Kind: Null}
	ob = Value{Kind: Object}
)

func vals(v ...Value) []Value { return v }

func TestLookup(t *testing.T) {
	tests := []struct {
		name  string
		doc   string
		path  string
		want  []Value
		found bool
	}{
		// Resolution of dotted names.
		{"nested", `{"a":{"b":{"c":1}}}`, "a.b.c", vals(iv(1)), true},
		{"flat", `{"a.b.c":1}`, "a.b.c", vals(iv(1)), true},
		{"mix head", `{"a.b":{"c":1}}`, "a.b.c", vals(iv(1)), true},
		{"mix tail", `{"a":{"b.c":1}}`, "a.b.c", vals(iv(1)), true},
		{"all four forms, nested first", `{"a.b.c":4,"a.b":{"c":3},"a":{"b.c":2,"b":{"c":1}}}`, "a.b.c", vals(iv(1), iv(2), iv(3), iv(4)), true},
		{"nested preferred over earlier flat key", `{"a.b":2,"a":{"b":1}}`, "a.b", vals(iv(1), iv(2)), true},
		{"flat key through array", `{"a":[{"b.c":1},{"b":{"c":2}}]}`, "a.b.c", vals(iv(1), iv(2)), true},
		{"single segment", `{"a":1,"b":2}`, "b", vals(iv(2)), true},
		{"@timestamp", `{"@timestamp":"2024-01-01T00:00:00Z"}`, "@timestamp", vals(sv("2024-01-01T00:00:00Z")), true},
		{"literal flat key", `{"process.pid":4}`, "process.pid", vals(iv(4)), true},
		{"flat key with prefix sibling", `{"process":{"name":"x"},"process.pid":4}`, "process.pid", vals(iv(4)), true},
		{"odd characters", `{"a b":{"c-d":{"$e/f":1}}}`, "a b.c-d.$e/f", vals(iv(1)), true},
		{"empty name", `{"":1}`, "", vals(iv(1)), true},
		{"empty segment", `{"a":{"":{"b":1}}}`, "a..b", vals(iv(1)), true},
		{"trailing dot flat", `{"a.":1}`, "a.", vals(iv(1)), true},
		{"duplicate key keeps first", `{"a":1,"a":2}`, "a", vals(iv(1)), true},

		// Missing vs null vs empty.
		{"missing", `{"b":1}`, "a", nil, false},
		{"missing nested", `{"a":{"c":1}}`, "a.b", nil, false},
		{"prefix only", `{"a":{"b":1}}`, "a.b.c", nil, false},
		{"scalar on the way", `{"a":1}`, "a.b", nil, false},
		{"string on the way", `{"a":"x"}`, "a.b", nil, false},
		{"null", `{"a":null}`, "a", vals(nl), true},
		{"null nested", `{"a":{"b":null}}`, "a.b", vals(nl), true},
		{"null on the way", `{"a":null}`, "a.b", nil, false},
		{"empty array", `{"a":[]}`, "a", nil, true},
		{"nested empty arrays", `{"a":[[],[[]]]}`, "a", nil, true},
		{"empty array on the way", `{"a":[]}`, "a.b", nil, false},
		{"array of scalars on the way", `{"a":[1,2]}`, "a.b", nil, false},
		{"case sensitive", `{"A":1}`, "a", nil, false},

		// Multi-values.
		{"array", `{"a":[1,2]}`, "a", vals(iv(1), iv(2)), true},
		{"array of objects", `{"a":[{"b":1},{"b":2}]}`, "a.b", vals(iv(1), iv(2)), true},
		{"array of objects, some missing", `{"a":[{"b":1},{"c":2},3,null,{"b":[4,5]}]}`, "a.b", vals(iv(1), iv(4), iv(5)), true},
		{"nested arrays", `{"a":[[1,[2]],3]}`, "a", vals(iv(1), iv(2), iv(3)), true},
		{"nested arrays of objects", `{"a":[[{"b":1}],{"b":[2,[3]]}]}`, "a.b", vals(iv(1), iv(2), iv(3)), true},
		{"null in array", `{"a":[1,null,2]}`, "a", vals(iv(1), nl, iv(2)), true},
		{"mixed array", `{"a":["x",1,1.5,true,false,null,{"k":1},[2]]}`, "a", vals(sv("x"), iv(1), fv(1.5), bv(true), bv(false), nl, ob, iv(2)), true},
		{"ecs event.category", `{"event":{"category":["process","network"]}}`, "event.category", vals(sv("process"), sv("network")), true},

		// Object leaves.
		{"object leaf", `{"a":{"b":1}}`, "a", vals(ob), true},
		{"empty object leaf", `{"a":{}}`, "a", vals(ob), true},
		{"array of objects leaf", `{"a":[{},{"x":1}]}`, "a", vals(ob, ob), true},

		// Scalars.
		{"true", `{"a":true}`, "a", vals(bv(true)), true},
		{"false", `{"a":false}`, "a", vals(bv(false)), true},
		{"empty string", `{"a":""}`, "a", vals(sv("")), true},
		{"int", `{"a":42}`, "a", vals(iv(42)), true},
		{"zero", `{"a":0}`, "a", vals(iv(0)), true},
		{"negative", `{"a":-42}`, "a", vals(iv(-42)), true},
		{"negative zero", `{"a":-0}`, "a", vals(iv(0)), true},
		{"negative float", `{"a":-1.5}`, "a", vals(fv(-1.5)), true},
		{"float with zero fraction", `{"a":1.0}`, "a", vals(fv(1)), true},
		{"exponent", `{"a":1e3}`, "a", vals(fv(1000)), true},
		{"exponent upper plus", `{"a":1E+2}`, "a", vals(fv(100)), true},
		{"negative exponent", `{"a":-2.5e-3}`, "a", vals(fv(-0.0025)), true},
		{"max int64", `{"a":9223372036854775807}`, "a", vals(iv(math.MaxInt64)), true},
		{"min int64", `{"a":-9223372036854775808}`, "a", vals(iv(math.MinInt64)), true},
		{"max int64 + 1", `{"a":9223372036854775808}`, "a", vals(fv(9223372036854775808)), true},
		{"min int64 - 1", `{"a":-9223372036854775809}`, "a", vals(fv(-9223372036854775809)), true},
		{"max uint64", `{"a":18446744073709551615}`, "a", vals(fv(18446744073709551615)), true},
		{"huge int", `{"a":123456789012345678901234567890}`, "a", vals(fv(123456789012345678901234567890)), true},
		{"long fraction", `{"a":0.1000000000000000000000000000000000000001}`, "a", vals(fv(0.1)), true},
		{"overflow", `{"a":1e400}`, "a", vals(fv(math.Inf(1))), true},
		{"negative overflow", `{"a":-1e400}`, "a", vals(fv(math.Inf(-1))), true},
		{"underflow", `{"a":1e-400}`, "a", vals(fv(0)), true},

		// Escapes and unicode.
		{"string escapes", `{"a":"q\"b\\s\/n\nt\tr\rb\bf\f"}`, "a", vals(sv("q\"b\\s/n\nt\tr\rb\bf\f")), true},
		{"unicode escapes", `{"a":"caf\u00e9 \u65e5 \ud83d\ude00 \u0000"}`, "a", vals(sv("café 日 😀 \x00")), true},
		{"raw utf-8", `{"a":"日本語 😀"}`, "a", vals(sv("日本語 😀")), true},
		{"windows path", `{"a":"C:\\Windows\\System32\\cmd.exe"}`, "a", vals(sv(`C:\Windows\System32\cmd.exe`)), true},
		{"lone high surrogate", `{"a":"\ud800x"}`, "a", vals(sv("\ufffdx")), true},
		{"high surrogate then plain escape", `{"a":"\ud800\u0041"}`, "a", vals(sv("\ufffdA")), true},
		{"lone low surrogate", `{"a":"\udc00"}`, "a", vals(sv("\ufffd")), true},
		{"high surrogate then pair", `{"a":"\ud800\ud83d\ude00"}`, "a", vals(sv("\ufffd😀")), true},
		{"escaped backslash is not an escape", `{"a":"\\ud800","b":"\udfff"}`, "a", vals(sv(`\ud800`)), true},
		{"lone surrogate key", `{"\udc00":1}`, "\ufffd", vals(iv(1)), true},
		{"escaped key", `{"\u0040timestamp":"x"}`, "@timestamp", vals(sv("x")), true},
		{"escaped key among plain", `{"b":1,"\u0061":2}`, "a", vals(iv(2)), true},
		{"escaped dot in key", `{"a\u002eb":1}`, "a.b", vals(iv(1)), true},
		{"unicode keys", `{"日本":{"語":1},"ключ.значение":2}`, "日本.語", vals(iv(1)), true},
		{"unicode flat key", `{"ключ.значение":2}`, "ключ.значение", vals(iv(2)), true},
		{"escaped backslash key", `{"a\\b":1}`, `a\b`, vals(iv(1)), true},
		{"escaped quote key", `{"a\"b":1}`, `a"b`, vals(iv(1)), true},

		// Whitespace and BOM around the document.
		{"whitespace", " \t\r\n{ \"a\" :\n[ 1 , 2 ] }\r\n", "a", vals(iv(1), iv(2)), true},
		{"bom", "\xef\xbb\xbf{\"a\":1}", "a", vals(iv(1)), true},
	}
	var p Parser
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := p.Parse([]byte(tc.doc))
			if err != nil {
				t.Fatalf("Parse(%s): %v", tc.doc, err)
			}
			got, found := d.Lookup(CompilePath(tc.path), nil)
			if found != tc.found || !sameValues(got, tc.want) {
				t.Errorf("Lookup(%q) on %s = %v, %v; want %v, %v", tc.path, tc.doc, got, found, tc.want, tc.found)
			}
			// First must agree with Lookup.
			var wantFirst Value
			wantOK := false
			for _, v := range tc.want {
				if v.Kind != Null {
					wantFirst, wantOK = v, true
					break
				}
			}
			first, ok := d.First(CompilePath(tc.path))
			if ok != wantOK || (ok && !sameValues([]Value{first}, []Value{wantFirst})) {
				t.Errorf("First(%q) on %s = %v, %v; want %v, %v", tc.path, tc.doc, first, ok, wantFirst, wantOK)
			}
		})
	}
}

// sameValues compares exactly, treating nil and empty alike and NaN as equal
// to itself.
func sameValues(a, b []Value) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		x, y := a[k], b[k]
		if x.Kind == Float && y.Kind == Float && math.IsNaN(x.F) && math.IsNaN(y.F) {
			continue
		}
		if x.Kind == Float && y.Kind == Float && x.F == 0 && y.F == 0 && math.Signbit(x.F) != math.Signbit(y.F) {
			return false
		}
		if x != y {
			return false
		}
	}
	return true
}

func TestFirst(t *testing.T) {
	var p Parser
	d, err := p.Parse([]byte(`{"a":[null,[null,3],4],"n":null,"e":[],"a.b":1,"x":{"b":2}}`))
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := d.First(CompilePath("a")); !ok || v != iv(3) {
		t.Errorf("First(a) = %v, %v; want 3, true", v, ok)
	}
	for _, name := range []string{"n", "e", "missing", "a.b.c"} {
		if v, ok := d.First(CompilePath(name)); ok {
			t.Errorf("First(%s) = %v, true; want none", name, v)
		}
	}
	if v, ok := d.First(CompilePath("a.b")); !ok || v != iv(1) {
		t.Errorf("First(a.b) = %v, %v; want 1, true", v, ok)
	}
}

func TestLookupAppends(t *testing.T) {
	var p Parser
	d, err := p.Parse([]byte(`{"a":[2,3]}`))
	if err != nil {
		t.Fatal(err)
	}
	dst := []Value{iv(1)}
	got, found := d.Lookup(CompilePath("a"), dst)
	if !found || !sameValues(got, vals(iv(1), iv(2), iv(3))) {
		t.Errorf("got %v, %v", got, found)
	}
	got, found = d.Lookup(CompilePath("missing"), got[:1])
	if found || !sameValues(got, vals(iv(1))) {
		t.Errorf("missing: got %v, %v", got, found)
	}
}

func TestCompilePath(t *testing.T) {
	p := CompilePath("a.b.c")
	if p.Name() != "a.b.c" {
		t.Errorf("Name = %q", p.Name())
	}
	want := [][]string{{"a", "a.b", "a.b.c"}, {"b", "b.c"}, {"c"}}
	if !reflect.DeepEqual(p.keys, want) {
		t.Errorf("keys = %q, want %q", p.keys, want)
	}
}

// The Doc must not depend on the caller's buffer, which NDJSON readers reuse.
func TestDocOwnsBytes(t *testing.T) {
	var p Parser
	line := []byte(`{"a":"hello","b":"w\u00f6rld"}`)
	orig := string(line)
	d, err := p.Parse(line)
	if err != nil {
		t.Fatal(err)
	}
	va, _ := d.First(CompilePath("a"))
	for k := range line {
		line[k] = 'X'
	}
	vb, _ := d.First(CompilePath("b"))
	if va.S != "hello" || vb.S != "wörld" {
		t.Errorf("values after clobbering input: %q %q", va.S, vb.S)
	}
	if string(d.Raw()) != orig {
		t.Errorf("Raw = %q, want %q", d.Raw(), orig)
	}
	kept := va.Clone()
	if _, err := p.Parse([]byte(`{"a":"other"}`)); err != nil {
		t.Fatal(err)
	}
	if kept.S != "hello" {
		t.Errorf("Clone did not survive the next Parse: %q", kept.S)
	}

	// The surrogate repair works on a private copy, too.
	line = []byte(`{"a":"\ud800"}`)
	orig = string(line)
	if d, err = p.Parse(line); err != nil {
		t.Fatal(err)
	}
	if v, _ := d.First(CompilePath("a")); v.S != "\ufffd" || string(line) != orig || string(d.Raw()) != orig {
		t.Errorf("surrogate repair: value %q, input %q, Raw %q", v.S, line, d.Raw())
	}
}

func TestParseErrors(t *testing.T) {
	deep := strings.Repeat(`{"a":`, maxNesting) + "1" + strings.Repeat("}", maxNesting)
	tooDeep := `{"a":` + strings.Repeat("[", maxNesting) + strings.Repeat("]", maxNesting) + "}"
	tests := []struct {
		doc    string
		offset int
		msg    string
	}{
		{``, 0, "empty document"},
		{" \r\n", 3, "empty document"},
		{"\xef\xbb\xbf", 3, "empty document"},
		{`[{"a":1}]`, 0, "top-level value is an array, want an object"},
		{`"x"`, 0, "top-level value is a string"},
		{` 12`, 1, "top-level value is a number"},
		{`null`, 0, "top-level value is null"},
		{`{`, 1, "unexpected end of input in object"},
		{`{"a"`, 4, "after object key, want ':'"},
		{`{"a":`, 5, "unexpected end of input, want a value"},
		{`{"a":1`, 6, "want ',' or '}'"},
		{`{"a":1}x`, 7, "unexpected character 'x' after top-level object"},
		{`{"a":1} {}`, 8, "unexpected an object after top-level object"},
		{`{"a":1}}`, 7, "after top-level object"},
		{`{a:1}`, 1, "want an object key string"},
		{`{"a" 1}`, 5, "want ':'"},
		{`{"a":1,}`, 7, "want an object key string"},
		{`{"a":1 "b":2}`, 7, "after object value, want ',' or '}'"},
		{`{"a":[1,]}`, 8, "want a value"},
		{`{"a":[1 2]}`, 8, "after array element"},
		{`{"a":[1}`, 7, "after array element"},
		{`{"a":NaN}`, 5, "unexpected character 'N'"},
		{`{"a":Infinity}`, 5, "unexpected character 'I'"},
		{`{"a":+1}`, 5, "unexpected character '+'"},
		{`{"a":.5}`, 5, "unexpected character '.'"},
		{`{"a":01}`, 5, "leading zero"},
		{`{"a":-01}`, 5, "leading zero"},
		{`{"a":-}`, 5, "digit after '-'"},
		{`{"a":1.}`, 5, "digit after '.'"},
		{`{"a":1.e5}`, 5, "digit after '.'"},
		{`{"a":1e}`, 5, "digit in exponent"},
		{`{"a":1e+}`, 5, "digit in exponent"},
		{`{"a":1.2.3}`, 8, "after object value"},
		{`{"a":1-2}`, 6, "after object value"},
		{`{"a":tru}`, 5, `want "true"`},
		{`{"a":nul}`, 5, `want "null"`},
		{`{"a":True}`, 5, "unexpected character 'T'"},
		{"{\"a\":\"x\ny\"}", 7, "control character 0x0a"},
		{"{\"a\":\"x\ty\"}", 7, "control character 0x09"},
		{"{\"a\x01\":1}", 3, "control character 0x01"},
		{`{"a":"\x"}`, 6, `invalid escape "\\x"`},
		{`{"a":"\'"}`, 6, `invalid escape`},
		{`{"a":"\u12G4"}`, 6, `invalid \u escape`},
		{`{"a":"\u12"}`, 6, `invalid \u escape`},
		{`{"a":"\u12`, 6, `truncated \u escape`},
		{`{"a":"abc}`, 5, "unterminated string"},
		{`{"a":"abc\`, 5, "unterminated string"},
		{`{"abc`, 1, "unterminated string"},
		{`{"a":"abcdefghijklmnopqrstuvwxyz`, 5, "unterminated string"},
		{tooDeep, 5 + maxNesting - 1, "nesting deeper than 256 levels"},
		{deep[:len(deep)-1], len(deep) - 1, "want ',' or '}'"},
	}
	var p Parser
	if _, err := p.Parse([]byte(deep)); err != nil {
		t.Errorf("Parse(%d-deep): %v", maxNesting, err)
	}
	for _, tc := range tests {
		d, err := p.Parse([]byte(tc.doc))
		var se *SyntaxError
		if err == nil || d != nil || !errors.As(err, &se) {
			t.Errorf("Parse(%q) = %v, %v; want *SyntaxError", tc.doc, d, err)
			continue
		}
		if se.Offset != tc.offset || !strings.Contains(se.Msg, tc.msg) {
			t.Errorf("Parse(%q) error %q (offset %d); want offset %d containing %q", tc.doc, err, se.Offset, tc.offset, tc.msg)
		}
		if !strings.Contains(err.Error(), "byte ") {
			t.Errorf("error %q does not name the offset", err)
		}
	}
}

// A failed Parse must not poison the Parser for the next line.
func TestParseAfterError(t *testing.T) {
	var p Parser
	if _, err := p.Parse([]byte(`{"a":[1,2`)); err == nil {
		t.Fatal("want error")
	}
	d, err := p.Parse([]byte(`{"a":[1,2]}`))
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := d.Lookup(CompilePath("a"), nil); !sameValues(got, vals(iv(1), iv(2))) {
		t.Errorf("got %v", got)
	}
}

func TestSplitArray(t *testing.T) {
	data := []byte("\xef\xbb\xbf [ {\"a\":1} ,\n{\"b\":[2,{\"c\":[]}]},{}\n]\n")
	elems, err := SplitArray(data)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`{"a":1}`, `{"b":[2,{"c":[]}]}`, `{}`}
	if len(elems) != len(want) {
		t.Fatalf("got %d elements %q", len(elems), elems)
	}
	var p Parser
	for k, e := range elems {
		if string(e) != want[k] {
			t.Errorf("element %d = %q, want %q", k, e, want[k])
		}
		if cap(e) != len(e) {
			t.Errorf("element %d capacity not clipped", k)
		}
		if _, err := p.Parse(e); err != nil {
			t.Errorf("Parse(element %d): %v", k, err)
		}
	}
	if elems, err := SplitArray([]byte(" [ ] ")); err != nil || len(elems) != 0 {
		t.Errorf("empty array: %q, %v", elems, err)
	}

	bad := []struct {
		doc    string
		offset int
		msg    string
	}{
		{``, 0, "empty document"},
		{`{"a":1}`, 0, "top-level value is an object, want an array"},
		{`[{"a":1},2]`, 9, "array element 1 is a number, want an object"},
		{`[[]]`, 1, "array element 0 is an array"},
		{`[{"a":1}`, 8, "want ',' or ']'"},
		{`[{"a":1},`, 9, "want an object"},
		{`[{"a":1},]`, 9, "array element 1 is character ']'"},
		{`[{"a":1} {"b":2}]`, 9, "after array element"},
		{`[{"a":1}] x`, 10, "after top-level array"},
		{`[] []`, 3, "after top-level array"},
		{`[{"a":01}]`, 6, "leading zero"},
		{`[`, 1, "unexpected end of input"},
	}
	for _, tc := range bad {
		_, err := SplitArray([]byte(tc.doc))
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("SplitArray(%q) error = %v; want *SyntaxError", tc.doc, err)
			continue
		}
		if se.Offset != tc.offset || !strings.Contains(se.Msg, tc.msg) {
			t.Errorf("SplitArray(%q) error %q (offset %d); want offset %d containing %q", tc.doc, err, se.Offset, tc.offset, tc.msg)
		}
	}
}

func TestParseLookupZeroAllocs(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage instrumentation allocates")
	}
	for _, doc := range []string{ecsEvent, ecsEventFlat} {
		var p Parser
		line := []byte(doc)
		dst := make([]Value, 0, 16)
		dst = parseLookupAll(t, &p, line, dst) // warm the parser's buffers
		if n := testing.AllocsPerRun(200, func() { dst = parseLookupAll(t, &p, line, dst) }); n != 0 {
			t.Errorf("Parse+Lookup allocates %v times per run", n)
		}
	}
}

// Numbers in every shape and escaped strings must not allocate either.
func TestLookupScalarsZeroAllocs(t *testing.T) {
	var p Parser
	line := []byte(`{"i":-12,"f":1.5e3,"big":123456789012345678901234567890,"s":"caf\u00e9\n","u":"\ud800","k\u0065y":true,"a.b":[null,{"c":1}]}`)
	paths := []*Path{CompilePath("i"), CompilePath("f"), CompilePath("big"), CompilePath("s"), CompilePath("u"), CompilePath("key"), CompilePath("a.b"), CompilePath("a.b.c")}
	dst := make([]Value, 0, 8)
	run := func() {
		d, err := p.Parse(line)
		if err != nil {
			t.Fatal(err)
		}
		for _, path := range paths {
			dst, _ = d.Lookup(path, dst[:0])
			d.First(path)
		}
	}
	run()
	if n := testing.AllocsPerRun(200, run); n != 0 {
		t.Errorf("allocates %v times per run", n)
	}
}

func TestSpecialMask(t *testing.T) {
	// Cross-check the word-at-a-time test against the byte test for every
	// byte value in every lane, on a background of plain and high bytes.
	for _, bg := range []byte{'a', 0x7f, 0x80, 0xff, ' '} {
		for lane := 0; lane < 8; lane++ {
			for c := 0; c < 256; c++ {
				var w [8]byte
				for k := range w {
					w[k] = bg
				}
				w[lane] = byte(c)
				var x uint64
				for k := 7; k >= 0; k-- {
					x = x<<8 | uint64(w[k])
				}
				m := specialMask(x)
				wantHit := isSpecial(byte(c))
				if (m != 0) != wantHit {
					t.Fatalf("bg %#x lane %d byte %#x: mask %#x", bg, lane, c, m)
				}
				if wantHit && m&-m != 0x80<<(8*lane) {
					t.Fatalf("bg %#x lane %d byte %#x: lowest flag %#x", bg, lane, c, m&-m)
				}
			}
		}
	}
}

// A memo lasts until the next Parse; a Value memo needs no allocation.
func TestMemoValue(t *testing.T) {
	var p Parser
	id := MemoID("test.memo.value")
	d, err := p.Parse([]byte(`{"a":1}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := d.MemoValue(id); ok {
		t.Fatal("memo before any was set")
	}
	d.SetMemoValue(id, Value{Kind: Int, I: 42})
	if v, ok := d.MemoValue(id); !ok || v.Kind != Int || v.I != 42 {
		t.Fatalf("got %v %v", v, ok)
	}
	if n := testing.AllocsPerRun(100, func() { d.SetMemoValue(id, Value{Kind: Int, I: 7}) }); n != 0 {
		t.Errorf("%v allocations per SetMemoValue", n)
	}
	d, _ = p.Parse([]byte(`{"a":2}`))
	if _, ok := d.MemoValue(id); ok {
		t.Fatal("memo survived the next Parse")
	}
}
