package rule

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/vigilsec/vigil/eql"
	"github.com/vigilsec/vigil/schema"
)

// Types Kibana knows. Only eql is runnable for now.
var knownTypes = map[string]bool{
	"eql": true, "query": true, "saved_query": true, "threshold": true, "new_terms": true,
	"esql": true, "machine_learning": true, "threat_match": true,
}

// Runnable reports whether Vigil can evaluate the rule: an EQL rule.
func Runnable(r *Rule) bool {
	return r.Type == "eql" && (r.Language == "" || r.Language == "eql")
}

// ECSMapping returns the built-in field types (schema.ECS): ECS, Elastic
// Defend, Endgame, the non-ECS fields of Elastic's rules and Beats.
func ECSMapping() *schema.Mapping { return schema.ECS() }

// EQLOptions are the EQL search settings a rule implies.
func EQLOptions(r *Rule) eql.Options {
	o := eql.Options{
		TimestampField:  r.TimestampField,
		TiebreakerField: r.TiebreakerField,
		CategoryField:   r.EventCategoryOverride,
		Size:            eql.NoLimit,
	}
	if o.TimestampField == "" {
		o.TimestampField = "@timestamp"
	}
	if o.CategoryField == "" {
		o.CategoryField = "event.category"
	}
	return o
}

// Compile parses and compiles the query of a runnable rule. Errors are
// *LoadError values positioned in the rule's file.
func Compile(r *Rule) (*eql.Program, error) {
	prog, err := eql.ParseAndCompile(r.Query, EQLOptions(r))
	if err != nil {
		return nil, r.queryError(err)
	}
	return prog, nil
}

var (
	intervalRE = regexp.MustCompile(`^[1-9][0-9]*[smhd]$`)
	dateMathRE = regexp.MustCompile(`^now(([+-][0-9]+[smhdwMyH])*)(/[smhdwMyH])?$`)
)

// Validate checks one rule: its settings, and for a runnable rule its
// query (parsed and compiled as Elasticsearch would) and the field types
// the query relies on (types: field types, nil to skip field checks).
// errs are what Elasticsearch or Kibana would reject; warnings are fields
// the types do not know.
func Validate(r *Rule, types *schema.Mapping) (errs, warnings []*LoadError) {
	errs, warnings, _ = validate(r, types)
	return errs, warnings
}

func validate(r *Rule, types *schema.Mapping) (errs, warnings []*LoadError, compiled bool) {
	keyErr := func(key, format string, args ...any) {
		fp := r.keyPos(key)
		errs = append(errs, &LoadError{Path: r.Source.Path, RuleID: r.RuleID, Line: fp.Line, Col: fp.Col, Msg: fmt.Sprintf(format, args...)})
	}
	if !knownTypes[r.Type] {
		keyErr("type", "unknown rule type %q", r.Type)
	}
	switch r.Severity {
	case "low", "medium", "high", "critical":
	default:
		keyErr("severity", "severity must be low, medium, high or critical, not %q", r.Severity)
	}
	if r.RiskScore < 0 || r.RiskScore > 100 {
		keyErr("risk_score", "risk_score must be between 0 and 100, not %d", r.RiskScore)
	}
	if r.Interval != "" && !intervalRE.MatchString(r.Interval) {
		keyErr("interval", "interval %q is not a duration such as 5m (s, m, h or d)", r.Interval)
	}
	for _, kv := range [][2]string{{"from", r.From}, {"to", r.To}} {
		if kv[1] != "" && !dateMathRE.MatchString(kv[1]) {
			keyErr(kv[0], "%s %q is not date math such as now-6m", kv[0], kv[1])
		}
	}
	if r.MaxSignals < 1 && r.has("max_signals") {
		keyErr("max_signals", "max_signals must be at least 1, not %d", r.MaxSignals)
	}
	if r.Version < 1 && r.has("version") {
		keyErr("version", "version must be at least 1, not %d", r.Version)
	}
	if r.BuildingBlockType != "" && r.BuildingBlockType != "default" {
		keyErr("building_block_type", "building_block_type must be \"default\", not %q", r.BuildingBlockType)
	}
	if r.Type == "eql" && !Runnable(r) {
		keyErr("language", "an eql rule must have language eql, not %q", r.Language)
	}
	if !Runnable(r) {
		return errs, nil, false
	}
	if strings.TrimSpace(r.Query) == "" {
		keyErr("query", "the rule has no query")
		return errs, nil, false
	}
	prog, err := Compile(r)
	if err != nil {
		var le *LoadError
		if errors.As(err, &le) {
			errs = append(errs, le)
		}
		return errs, nil, false
	}
	if types != nil {
		c := &typeChecker{r: r, types: types, warned: map[string]bool{}}
		c.query(prog.Query)
		errs = append(errs, c.errs...)
		warnings = c.warns
	}
	return errs, warnings, true
}

