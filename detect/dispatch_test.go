package detect

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/vigilsec/vigil/internal/benchgen"
	"github.com/vigilsec/vigil/rule"
)

// genRules builds n rules from templates over values the generator writes,
// mixing literal-rich and literal-free queries, case-insensitive and exact
// comparisons, sequences and several index patterns.
func genRules(n int, seed uint64, literalFree bool) []*rule.Rule {
	rnd := rand.New(rand.NewPCG(seed, 1))
	procs := []string{"svchost.exe", "chrome.exe", "explorer.exe", "net.exe", "net1.exe", "powershell.exe", "cmd.exe",
		"conhost.exe", "msedge.exe", "services.exe", "bash", "curl", "python3", "sshd", "whoami.exe", "Teams.exe"}
	users := []string{"alice", "bob", "carol", "SYSTEM", "root", "svc_sql"}
	frags := []string{"LocalSystemNetworkRestricted", "/add", "--type=renderer", "user", "https://", "Dnscache", "-enc", "prefetch"}
	indexes := [][]string{
		nil,
		{"logs-endpoint.events.*"},
		{"logs-endpoint.events.process-*"},
		{"winlogbeat-*", "logs-endpoint.events.network-*"},
		{"logs-*", "-logs-endpoint.events.file-*"},
	}
	if !literalFree {
		// Selective values only, so that many lines hold no rule's literals.
		procs = []string{"net.exe", "net1.exe", "whoami.exe", "powershell.exe", "cmd.exe", "curl", "sshd", "Teams.exe"}
		frags = []string{"LocalSystemNetworkRestricted", "/add", "-enc", "Dnscache", "--type=renderer"}
	}
	pick := func(s []string) string { return s[rnd.IntN(len(s))] }
	templates := []func() string{
		func() string { return fmt.Sprintf(`process where process.name : %q`, pick(procs)) },
		func() string {
			if literalFree {
				return fmt.Sprintf(`process where process.name == %q and host.os.type == "windows"`, pick(procs))
			}
			return fmt.Sprintf(`process where process.name == %q and event.type == "start"`, pick(procs))
		},
		func() string {
			return fmt.Sprintf(`process where process.parent.name : %q and event.type == "start"`, pick(procs))
		},
		func() string { return fmt.Sprintf(`process where process.executable : "*%s"`, pick(procs)) },
		func() string { return fmt.Sprintf(`process where process.command_line : "*%s*"`, pick(frags)) },
		func() string {
			if literalFree {
				return `network where destination.port == 443`
			}
			return fmt.Sprintf(`network where destination.port == 443 and process.name : %q`, pick(procs))
		},
		func() string {
			return fmt.Sprintf(`any where user.name in (%q, %q) and process.name : %q`, pick(users), pick(users), pick(procs))
		},
		func() string {
			return fmt.Sprintf(`process where process.name in~ (%q, %q)`, strings.ToUpper(pick(procs)), pick(procs))
		},
		func() string {
			return fmt.Sprintf(`sequence by host.id with maxspan=1m [process where process.name : %q] [network where true]`, pick(procs))
		},
		func() string {
			if literalFree {
				return `any where true`
			}
			return `any where process.name : "*powershell*"`
		},
		func() string { return fmt.Sprintf(`process where process.name like~ "%s*"`, pick(procs)[:3]) },
		func() string {
			if literalFree {
				return fmt.Sprintf(`process where stringContains(process.command_line, %q)`, pick(frags))
			}
			return fmt.Sprintf(`process where process.command_line : "*%s*" and user.name : %q`, pick(frags), pick(users))
		},
		func() string {
			if literalFree {
				return fmt.Sprintf(`process where process.name regex~ ".*%s"`, pick(procs)[1:])
			}
			return fmt.Sprintf(`process where process.name : "*%s"`, pick(procs)[1:])
		},
		func() string { return fmt.Sprintf(`process where process.args : %q`, pick(frags)) },
		func() string {
			if literalFree {
				return fmt.Sprintf(`sequence with maxspan=30s [file where file.name : "*.txt"] [process where user.name == %q]`, pick(users))
			}
			return fmt.Sprintf(`sequence with maxspan=5m [file where file.name : "*.txt"] [process where user.name == %q and process.name : %q]`, pick(users), pick(procs[:5]))
		},
		func() string { return fmt.Sprintf(`any where process.name : %q`, strings.ToUpper(pick(procs))) },
	}
	var rules []*rule.Rule
	for i := 0; i < n; i++ {
		q := templates[i%len(templates)]()
		rules = append(rules, &rule.Rule{
			RuleID: fmt.Sprintf("gen-%02d", i), Name: fmt.Sprintf("Generated %02d", i), Type: "eql",
			Severity: "low", RiskScore: 21, Index: indexes[rnd.IntN(len(indexes))], Query: q,
		})
	}
	return rules
}

