package main

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigilsec/vigil/detect"
	"github.com/vigilsec/vigil/eql"
	"github.com/vigilsec/vigil/rule"
	"github.com/vigilsec/vigil/schema"
	"github.com/vigilsec/vigil/source"
)

type huntFlags struct {
	rules          []string
	versionLock    string
	format         string
	index          string
	from, to       string
	minSeverity    string
	output         string
	rejects        string
	buildingBlocks bool
	reorderWindow  time.Duration
	stats          bool
	source         string
	workers        int
}

func newHuntCmd(e *env) *cobra.Command {
	var f huntFlags
	c := &cobra.Command{
		Use:   "hunt [flags] PATH...",
		Short: "Run detection rules over log files and print Kibana-style alerts",
		Long: `Run Elastic detection rules over event files (NDJSON or JSON arrays, plain or
gzip; directories recursively; "-" or no PATH for stdin) and print the alerts.
Without --rules the built-in rule pack runs. Raw vendor records (CrowdStrike
FDR, SentinelOne Cloud Funnel, Microsoft 365 Defender, legacy Endgame) and
EVTX files are first mapped to ECS as Elastic's integrations would (see
"vigil normalize --help"; --source NAME forces one format).

Each rule sees only events of the indices its "index" patterns name. An
event's index is its _index field, else logs-<data_stream.dataset>-<namespace>,
else --index; an event with no index information is offered to every rule
(the summary counts them).

--format ndjson writes alerts as documents of Kibana's
.alerts-security.alerts-default index (kibana.alert.* fields, deterministic
kibana.alert.uuid, sequences as building blocks plus a shell alert); table
(default on a terminal) is for people; csv for spreadsheets. Alerts of
building-block rules and sequence building blocks are left out of table and
csv unless --building-blocks is given. Alerts are written as they are found,
in the order events are processed (time order for time-sorted files).

Exit status: 0 the hunt ran; 1 it ran, but some input or rule was malformed
(each reported with its position, the rest processed); 2 usage error.`,
		Example: `  # The built-in pack over an Elastic Defend export
  vigil hunt samples/defend-user-account-creation.ndjson

  # All of Elastic's EQL rules over a directory, alerts as Kibana documents
  vigil hunt --rules detection-rules/rules --format ndjson --output alerts.ndjson logs/

  # Only medium and above, events without index information treated as Sysmon
  vigil hunt --rules my-rules/ --min-severity medium --index logs-windows.sysmon_operational-default events.json`,
		RunE: func(cmd *cobra.Command, args []string) error { return runHunt(e, &f, args) },
	}
	fl := c.Flags()
	fl.StringArrayVar(&f.rules, "rules", nil, "rule `PATH` (detection-rules TOML or Kibana NDJSON; file or directory); repeatable; default: the built-in pack")
	fl.StringVar(&f.versionLock, "version-lock", "", "detection-rules version lock `FILE` for rules without a version")
	fl.StringVar(&f.format, "format", "", "table, ndjson or csv (default table on a terminal, else ndjson)")
	fl.StringVar(&f.index, "index", "", "index `NAME` of events that carry no index information")
	fl.StringVar(&f.from, "from", "", "only events at or after `T` (RFC 3339 or date; on each rule's timestamp_override, else @timestamp)")
	fl.StringVar(&f.to, "to", "", "only events at or before `T`")
	fl.StringVar(&f.minSeverity, "min-severity", "", "only alerts of this severity or higher: low, medium, high, critical")
	fl.StringVar(&f.output, "output", "", "write alerts to `FILE` instead of stdout")
	fl.StringVar(&f.rejects, "rejects", "", "write malformed events to `FILE` as file:line: reason, then the raw line")
	fl.BoolVar(&f.buildingBlocks, "building-blocks", false, "show building-block alerts in table and csv output")
	fl.DurationVar(&f.reorderWindow, "reorder-window", 15*time.Minute, "sequences: reorder events arriving up to this much (event time) out of order; 0: exact")
	fl.IntVar(&f.workers, "workers", runtime.GOMAXPROCS(0), "evaluate on `N` cores (sequences are shared out, event queries take turns by batch of lines; output is the same for any N)")
	fl.BoolVar(&f.stats, "stats", false, "print the summary on stderr even when it is not a terminal")
	fl.StringVar(&f.source, "source", "", sourceFlagHelp())
	return c
}

