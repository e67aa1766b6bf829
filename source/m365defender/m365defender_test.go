package m365defender

import (
	"github.com/vigilsec/vigil/source/internal/normtest"
	"strings"
	"testing"
)

// Constructed streaming API records (our own values, with Defender's
// documented Advanced Hunting column names).
const (
	procCreated = `{"time":"2023-11-14T22:13:21Z","category":"AdvancedHunting-DeviceProcessEvents","operationName":"Publish","properties":{"Timestamp":"2023-11-14T22:13:20.1234567Z","DeviceId":"d1","DeviceName":"WS-01.Corp.Example","ActionType":"ProcessCreated","FileName":"net.exe","FolderPath":"C:\\Windows\\System32\\net.exe","ProcessCommandLine":"  \"net.exe\"  user bob P@ss /add ","ProcessId":4242,"InitiatingProcessFileName":"cmd.exe","InitiatingProcessFolderPath":"c:\\windows\\system32\\cmd.exe","InitiatingProcessCommandLine":"cmd.exe /c x","InitiatingProcessId":10,"InitiatingProcessAccountSid":"S-1-5-21-1-2-3-1001","InitiatingProcessSignatureStatus":"Valid","AccountName":"bob","AccountDomain":"corp","AccountSid":"S-1-5-21-1-2-3-1001"}}`
	fileCreated = `{"category":"AdvancedHunting-DeviceFileEvents","properties":{"Timestamp":"2023-11-14T22:13:20Z","DeviceName":"WS","ActionType":"FileCreated","FileName":"a.exe","FolderPath":"C:\\Users\\bob\\a.exe","InitiatingProcessFileName":"powershell.exe","InitiatingProcessCommandLine":"powershell -enc x","InitiatingProcessParentFileName":"explorer.exe","InitiatingProcessAccountSid":"S-1-5-18"}}`
	regSet      = `{"category":"AdvancedHunting-DeviceRegistryEvents","properties":{"Timestamp":"2023-11-14T22:13:20Z","ActionType":"RegistryValueSet","RegistryKey":"HKEY_LOCAL_MACHINE\\SOFTWARE\\Run","RegistryValueName":"evil","RegistryValueData":"C:\\evil.exe"}}`
	netConn     = `{"category":"AdvancedHunting-DeviceNetworkEvents","properties":{"Timestamp":"2023-11-14T22:13:20Z","ActionType":"ConnectionSuccess","LocalIP":"10.0.0.1","LocalPort":50000,"RemoteIP":"198.51.100.2","RemotePort":443,"Protocol":"Tcp"}}`
	inbound     = `{"category":"AdvancedHunting-DeviceNetworkEvents","properties":{"Timestamp":"2023-11-14T22:13:20Z","ActionType":"InboundConnectionAccepted","LocalIP":"10.0.0.1","LocalPort":3389,"RemoteIP":"203.0.113.5","RemotePort":51000,"Protocol":"Tcp","AdditionalFields":"{\"direction\":\"In\"}"}}`
	logon       = `{"category":"AdvancedHunting-DeviceLogonEvents","properties":{"Timestamp":"2023-11-14T22:13:20Z","ActionType":"LogonFailed","FailureReason":"WrongPassword","RemoteIP":"203.0.113.9","AccountName":"bob"}}`
	imageLoad   = `{"category":"AdvancedHunting-DeviceImageLoadEvents","properties":{"Timestamp":"2023-11-14T22:13:20Z","ActionType":"ImageLoaded","FileName":"x.dll","FolderPath":"C:\\x.dll","InitiatingProcessFileName":"rundll32.exe"}}`
)

func ecsOf(t *testing.T, line string) map[string]any {
	t.Helper()
	return normtest.ECS(t, Normalize, line, "")
}

func get(m map[string]any, path string) any { return normtest.Get(m, path) }

func check(t *testing.T, m map[string]any, want map[string]any) {
	t.Helper()
	normtest.Check(t, m, want)
}

