// Package winlog turns Windows event log records (from package evtx) into
// the ECS documents Elastic's Windows and System integrations produce: first
// the Winlogbeat / Elastic Agent `winlog.*` shape, then the ECS mapping the
// ingest pipelines apply: Sysmon events 1 to 29 and 255, the IDs of the
// pipeline's table (sysmon.go), and Security events 4688, 1102,
// 4624, 4625, 4648, 4672, 4697, 4698, 4702, 4720, 4722, 4724, 4725, 4726,
// 4728, 4732, 4738, 5140 and 5145 (security.go). Other event IDs keep the
// winlog shape with event.code/kind/provider only.
//
// Data streams: Elastic Agent routes the Security channel to
// logs-system.security-default and Microsoft-Windows-Sysmon/Operational to
// logs-windows.sysmon_operational-default; every other channel goes to
// logs-windows.forwarded-default, the data stream of the Windows
// integration's "forwarded" input, which is where Elastic's rules look for
// Windows events of other channels. Documents carry both `_index` and
// `data_stream.*`, so rule index patterns gate them as in Elasticsearch.
//
// host.os.type/family "windows" are set on every document: Elastic's
// pipelines do not set them (the agent's host metadata does) and Windows
// rules depend on them.
package winlog

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"

	"github.com/vigilsec/vigil/event"
	"github.com/vigilsec/vigil/evtx"
)

// Channels and the data streams their documents go to.
const (
	SecurityChannel = "Security"
	SysmonChannel   = "Microsoft-Windows-Sysmon/Operational"

	SecurityDataset  = "system.security"
	SysmonDataset    = "windows.sysmon_operational"
	ForwardedDataset = "windows.forwarded"
)

// Dataset returns the data_stream.dataset for a channel.
func Dataset(channel string) string {
	switch {
	case strings.EqualFold(channel, SecurityChannel):
		return SecurityDataset
	case strings.EqualFold(channel, SysmonChannel):
		return SysmonDataset
	}
	return ForwardedDataset
}

// Normalizer normalises records one at a time into caller-owned buffers,
// reusing its own state from record to record: once warmed up it
// allocates nothing per record. It is not safe for concurrent use; use one
// per goroutine (the package-level functions keep a pool of them).
type Normalizer struct {
	m   mapper
	p   event.Parser
	buf []byte // Normalize's output before it is copied out
}

var normalizers = sync.Pool{New: func() any { return new(Normalizer) }}

// Normalize returns one ECS JSON document (no trailing newline) for rec.
// file names the source file in log.file.path; it may be empty.
func Normalize(rec *evtx.Record, file string) ([]byte, error) {
	n := normalizers.Get().(*Normalizer)
	var err error
	n.buf, err = n.AppendEVTX(n.buf[:0], rec, file)
	var out []byte
	if err == nil {
		out = append([]byte(nil), n.buf...) // one allocation of the exact size
	}
	normalizers.Put(n)
	return out, err
}

// NormalizeAppend is Normalize appending the document to dst.
func NormalizeAppend(dst []byte, rec *evtx.Record, file string) ([]byte, error) {
	n := normalizers.Get().(*Normalizer)
	out, err := n.AppendEVTX(dst, rec, file)
	normalizers.Put(n)
	return out, err
}

// AppendEVTX appends the ECS JSON document of an EVTX record to dst.
func (n *Normalizer) AppendEVTX(dst []byte, rec *evtx.Record, file string) ([]byte, error) {
	m := &n.m
	m.reset()
	if err := m.loadEVTX(rec); err != nil {
		return dst, err
	}
	m.mapRecord(fromEVTX, file)
	w := m.writeWinlog()
	m.writeEventData(w)
	return m.d.appendJSON(dst), nil
}

