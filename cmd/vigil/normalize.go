package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/vigilsec/vigil/source"
)

func newNormalizeCmd(e *env) *cobra.Command {
	var format string
	c := &cobra.Command{
		Use:   "normalize [PATH...]",
		Short: "Turn raw event files (EVTX, EDR exports) into ECS NDJSON",
		Long: `Normalize reads raw event files and writes one ECS document per record on
standard output, as NDJSON, shaped as Elastic's integrations would have indexed
them. With no PATH, or PATH "-", it reads standard input.

Inputs:
  EVTX (Windows event log files, detected by their ElfFile signature): each
  record becomes a Winlogbeat / Elastic Agent document (winlog.*) with the ECS
  mapping of Elastic's pipelines (Sysmon event 1, Security event 4688 so far),
  host.os.type "windows", and _index / data_stream.* naming the data stream
  (Security: logs-system.security-default, Sysmon:
  logs-windows.sysmon_operational-default, other channels:
  logs-windows.forwarded-default).
  JSON (NDJSON or one array, plain or gzip), format detected per record
  (override with --source NAME):
    crowdstrike   CrowdStrike FDR events (event_simpleName) ->
                  logs-crowdstrike.fdr-default
    sentinelone   SentinelOne Cloud Funnel events (meta.event.name) ->
                  logs-sentinel_one_cloud_funnel.event-default
    m365defender  Microsoft 365 Defender Event Hub records
                  (category AdvancedHunting-Device*, one per line or in
                  {"records":[...]} envelopes) ->
                  logs-m365_defender.event-default
    endgame       legacy Endgame/EQL events (event_subtype_full) ->
                  endgame-8.4.0
    ecs           ECS documents (anything with @timestamp, e.g. Elastic
                  Defend): passed through unchanged
  Each vendor record becomes the document Elastic's integration would index,
  with _index and data_stream.* naming its data stream.

Directories are read recursively (*.evtx, *.json, *.ndjson, *.jsonl, *.gz).
Damaged EVTX chunks and records, and vendor records that cannot be mapped,
are reported on stderr as file:line and skipped; a summary
(files, records, errors) ends on stderr.

` + exitCodesHelp,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runNormalize(e, args, format)
		},
	}
	c.Flags().StringVar(&format, "source", "", sourceFlagHelp())
	return c
}

func runNormalize(e *env, paths []string, format string) error {
	if err := checkSource("normalize", format); err != nil {
		return err
	}
	if len(paths) == 0 {
		paths = []string{"-"}
	}
	w := bufio.NewWriterSize(e.stdout, 256<<10)
	var records, errs, files int
	onError := func(err *source.Error) {
		errs++
		fmt.Fprintf(e.stderr, "%v\n", err)
	}
	for _, p := range paths {
		rd, err := openInput(e, p, format)
		if err != nil {
			errs++
			fmt.Fprintf(e.stderr, "%s\n", pathError(p, err))
			continue
		}
		rd.OnError = onError
		for {
			rec, _, ok := rd.Next()
			if !ok {
				break
			}
			records++
			if bytes.IndexByte(rec, '\n') >= 0 {
				// An element of a pretty-printed JSON array: one line each.
				var buf bytes.Buffer
				if json.Compact(&buf, rec) == nil {
					rec = buf.Bytes()
				}
			}
			w.Write(rec)
			w.WriteByte('\n')
		}
		files += rd.Files()
		rd.Close()
	}
	if err := w.Flush(); err != nil {
		return &exitError{code: exitInput, msg: fmt.Sprintf("writing output: %v", err)}
	}
	fmt.Fprintf(e.stderr, "vigil normalize: %d files, %d records, %d errors\n", files, records, errs)
	if errs > 0 {
		return &exitError{code: exitInput}
	}
	return nil
}
