package eql

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vigilsec/vigil/event"
)

// With a size limit the matcher keeps only both ends of its results; the
// answer must be what an unlimited run returns, cut the same way.
func TestSequenceResultsTrimmedUnderLimit(t *testing.T) {
	q := `sequence by k [a where true] [b where true]`
	run := func(opts Options) []string {
		prog, err := ParseAndCompile(q, opts)
		if err != nil {
			t.Fatal(err)
		}
		m, _ := prog.Matcher(nil)
		r := prog.NewRunner()
		var p event.Parser
		for i := 0; i < 6000; i++ {
			cat := "a"
			if i%2 == 1 {
				cat = "b"
			}
			line := fmt.Sprintf(`{"@timestamp":%d,"event":{"category":%q},"k":%d}`, i, cat, i/2)
			d, err := p.Parse([]byte(line))
			if err != nil {
				t.Fatal(err)
			}
			r.Feed(m, d, Source{Index: "t", Line: i + 1})
		}
		res, err := r.Finish()
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, s := range res.Sequences {
			out = append(out, fmt.Sprint(s.Events[0].Line, s.Events[1].Line))
		}
		return out
	}
	all := run(Options{Size: NoLimit})
	if len(all) != 3000 {
		t.Fatalf("%d sequences, want 3000", len(all))
	}
	for _, pos := range []string{"head", "tail"} {
		got := run(Options{Size: 3, ResultPosition: pos})
		want := all[len(all)-3:]
		if pos == "head" {
			want = all[:3]
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: got %v, want %v", pos, got, want)
		}
	}
}

// Streamed results are the same as collected ones, and are not kept.
func TestStreamMatchesFinish(t *testing.T) {
	for _, q := range []string{
		`sequence by k [a where true] [b where true]`,
		`a where k % 7 == 0`,
	} {
		collect := func(stream bool) (out []string, finished int) {
			prog, err := ParseAndCompile(q, Options{Size: NoLimit})
			if err != nil {
				t.Fatal(err)
			}
			m, _ := prog.Matcher(nil)
			r := prog.NewRunner()
			if stream {
				r.Stream = func(h *Hit, s *SequenceResult, err error) {
					if err != nil {
						t.Error(err)
					}
					if h != nil {
						out = append(out, string(h.Source))
					}
					if s != nil {
						out = append(out, string(s.Events[0].Source)+string(s.Events[1].Source))
					}
				}
			}
			var p event.Parser
			for i := 0; i < 200; i++ {
				cat := "a"
				if i%2 == 1 {
					cat = "b"
				}
				line := fmt.Sprintf(`{"@timestamp":%d,"event":{"category":%q},"k":%d}`, i, cat, i/2)
				d, _ := p.Parse([]byte(line))
				r.Feed(m, d, Source{Index: "t", Line: i + 1})
			}
			res, err := r.Finish()
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range res.Events {
				out = append(out, string(h.Source))
			}
			for _, s := range res.Sequences {
				out = append(out, string(s.Events[0].Source)+string(s.Events[1].Source))
			}
			return out, len(res.Events) + len(res.Sequences)
		}
		want, _ := collect(false)
		got, left := collect(true)
		if fmt.Sprint(got) != fmt.Sprint(want) || left != 0 || len(want) == 0 {
			t.Errorf("%s: streamed %d results (%d left for Finish), collected %d", q, len(got), left, len(want))
		}
	}
}

// With a stream clock (Runner.Clock), an event arriving beyond the reorder
// window is processed at once and may still complete an open sequence, but
// not one that started more than maxspan before the window's edge: that
// one is dead whether or not a sweep has dropped it yet, so results do not
// depend on when sweeps run.
func TestSequenceDeadBeforeWindowEdge(t *testing.T) {
	prog, err := ParseAndCompile(`sequence by k with maxspan=10s [a where true] [b where true]`, Options{Size: NoLimit})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		lines []string // category:seconds, in arrival order
		want  int
	}{
		{"in order", []string{"a:0", "b:5"}, 1},
		{"b late, a still open at the window's edge", []string{"a:0", "x:14", "b:3"}, 1},
		{"b late, a dead at the window's edge", []string{"a:0", "x:100", "b:5"}, 0},
		{"b within the window", []string{"a:0", "x:9", "b:5"}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, _ := prog.Matcher(nil)
			r := prog.NewRunner()
			r.ReorderWindow = 10 * time.Second
			var clock int64
			r.Clock = &clock
			var p event.Parser
			for i, l := range tc.lines {
				var cat string
				var sec int64
				fmt.Sscanf(strings.Replace(l, ":", " ", 1), "%s %d", &cat, &sec)
				clock = max(clock, sec*1000)
				d, err := p.Parse(fmt.Appendf(nil, `{"@timestamp":%d,"event":{"category":%q},"k":1}`, sec*1000, cat))
				if err != nil {
					t.Fatal(err)
				}
				r.Feed(m, d, Source{Index: "t", Line: i + 1})
			}
			res, err := r.Finish()
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Sequences) != tc.want {
				t.Errorf("%d sequences, want %d", len(res.Sequences), tc.want)
			}
		})
	}
}
