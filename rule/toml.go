package rule

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// fileErr builds a positioned error with the file line as context.
func fileErr(li *lineIndex, path string, fp filePos, format string, args ...any) *LoadError {
	e := &LoadError{Path: path, Line: fp.Line, Col: fp.Col, Msg: fmt.Sprintf(format, args...)}
	if li != nil && fp.Line > 0 {
		e.Context = caret(li.line(fp.Line), max(fp.Col, 1))
	}
	return e
}

// useFastTOML lets tests compare the results of the fast decoder
// (fastTOML) and setter (setTOMLValue) with those of BurntSushi and the
// JSON route.
var useFastTOML = true

// loadTOML reads one detection-rules TOML file: [metadata], [rule] (with
// [[rule.threat]] and the other sub-tables) and [transform].
func loadTOML(path, text string, opts LoadOptions) ([]*Rule, []*LoadError) {
	if strings.HasPrefix(text, "\uFEFF") {
		text = text[3:]
	}
	li := newLineIndex(text)
	var doc map[string]any
	var scanned keySet
	fast := false
	if useFastTOML {
		// A rule of a type not wanted needs only its keys; which type it is
		// is guessed from a plain type = "..." line, and decided from the
		// keys.
		keysOnly := len(opts.Types) > 0 && !mayBeType(text, opts.Types)
		doc, scanned, fast = fastTOML(text, keysOnly)
		if fast && keysOnly {
			if r := partialTOML(path, text, &scanned, true, opts.Types); r != nil {
				return []*Rule{r}, nil
			}
			doc, scanned, fast = fastTOML(text, false)
		}
	}
	if len(opts.Types) > 0 {
		// What the fast decoder accepts, scanTOML reads in full, with the
		// same keys.
		complete := fast
		if !fast {
			scanned, complete = scanTOMLAll(text, li)
		}
		if r := partialTOML(path, text, &scanned, complete, opts.Types); r != nil {
			return []*Rule{r}, nil
		}
	}
	if !fast {
		doc = nil
		if _, err := toml.Decode(text, &doc); err != nil {
			var pe toml.ParseError
			if errors.As(err, &pe) {
				fp := filePos{Line: pe.Position.Line, Col: pe.Position.Col}
				// Start is a byte offset: the column in characters comes from it
				// when it is on the reported line.
				if p := li.pos(pe.Position.Start); p.Line == fp.Line || fp.Line == 0 {
					fp = p
				}
				return nil, []*LoadError{fileErr(li, path, fp, "invalid TOML: %s", pe.Message)}
			}
			return nil, []*LoadError{{Path: path, Msg: "invalid TOML: " + err.Error()}}
		}
	}
	if !fast && len(opts.Types) == 0 {
		scanned, _ = scanTOMLAll(text, li)
	}
	scanned.finish()
	posOf := func(p string) filePos {
		for q := p; q != ""; {
			if k, ok := scanned.get(q); ok {
				return k.Key
			}
			if k, ok := scanned.get(q + "[0]"); ok {
				return k.Key
			}
			i := strings.LastIndexAny(q, ".[")
			if i < 0 {
				break
			}
			q = q[:i]
		}
		return filePos{Line: 1, Col: 1}
	}

	rt, ok := doc["rule"].(map[string]any)
	if !ok {
		if _, present := doc["rule"]; present {
			return nil, []*LoadError{fileErr(li, path, posOf("rule"), "\"rule\" must be a table ([rule])")}
		}
		return nil, []*LoadError{fileErr(li, path, filePos{Line: 1, Col: 1}, "no [rule] table: not a detection rule")}
	}

	r := &Rule{keys: scanned, keyPrefix: "rule."}
	r.Source.Path = path
	var errs []*LoadError

	// The rule starts at its first key.
	first := 0
	for _, e := range scanned.e {
		rel, ok := strings.CutPrefix(e.path, "rule.")
		k := e.k
		if ok && !strings.ContainsAny(rel, ".[") && (first == 0 || k.Key.Line < first) {
			first = k.Key.Line
		}
	}
	if first == 0 {
		first = posOf("rule").Line
	}
	r.Source.Line = first

	// The keys in file order (their errors come in that order).
	type keyLine struct {
		key  string
		line int
	}
	keys := make([]keyLine, 0, len(rt))
	for k := range rt {
		keys = append(keys, keyLine{k, posOf("rule." + k).Line})
	}
	slices.SortFunc(keys, func(a, b keyLine) int {
		if a.line != b.line {
			return a.line - b.line
		}
		return strings.Compare(a.key, b.key)
	})
	for _, kl := range keys {
		k := kl.key
		v := rt[k]
		if useFastTOML && r.setTOMLValue(k, v) {
			continue
		}
		if k == "new_terms" {
			if err := r.setNewTerms(v); err != nil {
				errs = append(errs, fileErr(li, path, posOf("rule."+k), "%v", err))
			}
			continue
		}
		raw, err := json.Marshal(tomlToJSON(v))
		if err != nil {
			errs = append(errs, fileErr(li, path, posOf("rule."+k), "%q: %v", k, err))
			continue
		}
		if err := r.setKey(k, raw); err != nil {
			at := posOf("rule." + k)
			if ke, ok := err.(*keyError); ok && ke.Field != "" {
				if sub, ok := locate(tomlToJSON(v), strings.Split(ke.Field, "."), ke.kind); ok {
					at = posOf("rule." + k + sub)
				}
			}
			errs = append(errs, fileErr(li, path, at, "%v", err))
		}
	}
	if len(errs) == 0 {
		for _, k := range []string{"rule_id", "name", "type"} {
			if _, ok := rt[k]; !ok {
				errs = append(errs, fileErr(li, path, posOf("rule"), "[rule] has no %q", k))
			} else if r.required(k) == "" {
				errs = append(errs, fileErr(li, path, posOf("rule."+k), "%q is empty", k))
			}
		}
	}

	if m, ok := doc["metadata"]; ok {
		meta, err := decodeMetadata(m)
		if err != nil {
			errs = append(errs, fileErr(li, path, posOf("metadata."+err.key), "%s", err.msg))
		}
		r.Meta = meta
	}
	if t, ok := doc["transform"]; ok {
		tm, isMap := t.(map[string]any)
		if !isMap {
			errs = append(errs, fileErr(li, path, posOf("transform"), "\"transform\" must be a table ([transform])"))
		}
		r.Transform = tm
	}

	if k, ok := scanned.get("rule.query"); ok && r.Query != "" {
		r.query = newQuerySpan(li, k.ValStart, k.ValEnd, false, true)
		if r.query != nil {
			r.Source.QueryLine, r.Source.QueryCol = r.query.line, r.query.col
		}
	}
	for _, e := range errs {
		e.RuleID = r.RuleID
	}
	if len(errs) > 0 {
		return nil, errs
	}
	r.applyDefaults(opts, r.has)
	return []*Rule{r}, nil
}

