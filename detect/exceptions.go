package detect

// Rule exceptions, as Kibana applies them: each exception item of the lists
// a rule references (its exceptions_list) becomes a filter that removes the
// events it matches before the query runs. Entries of an item are ANDed,
// items are ORed. Because removal happens before the query, on a sequence
// every event is checked: an excluded event can take part in no sequence.
//
// Semantics follow Kibana's buildExceptionFilter: "excluded" is the plain
// negation of "included" (so "is not X" also matches events without the
// field), values compare case-sensitively as keyword terms do, numbers
// compare by value, an IP field matches a CIDR value as an ip term query
// does, and expired items (expire_time in the past) are ignored.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/vigilsec/vigil/eql"
	"github.com/vigilsec/vigil/event"
	"github.com/vigilsec/vigil/rule"
	"github.com/vigilsec/vigil/schema"
)

// ExceptionEntry is one condition of an exception item (Kibana's
// exception list item "entries" element).
type ExceptionEntry struct {
	Field    string           `json:"field"`
	Operator string           `json:"operator"` // included, excluded
	Type     string           `json:"type"`     // match, match_any, exists, list, wildcard, nested
	Value    json.RawMessage  `json:"value,omitempty"`
	List     *ValueListRef    `json:"list,omitempty"`
	Entries  []ExceptionEntry `json:"entries,omitempty"` // nested
}

// ValueListRef names a value list (type "list" entries).
type ValueListRef struct {
	ID   string `json:"id"`
	Type string `json:"type"`
}

// ExceptionItem is one exception list item.
type ExceptionItem struct {
	ItemID        string           `json:"item_id"`
	ListID        string           `json:"list_id"`
	NamespaceType string           `json:"namespace_type"`
	Name          string           `json:"name"`
	Type          string           `json:"type"`
	ExpireTime    string           `json:"expire_time,omitempty"`
	OSTypes       []string         `json:"os_types,omitempty"`
	Entries       []ExceptionEntry `json:"entries"`
	// Where the item was read, for messages.
	Path string `json:"-"`
	Line int    `json:"-"`
}

// ExceptionList is a list container with its items.
type ExceptionList struct {
	ListID        string `json:"list_id"`
	NamespaceType string `json:"namespace_type"`
	Name          string `json:"name"`
	Type          string `json:"type"`
	Items         []*ExceptionItem
}

// ExceptionLists holds exception lists by list_id, as read from Kibana
// exception list exports (and the list objects of rule exports).
type ExceptionLists struct {
	lists map[string]*ExceptionList
	// Now decides which items have expired; zero: the current time.
	Now time.Time
}

// NewExceptionLists returns an empty set.
func NewExceptionLists() *ExceptionLists {
	return &ExceptionLists{lists: map[string]*ExceptionList{}}
}

// List returns a list by list_id; nil when unknown.
func (ls *ExceptionLists) List(listID string) *ExceptionList { return ls.lists[listID] }

func (ls *ExceptionLists) list(id string) *ExceptionList {
	l := ls.lists[id]
	if l == nil {
		l = &ExceptionList{ListID: id}
		ls.lists[id] = l
	}
	return l
}

// ReadNDJSON adds the lists and items of a Kibana exception list export
// (one JSON object a line: list containers, items, the export summary).
// A bad line is reported as "path:line: message" and skipped; the others
// are added.
func (ls *ExceptionLists) ReadNDJSON(r io.Reader, path string) []error {
	var errs []error
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	n := 0
	for sc.Scan() {
		n++
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		if err := ls.AddObject(line, path, n); err != nil {
			errs = append(errs, err)
		}
	}
	if err := sc.Err(); err != nil {
		errs = append(errs, fmt.Errorf("%s:%d: %w", path, n+1, err))
	}
	return errs
}

