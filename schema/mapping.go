package schema

import (
	"sort"
	"strings"
)

// Mapping is the set of fields of one or more Elasticsearch indices.
// A nil *Mapping is valid and empty (schemaless use).
type Mapping struct {
	fields map[string]Field
	names  []string // sorted
}

// keywordPlaceholder is the type placeholder of Elasticsearch's EQL test
// mapping templates; its DataLoader substitutes a random keyword-family type
// for it, textually, so it also appears as a multi-field name.
const keywordPlaceholder = "[runtime_random_keyword_type]"

// mappingParams are keys of a mappings body that are not index or type names;
// they tell the bare body form apart from a get-mapping response.
var mappingParams = map[string]bool{
	"properties": true, "runtime": true, "dynamic": true, "_source": true, "_meta": true,
	"dynamic_templates": true, "date_detection": true, "numeric_detection": true,
	"dynamic_date_formats": true, "_routing": true, "enabled": true, "subobjects": true,
	"_field_names": true, "_data_stream_timestamp": true, "_doc_count": true,
}

// ParseMapping reads an Elasticsearch mapping. Accepted shapes:
//
//	{"mappings": {"properties": {...}}}      create-index body
//	{"properties": {...}}                    bare mappings body
//	{"index-a": {"mappings": {...}}, ...}    get-mapping API response (indices are merged)
//	{"template": {"mappings": {...}}}        index/component template body
//
// Lines starting with '#' are comments, and the placeholder
// "[runtime_random_keyword_type]" means keyword, as in Elasticsearch's EQL test
// templates. Errors are *ParseError values carrying a line:column position.
func ParseMapping(data []byte) (*Mapping, error) {
	if len(data) >= 3 && data[0] == 0xEF && data[1] == 0xBB && data[2] == 0xBF {
		data = append([]byte("   "), data[3:]...) // a UTF-8 BOM; blanked to keep offsets
	}
	data = stripComments(data)
	p := &mparser{data: data}
	root, err := parseJSONTree(data)
	if err != nil {
		return nil, err
	}
	if root.kind != jObject {
		return nil, p.errAt(root.off, "a mapping must be a JSON object, not %s", root.kind)
	}
	bodies, err := p.bodies(root)
	if err != nil {
		return nil, err
	}
	m := &Mapping{fields: map[string]Field{}}
	for _, body := range bodies {
		idx, err := p.index(body)
		if err != nil {
			return nil, err
		}
		m.merge(idx)
	}
	m.names = make([]string, 0, len(m.fields))
	for name := range m.fields {
		m.names = append(m.names, name)
	}
	sort.Strings(m.names)
	return m, nil
}

// Field returns the field called name. An alias resolves to its target: the
// returned Field is the target's (its Name is the target path).
func (m *Mapping) Field(name string) (Field, bool) {
	_, f, ok := m.Resolve(name)
	return f, ok
}

// Resolve is Field that also reports the target path (name itself when it is
// not an alias).
func (m *Mapping) Resolve(name string) (target string, f Field, ok bool) {
	if m == nil {
		return "", Field{}, false
	}
	f, ok = m.fields[name]
	if !ok {
		return "", Field{}, false
	}
	if f.Type == Alias {
		// Elasticsearch forbids alias chains, so one hop is enough.
		t, ok := m.fields[f.Path]
		if !ok || t.Type == Alias {
			return "", Field{}, false
		}
		return f.Path, t, true
	}
	return name, f, true
}

// Fields returns every field sorted by name, aliases unresolved.
func (m *Mapping) Fields() []Field {
	if m == nil {
		return nil
	}
	out := make([]Field, len(m.names))
	for i, n := range m.names {
		out[i] = m.fields[n]
	}
	return out
}

// merge adds one index's fields. As in Elasticsearch's multi-index field
// resolution, a field mapped with incompatible types in different indices
// becomes unusable (Unsupported) rather than failing the whole load.
func (m *Mapping) merge(idx map[string]Field) {
	for name, f := range idx {
		old, ok := m.fields[name]
		if !ok {
			m.fields[name] = f
			continue
		}
		if old.Type == f.Type && (f.Type != Alias || old.Path == f.Path) {
			continue
		}
		if old.Type == Object && f.Type == Object {
			continue
		}
		types := old.ESType
		if !containsType(types, f.ESType) {
			types += "," + f.ESType
		}
		m.fields[name] = Field{Name: name, Type: Unsupported, ESType: types}
	}
}

