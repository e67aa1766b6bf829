package source

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/vigilsec/vigil/event"
)

// A Format is one kind of record the Reader can turn into an ECS document:
// a name for --source, a cheap test on the raw record, and the normaliser.
// Adding a vendor is one Register call (or one entry in builtins).
type Format struct {
	// Name is what --source NAME selects; lower case.
	Name string
	// Aliases are other names accepted for the format.
	Aliases []string
	// Doc is a one-line description for help texts.
	Doc string
	// Sniff reports whether a raw record (one NDJSON line or array element,
	// not yet parsed) is of this format. It runs on every record that is
	// not plainly ECS, so it must be a few substring tests at most and
	// never wrong for records of the other registered formats.
	Sniff func(rec []byte) bool
	// BeforeECS makes Sniff run even on records that have an @timestamp,
	// before the ECS fast path: for formats whose raw records are Beats or
	// Agent documents (which carry @timestamp) that still need the
	// integration's ingest pipeline mapping. Such a Sniff runs on every ECS
	// record, so it must be one short substring test.
	BeforeECS bool
	// Split, when set, recognises a record that is a batch of records of
	// the format (an Event Hub envelope {"records":[...]}) and returns its
	// elements, which are then normalised one by one; nil means rec is a
	// single record. It runs only on records Sniff matched.
	Split func(rec []byte) [][]byte
	// Normalize appends the ECS document for rec to dst (one JSON object,
	// no newline). file names the input, for log.file.path; it may be
	// empty. An error is about rec alone: the Reader reports it with the
	// record's position and goes on. Nil means records pass through
	// unchanged (ECS).
	Normalize func(dst, rec []byte, file string) ([]byte, error)
}

// ErrMalformed is wrapped by normaliser errors about a record that is
// valid JSON but not a usable record of its format, so that callers can
// count it with the syntax errors.
var ErrMalformed = errors.New("malformed record")

// ECS is the name of the pass-through format: documents already in ECS
// (Elastic Defend, Winlogbeat output, vigil normalize output).
const ECS = "ecs"

var registry []Format

// Register adds a format. It panics on an empty or duplicate name, as
// registration happens at init time.
func Register(f Format) {
	if f.Name == "" {
		panic("source: Register: empty format name")
	}
	for _, n := range append([]string{f.Name}, f.Aliases...) {
		if _, ok := Lookup(n); ok {
			panic("source: Register: duplicate format name " + n)
		}
	}
	registry = append(registry, f)
}

// Formats returns the registered formats in registration order.
func Formats() []Format { return append([]Format(nil), registry...) }

// FormatNames returns every name --source accepts, sorted.
func FormatNames() []string {
	var names []string
	for _, f := range registry {
		names = append(names, f.Name)
		names = append(names, f.Aliases...)
	}
	sort.Strings(names)
	return names
}

// Lookup finds a format by name or alias, case-insensitively.
func Lookup(name string) (Format, bool) {
	for _, f := range registry {
		if strings.EqualFold(f.Name, name) {
			return f, true
		}
		for _, a := range f.Aliases {
			if strings.EqualFold(a, name) {
				return f, true
			}
		}
	}
	return Format{}, false
}

// CheckFormat validates a --source value ("" or "auto" mean detection).
func CheckFormat(name string) error {
	if name == "" || strings.EqualFold(name, "auto") {
		return nil
	}
	if _, ok := Lookup(name); !ok {
		return fmt.Errorf("unknown source %q (want auto, %s)", name, strings.Join(FormatNames(), ", "))
	}
	return nil
}

var timestampKey = []byte(`"@timestamp"`)

// isECS is the fast path of detection: a record with an @timestamp key is
// an ECS document (no raw vendor format has one), so the common case costs
// one short substring search, usually ending within the first bytes.
func isECS(rec []byte) bool { return bytes.Contains(rec, timestampKey) }

// converter holds the Reader's per-input format state.
type converter struct {
	forced *Format // --source: every record is of this format
	last   int     // index in registry of the format that matched last, or -1
	out    []byte  // the last normalised document
	// before says whether the formats recognised before the ECS fast
	// path (Winlogbeat, NXLog: they carry @timestamp too) are looked for
	// in this file: decided on its first record, since looking costs a
	// scan of every record (a third of reading ECS) and shippers write one
	// kind of record per file. 0: undecided, 1: yes, -1: no.
	before int8
}

// looksLikeObject: a record that decides the file's kind (a blank or
// broken first line does not).
func looksLikeObject(rec []byte) bool {
	t := bytes.TrimSpace(rec)
	return len(t) > 1 && t[0] == '{' && t[len(t)-1] == '}'
}

// newFile resets the per-file state.
func (c *converter) newFile() { c.before = 0 }

