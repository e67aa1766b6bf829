package winlog

import (
	"crypto/sha1"
	"encoding/base64"
	"net/netip"
	"strings"
)

// Community ID v1 (https://github.com/corelight/community-id-spec), as
// Elasticsearch's community_id processor computes it for Sysmon network
// connections: seed 0, base64 of the SHA-1 of seed, the two addresses and
// ports ordered so both directions of a flow hash alike, the protocol
// number and a padding byte. Sysmon reports TCP and UDP only, so the ICMP
// type/code rules of the spec are not needed.

// ianaNumber is the protocol number of a network.transport name.
func ianaNumber(transport string) (uint8, bool) {
	switch strings.ToLower(transport) {
	case "tcp":
		return 6, true
	case "udp":
		return 17, true
	case "sctp":
		return 132, true
	}
	return 0, false
}

// appendCommunityID appends "1:<base64 sha1>" for the flow to b; ok is
// false when an address does not parse or the two are of different families.
func appendCommunityID(b []byte, srcIP, dstIP string, srcPort, dstPort uint16, proto uint8) ([]byte, bool) {
	src, err1 := netip.ParseAddr(srcIP)
	dst, err2 := netip.ParseAddr(dstIP)
	if err1 != nil || err2 != nil {
		return b, false
	}
	src, dst = src.Unmap(), dst.Unmap()
	if src.Is4() != dst.Is4() {
		return b, false
	}
	// Order the endpoints: the smaller address first, the smaller port when
	// the addresses are equal.
	if c := src.Compare(dst); c > 0 || (c == 0 && srcPort > dstPort) {
		src, dst = dst, src
		srcPort, dstPort = dstPort, srcPort
	}
	var buf [2 + 16 + 16 + 2 + 2 + 2]byte
	n := 2 // seed 0
	n += copy(buf[n:], src.AsSlice())
	n += copy(buf[n:], dst.AsSlice())
	buf[n] = proto
	buf[n+1] = 0
	buf[n+2], buf[n+3] = byte(srcPort>>8), byte(srcPort)
	buf[n+4], buf[n+5] = byte(dstPort>>8), byte(dstPort)
	n += 6
	sum := sha1.Sum(buf[:n])
	b = append(b, "1:"...)
	return base64.StdEncoding.AppendEncode(b, sum[:]), true
}
