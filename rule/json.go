package rule

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
)

// member is one key of a JSON object with its raw value.
type member struct {
	Key string
	Raw json.RawMessage
	Off int // byte offset of the value in the record (NDJSON), for messages
}

// ruleField describes a Rule field that has a JSON name.
type ruleField struct {
	index     int
	omitEmpty bool
	typ       reflect.Type
}

var (
	ruleFields     = map[string]ruleField{}
	ruleFieldOrder []string // struct order: the export order of rules not read from JSON
)

// rawShapes are the json.RawMessage fields and the JSON kind each must have.
var rawShapes = map[string]byte{
	"filters": '[', "alert_suppression": '{', "exceptions_list": '[', "related_integrations": '[',
	"required_fields": '[', "threshold": '{', "new_terms_fields": '[',
}

func init() {
	t := reflect.TypeFor[Rule]()
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "" || tag == "-" || !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		ruleFields[name] = ruleField{index: i, omitEmpty: strings.Contains(opts, "omitempty"), typ: f.Type}
		ruleFieldOrder = append(ruleFieldOrder, name)
	}
}

// keyError is a rule key whose value has the wrong type.
type keyError struct {
	Key   string // the rule key
	Field string // dotted path inside the value ("technique.id"), "" for the value itself
	Msg   string
	Off   int // offset in the raw value of the offending part, -1 unknown
	kind  string
}

func (e *keyError) Error() string { return e.Msg }

// setKey stores one key of a rule object: a named field, or Extra. The
// error (a *keyError) describes a value of the wrong type.
func (r *Rule) setKey(key string, raw json.RawMessage) error {
	f, ok := ruleFields[key]
	if !ok {
		if r.Extra == nil {
			r.Extra = map[string]json.RawMessage{}
		}
		r.Extra[key] = append(json.RawMessage(nil), raw...)
		return nil
	}
	if want, ok := rawShapes[key]; ok {
		if k := firstByte(raw); k != want && k != 'n' {
			return &keyError{Key: key, Off: 0, Msg: fmt.Sprintf("%q must be %s, not %s", key, kindName(want), kindName(k))}
		}
	}
	v := reflect.ValueOf(r).Elem().Field(f.index)
	nv := reflect.New(f.typ)
	if err := json.Unmarshal(raw, nv.Interface()); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			where := key
			if te.Field != "" {
				where += "." + te.Field
			}
			return &keyError{Key: key, Field: te.Field, kind: te.Value, Off: tokenStart(raw, int(te.Offset)),
				Msg: fmt.Sprintf("%q must be %s, not %s", where, typeName(te.Type), jsonValueName(te.Value))}
		}
		return &keyError{Key: key, Off: -1, Msg: fmt.Sprintf("%q: %v", key, err)}
	}
	v.Set(nv.Elem())
	return nil
}

// tokenStart finds where the scalar ending at end (exclusive) starts.
func tokenStart(raw []byte, end int) int {
	if end <= 0 || end > len(raw) {
		return -1
	}
	i := end - 1
	if raw[i] == '"' {
		for i--; i >= 0; i-- {
			if raw[i] == '"' {
				bs := 0
				for j := i - 1; j >= 0 && raw[j] == '\\'; j-- {
					bs++
				}
				if bs%2 == 0 {
					return i
				}
			}
		}
		return -1
	}
	if raw[i] == '}' || raw[i] == ']' {
		return -1
	}
	for i >= 0 && strings.IndexByte("0123456789+-.eEtruefalsn", raw[i]) >= 0 {
		i--
	}
	return i + 1
}

func firstByte(raw []byte) byte {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return 0
	}
	switch c := raw[0]; c {
	case '{', '[', '"':
		return c
	case 't', 'f':
		return 't'
	case 'n':
		return 'n'
	default:
		return '0'
	}
}

func kindName(k byte) string {
	switch k {
	case '{':
		return "an object"
	case '[':
		return "a list"
	case '"':
		return "a string"
	case 't':
		return "a boolean"
	case 'n':
		return "null"
	case '0':
		return "a number"
	}
	return "empty"
}

func jsonValueName(v string) string {
	switch v {
	case "string":
		return "a string"
	case "number":
		return "a number"
	case "bool":
		return "a boolean"
	case "array":
		return "a list"
	case "object":
		return "an object"
	}
	if n, ok := strings.CutPrefix(v, "number "); ok {
		return n // "number 1.5" into an int
	}
	return v
}

