package detect

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/vigilsec/vigil/eql"
	"github.com/vigilsec/vigil/event"
	"github.com/vigilsec/vigil/rule"
)

// TestExceptionOperators runs the table in testdata/exceptions/cases.json
// (constructed cases of Kibana's operator semantics).
func TestExceptionOperators(t *testing.T) {
	raw, err := os.ReadFile("testdata/exceptions/cases.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		Name    string           `json:"name"`
		Entries []ExceptionEntry `json:"entries"`
		OSTypes []string         `json:"os_types"`
		Event   json.RawMessage  `json:"event"`
		Removed bool             `json:"removed"`
	}
	if err := json.Unmarshal(raw, &cases); err != nil {
		t.Fatal(err)
	}
	var p event.Parser
	n := 0
	for _, c := range cases {
		if c.Name == "" {
			continue // the comment entry
		}
		n++
		it := &ExceptionItem{ItemID: "i", ListID: "l", Entries: c.Entries, OSTypes: c.OSTypes, Path: "cases.json"}
		ci, err := compileItem(it)
		if err != nil {
			t.Errorf("%s: %v", c.Name, err)
			continue
		}
		d, err := p.Parse(c.Event)
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		set := &exceptionSet{items: []*compiledItem{ci}}
		if got := set.match(d); got != c.Removed {
			t.Errorf("%s: removed %v, want %v", c.Name, got, c.Removed)
		}
	}
	if n < 30 {
		t.Fatalf("only %d cases read", n)
	}
}

func TestExceptionEntryErrors(t *testing.T) {
	cases := []struct {
		entry string
		want  string
	}{
		{`{"field":"a","operator":"included","type":"list","list":{"id":"ips.txt","type":"ip"}}`, "value lists"},
		{`{"field":"a","operator":"is","type":"match","value":"x"}`, `operator "is"`},
		{`{"field":"a","operator":"included","type":"regex","value":"x"}`, `type "regex"`},
		{`{"field":"","operator":"included","type":"match","value":"x"}`, "no field"},
		{`{"field":"a","operator":"included","type":"match_any","value":[]}`, "non-empty list"},
		{`{"field":"a","operator":"included","type":"match","value":7}`, "string"},
		{`{"field":"a","type":"nested","entries":[]}`, "without entries"},
		{`{"field":"a","type":"nested","entries":[{"field":"b","type":"nested","entries":[{"field":"c","operator":"included","type":"exists"}]}]}`, "cannot nest"},
	}
	for _, c := range cases {
		var e ExceptionEntry
		if err := json.Unmarshal([]byte(c.entry), &e); err != nil {
			t.Fatal(err)
		}
		_, err := compileItem(&ExceptionItem{ItemID: "it-1", Entries: []ExceptionEntry{e}, Path: "x.ndjson", Line: 3})
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "x.ndjson:3: exception item it-1, entry 1: ") {
			t.Errorf("%s: error %v, want one containing %q", c.entry, err, c.want)
		}
	}
	_, err := compileItem(&ExceptionItem{ItemID: "v", Entries: []ExceptionEntry{{Field: "a", Operator: "included", Type: "list"}}})
	if !errors.Is(err, ErrValueLists) {
		t.Errorf("value lists error not ErrValueLists: %v", err)
	}
}

// exportNDJSON is a constructed Kibana exception list export.
const exportNDJSON = `{"_version":"WzEsMV0=","created_at":"2026-01-01T00:00:00.000Z","created_by":"elastic","description":"Known admin tooling","id":"0a1b","immutable":false,"list_id":"admin-tools","name":"Admin tools","namespace_type":"single","os_types":[],"tags":[],"tie_breaker_id":"t1","type":"detection","updated_at":"2026-01-01T00:00:00.000Z","updated_by":"elastic","version":1}
{"comments":[],"created_at":"2026-01-01T00:00:00.000Z","created_by":"elastic","description":"backup agent","entries":[{"field":"process.parent.name","operator":"included","type":"match","value":"backup.exe"}],"id":"9f","item_id":"backup-agent","list_id":"admin-tools","name":"Backup agent","namespace_type":"single","os_types":[],"tags":[],"tie_breaker_id":"t2","type":"simple"}
{"comments":[],"description":"expired","entries":[{"field":"user.name","operator":"included","type":"match","value":"alice"}],"expire_time":"2026-01-02T00:00:00.000Z","id":"9g","item_id":"old","list_id":"admin-tools","name":"Expired","namespace_type":"single","type":"simple"}
{"comments":[],"description":"scanner host","entries":[{"field":"host.name","operator":"included","type":"match_any","value":["scanner-01","scanner-02"]}],"id":"9h","item_id":"scanner","list_id":"admin-tools","name":"Scanner","namespace_type":"single","type":"simple"}
{"exported_exception_list_count":1,"exported_exception_list_item_count":3,"missing_exception_list_item_count":0,"missing_exception_list_items":[],"missing_exception_lists":[],"missing_exception_lists_count":0}
`

