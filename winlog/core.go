package winlog

import (
	"strings"
	"time"
	"unsafe"

	"github.com/vigilsec/vigil/evtx"
)

// The mapping core. Every input (EVTX records, Winlogbeat / Elastic Agent
// JSON, NXLog JSON) is first reduced to a record: the System header fields
// the mapping reads and the event data and user data as name/value strings
// rendered as Windows renders them (what Winlogbeat ships). One mapper then
// writes the ECS document from it; the front ends differ only in where the
// header comes from and which fields of the input they keep.

// record is one Windows event as the mapping sees it.
type record struct {
	sys             evtx.System
	ts              time.Time // @timestamp (zero: none)
	task            string    // the task's display name when the input has it (NXLog Category)
	names, vals     []string  // event data, in order
	udNames, udVals []string  // user data, in order
}

func (r *record) reset() {
	r.sys = evtx.System{}
	r.ts = time.Time{}
	r.task = ""
	r.names, r.vals = r.names[:0], r.vals[:0]
	r.udNames, r.udVals = r.udNames[:0], r.udVals[:0]
}

func (r *record) add(name, val string) {
	r.names = append(r.names, name)
	r.vals = append(r.vals, val)
}

// get returns the event data value of name as shipped ("" when absent).
func (r *record) get(name string) string {
	for i, n := range r.names {
		if len(n) == len(name) && (len(n) == 0 || n[0] == name[0]) && n == name {
			return r.vals[i]
		}
	}
	return ""
}

// val is get with the values Elastic's pipelines remove ("", "-", the zero
// GUID) read as absent.
func (r *record) val(name string) string {
	if v := r.get(name); !dropped(v) {
		return v
	}
	return ""
}

// userData returns the user data value of name ("" when absent or dropped).
func (r *record) userData(name string) string {
	for i, n := range r.udNames {
		if n == name && !dropped(r.udVals[i]) {
			return r.udVals[i]
		}
	}
	return ""
}

// mapper holds the reusable state of one normalisation: the document, the
// record and a scratch arena for rendered strings. Not safe for concurrent
// use.
type mapper struct {
	d   doc
	rec record
	// scratch holds the bytes of strings made during one record (rendered
	// values, lower-cased hashes, split arguments). Strings point into it
	// with unsafe.String; it is only appended to until the next reset, so
	// they stay valid (a reallocation leaves the old array, and the strings
	// in it, untouched) for as long as the document that holds them.
	scratch []byte
	renamed []string // event_data names the mapping renamed away
	sysmon  uint32   // the Sysmon event ID when the Sysmon mapping ran
	// dropDash: event_data drops "-" and zero-GUID values too (Sysmon, 4688).
	dropDash bool
	hk, hv   []string // parsed hashes
	args     []string // split command line (argv)
	// The last file name and its JSON string: every record of a file
	// carries it, escaping it once per file is enough.
	file    string
	fileBuf []byte
}

func (m *mapper) reset() {
	m.d.reset()
	m.rec.reset()
	m.scratch = m.scratch[:0]
	m.renamed = m.renamed[:0]
	m.sysmon = 0
	m.dropDash = false
	m.hk, m.hv = m.hk[:0], m.hv[:0]
}

// fileJSON returns file as a JSON string literal (for a kRaw node),
// escaped once per file. It stays valid until the file changes (a document
// is written before the next record is mapped).
func (m *mapper) fileJSON(file string) string {
	if file != m.file || len(m.fileBuf) == 0 {
		m.file = file
		m.fileBuf = appendStr(m.fileBuf[:0], file)
	}
	return unsafe.String(&m.fileBuf[0], len(m.fileBuf))
}

// str turns scratch[start:] into a string (see scratch).
func (m *mapper) str(start int) string {
	if start == len(m.scratch) {
		return ""
	}
	return unsafe.String(&m.scratch[start], len(m.scratch)-start)
}

