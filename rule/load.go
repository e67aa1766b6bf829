package rule

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"unsafe"
)

// LoadOptions are the settings of the loaders.
type LoadOptions struct {
	// VersionLock gives the version of rules whose file has none
	// (rule_id -> version), as detection-rules' version.lock.json does.
	VersionLock map[string]int
	// Types, when set, limits full decoding to rules of these types. A TOML
	// rule of another type (read from a plain type = "..." string) comes
	// back with only Type, Language, RuleID, Name and Source set and
	// Partial true: for commands that run some types and count the rest,
	// since decoding costs most of their start-up.
	Types []string
}

// LoadResult is what Load read.
type LoadResult struct {
	Files      int // rule files read (.toml, .ndjson), deprecated ones excluded
	Rules      []*Rule
	Deprecated int // rule files skipped in _deprecated directories
	Errors     []*LoadError
}

// LoadError is a problem in a rule file, with its position when known.
// Line and Col are 1-based (0: unknown); Col counts characters.
type LoadError struct {
	Path   string `json:"path"`
	RuleID string `json:"rule_id,omitempty"`
	Line   int    `json:"line"`
	Col    int    `json:"column"`
	Msg    string `json:"message"`
	// Context is the offending file line and a caret under the column,
	// two lines indented by two spaces ("" when unknown).
	Context string `json:"-"`
}

// Error renders "path:line:col: msg" (leaving out what is unknown).
func (e *LoadError) Error() string {
	var b strings.Builder
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteByte(':')
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, "%d:", e.Line)
		if e.Col > 0 {
			fmt.Fprintf(&b, "%d:", e.Col)
		}
	}
	if b.Len() > 0 {
		b.WriteByte(' ')
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Detail is Error followed by the context lines, if any.
func (e *LoadError) Detail() string {
	if e.Context == "" {
		return e.Error()
	}
	return e.Error() + "\n" + e.Context
}

// LoadVersionLock reads a detection-rules version lock file
// (etc/version.lock.json: rule_id -> {"version": N, ...}). A plain
// {"rule_id": N} map is accepted too.
func LoadVersionLock(path string) (map[string]int, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	out := make(map[string]int, len(raw))
	for id, v := range raw {
		var n int
		if json.Unmarshal(v, &n) == nil {
			out[id] = n
			continue
		}
		var entry struct {
			Version *int `json:"version"`
		}
		if err := json.Unmarshal(v, &entry); err != nil || entry.Version == nil {
			return nil, fmt.Errorf("%s: rule %s: no integer \"version\"", path, id)
		}
		out[id] = *entry.Version
	}
	return out, nil
}

// ruleExt reports whether a file name is a rule file, and which kind.
func ruleExt(name string) string {
	// Rule unit tests (ruletest) live next to rules: not rules themselves.
	if strings.HasSuffix(strings.ToLower(name), ".test.toml") {
		return ""
	}
	switch strings.ToLower(filepath.Ext(name)) {
	case ".toml":
		return "toml"
	case ".ndjson", ".jsonl":
		return "ndjson"
	}
	return ""
}

// LoadFile reads one rule file: detection-rules TOML (.toml, one rule) or a
// Kibana export (.ndjson, one object a line). Errors never stop the rest of
// the file from loading; a rule with errors is left out.
func LoadFile(path string, opts LoadOptions) ([]*Rule, []*LoadError) {
	rules, errs, _ := loadFile(path, nil, opts)
	return rules, errs
}

// loadFile is LoadFile reading into buf when it is large enough. reuse
// reports that nothing loaded refers to the bytes read, so that buf (or the
// buffer read into instead, returned) may be read into again: a stub rule
// (LoadOptions.Types), whose few strings are copies.
func loadFile(path string, buf []byte, opts LoadOptions) (rules []*Rule, errs []*LoadError, reuse []byte) {
	data, err := readFile(path, buf)
	if err != nil {
		return nil, []*LoadError{{Path: path, Msg: errMsg(err)}}, buf
	}
	// The decoded strings share data instead of each file being copied
	// once more: data is not written again unless reuse says so.
	rules, errs = loadBytes(path, data, unsafe.String(unsafe.SliceData(data), len(data)), opts)
	if len(errs) == 0 && len(rules) == 1 && rules[0].Partial && ruleExt(path) == "toml" {
		return rules, errs, data
	}
	return rules, errs, nil
}

// LoadBytes reads one rule file's content; path names it in errors and
// chooses the format by extension (else by content). It serves embedded
// rule packs.
func LoadBytes(path string, data []byte, opts LoadOptions) ([]*Rule, []*LoadError) {
	return loadBytes(path, data, string(data), opts)
}

// loadBytes is LoadBytes given data as text too.
func loadBytes(path string, data []byte, text string, opts LoadOptions) ([]*Rule, []*LoadError) {
	switch ruleExt(path) {
	case "toml":
		return loadTOML(path, text, opts)
	case "ndjson":
		return loadNDJSON(path, data, opts)
	}
	// Unknown extension: guess from the content.
	if t := strings.TrimSpace(text); strings.HasPrefix(t, "{") {
		return loadNDJSON(path, data, opts)
	}
	return loadTOML(path, text, opts)
}

func errMsg(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// Load reads rule files and directories (recursively: *.toml and *.ndjson).
// Directories named _deprecated are skipped and their rule files counted.
// A rule_id seen twice is an error and only the first rule is kept. The
// error is for a path that cannot be read at all.
func Load(paths []string, opts LoadOptions) (*LoadResult, error) {
	res := &LoadResult{}
	dirs := make([]bool, len(paths))
	for i, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		dirs[i] = fi.IsDir()
	}
	// The walk hands files to the loaders as it finds them.
	found := make(chan *loadItem, 64)
	var items []*loadItem // in walk order; written by the walk only
	var walkErr error
	go func() {
		defer close(found)
		add := func(path string) {
			it := &loadItem{path: path}
			items = append(items, it)
			found <- it
		}
		for i, p := range paths {
			if !dirs[i] {
				add(p)
				continue
			}
			err := filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
				if err != nil {
					res.Errors = append(res.Errors, &LoadError{Path: path, Msg: errMsg(err)})
					if d != nil && d.IsDir() {
						return fs.SkipDir
					}
					return nil
				}
				if d.IsDir() {
					if path != p && d.Name() == "_deprecated" {
						res.Deprecated += countRuleFiles(path)
						return fs.SkipDir
					}
					return nil
				}
				if ruleExt(path) != "" {
					add(path)
				}
				return nil
			})
			if err != nil {
				walkErr = err
				return
			}
		}
	}()
	loadAll(found, opts)
	// The walk is over (found is closed): its results can be read.
	if walkErr != nil {
		return nil, walkErr
	}
	for _, it := range items {
		res.Files++
		res.Rules = append(res.Rules, it.rules...)
		res.Errors = append(res.Errors, it.errs...)
	}
	res.dedup()
	return res, nil
}

