package winlog

import "testing"

// TestCommunityID checks the published Community ID v1 examples (seed 0,
// base64): the spec's README flow and the example of Tenzir's
// community_id documentation, each in both directions.
func TestCommunityID(t *testing.T) {
	for _, c := range []struct {
		src, dst   string
		sport, dpt uint16
		proto      uint8
		want       string
	}{
		{"128.232.110.120", "66.35.250.204", 34855, 80, 6, "1:LQU9qZlK+B5F3KDmev6m5PMibrg="},
		{"66.35.250.204", "128.232.110.120", 80, 34855, 6, "1:LQU9qZlK+B5F3KDmev6m5PMibrg="},
		{"1.2.3.4", "43.3.132.3", 4584, 3483, 6, "1:koNcqhFRD5kb254ZrLsdv630jCM="},
		{"43.3.132.3", "1.2.3.4", 3483, 4584, 6, "1:koNcqhFRD5kb254ZrLsdv630jCM="},
	} {
		got, ok := appendCommunityID(nil, c.src, c.dst, c.sport, c.dpt, c.proto)
		if !ok || string(got) != c.want {
			t.Errorf("%s:%d -> %s:%d proto %d = %q, %v; want %q", c.src, c.sport, c.dst, c.dpt, c.proto, got, ok, c.want)
		}
	}
	if _, ok := appendCommunityID(nil, "1.2.3.4", "::1", 1, 2, 6); ok {
		t.Error("mixed address families accepted")
	}
	if _, ok := appendCommunityID(nil, "1.2.3", "1.2.3.4", 1, 2, 6); ok {
		t.Error("bad address accepted")
	}
}
