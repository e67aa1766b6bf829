package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigilsec/vigil/eql"
	"github.com/vigilsec/vigil/event"
	"github.com/vigilsec/vigil/internal/progress"
	"github.com/vigilsec/vigil/schema"
	"github.com/vigilsec/vigil/source"
)

type eqlFlags struct {
	format         string
	size           int
	timestampField string
	tiebreaker     string
	categoryField  string
	resultPosition string
	mappings       []string
	stats          bool
	reorderWindow  time.Duration
	source         string
}

func newEQLCmd(e *env) *cobra.Command {
	f := &eqlFlags{}
	cmd := &cobra.Command{
		Use:   "eql [flags] QUERY [PATH...]",
		Short: "Run one EQL query over event files or stdin",
		Long: `Run one EQL query (event, sequence or sample) over events and print what
matches, as Elasticsearch's EQL search would return it.

Each PATH is a file or a directory (searched recursively for *.json, *.ndjson,
*.jsonl and *.gz). A file holds NDJSON, one event per line, or one JSON array
of events; gzip compression is detected from the content. Without PATH, or
with "-", events are read from stdin. Each file is an index named after it
(events.ndjson.gz: "events"; stdin: "stdin"). An event's _id is its own
top-level "_id" string if it has one, else "<index>:<line>" (for a JSON
array, "<index>:<element number>").

Malformed lines are reported on stderr as file:line: message and skipped;
the run goes on. (Lines that the query's literal prefilter rules out are
skipped unparsed, so they are not checked.) A summary (files, lines, malformed, matches, speed) is
printed on stderr when it is a terminal or with --stats, as is a progress bar
while reading files.

Output formats:
  json    one document like the body of Elasticsearch's EQL search response:
          {"hits":{"total":{"value":N,"relation":"eq"},"events":[{"_index","_id","_source"}]}}
          or, for sequence and sample queries,
          {"hits":{...,"sequences":[{"join_keys":[...],"events":[...]}]}}
          where a missing-event step ![...] is {"missing":true}
  ndjson  one event (or one sequence) per line, shaped as in json
  table   readable columns; the default when stdout is a terminal
          (colour unless NO_COLOR is set)

` + exitCodesHelp,
		Example: `  vigil eql 'process where process.name == "net.exe" and process.args : "/add"' events.ndjson
  vigil eql --size 10 --result-position head 'any where true' a.ndjson b.json.gz
  vigil eql 'sequence by user.name with maxspan=5m
               [authentication where event.outcome == "failure"] with runs=3
               [authentication where event.outcome == "success"]' auth/
  vigil eql --mapping winlogbeat.json --mapping sysmon.json 'process where true' winlog.ndjson sysmon.ndjson
  cat events.ndjson | vigil eql --format ndjson 'file where file.extension : "ps1"'`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) < 1 {
				return usageErrorf("eql: missing QUERY")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runEQL(e, f, args[0], args[1:])
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.format, "format", "", "output format: json, ndjson or table (default table on a terminal, else json)")
	fl.IntVar(&f.size, "size", eql.NoLimit, "return at most `N` events or sequences, as Elasticsearch's size (-1: no limit)")
	fl.StringVar(&f.timestampField, "timestamp-field", "@timestamp", "field holding the event time")
	fl.StringVar(&f.tiebreaker, "tiebreaker-field", "", "field that orders events with the same timestamp (default none)")
	fl.StringVar(&f.categoryField, "event-category-field", "event.category", "field holding the event category")
	fl.StringVar(&f.resultPosition, "result-position", "tail", "with --size or head/tail pipes, keep the first (head) or last (tail) results")
	fl.StringArrayVar(&f.mappings, "mapping", nil, "Elasticsearch index mapping JSON `FILE` (field types, aliases, null_value); once for all\nPATHs, or once per PATH in the same order when the files are indices with different mappings")
	fl.DurationVar(&f.reorderWindow, "reorder-window", 15*time.Minute, "sequences: reorder events that arrive up to this much (event time) out of order;\n0 holds every candidate for an exact global order (memory grows with the input)")
	fl.BoolVar(&f.stats, "stats", false, "print the summary on stderr even when it is not a terminal")
	fl.StringVar(&f.source, "source", "", sourceFlagHelp())
	return cmd
}

