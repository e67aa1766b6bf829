// Package alerts stores Kibana-schema alerts, their workflow status, the
// rule execution log and the schedulers' per-rule state in SQLite (the pure
// Go driver modernc.org/sqlite, so the binary stays static).
//
// An alert is kept as its Kibana document plus indexed columns. The
// primary key is kibana.alert.uuid, which detect computes
// deterministically: inserting the same alert twice is a no-op, so
// overlapping look-backs, catch-up, restarts and manual runs never
// duplicate alerts.
package alerts

import (
	"bytes"
	"compress/flate"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Workflow statuses (kibana.alert.workflow_status).
const (
	StatusOpen         = "open"
	StatusAcknowledged = "acknowledged"
	StatusClosed       = "closed"
)

// ValidStatus reports whether s is a Kibana workflow status.
func ValidStatus(s string) bool {
	return s == StatusOpen || s == StatusAcknowledged || s == StatusClosed
}

// Alert is one stored alert: the document and the columns queries filter on.
type Alert struct {
	UUID          string    `json:"uuid"`
	RuleID        string    `json:"rule_id"`
	Severity      string    `json:"severity"`
	Host          string    `json:"host,omitempty"`
	Timestamp     time.Time `json:"timestamp"` // the event time the alert is about (kibana.alert.original_time, else creation)
	Created       time.Time `json:"created"`   // when the alert was created (@timestamp)
	Kind          string    `json:"kind"`      // event, sequence, building_block
	BuildingBlock bool      `json:"building_block,omitempty"`
	GroupID       string    `json:"group_id,omitempty"`
	Doc           []byte    `json:"doc"` // the Kibana document (JSON object)

	// Workflow, set by the store.
	Status          string    `json:"status"`
	StatusUpdatedBy string    `json:"status_updated_by,omitempty"`
	StatusUpdatedAt time.Time `json:"status_updated_at,omitzero"`
}

// Store is an SQLite alert store. It is safe for concurrent use.
type Store struct {
	db   *sql.DB
	path string
}

// FileName is the database file under a data directory.
const FileName = "alerts.db"

// OpenDir opens (creating) the store under a data directory.
func OpenDir(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("alerts: %w", err)
	}
	return Open(filepath.Join(dir, FileName))
}

// Open opens (creating) the store at path.
func Open(path string) (*Store, error) {
	// WAL lets the API read while the scheduler writes; busy_timeout makes
	// concurrent writers wait instead of failing. The store is read on
	// every alert (is this id stored?): a 64 MiB page cache and memory-
	// mapped reads keep that off the read syscall, which dominated under load.
	dsn := "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(on)" +
		"&_pragma=cache_size(-65536)&_pragma=mmap_size(1073741824)&_pragma=temp_store(memory)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("alerts: open %s: %w", path, err)
	}
	s := &Store{db: db, path: path}
	if err := s.migrate(); err != nil {
		db.Close()
		return nil, fmt.Errorf("alerts: %s: %w", path, err)
	}
	return s, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

const schemaSQL = `
CREATE TABLE IF NOT EXISTS alerts (
	uuid TEXT NOT NULL UNIQUE,
	rule_id TEXT NOT NULL,
	severity TEXT NOT NULL,
	host TEXT NOT NULL DEFAULT '',
	ts INTEGER NOT NULL,
	created INTEGER NOT NULL,
	kind TEXT NOT NULL,
	building_block INTEGER NOT NULL DEFAULT 0,
	group_id TEXT NOT NULL DEFAULT '',
	status TEXT NOT NULL DEFAULT 'open',
	status_by TEXT NOT NULL DEFAULT '',
	status_at INTEGER NOT NULL DEFAULT 0,
	doc BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS alerts_rule ON alerts(rule_id, ts);
CREATE INDEX IF NOT EXISTS alerts_ts ON alerts(ts);
CREATE INDEX IF NOT EXISTS alerts_severity ON alerts(severity, ts);
CREATE INDEX IF NOT EXISTS alerts_host ON alerts(host, ts);
CREATE INDEX IF NOT EXISTS alerts_status ON alerts(status, ts);
CREATE INDEX IF NOT EXISTS alerts_group ON alerts(group_id);
CREATE TABLE IF NOT EXISTS executions (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	rule_id TEXT NOT NULL,
	started INTEGER NOT NULL,
	record TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS executions_rule ON executions(rule_id, started);
CREATE TABLE IF NOT EXISTS deferred (
	rule_id TEXT NOT NULL,
	uuid TEXT NOT NULL,
	range_ms INTEGER NOT NULL,
	data BLOB NOT NULL,
	UNIQUE(rule_id, uuid)
);
CREATE TABLE IF NOT EXISTS rule_state (
	rule_id TEXT PRIMARY KEY,
	state BLOB NOT NULL
) WITHOUT ROWID;
`

