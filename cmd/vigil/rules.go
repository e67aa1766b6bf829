package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vigilsec/vigil/pack"
	"github.com/vigilsec/vigil/rule"
	"github.com/vigilsec/vigil/ruletest"
)

func newRulesCmd(e *env) *cobra.Command {
	c := &cobra.Command{
		Use:   "rules",
		Short: "Validate, test and backfill detection rules (detection-rules TOML, Kibana NDJSON exports)",
		Long: `Work with Elastic detection rules offline: the TOML files of
elastic/detection-rules (and your own in the same format) and Kibana's NDJSON
rule exports. Directories are read recursively; _deprecated directories are
skipped and counted.`,
	}
	c.AddCommand(newRulesValidateCmd(e), newRulesTestCmd(e), newRulesRunCmd(e))
	return c
}

type rulesValidateFlags struct {
	format      string
	versionLock string
	warnings    bool
}

func newRulesValidateCmd(e *env) *cobra.Command {
	var f rulesValidateFlags
	c := &cobra.Command{
		Use:   "validate [flags] [PATH...]",
		Short: "Parse and compile rules, check their fields against ECS types",
		Long: `Parse every rule, compile its query, and check the fields it references
against the ECS and integration field types Vigil carries. Errors are printed
as file:line:col with the offending line and a caret. Rule types Vigil does
not run yet (query/KQL, threshold, new_terms, esql, machine_learning,
threat_match) are listed as unsupported, not as errors. Without PATH the
built-in rule pack is validated.

--format json prints
  {"files":N,"rules":N,"by_type":{...},"compiled":N,
   "unsupported":[{"path","rule_id","type"}],
   "errors":[{"path","rule_id","line","column","message"}], ...}

Exit status: 0 no errors, 1 some rule has errors, 2 usage error.`,
		Example: `  vigil rules validate detection-rules/rules detection-rules/rules_building_block
  vigil rules validate --format json --version-lock etc/version.lock.json my-rules/`,
		RunE: func(cmd *cobra.Command, args []string) error { return runRulesValidate(e, f, args) },
	}
	fl := c.Flags()
	fl.StringVar(&f.format, "format", "", "output: text or json (default text on a terminal, else json)")
	fl.StringVar(&f.versionLock, "version-lock", "", "detection-rules version lock `FILE` for rules without a version")
	fl.BoolVar(&f.warnings, "warnings", false, "also print warnings (fields unknown to the field-type table)")
	return c
}

// runnableTypes are the rule types hunt and rules run execute.
var runnableTypes = []string{"eql"}

// loadRules loads PATHs, or the built-in pack when there are none.
func loadRules(paths []string, versionLock string) (*rule.LoadResult, error) {
	return loadRulesOf(paths, versionLock, nil)
}

// loadRulesOf is loadRules decoding in full only the rules of types (all
// when nil); the others are read as far as their type, id and name.
func loadRulesOf(paths []string, versionLock string, types []string) (*rule.LoadResult, error) {
	opts := rule.LoadOptions{Types: types}
	if versionLock != "" {
		lock, err := rule.LoadVersionLock(versionLock)
		if err != nil {
			return nil, usageErrorf("--version-lock: %v", err)
		}
		opts.VersionLock = lock
	}
	if len(paths) == 0 {
		rules, errs := pack.Rules(opts)
		return &rule.LoadResult{Files: len(pack.Paths()), Rules: rules, Errors: errs}, nil
	}
	res, err := rule.Load(paths, opts)
	if err != nil {
		return nil, usageErrorf("%v", err)
	}
	return res, nil
}

func runRulesValidate(e *env, f rulesValidateFlags, paths []string) error {
	format := f.format
	if format == "" {
		format = "json"
		if _, tty := terminal(e.stdout); tty {
			format = "text"
		}
	}
	if format != "json" && format != "text" {
		return usageErrorf("--format must be text or json, not %q", format)
	}
	res, err := loadRules(paths, f.versionLock)
	if err != nil {
		return err
	}
	sum := rule.ValidateAll(res, rule.ECSMapping())
	if format == "json" {
		out, err := json.Marshal(sum)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "%s\n", out)
	} else {
		writeValidateText(e, sum, f.warnings)
	}
	if len(sum.Errors) > 0 {
		return &exitError{code: exitInput}
	}
	return nil
}

