package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/vigilsec/vigil/eql"
	"github.com/vigilsec/vigil/source"
)

// The tests drive the command in-process through run, on made-up ECS
// events under testdata/: process.ndjson (a user created with net.exe by
// alice and net1.exe by bob), malformed.ndjson (line 2 is broken),
// withid.ndjson (an event with its own _id), array.json (a JSON array) and
// mapping.json.

type result struct {
	stdout, stderr string
	code           int
}

func vigil(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, strings.NewReader(stdin), &out, &errb)
	return result{out.String(), errb.String(), code}
}

type esHit struct {
	Index   string          `json:"_index"`
	ID      string          `json:"_id"`
	Source  json.RawMessage `json:"_source"`
	Missing bool            `json:"missing"`
}

type esSequence struct {
	JoinKeys []any   `json:"join_keys"`
	Events   []esHit `json:"events"`
}

type esResponse struct {
	Took      *int64 `json:"took"`
	TimedOut  *bool  `json:"timed_out"`
	IsPartial *bool  `json:"is_partial"`
	IsRunning *bool  `json:"is_running"`
	Hits      struct {
		Total struct {
			Value    int    `json:"value"`
			Relation string `json:"relation"`
		} `json:"total"`
		Events    []esHit      `json:"events"`
		Sequences []esSequence `json:"sequences"`
	} `json:"hits"`
}

func decodeJSON(t *testing.T, r result) esResponse {
	t.Helper()
	var resp esResponse
	dec := json.NewDecoder(strings.NewReader(r.stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&resp); err != nil {
		t.Fatalf("stdout is not one EQL response: %v\n%s", err, r.stdout)
	}
	if dec.More() {
		t.Fatalf("more than one JSON document on stdout:\n%s", r.stdout)
	}
	return resp
}

func decodeNDJSON[T any](t *testing.T, out string) []T {
	t.Helper()
	var list []T
	for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if line == "" {
			continue
		}
		var v T
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Fatalf("bad NDJSON line %q: %v", line, err)
		}
		list = append(list, v)
	}
	return list
}

// lines returns the lines of a fixture, 1-based.
func lines(t *testing.T, path string) map[int]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m := map[int]string{}
	for i, l := range strings.Split(string(data), "\n") {
		m[i+1] = l
	}
	return m
}

func ids(hits []esHit) []string {
	var out []string
	for _, h := range hits {
		if h.Missing {
			out = append(out, "<missing>")
			continue
		}
		out = append(out, h.ID)
	}
	return out
}

func wantCode(t *testing.T, r result, code int) {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, code, r.stdout, r.stderr)
	}
}

const netAdd = `process where process.name : ("net.exe", "net1.exe") and process.args : "/add"`

func TestJSONOutput(t *testing.T) {
	r := vigil(t, "", "eql", netAdd, "testdata/process.ndjson")
	wantCode(t, r, 0)
	if r.stderr != "" {
		t.Errorf("stderr: %s", r.stderr)
	}
	resp := decodeJSON(t, r)
	if resp.Took == nil || resp.TimedOut == nil || *resp.TimedOut || resp.IsPartial == nil || *resp.IsPartial || resp.IsRunning == nil || *resp.IsRunning {
		t.Errorf("missing or wrong took/timed_out/is_partial/is_running: %s", r.stdout)
	}
	if resp.Hits.Total.Value != 2 || resp.Hits.Total.Relation != "eq" {
		t.Errorf("total %+v, want 2 eq", resp.Hits.Total)
	}
	if resp.Hits.Sequences != nil {
		t.Error("sequences in an event query response")
	}
	src := lines(t, "testdata/process.ndjson")
	want := []struct {
		id   string
		line int
	}{{"process:2", 2}, {"process:4", 4}}
	if len(resp.Hits.Events) != len(want) {
		t.Fatalf("events %v, want %v", ids(resp.Hits.Events), want)
	}
	for i, w := range want {
		h := resp.Hits.Events[i]
		if h.Index != "process" || h.ID != w.id {
			t.Errorf("event %d: _index %q _id %q, want process %s", i, h.Index, h.ID, w.id)
		}
		// The original bytes, not a re-encoding (line 4 has spaces).
		if string(h.Source) != src[w.line] {
			t.Errorf("event %d: _source\n%s\nwant the input line\n%s", i, h.Source, src[w.line])
		}
	}
}