var severityRank = map[string]int{"low": 1, "medium": 2, "high": 3, "critical": 4}

func parseTimeFlag(name, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if ms, ok := schema.ParseDate(v, nil); ok {
		return time.UnixMilli(ms).UTC(), nil
	}
	return time.Time{}, usageErrorf("hunt: --%s %q: want an RFC 3339 time or a date", name, v)
}

func runHunt(e *env, f *huntFlags, paths []string) error {
	start := time.Now()
	_, stdoutTTY := terminal(e.stdout)
	format := f.format
	switch format {
	case "":
		format = "ndjson"
		if stdoutTTY && f.output == "" {
			format = "table"
		}
	case "table", "ndjson", "csv":
	default:
		return usageErrorf("hunt: --format %q: want table, ndjson or csv", format)
	}
	if err := checkSource("hunt", f.source); err != nil {
		return err
	}
	minRank := 0
	if f.minSeverity != "" {
		r, ok := severityRank[strings.ToLower(f.minSeverity)]
		if !ok {
			return usageErrorf("hunt: --min-severity %q: want low, medium, high or critical", f.minSeverity)
		}
		minRank = r
	}
	from, err := parseTimeFlag("from", f.from)
	if err != nil {
		return err
	}
	to, err := parseTimeFlag("to", f.to)
	if err != nil {
		return err
	}
	sink := &stderrSink{e: e}
	problems := 0

	// Rules.
	res, err := loadRulesOf(f.rules, f.versionLock, runnableTypes)
	if err != nil {
		return err
	}
	for _, le := range res.Errors {
		sink.printf("%s\n", le.Detail())
		problems++
	}
	// Outputs.
	out := e.stdout
	var outFile *os.File
	if f.output != "" {
		if outFile, err = os.Create(f.output); err != nil {
			return usageErrorf("hunt: --output: %v", err)
		}
		defer outFile.Close()
		out = outFile
	}
	var rejects io.Writer // written by the reader and the workers' collector
	if f.rejects != "" {
		rf, err := os.Create(f.rejects)
		if err != nil {
			return usageErrorf("hunt: --rejects: %v", err)
		}
		defer rf.Close()
		bw := bufio.NewWriter(rf)
		defer bw.Flush()
		rejects = &syncWriter{w: bw}
	}

	// Inputs.
	if len(paths) == 0 {
		paths = []string{"-"}
	}
	var st stats
	var readers []*source.Reader
	for _, rd := range openInputs(e, paths, f.source, sink, &st) {
		if rd != nil {
			readers = append(readers, rd)
		}
	}
	_, stderrTTY := terminal(e.stderr)

	// Alerts stream out as they are found (memory does not grow with
	// them): NDJSON is written at once; table and csv keep one small row
	// per alert, for the column widths.
	w := bufio.NewWriter(out)
	var views []alertView
	tally := &alertTally{byRule: map[string]int{}, bySev: map[string]int{}}
	emit := func(a *detect.Alert) {
		if minRank > 0 && severityRank[a.Severity] < minRank {
			return
		}
		tally.add(a)
		switch {
		case format == "ndjson":
			w.Write(a.JSON())
			w.WriteByte('\n')
		case a.BuildingBlock && !f.buildingBlocks:
		default:
			views = append(views, viewOf(a))
		}
	}
	bad := func(file string, line []byte, src eql.Source, err error) {
		sink.printf("%s:%d: %v\n", file, src.Line, err)
		if rejects != nil {
			fmt.Fprintf(rejects, "%s:%d: %v\n%s\n", file, src.Line, err, line)
		}
	}
	eng, cerrs := detect.NewParallel(res.Rules, f.workers, detect.Options{DefaultIndex: f.index, From: from, To: to, ReorderWindow: f.reorderWindow, Now: start.UTC(), Emit: emit}, bad)
	for _, ce := range cerrs {
		var le *rule.LoadError
		if errors.As(ce, &le) {
			sink.printf("%s\n", le.Detail())
		} else {
			sink.printf("%v\n", ce)
		}
		problems++
	}
	nRules := len(eng.Rules())
	if nRules == 0 {
		eng.Finish()
		return usageErrorf("hunt: no runnable rule (EQL) among %d loaded", len(res.Rules))
	}
	for _, rd := range readers {
		huntScan(eng, rd, sink, &st, rejects, st.bytes)
		st.files += rd.Files()
		st.skippedFiles += rd.SkippedFiles()
		st.bytes += rd.BytesRead()
	}
	ferr := eng.Finish()
	es := eng.Stats()
	st.malformed += es.Malformed
	sink.bar.Clear()
	for _, rd := range readers {
		rd.Close()
	}
	if ferr != nil {
		for _, l := range strings.Split(ferr.Error(), "\n") {
			sink.printf("vigil: %s\n", l)
		}
		problems++
	}
	// People read tables in time order; the rows are kept anyway.
	sort.SliceStable(views, func(i, j int) bool { return views[i].time < views[j].time })
	switch format {
	case "csv":
		writeAlertsCSV(w, views)
	case "table":
		_, color := terminal(out)
		color = color && e.getenv("NO_COLOR") == ""
		writeAlertsTable(w, views, color, termWidth(out))
	}
	if err := w.Flush(); err != nil {
		return &exitError{code: exitInput, msg: fmt.Sprintf("hunt: writing alerts: %v", err)}
	}
	if f.stats || stderrTTY {
		printHuntSummary(sink, &st, es, tally, nRules, time.Since(start))
	}
	if problems > 0 || st.malformed > 0 || st.unreadable > 0 {
		return &exitError{code: exitInput}
	}
	return nil
}

