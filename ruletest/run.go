package ruletest

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/vigilsec/vigil/rule"
)

// Status is the outcome of one case.
type Status int

const (
	Passed  Status = iota
	Failed         // the rule ran and raised other alerts than expected
	Skipped        // skip = "..." is set
	Errored        // the rule could not be resolved, or run failed
)

func (s Status) String() string {
	switch s {
	case Passed:
		return "PASS"
	case Failed:
		return "FAIL"
	case Skipped:
		return "SKIP"
	}
	return "ERROR"
}

// CaseResult is the outcome of one case.
type CaseResult struct {
	Case   *Case
	Status Status
	Err    error // Errored: why the case could not run
	// Got is what run returned, in its order, resolved to the case's
	// events.
	Got []Alert
	// CountMismatch: expect_alerts is set and differs from len(Got).
	CountMismatch bool
	// Missing and Unexpected compare Got with expect_ids (as multisets:
	// order does not matter, duplicates do); both are empty when
	// expect_ids is not set.
	Missing, Unexpected []Alert
}

// Report is the outcome of a suite.
type Report struct {
	Suite *Suite
	Rule  *rule.Rule // the resolved rule; nil if resolve failed
	Err   error      // resolve's error: no case ran
	Cases []CaseResult
}

// Run runs every case of s. resolve turns s.RuleRef (a path or a rule_id,
// see Suite) into the rule; run evaluates the rule over a case's events
// (Case.Data: NDJSON, one event per line) and returns one id per alert,
// in any order:
//
//   - the event's top-level "_id" string when it has one, else its line
//     number in events ("3"; "#3" and "<index>:3" are accepted too);
//   - for an alert on a sequence, the ids of its events joined by ",".
//
// A panic in run is reported as the case's error.
func Run(s *Suite, resolve func(ref string) (*rule.Rule, error), run func(r *rule.Rule, events []byte) (ids []string, err error)) *Report {
	rep := &Report{Suite: s}
	r, err := resolve(s.RuleRef)
	if err == nil && r == nil {
		err = fmt.Errorf("rule %s: not found", s.RuleRef)
	}
	if err != nil {
		rep.Err = err
	} else {
		rep.Rule = r
	}
	for _, c := range s.Cases {
		res := CaseResult{Case: c}
		switch {
		case c.Skip != "":
			res.Status = Skipped
		case rep.Err != nil:
			res.Status, res.Err = Errored, rep.Err
		default:
			ids, err := safeRun(run, r, c.Data())
			if err != nil {
				res.Status, res.Err = Errored, err
				break
			}
			compare(&res, ids)
		}
		rep.Cases = append(rep.Cases, res)
	}
	return rep
}

func safeRun(run func(*rule.Rule, []byte) ([]string, error), r *rule.Rule, data []byte) (ids []string, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	return run(r, data)
}

// compare fills res from the ids run returned.
func compare(res *CaseResult, ids []string) {
	c := res.Case
	byID := map[string]int{}
	for _, e := range c.Events {
		if e.ID != "" {
			byID[e.ID] = e.Pos
		}
	}
	res.Got = make([]Alert, len(ids))
	for i, id := range ids {
		res.Got[i] = resolveID(c.Events, byID, id)
	}
	if c.ExpectAlerts != nil && len(ids) != *c.ExpectAlerts {
		res.CountMismatch = true
	}
	if c.Expect != nil {
		res.Missing, res.Unexpected = diff(c.Expect, res.Got)
	}
	res.Status = Passed
	if res.CountMismatch || len(res.Missing) > 0 || len(res.Unexpected) > 0 {
		res.Status = Failed
	}
}

// diff compares two multisets of alerts: missing are in want but not got,
// unexpected in got but not want, each in its list's order.
func diff(want, got []Alert) (missing, unexpected []Alert) {
	left := map[string]int{}
	for _, a := range want {
		left[a.key()]++
	}
	for _, a := range got {
		if k := a.key(); left[k] > 0 {
			left[k]--
		} else {
			unexpected = append(unexpected, a)
		}
	}
	for _, a := range want {
		if k := a.key(); left[k] > 0 {
			left[k]--
			missing = append(missing, a)
		}
	}
	return missing, unexpected
}

// OK reports whether no case failed or erred (skipped cases are OK).
func (r *Report) OK() bool { return r.Count(Failed)+r.Count(Errored) == 0 }

// Count returns the number of cases with status st.
func (r *Report) Count(st Status) int {
	n := 0
	for _, c := range r.Cases {
		if c.Status == st {
			n++
		}
	}
	return n
}

// String is the report without passing cases (Write with verbose false).
func (r *Report) String() string {
	var b strings.Builder
	r.Write(&b, false)
	return b.String()
}