// loadItem is one rule file and what it gave.
type loadItem struct {
	path  string
	rules []*Rule
	errs  []*LoadError
}

// loadAll loads files on every core (decoding the 2,000 TOML files of the
// prebuilt corpus takes seconds on one) until found is closed.
func loadAll(found <-chan *loadItem, opts LoadOptions) {
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf []byte
			for it := range found {
				it.rules, it.errs, buf = loadFile(it.path, buf, opts)
			}
		}()
	}
	wg.Wait()
}

func countRuleFiles(dir string) int {
	n := 0
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && ruleExt(path) != "" {
			n++
		}
		return nil
	})
	return n
}

// dedup drops rules whose rule_id was already loaded.
func (res *LoadResult) dedup() {
	first := map[string]*Rule{}
	kept := res.Rules[:0]
	for _, r := range res.Rules {
		if f, ok := first[r.RuleID]; ok {
			res.Errors = append(res.Errors, &LoadError{
				Path: r.Source.Path, RuleID: r.RuleID, Line: r.Source.Line,
				Msg: fmt.Sprintf("duplicate rule_id %s (first loaded from %s:%d); this copy is ignored", r.RuleID, f.Source.Path, f.Source.Line),
			})
			continue
		}
		first[r.RuleID] = r
		kept = append(kept, r)
	}
	clear(res.Rules[len(kept):])
	res.Rules = kept
	sort.SliceStable(res.Errors, func(i, j int) bool {
		a, b := res.Errors[i], res.Errors[j]
		if a.Path != b.Path {
			return a.Path < b.Path
		}
		return a.Line < b.Line
	})
}

// applyDefaults fills the schedule, limit and version settings a rule left
// unset (has: the keys its file gave), recording them so that an export of
// a rule read from JSON does not add them.
func (r *Rule) applyDefaults(opts LoadOptions, has func(string) bool) {
	set := func(key string, v any) {
		if r.defaulted == nil {
			r.defaulted = map[string]json.RawMessage{}
		}
		raw, _ := json.Marshal(v)
		r.defaulted[key] = raw
	}
	if !has("interval") {
		r.Interval = DefaultInterval
		set("interval", r.Interval)
	}
	if !has("from") {
		r.From = DefaultFrom
		set("from", r.From)
	}
	if !has("to") {
		r.To = DefaultTo
		set("to", r.To)
	}
	if !has("max_signals") {
		r.MaxSignals = DefaultMaxSignals
		set("max_signals", r.MaxSignals)
	}
	if !has("version") {
		if v, ok := opts.VersionLock[r.RuleID]; ok {
			r.Version = v
		} else {
			r.Version = 1
			set("version", r.Version)
		}
	}
}

// has reports whether the rule's file gave a top-level rule key.
func (r *Rule) has(key string) bool {
	_, ok := r.keys.get(r.keyPrefix + key)
	return ok
}

// keyPos returns the position of a rule key (a path such as "query" or
// "threat[0].tactic"), falling back to enclosing keys and then to the rule.
func (r *Rule) keyPos(path string) filePos {
	for p := path; p != ""; {
		if k, ok := r.keys.get(r.keyPrefix + p); ok {
			return k.Key
		}
		if k, ok := r.keys.get(r.keyPrefix + p + "[0]"); ok {
			return k.Key
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			break
		}
		p = p[:i]
	}
	return filePos{Line: r.Source.Line}
}

// required returns the value of a required string key.
func (r *Rule) required(key string) string {
	switch key {
	case "rule_id":
		return r.RuleID
	case "name":
		return r.Name
	case "type":
		return r.Type
	}
	return ""
}
