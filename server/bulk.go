package server

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/vigilsec/vigil/event"
)

// op is a bulk action.
type op uint8

const (
	opIndex op = iota
	opCreate
	opUpdate
	opDelete
)

var opNames = [...]string{"index", "create", "update", "delete"}

func (o op) String() string { return opNames[o] }

// item is one action of a bulk request (or of a single-document request)
// and, once handled, its outcome.
type item struct {
	op       op
	index    string
	id       string
	autoID   bool
	pipeline string
	line     int    // 1-based line of the action in the body
	srcLine  int    // 1-based line of the source document
	doc      []byte // the source line (aliases the body)

	// Outcome: status 0 until decided; err set for a failed item.
	status int
	err    *esError
	seq    uint64
	dup    bool
}

// requestError is a bulk body that cannot be processed at all: ES answers
// 400 for the whole request, and nothing of it is stored.
type requestError struct{ e *esError }

func (r *requestError) Error() string { return r.e.Reason }

// bulkParser splits a bulk body into items. One per request goroutine
// (it owns a JSON parser).
type bulkParser struct {
	p       event.Parser
	maxLine int
}

// parse reads the NDJSON body: action lines, each but delete followed by
// a source line. defIndex is the index of the URL (/{index}/_bulk),
// defPipeline its ?pipeline=. A malformed action line fails the whole
// request (as in Elasticsearch: the pairing of the lines after it is
// unknown); a bad source line fails only its item.
func (bp *bulkParser) parse(body []byte, defIndex, defPipeline string, items []item) ([]item, error) {
	lineNo := 0
	next := func() ([]byte, int, bool) {
		for len(body) > 0 {
			var line []byte
			if i := bytes.IndexByte(body, '\n'); i >= 0 {
				line, body = body[:i], body[i+1:]
			} else {
				line, body = body, nil
			}
			lineNo++
			line = bytes.TrimRight(line, "\r")
			if len(bytes.TrimSpace(line)) == 0 {
				continue // blank lines between actions are tolerated, as ES does
			}
			return line, lineNo, true
		}
		return nil, 0, false
	}
	for {
		line, n, ok := next()
		if !ok {
			break
		}
		if bp.maxLine > 0 && len(line) > bp.maxLine {
			return items, &requestError{errIllegalArgument(fmt.Sprintf(
				"action/metadata line [%d] is %d bytes, over the line limit of %d bytes", n, len(line), bp.maxLine))}
		}
		it, err := bp.action(line, n, defIndex, defPipeline)
		if err != nil {
			return items, err
		}
		if it.op != opDelete {
			src, sn, ok := next()
			if !ok {
				return items, &requestError{errIllegalArgument(fmt.Sprintf(
					"The bulk request must be terminated by a newline [\\n]: action line [%d] has no source line", n))}
			}
			it.doc, it.srcLine = src, sn
		}
		items = append(items, it)
	}
	if len(items) == 0 {
		return items, &requestError{errValidation("request body is required")}
	}
	return items, nil
}

