package rule

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// Loading only some types decodes the others as far as type, id and name,
// and the rules of the wanted types exactly as a full load does.
func TestLoadTypes(t *testing.T) {
	root := filepath.Join("..", "..", "shared", "rules", "detection-rules")
	if _, err := os.Stat(root); err != nil {
		t.Skipf("detection-rules corpus not found at %s (../shared is absent): skipping", root)
	}
	paths := []string{filepath.Join(root, "rules"), filepath.Join(root, "rules_building_block")}
	full, err := Load(paths, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	part, err := Load(paths, LoadOptions{Types: []string{"eql"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(full.Rules) != len(part.Rules) || len(full.Errors) != len(part.Errors) || full.Files != part.Files {
		t.Fatalf("full load: %d rules, %d errors, %d files; eql only: %d, %d, %d",
			len(full.Rules), len(full.Errors), full.Files, len(part.Rules), len(part.Errors), part.Files)
	}
	partial := 0
	for i, f := range full.Rules {
		p := part.Rules[i]
		if f.RuleID != p.RuleID || f.Type != p.Type || f.Name != p.Name || f.Language != p.Language || f.Source.Path != p.Source.Path {
			t.Fatalf("rule %d: full %s %s %q, eql only %s %s %q", i, f.RuleID, f.Type, f.Name, p.RuleID, p.Type, p.Name)
		}
		if f.Type != "eql" {
			if !p.Partial {
				t.Errorf("%s (%s): decoded in full", p.Source.Path, p.Type)
			}
			partial++
			continue
		}
		fj, _ := json.Marshal(f)
		pj, _ := json.Marshal(p)
		if p.Partial || string(fj) != string(pj) || f.Source != p.Source {
			t.Fatalf("%s: EQL rule differs when loaded with Types", f.Source.Path)
		}
	}
	t.Logf("%d rules, %d of other types read as stubs", len(part.Rules), partial)
	if partial < 1000 {
		t.Errorf("only %d stubs", partial)
	}
}

func TestPartialTOMLFallsBack(t *testing.T) {
	for _, c := range []struct {
		name, text string
		partial    bool
	}{
		{"plain", "[rule]\nrule_id = \"x\"\nname = \"X\"\ntype = \"query\"\nquery = 'a:b'\n", true},
		{"wanted type", "[rule]\nrule_id = \"x\"\nname = \"X\"\ntype = \"eql\"\nquery = 'any where true'\n", false},
		{"escaped name", "[rule]\nrule_id = \"x\"\nname = \"X \\u0041\"\ntype = \"query\"\n", false},
		{"literal strings", "[rule]\nrule_id = 'x'\nname = 'X'\ntype = 'esql'\n", true},
		{"no rule_id", "[rule]\nname = \"X\"\ntype = \"query\"\n", false},
		{"multi-line type", "[rule]\nrule_id = \"x\"\nname = \"X\"\ntype = \"\"\"query\"\"\"\n", false},
	} {
		rules, errs := LoadBytes(c.name+".toml", []byte(c.text), LoadOptions{Types: []string{"eql"}})
		if len(rules) != 1 {
			// Fallbacks decode in full and may report what is missing.
			if c.partial {
				t.Errorf("%s: %d rules, errors %v", c.name, len(rules), errs)
			}
			continue
		}
		if rules[0].Partial != c.partial {
			t.Errorf("%s: partial %v, want %v", c.name, rules[0].Partial, c.partial)
		}
	}
}
