package pack_test

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/vigilsec/vigil/pack"
	"github.com/vigilsec/vigil/rule"
	"github.com/vigilsec/vigil/ruletest"
)

const userAccountCreation = "persistence_user_account_creation.toml"

func TestFS(t *testing.T) {
	if got, want := pack.Paths(), []string{userAccountCreation}; !reflect.DeepEqual(got, want) {
		t.Errorf("Paths() = %v, want %v", got, want)
	}
	if got, want := pack.TestPaths(), []string{"persistence_user_account_creation.test.toml"}; !reflect.DeepEqual(got, want) {
		t.Errorf("TestPaths() = %v, want %v", got, want)
	}
	tests := map[string]bool{}
	for _, p := range pack.TestPaths() {
		tests[p] = true
	}
	for _, p := range append(pack.Paths(), pack.TestPaths()...) {
		embedded, err := fs.ReadFile(pack.FS(), p)
		if err != nil {
			t.Fatal(err)
		}
		onDisk, err := os.ReadFile(filepath.Join("rules", p))
		if err != nil || !bytes.Equal(embedded, onDisk) {
			t.Errorf("%s: embedded copy differs from rules/%s (%v)", p, p, err)
		}
	}
	for _, p := range pack.Paths() {
		if !tests[strings.TrimSuffix(p, ".toml")+pack.TestSuffix] {
			t.Errorf("%s has no unit tests (%s)", p, strings.TrimSuffix(p, ".toml")+pack.TestSuffix)
		}
	}
}

// loadPack loads every rule of the pack (from rules/, which TestFS checks
// is what is embedded), by path in pack.FS and by rule_id.
func loadPack(t *testing.T) map[string]*rule.Rule {
	t.Helper()
	byRef := map[string]*rule.Rule{}
	for _, p := range pack.Paths() {
		rules, errs := rule.LoadFile(filepath.Join("rules", p), rule.LoadOptions{})
		for _, e := range errs {
			t.Error(e.Detail())
		}
		if len(rules) != 1 {
			t.Fatalf("%s: %d rules", p, len(rules))
		}
		r := rules[0]
		if byRef[r.RuleID] != nil {
			t.Errorf("%s: rule_id %s used twice", p, r.RuleID)
		}
		byRef[p], byRef[r.RuleID] = r, r
	}
	return byRef
}

