package eql

import (
	"github.com/vigilsec/vigil/event"
	"github.com/vigilsec/vigil/schema"
)

// Types gives the compiler the field types of one index, from an
// Elasticsearch mapping. A nil *Types is schemaless.
type Types struct {
	m *schema.Mapping
}

// NewTypes wraps a parsed mapping.
func NewTypes(m *schema.Mapping) *Types { return &Types{m: m} }

func defaultDate(s string) (int64, bool) { return schema.ParseDate(s, nil) }

// info builds the compiler's resolver; tsField is a date even schemaless.
func (t *Types) info(tsField string) *typeInfo {
	ti := &typeInfo{dateFields: map[string]bool{tsField: true}, parseDate: defaultDate}
	if t == nil || t.m == nil {
		return ti
	}
	m := t.m
	ti.lookup = func(name string) (fieldInfo, bool) {
		target, f, ok := m.Resolve(name)
		if !ok {
			// ES maps fields it has not seen dynamically: an unmapped field
			// is read as its JSON kinds say (the timestamp is still a date).
			fi := fieldInfo{path: name, unmapped: true}
			if name == tsField {
				fi.typ, fi.parseDate = ftDate, defaultDate
			}
			return fi, true
		}
		fi := fieldInfo{path: target}
		switch f.Type {
		case schema.Keyword:
			fi.typ = ftKeyword
		case schema.Text:
			fi.typ = ftText
		case schema.Long:
			fi.typ = ftLong
		case schema.Double:
			fi.typ = ftDouble
		case schema.Boolean:
			fi.typ = ftBool
		case schema.Date:
			fi.typ = ftDate
			formats := f.Formats
			fi.parseDate = func(s string) (int64, bool) { return schema.ParseDate(s, formats) }
		case schema.IP:
			fi.typ = ftIP
		case schema.Version:
			fi.typ = ftVersion
		case schema.Object, schema.Nested:
			fi.typ = ftObject
		}
		if f.NullValue != nil {
			nv := event.StringValue(*f.NullValue)
			fi.nullValue = &nv
		}
		return fi, true
	}
	return ti
}

func compareVersionValues(a, b event.Value) (int, bool) {
	if a.Kind == event.String && b.Kind == event.String {
		return schema.CompareVersion(a.S, b.S), true
	}
	return compareValues(a, b)
}

func formatISODate(ms int64) string { return schema.FormatDateISO(ms) }
