// Command ecsgen generates schema/ecs_fields.go, the table of field names and
// Elasticsearch types that "vigil rules validate" checks rule queries
// against. It reads, from a directory laid out like ../shared:
//
//	schemas/ecs/fields.csv                                         ECS (current)
//	rules/detection-rules/etc/ecs_schemas/*/ecs_flat.json.gz       ECS (the version detection-rules pins)
//	rules/detection-rules/etc/endpoint_schemas/*.json.gz           Elastic Defend fields
//	rules/detection-rules/etc/endgame_schemas/*/*.json.gz          Endgame fields
//	rules/detection-rules/etc/non-ecs-schema.json                  integration fields the rules use
//	rules/detection-rules/etc/beats_schemas/main.json.gz           Beats fields.yml, as JSON
//
// Only facts are emitted: a field name and its type. ECS decides the type of
// an ECS field. Other fields take the type their sources agree on; when the
// sources disagree (after collapsing types that behave alike, such as keyword
// and wildcard), every type is listed, comma-separated, and the field is not
// type-checked.
//
// Usage (from the schema directory, as go generate runs it):
//
//	go run ./internal/ecsgen -shared ../../shared -o ecs_fields.go
package main

import (
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"go/format"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

func main() {
	shared := flag.String("shared", "../../shared", "directory holding schemas/ and rules/ (the ../shared reference tree)")
	out := flag.String("o", "ecs_fields.go", "output Go file")
	flag.Parse()
	if err := run(*shared, *out); err != nil {
		fmt.Fprintln(os.Stderr, "ecsgen:", err)
		os.Exit(1)
	}
}

// source is one set of field definitions: name -> ES type.
type source struct {
	name   string
	fields map[string]string
}

func newSource(name string) *source { return &source{name: name, fields: map[string]string{}} }

// add records a type; a second, different type within one source is a
// conflict kept as a comma list.
func (s *source) add(name, typ string) {
	name = strings.TrimSpace(name)
	typ = strings.TrimSpace(typ)
	if name == "" || typ == "" {
		return
	}
	old, ok := s.fields[name]
	if !ok {
		s.fields[name] = typ
		return
	}
	s.fields[name] = mergeTypes(old, typ)
}

func run(shared, out string) error {
	etc := filepath.Join(shared, "rules", "detection-rules", "etc")

	ecsNew, err := readECSCSV(filepath.Join(shared, "schemas", "ecs", "fields.csv"))
	if err != nil {
		return err
	}
	ecsOld := newSource("ecs_schemas")
	olds, _ := filepath.Glob(filepath.Join(etc, "ecs_schemas", "*", "ecs_flat.json.gz"))
	sort.Strings(olds)
	for _, p := range olds {
		if err := readECSFlatJSON(p, ecsOld); err != nil {
			return err
		}
	}

	var others []*source
	endpoint := newSource("endpoint")
	eps, _ := filepath.Glob(filepath.Join(etc, "endpoint_schemas", "*.json.gz"))
	sort.Strings(eps)
	for _, p := range eps {
		if err := readFlatJSON(p, "", endpoint); err != nil {
			return err
		}
	}
	others = append(others, endpoint)

	endgame := newSource("endgame")
	egs, _ := filepath.Glob(filepath.Join(etc, "endgame_schemas", "*", "*.json.gz"))
	sort.Strings(egs)
	for _, p := range egs {
		if err := readFlatJSON(p, "", endgame); err != nil {
			return err
		}
	}
	others = append(others, endgame)

	nonECS := newSource("non-ecs")
	if err := readNonECS(filepath.Join(etc, "non-ecs-schema.json"), nonECS); err != nil {
		return err
	}
	others = append(others, nonECS)

	beats := newSource("beats")
	if err := readBeats(filepath.Join(etc, "beats_schemas", "main.json.gz"), beats); err != nil {
		return err
	}
	others = append(others, beats)

	// ECS first: the current release, then fields only the pinned one has.
	table := map[string]string{}
	for n, t := range ecsNew.fields {
		table[n] = t
	}
	for n, t := range ecsOld.fields {
		if _, ok := table[n]; !ok {
			table[n] = t
		}
	}
	ecsNames := len(table)
	// ECS objects without ECS sub-fields (labels, container.labels) hold
	// dynamic keys: other sources' fields under them are left out, so that
	// they stay recognisable as open objects.
	open := map[string]bool{}
	for n, t := range table {
		if t == "object" {
			open[n] = true
		}
	}
	for n := range table {
		for p := n; strings.Contains(p, "."); {
			p = p[:strings.LastIndexByte(p, '.')]
			delete(open, p)
		}
	}
	underOpen := func(n string) bool {
		for p := n; strings.Contains(p, "."); {
			p = p[:strings.LastIndexByte(p, '.')]
			if open[p] {
				return true
			}
		}
		return false
	}
	for _, s := range others {
		for n, t := range s.fields {
			if _, isECS := ecsNew.fields[n]; isECS {
				continue
			}
			if _, isECS := ecsOld.fields[n]; isECS {
				continue
			}
			if underOpen(n) {
				continue
			}
			if old, ok := table[n]; ok {
				table[n] = mergeTypes(old, t)
			} else {
				table[n] = t
			}
		}
	}
	resolveAliases(table, beatsAliases)

	names := make([]string, 0, len(table))
	for n, t := range table {
		if t == "alias" || strings.ContainsAny(n, "\t\n`") || strings.ContainsAny(t, "\t\n`") {
			continue
		}
		names = append(names, n)
	}
	sort.Strings(names)

	var b bytes.Buffer
	b.WriteString("// Code generated by schema/internal/ecsgen; DO NOT EDIT.\n\n")
	b.WriteString("package schema\n\n")
	fmt.Fprintf(&b, "// ecsFieldTable has one field per line, \"name\\ttype\\n\", sorted by name:\n")
	fmt.Fprintf(&b, "// %d ECS fields (ECS %s and the ECS version detection-rules pins) and\n", ecsNames, ecsNew.name)
	fmt.Fprintf(&b, "// %d others (Elastic Defend, Endgame, detection-rules' non-ECS schema,\n", len(names)-ecsNames)
	b.WriteString("// Beats). A comma-separated type means the sources disagree.\n")
	b.WriteString("// Regenerate with: go generate ./schema (reads ../shared).\n")
	b.WriteString("const ecsFieldTable = `")
	for _, n := range names {
		b.WriteString(n)
		b.WriteByte('\t')
		b.WriteString(table[n])
		b.WriteByte('\n')
	}
	b.WriteString("`\n")
	src, err := format.Source(b.Bytes())
	if err != nil {
		return err
	}
	return os.WriteFile(out, src, 0o644)
}

// family collapses ES types that EQL treats alike.
func family(t string) string {
	switch t {
	case "keyword", "constant_keyword", "wildcard":
		return "keyword"
	case "text", "match_only_text":
		return "text"
	case "long", "integer", "short", "byte", "unsigned_long":
		return "long"
	case "double", "float", "half_float", "scaled_float":
		return "double"
	case "date", "date_nanos":
		return "date"
	}
	return t
}

// mergeTypes combines two type lists; types of one family keep the first.
func mergeTypes(a, b string) string {
	list := strings.Split(a, ",")
	for _, t := range strings.Split(b, ",") {
		dup := false
		for _, x := range list {
			if family(x) == family(t) {
				dup = true
				break
			}
		}
		if !dup {
			list = append(list, t)
		}
	}
	if len(list) > 1 {
		sort.Strings(list)
	}
	return strings.Join(list, ",")
}

func readECSCSV(path string) (*source, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	head, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[h] = i
	}
	for _, k := range []string{"ECS_Version", "Indexed", "Field", "Type"} {
		if _, ok := col[k]; !ok {
			return nil, fmt.Errorf("%s: no %s column", path, k)
		}
	}
	s := newSource("")
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %v", path, err)
		}
		if s.name == "" {
			s.name = rec[col["ECS_Version"]]
		}
		if rec[col["Indexed"]] == "false" {
			continue
		}
		s.add(rec[col["Field"]], rec[col["Type"]])
	}
	return s, nil
}

