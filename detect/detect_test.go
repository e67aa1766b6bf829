package detect

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vigilsec/vigil/eql"
	"github.com/vigilsec/vigil/rule"
)

var testNow = time.Date(2026, 2, 1, 12, 0, 0, 0, time.UTC)

// userAccountCreation is Elastic's prebuilt rule 1aa9181a-492b-4c01-8b16-fa0735786b2b.
func userAccountCreation() *rule.Rule {
	return &rule.Rule{
		RuleID:    "1aa9181a-492b-4c01-8b16-fa0735786b2b",
		Name:      "User Account Creation",
		Version:   214,
		Type:      "eql",
		Language:  "eql",
		Severity:  "low",
		RiskScore: 21,
		Index: []string{
			"endgame-*", "logs-crowdstrike.fdr*", "logs-endpoint.events.process-*",
			"logs-m365_defender.event-*", "logs-sentinel_one_cloud_funnel.*", "logs-system.security*",
			"logs-windows.forwarded*", "logs-windows.sysmon_operational-*", "winlogbeat-*",
		},
		Query: `process where host.os.type == "windows" and event.type == "start" and
  (process.name : ("net.exe", "net1.exe") and not process.parent.name : "net.exe") and
  (process.args : "user" and process.args : ("/ad", "/add"))`,
		Description:       "Identifies attempts to create new users.",
		Tags:              []string{"Domain: Endpoint", "OS: Windows"},
		References:        []string{"https://example.com/ref"},
		TimestampOverride: "event.ingested",
		From:              "now-9m",
		Threat: []rule.Threat{{
			Framework: "MITRE ATT&CK",
			Tactic:    rule.ThreatRef{ID: "TA0003", Name: "Persistence", Reference: "https://attack.mitre.org/tactics/TA0003/"},
			Technique: []rule.Technique{{ThreatRef: rule.ThreatRef{ID: "T1136", Name: "Create Account", Reference: "https://attack.mitre.org/techniques/T1136/"}}},
		}},
	}
}

// procEvent renders an Elastic Defend process start event.
func procEvent(ts, osType, name, parent string, args ...string) map[string]any {
	return map[string]any{
		"@timestamp":  ts,
		"agent":       map[string]any{"type": "endpoint"},
		"data_stream": map[string]any{"dataset": "endpoint.events.process", "namespace": "default", "type": "logs"},
		"event": map[string]any{
			"action": "start", "category": []string{"process"}, "type": []string{"start"},
			"kind": "event", "dataset": "endpoint.events.process", "ingested": ts,
		},
		"host":    map[string]any{"name": "ws-01", "id": "h-1", "os": map[string]any{"type": osType}},
		"process": map[string]any{"name": name, "args": args, "parent": map[string]any{"name": parent}, "entity_id": "p-" + name},
		"user":    map[string]any{"name": "alice"},
	}
}

func ndjson(t testing.TB, docs ...map[string]any) []byte {
	var b bytes.Buffer
	for _, d := range docs {
		line, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// run offers every line of data to a fresh engine and finishes it.
func run(t testing.TB, rules []*rule.Rule, opts Options, data []byte) ([]*Alert, Stats) {
	t.Helper()
	rs, errs := Compile(rules)
	for _, err := range errs {
		t.Fatal(err)
	}
	if opts.Now.IsZero() {
		opts.Now = testNow
	}
	e := rs.NewEngine(opts)
	offerAll(t, e, data)
	alerts, err := e.Finish()
	if err != nil {
		t.Fatal(err)
	}
	return alerts, e.Stats()
}

func offerAll(t testing.TB, e *Engine, data []byte) {
	t.Helper()
	if err := offerLines(e, data); err != nil {
		t.Fatal(err)
	}
}

// finishAlerts finishes e and returns its alerts.
func finishAlerts(t testing.TB, e *Engine) []*Alert {
	t.Helper()
	as, err := e.Finish()
	if err != nil {
		t.Fatal(err)
	}
	return as
}

// finishJSON finishes e and returns its alerts' documents.
func finishJSON(t testing.TB, e *Engine) [][]byte {
	t.Helper()
	var out [][]byte
	for _, a := range finishAlerts(t, e) {
		out = append(out, a.JSON())
	}
	return out
}

// sameDocs fails unless got has exactly want's alert documents, in order
// (want: what feeding every rule every event gives).
func sameDocs(t testing.TB, what string, got, want [][]byte) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d alerts, fed everything: %d", what, len(got), len(want))
	}
	for i := range want {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("%s: alert %d differs:\n got  %s\n want %s", what, i, got[i], want[i])
		}
	}
}

