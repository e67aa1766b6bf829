package source

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const sharedEVTX = "../../shared/telemetry/windows-evtx/hayabusa__T1136__ID4688-User_creation_via_commandline.evtx"

// A multi-chunk file (565 records per MANIFEST.json) for damage tests.
const sharedBulkEVTX = "../../shared/telemetry/windows-evtx-bulk/EVTX-ATTACK-SAMPLES/AutomatedTestingTools/PanacheSysmon_vs_AtomicRedTeam01.evtx"

func readShared(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Skipf("reference EVTX not present (%v); this test needs ../shared/telemetry", err)
	}
	return b
}

func checkDocs(t *testing.T, recs []rec, index string) {
	t.Helper()
	for i, r := range recs {
		var m map[string]any
		if err := json.Unmarshal([]byte(r.text), &m); err != nil {
			t.Fatalf("record %d is not JSON: %v\n%s", i+1, err, r.text)
		}
		if index != "" && m["_index"] != index {
			t.Errorf("record %d: _index %v, want %s", i+1, m["_index"], index)
		}
		if r.pos != i+1 {
			t.Errorf("record %d: pos %d", i+1, r.pos)
		}
	}
}

func TestEVTXFile(t *testing.T) {
	readShared(t, sharedEVTX)
	r, err := Open(sharedEVTX)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var errs []*Error
	r.OnError = func(e *Error) { errs = append(errs, e) }
	var recs []rec
	for {
		b, pos, ok := r.Next()
		if !ok {
			break
		}
		if r.ReaderAt() != nil || r.Offset() != -1 {
			t.Fatalf("EVTX record with ReaderAt %v, Offset %d: documents are normalised, not file bytes", r.ReaderAt(), r.Offset())
		}
		recs = append(recs, rec{pos, string(b)})
	}
	if len(errs) != 0 {
		t.Fatalf("errors: %v", errs)
	}
	if len(recs) != 9 {
		t.Fatalf("%d records, want 9", len(recs))
	}
	checkDocs(t, recs, "logs-system.security-default")
	n := 0
	for _, r := range recs {
		if strings.Contains(r.text, `"process":{"args":["net","","user","toto3"`) {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d net.exe 4688 documents, want 1", n)
	}
	if fi, _ := os.Stat(sharedEVTX); r.BytesRead() != fi.Size() {
		t.Errorf("BytesRead %d, want the file size %d", r.BytesRead(), fi.Size())
	}
}

func TestEVTXStreamAndGzip(t *testing.T) {
	data := readShared(t, sharedEVTX)
	var zb bytes.Buffer
	zw := gzip.NewWriter(&zb)
	zw.Write(data)
	zw.Close()
	for name, in := range map[string][]byte{"plain": data, "gzip": zb.Bytes()} {
		r := NewReader("stdin", bytes.NewReader(in))
		recs, errs := drain(t, r)
		if len(errs) != 0 || len(recs) != 9 {
			t.Errorf("%s: %d records, errors %v; want 9, none", name, len(recs), errs)
		}
		checkDocs(t, recs, "logs-system.security-default")
	}
}

func TestEVTXDirectory(t *testing.T) {
	data := readShared(t, sharedEVTX)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a.evtx"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "b.ndjson"), []byte(`{"x":1}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "c.txt"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	recs, errs := drain(t, r)
	if len(errs) != 0 || len(recs) != 10 || r.Files() != 2 || r.SkippedFiles() != 1 {
		t.Fatalf("%d records, %d files, %d skipped, errors %v; want 10, 2, 1, none", len(recs), r.Files(), r.SkippedFiles(), errs)
	}
	if recs[9].text != `{"x":1}` {
		t.Errorf("last record %q", recs[9].text)
	}
}

// A damaged chunk is reported with the file and its position, and the rest
// of the file is still read.
func TestEVTXDamagedChunk(t *testing.T) {
	data := readShared(t, sharedBulkEVTX)
	const chunk1 = 4096 + 65536
	if len(data) < chunk1+65536 {
		t.Fatalf("%s is smaller than expected", sharedBulkEVTX)
	}
	bad := bytes.Clone(data)
	bad[chunk1+8] ^= 0xff // chunk 1's header (records 45-87) no longer matches its checksum
	path := filepath.Join(t.TempDir(), "damaged.evtx")
	if err := os.WriteFile(path, bad, 0o644); err != nil {
		t.Fatal(err)
	}
	count := func(p string) ([]rec, []*Error) {
		r, err := Open(p)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		return drain(t, r)
	}
	whole, errs := count(sharedBulkEVTX)
	if len(errs) != 0 || len(whole) != 565 {
		t.Fatalf("undamaged: %d records, errors %v; want 565 (MANIFEST.json), none", len(whole), errs)
	}
	recs, errs := count(path)
	if len(recs) != len(whole)-43 {
		t.Errorf("damaged: %d records, want %d (chunk 1's 43 skipped)", len(recs), len(whole)-43)
	}
	if len(errs) == 0 {
		t.Fatal("damaged chunk not reported")
	}
	if e := errs[0]; e.File != path || !strings.Contains(e.Error(), "chunk 1") {
		t.Errorf("error %q: want the file and chunk 1", e.Error())
	}
	checkDocs(t, recs, "")
}

// A file that merely starts like EVTX but is too short is reported, not fatal.
func TestEVTXTruncatedHeader(t *testing.T) {
	path := filepath.Join(t.TempDir(), "short.evtx")
	if err := os.WriteFile(path, []byte("ElfFile\x00\x01\x02"), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	recs, errs := drain(t, r)
	if len(recs) != 0 || len(errs) != 1 || errs[0].File != path {
		t.Fatalf("%d records, errors %v; want 0 and one error naming the file", len(recs), errs)
	}
}

// Readers share pooled EVTX state (normaliser, document buffer) file by
// file: readers advanced in turn, a plain file (read in place) and a
// stream, and many short-lived readers one after the other, give exactly
// the documents each gives alone.
func TestEVTXPooledStateAcrossReaders(t *testing.T) {
	small := readShared(t, sharedEVTX)
	readShared(t, sharedBulkEVTX)
	alone := func(open func() *Reader) []rec {
		r := open()
		defer r.Close()
		recs, errs := drain(t, r)
		if len(errs) != 0 || len(recs) == 0 {
			t.Fatalf("%d records, errors %v", len(recs), errs)
		}
		return recs
	}
	openFile := func(p string) func() *Reader {
		return func() *Reader {
			r, err := Open(p)
			if err != nil {
				t.Fatal(err)
			}
			return r
		}
	}
	openStream := func() *Reader { return NewReader("stdin", bytes.NewReader(small)) }
	wantBulk, wantSmall, wantStream := alone(openFile(sharedBulkEVTX)), alone(openFile(sharedEVTX)), alone(openStream)

	a, b, c := openFile(sharedBulkEVTX)(), openFile(sharedEVTX)(), openStream()
	defer a.Close()
	defer b.Close()
	defer c.Close()
	var got [3][]rec
	for done := 0; done < 3; {
		done = 0
		for i, r := range []*Reader{a, b, c} {
			if d, pos, ok := r.Next(); ok {
				got[i] = append(got[i], rec{pos, string(d)})
			} else {
				done++
			}
		}
	}
	for i, want := range [][]rec{wantBulk, wantSmall, wantStream} {
		if len(got[i]) != len(want) {
			t.Fatalf("reader %d: %d records in turn, %d alone", i, len(got[i]), len(want))
		}
		for j := range want {
			if got[i][j] != want[j] {
				t.Fatalf("reader %d record %d differs in turn:\n%s\nalone:\n%s", i, j+1, got[i][j].text, want[j].text)
			}
		}
	}
	for k := 0; k < 20; k++ { // one Reader per path, as vigil normalize opens them
		p := sharedEVTX
		want := wantSmall
		if k%3 == 0 {
			p, want = sharedBulkEVTX, wantBulk
		}
		if recs := alone(openFile(p)); len(recs) != len(want) || recs[len(recs)-1] != want[len(want)-1] || recs[0] != want[0] {
			t.Fatalf("reader %d over %s: documents differ from the first read", k, p)
		}
	}
}