func containsType(list, t string) bool {
	for _, s := range strings.Split(list, ",") {
		if s == t {
			return true
		}
	}
	return false
}

// mparser holds the input for positioned errors.
type mparser struct {
	data []byte
}

func (p *mparser) errAt(off int, format string, args ...any) *ParseError {
	j := &jparser{data: p.data}
	return j.errAt(off, format, args...)
}

// bodies finds the mappings bodies (objects holding "properties") in root.
func (p *mparser) bodies(root *jnode) ([]*jnode, error) {
	if len(root.keys) == 0 {
		return nil, nil
	}
	if mp := root.get("mappings"); mp != nil {
		return p.body(mp)
	}
	if t := root.get("template"); t != nil && t.kind == jObject && t.get("mappings") != nil {
		return p.body(t.get("mappings"))
	}
	for _, k := range root.keys {
		if mappingParams[k] {
			return p.body(root)
		}
	}
	// get-mapping response: every key is an index name.
	var out []*jnode
	for i, k := range root.keys {
		v := root.vals[i]
		if v.kind != jObject || v.get("mappings") == nil {
			return nil, p.errAt(root.koff[i], "unrecognised mapping: expected \"mappings\", \"properties\" or index names with \"mappings\", found key %q", k)
		}
		b, err := p.body(v.get("mappings"))
		if err != nil {
			return nil, err
		}
		out = append(out, b...)
	}
	return out, nil
}

// body checks a mappings object; it also unwraps the pre-7.0 typed form
// {"_doc": {"properties": ...}}.
func (p *mparser) body(n *jnode) ([]*jnode, error) {
	if n.kind != jObject {
		return nil, p.errAt(n.off, "\"mappings\" must be an object, not %s", n.kind)
	}
	if len(n.keys) == 1 && !mappingParams[n.keys[0]] {
		if t := n.vals[0]; t.kind == jObject && (t.get("properties") != nil || t.get("runtime") != nil) {
			return []*jnode{t}, nil
		}
	}
	return []*jnode{n}, nil
}

// fieldDef is a field under construction, with what validation needs.
type fieldDef struct {
	Field
	off      int    // where its definition starts
	pathOff  int    // where an alias "path" value starts
	nested   string // nearest enclosing nested field, "" for the root scope
	implicit bool   // an object created by a dotted key, not defined itself
}

// index reads one mappings body.
func (p *mparser) index(body *jnode) (map[string]Field, error) {
	defs := map[string]*fieldDef{}
	if props := body.get("properties"); props != nil {
		if err := p.properties("", "", props, defs); err != nil {
			return nil, err
		}
	}
	if rt := body.get("runtime"); rt != nil {
		if err := p.runtime(rt, defs); err != nil {
			return nil, err
		}
	}
	for name, d := range defs {
		if d.Type != Alias {
			continue
		}
		t, ok := defs[d.Path]
		switch {
		case d.Path == name:
			return nil, p.errAt(d.pathOff, "invalid [path] value [%s] for field alias [%s]: an alias cannot refer to itself", d.Path, name)
		case !ok || t.Type == Object || t.Type == Nested:
			return nil, p.errAt(d.pathOff, "invalid [path] value [%s] for field alias [%s]: an alias must refer to an existing field in the mappings", d.Path, name)
		case t.Type == Alias:
			return nil, p.errAt(d.pathOff, "invalid [path] value [%s] for field alias [%s]: an alias cannot refer to another alias", d.Path, name)
		case t.nested != d.nested:
			return nil, p.errAt(d.pathOff, "invalid [path] value [%s] for field alias [%s]: an alias must have the same nested scope as its target", d.Path, name)
		}
	}
	out := make(map[string]Field, len(defs))
	for name, d := range defs {
		out[name] = d.Field
	}
	return out, nil
}

