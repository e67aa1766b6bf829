package eql

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigilsec/vigil/event"
	"github.com/vigilsec/vigil/internal/benchgen"
)

// The benchmarks run over generated ECS NDJSON held in memory (64 MB by
// default, VIGIL_BENCH_BYTES to change it), the way the CLI reads a file:
// split lines, prefilter, parse, feed. b.SetBytes is the whole buffer, so
// MB/s is NDJSON throughput; compare each figure with BenchmarkParseOnly
// from the same run.
//
//	go test ./eql -run '^$' -bench . -benchtime 3x

// benchCorpus is a generated data set split into lines.
type benchCorpus struct {
	data  []byte
	lines [][]byte
	ids   []string // "bench:<line>", precomputed so no run allocates them
	st    benchgen.Stats
}

var (
	benchBig, benchSmall       *benchCorpus
	benchBigOnce, benchSmallOn sync.Once
)

func newBenchCorpus(tb testing.TB, size, seed int64) *benchCorpus {
	var buf bytes.Buffer
	buf.Grow(int(size) + 4096)
	st, err := benchgen.Generate(&buf, size, seed)
	if err != nil {
		tb.Fatal(err)
	}
	c := &benchCorpus{data: buf.Bytes(), st: st}
	for rest := c.data; len(rest) > 0; {
		i := bytes.IndexByte(rest, '\n')
		c.lines = append(c.lines, rest[:i])
		c.ids = append(c.ids, "bench:"+strconv.Itoa(len(c.lines)))
		rest = rest[i+1:]
	}
	return c
}

func benchData(b *testing.B) *benchCorpus {
	benchBigOnce.Do(func() {
		size := int64(64 << 20)
		if s := os.Getenv("VIGIL_BENCH_BYTES"); s != "" {
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil || n <= 0 {
				b.Fatalf("VIGIL_BENCH_BYTES=%q: want a byte count", s)
			}
			size = n
		}
		benchBig = newBenchCorpus(b, size, 1)
	})
	if benchBig == nil {
		b.Fatal("no benchmark data")
	}
	return benchBig
}

func equivData(t *testing.T) *benchCorpus {
	benchSmallOn.Do(func() { benchSmall = newBenchCorpus(t, 6<<20, 3) })
	return benchSmall
}

// benchScan is the per-line loop of the CLI: prefilter (pf may be nil),
// parse, feed. It splits the buffer itself, as a reader would.
func benchScan(tb testing.TB, c *benchCorpus, p *event.Parser, pf *Prefilter, m *Matcher, r *Runner, sample func()) (fed int) {
	// The buffer plays the file: candidates are kept by position and read
	// back at Finish, as the CLI does for plain files.
	from := bytes.NewReader(c.data)
	data := c.data
	for n := 0; len(data) > 0; n++ {
		off := int64(len(c.data) - len(data))
		i := bytes.IndexByte(data, '\n')
		line := data[:i]
		data = data[i+1:]
		if !pf.MayMatch(line) {
			continue
		}
		d, err := p.Parse(line)
		if err != nil {
			tb.Fatalf("line %d: %v", n+1, err)
		}
		if r != nil {
			r.Feed(m, d, Source{Index: "bench", ID: c.ids[n], Line: n + 1, From: from, Offset: off})
		}
		if fed++; sample != nil && fed&1023 == 0 {
			sample()
		}
	}
	return fed
}

func benchProgram(tb testing.TB, q string) (*Program, *Matcher) {
	prog, err := ParseAndCompile(q, Options{Size: NoLimit})
	if err != nil {
		tb.Fatalf("%s: %v", q, err)
	}
	m, err := prog.Matcher(nil)
	if err != nil {
		tb.Fatal(err)
	}
	return prog, m
}

