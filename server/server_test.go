package server

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/vigilsec/vigil/store/eventlog"
)

// testServer is a server on a fresh embedded log.
type testServer struct {
	*httptest.Server
	srv *Server
	log *eventlog.Log
	dir string
}

func newTestServer(t testing.TB, mod func(*Config)) *testServer {
	t.Helper()
	dir := t.TempDir()
	lg, err := eventlog.Open(context.Background(), eventlog.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Log: lg, SetupDir: dir + "/setup"}
	if mod != nil {
		mod(&cfg)
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{Server: httptest.NewServer(srv), srv: srv, log: lg, dir: dir}
	t.Cleanup(func() {
		ts.Close()
		lg.Close()
	})
	return ts
}

func (ts *testServer) do(t testing.TB, method, path, body string, hdr ...string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-ndjson")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

// records reads the whole log.
func recordsOf(t testing.TB, lg *eventlog.Log) []map[string]any {
	t.Helper()
	var out []map[string]any
	err := lg.ReadAll(context.Background(), func(r eventlog.Record) error {
		var m map[string]any
		if err := json.Unmarshal(r.Data, &m); err != nil {
			return fmt.Errorf("record %d: %v: %s", r.Seq, err, r.Data)
		}
		out = append(out, m)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

type bulkResp struct {
	Errors bool `json:"errors"`
	Items  []map[string]struct {
		Index  string `json:"_index"`
		ID     string `json:"_id"`
		Status int    `json:"status"`
		Result string `json:"result"`
		SeqNo  uint64 `json:"_seq_no"`
		Error  *struct {
			Type   string `json:"type"`
			Reason string `json:"reason"`
		} `json:"error"`
	} `json:"items"`
}

func TestBulkItems(t *testing.T) {
	ts := newTestServer(t, nil)
	body := `{"index":{"_index":"logs-test-default","_id":"a1"}}
{"@timestamp":"2026-01-02T03:04:05Z","event":{"category":["process"],"ingested":"old"},"host":{"name":"h1"}}
{"create":{"_id":"a2"}}
{"message":"hello","event.ingested":"old"}
{"index":{}}
{"message": "broken", 
{"index":{"_id":"a4"}}
{"_id":"inside","message":"metadata field"}
{"index":{"_index":"Bad*Index"}}
{"message":"bad index"}
{"delete":{"_id":"a1"}}
{"update":{"_id":"a1"}}
{"doc":{"x":1}}
{"index":{"_id":7}}
{"message":"numeric id","event":"not an object"}

{"index":{}}
[1,2]
`
	code, hdr, out := ts.do(t, "POST", "/logs-url-default/_bulk", body)
	if code != 200 {
		t.Fatalf("status %d: %s", code, out)
	}
	if hdr.Get("X-Elastic-Product") != "Elasticsearch" {
		t.Errorf("no product header")
	}
	var br bulkResp
	if err := json.Unmarshal(out, &br); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	want := []struct {
		op     string
		status int
		etype  string
	}{
		{"index", 201, ""}, {"create", 201, ""}, {"index", 400, "document_parsing_exception"},
		{"index", 400, "document_parsing_exception"}, {"index", 400, "invalid_index_name_exception"},
		{"delete", 400, "illegal_argument_exception"}, {"update", 400, "illegal_argument_exception"},
		{"index", 201, ""}, {"index", 400, "document_parsing_exception"},
	}
	if !br.Errors || len(br.Items) != len(want) {
		t.Fatalf("errors=%v, %d items, want %d: %s", br.Errors, len(br.Items), len(want), out)
	}
	for i, w := range want {
		got, ok := br.Items[i][w.op]
		if !ok {
			t.Errorf("item %d: no %q: %v", i, w.op, br.Items[i])
			continue
		}
		if got.Status != w.status {
			t.Errorf("item %d: status %d, want %d (%+v)", i, got.Status, w.status, got.Error)
		}
		if w.etype != "" && (got.Error == nil || got.Error.Type != w.etype) {
			t.Errorf("item %d: error %+v, want %s", i, got.Error, w.etype)
		}
	}
	if e := br.Items[2]["index"].Error; e == nil || !strings.HasPrefix(e.Reason, "[6:23]") {
		t.Errorf("malformed source not positioned at line 6: %+v", e)
	}
	recs := recordsOf(t, ts.log)
	if len(recs) != 3 {
		t.Fatalf("%d records stored, want 3: %v", len(recs), recs)
	}
	r0 := recs[0]
	if r0["_index"] != "logs-test-default" || r0["_id"] != "a1" {
		t.Errorf("record 0 metadata: %v", r0)
	}
	ev := r0["event"].(map[string]any)
	if ev["ingested"] == "old" || ev["category"] == nil {
		t.Errorf("event.ingested not replaced or event lost: %v", ev)
	}
	if _, err := time.Parse(time.RFC3339Nano, ev["ingested"].(string)); err != nil {
		t.Errorf("event.ingested: %v", err)
	}
	if recs[1]["_index"] != "logs-url-default" || recs[1]["event.ingested"] == "old" || recs[1]["message"] != "hello" {
		t.Errorf("record 1: %v", recs[1])
	}
	if recs[2]["_id"] != "7" || recs[2]["event"] != "not an object" {
		t.Errorf("record 2: %v", recs[2])
	}
}

// Requests ES rejects as a whole: nothing of them is stored.
func TestBulkRequestErrors(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.MaxBody = 1 << 10 })
	cases := []struct {
		name, path, body string
		status           int
		etype, reason    string
	}{
		{"unknown action", "/_bulk", "{\"index\":{\"_index\":\"a\"}}\n{}\n{\"upsert\":{\"_index\":\"a\"}}\n{}\n", 400, "illegal_argument_exception", "expected one of [create, delete, index, update] but found [upsert]"},
		{"malformed action", "/_bulk", "{\"index\":{\"_index\":\"a\"}}\n{}\n{\"index\":\n{}\n", 400, "x_content_parse_exception", "Malformed action/metadata line [3]"},
		{"missing index", "/_bulk", "{\"index\":{}}\n{}\n", 400, "action_request_validation_exception", "index is missing"},
		{"no source line", "/_bulk", "{\"index\":{\"_index\":\"a\"}}\n", 400, "illegal_argument_exception", "has no source line"},
		{"empty", "/_bulk", "", 400, "action_request_validation_exception", "request body is required"},
		{"unknown parameter", "/a/_bulk", "{\"index\":{\"_idx\":\"a\"}}\n{}\n", 400, "illegal_argument_exception", "unknown parameter [_idx]"},
		{"oversized body", "/_bulk", strings.Repeat("{\"index\":{\"_index\":\"a\"}}\n{}\n", 100), 413, "content_too_long_exception", "over the limit"},
		{"not gzip", "/_bulk", "{}", 400, "x_content_parse_exception", "gzip"},
	}
	for _, c := range cases {
		var hdr []string
		if c.name == "not gzip" {
			hdr = []string{"Content-Encoding", "gzip"}
		}
		code, _, out := ts.do(t, "POST", c.path, c.body, hdr...)
		if code != c.status {
			t.Errorf("%s: status %d, want %d: %s", c.name, code, c.status, out)
			continue
		}
		var e struct {
			Error struct {
				RootCause []struct{ Type string } `json:"root_cause"`
				Type      string
				Reason    string
			}
			Status int
		}
		if err := json.Unmarshal(out, &e); err != nil {
			t.Errorf("%s: %v: %s", c.name, err, out)
			continue
		}
		if e.Status != c.status || e.Error.Type != c.etype || len(e.Error.RootCause) != 1 || !strings.Contains(e.Error.Reason, c.reason) {
			t.Errorf("%s: got %s", c.name, out)
		}
	}
	if n := len(recordsOf(t, ts.log)); n != 0 {
		t.Errorf("%d records stored by rejected requests", n)
	}
}

func TestAuth(t *testing.T) {
	dir := t.TempDir()
	key, _, err := CreateAPIKey(dir, "shipper")
	if err != nil {
		t.Fatal(err)
	}
	ks, err := NewKeyStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	ts := newTestServer(t, func(c *Config) { c.Keys, c.RequireKeys = ks, true })
	body := "{\"index\":{\"_index\":\"a\"}}\n{\"x\":1}\n"
	for _, h := range [][]string{nil, {"Authorization", "ApiKey bm9wZTpub3Bl"}, {"Authorization", "ApiKey " + key[:len(key)-4] + "AAAA"}, {"Authorization", "Bearer x"}} {
		code, hdr, out := ts.do(t, "POST", "/_bulk", body, h...)
		if code != 401 || !strings.Contains(string(out), `"type":"security_exception"`) || hdr.Get("WWW-Authenticate") == "" {
			t.Errorf("auth %v: %d %s", h, code, out)
		}
	}
	for _, p := range []string{"/", "/metrics", "/_cluster/health", "/api/x"} {
		if code, _, _ := ts.do(t, "GET", p, ""); code != 401 {
			t.Errorf("GET %s without a key: %d", p, code)
		}
	}
	if code, _, _ := ts.do(t, "GET", "/healthz", ""); code != 200 {
		t.Errorf("/healthz: %d", code)
	}
	if n := len(recordsOf(t, ts.log)); n != 0 {
		t.Fatalf("%d records stored without auth", n)
	}
	if code, _, out := ts.do(t, "POST", "/_bulk", body, "Authorization", "ApiKey "+key); code != 200 || strings.Contains(string(out), `"errors":true`) {
		t.Errorf("with key: %d %s", code, out)
	}
	// Basic: key id as user, secret as password (the same base64 payload).
	if code, _, out := ts.do(t, "POST", "/_bulk", body, "Authorization", "Basic "+key); code != 200 {
		t.Errorf("basic: %d %s", code, out)
	}
	// A key created while the server runs is accepted (the file is re-read).
	time.Sleep(1100 * time.Millisecond)
	key2, _, err := CreateAPIKey(dir, "second")
	if err != nil {
		t.Fatal(err)
	}
	if code, _, out := ts.do(t, "POST", "/_bulk", body, "Authorization", "ApiKey "+key2); code != 200 {
		t.Errorf("new key: %d %s", code, out)
	}
	if n := len(recordsOf(t, ts.log)); n != 3 {
		t.Fatalf("%d records, want 3", n)
	}
	data, _ := readKeys(dir + "/" + KeysFile)
	if len(data) != 2 || bytes.Contains(mustJSON(data), []byte(key)) {
		t.Errorf("key file holds the key itself or wrong count: %v", data)
	}
}

func mustJSON(v any) []byte { b, _ := json.Marshal(v); return b }

func TestDedupe(t *testing.T) {
	ts := newTestServer(t, nil)
	body := "{\"index\":{\"_index\":\"a\",\"_id\":\"x1\"}}\n{\"n\":1}\n{\"create\":{\"_index\":\"a\",\"_id\":\"x2\"}}\n{\"n\":2}\n{\"index\":{\"_index\":\"b\",\"_id\":\"x1\"}}\n{\"n\":3}\n"
	_, _, out := ts.do(t, "POST", "/_bulk", body)
	var first, second bulkResp
	json.Unmarshal(out, &first)
	_, _, out = ts.do(t, "POST", "/_bulk", body)
	json.Unmarshal(out, &second)
	if first.Errors || len(first.Items) != 3 {
		t.Fatalf("first: %+v", first)
	}
	if s := second.Items[0]["index"]; s.Status != 200 || s.Result != "noop" || s.SeqNo != first.Items[0]["index"].SeqNo {
		t.Errorf("retried index: %+v", s)
	}
	if s := second.Items[1]["create"]; s.Status != 409 || s.Error == nil || s.Error.Type != "version_conflict_engine_exception" {
		t.Errorf("retried create: %+v", s)
	}
	if s := second.Items[2]["index"]; s.Status != 200 {
		t.Errorf("retried index b: %+v", s)
	}
	if n := len(recordsOf(t, ts.log)); n != 3 {
		t.Errorf("%d records, want 3 (same id in another index is another document)", n)
	}
}

func TestSingleDocAndSetup(t *testing.T) {
	ts := newTestServer(t, nil)
	code, _, out := ts.do(t, "GET", "/", "")
	if code != 200 || !strings.Contains(string(out), `"number":"8.`) {
		t.Fatalf("GET /: %d %s", code, out)
	}
	if code, _, _ := ts.do(t, "HEAD", "/", ""); code != 200 {
		t.Errorf("HEAD /: %d", code)
	}
	for _, p := range []string{"/_cluster/health", "/_license", "/_xpack"} {
		if code, _, out := ts.do(t, "GET", p, ""); code != 200 || !json.Valid(out) {
			t.Errorf("GET %s: %d %s", p, code, out)
		}
	}
	code, hdr, out := ts.do(t, "POST", "/logs-a/_doc", `{"m":1}`)
	if code != 201 || hdr.Get("Location") == "" || !strings.Contains(string(out), `"result":"created"`) {
		t.Errorf("POST _doc: %d %s", code, out)
	}
	if code, _, out := ts.do(t, "PUT", "/logs-a/_doc/d1", `{"m":2}`); code != 201 {
		t.Errorf("PUT _doc/id: %d %s", code, out)
	}
	if code, _, out := ts.do(t, "PUT", "/logs-a/_create/d1", `{"m":2}`); code != 409 || !strings.Contains(string(out), "version_conflict_engine_exception") {
		t.Errorf("_create of an existing id: %d %s", code, out)
	}
	if code, _, out := ts.do(t, "PUT", "/logs-a/_doc", `{"m":2}`); code != 400 && code != 405 {
		t.Errorf("PUT _doc without id: %d %s", code, out)
	}
	if code, _, out := ts.do(t, "POST", "/logs-a/_doc", `{"m":`); code != 400 || !strings.Contains(string(out), "document_parsing_exception") {
		t.Errorf("malformed doc: %d %s", code, out)
	}
	if n := len(recordsOf(t, ts.log)); n != 2 {
		t.Errorf("%d records, want 2", n)
	}
	// Set-up calls: absent, created, then found (also after a restart of the store).
	if code, _, _ := ts.do(t, "HEAD", "/_index_template/vigil-x", ""); code != 404 {
		t.Errorf("HEAD missing template: %d", code)
	}
	if code, _, out := ts.do(t, "GET", "/_ilm/policy/p1", ""); code != 404 || !strings.Contains(string(out), "resource_not_found_exception") {
		t.Errorf("GET missing policy: %d %s", code, out)
	}
	ts.do(t, "PUT", "/_index_template/vigil-x", `{"index_patterns":["x-*"]}`)
	ts.do(t, "PUT", "/_ilm/policy/p1", `{"policy":{"phases":{}}}`)
	ts.do(t, "PUT", "/_ingest/pipeline/pl", `{"processors":[]}`)
	if code, _, _ := ts.do(t, "HEAD", "/_index_template/vigil-x", ""); code != 200 {
		t.Errorf("HEAD template after PUT: %d", code)
	}
	if code, _, out := ts.do(t, "GET", "/_ilm/policy/p1", ""); code != 200 || !strings.Contains(string(out), `"phases"`) {
		t.Errorf("GET policy: %d %s", code, out)
	}
	if st := newSetupStore(ts.dir + "/setup"); st == nil {
		t.Fatal("no store")
	} else if _, ok := st.get("ingest_pipeline", "pl"); !ok {
		t.Errorf("pipeline not recorded on disk")
	}
	if code, _, out := ts.do(t, "GET", "/_no_such_thing", ""); code != 400 || !strings.Contains(string(out), "no handler found") {
		t.Errorf("unknown endpoint: %d %s", code, out)
	}
	code, _, out = ts.do(t, "GET", "/metrics", "")
	if code != 200 || !strings.Contains(string(out), "vigil_ingest_events_total 2") || !strings.Contains(string(out), "vigil_log_lag_events") {
		t.Errorf("metrics: %d\n%s", code, out)
	}
}

func TestBackPressure(t *testing.T) {
	lag := uint64(0)
	ts := newTestServer(t, func(c *Config) {
		c.MaxInflight = 4 << 10
		c.Lag = func() uint64 { return lag }
		c.MaxLag = 100
	})
	small := "{\"index\":{\"_index\":\"a\"}}\n{}\n"
	big := strings.Repeat("{\"index\":{\"_index\":\"a\"}}\n{\"pad\":\""+strings.Repeat("x", 100)+"\"}\n", 40)
	code, hdr, out := ts.do(t, "POST", "/_bulk", big)
	if code != 429 || hdr.Get("Retry-After") == "" || !strings.Contains(string(out), "es_rejected_execution_exception") {
		t.Errorf("over the in-flight budget: %d %v %s", code, hdr, out)
	}
	if code, _, _ := ts.do(t, "POST", "/_bulk", small); code != 200 {
		t.Errorf("small request: %d", code)
	}
	lag = 1000
	if code, hdr, _ := ts.do(t, "POST", "/_bulk", small); code != 429 || hdr.Get("Retry-After") == "" {
		t.Errorf("lagging: %d", code)
	}
	if n := len(recordsOf(t, ts.log)); n != 1 {
		t.Errorf("%d records, want 1", n)
	}
	if ts.srv.inflight.Load() != 0 {
		t.Errorf("in-flight bytes not released: %d", ts.srv.inflight.Load())
	}
}

func newUnusedListener(t testing.TB) net.Listener {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// With BatchAutoIDs, auto-id documents share log messages; readers still
// see every event once, in order, and documents with ids keep their own
// message (their dedup id).
func TestBatchAutoIDs(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.BatchAutoIDs = true })
	var body strings.Builder
	const n = 2500
	for i := 0; i < n; i++ {
		if i%700 == 0 {
			fmt.Fprintf(&body, "{\"index\":{\"_index\":\"a\",\"_id\":\"own-%d\"}}\n{\"n\":%d}\n", i, i)
		} else {
			fmt.Fprintf(&body, "{\"create\":{\"_index\":\"a\"}}\n{\"n\":%d}\n", i)
		}
	}
	code, _, out := ts.do(t, "POST", "/_bulk", body.String())
	var br bulkResp
	if err := json.Unmarshal(out, &br); code != 200 || err != nil || br.Errors || len(br.Items) != n {
		t.Fatalf("%d %v errors=%v items=%d", code, err, br.Errors, len(br.Items))
	}
	recs := recordsOf(t, ts.log)
	if len(recs) != n {
		t.Fatalf("%d records, want %d", len(recs), n)
	}
	ids := map[string]bool{}
	for i, r := range recs {
		if r["n"] != float64(i) {
			t.Fatalf("record %d is event %v", i, r["n"])
		}
		id := r["_id"].(string)
		if ids[id] {
			t.Fatalf("id %s twice", id)
		}
		ids[id] = true
		var item string
		for _, v := range br.Items[i] {
			item = v.ID
		}
		if item != id {
			t.Fatalf("item %d answered id %s, stored %s", i, item, id)
		}
	}
	if msgs := ts.log.LastSeq(); msgs >= n/10 {
		t.Errorf("%d messages for %d events: not batched", msgs, n)
	}
	// A retried document with an id is still deduplicated.
	_, _, out = ts.do(t, "POST", "/_bulk", "{\"index\":{\"_index\":\"a\",\"_id\":\"own-700\"}}\n{\"n\":700}\n")
	if !strings.Contains(string(out), `"status":200`) {
		t.Errorf("retry: %s", out)
	}
}

// Beats and Elastic Agent compress bulk bodies; the body limit applies to
// the decompressed size.
func TestGzipBody(t *testing.T) {
	ts := newTestServer(t, func(c *Config) { c.MaxBody = 64 << 10 })
	gz := func(s string) string {
		var b bytes.Buffer
		w := gzip.NewWriter(&b)
		io.WriteString(w, s)
		w.Close()
		return b.String()
	}
	body := "{\"create\":{\"_index\":\"logs-beat-default\"}}\n{\"message\":\"compressed\"}\n"
	code, _, out := ts.do(t, "POST", "/_bulk?filter_path=errors,items.*.error,items.*.status", gz(body), "Content-Encoding", "gzip")
	if code != 200 || !strings.Contains(string(out), `"errors":false`) {
		t.Fatalf("gzip bulk: %d %s", code, out)
	}
	// 200 KiB of zeros compresses to a few hundred bytes: still too large.
	big := "{\"create\":{\"_index\":\"a\"}}\n{\"pad\":\"" + strings.Repeat("0", 200<<10) + "\"}\n"
	code, _, out = ts.do(t, "POST", "/_bulk", gz(big), "Content-Encoding", "gzip")
	if code != 413 || !strings.Contains(string(out), "content_too_long_exception") {
		t.Errorf("gzip bomb: %d %s", code, out)
	}
	recs := recordsOf(t, ts.log)
	if len(recs) != 1 || recs[0]["message"] != "compressed" {
		t.Errorf("records: %v", recs)
	}
}
