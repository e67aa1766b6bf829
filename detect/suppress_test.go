package detect

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/vigilsec/vigil/rule"
)

func TestParseSuppression(t *testing.T) {
	cases := []struct {
		in   string
		want *Suppression
		err  string
	}{
		{``, nil, ""},
		{`{"group_by":["host.name"]}`, &Suppression{GroupBy: []string{"host.name"}}, ""},
		{`{"group_by":["host.name","user.name"],"duration":{"value":5,"unit":"m"},"missing_fields_strategy":"doNotSuppress"}`,
			&Suppression{GroupBy: []string{"host.name", "user.name"}, Duration: 5 * time.Minute, DoNotSuppressMissing: true}, ""},
		{`{"group_by":["a"],"duration":{"value":2,"unit":"h"},"missing_fields_strategy":"suppress"}`, &Suppression{GroupBy: []string{"a"}, Duration: 2 * time.Hour}, ""},
		{`{"group_by":[]}`, nil, "group_by is empty"},
		{`{"group_by":["a","b","c","d","e","f"]}`, nil, "at most 5"},
		{`{"group_by":["a"],"missing_fields_strategy":"drop"}`, nil, "missing_fields_strategy"},
		{`{"group_by":["a"],"duration":{"value":5,"unit":"d"}}`, nil, "unit"},
		{`{"group_by":["a"],"duration":{"value":0,"unit":"m"}}`, nil, "positive"},
		{`[1]`, nil, "alert_suppression"},
	}
	for _, c := range cases {
		got, err := ParseSuppression(json.RawMessage(c.in))
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: error %v, want %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.in, err)
			continue
		}
		gj, _ := json.Marshal(got)
		wj, _ := json.Marshal(c.want)
		if string(gj) != string(wj) {
			t.Errorf("%s: %s, want %s", c.in, gj, wj)
		}
	}
}

// suppStep offers one event's alert at a time (minutes after t0), or
// starts a new execution (reset); want is "new", "suppressed:<n>" (folded
// into the alert of step <n>) or "duplicate:<n>".
type suppStep struct {
	reset bool
	min   int
	host  any // nil: no host.name; string or []string
	user  string
	id    string
	want  string
	count int // expected docs_count after a suppression
}

// TestSuppressionTable: Kibana's suppression semantics, case by case.
func TestSuppressionTable(t *testing.T) {
	t0 := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	cases := []struct {
		name  string
		cfg   string
		steps []suppStep
	}{
		{"per execution: same host folds, reset starts anew", `{"group_by":["host.name"]}`, []suppStep{
			{min: 0, host: "a", id: "1", want: "new"},
			{min: 1, host: "a", id: "2", want: "suppressed:0", count: 1},
			{min: 2, host: "b", id: "3", want: "new"},
			{min: 3, host: "a", id: "4", want: "suppressed:0", count: 2},
			{reset: true},
			{min: 6, host: "a", id: "5", want: "new"},
		}},
		{"per time window: 5m from the first alert, across executions", `{"group_by":["host.name"],"duration":{"value":5,"unit":"m"}}`, []suppStep{
			{min: 0, host: "a", id: "1", want: "new"},
			{reset: true},
			{min: 4, host: "a", id: "2", want: "suppressed:0", count: 1},
			{min: 5, host: "a", id: "3", want: "new"},
			{min: 6, host: "a", id: "4", want: "suppressed:3", count: 1},
		}},
		{"missing field groups as null (suppress)", `{"group_by":["host.name"]}`, []suppStep{
			{min: 0, id: "1", want: "new"},
			{min: 1, id: "2", want: "suppressed:0", count: 1},
			{min: 2, host: "a", id: "3", want: "new"},
		}},
		{"missing field never suppressed (doNotSuppress)", `{"group_by":["host.name"],"missing_fields_strategy":"doNotSuppress"}`, []suppStep{
			{min: 0, id: "1", want: "new"},
			{min: 1, id: "2", want: "new"},
			{min: 2, host: "a", id: "3", want: "new"},
			{min: 3, host: "a", id: "4", want: "suppressed:2", count: 1},
		}},
		{"arrays compare whole and in order", `{"group_by":["host.name"]}`, []suppStep{
			{min: 0, host: []string{"a", "b"}, id: "1", want: "new"},
			{min: 1, host: []string{"b", "a"}, id: "2", want: "new"},
			{min: 2, host: []string{"a", "b"}, id: "3", want: "suppressed:0", count: 1},
			{min: 3, host: "a", id: "4", want: "new"},
		}},
		{"several fields: all must agree", `{"group_by":["host.name","user.name"]}`, []suppStep{
			{min: 0, host: "a", user: "u", id: "1", want: "new"},
			{min: 1, host: "a", user: "v", id: "2", want: "new"},
			{min: 2, host: "a", user: "u", id: "3", want: "suppressed:0", count: 1},
		}},
		{"a replayed event is not counted twice", `{"group_by":["host.name"]}`, []suppStep{
			{min: 0, host: "a", id: "1", want: "new"},
			{min: 1, host: "a", id: "2", want: "suppressed:0", count: 1},
			{min: 1, host: "a", id: "2", want: "duplicate:0", count: 1},
			{min: 0, host: "a", id: "1", want: "duplicate:0", count: 1},
		}},
	}
	r := &rule.Rule{RuleID: "s", Name: "S", Version: 1, Type: "eql", Severity: "low", RiskScore: 21, Query: `process where true`}
	for _, c := range cases {
		cfg, err := ParseSuppression(json.RawMessage(c.cfg))
		if err != nil {
			t.Fatal(err)
		}
		s := NewSuppressor(*cfg)
		created := map[int]*Alert{}
		for i, st := range c.steps {
			if st.reset {
				s.Reset()
				continue
			}
			ts := t0.Add(time.Duration(st.min) * time.Minute)
			ev := procEvent(ts.Format(time.RFC3339), "windows", "x.exe", "y.exe")
			ev["_id"] = st.id
			host := map[string]any{"id": "h"}
			if st.host != nil {
				host["name"] = st.host
			}
			ev["host"] = host
			if st.user != "" {
				ev["user"] = map[string]any{"name": st.user}
			} else {
				delete(ev, "user")
			}
			as, _ := run(t, []*rule.Rule{r}, Options{}, ndjson(t, ev))
			d, err := s.Offer(as, ts)
			if err != nil {
				t.Fatal(err)
			}
			var got string
			switch {
			case d.Duplicate:
				got = "duplicate"
			case d.Suppressed:
				got = "suppressed"
			default:
				got = "new"
				created[i] = as[0]
			}
			want, ref, _ := strings.Cut(st.want, ":")
			if got != want {
				t.Errorf("%s, step %d: %s, want %s", c.name, i, got, st.want)
				continue
			}
			if ref != "" {
				var n int
				for _, ch := range ref {
					n = n*10 + int(ch-'0')
				}
				into := created[n]
				if into == nil || d.Into != into.UUID || d.DocsCount != st.count {
					t.Errorf("%s, step %d: into %s count %d, want step %d's alert, count %d", c.name, i, d.Into, d.DocsCount, n, st.count)
				}
			}
			if got == "new" {
				m := body(t, as[0])
				_, has := m["kibana.alert.suppression.terms"]
				wantFields := !(cfg.DoNotSuppressMissing && st.host == nil)
				if has != wantFields {
					t.Errorf("%s, step %d: suppression fields %v, want %v: %s", c.name, i, has, wantFields, as[0].JSON())
				}
				if has && (m["kibana.alert.suppression.docs_count"] != float64(0) || m["kibana.alert.suppression.start"] != isoMillis(ts) || m["kibana.alert.instance.id"] == nil) {
					t.Errorf("%s, step %d: %s", c.name, i, as[0].JSON())
				}
			}
		}
	}
}

