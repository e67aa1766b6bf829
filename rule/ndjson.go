package rule

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"unicode/utf8"
)

// Kinds of Related objects.
const (
	RelatedExceptionList = "exception_list"
	RelatedExceptionItem = "exception_item"
	RelatedConnector     = "action_connector"
)

// loadNDJSON reads a Kibana rule export: one JSON object a line. Rules
// ("rule_id") become Rules; exception lists, their items and action
// connectors are attached to the rules that reference them (Rule.Related);
// the trailing export summary is recognised and skipped.
func loadNDJSON(path string, data []byte, opts LoadOptions) ([]*Rule, []*LoadError) {
	if bytes.HasPrefix(data, []byte("\uFEFF")) {
		data = append([]byte("   "), data[3:]...) // keep offsets
	}
	text := string(data)
	li := newLineIndex(text)
	li.index()
	var (
		rules   []*Rule
		errs    []*LoadError
		related []Related
	)
	for n := 1; n <= len(li.starts); n++ {
		start := li.starts[n-1]
		end := len(text)
		if n < len(li.starts) {
			end = li.starts[n] - 1
		}
		line := bytes.TrimRight(data[start:end], "\r")
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		at := func(off int) filePos {
			off = min(max(off, 0), len(line))
			return filePos{Line: n, Col: utf8.RuneCount(line[:off]) + 1, Off: start + off}
		}
		members, err := readObject(line)
		if err != nil {
			off := 0
			var se *json.SyntaxError
			var te *json.UnmarshalTypeError
			var tr *trailingError
			switch {
			case errors.As(err, &se):
				off = int(se.Offset) - 1
			case errors.As(err, &te):
				off = int(te.Offset) - 1
				err = fmt.Errorf("expected a JSON object, found %s", jsonValueName(te.Value))
			case errors.As(err, &tr):
				off = tr.off
			default: // io.EOF, io.ErrUnexpectedEOF
				off = len(line)
				err = errors.New("unexpected end of line")
			}
			errs = append(errs, fileErr(li, path, at(off), "invalid JSON: %v", err))
			continue
		}
		obj := map[string]json.RawMessage{}
		for _, m := range members {
			obj[m.Key] = m.Raw
		}
		str := func(k string) string {
			var s string
			_ = json.Unmarshal(obj[k], &s)
			return s
		}
		switch {
		case obj["rule_id"] != nil:
			r, rerrs := decodeRecord(path, li, n, line, members, at)
			if len(rerrs) > 0 {
				errs = append(errs, rerrs...)
				continue
			}
			r.applyDefaults(opts, r.has)
			rules = append(rules, r)
		case obj["exported_count"] != nil:
			// the export summary: rebuilt by ExportNDJSON
		case obj["list_id"] != nil && obj["item_id"] != nil:
			related = append(related, Related{Kind: RelatedExceptionItem, ID: str("list_id") + "/" + str("item_id"), Raw: bytes.Clone(line), Line: n, Path: path})
		case obj["list_id"] != nil:
			related = append(related, Related{Kind: RelatedExceptionList, ID: str("list_id"), Raw: bytes.Clone(line), Line: n, Path: path})
		case str("type") == "action" || obj["attributes"] != nil:
			related = append(related, Related{Kind: RelatedConnector, ID: str("id"), Raw: bytes.Clone(line), Line: n, Path: path})
		default:
			errs = append(errs, fileErr(li, path, at(0), "not a rule (no \"rule_id\"), exception list, exception item, action connector or export summary"))
		}
	}
	attachRelated(rules, related)
	return rules, errs
}

// decodeRecord reads one rule object of an export line.
func decodeRecord(path string, li *lineIndex, n int, line []byte, members []member, at func(int) filePos) (*Rule, []*LoadError) {
	r := &Rule{orig: members}
	r.Source = Source{Path: path, Line: n}
	var errs []*LoadError
	for _, m := range members {
		r.keys.add(m.Key, tomlKey{Key: at(m.Off)})
		if err := r.setKey(m.Key, m.Raw); err != nil {
			off := m.Off
			if ke, ok := err.(*keyError); ok && ke.Off > 0 {
				off += ke.Off
			}
			errs = append(errs, fileErr(li, path, at(off), "%v", err))
		}
	}
	r.keys.finish()
	if len(errs) == 0 {
		for _, k := range []string{"rule_id", "name", "type"} {
			if !r.has(k) {
				errs = append(errs, fileErr(li, path, at(0), "rule has no %q", k))
			} else if r.required(k) == "" {
				k0, _ := r.keys.get(k)
				errs = append(errs, fileErr(li, path, k0.Key, "%q is empty", k))
			}
		}
	}
	if len(errs) > 0 {
		for _, e := range errs {
			e.RuleID = r.RuleID
		}
		return nil, errs
	}
	if fp, ok := r.keys.get("query"); ok && r.Query != "" {
		for _, m := range members {
			if m.Key == "query" {
				s := fp.Key.Off
				r.query = newQuerySpan(li, s, s+len(m.Raw), true, false)
			}
		}
		if r.query != nil {
			r.Source.QueryLine, r.Source.QueryCol = r.query.line, r.query.col
		}
	}
	return r, nil
}

// attachRelated gives each rule the exception lists, items and connectors
// it references; objects no rule references go to the first rule, so that
// exporting the file's rules writes them back.
func attachRelated(rules []*Rule, related []Related) {
	if len(rules) == 0 || len(related) == 0 {
		return
	}
	used := make([]bool, len(related))
	for _, r := range rules {
		lists, conns := r.references()
		for i, o := range related {
			var hit bool
			switch o.Kind {
			case RelatedExceptionList:
				hit = lists[o.ID]
			case RelatedExceptionItem:
				hit = lists[listOfItem(o)]
			case RelatedConnector:
				hit = conns[o.ID]
			}
			if hit {
				r.Related = append(r.Related, o)
				used[i] = true
			}
		}
	}
	for i, o := range related {
		if !used[i] {
			rules[0].Related = append(rules[0].Related, o)
		}
	}
}

