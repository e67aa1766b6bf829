// Package crowdstrike normalises CrowdStrike Falcon Data Replicator (FDR)
// events, one flat JSON object per line with string values, into the ECS
// documents of Elastic's CrowdStrike integration (data stream
// logs-crowdstrike.fdr-default), following its ingest pipeline
// (packages/crowdstrike/data_stream/fdr: default.yml and categorize.yml).
//
// Reproduced quirks: process.name is the last segment of ImageFileName only
// when it starts with "\" or "/", else the whole string (a "C:\..." path is
// not split); process.args use the Windows argv rules on every platform and
// only when host.os.type is known; @timestamp is ContextTimeStamp (Unix
// seconds, or a Windows FILETIME when above 0x0100000000000000) and
// otherwise the event's "timestamp" (Unix milliseconds); all-zero hashes
// are dropped. Fields the pipeline does not map stay under crowdstrike.*.
package crowdstrike

import (
	"bytes"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/vigilsec/vigil/event"
	"github.com/vigilsec/vigil/source/internal/norm"
)

// Dataset is the data stream of the integration's FDR input.
const Dataset = "crowdstrike.fdr"

var simpleNameKey = []byte(`"event_simpleName"`)

// Sniff reports whether rec looks like an FDR event: it has an
// event_simpleName key (and, being raw, no @timestamp; the Reader checks that).
func Sniff(rec []byte) bool { return bytes.Contains(rec, simpleNameKey) }

// Slots of the raw keys the pipeline maps.
const (
	kSimpleName = iota
	kPlatform
	kTimestamp
	kContextTimeStamp
	kID
	kAid
	kCid
	kAip
	kConfigBuild
	kComputerName
	kOSVersion
	kCommandLine
	kImageFileName
	kParentBaseFileName
	kRawProcessID
	kTargetProcessID
	kParentProcessID
	kContextProcessID
	kProcessStartTime
	kProcessEndTime
	kExitCode
	kMD5
	kSHA1
	kSHA256
	kUserSid
	kUID
	kUserName
	kGID
	kTargetFileName
	kFileName
	kFilePath
	kSize
	kDomainName
	kRequestType
	kIP4Records
	kRemoteAddressIP4
	kRemoteAddressIP6
	kRemotePort
	kLocalAddressIP4
	kLocalAddressIP6
	kLocalPort
	kProtocol
	kConnectionDirection
	kRegObjectName
	kRegValueName
	kRegStringValue
	kRegType
	kLogonType
	kLogonDomain
	kOriginalFilename
	kWorkingDirectory
	nSlots
)

var schema = norm.NewSchema(
	"event_simpleName", "event_platform", "timestamp", "ContextTimeStamp", "id", "aid", "cid", "aip",
	"ConfigBuild", "ComputerName", "OSVersionString", "CommandLine", "ImageFileName", "ParentBaseFileName",
	"RawProcessId", "TargetProcessId", "ParentProcessId", "ContextProcessId", "ProcessStartTime", "ProcessEndTime",
	"ExitCode", "MD5HashData", "SHA1HashData", "SHA256HashData", "UserSid", "UID", "UserName", "GID",
	"TargetFileName", "FileName", "FilePath", "Size", "DomainName", "RequestType", "IP4Records",
	"RemoteAddressIP4", "RemoteAddressIP6", "RemotePort", "LocalAddressIP4", "LocalAddressIP6", "LocalPort",
	"Protocol", "ConnectionDirection", "RegObjectName", "RegValueName", "RegStringValue", "RegType",
	"LogonType", "LogonDomain", "OriginalFilename", "CurrentDirectoryName",
)

// state is what one Normalize call reuses.
type state struct {
	p     event.Parser
	rec   norm.Rec
	other []kv
}

type kv struct {
	k string
	v event.Node
}

var pool = sync.Pool{New: func() any {
	s := &state{}
	s.rec.Other = func(k string, v event.Node) { s.other = append(s.other, kv{k, v}) }
	return s
}}

// ErrNoSimpleName rejects a JSON object that has no event_simpleName.
var ErrNoSimpleName = errors.New("crowdstrike: no event_simpleName")

// ErrNoTime rejects an event with neither a usable ContextTimeStamp nor timestamp.
var ErrNoTime = errors.New("crowdstrike: no usable ContextTimeStamp or timestamp")

// Normalize appends the ECS document of one FDR event to dst.
func Normalize(dst, line []byte, file string) ([]byte, error) {
	s := pool.Get().(*state)
	defer pool.Put(s)
	doc, err := s.p.Parse(line)
	if err != nil {
		return dst, err
	}
	s.other = s.other[:0]
	schema.Read(doc.Root(), &s.rec)
	d, err := build(&s.rec, s.other, file)
	if err != nil {
		return dst, err
	}
	return d.AppendJSON(dst), nil
}