// setNewTerms maps detection-rules' [rule.new_terms] table
// (field = "new_terms_fields", value = [...], [[history_window_start]]) to
// Kibana's new_terms_fields and history_window_start.
func (r *Rule) setNewTerms(v any) error {
	m, ok := v.(map[string]any)
	if !ok {
		return fmt.Errorf("\"new_terms\" must be a table, not %s", tomlKind(v))
	}
	if val, ok := m["value"]; ok {
		raw, _ := json.Marshal(tomlToJSON(val))
		if err := r.setKey("new_terms_fields", raw); err != nil {
			return fmt.Errorf("\"new_terms.value\": %v", err)
		}
	}
	if h, ok := m["history_window_start"]; ok {
		var start any = h
		if list, ok := h.([]map[string]any); ok && len(list) > 0 {
			start = list[0]["value"]
		} else if list, ok := h.([]any); ok && len(list) > 0 {
			if e, ok := list[0].(map[string]any); ok {
				start = e["value"]
			}
		}
		raw, _ := json.Marshal(tomlToJSON(start))
		_ = r.setKey("history_window_start", raw)
	}
	return nil
}

// tomlToJSON converts decoded TOML values to what encoding/json writes as
// the equivalent JSON (dates become RFC 3339 strings).
func tomlToJSON(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = tomlToJSON(x)
		}
		return out
	case []map[string]any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = tomlToJSON(x)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = tomlToJSON(x)
		}
		return out
	case time.Time:
		return v.Format(time.RFC3339Nano)
	}
	return v
}

// locate finds the first value at a dotted field path (array elements
// searched in order) whose JSON kind is kind, and returns its indexed path
// (".a[1].b").
func locate(v any, segs []string, kind string) (string, bool) {
	if len(segs) == 0 {
		return "", jsonKind(v) == kind
	}
	switch v := v.(type) {
	case map[string]any:
		if child, ok := v[segs[0]]; ok {
			if sub, ok := locate(child, segs[1:], kind); ok {
				return "." + segs[0] + sub, true
			}
		}
	case []any:
		for i, e := range v {
			if sub, ok := locate(e, segs, kind); ok {
				return fmt.Sprintf("[%d]%s", i, sub), true
			}
		}
	}
	return "", false
}

func jsonKind(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case int64, float64:
		return "number"
	case bool:
		return "bool"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	}
	return ""
}

func tomlKind(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case int64:
		return "an integer"
	case float64:
		return "a number"
	case bool:
		return "a boolean"
	case map[string]any:
		return "a table"
	case []map[string]any, []any:
		return "an array"
	case time.Time:
		return "a date"
	}
	return fmt.Sprintf("%T", v)
}

type metaErr struct{ key, msg string }

