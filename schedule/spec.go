// Package schedule gives detection rules Elastic's schedule semantics while
// evaluating them continuously.
//
// Events are matched as they enter the event log (Scheduler.Feed: one
// detect.Engine for all rules, alerts built at once with Kibana's
// deterministic ids), so an alert appears within seconds. Kibana's
// schedule still governs what is counted: each rule executes every
// `interval` (Scheduler.Tick, driven by an injected Clock); an execution
// covers [from, to] on timestamp_override (falling back to @timestamp), and
// the alerts found since the previous execution belong to it, at most
// max_signals per window. Alerts over the limit are deferred to the next
// execution and counted, never dropped (security-docs#532). A late run gets
// Kibana's catch-up windows (at most 4) and the rest is recorded as a gap
// (kibana rule_types/utils getRuleRangeTuples); unlike Kibana, a late run
// covered by the look-back still gets one window per missed interval
// (kibana#285154), so no execution is skipped. Events older than the
// window still produce alerts and are counted as late. Sequences are
// ordered by timestamp_field with a reorder allowance equal to the rule's
// extra look-back (from minus interval) and, matched continuously, span
// window boundaries and are found once. Every execution is logged
// (store/alerts), and per-rule state is persisted so a restart resumes.
//
// Manual runs (Scheduler.Run) split a past range into the executions the
// schedule implies and evaluate the rule over the event log (EventSource);
// the deterministic ids make them create no duplicates.
package schedule

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/vigilsec/vigil/rule"
)

// Spec is a rule's schedule.
type Spec struct {
	Interval time.Duration
	// LookBack is now minus from (from "now-9m": 9m).
	LookBack time.Duration
	// ToOffset is now minus to (to "now": 0; "now+1m": -1m).
	ToOffset time.Duration
	// MaxSignals is the effective per-window alert limit.
	MaxSignals int
	// Capped says max_signals was above the cap and was lowered
	// (Kibana's "partial failure").
	Capped bool
}

// ExtraLookBack is the additional look-back: the window length beyond
// one interval (from minus interval), never negative.
func (s Spec) ExtraLookBack() time.Duration {
	return max(s.LookBack-s.ToOffset-s.Interval, 0)
}

// DefaultMaxSignalsCap is Kibana's xpack.alerting.rules.run.alerts.max.
const DefaultMaxSignalsCap = 1000

// SpecOf reads a rule's interval, from, to and max_signals (Elastic's
// defaults when unset); cap bounds max_signals (0: DefaultMaxSignalsCap).
func SpecOf(r *rule.Rule, cap int) (Spec, error) {
	if cap <= 0 {
		cap = DefaultMaxSignalsCap
	}
	var s Spec
	var err error
	iv := orDefault(r.Interval, rule.DefaultInterval)
	if s.Interval, err = ParseInterval(iv); err != nil {
		return s, fmt.Errorf("rule %s: interval %q: %w", r.RuleID, iv, err)
	}
	from := orDefault(r.From, rule.DefaultFrom)
	if s.LookBack, err = ParseNowOffset(from); err != nil {
		return s, fmt.Errorf("rule %s: from %q: %w", r.RuleID, from, err)
	}
	to := orDefault(r.To, rule.DefaultTo)
	if s.ToOffset, err = ParseNowOffset(to); err != nil {
		return s, fmt.Errorf("rule %s: to %q: %w", r.RuleID, to, err)
	}
	if s.LookBack <= s.ToOffset {
		return s, fmt.Errorf("rule %s: from %q is not before to %q", r.RuleID, from, to)
	}
	s.MaxSignals = r.MaxSignals
	if s.MaxSignals <= 0 {
		s.MaxSignals = rule.DefaultMaxSignals
	}
	if s.MaxSignals > cap {
		s.MaxSignals, s.Capped = cap, true
	}
	return s, nil
}

func orDefault(s, def string) string {
	if strings.TrimSpace(s) == "" {
		return def
	}
	return s
}

var units = map[string]time.Duration{
	"s": time.Second, "m": time.Minute, "h": time.Hour, "d": 24 * time.Hour,
}

// maxAmount and maxOffset keep durations far from overflow.
const (
	maxAmount = 100_000
	maxOffset = 100 * 365 * 24 * time.Hour
)