// input is one PATH with the matcher of its index mapping.
type input struct {
	rd *source.Reader
	m  *eql.Matcher
}

// stats are the counts of the summary.
type stats struct {
	files, skippedFiles int
	lines               int64
	prefiltered         int64
	malformed           int64
	unreadable          int64
	matches             int
	bytes               int64
}

// stderrSink writes diagnostics to stderr, clearing the progress bar first
// so that lines do not land in the middle of it.
// Safe for use by several goroutines (hunt's workers report bad lines).
type stderrSink struct {
	e   *env
	bar *progress.Bar
	mu  sync.Mutex
}

func (s *stderrSink) printf(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bar.Clear()
	fmt.Fprintf(s.e.stderr, format, args...)
}

func runEQL(e *env, f *eqlFlags, query string, paths []string) error {
	start := time.Now()

	format := f.format
	_, stdoutTTY := terminal(e.stdout)
	switch format {
	case "":
		format = "json"
		if stdoutTTY {
			format = "table"
		}
	case "json", "ndjson", "table":
	default:
		return usageErrorf("eql: --format %q: want json, ndjson or table", format)
	}
	if err := checkSource("eql", f.source); err != nil {
		return err
	}
	if f.resultPosition != "head" && f.resultPosition != "tail" {
		return usageErrorf("eql: --result-position %q: want head or tail", f.resultPosition)
	}
	if f.size < eql.NoLimit {
		return usageErrorf("eql: --size %d: want a count, or -1 for no limit", f.size)
	}
	if len(f.mappings) > 1 && len(f.mappings) != len(paths) {
		return usageErrorf("eql: %d --mapping flags for %d PATHs: give one mapping for all inputs, or one per PATH in the same order", len(f.mappings), len(paths))
	}

	q, err := eql.Parse(query)
	if err != nil {
		return queryErr("invalid query", err)
	}
	prog, err := eql.Compile(q, eql.Options{
		TimestampField:  f.timestampField,
		TiebreakerField: f.tiebreaker,
		CategoryField:   f.categoryField,
		Size:            f.size,
		ResultPosition:  f.resultPosition,
	})
	if err != nil {
		return queryErr("invalid query", err)
	}
	matchers, err := loadMatchers(prog, f.mappings)
	if err != nil {
		return err
	}

	sink := &stderrSink{e: e}
	var st stats
	if len(paths) == 0 {
		paths = []string{"-"}
	}
	inputs := make([]input, 0, len(paths))
	for i, rd := range openInputs(e, paths, f.source, sink, &st) {
		if rd == nil {
			continue
		}
		in := input{rd: rd, m: matchers[0]}
		if len(matchers) > 1 {
			in.m = matchers[i]
		}
		inputs = append(inputs, in)
	}

	runner := prog.NewRunner()
	// Candidates are reordered within the window (event time), so memory
	// follows the window and the open sequences, not the input; 0 holds
	// everything for an exact global order.
	runner.ReorderWindow = f.reorderWindow
	var types []*eql.Types
	for _, m := range matchers {
		types = append(types, m.Types())
	}
	sc := scanner{runner: runner, pf: prog.Prefilter(types...), sink: sink, st: &st}
	for _, in := range inputs {
		// Open until the results are out: candidates of plain files are
		// kept by position and read back by Finish.
		defer in.rd.Close()
		sc.scan(in, st.bytes)
		st.files += in.rd.Files()
		st.skippedFiles += in.rd.SkippedFiles()
		st.bytes += in.rd.BytesRead()
	}
	res, finishErr := finish(runner, sink)

	took := time.Since(start)
	kind := prog.Query.Kind
	st.matches = len(res.Events)
	if kind != eql.EventQuery {
		st.matches = len(res.Sequences)
	}
	out := bufio.NewWriterSize(e.stdout, 64<<10)
	switch format {
	case "json":
		writeJSON(out, res, kind, took)
	case "ndjson":
		writeNDJSON(out, res, kind)
	case "table":
		t := &tableWriter{
			w:        out,
			color:    stdoutTTY && e.getenv("NO_COLOR") == "" && e.getenv("TERM") != "dumb",
			width:    termWidth(e.stdout),
			tsField:  prog.Opts.TimestampField,
			catField: prog.Opts.CategoryField,
		}
		t.write(res, kind)
	}
	if err := out.Flush(); err != nil {
		return &exitError{code: exitInput, msg: fmt.Sprintf("writing results: %v", err)}
	}

	if _, stderrTTY := terminal(e.stderr); stderrTTY || f.stats {
		printSummary(sink, &st, runner, prog, time.Since(start))
	}
	if st.malformed > 0 || st.unreadable > 0 || finishErr != nil {
		return &exitError{code: exitInput}
	}
	return nil
}

