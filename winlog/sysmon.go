package winlog

import (
	"github.com/vigilsec/vigil/event"
	"net/netip"
	"strconv"
	"strings"
	"time"
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

// mapSysmon applies the Sysmon pipeline to the event data (names, vals).
func mapSysmon(d *event.Builder, id uint32, names, vals []string) {
	var f sysmonFields
	f.load(names, vals)
	if t, err := time.Parse("2006-01-02 15:04:05.999", f.UtcTime); err == nil {
		d.Set("@timestamp", isoMillis(t))
	}
	m := sysmonEvents[id]
	if id == 7 {
		// Newest pipeline (Elastic's fixture test-image-loaded-failed-signature).
		d.SetList("event.category", []string{"process", "library"})
		d.SetList("event.type", []string{"change", "start"})
		d.SetList("event.action", []string{"Image loaded", "load"})
	} else if m.typ != nil {
		if m.category != nil {
			d.SetList("event.category", m.category)
		}
		d.SetList("event.type", m.typ)
		d.Set("event.action", m.action)
	}
	if id == 255 {
		d.Str("error.code", f.ID)
	}
	d.Str("rule.name", f.RuleName)
	if id == 25 {
		d.Str("message", f.Type)
	}

	// Hashes.
	h := f.Hashes
	if h == "" {
		h = f.Hash
	}
	var hashKeys, hashVals []string
	if h != "" {
		for _, kv := range strings.Split(h, ",") {
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				continue
			}
			k, v = strings.ToLower(strings.TrimSpace(k)), strings.ToLower(strings.TrimSpace(v))
			if v == "" || strings.Trim(v, "0") == "" {
				continue
			}
			hashKeys = append(hashKeys, k)
			hashVals = append(hashVals, v)
		}
		if len(hashVals) > 0 {
			d.SetList("related.hash", hashVals)
		}
	}
	putHashes := func(o *event.Builder, prefix string) {
		for i, k := range hashKeys {
			if k == "imphash" {
				o.Set(prefix+"pe.imphash", hashVals[i])
			} else {
				o.Set(prefix+"hash."+k, hashVals[i])
			}
		}
	}

	// Process.
	if len(hashKeys) > 0 && (id == 1 || id == 23 || id == 24 || id == 25) {
		putHashes(d, "process.")
	}
	d.Str("process.entity_id", first(f.ProcessGuid, f.SourceProcessGuid, f.SourceProcessGUID))
	if pid, ok := parsePID(f.ProcessId); ok {
		d.SetInt("process.pid", pid)
	}
	if pid, ok := parsePID(f.SourceProcessId); ok {
		d.SetInt("process.pid", pid)
	}
	if tid, ok := parsePID(f.SourceThreadId); ok {
		d.SetInt("process.thread.id", tid)
	}
	exe := first(f.Image, f.SourceImage, f.Destination)
	d.Str("process.executable", exe)
	if cl := f.CommandLine; cl != "" {
		d.Set("process.command_line", cl)
		args := CommandLineToArgv(cl)
		d.SetList("process.args", args)
		d.SetInt("process.args_count", int64(len(args)))
	}
	d.Str("process.working_directory", f.CurrentDirectory)
	if len(exe) > 1 {
		d.Str("process.name", afterBackslash(exe))
	}
	if id != 7 {
		d.Str("process.pe.original_file_name", f.OriginalFileName)
		d.Str("process.pe.company", f.Company)
		d.Str("process.pe.description", f.Description)
		d.Str("process.pe.file_version", f.FileVersion)
		d.Str("process.pe.product", f.Product)
	}
	d.Str("process.parent.entity_id", f.ParentProcessGuid)
	if pid, ok := parsePID(f.ParentProcessId); ok {
		d.SetInt("process.parent.pid", pid)
	}
	pexe := f.ParentImage
	d.Str("process.parent.executable", pexe)
	if cl := f.ParentCommandLine; cl != "" {
		d.Set("process.parent.command_line", cl)
		args := CommandLineToArgv(cl)
		d.SetList("process.parent.args", args)
		d.SetInt("process.parent.args_count", int64(len(args)))
	}
	if len(pexe) > 1 {
		d.Str("process.parent.name", afterBackslash(pexe))
	}

	// File.
	if len(hashKeys) > 0 && (id == 6 || id == 7 || id == 15 || id == 26 || id == 29) {
		putHashes(d, "file.")
	}
	fpath := first(f.TargetFilename, f.Device, f.ImageLoaded)
	d.Str("file.path", fpath)
	d.Str("file.name", f.PipeName)
	d.Str("file.code_signature.subject_name", f.Signature)
	d.Str("file.code_signature.status", f.SignatureStatus)
	if id == 7 {
		d.Str("file.pe.original_file_name", f.OriginalFileName)
		d.Str("file.pe.company", f.Company)
		d.Str("file.pe.description", f.Description)
		d.Str("file.pe.file_version", f.FileVersion)
		d.Str("file.pe.product", f.Product)
	}
	if f.SignatureStatus == "Valid" {
		d.SetBool("file.code_signature.valid", true)
	}
	if len(fpath) > 1 {
		if i := strings.LastIndexByte(fpath, '\\'); i >= 0 {
			d.Set("file.name", fpath[i+1:])
			d.Set("file.directory", fpath[:i])
			if j := strings.LastIndexByte(fpath, '.'); j >= 0 {
				d.Set("file.extension", fpath[j+1:])
			}
		}
	}
	if id == 7 && fpath != "" {
		// dll.* as the newest pipeline writes it for image loads.
		d.Str("dll.path", fpath)
		d.Str("dll.name", afterBackslash(fpath))
		if len(hashKeys) > 0 {
			putHashes(d, "dll.")
		}
		d.Str("dll.pe.original_file_name", f.OriginalFileName)
	}

	// Network, source, destination, DNS.
	var relatedIP []string
	d.Str("network.transport", f.Protocol)
	if id == 22 {
		d.Set("network.protocol", "dns")
	} else {
		d.Str("network.protocol", first(f.DestinationPortName, f.SourcePortName))
	}
	if ip := f.SourceIp; validIP(ip) {
		d.Set("source.ip", ip)
	}
	d.Str("source.domain", f.SourceHostname)
	if port, err := strconv.ParseInt(f.SourcePort, 10, 64); err == nil {
		d.SetInt("source.port", port)
	}
	if ip := f.DestinationIp; validIP(ip) {
		d.Set("destination.ip", ip)
	}
	d.Str("destination.domain", f.DestinationHostname)
	if port, err := strconv.ParseInt(f.DestinationPort, 10, 64); err == nil {
		d.SetInt("destination.port", port)
	}
	qname := f.QueryName
	d.Str("dns.question.name", qname)
	switch f.Initiated {
	case "true":
		d.Set("network.direction", "egress")
	case "false":
		d.Set("network.direction", "ingress")
	}
	switch f.SourceIsIpv6 {
	case "false":
		d.Set("network.type", "ipv4")
	case "true":
		d.Set("network.type", "ipv6")
	}
	var relatedHosts []string
	if qr := f.QueryResults; qr != "" {
		var answers []*event.Builder
		var ips []string
		for _, a := range strings.Split(qr, ";") {
			if a == "" {
				continue
			}
			if strings.HasPrefix(a, "type:") {
				parts := strings.Fields(a)
				if len(parts) < 2 {
					continue
				}
				o := event.NewBuilder()
				o.Str("type", dnsTypes[parts[1]])
				if len(parts) == 3 {
					o.Set("data", parts[2])
					relatedHosts = append(relatedHosts, parts[2])
				}
				answers = append(answers, o)
				continue
			}
			a = strings.ReplaceAll(a, "::ffff:", "")
			if validIP(a) {
				ips = append(ips, a)
			}
		}
		for _, ip := range ips {
			o := event.NewBuilder()
			if strings.Contains(ip, ":") {
				o.Set("type", "AAAA")
			} else {
				o.Set("type", "A")
			}
			o.Set("data", ip)
			answers = append(answers, o)
			relatedIP = addUnique(relatedIP, ip)
		}
		if len(answers) > 0 {
			d.SetObjs("dns.answers", answers)
		}
		if len(ips) > 0 {
			d.SetList("dns.resolved_ip", ips)
		}
	}
	if qname != "" {
		relatedHosts = addUnique(relatedHosts, qname)
	}
	if len(relatedHosts) > 0 {
		d.SetList("related.hosts", relatedHosts)
	}

	// User.
	if dom, name, ok := strings.Cut(f.User, `\`); ok && !strings.Contains(name, `\`) {
		d.Str("user.domain", dom)
		d.Str("user.name", name)
		if name != "" {
			d.SetList("related.user", []string{name})
		}
	}

	// Sysmon-specific fields.
	if st := f.QueryStatus; st != "" {
		if s, ok := dnsStatus[st]; ok {
			st = s
		}
		d.Set("sysmon.dns.status", st)
	}
	if b, err := strconv.ParseBool(f.Archived); err == nil {
		d.SetBool("sysmon.file.archived", b)
	}
	if b, err := strconv.ParseBool(f.IsExecutable); err == nil {
		d.SetBool("sysmon.file.is_executable", b)
	}

	if ip := d.GetStr("source.ip"); ip != "" {
		relatedIP = addUnique(relatedIP, ip)
	}
	if ip := d.GetStr("destination.ip"); ip != "" {
		relatedIP = addUnique(relatedIP, ip)
	}
	if len(relatedIP) > 0 {
		d.SetList("related.ip", relatedIP)
	}

	if obj := f.TargetObject; obj != "" && (id == 12 || id == 13 || id == 14) {
		mapRegistry(d, obj, f.Details)
	}
	if g := f.TargetProcessGuid; g != "" {
		d.Set("winlog.event_data.TargetProcessGUID", g)
	}

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
func mapRegistry(d *event.Builder, path, data string) {
	r := d.Obj("registry")
	r.Set("path", path)
	tokens := strings.Split(path, `\`)
	// Java's String.split drops trailing empty strings.
	for len(tokens) > 1 && tokens[len(tokens)-1] == "" {
		tokens = tokens[:len(tokens)-1]
	}
	if hive, ok := registryHives[tokens[0]]; ok {
		r.Set("hive", hive)
		if len(tokens) > 1 {
			r.Set("key", strings.Join(tokens[1:], `\`))
		}
	}
	r.Set("value", tokens[len(tokens)-1])
	if data == "" {
		return
	}
	set := func(s, typ string) {
		r.SetList("data.strings", []string{s})
		r.Set("data.type", typ)
	}
	if hi, lo, ok := qwordDetails(data); ok {
		set(strconv.FormatInt((hi<<8)+lo, 10), "SZ_QWORD")
		return
	}
	if v, ok := dwordDetails(data); ok {
		set(strconv.FormatInt(v, 10), "SZ_DWORD")
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