func TestExceptionListExport(t *testing.T) {
	ls := NewExceptionLists()
	bad := exportNDJSON + "{\"item_id\":\"x\"}\nnot json\n{\"foo\":1}\n"
	errs := ls.ReadNDJSON(strings.NewReader(bad), "admin.ndjson")
	if len(errs) != 3 {
		t.Fatalf("errors %v", errs)
	}
	for i, want := range []string{"admin.ndjson:6: ", "admin.ndjson:7: ", "admin.ndjson:8: "} {
		if !strings.HasPrefix(errs[i].Error(), want) {
			t.Errorf("error %d %q, want prefix %q", i, errs[i], want)
		}
	}
	l := ls.List("admin-tools")
	if l == nil || l.Name != "Admin tools" || len(l.Items) != 3 {
		t.Fatalf("list %+v", l)
	}
}

func exceptedRule(q string) *rule.Rule {
	return &rule.Rule{
		RuleID: "exc-rule", Name: "With exceptions", Version: 1, Type: "eql", Severity: "low", RiskScore: 21,
		Index: []string{"logs-endpoint.events.*"}, Query: q,
		ExceptionsList: json.RawMessage(`[{"id":"0a1b","list_id":"admin-tools","namespace_type":"single","type":"detection"}]`),
	}
}

// TestExceptionsInEngine: events matching an item are removed before the
// query; on a sequence every event is checked, so a sequence needing an
// excluded event is not found; expired items do not apply.
func TestExceptionsInEngine(t *testing.T) {
	ls := NewExceptionLists()
	if errs := ls.ReadNDJSON(strings.NewReader(exportNDJSON), "admin.ndjson"); len(errs) > 0 {
		t.Fatal(errs)
	}
	ls.Now = time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)

	evs := func() []map[string]any {
		a := procEvent("2026-01-05T10:00:00Z", "windows", "whoami.exe", "cmd.exe", "whoami")
		a["_id"] = "plain"
		b := procEvent("2026-01-05T10:00:01Z", "windows", "whoami.exe", "backup.exe", "whoami")
		b["_id"] = "backup"
		c := procEvent("2026-01-05T10:00:02Z", "windows", "whoami.exe", "cmd.exe", "whoami")
		c["_id"] = "scanner"
		c["host"] = map[string]any{"name": "scanner-02", "id": "h-9", "os": map[string]any{"type": "windows"}}
		return []map[string]any{a, b, c}
	}
	runWith := func(r *rule.Rule, data []byte) ([]*Alert, Stats) {
		rs, errs := CompileWith([]*rule.Rule{r}, CompileOptions{Exceptions: ls})
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		e := rs.NewEngine(Options{Now: testNow})
		offerAll(t, e, data)
		as, err := e.Finish()
		if err != nil {
			t.Fatal(err)
		}
		return as, e.Stats()
	}
	as, st := runWith(exceptedRule(`process where process.name : "whoami.exe"`), ndjson(t, evs()...))
	if len(as) != 1 || as[0].Hits[0].ID != "plain" || st.Excepted != 2 {
		t.Fatalf("%d alerts (%v), excepted %d; want only \"plain\"", len(as), ids(as), st.Excepted)
	}

	// Without the lists the rule runs with a warning, not silently.
	rs, errs := CompileWith([]*rule.Rule{exceptedRule(`process where true`)}, CompileOptions{})
	if len(errs) > 0 || len(rs.ExceptionWarnings()) != 1 || !strings.Contains(rs.ExceptionWarnings()[0], `"admin-tools"`) {
		t.Fatalf("warnings %v, errs %v", rs.ExceptionWarnings(), errs)
	}

	// Sequence: the second step's only candidate is excluded: no sequence.
	seq := exceptedRule(`sequence by host.id with maxspan=1m
  [process where process.name : "whoami.exe" and process.parent.name : "cmd.exe"]
  [process where process.name : "whoami.exe" and process.parent.name : "backup.exe"]`)
	e3 := evs()
	as, _ = runWith(seq, ndjson(t, e3[0], e3[1]))
	if len(as) != 0 {
		t.Fatalf("sequence through an excluded event: %d alerts", len(as))
	}
	// An expired item applies no more: with a later "now" nothing changes
	// for alice (expired already), and the unexpired items still apply.
	u := evs()[0]
	u["user"] = map[string]any{"name": "alice"}
	as, _ = runWith(exceptedRule(`process where true`), ndjson(t, u))
	if len(as) != 1 {
		t.Fatalf("expired item applied: %d alerts", len(as))
	}
	ls.Now = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC) // before expiry
	as, _ = runWith(exceptedRule(`process where true`), ndjson(t, u))
	if len(as) != 0 {
		t.Fatalf("unexpired item not applied: %d alerts", len(as))
	}

	// A rule whose list uses value lists is refused with a clear error.
	vl := NewExceptionLists()
	vl.AddObject([]byte(`{"list_id":"admin-tools","name":"x","type":"detection","namespace_type":"single"}`), "v.ndjson", 1)
	if err := vl.AddObject([]byte(`{"item_id":"ips","list_id":"admin-tools","type":"simple","entries":[{"field":"source.ip","operator":"included","type":"list","list":{"id":"bad-ips","type":"ip"}}]}`), "v.ndjson", 2); err != nil {
		t.Fatal(err)
	}
	_, errs = CompileWith([]*rule.Rule{exceptedRule(`process where true`)}, CompileOptions{Exceptions: vl})
	if len(errs) != 1 || !errors.Is(errs[0], ErrValueLists) || !strings.Contains(errs[0].Error(), "v.ndjson:2") {
		t.Fatalf("value list rule: %v", errs)
	}
}

