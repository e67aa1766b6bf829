// Package crowdstrike normalises CrowdStrike Falcon Data Replicator (FDR)
// events, one flat JSON object per line with string values, into the ECS
// documents of Elastic's CrowdStrike integration (data stream
// logs-crowdstrike.fdr-default), following its ingest pipeline
// (packages/crowdstrike/data_stream/fdr: default.yml and categorize.yml).
//
// Reproduced quirks: process.name is the last segment of ImageFileName only
// when it starts with "\" or "/", else the whole string (a "C:\..." path is
// not split); process.args use the Windows argv rules on every platform and
// only when host.os.type is known, empty arguments dropped; @timestamp is
// ContextTimeStamp (Unix seconds, or a Windows FILETIME when above
// 0x0100000000000000), as the pipeline version described in
// ../shared/telemetry/crowdstrike_fdr does, and otherwise event.created
// (UTCTimestamp, else "timestamp", Unix milliseconds); the newest pipeline
// keeps ContextTimeStamp under crowdstrike.* and always uses event.created.
// All-zero hashes are dropped. Fields the pipeline does not map stay under
// crowdstrike.* as strings.
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
	kUTCTimestamp
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
	kTargetImageFileName
	kParentBaseFileName
	kContextBaseFileName
	kContextImageFileName
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
	kRUID
	kRGID
	kIntegrityLevel
	kOriginalFilename
	kTargetFileName
	kSourceFileName
	kSize
	kDomainName
	kRequestType
	kRemoteAddressIP4
	kRemoteAddressIP6
	kRemotePort
	kLocalAddressIP4
	kLocalAddressIP6
	kLocalPort
	kProtocol
	kConnectionDirection
	kCurrentLocalIP
	kLocalIP
	kRegObjectName
	kRegValueName
	kRegStringValue
	kRegType
	kRegOperationType
	nSlots
)

var schema = norm.NewSchema(
	"event_simpleName", "event_platform", "timestamp", "UTCTimestamp", "ContextTimeStamp", "id", "aid", "cid", "aip",
	"ConfigBuild", "ComputerName", "OSVersionString", "CommandLine", "ImageFileName", "TargetImageFileName",
	"ParentBaseFileName", "ContextBaseFileName", "ContextImageFileName",
	"RawProcessId", "TargetProcessId", "ParentProcessId", "ContextProcessId", "ProcessStartTime", "ProcessEndTime",
	"ExitCode", "MD5HashData", "SHA1HashData", "SHA256HashData", "UserSid", "UID", "UserName", "GID", "RUID", "RGID",
	"IntegrityLevel", "OriginalFilename", "TargetFileName", "SourceFileName", "Size", "DomainName", "RequestType",
	"RemoteAddressIP4", "RemoteAddressIP6", "RemotePort", "LocalAddressIP4", "LocalAddressIP6", "LocalPort",
	"Protocol", "ConnectionDirection", "CurrentLocalIP", "LocalIP", "RegObjectName", "RegValueName", "RegStringValue", "RegType", "RegOperationType",
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
	dst = d.AppendJSON(dst)
	event.ReleaseBuilder(d)
	return dst, nil
}

