package winlog

import (
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/vigilsec/vigil/internal/cmdline"
)

// The Sysmon mapping follows Elastic's Windows integration pipeline
// (packages/windows/data_stream/sysmon_operational, default.yml): one set of
// processors for every event ID, driven by the event_data names present.
// Event 7 additionally carries the library categorisation and dll.* fields of
// the newest (ECS 8.17) pipeline, pinned by Elastic's image-load fixture.

type sysmonMeta struct {
	category []string
	typ      []string
	action   string
}

// sysmonEvents is the pipeline's categorisation table.
var sysmonEvents = map[uint32]sysmonMeta{
	1:   {[]string{"process"}, []string{"start"}, "Process creation"},
	2:   {[]string{"file"}, []string{"change"}, "A process changed a file creation time"},
	3:   {[]string{"network"}, []string{"start", "connection", "protocol"}, "Network connection"},
	4:   {[]string{"process"}, []string{"change"}, "Sysmon service state changed"},
	5:   {[]string{"process"}, []string{"end"}, "Process terminated"},
	6:   {[]string{"driver"}, []string{"start"}, "Driver loaded"},
	7:   {[]string{"process"}, []string{"change"}, "Image loaded"},
	8:   {[]string{"process"}, []string{"change"}, "CreateRemoteThread"},
	9:   {[]string{"process"}, []string{"access"}, "RawAccessRead"},
	10:  {[]string{"process"}, []string{"access"}, "ProcessAccess"},
	11:  {[]string{"file"}, []string{"creation"}, "FileCreate"},
	12:  {[]string{"configuration", "registry"}, []string{"change"}, "RegistryEvent (Object create and delete)"},
	13:  {[]string{"configuration", "registry"}, []string{"change"}, "RegistryEvent (Value Set)"},
	14:  {[]string{"configuration", "registry"}, []string{"change"}, "RegistryEvent (Key and Value Rename)"},
	15:  {[]string{"file"}, []string{"access"}, "FileCreateStreamHash"},
	16:  {[]string{"configuration"}, []string{"change"}, "ServiceConfigurationChange"},
	17:  {[]string{"file"}, []string{"creation"}, "PipeEvent (Pipe Created)"},
	18:  {[]string{"file"}, []string{"access"}, "PipeEvent (Pipe Connected)"},
	19:  {[]string{"process"}, []string{"creation"}, "WmiEvent (WmiEventFilter activity detected)"},
	20:  {[]string{"process"}, []string{"creation"}, "WmiEvent (WmiEventConsumer activity detected)"},
	21:  {[]string{"process"}, []string{"access"}, "WmiEvent (WmiEventConsumerToFilter activity detected)"},
	22:  {[]string{"network"}, []string{"connection", "protocol", "info"}, "DNSEvent (DNS query)"},
	23:  {[]string{"file"}, []string{"deletion"}, "FileDelete (File Delete archived)"},
	24:  {nil, []string{"change"}, "ClipboardChange (New content in the clipboard)"},
	25:  {[]string{"process"}, []string{"change"}, "ProcessTampering (Process image change)"},
	26:  {[]string{"file"}, []string{"deletion"}, "FileDeleteDetected (File Delete logged)"},
	27:  {[]string{"file"}, []string{"creation", "denied"}, "FileBlockExecutable"},
	28:  {[]string{"file"}, []string{"deletion", "denied"}, "FileBlockShredding"},
	29:  {[]string{"file"}, []string{"creation"}, "FileExecutableDetected"},
	255: {[]string{"process"}, []string{"error"}, "Error"},
}

// sysmonMapped reports the Sysmon event IDs whose ECS mapping is applied:
// every ID of the pipeline's table (1-29 and 255), each pinned by a test.
func sysmonMapped(id uint32) bool {
	_, ok := sysmonEvents[id]
	return ok
}

