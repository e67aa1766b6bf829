package winlog

import (
	"strings"

	"golang.org/x/net/publicsuffix"
)

// registeredDomain splits a DNS query name into dns.question.
// registered_domain, top_level_domain and subdomain, as the Sysmon
// pipeline's registered_domain processor does, with the public suffix list
// (ICANN and private sections, as Elasticsearch's matcher reads it) of
// golang.org/x/net/publicsuffix. Names without a dot and IP addresses get
// nothing, as Elasticsearch finds no registered domain for them.
func (m *mapper) registeredDomain(q nodeID, name string) {
	name = strings.TrimSuffix(name, ".")
	if !strings.Contains(name, ".") || validIP(name) || strings.Contains(name, "..") {
		return
	}
	suffix, _ := publicsuffix.PublicSuffix(name)
	if suffix == "" {
		return
	}
	m.d.set(q, "top_level_domain", suffix)
	if len(suffix) >= len(name) {
		return // the name is itself a public suffix
	}
	rest := name[:len(name)-len(suffix)-1]
	i := strings.LastIndexByte(rest, '.')
	m.d.set(q, "registered_domain", name[i+1:])
	if i > 0 {
		m.d.set(q, "subdomain", rest[:i])
	}
}
