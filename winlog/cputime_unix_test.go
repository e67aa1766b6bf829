//go:build unix

package winlog

import (
	"syscall"
	"time"
)

// processCPU is the CPU time the process has used (user + system, every
// thread: the garbage collector's work counts). Benchmarks report it per
// record because wall-clock time on a shared, loaded machine is not a
// measure of the code.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