// loadEVTX fills m.rec from an EVTX record's element tree in one walk,
// rendering values into the scratch arena.
func (m *mapper) loadEVTX(rec *evtx.Record) error {
	if rec == nil || rec.Root == nil {
		return fmt.Errorf("winlog: no event")
	}
	var sysEl, edEl, udEl *evtx.Element
	for _, c := range rec.Root.Children {
		switch c.Name {
		case "System":
			if sysEl == nil {
				sysEl = c
			}
		case "EventData":
			if edEl == nil {
				edEl = c
			}
		case "UserData":
			if udEl == nil {
				udEl = c
			}
		}
	}
	if sysEl == nil {
		return fmt.Errorf("winlog: record %d has no System element", rec.ID)
	}
	r := &m.rec
	s := &r.sys
	for _, c := range sysEl.Children {
		switch c.Name {
		case "Provider":
			for _, a := range c.Attrs {
				switch a.Name {
				case "Name":
					s.ProviderName = m.render(a.Value)
				case "Guid":
					s.ProviderGUID = m.render(a.Value)
				case "EventSourceName":
					s.EventSourceName = m.render(a.Value)
				}
			}
		case "EventID":
			s.EventID = uint32(uintOf(c.Value()))
		case "Version":
			s.Version = uint8(uintOf(c.Value()))
		case "Level":
			s.Level = uint8(uintOf(c.Value()))
		case "Task":
			s.Task = uint16(uintOf(c.Value()))
		case "Opcode":
			s.Opcode = uint8(uintOf(c.Value()))
		case "Keywords":
			s.Keywords = uintOf(c.Value())
		case "EventRecordID":
			s.EventRecordID = uintOf(c.Value())
		case "TimeCreated":
			if v, ok := c.Attr("SystemTime"); ok {
				s.TimeCreated, _ = v.Time()
			}
		case "Correlation":
			for _, a := range c.Attrs {
				switch a.Name {
				case "ActivityID":
					s.ActivityID = m.render(a.Value)
				case "RelatedActivityID":
					s.RelatedActivityID = m.render(a.Value)
				}
			}
		case "Execution":
			for _, a := range c.Attrs {
				switch a.Name {
				case "ProcessID":
					s.ProcessID = uint32(uintOf(a.Value))
				case "ThreadID":
					s.ThreadID = uint32(uintOf(a.Value))
				}
			}
		case "Channel":
			s.Channel = m.text(c)
		case "Computer":
			s.Computer = m.text(c)
		case "Security":
			if v, ok := c.Attr("UserID"); ok {
				s.UserID = m.render(v)
			}
		}
	}
	r.ts = s.TimeCreated
	if r.ts.IsZero() {
		r.ts = rec.Time
	}

	// Event data, rendered as Winlogbeat does (all values strings); Data
	// elements without a Name are param1, param2, ...
	if edEl != nil {
		nData := 0
		for _, c := range edEl.Children {
			name := c.Name
			if c.Name == "Data" {
				nData++
				name = ""
				if v, ok := c.Attr("Name"); ok {
					name = m.render(v)
				}
				if name == "" {
					start := len(m.scratch)
					m.scratch = append(m.scratch, "param"...)
					m.scratch = strconv.AppendInt(m.scratch, int64(nData), 10)
					name = m.str(start)
				}
			}
			if v, ok := m.renderOK(c.Value()); ok {
				r.add(name, v)
			}
		}
	}
	// User data: the children of its first element.
	if udEl != nil && len(udEl.Children) > 0 {
		for _, c := range udEl.Children[0].Children {
			if v, ok := m.renderOK(c.Value()); ok {
				r.udNames = append(r.udNames, c.Name)
				r.udVals = append(r.udVals, v)
			}
		}
	}
	return nil
}

// text is an element's content as one string.
func (m *mapper) text(e *evtx.Element) string {
	if len(e.Values) == 1 && (e.Values[0].Type == evtx.StringType || e.Values[0].Type == evtx.AnsiStringType) {
		return e.Values[0].Str
	}
	return e.Text()
}

func uintOf(v evtx.Value) uint64 {
	n, _ := v.Uint()
	return n
}

// render renders v into the scratch arena ("" for null).
func (m *mapper) render(v evtx.Value) string {
	s, _ := m.renderOK(v)
	return s
}

// renderOK is render reporting whether v was non-null; strings are not copied.
func (m *mapper) renderOK(v evtx.Value) (string, bool) {
	switch v.Type {
	case evtx.NullType:
		return "", false
	case evtx.StringType, evtx.AnsiStringType:
		return v.Str, true
	}
	start := len(m.scratch)
	var ok bool
	m.scratch, ok = appendRender(m.scratch, v)
	return m.str(start), ok
}

