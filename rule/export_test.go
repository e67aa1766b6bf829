package rule

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// compareNDJSON checks that two exports hold the same JSON objects, line by
// line and key by key.
func compareNDJSON(t *testing.T, want, got []byte) {
	t.Helper()
	wl := strings.Split(strings.TrimSpace(string(want)), "\n")
	gl := strings.Split(strings.TrimSpace(string(got)), "\n")
	if len(wl) != len(gl) {
		t.Fatalf("%d lines exported, want %d:\n%s", len(gl), len(wl), got)
	}
	for i := range wl {
		var w, g map[string]any
		if err := json.Unmarshal([]byte(wl[i]), &w); err != nil {
			t.Fatalf("want line %d: %v", i+1, err)
		}
		if err := json.Unmarshal([]byte(gl[i]), &g); err != nil {
			t.Fatalf("exported line %d: %v", i+1, err)
		}
		for k, wv := range w {
			gv, ok := g[k]
			if !ok {
				t.Errorf("line %d: key %q missing", i+1, k)
			} else if !reflect.DeepEqual(wv, gv) {
				t.Errorf("line %d: key %q: got %v, want %v", i+1, k, gv, wv)
			}
		}
		for k := range g {
			if _, ok := w[k]; !ok {
				t.Errorf("line %d: extra key %q", i+1, k)
			}
		}
	}
}

// Importing Kibana's export and exporting it again gives the same objects,
// key by key (including keys the model does not name, the exception lists,
// items and connectors, and the summary line); here even byte for byte.
func TestKibanaRoundTrip(t *testing.T) {
	path := filepath.Join(sharedRules, "etc", "custom-consolidated-rules.ndjson")
	needShared(t, path)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rules, errs := LoadFile(path, LoadOptions{})
	for _, e := range errs {
		t.Error(e.Detail())
	}
	if len(rules) != 9 {
		t.Fatalf("%d rules, want 9", len(rules))
	}
	var out bytes.Buffer
	if err := ExportNDJSON(&out, rules); err != nil {
		t.Fatal(err)
	}
	compareNDJSON(t, data, out.Bytes())
	if !bytes.Equal(bytes.TrimSpace(data), bytes.TrimSpace(out.Bytes())) {
		t.Error("the export is not byte-identical to the import")
	}
	types := map[string]int{}
	for _, r := range rules {
		types[r.Type]++
	}
	if types["eql"] != 1 || types["query"] != 3 {
		t.Errorf("types %v", types)
	}
}

const kibanaSample = `{"id":"s1","rule_id":"r-1","name":"One <&>","type":"eql","language":"eql","query":"process where process.name == \"a\\\\b.exe\"\n","severity":"low","risk_score":21,"description":"d","version":3,"enabled":false,"tags":[],"false_positives":[],"custom_key":{"nested":[1,2.50,"x"]},"threat":[{"framework":"MITRE ATT&CK","tactic":{"id":"TA0002","name":"Execution","reference":"r"},"technique":[]}],"exceptions_list":[{"id":"e1","list_id":"L1","type":"detection","namespace_type":"single"}],"actions":[{"id":"c1","group":"default"}]}
{"id":"s2","rule_id":"r-2","name":"Two","type":"query","language":"kuery","query":"a:b","severity":"high","risk_score":73,"description":"d","interval":"1h","from":"now-70m","max_signals":1000}
{"id":"l1","list_id":"L1","type":"detection","name":"List","namespace_type":"single"}
{"id":"i1","item_id":"I1","list_id":"L1","type":"simple","name":"Item","entries":[]}
{"id":"c1","type":"action","attributes":{"name":"conn"}}
{"exported_count":5,"exported_rules_count":2,"missing_rules":[],"missing_rules_count":0,"exported_exception_list_count":1,"exported_exception_list_item_count":1,"missing_exception_list_item_count":0,"missing_exception_list_items":[],"missing_exception_lists":[],"missing_exception_lists_count":0,"exported_action_connector_count":1,"missing_action_connection_count":0,"missing_action_connections":[],"excluded_action_connection_count":0,"excluded_action_connections":[]}
`