func TestNDJSONOutput(t *testing.T) {
	r := vigil(t, "", "eql", "--format", "ndjson", netAdd, "testdata/process.ndjson")
	wantCode(t, r, 0)
	hits := decodeNDJSON[esHit](t, r.stdout)
	if got := ids(hits); !reflect.DeepEqual(got, []string{"process:2", "process:4"}) {
		t.Fatalf("ids %v", got)
	}
	if n := strings.Count(r.stdout, "\n"); n != 2 {
		t.Errorf("%d lines, want 2:\n%s", n, r.stdout)
	}
	src := lines(t, "testdata/process.ndjson")
	if string(hits[1].Source) != src[4] {
		t.Errorf("_source %s", hits[1].Source)
	}

	// Sequences: one per line.
	r = vigil(t, "", "eql", "--format", "ndjson", `sequence by user.name [process where true] [process where true]`, "testdata/process.ndjson")
	wantCode(t, r, 0)
	seqs := decodeNDJSON[esSequence](t, r.stdout)
	if len(seqs) != 1 || !reflect.DeepEqual(seqs[0].JoinKeys, []any{"alice"}) || !reflect.DeepEqual(ids(seqs[0].Events), []string{"process:1", "process:2"}) {
		t.Fatalf("sequences %+v", seqs)
	}
}

func TestSequence(t *testing.T) {
	r := vigil(t, "", "eql", `sequence by user.name
  [process where process.name == "net.exe"]
  [iam where true]`, "testdata/process.ndjson")
	wantCode(t, r, 0)
	resp := decodeJSON(t, r)
	if resp.Hits.Events != nil {
		t.Error("events in a sequence query response")
	}
	if resp.Hits.Total.Value != 1 || len(resp.Hits.Sequences) != 1 {
		t.Fatalf("total %d, %d sequences:\n%s", resp.Hits.Total.Value, len(resp.Hits.Sequences), r.stdout)
	}
	s := resp.Hits.Sequences[0]
	if !reflect.DeepEqual(s.JoinKeys, []any{"alice"}) {
		t.Errorf("join_keys %#v, want [alice]", s.JoinKeys)
	}
	if got := ids(s.Events); !reflect.DeepEqual(got, []string{"process:2", "process:3"}) {
		t.Errorf("events %v", got)
	}

	// Numbers are bare join keys; two keys, in order.
	r = vigil(t, "", "eql", `sequence [process where true] by user.name, process.pid [process where true] by user.name, process.pid`, "testdata/process.ndjson")
	wantCode(t, r, 0)
	if resp := decodeJSON(t, r); len(resp.Hits.Sequences) != 0 {
		t.Errorf("no two events share a pid, got %+v", resp.Hits.Sequences)
	}
	r = vigil(t, "", "eql", `sequence by host.name, user.name [process where true] [any where true]`, "testdata/process.ndjson")
	wantCode(t, r, 0)
	if !strings.Contains(r.stdout, `"join_keys":["ws-01","alice"]`) {
		t.Errorf("join_keys not written as a JSON array of strings:\n%s", r.stdout)
	}
}

func TestMissingEvent(t *testing.T) {
	r := vigil(t, "", "eql", `sequence by user.name with maxspan=1m
  [process where process.name == "net.exe"]
  ![network where true]
  [iam where true]`, "testdata/process.ndjson")
	wantCode(t, r, 0)
	resp := decodeJSON(t, r)
	if len(resp.Hits.Sequences) != 1 {
		t.Fatalf("sequences:\n%s", r.stdout)
	}
	if got := ids(resp.Hits.Sequences[0].Events); !reflect.DeepEqual(got, []string{"process:2", "<missing>", "process:3"}) {
		t.Errorf("events %v", got)
	}
	if !strings.Contains(r.stdout, `{"missing":true}`) {
		t.Errorf("no missing placeholder:\n%s", r.stdout)
	}
}

