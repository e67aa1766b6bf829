package rulefields

import (
	"os"
	"testing"

	"github.com/vigilsec/vigil/eql"
)

func TestTargets(t *testing.T) {
	ref := []string{"endgame-*", "logs-crowdstrike.fdr*", "logs-endpoint.events.process-*", "logs-m365_defender.event-*",
		"logs-sentinel_one_cloud_funnel.*", "logs-system.security*", "logs-windows.forwarded*", "logs-windows.sysmon_operational-*", "winlogbeat-*"}
	for _, ix := range []string{"endgame-8.4.0", "logs-crowdstrike.fdr-default", "logs-m365_defender.event-default",
		"logs-sentinel_one_cloud_funnel.event-default", "logs-endpoint.events.process-default"} {
		if !Targets(ref, ix) {
			t.Errorf("%s not targeted", ix)
		}
	}
	for _, ix := range []string{"logs-endpoint.events.network-default", "logs-m365_defender.alert-default", "endgame"} {
		if Targets(ref, ix) {
			t.Errorf("%s targeted", ix)
		}
	}
	if Targets([]string{"logs-*", "-logs-x*"}, "logs-xy") || !Targets([]string{"logs-*", "-logs-x*"}, "logs-y") {
		t.Error("exclusion")
	}
}

func TestQueryFields(t *testing.T) {
	q, err := eql.Parse(`sequence by host.id [process where process.name : "a" and not ?process.parent.name in ("b")] [file where startsWith(file.path, "c")]`)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	queryFields(q, func(f string) { got[f] = true })
	for _, f := range []string{"host.id", "process.name", "process.parent.name", "file.path"} {
		if !got[f] {
			t.Errorf("%s missing from %v", f, got)
		}
	}
	m := kqlField.FindAllStringSubmatch(`event.category:process and (process.name : "x" or user.name:*)`, -1)
	if len(m) != 3 || m[0][1] != "event.category" || m[2][1] != "user.name" {
		t.Errorf("kql fields %q", m)
	}
}

// Derive over the real corpus: the reference rule's sources are targeted by
// hundreds of rules.
func TestDerive(t *testing.T) {
	dir := "../../../../shared/rules/detection-rules/rules"
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("detection-rules not present (%v): this test needs ../shared", err)
	}
	r, err := Derive(dir, "logs-sentinel_one_cloud_funnel.event-default")
	if err != nil {
		t.Fatal(err)
	}
	if r.Rules < 100 || len(r.Fields) < 20 || r.Fields[0].Rules < r.Fields[len(r.Fields)-1].Rules {
		t.Errorf("%d rules, %d fields", r.Rules, len(r.Fields))
	}
}
