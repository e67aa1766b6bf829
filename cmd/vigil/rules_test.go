package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

type validateJSON struct {
	Files       int            `json:"files"`
	Rules       int            `json:"rules"`
	ByType      map[string]int `json:"by_type"`
	Compiled    int            `json:"compiled"`
	Unsupported []struct {
		Path, RuleID, Type string
	} `json:"unsupported"`
	Errors []struct {
		Path    string `json:"path"`
		RuleID  string `json:"rule_id"`
		Line    int    `json:"line"`
		Column  int    `json:"column"`
		Message string `json:"message"`
	} `json:"errors"`
}

func TestRulesValidateBuiltin(t *testing.T) {
	code, out, errs := runCLI(t, "rules", "validate", "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d, stderr %s", code, errs)
	}
	var s validateJSON
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if s.Rules != 1 || s.Compiled != 1 || s.ByType["eql"] != 1 || len(s.Errors) != 0 {
		t.Errorf("summary %+v", s)
	}
}

func TestRulesValidateReportsPositions(t *testing.T) {
	dir := t.TempDir()
	bad := `[metadata]
creation_date = "2026/01/01"
maturity = "production"
updated_date = "2026/01/01"

[rule]
author = ["me"]
description = "d"
name = "bad"
risk_score = 21
rule_id = "00000000-0000-0000-0000-000000000001"
severity = "low"
type = "eql"
query = '''
process where
  process.name = "x"
'''
`
	kql := strings.Replace(strings.Replace(bad, `type = "eql"`, `type = "query"`, 1), "000000000001", "000000000002", 1)
	kql = strings.Replace(kql, "query = '''", "language = \"kuery\"\nquery = '''", 1)
	if err := os.WriteFile(filepath.Join(dir, "bad.toml"), []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "kql.toml"), []byte(kql), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, _ := runCLI(t, "rules", "validate", "--format", "json", dir)
	if code != 1 {
		t.Fatalf("exit %d, want 1 (errors)", code)
	}
	var s validateJSON
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatal(err)
	}
	if len(s.Errors) != 1 || s.Errors[0].Line != 16 || s.Errors[0].Column != 16 || !strings.Contains(s.Errors[0].Message, "==") {
		t.Errorf("errors %+v, want one at 16:16 about ==", s.Errors)
	}
	if len(s.Unsupported) != 1 || s.Unsupported[0].Type != "query" {
		t.Errorf("unsupported %+v", s.Unsupported)
	}
	code, out, _ = runCLI(t, "rules", "validate", "--format", "text", dir)
	if code != 1 || !strings.Contains(out, "bad.toml:16:16:") || !strings.Contains(out, "^") {
		t.Errorf("text output (exit %d):\n%s", code, out)
	}
}

func TestRulesValidatePrebuiltCorpus(t *testing.T) {
	root := "../../../shared/rules/detection-rules"
	if _, err := os.Stat(root); err != nil {
		t.Skipf("detection-rules corpus not found at %s (../shared is absent): skipping", root)
	}
	code, out, errs := runCLI(t, "rules", "validate", "--format", "json", root+"/rules", root+"/rules_building_block")
	var s validateJSON
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatalf("%v (stderr %s)", err, errs)
	}
	if code != 0 || s.Compiled != 1024 || s.ByType["eql"] != 1024 || len(s.Errors) != 0 {
		t.Errorf("exit %d, compiled %d, eql %d, errors %d: %+v", code, s.Compiled, s.ByType["eql"], len(s.Errors), s.Errors)
	}
}

func TestRulesTest(t *testing.T) {
	code, out, errs := runCLI(t, "rules", "test")
	if code != 0 || !strings.Contains(out, "5 passed, 0 failed") {
		t.Fatalf("built-in tests: exit %d\n%s%s", code, out, errs)
	}
	code, out, _ = runCLI(t, "rules", "test", "../../samples")
	if code != 0 || !strings.Contains(out, "0 failed") {
		t.Fatalf("samples: exit %d\n%s", code, out)
	}
	dir := t.TempDir()
	failing := `rule = "1aa9181a-492b-4c01-8b16-fa0735786b2b"
[[case]]
name = "expects an alert that does not come"
expect_alerts = 1
events = '''
{"event":{"category":["process"],"type":["start"]},"host":{"os":{"type":"windows"}},"process":{"name":"net.exe","args":["net","user","x"]}}
'''
`
	if err := os.WriteFile(filepath.Join(dir, "f.test.toml"), []byte(failing), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, _ = runCLI(t, "rules", "test", dir)
	if code != 1 || !strings.Contains(out, "FAIL") || !strings.Contains(out, "1 failed") {
		t.Errorf("failing test: exit %d\n%s", code, out)
	}
}