// rowTables are the tables whose rows hold documents of several KiB.
// Stores made before had them WITHOUT ROWID: there a row is its own key,
// so every key comparison of an insert or a lookup read the whole row
// from its overflow pages (an alert storm spent most of its time there).
// They are now rowid tables with a unique index on the key, and an old
// store's are moved over once, on open.
var rowTables = []struct{ name, indexes string }{
	{"alerts", "alerts_rule alerts_ts alerts_severity alerts_host alerts_status alerts_group"},
	{"deferred", ""},
}

func (s *Store) migrate() error {
	tx, err := s.db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var moved []string
	for _, t := range rowTables {
		var def string
		err := tx.QueryRow("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", t.name).Scan(&def)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return err
		}
		if !strings.Contains(strings.ToUpper(def), "WITHOUT ROWID") {
			continue
		}
		for _, ix := range strings.Fields(t.indexes) {
			if _, err := tx.Exec("DROP INDEX IF EXISTS " + ix); err != nil {
				return err
			}
		}
		if _, err := tx.Exec("ALTER TABLE " + t.name + " RENAME TO " + t.name + "_old"); err != nil {
			return err
		}
		moved = append(moved, t.name)
	}
	if _, err := tx.Exec(schemaSQL); err != nil {
		return err
	}
	for _, t := range moved {
		// Same columns in the same order.
		if _, err := tx.Exec("INSERT INTO " + t + " SELECT * FROM " + t + "_old"); err != nil {
			return fmt.Errorf("moving %s: %w", t, err)
		}
		if _, err := tx.Exec("DROP TABLE " + t + "_old"); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// Insert stores alerts in one transaction; an alert whose uuid is already
// stored is left unchanged. It reports, per alert, whether it was new.
func (s *Store) Insert(ctx context.Context, as []*Alert) ([]bool, error) {
	if len(as) == 0 {
		return nil, nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("alerts: insert: %w", err)
	}
	defer tx.Rollback()
	st, err := tx.PrepareContext(ctx, `INSERT INTO alerts(uuid, rule_id, severity, host, ts, created, kind, building_block, group_id, status, doc)
		VALUES(?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(uuid) DO NOTHING`)
	if err != nil {
		return nil, fmt.Errorf("alerts: insert: %w", err)
	}
	defer st.Close()
	out := make([]bool, len(as))
	for i, a := range as {
		if a.UUID == "" {
			return nil, fmt.Errorf("alerts: insert: alert %d of rule %q has no uuid", i, a.RuleID)
		}
		if !json.Valid(a.Doc) {
			return nil, fmt.Errorf("alerts: insert: alert %s: document is not valid JSON", a.UUID)
		}
		status := a.Status
		if status == "" {
			status = StatusOpen
		}
		res, err := st.ExecContext(ctx, a.UUID, a.RuleID, a.Severity, a.Host, a.Timestamp.UnixMilli(), a.Created.UnixMilli(),
			a.Kind, boolInt(a.BuildingBlock), a.GroupID, status, a.Doc)
		if err != nil {
			return nil, fmt.Errorf("alerts: insert %s: %w", a.UUID, err)
		}
		n, _ := res.RowsAffected()
		out[i] = n == 1
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("alerts: insert: %w", err)
	}
	return out, nil
}

// Exists reports which of the uuids are stored.
func (s *Store) Exists(ctx context.Context, uuids []string) (map[string]bool, error) {
	out := map[string]bool{}
	for len(uuids) > 0 {
		n := min(len(uuids), 500)
		chunk := uuids[:n]
		uuids = uuids[n:]
		q := "SELECT uuid FROM alerts WHERE uuid IN (?" + strings.Repeat(",?", len(chunk)-1) + ")"
		args := make([]any, len(chunk))
		for i, u := range chunk {
			args[i] = u
		}
		rows, err := s.db.QueryContext(ctx, q, args...)
		if err != nil {
			return nil, fmt.Errorf("alerts: exists: %w", err)
		}
		for rows.Next() {
			var u string
			if err := rows.Scan(&u); err != nil {
				rows.Close()
				return nil, fmt.Errorf("alerts: exists: %w", err)
			}
			out[u] = true
		}
		if err := rows.Close(); err != nil {
			return nil, fmt.Errorf("alerts: exists: %w", err)
		}
	}
	return out, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// ErrNotFound is returned for an unknown alert id.
var ErrNotFound = errors.New("alert not found")

const alertCols = "uuid, rule_id, severity, host, ts, created, kind, building_block, group_id, status, status_by, status_at, doc"

type scanner interface{ Scan(...any) error }

func scanAlert(r scanner) (*Alert, error) {
	var a Alert
	var ts, created, statusAt int64
	var bb int
	if err := r.Scan(&a.UUID, &a.RuleID, &a.Severity, &a.Host, &ts, &created, &a.Kind, &bb, &a.GroupID, &a.Status, &a.StatusUpdatedBy, &statusAt, &a.Doc); err != nil {
		return nil, err
	}
	a.Timestamp = time.UnixMilli(ts).UTC()
	a.Created = time.UnixMilli(created).UTC()
	a.BuildingBlock = bb != 0
	if statusAt != 0 {
		a.StatusUpdatedAt = time.UnixMilli(statusAt).UTC()
	}
	return &a, nil
}

// Get returns one alert; ErrNotFound when it is not stored.
func (s *Store) Get(ctx context.Context, uuid string) (*Alert, error) {
	a, err := scanAlert(s.db.QueryRowContext(ctx, "SELECT "+alertCols+" FROM alerts WHERE uuid = ?", uuid))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("alerts: get %s: %w", uuid, err)
	}
	return a, nil
}

// Filter selects alerts. Empty fields do not filter. Time bounds apply to
// the alert's event time and are inclusive.
type Filter struct {
	RuleID   string
	Severity string
	Host     string
	Status   string
	From, To time.Time
	// BuildingBlocks includes building-block alerts, which Kibana hides by
	// default (a sequence's per-event alerts and building-block rules').
	BuildingBlocks bool
	GroupID        string
	Size           int // default 100, at most 10,000
	Page           int // 1-based; default 1
}

// MaxPageSize bounds Filter.Size.
const MaxPageSize = 10000

// Query returns the total number of matching alerts and one page of them,
// newest event time first (then uuid, so pages are stable).
func (s *Store) Query(ctx context.Context, f Filter) (int, []*Alert, error) {
	var where []string
	var args []any
	add := func(cond string, v any) {
		where = append(where, cond)
		args = append(args, v)
	}
	if f.RuleID != "" {
		add("rule_id = ?", f.RuleID)
	}
	if f.Severity != "" {
		add("severity = ?", f.Severity)
	}
	if f.Host != "" {
		add("host = ?", f.Host)
	}
	if f.Status != "" {
		add("status = ?", f.Status)
	}
	if f.GroupID != "" {
		add("group_id = ?", f.GroupID)
	}
	if !f.From.IsZero() {
		add("ts >= ?", f.From.UnixMilli())
	}
	if !f.To.IsZero() {
		add("ts <= ?", f.To.UnixMilli())
	}
	if !f.BuildingBlocks {
		where = append(where, "building_block = 0")
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	var total int
	if err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM alerts"+cond, args...).Scan(&total); err != nil {
		return 0, nil, fmt.Errorf("alerts: query: %w", err)
	}
	size, page := f.Size, f.Page
	if size <= 0 {
		size = 100
	}
	size = min(size, MaxPageSize)
	if page <= 0 {
		page = 1
	}
	rows, err := s.db.QueryContext(ctx, "SELECT "+alertCols+" FROM alerts"+cond+" ORDER BY ts DESC, uuid LIMIT ? OFFSET ?",
		append(args, size, (page-1)*size)...)
	if err != nil {
		return 0, nil, fmt.Errorf("alerts: query: %w", err)
	}
	defer rows.Close()
	var out []*Alert
	for rows.Next() {
		a, err := scanAlert(rows)
		if err != nil {
			return 0, nil, fmt.Errorf("alerts: query: %w", err)
		}
		out = append(out, a)
	}
	return total, out, rows.Err()
}

// SetStatus changes an alert's workflow status, recording who and when,
// and writes kibana.alert.workflow_status, workflow_status_updated_at and
// workflow_user into its document as Kibana does.
func (s *Store) SetStatus(ctx context.Context, uuid, status, by string, at time.Time) (*Alert, error) {
	if !ValidStatus(status) {
		return nil, fmt.Errorf("alerts: status %q: want open, acknowledged or closed", status)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("alerts: set status: %w", err)
	}
	defer tx.Rollback()
	a, err := scanAlert(tx.QueryRowContext(ctx, "SELECT "+alertCols+" FROM alerts WHERE uuid = ?", uuid))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("alerts: set status %s: %w", uuid, err)
	}
	at = at.UTC()
	doc, err := SetFields(a.Doc, []Field{
		{"kibana.alert.workflow_status", status},
		{"kibana.alert.workflow_status_updated_at", at.Format("2006-01-02T15:04:05.000Z")},
		{"kibana.alert.workflow_user", by},
	})
	if err != nil {
		return nil, fmt.Errorf("alerts: set status %s: %w", uuid, err)
	}
	if _, err := tx.ExecContext(ctx, "UPDATE alerts SET status = ?, status_by = ?, status_at = ?, doc = ? WHERE uuid = ?",
		status, by, at.UnixMilli(), doc, uuid); err != nil {
		return nil, fmt.Errorf("alerts: set status %s: %w", uuid, err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("alerts: set status %s: %w", uuid, err)
	}
	a.Status, a.StatusUpdatedBy, a.StatusUpdatedAt, a.Doc = status, by, at, doc
	return a, nil
}

// Field is one top-level key of a JSON document and its new value.
type Field struct {
	Key   string
	Value any
}

// SetFields replaces (or appends) top-level keys of a JSON object,
// keeping the other keys in their order and bytes.
func SetFields(doc []byte, fields []Field) ([]byte, error) {
	if out, ok := setFieldsFast(doc, fields); ok {
		return out, nil
	}
	return setFieldsTokens(doc, fields)
}

// setFieldsFast is SetFields for a valid JSON object (the alerts the
// scheduler creates: one call per alert, where the token decoder cost
// more than the store's insert), with exactly setFieldsTokens' output: it
// walks the top-level members by bytes. ok is false when the document is
// not a valid object, or a key needs decoding (escapes, characters
// json.Marshal writes escaped): setFieldsTokens decides then.
func setFieldsFast(doc []byte, fields []Field) ([]byte, bool) {
	if !json.Valid(doc) {
		return nil, false
	}
	i := skipSpace(doc, 0)
	if i >= len(doc) || doc[i] != '{' {
		return nil, false
	}
	vals := make([][]byte, len(fields))
	for k, f := range fields {
		vb, err := json.Marshal(f.Value)
		if err != nil {
			return nil, false
		}
		vals[k] = vb
	}
	done := make([]bool, len(fields))
	out := make([]byte, 0, len(doc)+64*len(fields))
	out = append(out, '{')
	first := true
	write := func(key, v []byte) {
		if !first {
			out = append(out, ',')
		}
		first = false
		out = append(out, key...)
		out = append(out, ':')
		out = append(out, v...)
	}
	i = skipSpace(doc, i+1)
	for i < len(doc) && doc[i] != '}' {
		ks := i
		ke := skipValue(doc, i) // the key, quoted
		key := doc[ks:ke]
		for _, c := range key[1 : len(key)-1] {
			if c < 0x20 || c > 0x7e || c == '\\' || c == '<' || c == '>' || c == '&' {
				return nil, false
			}
		}
		i = skipSpace(doc, ke)
		i = skipSpace(doc, i+1) // ':'
		vs := i
		ve := skipValue(doc, i)
		i = skipSpace(doc, ve)
		if i < len(doc) && doc[i] == ',' {
			i = skipSpace(doc, i+1)
		}
		name := key[1 : len(key)-1]
		replaced := false
		for k, f := range fields {
			if f.Key == string(name) {
				if !done[k] {
					write(key, vals[k])
					done[k] = true
				}
				replaced = true // a repeated key: the new value stands once
				break
			}
		}
		if !replaced {
			write(key, doc[vs:ve])
		}
	}
	for k, f := range fields {
		if !done[k] {
			kb, _ := json.Marshal(f.Key)
			write(kb, vals[k])
		}
	}
	return append(out, '}'), true
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipValue returns the end of the valid JSON value at b[i].
func skipValue(b []byte, i int) int {
	switch b[i] {
	case '"':
		for i++; i < len(b); i++ {
			switch b[i] {
			case '\\':
				i++
			case '"':
				return i + 1
			}
		}
		return i
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				i = skipValue(b, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
		}
		return i
	}
	for i < len(b) && b[i] != ',' && b[i] != '}' && b[i] != ']' && b[i] != ' ' && b[i] != '\t' && b[i] != '\n' && b[i] != '\r' {
		i++
	}
	return i
}

// setFieldsTokens is SetFields by json's token decoder: any document.
func setFieldsTokens(doc []byte, fields []Field) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errors.New("document is not a JSON object")
	}
	done := make([]bool, len(fields))
	var out bytes.Buffer
	out.WriteByte('{')
	first := true
	write := func(k string, v []byte) {
		if !first {
			out.WriteByte(',')
		}
		first = false
		kb, _ := json.Marshal(k)
		out.Write(kb)
		out.WriteByte(':')
		out.Write(v)
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		k, _ := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, err
		}
		replaced := false
		for i, f := range fields {
			if f.Key == k && done[i] {
				replaced = true // a repeated key: the new value stands once
				break
			}
			if f.Key == k {
				vb, err := json.Marshal(f.Value)
				if err != nil {
					return nil, err
				}
				write(k, vb)
				done[i], replaced = true, true
				break
			}
		}
		if !replaced {
			write(k, raw)
		}
	}
	for i, f := range fields {
		if !done[i] {
			vb, err := json.Marshal(f.Value)
			if err != nil {
				return nil, err
			}
			write(f.Key, vb)
		}
	}
	out.WriteByte('}')
	return out.Bytes(), nil
}