func offerLines(e *Engine, data []byte) error {
	from := bytes.NewReader(data)
	for n, off := 1, 0; off < len(data); n++ {
		i := bytes.IndexByte(data[off:], '\n')
		if i < 0 {
			i = len(data) - off
		}
		line := data[off : off+i]
		if err := e.Offer(line, eql.Source{Line: n, From: from, Offset: int64(off)}); err != nil {
			return fmt.Errorf("line %d: %w", n, err)
		}
		off += i + 1
	}
	return nil
}

func body(t testing.TB, a *Alert) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(a.JSON(), &m); err != nil {
		t.Fatalf("alert JSON: %v\n%s", err, a.JSON())
	}
	return m
}

func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func TestUserAccountCreation(t *testing.T) {
	defend := procEvent("2026-01-05T10:00:00.000Z", "windows", "net.exe", "cmd.exe", "net", "user", "eve", "P@ss", "/add")
	defend["_id"] = "defend-1"
	endgame := procEvent("2026-01-05T10:00:01.500Z", "windows", "NET1.EXE", "cmd.exe", "net1", "user", "mallory", "/ad")
	delete(endgame, "data_stream")
	endgame["_index"] = "endgame-8.2.0-000001"
	misses := []map[string]any{
		procEvent("2026-01-05T10:00:02Z", "windows", "net1.exe", "net.exe", "net1", "user", "x", "/add"),               // parent is net.exe
		procEvent("2026-01-05T10:00:03Z", "windows", "net.exe", "cmd.exe", "net", "localgroup", "admins", "x", "/add"), // localgroup
		procEvent("2026-01-05T10:00:04Z", "windows", "net.exe", "cmd.exe", "net", "user", "x"),                         // no /add
		procEvent("2026-01-05T10:00:05Z", "linux", "net.exe", "bash", "net", "user", "x", "/add"),                      // not Windows
		procEvent("2026-01-05T10:00:06Z", "Windows", "net.exe", "cmd.exe", "net", "user", "x", "/add"),                 // == is case-sensitive
	}
	wrongIndex := procEvent("2026-01-05T10:00:07Z", "windows", "net.exe", "cmd.exe", "net", "user", "x", "/add")
	wrongIndex["data_stream"] = map[string]any{"dataset": "system.syslog", "namespace": "default"}
	docs := append([]map[string]any{endgame, defend}, misses...)
	docs = append(docs, wrongIndex)

	r := userAccountCreation()
	alerts, st := run(t, []*rule.Rule{r}, Options{}, ndjson(t, docs...))
	if len(alerts) != 2 {
		for _, a := range alerts {
			t.Logf("%s", a.JSON())
		}
		t.Fatalf("%d alerts, want 2 (Defend and Endgame)", len(alerts))
	}
	if st.Lines != 8 || st.Alerts != 2 || st.AlertsByRule[r.RuleID] != 2 || st.AlertsBySeverity["low"] != 2 {
		t.Errorf("stats %+v", st)
	}

	// Ordered by original time: the Defend event (10:00:00) first.
	a := alerts[0]
	if a.Kind != EventAlert || a.BuildingBlock || a.Severity != "low" || a.RiskScore != 21 || a.RuleName != r.Name {
		t.Errorf("alert %+v", a)
	}
	if want := generateID("logs-endpoint.events.process-default", "defend-1", "undefined", "default:"+r.RuleID); a.UUID != want {
		t.Errorf("uuid %s, want %s", a.UUID, want)
	}
	m := body(t, a)
	want := map[string]any{
		"@timestamp":                                "2026-02-01T12:00:00.000Z",
		"event.kind":                                "signal",
		"kibana.alert.uuid":                         a.UUID,
		"kibana.alert.rule.uuid":                    r.RuleID,
		"kibana.alert.rule.rule_id":                 r.RuleID,
		"kibana.alert.rule.name":                    "User Account Creation",
		"kibana.alert.rule.type":                    "eql",
		"kibana.alert.rule.version":                 float64(214),
		"kibana.alert.rule.severity":                "low",
		"kibana.alert.rule.risk_score":              float64(21),
		"kibana.alert.rule.from":                    "now-9m",
		"kibana.alert.rule.to":                      "now",
		"kibana.alert.rule.interval":                "5m",
		"kibana.alert.rule.max_signals":             float64(100),
		"kibana.alert.rule.description":             "Identifies attempts to create new users.",
		"kibana.alert.rule.timestamp_override":      "event.ingested",
		"kibana.alert.severity":                     "low",
		"kibana.alert.risk_score":                   float64(21),
		"kibana.alert.original_time":                "2026-01-05T10:00:00.000Z",
		"kibana.alert.depth":                        float64(1),
		"kibana.alert.status":                       "active",
		"kibana.alert.workflow_status":              "open",
		"kibana.alert.reason":                       "process event with process net.exe, parent process cmd.exe, by alice on ws-01 created low alert User Account Creation.",
		"kibana.alert.original_event.kind":          "event",
		"kibana.alert.original_event.action":        "start",
		"kibana.alert.original_data_stream.dataset": "endpoint.events.process",
	}
	for k, v := range want {
		if got := m[k]; !jsonEqual(got, v) {
			t.Errorf("%s = %v, want %v", k, got, v)
		}
	}
	for k, v := range map[string]any{
		"kibana.space_ids":                     []any{"default"},
		"kibana.alert.ancestors":               []any{map[string]any{"id": "defend-1", "type": "event", "index": "logs-endpoint.events.process-default", "depth": float64(0)}},
		"kibana.alert.rule.tags":               []any{"Domain: Endpoint", "OS: Windows"},
		"kibana.alert.rule.references":         []any{"https://example.com/ref"},
		"kibana.alert.original_event.category": []any{"process"},
		"kibana.alert.rule.parameters.rule_id": nil,
		"kibana.alert.building_block_type":     nil,
		"_id":                                  nil,
	} {
		if got := m[k]; !jsonEqual(got, v) {
			t.Errorf("%s = %v, want %v", k, got, v)
		}
	}
	// The event's own fields are copied; event.kind is replaced.
	proc := m["process"].(map[string]any)
	if proc["name"] != "net.exe" {
		t.Errorf("process = %v", proc)
	}
	if ev := m["event"].(map[string]any); ev["kind"] != nil || ev["action"] != "start" {
		t.Errorf("event = %v", ev)
	}
	threat := m["kibana.alert.rule.threat"].([]any)[0].(map[string]any)
	if threat["tactic"].(map[string]any)["id"] != "TA0003" {
		t.Errorf("threat = %v", threat)
	}
	params := m["kibana.alert.rule.parameters"].(map[string]any)
	if params["query"] != r.Query || params["rule_id"] != r.RuleID || params["language"] != "eql" {
		t.Errorf("parameters = %v", params)
	}

	if a.Field("host.name") != "ws-01" || a.Field("process.args") != "net, user, eve, P@ss, /add" ||
		a.Field("kibana.alert.rule.name") != r.Name || a.Field("kibana.alert.depth") != "1" || a.Field("process") != "" {
		t.Errorf("Field: %q %q %q", a.Field("host.name"), a.Field("process.args"), a.Field("kibana.alert.depth"))
	}

	b := alerts[1]
	if b.Hits[0].Index != "endgame-8.2.0-000001" || b.Hits[0].ID != "endgame-8.2.0-000001:1" {
		t.Errorf("endgame hit %+v", b.Hits[0])
	}
	mb := body(t, b)
	if mb["_index"] != nil || mb["kibana.alert.original_time"] != "2026-01-05T10:00:01.500Z" {
		t.Errorf("endgame alert: %s", b.JSON())
	}
	if want := sha("endgame-8.2.0-000001" + "endgame-8.2.0-000001:1" + "undefined" + "default:" + r.RuleID); b.UUID != want {
		t.Errorf("endgame uuid %s, want %s", b.UUID, want)
	}
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

// An event whose index no pattern matches, and events without any index
// (offered to every rule and counted), or with the default index.
func TestIndexGating(t *testing.T) {
	r := userAccountCreation()
	hit := procEvent("2026-01-05T10:00:00Z", "windows", "net.exe", "cmd.exe", "net", "user", "x", "/add")
	delete(hit, "data_stream")
	data := ndjson(t, hit)

	alerts, st := run(t, []*rule.Rule{r}, Options{}, data)
	if len(alerts) != 1 || st.NoIndex != 1 || alerts[0].Hits[0].Index != "" {
		t.Errorf("no index: %d alerts, stats %+v", len(alerts), st)
	}
	alerts, st = run(t, []*rule.Rule{r}, Options{DefaultIndex: "winlogbeat-2026.01"}, data)
	if len(alerts) != 1 || st.NoIndex != 0 || alerts[0].Hits[0].Index != "winlogbeat-2026.01" {
		t.Errorf("default index: %d alerts, stats %+v", len(alerts), st)
	}
	alerts, _ = run(t, []*rule.Rule{r}, Options{DefaultIndex: "auditbeat-x"}, data)
	if len(alerts) != 0 {
		t.Errorf("non-matching default index: %d alerts", len(alerts))
	}
	hit["_index"] = ".ds-logs-endpoint.events.process-default-2026.01.05-000001"
	alerts, _ = run(t, []*rule.Rule{r}, Options{}, ndjson(t, hit))
	if len(alerts) != 1 {
		t.Errorf("backing index of a matching data stream: %d alerts", len(alerts))
	}
}

func TestIndexMatcher(t *testing.T) {
	for _, c := range []struct {
		patterns []string
		index    string
		want     bool
	}{
		{[]string{"logs-endpoint.events.process-*"}, "logs-endpoint.events.process-default", true},
		{[]string{"logs-endpoint.events.process-*"}, "logs-endpoint.events.file-default", false},
		{[]string{"logs-system.security*"}, "logs-system.security-default", true},
		{[]string{"endgame-*"}, "endgame-8.2.0-000001", true},
		{[]string{"logs-*", "-logs-x*"}, "logs-xyz-default", false},
		{[]string{"logs-*", "-logs-x*"}, "logs-abc-default", true},
		{[]string{"-logs-x*", "logs-*"}, "logs-xyz-default", true}, // an exclusion only removes earlier matches
		{[]string{"*:logs-*"}, "logs-a-b", true},
		{[]string{"winlogbeat-*"}, ".ds-winlogbeat-8-2026.01.01-000001", true},
		{[]string{"a*b*c"}, "axxbyyc", true},
		{[]string{"a*b*c"}, "axxcyyb", false},
		{kibanaDefaultIndex, "logs-elastic-cloud-logs-x", false},
	} {
		if got := newIndexMatcher(c.patterns).match(c.index); got != c.want {
			t.Errorf("%v ~ %q = %v, want %v", c.patterns, c.index, got, c.want)
		}
	}
}

func TestSkippedAndCompileErrors(t *testing.T) {
	rs, errs := Compile([]*rule.Rule{
		userAccountCreation(),
		{RuleID: "q", Name: "kql", Type: "query", Query: "x:1"},
		{RuleID: "t", Name: "thr", Type: "threshold"},
		{RuleID: "bad", Name: "broken", Type: "eql", Query: "process where"},
	})
	if len(rs.Rules()) != 1 || rs.Skipped()["query"] != 1 || rs.Skipped()["threshold"] != 1 {
		t.Errorf("rules %d, skipped %v", len(rs.Rules()), rs.Skipped())
	}
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "bad") {
		t.Errorf("errors %v", errs)
	}
}

