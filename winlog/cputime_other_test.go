//go:build !unix

package winlog

import "time"

// processCPU is not measured off Unix; the cpu-ns/record metric reads 0.
func processCPU() time.Duration { return 0 }