// Execution log and rule state.

// AddExecution appends one execution record (any JSON-encodable value)
// for a rule and returns its id.
func (s *Store) AddExecution(ctx context.Context, ruleID string, started time.Time, record any) (int64, error) {
	b, err := json.Marshal(record)
	if err != nil {
		return 0, fmt.Errorf("alerts: execution of %s: %w", ruleID, err)
	}
	res, err := s.db.ExecContext(ctx, "INSERT INTO executions(rule_id, started, record) VALUES(?,?,?)", ruleID, started.UnixMilli(), string(b))
	if err != nil {
		return 0, fmt.Errorf("alerts: execution of %s: %w", ruleID, err)
	}
	return res.LastInsertId()
}

// Executions returns a rule's execution records (JSON), newest first,
// with the total count.
func (s *Store) Executions(ctx context.Context, ruleID string, size, page int) (int, []json.RawMessage, error) {
	if size <= 0 {
		size = 100
	}
	size = min(size, MaxPageSize)
	if page <= 0 {
		page = 1
	}
	var total int
	if err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM executions WHERE rule_id = ?", ruleID).Scan(&total); err != nil {
		return 0, nil, fmt.Errorf("alerts: executions of %s: %w", ruleID, err)
	}
	rows, err := s.db.QueryContext(ctx, "SELECT record FROM executions WHERE rule_id = ? ORDER BY started DESC, id DESC LIMIT ? OFFSET ?",
		ruleID, size, (page-1)*size)
	if err != nil {
		return 0, nil, fmt.Errorf("alerts: executions of %s: %w", ruleID, err)
	}
	defer rows.Close()
	var out []json.RawMessage
	for rows.Next() {
		var rec string
		if err := rows.Scan(&rec); err != nil {
			return 0, nil, err
		}
		out = append(out, json.RawMessage(rec))
	}
	return total, out, rows.Err()
}

