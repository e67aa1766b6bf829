package winlog

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/vigilsec/vigil/event"
)

// Windows events that arrive as JSON go through the same mapping core as
// EVTX records:
//
//   - Winlogbeat / Elastic Agent documents (winlog.channel, winlog.event_id,
//     winlog.event_data.*, ... as shipped to winlogbeat-* or to
//     logs-windows.forwarded-*): every field of the input is kept, and the
//     ECS mapping of Elastic's pipelines is applied over it, as the ingest
//     pipeline would.
//   - NXLog JSON (im_msvistalog + to_json, as in OTRF's Security-Datasets):
//     flat keys EventID, Channel, SourceName, Hostname, EventTime, ... with
//     the event data fields beside them. The document is built as for an
//     EVTX record (winlog.* from the NXLog header keys).

// Compiled paths of the Winlogbeat header fields (nested or dotted keys).
var (
	pChannel     = event.CompilePath("winlog.channel")
	pEventID     = event.CompilePath("winlog.event_id")
	pProvider    = event.CompilePath("winlog.provider_name")
	pComputer    = event.CompilePath("winlog.computer_name")
	pUserID      = event.CompilePath("winlog.user.identifier")
	pKeywords    = event.CompilePath("winlog.keywords")
	pTimeCreated = event.CompilePath("winlog.time_created")
	pTimestamp   = event.CompilePath("@timestamp")
	pIndex       = event.CompilePath("_index")
	pDataset     = event.CompilePath("data_stream.dataset")
	pAgentType   = event.CompilePath("agent.type")
	pAgentVer    = event.CompilePath("agent.version")
	pLevel       = event.CompilePath("winlog.level")
)

// IsBeatJSON reports whether line looks like a Winlogbeat / Elastic Agent
// Windows event log document: a JSON object with a winlog object (or
// dotted winlog.* keys) holding channel and event_id. It is a cheap byte
// scan for format detection; NormalizeBeat does the real checks.
func IsBeatJSON(line []byte) bool {
	line = trimJSONStart(line)
	if len(line) == 0 || line[0] != '{' {
		return false
	}
	return (bytes.Contains(line, []byte(`"winlog"`)) || bytes.Contains(line, []byte(`"winlog.`))) &&
		bytes.Contains(line, []byte(`event_id"`)) && bytes.Contains(line, []byte(`channel"`))
}

// IsNXLogJSON reports whether line looks like an NXLog Windows event log
// record: a JSON object with the flat keys EventID and Channel and one of
// SourceName, EventTime or Hostname, and no winlog object.
func IsNXLogJSON(line []byte) bool {
	line = trimJSONStart(line)
	if len(line) == 0 || line[0] != '{' {
		return false
	}
	return bytes.Contains(line, []byte(`"EventID"`)) && bytes.Contains(line, []byte(`"Channel"`)) &&
		(bytes.Contains(line, []byte(`"SourceName"`)) || bytes.Contains(line, []byte(`"EventTime"`)) ||
			bytes.Contains(line, []byte(`"Hostname"`))) &&
		!bytes.Contains(line, []byte(`"winlog"`))
}

// trimJSONStart skips a UTF-8 BOM and leading whitespace.
func trimJSONStart(b []byte) []byte {
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\r' || b[0] == '\n') {
		b = b[1:]
	}
	return b
}

// NormalizeBeat appends the ECS document for one Winlogbeat / Elastic Agent
// JSON document to dst (no trailing newline). file, when not empty, is
// written to log.file.path unless the input has one.
func NormalizeBeat(dst, line []byte, file string) ([]byte, error) {
	n := normalizers.Get().(*Normalizer)
	out, err := n.AppendBeat(dst, line, file)
	normalizers.Put(n)
	return out, err
}

// NormalizeNXLog appends the ECS document for one NXLog JSON record to dst
// (no trailing newline). file, when not empty, goes to log.file.path.
func NormalizeNXLog(dst, line []byte, file string) ([]byte, error) {
	n := normalizers.Get().(*Normalizer)
	out, err := n.AppendNXLog(dst, line, file)
	normalizers.Put(n)
	return out, err
}

// jsonText is a scalar's text: a string as is, a number or boolean as
// written in the JSON; ok is false for null, objects and arrays.
func (m *mapper) jsonText(v event.Value) (string, bool) {
	switch v.Kind {
	case event.String:
		return v.S, true
	case event.Int:
		start := len(m.scratch)
		m.scratch = strconv.AppendInt(m.scratch, v.I, 10)
		return m.str(start), true
	case event.Float:
		start := len(m.scratch)
		m.scratch = strconv.AppendFloat(m.scratch, v.F, 'g', -1, 64)
		return m.str(start), true
	case event.Bool:
		return boolText(v.B), true
	}
	return "", false
}

