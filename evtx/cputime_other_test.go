//go:build !unix

package evtx

import "time"

func cpuTime() time.Duration { return 0 }
