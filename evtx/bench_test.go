package evtx

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// BenchmarkRead reads every record of every file in the bulk corpus (the files
// are cached in memory first, so this measures decoding, not I/O).
func BenchmarkRead(b *testing.B) {
	needDir(b, bulkDir)
	var files [][]byte
	var total int64
	filepath.WalkDir(bulkDir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(strings.ToLower(p), ".evtx") {
			if data, err := os.ReadFile(p); err == nil {
				files = append(files, data)
				total += int64(len(data))
			}
		}
		return nil
	})
	b.SetBytes(total)
	b.ResetTimer()
	records := 0
	for i := 0; i < b.N; i++ {
		for _, data := range files {
			r, err := NewReader(bytesReaderAt(data), int64(len(data)), "bench")
			if err != nil {
				continue
			}
			for {
				_, err := r.Next()
				if err == io.EOF {
					break
				}
				if err != nil && !IsRecoverable(err) {
					break
				}
				if err == nil {
					records++
				}
			}
		}
	}
	b.ReportMetric(float64(records)/b.Elapsed().Seconds(), "records/s")
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
