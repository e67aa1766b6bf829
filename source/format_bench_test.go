package source_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/vigilsec/vigil/event"
	"github.com/vigilsec/vigil/internal/benchgen"
	"github.com/vigilsec/vigil/source"
)

// ecsData is generated Elastic Defend style ECS NDJSON (internal/benchgen).
func ecsData(b *testing.B) []byte {
	var buf bytes.Buffer
	if _, err := benchgen.Generate(&buf, 16<<20, 1); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

// vendorData repeats the real records of one source (../shared) to about
// size bytes of NDJSON.
func vendorData(b *testing.B, rel string, size int) []byte {
	raw, err := os.ReadFile(filepath.Join(shared, rel))
	if err != nil {
		b.Skipf("%s not present: %v", rel, err)
	}
	var lines [][]byte
	for _, l := range bytes.Split(raw, []byte("\n")) {
		if l = bytes.TrimSpace(l); len(l) > 0 {
			lines = append(lines, l)
		}
	}
	var out bytes.Buffer
	for out.Len() < size {
		for _, l := range lines {
			out.Write(l)
			out.WriteByte('\n')
		}
	}
	return out.Bytes()
}

// readAll reads data as hunt does: Reader records (detection and
// normalisation included), each parsed once.
func readAll(b *testing.B, data []byte, format string) int {
	rd := source.NewReader("bench", bytes.NewReader(data))
	if err := rd.SetFormat(format); err != nil {
		b.Fatal(err)
	}
	rd.OnError = func(e *source.Error) { b.Fatal(e) }
	var p event.Parser
	n := 0
	for {
		rec, _, ok := rd.Next()
		if !ok {
			break
		}
		if _, err := p.Parse(rec); err != nil {
			b.Fatal(err)
		}
		n++
	}
	return n
}

// BenchmarkFormats measures records/s on one core for every format against
// the NDJSON parse-only baseline of the same run:
//
//	ecs/parse-only     lines split and parsed, no Reader (the baseline)
//	ecs/reader-ecs     Reader with --source ecs (no detection) + parse
//	ecs/reader-auto    Reader with per-record detection + parse: the
//	                   difference to reader-ecs is the cost of sniffing
//	<vendor>/reader-auto  real vendor records, detected, normalised, and
//	                   the ECS document parsed, as hunt does
//
// records/cpu-s divides by the process's CPU time instead (garbage
// collection included), which other load on the machine disturbs less.
//
// Run: go test ./source -run XXX -bench BenchmarkFormats -cpu 1
func BenchmarkFormats(b *testing.B) {
	ecs := ecsData(b)
	run := func(name string, data []byte, fn func() int) {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			n := 0
			cpu0 := cpuTime()
			for b.Loop() {
				n += fn()
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
			// CPU time (GC included) is less disturbed by other load on a
			// shared machine than wall time.
			if cpu := cpuTime() - cpu0; cpu > 0 {
				b.ReportMetric(float64(n)/cpu.Seconds(), "records/cpu-s")
			}
		})
	}
	run("ecs/parse-only", ecs, func() int {
		var p event.Parser
		n := 0
		for rest := ecs; len(rest) > 0; {
			i := bytes.IndexByte(rest, '\n')
			if i < 0 {
				i = len(rest)
			}
			if _, err := p.Parse(rest[:i]); err != nil {
				b.Fatal(err)
			}
			n++
			rest = rest[min(i+1, len(rest)):]
		}
		return n
	})
	run("ecs/reader-ecs", ecs, func() int { return readAll(b, ecs, "ecs") })
	run("ecs/reader-auto", ecs, func() int { return readAll(b, ecs, "") })
	for _, v := range []struct{ name, file string }{
		{"crowdstrike", "telemetry/elastic-fixtures/crowdstrike__fdr/test-windows.log.EXCERPT-ProcessRollup2.log"},
		{"sentinelone", "telemetry/sentinel_one_cloud_funnel/test-process.log"},
		{"m365defender", "telemetry/elastic-fixtures/m365_defender__event/test-device.log"},
		{"endgame", "conformance/eql/events/pyeql_test_data.ndjson"},
	} {
		data := vendorData(b, v.file, 4<<20)
		run(v.name+"/reader-auto", data, func() int { return readAll(b, data, "") })
	}
}
