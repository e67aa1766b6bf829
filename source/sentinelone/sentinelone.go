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
	kTgtFileName
	kTgtFileExtension
	kTgtFileType
	kTgtFileMD5
	kTgtFileSHA1
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
	kNetStatus
	kDNSRequest
	kDNSResponse
	kLoginUser
	kLoginSrcIP
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
	"src.process.publisher", "src.process.parent.cmdline", "src.process.parent.name",
	"src.process.parent.pid", "src.process.parent.uid",
	"tgt.process.cmdline", "tgt.process.image.path", "tgt.process.name", "tgt.process.pid", "tgt.process.uid",
	"tgt.process.startTime", "tgt.process.displayName", "tgt.process.user", "tgt.process.image.md5",
	"tgt.process.image.sha1", "tgt.process.image.sha256", "tgt.process.signedStatus", "tgt.process.verifiedStatus",
	"tgt.process.publisher",
	"tgt.file.path", "tgt.file.name", "tgt.file.extension", "tgt.file.type", "tgt.file.md5", "tgt.file.sha1",
	"tgt.file.sha256", "tgt.file.size",
	"registry.keyPath", "registry.value", "registry.valueType",
	"src.ip.address", "src.port.number", "dst.ip.address", "dst.port.number", "event.network.direction",
	"event.network.protocolName", "event.network.connectionStatus", "event.dns.request", "event.dns.response",
	"event.login.userName", "src.endpoint.ip.address",
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
	dst = d.AppendJSON(dst)
	event.ReleaseBuilder(d)
	return dst, nil
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
	d := event.AcquireBuilder()
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
	lt := strings.ToLower(s1type)
	d.Str("file.name", r.Str(kTgtFileName))
	var category, typ, action []string
	var relatedIP []string
	if strings.Contains(cat, "dns") {
		category, typ, action = []string{"network"}, []string{"info", "protocol"}, []string{"lookup_requested"}
		dnsFields(d, r.Str(kDNSRequest), r.Str(kDNSResponse), &related)
	}
	if strings.Contains(cat, "file") {
		category = []string{"file"}
		typ, action = nil, nil
		switch {
		case strings.Contains(lt, "creat"):
			typ, action = []string{"creation"}, []string{"creation"}
		case strings.Contains(lt, "delet"):
			typ, action = []string{"deletion"}, []string{"deletion"}
		}
		if strings.Contains(lt, "change") || strings.Contains(lt, "modif") || strings.Contains(lt, "rename") {
			typ = []string{"change"}
		}
		if strings.Contains(lt, "change") || strings.Contains(lt, "modif") {
			action = []string{"change"}
		}
		if strings.Contains(lt, "rename") {
			action = []string{"rename"}
		}
		if typ == nil {
			typ = []string{"info"}
		}
		f := d.Obj("file")
		f.Str("extension", r.Str(kTgtFileExtension))
		f.Str("hash.md5", r.Str(kTgtFileMD5))
		f.Str("hash.sha1", r.Str(kTgtFileSHA1))
		f.Str("hash.sha256", r.Str(kTgtFileSHA256))
		hashes = norm.AppendUnique(hashes, r.Str(kTgtFileMD5), r.Str(kTgtFileSHA1), r.Str(kTgtFileSHA256))
		ftype := r.Str(kTgtFileType)
		f.Str("type", ftype)
		if p := r.Str(kTgtFilePath); p != "" {
			f.Set("path", p)
			if len(p) > 1 {
				i := strings.LastIndexByte(p, '\\')
				if i == -1 {
					i = strings.LastIndexByte(p, '/')
				}
				if i > -1 {
					f.Set("name", p[i+1:])
					f.Set("directory", p[:i])
					if j := strings.LastIndexByte(p[i+1:], '.'); j > -1 && ftype == "file" {
						f.Set("extension", p[i+1+j+1:])
					}
				}
				if strings.IndexByte(p, ':') == 1 {
					f.Set("drive_letter", strings.ToUpper(p[:1]))
				}
			}
		}
		if n, ok := r.Int(kTgtFileSize); ok {
			f.SetInt("size", n)
		}
	}
	if strings.Contains(cat, "indicator") && !strings.Contains(cat, "threat") {
		ind := d.Obj("sentinel_one_cloud_funnel").Obj("event").Obj("indicator")
		ind.Str("category", r.Str(kIndicatorCategory))
		ind.Str("description", r.Str(kIndicatorDescription))
		ind.Str("name", r.Str(kIndicatorName))
	}
	if strings.Contains(cat, "login") {
		category = []string{"authentication"}
		switch s1type {
		case "Login":
			typ = []string{"start"}
		case "Logout":
			typ = []string{"end"}
		default:
			typ = []string{"info"}
		}
		if u := r.Str(kLoginUser); u != "" {
			d.Set("user.name", u)
			users = norm.AppendUnique(users, u)
		}
		if ip := r.Str(kLoginSrcIP); ip != "" {
			d.SetList("host.ip", []string{ip})
			relatedIP = norm.AppendUnique(relatedIP, ip)
			related = norm.AppendUnique(related, ip)
		}
	}
	if strings.Contains(cat, "ip") && !strings.Contains(cat, "command") {
		category = []string{"network"}
		connect := s1type == "IPConnect" || s1type == "IP Connect"
		typ = nil
		if connect {
			typ = []string{"start", "connection"}
		}
		dir := strings.ToLower(r.Str(kNetDirection))
		if connect && dir == "outgoing" {
			action = []string{"connection_attempted"}
		} else if connect && dir == "incoming" {
			action = []string{"connection_accepted"}
		}
		dst := r.Str(kDstIP)
		if dst != "" {
			d.Set("destination.ip", dst)
			d.Set("destination.address", dst)
		}
		dport, hasDport := r.Int(kDstPort)
		if hasDport {
			d.SetInt("destination.port", dport)
		}
		switch st := strings.ToLower(r.Str(kNetStatus)); st {
		case "":
		case "blocked":
			ev.Set("outcome", "unknown")
		default:
			ev.Set("outcome", st)
		}
		switch dir {
		case "incoming":
			d.Set("network.direction", "ingress")
		case "outgoing":
			d.Set("network.direction", "egress")
		}
		d.Str("network.protocol", strings.ToLower(r.Str(kNetProtocol)))
		src := r.Str(kSrcIP)
		d.Str("source.ip", src)
		sport, hasSport := r.Int(kSrcPort)
		if hasSport {
			d.SetInt("source.port", sport)
		}
		relatedIP = norm.AppendUnique(relatedIP, dst, src)
		if src != "" && hasSport && dst != "" && hasDport {
			typ = norm.AppendUnique(typ, "connection")
		}
		if len(typ) == 0 {
			typ = []string{"info"}
		}
	}
	if isProcess {
		category = []string{"process"}
		typ = nil
		if r.Str(kMetaName) == "PROCESSCREATION" {
			typ = []string{"start"}
		}
		switch s1type {
		case "ProcessExit", "ProcessTermination", "Process Exit", "Process Termination":
			typ = []string{"end"}
		}
		action = typ // event.action is a copy of event.type
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
	}
	if strings.Contains(cat, "registry") {
		category = []string{"registry"}
		typ, action = nil, nil
		switch {
		case strings.Contains(lt, "create"):
			typ = []string{"creation"}
		case strings.Contains(lt, "delet"):
			typ = []string{"deletion"}
		}
		if strings.Contains(lt, "change") || strings.Contains(lt, "modif") {
			typ = []string{"change"}
		}
		switch mn := strings.ToLower(r.Str(kMetaName)); {
		case strings.Contains(mn, "regvaluecreate") || strings.Contains(mn, "regkeycreate"):
			action = []string{"creation"}
		case strings.Contains(mn, "regvaluemodified"):
			action = []string{"modification"}
		case strings.Contains(mn, "regvaluedelete") || strings.Contains(mn, "regkeydelete"):
			action = []string{"deletion"}
		}
		if k := r.Str(kRegKeyPath); k != "" {
			reg := d.Obj("registry")
			reg.Set("path", k)
			if i := strings.LastIndexByte(k, '\\'); i >= 0 {
				reg.Set("key", k[:i])
				reg.Set("value", k[i+1:])
			}
			reg.Str("data.strings", r.Str(kRegValue))
			reg.Str("data.type", r.Str(kRegValueType))
		}
	}
	if len(category) > 0 {
		ev.SetList("category", category)
	}
	if len(typ) > 0 {
		ev.SetList("type", typ)
	}
	if len(action) > 0 {
		ev.SetList("action", action)
	}
	if len(relatedIP) > 0 {
		d.SetList("related.ip", relatedIP)
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
			// args_count counts the empty arguments the final clean-up
			// then drops from args.
			if args := norm.Argv(cmd); len(args) > 0 {
				n := len(args)
				kept := args[:0]
				for _, a := range args {
					if a != "" {
						kept = append(kept, a)
					}
				}
				if len(kept) > 0 {
					d.SetList(p+".args", kept)
				}
				d.SetInt(p+".args_count", int64(n))
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

// dnsTypes names DNS record types by number, as pipeline-dns.yml does.
var dnsTypes = map[string]string{"1": "A", "2": "NS", "3": "MD", "4": "MF", "5": "CNAME", "6": "SOA", "7": "MB", "8": "MG",
	"9": "MR", "10": "NULL", "11": "WKS", "12": "PTR", "13": "HINFO", "14": "MINFO", "15": "MX", "16": "TXT", "17": "RP",
	"18": "AFSDB", "19": "X25", "20": "ISDN", "21": "RT", "22": "NSAP", "23": "NSAPPTR", "24": "SIG", "25": "KEY", "26": "PX",
	"27": "GPOS", "28": "AAAA", "29": "LOC", "30": "NXT", "31": "EID", "32": "NIMLOC", "33": "SRV", "34": "ATMA", "35": "NAPTR",
	"36": "KX", "37": "CERT", "38": "A6", "39": "DNAME", "40": "SINK", "41": "OPT", "43": "DS", "46": "RRSIG", "47": "NSEC",
	"48": "DNSKEY", "49": "DHCID", "100": "UINFO", "101": "UID", "102": "GID", "103": "UNSPEC", "248": "ADDRS", "249": "TKEY",
	"250": "TSIG", "251": "IXFR", "252": "AXFR", "253": "MAILB", "254": "MAILA", "255": "ANY", "65281": "WINS", "65282": "WINSR"}

// dnsFields parses Cloud Funnel's DNS strings as pipeline-dns.yml does:
// the request is "type: <n> <name>" (or just a name), the response a list
// of "type: <n> <data>" answers and addresses separated by ';'. When a
// response is present, related.hosts is replaced by the names it carries.
func dnsFields(d *event.Builder, request, response string, related *[]string) {
	var hosts []string
	if request != "" {
		if parts := strings.Fields(request); len(parts) == 3 {
			d.Str("dns.question.type", dnsTypes[parts[1]])
			d.Set("dns.question.name", parts[2])
			hosts = append(hosts, parts[2])
		} else {
			d.Set("dns.question.name", request)
		}
	}
	if response == "" {
		return
	}
	var answers []*event.Builder
	var ips []string
	for _, a := range strings.Split(response, ";") {
		if a == "" {
			continue
		}
		if strings.HasPrefix(a, "type:") {
			parts := strings.Fields(a)
			ans := d.New()
			if len(parts) >= 2 {
				ans.Str("type", dnsTypes[parts[1]])
			}
			if len(parts) == 3 {
				ans.Set("data", unmapIPv4(parts[2]))
				hosts = append(hosts, parts[2])
			}
			answers = append(answers, ans)
			continue
		}
		ips = append(ips, unmapIPv4(a))
	}
	if len(answers) > 0 {
		d.SetObjs("dns.answers", answers)
	}
	if len(ips) > 0 {
		d.SetList("dns.resolved_ip", ips)
	}
	if len(hosts) > 0 {
		*related = hosts
	}
}

// unmapIPv4 turns "::ffff:1.2.3.4" (optionally bracketed, with a port)
// into "1.2.3.4", as the pipeline's gsub does.
func unmapIPv4(s string) string {
	t := strings.TrimPrefix(s, "[")
	if !strings.HasPrefix(t, "::ffff:") {
		return s
	}
	t = t[len("::ffff:"):]
	if i := strings.IndexByte(t, ']'); i >= 0 {
		t = t[:i]
	}
	dots := 0
	for _, c := range []byte(t) {
		switch {
		case c == '.':
			dots++
		case c < '0' || c > '9':
			return s
		}
	}
	if dots != 3 {
		return s
	}
	return t
}
