package ruletest

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"testing"
	"testing/fstest"

	"github.com/vigilsec/vigil/rule"
)

// FuzzLoadSuite loads arbitrary test files. Loading must not panic; an
// error must be a positioned ErrorList; a loaded suite must be consistent
// and pass when the engine raises exactly the expected alerts.
func FuzzLoadSuite(f *testing.F) {
	f.Add([]byte(exampleTest))
	f.Add([]byte(runTest))
	f.Add([]byte("rule = \"r.toml\"\n[[case]]\nname = \"a\"\nevents_file = \"events.ndjson\"\nexpect_ids = [\"e1\", \"2\"]\n"))
	f.Add([]byte("[[case]]\nname = \"a\"\nevents_file = \"array.json\"\nexpect_alerts = 1\nexpect_ids = [\"1,2\"]\n"))
	f.Add([]byte("rule = 'x'\ncase = [{name = \"a\", events = '{}', expect_alerts = 0}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fsys := fstest.MapFS{
			"rules/t.test.toml":   {Data: data},
			"rules/events.ndjson": {Data: []byte("{\"_id\":\"e1\",\"a\":1}\n\n{\"a\":2}\r\n")},
			"rules/array.json":    {Data: []byte("[{\"a\":1},\n{\"_id\":\"x\"}]")},
		}
		s, err := Load(fsys, "rules/t.test.toml")
		if err != nil {
			var list ErrorList
			if !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("error %T %v is not an ErrorList", err, err)
			}
			lines := bytes.Count(data, []byte("\n")) + 1
			for _, e := range list {
				if e.Path == "" || e.Msg == "" || e.Line < 0 || e.Col < 0 {
					t.Fatalf("bad error %+v", e)
				}
				if e.Path == "rules/t.test.toml" && e.Line > lines {
					t.Fatalf("error %v beyond the file's %d lines", e, lines)
				}
			}
			return
		}
		if s.RuleRef == "" || len(s.Cases) == 0 {
			t.Fatalf("suite %+v", s)
		}
		for _, c := range s.Cases {
			if c.Name == "" || len(c.Events) == 0 || (c.ExpectAlerts == nil && c.Expect == nil) {
				t.Fatalf("case %+v", c)
			}
			lines := bytes.Split(bytes.TrimSuffix(c.Data(), []byte("\n")), []byte("\n"))
			if len(lines) != len(c.Events) {
				t.Fatalf("case %q: %d data lines for %d events", c.Name, len(lines), len(c.Events))
			}
			for i, l := range lines {
				if !json.Valid(l) || l[0] != '{' || c.Events[i].Pos != i+1 {
					t.Fatalf("case %q: event %d: %q", c.Name, i+1, l)
				}
			}
			for _, a := range c.Expect {
				for _, p := range a.Events {
					if p < 1 || p > len(c.Events) {
						t.Fatalf("case %q: expected alert %+v out of range", c.Name, a)
					}
				}
			}
		}
		// An engine raising exactly what is expected passes every case.
		byData := map[string]*Case{}
		for _, c := range s.Cases {
			byData[string(c.Data())] = c
		}
		rep := Run(s, func(string) (*rule.Rule, error) { return &rule.Rule{}, nil }, func(_ *rule.Rule, events []byte) ([]string, error) {
			c := byData[string(events)]
			var ids []string
			if c.Expect != nil {
				for _, a := range c.Expect {
					ids = append(ids, a.ID)
				}
			} else {
				for range *c.ExpectAlerts {
					ids = append(ids, strconv.Itoa(len(c.Events)))
				}
			}
			return ids, nil
		})
		for _, r := range rep.Cases {
			if r.Status != Passed && r.Status != Skipped {
				// Two cases with the same events and different
				// expectations share byData's entry: not a bug.
				if byData[string(r.Case.Data())] == r.Case {
					t.Fatalf("case %q: %s", r.Case.Name, r.Diff())
				}
			}
		}
		_ = rep.String()
	})
}
