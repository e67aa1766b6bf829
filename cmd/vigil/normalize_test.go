package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const userCreationEVTX = "../../../shared/telemetry/windows-evtx/hayabusa__T1136__ID4688-User_creation_via_commandline.evtx"

func needEVTX(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(userCreationEVTX)
	if err != nil {
		t.Skipf("reference EVTX not present (%v); this test needs ../shared/telemetry", err)
	}
	return b
}

func TestNormalizeEVTX(t *testing.T) {
	needEVTX(t)
	code, out, errs := runCLI(t, "normalize", userCreationEVTX)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 9 {
		t.Fatalf("%d documents, want 9", len(lines))
	}
	codes := map[string]int{}
	for _, l := range lines {
		var d struct {
			Index string `json:"_index"`
			Event struct {
				Code string `json:"code"`
			} `json:"event"`
			Host struct {
				OS struct {
					Type string `json:"type"`
				} `json:"os"`
			} `json:"host"`
		}
		if err := json.Unmarshal([]byte(l), &d); err != nil {
			t.Fatalf("%v: %s", err, l)
		}
		if d.Index != "logs-system.security-default" || d.Host.OS.Type != "windows" {
			t.Errorf("_index %q, host.os.type %q", d.Index, d.Host.OS.Type)
		}
		codes[d.Event.Code]++
	}
	if codes["4688"] != 2 || codes["4720"] != 1 {
		t.Errorf("event codes %v, want 2 × 4688 and 1 × 4720", codes)
	}
	if !strings.Contains(errs, "1 files, 9 records, 0 errors") {
		t.Errorf("summary: %q", errs)
	}
}

func TestNormalizeJSONPassesThrough(t *testing.T) {
	in := `{"a":1,"b":"x"}` + "\n\n" + `{"c":[1, 2]}` + "\n"
	var out, errb bytes.Buffer
	code := run([]string{"normalize"}, strings.NewReader(in), &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if want := `{"a":1,"b":"x"}` + "\n" + `{"c":[1, 2]}` + "\n"; out.String() != want {
		t.Errorf("output %q, want %q", out.String(), want)
	}
	if !strings.Contains(errb.String(), "1 files, 2 records, 0 errors") {
		t.Errorf("summary: %q", errb.String())
	}
	// Pretty-printed array elements become one line each.
	out.Reset()
	errb.Reset()
	code = run([]string{"normalize"}, strings.NewReader("[\n {\n  \"a\": 1\n },\n {\"b\": 2}\n]\n"), &out, &errb)
	if code != 0 || out.String() != "{\"a\":1}\n{\"b\": 2}\n" {
		t.Errorf("array: exit %d, output %q", code, out.String())
	}
}

func TestNormalizeDamagedEVTX(t *testing.T) {
	data := bytes.Clone(needEVTX(t))
	data[4096+8] ^= 0xff // the only chunk's header checksum no longer matches
	path := filepath.Join(t.TempDir(), "bad.evtx")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCLI(t, "normalize", path, "does-not-exist.evtx")
	if code != exitInput {
		t.Errorf("exit %d, want %d", code, exitInput)
	}
	if out != "" {
		t.Errorf("output %q", out)
	}
	for _, want := range []string{path + ": evtx chunk 0 at offset 0x1000 skipped", "does-not-exist.evtx", "0 records, 2 errors"} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs)
		}
	}
}

// The built-in pack's "User Account Creation" rule fires on the raw EVTX:
// Security 4688 records of net.exe / net1.exe ... user ... /add.
func TestHuntEVTXUserCreation(t *testing.T) {
	needEVTX(t)
	code, out, errs := runCLI(t, "hunt", "--format", "ndjson", userCreationEVTX)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	names := map[string]bool{}
	for _, l := range lines {
		var a map[string]any
		if err := json.Unmarshal([]byte(l), &a); err != nil {
			t.Fatalf("%v: %s", err, l)
		}
		if a["kibana.alert.rule.rule_id"] != "1aa9181a-492b-4c01-8b16-fa0735786b2b" {
			t.Errorf("alert of rule %v", a["kibana.alert.rule.rule_id"])
		}
		p, _ := a["process"].(map[string]any)
		name, _ := p["name"].(string)
		names[name] = true
	}
	// net1.exe alerts too: these 4688 records carry no ParentProcessName, so
	// process.parent.name is null and `not process.parent.name : "net.exe"`
	// is true under EQL's null semantics.
	if len(lines) < 1 || !names["net.exe"] {
		t.Errorf("%d alerts on processes %v; want at least the net.exe one", len(lines), names)
	}
}

// Over all of windows-evtx/, only the two 4688 records of net.exe and
// net1.exe "user ... /add" alert: not the Sysmon "cmd.exe /c net user" of the
// IIS web shell, the 4688 user enumeration records, nor the Sigma reg.exe
// record whose parent command line holds "NET USER ... /ADD".
func TestHuntEVTXDirectoryNearMisses(t *testing.T) {
	needEVTX(t)
	code, out, errs := runCLI(t, "hunt", "--format", "ndjson", filepath.Dir(userCreationEVTX))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var got []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var a struct {
			Process struct {
				Name string `json:"name"`
			} `json:"process"`
			Log struct {
				File struct {
					Path string `json:"path"`
				} `json:"file"`
			} `json:"log"`
		}
		if err := json.Unmarshal([]byte(l), &a); err != nil {
			t.Fatalf("%v: %s", err, l)
		}
		got = append(got, filepath.Base(a.Log.File.Path)+" "+a.Process.Name)
	}
	want := []string{filepath.Base(userCreationEVTX) + " net.exe", filepath.Base(userCreationEVTX) + " net1.exe"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("alerts on\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