// TestExceptionsFromRuleExport: the list objects of a rule export apply.
func TestExceptionsFromRuleExport(t *testing.T) {
	r := exceptedRule(`process where process.name : "whoami.exe"`)
	for i, line := range strings.Split(strings.TrimSpace(exportNDJSON), "\n") {
		kind := rule.RelatedExceptionItem
		if !strings.Contains(line, `"item_id"`) {
			kind = rule.RelatedExceptionList
		}
		if strings.Contains(line, "exported_") {
			continue
		}
		r.Related = append(r.Related, rule.Related{Kind: kind, Raw: []byte(line), Line: i + 1, Path: "rules.ndjson"})
	}
	as, st := run(t, []*rule.Rule{r}, Options{}, ndjson(t, procEvent("2026-01-05T10:00:00Z", "windows", "whoami.exe", "backup.exe")))
	if len(as) != 0 || st.Excepted != 1 {
		t.Fatalf("%d alerts, excepted %d", len(as), st.Excepted)
	}
}

func ids(as []*Alert) []string {
	var out []string
	for _, a := range as {
		for _, h := range a.Hits {
			out = append(out, h.ID)
		}
	}
	return out
}

func FuzzExceptionListNDJSON(f *testing.F) {
	f.Add([]byte(exportNDJSON))
	f.Add([]byte(`{"item_id":"a","list_id":"b","entries":[{"field":"x","type":"nested","entries":[{"field":"y","operator":"excluded","type":"wildcard","value":["*a?"]}]}]}`))
	f.Add([]byte("{\"list_id\":1}\n\n[]\nnull\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ls := NewExceptionLists()
		errs := ls.ReadNDJSON(strings.NewReader(string(data)), "f.ndjson")
		for _, err := range errs {
			if !strings.HasPrefix(err.Error(), "f.ndjson:") {
				t.Fatalf("unpositioned error %v", err)
			}
		}
		// Every accepted item compiles and evaluates without panicking.
		var p event.Parser
		d, err := p.Parse([]byte(`{"x":[{"y":"ab"},{"y":1}],"a":{"b":null}}`))
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range ls.lists {
			for _, it := range l.Items {
				ci, err := compileItem(it)
				if err != nil {
					continue
				}
				(&exceptionSet{items: []*compiledItem{ci}}).match(d)
			}
		}
		_ = fmt.Sprint(len(errs))
	})
}

// BenchmarkExceptions: the engine on events that pass dispatch, with and
// without the three-item exception list (the baseline), none excluded.
func BenchmarkExceptions(b *testing.B) {
	ls := NewExceptionLists()
	ls.ReadNDJSON(strings.NewReader(exportNDJSON), "admin.ndjson")
	ls.Now = time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	data := ndjson(b, procEvent("2026-01-05T10:00:00Z", "windows", "whoami.exe", "cmd.exe", "whoami"))
	for _, with := range []bool{false, true} {
		b.Run(fmt.Sprintf("exceptions=%v", with), func(b *testing.B) {
			r := exceptedRule(`process where process.name : "whoami.exe" and process.pid > 100000`)
			opts := CompileOptions{Exceptions: ls}
			if !with {
				r.ExceptionsList = nil
			}
			rs, errs := CompileWith([]*rule.Rule{r}, opts)
			if len(errs) > 0 {
				b.Fatal(errs)
			}
			e := rs.NewEngine(Options{Now: testNow, Emit: func(*Alert) {}})
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				e.Offer(data, eql.Source{})
			}
		})
	}
}
