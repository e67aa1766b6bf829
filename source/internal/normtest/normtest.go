// Package normtest holds the helpers the vendor normalisers' tests share:
// normalise one record and read fields of the result by dotted path.
package normtest

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// Normalizer is a vendor package's Normalize.
type Normalizer func(dst, line []byte, file string) ([]byte, error)

// ECS normalises line and decodes the document; a failure ends the test.
func ECS(t testing.TB, normalize Normalizer, line, file string) map[string]any {
	t.Helper()
	out, err := normalize(nil, []byte(line), file)
	if err != nil {
		t.Fatalf("%v\n%s", err, line)
	}
	var m map[string]any
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	return m
}

// Get reads a dotted path through nested objects; nil when absent.
func Get(m map[string]any, path string) any {
	var v any = m
	for _, k := range strings.Split(path, ".") {
		o, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = o[k]
	}
	return v
}

// Check reports every path of want whose value in m differs.
func Check(t testing.TB, m map[string]any, want map[string]any) {
	t.Helper()
	for k, w := range want {
		if g := Get(m, k); !reflect.DeepEqual(g, w) {
			t.Errorf("%s = %#v, want %#v", k, g, w)
		}
	}
}

// CheckOutput is a fuzz target's body: Normalize never panics, and a
// document, when produced, is a JSON object with index and a time.
func CheckOutput(t *testing.T, normalize Normalizer, index string, data []byte) {
	out, err := normalize(nil, data, "")
	if err != nil {
		return
	}
	var m map[string]any
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatalf("invalid output %q for %q: %v", out, data, err)
	}
	if m["_index"] != index || m["@timestamp"] == nil {
		t.Fatalf("output without index or time: %s", out)
	}
}

// Bench normalises line repeatedly into a reused buffer, reporting
// records/s.
func Bench(b *testing.B, normalize Normalizer, line string) {
	in := []byte(line)
	b.SetBytes(int64(len(in)))
	var dst []byte
	for b.Loop() {
		var err error
		if dst, err = normalize(dst[:0], in, ""); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}
