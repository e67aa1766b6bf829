package api

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/vigilsec/vigil/detect"
	"github.com/vigilsec/vigil/rule"
	"github.com/vigilsec/vigil/schedule"
)

// RulesFile is the file under the data directory holding the rules
// uploaded or changed through the API (a Kibana NDJSON export).
const RulesFile = "rules.ndjson"

// FileRules is the rule registry: the configured rules (e.g. --rules)
// overlaid with the rules uploaded or enabled/disabled through the API,
// which persist in a Kibana export file. Every change is handed to
// OnChange (the scheduler's SetRules).
type FileRules struct {
	mu       sync.Mutex
	path     string
	base     []*rule.Rule
	stored   []*rule.Rule
	onChange func([]*rule.Rule) []error
	// Changed holds the problems OnChange reported last (rules that cannot
	// run), for the caller to log.
	Changed []error
}

// OpenFileRules loads the stored rules from path (absent: none) over base.
// onChange may be nil.
func OpenFileRules(path string, base []*rule.Rule, onChange func([]*rule.Rule) []error) (*FileRules, error) {
	fr := &FileRules{path: path, base: base, onChange: onChange}
	if _, err := os.Stat(path); err == nil {
		rules, errs := rule.LoadFile(path, rule.LoadOptions{})
		if len(errs) > 0 {
			var all []error
			for _, e := range errs {
				all = append(all, e)
			}
			return nil, fmt.Errorf("rules stored by the API: %w", errors.Join(all...))
		}
		fr.stored = rules
	} else if !os.IsNotExist(err) {
		return nil, err
	}
	return fr, nil
}

// List returns the effective rules: base rules replaced by stored rules
// with the same rule_id, then the other stored rules.
func (f *FileRules) List() []*rule.Rule {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.list()
}

func (f *FileRules) list() []*rule.Rule {
	over := map[string]*rule.Rule{}
	for _, r := range f.stored {
		over[r.RuleID] = r
	}
	var out []*rule.Rule
	used := map[string]bool{}
	for _, r := range f.base {
		if o := over[r.RuleID]; o != nil {
			out = append(out, o)
			used[r.RuleID] = true
			continue
		}
		out = append(out, r)
	}
	for _, r := range f.stored {
		if !used[r.RuleID] {
			out = append(out, r)
		}
	}
	return out
}

// Validate checks what the scheduler would refuse: EQL rules must
// compile (with their exceptions) and have a valid schedule and
// suppression setting.
func Validate(rules []*rule.Rule) []error {
	var errs []error
	var eqlRules []*rule.Rule
	for _, r := range rules {
		if r.RuleID == "" {
			errs = append(errs, fmt.Errorf("rule %q: no rule_id", r.Name))
			continue
		}
		if r.Type != "eql" {
			continue // kept and listed; the scheduler reports it as not run
		}
		// rule.Validate positions errors in the uploaded file.
		if verrs, _ := rule.Validate(r, nil); len(verrs) > 0 {
			for _, e := range verrs {
				errs = append(errs, e)
			}
			continue
		}
		if _, err := schedule.SpecOf(r, 0); err != nil {
			errs = append(errs, err)
		}
		if _, err := detect.ParseSuppression(r.AlertSuppression); err != nil {
			errs = append(errs, fmt.Errorf("rule %s: %w", r.RuleID, err))
		}
		eqlRules = append(eqlRules, r)
	}
	_, cerrs := detect.Compile(eqlRules)
	return append(errs, cerrs...)
}

// Add stores rules (replacing those with the same rule_id) after
// validating them; nothing changes on an error.
func (f *FileRules) Add(ctx context.Context, rules []*rule.Rule) error {
	if errs := Validate(rules); len(errs) > 0 {
		return errors.Join(errs...)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	next := make([]*rule.Rule, 0, len(f.stored)+len(rules))
	repl := map[string]bool{}
	for _, r := range rules {
		repl[r.RuleID] = true
	}
	for _, r := range f.stored {
		if !repl[r.RuleID] {
			next = append(next, r)
		}
	}
	next = append(next, rules...)
	return f.commit(next)
}

// SetEnabled enables or disables a rule (stored as a changed copy).
func (f *FileRules) SetEnabled(ctx context.Context, ruleID string, enabled bool) (*rule.Rule, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var cur *rule.Rule
	for _, r := range f.list() {
		if r.RuleID == ruleID {
			cur = r
		}
	}
	if cur == nil {
		return nil, fmt.Errorf("rule %q not found", ruleID)
	}
	c := *cur // a copy: the configured rule is shared with running code
	c.Enabled = &enabled
	next := make([]*rule.Rule, 0, len(f.stored)+1)
	for _, r := range f.stored {
		if r.RuleID != ruleID {
			next = append(next, r)
		}
	}
	next = append(next, &c)
	if err := f.commit(next); err != nil {
		return nil, err
	}
	return &c, nil
}

// commit writes the stored rules atomically, then applies them.
func (f *FileRules) commit(next []*rule.Rule) error {
	var buf bytes.Buffer
	if err := rule.ExportNDJSON(&buf, next); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(f.path), 0o755); err != nil {
		return err
	}
	tmp := f.path + ".tmp"
	if err := os.WriteFile(tmp, buf.Bytes(), 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, f.path); err != nil {
		return err
	}
	f.stored = next
	if f.onChange != nil {
		f.Changed = f.onChange(f.list())
	}
	return nil
}