func TestMalformedLine(t *testing.T) {
	// The broken line 2 names net.exe, so the prefilter lets it through to
	// the parser.
	r := vigil(t, "", "eql", "--format", "ndjson", `process where process.name == "net.exe"`,
		"testdata/malformed.ndjson", "testdata/withid.ndjson")
	wantCode(t, r, 1)
	if !strings.Contains(r.stderr, "testdata/malformed.ndjson:2: ") {
		t.Errorf("stderr does not point at the bad line:\n%s", r.stderr)
	}
	if strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("expected one diagnostic (no summary when not asked for):\n%s", r.stderr)
	}
	got := ids(decodeNDJSON[esHit](t, r.stdout))
	if want := []string{"malformed:1", "malformed:3", "evt-a", "withid:2"}; !reflect.DeepEqual(got, want) {
		t.Errorf("ids %v, want %v (the run goes on past the bad line)", got, want)
	}

	// --stats adds the summary.
	r = vigil(t, "", "eql", "--stats", "--format", "ndjson", `process where process.name == "net.exe"`, "testdata/malformed.ndjson")
	wantCode(t, r, 1)
	if !regexp.MustCompile(`1 file, 3 lines read.*1 malformed.*2 events matched`).MatchString(r.stderr) {
		t.Errorf("summary:\n%s", r.stderr)
	}
}

func TestInvalidQuery(t *testing.T) {
	r := vigil(t, "", "eql", "process where process.name ==\n  and true", "testdata/process.ndjson")
	wantCode(t, r, 2)
	if r.stdout != "" {
		t.Errorf("stdout: %s", r.stdout)
	}
	if !strings.Contains(r.stderr, "2:3: ") {
		t.Errorf("no line:col in\n%s", r.stderr)
	}
	ls := strings.Split(strings.TrimRight(r.stderr, "\n"), "\n")
	caret := ls[len(ls)-1]
	if strings.TrimSpace(caret) != "^" || len(ls) < 2 || !strings.Contains(ls[len(ls)-2], "and true") {
		t.Fatalf("no quoted line and caret:\n%s", r.stderr)
	}
	// The caret sits under "and".
	if i := strings.Index(ls[len(ls)-2], "and"); strings.Index(caret, "^") != i {
		t.Errorf("caret at %d, 'and' at %d:\n%s", strings.Index(caret, "^"), i, r.stderr)
	}
}

func TestSizeAndResultPosition(t *testing.T) {
	all := `process where true` // lines 1, 2 and 4
	for _, c := range []struct {
		args []string
		want []string
	}{
		{nil, []string{"process:1", "process:2", "process:4"}},
		{[]string{"--size", "1"}, []string{"process:4"}},
		{[]string{"--size", "2", "--result-position", "tail"}, []string{"process:2", "process:4"}},
		{[]string{"--size", "1", "--result-position", "head"}, []string{"process:1"}},
		{[]string{"--size", "0"}, nil},
	} {
		args := append(append([]string{"eql"}, c.args...), all, "testdata/process.ndjson")
		r := vigil(t, "", args...)
		wantCode(t, r, 0)
		resp := decodeJSON(t, r)
		if got := ids(resp.Hits.Events); !reflect.DeepEqual(got, c.want) || resp.Hits.Total.Value != len(c.want) {
			t.Errorf("%v: %v (total %d), want %v", c.args, got, resp.Hits.Total.Value, c.want)
		}
	}
	for _, bad := range [][]string{{"--result-position", "middle"}, {"--size", "-5"}, {"--size", "x"}, {"--format", "xml"}} {
		r := vigil(t, "", append(append([]string{"eql"}, bad...), all, "testdata/process.ndjson")...)
		wantCode(t, r, 2)
	}
}

func TestStdin(t *testing.T) {
	data, err := os.ReadFile("testdata/process.ndjson")
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"eql", netAdd}, {"eql", netAdd, "-"}} {
		r := vigil(t, string(data), args...)
		wantCode(t, r, 0)
		resp := decodeJSON(t, r)
		if len(resp.Hits.Events) != 2 {
			t.Fatalf("%v: %s", args, r.stdout)
		}
		for i, id := range []string{"stdin:2", "stdin:4"} {
			if h := resp.Hits.Events[i]; h.Index != "stdin" || h.ID != id {
				t.Errorf("%v: event %d is %s/%s, want stdin/%s", args, i, h.Index, h.ID, id)
			}
		}
	}
}

