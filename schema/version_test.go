package schema

import (
	"sort"
	"testing"
)

func TestCompareVersionOrder(t *testing.T) {
	// Ascending, as an Elasticsearch version field sorts them.
	ordered := []string{
		"1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2",
		"1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.0+build.1", "1.2", "1.2.4-SNAPSHOT",
		"1.2.4", "1.5.0", "1.11.3", "2.0.0", "10.0.0", "20.1.0", "20.10.0",
		"", // invalid: encoded as 0x03, after every valid version
		"01.2", "1.2.3-", "bad", "bad2", "z",
	}
	for i := range ordered {
		for j := range ordered {
			got := CompareVersion(ordered[i], ordered[j])
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			if got != want {
				t.Errorf("CompareVersion(%q, %q) = %d, want %d", ordered[i], ordered[j], got, want)
			}
		}
	}
	shuffled := append([]string(nil), ordered...)
	sort.Slice(shuffled, func(a, b int) bool { return shuffled[a] > shuffled[b] }) // text order, reversed
	sort.Slice(shuffled, func(a, b int) bool { return CompareVersion(shuffled[a], shuffled[b]) < 0 })
	for i := range ordered {
		if shuffled[i] != ordered[i] {
			t.Fatalf("sorted %v", shuffled)
		}
	}
}

func TestCompareVersionBrief(t *testing.T) {
	// The relations the engine relies on.
	lt := [][2]string{
		{"1.2.4-SNAPSHOT", "1.2.4"}, {"1.2.4", "1.5.0"}, {"1.5.0", "1.11.3"}, {"1.11.3", "bad"},
		{"9.9.9", "10.0.0"}, {"1.0.0-2", "1.0.0-10"}, {"1.0.0-10", "1.0.0-a"},
	}
	for _, p := range lt {
		if CompareVersion(p[0], p[1]) >= 0 || CompareVersion(p[1], p[0]) <= 0 {
			t.Errorf("want %q < %q", p[0], p[1])
		}
	}
	if CompareVersion("1.2.3", "1.2.3") != 0 {
		t.Error("equal versions differ")
	}
}

func TestValidVersion(t *testing.T) {
	valid := []string{"1", "0", "1.2", "1.2.3", "1.2.3.4", "1.0.0-alpha", "1.0.0-0a", "1.0.0--", "1.0.0-alpha-1",
		"1.0.0+build", "1.0.0+build.01", "1.0.0-rc.1+build.2", "2147483647.0.0"}
	invalid := []string{"", "bad", "01.2", "1.02", "1.", ".1", "1..2", "-1.2", "1.2.3-", "1.2.3-01", "1.2.3-a_b",
		"1.2.3+", "1.2.3+a+b", "1.2.3+a..b", "v1.2.3", "1.2.3 ", "2147483648.0.0", "1.0.0-99999999999",
		"1.2.3.4.5.6.7.8.9.10.11.12.13.14.15.16.17.18.19.20.21.22.23.24.25.26.27.28.29.30.31.32.33"}
	for _, s := range valid {
		if !ValidVersion(s) {
			t.Errorf("ValidVersion(%q) = false", s)
		}
	}
	for _, s := range invalid {
		if ValidVersion(s) {
			t.Errorf("ValidVersion(%q) = true", s)
		}
	}
}

func TestVersionKey(t *testing.T) {
	if k := VersionKey(""); len(k) != 1 || k[0] != 0x03 {
		t.Errorf("VersionKey(\"\") = %x", k)
	}
	if k := VersionKey("bad"); string(k) != "bad" {
		t.Errorf("VersionKey(bad) = %q", k)
	}
	// 1.2-rc.3: digit groups carry a marker and their length.
	want := []byte{1, 0x81, '1', '.', 1, 0x81, '2', 2, '-', 'r', 'c', '.', 1, 0x81, '3'}
	if k := VersionKey("1.2-rc.3"); string(k) != string(want) {
		t.Errorf("VersionKey(1.2-rc.3) = %x, want %x", k, want)
	}
}