// BenchmarkParseOnly is the baseline: split and parse every line.
func BenchmarkParseOnly(b *testing.B) {
	c := benchData(b)
	var p event.Parser
	b.SetBytes(int64(len(c.data)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if n := benchScan(b, c, &p, nil, nil, nil, nil); n != len(c.lines) {
			b.Fatalf("parsed %d of %d lines", n, len(c.lines))
		}
	}
}

// benchEvents runs an event query and checks its hit count.
func benchEvents(b *testing.B, q string, usePrefilter bool, want int64) {
	c := benchData(b)
	prog, m := benchProgram(b, q)
	var pf *Prefilter
	if usePrefilter {
		pf = prog.Prefilter()
	}
	var p event.Parser
	fed := 0
	b.SetBytes(int64(len(c.data)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		r := prog.NewRunner()
		fed = benchScan(b, c, &p, pf, m, r, nil)
		if got := len(mustFinish(tb(b), r).Events); int64(got) != want {
			b.Fatalf("%d hits, the generator wrote %d matching lines", got, want)
		}
	}
	b.ReportMetric(100*float64(len(c.lines)-fed)/float64(len(c.lines)), "%skipped")
	b.ReportMetric(float64(want), "hits")
}

// BenchmarkSeedRule: Elastic's "User Account Creation" rule, whose
// literals let the prefilter skip almost every line unparsed.
func BenchmarkSeedRule(b *testing.B) {
	benchEvents(b, benchgen.SeedRule, true, benchData(b).st.SeedMatches)
}

func BenchmarkSeedRuleNoPrefilter(b *testing.B) {
	benchEvents(b, benchgen.SeedRule, false, benchData(b).st.SeedMatches)
}

// BenchmarkNonSelective: no literal, every line is parsed and evaluated.
func BenchmarkNonSelective(b *testing.B) {
	benchEvents(b, benchgen.NonSelectiveQuery, true, benchData(b).st.NonSelectiveMatches)
}

// liveHeap forces a collection and returns the bytes of live heap objects.
func liveHeap() uint64 {
	runtime.GC()
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}

// openSequences counts pending sequences (every stage) and candidates
// held for reordering.
func openSequences(r *Runner) (open, held int) {
	if r.seqs != nil {
		for _, m := range r.seqs.pending {
			open += len(m)
		}
	}
	return open, len(r.buf)
}

// BenchmarkSequence: a 2-step sequence by process.entity_id with
// maxspan=5m. reorder=all holds every candidate until Finish (the CLI's
// --reorder-window 0, exact ES order whatever the input order); reorder=1s
// streams them to the state machine, so memory follows the open sequences.
// (The CLI's default window, 15m, is longer than the 64 MB of data: there
// it behaves as reorder=all.)
// retained-MB is the live heap the runner holds at the end of the input
// (before Finish); max-open-seqs and max-held-cands are sampled.
func BenchmarkSequence(b *testing.B) {
	for _, window := range []time.Duration{0, time.Second} {
		name := "reorder=all"
		if window > 0 {
			name = "reorder=" + window.String()
		}
		b.Run(name, func(b *testing.B) {
			c := benchData(b)
			prog, m := benchProgram(b, benchgen.SequenceQuery)
			pf := prog.Prefilter()
			var p event.Parser
			var retained uint64
			var peakOpen, peakHeld, fed int
			b.SetBytes(int64(len(c.data)))
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				b.StopTimer()
				base := liveHeap()
				b.StartTimer()
				r := prog.NewRunner()
				r.ReorderWindow = window
				fed = benchScan(b, c, &p, pf, m, r, func() {
					open, held := openSequences(r)
					peakOpen, peakHeld = max(peakOpen, open), max(peakHeld, held)
				})
				b.StopTimer()
				if h := liveHeap(); h > base {
					retained = max(retained, h-base)
				}
				b.StartTimer()
				if got := len(mustFinish(b, r).Sequences); int64(got) != c.st.Sequences {
					b.Fatalf("%d sequences, the generator wrote %d", got, c.st.Sequences)
				}
			}
			b.ReportMetric(float64(retained)/1e6, "retained-MB")
			b.ReportMetric(float64(peakOpen), "max-open-seqs")
			b.ReportMetric(float64(peakHeld), "max-held-cands")
			b.ReportMetric(100*float64(len(c.lines)-fed)/float64(len(c.lines)), "%skipped")
			b.ReportMetric(float64(c.st.Sequences), "sequences")
		})
	}
}

// equivQueries exercise every kind of literal the prefilter extracts:
// == (case-sensitive), in, in~, : with and without wildcards, or-groups,
// escaped backslashes, and sequence, until and sample terms.
var equivQueries = []string{
	benchgen.SeedRule,
	benchgen.NonSelectiveQuery,
	benchgen.SequenceQuery,
	`process where process.name : "net*.exe" and process.args : "*ad*"`,
	`process where process.name in~ ("NET.EXE", "Net1.Exe")`,
	`process where process.name in ("net.exe", "net1.exe") and event.type == "start"`,
	`process where process.name == "NET.EXE"`,
	`process where process.name == "net.exe" and process.parent.name == "cmd.exe"`,
	`process where process.executable : "C:\\Windows\\System32\\*.exe" and user.domain == "CORP"`,
	`process where process.executable like~ "c:\\windows\\system32\\net*.exe"`,
	`any where process.command_line : "*/add*"`,
	`process where process.command_line : "*net user*" and not process.name : "net*.exe"`,
	`file where file.path : "*\\update\\*"`,
	`file where file.directory : "/opt/app/addons" or file.name == "sync.py"`,
	`network where destination.port == 445 and process.name == "svchost.exe"`,
	`process where process.name : "net.exe" or process.parent.name : "net.exe"`,
	`process where user.name == "svc_backup" and process.args : ("-k", "-EncodedCommand")`,
	`process where process.args : "/prefetch:*" and host.os.type == "windows"`,
	`any where host.name : "lnx-*" and process.name : ("useradd", "net", "net.exe")`,
	`sequence by host.name with maxspan=1m [process where process.name : "cmd.exe"] [process where process.name : ("net.exe", "net1.exe")]`,
	`sequence by process.entity_id [process where event.type == "start" and process.name : "net*.exe"] [process where event.type == "end"]`,
	`sequence by process.entity_id with maxspan=5m [process where event.type == "start"] [network where true] until [process where event.type == "end"]`,
	`sequence with maxspan=30s [process where process.name == "net.exe"] by host.name [process where process.name == "net1.exe"] by host.name`,
	`sample by host.name [process where process.name == "net.exe"] [process where process.name == "svchost.exe"]`,
}

// equivRun runs q over c and renders the results (hit IDs, join keys).
func equivRun(t *testing.T, c *benchCorpus, q string, usePrefilter bool) (out string, hits, fed int) {
	prog, m := benchProgram(t, q)
	var pf *Prefilter
	if usePrefilter {
		pf = prog.Prefilter()
	}
	var p event.Parser
	r := prog.NewRunner()
	fed = benchScan(t, c, &p, pf, m, r, nil)
	res := mustFinish(t, r)
	var b strings.Builder
	for _, h := range res.Events {
		b.WriteString(h.ID)
		b.WriteByte('\n')
	}
	for _, s := range res.Sequences {
		for _, k := range s.JoinKeys {
			fmt.Fprintf(&b, "%v/%q ", k.Kind, k.String())
		}
		b.WriteString("=>")
		for _, h := range s.Events {
			b.WriteString(" " + h.ID)
			if h.Missing {
				b.WriteString("(missing)")
			}
		}
		b.WriteByte('\n')
	}
	return b.String(), len(res.Events) + len(res.Sequences), fed
}

// TestPrefilterEquivalence: the prefilter may only skip lines that cannot
// match, so results with it are exactly those without it; and for the
// seed rule it must skip almost everything.
func TestPrefilterEquivalence(t *testing.T) {
	c := equivData(t)
	for _, q := range equivQueries {
		with, hits, fed := equivRun(t, c, q, true)
		without, hits0, fed0 := equivRun(t, c, q, false)
		skipped := 100 * float64(len(c.lines)-fed) / float64(len(c.lines))
		t.Logf("%5d hits, %5.1f%% skipped: %s", hits, skipped, strings.Join(strings.Fields(q), " "))
		if fed0 != len(c.lines) {
			t.Fatalf("without a prefilter %d of %d lines were parsed", fed0, len(c.lines))
		}
		if with != without {
			t.Errorf("%s\nresults differ with the prefilter (%d) and without it (%d)\n%s", q, hits, hits0, firstDiff(with, without))
			continue
		}
		if hits == 0 {
			t.Errorf("%s: no results, the comparison proves nothing", q)
		}
		switch q {
		case benchgen.SeedRule:
			if int64(hits) != c.st.SeedMatches {
				t.Errorf("seed rule: %d hits, the generator wrote %d matching lines", hits, c.st.SeedMatches)
			}
			if skipped < 90 {
				t.Errorf("seed rule: the prefilter skipped %.1f%% of lines, want > 90%%", skipped)
			}
		case benchgen.NonSelectiveQuery:
			if int64(hits) != c.st.NonSelectiveMatches {
				t.Errorf("non-selective: %d hits, the generator wrote %d", hits, c.st.NonSelectiveMatches)
			}
		case benchgen.SequenceQuery:
			if int64(hits) != c.st.Sequences {
				t.Errorf("sequence: %d sequences, the generator wrote %d", hits, c.st.Sequences)
			}
		}
	}
}

func firstDiff(a, b string) string {
	la, lb := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < len(la) || i < len(lb); i++ {
		var x, y string
		if i < len(la) {
			x = la[i]
		}
		if i < len(lb) {
			y = lb[i]
		}
		if x != y {
			return fmt.Sprintf("first difference at result %d:\n  with:    %s\n  without: %s", i+1, x, y)
		}
	}
	return ""
}

func mustFinish(tb testing.TB, r *Runner) *Results {
	res, err := r.Finish()
	if err != nil {
		tb.Fatal(err)
	}
	return res
}

func tb(b *testing.B) testing.TB { return b }
