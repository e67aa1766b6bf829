package winlog

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/vigilsec/vigil/evtx"
)

// The records here are built in memory with the event_data names and value
// renderings Sysmon and the Security auditing provider write (the schemas
// of the events); values are illustrative.

func sval(v string) evtx.Value { return evtx.Value{Type: evtx.StringType, Str: v} }

// mkRecord builds a record; kv are event_data name/value pairs in order.
func mkRecord(channel, provider string, id int, keywords string, kv ...string) *evtx.Record {
	el := func(name string, v ...evtx.Value) *evtx.Element { return &evtx.Element{Name: name, Values: v} }
	sys := &evtx.Element{Name: "System", Children: []*evtx.Element{
		{Name: "Provider", Attrs: []evtx.Attr{{Name: "Name", Value: sval(provider)}}},
		el("EventID", sval(strconv.Itoa(id))),
		el("Version", sval("2")),
		el("Level", sval("4")),
		el("Task", sval(strconv.Itoa(id))),
		el("Opcode", sval("0")),
		el("Keywords", sval(keywords)),
		{Name: "TimeCreated", Attrs: []evtx.Attr{{Name: "SystemTime", Value: sval("2024-03-01T10:00:00.1234567Z")}}},
		el("EventRecordID", sval("42")),
		{Name: "Execution", Attrs: []evtx.Attr{{Name: "ProcessID", Value: sval("4")}, {Name: "ThreadID", Value: sval("8")}}},
		el("Channel", sval(channel)),
		el("Computer", sval("WS01.corp.local")),
		{Name: "Security", Attrs: []evtx.Attr{{Name: "UserID", Value: sval("S-1-5-18")}}},
	}}
	ed := &evtx.Element{Name: "EventData"}
	for i := 0; i+1 < len(kv); i += 2 {
		ed.Children = append(ed.Children, &evtx.Element{Name: "Data", Attrs: []evtx.Attr{{Name: "Name", Value: sval(kv[i])}}, Values: []evtx.Value{sval(kv[i+1])}})
	}
	return &evtx.Record{ID: 42, Root: &evtx.Element{Name: "Event", Children: []*evtx.Element{sys, ed}}}
}

func normalizeRec(t *testing.T, rec *evtx.Record) map[string]any {
	t.Helper()
	b, err := Normalize(rec, "")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("invalid JSON: %v\n%s", err, b)
	}
	return m
}

func sysmonDoc(t *testing.T, id int, kv ...string) map[string]any {
	t.Helper()
	return normalizeRec(t, mkRecord(SysmonChannel, "Microsoft-Windows-Sysmon", id, "0x8000000000000000", kv...))
}

func securityDoc(t *testing.T, id int, kv ...string) map[string]any {
	t.Helper()
	return normalizeRec(t, mkRecord(SecurityChannel, "Microsoft-Windows-Security-Auditing", id, "0x8020000000000000", kv...))
}

func objs(m ...map[string]any) []any {
	out := make([]any, len(m))
	for i, v := range m {
		out[i] = v
	}
	return out
}

func TestSysmon3Network(t *testing.T) {
	d := sysmonDoc(t, 3,
		"RuleName", "-", "UtcTime", "2024-03-01 10:00:00.250", "ProcessGuid", "{11111111-2222-3333-4444-555555555555}",
		"ProcessId", "3120", "Image", `C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`, "User", `CORP\alice`,
		"Protocol", "tcp", "Initiated", "true", "SourceIsIpv6", "false", "SourceIp", "10.0.0.5", "SourceHostname", "WS01.corp.local",
		"SourcePort", "50123", "SourcePortName", "-", "DestinationIsIpv6", "false", "DestinationIp", "93.184.216.34",
		"DestinationHostname", "-", "DestinationPort", "443", "DestinationPortName", "https")
	check(t, d, map[string]any{
		"@timestamp":         "2024-03-01T10:00:00.250Z",
		"_index":             "logs-windows.sysmon_operational-default",
		"event.code":         "3",
		"event.category":     strs("network"),
		"event.type":         strs("start", "connection", "protocol"),
		"event.action":       "Network connection",
		"process.pid":        float64(3120),
		"process.entity_id":  "{11111111-2222-3333-4444-555555555555}",
		"process.executable": `C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`,
		"process.name":       "powershell.exe",
		"source.ip":          "10.0.0.5",
		"source.port":        float64(50123),
		"source.domain":      "WS01.corp.local",
		"destination.ip":     "93.184.216.34",
		"destination.port":   float64(443),
		"destination.domain": nil,
		"network.transport":  "tcp",
		"network.protocol":   "https",
		"network.direction":  "egress",
		"network.type":       "ipv4",
		"user.name":          "alice",
		"user.domain":        "CORP",
		"user.id":            "S-1-5-18",
		"related.user":       strs("alice"),
		"related.ip":         strs("10.0.0.5", "93.184.216.34"),
		"rule.name":          nil,
		// Community ID v1 of tcp 10.0.0.5:50123 -> 93.184.216.34:443
		// (TestCommunityID pins the algorithm on published vectors).
		"network.community_id": communityIDOf(t, "10.0.0.5", "93.184.216.34", 50123, 443, 6),
		"winlog.event_data":    nil, // everything renamed or removed
		"process.parent":       nil,
		"file":                 nil,
	})
}

func TestSysmon11FileCreate(t *testing.T) {
	d := sysmonDoc(t, 11,
		"RuleName", "-", "UtcTime", "2024-03-01 10:00:01.000", "ProcessGuid", "{11111111-2222-3333-4444-555555555555}",
		"ProcessId", "3120", "Image", `C:\Windows\System32\cmd.exe`, "TargetFilename", `C:\Users\alice\AppData\Roaming\evil.ps1`,
		"CreationUtcTime", "2024-03-01 10:00:01.000", "User", `CORP\alice`)
	check(t, d, map[string]any{
		"event.category":                    strs("file"),
		"event.type":                        strs("creation"),
		"event.action":                      "FileCreate",
		"file.path":                         `C:\Users\alice\AppData\Roaming\evil.ps1`,
		"file.name":                         "evil.ps1",
		"file.directory":                    `C:\Users\alice\AppData\Roaming`,
		"file.extension":                    "ps1",
		"process.name":                      "cmd.exe",
		"process.pid":                       float64(3120),
		"winlog.event_data.CreationUtcTime": "2024-03-01 10:00:01.000",
		"winlog.event_data.TargetFilename":  nil,
	})
}