// AddObject adds one export object: a list container (list_id, no
// item_id), an item (list_id and item_id) or the export summary (ignored).
func (ls *ExceptionLists) AddObject(raw []byte, path string, line int) error {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(raw, &probe); err != nil {
		return fmt.Errorf("%s:%d: %w", path, line, err)
	}
	if probe == nil {
		return fmt.Errorf("%s:%d: not a JSON object", path, line)
	}
	switch {
	case probe["exported_exception_list_count"] != nil || probe["exported_count"] != nil:
		return nil // export summary
	case probe["item_id"] != nil:
		var it ExceptionItem
		if err := json.Unmarshal(raw, &it); err != nil {
			return fmt.Errorf("%s:%d: exception item: %w", path, line, err)
		}
		if it.ListID == "" || it.ItemID == "" {
			return fmt.Errorf("%s:%d: exception item without list_id or item_id", path, line)
		}
		it.Path, it.Line = path, line
		if _, err := compileItem(&it); err != nil && !errors.Is(err, ErrValueLists) {
			return err
		}
		l := ls.list(it.ListID)
		for i, old := range l.Items {
			if old.ItemID == it.ItemID {
				l.Items[i] = &it // a later copy replaces the earlier
				return nil
			}
		}
		l.Items = append(l.Items, &it)
		return nil
	case probe["list_id"] != nil:
		var c ExceptionList
		if err := json.Unmarshal(raw, &c); err != nil {
			return fmt.Errorf("%s:%d: exception list: %w", path, line, err)
		}
		l := ls.list(c.ListID)
		l.NamespaceType, l.Name, l.Type = c.NamespaceType, c.Name, c.Type
		return nil
	}
	return fmt.Errorf("%s:%d: not an exception list, exception item or export summary (no list_id)", path, line)
}

// ErrValueLists marks items using value lists (entry type "list"), which
// need Kibana's list indices: Vigil refuses such rules rather than run
// them without the exception.
var ErrValueLists = errors.New("value lists (exception entry type \"list\") are not supported")

// exceptionSet is a rule's compiled exception items: an event matching any
// item is removed.
type exceptionSet struct {
	items []*compiledItem
	vals  []event.Value
}

type compiledItem struct {
	id    string
	conds []*exCond
	// osTypes: Kibana's transformOsType ORs the entries with host.os.type,
	// and with host.os.name.caseless (host.os.name lower-cased by the
	// mapping's normalizer), equal to one of them.
	osTypes []string
}

var (
	osTypePath = event.CompilePath("host.os.type")
	osNamePath = event.CompilePath("host.os.name")
)

type exCond struct {
	path     *event.Path
	field    string
	negate   bool   // operator excluded
	typ      string // match, match_any, exists, wildcard, nested
	values   []exValue
	globs    []*eql.Wildcard
	nested   []*exCond // nested: conditions on one element of field
	segments []string  // nested: field split on '.'
}

// exValue is a value to compare with, pre-parsed for each field type.
type exValue struct {
	s      string
	num    float64
	isNum  bool
	cidr   schema.CIDR
	isCIDR bool
}

func newExValue(s string) exValue {
	v := exValue{s: s}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		v.num, v.isNum = f, true
	}
	if strings.Contains(s, "/") {
		if c, err := schema.ParseCIDR(s); err == nil {
			v.cidr, v.isCIDR = c, true
		}
	}
	return v
}

func compileItem(it *ExceptionItem) (*compiledItem, error) {
	ci := &compiledItem{id: it.ItemID, osTypes: it.OSTypes}
	if len(it.Entries) == 0 {
		return nil, fmt.Errorf("%s:%d: exception item %s has no entries", it.Path, it.Line, it.ItemID)
	}
	for i := range it.Entries {
		c, err := compileEntry(&it.Entries[i], false)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: exception item %s, entry %d: %w", it.Path, it.Line, it.ItemID, i+1, err)
		}
		ci.conds = append(ci.conds, c)
	}
	return ci, nil
}

func compileEntry(e *ExceptionEntry, inNested bool) (*exCond, error) {
	if e.Field == "" {
		return nil, errors.New("no field")
	}
	c := &exCond{field: e.Field, path: event.CompilePath(e.Field), typ: e.Type}
	switch e.Operator {
	case "included", "":
		if e.Operator == "" && e.Type != "nested" {
			return nil, errors.New("no operator (want included or excluded)")
		}
	case "excluded":
		c.negate = true
	default:
		return nil, fmt.Errorf("operator %q: want included or excluded", e.Operator)
	}
	strs := func() ([]string, error) {
		var one string
		if json.Unmarshal(e.Value, &one) == nil {
			return []string{one}, nil
		}
		var many []string
		if err := json.Unmarshal(e.Value, &many); err != nil || len(many) == 0 {
			return nil, fmt.Errorf("%s: value must be a string or a non-empty list of strings", e.Type)
		}
		return many, nil
	}
	switch e.Type {
	case "match", "match_any":
		ss, err := strs()
		if err != nil {
			return nil, err
		}
		for _, s := range ss {
			c.values = append(c.values, newExValue(s))
		}
	case "wildcard":
		ss, err := strs()
		if err != nil {
			return nil, err
		}
		for _, s := range ss {
			c.globs = append(c.globs, eql.CompileWildcard(s, false))
		}
	case "exists":
	case "list":
		id := ""
		if e.List != nil {
			id = e.List.ID
		}
		return nil, fmt.Errorf("field %s, list %q: %w", e.Field, id, ErrValueLists)
	case "nested":
		if inNested {
			return nil, errors.New("nested entries cannot nest")
		}
		if len(e.Entries) == 0 {
			return nil, errors.New("nested entry without entries")
		}
		c.segments = strings.Split(e.Field, ".")
		for i := range e.Entries {
			sub, err := compileEntry(&e.Entries[i], true)
			if err != nil {
				return nil, fmt.Errorf("nested %s, entry %d: %w", e.Field, i+1, err)
			}
			c.nested = append(c.nested, sub)
		}
	default:
		return nil, fmt.Errorf("type %q: want match, match_any, exists, list, wildcard or nested", e.Type)
	}
	return c, nil
}

