package rule

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// writeFiles creates files (path -> content) under a temporary directory.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func loadOne(t *testing.T, name, content string, opts LoadOptions) (*Rule, []*LoadError) {
	t.Helper()
	dir := writeFiles(t, map[string]string{name: content})
	rules, errs := LoadFile(filepath.Join(dir, name), opts)
	if len(rules) > 1 {
		t.Fatalf("%d rules", len(rules))
	}
	if len(rules) == 0 {
		return nil, errs
	}
	return rules[0], errs
}

func TestLoadTOMLAllKeys(t *testing.T) {
	rules, errs := LoadFile(filepath.Join("testdata", "full.toml"), LoadOptions{})
	for _, e := range errs {
		t.Fatal(e.Detail())
	}
	r := rules[0]
	tru := true
	check := []struct {
		name      string
		got, want any
	}{
		{"rule_id", r.RuleID, "11111111-2222-3333-4444-555555555555"},
		{"name", r.Name, "Full Test Rule"},
		{"version", r.Version, 7},
		{"enabled", r.Enabled, &tru},
		{"type", r.Type, "eql"},
		{"language", r.Language, "eql"},
		{"query", r.Query, "process where event.type == \"start\" and\n  process.name : (\"cmd.exe\", \"powershell.exe\") and\n  process.args : \"/c\"\n"},
		{"index", r.Index, []string{"logs-endpoint.events.process-*", "winlogbeat-*"}},
		{"event_category_override", r.EventCategoryOverride, "event.type"},
		{"tiebreaker_field", r.TiebreakerField, "event.sequence"},
		{"timestamp_field", r.TimestampField, "event.created"},
		{"interval", r.Interval, "10m"},
		{"from", r.From, "now-9m"},
		{"to", r.To, "now+1m"},
		{"max_signals", r.MaxSignals, 1000},
		{"timestamp_override", r.TimestampOverride, "event.ingested"},
		{"description", r.Description, "Detects a test process.\n"},
		{"severity", r.Severity, "medium"},
		{"risk_score", r.RiskScore, 47},
		{"severity_mapping", r.SeverityMapping, []SeverityMapping{
			{Field: "event.severity", Operator: "equals", Value: "73", Severity: "high"},
			{Field: "event.severity", Operator: "equals", Value: "99", Severity: "critical"}}},
		{"risk_score_mapping", r.RiskScoreMapping, []RiskScoreMapping{{Field: "event.risk_score", Operator: "equals", Value: ""}}},
		{"rule_name_override", r.RuleNameOverride, "process.name"},
		{"building_block_type", r.BuildingBlockType, "default"},
		{"building block", r.IsBuildingBlock(), true},
		{"tags", r.Tags, []string{"Domain: Endpoint", "OS: Windows"}},
		{"references", r.References, []string{"https://example.com/a", "https://example.com/b"}},
		{"false_positives", r.FalsePositives, []string{"Admins"}},
		{"author", r.Author, []string{"Vigil", "Tester"}},
		{"license", r.License, "Elastic License v2"},
		{"note", r.Note, "## Triage\n\nLook at the process.\n"},
		{"setup", r.Setup, "Install Elastic Defend."},
		{"investigation_fields", r.InvestigationFields, &InvestigationFields{FieldNames: []string{"process.name", "user.name"}}},
		{"threat", r.Threat, []Threat{
			{Framework: "MITRE ATT&CK",
				Tactic: ThreatRef{ID: "TA0002", Name: "Execution", Reference: "https://attack.mitre.org/tactics/TA0002/"},
				Technique: []Technique{{
					ThreatRef: ThreatRef{ID: "T1059", Name: "Command and Scripting Interpreter", Reference: "https://attack.mitre.org/techniques/T1059/"},
					Subtechnique: []ThreatRef{
						{ID: "T1059.001", Name: "PowerShell", Reference: "https://attack.mitre.org/techniques/T1059/001/"},
						{ID: "T1059.003", Name: "Windows Command Shell", Reference: "https://attack.mitre.org/techniques/T1059/003/"},
					}}}},
			{Framework: "MITRE ATT&CK", Tactic: ThreatRef{ID: "TA0005", Name: "Defense Evasion", Reference: "https://attack.mitre.org/tactics/TA0005/"}},
		}},
		{"exceptions_list", jsonOf(t, r.ExceptionsList), `[{"id":"endpoint_list","list_id":"endpoint_list","namespace_type":"agnostic","type":"endpoint"}]`},
		{"alert_suppression", jsonOf(t, r.AlertSuppression), `{"duration":{"unit":"m","value":5},"group_by":["host.name"],"missing_fields_strategy":"suppress"}`},
		{"filters", jsonOf(t, r.Filters), `[{"meta":{"negate":true},"query":{"wildcard":{"process.executable":{"case_insensitive":true,"value":"C:\\Windows\\*"}}}}]`},
		{"extra timeline_id", string(r.Extra["timeline_id"]), `"e70679c2-6cde-4510-9764-4823df18f7db"`},
		{"extra timeline_title", string(r.Extra["timeline_title"]), `"Comprehensive Process Timeline"`},
		{"metadata", *r.Meta, Metadata{
			CreationDate: "2024/01/02", UpdatedDate: "2024/03/04", Maturity: "production",
			Integration: []string{"endpoint", "windows"}, MinStackVersion: "8.14.0", MinStackComments: "Needs a new field.",
			CommentsForFutureRules: "future rules", QueryScheduleWindow: "10m", BypassBBTimingChecks: true,
			DeprecatedReason: "not deprecated", Promotion: true, Extra: map[string]any{"owner": "someone"}}},
		{"transform keys", len(r.Transform), 2},
		{"source line", r.Source.Line, 16},
		{"query line", r.Source.QueryLine, 52},
		{"query col", r.Source.QueryCol, 1},
	}
	for _, c := range check {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s: got %#v, want %#v", c.name, c.got, c.want)
		}
	}
	osq, _ := r.Transform["osquery"].([]map[string]any)
	if len(osq) != 1 || osq[0]["label"] != "Osquery - Processes" {
		t.Errorf("transform.osquery: %#v", r.Transform["osquery"])
	}
	if errs, warns := Validate(r, ECSMapping()); len(errs) > 0 || len(warns) > 0 {
		t.Errorf("Validate: %v %v", errs, warns)
	}
}

