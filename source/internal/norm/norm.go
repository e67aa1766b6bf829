// Package norm holds what the vendor normalisers share: reading the
// members of a flat JSON object into slots by key (one map probe per key,
// no decoding into maps), time conversions, path and command-line helpers
// that follow Elastic's ingest pipelines.
package norm

import (
	"strconv"
	"strings"
	"time"

	"github.com/vigilsec/vigil/event"
	"github.com/vigilsec/vigil/internal/cmdline"
)

// Schema numbers the keys a normaliser reads from one object.
type Schema struct {
	ids map[string]int
	n   int
}

// NewSchema returns a schema over keys; Rec slot i is keys[i].
func NewSchema(keys ...string) *Schema {
	s := &Schema{ids: make(map[string]int, len(keys)), n: len(keys)}
	for i, k := range keys {
		s.ids[k] = i
	}
	return s
}

// Len is the number of keys (slots).
func (s *Schema) Len() int { return s.n }

// Rec holds the values of one object, by slot. Strings alias the parsed
// document: valid until the parser's next Parse.
type Rec struct {
	vals []event.Node
	has  []bool
	// Other, when set, receives members whose key is not in the schema.
	Other func(key string, v event.Node)
}

// Read fills r from the object node obj (a non-object leaves r empty).
func (s *Schema) Read(obj event.Node, r *Rec) {
	if cap(r.vals) < s.n {
		r.vals = make([]event.Node, s.n)
		r.has = make([]bool, s.n)
	}
	r.vals, r.has = r.vals[:s.n], r.has[:s.n]
	clear(r.has)
	if obj.Kind() != event.NodeObject {
		return
	}
	obj.Members(func(k string, v event.Node) {
		if i, ok := s.ids[k]; ok {
			if v.Kind() != event.NodeNull {
				r.vals[i], r.has[i] = v, true
			}
			return
		}
		if r.Other != nil {
			r.Other(k, v)
		}
	})
}

// Has reports whether slot i is present and not null.
func (r *Rec) Has(i int) bool { return r.has[i] }

// Node returns slot i (check Has first).
func (r *Rec) Node(i int) event.Node { return r.vals[i] }

// Str is slot i as text: a string's content, a number's literal, "true" or
// "false"; "" when absent, null, an object or an array.
func (r *Rec) Str(i int) string {
	if !r.has[i] {
		return ""
	}
	switch r.vals[i].Kind() {
	case event.NodeObject, event.NodeArray:
		return ""
	}
	return r.vals[i].Text()
}

// Int is slot i as an integer (a number or a numeric string).
func (r *Rec) Int(i int) (int64, bool) {
	s := r.Str(i)
	if s == "" {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		f, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil || f != f {
			return 0, false
		}
		return int64(f), true
	}
	return n, true
}

// Bool is slot i as Elasticsearch's convert to boolean reads it.
func (r *Rec) Bool(i int) (v, ok bool) {
	switch strings.ToLower(r.Str(i)) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	return false, false
}

// ISO renders t as Elasticsearch stores dates parsed by an ingest date
// processor: UTC, milliseconds, "Z".
func ISO(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// Millis renders Unix milliseconds as ISO.
func Millis(ms int64) string { return ISO(time.UnixMilli(ms)) }

// FileTimeEpoch is the Windows FILETIME of the Unix epoch (100 ns units
// since 1601-01-01).
const FileTimeEpoch = 116444736000000000

// FileTime converts a Windows FILETIME to a time.
func FileTime(ft int64) time.Time {
	d := ft - FileTimeEpoch
	return time.Unix(d/1e7, (d%1e7)*100)
}

// EpochSeconds parses "1625677502.233" (seconds with an optional fraction)
// as the date processor's UNIX format does.
func EpochSeconds(s string) (time.Time, bool) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != f || f < -1e12 || f > 1e12 {
		return time.Time{}, false
	}
	ms := int64(f*1000 + 0.5)
	if f < 0 {
		ms = int64(f*1000 - 0.5)
	}
	return time.UnixMilli(ms), true
}

// Date parses an ISO 8601 date or epoch milliseconds (the "ISO8601,
// epoch_millis" format list of the pipelines).
func Date(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, false
	}
	// Epoch milliseconds first: failed time.Parse calls allocate errors.
	if s[0] >= '0' && s[0] <= '9' && strings.IndexByte(s, '-') < 0 {
		if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
			return time.UnixMilli(ms), true
		}
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, true
	}
	for _, layout := range []string{"2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02T15:04:05.999999999Z0700"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.UnixMilli(ms), true
	}
	return time.Time{}, false
}

// Argv splits a command line with the Windows rules (commandLineToArgv)
// that the Sysmon, SentinelOne and CrowdStrike pipelines port; see
// ../shared/telemetry/ARGS-SPLITTING.md section 1.
func Argv(cmd string) []string { return cmdline.WindowsArgv(cmd) }

// SplitSpaces splits on single spaces and drops empty strings, after
// trimming: the M365 Defender pipeline's "best effort" split, which keeps
// quotes.
func SplitSpaces(cmd string) []string {
	cmd = strings.TrimSpace(cmd)
	var args []string
	for cmd != "" {
		i := strings.IndexByte(cmd, ' ')
		if i < 0 {
			args = append(args, cmd)
			break
		}
		if i > 0 {
			args = append(args, cmd[:i])
		}
		cmd = cmd[i+1:]
	}
	return args
}

// Base is the text after the last sep, or s when it has none.
func Base(s string, sep byte) string {
	if i := strings.LastIndexByte(s, sep); i >= 0 {
		return s[i+1:]
	}
	return s
}

// WinBase is the file name of a Windows or POSIX path.
func WinBase(s string) string {
	if i := strings.LastIndexAny(s, `\/`); i >= 0 {
		return s[i+1:]
	}
	return s
}

// Ext is the extension without the dot of a file name ("" when none), as
// the pipelines' file.extension scripts compute it.
func Ext(name string) string {
	i := strings.LastIndexByte(name, '.')
	if i < 0 || i == len(name)-1 {
		return ""
	}
	return name[i+1:]
}

// AppendUnique appends s to list when it is not empty and not already in it
// (the append processor with allow_duplicates: false).
func AppendUnique(list []string, s ...string) []string {
outer:
	for _, v := range s {
		if v == "" {
			continue
		}
		for _, w := range list {
			if w == v {
				continue outer
			}
		}
		list = append(list, v)
	}
	return list
}

// DataStream sets _index and data_stream.* for dataset in namespace
// "default", so that rule index patterns gate the document as in
// Elasticsearch.
func DataStream(d *event.Builder, dataset string) {
	d.Set("_index", "logs-"+dataset+"-default")
	ds := d.Obj("data_stream")
	ds.Set("type", "logs")
	ds.Set("dataset", dataset)
	ds.Set("namespace", "default")
}
