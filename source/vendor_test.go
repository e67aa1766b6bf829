package source_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/vigilsec/vigil/detect"
	"github.com/vigilsec/vigil/eql"
	samples "github.com/vigilsec/vigil/internal/vendorsamples"
	"github.com/vigilsec/vigil/pack"
	"github.com/vigilsec/vigil/rule"
	"github.com/vigilsec/vigil/source"
	"github.com/vigilsec/vigil/source/internal/rulefields"
)

const shared = "../../shared"

func needShared(t testing.TB, rel string) string {
	p := filepath.Join(shared, rel)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("%s not present (%v): this test needs ../shared", p, err)
	}
	return p
}

func normalize(t testing.TB, format string, line []byte) map[string]any {
	t.Helper()
	f, ok := source.Lookup(format)
	if !ok {
		t.Fatalf("format %s not registered", format)
	}
	out := line
	if f.Normalize != nil {
		var err error
		if out, err = f.Normalize(nil, line, ""); err != nil {
			t.Fatalf("%s: %v\n%s", format, err, line)
		}
	}
	var m map[string]any
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatalf("%s output is not JSON: %v\n%s", format, err, out)
	}
	return m
}

// flatten turns nested objects into dotted keys; arrays stay values.
func flatten(prefix string, v any, out map[string]any) {
	if m, ok := v.(map[string]any); ok {
		for k, x := range m {
			if prefix != "" {
				k = prefix + "." + k
			}
			flatten(k, x, out)
		}
		return
	}
	out[prefix] = v
}

func flat(m map[string]any) map[string]any {
	out := map[string]any{}
	flatten("", m, out)
	return out
}

// fixture is one of Elastic's pipeline test pairs.
type fixture struct {
	format, index  string
	input, expect  string
	pairByOriginal bool // expected docs name their input line in event.original
	// known differences on a field, with the reason (version skew of the
	// copied expected file); they are printed, not failed.
	known map[string]string
}

// indexLevel fields are constant_keyword fields of the integration's data
// stream (data_stream.*, event.module, event.dataset): Elasticsearch answers
// queries on them from the mapping, so pipeline test outputs never hold
// them. Vigil writes them into the document for index gating.
var indexLevel = map[string]string{
	"data_stream.dataset":   "constant_keyword of the data stream, absent from pipeline outputs",
	"data_stream.type":      "constant_keyword of the data stream, absent from pipeline outputs",
	"data_stream.namespace": "constant_keyword of the data stream, absent from pipeline outputs",
	"event.module":          "constant_keyword of the integration, absent from pipeline outputs",
	"event.dataset":         "constant_keyword of the data stream, absent from pipeline outputs",
}

var fixtures = []fixture{
	{format: "sentinelone", index: "logs-sentinel_one_cloud_funnel.event-default",
		input:  "telemetry/elastic-fixtures/sentinel_one_cloud_funnel__event/test-process.log",
		expect: "telemetry/elastic-fixtures/sentinel_one_cloud_funnel__event/test-process.log-expected.json"},
	{format: "crowdstrike", index: "logs-crowdstrike.fdr-default",
		input:  "telemetry/elastic-fixtures/crowdstrike__fdr/test-windows.log.EXCERPT-ProcessRollup2.log",
		expect: "telemetry/elastic-fixtures/crowdstrike__fdr/test-windows.log-expected.EXCERPT-ProcessRollup2.json"},
	{format: "m365defender", index: "logs-m365_defender.event-default", pairByOriginal: true,
		input:  "telemetry/elastic-fixtures/m365_defender__event/test-device.log",
		expect: "telemetry/elastic-fixtures/m365_defender__event/test-device.log-expected.EXCERPT-DeviceProcessEvents.json",
		known: map[string]string{"host.os.type": "the expected excerpt (ecs 8.11.0) predates the pipeline's host.os.type rule " +
			"(windows when InitiatingProcessAccountSid is present), which ../shared/telemetry/README.md documents and Vigil follows"}},
}