// finish drains the runner and names the result events. An error means
// an event could not be read back from its file: it is reported on stderr,
// and the results that could be read are returned.
func finish(runner *eql.Runner, sink *stderrSink) (*eql.Results, error) {
	res, err := runner.Finish()
	sink.bar.Clear()
	if res == nil {
		res = &eql.Results{}
	}
	if err != nil {
		for _, line := range strings.Split(err.Error(), "\n") {
			sink.printf("vigil: %s; results with that event are left out\n", line)
		}
		dropUnread(res)
	}
	nameHits(res)
	return res, err
}

// dropUnread leaves out the results with an event Finish could not read
// back (no source, not a missing-event placeholder), so that what is
// printed is whole.
func dropUnread(res *eql.Results) {
	read := func(h *eql.Hit) bool { return h.Missing || h.Source != nil }
	events := res.Events[:0]
	for _, h := range res.Events {
		if read(h) {
			events = append(events, h)
		}
	}
	res.Events = events
	seqs := res.Sequences[:0]
	for _, s := range res.Sequences {
		whole := true
		for _, h := range s.Events {
			whole = whole && read(h)
		}
		if whole {
			seqs = append(seqs, s)
		}
	}
	res.Sequences = seqs
}

var idPath = event.CompilePath("_id")

// nameHits gives each result event its _id: the document's own top-level
// "_id" string if it has one, else "<index>:<line>". It is done here, on
// the few results, rather than for every line read.
func nameHits(res *eql.Results) {
	var p event.Parser
	name := func(h *eql.Hit) {
		if h.Missing || h.ID != "" {
			return
		}
		// Most events have no _id: a byte search spares them the parse.
		if bytes.Contains(h.Source, []byte(`"_id"`)) {
			if doc, err := p.Parse(h.Source); err == nil {
				if v, ok := doc.First(idPath); ok && v.Kind == event.String {
					h.ID = strings.Clone(v.S) // v.S aliases the parser's buffer
					return
				}
			}
		}
		h.ID = h.Index + ":" + strconv.Itoa(h.Line)
	}
	for _, h := range res.Events {
		name(h)
	}
	for _, s := range res.Sequences {
		for _, h := range s.Events {
			name(h)
		}
	}
}

// queryErr turns a query error into exit 2, with the query line and a
// caret under the offending column when the error has a position.
func queryErr(what string, err error) error {
	var qe *eql.Error
	if errors.As(err, &qe) {
		return &exitError{code: exitUsage, msg: what + ": " + qe.Detail(), noHint: true}
	}
	return &exitError{code: exitUsage, msg: what + ": " + err.Error(), noHint: true}
}