// CompileOptions configure CompileWith.
type CompileOptions struct {
	// Exceptions are exception lists loaded apart from the rules (Kibana
	// exception list exports); a rule's own export objects are used too.
	Exceptions *ExceptionLists

	dispatch dispatchMode // tests: force a dispatch whatever the rule set's size
	cache    *compileCache
}

type dispatchMode uint8

const (
	dispatchAuto dispatchMode = iota
	dispatchLiterals
	dispatchValues
)

// ExceptionWarnings lists the rules that reference exception lists which
// were not loaded (they run without them), one message each.
func (rs *RuleSet) ExceptionWarnings() []string { return append([]string(nil), rs.excWarnings...) }

// compileRuleExceptions resolves the lists a rule references: from lists,
// else from the objects of the rule's own export (Rule.Related). A
// referenced list found nowhere is returned as a warning (the rule runs
// without it, as a rule referencing a deleted list does in Kibana); an
// item Vigil cannot apply (value lists, bad entries) is an error, so a rule
// never runs silently without an exception that was loaded.
func compileRuleExceptions(r *rule.Rule, lists *ExceptionLists) (*exceptionSet, []string, error) {
	if len(bytes.TrimSpace(r.ExceptionsList)) == 0 {
		return nil, nil, nil
	}
	var refs []struct {
		ID            string `json:"id"`
		ListID        string `json:"list_id"`
		NamespaceType string `json:"namespace_type"`
		Type          string `json:"type"`
	}
	if err := json.Unmarshal(r.ExceptionsList, &refs); err != nil {
		return nil, nil, fmt.Errorf("exceptions_list: %w", err)
	}
	if len(refs) == 0 {
		return nil, nil, nil
	}
	var warns []string
	own := NewExceptionLists()
	for _, rel := range r.Related {
		if rel.Kind == rule.RelatedExceptionList || rel.Kind == rule.RelatedExceptionItem {
			if err := own.AddObject(rel.Raw, rel.Path, rel.Line); err != nil {
				return nil, nil, err
			}
		}
	}
	now := time.Now()
	if lists != nil && !lists.Now.IsZero() {
		now = lists.Now
	}
	set := &exceptionSet{}
	for _, ref := range refs {
		var l *ExceptionList
		if lists != nil {
			l = lists.List(ref.ListID)
		}
		if l == nil {
			l = own.List(ref.ListID)
		}
		if l == nil {
			warns = append(warns, fmt.Sprintf("rule %s (%s): exception list %q (%s) was not loaded: the rule runs without it", r.RuleID, r.Name, ref.ListID, ref.Type))
			continue
		}
		for _, it := range l.Items {
			if it.ExpireTime != "" {
				if ms, ok := schema.ParseDate(it.ExpireTime, nil); ok && ms <= now.UnixMilli() {
					continue // expired: Kibana no longer applies it
				}
			}
			ci, err := compileItem(it)
			if err != nil {
				return nil, nil, err
			}
			set.items = append(set.items, ci)
		}
	}
	if len(set.items) == 0 {
		return nil, warns, nil
	}
	return set, warns, nil
}