// genEvents returns generated ECS lines, some altered so that dispatch
// meets upper-case values, \u and \/ escapes, explicit and missing indexes.
func genEvents(t testing.TB, size int64, seed int64) []byte {
	var buf bytes.Buffer
	if _, err := benchgen.Generate(&buf, size, seed); err != nil {
		t.Fatal(err)
	}
	rnd := rand.New(rand.NewPCG(uint64(seed), 2))
	var out bytes.Buffer
	for _, line := range bytes.Split(bytes.TrimSuffix(buf.Bytes(), []byte("\n")), []byte("\n")) {
		s := string(line)
		switch rnd.IntN(40) {
		case 0:
			s = strings.Replace(s, `.exe"`, `.\u0065xe"`, 1)
		case 1:
			s = strings.Replace(s, `https://`, `https:\/\/`, 1)
		case 2, 3:
			if i := strings.Index(s, `"name":"`); i >= 0 {
				j := i + len(`"name":"`)
				k := strings.IndexByte(s[j:], '"') + j
				s = s[:j] + strings.ToUpper(s[j:k]) + s[k:]
			}
		case 4:
			s = strings.Replace(s, `"data_stream":{`, `"_index":"winlogbeat-2026.01.01","data_stream":{`, 1)
		case 5:
			s = strings.Replace(s, `"data_stream":{"dataset"`, `"data_streamx":{"dataset"`, 1)
		case 6:
			// Unicode folding makes ſ equal s and the Kelvin sign equal k.
			s = strings.Replace(s, `"name":"svchost.exe"`, `"name":"\u017fvchost.exe"`, 1)
		case 7:
			s = strings.Replace(s, `"name":"net.exe"`, `"name":"NET.EXE"`, 1)
			s = strings.Replace(s, `/add`, `/ADD`, 1)
		}
		out.WriteString(s)
		out.WriteByte('\n')
	}
	return out.Bytes()
}

// Dispatch (literal scan, category gate) never changes the alerts: the
// same rules evaluated on every event (index permitting) give the same
// documents, with literal-free rules among them and without (so that
// lines are skipped unparsed).
func TestDispatchEquivalence(t *testing.T) {
	data := genEvents(t, 2<<20, 5)
	for _, c := range []struct {
		name        string
		rules       []*rule.Rule
		literalFree bool
	}{
		{"50 rules with literal-free ones", genRules(50, 11, true), true},
		{"50 selective rules", genRules(50, 11, false), false},
		// A handful of anchor literals: searched one by one after calibration.
		{"3 rules", []*rule.Rule{
			userAccountCreation(),
			{RuleID: "dns", Name: "Dnscache", Type: "eql", Severity: "low", RiskScore: 21,
				Query: `process where process.parent.name : "services.exe" and process.args : "Dnscache"`},
			{RuleID: "chrome", Name: "Chrome network", Type: "eql", Severity: "low", RiskScore: 21,
				Query: `network where process.name : "CHROME.EXE"`},
		}, false},
	} {
		for _, mode := range []dispatchMode{dispatchLiterals, dispatchValues} {
			literalFree := c.literalFree
			name := c.name + ", literal scan"
			if mode == dispatchValues {
				name = c.name + ", value dispatch"
			}
			t.Run(name, func(t *testing.T) { testDispatchEquivalence(t, data, c.rules, literalFree, mode) })
		}
	}
}

