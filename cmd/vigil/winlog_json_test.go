package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// alertsOf decodes hunt's NDJSON output.
func alertsOf(t *testing.T, out string) []map[string]any {
	t.Helper()
	var as []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("bad alert line %q: %v", l, err)
		}
		as = append(as, m)
	}
	return as
}

func alertField(m map[string]any, path string) any {
	if v, ok := m[path]; ok {
		return v
	}
	cur := any(m)
	for _, seg := range strings.Split(path, ".") {
		o, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = o[seg]
	}
	return cur
}

// Raw Winlogbeat documents (winlog.* only, as Winlogbeat writes them before
// Elastic's ingest pipeline) are recognised in a file that starts with one,
// also after ECS documents, and get the pipeline's mapping, so the built-in
// rule fires on them. The events are constructed for this test.
func TestHuntRawWinlogbeat(t *testing.T) {
	beat := func(image, cmd, parentImage string) string {
		return `{"@timestamp":"2026-03-02T10:00:00.000Z","agent":{"type":"winlogbeat","version":"8.15.0"},` +
			`"event":{"code":"1","kind":"event","provider":"Microsoft-Windows-Sysmon"},"host":{"name":"ws-07"},` +
			`"winlog":{"channel":"Microsoft-Windows-Sysmon/Operational","computer_name":"ws-07.corp.local","event_id":"1",` +
			`"provider_name":"Microsoft-Windows-Sysmon","record_id":"4711","event_data":{"Image":` + jsonString(image) +
			`,"CommandLine":` + jsonString(cmd) + `,"ParentImage":` + jsonString(parentImage) +
			`,"ProcessGuid":"{9f32b55f-7c4e-5f98-5803-000000000500}","ProcessId":"4242","User":"CORP\\alice"}}}`
	}
	lines := []string{
		beat(`C:\Windows\System32\net.exe`, `net user backdoor P@ss1 /add`, `C:\Windows\System32\cmd.exe`),
		// An Elastic Defend document in the same file stays as it is.
		`{"@timestamp":"2026-03-02T09:59:00.000Z","event":{"category":["process"],"type":["start"]},"host":{"os":{"type":"windows"}},"process":{"name":"svchost.exe"}}`,
		beat(`C:\Windows\System32\net1.exe`, `C:\Windows\system32\net1 user backdoor P@ss1 /add`, `C:\Windows\System32\net.exe`),
	}
	path := filepath.Join(t.TempDir(), "winlogbeat.ndjson")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCLI(t, "hunt", "--format", "ndjson", path)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	as := alertsOf(t, out)
	if len(as) != 1 {
		t.Fatalf("%d alerts, want 1 (net.exe, not its net1.exe worker):\n%s", len(as), out)
	}
	if got := alertField(as[0], "process.name"); got != "net.exe" {
		t.Errorf("process.name %v, want net.exe", got)
	}
	if got := alertField(as[0], "event.dataset"); got != "windows.sysmon_operational" {
		t.Errorf("event.dataset %v, want windows.sysmon_operational", got)
	}
	if got := alertField(as[0], "host.os.type"); got != "windows" {
		t.Errorf("host.os.type %v, want windows", got)
	}
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// OTRF's NXLog export of "net user /add" run through WMIC: the reference
// rule fires on the net.exe process (Sysmon 1 and Security 4688), not on
// WMIC.exe whose quoted command line holds the same words.
func TestHuntNXLogOTRF(t *testing.T) {
	path := filepath.Join("..", "..", "..", "shared", "telemetry", "otrf", "empire_wmic_add_user_backdoor.relevant.ndjson")
	if _, err := os.Stat(path); err != nil {
		t.Skipf("OTRF sample not found at %s (../shared is absent): skipping", path)
	}
	code, out, errs := runCLI(t, "hunt", "--format", "ndjson", path)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	as := alertsOf(t, out)
	byDataset := map[string]int{}
	for _, a := range as {
		if name := alertField(a, "process.name"); name != "net.exe" {
			t.Errorf("alert on %v (%v), want only net.exe", name, alertField(a, "process.command_line"))
		}
		byDataset[alertField(a, "data_stream.dataset").(string)]++
	}
	if byDataset["windows.sysmon_operational"] != 1 || byDataset["system.security"] != 1 {
		t.Errorf("alerts by dataset %v, want one Sysmon 1 and one Security 4688", byDataset)
	}
}