// Render renders a typed value as Windows' XML rendering (which Winlogbeat
// reads) writes it: integers in decimal, hex types as 0x with no padding,
// GUIDs upper-case in braces, SIDs as S-1-..., times as ISO-8601 with 7
// fractional digits, booleans as true/false, binary as upper-case hex. ok is
// false for a null value. Arrays are joined with commas.
func Render(v evtx.Value) (string, bool) {
	switch v.Type {
	case evtx.NullType:
		return "", false
	case evtx.StringType, evtx.AnsiStringType:
		return v.Str, true
	}
	b, ok := appendRender(nil, v)
	return string(b), ok
}

const hexUpper = "0123456789ABCDEF"

func appendHex(b []byte, x uint64, digits int) []byte {
	for i := digits - 1; i >= 0; i-- {
		b = append(b, hexUpper[(x>>(4*uint(i)))&0xf])
	}
	return b
}

// appendRender appends Render's rendering of v to b.
func appendRender(b []byte, v evtx.Value) ([]byte, bool) {
	switch v.Type {
	case evtx.NullType:
		return b, false
	case evtx.StringType, evtx.AnsiStringType:
		return append(b, v.Str...), true
	case evtx.Int8Type, evtx.Int16Type, evtx.Int32Type, evtx.Int64Type:
		return strconv.AppendInt(b, int64(v.Num), 10), true
	case evtx.Uint8Type, evtx.Uint16Type, evtx.Uint32Type, evtx.Uint64Type:
		return strconv.AppendUint(b, v.Num, 10), true
	case evtx.Hex32Type, evtx.Hex64Type, evtx.SizeTType:
		return strconv.AppendUint(append(b, "0x"...), v.Num, 16), true
	case evtx.GUIDType:
		r := v.Raw
		if len(r) < 16 {
			return b, true
		}
		b = append(b, '{')
		b = appendHex(b, uint64(binary.LittleEndian.Uint32(r)), 8)
		b = append(b, '-')
		b = appendHex(b, uint64(binary.LittleEndian.Uint16(r[4:])), 4)
		b = append(b, '-')
		b = appendHex(b, uint64(binary.LittleEndian.Uint16(r[6:])), 4)
		b = append(b, '-')
		for i := 8; i < 16; i++ {
			if i == 10 {
				b = append(b, '-')
			}
			b = append(b, hexUpper[r[i]>>4], hexUpper[r[i]&0xf])
		}
		return append(b, '}'), true
	case evtx.SIDType:
		r := v.Raw
		if len(r) < 8 {
			return b, true
		}
		var auth uint64
		for _, c := range r[2:8] {
			auth = auth<<8 | uint64(c)
		}
		b = append(b, "S-"...)
		b = strconv.AppendUint(b, uint64(r[0]), 10)
		b = append(b, '-')
		b = strconv.AppendUint(b, auth, 10)
		for i := 0; i < int(r[1]) && 8+4*i+4 <= len(r); i++ {
			b = append(b, '-')
			b = strconv.AppendUint(b, uint64(binary.LittleEndian.Uint32(r[8+4*i:])), 10)
		}
		return b, true
	case evtx.BinaryType:
		for _, c := range v.Raw {
			b = append(b, hexUpper[c>>4], hexUpper[c&0xf])
		}
		return b, true
	case evtx.BoolType:
		if v.Num != 0 {
			return append(b, "true"...), true
		}
		return append(b, "false"...), true
	case evtx.Real32Type:
		return strconv.AppendFloat(b, float64(math.Float32frombits(uint32(v.Num))), 'g', -1, 32), true
	case evtx.Real64Type:
		return strconv.AppendFloat(b, math.Float64frombits(v.Num), 'g', -1, 64), true
	case evtx.FileTimeType, evtx.SysTimeType:
		t, ok := v.Time()
		if !ok {
			return b, false
		}
		return t.UTC().AppendFormat(b, "2006-01-02T15:04:05.0000000Z"), true
	}
	if v.Type&evtx.ArrayFlag != 0 {
		first := true
		for _, it := range v.Items() {
			if it.Type == evtx.NullType {
				continue
			}
			if !first {
				b = append(b, ',')
			}
			first = false
			b, _ = appendRender(b, it)
		}
		return b, true
	}
	// Nested XML and the rest: the evtx rendering is Windows'.
	return append(b, v.String()...), true
}

func levelName(l uint8) string {
	switch l {
	case 1:
		return "critical"
	case 2:
		return "error"
	case 3:
		return "warning"
	case 5:
		return "verbose"
	}
	return "information" // 0 (LogAlways, as Security events use) and 4
}