// lower returns s lower-cased (ASCII), copying only when it must.
func (m *mapper) lower(s string) string {
	i := 0
	for i < len(s) && (s[i] < 'A' || s[i] > 'Z') {
		i++
	}
	if i == len(s) {
		return s
	}
	start := len(m.scratch)
	for j := 0; j < len(s); j++ {
		c := s[j]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		m.scratch = append(m.scratch, c)
	}
	return m.str(start)
}

// concat returns a+sep+b in the scratch arena.
func (m *mapper) concat(a, sep, b string) string {
	start := len(m.scratch)
	m.scratch = append(m.scratch, a...)
	m.scratch = append(m.scratch, sep...)
	m.scratch = append(m.scratch, b...)
	return m.str(start)
}

// Root-object shorthands for the mapping code.
func (m *mapper) set(path, s string)               { m.d.set(0, path, s) }
func (m *mapper) setStr(path, s string)            { m.d.str(0, path, s) }
func (m *mapper) setInt(path string, n int64)      { m.d.setInt(0, path, n) }
func (m *mapper) setBool(path string, b bool)      { m.d.setBool(0, path, b) }
func (m *mapper) setList(path string, a ...string) { m.d.setList(0, path, a...) }
func (m *mapper) getStr(path string) string        { return m.d.getStr(0, path) }

// addUnique appends s to the string array at path (created when needed)
// unless it is there already or empty.
func (m *mapper) addUnique(path, s string) {
	if s == "" {
		return
	}
	arr := m.d.lookup(0, path)
	if arr == none || m.d.nodes[arr].kind != kArray {
		arr = m.d.array(0, path)
	}
	for c := m.d.nodes[arr].first; c != none; c = m.d.nodes[c].next {
		if n := &m.d.nodes[c]; n.kind == kString && n.s == s {
			return
		}
	}
	m.d.push(arr, s)
}

// Front ends say which fields of the input survive and which the mapper
// sets; see mapRecord.
const (
	fromEVTX = iota
	fromNXLog
	fromBeat
)

// mapRecord writes the ECS document for m.rec into m.d. For Beat input the
// document already holds the input (copied by the front end): fields the
// pipelines only read (host.name, @timestamp, the index) are kept, the
// mapping's fields are set over it, and winlog.event_data loses what the
// pipelines rename away. index is the _index for documents that carry
// none (Beat input sets it itself).
func (m *mapper) mapRecord(from int, file string) {
	d := &m.d
	sys := &m.rec.sys
	dataset := Dataset(sys.Channel)
	beat := from == fromBeat

	if beat {
		ev := d.obj(0, "event")
		if !d.has(ev, "kind") {
			d.set(ev, "kind", "event")
		}
		d.setUintString(ev, "code", uint64(sys.EventID))
		if !d.has(ev, "provider") {
			d.str(ev, "provider", sys.ProviderName)
		}
		if !d.has(ev, "dataset") {
			d.set(ev, "dataset", dataset)
		}
		host := d.obj(0, "host")
		if !d.has(host, "name") {
			d.str(host, "name", sys.Computer)
		}
		d.set(host, "os.type", "windows")
		if !d.has(host, "os.family") {
			d.set(host, "os.family", "windows")
		}
		if file != "" && !d.has(0, "log.file.path") {
			d.set(0, "log.file.path", file)
		}
		if !d.has(0, "log.level") {
			d.set(0, "log.level", levelName(sys.Level))
		}
	} else {
		// A fresh document: members are appended without searching.
		d.addStr(0, "_index", indexFor(dataset))
		if !m.rec.ts.IsZero() {
			d.addKind(0, "@timestamp", kTime, "", m.rec.ts.UnixNano())
		}
		ev := d.add(0, "event", kObject)
		d.addStr(ev, "kind", "event")
		d.addKind(ev, "code", kUint, "", int64(sys.EventID))
		d.addStr(ev, "provider", sys.ProviderName)
		d.addStr(ev, "dataset", dataset)
		host := d.add(0, "host", kObject)
		d.addStr(host, "name", sys.Computer)
		// host.os and data_stream are constant per dataset and nothing in
		// the mapping changes them: JSON literals, not objects of nodes.
		d.addKind(host, "os", kRaw, hostOSJSON, 0)
		log := d.add(0, "log", kObject)
		if file != "" {
			d.addKind(d.add(log, "file", kObject), "path", kRaw, m.fileJSON(file), 0)
		}
		d.addStr(log, "level", levelName(sys.Level))
		d.addKind(0, "data_stream", kRaw, dataStreamJSON(dataset), 0)
	}
	ev := d.obj(0, "event")

	isSysmon := dataset == SysmonDataset
	isSecurity := dataset == SecurityDataset
	m.dropDash = isSysmon || (isSecurity && sys.EventID == 4688)
	switch {
	case isSysmon && sysmonMapped(sys.EventID):
		m.mapSysmon(sys.EventID)
		m.sysmon = sys.EventID
	case isSecurity && sys.EventID == 4688:
		m.mapSecurity4688()
		m.renamed = append(m.renamed, security4688Renamed...)
	case isSecurity && securityMapped[sys.EventID]:
		m.mapSecurity(sys.EventID)
	}
	if isSysmon && sys.UserID != "" {
		m.set("user.id", sys.UserID)
	}
	if isSecurity {
		if o := outcome(sys.Keywords); o != "" {
			d.set(ev, "outcome", o)
		}
	}
}

