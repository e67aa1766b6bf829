package schema

import (
	"errors"
	"strings"
	"testing"
)

func mustMapping(t *testing.T, src string) *Mapping {
	t.Helper()
	m, err := ParseMapping([]byte(src))
	if err != nil {
		t.Fatalf("ParseMapping: %v\n%s", err, src)
	}
	return m
}

func wantField(t *testing.T, m *Mapping, name string, typ Type) Field {
	t.Helper()
	f, ok := m.Field(name)
	if !ok {
		t.Fatalf("field %q missing", name)
	}
	if f.Type != typ {
		t.Fatalf("field %q: type %v, want %v", name, f.Type, typ)
	}
	return f
}

func TestParseMappingShapes(t *testing.T) {
	props := `{"properties": {"a": {"type": "long"}, "b": {"properties": {"c": {"type": "ip"}}}}}`
	shapes := map[string]string{
		"bare":         props,
		"create-index": `{"mappings": ` + props + `}`,
		"get-mapping":  `{"my-index": {"mappings": ` + props + `}}`,
		"template":     `{"template": {"mappings": ` + props + `}}`,
		"typed":        `{"mappings": {"_doc": ` + props + `}}`,
	}
	for name, src := range shapes {
		t.Run(name, func(t *testing.T) {
			m := mustMapping(t, src)
			wantField(t, m, "a", Long)
			wantField(t, m, "b", Object)
			wantField(t, m, "b.c", IP)
			if n := len(m.Fields()); n != 3 {
				t.Fatalf("%d fields, want 3: %v", n, m.Fields())
			}
		})
	}
	for _, src := range []string{`{}`, `{"mappings": {}}`, `{"mappings": {"dynamic": "strict"}}`, "\xEF\xBB\xBF# c\n{}"} {
		if m := mustMapping(t, src); len(m.Fields()) != 0 {
			t.Errorf("%s: fields %v", src, m.Fields())
		}
	}
}

func TestParseMappingTemplateSyntax(t *testing.T) {
	src := `# Text patterns like "[runtime_random_keyword_type]" get replaced at runtime.
  # indented comment
{
    "properties" : {
        "command_line" : { "type" : "[runtime_random_keyword_type]" },
        "file_name" : {
            "type" : "text",
            "fields" : {
                "[runtime_random_keyword_type]" : {
                    "type" : "[runtime_random_keyword_type]",
                    "ignore_above" : 256
                }
            }
        },
        "notes": { "type": "text" }
    }
}`
	m := mustMapping(t, src)
	wantField(t, m, "command_line", Keyword)
	f := wantField(t, m, "file_name", Keyword)
	if f.ESType != "text" || f.Exact != "file_name.keyword" || f.IgnoreAbove != 256 {
		t.Errorf("file_name = %+v", f)
	}
	wantField(t, m, "file_name.keyword", Keyword)
	if f := wantField(t, m, "notes", Text); f.Exact != "" {
		t.Errorf("notes = %+v", f)
	}
}

func TestParseMappingTypes(t *testing.T) {
	want := map[string]Type{
		"keyword": Keyword, "constant_keyword": Keyword, "wildcard": Keyword,
		"text": Text, "match_only_text": Text,
		"long": Long, "integer": Long, "short": Long, "byte": Long, "unsigned_long": Long,
		"double": Double, "float": Double, "half_float": Double, "scaled_float": Double,
		"boolean": Boolean, "date": Date, "date_nanos": Date, "ip": IP, "version": Version,
		"object": Object, "nested": Nested,
		"geo_point": Unsupported, "binary": Unsupported, "integer_range": Unsupported,
		"flattened": Unsupported, "no_such_type": Unsupported,
	}
	var sb strings.Builder
	sb.WriteString(`{"properties":{`)
	first := true
	for es := range want {
		if !first {
			sb.WriteString(",")
		}
		first = false
		sb.WriteString(`"f_` + es + `":{"type":"` + es + `"}`)
	}
	sb.WriteString(`}}`)
	m := mustMapping(t, sb.String())
	for es, typ := range want {
		f := wantField(t, m, "f_"+es, typ)
		if f.ESType != es {
			t.Errorf("f_%s: ESType %q", es, f.ESType)
		}
	}
	if Unknown.String() != "unknown" || Keyword.String() != "keyword" || Type(200).String() != "unknown" {
		t.Error("Type.String")
	}
}

