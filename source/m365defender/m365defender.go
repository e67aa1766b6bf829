// Package m365defender normalises Microsoft 365 Defender Advanced Hunting
// records as streamed through Azure Event Hub ({"category":
// "AdvancedHunting-Device...", "properties": {...}}) into the ECS documents
// of Elastic's m365_defender integration (data stream
// logs-m365_defender.event-default), following pipeline_device.yml.
//
// Reproduced quirks: for DeviceProcessEvents and DeviceEvents the
// InitiatingProcess* columns are process.parent.*, for the other tables
// they are process.*; host.name is lower-cased; process.args split the
// command line on single spaces and keep quotes; event.action is the
// lower-cased ActionType with spaces as '-'; the tables carry no OS column
// (only DeviceInfo's OSPlatform), so host.os.type is "windows" when the
// record has an InitiatingProcessAccountSid (the rule of the pipeline
// version the project's notes describe). file.path and registry.path are
// not set: the pipeline sets file.directory and registry.key instead.
package m365defender

import (
	"bytes"
	"errors"
	"strings"
	"sync"

	"github.com/vigilsec/vigil/event"
	"github.com/vigilsec/vigil/source/internal/norm"
)

// Dataset is the integration's data stream.
const Dataset = "m365_defender.event"

var huntingTag = []byte(`"AdvancedHunting-`)
var propertiesKey = []byte(`"properties"`)

// Sniff reports whether rec looks like a Defender streaming API record.
func Sniff(rec []byte) bool {
	return bytes.Contains(rec, huntingTag) && bytes.Contains(rec, propertiesKey)
}

const (
	tCategory = iota
	tProperties
	tTime
	nTop
)

var top = norm.NewSchema("category", "properties", "time")

const (
	kTimestamp = iota
	kActionType
	kDeviceID
	kDeviceName
	kFileName
	kFolderPath
	kMD5
	kSHA1
	kSHA256
	kFileSize
	kProcessCommandLine
	kProcessID
	kProcessCreationTime
	kProcessOriginalFileName
	kIPFileName
	kIPFolderPath
	kIPCommandLine
	kIPID
	kIPCreationTime
	kIPMD5
	kIPSHA1
	kIPSHA256
	kIPParentID
	kIPParentFileName
	kIPOriginalFileName
	kIPAccountSid
	kIPAccountName
	kIPAccountDomain
	kIPSignatureStatus
	kAccountName
	kAccountDomain
	kAccountSid
	kRegistryKey
	kRegistryValueName
	kRegistryValueData
	kRemoteIP
	kRemotePort
	kLocalIP
	kLocalPort
	kProtocol
	kRemoteURL
	kOSPlatform
	kAdditionalFields
	kFailureReason
	kLogonType
	nSlots
)

var props = norm.NewSchema(
	"Timestamp", "ActionType", "DeviceId", "DeviceName", "FileName", "FolderPath", "MD5", "SHA1", "SHA256",
	"FileSize", "ProcessCommandLine", "ProcessId", "ProcessCreationTime", "ProcessVersionInfoOriginalFileName",
	"InitiatingProcessFileName", "InitiatingProcessFolderPath", "InitiatingProcessCommandLine", "InitiatingProcessId",
	"InitiatingProcessCreationTime", "InitiatingProcessMD5", "InitiatingProcessSHA1", "InitiatingProcessSHA256",
	"InitiatingProcessParentId", "InitiatingProcessParentFileName", "InitiatingProcessVersionInfoOriginalFileName",
	"InitiatingProcessAccountSid", "InitiatingProcessAccountName", "InitiatingProcessAccountDomain",
	"InitiatingProcessSignatureStatus", "AccountName", "AccountDomain", "AccountSid", "RegistryKey",
	"RegistryValueName", "RegistryValueData", "RemoteIP", "RemotePort", "LocalIP", "LocalPort", "Protocol",
	"RemoteUrl", "OSPlatform", "AdditionalFields", "FailureReason", "LogonType",
)

type state struct {
	p, p2  event.Parser // p2: the AdditionalFields JSON string
	top, r norm.Rec
}

var pool = sync.Pool{New: func() any { return &state{} }}

// Errors for records the pipeline would reject.
var (
	ErrNoCategory   = errors.New("m365defender: no AdvancedHunting-* category")
	ErrNoProperties = errors.New("m365defender: no properties object")
	ErrNoTime       = errors.New("m365defender: no usable properties.Timestamp")
)

