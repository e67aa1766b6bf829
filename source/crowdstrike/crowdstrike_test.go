package crowdstrike

import (
	"github.com/vigilsec/vigil/source/internal/normtest"
	"testing"
)

// Constructed FDR events (our own values, in FDR's documented shape: flat,
// every value a string).
const (
	winPR2      = `{"event_simpleName":"ProcessRollup2","event_platform":"Win","timestamp":"1700000000123","ContextTimeStamp":"1700000000.456","aid":"a1","cid":"c1","id":"e1","aip":"192.0.2.7","ComputerName":"WS-01","ImageFileName":"\\Device\\HarddiskVolume3\\Windows\\System32\\net.exe","CommandLine":"\"C:\\Windows\\system32\\net.exe\" user bob P@ss /add","ParentBaseFileName":"cmd.exe","RawProcessId":"4242","IntegrityLevel":"12288","OriginalFilename":"net.exe","TargetProcessId":"77","ParentProcessId":"66","UserSid":"S-1-5-21-1-2-3-1001","UserName":"bob","SHA256HashData":"0000000000000000000000000000000000000000000000000000000000000000","MD5HashData":"0123456789abcdef0123456789abcdef","ProcessStartTime":"1700000000.100","Custom":"kept"}`
	filetimePR2 = `{"event_simpleName":"SyntheticProcessRollup2","event_platform":"Mac","timestamp":"1","ContextTimeStamp":"133444736000000000","ImageFileName":"C:\\odd\\path.exe","CommandLine":"x \"\" y"}`
	dns         = `{"event_simpleName":"DnsRequest","event_platform":"Win","timestamp":"1700000000000","DomainName":"example.org","RequestType":"1","ContextProcessId":"99"}`
	netConn     = `{"event_simpleName":"NetworkConnectIP4","event_platform":"Lin","timestamp":"1700000000000","LocalAddressIP4":"10.0.0.1 10.0.0.2","LocalPort":"50000","RemoteAddressIP4":"198.51.100.2","RemotePort":"443","Protocol":"6","ConnectionDirection":"0","ContextBaseFileName":"curl"}`
	netAccept   = `{"event_simpleName":"NetworkReceiveAcceptIP4","event_platform":"Win","timestamp":"1700000000000","LocalAddressIP4":"10.0.0.1","LocalPort":"445","RemoteAddressIP4":"198.51.100.2","RemotePort":"50000","Protocol":"6","ConnectionDirection":"1"}`
	imageHash   = `{"event_simpleName":"ImageHash","event_platform":"Win","timestamp":"1700000000000","ImageFileName":"\\Device\\HarddiskVolume3\\Windows\\System32\\evil.dll","TargetImageFileName":"\\Device\\HarddiskVolume3\\Windows\\System32\\rundll32.exe","SHA256HashData":"ab","OriginalFilename":"evil.dll"}`
	regSet      = `{"event_simpleName":"AsepValueUpdate","event_platform":"Win","timestamp":"1700000000000","RegObjectName":"\\REGISTRY\\MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run","RegValueName":"evil","RegStringValue":"C:\\evil.exe","RegType":"1","RegOperationType":"3"}`
	fileWrite   = `{"event_simpleName":"NewExecutableWritten","event_platform":"Win","timestamp":"1700000000000","TargetFileName":"\\Device\\HarddiskVolume3\\Users\\bob\\a.exe"}`
)

func ecsOf(t *testing.T, line string) map[string]any {
	t.Helper()
	return normtest.ECS(t, Normalize, line, "f.ndjson")
}

func get(m map[string]any, path string) any { return normtest.Get(m, path) }

func check(t *testing.T, m map[string]any, want map[string]any) {
	t.Helper()
	normtest.Check(t, m, want)
}

func TestProcessRollup2(t *testing.T) {
	m := ecsOf(t, winPR2)
	check(t, m, map[string]any{
		"_index":                   "logs-crowdstrike.fdr-default",
		"data_stream.dataset":      "crowdstrike.fdr",
		"@timestamp":               "2023-11-14T22:13:20.456Z", // ContextTimeStamp wins over timestamp
		"event.created":            "2023-11-14T22:13:20.123Z",
		"event.action":             "ProcessRollup2",
		"event.category":           []any{"process"},
		"event.type":               []any{"start"},
		"host.os.type":             "windows",
		"host.name":                "WS-01",
		"process.name":             "net.exe",
		"process.executable":       `\Device\HarddiskVolume3\Windows\System32\net.exe`,
		"process.args":             []any{`C:\Windows\system32\net.exe`, "user", "bob", "P@ss", "/add"},
		"process.args_count":       float64(5),
		"process.parent.name":      "cmd.exe",
		"process.pid":              float64(4242),
		"process.entity_id":        "77",
		"process.parent.entity_id": "66",
		"process.hash.md5":         "0123456789abcdef0123456789abcdef",
		"process.hash.sha256":      nil, // all zeros: dropped
		"process.start":            "2023-11-14T22:13:20.100Z",
		"user.id":                  "S-1-5-21-1-2-3-1001",
		"user.name":                "bob",
		"crowdstrike.Custom":       "kept",
		"log.file.path":            "f.ndjson",
	})
}

