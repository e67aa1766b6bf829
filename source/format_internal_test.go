package source

import (
	"bytes"
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
