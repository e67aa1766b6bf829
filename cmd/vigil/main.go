// Command vigil runs Elastic's detection rules and EQL queries over log
// files, without Elasticsearch.
package main

import (
	"fmt"
	"os"
	"runtime/pprof"
)

func main() {
	// VIGIL_CPUPROFILE=file writes a CPU profile of the run, for go tool pprof.
	if p := os.Getenv("VIGIL_CPUPROFILE"); p != "" {
		f, err := os.Create(p)
		if err != nil {
			fmt.Fprintf(os.Stderr, "vigil: VIGIL_CPUPROFILE: %v\n", err)
			os.Exit(exitUsage)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(os.Stderr, "vigil: VIGIL_CPUPROFILE: %v\n", err)
			os.Exit(exitUsage)
		}
		code := run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
		pprof.StopCPUProfile()
		f.Close()
		os.Exit(code)
	}
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
