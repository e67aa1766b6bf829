package alerts

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Test documents are constructed here, not taken from any corpus.
func testAlert(i int, rule, sev, host string, ts time.Time) *Alert {
	return &Alert{
		UUID: fmt.Sprintf("u%03d", i), RuleID: rule, Severity: sev, Host: host,
		Timestamp: ts, Created: ts.Add(time.Second), Kind: "event",
		Doc: []byte(fmt.Sprintf(`{"@timestamp":"x","kibana.alert.uuid":"u%03d","kibana.alert.workflow_status":"open","host":{"name":%q}}`, i, host)),
	}
}

func TestInsertQueryStatus(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	var as []*Alert
	for i := 0; i < 30; i++ {
		sev := []string{"low", "high", "critical"}[i%3]
		host := []string{"a", "b"}[i%2]
		as = append(as, testAlert(i, fmt.Sprintf("r%d", i%2), sev, host, t0.Add(time.Duration(i)*time.Minute)))
	}
	bb := testAlert(99, "r0", "low", "a", t0)
	bb.BuildingBlock, bb.Kind = true, "building_block"
	as = append(as, bb)
	isNew, err := s.Insert(ctx, as)
	if err != nil {
		t.Fatal(err)
	}
	for i, n := range isNew {
		if !n {
			t.Fatalf("alert %d not new on first insert", i)
		}
	}
	// Same ids again: no-ops.
	isNew, err = s.Insert(ctx, as[:5])
	if err != nil {
		t.Fatal(err)
	}
	for i, n := range isNew {
		if n {
			t.Fatalf("alert %d inserted twice", i)
		}
	}
	total, page, err := s.Query(ctx, Filter{})
	if err != nil || total != 30 || len(page) != 30 {
		t.Fatalf("all: total %d, page %d, err %v", total, len(page), err)
	}
	if page[0].UUID != "u029" {
		t.Fatalf("newest first: got %s", page[0].UUID)
	}
	total, _, _ = s.Query(ctx, Filter{BuildingBlocks: true})
	if total != 31 {
		t.Fatalf("with building blocks: %d", total)
	}
	cases := []struct {
		f    Filter
		want int
	}{
		{Filter{RuleID: "r1"}, 15},
		{Filter{Severity: "critical"}, 10},
		{Filter{Host: "a", Severity: "low"}, 5}, // i%6==0
		{Filter{From: t0.Add(10 * time.Minute), To: t0.Add(19 * time.Minute)}, 10},
	}
	for _, c := range cases {
		n, _, err := s.Query(ctx, c.f)
		if err != nil || n != c.want {
			t.Errorf("%+v: %d, want %d (%v)", c.f, n, c.want, err)
		}
	}
	// Paging: disjoint, complete.
	seen := map[string]bool{}
	for p := 1; p <= 4; p++ {
		n, pg, err := s.Query(ctx, Filter{Size: 8, Page: p})
		if err != nil || n != 30 {
			t.Fatal(n, err)
		}
		for _, a := range pg {
			if seen[a.UUID] {
				t.Fatalf("page %d repeats %s", p, a.UUID)
			}
			seen[a.UUID] = true
		}
	}
	if len(seen) != 30 {
		t.Fatalf("pages cover %d alerts", len(seen))
	}

	at := t0.Add(time.Hour)
	a, err := s.SetStatus(ctx, "u003", StatusAcknowledged, "alice", at)
	if err != nil {
		t.Fatal(err)
	}
	if a.Status != StatusAcknowledged || a.StatusUpdatedBy != "alice" {
		t.Fatalf("%+v", a)
	}
	if _, err := s.SetStatus(ctx, "nope", StatusClosed, "x", at); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown id: %v", err)
	}
	if _, err := s.SetStatus(ctx, "u003", "resolved", "x", at); err == nil {
		t.Fatal("bad status accepted")
	}
	s.Close()

	// Reopen: everything persisted.
	s, err = Open(filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	a, err = s.Get(ctx, "u003")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(a.Doc, &doc); err != nil {
		t.Fatal(err)
	}
	if doc["kibana.alert.workflow_status"] != "acknowledged" || doc["kibana.alert.workflow_user"] != "alice" ||
		doc["kibana.alert.workflow_status_updated_at"] != "2026-03-01T11:00:00.000Z" {
		t.Fatalf("doc not updated: %s", a.Doc)
	}
	n, _, _ := s.Query(ctx, Filter{Status: StatusAcknowledged})
	if n != 1 {
		t.Fatalf("acknowledged: %d", n)
	}
	if _, err := s.Get(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatal(err)
	}
}