func readGzJSON(path string, v any) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		gz, err := gzip.NewReader(f)
		if err != nil {
			return fmt.Errorf("%s: %v", path, err)
		}
		defer gz.Close()
		r = gz
	}
	if err := json.NewDecoder(r).Decode(v); err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	return nil
}

// readECSFlatJSON reads ECS's ecs_flat as JSON: flat_name -> {type, index, multi_fields}.
func readECSFlatJSON(path string, s *source) error {
	var m map[string]struct {
		Type        string `json:"type"`
		Index       *bool  `json:"index"`
		MultiFields []struct {
			FlatName string `json:"flat_name"`
			Type     string `json:"type"`
		} `json:"multi_fields"`
	}
	if err := readGzJSON(path, &m); err != nil {
		return err
	}
	for name, f := range m {
		if f.Index != nil && !*f.Index {
			continue
		}
		s.add(name, f.Type)
		for _, mf := range f.MultiFields {
			s.add(mf.FlatName, mf.Type)
		}
	}
	return nil
}

// readFlatJSON reads a JSON object of name -> type, where values may also be
// objects of further (dotted) names.
func readFlatJSON(path, prefix string, s *source) error {
	var m map[string]any
	if err := readGzJSON(path, &m); err != nil {
		return err
	}
	flattenTypes(prefix, m, s)
	return nil
}

