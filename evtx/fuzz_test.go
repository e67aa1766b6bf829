package evtx

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
)

// readBytes reads data as an EVTX file until EOF or a fatal error, failing on a
// runaway reader. It returns the number of records and recoverable errors.
func readBytes(t testing.TB, data []byte) (recs, errs int) {
	recs, errs, _ = readBytesMode(t, data, false, false)
	return
}

// readBytesMode is readBytes with checksums ignored (noVerify) or record
// memory reused (reuse); it also returns each record's XML and each error.
func readBytesMode(t testing.TB, data []byte, noVerify, reuse bool) (recs, errs int, xmls []string) {
	return readBytesWith(t, data, func(r *Reader) { r.noVerify, r.Reuse = noVerify, reuse })
}

func readBytesWith(t testing.TB, data []byte, set func(*Reader)) (recs, errs int, xmls []string) {
	r, err := NewReader(bytes.NewReader(data), int64(len(data)), "fuzz")
	if err != nil {
		return 0, 0, nil
	}
	set(r)
	// Every successful call consumes at least 28 bytes or one chunk; every
	// error at most one record or chunk; so this bound is generous.
	limit := 4*len(data)/24 + 16
	for i := 0; ; i++ {
		if i > limit {
			t.Fatalf("reader did not reach EOF after %d calls", i)
		}
		rec, err := r.Next()
		if err == io.EOF {
			return recs, errs, xmls
		}
		if err != nil {
			xmls = append(xmls, "error: "+err.Error())
			if !IsRecoverable(err) {
				return recs, errs, xmls
			}
			errs++
			continue
		}
		if rec.Root == nil {
			t.Fatal("record without root element")
		}
		x := rec.XML()
		xmls = append(xmls, x)
		if r.Reuse {
			if c := rec.Clone().XML(); c != x {
				t.Fatalf("clone renders differently:\n%s\n%s", c, x)
			}
		}
		_ = rec.System()
		_ = rec.EventData()
		_ = rec.UserData()
		recs++
	}
}

// FuzzReader feeds arbitrary bytes to NewReader and Next until EOF. Seeds are in
// testdata/fuzz/FuzzReader. Run with a short minimisation time, since inputs can
// be whole chunks: go test -run '^$' -fuzz FuzzReader -fuzzminimizetime 2s ./evtx
func FuzzReader(f *testing.F) {
	f.Add(synthFile())
	f.Add([]byte("ElfFile\x00"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		readBytesMode(t, data, false, false)
		// Without checksums the mutated Binary XML reaches the parser. With
		// Reuse the same records must come out.
		_, _, a := readBytesMode(t, data, true, false)
		_, _, b := readBytesMode(t, data, true, true)
		if !slices.Equal(a, b) {
			t.Fatalf("Reuse reads differently:\n%q\n%q", a, b)
		}
		// Reading only the records of each chunk (the rest on demand) must
		// give what whole-chunk reads give.
		_, _, c := readBytesWith(t, data, func(r *Reader) { r.noVerify, r.whole = true, true })
		if !slices.Equal(a, c) {
			t.Fatalf("whole-chunk reads differ:\n%q\n%q", a, c)
		}
	})
}

// synthFile builds a minimal valid EVTX file with one chunk and one record
// holding a template instance: <Event><System><EventID>{sub 0}</EventID></System></Event>.
func synthFile() []byte {
	le := binary.LittleEndian
	file := make([]byte, fileHeaderSize+chunkSize)
	copy(file, fileMagic)
	le.PutUint32(file[32:], 128)
	le.PutUint16(file[36:], 1)
	le.PutUint16(file[38:], 3)
	le.PutUint16(file[40:], 4096)
	le.PutUint16(file[42:], 1)
	le.PutUint32(file[124:], crc32.ChecksumIEEE(file[:120]))

	c := file[fileHeaderSize:]
	copy(c, chunkMagic)
	pos := chunkHdrSize
	var bx []byte
	w16 := func(v uint16) { bx = le.AppendUint16(bx, v) }
	w32 := func(v uint32) { bx = le.AppendUint32(bx, v) }
	base := pos + recordHdrSize
	name := func(s string) { // inline name at the current offset
		w32(uint32(base + len(bx) + 4))
		w32(0)
		w16(0)
		w16(uint16(len(s)))
		for _, r := range s {
			w16(uint16(r))
		}
		w16(0)
	}
	elem := func(s string) {
		bx = append(bx, tokOpenStart)
		w16(0)
		w32(0)
		name(s)
		bx = append(bx, tokCloseStart)
	}
	bx = append(bx, tokFragmentHdr, 1, 1, 0)
	bx = append(bx, tokTemplate, 1)
	w32(1)
	defAt := len(bx)
	w32(uint32(base + len(bx) + 4)) // template definition follows inline
	w32(0)
	bx = append(bx, make([]byte, 16)...)
	sizeAt := len(bx)
	w32(0)
	start := len(bx)
	bx = append(bx, tokFragmentHdr, 1, 1, 0)
	elem("Event")
	elem("System")
	elem("EventID")
	bx = append(bx, tokNormalSub)
	w16(0)
	bx = append(bx, byte(Uint16Type))
	bx = append(bx, tokEndElement, tokEndElement, tokEndElement, tokEOF)
	le.PutUint32(bx[sizeAt:], uint32(len(bx)-start))
	_ = defAt
	w32(1) // one substitution value
	w16(2)
	bx = append(bx, byte(Uint16Type), 0)
	w16(4720)
	bx = append(bx, tokEOF)

	size := recordHdrSize + len(bx) + 4
	size = (size + 7) &^ 7
	rec := c[pos : pos+size]
	le.PutUint32(rec, recordMagic)
	le.PutUint32(rec[4:], uint32(size))
	le.PutUint64(rec[8:], 1)
	le.PutUint64(rec[16:], 132000000000000000)
	copy(rec[recordHdrSize:], bx)
	le.PutUint32(rec[size-4:], uint32(size))
	free := pos + size
	le.PutUint64(c[8:], 1)
	le.PutUint64(c[16:], 1)
	le.PutUint64(c[24:], 1)
	le.PutUint64(c[32:], 1)
	le.PutUint32(c[40:], 128)
	le.PutUint32(c[44:], uint32(pos))
	le.PutUint32(c[48:], uint32(free))
	le.PutUint32(c[52:], crc32.ChecksumIEEE(c[chunkHdrSize:free]))
	le.PutUint32(c[124:], crc32.Update(crc32.ChecksumIEEE(c[:120]), crc32.IEEETable, c[128:512]))
	return file
}

