package schema

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

func TestECSTable(t *testing.T) {
	cases := []struct{ name, es string }{
		{"@timestamp", "date"},
		{"process.name", "keyword"},
		{"process.command_line", "wildcard"},
		{"process.pid", "long"},
		{"source.ip", "ip"},
		{"destination.port", "long"},
		{"dll.code_signature.trusted", "boolean"},
		{"message", "match_only_text"},
		{"process.Ext.ancestry", "keyword"},           // Elastic Defend
		{"winlog.event_data.AccessMask", "keyword"},   // detection-rules non-ECS schema
		{"powershell.file.script_block_text", "text"}, // non-ECS schema
		{"system.auth.ssh.method", "keyword"},         // Beats, dataset under its module
	}
	for _, c := range cases {
		got, ok := ECSType(c.name)
		if !ok || got != c.es {
			t.Errorf("ECSType(%q) = %q, %v; want %q", c.name, got, ok, c.es)
		}
	}
	if _, ok := ECSType("no.such.field"); ok {
		t.Error("ECSType(no.such.field) found")
	}
	m := ECS()
	if f, ok := m.Field("process.command_line"); !ok || f.Type != Keyword {
		t.Errorf("process.command_line: %+v", f)
	}
	if f, ok := m.Field("message"); !ok || f.Type != Text {
		t.Errorf("message: %+v", f)
	}
	if f, ok := m.Field("@timestamp"); !ok || f.Type != Date || len(f.Formats) == 0 {
		t.Errorf("@timestamp: %+v", f)
	}
	if f, ok := m.Field("request"); !ok || f.Type != Unsupported || !strings.Contains(f.ESType, ",") {
		t.Errorf("request (conflicting sources): %+v", f)
	}
	lines := strings.Split(strings.TrimSuffix(ecsFieldTable, "\n"), "\n")
	if !sort.StringsAreSorted(lines) {
		t.Error("ecsFieldTable is not sorted")
	}
	if len(m.Fields()) != len(lines) {
		t.Errorf("%d fields for %d lines", len(m.Fields()), len(lines))
	}
}

// Every indexed field of ECS's fields.csv is in the table with its type:
// ecs_fields.go is up to date with ../shared (regenerate with go generate).
func TestECSTableMatchesSharedCSV(t *testing.T) {
	path := filepath.Join("..", "..", "shared", "schemas", "ecs", "fields.csv")
	f, err := os.Open(path)
	if err != nil {
		t.Skipf("ECS fields.csv not found at %s (../shared is absent); skipping", path)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, rec := range recs[1:] {
		if len(rec) < 5 || rec[1] == "false" {
			continue
		}
		n++
		if got, ok := ECSType(rec[3]); !ok || got != rec[4] {
			t.Errorf("%s: table has %q, %v; fields.csv has %q (run go generate ./schema)", rec[3], got, ok, rec[4])
		}
	}
	if n < 2000 {
		t.Errorf("only %d ECS fields read", n)
	}
}
