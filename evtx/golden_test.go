package evtx

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGoldenDump writes everything the reader returns for the reference
// corpora (every record's XML, System fields, typed EventData and UserData
// values, and every error) to $EVTX_GOLDEN. Comparing the output of two
// builds shows whether a change to the reader altered any result; it is how
// the reader's optimisations were checked against the previous version.
func TestGoldenDump(t *testing.T) {
	out := os.Getenv("EVTX_GOLDEN")
	if out == "" {
		t.Skip("set EVTX_GOLDEN=file to dump every record of the reference corpora")
	}
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := bufio.NewWriter(f)
	defer w.Flush()
	for _, dir := range []string{sharedDir, bulkDir} {
		needDir(t, dir)
		var files []string
		filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() && strings.HasSuffix(strings.ToLower(p), ".evtx") {
				files = append(files, p)
			}
			return nil
		})
		for _, p := range files {
			fmt.Fprintf(w, "FILE %s\n", p)
			r, err := Open(p)
			if err != nil {
				fmt.Fprintf(w, "OPEN %v\n", err)
				continue
			}
			dumpReader(w, r)
			r.Close()
		}
	}
	// Damaged variants (bit flips, checksums not verified so that the Binary
	// XML parser sees them): records and errors must not change either.
	files, _ := filepath.Glob(filepath.Join(sharedDir, "*.evtx"))
	rng := rand.New(rand.NewSource(7))
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 40; i++ {
			d := append([]byte(nil), data...)
			for k := 0; k < 1+rng.Intn(8); k++ {
				off := fileHeaderSize + rng.Intn(min(len(d)-fileHeaderSize, chunkSize))
				d[off] ^= 1 << rng.Intn(8)
			}
			fmt.Fprintf(w, "FILE %s variant %d\n", p, i)
			r, err := NewReader(bytes.NewReader(d), int64(len(d)), "damaged")
			if err != nil {
				fmt.Fprintf(w, "OPEN %v\n", err)
				continue
			}
			r.noVerify = i%2 == 0
			dumpReader(w, r)
		}
	}
}

func dumpReader(w io.Writer, r *Reader) {
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			fmt.Fprintf(w, "ERR %v\n", err)
			if !IsRecoverable(err) {
				return
			}
			continue
		}
		fmt.Fprintf(w, "REC %d %s chunk %d off %d\n%s", rec.ID, rec.Time.Format("2006-01-02T15:04:05.0000000Z"), rec.Chunk, rec.Offset, rec.XML())
		fmt.Fprintf(w, "SYS %+v\n", rec.System())
		for _, fd := range rec.EventData() {
			fmt.Fprintf(w, "ED %s=%s\n", fd.Name, dumpValue(fd.Value))
		}
		for _, fd := range rec.UserData() {
			fmt.Fprintf(w, "UD %s=%s\n", fd.Name, dumpValue(fd.Value))
		}
	}
}

// dumpValue writes every field of a value (not its rendering alone).
func dumpValue(v Value) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "{%#02x %d %d %q %s", uint8(v.Type), v.Size, v.Num, v.Str, hex.EncodeToString(v.Raw))
	for _, it := range v.Items() {
		sb.WriteString(" item:")
		sb.WriteString(dumpValue(it))
	}
	for _, e := range v.Elements() {
		sb.WriteString(" elem:")
		sb.WriteString(strings.TrimSpace(e.XML()))
	}
	sb.WriteString("}")
	return sb.String()
}
