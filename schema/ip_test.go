package schema

import (
	"net/netip"
	"testing"
)

func TestParseIP(t *testing.T) {
	cases := []struct {
		in, want string // want "" means invalid
	}{
		{"10.0.0.1", "10.0.0.1"},
		{"0.0.0.0", "0.0.0.0"},
		{"255.255.255.255", "255.255.255.255"},
		{"::1", "::1"},
		{"::", "::"},
		{"2001:db8::1", "2001:db8::1"},
		{"2001:DB8:0:0:0:0:0:1", "2001:db8::1"},
		{"::ffff:10.0.0.1", "10.0.0.1"}, // IPv4-mapped comes back as IPv4
		{"0:0:0:0:0:ffff:a00:1", "10.0.0.1"},
		{"::10.0.0.1", "::a00:1"}, // IPv4-compatible stays IPv6
		{"1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"},
		{"::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8"},
		{"fe80::1%eth0", "fe80::1"}, // scope ids are ignored
		{"10.0.0.1%x", "10.0.0.1"},
		{"01.0.0.1", ""}, // leading zeros are rejected
		{"10.0.0.01", ""},
		{"1.2.3", ""},
		{"1.2.3.4.5", ""},
		{"256.0.0.1", ""},
		{"1.2.3.", ""},
		{"1.2.3.4%", ""},
		{":::", ""},
		{"1::2::3", ""},
		{":1::", ""},
		{"1:2:3:4:5:6:7:8:9", ""},
		{"1:2:3:4:5:6:7:8::", ""},
		{"1:2:3:4:5:6:7", ""},
		{"12345::", ""},
		{"1.2.3.4::", ""},
		{"g::1", ""},
		{"::ffff:1.2.3", ""},
		{"", ""},
		{"localhost", ""},
		{"１.2.3.4", ""},
	}
	for _, c := range cases {
		got, ok := ParseIP(c.in)
		if c.want == "" {
			if ok {
				t.Errorf("ParseIP(%q) = %v, want invalid", c.in, got)
			}
			continue
		}
		if !ok || got.String() != c.want {
			t.Errorf("ParseIP(%q) = %v, %v; want %s", c.in, got, ok, c.want)
		}
	}
}

func TestCIDRContains(t *testing.T) {
	ip := func(s string) netip.Addr { return netip.MustParseAddr(s) }
	cases := []struct {
		cidr string
		ip   netip.Addr
		want bool
		err  bool
	}{
		{"10.6.48.157/8", ip("10.1.2.3"), true, false}, // host bits are masked
		{"10.6.48.157/8", ip("11.0.0.1"), false, false},
		{"10.0.0.0/8", ip("::ffff:10.1.1.1"), true, false}, // v4 range, mapped address
		{"10.0.0.1", ip("10.0.0.1"), true, false},          // no /len: exact match
		{"10.0.0.1", ip("10.0.0.2"), false, false},
		{"::ffff:10.0.0.1", ip("10.0.0.1"), true, false}, // mapped literal, v4 address
		{"192.168.0.0/16", ip("192.168.255.255"), true, false},
		{"192.168.0.0/16", ip("192.169.0.0"), false, false},
		{"0.0.0.0/0", ip("1.2.3.4"), true, false},
		{"0.0.0.0/0", ip("::1"), false, false},
		{"::/0", ip("1.2.3.4"), true, false}, // v4 lives at ::ffff:0:0/96
		{"2001:db8::/32", ip("2001:db8:1::1"), true, false},
		{"2001:db8::/32", ip("2001:db9::1"), false, false},
		{"10.0.0.0/32", ip("10.0.0.0"), true, false},
		{"10.0.0.0/+8", ip("10.0.0.0"), true, false}, // Integer.parseInt accepts a sign
		{"10.0.0.0/8", netip.Addr{}, false, false},
		{"::ffff:10.0.0.0/104", ip("10.0.0.1"), false, true},
		{"10.0.0.0/33", ip("10.0.0.1"), false, true},
		{"10.0.0.0/-1", ip("10.0.0.1"), false, true},
		{"10.0.0.0/", ip("10.0.0.1"), false, true},
		{"10.0.0.0/8/8", ip("10.0.0.1"), false, true},
		{"10.0.0.0/a", ip("10.0.0.1"), false, true},
		{"bad/8", ip("10.0.0.1"), false, true},
		{"bad", ip("10.0.0.1"), false, true},
	}
	for _, c := range cases {
		got, err := CIDRContains(c.cidr, c.ip)
		if (err != nil) != c.err || got != c.want {
			t.Errorf("CIDRContains(%q, %v) = %v, %v; want %v, err=%v", c.cidr, c.ip, got, err, c.want, c.err)
		}
	}
}

func TestCompareIP(t *testing.T) {
	a, _ := ParseIP("1.2.3.4")
	b, _ := ParseIP("::ffff:1.2.3.5")
	c, _ := ParseIP("::1")
	d, _ := ParseIP("2001:db8::1")
	if CompareIP(a, b) >= 0 || CompareIP(c, a) >= 0 || CompareIP(a, d) >= 0 {
		t.Error("ip order")
	}
	if CompareIP(a, netip.MustParseAddr("::ffff:1.2.3.4")) != 0 {
		t.Error("v4 and mapped v4 differ")
	}
}