// jsonOf re-encodes raw JSON compactly with sorted keys.
func jsonOf(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

const minimalTOML = `[metadata]
creation_date = "2024/01/01"

[rule]
rule_id = "aaaaaaaa-0000-0000-0000-000000000001"
name = "Minimal"
description = "d"
risk_score = 21
severity = "low"
type = "eql"
language = "eql"
query = 'process where process.name == "a.exe"'
`

func TestLoadDefaults(t *testing.T) {
	r, errs := loadOne(t, "min.toml", minimalTOML, LoadOptions{})
	if len(errs) > 0 {
		t.Fatal(errs[0].Detail())
	}
	if r.Interval != "5m" || r.From != "now-6m" || r.To != "now" || r.MaxSignals != 100 || r.Version != 1 {
		t.Errorf("defaults: interval %q from %q to %q max_signals %d version %d", r.Interval, r.From, r.To, r.MaxSignals, r.Version)
	}
	if r.Source.QueryLine != 12 || r.Source.QueryCol != 10 {
		t.Errorf("query at %d:%d, want 12:10", r.Source.QueryLine, r.Source.QueryCol)
	}
	if r.Enabled != nil || r.IsBuildingBlock() {
		t.Errorf("enabled %v, building block %v", r.Enabled, r.IsBuildingBlock())
	}
}

func TestVersionPrecedence(t *testing.T) {
	id := "aaaaaaaa-0000-0000-0000-000000000001"
	withVersion := strings.Replace(minimalTOML, "[rule]\n", "[rule]\nversion = 9\n", 1)
	lock := map[string]int{id: 5}
	cases := []struct {
		name    string
		content string
		lock    map[string]int
		want    int
	}{
		{"toml wins over lock", withVersion, lock, 9},
		{"lock when toml has none", minimalTOML, lock, 5},
		{"1 when neither", minimalTOML, nil, 1},
		{"lock of another rule", minimalTOML, map[string]int{"other": 3}, 1},
		{"ndjson version", `{"rule_id":"` + id + `","name":"n","type":"eql","version":4}`, lock, 4},
		{"ndjson lock", `{"rule_id":"` + id + `","name":"n","type":"eql"}`, lock, 5},
	}
	for _, c := range cases {
		ext := ".toml"
		if strings.HasPrefix(c.content, "{") {
			ext = ".ndjson"
		}
		r, errs := loadOne(t, "r"+ext, c.content, LoadOptions{VersionLock: c.lock})
		if len(errs) > 0 {
			t.Fatalf("%s: %s", c.name, errs[0].Detail())
		}
		if r.Version != c.want {
			t.Errorf("%s: version %d, want %d", c.name, r.Version, c.want)
		}
	}
}

func TestLoadVersionLock(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"lock.json":  `{"a": {"rule_name": "A", "sha256": "x", "type": "eql", "version": 12, "previous": {"8.3": {"version": 3}}}, "b": {"version": 1}}`,
		"plain.json": `{"a": 2}`,
		"bad.json":   `{"a": {"rule_name": "A"}}`,
	})
	m, err := LoadVersionLock(filepath.Join(dir, "lock.json"))
	if err != nil || m["a"] != 12 || m["b"] != 1 || len(m) != 2 {
		t.Errorf("lock: %v %v", m, err)
	}
	if m, err := LoadVersionLock(filepath.Join(dir, "plain.json")); err != nil || m["a"] != 2 {
		t.Errorf("plain: %v %v", m, err)
	}
	if _, err := LoadVersionLock(filepath.Join(dir, "bad.json")); err == nil {
		t.Error("bad lock accepted")
	}
	shared := filepath.Join(sharedRules, "etc", "version.lock.json")
	if _, err := os.Stat(shared); err == nil {
		m, err := LoadVersionLock(shared)
		if err != nil || len(m) < 2000 {
			t.Errorf("shared lock: %d entries, %v", len(m), err)
		}
	}
}

