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
	"fmt"
	"github.com/vigilsec/vigil/event"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

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

// Normalize returns one ECS JSON document (no trailing newline) for rec.
// file names the source file in log.file.path; it may be empty.
func Normalize(rec *evtx.Record, file string) ([]byte, error) {
	if rec == nil || rec.Root == nil {
		return nil, fmt.Errorf("winlog: no event")
	}
	if rec.Root.Child("System") == nil {
		return nil, fmt.Errorf("winlog: record %d has no System element", rec.ID)
	}
	sys := rec.System()
	d := event.NewBuilder()

	ts := sys.TimeCreated
	if ts.IsZero() {
		ts = rec.Time
	}
	dataset := Dataset(sys.Channel)
	index := "logs-" + dataset + "-default"
	d.Set("_index", index)
	d.Set("@timestamp", isoMillis(ts))

	// Event data, rendered as Winlogbeat does (all values strings).
	fields := rec.EventData()
	names := make([]string, 0, len(fields))
	vals := make([]string, 0, len(fields))
	for _, f := range fields {
		s, ok := Render(f.Value)
		if !ok {
			continue
		}
		names = append(names, f.Name)
		vals = append(vals, s)
	}
	get := func(name string) string {
		for i, n := range names {
			if n == name {
				return vals[i]
			}
		}
		return ""
	}

	code := strconv.FormatUint(uint64(sys.EventID), 10)
	ev := d.Obj("event")
	ev.Set("kind", "event")
	ev.Set("code", code)
	ev.Str("provider", sys.ProviderName)
	ev.Set("dataset", dataset)

	host := d.Obj("host")
	host.Str("name", sys.Computer)
	host.Set("os.type", "windows")
	host.Set("os.family", "windows")

	if file != "" {
		d.Set("log.file.path", file)
	}
	d.Set("log.level", levelName(sys.Level))

	ds := d.Obj("data_stream")
	ds.Set("type", "logs")
	ds.Set("dataset", dataset)
	ds.Set("namespace", "default")

	// The pipelines' ECS mapping; it also says which event_data entries were
	// renamed away.
	var renamed []string
	var sysmonMappedID uint32 // non-zero when the Sysmon mapping ran
	isSysmon := dataset == SysmonDataset
	isSecurity := dataset == SecurityDataset
	switch {
	case isSysmon && sysmonMapped(sys.EventID):
		mapSysmon(d, sys.EventID, names, vals)
		sysmonMappedID = sys.EventID
	case isSecurity && sys.EventID == 4688:
		mapSecurity4688(d, get)
		renamed = security4688Renamed
	case isSecurity && securityMapped[sys.EventID]:
		renamed = mapSecurity(d, sys.EventID, get, func(name string) string {
			for _, f := range rec.UserData() {
				if f.Name == name {
					s, _ := Render(f.Value)
					return s
				}
			}
			return ""
		})
	}
	if isSysmon && sys.UserID != "" {
		d.Set("user.id", sys.UserID)
	}

	w := d.Obj("winlog")
	w.Str("channel", sys.Channel)
	w.Set("event_id", code)
	w.Str("provider_name", sys.ProviderName)
	if sys.ProviderGUID != "" {
		w.Set("provider_guid", strings.ToUpper(sys.ProviderGUID))
	}
	w.Str("computer_name", sys.Computer)
	w.Set("record_id", strconv.FormatUint(sys.EventRecordID, 10))
	w.SetInt("version", int64(sys.Version))
	w.Set("opcode", opcodeName(sys.Opcode))
	w.Set("level", levelName(sys.Level))
	w.Set("task", taskName(sys))
	if kw := keywordNames(sys.Keywords); len(kw) > 0 {
		w.SetList("keywords", kw)
		if o := outcome(sys.Keywords); o != "" {
			w.Set("outcome", o)
			if isSecurity {
				ev.Set("outcome", o)
			}
		}
	}
	w.Set("time_created", isoMillis(sys.TimeCreated))
	if sys.ProcessID != 0 || sys.ThreadID != 0 {
		w.SetInt("process.pid", int64(sys.ProcessID))
		w.SetInt("process.thread.id", int64(sys.ThreadID))
	}
	if sys.UserID != "" {
		w.Set("user.identifier", sys.UserID)
	}
	if sys.ActivityID != "" {
		w.Set("activity_id", strings.ToUpper(sys.ActivityID))
	}
	if sys.RelatedActivityID != "" {
		w.Set("related_activity_id", strings.ToUpper(sys.RelatedActivityID))
	}
	edata := w.Obj("event_data")
	for i, n := range names {
		v := vals[i]
		if dropped(v) || slices.Contains(renamed, n) || (sysmonMappedID != 0 && sysmonRemovedName(sysmonMappedID, n)) {
			continue
		}
		edata.SetKey(n, v)
	}
	if ud := rec.UserData(); len(ud) > 0 {
		u := w.Obj("user_data")
		for _, f := range ud {
			if s, ok := Render(f.Value); ok {
				u.SetKey(f.Name, s)
			}
		}
	}
	return d.AppendJSON(make([]byte, 0, 2048)), nil
}

