package detect

import (
	"bytes"
	"fmt"
	"os"
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