func TestMalformedAndSkipped(t *testing.T) {
	rs, _ := Compile([]*rule.Rule{userAccountCreation()})
	e := rs.NewEngine(Options{Now: testNow})
	if err := e.Offer([]byte(`{"event":{"type":"start","category":"process"},"host":{"os":{"type":"windows"}},"process":{"name":"net.exe","args":["user","/add"]}`), eql.Source{Line: 1}); err == nil {
		t.Error("malformed line with a literal: no error")
	}
	if err := e.Offer([]byte(`{"a":1}`), eql.Source{Line: 2}); err != nil {
		t.Error(err)
	}
	st := e.Stats()
	if st.Malformed != 1 || st.Skipped != 1 || st.Parsed != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestTimeBounds(t *testing.T) {
	r := userAccountCreation()
	mk := func(ts, ingested string) map[string]any {
		d := procEvent(ts, "windows", "net.exe", "cmd.exe", "net", "user", "x", "/add")
		ev := d["event"].(map[string]any)
		if ingested == "" {
			delete(ev, "ingested")
		} else {
			ev["ingested"] = ingested
		}
		return d
	}
	data := ndjson(t,
		mk("2026-01-05T09:00:00Z", "2026-01-05T10:30:00Z"), // ingested in range
		mk("2026-01-05T10:30:00Z", "2026-01-05T12:30:00Z"), // ingested after To
		mk("2026-01-05T10:45:00Z", ""),                     // no event.ingested: @timestamp in range
		mk("2026-01-05T08:00:00Z", ""),                     // no event.ingested: @timestamp before From
	)
	opts := Options{From: time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC), To: time.Date(2026, 1, 5, 11, 0, 0, 0, time.UTC)}
	alerts, st := run(t, []*rule.Rule{r}, opts, data)
	if len(alerts) != 2 || st.OutOfTime != 2 {
		t.Fatalf("%d alerts, stats %+v", len(alerts), st)
	}
	if alerts[0].OriginalTime.Hour() != 9 || alerts[1].OriginalTime.Minute() != 45 {
		t.Errorf("alerts at %v, %v", alerts[0].OriginalTime, alerts[1].OriginalTime)
	}
}

