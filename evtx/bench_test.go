package evtx

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// bulkFiles holds the bulk corpus in memory, loaded once per test binary so
// that the benchmarks measure decoding, not I/O or their own setup.
var bulkFiles struct {
	once  sync.Once
	data  [][]byte
	bytes int64
}

func loadBulk(b *testing.B) ([][]byte, int64) {
	needDir(b, bulkDir)
	bulkFiles.once.Do(func() {
		filepath.WalkDir(bulkDir, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() && strings.HasSuffix(strings.ToLower(p), ".evtx") {
				if data, err := os.ReadFile(p); err == nil {
					bulkFiles.data = append(bulkFiles.data, data)
					bulkFiles.bytes += int64(len(data))
				}
			}
			return nil
		})
	})
	return bulkFiles.data, bulkFiles.bytes
}

// benchBulk reads every record of every file of the bulk corpus per
// iteration, passing each record to use.
func benchBulk(b *testing.B, use func(*Record)) { benchBulkMode(b, false, use) }

func benchBulkMode(b *testing.B, reuse bool, use func(*Record)) {
	files, total := loadBulk(b)
	b.SetBytes(total)
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	records := 0
	for i := 0; i < b.N; i++ {
		for _, data := range files {
			r, err := NewReader(bytesReaderAt(data), int64(len(data)), "bench")
			if err != nil {
				continue
			}
			r.Reuse = reuse
			for {
				rec, err := r.Next()
				if err == io.EOF {
					break
				}
				if err != nil && !IsRecoverable(err) {
					break
				}
				if err == nil {
					use(rec)
					records++
				}
			}
		}
	}
	b.ReportMetric(float64(records)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(max(records, 1)), "ns/record")
	// CPU time (all threads, including the garbage collector's) per record.
	b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(max(records, 1)), "cpu-ns/record")
}

// BenchmarkRead decodes every record of the bulk corpus (files cached in memory).
func BenchmarkRead(b *testing.B) { benchBulk(b, func(*Record) {}) }

// BenchmarkReadFields also extracts what a normaliser needs from each record:
// the System fields, EventData and UserData.
func BenchmarkReadFields(b *testing.B) {
	var sink int
	benchBulk(b, func(r *Record) {
		s := r.System()
		sink += int(s.EventID) + len(r.EventData()) + len(r.UserData())
	})
	_ = sink
}

// BenchmarkReadReuse is BenchmarkRead with Reader.Reuse (no copy of each record).
func BenchmarkReadReuse(b *testing.B) { benchBulkMode(b, true, func(*Record) {}) }

// BenchmarkReadFieldsReuse is BenchmarkReadFields with Reader.Reuse and the
// Append forms of EventData and UserData, as a normaliser would call them.
func BenchmarkReadFieldsReuse(b *testing.B) {
	var sink int
	var buf []Field
	benchBulkMode(b, true, func(r *Record) {
		s := r.System()
		buf = r.AppendUserData(r.AppendEventData(buf[:0]))
		sink += int(s.EventID) + len(buf)
	})
	_ = sink
}

type bytesReaderAt []byte

func (b bytesReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off >= int64(len(b)) {
		return 0, io.EOF
	}
	n := copy(p, b[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}
