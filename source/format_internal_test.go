package source

import (
	"bytes"
	"strings"
	"testing"

	"github.com/vigilsec/vigil/event"
	"github.com/vigilsec/vigil/internal/benchgen"
)

// BenchmarkDetectECS measures what per-record format detection costs on
// ECS input where it runs: reading with the Reader and parsing each record,
// once with detection (the default) and once with the format forced to
// ECS (no detection), alternating in rounds so that machine noise hits
// both alike. detect-% is the extra time in percent; detect-ns/record the
// extra per record.
func BenchmarkDetectECS(b *testing.B) {
	var buf bytes.Buffer
	if _, err := benchgen.Generate(&buf, 4<<20, 2); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	var p event.Parser
	read := func(forced bool) (int, int64) {
		t0 := nanotime()
		r := NewReader("bench", bytes.NewReader(data))
		if forced {
			r.SetFormat(ECS)
		}
		n := 0
		for {
			rec, _, ok := r.Next()
			if !ok {
				break
			}
			if _, err := p.Parse(rec); err != nil {
				b.Fatal(err)
			}
			n++
		}
		return n, nanotime() - t0
	}
	var autoNs, ecsNs int64
	records := 0
	for b.Loop() {
		n, t := read(false)
		_, u := read(true)
		autoNs += t
		ecsNs += u
		records += n
	}
	b.ReportMetric(100*float64(autoNs-ecsNs)/float64(ecsNs), "detect-%")
	b.ReportMetric(float64(autoNs-ecsNs)/float64(records), "detect-ns/record")
}

// Detection on a record that is not ECS and of no vendor format (the
// worst case: every sniff scans the whole line).
func BenchmarkDetectUnknown(b *testing.B) {
	line := []byte(`{"message":"` + string(bytes.Repeat([]byte("x"), 1000)) + `","host":{"name":"h"}}`)
	c := converter{last: -1}
	b.SetBytes(int64(len(line)))
	for b.Loop() {
		if c.detect(line) != nil {
			b.Fatal("detected")
		}
	}
}

// BenchmarkDetectECSHot compares detection with parsing on the same 64
// generated ECS lines, held in cache as a record just read is: detect-% is
// detection time as a percentage of parse time.
func BenchmarkDetectECSHot(b *testing.B) {
	var buf bytes.Buffer
	if _, err := benchgen.Generate(&buf, 64<<10, 3); err != nil {
		b.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n"))
	if len(lines) > 64 {
		lines = lines[:64]
	}
	var p event.Parser
	c := converter{last: -1}
	var detectNs, parseNs int64
	const rounds = 64
	for b.Loop() {
		t0 := nanotime()
		for range rounds {
			for _, l := range lines {
				if c.detect(l) != nil {
					b.Fatal("ECS line detected as a vendor format")
				}
			}
		}
		t1 := nanotime()
		for range rounds {
			for _, l := range lines {
				if _, err := p.Parse(l); err != nil {
					b.Fatal(err)
				}
			}
		}
		t2 := nanotime()
		detectNs += t1 - t0
		parseNs += t2 - t1
	}
	n := float64(int64(b.N) * rounds * int64(len(lines)))
	b.ReportMetric(100*float64(detectNs)/float64(parseNs), "detect-%")
	b.ReportMetric(float64(detectNs)/n, "detect-ns/record")
	b.ReportMetric(float64(parseNs)/n, "parse-ns/record")
}

// Winlogbeat documents are looked for in a file whose first record is one
// (a blank or broken first line does not decide); a file that starts with
// another kind of record is read as such, Beat documents included.
func TestBeforeECSDecidedPerFile(t *testing.T) {
	beat := `{"@timestamp":"2026-03-02T10:00:00.000Z","agent":{"type":"winlogbeat","version":"8.15.0"},` +
		`"winlog":{"channel":"Microsoft-Windows-Sysmon/Operational","event_id":"1","provider_name":"Microsoft-Windows-Sysmon",` +
		`"computer_name":"ws-07","event_data":{"Image":"C:\\Windows\\System32\\net.exe","CommandLine":"net user x /add"}}}`
	ecs := `{"@timestamp":"2026-03-02T10:00:00.000Z","event":{"category":["process"]},"process":{"name":"svchost.exe"}}`
	read := func(input string) []string {
		rd := NewReader("in", strings.NewReader(input))
		rd.OnError = func(*Error) {}
		var out []string
		for {
			rec, _, ok := rd.Next()
			if !ok {
				return out
			}
			out = append(out, string(rec))
		}
	}
	mapped := func(rec string) bool {
		return strings.Contains(rec, `"process":{`) && strings.Contains(rec, `"name":"net.exe"`)
	}
	got := read("\n{broken\n" + beat + "\n" + ecs + "\n" + beat + "\n")
	// The broken line is handed on as it is (the caller reports it).
	if len(got) != 4 || got[0] != "{broken" || !mapped(got[1]) || got[2] != ecs || !mapped(got[3]) {
		t.Errorf("file starting with a Beat document:\n%s", strings.Join(got, "\n"))
	}
	got = read(ecs + "\n" + beat + "\n")
	if len(got) != 2 || got[0] != ecs || got[1] != beat {
		t.Errorf("file starting with ECS: the Beat document should pass through:\n%s", strings.Join(got, "\n"))
	}
}