func normalizeName(k string) string {
	if k == keywordPlaceholder {
		return "keyword"
	}
	return k
}

// properties reads a "properties" (or multi-field "fields") object.
func (p *mparser) properties(prefix, nested string, props *jnode, defs map[string]*fieldDef) error {
	if props.kind != jObject {
		return p.errAt(props.off, "[properties] must be an object, not %s", props.kind)
	}
	for i, key := range props.keys {
		key = normalizeName(key)
		off := props.koff[i]
		// A dotted key is shorthand for nested objects; its segments must be
		// non-empty, as Elasticsearch requires.
		segs := strings.Split(key, ".")
		for _, s := range segs {
			if strings.TrimSpace(s) == "" {
				return p.errAt(off, "invalid field name [%s]: field names and their dotted segments cannot be empty", key)
			}
		}
		for j := 1; j < len(segs); j++ {
			obj := prefix + strings.Join(segs[:j], ".")
			if d, ok := defs[obj]; ok {
				if d.Type != Object && d.Type != Nested {
					return p.errAt(off, "field [%s] is mapped as [%s] and cannot also hold sub-field [%s]", obj, d.ESType, prefix+key)
				}
				continue
			}
			defs[obj] = &fieldDef{Field: Field{Name: obj, Type: Object, ESType: "object"}, off: off, nested: nested, implicit: true}
		}
		if err := p.field(prefix+key, nested, props.vals[i], defs); err != nil {
			return err
		}
	}
	return nil
}

// field reads one field definition.
func (p *mparser) field(name, nested string, def *jnode, defs map[string]*fieldDef) error {
	if def.kind != jObject {
		return p.errAt(def.off, "mapping definition for [%s] must be an object, not %s", name, def.kind)
	}
	esType := "object"
	if t := def.get("type"); t != nil {
		if t.kind != jString {
			return p.errAt(t.off, "[type] of field [%s] must be a string, not %s", name, t.kind)
		}
		esType = normalizeName(t.str)
	}
	d := &fieldDef{Field: Field{Name: name, Type: esTypeOf(esType), ESType: esType}, off: def.off, nested: nested}
	if old, ok := defs[name]; ok {
		if !(old.implicit && (d.Type == Object || d.Type == Nested)) {
			return p.errAt(def.off, "field [%s] is defined more than once", name)
		}
	}
	defs[name] = d

	switch d.Type {
	case Object, Nested:
		inner := nested
		if d.Type == Nested {
			inner = name
		}
		if props := def.get("properties"); props != nil {
			if err := p.properties(name+".", inner, props, defs); err != nil {
				return err
			}
		}
		return nil
	case Alias:
		path := def.get("path")
		if path == nil || path.kind != jString {
			return p.errAt(def.off, "field alias [%s] needs a string [path]", name)
		}
		d.Path, d.pathOff = path.str, path.off
		return nil
	}

	if nv := def.get("null_value"); nv != nil {
		switch nv.kind {
		case jNull:
		case jString, jNumber:
			s := nv.str
			d.NullValue = &s
		case jBool:
			s := "false"
			if nv.b {
				s = "true"
			}
			d.NullValue = &s
		default:
			return p.errAt(nv.off, "[null_value] of field [%s] must be a scalar, not %s", name, nv.kind)
		}
	}
	if ia := def.get("ignore_above"); ia != nil {
		n, ok := jsonInt(ia)
		if !ok || n < 0 {
			return p.errAt(ia.off, "[ignore_above] of field [%s] must be a non-negative integer", name)
		}
		d.IgnoreAbove = n
	}
	if d.Type == Date {
		if err := p.formats(d, def); err != nil {
			return err
		}
	}
	if fields := def.get("fields"); fields != nil {
		if err := p.properties(name+".", nested, fields, defs); err != nil {
			return err
		}
		// Elasticsearch runs exact comparisons on a text field through its
		// keyword sub-field, so for EQL such a field behaves as a keyword.
		if d.Type == Text {
			for _, k := range fields.keys {
				sub := defs[name+"."+normalizeName(k)]
				if sub != nil && sub.Type == Keyword {
					d.Type, d.Exact, d.IgnoreAbove = Keyword, sub.Name, sub.IgnoreAbove
					break
				}
			}
		}
	}
	return nil
}