func TestGzipInput(t *testing.T) {
	data, err := os.ReadFile("testdata/process.ndjson")
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write(data)
	zw.Close()
	// Detected by content: the name does not say gzip.
	dir := t.TempDir()
	for _, name := range []string{"events.ndjson.gz", "plain.log"} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		r := vigil(t, "", "eql", netAdd, p)
		wantCode(t, r, 0)
		resp := decodeJSON(t, r)
		index := strings.SplitN(name, ".", 2)[0]
		src := lines(t, "testdata/process.ndjson")
		if len(resp.Hits.Events) != 2 {
			t.Fatalf("%s: %s", name, r.stdout)
		}
		for i, ln := range []int{2, 4} {
			h := resp.Hits.Events[i]
			if h.Index != index || h.ID != index+":"+[]string{"2", "4"}[i] || string(h.Source) != src[ln] {
				t.Errorf("%s: event %d: %s %s %s", name, i, h.Index, h.ID, h.Source)
			}
		}
	}
}

func TestArrayInput(t *testing.T) {
	r := vigil(t, "", "eql", `process where process.name == "net.exe"`, "testdata/array.json")
	wantCode(t, r, 0)
	resp := decodeJSON(t, r)
	if len(resp.Hits.Events) != 1 {
		t.Fatalf("%s", r.stdout)
	}
	h := resp.Hits.Events[0]
	want := strings.TrimSuffix(strings.TrimSpace(lines(t, "testdata/array.json")[3]), ",")
	if h.Index != "array" || h.ID != "array:2" || string(h.Source) != want {
		t.Errorf("got %s %s %s, want array array:2 %s", h.Index, h.ID, h.Source, want)
	}
}

func TestOwnID(t *testing.T) {
	r := vigil(t, "", "eql", "--format", "ndjson", `process where true`, "testdata/withid.ndjson")
	wantCode(t, r, 0)
	if got := ids(decodeNDJSON[esHit](t, r.stdout)); !reflect.DeepEqual(got, []string{"evt-a", "withid:2"}) {
		t.Errorf("ids %v", got)
	}
}

func TestMappings(t *testing.T) {
	q := `network where cidrMatch(destination.ip, "10.0.0.0/8")`
	// One mapping for all PATHs.
	r := vigil(t, "", "eql", "--mapping", "testdata/mapping.json", q, "testdata/process.ndjson", "testdata/array.json")
	wantCode(t, r, 0)
	if got := ids(decodeJSON(t, r).Hits.Events); !reflect.DeepEqual(got, []string{"process:5"}) {
		t.Errorf("ids %v", got)
	}
	// One per PATH.
	r = vigil(t, "", "eql", "--mapping", "testdata/mapping.json", "--mapping", "testdata/mapping.json", q, "testdata/process.ndjson", "testdata/array.json")
	wantCode(t, r, 0)
	// Counts that do not line up are a usage error.
	for _, args := range [][]string{
		{"--mapping", "testdata/mapping.json", "--mapping", "testdata/mapping.json", q, "testdata/process.ndjson"},
		{"--mapping", "testdata/mapping.json", "--mapping", "testdata/mapping.json", q},
		{"--mapping", "testdata/mapping.json", "--mapping", "testdata/mapping.json", "--mapping", "testdata/mapping.json", q, "testdata/process.ndjson", "testdata/array.json"},
	} {
		r := vigil(t, "", append([]string{"eql"}, args...)...)
		wantCode(t, r, 2)
		if r.stdout != "" || !strings.Contains(r.stderr, "--mapping") {
			t.Errorf("%v: stdout %q stderr %q", args, r.stdout, r.stderr)
		}
	}
	// A missing or invalid mapping file is a usage error too.
	r = vigil(t, "", "eql", "--mapping", "testdata/nope.json", q, "testdata/process.ndjson")
	wantCode(t, r, 2)
	r = vigil(t, "", "eql", "--mapping", "testdata/process.ndjson", q, "testdata/process.ndjson")
	wantCode(t, r, 2)
}

func TestDirectoryAndUnreadable(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"process.ndjson", "array.json"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(dir, "README.txt"), []byte("not events"), 0o644)
	r := vigil(t, "", "eql", "--format", "ndjson", `process where process.name == "net.exe"`, dir)
	wantCode(t, r, 0)
	// Files in lexical order: array.json before process.ndjson.
	if got := ids(decodeNDJSON[esHit](t, r.stdout)); !reflect.DeepEqual(got, []string{"process:2", "array:2"}) {
		t.Errorf("ids %v", got)
	}

	// A missing PATH is reported, the others still searched, exit 1.
	missing := filepath.Join(dir, "nope.ndjson")
	r = vigil(t, "", "eql", "--format", "ndjson", `process where process.name == "net.exe"`, missing, "testdata/array.json")
	wantCode(t, r, 1)
	if !strings.Contains(r.stderr, missing+": ") {
		t.Errorf("stderr %q", r.stderr)
	}
	if got := ids(decodeNDJSON[esHit](t, r.stdout)); !reflect.DeepEqual(got, []string{"array:2"}) {
		t.Errorf("ids %v", got)
	}
}