// first returns the text of the first non-null value at p.
func (m *mapper) firstText(doc *event.Doc, p *event.Path) string {
	v, ok := doc.First(p)
	if !ok {
		return ""
	}
	s, _ := m.jsonText(v)
	return s
}

// parseEventID reads an event ID given as a number or a decimal string.
func parseEventID(s string) (uint32, bool) {
	n, err := strconv.ParseUint(strings.TrimSpace(s), 10, 32)
	return uint32(n), err == nil
}

// parseJSONTime reads the time formats Winlogbeat, Logstash and NXLog write.
func parseJSONTime(s string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// AppendBeat appends the ECS document for a Winlogbeat / Elastic Agent
// JSON document to dst.
func (n *Normalizer) AppendBeat(dst, line []byte, file string) ([]byte, error) {
	m := &n.m
	m.reset()
	doc, err := n.p.Parse(line)
	if err != nil {
		return dst, fmt.Errorf("winlog: %w", err)
	}
	m.d.copyNode(0, doc.Root())

	r := &m.rec
	s := &r.sys
	s.Channel = m.firstText(doc, pChannel)
	idText := m.firstText(doc, pEventID)
	id, ok := parseEventID(idText)
	if !ok {
		return dst, fmt.Errorf("winlog: not a Winlogbeat document: winlog.event_id %q", idText)
	}
	s.EventID = id
	s.ProviderName = m.firstText(doc, pProvider)
	s.Computer = m.firstText(doc, pComputer)
	s.UserID = m.firstText(doc, pUserID)
	if vals, _ := doc.Values(pKeywords); len(vals) > 0 {
		for _, v := range vals {
			switch v.S {
			case "Audit Success":
				s.Keywords |= kwAuditSuccess
			case "Audit Failure":
				s.Keywords |= kwAuditFailure
			case "Classic":
				s.Keywords |= kwClassic
			}
		}
	}
	s.Level = levelNumber(m.firstText(doc, pLevel))
	if t, ok := parseJSONTime(m.firstText(doc, pTimeCreated)); ok {
		s.TimeCreated = t
	}

	// Event data and user data, from the nested winlog object.
	w := m.d.find(0, "winlog")
	var ed, ud nodeID = none, none
	if w != none && m.d.nodes[w].kind == kObject {
		ed, ud = m.d.find(w, "event_data"), m.d.find(w, "user_data")
	}
	m.loadBeatData(ed, &r.names, &r.vals)
	m.loadBeatData(ud, &r.udNames, &r.udVals)

	// The index: kept when the input has one (or a data stream); a
	// Winlogbeat document goes to winlogbeat-<version>, anything else
	// where the Agent routes its channel.
	if !hasValue(doc, pIndex) && !hasValue(doc, pDataset) {
		if at := m.firstText(doc, pAgentType); at == "winlogbeat" {
			ver := m.firstText(doc, pAgentVer)
			if ver == "" {
				ver = "unknown"
			}
			m.set("_index", m.concat("winlogbeat", "-", ver))
		} else {
			ds := Dataset(s.Channel)
			m.set("_index", indexFor(ds))
			o := m.d.obj(0, "data_stream")
			m.d.set(o, "type", "logs")
			m.d.set(o, "dataset", ds)
			m.d.set(o, "namespace", "default")
		}
	}
	if !hasValue(doc, pTimestamp) && !s.TimeCreated.IsZero() {
		m.d.setTime(0, "@timestamp", s.TimeCreated)
	}

	m.mapRecord(fromBeat, file)

	// The pipelines remove the event_data entries they rename and the
	// empty ones; values the mapping itself put there (lists) stay.
	if ed != none && m.d.nodes[ed].kind == kObject {
		for c := m.d.nodes[ed].first; c != none; c = m.d.nodes[c].next {
			if cn := &m.d.nodes[c]; cn.kind == kString && !m.keepEventData(cn.key, cn.s) {
				cn.kind = kDeleted
			}
		}
	}
	return m.d.appendJSON(dst), nil
}

// loadBeatData reads the scalar members of an event_data / user_data object.
func (m *mapper) loadBeatData(obj nodeID, names, vals *[]string) {
	if obj == none || m.d.nodes[obj].kind != kObject {
		return
	}
	for c := m.d.nodes[obj].first; c != none; c = m.d.nodes[c].next {
		cn := &m.d.nodes[c]
		switch cn.kind {
		case kString, kRaw:
			if cn.kind == kRaw && cn.s == "null" {
				continue
			}
			*names = append(*names, cn.key)
			*vals = append(*vals, cn.s)
		}
	}
}

func hasValue(doc *event.Doc, p *event.Path) bool {
	_, ok := doc.First(p)
	return ok
}

// levelNumber is the Windows level of a Winlogbeat level name.
func levelNumber(s string) uint8 {
	switch strings.ToLower(s) {
	case "critical":
		return 1
	case "error":
		return 2
	case "warning":
		return 3
	case "verbose":
		return 5
	}
	return 4
}

// nxlogHeader lists the keys im_msvistalog (and the usual shippers) write
// besides the event data: they are not copied to winlog.event_data.
var nxlogHeader = map[string]bool{
	"EventTime": true, "EventReceivedTime": true, "Hostname": true, "Keywords": true, "EventType": true,
	"SeverityValue": true, "Severity": true, "EventID": true, "SourceName": true, "ProviderGuid": true,
	"Version": true, "Task": true, "OpcodeValue": true, "Opcode": true, "RecordNumber": true,
	"ActivityID": true, "RelatedActivityID": true, "ExecutionProcessID": true, "ThreadID": true,
	"Channel": true, "Domain": true, "AccountName": true, "UserID": true, "AccountType": true,
	"Category": true, "Message": true, "SourceModuleName": true, "SourceModuleType": true,
	"ERROR_EVT_UNRESOLVED": true,
	// Added by shippers (Logstash, Kafka): not part of the event.
	"@timestamp": true, "@version": true, "host": true, "port": true, "tags": true,
}

// AppendNXLog appends the ECS document for an NXLog JSON record to dst.
func (n *Normalizer) AppendNXLog(dst, line []byte, file string) ([]byte, error) {
	m := &n.m
	m.reset()
	doc, err := n.p.Parse(line)
	if err != nil {
		return dst, fmt.Errorf("winlog: %w", err)
	}
	r := &m.rec
	s := &r.sys
	var idText, eventTime, stamp, message, category string
	var severity int64 = 2
	doc.Root().Members(func(key string, v event.Node) {
		k := v.Kind()
		if k == event.NodeObject || k == event.NodeArray || k == event.NodeNull {
			return
		}
		text := v.Text()
		if !nxlogHeader[key] {
			r.add(key, text)
			return
		}
		switch key {
		case "EventID":
			idText = text
		case "Channel":
			s.Channel = text
		case "SourceName":
			s.ProviderName = text
		case "ProviderGuid":
			s.ProviderGUID = text
		case "Hostname":
			s.Computer = text
		case "RecordNumber":
			s.EventRecordID, _ = strconv.ParseUint(text, 10, 64)
		case "Version":
			n, _ := strconv.ParseUint(text, 10, 8)
			s.Version = uint8(n)
		case "Task":
			n, _ := strconv.ParseUint(text, 10, 16)
			s.Task = uint16(n)
		case "OpcodeValue":
			n, _ := strconv.ParseUint(text, 10, 8)
			s.Opcode = uint8(n)
		case "Keywords":
			// NXLog writes the 64-bit mask as a signed integer.
			if n, err := strconv.ParseInt(text, 10, 64); err == nil {
				s.Keywords = uint64(n)
			} else if u, err := strconv.ParseUint(strings.TrimPrefix(text, "0x"), 16, 64); err == nil {
				s.Keywords = u
			}
		case "ExecutionProcessID":
			n, _ := strconv.ParseUint(text, 10, 32)
			s.ProcessID = uint32(n)
		case "ThreadID":
			n, _ := strconv.ParseUint(text, 10, 32)
			s.ThreadID = uint32(n)
		case "UserID":
			s.UserID = text
		case "ActivityID":
			s.ActivityID = text
		case "RelatedActivityID":
			s.RelatedActivityID = text
		case "EventTime":
			eventTime = text
		case "@timestamp":
			stamp = text
		case "SeverityValue":
			severity, _ = strconv.ParseInt(text, 10, 64)
		case "Message":
			message = text
		case "Category":
			category = text
		}
	})
	id, ok := parseEventID(idText)
	if !ok || s.Channel == "" {
		return dst, fmt.Errorf("winlog: not an NXLog Windows event: EventID %q, Channel %q", idText, s.Channel)
	}
	s.EventID = id
	// NXLog severities (1 DEBUG .. 5 CRITICAL) back to Windows levels.
	switch severity {
	case 1:
		s.Level = 5
	case 3:
		s.Level = 3
	case 4:
		s.Level = 2
	case 5:
		s.Level = 1
	default:
		s.Level = 4
	}
	// EventTime is the collector's local time without a zone unless NXLog
	// was told to write ISO-8601; a shipper's @timestamp (UTC) is preferred
	// over a zoneless time, which is then read as UTC.
	if t, err := time.Parse(time.RFC3339Nano, eventTime); err == nil {
		s.TimeCreated = t
	} else if t, ok := parseJSONTime(stamp); ok {
		s.TimeCreated = t
	} else if t, ok := parseJSONTime(eventTime); ok {
		s.TimeCreated = t
	}
	r.ts = s.TimeCreated
	r.task = category

	m.mapRecord(fromNXLog, file)
	w := m.writeWinlog()
	m.writeEventData(w)
	if message != "" {
		m.set("message", message)
	}
	return m.d.appendJSON(dst), nil
}
