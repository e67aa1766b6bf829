package winlog

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/vigilsec/vigil/evtx"
)

// BenchmarkNormalize normalises every record of the windows-evtx-bulk corpus
// (read included); records/s and MB/s are reported.
func BenchmarkNormalize(b *testing.B) {
	dir := filepath.Join(telemetry, "windows-evtx-bulk")
	var files []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && filepath.Ext(p) == ".evtx" {
			files = append(files, p)
		}
		return nil
	})
	if len(files) == 0 {
		b.Skip("../shared/telemetry/windows-evtx-bulk not present")
	}
	var size int64
	for _, f := range files {
		if fi, err := os.Stat(f); err == nil {
			size += fi.Size()
		}
	}
	b.SetBytes(size)
	b.ResetTimer()
	n := 0
	for i := 0; i < b.N; i++ {
		for _, f := range files {
			r, err := evtx.Open(f)
			if err != nil {
				continue
			}
			for {
				rec, err := r.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					if evtx.IsRecoverable(err) {
						continue
					}
					break
				}
				if _, err := Normalize(rec, f); err == nil {
					n++
				}
			}
			r.Close()
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
}