// Normalize appends the ECS document of one streaming API record to dst.
func Normalize(dst, line []byte, file string) ([]byte, error) {
	s := pool.Get().(*state)
	defer pool.Put(s)
	doc, err := s.p.Parse(line)
	if err != nil {
		return dst, err
	}
	top.Read(doc.Root(), &s.top)
	if !s.top.Has(tProperties) || s.top.Node(tProperties).Kind() != event.NodeObject {
		return dst, ErrNoProperties
	}
	props.Read(s.top.Node(tProperties), &s.r)
	d, err := build(s.top.Str(tCategory), &s.r, direction(&s.p2, &s.r), file)
	if err != nil {
		return dst, err
	}
	dst = d.AppendJSON(dst)
	event.ReleaseBuilder(d)
	return dst, nil
}

// direction is AdditionalFields.direction ("In", "Out"), which decides
// source and destination; AdditionalFields is a JSON object, usually
// serialised into a string, which is parsed only when it names a direction.
func direction(p *event.Parser, r *norm.Rec) string {
	if !r.Has(kAdditionalFields) {
		return ""
	}
	n := r.Node(kAdditionalFields)
	if n.Kind() == event.NodeString {
		text := n.Text()
		if !strings.Contains(text, `"direction"`) {
			return ""
		}
		doc, err := p.Parse([]byte(text))
		if err != nil {
			return "" // the pipeline records a json error and goes on
		}
		n = doc.Root()
	}
	dir := ""
	if n.Kind() == event.NodeObject {
		n.Members(func(k string, v event.Node) {
			if k == "direction" && v.Kind() == event.NodeString {
				dir = v.Text()
			}
		})
	}
	return dir
}