// hostOSJSON is host.os of every document.
const hostOSJSON = `{"type":"windows","family":"windows"}`

// dataStreamJSON is data_stream for dataset (one of Dataset's).
func dataStreamJSON(dataset string) string {
	switch dataset {
	case SecurityDataset:
		return `{"type":"logs","dataset":"system.security","namespace":"default"}`
	case SysmonDataset:
		return `{"type":"logs","dataset":"windows.sysmon_operational","namespace":"default"}`
	case ForwardedDataset:
		return `{"type":"logs","dataset":"windows.forwarded","namespace":"default"}`
	}
	return `{"type":"logs","dataset":` + string(appendStr(nil, dataset)) + `,"namespace":"default"}`
}

// indexFor is the data stream a document of dataset is written to.
func indexFor(dataset string) string {
	switch dataset {
	case SecurityDataset:
		return "logs-system.security-default"
	case SysmonDataset:
		return "logs-windows.sysmon_operational-default"
	}
	return "logs-windows.forwarded-default"
}

// writeWinlog writes the winlog.* header for EVTX and NXLog input (Beat
// input brings its own).
func (m *mapper) writeWinlog() nodeID {
	d := &m.d
	sys := &m.rec.sys
	// The mapping may have made winlog (logon, event_data, scheduled_task)
	// but never these members, so they are appended without searching.
	w := d.obj(0, "winlog")
	d.addStr(w, "channel", sys.Channel)
	d.addKind(w, "event_id", kUint, "", int64(sys.EventID))
	d.addStr(w, "provider_name", sys.ProviderName)
	if sys.ProviderGUID != "" {
		d.addKind(w, "provider_guid", kUpper, sys.ProviderGUID, 0)
	}
	d.addStr(w, "computer_name", sys.Computer)
	d.addKind(w, "record_id", kUint, "", int64(sys.EventRecordID))
	d.addKind(w, "version", kInt, "", int64(sys.Version))
	d.addStr(w, "opcode", opcodeName(sys.Opcode))
	d.addStr(w, "level", levelName(sys.Level))
	if t := first(m.rec.task, taskName(sys)); t != "" {
		d.addStr(w, "task", t)
	} else {
		d.addKind(w, "task", kUint, "", int64(sys.Task))
	}
	if sys.Keywords&(kwAuditSuccess|kwAuditFailure|kwClassic) != 0 {
		kw := d.add(w, "keywords", kArray)
		if sys.Keywords&kwAuditSuccess != 0 {
			d.push(kw, "Audit Success")
		}
		if sys.Keywords&kwAuditFailure != 0 {
			d.push(kw, "Audit Failure")
		}
		if sys.Keywords&kwClassic != 0 {
			d.push(kw, "Classic")
		}
		d.addStr(w, "outcome", outcome(sys.Keywords))
	}
	if !sys.TimeCreated.IsZero() {
		d.addKind(w, "time_created", kTime, "", sys.TimeCreated.UnixNano())
	}
	if sys.ProcessID != 0 || sys.ThreadID != 0 {
		p := d.add(w, "process", kObject)
		d.addKind(p, "pid", kInt, "", int64(sys.ProcessID))
		d.addKind(d.add(p, "thread", kObject), "id", kInt, "", int64(sys.ThreadID))
	}
	if sys.UserID != "" {
		d.addStr(d.add(w, "user", kObject), "identifier", sys.UserID)
	}
	if sys.ActivityID != "" {
		d.addKind(w, "activity_id", kUpper, sys.ActivityID, 0)
	}
	if sys.RelatedActivityID != "" {
		d.addKind(w, "related_activity_id", kUpper, sys.RelatedActivityID, 0)
	}
	return w
}

