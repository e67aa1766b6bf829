package benchgen

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"
)

// ecs is the part of a generated event the checks below read.
type ecs struct {
	Timestamp string `json:"@timestamp"`
	Event     struct {
		Category []string `json:"category"`
		Type     []string `json:"type"`
	} `json:"event"`
	Host struct {
		OS struct {
			Type string `json:"type"`
		} `json:"os"`
	} `json:"host"`
	Process struct {
		PID         *int64   `json:"pid"`
		EntityID    string   `json:"entity_id"`
		Name        string   `json:"name"`
		CommandLine *string  `json:"command_line"`
		Args        []string `json:"args"`
		Parent      struct {
			Name string `json:"name"`
		} `json:"parent"`
	} `json:"process"`
}

func has(list []string, want ...string) bool {
	for _, v := range list {
		for _, w := range want {
			if strings.EqualFold(v, w) {
				return true
			}
		}
	}
	return false
}

// TestGenerate checks a small data set of each profile with an evaluator
// independent of the generator's bookkeeping: every line is a JSON object,
// timestamps never go back, and the counts in Stats are what the queries
// would find.
func TestGenerate(t *testing.T) {
	for _, prof := range Profiles() {
		t.Run(string(prof), func(t *testing.T) { testGenerate(t, prof) })
	}
}

func testGenerate(t *testing.T, prof Profile) {
	var buf bytes.Buffer
	const target = 16 << 20
	st, err := GenerateProfile(&buf, target, 7, prof)
	if err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	if st.Bytes != int64(len(data)) || st.Bytes < target || st.Bytes > target+4096 {
		t.Fatalf("Stats.Bytes %d, wrote %d, target %d", st.Bytes, len(data), target)
	}

	var (
		lines, seed, nonSel, seqs int64
		cats                      = map[string]int64{}
		lastTs                    time.Time
		started                   = map[string]time.Time{} // entity_id -> start
		seen                      = map[string]bool{}      // entity_ids whose first network event was seen
		minLen, maxLen            = 1 << 30, 0
		decoys                    int64 // lines with net.exe and /add that do not match
	)
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			t.Fatal("last line has no newline")
		}
		line := data[:i]
		data = data[i+1:]
		lines++
		minLen, maxLen = min(minLen, len(line)), max(maxLen, len(line))
		var e ecs
		if err := json.Unmarshal(line, &e); err != nil {
			t.Fatalf("line %d: %v\n%s", lines, err, line)
		}
		ts, err := time.Parse("2006-01-02T15:04:05.000Z", e.Timestamp)
		if err != nil {
			t.Fatalf("line %d: @timestamp: %v", lines, err)
		}
		if ts.Before(lastTs) || ts.Before(Start) {
			t.Fatalf("line %d: @timestamp %s goes back (previous %s)", lines, ts, lastTs)
		}
		lastTs = ts
		if len(e.Event.Category) != 1 || len(e.Event.Type) != 1 || e.Process.EntityID == "" || e.Process.Name == "" {
			t.Fatalf("line %d: want one category, one type and a process: %s", lines, line)
		}
		cat := e.Event.Category[0]
		cats[cat]++
		p := &e.Process
		start := has(e.Event.Type, "start")
		switch cat {
		case "process":
			if p.PID == nil || p.CommandLine == nil || p.Parent.Name == "" || len(p.Args) == 0 {
				t.Fatalf("line %d: incomplete process: %s", lines, line)
			}
			if *p.PID > 100 && len(*p.CommandLine) > NonSelectiveMinLen {
				nonSel++
			}
			match := e.Host.OS.Type == "windows" && start &&
				has([]string{p.Name}, "net.exe", "net1.exe") && !strings.EqualFold(p.Parent.Name, "net.exe") &&
				has(p.Args, "user") && has(p.Args, "/ad", "/add")
			if match {
				seed++
			} else if bytes.Contains(bytes.ToLower(line), []byte("net.exe")) && bytes.Contains(bytes.ToLower(line), []byte("/add")) {
				decoys++
			}
			if start {
				started[p.EntityID] = ts
			}
		case "network":
			if s, ok := started[p.EntityID]; ok && !seen[p.EntityID] {
				seen[p.EntityID] = true
				if ts.Sub(s) <= SequenceMaxSpan {
					seqs++
				}
			}
		}
	}
	t.Logf("%d lines (%d-%d bytes), %v, seed %d, decoys %d, non-selective %d, sequences %d",
		lines, minLen, maxLen, cats, seed, decoys, nonSel, seqs)
	if lines != st.Lines {
		t.Errorf("lines: Stats %d, counted %d", st.Lines, lines)
	}
	if seed != st.SeedMatches || nonSel != st.NonSelectiveMatches || seqs != st.Sequences {
		t.Errorf("Stats say seed %d, non-selective %d, sequences %d; counted %d, %d, %d",
			st.SeedMatches, st.NonSelectiveMatches, st.Sequences, seed, nonSel, seqs)
	}
	if cats["process"] != st.Process || cats["network"] != st.Network || cats["file"] != st.File {
		t.Errorf("categories: Stats %+v, counted %v", st, cats)
	}
	// About 0.1% matching, with decoys around them.
	if r := float64(seed) / float64(lines); r < 0.0005 || r > 0.002 {
		t.Errorf("seed rule matches %d of %d lines (%.3f%%), want about 0.1%%", seed, lines, 100*r)
	}
	if decoys < seed {
		t.Errorf("%d decoys with net.exe and /add for %d matches, want more", decoys, seed)
	}
	if r := float64(nonSel) / float64(lines); r < 0.002 || r > 0.05 {
		t.Errorf("non-selective query matches %.2f%% of lines, want about 1%%", 100*r)
	}
	if cats["network"] == 0 || cats["file"] == 0 || seqs == 0 {
		t.Errorf("want network and file events and sequences: %v, %d sequences", cats, seqs)
	}
	if minLen < 500 || maxLen > 4000 {
		t.Errorf("line lengths %d-%d", minLen, maxLen)
	}
	if avg := st.Bytes / st.Lines; avg < 1000 || avg > 1500 {
		t.Errorf("average line %d bytes, want about 1.2 KB", avg)
	}
	for cat, want := range map[string]float64{"process": 0.78, "network": 0.16, "file": 0.06} {
		if r := float64(cats[cat]) / float64(lines); r < want-0.03 || r > want+0.03 {
			t.Errorf("%s events are %.3f of the lines, want about %.2f", cat, r, want)
		}
	}
}