// queryError positions an error of the rule's query in the rule's file.
func (r *Rule) queryError(err error) *LoadError {
	var qe *eql.Error
	if !errors.As(err, &qe) {
		fp := r.keyPos("query")
		return &LoadError{Path: r.Source.Path, RuleID: r.RuleID, Line: fp.Line, Col: fp.Col, Msg: err.Error()}
	}
	return r.queryErrorAt(qe.Pos, qe.Msg)
}

func (r *Rule) queryErrorAt(p eql.Pos, msg string) *LoadError {
	e := &LoadError{Path: r.Source.Path, RuleID: r.RuleID, Msg: msg}
	switch {
	case r.query != nil:
		line, col, text, _ := r.query.position(r.Query, p.Offset, p.Line, p.Col)
		e.Line, e.Col, e.Context = line, col, caret(text, col)
	case r.Source.QueryLine > 0:
		e.Line, e.Col = r.Source.QueryLine+p.Line-1, p.Col
		if p.Line == 1 {
			e.Col = r.Source.QueryCol + p.Col - 1
		}
		e.Context = caret(queryLine(r.Query, p.Line), p.Col)
	default:
		e.Line, e.Col = p.Line, p.Col
		e.Context = caret(queryLine(r.Query, p.Line), p.Col)
	}
	return e
}

func queryLine(q string, n int) string {
	lines := strings.Split(q, "\n")
	if n < 1 || n > len(lines) {
		return ""
	}
	return strings.TrimRight(lines[n-1], "\r")
}

// Unsupported is a rule Vigil cannot run yet.
type Unsupported struct {
	Path   string `json:"path"`
	RuleID string `json:"rule_id"`
	Type   string `json:"type"`
}

// Summary is the result of validating a rule set ("vigil rules validate").
type Summary struct {
	Files       int            `json:"files"`
	Rules       int            `json:"rules"`
	Deprecated  int            `json:"deprecated"`
	ByType      map[string]int `json:"by_type"`
	Compiled    int            `json:"compiled"`
	Unsupported []Unsupported  `json:"unsupported"`
	Errors      []*LoadError   `json:"errors"`
	Warnings    []*LoadError   `json:"warnings"`
}

// ValidateAll validates every loaded rule; the load errors come first in
// Errors.
func ValidateAll(res *LoadResult, types *schema.Mapping) *Summary {
	s := &Summary{
		Files: res.Files, Rules: len(res.Rules), Deprecated: res.Deprecated,
		ByType: map[string]int{}, Unsupported: []Unsupported{},
		Errors: append([]*LoadError{}, res.Errors...), Warnings: []*LoadError{},
	}
	for _, r := range res.Rules {
		s.ByType[r.Type]++
		errs, warns, compiled := validate(r, types)
		if compiled {
			s.Compiled++
		}
		if !Runnable(r) && r.Type != "eql" && knownTypes[r.Type] {
			s.Unsupported = append(s.Unsupported, Unsupported{Path: r.Source.Path, RuleID: r.RuleID, Type: r.Type})
		}
		s.Errors = append(s.Errors, errs...)
		s.Warnings = append(s.Warnings, warns...)
	}
	sort.SliceStable(s.Unsupported, func(i, j int) bool { return s.Unsupported[i].Path < s.Unsupported[j].Path })
	return s
}