func listOfItem(o Related) string {
	var v struct {
		ListID string `json:"list_id"`
	}
	_ = json.Unmarshal(o.Raw, &v)
	return v.ListID
}

// references returns the exception list ids and connector ids a rule uses.
func (r *Rule) references() (lists, conns map[string]bool) {
	lists, conns = map[string]bool{}, map[string]bool{}
	var el []struct {
		ListID string `json:"list_id"`
	}
	if json.Unmarshal(r.ExceptionsList, &el) == nil {
		for _, e := range el {
			lists[e.ListID] = true
		}
	}
	var acts []struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(r.Extra["actions"], &acts) == nil {
		for _, a := range acts {
			conns[a.ID] = true
		}
	}
	return lists, conns
}

// ExportNDJSON writes rules as a Kibana export: one rule a line, then the
// exception lists with their items and the action connectors the rules carry
// (Rule.Related, each once), then the export summary line. A rule read from
// an export is written back key by key as it was read, except for values
// changed since.
func ExportNDJSON(w io.Writer, rules []*Rule) error {
	bw := bufio.NewWriter(w)
	var related []Related
	seen := map[string]bool{}
	for _, r := range rules {
		b, err := r.MarshalJSON() // not json.Marshal, which would escape <, >, &
		if err != nil {
			return fmt.Errorf("rule %s: %v", r.RuleID, err)
		}
		bw.Write(b)
		bw.WriteByte('\n')
		for _, o := range r.Related {
			if k := o.Kind + "\x00" + o.ID; !seen[k] {
				seen[k] = true
				related = append(related, o)
			}
		}
	}
	rank := map[string]int{RelatedExceptionList: 0, RelatedExceptionItem: 0, RelatedConnector: 1}
	sort.SliceStable(related, func(i, j int) bool {
		a, b := related[i], related[j]
		if rank[a.Kind] != rank[b.Kind] {
			return rank[a.Kind] < rank[b.Kind]
		}
		if a.Path != b.Path {
			return a.Path < b.Path
		}
		return a.Line < b.Line
	})
	counts := map[string]int{}
	exportedLists := map[string]bool{}
	exportedConns := map[string]bool{}
	for _, o := range related {
		bw.Write(bytes.TrimSpace(o.Raw))
		bw.WriteByte('\n')
		counts[o.Kind]++
		switch o.Kind {
		case RelatedExceptionList:
			exportedLists[o.ID] = true
		case RelatedConnector:
			exportedConns[o.ID] = true
		}
	}
	// References to lists and connectors that were not exported.
	missingLists := []json.RawMessage{}
	missingConns := []json.RawMessage{}
	seenMissing := map[string]bool{}
	for _, r := range rules {
		var el []json.RawMessage
		if json.Unmarshal(r.ExceptionsList, &el) == nil {
			for _, e := range el {
				var ref struct {
					ListID string `json:"list_id"`
				}
				if json.Unmarshal(e, &ref) == nil && !exportedLists[ref.ListID] && !seenMissing["l"+ref.ListID] {
					seenMissing["l"+ref.ListID] = true
					missingLists = append(missingLists, e)
				}
			}
		}
		_, conns := r.references()
		ids := make([]string, 0, len(conns))
		for id := range conns {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for _, id := range ids {
			if !exportedConns[id] && !seenMissing["c"+id] {
				seenMissing["c"+id] = true
				raw, _ := json.Marshal(map[string]string{"id": id, "type": "action"})
				missingConns = append(missingConns, raw)
			}
		}
	}
	summary := []member{
		{Key: "exported_count", Raw: jsonInt(len(rules) + len(related))},
		{Key: "exported_rules_count", Raw: jsonInt(len(rules))},
		{Key: "missing_rules", Raw: json.RawMessage("[]")},
		{Key: "missing_rules_count", Raw: jsonInt(0)},
		{Key: "exported_exception_list_count", Raw: jsonInt(counts[RelatedExceptionList])},
		{Key: "exported_exception_list_item_count", Raw: jsonInt(counts[RelatedExceptionItem])},
		{Key: "missing_exception_list_item_count", Raw: jsonInt(0)},
		{Key: "missing_exception_list_items", Raw: json.RawMessage("[]")},
		{Key: "missing_exception_lists", Raw: mustJSON(missingLists)},
		{Key: "missing_exception_lists_count", Raw: jsonInt(len(missingLists))},
		{Key: "exported_action_connector_count", Raw: jsonInt(counts[RelatedConnector])},
		{Key: "missing_action_connection_count", Raw: jsonInt(len(missingConns))},
		{Key: "missing_action_connections", Raw: mustJSON(missingConns)},
		{Key: "excluded_action_connection_count", Raw: jsonInt(0)},
		{Key: "excluded_action_connections", Raw: json.RawMessage("[]")},
	}
	bw.WriteByte('{')
	for i, m := range summary {
		if i > 0 {
			bw.WriteByte(',')
		}
		fmt.Fprintf(bw, "%q:", m.Key)
		bw.Write(m.Raw)
	}
	bw.WriteString("}\n")
	return bw.Flush()
}

func jsonInt(n int) json.RawMessage { return json.RawMessage(fmt.Sprint(n)) }

func mustJSON(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}
