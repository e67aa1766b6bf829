package detect

import (
	"reflect"
	"testing"

	"github.com/vigilsec/vigil/rule"
)

func seqRule() *rule.Rule {
	return &rule.Rule{
		RuleID:    "seq-rule",
		Name:      "Whoami then C2",
		Version:   3,
		Type:      "eql",
		Severity:  "medium",
		RiskScore: 47,
		Index:     []string{"logs-endpoint.events.*"},
		Query: `sequence by host.id with maxspan=1m
  [process where event.type == "start" and process.name : "whoami.exe"]
  [network where destination.port == 4444]`,
	}
}

func netEvent(ts, entity string) map[string]any {
	return map[string]any{
		"@timestamp":  ts,
		"data_stream": map[string]any{"dataset": "endpoint.events.network", "namespace": "default"},
		"event":       map[string]any{"category": []string{"network"}, "type": []string{"start"}, "kind": "event"},
		"host":        map[string]any{"name": "ws-01", "id": "h-1", "os": map[string]any{"type": "windows"}},
		"process":     map[string]any{"name": "evil.exe", "entity_id": entity},
		"destination": map[string]any{"ip": "203.0.113.9", "port": 4444},
		"source":      map[string]any{"ip": "10.0.0.5"},
		"user":        map[string]any{"name": "alice"},
	}
}

func TestSequenceAlerts(t *testing.T) {
	r := seqRule()
	p := procEvent("2026-01-05T10:00:00Z", "windows", "whoami.exe", "cmd.exe", "whoami")
	p["_id"] = "ev-1"
	n := netEvent("2026-01-05T10:00:30Z", "p-evil")
	n["_id"] = "ev-2"
	late := netEvent("2026-01-05T10:05:00Z", "p-evil") // beyond maxspan
	alerts, st := run(t, []*rule.Rule{r}, Options{}, ndjson(t, p, n, late))
	if len(alerts) != 3 {
		t.Fatalf("%d alerts, want a shell and 2 building blocks", len(alerts))
	}
	shell, b0, b1 := alerts[0], alerts[1], alerts[2]
	if shell.Kind != SequenceAlert || b0.Kind != BuildingBlockAlert || b1.Kind != BuildingBlockAlert {
		t.Fatalf("kinds %v %v %v", shell.Kind, b0.Kind, b1.Kind)
	}
	const pIdx, nIdx = "logs-endpoint.events.process-default", "logs-endpoint.events.network-default"
	base := "ev-1" + pIdx + r.RuleID + "ev-2" + nIdx + r.RuleID
	if b0.UUID != sha(base+"0") || b1.UUID != sha(base+"1") {
		t.Errorf("building block ids %s %s", b0.UUID, b1.UUID)
	}
	if want := sha("ev-1" + pIdx + b0.UUID + "ev-2" + nIdx + b1.UUID + r.RuleID); shell.UUID != want || shell.GroupID != want {
		t.Errorf("shell id %s, want %s", shell.UUID, want)
	}
	if shell.BuildingBlock || !b0.BuildingBlock || !b1.BuildingBlock {
		t.Error("building-block marks")
	}
	if len(shell.Hits) != 2 || shell.OriginalTime.Second() != 0 || b1.OriginalTime.Second() != 30 {
		t.Errorf("shell hits %d, times %v %v", len(shell.Hits), shell.OriginalTime, b1.OriginalTime)
	}
	for i, b := range []*Alert{b0, b1} {
		m := body(t, b)
		if m["kibana.alert.building_block_type"] != "default" || m["kibana.alert.group.id"] != shell.UUID ||
			m["kibana.alert.group.index"] != float64(i) || m["kibana.alert.uuid"] != b.UUID || m["kibana.alert.depth"] != float64(1) {
			t.Errorf("building block %d: %s", i, b.JSON())
		}
	}
	m := body(t, shell)
	if m["kibana.alert.group.id"] != shell.UUID || m["kibana.alert.uuid"] != shell.UUID || m["kibana.alert.depth"] != float64(2) {
		t.Errorf("shell: %s", shell.JSON())
	}
	if _, ok := m["kibana.alert.building_block_type"]; ok {
		t.Error("shell is marked as a building block")
	}
	if _, ok := m["kibana.alert.group.index"]; ok {
		t.Error("shell has a group index")
	}
	anc := m["kibana.alert.ancestors"].([]any)
	var ids []string
	for _, a := range anc {
		ids = append(ids, a.(map[string]any)["id"].(string)+"/"+a.(map[string]any)["type"].(string))
	}
	if want := []string{"ev-1/event", b0.UUID + "/signal", "ev-2/event", b1.UUID + "/signal"}; !reflect.DeepEqual(ids, want) {
		t.Errorf("shell ancestors %v", ids)
	}
	// The shell holds what both events share, nested, and nothing else.
	host := m["host"].(map[string]any)
	if host["name"] != "ws-01" || host["id"] != "h-1" || m["user"].(map[string]any)["name"] != "alice" {
		t.Errorf("shared fields missing: %s", shell.JSON())
	}
	if proc, ok := m["process"].(map[string]any); ok && proc["name"] != nil {
		t.Errorf("process.name differs between the events but is in the shell: %v", proc)
	}
	if m["destination"] != nil || m["kibana"] != nil {
		t.Errorf("shell has non-shared or nested kibana fields: %s", shell.JSON())
	}
	if cat := m["kibana.alert.original_event.type"]; !jsonEqual(cat, []any{"start"}) {
		t.Errorf("original_event.type = %v", cat)
	}
	if shell.Reason != "event by alice on ws-01 created medium alert Whoami then C2." {
		t.Errorf("shell reason %q", shell.Reason)
	}
	if st.Alerts != 3 || st.AlertsByRule[r.RuleID] != 3 {
		t.Errorf("stats %+v", st)
	}
}