// Write prints the report: a summary line, then each failed, erred and
// skipped case with its diff (and passing cases too when verbose).
//
//	rules/x.test.toml: rule "User Account Creation" (1aa9181a-…): 2 passed, 1 failed
//	--- FAIL: near misses raise no alert (rules/x.test.toml:40)
//	    expect_alerts = 0, got 1 alert
//	    unexpected: #4 (rules/x.test.toml:45): WS-1: net  localgroup administrators x /add
func (r *Report) Write(w io.Writer, verbose bool) error {
	var b strings.Builder
	b.WriteString(r.Suite.Path + ": ")
	switch {
	case r.Rule != nil:
		fmt.Fprintf(&b, "rule %q", r.Rule.Name)
		if r.Rule.RuleID != "" {
			fmt.Fprintf(&b, " (%s)", r.Rule.RuleID)
		}
	default:
		fmt.Fprintf(&b, "rule %s", r.Suite.RuleRef)
	}
	var counts []string
	for _, st := range []Status{Passed, Failed, Errored, Skipped} {
		if n := r.Count(st); n > 0 || st == Passed {
			counts = append(counts, fmt.Sprintf("%d %s", n, map[Status]string{Passed: "passed", Failed: "failed", Errored: "errors", Skipped: "skipped"}[st]))
		}
	}
	b.WriteString(": " + strings.Join(counts, ", ") + "\n")
	if r.Err != nil {
		fmt.Fprintf(&b, "    rule: %v\n", r.Err)
	}
	for i := range r.Cases {
		c := &r.Cases[i]
		if c.Status == Passed && !verbose {
			continue
		}
		if c.Status == Errored && r.Err != nil {
			fmt.Fprintf(&b, "--- ERROR: %s (%s)\n", c.Case.Name, c.Case.Where())
			continue // the rule error is printed once, above
		}
		b.WriteString(c.Diff())
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Diff describes the case's outcome: a header line, then for a failure
// what differs (expected and got counts, missing and unexpected alerts
// with the events they name), for an error the error, for a skip why.
func (c *CaseResult) Diff() string {
	var b strings.Builder
	tc := c.Case
	fmt.Fprintf(&b, "--- %s: %s (%s)\n", c.Status, tc.Name, tc.Where())
	switch c.Status {
	case Skipped:
		fmt.Fprintf(&b, "    skip: %s\n", tc.Skip)
		return b.String()
	case Errored:
		for _, line := range strings.Split(fmt.Sprint(c.Err), "\n") {
			fmt.Fprintf(&b, "    error: %s\n", line)
		}
		return b.String()
	case Passed:
		fmt.Fprintf(&b, "    %s\n", plural(len(c.Got), "alert"))
		return b.String()
	}
	if c.CountMismatch {
		fmt.Fprintf(&b, "    expect_alerts = %d, got %s\n", *tc.ExpectAlerts, plural(len(c.Got), "alert"))
	}
	if tc.Expect != nil {
		if len(c.Missing)+len(c.Unexpected) > 0 {
			fmt.Fprintf(&b, "    expect_ids = %s\n", idList(tc.Expect))
			fmt.Fprintf(&b, "           got %s\n", idList(c.Got))
		}
		for _, a := range c.Missing {
			writeAlert(&b, "missing", a, tc.Events)
		}
		for _, a := range c.Unexpected {
			writeAlert(&b, "unexpected", a, tc.Events)
		}
	} else {
		for _, a := range c.Got {
			writeAlert(&b, "raised", a, tc.Events)
		}
	}
	return b.String()
}

// idList prints alerts as canonical positions: ["3", "5,7"], or the id as
// returned when it names no event.
func idList(as []Alert) string {
	s := make([]string, len(as))
	for i, a := range as {
		if a.Events == nil {
			s[i] = strconv.Quote(a.ID) + "(?)"
			continue
		}
		s[i] = strconv.Quote(a.key())
	}
	return "[" + strings.Join(s, ", ") + "]"
}

func writeAlert(b *strings.Builder, what string, a Alert, events []Event) {
	if a.Events == nil {
		fmt.Fprintf(b, "    %s: %q names no event of the case (use an _id or a line number, 1 to %d)\n", what, a.ID, len(events))
		return
	}
	indent := "    " + what + ": "
	if len(a.Events) > 1 {
		fmt.Fprintf(b, "    %s: sequence of %d events\n", what, len(a.Events))
		indent = "      "
	}
	for _, p := range a.Events {
		e := &events[p-1]
		fmt.Fprintf(b, "%s%s (%s): %s\n", indent, e.Label(), e.Where(), summary(e.Raw))
	}
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}