func TestOverrides(t *testing.T) {
	r := userAccountCreation()
	r.SeverityMapping = []rule.SeverityMapping{
		{Field: "user.name", Operator: "equals", Value: "alice", Severity: "high"},
		{Field: "host.name", Operator: "equals", Value: "ws-01", Severity: "medium"},
		{Field: "event.severity", Operator: "equals", Value: "73", Severity: "critical"},
	}
	r.RiskScoreMapping = []rule.RiskScoreMapping{{Field: "event.risk_score", Operator: "equals"}}
	r.RuleNameOverride = "message"
	d := procEvent("2026-01-05T10:00:00Z", "windows", "net.exe", "cmd.exe", "net", "user", "x", "/add")
	d["message"] = "alice created an account"
	d["event"].(map[string]any)["risk_score"] = []any{"12", 99.5, 101}
	d2 := procEvent("2026-01-05T10:00:01Z", "windows", "net.exe", "cmd.exe", "net", "user", "y", "/add")
	d2["event"].(map[string]any)["severity"] = 73
	d2["user"] = map[string]any{"name": "bob"}
	alerts, st := run(t, []*rule.Rule{r}, Options{}, ndjson(t, d, d2))
	if len(alerts) != 2 {
		t.Fatalf("%d alerts", len(alerts))
	}
	a := alerts[0]
	if a.Severity != "high" || a.RiskScore != 99.5 || a.RuleName != "alice created an account" {
		t.Errorf("overrides: %q %v %q", a.Severity, a.RiskScore, a.RuleName)
	}
	m := body(t, a)
	if m["kibana.alert.severity"] != "high" || m["kibana.alert.rule.severity"] != "low" || m["kibana.alert.rule.name"] != "alice created an account" || m["kibana.alert.risk_score"] != 99.5 {
		t.Errorf("body: %s", a.JSON())
	}
	if !strings.HasSuffix(a.Reason, "created high alert alice created an account.") {
		t.Errorf("reason %q", a.Reason)
	}
	if alerts[1].Severity != "critical" || alerts[1].RiskScore != 21 || alerts[1].RuleName != r.Name {
		t.Errorf("second: %q %v %q", alerts[1].Severity, alerts[1].RiskScore, alerts[1].RuleName)
	}
	if st.AlertsBySeverity["high"] != 1 || st.AlertsBySeverity["critical"] != 1 {
		t.Errorf("by severity %v", st.AlertsBySeverity)
	}
}