// Kibana's own test vectors (build_alert_group_from_sequence.test.ts):
// two events of index myFakeSignalIndex, rule 04128c15-….
func TestSequenceIDsMatchKibana(t *testing.T) {
	r := &rule.Rule{
		ID: "04128c15-0d1b-4716-a4c5-46997ac7f3bd", RuleID: "rule-1", Name: "rule-name", Type: "eql",
		Severity: "high", RiskScore: 50, Index: []string{"myFakeSignalIndex"},
		Query: `sequence [any where x == "a"] [any where x == "b"]`,
	}
	data := []byte(`{"_index":"myFakeSignalIndex","_id":"d5e8eb51-a6a0-456d-8a15-4b79bfec3d71","@timestamp":"2020-04-20T21:27:45Z","x":"a","source":{"ip":"127.0.0.1"}}
{"_index":"myFakeSignalIndex","_id":"619389b2-b077-400e-b40b-abde20d675d3","@timestamp":"2020-04-20T21:27:46Z","x":"b","source":{"ip":"127.0.0.1"}}
`)
	alerts, _ := run(t, []*rule.Rule{r}, Options{}, data)
	if len(alerts) != 3 {
		t.Fatalf("%d alerts", len(alerts))
	}
	want := []string{
		"1b7d06954e74257140f3bf73f139078483f9658fe829fd806cc307fc0388fb23",
		"f2db3574eaf8450e3f4d1cf4f416d70b110b035ae0a7a00026242df07f0a6c90",
		"1dbc416333244efbda833832eb83f13ea5d980a33c2f981ca8d2b35d82a045da",
	}
	for i, a := range alerts {
		if a.UUID != want[i] {
			t.Errorf("alert %d (%v): %s, want %s", i, a.Kind, a.UUID, want[i])
		}
	}
	if alerts[0].Reason != "event with source 127.0.0.1 created high alert rule-name." {
		t.Errorf("shell reason %q", alerts[0].Reason)
	}
}

// Overrides apply to sequences, from the fields all events share.
func TestSequenceOverrides(t *testing.T) {
	r := seqRule()
	r.SeverityMapping = []rule.SeverityMapping{{Field: "host.name", Operator: "equals", Value: "ws-01", Severity: "critical"}}
	r.RuleNameOverride = "user.name"
	alerts, _ := run(t, []*rule.Rule{r}, Options{}, ndjson(t,
		procEvent("2026-01-05T10:00:00Z", "windows", "whoami.exe", "cmd.exe", "whoami"),
		netEvent("2026-01-05T10:00:30Z", "p-evil"),
	))
	if len(alerts) != 3 {
		t.Fatalf("%d alerts", len(alerts))
	}
	for _, a := range alerts {
		if a.Severity != "critical" || a.RuleName != "alice" {
			t.Errorf("%v: %q %q", a.Kind, a.Severity, a.RuleName)
		}
		if m := body(t, a); m["kibana.alert.severity"] != "critical" || m["kibana.alert.rule.name"] != "alice" {
			t.Errorf("%v body: %s", a.Kind, a.JSON())
		}
	}
}

