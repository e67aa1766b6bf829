package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/vigilsec/vigil/eql"
	"github.com/vigilsec/vigil/event"
	"github.com/vigilsec/vigil/internal/progress"
	"github.com/vigilsec/vigil/source"
)

// openInputs opens each PATH ("-": stdin) in order, reading records as
// format (--source; "" detects it per record), reporting the ones that
// cannot be opened (counted as unreadable; their slot is nil so callers can
// pair inputs with per-PATH settings), and starts a progress bar on a
// terminal when every size is known.
func openInputs(e *env, paths []string, format string, sink *stderrSink, st *stats) []*source.Reader {
	readers := make([]*source.Reader, len(paths))
	total, sizeKnown := int64(0), true
	for i, p := range paths {
		rd, err := openInput(e, p, format)
		if err != nil {
			sink.printf("%s\n", pathError(p, err))
			st.unreadable++
			continue
		}
		if sz := rd.Size(); sz >= 0 {
			total += sz
		} else {
			sizeKnown = false
		}
		readers[i] = rd
	}
	if _, tty := terminal(e.stderr); tty && sizeKnown && total > 0 {
		sink.bar = progress.New(e.stderr, total)
	}
	return readers
}

func openInput(e *env, path, format string) (*source.Reader, error) {
	var rd *source.Reader
	if path == "-" {
		rd = source.NewReader("stdin", e.stdin)
	} else {
		var err error
		if rd, err = source.Open(path); err != nil {
			return nil, err
		}
	}
	if err := rd.SetFormat(format); err != nil {
		return nil, err
	}
	return rd, nil
}

// sourceFlagHelp documents --source for every command that reads events.
func sourceFlagHelp() string {
	return "input format `NAME`: auto (detect per record), " + strings.Join(source.FormatNames(), ", ")
}

// checkSource validates --source before any input is opened.
func checkSource(cmd, name string) error {
	if err := source.CheckFormat(name); err != nil {
		return usageErrorf("%s: --source: %v", cmd, err)
	}
	return nil
}

// eachRecord reads every record of rd and hands it to fn with where it came
// from, for eql and hunt alike: progress, counts, and bad input reported as
// file:line (also to rejects, when given) without stopping. fn returns an
// error for a malformed record. done is the byte count of earlier inputs.
func eachRecord(rd *source.Reader, sink *stderrSink, st *stats, rejects io.Writer, done int64, fn func(line []byte, src eql.Source) error) {
	rd.OnError = func(err *source.Error) {
		sink.printf("%v\n", err)
		if rejects != nil {
			fmt.Fprintf(rejects, "%v\n", err)
		}
		var se *event.SyntaxError
		if errors.Is(err, source.ErrTooLong) || errors.Is(err, source.ErrMalformed) || errors.As(err, &se) {
			st.malformed++
		} else {
			st.unreadable++
		}
	}
	files, index, file := -1, "", ""
	var from io.ReaderAt
	var n int64
	for {
		line, pos, ok := rd.Next()
		if !ok {
			return
		}
		if rd.Files() != files {
			files, file = rd.Files(), rd.File()
			index = indexName(file)
			// Set for a plain NDJSON file: matches are then kept by
			// position and read back, instead of copied.
			from = rd.ReaderAt()
		}
		st.lines++
		// time.Now is cheap but not free next to a skipped line.
		if n++; n&255 == 0 {
			sink.bar.UpdateEvents(done+rd.BytesRead(), st.lines)
		}
		src := eql.Source{Index: index, Line: pos}
		if from != nil {
			// -1 for a record normalised from a vendor format: it is not
			// the bytes of the file, so it is kept, not read back.
			if off := rd.Offset(); off >= 0 {
				src.From, src.Offset = from, off
			}
		}
		err := truncatedRecord(line)
		if err == nil {
			err = fn(line, src)
		}
		if err != nil {
			st.malformed++
			sink.printf("%s:%d: %v\n", file, pos, err)
			if rejects != nil {
				fmt.Fprintf(rejects, "%s:%d: %v\n%s\n", file, pos, err, line)
			}
		}
	}
}

// truncatedRecord is a cheap check on every record: lines that no query or
// rule can match are never parsed, so without it a cut-off line would go
// unreported. Full validation happens on the lines parsed.
func truncatedRecord(line []byte) error {
	t := bytes.TrimSpace(line)
	if len(t) == 0 || t[0] != '{' || t[len(t)-1] != '}' {
		return errNotObject
	}
	return nil
}

var errNotObject = errors.New("not a JSON object (truncated or not JSON)")
