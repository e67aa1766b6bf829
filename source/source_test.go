package source

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

type rec struct {
	pos  int
	text string
}

// drain reads every record, copying it (records are only valid until the
// next call), and collects the reported errors.
func drain(t testing.TB, r *Reader) ([]rec, []*Error) {
	t.Helper()
	var errs []*Error
	r.OnError = func(e *Error) { errs = append(errs, e) }
	var out []rec
	for {
		b, pos, ok := r.Next()
		if !ok {
			break
		}
		out = append(out, rec{pos, string(b)})
	}
	return out, errs
}

func gz(t testing.TB, data string) []byte {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	if _, err := w.Write([]byte(data)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func writeFile(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func recsString(rs []rec) string {
	var b strings.Builder
	for _, r := range rs {
		fmt.Fprintf(&b, "%d:%s\n", r.pos, r.text)
	}
	return b.String()
}

func TestNDJSONFormats(t *testing.T) {
	cases := []struct {
		name, in, want string
	}{
		{"plain", "{\"a\":1}\n{\"a\":2}\n", "1:{\"a\":1}\n2:{\"a\":2}\n"},
		{"no final newline", "{\"a\":1}\n{\"a\":2}", "1:{\"a\":1}\n2:{\"a\":2}\n"},
		{"crlf", "{\"a\":1}\r\n{\"a\":2}\r\n", "1:{\"a\":1}\n2:{\"a\":2}\n"},
		{"blank lines keep numbering", "\n{\"a\":1}\n  \n\t\r\n{\"a\":2}\n\n", "2:{\"a\":1}\n5:{\"a\":2}\n"},
		{"bom", "\xef\xbb\xbf{\"a\":1}\n", "1:{\"a\":1}\n"},
		{"leading space kept", "  {\"a\":1}\n", "1:  {\"a\":1}\n"},
		{"empty", "", ""},
		{"garbage is passed on", "not json\n", "1:not json\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, compress := range []bool{false, true} {
				in := []byte(c.in)
				if compress {
					in = gz(t, c.in)
				}
				got, errs := drain(t, NewReader("x", bytes.NewReader(in)))
				if len(errs) != 0 {
					t.Fatalf("gzip=%v: errors %v", compress, errs)
				}
				if s := recsString(got); s != c.want {
					t.Errorf("gzip=%v: got\n%s\nwant\n%s", compress, s, c.want)
				}
			}
		})
	}
}

func TestArray(t *testing.T) {
	in := "\n  [ {\"a\":1},\n{\"b\":[1,2]} ,{\"c\":{\"d\":\"]\"}}]\n"
	want := "1:{\"a\":1}\n2:{\"b\":[1,2]}\n3:{\"c\":{\"d\":\"]\"}}\n"
	for _, compress := range []bool{false, true} {
		data := []byte(in)
		if compress {
			data = gz(t, in)
		}
		got, errs := drain(t, NewReader("x", bytes.NewReader(data)))
		if len(errs) != 0 {
			t.Fatal(errs)
		}
		if s := recsString(got); s != want {
			t.Errorf("gzip=%v: got\n%s\nwant\n%s", compress, s, want)
		}
	}
}

func TestArrayInvalid(t *testing.T) {
	r := NewReader("bad.json", strings.NewReader("[\n{\"a\":1},\n{\"a\":}\n]"))
	got, errs := drain(t, r)
	if len(got) != 0 {
		t.Errorf("records from an invalid array: %v", got)
	}
	if len(errs) != 1 || errs[0].Line != 3 || !strings.HasPrefix(errs[0].Error(), "bad.json:3: ") {
		t.Fatalf("errors %v, want one at bad.json:3", errs)
	}
	if r.Err() == nil || r.Errors() != 1 {
		t.Errorf("Err %v, Errors %d", r.Err(), r.Errors())
	}
}

func TestTooLongLine(t *testing.T) {
	long := "{\"x\":\"" + strings.Repeat("a", 200<<10) + "\"}"
	in := "{\"a\":1}\n" + long + "\n{\"a\":2}\n" + long + "\r\n{\"a\":3}\n" + long
	for _, compress := range []bool{false, true} {
		data := []byte(in)
		if compress {
			data = gz(t, in)
		}
		r := NewReader("big.ndjson", bytes.NewReader(data))
		r.MaxRecord = 100 << 10
		got, errs := drain(t, r)
		if s, want := recsString(got), "1:{\"a\":1}\n3:{\"a\":2}\n5:{\"a\":3}\n"; s != want {
			t.Errorf("gzip=%v: got\n%s\nwant\n%s", compress, s, want)
		}
		if len(errs) != 3 {
			t.Fatalf("gzip=%v: errors %v, want 3", compress, errs)
		}
		for i, line := range []int{2, 4, 6} {
			if errs[i].Line != line || !errors.Is(errs[i], ErrTooLong) || !strings.HasPrefix(errs[i].Error(), fmt.Sprintf("big.ndjson:%d: ", line)) {
				t.Errorf("error %d: %v", i, errs[i])
			}
		}
	}
}

// A line longer than the bufio buffer but within the limit comes back whole.
func TestLongLineWithinLimit(t *testing.T) {
	long := "{\"x\":\"" + strings.Repeat("b", 300<<10) + "\"}"
	got, errs := drain(t, NewReader("x", strings.NewReader("{}\n"+long+"\r\n{}")))
	if len(errs) != 0 || len(got) != 3 || got[1].text != long || got[1].pos != 2 {
		t.Fatalf("errs %v, %d records", errs, len(got))
	}
}

// The real limit, with a line just over it; slow-ish, so not in -short.
func TestDefaultLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates 64 MiB")
	}
	line := bytes.Repeat([]byte{'a'}, DefaultMaxRecord+1)
	in := append(append([]byte("{}\n"), line...), "\n{\"z\":1}\n"...)
	got, errs := drain(t, NewReader("x", bytes.NewReader(in)))
	if len(errs) != 1 || errs[0].Line != 2 || len(got) != 2 || got[1].text != "{\"z\":1}" {
		t.Fatalf("errs %v, records %d", errs, len(got))
	}
}

