package rule

import (
	"bytes"
	"strings"
	"testing"
)

// checkErrors checks that errors are positioned inside the file.
func checkErrors(t *testing.T, data []byte, errs []*LoadError) {
	t.Helper()
	lines := bytes.Count(data, []byte("\n")) + 1
	for _, e := range errs {
		if e == nil || e.Msg == "" {
			t.Fatalf("empty error %#v", e)
		}
		if e.Line < 0 || e.Line > lines || e.Col < 0 {
			t.Fatalf("error outside the file (%d lines): %s", lines, e.Error())
		}
	}
}

// checkRules validates the rules (query positions must fall inside the
// file) and checks that exporting and re-importing keeps them.
func checkRules(t *testing.T, data []byte, rules []*Rule) {
	t.Helper()
	types := ECSMapping()
	for _, r := range rules {
		if r.RuleID == "" || r.Type == "" {
			t.Fatalf("rule without rule_id or type: %+v", r)
		}
		if r.MaxSignals == 0 && !r.has("max_signals") || r.Version == 0 && !r.has("version") {
			t.Fatalf("defaults not applied: %+v", r)
		}
		errs, warns := Validate(r, types)
		checkErrors(t, data, errs)
		checkErrors(t, data, warns)
	}
	var out bytes.Buffer
	if err := ExportNDJSON(&out, rules); err != nil {
		t.Fatalf("export: %v", err)
	}
	back, errs := loadNDJSON("export.ndjson", out.Bytes(), LoadOptions{})
	if len(errs) > 0 || len(back) != len(rules) {
		t.Fatalf("re-import of the export: %d rules of %d, errors %v\n%s", len(back), len(rules), errs, out.Bytes())
	}
	for i := range back {
		a, b := rules[i], back[i]
		if a.RuleID != b.RuleID || a.Query != b.Query || a.Name != b.Name || a.Version != b.Version || a.MaxSignals != b.MaxSignals {
			t.Fatalf("rule %d changed on re-import:\n%+v\n%+v", i, a, b)
		}
	}
	var again bytes.Buffer
	if err := ExportNDJSON(&again, back); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), again.Bytes()) {
		t.Fatalf("export of the re-import differs:\n%s\n%s", out.Bytes(), again.Bytes())
	}
}

func FuzzLoadTOML(f *testing.F) {
	f.Add([]byte(minimalTOML))
	f.Add([]byte(strings.ReplaceAll(minimalTOML, "\n", "\r\n")))
	f.Fuzz(func(t *testing.T, data []byte) {
		rules, errs := loadTOML("fuzz.toml", string(data), LoadOptions{VersionLock: map[string]int{"r": 2}})
		checkErrors(t, data, errs)
		if len(rules) > 1 || len(rules) == 1 && len(errs) > 0 {
			t.Fatalf("%d rules with %d errors", len(rules), len(errs))
		}
		checkRules(t, data, rules)
	})
}

func FuzzLoadNDJSON(f *testing.F) {
	f.Add([]byte(kibanaSample))
	f.Fuzz(func(t *testing.T, data []byte) {
		rules, errs := loadNDJSON("fuzz.ndjson", data, LoadOptions{VersionLock: map[string]int{"r": 2}})
		checkErrors(t, data, errs)
		checkRules(t, data, rules)
	})
}
