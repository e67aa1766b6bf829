// Package endgame normalises events of the legacy Endgame / EQL schema
// (process_name, command_line, parent_process_name, event_type with
// event_subtype_full, FILETIME timestamp; as in endgameinc/eql's test data)
// into the ECS-shaped documents of the endgame-* indices that Elastic's
// prebuilt rules query (field list: detection-rules'
// etc/endgame_schemas/8.4.0). No raw-to-ECS pipeline for Endgame is
// public, so the mapping pairs each legacy field with the ECS field of the
// same meaning; the legacy values also stay under endgame.* (rules read
// endgame.event_subtype_full).
//
// The legacy schema has no OS field: host.os.type is "windows" when a path
// of the event is a Windows path (drive letter, UNC or NT form), "linux"
// or "macos" never (they cannot be told apart), else absent.
package endgame

import (
	"bytes"
	"errors"
	"strings"
	"sync"

	"github.com/vigilsec/vigil/event"
	"github.com/vigilsec/vigil/source/internal/norm"
)

// Index is the index the documents are given (rules use endgame-*).
const Index = "endgame-8.4.0"

var subtypeKey = []byte(`"event_subtype_full"`)
var typeFullKey = []byte(`"event_type_full"`)

// Sniff reports whether rec looks like a legacy Endgame event.
func Sniff(rec []byte) bool {
	return bytes.Contains(rec, subtypeKey) || bytes.Contains(rec, typeFullKey)
}

const (
	kEventType = iota
	kSubtypeFull
	kTypeFull
	kSubtype
	kOpcode
	kTimestamp
	kSerial
	kPID
	kPPID
	kUniquePID
	kUniquePPID
	kProcessName
	kProcessPath
	kCommandLine
	kParentName
	kParentPath
	kParentCommandLine
	kUserName
	kUserDomain
	kUserSID
	kMD5
	kSHA1
	kSHA256
	kOriginalFileName
	kExitCode
	kFileName
	kFilePath
	kKeyPath
	kRegistryKey
	kRegistryPath
	kRegistryValue
	kRegistryType
	kBytesWrittenStrings
	kSourceAddress
	kSourcePort
	kDestAddress
	kDestPort
	kProtocol
	kQueryName
	kHostname
	kAuthID
	nSlots
)

var schema = norm.NewSchema(
	"event_type", "event_subtype_full", "event_type_full", "subtype", "opcode", "timestamp", "serial_event_id",
	"pid", "ppid", "unique_pid", "unique_ppid", "process_name", "process_path", "command_line",
	"parent_process_name", "parent_process_path", "parent_command_line", "user_name", "user_domain", "user_sid",
	"md5", "sha1", "sha256", "original_file_name", "exit_code", "file_name", "file_path", "key_path",
	"registry_key", "registry_path", "registry_value", "registry_type", "bytes_written_string_list",
	"source_address", "source_port", "destination_address", "destination_port", "protocol", "query_name",
	"hostname", "authentication_id",
)

type state struct {
	p   event.Parser
	rec norm.Rec
}

var pool = sync.Pool{New: func() any { return &state{} }}

// Errors for records that cannot be placed.
var (
	ErrNoType = errors.New("endgame: no event_type")
	ErrNoTime = errors.New("endgame: no usable timestamp (Windows FILETIME)")
)

// Normalize appends the endgame-* document of one legacy event to dst.
func Normalize(dst, line []byte, file string) ([]byte, error) {
	s := pool.Get().(*state)
	defer pool.Put(s)
	doc, err := s.p.Parse(line)
	if err != nil {
		return dst, err
	}
	schema.Read(doc.Root(), &s.rec)
	d, err := build(&s.rec, file)
	if err != nil {
		return dst, err
	}
	dst = d.AppendJSON(dst)
	event.ReleaseBuilder(d)
	return dst, nil
}