func build(r *norm.Rec, other []kv, file string) (*event.Builder, error) {
	name := r.Str(kSimpleName)
	if name == "" {
		return nil, ErrNoSimpleName
	}
	created, hasCreated := createdTime(r)
	ts, ok := contextTime(r.Str(kContextTimeStamp))
	if !ok {
		if !hasCreated {
			return nil, ErrNoTime
		}
		ts = created
	}

	d := event.AcquireBuilder()
	norm.DataStream(d, Dataset)
	d.Set("@timestamp", norm.ISO(ts))
	d.Set("ecs.version", "8.11.0")

	cat := categorize(name)
	has := func(c string) bool {
		for _, x := range cat.category {
			if x == c {
				return true
			}
		}
		return false
	}
	isProcess, isLibrary, isFile, isNetwork, isDriver := has("process"), has("library"), has("file"), has("network"), has("driver")

	ev := d.Obj("event")
	ev.Set("action", name)
	if len(cat.category) > 0 {
		ev.SetList("category", cat.category)
	}
	if len(cat.typ) > 0 {
		ev.SetList("type", cat.typ)
	}
	ev.Str("kind", cat.kind)
	ev.Str("outcome", cat.outcome)
	if hasCreated {
		ev.Set("created", norm.ISO(created))
	}
	if id, aid, cid := r.Str(kID), r.Str(kAid), r.Str(kCid); id != "" || aid != "" || cid != "" {
		ev.Set("id", id+"|"+aid+"|"+cid)
	}
	ev.Set("dataset", Dataset)
	ev.Set("module", "crowdstrike")
	d.Set("message", name)

	aid := r.Str(kAid)
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
	if aid != "" {
		d.Set("device.id", aid)
	}

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
	host.Str("os.type", osType)
	host.Str("os.version", r.Str(kOSVersion))
	windows, linux := osType == "windows", osType == "linux"

	// Hashes, all-zero ones dropped; they go to process.hash, dll.hash or
	// file.hash depending on the event.
	var hashes [3][2]string
	var relatedHash []string
	nh := 0
	for _, h := range [...]struct {
		slot int
		key  string
	}{{kMD5, "md5"}, {kSHA1, "sha1"}, {kSHA256, "sha256"}} {
		v := r.Str(h.slot)
		if v == "" || strings.Trim(v, "0") == "" {
			continue
		}
		hashes[nh] = [2]string{h.key, v}
		nh++
		relatedHash = append(relatedHash, v)
	}
	putHashes := func(b *event.Builder) {
		for _, h := range hashes[:nh] {
			b.Set("hash."+h[0], h[1])
		}
	}

	// Process.
	proc := d.Obj("process")
	cmd := r.Str(kCommandLine)
	if cmd != "" {
		proc.Set("command_line", cmd)
		if osType != "" {
			// The pipeline's split drops empty arguments ("").
			args := norm.Argv(cmd)
			kept := args[:0]
			for _, a := range args {
				if a != "" {
					kept = append(kept, a)
				}
			}
			proc.SetList("args", kept)
			proc.SetInt("args_count", int64(len(kept)))
		}
	}
	image := r.Str(kImageFileName)
	if image != "" && !isLibrary && !isDriver {
		proc.Set("executable", image)
		proc.Set("name", processName(image))
	}
	if code, ok := r.Int(kExitCode); ok {
		proc.SetInt("exit_code", code)
	}
	if t, ok := norm.EpochSeconds(r.Str(kProcessStartTime)); ok {
		proc.Set("start", norm.ISO(t))
	}
	if t, ok := norm.EpochSeconds(r.Str(kProcessEndTime)); ok {
		proc.Set("end", norm.ISO(t))
	}
	if pid, ok := r.Int(kRawProcessID); ok {
		proc.SetInt("pid", pid)
	}
	proc.Str("entity_id", firstOf(r, kTargetProcessID, kContextProcessID))
	par := proc.Obj("parent")
	par.Str("entity_id", r.Str(kParentProcessID))
	if isNetwork {
		proc.Str("name", r.Str(kContextBaseFileName))
	}
	par.Str("name", r.Str(kParentBaseFileName))
	if nh > 0 && (strings.Contains(name, "Process") || strings.Contains(name, "Service")) {
		putHashes(proc)
	}
	if lvl := integrityLevels[r.Str(kIntegrityLevel)]; lvl != "" {
		proc.Set("Ext.token.integrity_level_name", lvl)
	}
	if isProcess && windows {
		proc.Str("pe.original_file_name", r.Str(kOriginalFilename))
	}
	if ruid := r.Str(kRUID); ruid != "" {
		proc.Set("real_user.id", ruid)
		d.Set("user.Ext.real.id", ruid)
	}
	if rgid := r.Str(kRGID); rgid != "" && linux {
		proc.Set("real_group.id", rgid)
		d.Set("group.Ext.real.id", rgid)
	}
	if gid := r.Str(kGID); gid != "" && linux {
		proc.Set("group.id", gid)
		d.Set("group.id", gid)
	}

	// Libraries (Windows): the image is the DLL, the target image the
	// process that loaded it.
	if (isLibrary || isDriver) && windows {
		dll := d.Obj("dll")
		dll.Str("pe.original_file_name", r.Str(kOriginalFilename))
		if isLibrary {
			if i := strings.LastIndexByte(image, '\\'); i >= 0 {
				dll.Set("name", image[i+1:])
			}
			dll.Str("path", image)
			putHashes(dll)
			if t := r.Str(kTargetImageFileName); t != "" {
				proc.Set("executable", t)
				if i := strings.LastIndexByte(t, '\\'); i >= 0 {
					proc.Set("name", t[i+1:])
				}
			}
		}
	}

	// Registry.
	if key := r.Str(kRegObjectName); key != "" {
		reg := d.Obj("registry")
		val := r.Str(kRegValueName)
		if val != "" {
			reg.Set("path", key+`\`+val)
			reg.Set("value", val)
		} else {
			reg.Set("path", key)
		}
		reg.Set("key", trimHive(key))
		if sv := r.Str(kRegStringValue); sv != "" {
			reg.SetList("data.strings", []string{sv})
		}
		if t := regTypes[r.Str(kRegType)]; t != "" {
			reg.Set("data.type", t)
		}
	}
	if t := regOperations[r.Str(kRegOperationType)]; t != "" {
		ev.SetList("type", []string{t})
	}

	// User.
	user := d.Obj("user")
	user.Str("id", firstOf(r, kUID, kUserSid))
	user.Str("name", r.Str(kUserName))
	user.Str("group.id", r.Str(kGID))

	// Network: ConnectionDirection 0 is outbound, 1 inbound; the local end
	// is the source of outbound traffic (and of traffic of unknown
	// direction, which the pipeline treats as outbound) and the destination
	// of inbound traffic.
	switch dir := r.Str(kConnectionDirection); dir {
	case "0":
		d.Set("network.direction", "outbound")
	case "1":
		d.Set("network.direction", "inbound")
	case "":
	default:
		d.Set("network.direction", "unknown")
	}
	// LocalAddressIP4/6 are whitespace-separated lists: all go to
	// related.ip, the first is the local address unless CurrentLocalIP or
	// LocalIP is set (outbound_network.yml / inbound_network.yml).
	local := firstOf(r, kCurrentLocalIP, kLocalIP)
	for _, slot := range []int{kLocalAddressIP4, kLocalAddressIP6} {
		for _, ip := range strings.Fields(r.Str(slot)) {
			if local == "" {
				local = ip
			}
			relatedIP = norm.AppendUnique(relatedIP, ip)
		}
	}
	remote := firstOf(r, kRemoteAddressIP4, kRemoteAddressIP6)
	if local != "" || remote != "" {
		src, dst := "source", "destination"
		if r.Str(kConnectionDirection) == "1" {
			src, dst = dst, src
		}
		if local != "" {
			d.Set(src+".ip", local)
			d.Set(src+".address", local)
		}
		if p, ok := r.Int(kLocalPort); ok {
			d.SetInt(src+".port", p)
		}
		if remote != "" {
			d.Set(dst+".ip", remote)
			d.Set(dst+".address", remote)
		}
		if p, ok := r.Int(kRemotePort); ok {
			d.SetInt(dst+".port", p)
		}
		relatedIP = norm.AppendUnique(relatedIP, local, remote)
	}
	if proto := r.Str(kProtocol); proto != "" {
		d.Set("network.iana_number", proto)
		d.Str("network.transport", transports[proto])
	}

	// DNS.
	if strings.Contains(strings.ToLower(name), "dnsrequest") {
		d.Set("dns.type", "query")
		d.Set("network.protocol", "dns")
		dns := d.Obj("dns")
		dns.Str("question.name", r.Str(kDomainName))
		dns.Str("question.type", dnsTypes[r.Str(kRequestType)])
	}

	// Files.
	path := r.Str(kSourceFileName)
	renamed := name == "NewExecutableRenamed" || name == "FileRenameInfo"
	if renamed || path == "" {
		if t := r.Str(kTargetFileName); t != "" {
			path = t
		}
	}
	if path != "" {
		f := d.Obj("file")
		f.Set("path", path)
		if renamed {
			f.Str("Ext.original.path", r.Str(kSourceFileName))
		}
		isDir := strings.Contains(name, "Directory") || strings.HasSuffix(path, `\`) || strings.HasSuffix(path, "/")
		if isDir {
			f.Set("type", "dir")
		} else {
			f.Set("type", "file")
		}
		fileParts(f, path, !isDir)
	}
	if n, ok := r.Int(kSize); ok {
		d.SetInt("file.size", n)
	}
	if isFile && windows {
		d.Str("file.pe.original_file_name", r.Str(kOriginalFilename))
	}
	if nh > 0 && (strings.Contains(name, "File") || strings.Contains(name, "Directory") || strings.Contains(name, "Executable")) {
		putHashes(d.Obj("file"))
	}
	if strings.HasSuffix(name, "Written") {
		proc.Str("name", r.Str(kContextBaseFileName))
		if windows {
			proc.Str("executable", r.Str(kContextImageFileName))
		}
	}

	related := d.Obj("related")
	if len(relatedHash) > 0 {
		related.SetList("hash", relatedHash)
	}
	if len(relatedIP) > 0 {
		related.SetList("ip", relatedIP)
	}
	if users := norm.AppendUnique(nil, r.Str(kUserName), firstOf(r, kUID, kUserSid)); len(users) > 0 {
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
		switch o.v.Kind() {
		case event.NodeObject, event.NodeArray, event.NodeNull:
			continue
		}
		if t := o.v.Text(); t != "" {
			cs.SetKey(o.k, t)
		}
	}
	return d, nil
}

// createdTime is event.created: UTCTimestamp (Unix seconds below 1e10,
// else milliseconds), else timestamp (milliseconds).
func createdTime(r *norm.Rec) (time.Time, bool) {
	if n, ok := r.Int(kUTCTimestamp); ok {
		if n < 1e10 {
			return time.Unix(n, 0), true
		}
		return time.UnixMilli(n), true
	}
	if n, ok := r.Int(kTimestamp); ok {
		return time.UnixMilli(n), true
	}
	if t, ok := norm.Date(r.Str(kTimestamp)); ok {
		return t, true
	}
	return time.Time{}, false
}

// fileParts sets file.name, directory, extension (files only) and
// drive_letter from a path, as the pipeline's parse_file_path script does.
func fileParts(f *event.Builder, path string, isFile bool) {
	if len(path) <= 1 {
		return
	}
	p := strings.TrimSuffix(strings.TrimSuffix(path, "/"), `\`)
	i := strings.LastIndexByte(p, '\\')
	if i < 0 {
		i = strings.LastIndexByte(p, '/')
	}
	if i > -1 {
		f.Set("name", p[i+1:])
		f.Set("directory", p[:i])
		if j := strings.LastIndexByte(p[i+1:], '.'); j > -1 && isFile {
			f.Set("extension", p[i+1+j+1:])
		}
	}
	if strings.IndexByte(p, ':') == 1 {
		f.Set("drive_letter", strings.ToUpper(p[:1]))
	}
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

// trimHive drops the \REGISTRY\USER\ or \REGISTRY\MACHINE\ prefix (registry.key).
func trimHive(key string) string {
	for _, p := range []string{`\REGISTRY\USER\`, `\REGISTRY\MACHINE\`} {
		if strings.HasPrefix(key, p) {
			return key[len(p):]
		}
	}
	return key
}
