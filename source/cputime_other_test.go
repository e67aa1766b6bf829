//go:build !unix

package source_test

import "time"

// cpuTime is not available: benchmarks report wall time only.
func cpuTime() time.Duration { return 0 }
