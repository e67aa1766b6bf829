package detect

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/vigilsec/vigil/eql"
	"github.com/vigilsec/vigil/rule"
)

// gateRules are sequences that start on a rare event and go on with a
// common one (what gating is for), one ending with until, one whose first
// term is common (rarely dormant), among generated rules so that value
// dispatch (and with it gating) is on.
func gateRules() []*rule.Rule {
	rules := genRules(24, 5, false)
	for i, q := range []string{
		`sequence by host.name with maxspan=30s [process where process.name : "net.exe"] [network where true]`,
		`sequence by host.name with maxspan=2m [process where process.name == "whoami.exe"] [any where event.category == "network"] [file where true]`,
		`sequence by process.entity_id [process where process.name : "powershell.exe"] [network where destination.port == 443] until [process where event.type == "end"]`,
		`sequence by host.name with maxspan=10s [process where true] [network where destination.port == 445]`,
		`sequence with maxspan=1m [network where destination.port == 22] [process where process.name : "sshd"]`,
	} {
		rules = append(rules, &rule.Rule{RuleID: fmt.Sprintf("gate-%d", i), Name: fmt.Sprintf("Gate %d", i), Type: "eql",
			Severity: "medium", RiskScore: 47, Query: q})
	}
	return rules
}

// gateEvents are process starts and ends, connections and file events on
// three hosts, ~20 a second: the sequences above form often. Constructed
// here.
func gateEvents(n int, seed uint64) []byte {
	rnd := rand.New(rand.NewPCG(seed, 4))
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	procs := []string{"net.exe", "whoami.exe", "powershell.exe", "sshd", "svchost.exe", "chrome.exe", "cmd.exe", "svchost.exe"}
	var b bytes.Buffer
	for i := 0; i < n; i++ {
		ts := t0.Add(time.Duration(i)*50*time.Millisecond + time.Duration(rnd.IntN(40))*time.Millisecond).Format("2006-01-02T15:04:05.000Z")
		host, pid := fmt.Sprintf("h%d", rnd.IntN(3)), fmt.Sprintf("p%d", rnd.IntN(6))
		fmt.Fprintf(&b, `{"@timestamp":%q,"host":{"name":%q,"id":%q},"process":{"entity_id":%q,"name":%q},`, ts, host, host, pid, procs[rnd.IntN(len(procs))])
		switch k := rnd.IntN(10); {
		case k < 4:
			typ := "start"
			if k == 0 {
				typ = "end"
			}
			fmt.Fprintf(&b, `"event":{"category":["process"],"type":[%q]}}`+"\n", typ)
		case k < 8:
			fmt.Fprintf(&b, `"event":{"category":["network"],"type":["start"]},"destination":{"port":%d}}`+"\n", []int{22, 80, 443, 445}[rnd.IntN(4)])
		default:
			fmt.Fprintf(&b, `"event":{"category":["file"],"type":["creation"]},"file":{"name":"f%d.txt"}}`+"\n", rnd.IntN(5))
		}
	}
	return b.Bytes()
}

// shuffle moves some lines later, a few of them by more than the reorder
// window: input out of order as a real pile of files is.
// shuffle swaps one line in every (0: none) with the one back() lines
// before it.
func shuffle(data []byte, rnd *rand.Rand, every int, back func() int) []byte {
	lines := bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n"))
	for i := len(lines) - 1; i > 0; i-- {
		if every == 0 || rnd.IntN(every) != 0 {
			continue
		}
		j := max(0, i-back())
		lines[i], lines[j] = lines[j], lines[i]
	}
	return append(bytes.Join(lines, []byte("\n")), '\n')
}

