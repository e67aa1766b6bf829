// Package schema is the field-type layer: it reads an Elasticsearch index
// mapping and provides the value semantics (dates, versions, IPs, booleans)
// that Elasticsearch applies to fields of those types, so that the EQL engine
// can compare values the way Elasticsearch would.
package schema

// Type is the type of a field as the EQL engine sees it. Several
// Elasticsearch types collapse into one Type when they behave alike in EQL.
type Type uint8

const (
	Unknown     Type = iota // not in the mapping: schemaless, typed by the value itself
	Keyword                 // keyword, constant_keyword, wildcard, and text with a keyword sub-field
	Text                    // text (match_only_text) without a keyword sub-field
	Long                    // long, integer, short, byte, unsigned_long, token_count
	Double                  // double, float, half_float, scaled_float
	Boolean                 // boolean
	Date                    // date, date_nanos
	IP                      // ip
	Version                 // version (semver ordering)
	Object                  // object (also a mapping node with only "properties")
	Nested                  // nested
	Alias                   // alias; Field.Path names the target
	Unsupported             // any other type (geo_point, binary, ranges, ...) or a cross-index type conflict
)

var typeNames = [...]string{
	Unknown: "unknown", Keyword: "keyword", Text: "text", Long: "long", Double: "double",
	Boolean: "boolean", Date: "date", IP: "ip", Version: "version", Object: "object",
	Nested: "nested", Alias: "alias", Unsupported: "unsupported",
}

func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return "unknown"
}

// Field is one mapped field.
type Field struct {
	Name string // full dotted path
	Type Type
	// ESType is the Elasticsearch type as written in the mapping ("text",
	// "wildcard", "integer", ...), for messages and for the rare place where
	// the collapsed Type is not enough.
	ESType string
	// NullValue is the mapping's "null_value" rendered as a string: Elasticsearch
	// indexes it in place of an explicit JSON null. Nil when absent.
	NullValue *string
	// Formats are the parsed "format" of a Date field, tried in order.
	Formats []DateFormat
	// Path is the target of an Alias field.
	Path string
	// IgnoreAbove is the keyword "ignore_above" limit (for a text field, that
	// of its keyword sub-field): longer strings are not indexed, so
	// Elasticsearch filters never match them. 0 means no limit.
	IgnoreAbove int
	// Exact is, for a text field with a keyword sub-field, the sub-field
	// Elasticsearch uses for exact comparisons (e.g. "file_name.keyword").
	Exact string
}
