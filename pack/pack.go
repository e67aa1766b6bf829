// Package pack is Vigil's built-in rule pack: detection rules in Elastic's
// detection-rules TOML format, embedded in the binary, with their rule unit
// tests (see package ruletest) beside them.
//
// Layout of pack/rules:
//
//	<name>.toml       one rule (a [metadata] and a [rule] table, as in
//	                  elastic/detection-rules)
//	<name>.test.toml  its unit tests (ruletest format); the events are
//	                  inline so that the tests run from the embedded files
//
// FS is rooted at pack/rules, so the paths Paths and TestPaths return are
// plain file names ("persistence_user_account_creation.toml").
package pack

import (
	"embed"
	"io/fs"
	"sort"
	"strings"

	"github.com/vigilsec/vigil/rule"
)

//go:embed rules/*.toml
var files embed.FS

// TestSuffix ends the name of a rule unit test file; such files are not
// rules.
const TestSuffix = ".test.toml"

// FS returns the embedded pack: rules and their unit tests, rooted at the
// rules directory.
func FS() fs.FS {
	sub, err := fs.Sub(files, "rules")
	if err != nil { // cannot happen: "rules" is a valid, embedded directory
		panic(err)
	}
	return sub
}

// Paths returns the paths in FS of the rule files (*.toml but not
// *.test.toml), sorted.
func Paths() []string { return list(false) }

// TestPaths returns the paths in FS of the rule unit test files
// (*.test.toml), sorted.
func TestPaths() []string { return list(true) }

func list(tests bool) []string {
	entries, err := fs.ReadDir(FS(), ".")
	if err != nil { // cannot happen for an embed.FS directory
		panic(err)
	}
	var out []string
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".toml") {
			continue
		}
		if strings.HasSuffix(name, TestSuffix) == tests {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// Rules loads the built-in rules. Their paths in errors read
// "builtin:<file>".
func Rules(opts rule.LoadOptions) ([]*rule.Rule, []*rule.LoadError) {
	var rules []*rule.Rule
	var errs []*rule.LoadError
	for _, p := range Paths() {
		data, err := fs.ReadFile(FS(), p)
		if err != nil {
			errs = append(errs, &rule.LoadError{Path: "builtin:" + p, Msg: err.Error()})
			continue
		}
		rs, es := rule.LoadBytes("builtin:"+p, data, opts)
		rules = append(rules, rs...)
		errs = append(errs, es...)
	}
	return rules, errs
}
