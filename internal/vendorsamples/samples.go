// Package vendorsamples builds, for tests, "net user <name> <pw> /add" process
// events of each vendor format and their near misses. Every sample is
// CONSTRUCTED: it starts from a real event of the same source in
// ../shared/telemetry (read at run time, never copied into the repository)
// and changes, in memory, only the fields the vendor's documented schema
// names for the executable, command line, parent and OS. No public raw
// "net user /add" event exists for these sources (see
// ../shared/telemetry/README.md, "Gaps").
package vendorsamples

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Sample is one constructed raw record.
type Sample struct {
	Source string // format name (source.Lookup)
	Label  string // "positive" or what the near miss varies
	Marker string // the account name in the command line, unique per sample
	Fire   bool   // whether the reference rule must fire
	Line   []byte // the raw record, one line of JSON
}

// Kinds of sample, in order.
var kinds = []struct {
	label string
	fire  bool
}{
	{"positive", true},
	{"net1.exe under net.exe", false},
	{"localgroup", false},
	{"no /add", false},
	{"non-Windows", false},
}

// variant describes one sample in vendor-neutral terms.
type variant struct {
	exe, name, cmd, parent, parentExe string
	windows                           bool
}

func variants(source string) []variant {
	var out []variant
	for i, k := range kinds {
		m := fmt.Sprintf("vigil%s%d", strings.ReplaceAll(source, "_", ""), i)
		v := variant{exe: `C:\Windows\System32\net.exe`, name: "net.exe", cmd: "net user " + m + " P@ssw0rd! /add",
			parent: "cmd.exe", parentExe: `C:\Windows\System32\cmd.exe`, windows: true}
		switch k.label {
		case "net1.exe under net.exe":
			v.exe, v.name = `C:\Windows\System32\net1.exe`, "net1.exe"
			v.cmd = `C:\Windows\system32\net1  user ` + m + " P@ssw0rd! /add"
			v.parent, v.parentExe = "net.exe", `C:\Windows\System32\net.exe`
		case "localgroup":
			v.cmd = "net localgroup administrators " + m + " /add"
		case "no /add":
			v.cmd = "net user " + m + " P@ssw0rd!"
		case "non-Windows":
			v.windows = false
		}
		out = append(out, v)
	}
	return out
}

// Build returns the samples of every source, reading the real base events
// under shared (the ../shared directory).
func Build(shared string) ([]Sample, error) {
	var all []Sample
	for _, b := range builders {
		base, err := b.base(shared)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", b.source, err)
		}
		for i, v := range variants(b.source) {
			m := map[string]any{}
			if err := json.Unmarshal(base, &m); err != nil {
				return nil, fmt.Errorf("%s: %w", b.source, err)
			}
			b.apply(m, v)
			line, err := json.Marshal(m)
			if err != nil {
				return nil, err
			}
			all = append(all, Sample{Source: b.source, Label: kinds[i].label, Marker: marker(v.cmd), Fire: kinds[i].fire, Line: line})
		}
	}
	return all, nil
}

func marker(cmd string) string {
	for _, f := range strings.Fields(cmd) {
		if strings.HasPrefix(f, "vigil") {
			return f
		}
	}
	return ""
}

var builders = []struct {
	source string
	base   func(shared string) ([]byte, error)
	apply  func(m map[string]any, v variant)
}{
	{"crowdstrike", func(s string) ([]byte, error) {
		return firstLine(filepath.Join(s, "telemetry/elastic-fixtures/crowdstrike__fdr/test-windows.log.EXCERPT-ProcessRollup2.log"), nil)
	}, func(m map[string]any, v variant) {
		// FDR ImageFileName is an NT device path.
		m["ImageFileName"] = `\Device\HarddiskVolume3` + strings.TrimPrefix(v.exe, "C:")
		m["CommandLine"] = v.cmd
		m["ParentBaseFileName"] = v.parent
		m["event_platform"] = "Win"
		if !v.windows {
			m["event_platform"] = "Lin"
			m["ImageFileName"] = "/usr/bin/net"
		}
	}},
	{"sentinelone", func(s string) ([]byte, error) {
		return firstLine(filepath.Join(s, "telemetry/sentinel_one_cloud_funnel/test-process.log"), nil)
	}, func(m map[string]any, v variant) {
		m["tgt.process.name"] = v.name
		m["tgt.process.displayName"] = v.name
		m["tgt.process.image.path"] = v.exe
		// Cloud Funnel quotes some command lines whole; the pipeline trims
		// one pair of quotes, so the positive exercises that.
		m["tgt.process.cmdline"] = `"` + v.cmd + `"`
		m["src.process.name"] = v.parent
		m["src.process.image.path"] = v.parentExe
		m["endpoint.os"] = "windows"
		if !v.windows {
			m["endpoint.os"] = "linux"
			m["tgt.process.image.path"] = "/usr/bin/net"
		}
	}},
	{"m365defender", func(s string) ([]byte, error) {
		return firstLine(filepath.Join(s, "telemetry/elastic-fixtures/m365_defender__event/test-device.log"), []byte(`"AdvancedHunting-DeviceProcessEvents"`))
	}, func(m map[string]any, v variant) {
		p := m["properties"].(map[string]any)
		p["FileName"] = v.name
		p["FolderPath"] = v.exe
		p["ProcessCommandLine"] = v.cmd
		p["InitiatingProcessFileName"] = v.parent
		p["InitiatingProcessFolderPath"] = strings.ToLower(v.parentExe)
		if !v.windows {
			// The tables have no OS column: only the account SID makes
			// the pipeline call the host Windows.
			p["InitiatingProcessAccountSid"] = nil
			p["FolderPath"] = "/usr/bin/net"
		}
	}},
	{"endgame", func(s string) ([]byte, error) {
		return firstLine(filepath.Join(s, "conformance/eql/events/pyeql_test_data.ndjson"), []byte(`"creation_event"`))
	}, func(m map[string]any, v variant) {
		m["process_name"] = v.name
		m["process_path"] = v.exe
		m["command_line"] = v.cmd
		m["parent_process_name"] = v.parent
		m["parent_process_path"] = v.parentExe
		if !v.windows {
			m["process_path"] = "/usr/bin/net"
			m["parent_process_path"] = "/bin/bash"
		}
	}},
	{"ecs", func(s string) ([]byte, error) {
		return os.ReadFile(filepath.Join(s, "telemetry/elastic_defend/sample_event.json"))
	}, func(m map[string]any, v variant) {
		p := m["process"].(map[string]any)
		p["name"] = v.name
		p["executable"] = v.exe
		p["command_line"] = v.cmd
		args := strings.Fields(v.cmd)
		list := make([]any, len(args))
		for i, a := range args {
			list[i] = a
		}
		p["args"] = list
		p["args_count"] = len(args)
		par := p["parent"].(map[string]any)
		par["name"] = v.parent
		par["executable"] = v.parentExe
		if !v.windows {
			m["host"].(map[string]any)["os"].(map[string]any)["type"] = "linux"
		}
	}},
}

// firstLine returns the first line of path containing want (any line when
// want is nil).
func firstLine(path string, want []byte) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if l := bytes.TrimSpace(sc.Bytes()); len(l) > 0 && (want == nil || bytes.Contains(l, want)) {
			return append([]byte(nil), l...), nil
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("%s: no line with %s", path, want)
}
