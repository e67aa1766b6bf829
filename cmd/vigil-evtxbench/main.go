// Command vigil-evtxbench measures Vigil's EVTX reader alone: it reads every
// record of the given .evtx files and directories (recursively) and, unless
// -fields=false, extracts what a normaliser needs from each (System fields,
// EventData and UserData name/value pairs). It prints one line: files,
// records, damaged chunks/records, bytes, wall and CPU seconds, records/s and
// MB/s. With -normalize it also turns each record into its ECS document as
// vigil normalize does (winlog.Normalizer, Reader.Reuse, one reused
// buffer; the documents are discarded): read+normalise without the vigil
// command's start-up and output. scripts/bench-evtx.sh uses it for the
// read-only figures.
//
//	vigil-evtxbench [-fields=true] [-reuse] [-normalize] [-runs N] [-cpuprofile FILE] [-memprofile FILE] PATH...
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/vigilsec/vigil/evtx"
	"github.com/vigilsec/vigil/winlog"
)

func main() {
	fields := flag.Bool("fields", true, "extract System, EventData and UserData from each record")
	reuse := flag.Bool("reuse", false, "let the reader reuse record memory (evtx.Reader.Reuse)")
	normalize := flag.Bool("normalize", false, "normalise every record to its ECS document (implies -reuse; the documents are discarded)")
	runs := flag.Int("runs", 1, "read the inputs this many times; the fastest run is reported")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile to this file")
	memprofile := flag.String("memprofile", "", "write an allocation profile to this file")
	flag.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: vigil-evtxbench [-fields=true] [-reuse] [-normalize] [-runs N] [-cpuprofile FILE] [-memprofile FILE] PATH...\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	var files []string
	var size int64
	for _, root := range flag.Args() {
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && (p == root || strings.EqualFold(filepath.Ext(p), ".evtx")) {
				fi, err := d.Info()
				if err != nil {
					return err
				}
				files = append(files, p)
				size += fi.Size()
			}
			return nil
		})
		if err != nil {
			fmt.Fprintf(os.Stderr, "vigil-evtxbench: %v\n", err)
			os.Exit(1)
		}
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "vigil-evtxbench: %v\n", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	var best result
	for i := 0; i < max(*runs, 1); i++ {
		res, err := readAll(files, *fields, *reuse, *normalize)
		if err != nil {
			fmt.Fprintf(os.Stderr, "vigil-evtxbench: %v\n", err)
			pprof.StopCPUProfile()
			os.Exit(1)
		}
		if i == 0 || res.wall < best.wall {
			best = res
		}
	}
	if *memprofile != "" {
		f, err := os.Create(*memprofile)
		if err == nil {
			err = pprof.Lookup("allocs").WriteTo(f, 0)
			f.Close()
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "vigil-evtxbench: %v\n", err)
		}
	}
	mb := float64(size) / 1e6
	fmt.Printf("files %d records %d damaged %d bytes %d wall_s %.3f cpu_s %.3f records_per_s %.0f mb_per_s %.1f\n",
		len(files), best.records, best.damaged, size, best.wall.Seconds(), best.cpu.Seconds(),
		float64(best.records)/best.wall.Seconds(), mb/best.wall.Seconds())
}

type result struct {
	records, damaged int
	wall, cpu        time.Duration
}

var (
	sink     int
	fieldBuf []evtx.Field // reused, as a normaliser would
	norm     winlog.Normalizer
	docBuf   []byte
)

func readAll(files []string, fields, reuse, normalize bool) (result, error) {
	var res result
	start, cpu0 := time.Now(), cpuTime()
	for _, f := range files {
		r, err := evtx.Open(f)
		if err != nil {
			res.damaged++ // not an EVTX file, or no header: counted, not fatal
			continue
		}
		r.Reuse = reuse || normalize
		for {
			rec, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				if evtx.IsRecoverable(err) {
					res.damaged++
					continue
				}
				r.Close()
				return res, fmt.Errorf("%s: %w", f, err)
			}
			if normalize {
				if docBuf, err = norm.AppendEVTX(docBuf[:0], rec, f); err != nil {
					res.damaged++ // reported by vigil normalize, not a record
					continue
				}
				sink += len(docBuf)
			}
			res.records++
			if fields && !normalize {
				s := rec.System()
				fieldBuf = rec.AppendEventData(fieldBuf[:0])
				fieldBuf = rec.AppendUserData(fieldBuf)
				sink += int(s.EventID) + len(s.Channel) + len(fieldBuf)
			}
		}
		if err := r.Close(); err != nil && !errors.Is(err, os.ErrClosed) {
			return res, err
		}
	}
	res.wall, res.cpu = time.Since(start), cpuTime()-cpu0
	return res, nil
}

// cpuTime is the process's user+system CPU time (all threads, so the garbage
// collector's work counts).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
