package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/vigilsec/vigil/rule"
	"github.com/vigilsec/vigil/schedule"
	"github.com/vigilsec/vigil/store/alerts"
	"github.com/vigilsec/vigil/store/eventlog"
)

// Rules and events here are constructed for these tests.

const evilTOML = `[metadata]
creation_date = "2026/01/01"
maturity = "production"
updated_date = "2026/01/01"

[rule]
author = ["Vigil"]
description = "Evil process started."
from = "now-9m"
index = ["logs-endpoint.events.*"]
interval = "5m"
language = "eql"
license = "Elastic License v2"
name = "Evil Process"
risk_score = 73
rule_id = "11111111-0000-0000-0000-000000000001"
severity = "high"
type = "eql"
version = 1
query = '''
process where process.name == "evil.exe"
'''
`

const otherNDJSON = `{"id":"so-2","rule_id":"22222222-0000-0000-0000-000000000002","name":"Whoami","type":"eql","language":"eql","query":"process where process.name == \"whoami.exe\"","severity":"low","risk_score":21,"description":"d","version":2,"enabled":true,"index":["logs-endpoint.events.*"],"interval":"5m","from":"now-6m"}
{"exported_count":1,"exported_rules_count":1,"missing_rules":[],"missing_rules_count":0}
`

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

type memLog struct {
	mu  sync.Mutex
	evs []schedule.Event
}

func (m *memLog) Scan(ctx context.Context, from, to time.Time, fn func(schedule.Event) error) error {
	m.mu.Lock()
	evs := append([]schedule.Event(nil), m.evs...)
	m.mu.Unlock()
	for _, e := range evs {
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}

var t0 = time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)

type env struct {
	t     *testing.T
	dir   string
	clk   *clock
	store *alerts.Store
	sched *schedule.Scheduler
	rules *FileRules
	log   *memLog
	srv   *httptest.Server
}

// newEnv wires the API as the server does: the alert store, the rule
// registry feeding the scheduler, the scheduler as the runner.
func newEnv(t *testing.T, dir string) *env {
	e := &env{t: t, dir: dir, clk: &clock{t: t0}, log: &memLog{}}
	var err error
	if e.store, err = alerts.OpenDir(dir); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.store.Close() })
	e.sched, _ = schedule.New(nil, schedule.Options{Clock: e.clk, Store: e.store, Events: e.log})
	e.rules, err = OpenFileRules(filepath.Join(dir, RulesFile), nil, e.sched.SetRules)
	if err != nil {
		t.Fatal(err)
	}
	e.sched.SetRules(e.rules.List())
	h := New(Options{Alerts: e.store, Rules: e.rules, Runner: e.sched, Now: e.clk.Now})
	e.srv = httptest.NewServer(h)
	t.Cleanup(e.srv.Close)
	return e
}

func (e *env) do(method, path, ctype, body string) (int, map[string]any) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	req.SetBasicAuth("alice", "pw")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		e.t.Fatalf("%s %s: %d, not JSON: %s", method, path, resp.StatusCode, b)
	}
	return resp.StatusCode, m
}

func (e *env) feed(id string, ts time.Time, name, host string) {
	doc := map[string]any{
		"@timestamp":  ts.Format(time.RFC3339Nano),
		"data_stream": map[string]any{"dataset": "endpoint.events.process", "namespace": "default", "type": "logs"},
		"event":       map[string]any{"category": []string{"process"}, "type": []string{"start"}},
		"host":        map[string]any{"name": host},
		"process":     map[string]any{"name": name},
	}
	b, _ := json.Marshal(doc)
	ev := schedule.Event{Line: b, ID: id}
	e.log.mu.Lock()
	e.log.evs = append(e.log.evs, ev)
	e.log.mu.Unlock()
	if err := e.sched.Feed(ev); err != nil {
		e.t.Fatal(err)
	}
}