func flattenTypes(prefix string, m map[string]any, s *source) {
	for k, v := range m {
		switch v := v.(type) {
		case string:
			s.add(prefix+k, v)
		case map[string]any:
			flattenTypes(prefix+k+".", v, s)
		}
	}
}

// readNonECS reads detection-rules' non-ecs-schema.json: index pattern -> fields.
func readNonECS(path string, s *source) error {
	var m map[string]map[string]any
	if err := readGzJSON(path, &m); err != nil {
		return err
	}
	for _, fields := range m {
		flattenTypes("", fields, s)
	}
	return nil
}

// beatsAliases collects Beats alias fields (name -> target path).
var beatsAliases = map[string]string{}

// The Beats detection rules query (the others hold metrics).
var beatNames = []string{"auditbeat", "filebeat", "packetbeat", "winlogbeat", "libbeat"}

type beatDir struct {
	Folders map[string]*beatDir        `json:"folders"`
	Files   map[string]json.RawMessage `json:"files"`
}

// readBeats walks the Beats fields.yml files (stored as JSON). Fields of a
// module's dataset are prefixed with the module name, as Beats does.
func readBeats(path string, s *source) error {
	var root map[string]*beatDir
	if err := readGzJSON(path, &root); err != nil {
		return err
	}
	for _, beat := range beatNames {
		d := root[beat]
		if d == nil {
			continue
		}
		walkBeat(d, nil, s)
	}
	return nil
}

func walkBeat(d *beatDir, dirs []string, s *source) {
	if len(dirs) > 0 && dirs[len(dirs)-1] == "_meta" {
		prefix := ""
		// .../module/<module>/<dataset>/_meta: dataset fields sit under the module.
		if n := len(dirs); n >= 4 && dirs[n-4] == "module" {
			prefix = dirs[n-3] + "."
		}
		for _, name := range []string{"fields.common.yml", "fields.yml"} {
			raw, ok := d.Files[name]
			if !ok {
				continue
			}
			var items []map[string]any
			if json.Unmarshal(raw, &items) != nil {
				continue
			}
			flattenBeats(items, prefix, s)
		}
		return
	}
	keys := make([]string, 0, len(d.Folders))
	for k := range d.Folders {
		if k == "test" || k == "testdata" {
			continue
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		walkBeat(d.Folders[k], append(dirs, k), s)
	}
}

// flattenBeats flattens a fields.yml list: "group" entries add their name to
// the prefix, entries without a type are keywords, multi_fields are sub-fields.
func flattenBeats(items []map[string]any, prefix string, s *source) {
	for _, it := range items {
		name, _ := it["name"].(string)
		typ, _ := it["type"].(string)
		sub := toItems(it["fields"])
		if typ == "group" || typ == "nested" && sub != nil {
			if name == "" {
				continue
			}
			if typ == "nested" {
				s.add(prefix+name, "nested")
			}
			flattenBeats(sub, prefix+name+".", s)
			continue
		}
		if name == "" {
			flattenBeats(sub, prefix, s)
			continue
		}
		full := prefix + name
		if strings.Contains(full, "*") {
			continue // dynamic templates, not fields
		}
		switch typ {
		case "":
			typ = "keyword"
		case "alias":
			if p, ok := it["path"].(string); ok {
				beatsAliases[full] = p
				s.add(full, "alias")
			}
			continue
		case "array":
			continue // dynamically mapped: no fixed type
		}
		s.add(full, typ)
		for _, mf := range toItems(it["multi_fields"]) {
			if n, ok := mf["name"].(string); ok {
				t, _ := mf["type"].(string)
				if t == "" {
					t = "keyword"
				}
				s.add(full+"."+n, t)
			}
		}
	}
}

func toItems(v any) []map[string]any {
	list, ok := v.([]any)
	if !ok {
		return nil
	}
	out := make([]map[string]any, 0, len(list))
	for _, x := range list {
		if m, ok := x.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

// resolveAliases replaces alias fields by their target's type (an alias is
// queried as its target); aliases whose target is unknown are dropped.
func resolveAliases(table map[string]string, aliases map[string]string) {
	for name, t := range table {
		if t != "alias" {
			continue
		}
		target, ok := aliases[name]
		if !ok {
			delete(table, name)
			continue
		}
		tt, ok := table[target]
		if !ok || tt == "alias" {
			delete(table, name)
			continue
		}
		table[name] = tt
	}
}