// formats parses a date field's "format", defaulting as Elasticsearch does.
func (p *mparser) formats(d *fieldDef, def *jnode) error {
	spec := defaultDateFormat
	if d.ESType == "date_nanos" {
		spec = defaultDateNanosFormat
	}
	off := def.off
	if f := def.get("format"); f != nil {
		if f.kind != jString {
			return p.errAt(f.off, "[format] of field [%s] must be a string, not %s", d.Name, f.kind)
		}
		spec, off = f.str, f.off
	}
	fs, err := ParseDateFormats(spec)
	if err != nil {
		return p.errAt(off, "[format] of field [%s]: %v", d.Name, err)
	}
	d.Formats = fs
	return nil
}

// runtime reads the "runtime" section. Runtime fields are searchable like
// mapped ones and shadow a mapped field of the same name.
func (p *mparser) runtime(rt *jnode, defs map[string]*fieldDef) error {
	if rt.kind != jObject {
		return p.errAt(rt.off, "[runtime] must be an object, not %s", rt.kind)
	}
	for i, name := range rt.keys {
		def := rt.vals[i]
		if def.kind != jObject {
			return p.errAt(def.off, "runtime field [%s] must be an object, not %s", name, def.kind)
		}
		t := def.get("type")
		if t == nil || t.kind != jString {
			return p.errAt(def.off, "runtime field [%s] needs a string [type]", name)
		}
		if t.str == "composite" {
			sub := def.get("fields")
			if sub == nil || sub.kind != jObject {
				return p.errAt(def.off, "composite runtime field [%s] needs [fields]", name)
			}
			for j, k := range sub.keys {
				if err := p.runtimeLeaf(name+"."+k, sub.vals[j], defs); err != nil {
					return err
				}
			}
			continue
		}
		if err := p.runtimeLeaf(name, def, defs); err != nil {
			return err
		}
	}
	return nil
}

func (p *mparser) runtimeLeaf(name string, def *jnode, defs map[string]*fieldDef) error {
	if def.kind != jObject {
		return p.errAt(def.off, "runtime field [%s] must be an object, not %s", name, def.kind)
	}
	t := def.get("type")
	if t == nil || t.kind != jString {
		return p.errAt(def.off, "runtime field [%s] needs a string [type]", name)
	}
	esType := normalizeName(t.str)
	d := &fieldDef{Field: Field{Name: name, Type: esTypeOf(esType), ESType: esType}, off: def.off}
	if d.Type == Object || d.Type == Nested || d.Type == Alias {
		d.Type = Unsupported
	}
	if old, ok := defs[name]; ok {
		d.nested = old.nested
	}
	if d.Type == Date {
		if err := p.formats(d, def); err != nil {
			return err
		}
	}
	defs[name] = d
	return nil
}

// jsonInt reads an integer from a number or a numeric string, the way
// Elasticsearch coerces integer mapping parameters.
func jsonInt(n *jnode) (int, bool) {
	if n.kind != jNumber && n.kind != jString {
		return 0, false
	}
	s := n.str
	if s == "" || len(s) > 10 {
		return 0, false
	}
	v := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		v = v*10 + int(s[i]-'0')
	}
	return v, true
}

// esTypeOf collapses an Elasticsearch field type into a Type.
func esTypeOf(es string) Type {
	switch es {
	case "keyword", "constant_keyword", "wildcard":
		return Keyword
	case "text", "match_only_text", "annotated_text", "search_as_you_type":
		return Text
	case "long", "integer", "short", "byte", "unsigned_long", "token_count":
		return Long
	case "double", "float", "half_float", "scaled_float":
		return Double
	case "boolean":
		return Boolean
	case "date", "date_nanos":
		return Date
	case "ip":
		return IP
	case "version":
		return Version
	case "object":
		return Object
	case "nested":
		return Nested
	case "alias":
		return Alias
	}
	return Unsupported
}