func TestSynthetic(t *testing.T) {
	data := synthFile()
	r, err := NewReader(bytes.NewReader(data), int64(len(data)), "synth")
	if err != nil {
		t.Fatal(err)
	}
	rec, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	want := "<Event><System><EventID>4720</EventID>\n</System>\n</Event>\n"
	if got := rec.XML(); got != want {
		t.Errorf("XML = %q, want %q", got, want)
	}
	if s := rec.System(); s.EventID != 4720 {
		t.Errorf("EventID = %d", s.EventID)
	}
	if rec.ID != 1 {
		t.Errorf("ID = %d", rec.ID)
	}
	if _, err := r.Next(); err != io.EOF {
		t.Errorf("second Next: %v, want EOF", err)
	}
	// A flipped byte in the record area is reported, not fatal.
	bad := append([]byte(nil), data...)
	bad[fileHeaderSize+chunkHdrSize+40] ^= 0xff
	n, errs := readBytes(t, bad)
	if errs == 0 {
		t.Errorf("damaged record: %d records, no error reported", n)
	}
	// A damaged chunk header is a *ChunkError.
	bad = append([]byte(nil), data...)
	bad[fileHeaderSize+8] ^= 1
	r, _ = NewReader(bytes.NewReader(bad), int64(len(bad)), "synth")
	if _, err := r.Next(); err == nil {
		t.Error("damaged chunk header not reported")
	} else if ce, ok := err.(*ChunkError); !ok || ce.Chunk != 0 {
		t.Errorf("damaged chunk header: %T %v", err, err)
	}
	if _, err := r.Next(); err != io.EOF {
		t.Errorf("after damaged chunk: %v, want EOF", err)
	}
	// A truncated file yields the records wholly present, and reports the truncation.
	short := data[:fileHeaderSize+chunkHdrSize+256]
	n, errs = readBytes(t, short)
	if n != 1 || errs == 0 {
		t.Errorf("truncated file: %d records, %d errors; want 1 record and errors", n, errs)
	}
}

// TestWriteSeeds regenerates the fuzz seed corpus (go test -run WriteSeeds -args -seeds).
func TestWriteSeeds(t *testing.T) {
	if os.Getenv("EVTX_WRITE_SEEDS") == "" {
		t.Skip("set EVTX_WRITE_SEEDS=1 to rewrite testdata/fuzz/FuzzReader seeds")
	}
	data := synthFile()
	small := data[:fileHeaderSize+chunkHdrSize+256]
	seeds := map[string][]byte{
		"synthetic-record":  small,
		"truncated-header":  data[:120],
		"chunk-header-only": data[:fileHeaderSize+chunkHdrSize],
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzReader")
	os.MkdirAll(dir, 0o755)
	for name, b := range seeds {
		body := "go test fuzz v1\n[]byte(" + strconv.Quote(string(b)) + ")\n"
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestDamagedRealFiles reads truncated and bit-flipped variants of real files
// (generated here, never committed) without panicking or looping.
func TestDamagedRealFiles(t *testing.T) {
	needDir(t, sharedDir)
	files, _ := filepath.Glob(filepath.Join(sharedDir, "*.evtx"))
	rng := rand.New(rand.NewSource(1))
	variants := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range []int{0, 100, 4096, 4096 + 600, 4096 + 30000, len(data) - 1} {
			if n <= len(data) {
				readBytes(t, data[:n])
				readBytesMode(t, data[:n], true, false)
				variants++
			}
		}
		iters := 200
		if testing.Short() {
			iters = 20
		}
		for i := 0; i < iters; i++ {
			d := append([]byte(nil), data...)
			for k := 0; k < 1+rng.Intn(8); k++ {
				// Most flips in the first chunk, where the records are.
				off := fileHeaderSize + rng.Intn(min(len(d)-fileHeaderSize, chunkSize))
				if rng.Intn(10) == 0 {
					off = rng.Intn(len(d))
				}
				d[off] ^= 1 << rng.Intn(8)
			}
			readBytes(t, d)
			_, _, a := readBytesMode(t, d, true, true)
			_, _, b := readBytesWith(t, d, func(r *Reader) { r.noVerify, r.whole = true, true })
			if !slices.Equal(a, b) {
				t.Fatalf("%s variant %d: whole-chunk reads differ", filepath.Base(f), i)
			}
			variants++
		}
	}
	t.Logf("%d damaged variants read", variants)
}