func TestQuirks(t *testing.T) {
	m := ecsOf(t, filetimePR2)
	check(t, m, map[string]any{
		"@timestamp":   "2023-11-14T22:13:20.000Z", // FILETIME ContextTimeStamp
		"host.os.type": "macos",
		"process.name": `C:\odd\path.exe`, // not split: does not start with a separator
		"process.args": []any{"x", "y"},   // the empty argument is dropped
	})
	// No known platform: no args (the split needs host.os.type).
	m = ecsOf(t, `{"event_simpleName":"ProcessRollup2","timestamp":"1","CommandLine":"a b","ImageFileName":"/bin/a"}`)
	check(t, m, map[string]any{"process.args": nil, "host.os.type": nil, "process.name": "a"})
}

func TestOtherEvents(t *testing.T) {
	check(t, ecsOf(t, dns), map[string]any{"dns.question.name": "example.org", "event.category": []any{"network"}, "process.entity_id": "99"})
	check(t, ecsOf(t, netConn), map[string]any{"source.ip": "10.0.0.1", "source.port": float64(50000), "destination.ip": "198.51.100.2",
		"destination.port": float64(443), "network.transport": "tcp", "network.iana_number": "6", "network.direction": "outbound",
		"host.os.type": "linux", "process.name": "curl", "source.address": "10.0.0.1",
		"related.ip": []any{"10.0.0.1", "10.0.0.2", "198.51.100.2"}})
	check(t, ecsOf(t, netAccept), map[string]any{"source.ip": "198.51.100.2", "source.port": float64(50000), "destination.ip": "10.0.0.1",
		"destination.port": float64(445), "network.direction": "inbound", "event.type": []any{"allowed", "access", "connection"}})
	check(t, ecsOf(t, regSet), map[string]any{"registry.path": `\REGISTRY\MACHINE\SOFTWARE\Microsoft\Windows\CurrentVersion\Run\evil`,
		"registry.key": `SOFTWARE\Microsoft\Windows\CurrentVersion\Run`, "registry.value": "evil", "registry.data.strings": []any{`C:\evil.exe`},
		"registry.data.type": "REG_SZ", "event.category": []any{"registry"}, "event.type": []any{"creation"}})
	check(t, ecsOf(t, fileWrite), map[string]any{"file.path": `\Device\HarddiskVolume3\Users\bob\a.exe`, "file.name": "a.exe",
		"file.directory": `\Device\HarddiskVolume3\Users\bob`, "file.extension": "exe", "event.category": []any{"file"}, "event.type": []any{"creation"}})
	check(t, ecsOf(t, imageHash), map[string]any{"dll.name": "evil.dll", "dll.path": `\Device\HarddiskVolume3\Windows\System32\evil.dll`,
		"dll.hash.sha256": "ab", "dll.pe.original_file_name": "evil.dll", "process.name": "rundll32.exe", "event.category": []any{"library"}})
	check(t, ecsOf(t, dns), map[string]any{"dns.question.type": "A", "dns.type": "query", "network.protocol": "dns"})
}

// The key list and the slot constants are kept in step by hand.
func TestSchemaSlots(t *testing.T) {
	if schema.Len() != nSlots {
		t.Errorf("schema has %d keys for %d slots", schema.Len(), nSlots)
	}
}

func TestRejects(t *testing.T) {
	for _, bad := range []string{`{}`, `{"event_simpleName":"X"}`, `{"event_simpleName":"X","timestamp":"soon"}`, `{"event_simpleName":`, `[]`} {
		if _, err := Normalize(nil, []byte(bad), ""); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
}

func TestSniff(t *testing.T) {
	if !Sniff([]byte(winPR2)) || Sniff([]byte(`{"event":{"action":"x"}}`)) {
		t.Error("Sniff")
	}
}

// FuzzNormalize: never panics; a document, when produced, is a JSON object
// with the integration's index.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{winPR2, filetimePR2, dns, netConn, regSet, fileWrite, `{"event_simpleName":"","timestamp":"9"}`,
		`{"event_simpleName":"ProcessRollup2","ContextTimeStamp":"99999999999999999999","timestamp":"1"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		normtest.CheckOutput(t, Normalize, "logs-crowdstrike.fdr-default", data)
	})
}

func BenchmarkNormalize(b *testing.B) { normtest.Bench(b, Normalize, winPR2) }