// alertTally counts alerts for the summary (building blocks aside).
type alertTally struct {
	total  int
	byRule map[string]int // "name (severity)"
	bySev  map[string]int
}

func (t *alertTally) add(a *detect.Alert) {
	t.total++
	if a.Kind == detect.BuildingBlockAlert {
		return
	}
	t.byRule[a.RuleName+" ("+a.Severity+")"]++
	t.bySev[a.Severity]++
}

func huntScan(eng *detect.Parallel, rd *source.Reader, sink *stderrSink, st *stats, rejects io.Writer, done int64) {
	eachRecord(rd, sink, st, rejects, done, func(line []byte, src eql.Source) error {
		eng.Offer(rd.File(), line, src) // malformed lines are reported by the workers' collector
		return nil
	})
}

// syncWriter serialises writes from several goroutines.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// alertView is what the table and csv show of an alert.
type alertView struct {
	time, rule, severity, host, user, what string
	risk                                   float64
	uuid                                   string
}

func viewOf(a *detect.Alert) alertView {
	v := alertView{rule: a.RuleName, severity: a.Severity, risk: a.RiskScore, uuid: a.UUID}
	first := func(paths ...string) string {
		for _, p := range paths {
			if s := a.Field(p); s != "" {
				return s
			}
		}
		return ""
	}
	v.time = first("kibana.alert.original_time", "@timestamp")
	v.host, v.user = first("host.name"), first("user.name")
	v.what = first("process.command_line", "process.name", "kibana.alert.reason")
	return v
}

func writeAlertsCSV(w io.Writer, views []alertView) {
	cw := csv.NewWriter(w)
	cw.Write([]string{"time", "rule", "severity", "risk_score", "host", "user", "process_or_reason", "alert_uuid"})
	for _, v := range views {
		cw.Write([]string{v.time, v.rule, v.severity, strconv.FormatFloat(v.risk, 'f', -1, 64), v.host, v.user, v.what, v.uuid})
	}
	cw.Flush()
}

