package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vigilsec/vigil/pack"
	"github.com/vigilsec/vigil/rule"
)

const refRuleID = "1aa9181a-492b-4c01-8b16-fa0735786b2b"

// refRuleCopy writes the built-in "User Account Creation" rule as a Kibana
// export with its schedule shortened (every 2s over now-4s), as a user's
// test copy would be.
func refRuleCopy(t *testing.T, dir string) string {
	t.Helper()
	rules, errs := pack.Rules(rule.LoadOptions{})
	if len(errs) > 0 {
		t.Fatal(errs[0])
	}
	var ref *rule.Rule
	for _, r := range rules {
		if r.RuleID == refRuleID {
			ref = r
		}
	}
	if ref == nil {
		t.Fatal("reference rule not in the built-in pack")
	}
	ref.Interval, ref.From = "2s", "now-4s"
	var b bytes.Buffer
	if err := rule.ExportNDJSON(&b, []*rule.Rule{ref}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "user-account-creation.ndjson")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// refDocs are Elastic Defend process events (constructed for this test):
// two positives, and the near misses the rule must ignore.
func refDocs(ts time.Time) (body string, positives []string) {
	type doc struct {
		id, name, parent, args, os string
		positive                   bool
	}
	docs := []doc{
		{"pos-net", "net.exe", "cmd.exe", `"net","user","backdoor","P@ss1","/add"`, "windows", true},
		{"pos-net1", "net1.exe", "powershell.exe", `"net1","user","svc_tmp","/add","/domain"`, "windows", true},
		{"miss-net1-under-net", "net1.exe", "net.exe", `"net1","user","backdoor","P@ss1","/add"`, "windows", false},
		{"miss-localgroup", "net.exe", "cmd.exe", `"net","localgroup","administrators","backdoor","/add"`, "windows", false},
		{"miss-no-add", "net.exe", "cmd.exe", `"net","user","backdoor"`, "windows", false},
		{"miss-linux", "net.exe", "bash", `"net","user","backdoor","/add"`, "linux", false},
		{"miss-capital-windows", "net.exe", "cmd.exe", `"net","user","backdoor","/add"`, "Windows", false},
	}
	var b strings.Builder
	for i, d := range docs {
		fmt.Fprintf(&b, `{"index":{"_index":"logs-endpoint.events.process-default","_id":%q}}`+"\n", d.id)
		fmt.Fprintf(&b, `{"@timestamp":%q,"event":{"category":["process"],"type":["start"],"action":"start","kind":"event"},`+
			`"host":{"name":"ws-%02d","os":{"type":%q}},"user":{"name":"alice"},`+
			`"process":{"name":%q,"args":[%s],"entity_id":"e-%d","parent":{"name":%q}}}`+"\n",
			ts.Add(time.Duration(i)*time.Millisecond).UTC().Format("2006-01-02T15:04:05.000Z"), i, d.os, d.name, d.args, i, d.parent)
		if d.positive {
			positives = append(positives, d.id)
		}
	}
	return b.String(), positives
}

type apiAlerts struct {
	Total  int              `json:"total"`
	Alerts []map[string]any `json:"alerts"`
}

func getAlerts(t *testing.T, addr string) apiAlerts {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/api/alerts?rule_id=" + refRuleID + "&size=100")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET /api/alerts: %d %s", resp.StatusCode, data)
	}
	var a apiAlerts
	if err := json.Unmarshal(data, &a); err != nil {
		t.Fatalf("GET /api/alerts: %v: %s", err, data)
	}
	return a
}