func writeValidateText(e *env, sum *rule.Summary, warnings bool) {
	for _, er := range sum.Errors {
		fmt.Fprintf(e.stdout, "%s\n", er.Detail())
	}
	if warnings {
		for _, w := range sum.Warnings {
			fmt.Fprintf(e.stdout, "warning: %s\n", w.Detail())
		}
	}
	types := make([]string, 0, len(sum.ByType))
	for t := range sum.ByType {
		types = append(types, t)
	}
	sort.Strings(types)
	var parts []string
	for _, t := range types {
		parts = append(parts, fmt.Sprintf("%s %d", t, sum.ByType[t]))
	}
	fmt.Fprintf(e.stdout, "%d files, %d rules (%s); %d compiled, %d unsupported (not runnable yet), %d deprecated skipped; %d errors, %d warnings\n",
		sum.Files, sum.Rules, strings.Join(parts, ", "), sum.Compiled, len(sum.Unsupported), sum.Deprecated, len(sum.Errors), len(sum.Warnings))
}

type rulesTestFlags struct {
	versionLock string
	verbose     bool
}

func newRulesTestCmd(e *env) *cobra.Command {
	var f rulesTestFlags
	c := &cobra.Command{
		Use:   "test [flags] [PATH...]",
		Short: "Run rule unit tests (*.test.toml) and show readable diffs",
		Long: `Run rule unit tests written in TOML next to the rules: each file names a rule
(by path relative to the test file, or by rule_id) and lists cases with
events (inline NDJSON or a file) and the expected alerts: a count and/or the
ids of the matching events. PATHs are test files or directories searched
recursively for *.test.toml; rules named by rule_id are looked up in the
same directories and in the built-in pack. Without PATH the built-in pack's
own tests run.

Exit status: 0 all cases passed, 1 some case failed, 2 usage error.`,
		Example: `  vigil rules test my-rules/
  vigil rules test -v samples/user-account-creation.test.toml`,
		RunE: func(cmd *cobra.Command, args []string) error { return runRulesTest(e, f, args) },
	}
	c.Flags().StringVar(&f.versionLock, "version-lock", "", "detection-rules version lock `FILE`")
	c.Flags().BoolVarP(&f.verbose, "verbose", "v", false, "list every case, not only failures")
	return c
}

func runRulesTest(e *env, f rulesTestFlags, paths []string) error {
	builtin, _ := pack.Rules(rule.LoadOptions{})
	byID := map[string]*rule.Rule{}
	byPath := map[string]*rule.Rule{} // the built-in pack's files
	for _, r := range builtin {
		byID[r.RuleID] = r
		byPath[strings.TrimPrefix(r.Source.Path, "builtin:")] = r
	}
	var suites []*ruletest.Suite
	var loadErrs []error
	if len(paths) == 0 {
		for _, p := range pack.TestPaths() {
			s, err := ruletest.Load(pack.FS(), p)
			if err != nil {
				loadErrs = append(loadErrs, err)
				continue
			}
			suites = append(suites, s)
		}
	} else {
		res, err := loadRules(paths, f.versionLock)
		if err != nil {
			return err
		}
		for _, r := range res.Rules {
			byID[r.RuleID] = r
		}
		for _, p := range paths {
			files := []string{p}
			if st, err := os.Stat(p); err == nil && st.IsDir() {
				found, err := ruletest.Find(os.DirFS(p), ".")
				if err != nil {
					return usageErrorf("%s: %v", p, err)
				}
				files = files[:0]
				for _, name := range found {
					files = append(files, filepath.Join(p, name))
				}
			}
			for _, name := range files {
				if !strings.HasSuffix(name, ruletest.Suffix) {
					continue
				}
				s, err := ruletest.LoadFile(name)
				if err != nil {
					loadErrs = append(loadErrs, err)
					continue
				}
				suites = append(suites, s)
			}
		}
	}
	for _, err := range loadErrs {
		fmt.Fprintf(e.stderr, "%v\n", err)
	}
	resolve := func(ref string) (*rule.Rule, error) {
		if len(paths) == 0 && byPath[ref] != nil {
			return byPath[ref], nil
		}
		if ruletest.IsRulePath(ref) {
			rules, errs := rule.LoadFile(ref, rule.LoadOptions{})
			if len(errs) > 0 {
				return nil, errs[0]
			}
			if len(rules) != 1 {
				return nil, fmt.Errorf("%s holds %d rules; name one by rule_id", ref, len(rules))
			}
			return rules[0], nil
		}
		if r := byID[ref]; r != nil {
			return r, nil
		}
		return nil, fmt.Errorf("no rule with rule_id %s among the loaded rules or the built-in pack", ref)
	}
	ok := len(loadErrs) == 0
	cases, passed := 0, 0
	for _, s := range suites {
		rep := ruletest.Run(s, resolve, ruletest.RunEQL)
		if err := rep.Write(e.stdout, f.verbose); err != nil {
			return err
		}
		ok = ok && rep.OK()
		passed += rep.Count(ruletest.Passed)
		cases += len(rep.Cases)
	}
	fmt.Fprintf(e.stdout, "%d test files, %d cases, %d passed, %d failed\n", len(suites), cases, passed, cases-passed)
	if !ok {
		return &exitError{code: exitInput}
	}
	return nil
}