func TestSysmon13RegistryValueSet(t *testing.T) {
	d := sysmonDoc(t, 13,
		"RuleName", "T1060,RunKey", "EventType", "SetValue", "UtcTime", "2024-03-01 10:00:02.000",
		"ProcessGuid", "{11111111-2222-3333-4444-555555555555}", "ProcessId", "3120", "Image", `C:\Windows\regedit.exe`,
		"TargetObject", `HKU\S-1-5-21-1-2-3-1001\Software\Microsoft\Windows\CurrentVersion\Run\Updater`,
		"Details", `C:\Users\alice\updater.exe`, "User", `CORP\alice`)
	check(t, d, map[string]any{
		"event.category":                 strs("configuration", "registry"),
		"event.type":                     strs("change"),
		"event.action":                   "RegistryEvent (Value Set)",
		"rule.name":                      "T1060,RunKey",
		"registry.path":                  `HKU\S-1-5-21-1-2-3-1001\Software\Microsoft\Windows\CurrentVersion\Run\Updater`,
		"registry.hive":                  "HKU",
		"registry.key":                   `S-1-5-21-1-2-3-1001\Software\Microsoft\Windows\CurrentVersion\Run\Updater`,
		"registry.value":                 "Updater",
		"registry.data.strings":          strs(`C:\Users\alice\updater.exe`),
		"registry.data.type":             "REG_SZ",
		"process.name":                   "regedit.exe",
		"winlog.event_data.EventType":    "SetValue",
		"winlog.event_data.Details":      `C:\Users\alice\updater.exe`,
		"winlog.event_data.TargetObject": nil,
	})
	// DWORD and QWORD details are decoded as the pipeline does (including its
	// (high << 8) + low arithmetic for QWORDs).
	d = sysmonDoc(t, 13, "TargetObject", `HKLM\System\CurrentControlSet\Control\Lsa\DisableRestrictedAdmin`, "Details", "DWORD (0x00000001)")
	check(t, d, map[string]any{"registry.data.strings": strs("1"), "registry.data.type": "SZ_DWORD", "registry.hive": "HKLM"})
	d = sysmonDoc(t, 13, "TargetObject", `HKLM\X\Y`, "Details", "QWORD (0x00000001-0x00000002)")
	check(t, d, map[string]any{"registry.data.strings": strs("258"), "registry.data.type": "SZ_QWORD"})
	d = sysmonDoc(t, 13, "TargetObject", `HKLM\X\Y`, "Details", "Binary Data")
	check(t, d, map[string]any{"registry.data.strings": strs("Binary Data"), "registry.data.type": "REG_BINARY"})
}

func TestSysmon22DNS(t *testing.T) {
	d := sysmonDoc(t, 22,
		"RuleName", "-", "UtcTime", "2024-03-01 10:00:03.000", "ProcessGuid", "{11111111-2222-3333-4444-555555555555}",
		"ProcessId", "3120", "QueryName", "www.example.com", "QueryStatus", "0",
		"QueryResults", "type:  5 example.edgesuite.net;::ffff:93.184.216.34;::ffff:93.184.216.35;",
		"Image", `C:\Program Files\Mozilla Firefox\firefox.exe`, "User", `CORP\alice`)
	check(t, d, map[string]any{
		"event.category":                 strs("network"),
		"event.type":                     strs("connection", "protocol", "info"),
		"event.action":                   "DNSEvent (DNS query)",
		"dns.question.name":              "www.example.com",
		"dns.question.registered_domain": "example.com",
		"dns.question.top_level_domain":  "com",
		"dns.question.subdomain":         "www",
		"dns.question.domain":            nil, // the pipeline removes it
		"dns.answers": objs(
			map[string]any{"type": "CNAME", "data": "example.edgesuite.net"},
			map[string]any{"type": "A", "data": "93.184.216.34"},
			map[string]any{"type": "A", "data": "93.184.216.35"}),
		"dns.resolved_ip":    strs("93.184.216.34", "93.184.216.35"),
		"network.protocol":   "dns",
		"sysmon.dns.status":  "SUCCESS",
		"related.hosts":      strs("example.edgesuite.net", "www.example.com"),
		"related.ip":         strs("93.184.216.34", "93.184.216.35"),
		"process.name":       "firefox.exe",
		"process.executable": `C:\Program Files\Mozilla Firefox\firefox.exe`,
		"winlog.event_data":  nil,
	})
}

