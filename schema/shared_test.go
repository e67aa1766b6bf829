package schema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// esDataDir holds Elasticsearch's EQL QA mappings and datasets, read from
// ../shared beside the repository root; it is not part of the repository.
var esDataDir = filepath.Join("..", "..", "shared", "conformance", "eql", "es", "data")

func esMappings(t *testing.T) map[string]*Mapping {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(esDataDir, "*.mapping"))
	if len(files) == 0 {
		t.Skipf("Elasticsearch EQL test data not found at %s (../shared is absent); skipping", esDataDir)
	}
	out := map[string]*Mapping{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		m, err := ParseMapping(data)
		if err != nil {
			t.Fatalf("%s: %v", filepath.Base(f), err)
		}
		out[strings.TrimSuffix(filepath.Base(f), ".mapping")] = m
	}
	return out
}

func TestSharedESMappings(t *testing.T) {
	ms := esMappings(t)
	type want struct {
		index, field string
		typ          Type
		check        func(Field) error
	}
	formatIs := func(spec string) func(Field) error {
		return func(f Field) error {
			var names []string
			for _, x := range f.Formats {
				names = append(names, x.String())
			}
			if got := strings.Join(names, "||"); got != spec {
				return fmt.Errorf("formats %s, want %s", got, spec)
			}
			return nil
		}
	}
	wants := []want{
		{"endgame-140", "event.category", Keyword, func(f Field) error {
			if f.Name != "event_type" {
				return fmt.Errorf("alias resolved to %q", f.Name)
			}
			return nil
		}},
		{"endgame-140", "event.sequence", Long, nil},
		{"endgame-140", "serial_event_id", Long, nil},
		{"endgame-140", "source_address", IP, nil},
		{"endgame-140", "file_name", Keyword, func(f Field) error {
			if f.ESType != "text" || f.Exact != "file_name.keyword" {
				return fmt.Errorf("%+v", f)
			}
			return nil
		}},
		{"endgame-140", "@timestamp", Date, formatIs("strict_date_optional_time||epoch_millis")},
		{"extra", "optional_field_default_null", Keyword, func(f Field) error {
			if f.NullValue == nil || *f.NullValue != "NULL" {
				return fmt.Errorf("NullValue %v", f.NullValue)
			}
			return nil
		}},
		{"extra", "optional_field_mapping_only", Keyword, nil},
		{"extra", "version", Version, nil},
		{"extra", "date_tags", Date, nil},
		{"sample1", "@timestamp_pretty", Date, formatIs("dd-MM-yyyy")},
		{"sample1", "bool", Boolean, nil},
		{"sample1", "ip", IP, nil},
		{"sample2", "@timestamp_pretty", Date, formatIs("yyyy-MM-dd")},
		{"sample3", "host_ip", IP, nil},
		{"missing-events", "event.sequence", Long, nil},
	}
	for _, w := range wants {
		m := ms[w.index]
		if m == nil {
			t.Errorf("%s.mapping missing", w.index)
			continue
		}
		f, ok := m.Field(w.field)
		if !ok || f.Type != w.typ {
			t.Errorf("%s %s: %+v, %v; want type %v", w.index, w.field, f, ok, w.typ)
			continue
		}
		if w.check != nil {
			if err := w.check(f); err != nil {
				t.Errorf("%s %s: %v", w.index, w.field, err)
			}
		}
	}
	if target, _, ok := ms["endgame-140"].Resolve("event.category"); !ok || target != "event_type" {
		t.Errorf("Resolve(event.category) = %q, %v", target, ok)
	}
}

// TestSharedESData parses every typed value of the QA datasets with its
// mapping: Elasticsearch indexed them all, so each must be accepted.
func TestSharedESData(t *testing.T) {
	ms := esMappings(t)
	checked := 0
	for index, m := range ms {
		raw, err := os.ReadFile(filepath.Join(esDataDir, index+".data"))
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		var docs []map[string]any
		if err := json.Unmarshal(stripSlashComments(raw), &docs); err != nil {
			t.Fatalf("%s.data: %v", index, err)
		}
		for i, doc := range docs {
			flat := map[string][]string{}
			flatten("", doc, flat)
			for name, values := range flat {
				f, ok := m.Field(name)
				if !ok {
					continue
				}
				for _, v := range values {
					if err := checkValue(f, v); err != nil {
						t.Errorf("%s.data doc %d %s=%q: %v", index, i, name, v, err)
					}
					checked++
				}
			}
		}
	}
	if checked < 100 {
		t.Errorf("only %d values checked", checked)
	}
}

func checkValue(f Field, v string) error {
	switch f.Type {
	case Date:
		if _, ok := ParseDate(v, f.Formats); !ok {
			return fmt.Errorf("not a date for %v", f.Formats)
		}
	case IP:
		if _, ok := ParseIP(v); !ok {
			return fmt.Errorf("not an ip")
		}
	case Boolean:
		if _, ok := ParseBool(v); !ok {
			return fmt.Errorf("not a boolean")
		}
	}
	return nil
}

// flatten renders leaf values as Elasticsearch sees their text (numbers in
// their JSON form), keyed by dotted path; arrays contribute each element.
func flatten(prefix string, v any, out map[string][]string) {
	switch x := v.(type) {
	case map[string]any:
		for k, sub := range x {
			flatten(prefix+k+".", sub, out)
		}
	case []any:
		for _, e := range x {
			flatten(prefix, e, out)
		}
	case nil:
	default:
		name := strings.TrimSuffix(prefix, ".")
		out[name] = append(out[name], fmt.Sprint(x))
	}
}

// stripSlashComments drops "//" comment lines, which Elasticsearch's JSON
// parser tolerates in missing-events.data.
func stripSlashComments(b []byte) []byte {
	var out [][]byte
	for _, line := range bytes.Split(b, []byte("\n")) {
		if !bytes.HasPrefix(bytes.TrimSpace(line), []byte("//")) {
			out = append(out, line)
		}
	}
	return bytes.Join(out, []byte("\n"))
}