func TestParseMappingAlias(t *testing.T) {
	m := mustMapping(t, `{"properties": {
		"event_type": {"type": "keyword"},
		"event": {"properties": {"category": {"type": "alias", "path": "event_type"}}}}}`)
	f := wantField(t, m, "event.category", Keyword)
	if f.Name != "event_type" {
		t.Errorf("Field(alias).Name = %q, want the target", f.Name)
	}
	target, f, ok := m.Resolve("event.category")
	if !ok || target != "event_type" || f.Type != Keyword {
		t.Errorf("Resolve(alias) = %q, %+v, %v", target, f, ok)
	}
	target, _, ok = m.Resolve("event_type")
	if !ok || target != "event_type" {
		t.Errorf("Resolve(plain) = %q, %v", target, ok)
	}
	if _, _, ok := m.Resolve("nope"); ok {
		t.Error("Resolve(missing) ok")
	}
	var raw Field
	for _, x := range m.Fields() {
		if x.Name == "event.category" {
			raw = x
		}
	}
	if raw.Type != Alias || raw.Path != "event_type" {
		t.Errorf("Fields() alias entry = %+v", raw)
	}
}

func TestParseMappingAliasErrors(t *testing.T) {
	cases := map[string]string{
		"missing target":  `{"properties": {"a": {"type": "alias", "path": "nope"}}}`,
		"self":            `{"properties": {"a": {"type": "alias", "path": "a"}}}`,
		"alias to alias":  `{"properties": {"k": {"type": "keyword"}, "a": {"type": "alias", "path": "k"}, "b": {"type": "alias", "path": "a"}}}`,
		"alias to object": `{"properties": {"o": {"properties": {"x": {"type": "long"}}}, "a": {"type": "alias", "path": "o"}}}`,
		"nested scope":    `{"properties": {"n": {"type": "nested", "properties": {"x": {"type": "long"}}}, "a": {"type": "alias", "path": "n.x"}}}`,
		"no path":         `{"properties": {"a": {"type": "alias"}}}`,
	}
	for name, src := range cases {
		_, err := ParseMapping([]byte(src))
		var pe *ParseError
		if !errors.As(err, &pe) || pe.Line != 1 || pe.Col < 1 {
			t.Errorf("%s: err = %v, want a positioned ParseError", name, err)
		}
	}
	// The position points at the offending "path" value.
	_, err := ParseMapping([]byte("{\"properties\": {\n  \"a\": {\"type\": \"alias\", \"path\": \"nope\"}}}"))
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Line != 2 || pe.Col != 34 {
		t.Errorf("err = %v, want 2:34", err)
	}
}

func TestParseMappingNullValueAndDates(t *testing.T) {
	m := mustMapping(t, `{"properties": {
		"k": {"type": "keyword", "null_value": "NULL"},
		"n": {"type": "long", "null_value": 0},
		"d": {"type": "double", "null_value": 1.5e3},
		"b": {"type": "boolean", "null_value": true},
		"x": {"type": "keyword", "null_value": null},
		"plain": {"type": "keyword"},
		"ts": {"type": "date"},
		"ns": {"type": "date_nanos"},
		"pretty": {"type": "date", "format": "dd-MM-yyyy||epoch_millis", "null_value": "01-01-1970"}}}`)
	for name, want := range map[string]string{"k": "NULL", "n": "0", "d": "1.5e3", "b": "true", "pretty": "01-01-1970"} {
		f := wantField(t, m, name, m.fields[name].Type)
		if f.NullValue == nil || *f.NullValue != want {
			t.Errorf("%s: NullValue %v, want %q", name, f.NullValue, want)
		}
	}
	for _, name := range []string{"x", "plain"} {
		if f, _ := m.Field(name); f.NullValue != nil {
			t.Errorf("%s: NullValue %q, want nil", name, *f.NullValue)
		}
	}
	formats := func(name string) string {
		f := wantField(t, m, name, Date)
		var s []string
		for _, x := range f.Formats {
			s = append(s, x.String())
		}
		return strings.Join(s, "||")
	}
	if got := formats("ts"); got != "strict_date_optional_time||epoch_millis" {
		t.Errorf("ts formats %q", got)
	}
	if got := formats("ns"); got != "strict_date_optional_time_nanos||epoch_millis" {
		t.Errorf("ns formats %q", got)
	}
	if got := formats("pretty"); got != "dd-MM-yyyy||epoch_millis" {
		t.Errorf("pretty formats %q", got)
	}
	if f, _ := m.Field("k"); f.Formats != nil {
		t.Error("keyword has formats")
	}
}

func TestParseMappingDottedAndRuntime(t *testing.T) {
	m := mustMapping(t, `{"mappings": {
		"properties": {
			"process.pid": {"type": "long"},
			"process": {"properties": {"name": {"type": "keyword"}}},
			"shadowed": {"type": "keyword"}
		},
		"runtime": {
			"day": {"type": "keyword", "script": "emit('x')"},
			"shadowed": {"type": "long"},
			"when": {"type": "date", "format": "yyyy"},
			"comp": {"type": "composite", "fields": {"a": {"type": "ip"}}}
		}}}`)
	wantField(t, m, "process", Object)
	wantField(t, m, "process.pid", Long)
	wantField(t, m, "process.name", Keyword)
	wantField(t, m, "day", Keyword)
	wantField(t, m, "shadowed", Long)
	wantField(t, m, "comp.a", IP)
	if f := wantField(t, m, "when", Date); len(f.Formats) != 1 || f.Formats[0].String() != "yyyy" {
		t.Errorf("when formats %v", f.Formats)
	}
}