// TestSysmon7Fixture builds the record of Elastic's Sysmon image-load pipeline
// test (its event.original XML, values as listed there) and compares the
// rule-relevant fields with Elastic's expected document.
func TestSysmon7Fixture(t *testing.T) {
	dir := needFile(t, filepath.Join(telemetry, "elastic-fixtures", "windows__sysmon_operational"))
	b, err := os.ReadFile(filepath.Join(dir, "test-image-loaded-failed-signature.json-expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var out struct {
		Expected []map[string]any `json:"expected"`
	}
	if err := json.Unmarshal(b, &out); err != nil || len(out.Expected) != 1 {
		t.Fatalf("fixture shape changed: %v", err)
	}
	want := out.Expected[0]
	// The event_data of the fixture's event.original, in order.
	kv := []string{"RuleName", "-", "UtcTime", "2020-10-28 02:39:26.374", "ProcessGuid", "{9f32b55f-d9de-5f98-f006-000000000600}",
		"ProcessId", "5184", "Image", `C:\Windows\System32\dllhost.exe`, "ImageLoaded", `C:\Windows\System32\IDStore.dll`,
		"FileVersion", "10.0.17763.1 (WinBuild.160101.0800)", "Description", "Identity Store",
		"Product", "Microsoft« Windows« Operating System", "Company", "Microsoft Corporation", "OriginalFileName", "IdStore.dll",
		"Hashes", "SHA1=9955A1C071C44A7CEECC0D928A9CFB7F64CC3F93,MD5=C7C45610F644906E6F7D664EF2E45B08,SHA256=4808F1101F4E42387D8DDB7A355668BAE3BF6F781C42D3BCD82E23446B1DEB3E,IMPHASH=194F3797B52231028C718B6D776C6853",
		"Signed", "failed: Invalid hash", "Signature", "-", "SignatureStatus", "-", "User", `DOMAIN\username`}
	orig, _ := get(want, "event.original").(string)
	for i := 1; i < len(kv); i += 2 {
		if kv[i] != "-" && !strings.Contains(orig, ">"+kv[i]+"<") && !strings.Contains(orig, ">"+doubleBS(kv[i])+"<") {
			t.Fatalf("fixture event.original does not hold %s=%q", kv[i-1], kv[i])
		}
	}
	got := sysmonDoc(t, 7, kv...)
	for _, f := range []string{
		"@timestamp", "event.category", "event.type", "event.action", "event.code", "event.kind",
		"process.name", "process.executable", "process.pid", "process.entity_id",
		"file.path", "file.name", "file.directory", "file.extension", "file.hash", "file.pe",
		"dll.name", "dll.path", "dll.hash", "dll.pe",
		"user.name", "user.domain", "related.user", "winlog.event_data",
	} {
		if g, x := get(got, f), get(want, f); !reflect.DeepEqual(g, x) {
			t.Errorf("%s = %#v, Elastic expects %#v", f, g, x)
		}
	}
	// related.hash: the same set (Elastic's order is a HashMap's).
	g, _ := get(got, "related.hash").([]any)
	x, _ := get(want, "related.hash").([]any)
	if len(g) != len(x) {
		t.Errorf("related.hash = %v, Elastic expects %v", g, x)
	}
	for _, h := range x {
		found := false
		for _, v := range g {
			found = found || v == h
		}
		if !found {
			t.Errorf("related.hash lacks %v", h)
		}
	}
}

func doubleBS(s string) string {
	return strings.ReplaceAll(s, `\`, `\\`)
}

func TestSysmon10ProcessAccess(t *testing.T) {
	d := sysmonDoc(t, 10,
		"RuleName", "-", "UtcTime", "2024-03-01 10:00:04.000", "SourceProcessGUID", "{AAAAAAAA-2222-3333-4444-555555555555}",
		"SourceProcessId", "4242", "SourceThreadId", "4300", "SourceImage", `C:\Users\alice\mimikatz.exe`,
		"TargetProcessGUID", "{BBBBBBBB-2222-3333-4444-555555555555}", "TargetProcessId", "640",
		"TargetImage", `C:\Windows\system32\lsass.exe`, "GrantedAccess", "0x1010",
		"CallTrace", `C:\Windows\SYSTEM32\ntdll.dll+9c534|UNKNOWN(00000000001A1BEC)`,
		"SourceUser", `CORP\alice`, "TargetUser", `NT AUTHORITY\SYSTEM`)
	check(t, d, map[string]any{
		"event.category":                      strs("process"),
		"event.type":                          strs("access"),
		"event.action":                        "ProcessAccess",
		"process.entity_id":                   "{AAAAAAAA-2222-3333-4444-555555555555}",
		"process.pid":                         float64(4242),
		"process.thread.id":                   float64(4300),
		"process.executable":                  `C:\Users\alice\mimikatz.exe`,
		"process.name":                        "mimikatz.exe",
		"winlog.event_data.TargetImage":       `C:\Windows\system32\lsass.exe`,
		"winlog.event_data.GrantedAccess":     "0x1010",
		"winlog.event_data.TargetProcessGUID": "{BBBBBBBB-2222-3333-4444-555555555555}",
		"winlog.event_data.CallTrace":         `C:\Windows\SYSTEM32\ntdll.dll+9c534|UNKNOWN(00000000001A1BEC)`,
		"winlog.event_data.SourceImage":       nil,
	})
	// Sysmon < 13 wrote TargetProcessGuid; the pipeline renames it.
	d = sysmonDoc(t, 10, "SourceImage", `C:\a.exe`, "TargetProcessGuid", "{CCCCCCCC-2222-3333-4444-555555555555}")
	check(t, d, map[string]any{
		"winlog.event_data.TargetProcessGUID": "{CCCCCCCC-2222-3333-4444-555555555555}",
		"winlog.event_data.TargetProcessGuid": nil,
	})
}

// TestSysmonOtherEvents pins categorisation and the main fields of Sysmon
// 5, 8, 12, 14, 15, 17, 18, 23, 25 and 26.
func TestSysmonOtherEvents(t *testing.T) {
	img := []string{"ProcessGuid", "{11111111-2222-3333-4444-555555555555}", "ProcessId", "3120", "Image", `C:\Tools\x.exe`}
	with := func(kv ...string) []string { return append(append([]string(nil), img...), kv...) }
	cases := []struct {
		id   int
		kv   []string
		want map[string]any
	}{
		{5, with("User", `CORP\alice`), map[string]any{
			"event.category": strs("process"), "event.type": strs("end"), "event.action": "Process terminated",
			"process.name": "x.exe", "process.pid": float64(3120), "user.name": "alice"}},
		{8, []string{"SourceProcessGuid", "{11111111-2222-3333-4444-555555555555}", "SourceProcessId", "3120",
			"SourceImage", `C:\Tools\x.exe`, "TargetProcessGuid", "{DDDDDDDD-2222-3333-4444-555555555555}",
			"TargetProcessId", "700", "TargetImage", `C:\Windows\explorer.exe`, "NewThreadId", "812",
			"StartAddress", "0x00007FF6A1B21000", "StartModule", "-", "StartFunction", "-"}, map[string]any{
			"event.category": strs("process"), "event.type": strs("change"), "event.action": "CreateRemoteThread",
			"process.entity_id": "{11111111-2222-3333-4444-555555555555}", "process.pid": float64(3120),
			"process.name": "x.exe", "winlog.event_data.TargetImage": `C:\Windows\explorer.exe`,
			"winlog.event_data.TargetProcessGUID": "{DDDDDDDD-2222-3333-4444-555555555555}",
			"winlog.event_data.StartAddress":      "0x00007FF6A1B21000", "winlog.event_data.StartModule": nil}},
		{12, with("EventType", "CreateKey", "TargetObject", `HKLM\SOFTWARE\Classes\ms-settings\shell\open\command`), map[string]any{
			"event.category": strs("configuration", "registry"), "event.type": strs("change"),
			"event.action": "RegistryEvent (Object create and delete)", "registry.hive": "HKLM",
			"registry.key": `SOFTWARE\Classes\ms-settings\shell\open\command`, "registry.value": "command",
			"registry.path": `HKLM\SOFTWARE\Classes\ms-settings\shell\open\command`, "registry.data": nil,
			"winlog.event_data.EventType": "CreateKey"}},
		{14, with("EventType", "RenameKey", "TargetObject", `HKCU\Software\Old`, "NewName", `HKCU\Software\New`), map[string]any{
			"event.action": "RegistryEvent (Key and Value Rename)", "registry.path": `HKCU\Software\Old`,
			"registry.hive": "HKCU", "registry.key": `Software\Old`, "registry.value": "Old",
			"winlog.event_data.NewName": `HKCU\Software\New`}},
		{15, with("TargetFilename", `C:\Users\alice\Downloads\a.exe:Zone.Identifier`, "Hash", "SHA256=ABCDEF01,IMPHASH=00000000000000000000000000000000"), map[string]any{
			"event.category": strs("file"), "event.type": strs("access"), "event.action": "FileCreateStreamHash",
			"file.path": `C:\Users\alice\Downloads\a.exe:Zone.Identifier`, "file.name": "a.exe:Zone.Identifier",
			"file.extension": "Identifier", "file.hash.sha256": "abcdef01", "file.pe": nil,
			"related.hash": strs("abcdef01"), "winlog.event_data.Hash": nil}},
		{17, with("EventType", "CreatePipe", "PipeName", `\MSSE-1234-server`), map[string]any{
			"event.category": strs("file"), "event.type": strs("creation"), "event.action": "PipeEvent (Pipe Created)",
			"file.name": `\MSSE-1234-server`, "file.path": nil, "process.name": "x.exe"}},
		{18, with("EventType", "ConnectPipe", "PipeName", `\lsarpc`), map[string]any{
			"event.category": strs("file"), "event.type": strs("access"), "event.action": "PipeEvent (Pipe Connected)",
			"file.name": `\lsarpc`}},
		{23, with("TargetFilename", `C:\Users\alice\payload.dll`, "Hashes", "SHA1=AB12,MD5=CD34", "IsExecutable", "true", "Archived", "true", "User", `CORP\alice`), map[string]any{
			"event.category": strs("file"), "event.type": strs("deletion"), "event.action": "FileDelete (File Delete archived)",
			"file.path": `C:\Users\alice\payload.dll`, "file.name": "payload.dll", "file.extension": "dll",
			"file.hash": nil, "process.hash.sha1": "ab12", "process.hash.md5": "cd34",
			"sysmon.file.archived": true, "sysmon.file.is_executable": true}},
		{25, with("Type", "Image is replaced"), map[string]any{
			"event.category": strs("process"), "event.type": strs("change"),
			"event.action": "ProcessTampering (Process image change)", "message": "Image is replaced",
			"winlog.event_data.Type": nil}},
		{26, with("TargetFilename", `C:\Temp\x.bat`, "Hashes", "MD5=CD34", "IsExecutable", "false"), map[string]any{
			"event.category": strs("file"), "event.type": strs("deletion"), "event.action": "FileDeleteDetected (File Delete logged)",
			"file.name": "x.bat", "file.directory": `C:\Temp`, "file.hash.md5": "cd34", "process.hash": nil,
			"sysmon.file.is_executable": false}},
	}
	for _, c := range cases {
		d := sysmonDoc(t, c.id, c.kv...)
		if get(d, "event.code") != strconv.Itoa(c.id) {
			t.Errorf("event.code = %v, want %d", get(d, "event.code"), c.id)
		}
		t.Run(strconv.Itoa(c.id), func(t *testing.T) { check(t, d, c.want) })
	}
}

func TestSecurityUserManagement(t *testing.T) {
	subject := []string{"SubjectUserSid", "S-1-5-21-1-2-3-500", "SubjectUserName", "Administrator",
		"SubjectDomainName", "CORP", "SubjectLogonId", "0x4a727"}
	target := []string{"TargetUserName", "backdoor", "TargetDomainName", "CORP", "TargetSid", "S-1-5-21-1-2-3-1105"}
	for _, c := range []struct {
		id     int
		typ    []any
		action string
	}{
		{4720, strs("user", "creation"), "added-user-account"},
		{4722, strs("user", "change"), "enabled-user-account"},
		{4724, strs("user", "change"), "reset-password"},
		{4725, strs("user", "deletion"), "disabled-user-account"},
		{4726, strs("user", "deletion"), "deleted-user-account"},
		{4738, strs("user", "change"), "modified-user-account"},
	} {
		kv := append(append(append([]string(nil), target...), subject...), "PrivilegeList", "-", "SamAccountName", "backdoor")
		d := securityDoc(t, c.id, kv...)
		t.Run(strconv.Itoa(c.id), func(t *testing.T) {
			check(t, d, map[string]any{
				"_index":                           "logs-system.security-default",
				"event.code":                       strconv.Itoa(c.id),
				"event.category":                   strs("iam"),
				"event.type":                       c.typ,
				"event.action":                     c.action,
				"event.outcome":                    "success",
				"user.id":                          "S-1-5-21-1-2-3-500",
				"user.name":                        "Administrator",
				"user.domain":                      "CORP",
				"user.target.id":                   "S-1-5-21-1-2-3-1105",
				"user.target.name":                 "backdoor",
				"user.target.domain":               "CORP",
				"related.user":                     strs("Administrator", "backdoor"),
				"winlog.logon.id":                  "0x4a727",
				"winlog.event_data.TargetUserName": "backdoor",
				"winlog.event_data.SamAccountName": "backdoor",
				"group":                            nil,
			})
		})
	}
	// user.target.name drops a UPN suffix.
	d := securityDoc(t, 4720, "TargetUserName", "bob@corp.local", "TargetSid", "S-1-5-21-1-2-3-1106")
	check(t, d, map[string]any{"user.target.name": "bob", "related.user": strs("bob", "bob@corp.local")})
}

// TestSecurity4720And4726EVTX checks the hayabusa create/delete pair.
func TestSecurity4720And4726EVTX(t *testing.T) {
	path := needFile(t, filepath.Join(telemetry, "windows-evtx", "hayabusa__T1136__ID4720-4726_Fast_created-deleted_user.evtx"))
	var n int
	for _, d := range normalizeFile(t, path) {
		code := get(d, "event.code")
		if code != "4720" && code != "4726" {
			continue
		}
		n++
		want := map[string]any{
			"event.category":     strs("iam"),
			"user.name":          "lambda-user",
			"user.domain":        "OFFSEC",
			"user.id":            "S-1-5-21-4230534742-2542757381-3142984815-1158",
			"user.target.name":   "admin-kriss",
			"user.target.domain": "OFFSEC",
			"user.target.id":     "S-1-5-21-4230534742-2542757381-3142984815-1166",
			"event.outcome":      "success",
		}
		if code == "4720" {
			want["event.type"] = strs("user", "creation")
			want["event.action"] = "added-user-account"
		} else {
			want["event.type"] = strs("user", "deletion")
			want["event.action"] = "deleted-user-account"
		}
		check(t, d, want)
	}
	if n != 2 {
		t.Errorf("%d 4720/4726 documents, want 2", n)
	}
}

// fixtureDocs normalises the winlog input events of an Elastic pipeline test
// file and returns them with the expected documents.
func fixtureDocs(t *testing.T, dir, name string) (got, want []map[string]any) {
	t.Helper()
	var in struct {
		Events []struct {
			Winlog struct {
				Channel      string            `json:"channel"`
				ProviderName string            `json:"provider_name"`
				ProviderGUID string            `json:"provider_guid"`
				Computer     string            `json:"computer_name"`
				RecordID     json.Number       `json:"record_id"`
				EventID      json.Number       `json:"event_id"`
				Version      json.Number       `json:"version"`
				TimeCreated  string            `json:"time_created"`
				Keywords     []string          `json:"keywords"`
				EventData    map[string]string `json:"event_data"`
				Process      struct {
					PID    json.Number `json:"pid"`
					Thread struct {
						ID json.Number `json:"id"`
					} `json:"thread"`
				} `json:"process"`
				User struct {
					Identifier string `json:"identifier"`
				} `json:"user"`
			} `json:"winlog"`
		} `json:"events"`
	}
	var out struct {
		Expected []map[string]any `json:"expected"`
	}
	for file, v := range map[string]any{name: &in, name + "-expected.json": &out} {
		b, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatal(err)
		}
	}
	if len(in.Events) != len(out.Expected) {
		t.Fatalf("%s: %d events, %d expected", name, len(in.Events), len(out.Expected))
	}
	for _, ev := range in.Events {
		w := ev.Winlog
		kw := "0x8020000000000000"
		for _, k := range w.Keywords {
			if k == "Audit Failure" {
				kw = "0x8010000000000000"
			}
		}
		el := func(name string, v ...evtx.Value) *evtx.Element { return &evtx.Element{Name: name, Values: v} }
		sys := &evtx.Element{Name: "System", Children: []*evtx.Element{
			{Name: "Provider", Attrs: []evtx.Attr{{Name: "Name", Value: sval(w.ProviderName)}, {Name: "Guid", Value: sval(w.ProviderGUID)}}},
			el("EventID", sval(w.EventID.String())),
			el("Version", sval(first(w.Version.String(), "0"))),
			el("Level", sval("0")),
			el("Keywords", sval(kw)),
			{Name: "TimeCreated", Attrs: []evtx.Attr{{Name: "SystemTime", Value: sval(w.TimeCreated)}}},
			el("EventRecordID", sval(w.RecordID.String())),
			el("Channel", sval(w.Channel)),
			el("Computer", sval(w.Computer)),
		}}
		if w.Process.PID != "" {
			sys.Children = append(sys.Children, &evtx.Element{Name: "Execution", Attrs: []evtx.Attr{
				{Name: "ProcessID", Value: sval(w.Process.PID.String())}, {Name: "ThreadID", Value: sval(first(w.Process.Thread.ID.String(), "0"))}}})
		}
		if w.User.Identifier != "" {
			sys.Children = append(sys.Children, &evtx.Element{Name: "Security", Attrs: []evtx.Attr{{Name: "UserID", Value: sval(w.User.Identifier)}}})
		}
		ed := &evtx.Element{Name: "EventData"}
		names := make([]string, 0, len(w.EventData))
		for k := range w.EventData {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			ed.Children = append(ed.Children, &evtx.Element{Name: "Data", Attrs: []evtx.Attr{{Name: "Name", Value: sval(k)}}, Values: []evtx.Value{sval(w.EventData[k])}})
		}
		got = append(got, normalizeRec(t, &evtx.Record{ID: 1, Root: &evtx.Element{Name: "Event", Children: []*evtx.Element{sys, ed}}}))
	}
	return got, out.Expected
}

func compareFields(t *testing.T, name string, got, want map[string]any, fields []string) {
	t.Helper()
	for _, f := range fields {
		if g, x := get(got, f), get(want, f); !reflect.DeepEqual(g, x) {
			t.Errorf("%s: %s = %#v, Elastic expects %#v", name, f, g, x)
		}
	}
}

// TestSecurityGroupMembershipFixtures compares 4728 and 4732 with Elastic's
// expected documents (windows.forwarded and system.security versions).
func TestSecurityGroupMembershipFixtures(t *testing.T) {
	base := needFile(t, filepath.Join(telemetry, "elastic-fixtures"))
	fields := []string{"event.category", "event.type", "event.action", "event.code", "event.outcome",
		"user.id", "user.name", "user.domain", "user.target.name", "user.target.group", "group",
		"related.user", "winlog.logon.id"}
	for _, name := range []string{"test-security-windows2016-4728.json", "test-security-windows2016-4732.json"} {
		for _, dir := range []string{"windows__forwarded", "system__security"} {
			got, want := fixtureDocs(t, filepath.Join(base, dir), name)
			for i := range got {
				compareFields(t, dir+"/"+name, got[i], want[i], fields)
				// The newer pipeline (system.security here) also takes the
				// member's domain from the 4th DN component; older ones did not.
				if x := get(want[i], "user.target.domain"); x != nil && get(got[i], "user.target.domain") != x {
					t.Errorf("%s: user.target.domain = %v, want %v", name, get(got[i], "user.target.domain"), x)
				}
			}
		}
	}
}

func TestSecurityLogon(t *testing.T) {
	d := securityDoc(t, 4624,
		"SubjectUserSid", "S-1-5-18", "SubjectUserName", "WS01$", "SubjectDomainName", "CORP", "SubjectLogonId", "0x3e7",
		"TargetUserSid", "S-1-5-21-1-2-3-1001", "TargetUserName", "alice", "TargetDomainName", "CORP",
		"TargetLogonId", "0x8dcdc", "LogonType", "10", "LogonProcessName", "User32 ", "AuthenticationPackageName", "Negotiate",
		"WorkstationName", "WS01", "LogonGuid", "{00000000-0000-0000-0000-000000000000}", "TransmittedServices", "-",
		"LmPackageName", "-", "KeyLength", "0", "ProcessId", "0x1c4", "ProcessName", `C:\Windows\System32\svchost.exe`,
		"IpAddress", "10.0.0.9", "IpPort", "0", "ImpersonationLevel", "%%1833", "ElevatedToken", "%%1842")
	check(t, d, map[string]any{
		"event.category":                    strs("authentication"),
		"event.type":                        strs("start"),
		"event.action":                      "logged-in",
		"event.outcome":                     "success",
		"user.id":                           "S-1-5-21-1-2-3-1001",
		"user.name":                         "alice",
		"user.domain":                       "CORP",
		"related.user":                      strs("alice", "WS01$"),
		"winlog.logon.type":                 "RemoteInteractive",
		"winlog.logon.id":                   "0x3e7", // the pipeline copies SubjectLogonId
		"source.ip":                         "10.0.0.9",
		"source.port":                       float64(0),
		"source.domain":                     "WS01",
		"process.pid":                       float64(0x1c4),
		"process.executable":                `C:\Windows\System32\svchost.exe`,
		"process.name":                      "svchost.exe",
		"winlog.event_data.TargetLogonId":   "0x8dcdc",
		"winlog.event_data.SubjectUserName": "WS01$",
		"winlog.event_data.LogonType":       "10",
		"winlog.event_data.IpAddress":       nil,
		"winlog.event_data.ProcessName":     nil,
	})

	d = normalizeRec(t, mkRecord(SecurityChannel, "Microsoft-Windows-Security-Auditing", 4625, "0x8010000000000000",
		"SubjectUserSid", "S-1-0-0", "SubjectUserName", "-", "SubjectDomainName", "-", "SubjectLogonId", "0x0",
		"TargetUserSid", "S-1-0-0", "TargetUserName", "administrator", "TargetDomainName", "WS01",
		"Status", "0xc000006d", "FailureReason", "%%2313", "SubStatus", "0xc000006a", "LogonType", "3",
		"WorkstationName", "KALI", "IpAddress", "192.168.56.20", "IpPort", "49152", "ProcessId", "0x0", "ProcessName", "-"))
	check(t, d, map[string]any{
		"event.category":                  strs("authentication"),
		"event.type":                      strs("start"),
		"event.action":                    "logon-failed",
		"event.outcome":                   "failure",
		"user.id":                         "S-1-0-0",
		"user.name":                       "administrator",
		"user.domain":                     "WS01",
		"winlog.logon.type":               "Network",
		"winlog.logon.id":                 "0x0",
		"winlog.logon.failure.status":     "This is either due to a bad username or authentication information",
		"winlog.logon.failure.sub_status": "User logon with misspelled or bad password",
		"source.ip":                       "192.168.56.20",
		"source.port":                     float64(49152),
		"source.domain":                   "KALI",
		"process.pid":                     float64(0),
		"process.executable":              nil,
		"related.user":                    strs("administrator"),
		"winlog.event_data.Status":        "0xc000006d",
	})
}

func TestSecurity4648And4672(t *testing.T) {
	d := securityDoc(t, 4648,
		"SubjectUserSid", "S-1-5-21-1-2-3-1001", "SubjectUserName", "alice", "SubjectDomainName", "CORP", "SubjectLogonId", "0x8dcdc",
		"LogonGuid", "{00000000-0000-0000-0000-000000000000}", "TargetUserName", "admin", "TargetDomainName", "CORP",
		"TargetLogonGuid", "{00000000-0000-0000-0000-000000000000}", "TargetServerName", "DC01", "TargetInfo", "DC01",
		"ProcessId", "0x4", "ProcessName", "", "IpAddress", "-", "IpPort", "-")
	check(t, d, map[string]any{
		"event.category":                     strs("authentication"),
		"event.type":                         strs("start"),
		"event.action":                       "logged-in-explicit",
		"user.id":                            "S-1-5-21-1-2-3-1001",
		"user.name":                          "alice",
		"user.domain":                        "CORP",
		"user.effective.name":                "admin",
		"user.effective.domain":              "CORP",
		"related.user":                       strs("admin", "alice"),
		"winlog.logon.id":                    "0x8dcdc",
		"process.pid":                        float64(4),
		"source":                             nil,
		"winlog.event_data.TargetServerName": "DC01",
	})

	d = securityDoc(t, 4672,
		"SubjectUserSid", "S-1-5-21-1-2-3-500", "SubjectUserName", "Administrator", "SubjectDomainName", "CORP",
		"SubjectLogonId", "0x4a727", "PrivilegeList", "SeSecurityPrivilege\r\n\t\t\tSeBackupPrivilege\r\n\t\t\tSeDebugPrivilege")
	check(t, d, map[string]any{
		"event.category":                  strs("iam"),
		"event.type":                      strs("admin"),
		"event.action":                    "logged-in-special",
		"user.id":                         "S-1-5-21-1-2-3-500",
		"user.name":                       "Administrator",
		"user.domain":                     "CORP",
		"related.user":                    strs("Administrator"),
		"winlog.logon.id":                 "0x4a727",
		"winlog.event_data.PrivilegeList": strs("SeSecurityPrivilege", "SeBackupPrivilege", "SeDebugPrivilege"),
	})
}

func TestSecurityServiceAndTasks(t *testing.T) {
	subject := []string{"SubjectUserSid", "S-1-5-21-1-2-3-500", "SubjectUserName", "Administrator",
		"SubjectDomainName", "CORP", "SubjectLogonId", "0x4a727"}
	d := securityDoc(t, 4697, append(append([]string(nil), subject...),
		"ServiceName", "PSEXESVC", "ServiceFileName", `%SystemRoot%\PSEXESVC.exe`, "ServiceType", "0x10",
		"ServiceStartType", "3", "ServiceAccount", "LocalSystem")...)
	check(t, d, map[string]any{
		"event.category":                    strs("iam", "configuration"),
		"event.type":                        strs("admin", "change"),
		"event.action":                      "service-installed",
		"service.name":                      "PSEXESVC",
		"service.type":                      "Win32 Own Process",
		"user.name":                         "Administrator",
		"user.id":                           "S-1-5-21-1-2-3-500",
		"winlog.logon.id":                   "0x4a727",
		"winlog.event_data.ServiceFileName": `%SystemRoot%\PSEXESVC.exe`,
		"winlog.event_data.ServiceName":     "PSEXESVC",
	})
	task := `<?xml version="1.0" encoding="UTF-16"?><Task version="1.2"><Actions Context="Author"><Exec><Command>C:\Users\Public\x.exe</Command></Exec></Actions></Task>`
	for _, c := range []struct {
		id     int
		typ    []any
		action string
		field  string
	}{
		{4698, strs("creation", "admin"), "scheduled-task-created", "TaskContent"},
		{4702, strs("change", "admin"), "scheduled-task-updated", "TaskContentNew"},
	} {
		d := securityDoc(t, c.id, append(append([]string(nil), subject...), "TaskName", `\Updater`, c.field, task)...)
		check(t, d, map[string]any{
			"event.category":               strs("iam", "configuration"),
			"event.type":                   c.typ,
			"event.action":                 c.action,
			"user.name":                    "Administrator",
			"user.domain":                  "CORP",
			"related.user":                 strs("Administrator"),
			"winlog.event_data.TaskName":   `\Updater`,
			"winlog.event_data." + c.field: task,
		})
	}
}

func TestSecurityShares(t *testing.T) {
	subject := []string{"SubjectUserSid", "S-1-5-21-1-2-3-1001", "SubjectUserName", "alice",
		"SubjectDomainName", "CORP", "SubjectLogonId", "0x8dcdc"}
	d := securityDoc(t, 5145, append(append([]string(nil), subject...),
		"ObjectType", "File", "IpAddress", "10.0.0.7", "IpPort", "52000", "ShareName", `\\*\C$`,
		"ShareLocalPath", `\??\C:\`, "RelativeTargetName", `Windows\Temp\payload.exe`, "AccessMask", "0x2")...)
	check(t, d, map[string]any{
		"event.category":                       strs("network", "file"),
		"event.type":                           strs("info", "access"),
		"event.action":                         "network-share-object-access-checked",
		"user.name":                            "alice",
		"source.ip":                            "10.0.0.7",
		"source.port":                          float64(52000),
		"file.name":                            `Windows\Temp\payload.exe`,
		"file.directory":                       `\??\C:\`,
		"file.path":                            `\??\C:\\Windows\Temp\payload.exe`,
		"file.target_path":                     `\\*\C$\Windows\Temp\payload.exe`,
		"file.extension":                       "exe",
		"winlog.event_data.ShareName":          `\\*\C$`,
		"winlog.event_data.IpAddress":          nil,
		"winlog.event_data.RelativeTargetName": `Windows\Temp\payload.exe`,
	})
	d = securityDoc(t, 5140, append(append([]string(nil), subject...),
		"ObjectType", "File", "IpAddress", "10.0.0.7", "IpPort", "52001", "ShareName", `\\*\ADMIN$`,
		"ShareLocalPath", `\??\C:\Windows`, "AccessMask", "0x1")...)
	check(t, d, map[string]any{
		"event.category": strs("network", "file"),
		"event.type":     strs("info", "access"),
		"event.action":   "network-share-object-accessed",
		"user.name":      "alice",
		"source.ip":      "10.0.0.7",
		"file.directory": `\??\C:\Windows`,
		"file.name":      nil,
		"file.path":      nil,
	})
}

func TestSecurity1102(t *testing.T) {
	rec := mkRecord(SecurityChannel, "Microsoft-Windows-Eventlog", 1102, "0x4020000000000000")
	ud := &evtx.Element{Name: "UserData", Children: []*evtx.Element{{Name: "LogFileCleared", Children: []*evtx.Element{
		{Name: "SubjectUserSid", Values: []evtx.Value{sval("S-1-5-21-1-2-3-500")}},
		{Name: "SubjectUserName", Values: []evtx.Value{sval("Administrator")}},
		{Name: "SubjectDomainName", Values: []evtx.Value{sval("CORP")}},
		{Name: "SubjectLogonId", Values: []evtx.Value{sval("0x4a727")}},
	}}}}
	rec.Root.Children = append(rec.Root.Children[:1], ud) // System + UserData (no EventData)
	d := normalizeRec(t, rec)
	check(t, d, map[string]any{
		"_index":                           "logs-system.security-default",
		"event.code":                       "1102",
		"event.category":                   strs("iam"),
		"event.type":                       strs("admin", "change"),
		"event.action":                     "audit-log-cleared",
		"event.outcome":                    "success",
		"user.id":                          "S-1-5-21-1-2-3-500",
		"user.name":                        "Administrator",
		"user.domain":                      "CORP",
		"related.user":                     strs("Administrator"),
		"winlog.logon.id":                  "0x4a727",
		"winlog.user_data.SubjectUserName": "Administrator",
	})
}

// TestSysmonRemainingEvents pins the categorisation of the other Sysmon
// event IDs of the pipeline's table and their main ECS fields.
func TestSysmonRemainingEvents(t *testing.T) {
	img := []string{"ProcessGuid", "{11111111-2222-3333-4444-555555555555}", "ProcessId", "3120", "Image", `C:\Tools\x.exe`}
	with := func(kv ...string) []string { return append(append([]string(nil), img...), kv...) }
	cases := []struct {
		id       int
		category []any
		typ      []any
		action   string
		kv       []string
		want     map[string]any
	}{
		{2, strs("file"), strs("change"), "A process changed a file creation time",
			with("TargetFilename", `C:\Temp\a.txt`), map[string]any{"file.name": "a.txt", "process.name": "x.exe"}},
		{4, strs("process"), strs("change"), "Sysmon service state changed", []string{"State", "Started"},
			map[string]any{"winlog.event_data.State": "Started"}},
		{6, strs("driver"), strs("start"), "Driver loaded",
			[]string{"ImageLoaded", `C:\Windows\System32\drivers\evil.sys`, "Hashes", "SHA256=AA11", "Signed", "false", "Signature", "-", "SignatureStatus", "Unavailable"},
			map[string]any{"file.path": `C:\Windows\System32\drivers\evil.sys`, "file.extension": "sys", "file.hash.sha256": "aa11",
				"file.code_signature.status": "Unavailable", "winlog.event_data.Signed": "false"}},
		{9, strs("process"), strs("access"), "RawAccessRead", with("Device", `\Device\HarddiskVolume2`),
			map[string]any{"file.path": `\Device\HarddiskVolume2`, "file.name": "HarddiskVolume2", "process.pid": float64(3120)}},
		{16, strs("configuration"), strs("change"), "ServiceConfigurationChange", []string{"Configuration", "x.xml"}, nil},
		{19, strs("process"), strs("creation"), "WmiEvent (WmiEventFilter activity detected)",
			[]string{"Operation", "Created", "User", `CORP\alice`, "Name", "evil", "Query", "SELECT * FROM __InstanceModificationEvent"},
			map[string]any{"user.name": "alice", "winlog.event_data.Query": "SELECT * FROM __InstanceModificationEvent"}},
		{20, strs("process"), strs("creation"), "WmiEvent (WmiEventConsumer activity detected)",
			[]string{"Operation", "Created", "Type", "Command Line", "Destination", `C:\Tools\x.exe`},
			map[string]any{"process.executable": `C:\Tools\x.exe`, "winlog.event_data.Type": "Command Line"}},
		{21, strs("process"), strs("access"), "WmiEvent (WmiEventConsumerToFilter activity detected)",
			[]string{"Consumer", `CommandLineEventConsumer.Name="evil"`}, nil},
		{24, nil, strs("change"), "ClipboardChange (New content in the clipboard)", with("Hashes", "SHA1=AB12"),
			map[string]any{"process.hash.sha1": "ab12"}},
		{27, strs("file"), strs("creation", "denied"), "FileBlockExecutable", with("TargetFilename", `C:\Temp\x.exe`),
			map[string]any{"file.name": "x.exe"}},
		{28, strs("file"), strs("deletion", "denied"), "FileBlockShredding", with("TargetFilename", `C:\Temp\y.txt`), nil},
		{29, strs("file"), strs("creation"), "FileExecutableDetected", with("TargetFilename", `C:\Temp\z.exe`, "Hashes", "MD5=CD34"),
			map[string]any{"file.hash.md5": "cd34"}},
		{255, strs("process"), strs("error"), "Error", []string{"ID", "17", "Description", "Failed"},
			map[string]any{"error.code": "17", "winlog.event_data.ID": nil, "winlog.event_data.Description": "Failed"}},
	}
	for _, c := range cases {
		d := sysmonDoc(t, c.id, c.kv...)
		want := map[string]any{"event.category": c.category, "event.type": c.typ, "event.action": c.action,
			"event.code": strconv.Itoa(c.id)}
		if c.category == nil {
			want["event.category"] = nil
		}
		for k, v := range c.want {
			want[k] = v
		}
		t.Run(strconv.Itoa(c.id), func(t *testing.T) { check(t, d, want) })
	}
}

// TestSecurity4720Golden rebuilds the two 4720 records of the Winlogbeat
// golden file from their event_data (string values; the derived lists are
// left out) and compares the ECS user fields with the golden documents.
func TestSecurity4720Golden(t *testing.T) {
	path := needFile(t, filepath.Join(telemetry, "elastic-fixtures", "beats-winlogbeat__security", "security-windows2016_4720_Account_Created.golden.json"))
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var golden []map[string]any
	if err := json.Unmarshal(b, &golden); err != nil || len(golden) != 2 {
		t.Fatalf("golden shape changed: %v", err)
	}
	for i, want := range golden {
		ed, _ := get(want, "winlog.event_data").(map[string]any)
		names := make([]string, 0, len(ed))
		for k, v := range ed {
			if _, ok := v.(string); ok {
				names = append(names, k)
			}
		}
		sort.Strings(names)
		var kv []string
		for _, k := range names {
			kv = append(kv, k, ed[k].(string))
		}
		got := securityDoc(t, 4720, kv...)
		compareFields(t, "golden["+strconv.Itoa(i)+"]", got, want, []string{
			"event.action", "event.category", "event.type", "event.code", "event.outcome", "event.kind",
			"user.id", "user.name", "user.domain", "user.target", "related.user", "winlog.logon.id",
		})
	}
}

// TestRegisteredDomain pins the public-suffix split of DNS query names
// (multi-label suffixes, private-section suffixes, names that are a suffix,
// single labels and addresses).
func TestRegisteredDomain(t *testing.T) {
	for _, c := range []struct{ name, reg, tld, sub string }{
		{"www.example.com", "example.com", "com", "www"},
		{"a.b.example.co.uk", "example.co.uk", "co.uk", "a.b"},
		{"example.co.uk", "example.co.uk", "co.uk", ""},
		{"foo.blogspot.com", "foo.blogspot.com", "blogspot.com", ""},
		{"co.uk", "", "co.uk", ""},
		{"wpad", "", "", ""},
		{"10.0.0.1", "", "", ""},
		{"host.corp.internal", "corp.internal", "internal", "host"},
		{"www.example.com.", "example.com", "com", "www"},
	} {
		var m mapper
		m.reset()
		q := m.d.obj(0, "q")
		m.registeredDomain(q, c.name)
		if g := m.d.getStr(q, "registered_domain"); g != c.reg {
			t.Errorf("%s: registered_domain %q, want %q", c.name, g, c.reg)
		}
		if g := m.d.getStr(q, "top_level_domain"); g != c.tld {
			t.Errorf("%s: top_level_domain %q, want %q", c.name, g, c.tld)
		}
		if g := m.d.getStr(q, "subdomain"); g != c.sub {
			t.Errorf("%s: subdomain %q, want %q", c.name, g, c.sub)
		}
	}
}

func TestSecurity4625FailureReason(t *testing.T) {
	d := securityDoc(t, 4625,
		"SubjectUserSid", "S-1-5-18", "TargetUserName", "bob", "TargetDomainName", "CORP",
		"Status", "0xc000006d", "FailureReason", "%%2313", "SubStatus", "0xC0000064", "LogonType", "3")
	check(t, d, map[string]any{
		"winlog.logon.failure.reason":     "Unknown user name or bad password.",
		"winlog.logon.failure.status":     "This is either due to a bad username or authentication information",
		"winlog.logon.failure.sub_status": "User logon with misspelled or bad user account",
		"winlog.event_data.FailureReason": "%%2313",
	})
	d = securityDoc(t, 4625, "FailureReason", "%%2307", "Status", "0xdeadbeef")
	check(t, d, map[string]any{
		"winlog.logon.failure.reason": "Account locked out.",
		"winlog.logon.failure.status": nil, // unknown codes get no text
	})
}

// TestSecurity4698TaskContent: the task XML of a 4698 (constructed in the
// Task Scheduler schema, UTF-16 declaration as Windows writes it) becomes
// winlog.scheduled_task as the System integration's scheduled_task
// pipeline shapes it; 4702 reads TaskContentNew.
func TestSecurity4698TaskContent(t *testing.T) {
	xml := `<?xml version="1.0" encoding="UTF-16"?>
<Task version="1.2" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">
  <RegistrationInfo><Author>CORP\alice</Author><URI>\Updater</URI></RegistrationInfo>
  <Triggers>
    <LogonTrigger><Enabled>true</Enabled></LogonTrigger>
    <TimeTrigger><Repetition><Interval>PT5M</Interval><StopAtDurationEnd>false</StopAtDurationEnd></Repetition><StartBoundary>2024-03-01T10:00:00</StartBoundary><Enabled>false</Enabled></TimeTrigger>
    <BootTrigger />
  </Triggers>
  <Principals><Principal id="Author"><UserId>S-1-5-18</UserId><RunLevel>HighestAvailable</RunLevel></Principal></Principals>
  <Settings><Enabled>true</Enabled><Hidden>true</Hidden></Settings>
  <Actions Context="Author">
    <ComHandler><ClassId>{01234567-89AB-CDEF-0123-456789ABCDEF}</ClassId></ComHandler>
    <Exec><Command>C:\Users\Public\a.exe</Command><Arguments>-k x=1|y</Arguments></Exec>
  </Actions>
</Task>`
	d := securityDoc(t, 4698, "SubjectUserName", "alice", "TaskName", `\Updater`, "TaskContent", xml)
	check(t, d, map[string]any{
		"winlog.scheduled_task.uri":              `\Updater`,
		"winlog.scheduled_task.settings.enabled": true,
		"winlog.scheduled_task.settings.hidden":  true,
		"winlog.scheduled_task.principals": objs(map[string]any{
			"id": "Author", "user": map[string]any{"identifier": "S-1-5-18"}, "run_level": "HighestAvailable"}),
		// Triggers in the pipeline's type order (time before logon before
		// boot is not it: boot, time, ..., logon).
		"winlog.scheduled_task.triggers": objs(
			map[string]any{"type": "boot", "enabled": true, "definition": "v=1|type=boot|enabled=true|interval=|duration=|stop_at_duration_end="},
			map[string]any{"type": "time", "enabled": false, "repetition": map[string]any{"interval": "PT5M", "stop_at_duration_end": false},
				"definition": "v=1|type=time|enabled=false|interval=PT5M|duration=|stop_at_duration_end=false"},
			map[string]any{"type": "logon", "enabled": true, "definition": "v=1|type=logon|enabled=true|interval=|duration=|stop_at_duration_end="}),
		// Exec actions before COM handlers; '=' and '|' escaped in the definition.
		"winlog.scheduled_task.actions": objs(
			map[string]any{"type": "exec", "context": "Author", "command": `C:\Users\Public\a.exe`, "arguments": "-k x=1|y",
				"definition": `v=1|type=exec|context=Author|command=C:\Users\Public\a.exe|arguments=-k x%3D1%7Cy|working_directory=|class_id=`},
			map[string]any{"type": "com_handler", "context": "Author", "class_id": "{01234567-89AB-CDEF-0123-456789ABCDEF}",
				"definition": "v=1|type=com_handler|context=Author|command=|arguments=|working_directory=|class_id={01234567-89AB-CDEF-0123-456789ABCDEF}"}),
		"winlog.event_data.TaskName": `\Updater`,
	})
	d = securityDoc(t, 4702, "TaskName", `\Updater`, "TaskContent", "<Task><RegistrationInfo><URI>\\Old</URI></RegistrationInfo></Task>",
		"TaskContentNew", "<Task><RegistrationInfo><URI>\\New</URI></RegistrationInfo></Task>")
	check(t, d, map[string]any{"winlog.scheduled_task.uri": `\New`})
	d = securityDoc(t, 4698, "TaskContent", "<Task><unclosed>")
	check(t, d, map[string]any{"winlog.scheduled_task": nil})
}

// TestSysmon7CodeSignature: an image load whose signature failed.
func TestSysmon7CodeSignature(t *testing.T) {
	d := sysmonDoc(t, 7, "UtcTime", "2024-03-01 10:00:00.000", "Image", `C:\Windows\System32\dllhost.exe`,
		"ImageLoaded", `C:\Windows\System32\x.dll`, "Signed", "failed: Invalid hash", "Signature", "-", "SignatureStatus", "-")
	check(t, d, map[string]any{
		"dll.code_signature.status":   "failed: Invalid hash",
		"file.code_signature.trusted": false,
		"file.code_signature.status":  nil,
		"winlog.event_data.Signed":    "failed: Invalid hash",
	})
	d = sysmonDoc(t, 7, "UtcTime", "2024-03-01 10:00:00.000", "ImageLoaded", `C:\x.dll`, "Signed", "true", "SignatureStatus", "Valid", "Signature", "Microsoft Windows")
	check(t, d, map[string]any{
		"dll.code_signature":               nil,
		"file.code_signature.trusted":      true,
		"file.code_signature.valid":        true,
		"file.code_signature.subject_name": "Microsoft Windows",
	})
}