func TestInsertRejectsBadDocs(t *testing.T) {
	s, err := OpenDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	a := testAlert(1, "r", "low", "h", time.Now())
	a.Doc = []byte(`{"broken":`)
	if _, err := s.Insert(context.Background(), []*Alert{a}); err == nil {
		t.Fatal("invalid JSON stored")
	}
	a = testAlert(1, "r", "low", "h", time.Now())
	a.UUID = ""
	if _, err := s.Insert(context.Background(), []*Alert{a}); err == nil {
		t.Fatal("alert without uuid stored")
	}
}

func TestExecutionsAndState(t *testing.T) {
	ctx := context.Background()
	s, err := OpenDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	for i := 0; i < 5; i++ {
		if _, err := s.AddExecution(ctx, "r1", t0.Add(time.Duration(i)*time.Minute), map[string]int{"n": i}); err != nil {
			t.Fatal(err)
		}
	}
	s.AddExecution(ctx, "r2", t0, map[string]int{"n": 9})
	total, recs, err := s.Executions(ctx, "r1", 2, 1)
	if err != nil || total != 5 || len(recs) != 2 || string(recs[0]) != `{"n":4}` {
		t.Fatalf("%d %s %v", total, recs, err)
	}
	if b, err := s.LoadState(ctx, "r1"); err != nil || b != nil {
		t.Fatalf("no state yet: %s %v", b, err)
	}
	s.SaveState(ctx, "r1", []byte("one"))
	s.SaveState(ctx, "r1", []byte("two"))
	if b, _ := s.LoadState(ctx, "r1"); string(b) != "two" {
		t.Fatalf("state %q", b)
	}
}