// detect returns the format of rec, or nil for ECS / unknown (passed through).
func (c *converter) detect(rec []byte) *Format {
	if c.forced != nil {
		if c.forced.Normalize == nil {
			return nil
		}
		return c.forced
	}
	if c.before >= 0 {
		for i := range registry {
			if f := &registry[i]; f.BeforeECS && f.Sniff != nil && f.Normalize != nil && f.Sniff(rec) {
				c.last = i
				c.before = 1
				return f
			}
		}
		if c.before == 0 && looksLikeObject(rec) {
			c.before = -1 // the file starts with another kind of record
		}
	}
	if isECS(rec) {
		return nil
	}
	// Records of one file are usually of one format: try the last one first.
	if c.last >= 0 && c.last < len(registry) {
		if f := &registry[c.last]; !f.BeforeECS && f.Sniff != nil && f.Sniff(rec) {
			return f
		}
	}
	for i := range registry {
		f := &registry[i]
		if i == c.last || f.BeforeECS || f.Sniff == nil || f.Normalize == nil {
			continue
		}
		if f.Sniff(rec) {
			c.last = i
			return f
		}
	}
	return nil
}

// RecordError is a record its format's normaliser rejected. It matches
// ErrMalformed with errors.Is, and the normaliser's own error (such as an
// *event.SyntaxError) with errors.As.
type RecordError struct {
	Format string
	Err    error
}

func (e *RecordError) Error() string {
	msg := e.Err.Error()
	if strings.HasPrefix(msg, e.Format+": ") {
		return msg // the normaliser named itself
	}
	return e.Format + ": " + msg
}
func (e *RecordError) Unwrap() []error { return []error{ErrMalformed, e.Err} }

// SetFormat makes every record be read as format name (as --source does);
// "" or "auto" restore detection per record. It must be called before the
// first Next.
func (r *Reader) SetFormat(name string) error {
	if err := CheckFormat(name); err != nil {
		return err
	}
	r.conv.forced = nil
	if name != "" && !strings.EqualFold(name, "auto") {
		f, _ := Lookup(name)
		r.conv.forced = &f
	}
	return nil
}

// convert turns a raw record into its ECS document when it is of a vendor
// format; ok is false when the record was rejected (reported).
func (r *Reader) convert(rec []byte, pos int) (out []byte, ok bool) {
	r.normalized = false
	f := r.conv.detect(rec)
	if f == nil {
		return rec, true
	}
	if f.Split != nil {
		if elems := f.Split(rec); elems != nil {
			r.batch, r.batchFmt, r.batchPos, r.batchIdx = elems, f, pos, 0
			return nil, false // Next hands the elements out
		}
	}
	return r.normalize(f, rec, pos, 0)
}

// normalize runs f's normaliser; elem is the 1-based element of a batch,
// or 0.
func (r *Reader) normalize(f *Format, rec []byte, pos, elem int) ([]byte, bool) {
	out, err := f.Normalize(r.conv.out[:0], rec, r.name)
	if err != nil {
		if elem > 0 {
			err = fmt.Errorf("batch element %d: %w", elem, err)
		}
		r.report(&Error{File: r.name, Line: pos, Err: &RecordError{Format: f.Name, Err: err}})
		return nil, false
	}
	r.conv.out = out
	r.normalized = true
	return out, true
}

// nextInBatch normalises the next element of the current batch; false
// when it was rejected (reported).
func (r *Reader) nextInBatch() ([]byte, bool) {
	e := r.batch[r.batchIdx]
	r.batchIdx++
	elem := r.batchIdx
	if r.batchIdx == len(r.batch) {
		r.batch = r.batch[:0]
		r.batchIdx = 0
	}
	return r.normalize(r.batchFmt, e, r.batchPos, elem)
}

// SplitRecords recognises an Azure Event Hub envelope, {"records":[...]}
// with nothing else in the object, and returns the array's elements (nil
// when rec is not one). Malformed envelopes return nil and are then
// rejected by the normaliser with a position.
func SplitRecords(rec []byte) [][]byte {
	t := bytes.TrimSpace(rec)
	if !bytes.HasPrefix(t, []byte("{")) || !bytes.HasSuffix(t, []byte("}")) {
		return nil
	}
	in := bytes.TrimSpace(t[1 : len(t)-1])
	if !bytes.HasPrefix(in, []byte(`"records"`)) {
		return nil
	}
	in = bytes.TrimSpace(in[len(`"records"`):])
	if len(in) == 0 || in[0] != ':' {
		return nil
	}
	in = bytes.TrimSpace(in[1:])
	if len(in) == 0 || in[0] != '[' {
		return nil
	}
	elems, err := event.SplitArray(in)
	if err != nil {
		return nil
	}
	if elems == nil {
		elems = [][]byte{}
	}
	return elems
}