// action parses one action/metadata line, such as
// {"index":{"_index":"logs-x","_id":"1"}}.
func (bp *bulkParser) action(line []byte, n int, defIndex, defPipeline string) (item, error) {
	it := item{line: n, index: defIndex, pipeline: defPipeline}
	d, err := bp.p.Parse(line)
	if err != nil {
		return it, &requestError{errParse(fmt.Sprintf("Malformed action/metadata line [%d]: %v", n, err))}
	}
	root := d.Root()
	var perr error
	keys := 0
	root.Members(func(key string, v event.Node) {
		keys++
		if keys > 1 || perr != nil {
			return
		}
		switch key {
		case "index":
			it.op = opIndex
		case "create":
			it.op = opCreate
		case "update":
			it.op = opUpdate
		case "delete":
			it.op = opDelete
		default:
			perr = &requestError{errIllegalArgument(fmt.Sprintf(
				"Malformed action/metadata line [%d], expected one of [create, delete, index, update] but found [%s]", n, key))}
			return
		}
		if v.Kind() != event.NodeObject {
			perr = &requestError{errIllegalArgument(fmt.Sprintf(
				"Malformed action/metadata line [%d], expected START_OBJECT but found [%s]", n, nodeKindName(v.Kind())))}
			return
		}
		v.Members(func(k string, mv event.Node) {
			if perr != nil {
				return
			}
			str := func() (string, bool) {
				if mv.Kind() != event.NodeString {
					perr = &requestError{errIllegalArgument(fmt.Sprintf(
						"Malformed action/metadata line [%d], field [%s]: expected a string", n, k))}
					return "", false
				}
				return strings.Clone(mv.Text()), true
			}
			switch k {
			case "_index":
				if s, ok := str(); ok {
					it.index = s
				}
			case "_id":
				if mv.Kind() == event.NodeNumber { // ES accepts a number as the id
					it.id = strings.Clone(mv.Text())
				} else if s, ok := str(); ok {
					it.id = s
				}
			case "pipeline":
				if s, ok := str(); ok {
					it.pipeline = s
				}
			case "_type", "routing", "_routing", "require_alias", "require_data_stream", "version", "version_type",
				"if_seq_no", "if_primary_term", "dynamic_templates", "retry_on_conflict", "_source", "list_executed_pipelines":
				// Accepted and ignored: they steer Elasticsearch's storage.
			default:
				perr = &requestError{errIllegalArgument(fmt.Sprintf(
					"Action/metadata line [%d] contains an unknown parameter [%s]", n, k))}
			}
		})
	})
	if perr != nil {
		return it, perr
	}
	if keys != 1 {
		return it, &requestError{errIllegalArgument(fmt.Sprintf(
			"Malformed action/metadata line [%d], expected one action, found %d keys", n, keys))}
	}
	if it.index == "" {
		return it, &requestError{errValidation("index is missing")}
	}
	return it, nil
}

func nodeKindName(k event.NodeKind) string {
	switch k {
	case event.NodeArray:
		return "START_ARRAY"
	case event.NodeString:
		return "VALUE_STRING"
	case event.NodeNumber:
		return "VALUE_NUMBER"
	case event.NodeBool:
		return "VALUE_BOOLEAN"
	}
	return "VALUE_NULL"
}

// validIndex applies Elasticsearch's index name rules; "" means valid.
func validIndex(name string) string {
	switch {
	case name == "":
		return "must not be empty"
	case len(name) > 255:
		return "index name is too long, (" + strconv.Itoa(len(name)) + " > 255)"
	case name == "." || name == "..":
		return "must not be '.' or '..'"
	case name[0] == '_' || name[0] == '-' || name[0] == '+':
		return "must not start with '_', '-', or '+'"
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch c {
		case '\\', '/', '*', '?', '"', '<', '>', '|', ' ', ',', '#', ':':
			return "must not contain the following characters [ , \", *, \\, <, |, ,, >, /, ?, #, :]"
		}
		if c >= 'A' && c <= 'Z' {
			return "must be lowercase"
		}
	}
	return ""
}

// msgID is the log's dedup id of a document with a client-given id: its
// index and id. Index names cannot hold '/', so the pair is unambiguous; an
// id that is not plain printable ASCII (it goes into a message header) is
// replaced by its SHA-256.
func msgID(index, id string) string {
	for i := 0; i < len(id); i++ {
		if id[i] < 0x21 || id[i] > 0x7e {
			sum := sha256.Sum256([]byte(id))
			return index + "/#sha256:" + hex.EncodeToString(sum[:])
		}
	}
	return index + "/" + id
}

