package schema

import (
	"bytes"
	"fmt"
	"net/netip"
	"strings"
)

// ParseIP parses an ip field value the way Elasticsearch does
// (org.elasticsearch.common.network.InetAddresses.forString): dotted-quad
// IPv4 without leading zeros, IPv6 with an optional trailing dotted quad, and
// a "%scope" suffix ignored. An IPv4-mapped IPv6 address comes back as IPv4,
// as java.net.InetAddress does, so "::ffff:10.0.0.1" equals "10.0.0.1".
// No host names are resolved.
func ParseIP(s string) (netip.Addr, bool) {
	b := ipStringToBytes(s)
	switch len(b) {
	case 4:
		return netip.AddrFrom4([4]byte(b)), true
	case 16:
		return netip.AddrFrom16([16]byte(b)).Unmap(), true
	}
	return netip.Addr{}, false
}

// CompareIP orders addresses like an Elasticsearch ip field: by their
// 16-byte form, in which IPv4 a.b.c.d is ::ffff:a.b.c.d.
func CompareIP(a, b netip.Addr) int {
	x, y := a.As16(), b.As16()
	return bytes.Compare(x[:], y[:])
}

// CIDRContains reports whether ip is in cidr, as EQL's cidrMatch does
// (CIDRUtils.isInRange): host bits of the network are ignored
// ("10.6.48.157/8" is 10.0.0.0/8), an address without "/len" must match
// exactly, and IPv4 matches its IPv4-mapped IPv6 form both ways. An invalid
// cidr is an error, as it is in Elasticsearch.
func CIDRContains(cidr string, ip netip.Addr) (bool, error) {
	c, err := ParseCIDR(cidr)
	if err != nil {
		return false, err
	}
	return c.Contains(ip), nil
}

// CIDR is a parsed cidrMatch range (or single address), as 16-byte bounds.
type CIDR struct{ lo, hi [16]byte }

// ParseCIDR parses a range as cidrMatch takes it (see CIDRContains), once,
// so that a query matches many addresses without parsing it again.
func ParseCIDR(cidr string) (CIDR, error) {
	var lower, upper []byte
	if strings.Contains(cidr, "/") {
		addrStr, lenStr, ok := strings.Cut(cidr, "/")
		if !ok || lenStr == "" || strings.Contains(lenStr, "/") {
			return CIDR{}, fmt.Errorf("expected [ip/prefix] but was [%s]", cidr)
		}
		addr := ipStringToBytes(addrStr)
		if addr == nil {
			return CIDR{}, fmt.Errorf("'%s' is not an IP string literal", addrStr)
		}
		if len(addr) == 16 && isMapped(addr) {
			// InetAddress turns a mapped address into IPv4; Elasticsearch
			// then refuses the ambiguous prefix length.
			return CIDR{}, fmt.Errorf("CIDR notation is not allowed with IPv6-mapped IPv4 address [%s]", addrStr)
		}
		bits, ok := parseJavaInt(lenStr)
		if !ok {
			return CIDR{}, fmt.Errorf("invalid prefix length [%s] in [%s]", lenStr, cidr)
		}
		if bits < 0 || bits > 8*len(addr) {
			return CIDR{}, fmt.Errorf("illegal prefix length [%d] in [%s]. Must be 0-32 for IPv4 ranges, 0-128 for IPv6 ranges", bits, cidr)
		}
		lower = append([]byte(nil), addr...)
		upper = append([]byte(nil), addr...)
		for i := bits; i < 8*len(addr); i++ {
			m := byte(1) << (7 - uint(i&7))
			lower[i>>3] &^= m
			upper[i>>3] |= m
		}
	} else {
		addr := ipStringToBytes(cidr)
		if addr == nil {
			return CIDR{}, fmt.Errorf("'%s' is not an IP string literal", cidr)
		}
		lower, upper = addr, addr
	}
	return CIDR{lo: to16(lower), hi: to16(upper)}, nil
}

// Contains reports whether ip is in the range.
func (c CIDR) Contains(ip netip.Addr) bool {
	if !ip.IsValid() {
		return false
	}
	a := ip.WithZone("").As16()
	return bytes.Compare(a[:], c.lo[:]) >= 0 && bytes.Compare(a[:], c.hi[:]) <= 0
}

