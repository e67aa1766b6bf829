package sentinelone

import (
	"github.com/vigilsec/vigil/source/internal/normtest"
	"testing"
)

// Constructed Cloud Funnel events (our own values, in the documented flat
// dotted-key shape).
const (
	procCreate = `{"meta.event.name":"PROCESSCREATION","event.type":"Process Creation","event.category":"process","event.time":1700000000123,"event.id":"e1","endpoint.name":"WS-01","endpoint.os":"windows","endpoint.type":"desktop","agent.uuid":"u1","src.process.name":"cmd.exe","src.process.image.path":"C:\\Windows\\System32\\cmd.exe","src.process.cmdline":"cmd.exe /c x","src.process.pid":10,"src.process.uid":"S","src.process.user":"CORP\\bob","src.process.publisher":"SRCPUB","src.process.signedStatus":"signed","src.process.verifiedStatus":"verified","src.process.parent.name":"explorer.exe","tgt.process.name":"net.exe","tgt.process.image.path":"C:\\Windows\\System32\\net.exe","tgt.process.cmdline":"\"net user bob P@ss /add\"","tgt.process.pid":11,"tgt.process.uid":"T","tgt.process.publisher":"MSFT","tgt.process.signedStatus":"unsigned","tgt.process.verifiedStatus":"unverified"}`
	fileCreate = `{"meta.event.name":"FILECREATION","event.type":"File Creation","event.category":"file","event.time":"2023-11-14T22:13:20.123Z","endpoint.os":"linux","src.process.name":"bash","src.process.cmdline":"bash -c x","tgt.file.path":"/tmp/a.sh","tgt.file.extension":"sh","tgt.file.size":12}`
	regSet     = `{"meta.event.name":"REGVALUEMODIFIED","event.type":"Registry Value Modified","event.category":"registry","event.time":1700000000000,"endpoint.os":"windows","registry.keyPath":"HKLM\\SOFTWARE\\Run\\evil","registry.value":"C:\\evil.exe"}`
	netConn    = `{"meta.event.name":"TCPV4","event.type":"IP Connect","event.category":"ip","event.time":1700000000000,"endpoint.os":"windows","src.ip.address":"10.0.0.1","src.port.number":50000,"dst.ip.address":"198.51.100.2","dst.port.number":443,"event.network.direction":"OUTGOING","event.network.protocolName":"TCP"}`
	dnsReq     = `{"meta.event.name":"DNS","event.type":"DNS Resolved","event.category":"dns","event.time":1700000000000,"endpoint.name":"ws","endpoint.os":"windows","event.dns.request":"type: 1 example.org","event.dns.response":"type:  5 cdn.example.net;::ffff:192.0.2.1;2001:db8::1;"}`
	login      = `{"meta.event.name":"LOGIN","event.type":"Login","event.category":"logins","event.time":1700000000000,"endpoint.os":"windows","event.login.userName":"bob","event.login.loginIsSuccessful":false}`
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
		"_index":               "logs-sentinel_one_cloud_funnel.event-default",
		"@timestamp":           "2023-11-14T22:13:20.123Z",
		"event.category":       []any{"process"},
		"event.type":           []any{"start"},
		"event.action":         []any{"start"},
		"host.os.type":         "windows",
		"process.name":         "net.exe",
		"process.command_line": "net user bob P@ss /add", // one pair of quotes trimmed
		"process.args":         []any{"net", "user", "bob", "P@ss", "/add"},
		"process.parent.name":  "cmd.exe", // the S1 source process, not src.process.parent
		"process.parent.args":  []any{"cmd.exe", "/c", "x"},
		"process.parent.pid":   float64(10),
		"process.pid":          float64(11),
		"process.parent.code_signature.subject_name": "MSFT", // the target's, set before the rename
		"process.parent.code_signature.exists":       false,
		"process.parent.code_signature.trusted":      true, // the source's value stays (target neither verified nor signed)
		"process.code_signature":                     nil,
		"user.name":                                  "bob",
		"user.domain":                                "CORP",
	})
}

func TestOtherCategories(t *testing.T) {
	check(t, ecsOf(t, fileCreate), map[string]any{"event.category": []any{"file"}, "event.type": []any{"creation"}, "event.action": []any{"creation"}, "file.path": "/tmp/a.sh", "file.directory": "/tmp",
		"file.name": "a.sh", "file.extension": "sh", "file.size": float64(12), "host.os.type": "linux", "process.name": "bash", "process.args": []any{"bash", "-c", "x"}})
	check(t, ecsOf(t, regSet), map[string]any{"event.category": []any{"registry"}, "event.type": []any{"change"}, "event.action": []any{"modification"},
		"registry.path": `HKLM\SOFTWARE\Run\evil`, "registry.key": `HKLM\SOFTWARE\Run`, "registry.value": "evil", "registry.data.strings": `C:\evil.exe`})
	check(t, ecsOf(t, netConn), map[string]any{"event.category": []any{"network"}, "destination.ip": "198.51.100.2", "destination.port": float64(443),
		"network.direction": "egress", "network.protocol": "tcp", "event.type": []any{"start", "connection"},
		"event.action": []any{"connection_attempted"}, "source.port": float64(50000)})
	check(t, ecsOf(t, dnsReq), map[string]any{"dns.question.name": "example.org", "dns.question.type": "A", "event.category": []any{"network"},
		"event.type": []any{"info", "protocol"}, "event.action": []any{"lookup_requested"}, "dns.resolved_ip": []any{"192.0.2.1", "2001:db8::1"},
		"dns.answers":   []any{map[string]any{"type": "CNAME", "data": "cdn.example.net"}},
		"related.hosts": []any{"example.org", "cdn.example.net"}}) // replaced, not appended to
	check(t, ecsOf(t, login), map[string]any{"event.category": []any{"authentication"}, "event.type": []any{"start"}, "event.outcome": nil, "user.name": "bob"})
	// endpoint.os outside ECS's list: no host.os.type.
	check(t, ecsOf(t, `{"meta.event.name":"X","event.time":1,"endpoint.os":"solaris"}`), map[string]any{"host.os.type": nil, "host.os.platform": "solaris"})
}

// The key list and the slot constants are kept in step by hand.
func TestSchemaSlots(t *testing.T) {
	if schema.Len() != nSlots {
		t.Errorf("schema has %d keys for %d slots", schema.Len(), nSlots)
	}
}

func TestRejects(t *testing.T) {
	for _, bad := range []string{`{}`, `{"meta.event.name":"X","event.time":"later"}`, `{"meta.event.name":`, `"x"`} {
		if _, err := Normalize(nil, []byte(bad), ""); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
	if !Sniff([]byte(procCreate)) || Sniff([]byte(`{"event":{"type":"x"}}`)) {
		t.Error("Sniff")
	}
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{procCreate, fileCreate, regSet, netConn, dnsReq, login, `{"meta.event.name":"","event.time":"","tgt.process.cmdline":"\""}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		normtest.CheckOutput(t, Normalize, "logs-sentinel_one_cloud_funnel.event-default", data)
	})
}

func BenchmarkNormalize(b *testing.B) { normtest.Bench(b, Normalize, procCreate) }
