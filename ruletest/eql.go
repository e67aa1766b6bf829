package ruletest

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"github.com/vigilsec/vigil/eql"
	"github.com/vigilsec/vigil/event"
	"github.com/vigilsec/vigil/rule"
)

// RunEQL evaluates a rule's query over NDJSON events as Run expects: one id
// per alert, the event's _id or else its line number, the events of a
// sequence joined by ",". Field types are the ECS table's, as for rule
// validation.
func RunEQL(r *rule.Rule, events []byte) ([]string, error) {
	prog, err := rule.Compile(r)
	if err != nil {
		return nil, err
	}
	m, err := prog.Matcher(eql.NewTypes(rule.ECSMapping()))
	if err != nil {
		return nil, err
	}
	run := prog.NewRunner()
	var p event.Parser
	for i, line := range bytes.Split(bytes.TrimSuffix(events, []byte("\n")), []byte("\n")) {
		d, err := p.Parse(line)
		if err != nil {
			return nil, fmt.Errorf("event %d: %v", i+1, err)
		}
		run.Feed(m, d, eql.Source{Index: "case", Line: i + 1})
	}
	res, err := run.Finish()
	if err != nil {
		return nil, err
	}
	idPath := event.CompilePath("_id")
	id := func(h *eql.Hit) string {
		if d, err := p.Parse(h.Source); err == nil {
			if v, ok := d.First(idPath); ok && v.Kind == event.String {
				return v.S
			}
		}
		return strconv.Itoa(h.Line)
	}
	var ids []string
	for _, h := range res.Events {
		ids = append(ids, id(h))
	}
	for _, s := range res.Sequences {
		var parts []string
		for _, h := range s.Events {
			if !h.Missing {
				parts = append(parts, id(h))
			}
		}
		ids = append(ids, strings.Join(parts, ","))
	}
	return ids, nil
}