func testDispatchEquivalence(t *testing.T, data []byte, rules []*rule.Rule, literalFree bool, mode dispatchMode) {
	rs, errs := CompileWith(rules, CompileOptions{dispatch: mode})
	for _, err := range errs {
		t.Fatal(err)
	}
	few := false
	runEngine := func(exhaustive bool) ([]*Alert, Stats) {
		e := rs.NewEngine(Options{Now: testNow})
		e.exhaustive = exhaustive
		offerAll(t, e, data)
		few = e.sc != nil && e.sc.few != nil
		alerts, err := e.Finish()
		if err != nil {
			t.Fatal(err)
		}
		return alerts, e.Stats()
	}
	want, wst := runEngine(true)
	got, gst := runEngine(false)
	rulesHit := map[string]bool{}
	for _, a := range want {
		rulesHit[a.Rule.RuleID] = true
	}
	t.Logf("%d lines, %d alerts from %d rules; dispatch parsed %d, skipped %d, evaluations %d (exhaustive %d)",
		gst.Lines, len(got), len(rulesHit), gst.Parsed, gst.Skipped, gst.Evaluations, wst.Evaluations)
	if len(want) < 10 || len(rulesHit) < len(rules)*6/10 {
		t.Fatalf("weak test: %d alerts from %d rules", len(want), len(rulesHit))
	}
	if mode == dispatchLiterals {
		if !literalFree && gst.Skipped == 0 {
			t.Fatalf("weak test: no line skipped unparsed")
		}
		if want := len(rules) < 5; few != want {
			t.Errorf("one-by-one literal search: %v, want %v", few, want)
		}
	} else if !literalFree && gst.Evaluations*4 > wst.Evaluations {
		t.Errorf("value dispatch evaluated %d times, exhaustive %d: it does not narrow", gst.Evaluations, wst.Evaluations)
	}
	if len(got) != len(want) {
		t.Fatalf("%d alerts with dispatch, %d without", len(got), len(want))
	}
	for i := range want {
		if !bytes.Equal(got[i].JSON(), want[i].JSON()) {
			t.Fatalf("alert %d differs:\n dispatch   %s\n exhaustive %s", i, got[i].JSON(), want[i].JSON())
		}
	}
}

func TestFoldASCII(t *testing.T) {
	in := []byte("ABCxyz@[`{ZAaz\x80\xc3\x89NET.EXE\\U0065 ok")
	got := make([]byte, len(in))
	foldASCII(got, in)
	for i := range in {
		c := in[i]
		if c >= 'A' && c <= 'Z' {
			c += 32
		}
		if got[i] != c {
			t.Fatalf("byte %d: %q -> %q", i, in[i], got[i])
		}
	}
	for c := 0; c < 256; c++ {
		w := uint64(c) * 0x0101010101010101
		f := fold8(w)
		want := byte(c)
		if want >= 'A' && want <= 'Z' {
			want += 32
		}
		if f != uint64(want)*0x0101010101010101 {
			t.Fatalf("fold8(%#x) = %#x", c, f)
		}
	}
}

// The scanner finds literals at any offset and alignment, folded or exact.
func TestScannerFindsLiterals(t *testing.T) {
	rules := []*rule.Rule{
		{RuleID: "a", Type: "eql", Query: `any where process.name : "powershell.exe"`},
		{RuleID: "b", Type: "eql", Query: `any where process.name == "CamelCase.EXE"`},
		{RuleID: "c", Type: "eql", Query: `any where x == "abcde" and y == "vwxyz"`},
	}
	rs, errs := Compile(rules)
	for _, err := range errs {
		t.Fatal(err)
	}
	e := rs.NewEngine(Options{})
	cand := newBitset(len(rules))
	check := func(line string, want ...int) {
		t.Helper()
		cand.clear()
		e.sc.scan([]byte(line), cand)
		var got []int
		cand.each(func(i int) { got = append(got, i) })
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%q: candidates %v, want %v", line, got, want)
		}
	}
	for pad := 0; pad < 6; pad++ {
		p := strings.Repeat(" ", pad)
		check(p+`{"n":"POWERSHELL.exe"}`, 0)
		check(p+`{"n":"CamelCase.EXE"}`, 1)
		check(p + `{"n":"camelcase.exe"}`)
		check(p+`abcdevwxyz`, 2)
		check(p + `abcde`)
		check(p + `powershell.ex`)
	}
	check(`abcde`)
	check(`vwxyzabcde`, 2)
}