// sysmonRemovedName reports the event_data names the pipeline renames or
// removes (Type only for 25, ID only for 255).
func sysmonRemovedName(id uint32, n string) bool {
	switch n {
	case "SourceIsIpv6", "DestinationIsIpv6", "ProcessGuid", "Image", "SourceProcessGuid", "SourceProcessGUID",
		"SourceImage", "Destination", "CommandLine", "CurrentDirectory", "ParentProcessGuid", "ParentImage",
		"ParentCommandLine", "OriginalFileName", "TargetFilename", "Device", "PipeName", "ImageLoaded", "Protocol",
		"DestinationPortName", "SourcePortName", "SourceHostname", "DestinationHostname", "QueryName",
		"QueryStatus", "RuleName", "Hash", "Archived", "IsExecutable", "TargetProcessGuid", "ProcessId",
		"ParentProcessId", "SourceProcessId", "SourceThreadId", "SourceIp", "SourcePort", "DestinationIp",
		"DestinationPort", "User", "Initiated", "QueryResults", "UtcTime", "Hashes", "TargetObject":
		return true
	case "Type":
		return id == 25
	case "ID":
		return id == 255
	}
	return false
}

// addUnique appends s to list unless it is there.
func addUnique(list []string, s string) []string {
	for _, v := range list {
		if v == s {
			return list
		}
	}
	return append(list, s)
}

// sysmonFields holds the event_data values the pipeline reads ("", "-"
// and the zero GUID count as absent, as the pipeline removes them first).
type sysmonFields struct {
	Archived            string
	CommandLine         string
	Company             string
	CurrentDirectory    string
	Description         string
	Destination         string
	DestinationHostname string
	DestinationIp       string
	DestinationPort     string
	DestinationPortName string
	Details             string
	Device              string
	FileVersion         string
	Hash                string
	Hashes              string
	ID                  string
	Image               string
	ImageLoaded         string
	Initiated           string
	IsExecutable        string
	OriginalFileName    string
	ParentCommandLine   string
	ParentImage         string
	ParentProcessGuid   string
	ParentProcessId     string
	PipeName            string
	ProcessGuid         string
	ProcessId           string
	Product             string
	Protocol            string
	QueryName           string
	QueryResults        string
	QueryStatus         string
	RuleName            string
	Signature           string
	SignatureStatus     string
	Signed              string
	SourceHostname      string
	SourceImage         string
	SourceIp            string
	SourceIsIpv6        string
	SourcePort          string
	SourcePortName      string
	SourceProcessGUID   string
	SourceProcessGuid   string
	SourceProcessId     string
	SourceThreadId      string
	TargetFilename      string
	TargetObject        string
	TargetProcessGuid   string
	Type                string
	User                string
	UtcTime             string
}

// load fills f in one pass over the event data.
func (f *sysmonFields) load(names, vals []string) {
	for i, n := range names {
		v := vals[i]
		if dropped(v) {
			continue
		}
		switch n {
		case "Archived":
			f.Archived = v
		case "CommandLine":
			f.CommandLine = v
		case "Company":
			f.Company = v
		case "CurrentDirectory":
			f.CurrentDirectory = v
		case "Description":
			f.Description = v
		case "Destination":
			f.Destination = v
		case "DestinationHostname":
			f.DestinationHostname = v
		case "DestinationIp":
			f.DestinationIp = v
		case "DestinationPort":
			f.DestinationPort = v
		case "DestinationPortName":
			f.DestinationPortName = v
		case "Details":
			f.Details = v
		case "Device":
			f.Device = v
		case "FileVersion":
			f.FileVersion = v
		case "Hash":
			f.Hash = v
		case "Hashes":
			f.Hashes = v
		case "ID":
			f.ID = v
		case "Image":
			f.Image = v
		case "ImageLoaded":
			f.ImageLoaded = v
		case "Initiated":
			f.Initiated = v
		case "IsExecutable":
			f.IsExecutable = v
		case "OriginalFileName":
			f.OriginalFileName = v
		case "ParentCommandLine":
			f.ParentCommandLine = v
		case "ParentImage":
			f.ParentImage = v
		case "ParentProcessGuid":
			f.ParentProcessGuid = v
		case "ParentProcessId":
			f.ParentProcessId = v
		case "PipeName":
			f.PipeName = v
		case "ProcessGuid":
			f.ProcessGuid = v
		case "ProcessId":
			f.ProcessId = v
		case "Product":
			f.Product = v
		case "Protocol":
			f.Protocol = v
		case "QueryName":
			f.QueryName = v
		case "QueryResults":
			f.QueryResults = v
		case "QueryStatus":
			f.QueryStatus = v
		case "RuleName":
			f.RuleName = v
		case "Signature":
			f.Signature = v
		case "SignatureStatus":
			f.SignatureStatus = v
		case "Signed":
			f.Signed = v
		case "SourceHostname":
			f.SourceHostname = v
		case "SourceImage":
			f.SourceImage = v
		case "SourceIp":
			f.SourceIp = v
		case "SourceIsIpv6":
			f.SourceIsIpv6 = v
		case "SourcePort":
			f.SourcePort = v
		case "SourcePortName":
			f.SourcePortName = v
		case "SourceProcessGUID":
			f.SourceProcessGUID = v
		case "SourceProcessGuid":
			f.SourceProcessGuid = v
		case "SourceProcessId":
			f.SourceProcessId = v
		case "SourceThreadId":
			f.SourceThreadId = v
		case "TargetFilename":
			f.TargetFilename = v
		case "TargetObject":
			f.TargetObject = v
		case "TargetProcessGuid":
			f.TargetProcessGuid = v
		case "Type":
			f.Type = v
		case "User":
			f.User = v
		case "UtcTime":
			f.UtcTime = v
		}
	}
}

