package server

import (
	"strings"

	"github.com/vigilsec/vigil/source"
)

// SourceNormalizer picks a normaliser of the source registry (vendor
// formats: crowdstrike, sentinelone, m365defender, endgame, ...) for raw
// vendor payloads: the pipeline (?pipeline= or the action's "pipeline")
// when it names a registered format, else the index name: the whole name,
// or the first part of a data stream's dataset (logs-crowdstrike.fdr-default
// selects crowdstrike). Anything else passes through unchanged: pipelines of
// Elastic's integrations that shippers name are accepted, not applied.
// A record that is a batch of records (Format.Split) is normalised as its
// first element only would lose events, so it is rejected instead.
func SourceNormalizer(index, pipeline string, doc []byte) ([]byte, error) {
	f, ok := formatFor(index, pipeline)
	if !ok || f.Normalize == nil {
		return doc, nil
	}
	if f.Split != nil {
		if parts := f.Split(doc); len(parts) > 1 {
			return nil, &splitError{format: f.Name, n: len(parts)}
		}
	}
	return f.Normalize(nil, doc, "")
}

type splitError struct {
	format string
	n      int
}

func (e *splitError) Error() string {
	return "a " + e.format + " batch of records: send its " + itoa(e.n) + " records as separate documents"
}

func itoa(n int) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}

func formatFor(index, pipeline string) (source.Format, bool) {
	if pipeline != "" {
		if f, ok := source.Lookup(strings.ToLower(pipeline)); ok {
			return f, true
		}
	}
	if f, ok := source.Lookup(index); ok {
		return f, true
	}
	// A data stream: <type>-<dataset>-<namespace>.
	if parts := strings.Split(index, "-"); len(parts) >= 3 {
		ds := strings.Join(parts[1:len(parts)-1], "-")
		vendor, _, _ := strings.Cut(ds, ".")
		if f, ok := source.Lookup(vendor); ok {
			return f, true
		}
	}
	return source.Format{}, false
}