// EQL's case-insensitive comparisons fold Unicode: "ſ" (U+017F) equals
// "s" and "K" (U+212A) equals "k", which an ASCII-folded literal search
// cannot see; such lines bypass dispatch.
func TestFoldRunesBypassDispatch(t *testing.T) {
	r := &rule.Rule{RuleID: "ps", Name: "PowerShell", Type: "eql", Severity: "low", RiskScore: 21,
		Query: `process where process.name : "powershell.exe" and user.name : "kim"`}
	data := []byte("{\"event\":{\"category\":\"process\"},\"process\":{\"name\":\"power\u017fhell.exe\"},\"user\":{\"name\":\"\u212aim\"}}\n")
	alerts, st := run(t, []*rule.Rule{r}, Options{}, data)
	if len(alerts) != 1 || st.Skipped != 0 {
		t.Errorf("%d alerts, stats %+v", len(alerts), st)
	}
}

// Engines of one RuleSet run on separate goroutines.
func TestEnginesShareRuleSet(t *testing.T) {
	rs, errs := Compile(genRules(20, 3, false))
	for _, err := range errs {
		t.Fatal(err)
	}
	data := genEvents(t, 1<<20, 9)
	results := make([][]*Alert, 2)
	errs2 := make([]error, 2)
	done := make(chan int)
	for g := range results {
		go func() {
			defer func() { done <- g }()
			e := rs.NewEngine(Options{Now: testNow})
			if errs2[g] = offerLines(e, data); errs2[g] == nil {
				results[g], errs2[g] = e.Finish()
			}
		}()
	}
	<-done
	<-done
	for _, err := range errs2 {
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(results[0]) == 0 || len(results[0]) != len(results[1]) {
		t.Fatalf("%d and %d alerts", len(results[0]), len(results[1]))
	}
	for i := range results[0] {
		if !bytes.Equal(results[0][i].JSON(), results[1][i].JSON()) {
			t.Fatalf("alert %d differs between engines", i)
		}
	}
}

// With Elastic's whole prebuilt corpus, both dispatches give exactly the
// alerts of evaluating every rule on every event.
func TestPrebuiltDispatchEquivalence(t *testing.T) {
	rules := prebuiltRules(t)
	data := genEvents(t, 3<<20, 9)
	var want [][]byte
	for _, mode := range []dispatchMode{dispatchValues, dispatchLiterals} {
		rs, errs := CompileWith(rules, CompileOptions{dispatch: mode})
		if len(errs) > 0 {
			t.Fatal(errs[0])
		}
		run := func(exhaustive bool) ([][]byte, Stats) {
			e := rs.NewEngine(Options{Now: testNow, ReorderWindow: 15 * time.Minute})
			e.exhaustive = exhaustive
			offerAll(t, e, data)
			out := finishJSON(t, e)
			return out, e.Stats()
		}
		if want == nil {
			var st Stats
			want, st = run(true)
			t.Logf("exhaustive: %d alerts, %d evaluations", len(want), st.Evaluations)
			if len(want) < 50 {
				t.Fatalf("weak test: %d alerts", len(want))
			}
		}
		got, st := run(false)
		t.Logf("dispatch %d: %d alerts, %.1f evaluations per line, %d deferred", mode, len(got), float64(st.Evaluations)/float64(st.Lines), st.Deferred)
		sameDocs(t, fmt.Sprintf("dispatch %d", mode), got, want)
	}
}