// mapSysmon applies the Sysmon pipeline to the record's event data.
func (m *mapper) mapSysmon(id uint32) {
	d := &m.d
	var f sysmonFields
	f.load(m.rec.names, m.rec.vals)
	if f.UtcTime == "" {
		// nothing: time.Parse would build an error
	} else if t, err := time.Parse("2006-01-02 15:04:05.999", f.UtcTime); err == nil {
		d.setTime(0, "@timestamp", t)
	}
	meta := sysmonEvents[id]
	ev := d.obj(0, "event")
	if id == 7 {
		// Newest pipeline (Elastic's fixture test-image-loaded-failed-signature).
		d.setList(ev, "category", "process", "library")
		d.setList(ev, "type", "change", "start")
		d.setList(ev, "action", "Image loaded", "load")
	} else if meta.typ != nil {
		if meta.category != nil {
			d.setList(ev, "category", meta.category...)
		}
		d.setList(ev, "type", meta.typ...)
		d.set(ev, "action", meta.action)
	}
	if id == 255 {
		m.setStr("error.code", f.ID)
	}
	m.setStr("rule.name", f.RuleName)
	if id == 25 {
		m.setStr("message", f.Type)
	}

	// Hashes: "ALG=value,ALG=value", lower-cased, all-zero values dropped.
	h := f.Hashes
	if h == "" {
		h = f.Hash
	}
	for rest := h; rest != ""; {
		var kv string
		kv, rest, _ = strings.Cut(rest, ",")
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			continue
		}
		k, v = m.lower(strings.TrimSpace(k)), m.lower(strings.TrimSpace(v))
		if v == "" || strings.Trim(v, "0") == "" {
			continue
		}
		m.hk = append(m.hk, k)
		m.hv = append(m.hv, v)
	}
	if len(m.hv) > 0 {
		m.setList("related.hash", m.hv...)
	}

	// Process.
	p := d.obj(0, "process")
	if id == 1 || id == 23 || id == 24 || id == 25 {
		m.putHashes(p)
	}
	d.str(p, "entity_id", first(f.ProcessGuid, f.SourceProcessGuid, f.SourceProcessGUID))
	if pid, ok := parsePID(f.ProcessId); ok {
		d.setInt(p, "pid", pid)
	}
	if pid, ok := parsePID(f.SourceProcessId); ok {
		d.setInt(p, "pid", pid)
	}
	if tid, ok := parsePID(f.SourceThreadId); ok {
		d.setInt(p, "thread.id", tid)
	}
	exe := first(f.Image, f.SourceImage, f.Destination)
	d.str(p, "executable", exe)
	if cl := f.CommandLine; cl != "" {
		d.set(p, "command_line", cl)
		d.setInt(p, "args_count", int64(m.argv(d.array(p, "args"), cl)))
	}
	d.str(p, "working_directory", f.CurrentDirectory)
	if len(exe) > 1 {
		d.str(p, "name", afterBackslash(exe))
	}
	if id != 7 {
		m.putPE(d.obj(p, "pe"), &f)
	}
	pp := d.obj(p, "parent")
	d.str(pp, "entity_id", f.ParentProcessGuid)
	if pid, ok := parsePID(f.ParentProcessId); ok {
		d.setInt(pp, "pid", pid)
	}
	pexe := f.ParentImage
	d.str(pp, "executable", pexe)
	if cl := f.ParentCommandLine; cl != "" {
		d.set(pp, "command_line", cl)
		d.setInt(pp, "args_count", int64(m.argv(d.array(pp, "args"), cl)))
	}
	if len(pexe) > 1 {
		d.str(pp, "name", afterBackslash(pexe))
	}

	// File.
	fo := d.obj(0, "file")
	if id == 6 || id == 7 || id == 15 || id == 26 || id == 29 {
		m.putHashes(fo)
	}
	fpath := first(f.TargetFilename, f.Device, f.ImageLoaded)
	d.str(fo, "path", fpath)
	d.str(fo, "name", f.PipeName)
	d.str(fo, "code_signature.subject_name", f.Signature)
	d.str(fo, "code_signature.status", f.SignatureStatus)
	if id == 7 {
		m.putPE(d.obj(fo, "pe"), &f)
	}
	if f.SignatureStatus == "Valid" {
		d.setBool(fo, "code_signature.valid", true)
	}
	if id == 7 {
		// Newest pipeline, pinned by Elastic's image-load fixture: a
		// Signed value other than true/false is the verification failure
		// (dll.code_signature.status); file.code_signature.trusted says
		// whether the signature was found valid.
		if s := f.Signed; s != "" && s != "true" && s != "false" {
			m.set("dll.code_signature.status", s)
		}
		d.setBool(fo, "code_signature.trusted", f.SignatureStatus == "Valid")
	}
	if len(fpath) > 1 {
		if i := strings.LastIndexByte(fpath, '\\'); i >= 0 {
			d.set(fo, "name", fpath[i+1:])
			d.set(fo, "directory", fpath[:i])
			if j := strings.LastIndexByte(fpath, '.'); j >= 0 {
				d.set(fo, "extension", fpath[j+1:])
			}
		}
	}
	if id == 7 && fpath != "" {
		// dll.* as the newest pipeline writes it for image loads.
		dll := d.obj(0, "dll")
		d.str(dll, "path", fpath)
		d.str(dll, "name", afterBackslash(fpath))
		m.putHashes(dll)
		d.str(dll, "pe.original_file_name", f.OriginalFileName)
	}

	// Network, source, destination, DNS.
	m.setStr("network.transport", f.Protocol)
	if id == 22 {
		m.set("network.protocol", "dns")
	} else {
		m.setStr("network.protocol", first(f.DestinationPortName, f.SourcePortName))
	}
	srcIP, dstIP := "", ""
	if validIP(f.SourceIp) {
		srcIP = f.SourceIp
		m.set("source.ip", srcIP)
	}
	m.setStr("source.domain", f.SourceHostname)
	srcPort, srcPortOK := parseInt(f.SourcePort)
	if srcPortOK {
		m.setInt("source.port", srcPort)
	}
	if validIP(f.DestinationIp) {
		dstIP = f.DestinationIp
		m.set("destination.ip", dstIP)
	}
	m.setStr("destination.domain", f.DestinationHostname)
	dstPort, dstPortOK := parseInt(f.DestinationPort)
	if dstPortOK {
		m.setInt("destination.port", dstPort)
	}
	if id == 3 && srcIP != "" && dstIP != "" && srcPortOK && dstPortOK {
		if proto, ok := ianaNumber(f.Protocol); ok {
			start := len(m.scratch)
			var ok2 bool
			m.scratch, ok2 = appendCommunityID(m.scratch, srcIP, dstIP, uint16(srcPort), uint16(dstPort), proto)
			if ok2 {
				m.set("network.community_id", m.str(start))
			}
		}
	}
	qname := f.QueryName
	if qname != "" {
		q := d.obj(0, "dns.question")
		d.set(q, "name", qname)
		m.registeredDomain(q, qname)
	}
	switch f.Initiated {
	case "true":
		m.set("network.direction", "egress")
	case "false":
		m.set("network.direction", "ingress")
	}
	switch f.SourceIsIpv6 {
	case "false":
		m.set("network.type", "ipv4")
	case "true":
		m.set("network.type", "ipv6")
	}
	if qr := f.QueryResults; qr != "" {
		m.dnsAnswers(qr)
	}
	m.addUnique("related.hosts", qname)

	// User.
	if dom, name, ok := strings.Cut(f.User, `\`); ok && !strings.Contains(name, `\`) {
		m.setStr("user.domain", dom)
		m.setStr("user.name", name)
		if name != "" {
			m.setList("related.user", name)
		}
	}

	// Sysmon-specific fields.
	if st := f.QueryStatus; st != "" {
		if s, ok := dnsStatus[st]; ok {
			st = s
		}
		m.set("sysmon.dns.status", st)
	}
	if b, ok := parseBool(f.Archived); ok {
		m.setBool("sysmon.file.archived", b)
	}
	if b, ok := parseBool(f.IsExecutable); ok {
		m.setBool("sysmon.file.is_executable", b)
	}

	m.addUnique("related.ip", srcIP)
	m.addUnique("related.ip", dstIP)

	if obj := f.TargetObject; obj != "" && (id == 12 || id == 13 || id == 14) {
		m.mapRegistry(obj, f.Details)
	}
	if g := f.TargetProcessGuid; g != "" {
		m.set("winlog.event_data.TargetProcessGUID", g)
	}
}

// putHashes writes the parsed hashes under o (hash.<alg>, pe.imphash).
func (m *mapper) putHashes(o nodeID) {
	for i, k := range m.hk {
		if k == "imphash" {
			m.d.set(o, "pe.imphash", m.hv[i])
		} else {
			m.d.set(m.d.obj(o, "hash"), k, m.hv[i])
		}
	}
}

// putPE writes the PE header fields under pe.
func (m *mapper) putPE(pe nodeID, f *sysmonFields) {
	m.d.str(pe, "original_file_name", f.OriginalFileName)
	m.d.str(pe, "company", f.Company)
	m.d.str(pe, "description", f.Description)
	m.d.str(pe, "file_version", f.FileVersion)
	m.d.str(pe, "product", f.Product)
}

// argv pushes CommandLineToArgv(cmd) onto arr and returns the number of
// arguments.
func (m *mapper) argv(arr nodeID, cmd string) int {
	// The arguments are substrings of cmd or built in the scratch arena.
	m.args, m.scratch = cmdline.AppendWindowsArgv(m.args[:0], m.scratch, cmd)
	for _, a := range m.args {
		m.d.push(arr, a)
	}
	return len(m.args)
}

// dnsAnswers parses Sysmon's QueryResults ("type:  5 name;::ffff:1.2.3.4;")
// into dns.answers, dns.resolved_ip and the related fields.
func (m *mapper) dnsAnswers(qr string) {
	d := &m.d
	var answers nodeID = none
	nIPs := 0
	for rest := qr; rest != ""; {
		var a string
		a, rest, _ = strings.Cut(rest, ";")
		if a == "" || !strings.HasPrefix(a, "type:") {
			continue
		}
		// "type:" then whitespace-separated type number and optional data.
		f1, f2, nf := fields2(a)
		if nf < 2 {
			continue
		}
		if answers == none {
			answers = d.array(0, "dns.answers")
		}
		o := d.pushObj(answers)
		d.str(o, "type", dnsTypes[f1])
		if nf == 3 {
			d.set(o, "data", f2)
			m.addUnique("related.hosts", f2)
		}
	}
	for rest := qr; rest != ""; {
		var a string
		a, rest, _ = strings.Cut(rest, ";")
		if a == "" || strings.HasPrefix(a, "type:") {
			continue
		}
		a = strings.ReplaceAll(a, "::ffff:", "")
		if !validIP(a) {
			continue
		}
		if answers == none {
			answers = d.array(0, "dns.answers")
		}
		o := d.pushObj(answers)
		if strings.Contains(a, ":") {
			d.set(o, "type", "AAAA")
		} else {
			d.set(o, "type", "A")
		}
		d.set(o, "data", a)
		if nIPs == 0 {
			d.array(0, "dns.resolved_ip")
		}
		d.push(d.lookup(0, "dns.resolved_ip"), a)
		nIPs++
		m.addUnique("related.ip", a)
	}
}

// fields2 splits s on whitespace as strings.Fields does and returns the
// second and third fields and the number of fields (up to 3; more count
// as 4, which the pipeline's "length == 3" test rejects).
func fields2(s string) (f1, f2 string, n int) {
	for len(s) > 0 {
		i := 0
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
		s = s[i:]
		if s == "" {
			break
		}
		j := 0
		for j < len(s) && s[j] != ' ' && s[j] != '\t' {
			j++
		}
		switch n {
		case 1:
			f1 = s[:j]
		case 2:
			f2 = s[:j]
		}
		n++
		if n > 3 {
			return f1, f2, 4
		}
		s = s[j:]
	}
	return f1, f2, n
}

// parseInt and parseBool are strconv's, without building an error for
// the usual case of an absent ("") field.
func parseInt(s string) (int64, bool) {
	if s == "" {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

func parseBool(s string) (bool, bool) {
	if s == "" {
		return false, false
	}
	b, err := strconv.ParseBool(s)
	return b, err == nil
}

// first returns the first non-empty string (the pipeline's renames onto one
// target: the first one present wins).
func first(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// validIP reports whether s converts to an Elasticsearch ip.
func validIP(s string) bool {
	if s == "" {
		return false
	}
	_, err := netip.ParseAddr(s)
	return err == nil
}

var registryHives = map[string]string{
	"HKEY_CLASSES_ROOT": "HKCR", "HKCR": "HKCR",
	"HKEY_CURRENT_CONFIG": "HKCC", "HKCC": "HKCC",
	"HKEY_CURRENT_USER": "HKCU", "HKCU": "HKCU",
	"HKEY_DYN_DATA": "HKDD", "HKDD": "HKDD",
	"HKEY_LOCAL_MACHINE": "HKLM", "HKLM": "HKLM",
	"HKEY_PERFORMANCE_DATA": "HKPD", "HKPD": "HKPD",
	"HKEY_USERS": "HKU", "HKU": "HKU",
}

// mapRegistry is the pipeline's "Set registry fields" script for events 12-14.
func (m *mapper) mapRegistry(path, data string) {
	d := &m.d
	r := d.obj(0, "registry")
	d.set(r, "path", path)
	// Java's String.split drops trailing empty strings.
	trimmed := strings.TrimRight(path, `\`)
	if trimmed == "" {
		trimmed = path // every token empty: split yields [""]... kept as the pipeline sees it
	}
	head, tail, hasTail := strings.Cut(trimmed, `\`)
	if hive, ok := registryHives[head]; ok {
		d.set(r, "hive", hive)
		if hasTail {
			d.set(r, "key", tail)
		}
	}
	d.set(r, "value", trimmed[strings.LastIndexByte(trimmed, '\\')+1:])
	if data == "" {
		return
	}
	set := func(s, typ string) {
		d.setList(r, "data.strings", s)
		d.set(r, "data.type", typ)
	}
	if hi, lo, ok := qwordDetails(data); ok {
		start := len(m.scratch)
		m.scratch = strconv.AppendInt(m.scratch, (hi<<8)+lo, 10)
		set(m.str(start), "SZ_QWORD")
		return
	}
	if v, ok := dwordDetails(data); ok {
		start := len(m.scratch)
		m.scratch = strconv.AppendInt(m.scratch, v, 10)
		set(m.str(start), "SZ_DWORD")
		return
	}
	if data == "Binary Data" {
		set(data, "REG_BINARY")
		return
	}
	set(data, "REG_SZ")
}

// hex8 parses "0x" and 8 hex digits.
func hex8(s string) (int64, bool) {
	if len(s) != 10 || (s[:2] != "0x" && s[:2] != "0X") {
		return 0, false
	}
	n, err := strconv.ParseInt(s[2:], 16, 64)
	return n, err == nil
}

// dwordDetails matches (?i)DWORD \((0x[0-9A-F]{8})\).
func dwordDetails(s string) (int64, bool) {
	if len(s) < 7 || !strings.EqualFold(s[:7], "DWORD (") || !strings.HasSuffix(s, ")") {
		return 0, false
	}
	return hex8(s[7 : len(s)-1])
}

// qwordDetails matches (?i)QWORD \(((0x[0-9A-F]{8})-(0x[0-9A-F]{8}))\).
func qwordDetails(s string) (hi, lo int64, ok bool) {
	if len(s) < 7 || !strings.EqualFold(s[:7], "QWORD (") || !strings.HasSuffix(s, ")") {
		return 0, 0, false
	}
	a, b, found := strings.Cut(s[7:len(s)-1], "-")
	if !found {
		return 0, 0, false
	}
	hi, ok1 := hex8(a)
	lo, ok2 := hex8(b)
	return hi, lo, ok1 && ok2
}

var dnsTypes = map[string]string{
	"1": "A", "2": "NS", "3": "MD", "4": "MF", "5": "CNAME", "6": "SOA", "7": "MB", "8": "MG", "9": "MR",
	"10": "NULL", "11": "WKS", "12": "PTR", "13": "HINFO", "14": "MINFO", "15": "MX", "16": "TXT", "17": "RP",
	"18": "AFSDB", "19": "X25", "20": "ISDN", "21": "RT", "22": "NSAP", "23": "NSAPPTR", "24": "SIG",
	"25": "KEY", "26": "PX", "27": "GPOS", "28": "AAAA", "29": "LOC", "30": "NXT", "31": "EID",
	"32": "NIMLOC", "33": "SRV", "34": "ATMA", "35": "NAPTR", "36": "KX", "37": "CERT", "38": "A6",
	"39": "DNAME", "40": "SINK", "41": "OPT", "43": "DS", "46": "RRSIG", "47": "NSEC", "48": "DNSKEY",
	"49": "DHCID", "100": "UINFO", "101": "UID", "102": "GID", "103": "UNSPEC", "248": "ADDRS",
	"249": "TKEY", "250": "TSIG", "251": "IXFR", "252": "AXFR", "253": "MAILB", "254": "MAILA",
	"255": "ANY", "65281": "WINS", "65282": "WINSR",
}

// dnsStatus translates the common DNS query status codes (the pipeline's
// table holds many more DNS_ERROR_* codes; others are kept as numbers).
var dnsStatus = map[string]string{
	"0": "SUCCESS", "5": "ERROR_ACCESS_DENIED", "8": "ERROR_NOT_ENOUGH_MEMORY", "13": "ERROR_INVALID_DATA",
	"14": "ERROR_OUTOFMEMORY", "123": "ERROR_INVALID_NAME", "1214": "ERROR_INVALID_NETNAME",
	"1223": "ERROR_CANCELLED", "1460": "ERROR_TIMEOUT", "4312": "ERROR_OBJECT_NOT_FOUND",
	"9001": "DNS_ERROR_RCODE_FORMAT_ERROR", "9002": "DNS_ERROR_RCODE_SERVER_FAILURE",
	"9003": "DNS_ERROR_RCODE_NAME_ERROR", "9004": "DNS_ERROR_RCODE_NOT_IMPLEMENTED",
	"9005": "DNS_ERROR_RCODE_REFUSED", "9501": "DNS_INFO_NO_RECORDS", "9502": "DNS_ERROR_BAD_PACKET",
	"9503": "DNS_ERROR_NO_PACKET", "9701": "DNS_ERROR_RECORD_DOES_NOT_EXIST",
	"10054": "WSAECONNRESET", "10055": "WSAENOBUFS", "10060": "WSAETIMEDOUT",
}