func TestTableOutput(t *testing.T) {
	r := vigil(t, "", "eql", "--format", "table", netAdd, "testdata/process.ndjson")
	wantCode(t, r, 0)
	if strings.Contains(r.stdout, "\x1b[") {
		t.Error("colour when stdout is not a terminal")
	}
	for _, s := range []string{"@timestamp", "_index", "_id", "event.category", "process:2", "net user backdoor P@ss /add", "2 events"} {
		if !strings.Contains(r.stdout, s) {
			t.Errorf("table lacks %q:\n%s", s, r.stdout)
		}
	}
	r = vigil(t, "", "eql", "--format", "table", `sequence by user.name [process where process.name == "net.exe"] [iam where true]`, "testdata/process.ndjson")
	wantCode(t, r, 0)
	for _, s := range []string{"sequence 1", `join_keys: ["alice"]`, "process:3", "1 sequence"} {
		if !strings.Contains(r.stdout, s) {
			t.Errorf("table lacks %q:\n%s", s, r.stdout)
		}
	}
}

func TestDeterministic(t *testing.T) {
	args := []string{"eql", "--format", "ndjson", `sequence by host.name [process where true] [any where true]`, "testdata/process.ndjson", "testdata/array.json", "testdata/withid.ndjson"}
	first := vigil(t, "", args...)
	wantCode(t, first, 0)
	for range 3 {
		if r := vigil(t, "", args...); r.stdout != first.stdout {
			t.Fatalf("output differs between runs:\n%s\n---\n%s", first.stdout, r.stdout)
		}
	}
}

func TestUsage(t *testing.T) {
	r := vigil(t, "", "--help")
	wantCode(t, r, 0)
	for _, s := range []string{"Vigil", "eql", "Exit status", "Examples"} {
		if !strings.Contains(r.stdout, s) {
			t.Errorf("help lacks %q", s)
		}
	}
	r = vigil(t, "", "eql", "--help")
	wantCode(t, r, 0)
	if !strings.Contains(r.stdout, "--mapping") || !strings.Contains(r.stdout, "--result-position") {
		t.Errorf("eql help:\n%s", r.stdout)
	}
	for _, args := range [][]string{{"eql"}, {"eql", "--nope", "any where true"}, {"nope"}} {
		r := vigil(t, "", args...)
		wantCode(t, r, 2)
	}
}

// BenchmarkScan measures the whole command on a generated file, most lines
// parsed and few matching, which is where the per-line loop shows.
func BenchmarkScan(b *testing.B) {
	data, err := os.ReadFile("testdata/process.ndjson")
	if err != nil {
		b.Fatal(err)
	}
	p := filepath.Join(b.TempDir(), "big.ndjson")
	if err := os.WriteFile(p, bytes.Repeat(data, 20000), 0o644); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data) * 20000))
	for b.Loop() {
		if code := run([]string{"eql", `process where process.pid == 812`, p}, nil, io.Discard, io.Discard); code != 0 {
			b.Fatal(code)
		}
	}
}

// readBackInput is NDJSON with what the reader strips around records (a
// BOM, CRLF, blank lines), an event with its own _id and one with leading
// spaces; records lists the bytes each line must come back as, by line.
const readBackInput = "\xef\xbb\xbf{\"@timestamp\":\"2024-03-01T10:00:00.000Z\",\"event\":{\"category\":[\"process\"]},\"user\":{\"name\":\"alice\"},\"process\":{\"name\":\"cmd.exe\"}}\r\n" +
	"\r\n" +
	"\n" +
	"  {\"@timestamp\":\"2024-03-01T10:00:05.000Z\", \"event\":{\"category\":[\"process\"]},\"user\":{\"name\":\"alice\"},\"process\":{\"name\":\"net.exe\"}}\r\n" +
	"\xef\xbb\xbf\r\n" +
	"{\"_id\":\"own-1\",\"@timestamp\":\"2024-03-01T10:00:06.000Z\",\"event\":{\"category\":[\"iam\"]},\"user\":{\"name\":\"alice\"},\"note\":\"a\\r\\n\"}\r\n" +
	"{\"@timestamp\":\"2024-03-01T10:00:09.000Z\",\"event\":{\"category\":[\"iam\"]},\"user\":{\"name\":\"alice\"}}"

