package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	samples "github.com/vigilsec/vigil/internal/vendorsamples"
)

// mixedSamples writes the constructed vendor samples (positive and near
// misses of every source, built from the real events in ../shared) to one
// gzip NDJSON file and returns its path.
func mixedSamples(t *testing.T) (string, []samples.Sample) {
	all, err := samples.Build("../../../shared")
	if err != nil {
		t.Skipf("../shared telemetry not present (%v): skipping", err)
	}
	var plain bytes.Buffer
	for _, s := range all {
		plain.Write(s.Line)
		plain.WriteByte('\n')
	}
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write(plain.Bytes())
	w.Close()
	p := filepath.Join(t.TempDir(), "mixed.ndjson.gz")
	if err := os.WriteFile(p, gz.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p, all
}

// vigil hunt over a gzip file mixing every vendor format: the reference rule
// fires once per source (its positive) and never on a near miss.
func TestHuntVendorFormats(t *testing.T) {
	p, all := mixedSamples(t)
	code, out, errs := runCLI(t, "hunt", "--format", "ndjson", p)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var got []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var a map[string]any
		if err := json.Unmarshal([]byte(l), &a); err != nil {
			t.Fatalf("%v: %s", err, l)
		}
		proc, _ := a["process"].(map[string]any)
		cmd, _ := proc["command_line"].(string)
		got = append(got, cmd)
	}
	var want []string
	for _, s := range all {
		if s.Fire {
			for _, g := range got {
				if strings.Contains(g, s.Marker) {
					want = append(want, g)
				}
			}
		}
	}
	sort.Strings(got)
	sort.Strings(want)
	if len(got) != 5 || strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("alerts on\n%s\nwant one per source on the positives", strings.Join(got, "\n"))
	}
}

// vigil normalize turns every record into a document of its integration's
// index; --source forces one format; an unknown name is a usage error.
func TestNormalizeVendorFormats(t *testing.T) {
	p, all := mixedSamples(t)
	code, out, errs := runCLI(t, "normalize", p)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != len(all) {
		t.Fatalf("%d documents for %d records", len(lines), len(all))
	}
	idx := map[string]int{}
	for _, l := range lines {
		var d struct {
			Index string                   `json:"_index"`
			DS    struct{ Dataset string } `json:"data_stream"`
		}
		if err := json.Unmarshal([]byte(l), &d); err != nil {
			t.Fatal(err)
		}
		idx[d.Index+d.DS.Dataset]++
	}
	for _, k := range []string{"logs-crowdstrike.fdr-defaultcrowdstrike.fdr", "logs-sentinel_one_cloud_funnel.event-defaultsentinel_one_cloud_funnel.event",
		"logs-m365_defender.event-defaultm365_defender.event", "endgame-8.4.0", "endpoint.events.process"} {
		if idx[k] != 5 {
			t.Errorf("%d documents for %s (%v)", idx[k], k, idx)
		}
	}

	// Forced: every record read as ECS passes through unchanged.
	code, out, _ = runCLI(t, "normalize", "--source", "ecs", p)
	if code != 0 || strings.Count(out, `"_index":"logs-crowdstrike.fdr-default"`) != 0 {
		t.Errorf("--source ecs: exit %d, vendor records normalised anyway", code)
	}
	if code, _, errs := runCLI(t, "normalize", "--source", "bogus", p); code != 2 || !strings.Contains(errs, "unknown source") {
		t.Errorf("--source bogus: exit %d: %s", code, errs)
	}
}

// A vendor record that cannot be mapped is reported as file:line, the run
// goes on, and the exit status says so.
func TestHuntMalformedVendorRecord(t *testing.T) {
	p := filepath.Join(t.TempDir(), "fdr.ndjson")
	data := `{"event_simpleName":"ProcessRollup2","event_platform":"Win"}` + "\n" +
		`{"event_simpleName":"ProcessRollup2","event_platform":"Win","timestamp":"1700000000000","ImageFileName":"\\Device\\HarddiskVolume3\\Windows\\System32\\net.exe","CommandLine":"net user bob x /add","ParentBaseFileName":"cmd.exe"}` + "\n"
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCLI(t, "hunt", "--format", "ndjson", "--stats", p)
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	if !strings.Contains(errs, "fdr.ndjson:1: crowdstrike:") || !strings.Contains(errs, "1 rejected (malformed)") {
		t.Errorf("stderr:\n%s", errs)
	}
	if strings.Count(out, "\n") != 1 {
		t.Errorf("want the alert of line 2, got:\n%s", out)
	}
}

// vigil eql reads vendor formats too: the reference rule's query finds the
// positives of every source (eql has no index gating, so the index of each
// hit is the file's).
func TestEQLVendorFormats(t *testing.T) {
	p, all := mixedSamples(t)
	q := `process where host.os.type == "windows" and event.type == "start" and
  (process.name : ("net.exe", "net1.exe") and not process.parent.name : "net.exe") and
  (process.args : "user" and process.args : ("/ad", "/add"))`
	code, out, errs := runCLI(t, "eql", "--format", "ndjson", q, p)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	n := 0
	for _, s := range all {
		if s.Fire && strings.Contains(out, s.Marker) {
			n++
		}
		if !s.Fire && strings.Contains(out, s.Marker) {
			t.Errorf("near miss %s %s matched", s.Source, s.Label)
		}
	}
	if n != 5 {
		t.Errorf("%d of 5 positives matched:\n%s", n, out)
	}
	if code, _, _ := runCLI(t, "eql", "--source", "nope", q, p); code != 2 {
		t.Errorf("--source nope: exit %d", code)
	}
}
