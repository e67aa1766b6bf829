package source

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
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
	})
}