// keepEventData reports whether an event_data entry stays in
// winlog.event_data after the mapping: the Sysmon pipeline drops empty, "-"
// and zero-GUID values (its first script), and so does the newest 4688
// script (Elastic's forwarded 4688 fixture); other Security events keep
// "-" (the 4728/4732 fixtures). Every pipeline drops the names it renames.
func (m *mapper) keepEventData(name, v string) bool {
	if m.dropDash {
		if dropped(v) {
			return false
		}
	} else if v == "" {
		return false
	}
	for _, r := range m.renamed {
		if r == name {
			return false
		}
	}
	return m.sysmon == 0 || !sysmonRemovedName(m.sysmon, name)
}

// writeEventData writes winlog.event_data and winlog.user_data from the
// record (EVTX and NXLog input).
func (m *mapper) writeEventData(w nodeID) {
	d := &m.d
	r := &m.rec
	if len(r.names) > 0 {
		ed := d.objKey(w, "event_data")
		// A 64-bit filter on the names spares the search for an existing
		// key (names repeat only in odd records; the mapping may have put
		// a list there) in the common case.
		var seen uint64
		for c := d.nodes[ed].first; c != none; c = d.nodes[c].next {
			seen |= nameBit(d.nodes[c].key)
		}
		for i, n := range r.names {
			if !m.keepEventData(n, r.vals[i]) {
				continue
			}
			if bit := nameBit(n); seen&bit == 0 {
				seen |= bit
				d.setKind(d.add(ed, n, kDeleted), kString, r.vals[i], 0)
			} else {
				d.setKey(ed, n, r.vals[i])
			}
		}
	}
	if len(r.udNames) > 0 {
		u := d.objKey(w, "user_data")
		for i, n := range r.udNames {
			d.setKey(u, n, r.udVals[i])
		}
	}
}

// nameBit is a one-bit hash of a key for writeEventData's filter.
func nameBit(s string) uint64 {
	if s == "" {
		return 1
	}
	return 1 << ((uint(len(s))*7 + uint(s[0])*3 + uint(s[len(s)-1])) & 63)
}

// dropped reports the event_data values Elastic's pipelines remove.
func dropped(v string) bool {
	return v == "" || v == "-" || v == "{00000000-0000-0000-0000-000000000000}"
}

// afterBackslash is the text after the last '\' (the pipelines' name rule),
// or "" when there is none.
func afterBackslash(p string) string {
	i := strings.LastIndexByte(p, '\\')
	if i < 0 {
		return ""
	}
	return p[i+1:]
}