// decodeMetadata reads [metadata]; unknown keys go to Metadata.Extra.
func decodeMetadata(v any) (*Metadata, *metaErr) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, &metaErr{"", fmt.Sprintf("\"metadata\" must be a table, not %s", tomlKind(v))}
	}
	meta := &Metadata{}
	mv := reflect.ValueOf(meta).Elem()
	mt := mv.Type()
	byTag := map[string]int{}
	for i := range mt.NumField() {
		if tag := mt.Field(i).Tag.Get("toml"); tag != "" && tag != "-" {
			byTag[tag] = i
		}
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var first *metaErr
	for _, k := range keys {
		x := m[k]
		i, ok := byTag[k]
		if !ok {
			if meta.Extra == nil {
				meta.Extra = map[string]any{}
			}
			meta.Extra[k] = x
			continue
		}
		f := mv.Field(i)
		switch f.Kind() {
		case reflect.String:
			switch s := x.(type) {
			case string:
				f.SetString(s)
			case time.Time: // an unquoted TOML date
				f.SetString(s.Format("2006/01/02"))
			default:
				if first == nil {
					first = &metaErr{k, fmt.Sprintf("\"metadata.%s\" must be a string, not %s", k, tomlKind(x))}
				}
			}
		case reflect.Bool:
			b, ok := x.(bool)
			if !ok {
				if first == nil {
					first = &metaErr{k, fmt.Sprintf("\"metadata.%s\" must be a boolean, not %s", k, tomlKind(x))}
				}
				continue
			}
			f.SetBool(b)
		case reflect.Slice:
			var list []string
			switch s := x.(type) {
			case string:
				list = []string{s}
			case []any:
				for _, e := range s {
					str, ok := e.(string)
					if !ok {
						if first == nil {
							first = &metaErr{k, fmt.Sprintf("\"metadata.%s\" must be a list of strings, not a list with %s", k, tomlKind(e))}
						}
						list = nil
						break
					}
					list = append(list, str)
				}
			default:
				if first == nil {
					first = &metaErr{k, fmt.Sprintf("\"metadata.%s\" must be a list of strings, not %s", k, tomlKind(x))}
				}
			}
			f.Set(reflect.ValueOf(list))
		}
	}
	return meta, first
}

// partialTOML returns the stub of a rule whose type is not in types, or nil
// when the rule must be decoded: its type is wanted, or the file is not
// plain enough to be sure (the full decode then reports what is wrong).
// keys is the file's key scan, complete when it read the whole file.
func partialTOML(path, text string, keys *keySet, complete bool, types []string) *Rule {
	if !complete {
		return nil
	}
	typ, ok := plainTOMLString(text, keys, "rule.type")
	if !ok || slices.Contains(types, typ) {
		return nil
	}
	id, ok1 := plainTOMLString(text, keys, "rule.rule_id")
	name, ok2 := plainTOMLString(text, keys, "rule.name")
	if !ok1 || !ok2 || id == "" {
		return nil
	}
	lang, _ := plainTOMLString(text, keys, "rule.language")
	// Copies, so that the file's text is not kept for four short strings.
	typ, lang, id, name = strings.Clone(typ), strings.Clone(lang), strings.Clone(id), strings.Clone(name)
	idKey, _ := keys.get("rule.rule_id")
	return &Rule{Type: typ, Language: lang, RuleID: id, Name: name, Partial: true,
		Source: Source{Path: path, Line: idKey.Key.Line}}
}

// mayBeType reports whether text has a line type = "t" (or 't') with t one
// of types.
func mayBeType(text string, types []string) bool {
	for rest := text; ; {
		i := strings.Index(rest, "\ntype = ")
		if i < 0 {
			return false
		}
		rest = rest[i+len("\ntype = "):]
		line, _, _ := strings.Cut(rest, "\n")
		line = strings.TrimSpace(line)
		if len(line) >= 2 && (line[0] == '"' || line[0] == '\'') && line[len(line)-1] == line[0] && slices.Contains(types, line[1:len(line)-1]) {
			return true
		}
	}
}

// plainTOMLString reads the value of key when it is a one-line string
// without escapes, which means what it says.
func plainTOMLString(text string, keys *keySet, key string) (string, bool) {
	k, ok := keys.get(key)
	if !ok || k.ValStart >= k.ValEnd {
		return "", false
	}
	v := strings.TrimSpace(text[k.ValStart:k.ValEnd])
	if len(v) < 2 || strings.HasPrefix(v, `"""`) || strings.HasPrefix(v, "'''") {
		return "", false
	}
	q := v[0]
	if (q != '"' && q != '\'') || v[len(v)-1] != q {
		return "", false
	}
	in := v[1 : len(v)-1]
	if strings.ContainsAny(in, `"'\`+"\n") {
		return "", false
	}
	return in, true
}
