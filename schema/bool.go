package schema

// ParseBool parses a boolean field value as Elasticsearch does: JSON true and
// false arrive here as "true" and "false", the same strings are accepted
// (case-sensitively), and the empty string is false. Anything else ("yes",
// "1", "True") is rejected, which in Elasticsearch fails the document.
func ParseBool(s string) (value, ok bool) {
	switch s {
	case "true":
		return true, true
	case "false", "":
		return false, true
	}
	return false, false
}
