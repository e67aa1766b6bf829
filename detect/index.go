package detect

import "strings"

// kibanaDefaultIndex is Kibana's securitySolution:defaultIndex, which a rule
// without index patterns and without a data view searches.
var kibanaDefaultIndex = []string{
	"apm-*-transaction*", "auditbeat-*", "endgame-*", "filebeat-*", "logs-*",
	"packetbeat-*", "traces-apm*", "winlogbeat-*", "-*elastic-cloud-logs-*",
}

// indexMatcher decides whether a rule searches an index, with Elasticsearch's
// rules for index expressions: a list is read in order, '*' is a wildcard, a
// leading '-' removes what earlier expressions added. A nil matcher (a rule
// with only a data view, whose patterns are unknown) searches everything.
type indexMatcher struct {
	exprs []indexExpr
}

type indexExpr struct {
	exclude bool
	pattern string
}

func newIndexMatcher(patterns []string) *indexMatcher {
	m := &indexMatcher{}
	for _, p := range patterns {
		// "a,b" in one entry is two expressions, as in a search URL.
		for _, e := range strings.Split(p, ",") {
			e = strings.TrimSpace(e)
			if e == "" {
				continue
			}
			x := indexExpr{pattern: e}
			if strings.HasPrefix(e, "-") && len(m.exprs) > 0 {
				x.exclude, x.pattern = true, e[1:]
			}
			// Cross-cluster expressions name a remote index; Vigil's events
			// are local, so the cluster part is dropped.
			if i := strings.IndexByte(x.pattern, ':'); i >= 0 {
				x.pattern = x.pattern[i+1:]
			}
			m.exprs = append(m.exprs, x)
		}
	}
	return m
}

// match reports whether index is searched. A data stream's backing index
// (.ds-<stream>-<date>-<generation>) is searched by patterns of its stream,
// since Elasticsearch resolves patterns against data stream names.
func (m *indexMatcher) match(index string) bool {
	if m == nil {
		return true
	}
	if m.matchName(index) {
		return true
	}
	if ds, ok := dataStreamOf(index); ok {
		return m.matchName(ds)
	}
	return false
}

func (m *indexMatcher) matchName(index string) bool {
	in := false
	for _, x := range m.exprs {
		if x.exclude {
			if in && wildcardMatch(x.pattern, index) {
				in = false
			}
		} else if !in && wildcardMatch(x.pattern, index) {
			in = true
		}
	}
	return in
}

// dataStreamOf returns the stream of a backing index name
// ".ds-logs-x-default-2024.01.31-000001".
func dataStreamOf(index string) (string, bool) {
	if !strings.HasPrefix(index, ".ds-") {
		return "", false
	}
	s := index[len(".ds-"):]
	i := strings.LastIndexByte(s, '-') // generation
	if i < 0 {
		return "", false
	}
	j := strings.LastIndexByte(s[:i], '-') // date
	if j <= 0 {
		return "", false
	}
	return s[:j], true
}

// wildcardMatch matches s against a pattern where '*' is any run of
// characters (index patterns have no other wildcard).
func wildcardMatch(p, s string) bool {
	parts := strings.Split(p, "*")
	if len(parts) == 1 {
		return p == s
	}
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	last := parts[len(parts)-1]
	for _, part := range parts[1 : len(parts)-1] {
		i := strings.Index(s, part)
		if i < 0 {
			return false
		}
		s = s[i+len(part):]
	}
	return len(s) >= len(last) && strings.HasSuffix(s, last)
}
