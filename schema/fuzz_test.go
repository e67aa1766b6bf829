package schema

import (
	"errors"
	"net/netip"
	"sort"
	"strings"
	"testing"
)

// Seeds live in testdata/fuzz/<Name>/; these add a few inline ones.

func FuzzParseMapping(f *testing.F) {
	f.Add([]byte(`{"properties":{"a":{"type":"keyword"}}}`))
	f.Add([]byte("# c\n{\"mappings\":{\"properties\":{\"t\":{\"type\":\"text\",\"fields\":{\"[runtime_random_keyword_type]\":{\"type\":\"[runtime_random_keyword_type]\"}}}}}}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseMapping(data)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Line < 1 || pe.Col < 1 {
				t.Fatalf("error without a position: %v", err)
			}
			return
		}
		fields := m.Fields()
		if !sort.SliceIsSorted(fields, func(i, j int) bool { return fields[i].Name < fields[j].Name }) {
			t.Fatal("Fields() not sorted")
		}
		for _, fl := range fields {
			target, got, ok := m.Resolve(fl.Name)
			if fl.Type == Alias {
				// Validation guarantees one hop to a real field, unless a
				// cross-index conflict turned the target unusable.
				if ok && (target != fl.Path || got.Type == Alias) {
					t.Fatalf("alias %q resolved to %q %+v", fl.Name, target, got)
				}
				continue
			}
			if !ok || target != fl.Name || got.Name != fl.Name {
				t.Fatalf("Resolve(%q) = %q, %+v, %v", fl.Name, target, got, ok)
			}
			if fl.Type == Date && len(fl.Formats) == 0 {
				t.Fatalf("date field %q without formats", fl.Name)
			}
		}
	})
}

func FuzzParseDate(f *testing.F) {
	f.Add("2020-01-01", "")
	f.Add("2026-01-01T00:00:00.008Z", "")
	f.Add("2024-02-29T23:59:59.123456789Z", "")
	f.Add("2023-02-29T00:00:00Z", "")
	f.Add("2026-11-29T03:16:51.5Z", "")
	f.Add("12-12-2022", "dd-MM-yyyy")
	f.Fuzz(func(t *testing.T, s, format string) {
		formats, err := ParseDateFormats(format)
		if err != nil {
			formats = nil // the default formats
		}
		if fast, ok := parseISOFast(s); ok {
			// The fast path agrees with the general parser.
			if slow, ok := parseWith(s, defaultFormats); !ok || slow != fast {
				t.Fatalf("%q: fast path %d, default formats %d %v", s, fast, slow, ok)
			}
		}
		ms, ok := ParseDate(s, formats)
		if !ok {
			return
		}
		iso := FormatDateISO(ms)
		// Everything the default printer renders with a 4-digit year must
		// parse back to the same instant with the default formats.
		if ms >= -62167219200000 && ms < 253402300800000 {
			back, ok := ParseDate(iso, nil)
			if !ok || back != ms {
				t.Fatalf("%q (%q) -> %d -> %q -> %d, %v", s, format, ms, iso, back, ok)
			}
		}
	})
}

func FuzzParseIP(f *testing.F) {
	f.Add("10.0.0.1")
	f.Add("::ffff:1.2.3.4")
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := ParseIP(s)
		_, _ = CIDRContains(s, got)
		_, _ = CIDRContains(s+"/8", got)
		// Differential check against net/netip where both define the
		// syntax the same way: no scope ids, hex groups of at most 4 digits.
		if strings.Contains(s, "%") || longHexRun(s) {
			return
		}
		want, err := netip.ParseAddr(s)
		if (err == nil) != ok || (ok && got != want.Unmap()) {
			t.Fatalf("ParseIP(%q) = %v, %v; netip: %v, %v", s, got, ok, want, err)
		}
	})
}

func longHexRun(s string) bool {
	run := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' {
			run++
			if run > 4 {
				return true
			}
		} else {
			run = 0
		}
	}
	return false
}

func FuzzCompareVersion(f *testing.F) {
	f.Add("1.2.4-SNAPSHOT", "1.2.4")
	f.Add("bad", "1.11.3")
	f.Fuzz(func(t *testing.T, a, b string) {
		ab, ba := CompareVersion(a, b), CompareVersion(b, a)
		if ab != -ba {
			t.Fatalf("not antisymmetric: %q %q", a, b)
		}
		if ValidVersion(a) && !ValidVersion(b) && b != "" && b[0] > vNoPrereleaseSep && ab >= 0 {
			t.Fatalf("valid %q not before invalid %q", a, b)
		}
	})
}
