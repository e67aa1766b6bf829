// Command vigil-benchgen writes the benchmark data set: ECS NDJSON endpoint
// events, about 0.1% of them matching the seed rule. It prints the
// generation stats as shell assignments on stderr, or one of the benchmark
// queries with -query.
//
// -profile realistic (the default) embeds the deliberate matches in benign
// background as real Windows and Linux hosts produce it: Elastic's prebuilt
// rules alert on about 0.3% of the events, nearly all of them the
// deliberate seed matches and decoys (the background alone: about 100 per
// million); use it for throughput on ordinary telemetry. -profile noisy is
// the generator's first background (random parents, binaries in
// user-writable directories, random ports, frequent discovery tools): the
// prebuilt rules alert on about 11% of its events, which measures alert
// building and output under load.
//
//	vigil-benchgen -bytes 1073741824 -seed 1 -o events.ndjson
//	vigil-benchgen -profile noisy -bytes 1073741824 -o events-noisy.ndjson
//	vigil-benchgen -query seed
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/vigilsec/vigil/internal/benchgen"
)

func main() {
	size := flag.Int64("bytes", 1<<30, "write at least this many bytes")
	seed := flag.Int64("seed", 1, "random seed (the output is deterministic for a seed)")
	out := flag.String("o", "-", "output file (- for stdout)")
	query := flag.String("query", "", "print a benchmark query instead: parse, seed, nonselective or sequence")
	profile := flag.String("profile", string(benchgen.DefaultProfile),
		"background: realistic or noisy (see above)")
	flag.Usage = func() {
		fmt.Fprint(flag.CommandLine.Output(), `Usage: vigil-benchgen [flags]

Writes the benchmark data set, ECS NDJSON endpoint events (about 0.1% of the
lines match the seed rule, Elastic's "User Account Creation"), and prints the
generation stats on stderr; or, with -query, one of the benchmark queries.

Profiles (the background around the deliberate matches):
  realistic  the default: what benign Windows and Linux hosts do (real
             parent-child pairs, install paths, per-process ports and files,
             admin tools a few times a day). Elastic's prebuilt rules alert on
             ~0.3% of the events, nearly all of them the seed matches and
             decoys. For throughput on ordinary telemetry.
  noisy      the first generator's background (random parents, binaries in
             user-writable directories, random ports, frequent discovery
             tools): ~11% of the events alert. For alert building and output
             under load.

Flags:
`)
		flag.PrintDefaults()
	}
	flag.Parse()
	prof, err := benchgen.ParseProfile(*profile)
	if err != nil {
		fmt.Fprintln(os.Stderr, "vigil-benchgen:", err)
		os.Exit(2)
	}

	if *query != "" {
		q, ok := map[string]string{
			"parse":        benchgen.ParseOnlyQuery,
			"seed":         benchgen.SeedRule,
			"nonselective": benchgen.NonSelectiveQuery,
			"sequence":     benchgen.SequenceQuery,
		}[*query]
		if !ok {
			fmt.Fprintf(os.Stderr, "vigil-benchgen: -query %q: want parse, seed, nonselective or sequence\n", *query)
			os.Exit(2)
		}
		fmt.Println(q)
		return
	}

	var w io.Writer = os.Stdout
	var f *os.File
	if *out != "-" {
		if f, err = os.Create(*out); err != nil {
			fmt.Fprintln(os.Stderr, "vigil-benchgen:", err)
			os.Exit(1)
		}
		w = f
	}
	start := time.Now()
	st, err := benchgen.GenerateProfile(w, *size, *seed, prof)
	if err == nil && f != nil {
		err = f.Close()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "vigil-benchgen:", err)
		os.Exit(1)
	}
	el := time.Since(start)
	fmt.Fprintf(os.Stderr, "PROFILE=%s\nLINES=%d\nBYTES=%d\nSEED_MATCHES=%d\nNONSELECTIVE_MATCHES=%d\nSEQUENCES=%d\nPROCESS=%d\nNETWORK=%d\nFILE=%d\nGEN_SECONDS=%.3f\nGEN_MBPS=%.1f\n",
		prof, st.Lines, st.Bytes, st.SeedMatches, st.NonSelectiveMatches, st.Sequences, st.Process, st.Network, st.File,
		el.Seconds(), float64(st.Bytes)/1e6/el.Seconds())
}