// Gating (not feeding a dormant sequence what cannot start it, replaying
// it when something does) gives exactly the alerts of feeding every rule
// every event, on input out of order within and beyond the reorder
// window, read back from the input or copied.
func TestGateEquivalence(t *testing.T) {
	rs, errs := CompileWith(gateRules(), CompileOptions{dispatch: dispatchValues})
	if len(errs) > 0 {
		t.Fatal(errs[0])
	}
	rnd := rand.New(rand.NewPCG(7, 3))
	data := shuffle(gateEvents(6000, 11), rnd, 8, func() int {
		if k := rnd.IntN(150); rnd.IntN(20) != 0 { // at 20 events/s of event time, up to ~7s
			return k
		}
		return rnd.IntN(2000) // beyond the window
	})
	for _, readBack := range []bool{true, false} {
		run := func(exhaustive bool) ([][]byte, *Engine) {
			e := rs.NewEngine(Options{Now: testNow, ReorderWindow: 5 * time.Second})
			e.exhaustive = exhaustive
			if readBack {
				offerAll(t, e, data)
			} else {
				n := 0
				for line := range bytes.SplitSeq(bytes.TrimSuffix(data, []byte("\n")), []byte("\n")) {
					n++
					if err := e.Offer(line, eql.Source{Line: n}); err != nil {
						t.Fatal(err)
					}
				}
			}
			out := finishJSON(t, e)
			return out, e
		}
		want, _ := run(true)
		got, e := run(false)
		st := e.Stats()
		t.Logf("read back %v: %d alerts, %d evaluations, %d deferred, %d replayed, %d late", readBack, len(got), st.Evaluations, st.Deferred, e.gate.replayed, st.Late)
		if !readBack {
			if st.Deferred != 0 {
				t.Fatalf("%d deferred: documents that cannot be read back must be fed", st.Deferred)
			}
		} else if st.Deferred == 0 || e.gate.replayed == 0 || st.Late == 0 {
			t.Fatalf("weak test: %d deferred, %d replayed, %d late", st.Deferred, e.gate.replayed, st.Late)
		}
		seqAlerts := 0
		for _, a := range got {
			if bytes.Contains(a, []byte(`"rule_id":"gate-`)) {
				seqAlerts++
			}
		}
		if seqAlerts < 10 {
			t.Fatalf("weak test: %d alerts of the gated sequences", seqAlerts)
		}
		sameDocs(t, "gated", got, want)
	}
}

// The cases by hand: a connection noted while the sequence was dormant
// follows a process start that arrives after it but happened before it;
// once the reorder window has let the connection go, it does not.
func TestGateReplay(t *testing.T) {
	rules := gateRules()
	rs, errs := CompileWith(rules, CompileOptions{dispatch: dispatchValues})
	if len(errs) > 0 {
		t.Fatal(errs[0])
	}
	ev := func(sec int, body string) []byte {
		return fmt.Appendf(nil, `{"@timestamp":"2026-01-01T00:00:%02dZ","host":{"name":"h1"},%s}`, sec, body)
	}
	netConn := `"event":{"category":["network"],"type":["start"]},"destination":{"port":80}`
	netStart := `"event":{"category":["process"],"type":["start"]},"process":{"name":"net.exe","entity_id":"p1"}`
	other := `"event":{"category":["file"],"type":["creation"]},"file":{"name":"x.log"}`
	for _, tc := range []struct {
		name     string
		lines    [][]byte
		want     int  // alerts of "Gate 0"
		replayed bool // the connection noted, then fed
	}{
		{"in order", [][]byte{ev(5, netStart), ev(10, netConn)}, 1, false},
		{"start arrives late, within the window", [][]byte{ev(10, netConn), ev(5, netStart)}, 1, true},
		{"start arrives after the window let the connection go", [][]byte{ev(10, netConn), ev(30, other), ev(5, netStart)}, 0, false},
		{"connection before the start in time", [][]byte{ev(4, netConn), ev(5, netStart)}, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, exhaustive := range []bool{true, false} {
				e := rs.NewEngine(Options{Now: testNow, ReorderWindow: 10 * time.Second})
				e.exhaustive = exhaustive
				offerAll(t, e, append(bytes.Join(tc.lines, []byte("\n")), '\n'))
				as, err := e.Finish()
				if err != nil {
					t.Fatal(err)
				}
				n := 0
				for _, a := range as {
					if a.Rule.RuleID == "gate-0" && a.Kind != BuildingBlockAlert {
						n++
					}
				}
				if n != tc.want {
					t.Errorf("fed everything %v: %d alerts, want %d", exhaustive, n, tc.want)
				}
				if !exhaustive && (e.gate.replayed > 0) != tc.replayed {
					t.Errorf("%d documents replayed (several rules may take the same)", e.gate.replayed)
				}
			}
		})
	}
}

