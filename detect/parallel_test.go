package detect

import (
	"bytes"
	"fmt"
	"os"
	"regexp"
	"testing"
	"time"

	"github.com/vigilsec/vigil/eql"
	"github.com/vigilsec/vigil/rule"
)

// emitted runs one Engine with Emit and returns the alerts' documents in
// emission order, and its stats.
func emitted(t *testing.T, rules []*rule.Rule, data []byte) ([]string, Stats) {
	t.Helper()
	rs, errs := Compile(rules)
	if len(errs) > 0 {
		t.Fatal(errs[0])
	}
	var out []string
	e := rs.NewEngine(Options{Now: testNow, ReorderWindow: 15 * time.Minute, Emit: func(a *Alert) { out = append(out, string(a.JSON())) }})
	from := bytes.NewReader(data)
	n := 0
	for off := 0; off < len(data); {
		i := bytes.IndexByte(data[off:], '\n')
		n++
		_ = e.Offer(data[off:off+i], eql.Source{Line: n, From: from, Offset: int64(off)})
		off += i + 1
	}
	if _, err := e.Finish(); err != nil {
		t.Fatal(err)
	}
	return out, e.Stats()
}

func emittedParallel(t *testing.T, rules []*rule.Rule, data []byte, workers int) ([]string, Stats, int) {
	t.Helper()
	var out []string
	bad := 0
	p, errs := NewParallel(rules, workers, Options{Now: testNow, ReorderWindow: 15 * time.Minute, Emit: func(a *Alert) { out = append(out, string(a.JSON())) }},
		func(file string, line []byte, src eql.Source, err error) { bad++ })
	if len(errs) > 0 {
		t.Fatal(errs[0])
	}
	from := bytes.NewReader(data)
	n := 0
	for off := 0; off < len(data); {
		i := bytes.IndexByte(data[off:], '\n')
		n++
		p.Offer("gen", data[off:off+i], eql.Source{Line: n, From: from, Offset: int64(off)})
		off += i + 1
	}
	if err := p.Finish(); err != nil {
		t.Fatal(err)
	}
	return out, p.Stats(), bad
}

// Parallel emits exactly what one Engine emits, in the same order, with
// the same counts, whatever the number of workers.
func TestParallelEquivalence(t *testing.T) {
	data := genEvents(t, 3<<20, 7)
	// Malformed lines must be reported once, not once per worker.
	data = append(data, []byte("{\"event\":{\"category\":\"process\"},\"process\":{\"name\":\"net.exe\"\n")...)
	// Sequence rules whose results the reorder window holds until the
	// end: Finish streams them rule by rule, then emits sorted groups.
	var seqs []*rule.Rule
	procs := []string{"svchost.exe", "cmd.exe", "conhost.exe", "powershell.exe", "explorer.exe"}
	for i := range 8 {
		a, b := procs[i%len(procs)], procs[(i+1+i/len(procs))%len(procs)]
		seqs = append(seqs, &rule.Rule{RuleID: fmt.Sprintf("seq-%d", i), Name: fmt.Sprintf("Sequence %d", 7-i), Type: "eql",
			Severity: "low", RiskScore: 21, Query: fmt.Sprintf(`sequence by host.name with maxspan=10m [process where process.name : %q] [process where process.name : %q]`, a, b)})
	}
	sets := map[string][]*rule.Rule{
		"generated": append(append(genRules(60, 3, true), userAccountCreation()), seqs...),
	}
	if _, err := os.Stat(rulesRoot); err == nil {
		sets["prebuilt"] = prebuiltRules(t)
	} else {
		t.Logf("prebuilt corpus absent (%s): only generated rules", rulesRoot)
	}
	for name, rules := range sets {
		want, ws := emitted(t, rules, data)
		if len(want) == 0 {
			t.Fatalf("%s: no alerts: the comparison would prove nothing", name)
		}
		for _, workers := range []int{1, 2, 3} {
			t.Run(fmt.Sprintf("%s/%d", name, workers), func(t *testing.T) {
				got, gs, bad := emittedParallel(t, rules, data, workers)
				if len(got) != len(want) {
					t.Fatalf("%d alerts, one engine %d", len(got), len(want))
				}
				for i := range want {
					if got[i] != want[i] {
						t.Fatalf("alert %d differs:\n got %.300s\nwant %.300s", i, got[i], want[i])
					}
				}
				if gs.Lines != ws.Lines || gs.Skipped != ws.Skipped || gs.Malformed != ws.Malformed || gs.Alerts != ws.Alerts {
					t.Errorf("stats: lines %d skipped %d malformed %d alerts %d; one engine %d %d %d %d",
						gs.Lines, gs.Skipped, gs.Malformed, gs.Alerts, ws.Lines, ws.Skipped, ws.Malformed, ws.Alerts)
				}
				if int64(bad) != ws.Malformed {
					t.Errorf("%d malformed lines reported, one engine %d", bad, ws.Malformed)
				}
			})
		}
	}
}