// loadMatchers compiles the program once per mapping: a Matcher carries
// an index's field types. No mapping gives one schemaless matcher.
func loadMatchers(prog *eql.Program, mappings []string) ([]*eql.Matcher, error) {
	if len(mappings) == 0 {
		m, err := prog.Matcher(nil)
		if err != nil {
			return nil, queryErr("invalid query", err)
		}
		return []*eql.Matcher{m}, nil
	}
	out := make([]*eql.Matcher, len(mappings))
	for i, file := range mappings {
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, usageErrorf("eql: --mapping %s", pathError(file, err))
		}
		mp, err := schema.ParseMapping(data)
		if err != nil {
			var pe *schema.ParseError
			if errors.As(err, &pe) {
				return nil, usageErrorf("eql: --mapping %s:%d:%d: %s", file, pe.Line, pe.Col, pe.Msg)
			}
			return nil, usageErrorf("eql: --mapping %s: %v", file, err)
		}
		m, err := prog.Matcher(eql.NewTypes(mp))
		if err != nil {
			return nil, queryErr("invalid query for the fields of "+file, err)
		}
		out[i] = m
	}
	return out, nil
}

// pathError renders an os error as "path: reason" without the operation
// name Go puts in *fs.PathError ("open x: no such file or directory").
func pathError(path string, err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return path + ": " + pe.Err.Error()
	}
	return path + ": " + err.Error()
}

// indexName is the index a file stands for: its base name without the
// compression and format extensions ("logs/events.ndjson.gz": "events").
func indexName(file string) string {
	base := filepath.Base(file)
	if ext := filepath.Ext(base); strings.EqualFold(ext, ".gz") {
		base = strings.TrimSuffix(base, ext)
	}
	if ext := filepath.Ext(base); ext != "" && ext != base {
		base = strings.TrimSuffix(base, ext)
	}
	return base
}

// scanner is the per-record loop, kept apart so that its state (parser)
// is reused across files.
type scanner struct {
	runner *eql.Runner
	pf     *eql.Prefilter
	sink   *stderrSink
	st     *stats
	parser event.Parser
}

// scan feeds every record of one input to the runner; done is the byte
// count of the inputs before it, for progress.
func (s *scanner) scan(in input, done int64) {
	eachRecord(in.rd, s.sink, s.st, nil, done, func(line []byte, src eql.Source) error {
		if s.pf != nil && !s.pf.MayMatch(line) {
			s.st.prefiltered++
			return nil
		}
		doc, err := s.parser.Parse(line)
		if err != nil {
			return err
		}
		s.runner.Feed(in.m, doc, src)
		return nil
	})
}

func printSummary(sink *stderrSink, st *stats, r *eql.Runner, prog *eql.Program, elapsed time.Duration) {
	var b strings.Builder
	fmt.Fprintf(&b, "vigil: %s, %s read", plural(int64(st.files), "file"), plural(st.lines, "line"))
	if st.prefiltered > 0 {
		fmt.Fprintf(&b, " (%d skipped by prefilter)", st.prefiltered)
	}
	fmt.Fprintf(&b, ", %d malformed", st.malformed)
	if st.unreadable > 0 {
		fmt.Fprintf(&b, ", %d unreadable", st.unreadable)
	}
	noun := "sequence"
	if prog.Query.Kind == eql.EventQuery {
		noun = "event"
	}
	fmt.Fprintf(&b, ", %s matched", plural(int64(st.matches), noun))
	mbs := 0.0
	if s := elapsed.Seconds(); s > 0 {
		mbs = float64(st.bytes) / 1e6 / s
	}
	fmt.Fprintf(&b, ", %s, %.1f MB/s\n", elapsed.Round(time.Millisecond), mbs)
	if st.skippedFiles > 0 {
		fmt.Fprintf(&b, "vigil: %s in directories skipped (not .json, .ndjson, .jsonl or .gz)\n", plural(int64(st.skippedFiles), "file"))
	}
	if r.NoTimestamp > 0 {
		fmt.Fprintf(&b, "vigil: %s without a usable %s ignored\n", plural(int64(r.NoTimestamp), "event"), prog.Opts.TimestampField)
	}
	if r.Late > 0 {
		fmt.Fprintf(&b, "vigil: %s arrived more than --reorder-window out of order and were processed late; results may differ from Elasticsearch's (use --reorder-window 0 for an exact order)\n", plural(int64(r.Late), "event"))
	}
	sink.printf("%s", b.String())
}

func plural(n int64, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.FormatInt(n, 10) + " " + noun + "s"
}
