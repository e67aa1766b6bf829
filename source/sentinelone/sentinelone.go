// Package sentinelone normalises SentinelOne Cloud Funnel events (one flat
// JSON object per line with dotted keys such as "tgt.process.name") into
// the ECS documents of Elastic's sentinel_one_cloud_funnel integration (data
// stream logs-sentinel_one_cloud_funnel.event-default), following its
// ingest pipelines (default.yml and the per-category pipeline-*.yml).
//
// The actor (src.process.*) is process.*; for process events the pipeline
// renames it to process.parent.* and the target (tgt.process.*) becomes
// process.*, so S1's own src.process.parent is not the ECS parent. Quirks
// kept: one pair of surrounding double quotes is trimmed from
// tgt.process.cmdline and src.process.parent.cmdline; the target's
// signature fields are set on process.* before the rename and so end up in
// process.parent.code_signature; host.os.type is endpoint.os only for the
// values ECS allows.
package sentinelone

import (
	"bytes"
	"errors"
	"strings"
	"sync"

	"github.com/vigilsec/vigil/event"
	"github.com/vigilsec/vigil/source/internal/norm"
)

// Dataset is the integration's data stream.
const Dataset = "sentinel_one_cloud_funnel.event"

var metaKey = []byte(`"meta.event.name"`)

// Sniff reports whether rec looks like a Cloud Funnel event.
func Sniff(rec []byte) bool { return bytes.Contains(rec, metaKey) }

const (
	kMetaName = iota
	kEventType
	kEventCategory
	kEventTime
	kEventID
	kEndpointName
	kEndpointOS
	kEndpointType
	kOSName
	kAgentUUID
	kGroupID
	kSrcCmd
	kSrcPath
	kSrcName
	kSrcPID
	kSrcUID
	kSrcStart
	kSrcDisplay
	kSrcUser
	kSrcMD5
	kSrcSHA1
	kSrcSHA256
	kSrcSigned
	kSrcVerified
	kSrcPublisher
	kSrcParentCmd
	kSrcParentName
	kSrcParentPath
	kSrcParentPID
	kSrcParentUID
	kTgtCmd
	kTgtPath
	kTgtName
	kTgtPID
	kTgtUID
	kTgtStart
	kTgtDisplay
	kTgtUser
	kTgtMD5
	kTgtSHA1
	kTgtSHA256
	kTgtSigned
	kTgtVerified
	kTgtPublisher
	kTgtFilePath
	kTgtFileOldPath
	kTgtFileSHA256
	kTgtFileSize
	kRegKeyPath
	kRegValue
	kRegValueType
	kSrcIP
	kSrcPort
	kDstIP
	kDstPort
	kNetDirection
	kNetProtocol
	kDNSRequest
	kDNSResponse
	kLoginUser
	kLoginSuccess
	kLoginType
	kIndicatorName
	kIndicatorCategory
	kIndicatorDescription
	nSlots
)

var schema = norm.NewSchema(
	"meta.event.name", "event.type", "event.category", "event.time", "event.id",
	"endpoint.name", "endpoint.os", "endpoint.type", "os.name", "agent.uuid", "group.id",
	"src.process.cmdline", "src.process.image.path", "src.process.name", "src.process.pid", "src.process.uid",
	"src.process.startTime", "src.process.displayName", "src.process.user", "src.process.image.md5",
	"src.process.image.sha1", "src.process.image.sha256", "src.process.signedStatus", "src.process.verifiedStatus",
	"src.process.publisher", "src.process.parent.cmdline", "src.process.parent.name", "src.process.parent.image.path",
	"src.process.parent.pid", "src.process.parent.uid",
	"tgt.process.cmdline", "tgt.process.image.path", "tgt.process.name", "tgt.process.pid", "tgt.process.uid",
	"tgt.process.startTime", "tgt.process.displayName", "tgt.process.user", "tgt.process.image.md5",
	"tgt.process.image.sha1", "tgt.process.image.sha256", "tgt.process.signedStatus", "tgt.process.verifiedStatus",
	"tgt.process.publisher",
	"tgt.file.path", "tgt.file.oldPath", "tgt.file.sha256", "tgt.file.size",
	"registry.keyPath", "registry.value", "registry.valueType",
	"src.ip.address", "src.port.number", "dst.ip.address", "dst.port.number", "event.network.direction",
	"event.network.protocolName", "event.dns.request", "event.dns.response",
	"event.login.userName", "event.login.loginIsSuccessful", "event.login.type",
	"indicator.name", "indicator.category", "indicator.description",
)

