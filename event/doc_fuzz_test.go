package event

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParse checks that Parse never panics, accepts exactly what
// encoding/json accepts (modulo BOM and nesting limit), and that Lookup
// agrees with encoding/json's decoding of each top-level field.
func FuzzParse(f *testing.F) {
	f.Add([]byte(ecsEvent))
	f.Add([]byte(ecsEventFlat))
	var p Parser
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := p.Parse(data)
		body := bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
		valid := json.Valid(body) && bytes.HasPrefix(bytes.TrimLeft(body, " \t\r\n"), []byte("{"))
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) || se.Offset < 0 || se.Offset > len(data) {
				t.Fatalf("error %v is not a *SyntaxError with an offset in range", err)
			}
			if valid && !strings.Contains(se.Msg, "nesting") {
				t.Fatalf("rejected valid JSON %q: %v", data, err)
			}
			return
		}
		if !valid {
			t.Fatalf("accepted invalid JSON %q", data)
		}
		if !bytes.Equal(d.Raw(), data) {
			t.Fatalf("Raw() = %q, want %q", d.Raw(), data)
		}
		checkAgainstStdlib(t, d, body)

		// Arbitrary paths, including ones built from the input, must work.
		var dst []Value
		for _, name := range []string{"", "a", "a.b", "a.b.c", ".", "..", "@timestamp", string(data[:min(len(data), 8)])} {
			path := CompilePath(name)
			dst, _ = d.Lookup(path, dst[:0])
			first, ok := d.First(path)
			if ok != (firstNonNull(dst) >= 0) || (ok && first.Kind != dst[firstNonNull(dst)].Kind) {
				t.Fatalf("First(%q) = %v, %v disagrees with Lookup %v", name, first, ok, dst)
			}
		}
	})
}

func firstNonNull(vs []Value) int {
	for k, v := range vs {
		if v.Kind != Null {
			return k
		}
	}
	return -1
}

// checkAgainstStdlib compares Lookup of every plain top-level key with what
// encoding/json decodes. Keys with dots (several resolutions) and duplicates
// (encoding/json keeps the last, we the first) are skipped, and so is input
// with invalid UTF-8, which encoding/json replaces and we pass through.
func checkAgainstStdlib(t *testing.T, d *Doc, body []byte) {
	if !utf8.Valid(body) {
		return
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("encoding/json cannot decode accepted input: %v", err)
	}
	counts := topLevelKeyCounts(t, body)
	for key, jv := range m {
		if counts[key] != 1 || strings.Contains(key, ".") {
			continue
		}
		want, ok := flatten(jv, nil)
		if !ok {
			continue
		}
		got, found := d.Lookup(CompilePath(key), nil)
		if !found {
			t.Fatalf("key %q not found", key)
		}
		if !sameValues(got, want) {
			t.Fatalf("key %q: got %v, want %v", key, got, want)
		}
	}
}

func topLevelKeyCounts(t *testing.T, body []byte) map[string]int {
	dec := json.NewDecoder(bytes.NewReader(body))
	counts := map[string]int{}
	if _, err := dec.Token(); err != nil { // '{'
		t.Fatal(err)
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		counts[tok.(string)]++
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return counts
}

// flatten converts an encoding/json value to the Values Lookup should give;
// ok is false when the value cannot be compared reliably.
func flatten(jv any, out []Value) ([]Value, bool) {
	switch x := jv.(type) {
	case nil:
		return append(out, Value{Kind: Null}), true
	case bool:
		return append(out, BoolValue(x)), true
	case string:
		return append(out, StringValue(x)), true
	case json.Number:
		lit := string(x)
		if !strings.ContainsAny(lit, ".eE") {
			if n, err := strconv.ParseInt(lit, 10, 64); err == nil {
				return append(out, IntValue(n)), true
			}
		}
		fl, err := strconv.ParseFloat(lit, 64)
		if err != nil && !math.IsInf(fl, 0) {
			return out, false
		}
		return append(out, FloatValue(fl)), true
	case map[string]any:
		return append(out, Value{Kind: Object}), true
	case []any:
		ok := true
		for _, e := range x {
			if out, ok = flatten(e, out); !ok {
				return out, false
			}
		}
		return out, true
	}
	return out, false
}