func TestUserAccountCreationRule(t *testing.T) {
	r := loadPack(t)[userAccountCreation]
	if r == nil {
		t.Fatal("rule not loaded")
	}
	check := func(field string, got, want any) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %#v, want %#v", field, got, want)
		}
	}
	check("name", r.Name, "User Account Creation")
	check("description", r.Description, "Identifies attempts to create new users. This is sometimes done by attackers to increase access or establish persistence on a system or domain.")
	check("rule_id", r.RuleID, "1aa9181a-492b-4c01-8b16-fa0735786b2b")
	check("type", r.Type, "eql")
	check("language", r.Language, "eql")
	check("severity", r.Severity, "low")
	check("risk_score", r.RiskScore, 21)
	check("from", r.From, "now-9m")
	check("interval", r.Interval, "5m")
	check("max_signals", r.MaxSignals, 100)
	check("version", r.Version, 317)
	check("timestamp_override", r.TimestampOverride, "event.ingested")
	check("author", r.Author, []string{"Elastic"})
	check("license", r.License, "Elastic License v2")
	check("index", r.Index, []string{"endgame-*", "logs-crowdstrike.fdr*", "logs-endpoint.events.process-*",
		"logs-m365_defender.event-*", "logs-sentinel_one_cloud_funnel.*", "logs-system.security*",
		"logs-windows.forwarded*", "logs-windows.sysmon_operational-*", "winlogbeat-*"})
	check("tags", r.Tags, []string{"Domain: Endpoint", "OS: Windows", "Use Case: Threat Detection",
		"Tactic: Persistence", "Resources: Investigation Guide", "Data Source: Elastic Endgame",
		"Data Source: Elastic Defend", "Data Source: Windows Security Event Logs",
		"Data Source: Microsoft Defender XDR", "Data Source: Sysmon", "Data Source: SentinelOne",
		"Data Source: Crowdstrike"})
	check("query", r.Query, `process where host.os.type == "windows" and event.type == "start" and
  (process.name : ("net.exe", "net1.exe") and not process.parent.name : "net.exe") and
  (process.args : "user" and process.args : ("/ad", "/add"))
`)
	ref := func(id, name, url string) rule.ThreatRef { return rule.ThreatRef{ID: id, Name: name, Reference: url} }
	check("threat", r.Threat, []rule.Threat{{
		Framework: "MITRE ATT&CK",
		Tactic:    ref("TA0003", "Persistence", "https://attack.mitre.org/tactics/TA0003/"),
		Technique: []rule.Technique{{
			ThreatRef: ref("T1136", "Create Account", "https://attack.mitre.org/techniques/T1136/"),
			Subtechnique: []rule.ThreatRef{
				ref("T1136.001", "Local Account", "https://attack.mitre.org/techniques/T1136/001/"),
				ref("T1136.002", "Domain Account", "https://attack.mitre.org/techniques/T1136/002/"),
			},
		}},
	}})
	for _, s := range []string{"## Triage and analysis", "### False positives", "### Response and remediation"} {
		if !strings.Contains(r.Note, s) {
			t.Errorf("note lacks %q", s)
		}
	}
	if !strings.HasPrefix(r.Setup, "## Setup") {
		t.Errorf("setup = %.40q...", r.Setup)
	}
	if r.Meta == nil {
		t.Fatal("no [metadata]")
	}
	check("creation_date", r.Meta.CreationDate, "2020/02/18")
	check("maturity", r.Meta.Maturity, "production")
	check("integration", r.Meta.Integration, []string{"endpoint", "windows", "system", "m365_defender", "sentinel_one_cloud_funnel", "crowdstrike"})

	errs, warnings := rule.Validate(r, rule.ECSMapping())
	for _, e := range append(errs, warnings...) {
		t.Error(e.Detail())
	}
}

func runSuite(t *testing.T, s *ruletest.Suite, rules map[string]*rule.Rule) {
	t.Helper()
	rep := ruletest.Run(s, func(ref string) (*rule.Rule, error) {
		if r := rules[ref]; r != nil {
			return r, nil
		}
		return nil, fmt.Errorf("no rule %s in the pack", ref)
	}, ruletest.RunEQL)
	if !rep.OK() || rep.Count(ruletest.Passed) == 0 {
		t.Errorf("\n%s", rep)
	}
	if testing.Verbose() {
		var b strings.Builder
		rep.Write(&b, true)
		t.Logf("\n%s", b.String())
	}
}

// TestRuleUnitTests runs the pack's *.test.toml files from the embedded
// pack.
func TestRuleUnitTests(t *testing.T) {
	rules := loadPack(t)
	for _, p := range pack.TestPaths() {
		s, err := ruletest.Load(pack.FS(), p)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		runSuite(t, s, rules)
	}
}

// TestSampleStories runs the rule over the sample data in samples/.
func TestSampleStories(t *testing.T) {
	s, err := ruletest.LoadFile(filepath.Join("..", "samples", "user-account-creation.test.toml"))
	if err != nil {
		t.Fatal(err)
	}
	runSuite(t, s, loadPack(t))
}

func TestRulesFromEmbedded(t *testing.T) {
	rules, errs := pack.Rules(rule.LoadOptions{})
	if len(errs) > 0 {
		t.Fatalf("errors: %v", errs)
	}
	if len(rules) != len(pack.Paths()) || rules[0].RuleID != "1aa9181a-492b-4c01-8b16-fa0735786b2b" || rules[0].Version != 317 {
		t.Fatalf("got %d rules, first %+v", len(rules), rules[0])
	}
}
