package rule

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// sharedRules is Elastic's detection-rules snapshot beside the repository.
var sharedRules = filepath.Join("..", "..", "shared", "rules", "detection-rules")

func needShared(t testing.TB, path string) {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		t.Skipf("%s not found (../shared is absent): skipping", path)
	}
}

// Every active prebuilt rule loads, and every EQL rule compiles and passes
// the field-type checks with no error.
func TestCorpusValidate(t *testing.T) {
	needShared(t, sharedRules)
	lock, err := LoadVersionLock(filepath.Join(sharedRules, "etc", "version.lock.json"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := Load([]string{filepath.Join(sharedRules, "rules"), filepath.Join(sharedRules, "rules_building_block")}, LoadOptions{VersionLock: lock})
	if err != nil {
		t.Fatal(err)
	}
	s := ValidateAll(res, ECSMapping())
	for _, e := range s.Errors {
		t.Errorf("%s", e.Detail())
	}
	if s.ByType["eql"] != 1024 || s.Compiled != 1024 {
		t.Errorf("eql rules %d, compiled %d; want 1024, 1024", s.ByType["eql"], s.Compiled)
	}
	// 2,192 rule files: 124 in rules/_deprecated, 2,068 active (two active
	// rules have "_deprecated" in their file name).
	if s.Files != 2068 || s.Rules != 2068 || s.Deprecated != 124 {
		t.Errorf("files %d, rules %d, deprecated %d; want 2068, 2068, 124", s.Files, s.Rules, s.Deprecated)
	}
	if len(s.Unsupported) != s.Rules-1024 {
		t.Errorf("%d unsupported rules, want %d", len(s.Unsupported), s.Rules-1024)
	}
	warnings := s.Warnings
	s.Warnings = nil
	unsupported := s.Unsupported
	s.Unsupported = unsupported[:min(3, len(unsupported))]
	out, _ := json.MarshalIndent(s, "", "  ")
	t.Logf("summary (unsupported cut to 3 of %d, %d warnings left out):\n%s", len(unsupported), len(warnings), out)
	for i, w := range warnings {
		if i < 10 {
			t.Logf("warning: %s", w.Error())
		}
	}
	if len(warnings) > 150 {
		t.Errorf("%d unknown-field warnings: the field table lacks more than expected", len(warnings))
	}
}