type state struct {
	p   event.Parser
	rec norm.Rec
}

var pool = sync.Pool{New: func() any { return &state{} }}

// ErrNoTime rejects an event without a usable event.time.
var ErrNoTime = errors.New("sentinelone: no usable event.time")

// Normalize appends the ECS document of one Cloud Funnel event to dst.
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
	return d.AppendJSON(dst), nil
}

// trimQuotes drops one pair of surrounding double quotes.
func trimQuotes(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return s[1 : len(s)-1]
	}
	return s
}

func build(r *norm.Rec, file string) (*event.Builder, error) {
	ts, ok := norm.Date(r.Str(kEventTime))
	if !ok {
		return nil, ErrNoTime
	}
	d := event.NewBuilder()
	norm.DataStream(d, Dataset)
	d.Set("@timestamp", norm.ISO(ts))
	d.Set("ecs.version", "8.11.0")
	ev := d.Obj("event")
	ev.Set("kind", "event")
	ev.Str("id", r.Str(kEventID))
	ev.Set("dataset", Dataset)
	ev.Set("module", "sentinel_one_cloud_funnel")
	d.Str("group.id", r.Str(kGroupID))

	host := d.Obj("host")
	host.Str("hostname", r.Str(kEndpointName))
	host.Str("id", r.Str(kAgentUUID))
	host.Str("os.name", r.Str(kOSName))
	osv := r.Str(kEndpointOS)
	host.Str("os.platform", osv)
	switch osv {
	case "linux", "windows", "macos", "ios", "android":
		host.Set("os.type", osv)
	}
	host.Str("type", r.Str(kEndpointType))
	related := norm.AppendUnique(nil, r.Str(kEndpointName), osv, r.Str(kEndpointType))

	cat := strings.ToLower(r.Str(kEventCategory))
	isProcess := strings.Contains(cat, "process") && !strings.Contains(cat, "cross")

	// The actor, as default.yml maps it; for process events
	// pipeline-process.yml drops its parent and renames it to
	// process.parent.
	proc := d.Obj("process")
	var users, hashes []string
	if isProcess {
		actor(proc.Obj("parent"), r, &users, &hashes, false)
	} else {
		actor(proc, r, &users, &hashes, true)
	}

	// user.* from the actor's "DOMAIN\name".
	if u := r.Str(kSrcUser); u != "" {
		if i := strings.IndexByte(u, '\\'); i >= 0 {
			d.Set("user.domain", u[:i])
			d.Set("user.name", u[i+1:])
		} else {
			d.Set("user.name", u)
		}
	}

	s1type := r.Str(kEventType)
	var category, typ []string
	switch {
	case isProcess:
		category = []string{"process"}
		if r.Str(kMetaName) == "PROCESSCREATION" {
			typ = []string{"start"}
		}
		switch s1type {
		case "ProcessExit", "ProcessTermination", "Process Exit", "Process Termination":
			typ = []string{"end"}
		}
		// The target's signature is set on process.* before the rename,
		// so it ends up on process.parent.*.
		par := proc.Obj("parent")
		if v := r.Str(kTgtPublisher); v != "" {
			par.Set("code_signature.subject_name", v)
		}
		signed := r.Str(kTgtSigned) == "signed"
		par.SetBool("code_signature.exists", signed)
		if r.Str(kTgtVerified) == "verified" {
			par.SetBool("code_signature.trusted", true)
		} else if signed {
			par.SetBool("code_signature.trusted", false)
		}
		target(proc, r, &users, &hashes)
	case strings.Contains(cat, "file"):
		category = []string{"file"}
		switch s1type {
		case "File Creation":
			typ = []string{"creation"}
		case "File Deletion":
			typ = []string{"deletion"}
		case "File Modification", "File Rename":
			typ = []string{"change"}
		default:
			typ = []string{"info"}
		}
		if p := r.Str(kTgtFilePath); p != "" {
			f := d.Obj("file")
			f.Set("path", p)
			name := norm.WinBase(p)
			f.Set("name", name)
			f.Str("extension", norm.Ext(name))
			f.Str("hash.sha256", r.Str(kTgtFileSHA256))
			if n, ok := r.Int(kTgtFileSize); ok {
				f.SetInt("size", n)
			}
		}
	case strings.Contains(cat, "registry"):
		category = []string{"registry"}
		switch s1type {
		case "Registry Key Create":
			typ = []string{"creation"}
		case "Registry Key Delete", "Registry Value Delete":
			typ = []string{"deletion"}
		default:
			typ = []string{"change"}
		}
		if k := r.Str(kRegKeyPath); k != "" {
			reg := d.Obj("registry")
			reg.Set("key", k)
			reg.Set("path", k)
			reg.Str("value", norm.WinBase(k))
			if v := r.Str(kRegValue); v != "" {
				reg.SetList("data.strings", []string{v})
			}
			reg.Str("data.type", r.Str(kRegValueType))
		}
	case cat == "ip" || strings.Contains(cat, "network"):
		category = []string{"network"}
		typ = []string{"connection", "start"}
		dir := strings.ToUpper(r.Str(kNetDirection))
		switch dir {
		case "INCOMING":
			d.Set("network.direction", "ingress")
		case "OUTGOING":
			d.Set("network.direction", "egress")
		}
		d.Str("source.ip", r.Str(kSrcIP))
		if p, ok := r.Int(kSrcPort); ok {
			d.SetInt("source.port", p)
		}
		d.Str("destination.ip", r.Str(kDstIP))
		if p, ok := r.Int(kDstPort); ok {
			d.SetInt("destination.port", p)
		}
		d.Str("network.transport", strings.ToLower(r.Str(kNetProtocol)))
	case strings.Contains(cat, "dns"):
		category = []string{"network"}
		typ = []string{"protocol", "info"}
		d.Str("dns.question.name", r.Str(kDNSRequest))
		d.Set("network.protocol", "dns")
	case strings.Contains(cat, "login") || strings.Contains(cat, "logon"):
		category = []string{"authentication"}
		typ = []string{"start"}
		if v, ok := r.Bool(kLoginSuccess); ok {
			if v {
				ev.Set("outcome", "success")
			} else {
				ev.Set("outcome", "failure")
			}
		}
		if u := r.Str(kLoginUser); u != "" {
			d.Set("user.name", u)
			users = norm.AppendUnique(users, u)
		}
	case strings.Contains(cat, "indicator"):
		category = []string{"threat"}
		typ = []string{"indicator"}
		ev.Set("kind", "enrichment")
		d.Str("threat.indicator.name", r.Str(kIndicatorName))
		d.Str("threat.indicator.description", r.Str(kIndicatorDescription))
		d.Str("threat.tactic.name", r.Str(kIndicatorCategory))
	}
	if len(category) > 0 {
		ev.SetList("category", category)
	}
	if len(typ) > 0 {
		ev.SetList("type", typ)
		ev.SetList("action", typ) // the pipelines copy event.type to event.action
	}

	rel := d.Obj("related")
	if len(hashes) > 0 {
		rel.SetList("hash", hashes)
	}
	if len(related) > 0 {
		rel.SetList("hosts", related)
	}
	if len(users) > 0 {
		rel.SetList("user", users)
	}
	// Process args last, as default.yml's split script runs after the
	// sub-pipelines.
	for _, p := range []string{"process", "process.parent"} {
		if cmd := d.GetStr(p + ".command_line"); cmd != "" {
			if args := norm.Argv(cmd); len(args) > 0 {
				d.SetList(p+".args", args)
				d.SetInt(p+".args_count", int64(len(args)))
			}
		}
	}
	if file != "" {
		d.Set("log.file.path", file)
	}
	return d, nil
}