var readBackRecords = map[int]string{
	1: "{\"@timestamp\":\"2024-03-01T10:00:00.000Z\",\"event\":{\"category\":[\"process\"]},\"user\":{\"name\":\"alice\"},\"process\":{\"name\":\"cmd.exe\"}}",
	4: "  {\"@timestamp\":\"2024-03-01T10:00:05.000Z\", \"event\":{\"category\":[\"process\"]},\"user\":{\"name\":\"alice\"},\"process\":{\"name\":\"net.exe\"}}",
	6: "{\"_id\":\"own-1\",\"@timestamp\":\"2024-03-01T10:00:06.000Z\",\"event\":{\"category\":[\"iam\"]},\"user\":{\"name\":\"alice\"},\"note\":\"a\\r\\n\"}",
	7: "{\"@timestamp\":\"2024-03-01T10:00:09.000Z\",\"event\":{\"category\":[\"iam\"]},\"user\":{\"name\":\"alice\"}}",
}

// Results of a plain file are kept by position and read back from the
// file at the end: their _source must be the input record byte for byte,
// without the BOM or CR the reader strips, and their _id computed then.
func TestReadBackByteIdentical(t *testing.T) {
	p := filepath.Join(t.TempDir(), "rb.ndjson")
	if err := os.WriteFile(p, []byte(readBackInput), 0o644); err != nil {
		t.Fatal(err)
	}
	check := func(what string, r result, hits []esHit, want []int) {
		t.Helper()
		if len(hits) != len(want) {
			t.Fatalf("%s: %d events, want %d", what, len(hits), len(want))
		}
		for i, ln := range want {
			h := hits[i]
			id := "rb:" + strconv.Itoa(ln)
			if ln == 6 {
				id = "own-1"
			}
			if h.Index != "rb" || h.ID != id {
				t.Errorf("%s: event %d: %s %s, want rb %s", what, i, h.Index, h.ID, id)
			}
			// Decoding drops the leading spaces of line 4: look at the
			// output as written too.
			if rec := readBackRecords[ln]; string(h.Source) != strings.TrimLeft(rec, " ") ||
				!strings.Contains(r.stdout, `"_id":"`+id+`","_source":`+rec+"}") {
				t.Errorf("%s: event %d: _source\n%q\nwant line %d\n%q\nin\n%s", what, i, h.Source, ln, rec, r.stdout)
			}
		}
	}
	for _, format := range []string{"json", "ndjson"} {
		r := vigil(t, "", "eql", "--format", format, `sequence by user.name [process where true] [iam where true]`, p)
		wantCode(t, r, 0)
		var seqs []esSequence
		if format == "json" {
			seqs = decodeJSON(t, r).Hits.Sequences
		} else {
			seqs = decodeNDJSON[esSequence](t, r.stdout)
		}
		if len(seqs) != 1 {
			t.Fatalf("%s: sequences:\n%s", format, r.stdout)
		}
		check(format+" sequence", r, seqs[0].Events, []int{4, 6})

		r = vigil(t, "", "eql", "--format", format, `any where true`, p)
		wantCode(t, r, 0)
		var events []esHit
		if format == "json" {
			events = decodeJSON(t, r).Hits.Events
		} else {
			events = decodeNDJSON[esHit](t, r.stdout)
		}
		check(format+" events", r, events, []int{1, 4, 6, 7})
	}
}

// scanFile runs the CLI's scan of path for query and returns the runner,
// not yet finished.
func scanFile(t *testing.T, query, path string) (*eql.Runner, *stderrSink, *bytes.Buffer) {
	t.Helper()
	q, err := eql.Parse(query)
	if err != nil {
		t.Fatal(err)
	}
	prog, err := eql.Compile(q, eql.Options{TimestampField: "@timestamp", CategoryField: "event.category", Size: eql.NoLimit, ResultPosition: "tail"})
	if err != nil {
		t.Fatal(err)
	}
	m, err := prog.Matcher(nil)
	if err != nil {
		t.Fatal(err)
	}
	rd, err := source.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rd.Close() })
	var errb bytes.Buffer
	sink := &stderrSink{e: &env{stderr: &errb}}
	runner := prog.NewRunner()
	sc := scanner{runner: runner, sink: sink, st: &stats{}}
	sc.scan(input{rd: rd, m: m}, 0)
	if errb.Len() != 0 {
		t.Fatalf("scan: %s", errb.String())
	}
	return runner, sink, &errb
}

