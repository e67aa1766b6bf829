package rule

import (
	"reflect"
	"unicode/utf8"
)

// setTOMLValue stores a decoded TOML value in the rule field of key,
// as setKey stores the value's JSON, for the shapes that fill almost every
// rule (strings, integers, booleans, lists of strings, the threat
// mapping). It reports false, having changed nothing, for any other key
// or shape: the JSON route then stores it or words the error. Going
// through JSON cost a third of the allocations of a corpus load.
func (r *Rule) setTOMLValue(key string, v any) bool {
	f, ok := ruleFields[key]
	if !ok {
		return false
	}
	if _, raw := rawShapes[key]; raw {
		return false
	}
	fv := reflect.ValueOf(r).Elem().Field(f.index)
	switch f.typ {
	case reflect.TypeFor[string]():
		s, ok := jsonSafeString(v)
		if !ok {
			return false
		}
		fv.SetString(s)
	case reflect.TypeFor[int]():
		n, ok := v.(int64)
		if !ok {
			return false
		}
		fv.SetInt(n)
	case reflect.TypeFor[bool]():
		b, ok := v.(bool)
		if !ok {
			return false
		}
		fv.SetBool(b)
	case reflect.TypeFor[*bool]():
		b, ok := v.(bool)
		if !ok {
			return false
		}
		fv.Set(reflect.ValueOf(&b))
	case reflect.TypeFor[[]string]():
		list, ok := stringList(v)
		if !ok {
			return false
		}
		fv.Set(reflect.ValueOf(list))
	case reflect.TypeFor[[]Threat]():
		list, ok := threatList(v)
		if !ok {
			return false
		}
		fv.Set(reflect.ValueOf(list))
	default:
		return false
	}
	return true
}

// jsonSafeString is a string value that a JSON round trip leaves as it is
// (encoding/json replaces invalid UTF-8).
func jsonSafeString(v any) (string, bool) {
	s, ok := v.(string)
	return s, ok && utf8.ValidString(s)
}

// stringList converts a TOML array of strings; an empty array gives an
// empty, non-nil list, as JSON's [] does.
func stringList(v any) ([]string, bool) {
	a, ok := v.([]any)
	if !ok {
		return nil, false
	}
	out := make([]string, len(a))
	for i, e := range a {
		if out[i], ok = jsonSafeString(e); !ok {
			return nil, false
		}
	}
	return out, true
}

// tables returns the tables of an array of tables ([[x]]) or of an array
// of inline tables.
func tables(v any) ([]map[string]any, bool) {
	switch a := v.(type) {
	case []map[string]any:
		return a, true
	case []any:
		out := make([]map[string]any, len(a))
		for i, e := range a {
			m, ok := e.(map[string]any)
			if !ok {
				return nil, false
			}
			out[i] = m
		}
		return out, true
	}
	return nil, false
}

// threatList converts [[rule.threat]]. Keys other than the model's exact
// names (encoding/json would match them ignoring case, or skip them) and
// values of other types are left to the JSON route.
func threatList(v any) ([]Threat, bool) {
	ts, ok := tables(v)
	if !ok {
		return nil, false
	}
	out := make([]Threat, len(ts))
	for i, t := range ts {
		for k, x := range t {
			switch k {
			case "framework":
				out[i].Framework, ok = jsonSafeString(x)
			case "tactic":
				var m map[string]any
				if m, ok = x.(map[string]any); ok {
					ok = threatRef(m, &out[i].Tactic, false)
				}
			case "technique":
				out[i].Technique, ok = techniqueList(x)
			default:
				ok = false
			}
			if !ok {
				return nil, false
			}
		}
	}
	return out, true
}

func techniqueList(v any) ([]Technique, bool) {
	ts, ok := tables(v)
	if !ok {
		return nil, false
	}
	out := make([]Technique, len(ts))
	for i, t := range ts {
		if !threatRef(t, &out[i].ThreatRef, true) {
			return nil, false
		}
		sub, present := t["subtechnique"]
		if !present {
			continue
		}
		subs, ok := tables(sub)
		if !ok {
			return nil, false
		}
		out[i].Subtechnique = make([]ThreatRef, len(subs))
		for j, s := range subs {
			if !threatRef(s, &out[i].Subtechnique[j], false) {
				return nil, false
			}
		}
	}
	return out, true
}

// threatRef reads id, name and reference; withSub allows a subtechnique
// key (read by the caller).
func threatRef(m map[string]any, ref *ThreatRef, withSub bool) bool {
	for k, x := range m {
		var ok bool
		switch k {
		case "id":
			ref.ID, ok = jsonSafeString(x)
		case "name":
			ref.Name, ok = jsonSafeString(x)
		case "reference":
			ref.Reference, ok = jsonSafeString(x)
		case "subtechnique":
			ok = withSub
		}
		if !ok {
			return false
		}
	}
	return true
}
