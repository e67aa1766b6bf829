package event

import "testing"

// ecsEvent is a typical Elastic Defend process-start event (~1.1 KB).
const ecsEvent = `{"@timestamp":"2024-03-14T09:26:53.589Z","agent":{"type":"endpoint","version":"8.12.2"},"ecs":{"version":"8.10.0"},"event":{"action":"start","category":["process"],"type":["start"],"kind":"event","dataset":"endpoint.events.process","module":"endpoint"},"host":{"hostname":"WIN-DC01","name":"win-dc01","ip":["10.0.2.15","fe80::a00:27ff:fe4e:66a1"],"os":{"type":"windows","family":"windows","name":"Windows Server 2019 Datacenter","version":"1809"}},"process":{"pid":6412,"entity_id":"Yzg5NzY4ZjctYjI2ZC00N2VkLTk2MTAtZjQ3OWFmNDQ5ZmY3LTY0MTI=","name":"powershell.exe","executable":"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe","command_line":"powershell.exe -NoProfile -ExecutionPolicy Bypass -EncodedCommand SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAKQA=","args":["powershell.exe","-NoProfile","-ExecutionPolicy","Bypass","-EncodedCommand","SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAKQA="],"args_count":6,"pe":{"original_file_name":"PowerShell.EXE"},"parent":{"pid":4120,"name":"cmd.exe","executable":"C:\\Windows\\System32\\cmd.exe","args":["cmd.exe","/c","run.bat"]}},"user":{"name":"alice","domain":"CORP"}}`

// ecsEventFlat is the same event with every object flattened into dotted keys,
// as some shippers write it.
const ecsEventFlat = `{"@timestamp":"2024-03-14T09:26:53.589Z","agent.type":"endpoint","agent.version":"8.12.2","ecs.version":"8.10.0","event.action":"start","event.category":["process"],"event.type":["start"],"event.kind":"event","event.dataset":"endpoint.events.process","event.module":"endpoint","host.hostname":"WIN-DC01","host.name":"win-dc01","host.ip":["10.0.2.15","fe80::a00:27ff:fe4e:66a1"],"host.os.type":"windows","host.os.family":"windows","host.os.name":"Windows Server 2019 Datacenter","host.os.version":"1809","process.pid":6412,"process.entity_id":"Yzg5NzY4ZjctYjI2ZC00N2VkLTk2MTAtZjQ3OWFmNDQ5ZmY3LTY0MTI=","process.name":"powershell.exe","process.executable":"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe","process.command_line":"powershell.exe -NoProfile -ExecutionPolicy Bypass -EncodedCommand SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAKQA=","process.args":["powershell.exe","-NoProfile","-ExecutionPolicy","Bypass","-EncodedCommand","SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAKQA="],"process.args_count":6,"process.pe.original_file_name":"PowerShell.EXE","process.parent.pid":4120,"process.parent.name":"cmd.exe","process.parent.executable":"C:\\Windows\\System32\\cmd.exe","process.parent.args":["cmd.exe","/c","run.bat"],"user.name":"alice","user.domain":"CORP"}`

// benchPaths are the fields a typical process rule touches, plus a miss.
var benchPaths = []*Path{
	CompilePath("@timestamp"),
	CompilePath("event.category"),
	CompilePath("event.type"),
	CompilePath("host.os.type"),
	CompilePath("process.name"),
	CompilePath("process.args"),
	CompilePath("process.pid"),
	CompilePath("process.parent.name"),
	CompilePath("process.pe.original_file_name"),
	CompilePath("user.name"),
	CompilePath("process.code_signature.subject_name"),
}

// parseLookupAll is the measured unit: one Parse and every bench lookup.
func parseLookupAll(tb testing.TB, p *Parser, line []byte, dst []Value) []Value {
	d, err := p.Parse(line)
	if err != nil {
		tb.Fatal(err)
	}
	for _, path := range benchPaths {
		dst, _ = d.Lookup(path, dst[:0])
	}
	if _, ok := d.First(benchPaths[0]); !ok {
		tb.Fatal("no @timestamp")
	}
	return dst
}

func benchParseLookup(b *testing.B, doc string) {
	line := []byte(doc)
	var p Parser
	dst := make([]Value, 0, 16)
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	for b.Loop() {
		dst = parseLookupAll(b, &p, line, dst)
	}
}

func BenchmarkParseLookup(b *testing.B)     { benchParseLookup(b, ecsEvent) }
func BenchmarkParseLookupFlat(b *testing.B) { benchParseLookup(b, ecsEventFlat) }

// BenchmarkParse isolates parsing (validation + tape).
func BenchmarkParse(b *testing.B) {
	line := []byte(ecsEvent)
	var p Parser
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Parse(line); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLookup isolates the lookups on an already parsed document.
func BenchmarkLookup(b *testing.B) {
	var p Parser
	d, err := p.Parse([]byte(ecsEvent))
	if err != nil {
		b.Fatal(err)
	}
	dst := make([]Value, 0, 16)
	b.ReportAllocs()
	for b.Loop() {
		for _, path := range benchPaths {
			dst, _ = d.Lookup(path, dst[:0])
		}
	}
}