func windowsPath(s string) bool {
	return len(s) >= 3 && s[1] == ':' && (s[2] == '\\' || s[2] == '/') ||
		strings.HasPrefix(s, `\\`) || strings.HasPrefix(s, `\Device\`) || strings.HasPrefix(s, `\SystemRoot\`) ||
		strings.HasPrefix(s, `%SystemRoot%`) || strings.HasPrefix(s, `\REGISTRY\`)
}

func build(r *norm.Rec, file string) (*event.Builder, error) {
	typ := r.Str(kEventType)
	if typ == "" {
		return nil, ErrNoType
	}
	ft, ok := r.Int(kTimestamp)
	if !ok || ft <= 0 {
		return nil, ErrNoTime
	}
	sub := r.Str(kSubtypeFull)

	d := event.AcquireBuilder()
	d.Set("_index", Index)
	d.Set("@timestamp", norm.ISO(norm.FileTime(ft)))
	ev := d.Obj("event")
	ev.Set("kind", "event")
	ev.Set("module", "endgame")
	ev.Set("dataset", "endgame."+typ)
	category := typ
	if typ == "dns" {
		category = "network"
	}
	ev.SetList("category", []string{category})
	var et []string
	switch sub {
	case "creation_event":
		et = []string{"start"}
	case "already_running":
		et = []string{"info"}
	case "termination_event":
		et = []string{"end"}
	case "file_create_event":
		et = []string{"creation"}
	case "file_delete_event":
		et = []string{"deletion"}
	case "file_modify_event", "file_rename_event", "registry_modify_event":
		et = []string{"change"}
	case "registry_create_event":
		et = []string{"creation"}
	case "registry_delete_event":
		et = []string{"deletion"}
	case "ipv4_connection_attempt_event", "ipv6_connection_attempt_event":
		et = []string{"connection", "start"}
	case "ipv4_connection_accept_event", "ipv6_connection_accept_event":
		et = []string{"connection", "start"}
	case "ipv4_disconnect_received_event", "ipv6_disconnect_received_event":
		et = []string{"connection", "end"}
	case "request_event":
		et = []string{"protocol", "info"}
	default:
		switch r.Str(kSubtype) {
		case "create":
			et = []string{"creation"}
			if typ == "process" {
				et = []string{"start"}
			}
		case "terminate":
			et = []string{"end"}
		case "modify":
			et = []string{"change"}
		case "delete":
			et = []string{"deletion"}
		}
	}
	if len(et) > 0 {
		ev.SetList("type", et)
	}
	ev.Str("action", sub)
	if n, ok := r.Int(kSerial); ok {
		ev.SetInt("sequence", n)
	}

	eg := d.Obj("endgame")
	eg.Str("event_subtype_full", sub)
	eg.Str("event_type_full", r.Str(kTypeFull))
	eg.Str("opcode", r.Str(kOpcode))
	eg.Str("unique_pid", r.Str(kUniquePID))
	eg.Str("unique_ppid", r.Str(kUniquePPID))

	proc := d.Obj("process")
	proc.Str("name", r.Str(kProcessName))
	proc.Str("executable", r.Str(kProcessPath))
	if cmd := r.Str(kCommandLine); cmd != "" {
		proc.Set("command_line", cmd)
		if args := norm.Argv(cmd); len(args) > 0 {
			proc.SetList("args", args)
			proc.SetInt("args_count", int64(len(args)))
		}
	}
	if n, ok := r.Int(kPID); ok {
		proc.SetInt("pid", n)
	}
	proc.Str("entity_id", r.Str(kUniquePID))
	proc.Str("hash.md5", r.Str(kMD5))
	proc.Str("hash.sha1", r.Str(kSHA1))
	proc.Str("hash.sha256", r.Str(kSHA256))
	proc.Str("pe.original_file_name", r.Str(kOriginalFileName))
	if n, ok := r.Int(kExitCode); ok {
		proc.SetInt("exit_code", n)
	}
	par := proc.Obj("parent")
	par.Str("name", r.Str(kParentName))
	par.Str("executable", r.Str(kParentPath))
	if n, ok := r.Int(kPPID); ok {
		par.SetInt("pid", n)
	}
	par.Str("entity_id", r.Str(kUniquePPID))
	if cmd := r.Str(kParentCommandLine); cmd != "" {
		par.Set("command_line", cmd)
		if args := norm.Argv(cmd); len(args) > 0 {
			par.SetList("args", args)
			par.SetInt("args_count", int64(len(args)))
		}
	}

	user := d.Obj("user")
	user.Str("name", r.Str(kUserName))
	user.Str("domain", r.Str(kUserDomain))
	user.Str("id", r.Str(kUserSID))

	if p := r.Str(kFilePath); p != "" {
		f := d.Obj("file")
		f.Set("path", p)
		name := r.Str(kFileName)
		if name == "" {
			name = norm.WinBase(p)
		}
		f.Set("name", name)
		f.Str("extension", norm.Ext(name))
		if dir := strings.TrimSuffix(p, name); dir != p {
			f.Str("directory", strings.TrimRight(dir, `\/`))
		}
	}
	if p := r.Str(kRegistryPath); p != "" || r.Str(kKeyPath) != "" {
		reg := d.Obj("registry")
		if p == "" {
			p = r.Str(kKeyPath)
		}
		reg.Set("path", p)
		reg.Str("key", r.Str(kRegistryKey))
		reg.Str("value", r.Str(kRegistryValue))
		reg.Str("data.type", r.Str(kRegistryType))
		if r.Has(kBytesWrittenStrings) {
			var list []string
			r.Node(kBytesWrittenStrings).Elements(func(v event.Node) {
				if v.Kind() == event.NodeString {
					list = append(list, v.Text())
				}
			})
			if len(list) > 0 {
				reg.SetList("data.strings", list)
			}
		}
	}
	if typ == "network" {
		d.Str("source.ip", r.Str(kSourceAddress))
		if n, ok := r.Int(kSourcePort); ok {
			d.SetInt("source.port", n)
		}
		d.Str("destination.ip", r.Str(kDestAddress))
		if n, ok := r.Int(kDestPort); ok {
			d.SetInt("destination.port", n)
		}
		d.Str("network.transport", strings.ToLower(r.Str(kProtocol)))
	}
	if q := r.Str(kQueryName); q != "" {
		d.Set("dns.question.name", q)
	}

	host := d.Obj("host")
	host.Str("hostname", r.Str(kHostname))
	host.Str("name", r.Str(kHostname))
	for _, s := range []int{kProcessPath, kParentPath, kFilePath, kCommandLine, kKeyPath, kRegistryPath} {
		if windowsPath(r.Str(s)) {
			host.Set("os.type", "windows")
			host.Set("os.family", "windows")
			break
		}
	}
	if file != "" {
		d.Set("log.file.path", file)
	}
	return d, nil
}