// Every Elastic fixture pair matches on every field that a prebuilt rule
// targeting the source's index reads (derived from detection-rules), except
// event.ingested (set by Elasticsearch at ingest).
func TestElasticFixtures(t *testing.T) {
	rulesDir := needShared(t, "rules/detection-rules/rules")
	for _, fx := range fixtures {
		t.Run(fx.format, func(t *testing.T) {
			input, err := os.ReadFile(needShared(t, fx.input))
			if err != nil {
				t.Fatal(err)
			}
			raw, err := os.ReadFile(needShared(t, fx.expect))
			if err != nil {
				t.Fatal(err)
			}
			var exp struct{ Expected []map[string]any }
			if err := json.Unmarshal(raw, &exp); err != nil {
				t.Fatal(err)
			}
			derived := rulefields.FromRules(loadRules(t, rulesDir), fx.index)
			ruleField := map[string]bool{}
			for _, f := range derived.Fields {
				ruleField[f.Name] = true
			}
			delete(ruleField, "event.ingested")
			var lines [][]byte
			for _, l := range bytes.Split(input, []byte("\n")) {
				if l = bytes.TrimSpace(l); len(l) > 0 {
					lines = append(lines, l)
				}
			}
			for i, want := range exp.Expected {
				var line []byte
				if fx.pairByOriginal {
					orig, _ := want["event"].(map[string]any)["original"].(string)
					for _, l := range lines {
						if string(l) == orig {
							line = l
						}
					}
					if line == nil {
						t.Fatalf("expected doc %d: no input line equals its event.original", i)
					}
				} else {
					line = lines[i]
				}
				got := flat(normalize(t, fx.format, line))
				wantF := flat(want)
				var compared []string
				for f := range ruleField {
					_, g := got[f]
					_, w := wantF[f]
					if g || w {
						compared = append(compared, f)
					}
				}
				sort.Strings(compared)
				t.Logf("doc %d: %d rule fields of %d rules on %s compared: %s", i, len(compared), derived.Rules, fx.index, strings.Join(compared, " "))
				if len(compared) < 8 {
					t.Errorf("doc %d: only %d fields compared", i, len(compared))
				}
				for _, f := range compared {
					g, w := got[f], wantF[f]
					if reflect.DeepEqual(g, w) {
						continue
					}
					why, ok := fx.known[f]
					if !ok {
						why, ok = indexLevel[f]
					}
					if ok && w == nil {
						t.Logf("doc %d: %s: got %v, Elastic %v (known: %s)", i, f, g, w, why)
						continue
					}
					t.Errorf("doc %d: %s: got %#v, Elastic's expected %#v", i, f, g, w)
				}
			}
		})
	}
}

// The reference rule (built-in pack) fires on each source's constructed
// positive sample and on none of its near misses.
func TestReferenceRulePerSource(t *testing.T) {
	needShared(t, "telemetry")
	all, err := samples.Build(shared)
	if err != nil {
		t.Skipf("samples: %v", err)
	}
	rules, lerrs := pack.Rules(rule.LoadOptions{})
	if len(lerrs) > 0 {
		t.Fatal(lerrs[0])
	}
	rs, cerrs := detect.Compile(rules)
	if len(cerrs) > 0 {
		t.Fatal(cerrs[0])
	}
	fired := map[string]bool{}
	eng := rs.NewEngine(detect.Options{Emit: func(a *detect.Alert) {
		if a.Field("kibana.alert.rule.rule_id") == "1aa9181a-492b-4c01-8b16-fa0735786b2b" {
			for _, f := range strings.Fields(a.Field("process.command_line")) {
				fired[f] = true
			}
		}
	}})
	for _, s := range all {
		// Through the Reader, with detection per record, as hunt reads.
		rd := source.NewReader(s.Source+".ndjson", bytes.NewReader(append(s.Line, '\n')))
		rd.OnError = func(e *source.Error) { t.Errorf("%s %s: %v", s.Source, s.Label, e) }
		rec, pos, ok := rd.Next()
		if !ok {
			t.Fatalf("%s %s: no record", s.Source, s.Label)
		}
		if err := eng.Offer(rec, eql.Source{Line: pos}); err != nil {
			t.Errorf("%s %s: %v\n%s", s.Source, s.Label, err, rec)
		}
	}
	if _, err := eng.Finish(); err != nil {
		t.Fatal(err)
	}
	for _, s := range all {
		if fired[s.Marker] != s.Fire {
			t.Errorf("%s, %s (constructed sample): fired=%v, want %v", s.Source, s.Label, fired[s.Marker], s.Fire)
		}
	}
}

