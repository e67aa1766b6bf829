package main

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigilsec/vigil/pack"
)

var huntSamples = []string{"../../samples/defend-user-account-creation.ndjson", "../../samples/endgame-user-account-creation.ndjson"}

func TestHuntBuiltinPackOnSamples(t *testing.T) {
	code, out, errs := runCLI(t, append([]string{"hunt", "--format", "ndjson"}, huntSamples...)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d alerts, want 3 (2 Elastic Defend, 1 Endgame):\n%s", len(lines), out)
	}
	seen := map[string]bool{}
	for _, l := range lines {
		var a map[string]any
		if err := json.Unmarshal([]byte(l), &a); err != nil {
			t.Fatal(err)
		}
		checks := map[string]any{
			"kibana.alert.rule.rule_id":    "1aa9181a-492b-4c01-8b16-fa0735786b2b",
			"kibana.alert.rule.name":       "User Account Creation",
			"kibana.alert.severity":        "low",
			"kibana.alert.risk_score":      float64(21),
			"kibana.alert.rule.version":    float64(317),
			"kibana.alert.rule.type":       "eql",
			"kibana.alert.workflow_status": "open",
		}
		for k, want := range checks {
			if a[k] != want {
				t.Errorf("%s = %v, want %v", k, a[k], want)
			}
		}
		threat, _ := json.Marshal(a["kibana.alert.rule.threat"])
		for _, id := range []string{"TA0003", "T1136", "T1136.001"} {
			if !strings.Contains(string(threat), id) {
				t.Errorf("threat %s lacks %s", threat, id)
			}
		}
		uuid, _ := a["kibana.alert.uuid"].(string)
		if len(uuid) != 64 || seen[uuid] {
			t.Errorf("bad or duplicate kibana.alert.uuid %q", uuid)
		}
		seen[uuid] = true
		if r, _ := a["kibana.alert.reason"].(string); !strings.Contains(r, "User Account Creation") {
			t.Errorf("reason %q", r)
		}
	}
	// Deterministic alert ids across runs.
	_, out2, _ := runCLI(t, append([]string{"hunt", "--format", "ndjson"}, huntSamples...)...)
	for _, l := range strings.Split(strings.TrimSpace(out2), "\n") {
		var a map[string]any
		json.Unmarshal([]byte(l), &a)
		if !seen[a["kibana.alert.uuid"].(string)] {
			t.Errorf("alert uuid changed between runs")
		}
	}
}

func TestHuntTableCSVAndFilters(t *testing.T) {
	code, out, _ := runCLI(t, append([]string{"hunt", "--format", "table"}, huntSamples...)...)
	if code != 0 || !strings.Contains(out, "User Account Creation") || !strings.Contains(out, "WS-FIN-0231") || strings.Count(out, "\n") != 4 {
		t.Errorf("table (exit %d):\n%s", code, out)
	}
	code, out, _ = runCLI(t, append([]string{"hunt", "--format", "csv"}, huntSamples...)...)
	if code != 0 || !strings.HasPrefix(out, "time,rule,severity,risk_score,host,user,process_or_reason,alert_uuid\n") || strings.Count(out, "\n") != 4 {
		t.Errorf("csv (exit %d):\n%s", code, out)
	}
	code, out, _ = runCLI(t, append([]string{"hunt", "--format", "ndjson", "--min-severity", "medium"}, huntSamples...)...)
	if code != 0 || out != "" {
		t.Errorf("--min-severity medium should drop the low alerts (exit %d): %s", code, out)
	}
	code, out, _ = runCLI(t, append([]string{"hunt", "--format", "ndjson", "--from", "2026-03-01T00:00:00Z"}, huntSamples...)...)
	if code != 0 || strings.Count(out, "\n") != 2 {
		t.Errorf("--from should keep only the March alerts (exit %d):\n%s", code, out)
	}
}

func TestHuntMalformedEventsAndRejects(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "mixed.ndjson")
	good, err := os.ReadFile(huntSamples[1])
	if err != nil {
		t.Fatal(err)
	}
	data := "{\"broken\": \n" + string(good)
	if err := os.WriteFile(in, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	rej := filepath.Join(dir, "rejects.txt")
	code, out, errs := runCLI(t, "hunt", "--format", "ndjson", "--rejects", rej, in)
	if code != 1 || strings.Count(out, "\n") != 1 {
		t.Errorf("exit %d (want 1), alerts:\n%s", code, out)
	}
	if !strings.Contains(errs, "mixed.ndjson:1:") {
		t.Errorf("stderr lacks file:line: %s", errs)
	}
	r, _ := os.ReadFile(rej)
	if !strings.Contains(string(r), "mixed.ndjson:1:") || !strings.Contains(string(r), `{"broken":`) {
		t.Errorf("rejects file: %s", r)
	}
}

func TestHuntMalformedRuleDoesNotStopTheRun(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "broken.toml"), []byte("[rule\nname = 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	good, err := fs.ReadFile(pack.FS(), pack.Paths()[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "good.toml"), good, 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCLI(t, "hunt", "--format", "ndjson", "--rules", dir, huntSamples[0])
	if code != 1 || !strings.Contains(errs, "broken.toml:2:") || strings.Count(out, "\n") != 2 {
		t.Errorf("exit %d (want 1), stderr %s, %d alerts", code, errs, strings.Count(out, "\n"))
	}
}
