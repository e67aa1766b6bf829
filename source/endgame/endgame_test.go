package endgame

import (
	"github.com/vigilsec/vigil/source/internal/normtest"
	"testing"
)

// Constructed legacy events (our own values, in endgameinc/eql's schema).
const (
	procCreate = `{"event_type":"process","event_subtype_full":"creation_event","event_type_full":"process_event","subtype":"create","opcode":1,"timestamp":133444736001230000,"serial_event_id":7,"pid":4242,"ppid":10,"unique_pid":70,"unique_ppid":69,"process_name":"net.exe","process_path":"C:\\Windows\\System32\\net.exe","command_line":"net user bob P@ss /add","parent_process_name":"cmd.exe","parent_process_path":"C:\\Windows\\System32\\cmd.exe","user_name":"bob","user_domain":"CORP","md5":"0123456789abcdef0123456789abcdef"}`
	fileDelete = `{"event_type":"file","event_subtype_full":"file_delete_event","event_type_full":"file_event","subtype":"delete","timestamp":131509374345689460,"pid":1,"unique_pid":1,"process_name":"python.exe","process_path":"C:\\Python27\\python.exe","file_name":"a.exe","file_path":"C:\\tmp\\a.exe"}`
	regModify  = `{"event_type":"registry","event_subtype_full":"registry_modify_event","event_type_full":"registry_event","timestamp":131509374345689460,"pid":1,"unique_pid":1,"process_name":"reg.exe","registry_path":"\\REGISTRY\\MACHINE\\SOFTWARE\\Run\\evil","registry_key":"\\REGISTRY\\MACHINE\\SOFTWARE\\Run","registry_value":"evil","bytes_written_string_list":["C:\\evil.exe"]}`
	netConn    = `{"event_type":"network","event_subtype_full":"ipv4_connection_attempt_event","event_type_full":"network_event","timestamp":131509374345689460,"pid":1,"unique_pid":1,"process_name":"x","process_path":"/usr/bin/x","source_address":"10.0.0.1","source_port":5,"destination_address":"198.51.100.2","destination_port":443,"protocol":"tcp"}`
	dnsReq     = `{"event_type":"dns","event_subtype_full":"request_event","event_type_full":"dns_event","timestamp":131509374345689460,"pid":1,"unique_pid":1,"process_name":"x","query_name":"example.org"}`
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

func TestProcessCreation(t *testing.T) {
	check(t, ecsOf(t, procCreate), map[string]any{
		"_index":                     "endgame-8.4.0",
		"@timestamp":                 "2023-11-14T22:13:20.123Z", // FILETIME
		"event.category":             []any{"process"},
		"event.type":                 []any{"start"},
		"event.action":               "creation_event",
		"endgame.event_subtype_full": "creation_event",
		"host.os.type":               "windows", // from the Windows paths
		"process.name":               "net.exe",
		"process.args":               []any{"net", "user", "bob", "P@ss", "/add"},
		"process.parent.name":        "cmd.exe",
		"process.pid":                float64(4242),
		"process.parent.pid":         float64(10),
		"process.entity_id":          "70",
		"process.hash.md5":           "0123456789abcdef0123456789abcdef",
		"user.name":                  "bob",
		"user.domain":                "CORP",
	})
}

func TestOtherEvents(t *testing.T) {
	check(t, ecsOf(t, fileDelete), map[string]any{"event.category": []any{"file"}, "event.type": []any{"deletion"}, "file.path": `C:\tmp\a.exe`,
		"file.name": "a.exe", "file.extension": "exe", "file.directory": `C:\tmp`})
	check(t, ecsOf(t, regModify), map[string]any{"event.category": []any{"registry"}, "event.type": []any{"change"}, "registry.path": `\REGISTRY\MACHINE\SOFTWARE\Run\evil`,
		"registry.value": "evil", "registry.data.strings": []any{`C:\evil.exe`}, "host.os.type": "windows"})
	check(t, ecsOf(t, netConn), map[string]any{"event.category": []any{"network"}, "destination.port": float64(443), "network.transport": "tcp", "host.os.type": nil})
	check(t, ecsOf(t, dnsReq), map[string]any{"event.category": []any{"network"}, "dns.question.name": "example.org"})
}

// The key list and the slot constants are kept in step by hand.
func TestSchemaSlots(t *testing.T) {
	if schema.Len() != nSlots {
		t.Errorf("schema has %d keys for %d slots", schema.Len(), nSlots)
	}
}

func TestRejects(t *testing.T) {
	for _, bad := range []string{`{}`, `{"event_type":"process"}`, `{"event_type":"process","timestamp":"x"}`, `{"event_type":"process","timestamp":-1}`, `{"event_type`} {
		if _, err := Normalize(nil, []byte(bad), ""); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
	if !Sniff([]byte(procCreate)) || Sniff([]byte(`{"event":{"type":"x"}}`)) {
		t.Error("Sniff")
	}
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{procCreate, fileDelete, regModify, netConn, dnsReq, `{"event_type":"x","timestamp":9223372036854775807}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) { normtest.CheckOutput(t, Normalize, Index, data) })
}

func BenchmarkNormalize(b *testing.B) { normtest.Bench(b, Normalize, procCreate) }