// Every record of the real samples normalises (none rejected), and the
// documents carry the integration's index.
func TestRealSamplesNormalize(t *testing.T) {
	cases := []struct{ format, file, index string }{
		{"crowdstrike", "telemetry/crowdstrike_fdr/raw-examples-ProcessRollup2.ndjson", "logs-crowdstrike.fdr-default"},
		{"m365defender", "telemetry/elastic-fixtures/m365_defender__event/test-device.log", "logs-m365_defender.event-default"},
		{"sentinelone", "telemetry/sentinel_one_cloud_funnel/test-process.log", "logs-sentinel_one_cloud_funnel.event-default"},
		{"endgame", "conformance/eql/events/pyeql_test_data.ndjson", "endgame-8.4.0"},
	}
	for _, c := range cases {
		p := needShared(t, c.file)
		rd, err := source.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		rd.OnError = func(e *source.Error) { t.Errorf("%v", e) }
		for {
			rec, _, ok := rd.Next()
			if !ok {
				break
			}
			n++
			var m map[string]any
			if err := json.Unmarshal(rec, &m); err != nil {
				t.Fatalf("%s: %v", c.file, err)
			}
			if m["_index"] != c.index {
				t.Errorf("%s record %d: _index %v, want %s", c.file, n, m["_index"], c.index)
			}
		}
		rd.Close()
		if n == 0 {
			t.Errorf("%s: no records", c.file)
		}
	}
}

// Bad vendor records are reported with file:line, counted, and the rest of
// the file is read.
func TestMalformedVendorRecords(t *testing.T) {
	input := strings.Join([]string{
		`{"event_simpleName":"ProcessRollup2","timestamp":"1700000000000","event_platform":"Win","CommandLine":"a b"}`,
		`{"event_simpleName":"ProcessRollup2","event_platform":"Win"}`, // no time
		`{"event_simpleName":"ProcessRollup2", "timestamp": }`,         // not JSON
		`{"category":"AdvancedHunting-DeviceProcessEvents","properties":"x"}`,
		`{"meta.event.name":"PROCESSCREATION","event.time":"yesterday"}`,
		`{"event_subtype_full":"creation_event","event_type":"process","timestamp":-5}`,
		`{"@timestamp":"2024-01-01T00:00:00Z","event":{"kind":"event"}}`,
	}, "\n")
	rd := source.NewReader("mixed.ndjson", strings.NewReader(input))
	var errs []string
	malformed := 0
	rd.OnError = func(e *source.Error) {
		errs = append(errs, e.Error())
		if errorsIsMalformed(e) {
			malformed++
		}
	}
	var lines []int
	for {
		_, pos, ok := rd.Next()
		if !ok {
			break
		}
		lines = append(lines, pos)
	}
	if fmt.Sprint(lines) != "[1 7]" {
		t.Errorf("records at lines %v, want [1 7]", lines)
	}
	want := []string{"mixed.ndjson:2: crowdstrike:", "mixed.ndjson:3: crowdstrike:", "mixed.ndjson:4: m365defender:", "mixed.ndjson:5: sentinelone:", "mixed.ndjson:6: endgame:"}
	if len(errs) != len(want) || malformed != len(want) {
		t.Fatalf("errors (%d malformed):\n%s", malformed, strings.Join(errs, "\n"))
	}
	for i, w := range want {
		if !strings.HasPrefix(errs[i], w) {
			t.Errorf("error %d = %q, want prefix %q", i, errs[i], w)
		}
	}
}

func errorsIsMalformed(e *source.Error) bool { return isMalformed(e) }