// The events of a sequence come from the file at Finish, not from a copy
// taken while scanning: a byte changed in place in between shows.
func TestSequenceReadFromFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "rb.ndjson")
	if err := os.WriteFile(p, []byte(readBackInput), 0o644); err != nil {
		t.Fatal(err)
	}
	runner, sink, errb := scanFile(t, `sequence by user.name [process where true] [iam where true]`, p)
	// Same file, same length: "net.exe" becomes "NET.exe" on line 4.
	f, err := os.OpenFile(p, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	off := strings.Index(readBackInput, "net.exe")
	if _, err := f.WriteAt([]byte("NET"), int64(off)); err != nil {
		t.Fatal(err)
	}
	f.Close()
	res, err := finish(runner, sink)
	if err != nil || errb.Len() != 0 {
		t.Fatalf("finish: %v %s", err, errb.String())
	}
	if len(res.Sequences) != 1 || len(res.Sequences[0].Events) != 2 {
		t.Fatalf("results %+v", res)
	}
	want := map[int]string{4: strings.Replace(readBackRecords[4], "net.exe", "NET.exe", 1), 6: readBackRecords[6]}
	for _, h := range res.Sequences[0].Events {
		if string(h.Source) != want[h.Line] {
			t.Errorf("line %d: _source\n%q\nwant the bytes in the file\n%q", h.Line, h.Source, want[h.Line])
		}
	}
	if ids := []string{res.Sequences[0].Events[0].ID, res.Sequences[0].Events[1].ID}; !reflect.DeepEqual(ids, []string{"rb:4", "own-1"}) {
		t.Errorf("ids %v", ids)
	}
}

// A result whose event cannot be read back (the file was replaced) is
// reported and left out; the others still go out.
func TestReadBackFailure(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "rb.ndjson")
	if err := os.WriteFile(p, []byte(readBackInput), 0o644); err != nil {
		t.Fatal(err)
	}
	runner, sink, errb := scanFile(t, `sequence by user.name [process where true] [iam where true]`, p)
	// Rotated: a new file under the same name.
	tmp := filepath.Join(dir, "new")
	if err := os.WriteFile(tmp, []byte(readBackInput), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, p); err != nil {
		t.Fatal(err)
	}
	res, err := finish(runner, sink)
	if err == nil {
		t.Fatal("no error reading back from a replaced file")
	}
	if len(res.Sequences) != 0 || len(res.Events) != 0 {
		t.Errorf("unreadable results kept: %+v", res)
	}
	// One line per event that could not be read back.
	s := errb.String()
	for _, l := range strings.Split(strings.TrimSuffix(s, "\n"), "\n") {
		if !strings.HasPrefix(l, "vigil: rb:") || !strings.Contains(l, "replaced") {
			t.Errorf("stderr line %q", l)
		}
	}
	if strings.Count(s, "\n") != 2 {
		t.Errorf("stderr %q: want one line per unreadable event (2)", s)
	}
}

// dropUnread keeps whole results: events with a source, sequences whose
// events all have one (a missing-event placeholder counts as whole).
func TestDropUnread(t *testing.T) {
	ok := &eql.Hit{Index: "i", Line: 1, Source: []byte("{}")}
	unread := &eql.Hit{Index: "i", Line: 2}
	missing := &eql.Hit{Missing: true}
	res := &eql.Results{
		Events: []*eql.Hit{ok, unread, ok},
		Sequences: []*eql.SequenceResult{
			{Events: []*eql.Hit{ok, missing, ok}},
			{Events: []*eql.Hit{ok, unread}},
			{Events: []*eql.Hit{ok}},
		},
	}
	dropUnread(res)
	if len(res.Events) != 2 || res.Events[0] != ok || res.Events[1] != ok {
		t.Errorf("events %v", res.Events)
	}
	if len(res.Sequences) != 2 || len(res.Sequences[0].Events) != 3 || len(res.Sequences[1].Events) != 1 {
		t.Errorf("sequences %v", res.Sequences)
	}
}