func TestNewTermsAndThreshold(t *testing.T) {
	nt := strings.Replace(minimalTOML, `type = "eql"`, `type = "new_terms"`, 1) + `
[rule.new_terms]
field = "new_terms_fields"
value = ["user.name", "host.name"]
[[rule.new_terms.history_window_start]]
field = "history_window_start"
value = "now-14d"
`
	r, errs := loadOne(t, "nt.toml", nt, LoadOptions{})
	if len(errs) > 0 {
		t.Fatal(errs[0].Detail())
	}
	if jsonOf(t, r.NewTerms) != `["user.name","host.name"]` || string(r.Extra["history_window_start"]) != `"now-14d"` {
		t.Errorf("new terms: %s %s", r.NewTerms, r.Extra["history_window_start"])
	}
	th := strings.Replace(minimalTOML, `type = "eql"`, `type = "threshold"`, 1) + `
[rule.threshold]
field = ["source.ip"]
value = 20
[[rule.threshold.cardinality]]
field = "user.name"
value = 5
`
	r, errs = loadOne(t, "th.toml", th, LoadOptions{})
	if len(errs) > 0 {
		t.Fatal(errs[0].Detail())
	}
	if got := jsonOf(t, r.Threshold); got != `{"cardinality":[{"field":"user.name","value":5}],"field":["source.ip"],"value":20}` {
		t.Errorf("threshold: %s", got)
	}
	if Runnable(r) {
		t.Error("threshold rule runnable")
	}
}