// FuzzGateEquivalence: gated or not, the same alerts, for any event mix,
// disorder and reorder window.
func FuzzGateEquivalence(f *testing.F) {
	f.Add(uint64(1), uint8(5), uint16(800), uint8(8))
	f.Add(uint64(2), uint8(1), uint16(1500), uint8(2))
	f.Add(uint64(3), uint8(30), uint16(400), uint8(1))
	f.Add(uint64(4), uint8(0), uint16(300), uint8(4))
	rs, errs := CompileWith(gateRules(), CompileOptions{dispatch: dispatchValues})
	if len(errs) > 0 {
		f.Fatal(errs[0])
	}
	f.Fuzz(func(t *testing.T, seed uint64, windowSec uint8, n uint16, every uint8) {
		rnd := rand.New(rand.NewPCG(seed, 5))
		data := shuffle(gateEvents(int(n%2000)+50, seed), rnd, int(every), func() int { return rnd.IntN(400) })
		window := time.Duration(windowSec%60) * time.Second
		var want, got [][]byte
		for _, exhaustive := range []bool{true, false} {
			e := rs.NewEngine(Options{Now: testNow, ReorderWindow: window})
			e.exhaustive = exhaustive
			offerAll(t, e, data)
			if exhaustive {
				want = finishJSON(t, e)
			} else {
				got = finishJSON(t, e)
			}
		}
		sameDocs(t, "gated", got, want)
	})
}

// One event from a host whose clock is a year ahead does not make every
// other event late nor every open sequence dead; a run of them (a file a
// day later) moves the clock.
func TestGateClockOutlier(t *testing.T) {
	rs, errs := CompileWith(gateRules(), CompileOptions{dispatch: dispatchValues})
	if len(errs) > 0 {
		t.Fatal(errs[0])
	}
	ev := func(ts time.Time, host, body string) []byte {
		return fmt.Appendf(nil, `{"@timestamp":%q,"host":{"name":%q},%s}`, ts.Format(time.RFC3339Nano), host, body)
	}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	netStart := `"event":{"category":["process"],"type":["start"]},"process":{"name":"net.exe","entity_id":"p1"}`
	netConn := `"event":{"category":["network"],"type":["start"]},"destination":{"port":80}`
	other := `"event":{"category":["file"],"type":["creation"]},"file":{"name":"x.log"}`
	lines := [][]byte{ev(t0, "h1", netStart), ev(t0.AddDate(1, 0, 0), "skewed", other), ev(t0.Add(5*time.Second), "h1", netConn)}
	for _, exhaustive := range []bool{true, false} {
		e := rs.NewEngine(Options{Now: testNow, ReorderWindow: 10 * time.Second})
		e.exhaustive = exhaustive
		offerAll(t, e, append(bytes.Join(lines, []byte("\n")), '\n'))
		if e.gate.clock != t0.Add(5*time.Second).UnixMilli() {
			t.Errorf("clock %d after one outlier", e.gate.clock)
		}
		n := 0
		for _, a := range finishAlerts(t, e) {
			if a.Rule.RuleID == "gate-0" && a.Kind == SequenceAlert {
				n++
			}
		}
		if n != 1 {
			t.Errorf("fed everything %v: %d sequences, want 1", exhaustive, n)
		}
	}
	// A day later, in a run: the clock follows.
	var run [][]byte
	for i := range clockJump {
		run = append(run, ev(t0.AddDate(0, 0, 1).Add(time.Duration(i)*time.Second), "h1", other))
	}
	e := rs.NewEngine(Options{Now: testNow, ReorderWindow: 10 * time.Second})
	offerAll(t, e, append(bytes.Join(append(lines[:1:1], run...), []byte("\n")), '\n'))
	if want := t0.AddDate(0, 0, 1).UnixMilli(); e.gate.clock != want { // the earliest of the run
		t.Errorf("clock %d after a run a day later, want %d", e.gate.clock, want)
	}
}