func build(r *norm.Rec, other []kv, file string) (*event.Builder, error) {
	name := r.Str(kSimpleName)
	if name == "" {
		return nil, ErrNoSimpleName
	}
	var created time.Time
	hasCreated := false
	if ms, ok := r.Int(kTimestamp); ok {
		created, hasCreated = time.UnixMilli(ms), true
	}
	ts, ok := contextTime(r.Str(kContextTimeStamp))
	if !ok {
		if !hasCreated {
			return nil, ErrNoTime
		}
		ts = created
	}

	d := event.NewBuilder()
	norm.DataStream(d, Dataset)
	d.Set("@timestamp", norm.ISO(ts))
	d.Set("ecs.version", "8.11.0")

	ev := d.Obj("event")
	ev.Set("action", name)
	cat := categorize(name)
	if len(cat.category) > 0 {
		ev.SetList("category", cat.category)
	}
	if len(cat.typ) > 0 {
		ev.SetList("type", cat.typ)
	}
	ev.Str("kind", cat.kind)
	if cat.outcome != "" {
		ev.Set("outcome", cat.outcome)
	}
	if hasCreated {
		ev.Set("created", norm.ISO(created))
	}
	if id := r.Str(kID); id != "" {
		ev.Set("id", id+"|"+r.Str(kAid)+"|"+r.Str(kCid))
	}
	ev.Set("dataset", Dataset)
	ev.Set("module", "crowdstrike")
	d.Set("message", name)

	aid := r.Str(kAid)
	if aid != "" {
		d.Set("device.id", aid)
	}
	obs := d.Obj("observer")
	obs.Str("serial_number", aid)
	obs.Str("version", r.Str(kConfigBuild))
	var relatedIP []string
	if aip := r.Str(kAip); aip != "" {
		obs.SetList("ip", []string{aip})
		obs.SetList("address", []string{aip})
		relatedIP = append(relatedIP, aip)
	}
	obs.Set("vendor", "crowdstrike")
	obs.Set("type", "agent")

	host := d.Obj("host")
	host.Str("id", aid)
	if cn := r.Str(kComputerName); cn != "" {
		host.Set("hostname", cn)
		host.Set("name", cn)
	}
	osType := ""
	switch r.Str(kPlatform) {
	case "Win":
		osType = "windows"
	case "Lin":
		osType = "linux"
	case "Mac":
		osType = "macos"
	}
	if osType != "" {
		host.Set("os.type", osType)
	}
	host.Str("os.version", r.Str(kOSVersion))

	// Process.
	proc := d.Obj("process")
	cmd := r.Str(kCommandLine)
	if cmd != "" {
		proc.Set("command_line", cmd)
		if osType != "" {
			if args := norm.Argv(cmd); len(args) > 0 {
				proc.SetList("args", args)
				proc.SetInt("args_count", int64(len(args)))
			}
		}
	}
	if exe := r.Str(kImageFileName); exe != "" {
		proc.Set("executable", exe)
		proc.Set("name", processName(exe))
	}
	proc.Str("working_directory", r.Str(kWorkingDirectory))
	if pid, ok := r.Int(kRawProcessID); ok {
		proc.SetInt("pid", pid)
	}
	entity := r.Str(kTargetProcessID)
	if entity == "" {
		entity = r.Str(kContextProcessID)
	}
	proc.Str("entity_id", entity)
	if code, ok := r.Int(kExitCode); ok {
		proc.SetInt("exit_code", code)
	}
	if t, ok := norm.EpochSeconds(r.Str(kProcessStartTime)); ok {
		proc.Set("start", norm.ISO(t))
	}
	if t, ok := norm.EpochSeconds(r.Str(kProcessEndTime)); ok {
		proc.Set("end", norm.ISO(t))
	}
	proc.Str("pe.original_file_name", r.Str(kOriginalFilename))
	par := proc.Obj("parent")
	par.Str("entity_id", r.Str(kParentProcessID))
	par.Str("name", r.Str(kParentBaseFileName))

	var relatedHash []string
	if strings.Contains(name, "Process") || strings.Contains(name, "Service") {
		for _, h := range [...]struct {
			slot int
			key  string
		}{{kMD5, "md5"}, {kSHA256, "sha256"}, {kSHA1, "sha1"}} {
			v := r.Str(h.slot)
			if v == "" || strings.Trim(v, "0") == "" {
				continue
			}
			proc.Set("hash."+h.key, v)
			relatedHash = append(relatedHash, v)
		}
	}

	// User.
	user := d.Obj("user")
	uid := r.Str(kUID)
	if uid == "" {
		uid = r.Str(kUserSid)
	}
	user.Str("id", uid)
	user.Str("name", r.Str(kUserName))
	user.Str("domain", r.Str(kLogonDomain))
	user.Str("group.id", r.Str(kGID))

	// File events.
	if tf := firstOf(r, kTargetFileName, kFilePath); tf != "" && isFileEvent(name, cat) {
		f := d.Obj("file")
		f.Set("path", tf)
		base := norm.WinBase(tf)
		if fn := r.Str(kFileName); fn != "" {
			base = fn
		}
		f.Str("name", base)
		if dir := strings.TrimSuffix(tf, base); dir != tf {
			f.Str("directory", strings.TrimRight(dir, `\/`))
		}
		f.Str("extension", norm.Ext(base))
		if n, ok := r.Int(kSize); ok {
			f.SetInt("size", n)
		}
	}

	// DNS.
	if dn := r.Str(kDomainName); dn != "" {
		dns := d.Obj("dns")
		dns.Set("question.name", dn)
		dns.Str("question.type", r.Str(kRequestType))
		if ips := r.Str(kIP4Records); ips != "" {
			var list []string
			for _, ip := range strings.Split(ips, ";") {
				if ip = strings.TrimSpace(ip); ip != "" {
					list = append(list, ip)
				}
			}
			if len(list) > 0 {
				dns.SetList("resolved_ip", list)
			}
		}
	}

	// Network.
	remote := firstOf(r, kRemoteAddressIP4, kRemoteAddressIP6)
	local := firstOf(r, kLocalAddressIP4, kLocalAddressIP6)
	if remote != "" || local != "" {
		src, dstObj := "source", "destination"
		if strings.Contains(name, "Accept") || strings.Contains(name, "Listen") || r.Str(kConnectionDirection) == "1" {
			src, dstObj = "destination", "source"
			d.Set("network.direction", "ingress")
		} else {
			d.Set("network.direction", "egress")
		}
		if local != "" {
			d.Set(src+".ip", local)
			relatedIP = norm.AppendUnique(relatedIP, local)
		}
		if p, ok := r.Int(kLocalPort); ok {
			d.SetInt(src+".port", p)
		}
		if remote != "" {
			d.Set(dstObj+".ip", remote)
			relatedIP = norm.AppendUnique(relatedIP, remote)
		}
		if p, ok := r.Int(kRemotePort); ok {
			d.SetInt(dstObj+".port", p)
		}
		switch r.Str(kProtocol) {
		case "6":
			d.Set("network.transport", "tcp")
		case "17":
			d.Set("network.transport", "udp")
		case "1":
			d.Set("network.transport", "icmp")
		}
		d.Str("network.iana_number", r.Str(kProtocol))
	}

	// Registry.
	if key := r.Str(kRegObjectName); key != "" {
		reg := d.Obj("registry")
		reg.Set("key", key)
		val := r.Str(kRegValueName)
		reg.Str("value", val)
		path := key
		if val != "" {
			path = key + `\` + val
		}
		reg.Set("path", path)
		reg.Str("hive", hive(key))
		if sv := r.Str(kRegStringValue); sv != "" {
			reg.SetList("data.strings", []string{sv})
		}
	}

	related := d.Obj("related")
	if len(relatedHash) > 0 {
		related.SetList("hash", relatedHash)
	}
	if len(relatedIP) > 0 {
		related.SetList("ip", relatedIP)
	}
	if users := norm.AppendUnique(nil, r.Str(kUserName), r.Str(kUserSid)); len(users) > 0 {
		related.SetList("user", users)
	}
	if file != "" {
		d.Set("log.file.path", file)
	}

	// Everything else keeps its raw name under crowdstrike.*, as the
	// pipeline's json processor leaves it.
	cs := d.Obj("crowdstrike")
	cs.SetKey("event_simpleName", name)
	for _, o := range other {
		if t := o.v.Text(); t != "" {
			switch o.v.Kind() {
			case event.NodeObject, event.NodeArray, event.NodeNull:
				continue
			}
			cs.SetKey(o.k, t)
		}
	}
	return d, nil
}

func firstOf(r *norm.Rec, slots ...int) string {
	for _, s := range slots {
		if v := r.Str(s); v != "" {
			return v
		}
	}
	return ""
}

// processName is the pipeline's rule: the last segment only for paths that
// start with a separator.
func processName(exe string) string {
	switch exe[0] {
	case '\\':
		return norm.Base(exe, '\\')
	case '/':
		return norm.Base(exe, '/')
	}
	return exe
}

// contextTime parses ContextTimeStamp: Unix seconds with a fraction, or a
// Windows FILETIME (values above 0x0100000000000000).
func contextTime(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, false
	}
	if !strings.ContainsAny(s, ".eE") {
		var n uint64
		for _, c := range []byte(s) {
			if c < '0' || c > '9' || n > (1<<63)/10 {
				return norm.EpochSeconds(s)
			}
			n = n*10 + uint64(c-'0')
		}
		if n > 0x0100000000000000 {
			return norm.FileTime(int64(n)), true
		}
	}
	return norm.EpochSeconds(s)
}

func isFileEvent(name string, c category) bool {
	for _, x := range c.category {
		if x == "file" {
			return true
		}
	}
	return strings.HasSuffix(name, "Written") || strings.Contains(name, "File")
}

// hive names the registry hive of an FDR registry object name
// (\REGISTRY\MACHINE\..., \REGISTRY\USER\...).
func hive(key string) string {
	k := strings.ToUpper(key)
	switch {
	case strings.HasPrefix(k, `\REGISTRY\MACHINE`):
		return "HKLM"
	case strings.HasPrefix(k, `\REGISTRY\USER`):
		return "HKU"
	}
	return ""
}