func TestLoadErrors(t *testing.T) {
	cases := []struct {
		name, content string
		line, col     int
		msg           string
	}{
		{"bad toml", "[rule]\nname = \"x\nrule_id = \"y\"\n", 2, 0, "invalid TOML"},
		{"no rule table", "[metadata]\nmaturity = \"production\"\n", 1, 1, "no [rule] table"},
		{"missing rule_id", "[metadata]\nx = 1\n\n[rule]\nname = \"n\"\ntype = \"eql\"\n", 4, 1, `[rule] has no "rule_id"`},
		{"wrong type", "[rule]\nrule_id = \"r\"\nname = \"n\"\ntype = \"eql\"\nrisk_score = \"high\"\n", 5, 1, `"risk_score" must be an integer, not a string`},
		{"wrong list", "[rule]\nrule_id = \"r\"\nname = \"n\"\ntype = \"eql\"\n  tags = \"one\"\n", 5, 3, `"tags" must be a list of strings, not a string`},
		{"wrong nested", "[rule]\nrule_id = \"r\"\nname = \"n\"\ntype = \"eql\"\n\n[[rule.threat]]\nframework = 3\n", 7, 1, `"threat.framework" must be a string, not a number`},
		{"wrong filters", "[rule]\nrule_id = \"r\"\nname = \"n\"\ntype = \"eql\"\nfilters = \"x\"\n", 5, 1, `"filters" must be a list, not a string`},
		{"wrong metadata", "[metadata]\nmaturity = 1\n[rule]\nrule_id = \"r\"\nname = \"n\"\ntype = \"eql\"\n", 2, 1, `"metadata.maturity" must be a string`},
		{"rule not a table", "rule = 3\n", 1, 1, `"rule" must be a table`},
	}
	for _, c := range cases {
		r, errs := loadOne(t, "bad.toml", c.content, LoadOptions{})
		if r != nil || len(errs) == 0 {
			t.Errorf("%s: loaded %v, errors %v", c.name, r, errs)
			continue
		}
		e := errs[0]
		if e.Line != c.line || (c.col > 0 && e.Col != c.col) || !strings.Contains(e.Msg, c.msg) {
			t.Errorf("%s: got %s, want %d:%d %s", c.name, e.Error(), c.line, c.col, c.msg)
		}
		if !strings.HasPrefix(e.Error(), e.Path+":") || e.Context == "" {
			t.Errorf("%s: Error() %q, Context %q", c.name, e.Error(), e.Context)
		}
	}
}

func TestLoadNDJSONErrors(t *testing.T) {
	content := `{"rule_id":"a","name":"A","type":"eql","language":"eql","query":"any where true"}
{"rule_id":"b","name":"B","type":"eql","risk_score":"x"}
{"rule_id":"c", "name":
not json
[1,2]
{"something":"else"}

{"rule_id":"d","type":"query"}
{"rule_id":"e","name":"E","type":"query","max_signals":1.5}
{"rule_id":"f","name":"F","type":"query"}
{"rule_id":"g","name":"G","type":"query"}  x
{"exported_count":1}
`
	dir := writeFiles(t, map[string]string{"x.ndjson": content})
	rules, errs := LoadFile(filepath.Join(dir, "x.ndjson"), LoadOptions{})
	var ids []string
	for _, r := range rules {
		ids = append(ids, r.RuleID)
	}
	if strings.Join(ids, ",") != "a,f" {
		t.Errorf("rules %v", ids)
	}
	want := []string{
		`:2:53: "risk_score" must be an integer, not a string`,
		`:3:24: invalid JSON: unexpected end of line`,
		`:4:2: invalid JSON`,
		`:5:1: invalid JSON: expected a JSON object, found a list`,
		`:6:1: not a rule`,
		`:8:1: rule has no "name"`,
		`:9:56: "max_signals" must be an integer, not 1.5`,
		`:11:44: invalid JSON: text after the JSON object`,
	}
	if len(errs) != len(want) {
		for _, e := range errs {
			t.Log(e.Detail())
		}
		t.Fatalf("%d errors, want %d", len(errs), len(want))
	}
	for i, w := range want {
		if !strings.Contains(errs[i].Error(), w) {
			t.Errorf("error %d: %s, want %s", i, errs[i].Error(), w)
		}
	}
}