// ParseInterval reads Kibana's interval ("5m", "30s", "1h", "1d").
func ParseInterval(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if len(s) < 2 {
		return 0, fmt.Errorf("want a number and a unit (s, m, h, d)")
	}
	u, ok := units[s[len(s)-1:]]
	n, err := strconv.Atoi(s[:len(s)-1])
	if !ok || err != nil || n <= 0 || n > maxAmount {
		return 0, fmt.Errorf("want a positive number (at most %d) and a unit (s, m, h, d)", maxAmount)
	}
	return time.Duration(n) * u, nil
}

// ParseNowOffset reads date math relative to now ("now", "now-9m",
// "now+1m", "now-1h") and returns now minus the time it names.
func ParseNowOffset(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "now") {
		return 0, fmt.Errorf("want date math relative to now (now-6m)")
	}
	rest := s[3:]
	var off time.Duration
	for rest != "" {
		sign := rest[0]
		if sign != '-' && sign != '+' {
			return 0, fmt.Errorf("unsupported date math %q (rounding is not supported)", rest)
		}
		i := 1
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if i == 1 || i >= len(rest) {
			return 0, fmt.Errorf("want a number and a unit after %c", sign)
		}
		n, err := strconv.Atoi(rest[1:i])
		if err != nil || n > maxAmount {
			return 0, fmt.Errorf("amount %q: at most %d", rest[1:i], maxAmount)
		}
		u, ok := units[rest[i:i+1]]
		if !ok {
			return 0, fmt.Errorf("unit %q: want s, m, h or d", rest[i:i+1])
		}
		d := time.Duration(n) * u
		if sign == '-' {
			off += d
		} else {
			off -= d
		}
		if off > maxOffset || off < -maxOffset {
			return 0, fmt.Errorf("offset beyond 100 years")
		}
		rest = rest[i+1:]
	}
	return off, nil
}

// Window is a time range [From, To], inclusive.
type Window struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// Contains reports whether t is in the window.
func (w Window) Contains(t time.Time) bool { return !t.Before(w.From) && !t.After(w.To) }

// MaxCatchup is Kibana's MAX_RULE_GAP_RATIO.
const MaxCatchup = 4

// Plan is how an execution started at startedAt covers time.
type Plan struct {
	// Windows are the execution's windows, oldest first: the catch-up
	// windows, then [startedAt-from, startedAt-to].
	Windows []Window
	// KibanaWindows is how many windows Kibana would run (1 + catch-up).
	KibanaWindows int
	// Gap is the range beyond MaxCatchup intervals that no window covers
	// (Kibana's remaining gap); nil when there is none.
	Gap *Window
}

// PlanExecution computes the windows of an execution as Kibana's
// getRuleRangeTuples does, with one difference (kibana#285154): when runs
// were missed but the look-back covers the time, Kibana runs one window,
// so threshold and sequence evaluations and the max_signals budgets of the
// missed runs are lost; here every missed interval gets its window (up to
// MaxCatchup, as Kibana bounds catch-up). prev is zero for a first run.
func PlanExecution(s Spec, startedAt, prev time.Time) Plan {
	to := startedAt.Add(-s.ToOffset)
	from := startedAt.Add(-s.LookBack)
	p := Plan{KibanaWindows: 1}
	catchup := 0
	if !prev.IsZero() {
		// gap = (startedAt - previousStartedAt) - (to - from)
		gap := startedAt.Sub(prev) - to.Sub(from)
		if gap > 0 {
			kc := int((gap + s.Interval - 1) / s.Interval)
			kc = min(kc, MaxCatchup)
			p.KibanaWindows += kc
			catchup = kc
			if rem := gap - time.Duration(kc)*s.Interval; rem > 0 {
				p.Gap = &Window{From: prev, To: prev.Add(rem)}
			}
		}
		// Missed runs: every full interval beyond the first since prev.
		if missed := int(startedAt.Sub(prev)/s.Interval) - 1; missed > catchup {
			catchup = min(missed, MaxCatchup)
		}
	}
	for k := catchup; k >= 1; k-- {
		shift := time.Duration(k) * s.Interval
		p.Windows = append(p.Windows, Window{From: from.Add(-shift), To: to.Add(-shift)})
	}
	p.Windows = append(p.Windows, Window{From: from, To: to})
	return p
}