func build(category string, r *norm.Rec, dir, file string) (*event.Builder, error) {
	if !strings.HasPrefix(category, "AdvancedHunting-") {
		return nil, ErrNoCategory
	}
	ts, ok := norm.Date(r.Str(kTimestamp))
	if !ok {
		return nil, ErrNoTime
	}
	table := strings.ToLower(strings.TrimPrefix(category, "AdvancedHunting-"))
	action := strings.ToLower(r.Str(kActionType))

	d := event.AcquireBuilder()
	norm.DataStream(d, Dataset)
	d.Set("@timestamp", norm.ISO(ts))
	d.Set("ecs.version", "8.11.0")
	ev := d.Obj("event")
	ev.Set("kind", "event")
	ev.Set("dataset", Dataset)
	ev.Set("module", "m365_defender")

	var cats []string
	switch {
	case strings.Contains(table, "devicelogonevents"):
		cats = append(cats, "authentication")
	}
	if strings.Contains(table, "deviceevents") || strings.Contains(table, "deviceinfo") {
		cats = append(cats, "host")
	}
	if strings.Contains(table, "devicefileevents") || strings.Contains(table, "devicefilecertificateinfo") {
		cats = append(cats, "file")
	}
	if strings.Contains(table, "deviceprocessevents") {
		cats = append(cats, "process")
	}
	if strings.Contains(table, "deviceimageloadevents") {
		cats = append(cats, "library")
	}
	if strings.Contains(table, "devicenetworkevents") || strings.Contains(table, "devicenetworkinfo") {
		cats = append(cats, "network")
	}
	if strings.Contains(table, "deviceregistryevents") {
		cats = append(cats, "registry")
	}
	has := func(c string) bool {
		for _, x := range cats {
			if x == c {
				return true
			}
		}
		return false
	}
	var types []string
	if has("authentication") || has("host") || has("file") || strings.Contains(action, "openprocess") ||
		strings.Contains(action, "connectionfound") || strings.Contains(action, "networksignatureinspected") ||
		strings.Contains(action, "devicenetworkinfo") {
		types = append(types, "info")
	}
	if strings.Contains(action, "connectionsuccess") {
		types = append(types, "end")
	}
	if strings.Contains(action, "connectionfailed") {
		types = append(types, "denied")
	}
	if strings.Contains(action, "connectionrequest") || strings.Contains(action, "listeningconnectioncreated") ||
		strings.Contains(action, "processcreated") || strings.Contains(table, "deviceimageloadevents") {
		types = append(types, "start")
	}
	if strings.Contains(action, "inboundconnectionaccepted") {
		types = append(types, "allowed")
	}
	if strings.Contains(action, "registrykeycreated") {
		types = append(types, "creation")
	}
	if strings.Contains(action, "registrykeydeleted") || strings.Contains(action, "registryvaluedeleted") {
		types = append(types, "deletion")
	}
	if strings.Contains(action, "registrykeyrenamed") || strings.Contains(action, "registryvalueset") {
		types = append(types, "change")
	}
	if strings.Contains(action, "imageloaded") {
		action = "load"
	}
	if len(cats) > 0 {
		ev.SetList("category", cats)
	}
	if len(types) > 0 {
		ev.SetList("type", types)
	}
	if action != "" {
		ev.Set("action", strings.ReplaceAll(action, " ", "-"))
	}
	if strings.Contains(table, "devicelogonevents") {
		if r.Str(kFailureReason) == "" {
			ev.Set("outcome", "success")
		} else {
			ev.Set("outcome", "failure")
		}
	}

	isDeviceEvents := strings.Contains(table, "deviceevents")
	isImageLoad := strings.Contains(table, "deviceimageloadevents")
	processLike := has("process") || isDeviceEvents
	var hashes []string

	// File and DLL: FolderPath is the full path of the file.
	if len(cats) > 0 && !has("process") && !isDeviceEvents {
		f := d.Obj("file")
		f.Str("directory", r.Str(kFolderPath))
		f.Str("name", r.Str(kFileName))
		f.Str("hash.md5", r.Str(kMD5))
		f.Str("hash.sha1", r.Str(kSHA1))
		f.Str("hash.sha256", r.Str(kSHA256))
		if n, ok := r.Int(kFileSize); ok {
			f.SetInt("size", n)
		}
		hashes = norm.AppendUnique(hashes, r.Str(kMD5), r.Str(kSHA1), r.Str(kSHA256))
	}
	if isImageLoad {
		dll := d.Obj("dll")
		dll.Str("path", r.Str(kFolderPath))
		dll.Str("name", r.Str(kFileName))
		dll.Str("hash.md5", r.Str(kMD5))
		dll.Str("hash.sha1", r.Str(kSHA1))
		dll.Str("hash.sha256", r.Str(kSHA256))
	}

	proc := d.Obj("process")
	par := proc.Obj("parent")
	if processLike {
		if !isImageLoad {
			proc.Str("executable", r.Str(kFolderPath))
			proc.Str("hash.md5", r.Str(kMD5))
			proc.Str("hash.sha1", r.Str(kSHA1))
			proc.Str("hash.sha256", r.Str(kSHA256))
			proc.Str("name", r.Str(kFileName))
			hashes = norm.AppendUnique(hashes, r.Str(kMD5), r.Str(kSHA1), r.Str(kSHA256))
		}
		par.Str("command_line", r.Str(kIPCommandLine))
		par.Str("hash.md5", r.Str(kIPMD5))
		par.Str("hash.sha1", r.Str(kIPSHA1))
		par.Str("hash.sha256", r.Str(kIPSHA256))
		if n, ok := r.Int(kIPID); ok {
			par.SetInt("pid", n)
		}
		if t, ok := norm.Date(r.Str(kIPCreationTime)); ok {
			par.Set("start", norm.ISO(t))
		}
		par.Str("name", r.Str(kIPFileName))
		par.Str("executable", r.Str(kIPFolderPath))
		par.Str("group_leader.name", r.Str(kIPParentFileName))
		if n, ok := r.Int(kIPParentID); ok {
			par.SetInt("group_leader.pid", n)
		}
		par.Str("pe.original_file_name", r.Str(kIPOriginalFileName))
		switch sig := r.Str(kIPSignatureStatus); sig {
		case "Valid":
			par.SetBool("code_signature.exists", true)
			par.Set("code_signature.status", "trusted")
			par.SetBool("code_signature.trusted", true)
		case "Unsigned":
			par.SetBool("code_signature.exists", false)
			par.Set("code_signature.status", sig)
			par.SetBool("code_signature.trusted", false)
		default:
			par.Str("code_signature.status", sig)
		}
		hashes = norm.AppendUnique(hashes, r.Str(kIPMD5), r.Str(kIPSHA1), r.Str(kIPSHA256))
	} else if len(cats) > 0 {
		proc.Str("command_line", r.Str(kIPCommandLine))
		proc.Str("hash.md5", r.Str(kIPMD5))
		proc.Str("hash.sha1", r.Str(kIPSHA1))
		proc.Str("hash.sha256", r.Str(kIPSHA256))
		if n, ok := r.Int(kIPParentID); ok {
			par.SetInt("pid", n)
		}
		if n, ok := r.Int(kIPID); ok {
			proc.SetInt("pid", n)
		}
		if t, ok := norm.Date(r.Str(kIPCreationTime)); ok {
			proc.Set("start", norm.ISO(t))
		}
		proc.Str("name", r.Str(kIPFileName))
		proc.Str("executable", r.Str(kIPFolderPath))
		par.Str("name", r.Str(kIPParentFileName))
		proc.Str("pe.original_file_name", r.Str(kIPOriginalFileName))
		proc.Str("code_signature.status", r.Str(kIPSignatureStatus))
		hashes = norm.AppendUnique(hashes, r.Str(kIPMD5), r.Str(kIPSHA1), r.Str(kIPSHA256))
	}
	proc.Str("command_line", r.Str(kProcessCommandLine))
	if t, ok := norm.Date(r.Str(kProcessCreationTime)); ok {
		proc.Set("start", norm.ISO(t))
	}
	if n, ok := r.Int(kProcessID); ok {
		proc.SetInt("pid", n)
	}
	proc.Str("pe.original_file_name", r.Str(kProcessOriginalFileName))

	// Host.
	host := d.Obj("host")
	hostName := strings.ToLower(r.Str(kDeviceName))
	host.Str("name", hostName)
	host.Str("id", r.Str(kDeviceID))
	if pl := strings.ToLower(r.Str(kOSPlatform)); pl != "" {
		switch {
		case strings.Contains(pl, "windows"):
			host.Set("os.type", "windows")
		case strings.Contains(pl, "linux"):
			host.Set("os.type", "linux")
		case strings.Contains(pl, "macos"):
			host.Set("os.type", "macos")
		}
	} else if has("process") && r.Str(kIPAccountSid) != "" {
		host.Set("os.type", "windows")
	}

	// Registry.
	if k := r.Str(kRegistryKey); k != "" {
		d.Set("registry.key", k)
	}
	d.Str("registry.value", r.Str(kRegistryValueName))
	if r.Has(kRegistryValueData) {
		d.SetList("registry.data.strings", []string{r.Str(kRegistryValueData)})
	}

	// Source and destination, in the pipeline's order (later rules win):
	// for inbound connections source.ip is the remote address but
	// source.port the local port, a quirk kept here.
	network, auth := has("network"), has("authentication")
	set := func(field string, slot int, port bool) {
		if port {
			if n, ok := r.Int(slot); ok {
				d.SetInt(field, n)
			}
			return
		}
		if v := r.Str(slot); v != "" {
			d.Set(field, v)
		}
	}
	if len(cats) > 0 {
		if auth || (network && dir == "In") {
			set("source.ip", kRemoteIP, false)
		}
		if !auth && dir == "" || network && dir == "Out" {
			set("source.ip", kLocalIP, false)
		}
		if network && dir == "In" || auth {
			set("source.port", kRemotePort, true)
		}
		if !auth || network && dir == "Out" {
			set("source.port", kLocalPort, true)
		}
		if network && dir == "Out" || !auth && dir == "" {
			set("destination.ip", kRemoteIP, false)
		}
		if network && dir == "In" {
			set("destination.ip", kLocalIP, false)
		}
		if !auth && dir == "" || network && dir == "Out" {
			set("destination.port", kRemotePort, true)
		}
		if network && dir == "In" {
			set("destination.port", kLocalPort, true)
		}
	}
	if network {
		switch dir {
		case "In":
			d.Set("network.direction", "inbound")
		case "Out":
			d.Set("network.direction", "outbound")
		default:
			d.Set("network.direction", "unknown")
		}
	}
	if p := strings.ToLower(r.Str(kProtocol)); p != "" {
		d.Set("network.protocol", p)
	}

	// User.
	user := d.Obj("user")
	user.Str("name", r.Str(kAccountName))
	user.Str("domain", r.Str(kAccountDomain))
	user.Str("id", r.Str(kAccountSid))

	// Process args last, as the pipeline's scripts run near its end.
	for _, p := range []*event.Builder{proc, par} {
		if cmd := strings.TrimSpace(p.GetStr("command_line")); cmd != "" {
			p.Set("command_line", cmd)
			if args := norm.SplitSpaces(cmd); len(args) > 0 {
				p.SetList("args", args)
				p.SetInt("args_count", int64(len(args)))
			}
		}
	}

	rel := d.Obj("related")
	if len(hashes) > 0 {
		rel.SetList("hash", hashes)
	}
	if hosts := norm.AppendUnique(nil, r.Str(kDeviceID), hostName, r.Str(kAccountDomain), r.Str(kIPAccountDomain)); len(hosts) > 0 {
		rel.SetList("hosts", hosts)
	}
	if users := norm.AppendUnique(nil, r.Str(kAccountName), r.Str(kIPAccountName)); len(users) > 0 {
		rel.SetList("user", users)
	}
	if file != "" {
		d.Set("log.file.path", file)
	}
	return d, nil
}