func TestAPI(t *testing.T) {
	dir := t.TempDir()
	e := newEnv(t, dir)

	// Upload: TOML, then NDJSON; a bad upload is refused with positions.
	code, m := e.do("POST", "/api/rules", "application/toml", evilTOML)
	if code != 200 || fmt.Sprint(m["rules"]) != "[11111111-0000-0000-0000-000000000001]" {
		t.Fatalf("TOML upload: %d %v", code, m)
	}
	code, m = e.do("POST", "/api/rules?format=ndjson", "", otherNDJSON)
	if code != 200 {
		t.Fatalf("NDJSON upload: %d %v", code, m)
	}
	code, m = e.do("POST", "/api/rules", "application/toml", strings.Replace(evilTOML, `process.name == "evil.exe"`, `process.name == `, 1))
	if code != 400 || !strings.Contains(fmt.Sprint(m["errors"]), "upload.toml:") {
		t.Fatalf("bad upload: %d %v", code, m)
	}
	// Kibana's import form: multipart with the file.
	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	fw, _ := mw.CreateFormFile("file", "rules.ndjson")
	fw.Write([]byte(otherNDJSON))
	mw.Close()
	code, m = e.do("POST", "/api/rules", mw.FormDataContentType(), mp.String())
	if code != 200 || fmt.Sprint(m["rules"]) != "[22222222-0000-0000-0000-000000000002]" {
		t.Fatalf("multipart upload: %d %v", code, m)
	}
	code, m = e.do("GET", "/api/rules", "", "")
	if code != 200 || m["total"] != float64(2) {
		t.Fatalf("rules: %d %v", code, m)
	}

	// Alerts come from events the scheduler evaluates.
	e.sched.Tick(context.Background())
	e.feed("e1", t0.Add(time.Minute), "evil.exe", "ws-1")
	e.feed("e2", t0.Add(2*time.Minute), "evil.exe", "ws-2")
	e.feed("e3", t0.Add(3*time.Minute), "whoami.exe", "ws-1")
	e.feed("e4", t0.Add(3*time.Minute), "calc.exe", "ws-1")
	e.clk.set(t0.Add(5 * time.Minute))
	e.sched.Tick(context.Background())

	cases := []struct {
		q     string
		total int
	}{
		{"", 3},
		{"?rule_id=11111111-0000-0000-0000-000000000001", 2},
		{"?severity=low", 1},
		{"?host=ws-1", 2},
		{"?host=ws-1&severity=high", 1},
		{"?status=open", 3},
		{"?from=2026-03-02T12:01:30Z", 2},
		{"?from=2026-03-02T12:00:00Z&to=2026-03-02T12:02:00Z", 2},
		{"?to=now-3m", 2}, // now is 12:05
	}
	for _, c := range cases {
		code, m := e.do("GET", "/api/alerts"+c.q, "", "")
		if code != 200 || m["total"] != float64(c.total) || len(m["alerts"].([]any)) != c.total {
			t.Errorf("%s: %d total %v (%d alerts), want %d", c.q, code, m["total"], len(m["alerts"].([]any)), c.total)
		}
	}
	code, m = e.do("GET", "/api/alerts?size=2&page=2", "", "")
	if code != 200 || m["total"] != float64(3) || len(m["alerts"].([]any)) != 1 {
		t.Fatalf("paging: %v", m)
	}
	for _, bad := range []string{"?size=0", "?page=x", "?status=done", "?from=yesterday", "?colour=red", "?building_blocks=maybe"} {
		if code, _ := e.do("GET", "/api/alerts"+bad, "", ""); code != 400 {
			t.Errorf("%s: %d, want 400", bad, code)
		}
	}

	// One alert, its status.
	_, m = e.do("GET", "/api/alerts?severity=low", "", "")
	doc := m["alerts"].([]any)[0].(map[string]any)
	id := doc["kibana.alert.uuid"].(string)
	if doc["kibana.alert.rule.name"] != "Whoami" || doc["host"].(map[string]any)["name"] != "ws-1" {
		t.Fatalf("alert document: %v", doc)
	}
	code, m = e.do("GET", "/api/alerts/"+id, "", "")
	if code != 200 || m["kibana.alert.uuid"] != id {
		t.Fatalf("get: %d %v", code, m)
	}
	if code, _ := e.do("GET", "/api/alerts/nope", "", ""); code != 404 {
		t.Fatalf("unknown alert: %d", code)
	}
	code, m = e.do("PATCH", "/api/alerts/"+id, "application/json", `{"status":"acknowledged"}`)
	if code != 200 || m["kibana.alert.workflow_status"] != "acknowledged" || m["kibana.alert.workflow_user"] != "alice" {
		t.Fatalf("patch: %d %v", code, m)
	}
	if code, _ := e.do("PATCH", "/api/alerts/"+id, "application/json", `{"status":"gone"}`); code != 400 {
		t.Fatalf("bad status: %d", code)
	}
	if code, _ := e.do("PATCH", "/api/alerts/nope", "application/json", `{"status":"closed"}`); code != 404 {
		t.Fatalf("unknown alert patch: %d", code)
	}
	if _, m := e.do("GET", "/api/alerts?status=acknowledged", "", ""); m["total"] != float64(1) {
		t.Fatalf("acknowledged: %v", m)
	}

	// Executions.
	code, m = e.do("GET", "/api/rules/11111111-0000-0000-0000-000000000001/executions", "", "")
	if code != 200 || m["total"] != float64(2) {
		t.Fatalf("executions: %d %v", code, m)
	}
	last := m["executions"].([]any)[0].(map[string]any)
	if last["groups_created"] != float64(2) || last["status"] != "succeeded" {
		t.Fatalf("last execution %v", last)
	}
	if code, _ := e.do("GET", "/api/rules/nope/executions", "", ""); code != 404 {
		t.Fatal("unknown rule executions")
	}

	// Manual run over a covered range: no duplicates.
	code, m = e.do("POST", "/api/rules/11111111-0000-0000-0000-000000000001/_run", "application/json", `{"from":"now-30m","to":"now"}`)
	if code != 200 {
		t.Fatalf("_run: %d %v", code, m)
	}
	created, dups := 0.0, 0.0
	for _, x := range m["executions"].([]any) {
		created += x.(map[string]any)["groups_created"].(float64)
		dups += x.(map[string]any)["duplicates"].(float64)
	}
	if created != 0 || dups != 2 {
		t.Fatalf("manual run: created %v duplicates %v", created, dups)
	}
	if code, _ := e.do("POST", "/api/rules/11111111-0000-0000-0000-000000000001/_run", "application/json", `{"from":"now","to":"now-1h"}`); code != 400 {
		t.Fatal("reversed range accepted")
	}

	// Disable: the scheduler stops running the rule; persisted.
	code, m = e.do("PATCH", "/api/rules/11111111-0000-0000-0000-000000000001", "application/json", `{"enabled":false}`)
	if code != 200 || m["enabled"] != false {
		t.Fatalf("disable: %d %v", code, m)
	}
	e.feed("e5", t0.Add(6*time.Minute), "evil.exe", "ws-9")
	if _, m := e.do("GET", "/api/alerts?host=ws-9", "", ""); m["total"] != float64(0) {
		t.Fatalf("disabled rule alerted: %v", m)
	}
	if code, _ := e.do("PATCH", "/api/rules/nope", "application/json", `{"enabled":true}`); code != 404 {
		t.Fatal("unknown rule patch")
	}
	if code, _ := e.do("PATCH", "/api/rules/so-2", "application/json", `{"on":true}`); code != 400 {
		t.Fatal("bad patch body")
	}

	// A restart reads the stored rules back, the disabled state included.
	e2 := newEnv(t, dir)
	_, m = e2.do("GET", "/api/rules", "", "")
	enabledByID := map[string]any{}
	for _, r := range m["rules"].([]any) {
		rm := r.(map[string]any)
		enabledByID[rm["rule_id"].(string)] = rm["enabled"]
	}
	if enabledByID["11111111-0000-0000-0000-000000000001"] != false || len(enabledByID) != 2 {
		t.Fatalf("after restart: %v", enabledByID)
	}
	// Paths without the /api prefix (a server that strips it) work too.
	if code, _ := e2.do("GET", "/alerts?size=1", "", ""); code != 200 {
		t.Fatalf("stripped prefix: %d", code)
	}
}