// --source forces a format, and unknown names are refused.
func TestSetFormat(t *testing.T) {
	if err := source.NewReader("x", strings.NewReader("")).SetFormat("nope"); err == nil {
		t.Error("unknown format accepted")
	}
	// Forced ECS: an FDR line passes through unchanged.
	line := `{"event_simpleName":"ProcessRollup2","timestamp":"1700000000000"}`
	rd := source.NewReader("x", strings.NewReader(line+"\n"))
	if err := rd.SetFormat("defend"); err != nil {
		t.Fatal(err)
	}
	rec, _, _ := rd.Next()
	if string(rec) != line {
		t.Errorf("forced ecs changed the record: %s", rec)
	}
	// Forced crowdstrike on a line that detection would pass through.
	rd = source.NewReader("x", strings.NewReader(`{"@timestamp":"x","event_simpleName":"ProcessRollup2","timestamp":"1700000000000"}`+"\n"))
	rd.SetFormat("fdr")
	rec, _, _ = rd.Next()
	if !bytes.Contains(rec, []byte(`"_index":"logs-crowdstrike.fdr-default"`)) {
		t.Errorf("forced fdr: %s", rec)
	}
	if rd.Offset() != -1 {
		t.Errorf("normalised record has offset %d", rd.Offset())
	}
}

// A gzip file mixing sources is read record by record.
func TestMixedGzip(t *testing.T) {
	all, err := samples.Build(shared)
	if err != nil {
		t.Skipf("samples: %v", err)
	}
	var plain bytes.Buffer
	for _, s := range all {
		plain.Write(s.Line)
		plain.WriteByte('\n')
	}
	rd := source.NewReader("mixed.ndjson.gz", bytes.NewReader(gzBytes(t, plain.Bytes())))
	rd.OnError = func(e *source.Error) { t.Error(e) }
	counts := map[string]int{}
	for {
		rec, _, ok := rd.Next()
		if !ok {
			break
		}
		var m struct {
			Index string                   `json:"_index"`
			DS    struct{ Dataset string } `json:"data_stream"`
		}
		json.Unmarshal(rec, &m)
		counts[m.Index+"|"+m.DS.Dataset]++
	}
	want := map[string]int{"logs-crowdstrike.fdr-default|crowdstrike.fdr": 5, "logs-sentinel_one_cloud_funnel.event-default|sentinel_one_cloud_funnel.event": 5,
		"logs-m365_defender.event-default|m365_defender.event": 5, "endgame-8.4.0|": 5, "|endpoint.events.process": 5}
	if !reflect.DeepEqual(counts, want) {
		t.Errorf("indices %v, want %v", counts, want)
	}
}

func isMalformed(e *source.Error) bool { return errors.Is(e, source.ErrMalformed) }

func gzBytes(t testing.TB, data []byte) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write(data)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// An Event Hub envelope {"records":[...]} is split into its records, each
// normalised with the envelope's line; a bad element is reported with its
// element number and the others are kept.
func TestEventHubBatch(t *testing.T) {
	rec := func(action string) string {
		return `{"category":"AdvancedHunting-DeviceProcessEvents","properties":{"Timestamp":"2023-11-14T22:13:20Z","ActionType":"` + action + `","FileName":"a.exe"}}`
	}
	input := `{"category":"AdvancedHunting-DeviceEvents","properties":{"Timestamp":"2023-11-14T22:13:20Z"}}` + "\n" +
		`{ "records" : [` + rec("ProcessCreated") + ",\n" + rec("OpenProcess") + `, {"category":"AdvancedHunting-DeviceEvents"}]}` + "\n"
	rd := source.NewReader("hub.json", strings.NewReader(strings.ReplaceAll(input, ",\n", ", ")))
	var errs []string
	rd.OnError = func(e *source.Error) { errs = append(errs, e.Error()) }
	var got []string
	for {
		out, pos, ok := rd.Next()
		if !ok {
			break
		}
		var m struct {
			Event struct{ Action string } `json:"event"`
		}
		if err := json.Unmarshal(out, &m); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		got = append(got, fmt.Sprintf("%d:%s", pos, m.Event.Action))
	}
	if strings.Join(got, " ") != "1: 2:processcreated 2:openprocess" {
		t.Errorf("records %v", got)
	}
	if len(errs) != 1 || !strings.HasPrefix(errs[0], "hub.json:2: m365defender: batch element 3:") {
		t.Errorf("errors %q", errs)
	}
	if source.SplitRecords([]byte(`{"records":[], "x":1}`)) != nil || source.SplitRecords([]byte(`{"record":[]}`)) != nil {
		t.Error("SplitRecords accepted a non-envelope")
	}
}