// TestSuppressionTermsAndSequences: the terms Kibana writes, and a
// sequence suppressed on the fields its events share.
func TestSuppressionTermsAndSequences(t *testing.T) {
	cfg := Suppression{GroupBy: []string{"host.id", "user.name"}}
	s := NewSuppressor(cfg)
	r := seqRule()
	mk := func(sec int, id string) []map[string]any {
		p := procEvent(time.Date(2026, 1, 5, 10, 0, sec, 0, time.UTC).Format(time.RFC3339), "windows", "whoami.exe", "cmd.exe", "whoami")
		p["_id"] = "p" + id
		n := netEvent(time.Date(2026, 1, 5, 10, 0, sec+10, 0, time.UTC).Format(time.RFC3339), "p-evil")
		n["_id"] = "n" + id
		return []map[string]any{p, n}
	}
	first, _ := run(t, []*rule.Rule{r}, Options{}, ndjson(t, mk(0, "1")...))
	second, _ := run(t, []*rule.Rule{r}, Options{}, ndjson(t, mk(30, "2")...))
	if len(first) != 3 || len(second) != 3 {
		t.Fatalf("%d and %d alerts", len(first), len(second))
	}
	now := time.Date(2026, 1, 5, 10, 1, 0, 0, time.UTC)
	if d, _ := s.Offer(first, now); d.Suppressed {
		t.Fatal("first sequence suppressed")
	}
	m := body(t, first[0])
	terms, _ := json.Marshal(m["kibana.alert.suppression.terms"])
	if string(terms) != `[{"field":"host.id","value":["h-1"]},{"field":"user.name","value":["alice"]}]` {
		t.Errorf("terms %s", terms)
	}
	d, _ := s.Offer(second, now)
	if !d.Suppressed || d.Into != first[0].UUID || d.DocsCount != 1 || !d.End.Equal(time.Date(2026, 1, 5, 10, 0, 30, 0, time.UTC)) {
		t.Errorf("second sequence: %+v", d)
	}
	// State survives a round trip through JSON (the scheduler persists it).
	b, err := json.Marshal(s.Groups())
	if err != nil {
		t.Fatal(err)
	}
	var g map[string]*SuppressedGroup
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	s2 := NewSuppressor(cfg)
	s2.Restore(g)
	if d, _ := s2.Offer(second, now); !d.Duplicate {
		t.Errorf("restored state lost the seen ids: %+v", d)
	}
	s2.Forget(first[0].UUID)
	if d, _ := s2.Offer(second, now); d.Suppressed {
		t.Errorf("forgotten group still suppresses: %+v", d)
	}
}

func TestSuppressionExpire(t *testing.T) {
	s := NewSuppressor(Suppression{GroupBy: []string{"host.name"}, Duration: 5 * time.Minute})
	t0 := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	s.Restore(map[string]*SuppressedGroup{"old": {UUID: "a", Created: t0}, "new": {UUID: "b", Created: t0.Add(3 * time.Minute)}})
	s.Expire(t0.Add(5 * time.Minute))
	if len(s.Groups()) != 1 || s.Groups()["new"] == nil {
		t.Fatalf("%v", s.Groups())
	}
	p := NewSuppressor(Suppression{GroupBy: []string{"host.name"}})
	p.Restore(map[string]*SuppressedGroup{"x": {UUID: "a", Created: t0}})
	p.Expire(t0.Add(time.Hour)) // per execution: only Reset ends groups
	if len(p.Groups()) != 1 {
		t.Fatal("per-execution group expired by time")
	}
}