func TestWebhookRetries(t *testing.T) {
	var calls atomic.Int32
	var got WebhookBody
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		if n <= 2 {
			w.WriteHeader(503)
			return
		}
		json.NewDecoder(r.Body).Decode(&got)
		w.WriteHeader(200)
	}))
	defer hook.Close()
	r := &rule.Rule{RuleID: "r1", Name: "R", Severity: "high"}
	n := schedule.Notification{Rule: r, Alerts: []*alerts.Alert{{UUID: "a", Doc: []byte(`{"kibana.alert.uuid":"a"}`)}}}
	w := &Webhook{URL: hook.URL, Backoff: time.Millisecond}
	if err := w.Send(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 3 || got.Rule.RuleID != "r1" || len(got.Alerts) != 1 {
		t.Fatalf("calls %d, body %+v", calls.Load(), got)
	}
	// 4xx is permanent.
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { calls.Add(1); w.WriteHeader(400) }))
	defer bad.Close()
	calls.Store(0)
	if err := (&Webhook{URL: bad.URL, Backoff: time.Millisecond}).Send(context.Background(), n); err == nil || calls.Load() != 1 {
		t.Fatalf("400: %v after %d calls", err, calls.Load())
	}
	// Retries run out.
	calls.Store(0)
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { calls.Add(1); w.WriteHeader(500) }))
	defer down.Close()
	if err := (&Webhook{URL: down.URL, Retries: 2, Backoff: time.Millisecond}).Send(context.Background(), n); err == nil || calls.Load() != 3 {
		t.Fatalf("500: %v after %d calls", err, calls.Load())
	}
}