// match reports whether the event matches some item (and is removed).
func (s *exceptionSet) match(d *event.Doc) bool {
	for _, it := range s.items {
		if len(it.osTypes) > 0 && !s.osMatch(it.osTypes, d) {
			continue
		}
		all := true
		for _, c := range it.conds {
			if !s.cond(c, d) {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}

func (s *exceptionSet) osMatch(types []string, d *event.Doc) bool {
	s.vals, _ = d.Lookup(osTypePath, s.vals[:0])
	for _, v := range s.vals {
		for _, t := range types {
			if v.Kind == event.String && v.S == t {
				return true
			}
		}
	}
	s.vals, _ = d.Lookup(osNamePath, s.vals[:0])
	for _, v := range s.vals {
		for _, t := range types {
			if v.Kind == event.String && strings.ToLower(v.S) == t {
				return true
			}
		}
	}
	return false
}

func (s *exceptionSet) cond(c *exCond, d *event.Doc) bool {
	if c.typ == "nested" {
		return nestedMatch(c, d.Root())
	}
	var found bool
	s.vals, found = d.Lookup(c.path, s.vals[:0])
	return c.negate != c.included(s.vals, found)
}

// included is the "included" result for the field's values.
func (c *exCond) included(vals []event.Value, found bool) bool {
	switch c.typ {
	case "exists":
		if !found {
			return false
		}
		for _, v := range vals {
			if v.Kind != event.Null {
				return true
			}
		}
		return false
	case "wildcard":
		for _, v := range vals {
			if s, ok := termText(v); ok {
				for _, g := range c.globs {
					if g.Match(s) {
						return true
					}
				}
			}
		}
		return false
	}
	for _, v := range vals {
		for i := range c.values {
			if termEquals(v, &c.values[i]) {
				return true
			}
		}
	}
	return false
}

// termText is a value as a keyword field indexes it.
func termText(v event.Value) (string, bool) {
	switch v.Kind {
	case event.String:
		return v.S, true
	case event.Bool:
		return strconv.FormatBool(v.B), true
	case event.Int:
		return strconv.FormatInt(v.I, 10), true
	case event.Float:
		return strconv.FormatFloat(v.F, 'g', -1, 64), true
	}
	return "", false
}

// termEquals is a term query: case-sensitive text, numbers by value, an
// IP inside a CIDR value.
func termEquals(v event.Value, want *exValue) bool {
	switch v.Kind {
	case event.String:
		if v.S == want.s {
			return true
		}
		if want.isCIDR {
			if ip, ok := schema.ParseIP(v.S); ok {
				return want.cidr.Contains(ip)
			}
		}
		return false
	case event.Int, event.Float:
		f, _ := v.Num()
		return want.isNum && f == want.num
	case event.Bool:
		return strconv.FormatBool(v.B) == want.s
	}
	return false
}

// nestedMatch: some element of the nested field satisfies every entry.
func nestedMatch(c *exCond, root event.Node) bool {
	var elems []event.Node
	collectNodes(root, c.segments, &elems)
	for _, el := range elems {
		ok := true
		for _, sub := range c.nested {
			vals, found := nodeValues(el, strings.Split(sub.field, "."))
			if sub.negate == sub.included(vals, found) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// collectNodes finds the objects at a dotted path below n, trying nested
// and dotted-key spellings as Elasticsearch's _source lookup does, with
// arrays flattened.
func collectNodes(n event.Node, segs []string, out *[]event.Node) {
	switch n.Kind() {
	case event.NodeArray:
		n.Elements(func(e event.Node) { collectNodes(e, segs, out) })
		return
	case event.NodeObject:
	default:
		return
	}
	if len(segs) == 0 {
		*out = append(*out, n)
		return
	}
	n.Members(func(k string, v event.Node) {
		for i := 1; i <= len(segs); i++ {
			if k == strings.Join(segs[:i], ".") {
				collectNodes(v, segs[i:], out)
			}
		}
	})
}

// nodeValues reads the scalar values at a dotted path below n.
func nodeValues(n event.Node, segs []string) ([]event.Value, bool) {
	var vals []event.Value
	found := false
	var walk func(n event.Node, segs []string)
	walk = func(n event.Node, segs []string) {
		if len(segs) == 0 {
			found = true
			leafValues(n, &vals)
			return
		}
		switch n.Kind() {
		case event.NodeArray:
			n.Elements(func(e event.Node) { walk(e, segs) })
		case event.NodeObject:
			n.Members(func(k string, v event.Node) {
				for i := 1; i <= len(segs); i++ {
					if k == strings.Join(segs[:i], ".") {
						walk(v, segs[i:])
					}
				}
			})
		}
	}
	walk(n, segs)
	return vals, found
}

func leafValues(n event.Node, out *[]event.Value) {
	switch n.Kind() {
	case event.NodeArray:
		n.Elements(func(e event.Node) { leafValues(e, out) })
	case event.NodeObject:
		*out = append(*out, event.Value{Kind: event.Object})
	case event.NodeString:
		*out = append(*out, event.StringValue(n.Text()))
	case event.NodeNumber:
		t := n.Text()
		if i, err := strconv.ParseInt(t, 10, 64); err == nil {
			*out = append(*out, event.IntValue(i))
		} else if f, err := strconv.ParseFloat(t, 64); err == nil {
			*out = append(*out, event.FloatValue(f))
		}
	case event.NodeBool:
		*out = append(*out, event.BoolValue(n.Text() == "true"))
	case event.NodeNull:
		*out = append(*out, event.NullValue())
	}
}