func opcodeName(o uint8) string {
	switch o {
	case 0:
		return "Info"
	case 1:
		return "Start"
	case 2:
		return "Stop"
	case 3:
		return "DCStart"
	case 4:
		return "DCStop"
	case 7:
		return "Resume"
	case 8:
		return "Suspend"
	case 9:
		return "Send"
	case 240:
		return "Receive"
	}
	return strconv.Itoa(int(o))
}

// taskName is the task's display name where known (the message catalogue is
// not available off Windows), else "" (the number is written).
func taskName(sys *evtx.System) string {
	switch {
	case sys.ProviderName == "Microsoft-Windows-Sysmon" && sys.Task == 1:
		return "Process Create (rule: ProcessCreate)"
	case sys.ProviderName == "Microsoft-Windows-Security-Auditing":
		switch sys.Task {
		case 13312:
			return "Process Creation"
		case 13313:
			return "Process Termination"
		case 13824:
			return "User Account Management"
		case 13826:
			return "Security Group Management"
		case 12544:
			return "Logon"
		case 12800:
			return "File System"
		}
	}
	return ""
}

const (
	kwAuditFailure = 0x0010000000000000
	kwAuditSuccess = 0x0020000000000000
	kwClassic      = 0x0080000000000000
)

func outcome(k uint64) string {
	switch {
	case k&kwAuditSuccess != 0:
		return "success"
	case k&kwAuditFailure != 0:
		return "failure"
	}
	return ""
}

// parsePID decodes a pid as Java's Long.decode does (decimal or 0x hex).
func parsePID(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, false
	}
	var n uint64
	var err error
	if strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X") {
		n, err = strconv.ParseUint(s[2:], 16, 63)
	} else {
		n, err = strconv.ParseUint(s, 10, 63)
	}
	return int64(n), err == nil
}

// security4688Renamed is what the 4688 script renames away from event_data.
var security4688Renamed = []string{"NewProcessId", "NewProcessName", "ParentProcessName"}

func (m *mapper) mapSecurity4688() {
	d := &m.d
	r := &m.rec
	m.setList("event.category", "process")
	m.setList("event.type", "start")
	m.set("event.action", "created-process")

	p := d.obj(0, "process")
	exe := r.get("NewProcessName")
	if cl := r.get("CommandLine"); cl != "" {
		m.split4688(d.array(p, "args"), cl)
		d.set(p, "command_line", cl)
	}
	d.str(p, "executable", exe)
	d.str(p, "name", afterBackslash(exe))
	if pid, ok := parsePID(r.get("NewProcessId")); ok {
		d.setInt(p, "pid", pid)
	}
	pp := d.obj(p, "parent")
	if pexe := r.get("ParentProcessName"); pexe != "" && pexe != "-" {
		d.set(pp, "executable", pexe)
		d.str(pp, "name", afterBackslash(pexe))
	}
	if pid, ok := parsePID(r.get("ProcessId")); ok {
		d.setInt(pp, "pid", pid)
	}

	u := d.obj(0, "user")
	d.str(u, "domain", r.val("SubjectDomainName"))
	d.str(u, "id", r.val("SubjectUserSid"))
	subject := r.val("SubjectUserName")
	d.str(u, "name", subject)
	eff := d.obj(u, "effective")
	d.str(eff, "domain", r.val("TargetDomainName"))
	d.str(eff, "id", r.val("TargetUserSid"))
	target := r.val("TargetUserName")
	d.str(eff, "name", target)
	m.addUnique("related.user", subject)
	if target != subject {
		m.addUnique("related.user", target)
	}
	if v := r.val("SubjectLogonId"); v != "" {
		m.set("winlog.logon.id", v)
	}
}

// split4688 pushes Split4688(cmd) onto the array arr.
func (m *mapper) split4688(arr nodeID, cmd string) {
	start := 0
	inquote := false
	for i := 0; i < len(cmd); i++ {
		switch cmd[i] {
		case '"':
			inquote = !inquote
		case ' ', '\t', '\n', '\r', '\v', '\f':
			if !inquote {
				m.d.push(arr, cmd[start:i])
				start = i + 1
			}
		}
	}
	m.d.push(arr, cmd[start:])
}