type fakePub struct {
	mu   sync.Mutex
	subs []string
}

func (p *fakePub) Publish(ctx context.Context, subject, msgID string, data []byte) error {
	p.mu.Lock()
	p.subs = append(p.subs, subject)
	p.mu.Unlock()
	return nil
}

func TestNotifier(t *testing.T) {
	var posts atomic.Int32
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { posts.Add(1) }))
	defer hook.Close()
	pub := &fakePub{}
	nt := NewNotifier(pub, map[string]*Webhook{"r.1": {URL: hook.URL}}, 2, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := &rule.Rule{RuleID: "r.1"}
	a := []*alerts.Alert{{UUID: "x", Doc: []byte(`{}`)}}
	nt.Notify(schedule.Notification{Rule: r, Alerts: a})
	nt.Notify(schedule.Notification{Rule: r, Alerts: a, Manual: true})
	nt.Notify(schedule.Notification{Rule: r, Alerts: a}) // queue of 2: counted as dropped
	if nt.Dropped.Load() != 1 {
		t.Fatalf("dropped %d", nt.Dropped.Load())
	}
	go nt.Run(ctx)
	deadline := time.Now().Add(5 * time.Second)
	for nt.Published.Load() < 2 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if nt.Published.Load() != 2 || posts.Load() != 1 {
		t.Fatalf("published %d, posted %d (manual runs post nothing)", nt.Published.Load(), posts.Load())
	}
	if pub.subs[0] != "vigil.alerts.r_1" || Subject("") != "vigil.alerts._" || Subject("a b*>é") != "vigil.alerts.a_b____" {
		t.Fatalf("subject %s", pub.subs[0])
	}
}

func TestWebhooksFromRules(t *testing.T) {
	export := `{"id":"so-1","rule_id":"r-1","name":"R","type":"eql","language":"eql","query":"process where true","severity":"low","risk_score":21,"description":"d","version":1,"actions":[{"id":"conn-1","group":"default","action_type_id":".webhook","params":{}}]}
{"id":"conn-1","type":"action","attributes":{"actionTypeId":".webhook","name":"SOC hook","config":{"url":"https://soc.example/hook","method":"post","headers":{"X-Token":"t"}}}}
{"exported_count":2,"exported_rules_count":1,"missing_rules":[],"missing_rules_count":0,"exported_action_connector_count":1}
`
	rules, errs := rule.LoadBytes("x.ndjson", []byte(export), rule.LoadOptions{})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	hooks := WebhooksFromRules(rules)
	w := hooks["r-1"]
	if w == nil || w.URL != "https://soc.example/hook" || w.Method != "POST" || w.Headers["X-Token"] != "t" {
		t.Fatalf("%+v", hooks)
	}
}

