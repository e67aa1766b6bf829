// Package compat_test checks vigil serve against real Elasticsearch
// clients and shippers. It is its own package so that the server's own
// test binary (and its fuzzing) does not carry the clients' large code.
package compat_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/elastic/go-elasticsearch/v8"
	"github.com/elastic/go-elasticsearch/v8/esutil"
	"github.com/opensearch-project/opensearch-go/v4"
	"github.com/opensearch-project/opensearch-go/v4/opensearchapi"

	"github.com/vigilsec/vigil/server"
	"github.com/vigilsec/vigil/store/eventlog"
)

// testServer is a server on a fresh embedded log, on a loopback port.
type testServer struct {
	*httptest.Server
	log *eventlog.Log
}

func newTestServer(t *testing.T) *testServer {
	t.Helper()
	lg, err := eventlog.Open(context.Background(), eventlog.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(server.Config{Log: lg})
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{Server: httptest.NewServer(srv), log: lg}
	t.Cleanup(func() {
		ts.Close()
		lg.Close()
	})
	return ts
}

// records reads the whole log.
func records(t *testing.T, ts *testServer) []map[string]any {
	t.Helper()
	var out []map[string]any
	err := ts.log.ReadAll(context.Background(), func(r eventlog.Record) error {
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

// idsIn counts the log's records by _id.
func idsIn(t *testing.T, ts *testServer) map[string]int {
	t.Helper()
	ids := map[string]int{}
	for _, r := range records(t, ts) {
		id, _ := r["_id"].(string)
		ids[id]++
	}
	return ids
}

// The official Go client's BulkIndexer ships events; every one arrives
// once, by id.
func TestGoElasticsearchBulkIndexer(t *testing.T) {
	ts := newTestServer(t)
	es, err := elasticsearch.NewClient(elasticsearch.Config{Addresses: []string{ts.URL}})
	if err != nil {
		t.Fatal(err)
	}
	info, err := es.Info()
	if err != nil {
		t.Fatalf("Info (the client's product check): %v", err)
	}
	info.Body.Close()
	bi, err := esutil.NewBulkIndexer(esutil.BulkIndexerConfig{Client: es, Index: "logs-gotest-default", NumWorkers: 2, FlushBytes: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	const n = 5000
	var ok, failed atomic.Int64
	for i := 0; i < n; i++ {
		doc := fmt.Sprintf(`{"@timestamp":"2026-01-01T00:00:00Z","event":{"category":["process"]},"seq":%d}`, i)
		err := bi.Add(context.Background(), esutil.BulkIndexerItem{
			Action: "index", DocumentID: fmt.Sprintf("go-%d", i), Body: strings.NewReader(doc),
			OnSuccess: func(context.Context, esutil.BulkIndexerItem, esutil.BulkIndexerResponseItem) { ok.Add(1) },
			OnFailure: func(_ context.Context, _ esutil.BulkIndexerItem, r esutil.BulkIndexerResponseItem, err error) {
				failed.Add(1)
				t.Errorf("item failed: %v %+v", err, r.Error)
			},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := bi.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	st := bi.Stats()
	if ok.Load() != n || st.NumFailed != 0 || st.NumIndexed != n {
		t.Fatalf("ok %d failed %d stats %+v", ok.Load(), failed.Load(), st)
	}
	ids := idsIn(t, ts)
	if len(ids) != n {
		t.Fatalf("%d distinct ids in the log, want %d", len(ids), n)
	}
	for i := 0; i < n; i++ {
		if c := ids[fmt.Sprintf("go-%d", i)]; c != 1 {
			t.Fatalf("id go-%d stored %d times", i, c)
		}
	}
}

// opensearch-go ships with its bulk API.
func TestOpenSearchGo(t *testing.T) {
	ts := newTestServer(t)
	client, err := opensearchapi.NewClient(opensearchapi.Config{Client: opensearch.Config{Addresses: []string{ts.URL}}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := client.Info(ctx, nil); err != nil {
		t.Fatalf("Info: %v", err)
	}
	const batches, per = 10, 300
	for b := 0; b < batches; b++ {
		var body bytes.Buffer
		for i := 0; i < per; i++ {
			fmt.Fprintf(&body, "{\"create\":{\"_index\":\"logs-os-default\",\"_id\":\"os-%d-%d\"}}\n{\"message\":\"m %d\"}\n", b, i, i)
		}
		resp, err := client.Bulk(ctx, opensearchapi.BulkReq{Body: &body})
		if err != nil {
			t.Fatal(err)
		}
		if resp.Errors || len(resp.Items) != per {
			t.Fatalf("batch %d: errors %v, %d items", b, resp.Errors, len(resp.Items))
		}
		for _, it := range resp.Items {
			for _, r := range it {
				if r.Status != http.StatusCreated {
					t.Fatalf("item %+v", r)
				}
			}
		}
	}
	// A single document too.
	if _, err := client.Index(ctx, opensearchapi.IndexReq{Index: "logs-os-default", DocumentID: "single", Body: strings.NewReader(`{"message":"one"}`)}); err != nil {
		t.Fatal(err)
	}
	ids := idsIn(t, ts)
	if len(ids) != batches*per+1 || ids["single"] != 1 {
		t.Fatalf("%d ids, want %d", len(ids), batches*per+1)
	}
	for id, c := range ids {
		if c != 1 {
			t.Fatalf("%s stored %d times", id, c)
		}
	}
}