// stored builds the log entry of a source document: the document with its
// _index and _id first (the form vigil hunt reads, so detection sees the
// index) and event.ingested set to the acceptance time, replacing a value
// the document had, as Elastic's ingest pipelines do. src must be valid
// JSON (validated by the caller); it must not hold _index or _id itself.
func stored(dst []byte, index, id string, src []byte, ingested string) []byte {
	dst = append(dst, `{"_index":`...)
	dst = event.AppendJSONString(dst, index)
	dst = append(dst, `,"_id":`...)
	dst = event.AppendJSONString(dst, id)
	sawEvent := false
	i := skipSpace(src, 0) + 1 // past '{'
	for {
		i = skipSpace(src, i)
		if i >= len(src) || src[i] == '}' {
			break
		}
		if src[i] == ',' {
			i++
			continue
		}
		ks := i
		ke := skipString(src, i)
		key := src[ks+1 : ke-1]
		vs := skipSpace(src, skipSpace(src, ke)+1) // past ':'
		ve := skipValue(src, vs)
		switch {
		case string(key) == "event" && src[vs] == '{':
			sawEvent = true
			dst = append(dst, `,"event":{"ingested":`...)
			dst = append(dst, ingested...)
			dst = appendMembersExcept(dst, src[vs:ve], "ingested")
			dst = append(dst, '}')
		case string(key) == "event.ingested":
			sawEvent = true
			dst = append(dst, `,"event.ingested":`...)
			dst = append(dst, ingested...)
		default:
			if string(key) == "event" {
				sawEvent = true // not an object: left alone (ES would reject the mapping; detection sees it as is)
			}
			dst = append(dst, ',')
			dst = append(dst, src[ks:ve]...)
		}
		i = ve
	}
	if !sawEvent {
		dst = append(dst, `,"event":{"ingested":`...)
		dst = append(dst, ingested...)
		dst = append(dst, '}')
	}
	return append(dst, '}')
}

// appendMembersExcept appends ",key:value" for each member of the object
// obj but the one named skip.
func appendMembersExcept(dst, obj []byte, skip string) []byte {
	i := 1
	for {
		i = skipSpace(obj, i)
		if i >= len(obj) || obj[i] == '}' {
			return dst
		}
		if obj[i] == ',' {
			i++
			continue
		}
		ks := i
		ke := skipString(obj, i)
		vs := skipSpace(obj, skipSpace(obj, ke)+1)
		ve := skipValue(obj, vs)
		if string(obj[ks+1:ke-1]) != skip {
			dst = append(dst, ',')
			dst = append(dst, obj[ks:ve]...)
		}
		i = ve
	}
}

// topLevelMeta finds a top-level key of a valid JSON object that
// Elasticsearch reserves for metadata ("_id", "_index", ...); "" if none.
func topLevelMeta(src []byte) string {
	i := skipSpace(src, 0) + 1
	for {
		i = skipSpace(src, i)
		if i >= len(src) || src[i] == '}' {
			return ""
		}
		if src[i] == ',' {
			i++
			continue
		}
		ke := skipString(src, i)
		key := src[i+1 : ke-1]
		switch string(key) {
		case "_id", "_index", "_routing", "_source", "_seq_no", "_primary_term", "_version", "_ignored", "_tier", "_data_stream_timestamp", "_doc_count", "_field_names", "_nested_path":
			return string(key)
		}
		vs := skipSpace(src, skipSpace(src, ke)+1)
		i = skipValue(src, vs)
	}
}

// The skippers below walk JSON that has already been validated, so they
// only track structure.

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r' || (b[i] == 0xEF && i == 0)) {
		if b[i] == 0xEF { // a leading UTF-8 BOM, which the parser accepts
			i += 3
			continue
		}
		i++
	}
	return i
}

// skipString returns the index just past the string starting at b[i]=='"'.
// It jumps from quote to quote (bytes.IndexByte is vectorised) and counts
// the backslashes before each: an odd count escapes it.
func skipString(b []byte, i int) int {
	i++
	for {
		j := bytes.IndexByte(b[i:], '"')
		if j < 0 {
			return len(b)
		}
		q := i + j
		k := q
		for k > i && b[k-1] == '\\' {
			k--
		}
		if (q-k)%2 == 0 {
			return q + 1
		}
		i = q + 1
	}
}

// structural marks the bytes a container skip must stop at.
var structural = [256]bool{'"': true, '{': true, '}': true, '[': true, ']': true}

func indexStructural(b []byte) int {
	for i, c := range b {
		if structural[c] {
			return i
		}
	}
	return -1
}

// skipValue returns the index just past the value starting at b[i].
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return i
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			// Jump to the next quote or bracket: the rest cannot change
			// the structure.
			j := indexStructural(b[i:])
			if j < 0 {
				return len(b)
			}
			i += j
			switch b[i] {
			case '"':
				i = skipString(b, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return i
	}
	for i < len(b) {
		switch b[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return i
		}
		i++
	}
	return i
}
