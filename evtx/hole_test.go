package evtx

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// readFile reads every record of path with Open, returning each record's
// XML and each error, in order.
func readFile(t *testing.T, path string) []string {
	t.Helper()
	r, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var out []string
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			out = append(out, "error: "+err.Error())
			if !IsRecoverable(err) {
				return out
			}
			continue
		}
		out = append(out, rec.XML())
	}
}

// Unused chunk slots that are holes of a sparse file are skipped unread
// (SEEK_DATA) with exactly the results of reading their zeros: the same
// records and errors as the same bytes written out in full, for trailing
// unused slots, a truncated last slot, and a slot whose header is zero but
// which holds data further on (still reported, not taken for unused).
// Files built here from the synthetic one-record file.
func TestSparseUnusedSlots(t *testing.T) {
	one := synthFile()
	dir := t.TempDir()
	write := func(name string, sparse bool, size int64, at map[int64][]byte) string {
		p := filepath.Join(dir, name)
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if sparse {
			if _, err := f.Write(one); err != nil {
				t.Fatal(err)
			}
			if err := f.Truncate(size); err != nil { // the rest is a hole
				t.Fatal(err)
			}
		} else {
			full := make([]byte, size)
			copy(full, one)
			if _, err := f.Write(full); err != nil {
				t.Fatal(err)
			}
		}
		for off, b := range at {
			if _, err := f.WriteAt(b, off); err != nil {
				t.Fatal(err)
			}
		}
		return p
	}
	slot := func(i int64) int64 { return fileHeaderSize + i*chunkSize }
	for _, c := range []struct {
		name string
		size int64
		at   map[int64][]byte
	}{
		{"trailing", slot(8), nil},
		{"truncated", slot(3) + 20000, nil},
		{"truncated-header", slot(3) + 100, nil},
		{"data-in-slot", slot(6), map[int64][]byte{slot(2) + 30000: {1}}},
	} {
		sparse, full := write(c.name+"-sparse.evtx", true, c.size, c.at), write(c.name+"-full.evtx", false, c.size, c.at)
		got, want := readFile(t, sparse), readFile(t, full)
		if len(got) != len(want) {
			t.Fatalf("%s: %d results sparse, %d written out:\n%q\n%q", c.name, len(got), len(want), got, want)
		}
		for i := range want {
			if got[i] != want[i] && got[i] != strings.ReplaceAll(want[i], c.name+"-full", c.name+"-sparse") {
				t.Errorf("%s: result %d: %q, want %q", c.name, i, got[i], want[i])
			}
		}
		if c.at != nil && !containsSig(got) {
			t.Errorf("%s: the slot with data was not reported: %q", c.name, got)
		}
	}
	// Whether the holes were seen as such depends on the file system; say
	// so rather than pass silently.
	r, err := Open(filepath.Join(dir, "trailing-sparse.evtx"))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if !r.hole(slot(2), slot(3)) {
		t.Logf("%s: no holes detected (file system without SEEK_DATA?): only the read path was tested", dir)
	}
}

func containsSig(out []string) bool {
	for _, s := range out {
		if len(s) > 6 && s[:6] == "error:" && strings.Contains(s, "bad chunk signature") {
			return true
		}
	}
	return false
}