func TestParseTime(t *testing.T) {
	now := t0
	for in, want := range map[string]time.Time{
		"now":                         now,
		"now-1h":                      now.Add(-time.Hour),
		"2026-03-01T10:00:00Z":        time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC),
		"2026-03-01":                  time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC),
		"1772445600000":               time.UnixMilli(1772445600000),
		"2026-03-01T10:00:00.5+01:00": time.Date(2026, 3, 1, 9, 0, 0, 5e8, time.UTC),
	} {
		got, err := ParseTime(in, now)
		if err != nil || !got.Equal(want) {
			t.Errorf("%s: %v %v, want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "yesterday", "now-", "now-5y", "2026-13-01"} {
		if _, err := ParseTime(bad, now); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestJetStreamPublisher(t *testing.T) {
	ctx := context.Background()
	lg, err := eventlog.Open(ctx, eventlog.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer lg.Close()
	js := lg.JetStream()
	st, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{Name: "ALERTS_TEST", Subjects: []string{"vigil.alerts.>"}, Duplicates: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	p := JetStreamPublisher{JS: js}
	for i := 0; i < 2; i++ { // the same alert twice: stored once
		if err := p.Publish(ctx, Subject("r-1"), "uuid-1", []byte(`{"kibana.alert.uuid":"uuid-1"}`)); err != nil {
			t.Fatal(err)
		}
	}
	info, err := st.Info(ctx)
	if err != nil || info.State.Msgs != 1 {
		t.Fatalf("%d messages, %v", info.State.Msgs, err)
	}
	m, err := st.GetLastMsgForSubject(ctx, "vigil.alerts.r-1")
	if err != nil || string(m.Data) != `{"kibana.alert.uuid":"uuid-1"}` {
		t.Fatalf("%v %v", m, err)
	}
}

// TestService: the wiring vigil serve uses, over a real event log: events
// handed to the scheduler's consumer become alerts visible through the
// API and published; a restart of the service creates no duplicates.
func TestService(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	lg, err := eventlog.Open(ctx, eventlog.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer lg.Close()
	if _, err := lg.JetStream().CreateOrUpdateStream(ctx, jetstream.StreamConfig{Name: "ALERTS_TEST", Subjects: []string{"vigil.alerts.>"}}); err != nil {
		t.Fatal(err)
	}
	rules, lerrs := rule.LoadBytes("evil.toml", []byte(evilTOML), rule.LoadOptions{})
	if len(lerrs) > 0 {
		t.Fatal(lerrs)
	}
	start := func() *Service {
		svc, warns, err := Start(ctx, ServiceConfig{DataDir: dir, Rules: rules, Log: lg, Publish: true, Tick: 10 * time.Millisecond})
		if err != nil || len(warns) > 0 {
			t.Fatal(err, warns)
		}
		return svc
	}
	svc := start()
	now := time.Now().UTC()
	var batch []eventlog.Record
	for i, name := range []string{"evil.exe", "calc.exe", "evil.exe"} {
		batch = append(batch, eventlog.Record{Seq: uint64(i + 1), Data: []byte(fmt.Sprintf(
			`{"_index":"logs-endpoint.events.process-default","_id":"d%d","@timestamp":%q,"event":{"category":["process"],"type":["start"]},"host":{"name":"h"},"process":{"name":%q}}`,
			i, now.Format(time.RFC3339Nano), name))})
	}
	if err := svc.Scheduler.HandleLog(ctx, batch); err != nil {
		t.Fatal(err)
	}
	get := func(svc *Service) map[string]any {
		rec := httptest.NewRecorder()
		svc.Handler.ServeHTTP(rec, httptest.NewRequest("GET", "/api/alerts", nil))
		var m map[string]any
		json.Unmarshal(rec.Body.Bytes(), &m)
		return m
	}
	if m := get(svc); m["total"] != float64(2) {
		t.Fatalf("%v", m)
	}
	deadline := time.Now().Add(10 * time.Second)
	for svc.Notifier.Published.Load() < 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if svc.Notifier.Published.Load() != 2 {
		t.Fatalf("published %d", svc.Notifier.Published.Load())
	}
	if err := svc.Close(); err != nil {
		t.Fatal(err)
	}
	svc = start()
	defer svc.Close()
	if err := svc.Scheduler.HandleLog(ctx, batch); err != nil { // redelivered
		t.Fatal(err)
	}
	if m := get(svc); m["total"] != float64(2) {
		t.Fatalf("after restart: %v", m)
	}
}