// SaveState stores a rule's scheduler state (opaque bytes).
func (s *Store) SaveState(ctx context.Context, ruleID string, state []byte) error {
	_, err := s.db.ExecContext(ctx, "INSERT INTO rule_state(rule_id, state) VALUES(?,?) ON CONFLICT(rule_id) DO UPDATE SET state = excluded.state", ruleID, state)
	if err != nil {
		return fmt.Errorf("alerts: state of %s: %w", ruleID, err)
	}
	return nil
}

// LoadState returns a rule's saved state; nil when there is none.
func (s *Store) LoadState(ctx context.Context, ruleID string) ([]byte, error) {
	var b []byte
	err := s.db.QueryRowContext(ctx, "SELECT state FROM rule_state WHERE rule_id = ?", ruleID).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("alerts: state of %s: %w", ruleID, err)
	}
	return b, nil
}

// UpdateFields rewrites top-level keys of a stored alert's document (a
// suppressed alert's kibana.alert.suppression.* counts).
func (s *Store) UpdateFields(ctx context.Context, uuid string, fields []Field) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("alerts: update %s: %w", uuid, err)
	}
	defer tx.Rollback()
	var doc []byte
	err = tx.QueryRowContext(ctx, "SELECT doc FROM alerts WHERE uuid = ?", uuid).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("alerts: update %s: %w", uuid, err)
	}
	if doc, err = SetFields(doc, fields); err != nil {
		return fmt.Errorf("alerts: update %s: %w", uuid, err)
	}
	if _, err := tx.ExecContext(ctx, "UPDATE alerts SET doc = ? WHERE uuid = ?", doc, uuid); err != nil {
		return fmt.Errorf("alerts: update %s: %w", uuid, err)
	}
	return tx.Commit()
}