func bulk(t *testing.T, addr, body string) {
	t.Helper()
	resp, err := http.Post("http://"+addr+"/_bulk", "application/x-ndjson", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || bytes.Contains(data, []byte(`"errors":true`)) {
		t.Fatalf("_bulk: %d %s", resp.StatusCode, data)
	}
}

// ancestorIDs returns the source event ids of alerts.
func ancestorIDs(t *testing.T, as []map[string]any) []string {
	var ids []string
	for _, a := range as {
		anc, _ := a["kibana.alert.ancestors"].([]any)
		if len(anc) != 1 {
			t.Fatalf("alert %v: ancestors %v", a["kibana.alert.uuid"], a["kibana.alert.ancestors"])
		}
		ids = append(ids, anc[0].(map[string]any)["id"].(string))
	}
	sort.Strings(ids)
	return ids
}

// End to end: the reference rule's positive and near-miss documents shipped
// through _bulk; with the rule running every 2s, exactly the positives
// alert, visible through /api/alerts with the rule's metadata; after a
// restart (and the same documents shipped again) there are no duplicates.
func TestServeAlertsEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts vigil serve")
	}
	dir := t.TempDir()
	rules := refRuleCopy(t, dir)
	addr := freeAddr(t)
	p := startServe(t, dir, addr, "--rules", rules, "--tick", "200ms")
	body, positives := refDocs(time.Now())
	bulk(t, addr, body)

	var got apiAlerts
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if got = getAlerts(t, addr); got.Total >= len(positives) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(3 * time.Second) // two more executions: nothing else may appear
	got = getAlerts(t, addr)
	if ids := ancestorIDs(t, got.Alerts); got.Total != len(positives) || strings.Join(ids, ",") != "pos-net,pos-net1" {
		t.Fatalf("alerts on %v (total %d), want exactly the positives %v\n%s", ids, got.Total, positives, p.out)
	}
	for _, a := range got.Alerts {
		for k, want := range map[string]any{
			"kibana.alert.rule.rule_id":    refRuleID,
			"kibana.alert.rule.name":       "User Account Creation",
			"kibana.alert.rule.version":    float64(317),
			"kibana.alert.severity":        "low",
			"kibana.alert.risk_score":      float64(21),
			"kibana.alert.rule.interval":   "2s",
			"kibana.alert.rule.from":       "now-4s",
			"kibana.alert.workflow_status": "open",
			"event.kind":                   "signal",
		} {
			if a[k] != want {
				t.Errorf("alert %v: %s = %v, want %v", a["kibana.alert.uuid"], k, a[k], want)
			}
		}
		if threat, _ := json.Marshal(a["kibana.alert.rule.threat"]); !bytes.Contains(threat, []byte("T1136.001")) {
			t.Errorf("alert %v: threat %s lacks T1136.001", a["kibana.alert.uuid"], threat)
		}
	}
	// The detection consumer reports into /metrics.
	mresp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	mb, _ := io.ReadAll(mresp.Body)
	mresp.Body.Close()
	for _, want := range []string{"vigil_detect_events_total 7", "vigil_alerts_total 2", "vigil_ingest_events_total 7"} {
		if !bytes.Contains(mb, []byte(want)) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	first := map[string]bool{}
	for _, a := range got.Alerts {
		first[a["kibana.alert.uuid"].(string)] = true
	}

	// Executions are recorded with their windows.
	resp, err := http.Get("http://" + addr + "/api/rules/" + refRuleID + "/executions")
	if err != nil {
		t.Fatal(err)
	}
	ex, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Contains(ex, []byte("succeeded")) {
		t.Errorf("executions: %d %s", resp.StatusCode, ex)
	}

	// Restart gracefully, ship the same documents again (a client retry):
	// still the same two alerts.
	p.cmd.Process.Signal(syscall.SIGTERM)
	p.cmd.Wait()
	p = startServe(t, dir, addr, "--rules", rules, "--tick", "200ms")
	stopped := false
	defer func() {
		if !stopped {
			p.cmd.Process.Signal(syscall.SIGTERM)
			p.cmd.Wait()
		}
	}()
	bulk(t, addr, body)
	time.Sleep(5 * time.Second)
	again := getAlerts(t, addr)
	if again.Total != len(positives) {
		t.Fatalf("after restart and resend: %d alerts, want %d\n%s", again.Total, len(positives), p.out)
	}
	for _, a := range again.Alerts {
		if !first[a["kibana.alert.uuid"].(string)] {
			t.Errorf("new alert %v after restart", a["kibana.alert.uuid"])
		}
	}

	// A manual run (backfill) over the same range with the server stopped
	// finds the same two alerts and creates none.
	p.cmd.Process.Signal(syscall.SIGTERM)
	p.cmd.Wait()
	stopped = true
	code, out, errs := runCLI(t, "rules", "run", "--data", dir, "--rules", rules, "--from", "now-2m", "--to", "now", "--format", "ndjson", refRuleID)
	if code != 0 {
		t.Fatalf("rules run: exit %d\n%s\n%s", code, out, errs)
	}
	if !strings.Contains(errs, ": 0 alerts created, 0 left over max_signals, 2 already there") {
		t.Errorf("rules run summary: %s", errs)
	}
	if n := strings.Count(out, `"type":"manual"`); n < 50 {
		t.Errorf("%d manual executions over 2 minutes at a 2s interval, want about 60", n)
	}
}

// Documents without a client id are stored several to a log message; the
// scheduler still sees each one: three positives, three alerts.
func TestServeAlertsAutoIDs(t *testing.T) {
	if testing.Short() {
		t.Skip("starts vigil serve")
	}
	dir := t.TempDir()
	rules := refRuleCopy(t, dir)
	addr := freeAddr(t)
	p := startServe(t, dir, addr, "--rules", rules, "--tick", "200ms")
	defer func() {
		p.cmd.Process.Signal(syscall.SIGTERM)
		p.cmd.Wait()
	}()
	body, _ := refDocs(time.Now())
	var b strings.Builder
	for _, l := range strings.Split(strings.TrimSpace(body), "\n") {
		if strings.HasPrefix(l, `{"index":`) {
			l = `{"create":{"_index":"logs-endpoint.events.process-default"}}` // no _id
		}
		b.WriteString(l + "\n")
	}
	for range 3 { // the two positives three times: six alerts, as ids differ
		bulk(t, addr, b.String())
	}
	var got apiAlerts
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if got = getAlerts(t, addr); got.Total >= 6 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(2 * time.Second)
	if got = getAlerts(t, addr); got.Total != 6 {
		t.Fatalf("%d alerts, want 6 (2 positives x 3 requests)\n%s", got.Total, p.out)
	}
}