func TestParseMappingMerge(t *testing.T) {
	m := mustMapping(t, `{
		"a": {"mappings": {"properties": {"same": {"type": "keyword"}, "kw": {"type": "keyword"}, "clash": {"type": "long"}, "only_a": {"type": "ip"}}}},
		"b": {"mappings": {"properties": {"same": {"type": "keyword"}, "kw": {"type": "wildcard"}, "clash": {"type": "keyword"}}}}}`)
	wantField(t, m, "same", Keyword)
	wantField(t, m, "kw", Keyword)
	wantField(t, m, "only_a", IP)
	f := wantField(t, m, "clash", Unsupported)
	if !strings.Contains(f.ESType, "long") || !strings.Contains(f.ESType, "keyword") {
		t.Errorf("clash ESType %q", f.ESType)
	}
}

func TestParseMappingErrors(t *testing.T) {
	cases := []struct {
		name, src string
		line, col int
		msg       string
	}{
		{"trailing comma", "{\n  \"properties\": {\n    \"a\": {\"type\": \"keyword\",}\n  }\n}", 3, 29, "invalid JSON"},
		{"unterminated", "{\"properties\": {", 1, 17, "end of input"},
		{"garbage", "# c\nnope", 2, 2, "invalid JSON"},
		{"trailing data", "{} {}", 1, 4, "after the top-level"},
		{"not object", "[1]", 1, 1, "must be a JSON object"},
		{"duplicate", "{\"properties\": {\"a\": {}, \"a\": {}}}", 1, 26, "duplicate key"},
		{"shape", "{\"idx\": {\"settings\": {}}}", 1, 2, "unrecognised mapping"},
		{"type not string", "{\"properties\": {\"a\": {\"type\": 1}}}", 1, 31, "must be a string"},
		{"def not object", "{\"properties\": {\"a\": \"keyword\"}}", 1, 22, "must be an object"},
		{"bad format", "{\"properties\": {\"d\": {\"type\": \"date\", \"format\": \"yyyy-qq\"}}}", 1, 49, "[format]"},
		{"bad null_value", "{\"properties\": {\"a\": {\"type\": \"keyword\", \"null_value\": [1]}}}", 1, 56, "null_value"},
		{"empty name", "{\"properties\": {\"a..b\": {\"type\": \"keyword\"}}}", 1, 17, "cannot be empty"},
		{"leaf then object", "{\"properties\": {\"a\": {\"type\": \"keyword\"}, \"a.b\": {\"type\": \"long\"}}}", 1, 43, "cannot also hold"},
		{"defined twice", "{\"properties\": {\"a.b\": {\"type\": \"long\"}, \"a\": {\"properties\": {\"b\": {\"type\": \"long\"}}}}}", 1, 68, "more than once"},
		{"deep", strings.Repeat("[", 2000), 1, 1002, "too deeply"},
		{"empty input", "", 1, 1, "end of input"},
		{"ignore_above", "{\"properties\": {\"a\": {\"type\": \"keyword\", \"ignore_above\": -1}}}", 1, 58, "ignore_above"},
	}
	for _, c := range cases {
		_, err := ParseMapping([]byte(c.src))
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Errorf("%s: err = %v, want *ParseError", c.name, err)
			continue
		}
		if pe.Line != c.line || pe.Col != c.col || !strings.Contains(pe.Msg, c.msg) {
			t.Errorf("%s: got %v, want %d:%d ...%s...", c.name, err, c.line, c.col, c.msg)
		}
		if !strings.HasPrefix(err.Error(), strings.Split(err.Error(), ":")[0]+":") {
			t.Errorf("%s: message %q lacks line:col", c.name, err)
		}
	}
}

func TestLineColCountsCharacters(t *testing.T) {
	// Columns count characters, not bytes, so non-ASCII names don't skew them.
	_, err := ParseMapping([]byte("{\"properties\": {\"é\": {\"type\": 1}}}"))
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Line != 1 || pe.Col != 31 {
		t.Errorf("err = %v, want 1:31", err)
	}
}

func TestNilMapping(t *testing.T) {
	var m *Mapping
	if _, ok := m.Field("a"); ok {
		t.Error("nil Field ok")
	}
	if _, _, ok := m.Resolve("a"); ok {
		t.Error("nil Resolve ok")
	}
	if m.Fields() != nil {
		t.Error("nil Fields")
	}
}

func TestFieldsSorted(t *testing.T) {
	m := mustMapping(t, `{"properties": {"b": {"type": "long"}, "a": {"type": "long"}, "c": {"properties": {"a": {"type": "long"}}}}}`)
	var names []string
	for _, f := range m.Fields() {
		names = append(names, f.Name)
	}
	if got := strings.Join(names, ","); got != "a,b,c,c.a" {
		t.Errorf("Fields() order %s", got)
	}
}
