package eql

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
)

// Every EQL query of Elastic's prebuilt rules (../shared/rules) compiles:
// the dialect Vigil accepts is the one the rules are written in.
func TestPrebuiltRuleQueriesCompile(t *testing.T) {
	root := "../../shared/rules/detection-rules"
	if _, err := os.Stat(root); err != nil {
		t.Skipf("detection-rules corpus not found at %s (../shared is absent): skipping", root)
	}
	n := 0
	for _, dir := range []string{"rules", "rules_building_block"} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(p, ".toml") || strings.Contains(p, "_deprecated") {
				return err
			}
			var doc struct {
				Rule struct {
					Type  string `toml:"type"`
					Query string `toml:"query"`
				} `toml:"rule"`
			}
			if _, err := toml.DecodeFile(p, &doc); err != nil {
				t.Errorf("%s: %v", p, err)
				return nil
			}
			if doc.Rule.Type != "eql" {
				return nil
			}
			n++
			if _, err := ParseAndCompile(doc.Rule.Query, Options{Size: NoLimit}); err != nil {
				if e, ok := err.(*Error); ok {
					t.Errorf("%s: %s", p, e.Detail())
				} else {
					t.Errorf("%s: %v", p, err)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if n < 1000 {
		t.Errorf("only %d EQL rules found; expected the ~1,024 of the corpus", n)
	}
	t.Logf("%d prebuilt EQL rule queries compiled", n)
}
