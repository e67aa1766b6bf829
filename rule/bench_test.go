package rule

import (
	"path/filepath"
	"testing"
)

// BenchmarkLoadCorpus loads Elastic's prebuilt rules (../shared) as vigil
// hunt does (EQL rules in full, the others as far as type, id and name:
// "eql") and as vigil rules validate does ("all").
//
//	go test ./rule -run '^$' -bench LoadCorpus -benchmem
func BenchmarkLoadCorpus(b *testing.B) {
	needShared(b, sharedRules)
	paths := []string{filepath.Join(sharedRules, "rules"), filepath.Join(sharedRules, "rules_building_block")}
	for _, c := range []struct {
		name  string
		types []string
	}{{"eql", []string{"eql"}}, {"all", nil}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				res, err := Load(paths, LoadOptions{Types: c.types})
				if err != nil || len(res.Rules) != 2068 || len(res.Errors) != 0 {
					b.Fatalf("%v: %d rules, %d errors", err, len(res.Rules), len(res.Errors))
				}
			}
		})
	}
}
