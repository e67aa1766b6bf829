package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/vigilsec/vigil/schedule"
	"github.com/vigilsec/vigil/server/api"
	"github.com/vigilsec/vigil/store/alerts"
	"github.com/vigilsec/vigil/store/eventlog"
)

type rulesRunFlags struct {
	data        string
	natsURL     string
	rules       []string
	versionLock string
	from, to    string
	format      string
}

func newRulesRunCmd(e *env) *cobra.Command {
	var f rulesRunFlags
	c := &cobra.Command{
		Use:   "run --data DIR --from T --to T [flags] RULE_ID",
		Short: "Run one rule over a past range of vigil serve's event log (backfill)",
		Long: `Run one rule manually over [--from, --to] of the event log that vigil serve
keeps in DIR (or an external NATS with --nats), as Kibana's manual runs do:
the range is split into the rule's scheduled executions (interval, look-back),
each creating at most max_signals alerts (the rest move on to the next
execution, counted), with kibana.alert.rule.execution.type "manual". Alert ids
are deterministic, so alerts that serve or an earlier run already created are
not created again. Alerts go to DIR/alerts.db; one execution record per line
is printed (JSON when piped).

The embedded event log is locked while vigil serve runs: then use the API,
POST /api/rules/RULE_ID/_run {"from":..., "to":...}, or an external NATS.
Times are RFC 3339, dates, epoch milliseconds or now-<n><s|m|h|d>.

Exit status: 0 the run succeeded; 1 some execution failed; 2 usage error.`,
		Example: `  vigil rules run --data /var/lib/vigil --from now-7d --to now 1aa9181a-492b-4c01-8b16-fa0735786b2b
  vigil rules run --data /var/lib/vigil --rules detection-rules/rules --from 2026-03-01 --to 2026-03-02 <rule_id>`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runRulesRun(e, &f, args[0]) },
	}
	fl := c.Flags()
	fl.StringVar(&f.data, "data", "", "vigil serve's data `DIR` (event log, alerts.db, uploaded rules); required")
	fl.StringVar(&f.natsURL, "nats", "", "external NATS `URL`(s) holding the event log; default: the embedded log in DIR")
	fl.StringArrayVar(&f.rules, "rules", nil, "rule `PATH` (as given to serve); default: the built-in pack")
	fl.StringVar(&f.versionLock, "version-lock", "", "detection-rules version lock `FILE`")
	fl.StringVar(&f.from, "from", "", "start of the range `T`; required")
	fl.StringVar(&f.to, "to", "now", "end of the range `T`")
	fl.StringVar(&f.format, "format", "", "table or ndjson (default table on a terminal)")
	return c
}

func runRulesRun(e *env, f *rulesRunFlags, ruleID string) error {
	if f.data == "" || f.from == "" {
		return usageErrorf("rules run: --data and --from are required")
	}
	now := time.Now()
	from, err := api.ParseTime(f.from, now)
	if err != nil {
		return usageErrorf("rules run: --from: %v", err)
	}
	to, err := api.ParseTime(f.to, now)
	if err != nil {
		return usageErrorf("rules run: --to: %v", err)
	}
	format := f.format
	if format == "" {
		format = "ndjson"
		if _, tty := terminal(e.stdout); tty {
			format = "table"
		}
	}
	if format != "table" && format != "ndjson" {
		return usageErrorf("rules run: --format %q: want table or ndjson", format)
	}
	res, err := loadRulesOf(f.rules, f.versionLock, runnableTypes)
	if err != nil {
		return err
	}
	for _, le := range res.Errors {
		fmt.Fprintln(e.stderr, le.Detail())
	}
	// Rules uploaded through the API (DIR/rules.ndjson) overlay the
	// configured ones, as in serve.
	fr, err := api.OpenFileRules(filepath.Join(f.data, api.RulesFile), res.Rules, nil)
	if err != nil {
		return &exitError{code: exitInput, msg: fmt.Sprintf("rules run: %v", err)}
	}
	rules := fr.List()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	lg, err := eventlog.Open(ctx, eventlog.Config{Dir: f.data, URL: f.natsURL})
	if err != nil {
		return &exitError{code: exitInput, msg: fmt.Sprintf("rules run: event log: %v (is vigil serve running on %s? then use POST /api/rules/%s/_run)", err, f.data, ruleID)}
	}
	defer lg.Close()
	st, err := alerts.OpenDir(f.data)
	if err != nil {
		return &exitError{code: exitInput, msg: fmt.Sprintf("rules run: %v", err)}
	}
	defer st.Close()
	recs, err := schedule.Backfill(ctx, rules, ruleID, from, to, schedule.Options{Store: st, Events: &schedule.LogSource{Log: lg}})
	if err != nil {
		return &exitError{code: exitInput, msg: fmt.Sprintf("rules run: %v", err)}
	}
	failed := false
	created, notCreated, dups := 0, 0, 0
	for _, r := range recs {
		failed = failed || r.Status == "failed"
		created += r.AlertsCreated
		notCreated += r.NotCreated
		dups += r.Duplicates
		if format == "ndjson" {
			b, _ := json.Marshal(r)
			fmt.Fprintf(e.stdout, "%s\n", b)
			continue
		}
		win := ""
		if len(r.Windows) > 0 {
			win = r.Windows[0].From.UTC().Format(time.RFC3339) + " .. " + r.Windows[len(r.Windows)-1].To.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(e.stdout, "%-9s %s  scanned %d  created %d  not created (max_signals) %d  duplicates %d  %s\n",
			r.Status, win, r.EventsScanned, r.AlertsCreated, r.NotCreated, r.Duplicates, strings.TrimSpace(r.Message))
	}
	fmt.Fprintf(e.stderr, "vigil: %d executions of %s over %s .. %s: %d alerts created, %d left over max_signals, %d already there\n",
		len(recs), ruleID, from.UTC().Format(time.RFC3339), to.UTC().Format(time.RFC3339), created, notCreated, dups)
	if failed {
		return &exitError{code: exitInput}
	}
	return nil
}