func TestCorruptGzip(t *testing.T) {
	data := gz(t, strings.Repeat("{\"a\":1}\n", 1000))
	data = data[:len(data)/2] // truncated
	got, errs := drain(t, NewReader("t.gz", bytes.NewReader(data)))
	if len(errs) != 1 {
		t.Fatalf("errors %v, want one", errs)
	}
	for _, g := range got {
		if g.text != "{\"a\":1}" {
			t.Fatalf("partial record passed on: %q", g.text)
		}
	}
	// A bad header is a file error, not a crash.
	_, errs = drain(t, NewReader("h.gz", bytes.NewReader([]byte{0x1f, 0x8b, 0, 0})))
	if len(errs) != 1 || errs[0].Line != 0 {
		t.Fatalf("errors %v", errs)
	}
}

func TestOpenFileAndDir(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "b.ndjson", []byte("{\"f\":\"b1\"}\n{\"f\":\"b2\"}\n"))
	writeFile(t, dir, "a.json", []byte("[{\"f\":\"a1\"}]"))
	writeFile(t, dir, "sub/c.data.gz", gz(t, "{\"f\":\"c1\"}\n"))
	writeFile(t, dir, "sub/d.jsonl", []byte("{\"f\":\"d1\"}"))
	writeFile(t, dir, "notes.txt", []byte("ignored"))
	writeFile(t, dir, "sub/x.csv", []byte("ignored"))

	r, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var total int64
	for _, n := range []string{"a.json", "b.ndjson", "sub/c.data.gz", "sub/d.jsonl"} {
		fi, err := os.Stat(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		total += fi.Size()
	}
	if r.Size() != total {
		t.Errorf("Size %d, want %d", r.Size(), total)
	}
	var got []string
	r.OnError = func(e *Error) { t.Errorf("error %v", e) }
	for {
		b, pos, ok := r.Next()
		if !ok {
			break
		}
		rel, _ := filepath.Rel(dir, r.File())
		got = append(got, fmt.Sprintf("%s:%d:%s", filepath.ToSlash(rel), pos, b))
	}
	want := []string{
		`a.json:1:{"f":"a1"}`,
		`b.ndjson:1:{"f":"b1"}`,
		`b.ndjson:2:{"f":"b2"}`,
		`sub/c.data.gz:1:{"f":"c1"}`,
		`sub/d.jsonl:1:{"f":"d1"}`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if r.SkippedFiles() != 2 || r.Files() != 4 {
		t.Errorf("SkippedFiles %d Files %d", r.SkippedFiles(), r.Files())
	}
	if r.BytesRead() != total {
		t.Errorf("BytesRead %d, want %d", r.BytesRead(), total)
	}

	// A single file: size known, compressed bytes counted.
	p := writeFile(t, dir, "one", gz(t, "{\"a\":1}\n"))
	r2, err := Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Close()
	recs, errs := drain(t, r2)
	fi, _ := os.Stat(p)
	if len(recs) != 1 || len(errs) != 0 || r2.Size() != fi.Size() || r2.BytesRead() != fi.Size() {
		t.Errorf("recs %v errs %v size %d read %d file %d", recs, errs, r2.Size(), r2.BytesRead(), fi.Size())
	}

	if _, err := Open(filepath.Join(dir, "missing")); err == nil {
		t.Error("Open of a missing file succeeded")
	}
}

// Records are handed out without a copy when they fit the buffer, so
// reading allocates nothing per record.
func TestAllocs(t *testing.T) {
	const n = 2000
	data := bytes.Repeat([]byte("{\"event\":{\"category\":\"process\"},\"process\":{\"name\":\"net.exe\"}}\r\n\n"), n)
	r := NewReader("x", bytes.NewReader(data))
	r.Next() // set up buffers
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	got := 1
	for {
		if _, _, ok := r.Next(); !ok {
			break
		}
		got++
	}
	runtime.ReadMemStats(&after)
	if got != n {
		t.Fatalf("%d records, want %d", got, n)
	}
	if allocs := after.Mallocs - before.Mallocs; allocs > 5 {
		t.Errorf("%d allocations reading %d lines", allocs, n)
	}
}

// FuzzReader feeds arbitrary bytes, plain and gzip-compressed, and checks
// the reader neither crashes nor hands out blank or line-ending records.
func FuzzReader(f *testing.F) {
	f.Add([]byte("{\"a\":1}\n{\"b\":2}\r\n\n"))
	f.Add([]byte("[{\"a\":1},{\"b\":[1,{}]}]"))
	f.Add([]byte("\xef\xbb\xbf [ ]"))
	f.Add([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, in := range [][]byte{data, gz(t, string(data))} {
			r := NewReader("fuzz", bytes.NewReader(in))
			r.MaxRecord = 64
			last := 0
			for {
				b, pos, ok := r.Next()
				if !ok {
					break
				}
				if len(b) == 0 || len(b) > 64 {
					t.Fatalf("record of %d bytes", len(b))
				}
				if b[len(b)-1] == '\n' || bytes.IndexByte(b, '\n') >= 0 && !r.array {
					t.Fatalf("newline in NDJSON record %q", b)
				}
				if pos <= last {
					t.Fatalf("position %d after %d", pos, last)
				}
				last = pos
			}
			if r.BytesRead() != int64(len(in)) && r.Errors() == 0 {
				t.Fatalf("read %d of %d bytes", r.BytesRead(), len(in))
			}
		}
		// From a file, a plain NDJSON record reads back at its offset.
		r, err := Open(writeFile(t, t.TempDir(), "f", data))
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		r.MaxRecord = 64
		for {
			b, _, ok := r.Next()
			if !ok {
				break
			}
			if ra := r.ReaderAt(); ra != nil {
				if rb := readBack(t, ra, r.Offset(), len(b)); !bytes.Equal(rb, b) {
					t.Fatalf("at %d: read back %q, record %q", r.Offset(), rb, b)
				}
			} else if !r.array && r.lines == r.raw {
				t.Fatal("no ReaderAt for a plain file")
			}
		}
	})
}

// readBack reads len(rec) bytes at off through ra.
func readBack(t testing.TB, ra io.ReaderAt, off int64, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := ra.ReadAt(b, off); err != nil {
		t.Fatalf("ReadAt(%d bytes at %d): %v", n, off, err)
	}
	return b
}

type located struct {
	ra   io.ReaderAt
	off  int64
	text string
}

// TestOffsets: for a plain file, the bytes at Offset are exactly the
// record, whatever the line endings, BOMs, blank and long lines around it,
// while the reader is on the file, after it has moved on, and from the
// next file.
func TestOffsets(t *testing.T) {
	long := "{\"x\":\"" + strings.Repeat("c", 150<<10) + "\"}"
	tooLong := "{\"y\":\"" + strings.Repeat("d", 300<<10) + "\"}"
	in := "\xef\xbb\xbf{\"a\":1}\r\n" + // BOM and CRLF on the first line
		"\r\n\n  \t\r\n" + // blank lines
		"  {\"a\":2}\r\n" + // leading space is part of the record
		"\xef\xbb\xbf{\"a\":3}\n" + // a BOM on a later line is dropped too
		"\xef\xbb\xbf\r\n" + // a line of just a BOM is blank
		long + "\r\n" + // longer than the bufio buffer
		tooLong + "\r\n" + // over MaxRecord: skipped
		"{\"a\":\"\r\"}\r\n" + // a CR inside stays
		"{\"a\":4}" // no final newline
	want := []string{`{"a":1}`, `  {"a":2}`, `{"a":3}`, long, tooLong, "{\"a\":\"\r\"}", `{"a":4}`}
	want = append(want[:4], want[5:]...)

	dir := t.TempDir()
	writeFile(t, dir, "a.ndjson", []byte(in))
	writeFile(t, dir, "b.ndjson", []byte("\n{\"b\":1}\r\n"))
	r, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	r.MaxRecord = 200 << 10
	var errs []*Error
	r.OnError = func(e *Error) { errs = append(errs, e) }
	var got []located
	for {
		b, _, ok := r.Next()
		if !ok {
			break
		}
		ra := r.ReaderAt()
		if ra == nil {
			t.Fatalf("%s: no ReaderAt for a plain file", r.File())
		}
		off := r.Offset()
		if rb := readBack(t, ra, off, len(b)); !bytes.Equal(rb, b) {
			t.Fatalf("%s: at %d: read back %.40q, record %.40q", r.File(), off, rb, b)
		}
		got = append(got, located{ra, off, string(b)})
		// Records of the first file still read back from the second.
		if strings.HasSuffix(r.File(), "b.ndjson") {
			for _, g := range got[:len(got)-1] {
				if rb := readBack(t, g.ra, g.off, len(g.text)); string(rb) != g.text {
					t.Fatalf("from the next file: at %d: %.40q, want %.40q", g.off, rb, g.text)
				}
			}
		}
	}
	if len(errs) != 1 || !errors.Is(errs[0], ErrTooLong) {
		t.Fatalf("errors %v, want the one long line", errs)
	}
	want = append(want, `{"b":1}`)
	if len(got) != len(want) {
		t.Fatalf("%d records, want %d", len(got), len(want))
	}
	for i, g := range got {
		if g.text != want[i] {
			t.Errorf("record %d: %.40q, want %.40q", i, g.text, want[i])
		}
		// After the end of the input: the files are reopened.
		if rb := readBack(t, g.ra, g.off, len(g.text)); string(rb) != g.text {
			t.Errorf("record %d after the end: %.40q", i, rb)
		}
	}
	if r.ReaderAt() != nil || r.Offset() != -1 {
		t.Error("ReaderAt or Offset set after the end of the input")
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := got[0].ra.ReadAt(make([]byte, 1), got[0].off); !errors.Is(err, os.ErrClosed) {
		t.Errorf("ReadAt after Close: %v, want os.ErrClosed", err)
	}
}

// No exact offset, no ReaderAt: gzip, arrays, streams.
func TestNoReaderAt(t *testing.T) {
	dir := t.TempDir()
	plain := "{\"a\":1}\n"
	paths := []string{
		writeFile(t, dir, "z.ndjson.gz", gz(t, plain)),
		writeFile(t, dir, "arr.json", []byte("[{\"a\":1}]")),
	}
	check := func(name string, r *Reader) {
		t.Helper()
		defer r.Close()
		n := 0
		for {
			_, _, ok := r.Next()
			if !ok {
				break
			}
			n++
			if r.ReaderAt() != nil || r.Offset() != -1 {
				t.Errorf("%s: ReaderAt %v Offset %d, want nil -1", name, r.ReaderAt(), r.Offset())
			}
		}
		if n != 1 {
			t.Errorf("%s: %d records", name, n)
		}
	}
	for _, p := range paths {
		r, err := Open(p)
		if err != nil {
			t.Fatal(err)
		}
		check(p, r)
	}
	check("stream", NewReader("x", strings.NewReader(plain)))
	// stdin redirected from a regular file is still a stream.
	f, err := os.Open(writeFile(t, dir, "p.ndjson", []byte(plain)))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	check("stdin file", NewReader("stdin", f))
}

// A file replaced or shrunk after it was read is an error, not other bytes.
func TestReadBackChanged(t *testing.T) {
	dir := t.TempDir()
	read := func(p string) located {
		t.Helper()
		r, err := Open(p)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Close() })
		var last located
		for {
			b, _, ok := r.Next()
			if !ok {
				break
			}
			last = located{r.ReaderAt(), r.Offset(), string(b)}
		}
		return last
	}
	content := []byte("{\"a\":1}\n{\"a\":2}\n")

	p := writeFile(t, dir, "rotated.ndjson", content)
	l := read(p)
	writeFile(t, dir, "new.ndjson", content)
	if err := os.Rename(filepath.Join(dir, "new.ndjson"), p); err != nil {
		t.Fatal(err)
	}
	if _, err := l.ra.ReadAt(make([]byte, len(l.text)), l.off); err == nil || !strings.Contains(err.Error(), "replaced") {
		t.Errorf("replaced file: %v", err)
	}

	p = writeFile(t, dir, "shrunk.ndjson", content)
	l = read(p)
	if err := os.Truncate(p, 10); err != nil {
		t.Fatal(err)
	}
	if _, err := l.ra.ReadAt(make([]byte, len(l.text)), l.off); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("shrunk file: %v", err)
	}

	p = writeFile(t, dir, "gone.ndjson", content)
	l = read(p)
	os.Remove(p)
	if _, err := l.ra.ReadAt(make([]byte, len(l.text)), l.off); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("removed file: %v", err)
	}
}