func TestLoadDirectories(t *testing.T) {
	bad := "[rule]\nrule_id = \"x\"\nname = 3\ntype = \"eql\"\n"
	dir := writeFiles(t, map[string]string{
		"a/one.toml":                            minimalTOML,
		"a/b/two.toml":                          strings.Replace(minimalTOML, "000000000001", "000000000002", 1),
		"a/b/bad.toml":                          bad,
		"a/dup.toml":                            minimalTOML,
		"a/_deprecated/old.toml":                strings.Replace(minimalTOML, "000000000001", "000000000003", 1),
		"a/_deprecated/x/older.toml":            strings.Replace(minimalTOML, "000000000001", "000000000004", 1),
		"a/_deprecated/readme.md":               "not a rule",
		"a/notes.txt":                           "not a rule",
		"a/export.ndjson":                       `{"rule_id":"n1","name":"N","type":"query","language":"kuery","query":"a:b","severity":"low","risk_score":1,"description":"d"}` + "\n",
		"a/c/credential_deprecated_cipher.toml": strings.Replace(minimalTOML, "000000000001", "000000000005", 1),
	})
	res, err := Load([]string{filepath.Join(dir, "a")}, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Files != 6 || len(res.Rules) != 4 || res.Deprecated != 2 || len(res.Errors) != 2 {
		for _, e := range res.Errors {
			t.Log(e.Detail())
		}
		t.Fatalf("files %d rules %d deprecated %d errors %d", res.Files, len(res.Rules), res.Deprecated, len(res.Errors))
	}
	msgs := res.Errors[0].Error() + "\n" + res.Errors[1].Error()
	if !strings.Contains(msgs, `bad.toml:3:1: "name" must be a string, not a number`) || !strings.Contains(msgs, "duplicate rule_id") {
		t.Errorf("errors:\n%s", msgs)
	}
	s := ValidateAll(res, nil)
	if s.Compiled != 3 || len(s.Unsupported) != 1 || s.Unsupported[0].Type != "query" || len(s.Errors) != 2 {
		t.Errorf("summary %+v", s)
	}
	if _, err := Load([]string{filepath.Join(dir, "missing")}, LoadOptions{}); err == nil {
		t.Error("missing path accepted")
	}
	// A single file path is read whatever the directory is called.
	res, err = Load([]string{filepath.Join(dir, "a", "_deprecated", "old.toml")}, LoadOptions{})
	if err != nil || len(res.Rules) != 1 {
		t.Errorf("single deprecated file: %v %v", res, err)
	}
}

func TestSummaryJSON(t *testing.T) {
	res := &LoadResult{Files: 1, Rules: []*Rule{{RuleID: "x", Type: "query", Severity: "low", Source: Source{Path: "p.toml"}}},
		Errors: []*LoadError{{Path: "q.toml", RuleID: "y", Line: 3, Col: 4, Msg: "bad", Context: "ctx"}}}
	b, err := json.Marshal(ValidateAll(res, nil))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"files":1,"rules":1,"deprecated":0,"by_type":{"query":1},"compiled":0,"unsupported":[{"path":"p.toml","rule_id":"x","type":"query"}],"errors":[{"path":"q.toml","rule_id":"y","line":3,"column":4,"message":"bad"}],"warnings":[]}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
}

// A wrong type deep inside a value points at the offending key.
func TestNestedErrorPosition(t *testing.T) {
	toml := "[rule]\nrule_id = \"r\"\nname = \"n\"\ntype = \"eql\"\n\n[[rule.threat]]\nframework = \"MITRE ATT&CK\"\n[rule.threat.tactic]\nid = \"TA0001\"\n\n[[rule.threat]]\nframework = \"MITRE ATT&CK\"\n[[rule.threat.technique]]\nid = \"T1\"\n[[rule.threat.technique.subtechnique]]\nid = 5\n"
	_, errs := loadOne(t, "n.toml", toml, LoadOptions{})
	if len(errs) != 1 || errs[0].Line != 16 || errs[0].Col != 1 || !strings.Contains(errs[0].Msg, `"threat.technique.subtechnique.id" must be a string, not a number`) {
		t.Errorf("toml: %v", errs)
	}
	ndjson := `{"rule_id":"r","name":"n","type":"eql","threat":[{"framework":"x","tactic":{"id":"TA1"}},{"framework":"x","tactic":{"id":1}}]}`
	_, errs = loadOne(t, "n.ndjson", ndjson, LoadOptions{})
	want := strings.Index(ndjson, `1}}]`) + 1
	if len(errs) != 1 || errs[0].Line != 1 || errs[0].Col != want || !strings.Contains(errs[0].Msg, `"threat.tactic.id" must be a string, not a number`) {
		t.Errorf("ndjson: %v (want column %d)", errs, want)
	}
}
