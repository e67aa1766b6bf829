package winlog

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/vigilsec/vigil/evtx"
)

// bulkFiles lists the windows-evtx-bulk corpus and its size.
func bulkFiles(b *testing.B) ([]string, int64) {
	dir := filepath.Join(telemetry, "windows-evtx-bulk")
	var files []string
	var size int64
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && filepath.Ext(p) == ".evtx" {
			files = append(files, p)
			if fi, err := d.Info(); err == nil {
				size += fi.Size()
			}
		}
		return nil
	})
	if len(files) == 0 {
		b.Skip("../shared/telemetry/windows-evtx-bulk not present")
	}
	return files, size
}

// readBulk reads every record of the corpus once, calling fn (if not nil)
// on each, and returns the number of records.
func readBulk(files []string, fn func(*evtx.Record, string)) int {
	n := 0
	for _, f := range files {
		r, err := evtx.Open(f)
		if err != nil {
			continue
		}
		for {
			rec, err := nextRecord(r)
			if err != nil {
				break
			}
			n++
			if fn != nil {
				fn(rec, f)
			}
		}
		r.Close()
	}
	return n
}

// BenchmarkRead reads every record of windows-evtx-bulk (no
// normalisation): the baseline BenchmarkNormalize is compared with.
func BenchmarkRead(b *testing.B) {
	files, size := bulkFiles(b)
	b.SetBytes(size)
	b.ResetTimer()
	cpu0 := processCPU()
	n := 0
	for i := 0; i < b.N; i++ {
		n += readBulk(files, nil)
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(processCPU()-cpu0)/float64(n), "cpu-ns/record")
}

// BenchmarkNormalize reads and normalises every record of
// windows-evtx-bulk as a reader loop does (one Normalizer, one reused
// output buffer). Its cpu-ns/record minus BenchmarkRead's, in the same
// run, is the cost of normalisation with the record fresh in cache.
func BenchmarkNormalize(b *testing.B) {
	files, size := bulkFiles(b)
	b.SetBytes(size)
	var nz Normalizer
	var buf []byte
	b.ResetTimer()
	cpu0 := processCPU()
	n := 0
	for i := 0; i < b.N; i++ {
		n += readBulk(files, func(rec *evtx.Record, f string) {
			buf, _ = nz.AppendEVTX(buf[:0], rec, f)
		})
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(processCPU()-cpu0)/float64(n), "cpu-ns/record")
}

// loadBulk reads every 32nd record of the windows-evtx-bulk corpus into
// memory (records do not share memory with the reader), for benchmarks of
// the normalisation step alone. A sample keeps the live heap small, as in a
// streaming run: holding all records would make the garbage collector's
// scans, not normalisation, the measured cost.
func loadBulk(b *testing.B) []*evtx.Record {
	dir := filepath.Join(telemetry, "windows-evtx-bulk")
	var recs []*evtx.Record
	n := 0
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(p) != ".evtx" {
			return nil
		}
		r, err := evtx.Open(p)
		if err != nil {
			return nil
		}
		defer r.Close()
		for {
			rec, err := nextRecord(r)
			if err != nil {
				break
			}
			if n++; n%32 == 0 {
				recs = append(recs, rec)
			}
		}
		return nil
	})
	if len(recs) == 0 {
		b.Skip("../shared/telemetry/windows-evtx-bulk not present")
	}
	return recs
}

// BenchmarkNormalizeOnly is the normalisation step alone (EVTX record to
// JSON bytes) through Normalize, which returns a fresh slice, over a sample
// of windows-evtx-bulk; one op is one record, so ns/op, B/op and allocs/op
// are per record. cpu-ns/record is the process CPU time per record (stable
// on a loaded machine, unlike ns/op).
func BenchmarkNormalizeOnly(b *testing.B) {
	recs := loadBulk(b)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := processCPU()
	for i := 0; i < b.N; i++ {
		if _, err := Normalize(recs[i%len(recs)], "bulk.evtx"); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/record")
}

// BenchmarkNormalizerAppend is the hot path as a reader loop uses it: one
// Normalizer, one output buffer reused from record to record.
func BenchmarkNormalizerAppend(b *testing.B) {
	recs := loadBulk(b)
	var n Normalizer
	var buf []byte
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := processCPU()
	for i := 0; i < b.N; i++ {
		var err error
		if buf, err = n.AppendEVTX(buf[:0], recs[i%len(recs)], "bulk.evtx"); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/record")
}

// BenchmarkNormalizeReuse is the read+normalise hot path as source.Reader
// runs it, without the file system: every file of windows-evtx-bulk is
// held in memory (read once), read with evtx.Reader.Reuse and normalised
// by one Normalizer into one reused buffer. One op is one pass over the
// corpus; cpu-ns/record is the process CPU time per record.
func BenchmarkNormalizeReuse(b *testing.B) {
	files, size := bulkFiles(b)
	data := make([][]byte, 0, len(files))
	for _, f := range files {
		if d, err := os.ReadFile(f); err == nil {
			data = append(data, d)
		}
	}
	b.SetBytes(size)
	var nz Normalizer
	var buf []byte
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := processCPU()
	n := 0
	for i := 0; i < b.N; i++ {
		for j, d := range data {
			r, err := evtx.NewReader(bytes.NewReader(d), int64(len(d)), files[j])
			if err != nil {
				continue
			}
			r.Reuse = true
			for {
				rec, err := nextRecord(r)
				if err == io.EOF {
					break
				}
				if err != nil {
					b.Fatal(err)
				}
				if buf, err = nz.AppendEVTX(buf[:0], rec, files[j]); err != nil {
					b.Fatal(err)
				}
				n++
			}
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(processCPU()-cpu0)/float64(n), "cpu-ns/record")
}

// BenchmarkAppendJSON is the document writer alone: documents of a sample
// of windows-evtx-bulk built once (one Normalizer each, so that they stay
// valid), then written again and again. One op is one document.
func BenchmarkAppendJSON(b *testing.B) {
	recs := loadBulk(b)
	if len(recs) > 256 {
		recs = recs[:256]
	}
	ms := make([]*Normalizer, len(recs))
	size := 0
	for i, rec := range recs {
		ms[i] = new(Normalizer)
		out, err := ms[i].AppendEVTX(nil, rec, "bulk.evtx")
		if err != nil {
			b.Fatal(err)
		}
		size += len(out)
	}
	b.SetBytes(int64(size / len(recs)))
	var buf []byte
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		buf = ms[i%len(ms)].m.d.appendJSON(buf[:0])
	}
}

// nextRecord is r.Next past damaged records (reported by the reader and
// skipped, as vigil does): a record, io.EOF, or an error that ends the file.
func nextRecord(r *evtx.Reader) (*evtx.Record, error) {
	for {
		rec, err := r.Next()
		if err != nil && err != io.EOF && evtx.IsRecoverable(err) {
			continue
		}
		return rec, err
	}
}