func TestSetFields(t *testing.T) {
	cases := []struct{ in, want string }{
		{`{"a":1,"k":"x","b":[1,2]}`, `{"a":1,"k":"y","b":[1,2]}`},
		{`{"a":{"k":"x"}}`, `{"a":{"k":"x"},"k":"y"}`},
		{`{}`, `{"k":"y"}`},
	}
	for _, c := range cases {
		got, err := SetFields([]byte(c.in), []Field{{"k", "y"}})
		if err != nil || string(got) != c.want {
			t.Errorf("%s: %s (%v), want %s", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{`[1]`, `{"a":`, ``} {
		if _, err := SetFields([]byte(bad), []Field{{"k", 1}}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func FuzzSetFields(f *testing.F) {
	for _, s := range []string{`{"a":1,"k":"x"}`, `{}`, `{"k":{"k":"k"},"b":[1,{"c":null}]}`, `[]`, `{"a":`, `{"\u006b":1}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		fields := []Field{{"k", "v"}, {"n", 3}}
		if fast, ok := setFieldsFast(doc, fields); ok {
			if slow, err := setFieldsTokens(doc, fields); err != nil || string(fast) != string(slow) {
				t.Fatalf("%q: byte walk %q, decoder %q (%v)", doc, fast, slow, err)
			}
		}
		out, err := SetFields(doc, fields)
		if err != nil {
			return
		}
		var m map[string]any
		if err := json.Unmarshal(out, &m); err != nil {
			t.Fatalf("%q -> invalid %q: %v", doc, out, err)
		}
		if m["k"] != "v" || m["n"] != float64(3) {
			t.Fatalf("%q -> %q", doc, out)
		}
	})
}

func TestSetFieldsRepeatedKey(t *testing.T) {
	got, err := SetFields([]byte(`{"k":1,"a":2,"k":3}`), []Field{{"k", "v"}})
	if err != nil || string(got) != `{"k":"v","a":2}` {
		t.Fatalf("%s %v", got, err)
	}
}

func TestDeferredRows(t *testing.T) {
	ctx := context.Background()
	s, err := OpenDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.SyncDeferred(ctx, "r", []DeferredRow{{"b", 20, []byte("B")}, {"a", 10, []byte("A")}, {"c", 30, []byte("C")}}, nil); err != nil {
		t.Fatal(err)
	}
	s.SyncDeferred(ctx, "other", []DeferredRow{{"z", 1, []byte("Z")}}, nil)
	if err := s.SyncDeferred(ctx, "r", []DeferredRow{{"c", 5, []byte("C2")}}, []string{"b"}); err != nil {
		t.Fatal(err)
	}
	rows, err := s.LoadDeferred(ctx, "r")
	if err != nil || len(rows) != 2 || rows[0].UUID != "c" || string(rows[0].Data) != "C2" || rows[1].UUID != "a" {
		t.Fatalf("%+v %v", rows, err)
	}
}

// SaveStates: several rules' states and waiting groups in one
// transaction; a failure stores none of them.
func TestSaveStates(t *testing.T) {
	ctx := context.Background()
	s, err := OpenDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.SyncDeferred(ctx, "r1", []DeferredRow{{"old", 1, []byte("O")}}, nil); err != nil {
		t.Fatal(err)
	}
	err = s.SaveStates(ctx, []RuleSave{
		{RuleID: "r1", State: []byte("s1"), Upsert: []DeferredRow{{"a", 10, []byte("A")}}, Delete: []string{"old"}},
		{RuleID: "r2", State: []byte("s2")},
		{RuleID: "r3", Upsert: []DeferredRow{{"b", 5, []byte("B")}, {"c", 2, []byte("C")}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]string{"r1": "s1", "r2": "s2", "r3": ""} {
		if b, err := s.LoadState(ctx, id); err != nil || string(b) != want {
			t.Errorf("state of %s: %q %v, want %q", id, b, err, want)
		}
	}
	if rows, err := s.LoadDeferred(ctx, "r1"); err != nil || len(rows) != 1 || rows[0].UUID != "a" {
		t.Errorf("r1 deferred: %+v %v", rows, err)
	}
	if rows, err := s.LoadDeferred(ctx, "r3"); err != nil || len(rows) != 2 || rows[0].UUID != "c" || string(rows[1].Data) != "B" {
		t.Errorf("r3 deferred: %+v %v", rows, err)
	}
	// The second rule's row fails (data is NOT NULL): the first rule's
	// state is rolled back with it.
	err = s.SaveStates(ctx, []RuleSave{{RuleID: "r2", State: []byte("lost")}, {RuleID: "r4", Upsert: []DeferredRow{{"d", 1, nil}}}})
	if err == nil || !strings.Contains(err.Error(), "r4") {
		t.Fatalf("NULL data: %v", err)
	}
	if b, _ := s.LoadState(ctx, "r2"); string(b) != "s2" {
		t.Errorf("state after a failed save: %q", b)
	}
	if err := s.SaveStates(ctx, nil); err != nil {
		t.Error(err)
	}
}

// Waiting groups are stored deflated and read back as given; rows stored
// before (plain JSON) still read.
func TestDeferredPacked(t *testing.T) {
	ctx := context.Background()
	s, err := OpenDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	big := []byte(`{"alerts":[` + strings.Repeat(`{"doc":{"kibana.alert.rule.name":"Evil process","host":{"name":"a"}}},`, 200) + `{}]}`)
	if err := s.SaveStates(ctx, []RuleSave{{RuleID: "r", Upsert: []DeferredRow{{"a", 1, big}, {"b", 2, []byte{}}}}}); err != nil {
		t.Fatal(err)
	}
	// A row as stored before packing.
	if _, err := s.db.ExecContext(ctx, "INSERT INTO deferred(rule_id, uuid, range_ms, data) VALUES('r','c',3,?)", []byte(`{"old":true}`)); err != nil {
		t.Fatal(err)
	}
	var stored int
	if err := s.db.QueryRowContext(ctx, "SELECT length(data) FROM deferred WHERE uuid = 'a'").Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if stored*4 > len(big) {
		t.Errorf("stored %d bytes of %d: not packed", stored, len(big))
	}
	rows, err := s.LoadDeferred(ctx, "r")
	if err != nil || len(rows) != 3 {
		t.Fatalf("%+v %v", rows, err)
	}
	if string(rows[0].Data) != string(big) || len(rows[1].Data) != 0 || string(rows[2].Data) != `{"old":true}` {
		t.Fatalf("read back %.80q %q %q", rows[0].Data, rows[1].Data, rows[2].Data)
	}
	// A damaged packed row is an error naming it, not a crash.
	if _, err := s.db.ExecContext(ctx, "UPDATE deferred SET data = ? WHERE uuid = 'a'", []byte{packedRow, 0xff, 0x00}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.LoadDeferred(ctx, "r"); err == nil || !strings.Contains(err.Error(), "deferred a of r") {
		t.Fatalf("damaged row: %v", err)
	}
}

// A store made with the WITHOUT ROWID tables of before is moved to the
// current ones on open, rows kept (the old schema is written out here).
func TestMigrateRowTables(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), FileName)
	old, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = old.Exec(`CREATE TABLE alerts (uuid TEXT PRIMARY KEY, rule_id TEXT NOT NULL, severity TEXT NOT NULL, host TEXT NOT NULL DEFAULT '',
	ts INTEGER NOT NULL, created INTEGER NOT NULL, kind TEXT NOT NULL, building_block INTEGER NOT NULL DEFAULT 0, group_id TEXT NOT NULL DEFAULT '',
	status TEXT NOT NULL DEFAULT 'open', status_by TEXT NOT NULL DEFAULT '', status_at INTEGER NOT NULL DEFAULT 0, doc BLOB NOT NULL) WITHOUT ROWID;
CREATE INDEX alerts_rule ON alerts(rule_id, ts);
CREATE INDEX alerts_group ON alerts(group_id);
CREATE TABLE deferred (rule_id TEXT NOT NULL, uuid TEXT NOT NULL, range_ms INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY(rule_id, uuid)) WITHOUT ROWID;
CREATE TABLE rule_state (rule_id TEXT PRIMARY KEY, state BLOB NOT NULL) WITHOUT ROWID;
INSERT INTO alerts(uuid, rule_id, severity, ts, created, kind, doc) VALUES ('u1', 'r', 'high', 5, 6, 'event', '{"a":1}');
INSERT INTO deferred VALUES ('r', 'd1', 7, '{"old":true}');
INSERT INTO rule_state VALUES ('r', 'st');`)
	old.Close()
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, name := range []string{"alerts", "deferred"} {
		var def string
		if err := s.db.QueryRow("SELECT sql FROM sqlite_master WHERE name = ?", name).Scan(&def); err != nil || strings.Contains(def, "WITHOUT ROWID") {
			t.Errorf("%s: %q %v", name, def, err)
		}
	}
	a, err := s.Get(ctx, "u1")
	if err != nil || string(a.Doc) != `{"a":1}` || a.RuleID != "r" {
		t.Fatalf("%+v %v", a, err)
	}
	if rows, err := s.LoadDeferred(ctx, "r"); err != nil || len(rows) != 1 || string(rows[0].Data) != `{"old":true}` {
		t.Fatalf("%+v %v", rows, err)
	}
	if b, _ := s.LoadState(ctx, "r"); string(b) != "st" {
		t.Fatalf("state %q", b)
	}
	// Still one alert per uuid, and the indexes are back.
	if isNew, err := s.Insert(ctx, []*Alert{{UUID: "u1", RuleID: "r", Kind: "event", Doc: []byte(`{}`)}}); err != nil || isNew[0] {
		t.Fatalf("duplicate uuid: %v %v", isNew, err)
	}
	var n int
	s.db.QueryRow("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name LIKE 'alerts_%'").Scan(&n)
	if n != 6 {
		t.Errorf("%d alert indexes, want 6", n)
	}
	s.Close()
	s2, err := Open(path) // opened again: nothing to move
	if err != nil {
		t.Fatal(err)
	}
	s2.Close()
}

// The byte walk gives exactly the token decoder's output wherever it
// applies, and leaves the other documents to it.
func TestSetFieldsFast(t *testing.T) {
	fields := []Field{{"k", "v"}, {"@timestamp", "2026-03-01T10:00:00.000Z"}, {"n", 3}, {"k", "again"}}
	docs := []string{
		`{}`, ` { } `, `{"a":1}`, `{"k":"x","a":[1,{"b":"}]\"["}],"k":2}`,
		"{\n \"a\" : { \"x\" : [ 1 , 2 ] } ,\t\"@timestamp\":\"old\" , \"s\":\"a\\\"b\\\\\" }",
		`{"a":true,"b":false,"c":null,"d":-1.5e3,"e":"\u00e9"}`,
		`{"kibana.alert.uuid":"u","host":{"name":"h"},"n":{"deep":[[[]]]}}`,
	}
	for _, d := range docs {
		fast, ok := setFieldsFast([]byte(d), fields)
		slow, err := setFieldsTokens([]byte(d), fields)
		if !ok || err != nil || string(fast) != string(slow) {
			t.Errorf("%s:\nfast %s (%v)\nslow %s (%v)", d, fast, ok, slow, err)
		}
	}
	// Left to the decoder: keys it re-encodes, invalid or non-object
	// documents, trailing data.
	for _, d := range []string{`{"a\"b":1}`, `{"<":1}`, `{"é":1}`, `[1]`, `{"a":`, `{"a":1} x`, ``} {
		if _, ok := setFieldsFast([]byte(d), fields); ok {
			t.Errorf("%q: taken by the byte walk", d)
		}
	}
}