func to16(b []byte) [16]byte {
	if len(b) == 4 {
		return netip.AddrFrom4([4]byte(b)).As16()
	}
	return [16]byte(b)
}

func isMapped(b []byte) bool {
	for i := 0; i < 10; i++ {
		if b[i] != 0 {
			return false
		}
	}
	return b[10] == 0xff && b[11] == 0xff
}

// parseJavaInt is Integer.parseInt: optional sign, decimal digits.
func parseJavaInt(s string) (int, bool) {
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg, s = s[0] == '-', s[1:]
	}
	if s == "" || len(s) > 10 {
		return 0, false
	}
	v, ok := atoi64(s)
	if !ok || !allDigits(s) || v > 1<<31 {
		return 0, false
	}
	if neg {
		v = -v
	}
	if v > 1<<31-1 {
		return 0, false
	}
	return int(v), true
}

// ipStringToBytes mirrors InetAddresses.ipStringToBytes: 4 bytes for IPv4,
// 16 for IPv6 (mapped addresses not yet unmapped), nil when invalid.
func ipStringToBytes(s string) []byte {
	lastColon := -1
	hasDot := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 0x80:
			return nil
		case c == '.':
			hasDot = true
		case c == ':':
			if hasDot {
				return nil // colons must not follow dots
			}
			lastColon = i
		case c == '%':
			if i == len(s)-1 {
				return nil // an empty scope id
			}
			s = s[:i] // the scope id is ignored
		}
		if c == '%' {
			break
		}
	}
	switch {
	case lastColon >= 0:
		if hasDot {
			quad := ipv4Bytes(s[lastColon+1:])
			if quad == nil {
				return nil
			}
			s = fmt.Sprintf("%s%02x%02x:%02x%02x", s[:lastColon+1], quad[0], quad[1], quad[2], quad[3])
		}
		return ipv6Bytes(s)
	case hasDot:
		return ipv4Bytes(s)
	}
	return nil
}

func ipv4Bytes(s string) []byte {
	out := make([]byte, 0, 4)
	digits, cur := 0, 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '.':
			if len(out) >= 3 || digits == 0 || cur > 255 {
				return nil
			}
			out = append(out, byte(cur))
			digits, cur = 0, 0
		case isDigit(c):
			if digits != 0 && cur == 0 {
				return nil // leading zero
			}
			cur = cur*10 + int(c-'0')
			digits++
			if digits > 3 {
				return nil
			}
		default:
			return nil
		}
	}
	if len(out) != 3 || digits == 0 || cur > 255 {
		return nil
	}
	return append(out, byte(cur))
}

func ipv6Bytes(s string) []byte {
	n := len(s)
	if n < 2 || (s[0] == ':' && s[1] != ':') || (s[n-1] == ':' && s[n-2] != ':') {
		return nil
	}
	var hextets []int
	compressed := -1
	start, cur := 0, 0
	for i := 0; i < n; i++ {
		c := s[i]
		switch {
		case c == ':':
			if start == i {
				if compressed >= 0 && i != 1 {
					return nil // a second "::"
				}
				compressed = len(hextets)
			} else {
				if len(hextets) >= 8 || cur > 0xffff {
					return nil
				}
				hextets = append(hextets, cur)
				cur = 0
			}
			start = i + 1
		case isDigit(c):
			cur = cur*16 + int(c-'0')
		case c >= 'a' && c <= 'f':
			cur = cur*16 + int(c-'a'+10)
		case c >= 'A' && c <= 'F':
			cur = cur*16 + int(c-'A'+10)
		default:
			return nil
		}
		if cur > 0xfffff {
			return nil // keeps the accumulator small; any value > 0xffff fails anyway
		}
	}
	if start < n {
		if len(hextets) >= 8 || cur > 0xffff {
			return nil
		}
		hextets = append(hextets, cur)
	}
	if compressed >= 0 {
		if len(hextets) >= 8 {
			return nil
		}
		fill := make([]int, 8-len(hextets))
		hextets = append(hextets[:compressed], append(fill, hextets[compressed:]...)...)
	} else if len(hextets) != 8 {
		return nil
	}
	out := make([]byte, 16)
	for i, h := range hextets {
		out[2*i], out[2*i+1] = byte(h>>8), byte(h)
	}
	return out
}