func TestProcessCreated(t *testing.T) {
	check(t, ecsOf(t, procCreated), map[string]any{
		"_index":                                "logs-m365_defender.event-default",
		"@timestamp":                            "2023-11-14T22:13:20.123Z",
		"event.category":                        []any{"process"},
		"event.type":                            []any{"start"},
		"event.action":                          "processcreated",
		"host.name":                             "ws-01.corp.example", // lower-cased
		"host.os.type":                          "windows",            // from the account SID only
		"process.name":                          "net.exe",
		"process.executable":                    `C:\Windows\System32\net.exe`,
		"process.command_line":                  `"net.exe"  user bob P@ss /add`, // trimmed
		"process.args":                          []any{`"net.exe"`, "user", "bob", "P@ss", "/add"},
		"process.args_count":                    float64(5),
		"process.parent.name":                   "cmd.exe",
		"process.parent.pid":                    float64(10),
		"process.parent.args":                   []any{"cmd.exe", "/c", "x"},
		"process.parent.code_signature.trusted": true,
		"user.name":                             "bob",
		"user.id":                               "S-1-5-21-1-2-3-1001",
	})
	// Without the SID the record says nothing about the OS.
	line := strings.Replace(procCreated, `"InitiatingProcessAccountSid":"S-1-5-21-1-2-3-1001",`, "", 1)
	check(t, ecsOf(t, line), map[string]any{"host.os.type": nil})
}

func TestOtherTables(t *testing.T) {
	check(t, ecsOf(t, fileCreated), map[string]any{"host.os.type": nil, "event.category": []any{"file"}, "event.type": []any{"info"}, "file.name": "a.exe",
		"file.directory": `C:\Users\bob\a.exe`, "file.path": nil, "process.name": "powershell.exe", "process.parent.name": "explorer.exe",
		"process.args": []any{"powershell", "-enc", "x"}, "event.action": "filecreated"})
	check(t, ecsOf(t, regSet), map[string]any{"event.category": []any{"registry"}, "event.type": []any{"change"}, "registry.key": `HKEY_LOCAL_MACHINE\SOFTWARE\Run`,
		"registry.value": "evil", "registry.data.strings": []any{`C:\evil.exe`}, "registry.path": nil})
	check(t, ecsOf(t, netConn), map[string]any{"event.category": []any{"network"}, "event.type": []any{"end"}, "source.ip": "10.0.0.1",
		"destination.ip": "198.51.100.2", "destination.port": float64(443), "network.protocol": "tcp", "network.direction": "unknown"})
	check(t, ecsOf(t, inbound), map[string]any{"network.direction": "inbound", "source.ip": "203.0.113.5",
		"source.port":    float64(3389), // the local port: the pipeline's later rule wins (kept quirk)
		"destination.ip": "10.0.0.1", "destination.port": float64(3389), "event.type": []any{"allowed"}})
	check(t, ecsOf(t, logon), map[string]any{"event.category": []any{"authentication"}, "event.outcome": "failure", "source.ip": "203.0.113.9", "user.name": "bob"})
	check(t, ecsOf(t, imageLoad), map[string]any{"event.category": []any{"library"}, "event.type": []any{"start"}, "event.action": "load",
		"dll.name": "x.dll", "dll.path": `C:\x.dll`, "process.name": "rundll32.exe"})
}

// The key list and the slot constants are kept in step by hand.
func TestSchemaSlots(t *testing.T) {
	if props.Len() != nSlots || top.Len() != nTop {
		t.Errorf("schemas have %d and %d keys for %d and %d slots", props.Len(), top.Len(), nSlots, nTop)
	}
}

func TestRejects(t *testing.T) {
	for _, bad := range []string{`{}`, `{"category":"AdvancedHunting-DeviceEvents"}`, `{"category":"Other","properties":{"Timestamp":"2023-11-14T22:13:20Z"}}`,
		`{"category":"AdvancedHunting-DeviceEvents","properties":{"Timestamp":"x"}}`, `{"category":`} {
		if _, err := Normalize(nil, []byte(bad), ""); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
	if !Sniff([]byte(procCreated)) || Sniff([]byte(`{"category":"x"}`)) {
		t.Error("Sniff")
	}
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{procCreated, fileCreated, regSet, netConn, inbound, logon, imageLoad, `{"category":"AdvancedHunting-","properties":{"Timestamp":"1"}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		normtest.CheckOutput(t, Normalize, "logs-m365_defender.event-default", data)
	})
}

func BenchmarkNormalize(b *testing.B) { normtest.Bench(b, Normalize, procCreated) }
