package server

import (
	"encoding/json"
	"strings"
	"testing"
)

// A raw vendor record (constructed: a CrowdStrike FDR ProcessRollup2) is
// normalised to ECS when the pipeline or the index names the format, and
// stored as sent otherwise.
func TestNormalizeByPipelineAndIndex(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.Normalize = SourceNormalizer })
	raw := `{"event_simpleName":"ProcessRollup2","event_platform":"Win","timestamp":"1700000000123","aid":"a1","ComputerName":"WS-01","ImageFileName":"\\Device\\HarddiskVolume3\\Windows\\System32\\net.exe","CommandLine":"net user bob /add","RawProcessId":"4242"}`
	body := "{\"index\":{\"_index\":\"raw\",\"_id\":\"p\",\"pipeline\":\"crowdstrike\"}}\n" + raw + "\n" +
		"{\"index\":{\"_index\":\"logs-crowdstrike.fdr-default\",\"_id\":\"i\"}}\n" + raw + "\n" +
		"{\"index\":{\"_index\":\"logs-other-default\",\"_id\":\"o\",\"pipeline\":\"logs-system.auth-1.0.0\"}}\n" + raw + "\n"
	code, _, out := ts.do(t, "POST", "/_bulk", body)
	if code != 200 || strings.Contains(string(out), `"errors":true`) {
		t.Fatalf("%d %s", code, out)
	}
	recs := recordsOf(t, ts.log)
	if len(recs) != 3 {
		t.Fatalf("%d records", len(recs))
	}
	for _, r := range recs[:2] {
		host, _ := r["host"].(map[string]any)
		if r["event_simpleName"] != nil || host == nil || host["name"] != "WS-01" {
			b, _ := json.Marshal(r)
			t.Errorf("%v not normalised: %s", r["_id"], b)
		}
	}
	if recs[2]["event_simpleName"] != "ProcessRollup2" {
		t.Errorf("unselected record changed: %v", recs[2])
	}
}