// actor maps src.process.* to process.*, as default.yml does.
func actor(p *event.Builder, r *norm.Rec, users, hashes *[]string, withParent bool) {
	p.Str("command_line", r.Str(kSrcCmd))
	p.Str("executable", r.Str(kSrcPath))
	p.Str("name", r.Str(kSrcName))
	if n, ok := r.Int(kSrcPID); ok {
		p.SetInt("pid", n)
	}
	p.Str("entity_id", r.Str(kSrcUID))
	if t, ok := norm.Date(r.Str(kSrcStart)); ok {
		p.Set("start", norm.ISO(t))
	}
	p.Str("title", r.Str(kSrcDisplay))
	if u := r.Str(kSrcUser); u != "" {
		p.Set("user.name", u)
		*users = norm.AppendUnique(*users, u)
	}
	for _, h := range [...]struct {
		slot int
		key  string
	}{{kSrcMD5, "md5"}, {kSrcSHA1, "sha1"}, {kSrcSHA256, "sha256"}} {
		if v := r.Str(h.slot); v != "" {
			p.Set("hash."+h.key, v)
			*hashes = norm.AppendUnique(*hashes, v)
		}
	}
	if v := r.Str(kSrcPublisher); v != "" {
		p.Set("code_signature.subject_name", v)
	}
	if v := r.Str(kSrcSigned); v != "" {
		p.SetBool("code_signature.exists", v == "signed")
	}
	if v := r.Str(kSrcVerified); v != "" {
		p.SetBool("code_signature.trusted", v == "verified")
	}
	if !withParent {
		return
	}
	par := p.Obj("parent")
	par.Str("command_line", trimQuotes(r.Str(kSrcParentCmd)))
	par.Str("name", r.Str(kSrcParentName))
	par.Str("executable", r.Str(kSrcParentPath))
	if n, ok := r.Int(kSrcParentPID); ok {
		par.SetInt("pid", n)
	}
	par.Str("entity_id", r.Str(kSrcParentUID))
}

// target maps tgt.process.* to process.* (pipeline-process.yml, after the
// rename).
func target(p *event.Builder, r *norm.Rec, users, hashes *[]string) {
	if u := r.Str(kTgtUser); u != "" {
		p.Set("user.name", u)
		*users = norm.AppendUnique(*users, u)
	}
	p.Str("name", r.Str(kTgtName))
	p.Str("executable", r.Str(kTgtPath))
	if n, ok := r.Int(kTgtPID); ok {
		p.SetInt("pid", n)
	}
	p.Str("entity_id", r.Str(kTgtUID))
	p.Str("command_line", trimQuotes(r.Str(kTgtCmd)))
	for _, h := range [...]struct {
		slot int
		key  string
	}{{kTgtMD5, "md5"}, {kTgtSHA1, "sha1"}, {kTgtSHA256, "sha256"}} {
		if v := r.Str(h.slot); v != "" {
			p.Set("hash."+h.key, v)
			*hashes = norm.AppendUnique(*hashes, v)
		}
	}
	if t, ok := norm.Date(r.Str(kTgtStart)); ok {
		p.Set("start", norm.ISO(t))
	}
	p.Str("title", r.Str(kTgtDisplay))
}
