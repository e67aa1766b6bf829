package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// Exit codes, documented in the help.
const (
	exitOK    = 0 // ran fine, with or without matches
	exitInput = 1 // ran, but some input was malformed or unreadable
	exitUsage = 2 // bad flags, arguments, query or mapping: nothing ran
)

const exitCodesHelp = `Exit status:
  0  the command ran (whether or not anything matched or alerted)
  1  it ran, but some input (event or rule) was malformed or unreadable, or
     rules failed validation or their tests; everything else was processed
     and printed, the problems are on stderr with their positions
  2  usage error: bad flags or arguments, an invalid query or mapping`

// exitError carries an exit code out of a cobra command. msg, if set, is
// printed on stderr as is; an empty msg means the problem was already told.
type exitError struct {
	code int
	msg  string
	// noHint drops the pointer to --help: a query error already points at
	// the problem in the query.
	noHint bool
}

func (e *exitError) Error() string { return e.msg }

func usageErrorf(format string, args ...any) error {
	return &exitError{code: exitUsage, msg: fmt.Sprintf(format, args...)}
}

// env is what a command may touch of the outside world; tests pass buffers.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
}

// run is the whole program: main passes the process's arguments and
// standard streams, tests pass their own, and the exit code comes back.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr, getenv: os.Getenv}
	root := newRootCmd(e)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	cmd, err := root.ExecuteC()
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.msg != "" {
			fmt.Fprintf(stderr, "vigil: %s\n", ee.msg)
		}
		if ee.code == exitUsage && !ee.noHint && cmd != nil {
			fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", cmd.CommandPath())
		}
		return ee.code
	}
	// Cobra's own errors: unknown command or flag, wrong argument count.
	fmt.Fprintf(stderr, "vigil: %v\n", err)
	if cmd != nil {
		fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", cmd.CommandPath())
	}
	return exitUsage
}

func newRootCmd(e *env) *cobra.Command {
	root := &cobra.Command{
		Use:   "vigil",
		Short: "Run Elastic's detection rules and EQL over logs and live events, without Elasticsearch",
		Long: `Vigil runs Elastic Security's detection rules (elastic/detection-rules TOML,
Kibana NDJSON exports) and Event Query Language (EQL) searches with
Elasticsearch's semantics: the same matching, sequence and sample logic and
ordering, alerts shaped like Kibana's, search results shaped like
Elasticsearch's EQL search response. It runs them over files (hunt, eql) and,
as a service that Beats, Elastic Agent, Logstash or rsyslog ship to as to
Elasticsearch, over live events (serve).

Inputs: ECS NDJSON or JSON arrays, raw Windows .evtx files, Winlogbeat and
NXLog JSON, CrowdStrike FDR, SentinelOne Cloud Funnel, Microsoft 365 Defender
and legacy Endgame exports, plain or gzip, from files, directories or standard
input. Each record becomes the ECS document Elastic's integration would index
(vigil normalize shows it); the format is detected, or forced with --source.

Commands:
  hunt            run rules (the built-in pack, or --rules) over files and print alerts
  eql             search events with one EQL query
  normalize       raw events (EVTX, vendor exports) to ECS NDJSON
  rules validate  parse, compile and type-check rules; JSON summary for CI
  rules test      run rule unit tests (*.test.toml) with readable diffs
  rules run       run one rule over a past range of serve's event log (backfill)
  serve           Elasticsearch-compatible ingest, continuous detection, alerts API
  apikey create   create an API key for serve

` + exitCodesHelp,
		Example: `  # The built-in rule pack over an Elastic Defend export
  vigil hunt samples/defend-user-account-creation.ndjson

  # Elastic's prebuilt EQL rules over a directory of logs, alerts as Kibana documents
  vigil hunt --rules detection-rules/rules --format ndjson --output alerts.ndjson logs/

  # One query, results as Elasticsearch's EQL search response
  vigil eql 'process where process.name == "net.exe" and process.args : "/add"' events.ndjson

  # A sequence over several files, as NDJSON for jq
  vigil eql --format ndjson 'sequence by host.id [process where true] [network where true]' logs/

  # Raw Windows event logs and an EDR export, with Elastic's whole EQL corpus
  vigil hunt --rules detection-rules/rules triage/*.evtx fdr-export.ndjson.gz

  # Check rules before deploying them
  vigil rules validate --format json my-rules/ && vigil rules test my-rules/

  # A local service: point Filebeat or Elastic Agent at http://127.0.0.1:9200
  vigil serve --data /var/lib/vigil`,
		SilenceErrors: true,
		SilenceUsage:  true,
		// The default completion command would be a second, unasked-for
		// command in the help; leave it out until there is a need.
		CompletionOptions: cobra.CompletionOptions{DisableDefaultCmd: true},
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &exitError{code: exitUsage, msg: err.Error()}
	})
	root.AddCommand(newEQLCmd(e), newHuntCmd(e), newNormalizeCmd(e), newRulesCmd(e))
	root.AddCommand(newServeCmd(e), newAPIKeyCmd(e))
	return root
}

// terminal reports whether w is a terminal, and its file descriptor.
func terminal(w any) (int, bool) {
	f, ok := w.(*os.File)
	if !ok {
		return -1, false
	}
	fd := f.Fd()
	return int(fd), isatty.IsTerminal(fd) || isatty.IsCygwinTerminal(fd)
}

// termWidth is the width of the terminal w, or 0 when it is not one.
func termWidth(w any) int {
	fd, ok := terminal(w)
	if !ok {
		return 0
	}
	width, _, err := term.GetSize(fd)
	if err != nil {
		return 0
	}
	return width
}