// Deferred alert groups: alerts a rule found beyond its max_signals,
// waiting for a later execution. They are kept as rows (not in the rule's
// state) so that saving the state stays small under an alert storm.

// DeferredRow is one waiting alert group, opaque to the store.
type DeferredRow struct {
	UUID    string
	RangeMs int64
	Data    []byte
}

// SyncDeferred upserts and deletes a rule's waiting groups in one
// transaction.
func (s *Store) SyncDeferred(ctx context.Context, ruleID string, upsert []DeferredRow, del []string) error {
	if len(upsert) == 0 && len(del) == 0 {
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("alerts: deferred of %s: %w", ruleID, err)
	}
	defer tx.Rollback()
	for _, r := range upsert {
		if _, err := tx.ExecContext(ctx, `INSERT INTO deferred(rule_id, uuid, range_ms, data) VALUES(?,?,?,?)
			ON CONFLICT(rule_id, uuid) DO UPDATE SET range_ms = excluded.range_ms, data = excluded.data`, ruleID, r.UUID, r.RangeMs, packRow(r.Data)); err != nil {
			return fmt.Errorf("alerts: deferred of %s: %w", ruleID, err)
		}
	}
	for _, u := range del {
		if _, err := tx.ExecContext(ctx, "DELETE FROM deferred WHERE rule_id = ? AND uuid = ?", ruleID, u); err != nil {
			return fmt.Errorf("alerts: deferred of %s: %w", ruleID, err)
		}
	}
	return tx.Commit()
}