func TestNDJSONRoundTrip(t *testing.T) {
	dir := writeFiles(t, map[string]string{"e.ndjson": kibanaSample})
	rules, errs := LoadFile(filepath.Join(dir, "e.ndjson"), LoadOptions{VersionLock: map[string]int{"r-2": 8}})
	for _, e := range errs {
		t.Fatal(e.Detail())
	}
	r1, r2 := rules[0], rules[1]
	if r1.Version != 3 || *r1.Enabled || r1.Query != "process where process.name == \"a\\\\b.exe\"\n" || len(r1.Related) != 3 {
		t.Errorf("r1: %+v", r1)
	}
	if r2.Version != 8 || r2.Interval != "1h" || r2.To != "now" || r2.MaxSignals != 1000 {
		t.Errorf("r2: version %d interval %s to %s", r2.Version, r2.Interval, r2.To)
	}
	var out bytes.Buffer
	if err := ExportNDJSON(&out, rules); err != nil {
		t.Fatal(err)
	}
	// r2 had no version: the lock's version is exported; the defaulted
	// "to" is not.
	want := strings.Replace(kibanaSample, `"max_signals":1000}`, `"max_signals":1000,"version":8}`, 1)
	if out.String() != want {
		t.Errorf("export:\n%s\nwant:\n%s", out.String(), want)
	}

	// A changed value is exported, the rest stays as read.
	r1.Severity = "critical"
	r1.Tags = append(r1.Tags, "new")
	r1.Extra["custom_key"] = json.RawMessage(`true`)
	out.Reset()
	if err := ExportNDJSON(&out, rules[:1]); err != nil {
		t.Fatal(err)
	}
	line := strings.SplitN(out.String(), "\n", 2)[0]
	for _, s := range []string{`"severity":"critical"`, `"tags":["new"]`, `"custom_key":true`, `"name":"One <&>"`, `"false_positives":[]`, `"technique":[]`} {
		if !strings.Contains(line, s) {
			t.Errorf("export lacks %s: %s", s, line)
		}
	}
	if !strings.Contains(out.String(), `"exported_count":4,"exported_rules_count":1`) {
		t.Errorf("summary: %s", out.String())
	}
}

// A TOML rule exports to a Kibana object that loads back to the same rule.
func TestExportTOML(t *testing.T) {
	rules, errs := LoadFile(filepath.Join("testdata", "full.toml"), LoadOptions{})
	if len(errs) > 0 {
		t.Fatal(errs[0].Detail())
	}
	var out bytes.Buffer
	if err := ExportNDJSON(&out, rules); err != nil {
		t.Fatal(err)
	}
	dir := writeFiles(t, map[string]string{"x.ndjson": out.String()})
	back, errs := LoadFile(filepath.Join(dir, "x.ndjson"), LoadOptions{})
	if len(errs) > 0 || len(back) != 1 {
		t.Fatalf("reload: %v", errs)
	}
	a, b := *rules[0], *back[0]
	for _, r := range []*Rule{&a, &b} {
		r.Meta, r.Transform, r.Source, r.orig, r.defaulted, r.keys, r.keyPrefix, r.query = nil, nil, Source{}, nil, nil, keySet{}, "", nil
		r.Filters = json.RawMessage(jsonOf(t, r.Filters))
		r.AlertSuppression = json.RawMessage(jsonOf(t, r.AlertSuppression))
		r.ExceptionsList = json.RawMessage(jsonOf(t, r.ExceptionsList))
	}
	if !reflect.DeepEqual(a, b) {
		t.Errorf("reloaded rule differs:\n%+v\n%+v", a, b)
	}
	if !strings.Contains(out.String(), `"exported_rules_count":1`) || !strings.Contains(out.String(), `"missing_exception_lists_count":1`) {
		t.Errorf("summary: %s", out.String())
	}
}