var severityColor = map[string]string{"low": "\x1b[36m", "medium": "\x1b[33m", "high": "\x1b[31m", "critical": "\x1b[1;31m"}

func writeAlertsTable(w *bufio.Writer, views []alertView, color bool, width int) {
	if len(views) == 0 {
		w.WriteString("no alerts\n")
		return
	}
	rows := make([][6]string, 0, len(views)+1)
	rows = append(rows, [6]string{"TIME", "RULE", "SEVERITY", "HOST", "USER", "PROCESS / REASON"})
	for _, v := range views {
		rows = append(rows, [6]string{v.time, v.rule, v.severity, v.host, v.user, v.what})
	}
	caps := [6]int{24, 40, 8, 24, 20, 0}
	var widths [6]int
	for _, r := range rows {
		for i := 0; i < 5; i++ {
			widths[i] = max(widths[i], min(len([]rune(r[i])), caps[i]))
		}
	}
	for ri, r := range rows {
		var b strings.Builder
		for i := 0; i < 5; i++ {
			cell := truncate(r[i], widths[i])
			pad := strings.Repeat(" ", widths[i]-len([]rune(cell))+2)
			if color && ri > 0 && i == 2 {
				cell = severityColor[r[i]] + cell + ansiReset
			} else if color && ri == 0 {
				cell = ansiBold + cell + ansiReset
			}
			b.WriteString(cell + pad)
		}
		last := r[5]
		if width > 0 {
			used := 0
			for i := 0; i < 5; i++ {
				used += widths[i] + 2
			}
			if width-used > 10 {
				last = truncate(last, width-used)
			}
		}
		b.WriteString(last)
		w.WriteString(strings.TrimRight(b.String(), " ") + "\n")
	}
}

func printHuntSummary(sink *stderrSink, st *stats, es detect.Stats, t *alertTally, nRules int, elapsed time.Duration) {
	var b strings.Builder
	eps := 0.0
	if s := elapsed.Seconds(); s > 0 {
		eps = float64(st.lines) / s
	}
	perEvent := 0.0
	if st.lines > 0 {
		perEvent = float64(es.Evaluations) / float64(st.lines)
	}
	fmt.Fprintf(&b, "vigil: %d rules; %s, %s read, %d rejected (malformed), %d unreadable; %s skipped unparsed by the rule dispatch, %.1f rules evaluated per event\n",
		nRules, plural(int64(st.files), "file"), plural(st.lines, "event"), st.malformed, st.unreadable, strconv.FormatInt(es.Skipped, 10), perEvent)
	if es.NoIndex > 0 {
		fmt.Fprintf(&b, "vigil: %s had no index information and were offered to every rule (use --index)\n", plural(es.NoIndex, "event"))
	}
	if es.Late > 0 {
		fmt.Fprintf(&b, "vigil: %s arrived more than --reorder-window out of order and were processed late\n", plural(int64(es.Late), "event"))
	}
	byRule, bySev := t.byRule, t.bySev
	names := make([]string, 0, len(byRule))
	for n := range byRule {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		if byRule[names[i]] != byRule[names[j]] {
			return byRule[names[i]] > byRule[names[j]]
		}
		return names[i] < names[j]
	})
	for _, n := range names {
		fmt.Fprintf(&b, "  %5d  %s\n", byRule[n], n)
	}
	var sev []string
	for _, s := range []string{"critical", "high", "medium", "low"} {
		if bySev[s] > 0 {
			sev = append(sev, fmt.Sprintf("%s %d", s, bySev[s]))
		}
	}
	bySevText := ""
	if len(sev) > 0 {
		bySevText = " (" + strings.Join(sev, ", ") + ")"
	}
	fmt.Fprintf(&b, "vigil: %d alerts%s in %s, %.0f events/s, %.1f MB/s\n", t.total, bySevText,
		elapsed.Round(time.Millisecond), eps, float64(st.bytes)/1e6/max(elapsed.Seconds(), 1e-9))
	sink.printf("%s", b.String())
}