// typeName describes a Go type the way a rule author thinks of it.
func typeName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Int, reflect.Int64, reflect.Int32:
		return "an integer"
	case reflect.Bool:
		return "a boolean"
	case reflect.Float64, reflect.Float32:
		return "a number"
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return "a JSON value"
		}
		return "a list of " + strings.TrimPrefix(strings.TrimPrefix(typeName(t.Elem()), "a "), "an ") + "s"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Pointer:
		return typeName(t.Elem())
	}
	return t.String()
}

// UnmarshalJSON reads a Kibana rule object. Keys the model does not name go
// to Extra; the object is remembered so that MarshalJSON writes unchanged
// values back as they were.
func (r *Rule) UnmarshalJSON(data []byte) error {
	members, err := readObject(data)
	if err != nil {
		return err
	}
	*r = Rule{}
	for _, m := range members {
		if err := r.setKey(m.Key, m.Raw); err != nil {
			return err
		}
	}
	r.orig = members
	return nil
}

// readObject reads a JSON object's members in order. A repeated key keeps
// its first position and its last value, as encoding/json does.
func readObject(data []byte) ([]member, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, &json.UnmarshalTypeError{Value: jsonKindOfToken(tok), Type: reflect.TypeFor[Rule](), Offset: dec.InputOffset()}
	}
	var out []member
	seen := map[string]int{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := tok.(string)
		off := int(dec.InputOffset())
		// the value starts after the colon and blank space
		for off < len(data) && (data[off] == ' ' || data[off] == '\t' || data[off] == ':' || data[off] == '\r' || data[off] == '\n') {
			off++
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, err
		}
		m := member{Key: key, Raw: raw, Off: off}
		if i, ok := seen[key]; ok {
			out[i] = m
			continue
		}
		seen[key] = len(out)
		out = append(out, m)
	}
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	end := int(dec.InputOffset())
	if rest := bytes.TrimSpace(data[end:]); len(rest) > 0 {
		off := end + bytes.Index(data[end:], rest[:1])
		return nil, &trailingError{off: off}
	}
	return out, nil
}

// trailingError is text after a JSON object on its line.
type trailingError struct{ off int }

func (e *trailingError) Error() string { return "text after the JSON object" }

func jsonKindOfToken(tok any) string {
	switch t := tok.(type) {
	case json.Delim:
		if t == '[' {
			return "array"
		}
		return "object"
	case string:
		return "string"
	case bool:
		return "bool"
	case nil:
		return "null"
	}
	return "number"
}

// MarshalJSON writes the rule as a Kibana rule object. A rule read from
// JSON keeps its keys in their order, with unchanged values written back
// byte for byte; values the loader defaulted are left out unless changed.
func (r Rule) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	n := 0
	write := func(key string, raw []byte) {
		if n > 0 {
			b.WriteByte(',')
		}
		n++
		kb, _ := marshalNoEscape(key)
		b.Write(kb)
		b.WriteByte(':')
		b.Write(raw)
	}
	done := map[string]bool{}
	rv := reflect.ValueOf(r)
	for _, m := range r.orig {
		done[m.Key] = true
		if f, ok := ruleFields[m.Key]; ok {
			cur := rv.Field(f.index)
			old := reflect.New(f.typ)
			if json.Unmarshal(m.Raw, old.Interface()) == nil && reflect.DeepEqual(old.Elem().Interface(), cur.Interface()) {
				write(m.Key, m.Raw)
				continue
			}
			raw, err := marshalNoEscape(cur.Interface())
			if err != nil {
				return nil, err
			}
			write(m.Key, raw)
			continue
		}
		if raw, ok := r.Extra[m.Key]; ok {
			write(m.Key, raw)
		}
	}
	for _, key := range ruleFieldOrder {
		if done[key] {
			continue
		}
		f := ruleFields[key]
		cur := rv.Field(f.index)
		if f.omitEmpty && isEmpty(cur) {
			continue
		}
		raw, err := marshalNoEscape(cur.Interface())
		if err != nil {
			return nil, err
		}
		if d, ok := r.defaulted[key]; ok && r.orig != nil && bytes.Equal(d, raw) {
			continue // a default the loader filled in, not in the object read
		}
		write(key, raw)
	}
	extra := make([]string, 0, len(r.Extra))
	for k := range r.Extra {
		if !done[k] {
			extra = append(extra, k)
		}
	}
	sort.Strings(extra)
	for _, k := range extra {
		write(k, r.Extra[k])
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func isEmpty(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Slice, reflect.Map, reflect.String:
		return v.Len() == 0
	case reflect.Pointer, reflect.Interface:
		return v.IsNil()
	}
	return v.IsZero()
}

// marshalNoEscape is json.Marshal without HTML escaping (<, >, & stay as
// they are, as Kibana writes them).
func marshalNoEscape(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}