func TestBuildingBlockRule(t *testing.T) {
	r := userAccountCreation()
	r.BuildingBlockType = "default"
	alerts, _ := run(t, []*rule.Rule{r}, Options{}, ndjson(t, procEvent("2026-01-05T10:00:00Z", "windows", "net.exe", "cmd.exe", "net", "user", "x", "/add")))
	if len(alerts) != 1 || !alerts[0].BuildingBlock {
		t.Fatalf("alerts %v", alerts)
	}
	if m := body(t, alerts[0]); m["kibana.alert.building_block_type"] != "default" || m["kibana.alert.rule.building_block_type"] != "default" {
		t.Errorf("body %s", alerts[0].JSON())
	}
}

func TestUUIDDeterminism(t *testing.T) {
	data := ndjson(t,
		procEvent("2026-01-05T10:00:00Z", "windows", "net.exe", "cmd.exe", "net", "user", "x", "/add"),
		procEvent("2026-01-05T10:00:01Z", "windows", "net.exe", "cmd.exe", "net", "user", "y", "/add"),
	)
	a1, _ := run(t, []*rule.Rule{userAccountCreation()}, Options{}, data)
	a2, _ := run(t, []*rule.Rule{userAccountCreation()}, Options{Now: testNow.Add(time.Hour)}, data)
	if len(a1) != 2 || len(a2) != 2 {
		t.Fatal("want 2 alerts per run")
	}
	for i := range a1 {
		// The id depends on the event and the rule, not on the run time.
		if a1[i].UUID != a2[i].UUID || bytes.Equal(a1[i].JSON(), a2[i].JSON()) {
			t.Errorf("alert %d: uuids %s %s", i, a1[i].UUID, a2[i].UUID)
		}
	}
	if a1[0].UUID == a1[1].UUID {
		t.Error("two events, one uuid")
	}
	a3, _ := run(t, []*rule.Rule{userAccountCreation()}, Options{}, data)
	for i := range a1 {
		if !bytes.Equal(a1[i].JSON(), a3[i].JSON()) {
			t.Errorf("alert %d differs between identical runs", i)
		}
	}
	// Kibana's generateId: sha256(index + _id + version + "space:rule").
	if got := generateID("idx", "doc", "undefined", "default:rule"); got != sha("idxdocundefineddefault:rule") {
		t.Errorf("generateID = %s", got)
	}
}

func TestReasonMessage(t *testing.T) {
	for _, c := range []struct {
		doc, want string
	}{
		{`{"event":{"category":"configuration"},"host":{"name":"suricata-zeek-sensor-toronto"}}`,
			"configuration event on suricata-zeek-sensor-toronto created high alert R."},
		{`{"source.ip":"127.0.0.1"}`, "event with source 127.0.0.1 created high alert R."},
		{`{"source":{"ip":"10.0.0.1","port":443},"destination":{"ip":["1.1.1.1","8.8.8.8"],"port":"53"},"user":{"name":"-"}}`,
			"event with source 10.0.0.1 destination 1.1.1.1, 8.8.8.8:53, created high alert R."},
		{`{"file":{"name":""},"process":{"name":["a",1,null]}}`, "event with process a, 1, , created high alert R."},
		{`{}`, "event created high alert R."},
	} {
		v, err := parseJSON([]byte(c.doc))
		if err != nil {
			t.Fatal(err)
		}
		if got := reasonMessage(v.obj, "R", "high"); got != c.want {
			t.Errorf("%s:\n got %q\nwant %q", c.doc, got, c.want)
		}
	}
}