// LoadDeferred returns a rule's waiting groups, earliest first.
func (s *Store) LoadDeferred(ctx context.Context, ruleID string) ([]DeferredRow, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT uuid, range_ms, data FROM deferred WHERE rule_id = ? ORDER BY range_ms, uuid", ruleID)
	if err != nil {
		return nil, fmt.Errorf("alerts: deferred of %s: %w", ruleID, err)
	}
	defer rows.Close()
	var out []DeferredRow
	for rows.Next() {
		var r DeferredRow
		if err := rows.Scan(&r.UUID, &r.RangeMs, &r.Data); err != nil {
			return nil, err
		}
		if r.Data, err = unpackRow(r.Data); err != nil {
			return nil, fmt.Errorf("alerts: deferred %s of %s: %w", r.UUID, ruleID, err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// RuleSave is one rule's saved scheduler state and the changes to its
// waiting groups (SaveStates).
type RuleSave struct {
	RuleID string
	State  []byte
	Upsert []DeferredRow
	Delete []string
}

// SaveStates saves several rules' states and waiting groups in one
// transaction: a log consumer saves every rule its batch changed with one
// commit (a commit each cost more than evaluating the batch).
func (s *Store) SaveStates(ctx context.Context, saves []RuleSave) error {
	if len(saves) == 0 {
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("alerts: save states: %w", err)
	}
	defer tx.Rollback()
	var up, del *sql.Stmt
	state, err := tx.PrepareContext(ctx, "INSERT INTO rule_state(rule_id, state) VALUES(?,?) ON CONFLICT(rule_id) DO UPDATE SET state = excluded.state")
	if err != nil {
		return fmt.Errorf("alerts: save states: %w", err)
	}
	defer state.Close()
	for _, sv := range saves {
		if len(sv.Upsert) > 0 && up == nil {
			if up, err = tx.PrepareContext(ctx, `INSERT INTO deferred(rule_id, uuid, range_ms, data) VALUES(?,?,?,?)
				ON CONFLICT(rule_id, uuid) DO UPDATE SET range_ms = excluded.range_ms, data = excluded.data`); err != nil {
				return fmt.Errorf("alerts: save states: %w", err)
			}
			defer up.Close()
		}
		for _, r := range sv.Upsert {
			if _, err := up.ExecContext(ctx, sv.RuleID, r.UUID, r.RangeMs, packRow(r.Data)); err != nil {
				return fmt.Errorf("alerts: deferred of %s: %w", sv.RuleID, err)
			}
		}
		if len(sv.Delete) > 0 && del == nil {
			if del, err = tx.PrepareContext(ctx, "DELETE FROM deferred WHERE rule_id = ? AND uuid = ?"); err != nil {
				return fmt.Errorf("alerts: save states: %w", err)
			}
			defer del.Close()
		}
		for _, u := range sv.Delete {
			if _, err := del.ExecContext(ctx, sv.RuleID, u); err != nil {
				return fmt.Errorf("alerts: deferred of %s: %w", sv.RuleID, err)
			}
		}
		if sv.State != nil {
			if _, err := state.ExecContext(ctx, sv.RuleID, sv.State); err != nil {
				return fmt.Errorf("alerts: state of %s: %w", sv.RuleID, err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("alerts: save states: %w", err)
	}
	return nil
}

// Waiting groups are stored deflated: an alert storm writes one row per
// group (several KiB of alert JSON), and the disk writes, not the CPU,
// were the cost (JSON deflates about 5x at the fastest level). A packed
// row starts with packedRow, which no JSON text starts with; rows from
// before start with their JSON and are read as they are.
const packedRow = 0x01

var flaters = sync.Pool{New: func() any { w, _ := flate.NewWriter(nil, flate.BestSpeed); return w }}

func packRow(data []byte) []byte {
	if data == nil {
		return nil // NOT NULL: the store refuses it
	}
	var b bytes.Buffer
	b.Grow(len(data)/4 + 16)
	b.WriteByte(packedRow)
	w := flaters.Get().(*flate.Writer)
	w.Reset(&b)
	w.Write(data) // a bytes.Buffer does not fail
	w.Close()
	flaters.Put(w)
	return b.Bytes()
}

func unpackRow(data []byte) ([]byte, error) {
	if len(data) == 0 || data[0] != packedRow {
		return data, nil
	}
	r := flate.NewReader(bytes.NewReader(data[1:]))
	defer r.Close()
	out, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("inflating: %w", err)
	}
	return out, nil
}