// dropped reports the event_data values Elastic's pipelines remove.
func dropped(v string) bool {
	return v == "" || v == "-" || v == "{00000000-0000-0000-0000-000000000000}"
}

// isoMillis is ISO-8601 UTC with milliseconds, as Elasticsearch stores @timestamp.
func isoMillis(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
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
	case evtx.Hex32Type, evtx.Hex64Type, evtx.SizeTType:
		return "0x" + strconv.FormatUint(v.Num, 16), true
	case evtx.GUIDType:
		return strings.ToUpper(evtx.GUIDString(v.Raw)), true
	case evtx.BoolType:
		if v.Num != 0 {
			return "true", true
		}
		return "false", true
	case evtx.Real32Type:
		return strconv.FormatFloat(float64(math.Float32frombits(uint32(v.Num))), 'g', -1, 32), true
	case evtx.Real64Type:
		return strconv.FormatFloat(math.Float64frombits(v.Num), 'g', -1, 64), true
	case evtx.FileTimeType, evtx.SysTimeType:
		t, ok := v.Time()
		if !ok {
			return "", false
		}
		return t.UTC().Format("2006-01-02T15:04:05.0000000Z"), true
	}
	if v.Type&evtx.ArrayFlag != 0 {
		items := v.Items()
		parts := make([]string, 0, len(items))
		for _, it := range items {
			if s, ok := Render(it); ok {
				parts = append(parts, s)
			}
		}
		return strings.Join(parts, ","), true
	}
	// Integers, SIDs, binary, nested XML: the evtx rendering is Windows'.
	return v.String(), true
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
// not available off Windows), else its number.
func taskName(sys evtx.System) string {
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
	return strconv.Itoa(int(sys.Task))
}

const (
	kwAuditFailure = 0x0010000000000000
	kwAuditSuccess = 0x0020000000000000
	kwClassic      = 0x0080000000000000
)

func keywordNames(k uint64) []string {
	var out []string
	if k&kwAuditSuccess != 0 {
		out = append(out, "Audit Success")
	}
	if k&kwAuditFailure != 0 {
		out = append(out, "Audit Failure")
	}
	if k&kwClassic != 0 {
		out = append(out, "Classic")
	}
	return out
}

func outcome(k uint64) string {
	switch {
	case k&kwAuditSuccess != 0:
		return "success"
	case k&kwAuditFailure != 0:
		return "failure"
	}
	return ""
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

func mapSecurity4688(d *event.Builder, get func(string) string) {
	d.SetList("event.category", []string{"process"})
	d.SetList("event.type", []string{"start"})
	d.Set("event.action", "created-process")

	p := d.Obj("process")
	exe := get("NewProcessName")
	if cl := get("CommandLine"); cl != "" {
		p.SetList("args", Split4688(cl))
		p.Set("command_line", cl)
	}
	p.Str("executable", exe)
	p.Str("name", afterBackslash(exe))
	if pid, ok := parsePID(get("NewProcessId")); ok {
		p.SetInt("pid", pid)
	}
	pp := p.Obj("parent")
	if pexe := get("ParentProcessName"); pexe != "" && pexe != "-" {
		pp.Set("executable", pexe)
		pp.Str("name", afterBackslash(pexe))
	}
	if pid, ok := parsePID(get("ProcessId")); ok {
		pp.SetInt("pid", pid)
	}

	u := d.Obj("user")
	var related []string
	if v := get("SubjectDomainName"); !dropped(v) {
		u.Set("domain", v)
	}
	if v := get("SubjectUserSid"); !dropped(v) {
		u.Set("id", v)
	}
	if v := get("SubjectUserName"); !dropped(v) {
		u.Set("name", v)
		related = append(related, v)
	}
	eff := u.Obj("effective")
	if v := get("TargetDomainName"); !dropped(v) {
		eff.Set("domain", v)
	}
	if v := get("TargetUserSid"); !dropped(v) {
		eff.Set("id", v)
	}
	if v := get("TargetUserName"); !dropped(v) {
		eff.Set("name", v)
		if len(related) == 0 || related[0] != v {
			related = append(related, v)
		}
	}
	if len(related) > 0 {
		d.SetList("related.user", related)
	}
	if v := get("SubjectLogonId"); !dropped(v) {
		d.Set("winlog.logon.id", v)
	}
}
