package schema

import (
	"bytes"
	"strings"
)

// The version field type sorts by an encoding, not by the text. This is a
// port of the ordering of Elasticsearch's VersionEncoder
// (x-pack/plugin/mapper-version): valid semver-like versions start with the
// byte 0x01, so every invalid version, stored as its raw UTF-8 bytes, sorts
// after all valid ones; the empty string is stored as 0x03.
const (
	vNumericMarker   = 0x01
	vPrereleaseSep   = 0x02
	vNoPrereleaseSep = 0x03
	vMaxIdentifiers  = 32 // more dot-separated identifiers make a version invalid
)

// CompareVersion orders two version field values as Elasticsearch does:
// major.minor.patch numerically (any number of numeric parts is allowed),
// a pre-release before its release (1.2.4-SNAPSHOT < 1.2.4), numeric
// pre-release identifiers numerically and before alphanumeric ones, and
// invalid versions ("bad") after all valid ones, bytewise among themselves.
func CompareVersion(a, b string) int {
	return bytes.Compare(VersionKey(a), VersionKey(b))
}

// ValidVersion reports whether s is a valid version: a relaxed semver with
// one or more numeric parts without leading zeros, then an optional
// pre-release ("-rc.1") and an optional build suffix ("+20130313").
func ValidVersion(s string) bool {
	_, ok := encodeVersion(s)
	return ok
}

// VersionKey returns the sort key of a version value: comparing keys
// bytewise is CompareVersion. Useful for indexing and sorting.
func VersionKey(s string) []byte {
	k, _ := encodeVersion(s)
	return k
}

func encodeVersion(s string) ([]byte, bool) {
	main, pre, build := splitVersion(s)
	if !legalVersion(main, pre, build) {
		if s == "" {
			return []byte{vNoPrereleaseSep}, false
		}
		return []byte(s), false
	}
	out := make([]byte, 0, len(s)+8)
	var ok bool
	if out, ok = appendDigitGroups(out, main); !ok {
		return []byte(s), false
	}
	if pre != "" {
		out = append(out, vPrereleaseSep, '-')
		for i, id := range strings.Split(pre[1:], ".") {
			if i > 0 {
				out = append(out, '.')
			}
			if allDigits(id) {
				if out, ok = appendDigitGroups(out, id); !ok {
					return []byte(s), false
				}
			} else {
				out = append(out, id...)
			}
		}
	} else {
		out = append(out, vNoPrereleaseSep)
	}
	return append(out, build...), true
}

// appendDigitGroups prefixes each run of digits with a marker and its length
// so that longer numbers sort higher. Elasticsearch rejects digit runs of 128
// or more, and (parsing them as Java ints) first three runs that overflow an
// int, at index time; such values are treated as invalid here.
func appendDigitGroups(out []byte, s string) ([]byte, bool) {
	parts := 0
	for i := 0; i < len(s); {
		if !isDigit(s[i]) {
			out = append(out, s[i])
			i++
			continue
		}
		j := i
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		if j-i >= 128 {
			return out, false
		}
		if parts < 3 {
			if v, ok := atoi64(s[i:j]); !ok || v > 1<<31-1 {
				return out, false
			}
		}
		parts++
		out = append(out, vNumericMarker, byte(j-i)|0x80)
		out = append(out, s[i:j]...)
		i = j
	}
	return out, true
}

// splitVersion separates "main-pre+build" at the first '+' and then the
// first '-', each only when not at position 0.
func splitVersion(s string) (main, pre, build string) {
	if i := strings.IndexByte(s, '+'); i > 0 {
		s, build = s[:i], s[i:]
	}
	if i := strings.IndexByte(s, '-'); i > 0 {
		s, pre = s[:i], s[i:]
	}
	return s, pre, build
}

func legalVersion(main, pre, build string) bool {
	for _, part := range []string{main, pre, build} {
		if strings.Count(part, ".")+1 > vMaxIdentifiers {
			return false
		}
	}
	// main: (0|[1-9]\d*)(\.(0|[1-9]\d*))*
	for _, id := range strings.Split(main, ".") {
		if !allDigits(id) || (len(id) > 1 && id[0] == '0') {
			return false
		}
	}
	// pre-release: -id(.id)* with id 0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*
	if pre != "" {
		for _, id := range strings.Split(pre[1:], ".") {
			if !alnumHyphen(id) || (allDigits(id) && len(id) > 1 && id[0] == '0') {
				return false
			}
		}
	}
	// build: +id(.id)* with id [0-9a-zA-Z-]+
	if build != "" {
		for _, id := range strings.Split(build[1:], ".") {
			if !alnumHyphen(id) {
				return false
			}
		}
	}
	return true
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

func alnumHyphen(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(isDigit(c) || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-') {
			return false
		}
	}
	return true
}