// Streaming use (vigil serve): lines offered in chunks of varying size,
// each followed by Sync, and now and then by Advance to a clock ahead of
// the events (releasing sequences held for reordering). Parallel emits
// exactly what one Engine does with Offer and Advance at the same points,
// chunk by chunk (all of a chunk's alerts before Sync returns), and its
// Stats after each Sync match.
func TestParallelStreaming(t *testing.T) {
	data := genEvents(t, 1<<20, 11)
	data = append(data, []byte("{\"event\":{\"category\":\"process\"},\"process\":{\"name\":\"net.exe\"\n")...)
	lines := bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n"))
	var seqs []*rule.Rule
	procs := []string{"svchost.exe", "cmd.exe", "conhost.exe", "powershell.exe", "explorer.exe"}
	for i := range 6 {
		a, b := procs[i%len(procs)], procs[(i+2)%len(procs)]
		seqs = append(seqs, &rule.Rule{RuleID: fmt.Sprintf("seq-%d", i), Name: fmt.Sprintf("Sequence %d", i), Type: "eql",
			Severity: "low", RiskScore: 21, Query: fmt.Sprintf(`sequence by host.name with maxspan=30m [process where process.name : %q] [process where process.name : %q]`, a, b)})
	}
	rules := append(append(genRules(40, 5, true), userAccountCreation()), seqs...)
	tsRe := regexp.MustCompile(`"@timestamp":"([^"]+)"`)
	// Chunk sizes cycle so that chunks end inside and across batches.
	sizes := []int{1, 700, 37, 256, 2000, 3}
	type step struct {
		lines   [][]byte
		advance time.Time // zero: none
	}
	var steps []step
	for i, k := 0, 0; i < len(lines); k++ {
		n := min(sizes[k%len(sizes)], len(lines)-i)
		st := step{lines: lines[i : i+n]}
		if k%3 == 2 {
			// Ahead of the chunk's last event by more than the reorder
			// window: held candidates are released.
			if m := tsRe.FindSubmatch(lines[i+n-1]); m != nil {
				ts, err := time.Parse(time.RFC3339Nano, string(m[1]))
				if err != nil {
					t.Fatal(err)
				}
				st.advance = ts.Add(20 * time.Minute)
			}
		}
		steps = append(steps, st)
		i += n
	}
	opts := func(emit func(*Alert)) Options {
		return Options{Now: testNow, ReorderWindow: 15 * time.Minute, Emit: emit}
	}

	rs, errs := Compile(rules)
	if len(errs) > 0 {
		t.Fatal(errs[0])
	}
	var want [][]string // per step
	var wantStats []Stats
	var cur []string
	e := rs.NewEngine(opts(func(a *Alert) { cur = append(cur, string(a.JSON())) }))
	n := 0
	for _, st := range steps {
		for _, l := range st.lines {
			n++
			_ = e.Offer(l, eql.Source{Line: n, ID: fmt.Sprintf("id-%d", n)})
		}
		if !st.advance.IsZero() {
			e.Advance(st.advance)
		}
		want = append(want, cur)
		cur = nil
		wantStats = append(wantStats, e.Stats())
	}
	total, advanced := 0, 0
	for i, w := range want {
		total += len(w)
		if !steps[i].advance.IsZero() {
			advanced += len(w)
		}
	}
	if total == 0 || advanced == 0 {
		t.Fatalf("%d alerts, %d in steps with Advance: the comparison would prove little", total, advanced)
	}

	for _, workers := range []int{1, 2, 3} {
		t.Run(fmt.Sprint(workers), func(t *testing.T) {
			var got []string
			bad := 0
			p, errs := NewParallel(rules, workers, opts(func(a *Alert) { got = append(got, string(a.JSON())) }),
				func(string, []byte, eql.Source, error) { bad++ })
			if len(errs) > 0 {
				t.Fatal(errs[0])
			}
			defer p.Stop()
			n := 0
			for si, st := range steps {
				for _, l := range st.lines {
					n++
					p.Offer("", l, eql.Source{Line: n, ID: fmt.Sprintf("id-%d", n)})
				}
				if st.advance.IsZero() {
					p.Sync()
				} else {
					p.Advance(st.advance)
				}
				if len(got) != len(want[si]) {
					t.Fatalf("step %d: %d alerts, one engine %d", si, len(got), len(want[si]))
				}
				for i := range got {
					if got[i] != want[si][i] {
						t.Fatalf("step %d alert %d differs:\n got %.300s\nwant %.300s", si, i, got[i], want[si][i])
					}
				}
				got = got[:0]
				gs, ws := p.Stats(), wantStats[si]
				// Evaluations are not compared: each engine calibrates its
				// dispatch on the lines it sees, so the candidates (not the
				// alerts) may differ slightly from one engine's.
				if gs.Lines != ws.Lines || gs.Skipped != ws.Skipped || gs.Malformed != ws.Malformed || gs.Alerts != ws.Alerts ||
					gs.Parsed != ws.Parsed || gs.NoIndex != ws.NoIndex || gs.Excepted != ws.Excepted {
					t.Fatalf("step %d stats: %+v\none engine %+v", si, gs, ws)
				}
				if int64(bad) != gs.Malformed {
					t.Fatalf("step %d: %d malformed lines reported, counted %d", si, bad, gs.Malformed)
				}
			}
			p.Stop()
			p.Stop() // idempotent
			if err := p.Finish(); err == nil {
				t.Error("Finish after Stop: no error")
			}
		})
	}
}