func TestObjectIntersection(t *testing.T) {
	parse := func(s string) *jobj {
		v, err := parseJSON([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		return v.obj
	}
	render1 := func(o *jobj) string {
		if o == nil {
			return "undefined"
		}
		return string(render(o))
	}
	for i, c := range []struct {
		in   []string
		want string
	}{
		{[]string{`{"field1":[1]}`, `{"field1":[1]}`}, `{"field1":[1]}`},
		{[]string{`{"field1":1}`, `{"field1":[1,2,3]}`}, `{"field1":[1]}`},
		{[]string{`{"field1":[3,4,5]}`, `{"field1":[1,2,3,4]}`}, `{"field1":[3,4]}`},
		{[]string{`{"user.email":"m@e.co"}`, `{"user":{"email":"m@e.co"}}`}, `{"user":{"email":"m@e.co"}}`},
		{[]string{`{"user.email":"a"}`, `{"user.email":"a"}`}, `{"user.email":"a"}`},
		{[]string{`{"a.b.c":42}`, `{"a":{"b":{"c":42}}}`}, `{"a":{"b":{"c":42}}}`},
		{[]string{`{}`, `{"a":1}`}, `undefined`},
		{[]string{`{"field1":1,"field2":1}`, `{"field1":1,"field2":"1"}`}, `{"field1":1}`},
		{[]string{`{"field1":1,"field2":"1","field3":null}`, `{"field1":null,"field2":null,"field3":null}`}, `{"field3":null}`},
		{[]string{`{"a":[1,2],"b":[1,2]}`, `{"a":[1,2],"b":[3,4]}`}, `{"a":[1,2],"b":[]}`},
		{[]string{`{"f":1}`, `{"g":1}`}, `undefined`},
		{[]string{`{"c":{"x":1,"y":1,"n":{"x":1,"y":1},"o":[{"k":1}]},"d":{"s":1}}`, `{"c":{"x":1,"y":2,"n":{"x":1,"y":2},"o":[{"k":1}]},"d":{"t":1}}`},
			`{"c":{"x":1,"o":[],"n":{"x":1}}}`},
		{[]string{`{"f1":1,"arr":[1,2],"c":{"s1":1,"s2":1}}`, `{"f1":1,"arr":[1,2],"c":{"s1":1,"s2":2}}`, `{"f1":1,"arr":[1,2],"c":{"s2":2}}`},
			`{"f1":1,"arr":[1,2]}`},
		{[]string{`{"user.id":"u1","event":{"action":"login"}}`, `{"user":{"id":"u1"},"event":{"action":"login"}}`, `{"user.id":"u1","event.action":"login"}`},
			`{"event":{"action":"login"},"user":{"id":"u1"}}`}, // Kibana's stack walk order
		{[]string{`{"n":1.0}`, `{"n":1}`}, `{"n":1.0}`},
	} {
		var objs []*jobj
		for _, s := range c.in {
			objs = append(objs, parse(s))
		}
		if got := render1(objectArrayIntersection(objs)); got != c.want {
			t.Errorf("case %d: %v\n got %s\nwant %s", i, c.in, got, c.want)
		}
	}
}

func TestJSNumber(t *testing.T) {
	for f, want := range map[float64]string{
		1: "1", 1.5: "1.5", 1e21: "1e+21", 1.5e-7: "1.5e-7", 123456789012: "123456789012", -0.25: "-0.25", 1e-6: "0.000001",
	} {
		if got := jsNumber(f); got != want {
			t.Errorf("jsNumber(%v) = %s, want %s", f, got, want)
		}
	}
}

// Emit delivers the same alerts as Finish returns, without keeping them.
func TestEmitMatchesFinish(t *testing.T) {
	rules := []*rule.Rule{seqRule(), userAccountCreation()}
	p := procEvent("2026-01-05T10:00:00Z", "windows", "whoami.exe", "cmd.exe", "whoami")
	p["_id"] = "ev-1"
	n := netEvent("2026-01-05T10:00:30Z", "p-evil")
	n["_id"] = "ev-2"
	u := procEvent("2026-01-05T10:01:00Z", "windows", "net.exe", "cmd.exe", "net user bob /add")
	u["_id"] = "ev-3"
	data := ndjson(t, p, n, u)
	want, _ := run(t, rules, Options{}, data)
	var got []*Alert
	gotFinish, st := run(t, rules, Options{Emit: func(a *Alert) { got = append(got, a) }}, data)
	if len(gotFinish) != 0 {
		t.Errorf("Finish returned %d alerts while emitting", len(gotFinish))
	}
	ids := func(as []*Alert) map[string]bool {
		m := map[string]bool{}
		for _, a := range as {
			m[a.UUID] = true
		}
		return m
	}
	if len(want) == 0 || !reflect.DeepEqual(ids(got), ids(want)) || st.Alerts != len(want) {
		t.Errorf("emitted %d alerts (stats %d), Finish gave %d", len(got), st.Alerts, len(want))
	}
}