func TestParseProfile(t *testing.T) {
	for in, want := range map[string]Profile{"": DefaultProfile, "realistic": Realistic, "noisy": Noisy} {
		if got, err := ParseProfile(in); err != nil || got != want {
			t.Errorf("ParseProfile(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ParseProfile("quiet"); err == nil {
		t.Error("ParseProfile accepted an unknown profile")
	}
	if _, err := GenerateProfile(io.Discard, 1<<10, 1, "quiet"); err == nil {
		t.Error("GenerateProfile accepted an unknown profile")
	}
}

func TestGenerateDeterministic(t *testing.T) {
	var outs [][]byte
	for _, prof := range Profiles() {
		var a, b, c bytes.Buffer
		sa, _ := GenerateProfile(&a, 1<<20, 42, prof)
		sb, _ := GenerateProfile(&b, 1<<20, 42, prof)
		GenerateProfile(&c, 1<<20, 43, prof)
		if !bytes.Equal(a.Bytes(), b.Bytes()) || sa != sb {
			t.Fatalf("%s: same seed, different output", prof)
		}
		if bytes.Equal(a.Bytes()[:4096], c.Bytes()[:4096]) {
			t.Fatalf("%s: different seeds, same output", prof)
		}
		outs = append(outs, a.Bytes())
	}
	if bytes.Equal(outs[0][:4096], outs[1][:4096]) {
		t.Fatal("the profiles write the same events")
	}
	var d bytes.Buffer
	Generate(&d, 1<<20, 42)
	if !bytes.Equal(d.Bytes(), outs[1]) {
		t.Fatal("Generate is not the noisy profile")
	}
}

type failWriter struct{ n int }

func (w *failWriter) Write(p []byte) (int, error) {
	if w.n -= len(p); w.n < 0 {
		return 0, io.ErrShortWrite
	}
	return len(p), nil
}

func TestGenerateWriteError(t *testing.T) {
	if _, err := Generate(&failWriter{n: 1 << 20}, 8<<20, 1); err != io.ErrShortWrite {
		t.Fatalf("got %v, want the writer's error", err)
	}
}

func BenchmarkGenerate(b *testing.B) {
	for _, prof := range Profiles() {
		b.Run(string(prof), func(b *testing.B) {
			const n = 16 << 20
			b.SetBytes(n)
			for b.Loop() {
				if _, err := GenerateProfile(io.Discard, n, 1, prof); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestRealisticBackground checks, without any rule corpus, what makes the
// realistic profile's background benign: system processes under their
// real parents, conhost.exe under console programs, nothing run from
// user-writable scratch directories, RDP only accepted by the service.
func TestRealisticBackground(t *testing.T) {
	var buf bytes.Buffer
	if _, err := GenerateProfile(&buf, 8<<20, 11, Realistic); err != nil {
		t.Fatal(err)
	}
	wantParent := map[string][]string{
		"runtimebroker.exe": {"svchost.exe"}, "dllhost.exe": {"svchost.exe"}, "wmiprvse.exe": {"svchost.exe"},
		"taskhostw.exe": {"svchost.exe"}, "backgroundtaskhost.exe": {"svchost.exe"}, "svchost.exe": {"services.exe"},
		"searchprotocolhost.exe": {"searchindexer.exe"}, "searchfilterhost.exe": {"searchindexer.exe"},
		"conhost.exe": {"cmd.exe", "powershell.exe", "mpcmdrun.exe", "compattelrunner.exe"},
	}
	scratch := []string{`c:\users\public\`, `\appdata\local\temp\`, `c:\windows\temp\`, `c:\perflogs\`, "/tmp/", "/dev/shm/", "/var/tmp/"}
	var ev struct {
		Event struct {
			Category, Type []string
			Action         string
		}
		Process struct {
			Name, Executable string
			Parent           struct{ Name string }
		}
		Destination struct{ Port int }
		Network     struct{ Direction string }
		User        struct{ ID string }
	}
	starts, checked := 0, 0
	for n, line := range bytes.Split(bytes.TrimSuffix(buf.Bytes(), []byte("\n")), []byte("\n")) {
		ev.Process.Parent.Name, ev.Destination.Port = "", 0
		if err := json.Unmarshal(line, &ev); err != nil {
			t.Fatalf("line %d: %v", n+1, err)
		}
		p := &ev.Process
		exe := strings.ToLower(p.Executable)
		for _, d := range scratch {
			if strings.Contains(exe, d) {
				t.Errorf("line %d: %s runs from %s", n+1, p.Executable, d)
			}
		}
		switch ev.Event.Category[0] {
		case "process":
			if ev.Event.Type[0] != "start" {
				continue
			}
			starts++
			if want, ok := wantParent[strings.ToLower(p.Name)]; ok {
				checked++
				if !has(want, p.Parent.Name) {
					t.Errorf("line %d: %s started by %s, want one of %v", n+1, p.Name, p.Parent.Name, want)
				}
			}
			if strings.EqualFold(p.Parent.Name, "services.exe") && has([]string{p.Name}, "cmd.exe", "powershell.exe") {
				t.Errorf("line %d: services.exe starts %s", n+1, p.Name)
			}
		case "network":
			if ev.Destination.Port == 3389 && (ev.Network.Direction != "ingress" || p.Name != "svchost.exe") {
				t.Errorf("line %d: RDP %s by %s", n+1, ev.Network.Direction, p.Name)
			}
		}
	}
	if checked < starts/4 {
		t.Errorf("only %d of %d process starts are system processes with a known parent: weak test", checked, starts)
	}
}
