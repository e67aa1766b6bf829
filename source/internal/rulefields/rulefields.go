// Package rulefields derives, from a detection-rules checkout, which fields
// the prebuilt rules read on a given index: the list a normaliser for that
// index has to produce. Tests of the vendor normalisers use it so that the
// field list follows the rules instead of being typed in by hand.
package rulefields

import (
	"regexp"
	"sort"
	"strings"

	"github.com/vigilsec/vigil/eql"
	"github.com/vigilsec/vigil/rule"
)

// Field is one field and how many rules on the index read it.
type Field struct {
	Name  string
	Rules int
}

// Result is what Derive found.
type Result struct {
	Rules  int     // rules whose index patterns match the index
	Fields []Field // by decreasing rule count, then name
}

// Derive loads the rules under dir and returns the fields read by the rules
// whose index patterns match index (a concrete index name such as
// "logs-crowdstrike.fdr-default"). EQL queries are parsed; KQL and Lucene
// queries are scanned for "field :" terms; threshold, new_terms and
// timestamp_override fields count too. ES|QL rules name no index and are
// not counted.
func Derive(dir, index string) (*Result, error) {
	res, err := rule.Load([]string{dir}, rule.LoadOptions{})
	if err != nil {
		return nil, err
	}
	return FromRules(res.Rules, index), nil
}

// FromRules is Derive over rules already loaded.
func FromRules(rules []*rule.Rule, index string) *Result {
	counts := map[string]int{}
	out := &Result{}
	for _, r := range rules {
		if !Targets(r.Index, index) {
			continue
		}
		out.Rules++
		seen := map[string]bool{}
		add := func(f string) {
			f = strings.TrimPrefix(f, "?")
			if f == "" || seen[f] {
				return
			}
			seen[f] = true
			counts[f]++
		}
		switch r.Language {
		case "eql":
			if q, err := eql.Parse(r.Query); err == nil {
				queryFields(q, add)
			}
		case "kuery", "lucene", "":
			for _, m := range kqlField.FindAllStringSubmatch(r.Query, -1) {
				add(m[1])
			}
		}
		if r.TimestampOverride != "" {
			add(r.TimestampOverride)
		}
	}
	for f, n := range counts {
		out.Fields = append(out.Fields, Field{f, n})
	}
	sort.Slice(out.Fields, func(i, j int) bool {
		a, b := out.Fields[i], out.Fields[j]
		if a.Rules != b.Rules {
			return a.Rules > b.Rules
		}
		return a.Name < b.Name
	})
	return out
}

// kqlField finds "name :" and "name:(" terms of KQL and Lucene queries.
var kqlField = regexp.MustCompile(`(?:^|[\s(])([A-Za-z_@][A-Za-z0-9_@.\-]*[A-Za-z0-9_])\s*:`)

// Targets reports whether any of the index patterns matches index, with
// Elasticsearch's rule: '*' is any run of characters, and a pattern
// starting with '-' excludes what it matches from the earlier ones.
func Targets(patterns []string, index string) bool {
	in := false
	for _, p := range patterns {
		if strings.HasPrefix(p, "-") {
			if in && wildcard(p[1:], index) {
				in = false
			}
			continue
		}
		if !in && wildcard(p, index) {
			in = true
		}
	}
	return in
}

func wildcard(p, s string) bool {
	parts := strings.Split(p, "*")
	if len(parts) == 1 {
		return p == s
	}
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	for _, mid := range parts[1 : len(parts)-1] {
		i := strings.Index(s, mid)
		if i < 0 {
			return false
		}
		s = s[i+len(mid):]
	}
	return strings.HasSuffix(s, parts[len(parts)-1])
}

func queryFields(q *eql.Query, add func(string)) {
	fields := func(fs []*eql.Field) {
		for _, f := range fs {
			add(f.Name)
		}
	}
	term := func(t *eql.Term) {
		if t == nil {
			return
		}
		fields(t.By)
		exprFields(t.Filter.Cond, add)
	}
	switch {
	case q.Event != nil:
		exprFields(q.Event.Cond, add)
	case q.Sequence != nil:
		fields(q.Sequence.By)
		for _, t := range q.Sequence.Terms {
			term(t)
		}
		term(q.Sequence.Until)
	case q.Sample != nil:
		fields(q.Sample.By)
		for _, t := range q.Sample.Terms {
			term(t)
		}
	}
}

func exprFields(e eql.Expr, add func(string)) {
	switch x := e.(type) {
	case *eql.Field:
		add(x.Name)
	case *eql.Unary:
		exprFields(x.X, add)
	case *eql.Binary:
		exprFields(x.L, add)
		exprFields(x.R, add)
	case *eql.In:
		exprFields(x.X, add)
		for _, y := range x.List {
			exprFields(y, add)
		}
	case *eql.Match:
		exprFields(x.X, add)
		for _, y := range x.Patterns {
			exprFields(y, add)
		}
	case *eql.Call:
		for _, y := range x.Args {
			exprFields(y, add)
		}
	}
}