// A format registered with BeforeECS is sniffed even on records that have
// an @timestamp (Beats/Agent documents still to be mapped); others are not.
func TestBeforeECS(t *testing.T) {
	source.Register(source.Format{Name: "test-before-ecs", BeforeECS: true,
		Sniff: func(rec []byte) bool { return bytes.Contains(rec, []byte(`"vigil_test_before_ecs"`)) },
		Normalize: func(dst, rec []byte, file string) ([]byte, error) {
			return append(dst, `{"@timestamp":"2024-01-01T00:00:00Z","mapped":true}`...), nil
		}})
	input := `{"@timestamp":"2024-01-01T00:00:00Z","vigil_test_before_ecs":1}` + "\n" + `{"@timestamp":"2024-01-01T00:00:00Z","event_simpleName":"x"}` + "\n"
	rd := source.NewReader("x", strings.NewReader(input))
	a, _, _ := rd.Next()
	b, _, _ := rd.Next()
	if string(a) != `{"@timestamp":"2024-01-01T00:00:00Z","mapped":true}` || !strings.Contains(string(b), "event_simpleName") || strings.Contains(string(b), "_index") {
		t.Errorf("got %s / %s", a, b)
	}
	if _, ok := source.Lookup("TEST-BEFORE-ECS"); !ok {
		t.Error("Lookup is not case-insensitive")
	}
}

// FuzzReaderFormats feeds arbitrary lines through per-record detection and
// every normaliser: no panic, every problem positioned within the input,
// and every normalised document valid JSON.
func FuzzReaderFormats(f *testing.F) {
	for _, s := range []string{
		`{"event_simpleName":"ProcessRollup2","timestamp":"1700000000000","event_platform":"Win","CommandLine":"a \"b c\""}`,
		`{"meta.event.name":"PROCESSCREATION","event.category":"process","event.time":1,"tgt.process.cmdline":"\""}`,
		`{"records":[{"category":"AdvancedHunting-DeviceProcessEvents","properties":{"Timestamp":"2023-11-14T22:13:20Z"}}]}`,
		`{"event_subtype_full":"creation_event","event_type":"process","timestamp":131509374345689460}`,
		`{"@timestamp":"2024-01-01T00:00:00Z"}` + "\n" + `{"event_simpleName":`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		lines := 1 + bytes.Count(data, []byte("\n"))
		rd := source.NewReader("fuzz", bytes.NewReader(data))
		rd.OnError = func(e *source.Error) {
			if e.Line < 0 || e.Line > lines {
				t.Fatalf("error at line %d of %d: %v", e.Line, lines, e)
			}
		}
		for {
			rec, pos, ok := rd.Next()
			if !ok {
				break
			}
			if pos < 1 || pos > lines {
				t.Fatalf("record at line %d of %d", pos, lines)
			}
			// Records not found in the input were produced by a normaliser.
			if !bytes.Contains(data, rec) && !json.Valid(rec) {
				t.Fatalf("normalised record is not JSON: %q", rec)
			}
		}
	})
}

// Elastic Defend documents are ECS already: the agent's sample passes
// through the Reader byte for byte (nothing is added; event.ingested is
// only set by vigil serve, at acceptance).
func TestDefendPassthrough(t *testing.T) {
	raw, err := os.ReadFile(needShared(t, "telemetry/elastic-fixtures/endpoint__process/sample_event.json"))
	if err != nil {
		t.Fatal(err)
	}
	var line bytes.Buffer
	if err := json.Compact(&line, raw); err != nil {
		t.Fatal(err)
	}
	rd := source.NewReader("defend.ndjson", bytes.NewReader(append(line.Bytes(), '\n')))
	rec, _, ok := rd.Next()
	if !ok || !bytes.Equal(rec, line.Bytes()) {
		t.Errorf("Defend document changed:\n%s", rec)
	}
}
