// Package benchgen writes synthetic ECS NDJSON endpoint events (Elastic
// Defend style process, network and file events from 30 Windows and 10
// Linux hosts) for benchmarks. The output is deterministic for a seed,
// sorted by @timestamp, and about 0.1% of its lines match SeedRule; decoys
// carry some but not all of that rule's literals so that a literal
// prefilter has real work to do; about 1% match NonSelectiveQuery; Stats
// counts, while writing, what each benchmark query finds.
//
// Two profiles give the background around those deliberate lines:
//
//   - Realistic (DefaultProfile: vigil-benchgen's and the bench scripts'
//     default; GenerateProfile) is what benign hosts do: every process has
//     its real parent (RuntimeBroker, dllhost and WmiPrvSE under the
//     DcomLaunch svchost, taskhostw under the Schedule one,
//     SearchProtocolHost under SearchIndexer, conhost under the console
//     program it serves), runs from where its installer puts it, as the
//     account it runs as, talks on its own ports (browsers 443, lsass
//     88/389 to the domain controller, SMB from System, postgres 5432) and
//     writes its own files; admin and discovery tools are typed a few times
//     a day. Elastic's prebuilt rules (all 1,024 EQL rules) alert on about
//     2,700 events per million, nearly all of them the seed matches and
//     decoys; the background alone on about 100 per million. Use it for
//     throughput on ordinary telemetry.
//   - Noisy is the first version's background: random parents, binaries in
//     user-writable directories, ports drawn independently of the process,
//     frequent discovery tools. The prebuilt rules alert on about 11% of its
//     events: use it to measure alert building and output under load.
//     Generate writes it, byte for byte as the first version did, because
//     tests of other packages were calibrated on its content.
package benchgen

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// Queries measured by the benchmarks. The generator computes, while it
// writes, how many results each of them has (see Stats).
const (
	// SeedRule is Elastic's "User Account Creation" rule.
	SeedRule = `process where host.os.type == "windows" and event.type == "start" and
  (process.name : ("net.exe", "net1.exe") and not process.parent.name : "net.exe") and
  (process.args : "user" and process.args : ("/ad", "/add"))`

	// NonSelectiveQuery has no literal a prefilter could use, so every line
	// is parsed and evaluated; about 1% of the lines match (long command
	// lines), so that printing results does not dominate a CLI run.
	NonSelectiveQuery = `process where process.pid > 100 and length(process.command_line) > 400`

	// SequenceQuery joins a process start with the first network event of
	// the same process within five minutes.
	SequenceQuery = `sequence by process.entity_id with maxspan=5m [process where event.type == "start"] [network where true]`

	// ParseOnlyQuery matches nothing and has no literal: a CLI run with it
	// parses every line and evaluates a trivial predicate, the baseline.
	ParseOnlyQuery = `any where false`
)

// NonSelectiveMinLen is the command-line length NonSelectiveQuery asks for.
const NonSelectiveMinLen = 400

// SequenceMaxSpan is SequenceQuery's maxspan.
const SequenceMaxSpan = 5 * time.Minute

// Start is the timestamp of the first event.
var Start = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Stats describes what Generate wrote.
type Stats struct {
	Lines int64 // events (one per line)
	Bytes int64 // bytes written, newlines included

	Process, Network, File int64 // lines per event.category

	SeedMatches         int64 // lines SeedRule matches
	NonSelectiveMatches int64 // lines NonSelectiveQuery matches
	Sequences           int64 // sequences SequenceQuery finds

	FirstMs, LastMs int64 // @timestamp range, epoch millis
}

// Profile selects the background the deliberate matches are embedded in.
type Profile string

const (
	// Realistic (DefaultProfile) is benign background as real Windows and
	// Linux endpoints produce it: fixed parent-child pairs (RuntimeBroker
	// and WmiPrvSE under svchost, SearchProtocolHost under SearchIndexer,
	// conhost under the console program that needs it), binaries where
	// their installers put them, each process talking on its own ports and
	// writing its own files, admin and discovery tools at low rates. Use
	// it to measure what a detection engine costs on ordinary telemetry:
	// Elastic's prebuilt rules alert on about 0.3% of its events, nearly
	// all of them the deliberate seed matches and decoys (the background
	// alone: about 100 per million).
	Realistic Profile = "realistic"

	// Noisy is the first version of the generator: templates take random
	// parents, some binaries run from user-writable directories, ports
	// are drawn independently of the process, discovery tools are common.
	// The prebuilt rules alert on about 11% of its events, so it measures
	// an engine under a heavy alert load (alert building and output).
	Noisy Profile = "noisy"
)

// Profiles lists the profiles, the default first.
func Profiles() []Profile { return []Profile{Realistic, Noisy} }

// ParseProfile returns the profile named s ("" is DefaultProfile).
func ParseProfile(s string) (Profile, error) {
	switch Profile(s) {
	case "":
		return DefaultProfile, nil
	case Realistic:
		return Realistic, nil
	case Noisy:
		return Noisy, nil
	}
	return "", fmt.Errorf("benchgen: unknown profile %q (want realistic or noisy)", s)
}

// DefaultProfile is the profile of vigil-benchgen and the bench scripts.
const DefaultProfile = Realistic

// Generate writes events of the Noisy profile to w until at least
// targetBytes bytes have been written (the last line is completed),
// deterministically for seed. It keeps the first generator's output
// because tests of other packages were calibrated on it (their randomly
// built rules rely on random users and parents making rare field
// combinations common); new callers choose with GenerateProfile.
func Generate(w io.Writer, targetBytes int64, seed int64) (Stats, error) {
	return GenerateProfile(w, targetBytes, seed, Noisy)
}

// GenerateProfile writes events of profile prof to w until at least
// targetBytes bytes have been written (the last line is completed),
// deterministically for seed.
func GenerateProfile(w io.Writer, targetBytes int64, seed int64, prof Profile) (Stats, error) {
	if _, err := ParseProfile(string(prof)); err != nil {
		return Stats{}, err
	}
	g := newGen(seed, prof == Noisy)
	bw := bufio.NewWriterSize(w, 256<<10)
	g.w = bw
	for g.st.Bytes < targetBytes && g.err == nil {
		g.step()
	}
	if g.err == nil {
		g.err = bw.Flush()
	}
	return g.st, g.err
}

// ---------------------------------------------------------------------------
// Simulation state.

type host struct {
	name     string
	ip       string
	windows  bool
	json     []byte // `"host":{...}` fragment
	agent    []byte // `"agent":{...}` fragment
	users    []user
	roots    []*proc // long-lived processes that started before the data
	netRoots []*proc // long-lived processes that make most connections

	// Realistic profile only.
	byKey     map[string]*proc // roots by role ("explorer", "svc-dcom", ...)
	fileRoots []*proc          // long-lived processes that write most files
	svc       map[string]user  // service accounts by role ("system", ...)
	dc, fs    string           // domain controller and file server addresses
	running   []*proc
	nextPid   int
	eventSeq  int64
}

type user struct {
	name, domain, id string
}

type proc struct {
	t        *tmpl
	name     string
	exe      string
	cmdline  string
	args     []string
	pid      int
	entityID string
	parent   *proc
	user     user
	startMs  int64
	started  bool // its start event was written
	seqDone  bool // its first network event was written (or it is too late)
	body     []byte
	rt       *rtmpl // realistic profile: its template (nil for the noisy one)
}

type tmpl struct {
	name   string
	exe    string
	weight int
	net    bool // makes network connections
	args   func(g *gen, h *host) []string
	parent string // preferred parent (a root's name), "" for any
	signer string // code_signature.subject_name, "" for none
}

type gen struct {
	noisy   bool
	rwin    []*rtmpl // realistic templates and their total weights
	rwinW   int
	rlin    []*rtmpl
	rlinW   int
	r       *rand.Rand
	w       *bufio.Writer
	err     error
	st      Stats
	ms      int64 // current @timestamp, epoch millis
	hosts   []*host
	winT    []*tmpl
	winW    int
	linT    []*tmpl
	linW    int
	line    []byte
	tsBuf   []byte
	tsMs    int64
	scratch []byte
}

const (
	maxRunning = 48
	nHosts     = 40
)

func newGen(seed int64, noisy bool) *gen {
	g := &gen{
		noisy: noisy,
		r:     rand.New(rand.NewPCG(uint64(seed), 0x9e3779b97f4a7c15)),
		ms:    Start.UnixMilli(),
	}
	g.rwin, g.rwinW = realWindows()
	g.rlin, g.rlinW = realLinux()
	g.st.FirstMs = g.ms
	g.winT, g.winW = windowsTemplates(), 0
	for _, t := range g.winT {
		g.winW += t.weight
	}
	g.linT = linuxTemplates()
	for _, t := range g.linT {
		g.linW += t.weight
	}
	for i := 0; i < nHosts; i++ {
		g.hosts = append(g.hosts, g.newHost(i))
	}
	return g
}

func (g *gen) intn(n int) int { return g.r.IntN(n) }

func (g *gen) pick(s []string) string { return s[g.r.IntN(len(s))] }

func (g *gen) b64(n int) string {
	b := make([]byte, n)
	for i := 0; i < n; i += 8 {
		v := g.r.Uint64()
		for j := i; j < n && j < i+8; j++ {
			b[j] = byte(v)
			v >>= 8
		}
	}
	return base64.StdEncoding.EncodeToString(b)
}

// appendB64 appends the base64 text of n random bytes.
func (g *gen) appendB64(b []byte, n int) []byte {
	var raw [48]byte
	for i := 0; i < n; i += 8 {
		v := g.r.Uint64()
		for j := i; j < n && j < i+8; j++ {
			raw[j] = byte(v)
			v >>= 8
		}
	}
	return base64.StdEncoding.AppendEncode(b, raw[:n])
}

func (g *gen) uuid() string {
	const hex = "0123456789abcdef"
	a, b := g.r.Uint64(), g.r.Uint64()
	var s [36]byte
	j := 0
	for i := 0; i < 32; i++ {
		if i == 8 || i == 12 || i == 16 || i == 20 {
			s[j] = '-'
			j++
		}
		v := a
		if i >= 16 {
			v = b
		}
		s[j] = hex[(v>>(uint(i%16)*4))&15]
		j++
	}
	return string(s[:])
}

var (
	winUsers   = []string{"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "svc_backup", "svc_sql"}
	linUsers   = []string{"root", "ubuntu", "deploy", "www-data", "postgres", "alice"}
	linFamily  = []string{"ubuntu", "debian", "redhat"}
	linName    = []string{"Ubuntu", "Debian GNU/Linux", "Red Hat Enterprise Linux"}
	linVersion = []string{"22.04.4 LTS (Jammy Jellyfish)", "12 (bookworm)", "9.4 (Plow)"}
	linKernel  = []string{"5.15.0-105-generic", "6.1.0-21-amd64", "5.14.0-427.13.1.el9_4.x86_64"}
)

func (g *gen) newHost(i int) *host {
	h := &host{windows: i%4 != 3}
	var b []byte
	ip := "10." + strconv.Itoa(1+i/200) + "." + strconv.Itoa(i%200) + "." + strconv.Itoa(10+g.intn(240))
	if h.windows {
		prefix := "ws-"
		if i%10 == 0 {
			prefix = "srv-"
		}
		h.name = prefix + pad4(i)
		b = append(b, `"host":{"ip":["`...)
		b = append(b, ip...)
		b = append(b, `"],"name":`...)
		b = appendStr(b, h.name)
		if i%10 == 0 {
			b = append(b, `,"os":{"family":"windows","name":"Windows Server 2022 Datacenter","type":"windows","version":"21H2"}}`...)
		} else {
			b = append(b, `,"os":{"family":"windows","name":"Windows 11 Enterprise","type":"windows","version":"23H2"}}`...)
		}
		sid := "S-1-5-21-" + strconv.Itoa(1000000000+g.intn(999999999)) + "-" + strconv.Itoa(1000000000+g.intn(999999999)) + "-" + strconv.Itoa(1000000000+g.intn(999999999)) + "-"
		for k := 0; k < 3; k++ {
			n := g.pick(winUsers)
			h.users = append(h.users, user{name: n, domain: "CORP", id: sid + strconv.Itoa(1100+g.intn(900))})
		}
		h.users = append(h.users, user{name: "SYSTEM", domain: "NT AUTHORITY", id: "S-1-5-18"})
		h.nextPid = 400 + 4*g.intn(200)
	} else {
		f := g.intn(len(linFamily))
		h.name = "lnx-" + linFamily[f] + "-" + pad4(i)
		b = append(b, `"host":{"ip":["`...)
		b = append(b, ip...)
		b = append(b, `"],"name":`...)
		b = appendStr(b, h.name)
		b = append(b, `,"os":{"family":`...)
		b = appendStr(b, linFamily[f])
		b = append(b, `,"kernel":`...)
		b = appendStr(b, linKernel[f])
		b = append(b, `,"name":`...)
		b = appendStr(b, linName[f])
		b = append(b, `,"type":"linux","version":`...)
		b = appendStr(b, linVersion[f])
		b = append(b, `}}`...)
		for k := 0; k < 3; k++ {
			n := g.pick(linUsers)
			h.users = append(h.users, user{name: n, id: strconv.Itoa(1000 + g.intn(100))})
		}
		h.users = append(h.users, user{name: "root", id: "0"})
		h.nextPid = 1000 + g.intn(20000)
	}
	h.json = b
	h.ip = ip
	h.agent = append(h.agent, `"agent":{"id":"`...)
	h.agent = append(h.agent, g.uuid()...)
	h.agent = append(h.agent, `","type":"endpoint","version":"8.17.3"}`...)
	if !g.noisy {
		g.realRoots(h)
		return h
	}

	// Long-lived processes started before the data begins.
	if h.windows {
		sys := h.users[len(h.users)-1]
		system := &proc{name: "System", exe: "", pid: 4, user: sys}
		smss := &proc{name: "smss.exe", exe: `C:\Windows\System32\smss.exe`, args: []string{`\SystemRoot\System32\smss.exe`}, pid: 300 + 4*g.intn(40), parent: system, user: sys}
		wininit := &proc{name: "wininit.exe", exe: `C:\Windows\System32\wininit.exe`, args: []string{"wininit.exe"}, pid: 500 + 4*g.intn(40), parent: smss, user: sys}
		services := &proc{name: "services.exe", exe: `C:\Windows\System32\services.exe`, args: []string{`C:\Windows\system32\services.exe`}, pid: 700 + 4*g.intn(40), parent: wininit, user: sys}
		userinit := &proc{name: "userinit.exe", exe: `C:\Windows\System32\userinit.exe`, args: []string{`C:\Windows\system32\userinit.exe`}, pid: 3000 + 4*g.intn(200), parent: wininit, user: h.users[0]}
		explorer := &proc{name: "explorer.exe", exe: `C:\Windows\explorer.exe`, args: []string{`C:\Windows\Explorer.EXE`}, pid: 4000 + 4*g.intn(500), parent: userinit, user: h.users[0]}
		h.roots = []*proc{services, explorer, wininit}
		for _, n := range []string{"svchost.exe", "svchost.exe", "chrome.exe", "OneDrive.exe", "MsMpEng.exe", "Teams.exe"} {
			t := winByName[n]
			parent := explorer
			if t.parent == "services.exe" {
				parent = services
			}
			u := explorer.user
			if parent == services {
				u = sys
			}
			h.netRoots = append(h.netRoots, &proc{t: t, name: t.name, exe: t.exe, args: t.args(g, h), pid: 1000 + 4*g.intn(700), parent: parent, user: u})
		}
		for _, p := range append([]*proc{system, smss, wininit, services, userinit, explorer}, h.netRoots...) {
			p.entityID = g.b64(24)
			p.cmdline = windowsCmdline(p.args)
		}
	} else {
		root := h.users[len(h.users)-1]
		systemd := &proc{name: "systemd", exe: "/usr/lib/systemd/systemd", args: []string{"/sbin/init", "splash"}, pid: 1, user: root}
		sshd := &proc{name: "sshd", exe: "/usr/sbin/sshd", args: []string{"sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups"}, pid: 800 + g.intn(400), parent: systemd, user: root}
		bash := &proc{name: "bash", exe: "/usr/bin/bash", args: []string{"-bash"}, pid: 5000 + g.intn(5000), parent: sshd, user: h.users[0]}
		cron := &proc{name: "cron", exe: "/usr/sbin/cron", args: []string{"/usr/sbin/cron", "-f", "-P"}, pid: 700 + g.intn(100), parent: systemd, user: root}
		h.roots = []*proc{systemd, bash, cron, sshd}
		nginx := &proc{name: "nginx", exe: "/usr/sbin/nginx", args: []string{"nginx: master process /usr/sbin/nginx -g daemon on; master_process on;"}, pid: 900 + g.intn(100), parent: systemd, user: root}
		java := &proc{name: "java", exe: "/usr/lib/jvm/java-17-openjdk-amd64/bin/java", args: []string{"/usr/lib/jvm/java-17-openjdk-amd64/bin/java", "-Xmx2g", "-jar", "/opt/app/app.jar"}, pid: 1500 + g.intn(1000), parent: systemd, user: h.users[0]}
		h.netRoots = []*proc{sshd, nginx, java}
		for _, p := range append(h.roots, nginx, java) {
			p.entityID = g.b64(24)
			p.cmdline = strings.Join(p.args, " ")
		}
	}
	return h
}

func pad4(i int) string {
	s := strconv.Itoa(i)
	for len(s) < 4 {
		s = "0" + s
	}
	return s
}

// windowsCmdline quotes arguments with spaces, as CreateProcess callers do.
func windowsCmdline(args []string) string {
	n := 0
	for _, a := range args {
		n += len(a) + 3
	}
	b := make([]byte, 0, n)
	for i, a := range args {
		if i > 0 {
			b = append(b, ' ')
		}
		if strings.IndexByte(a, ' ') >= 0 && !strings.Contains(a, `"`) {
			b = append(b, '"')
			b = append(b, a...)
			b = append(b, '"')
		} else {
			b = append(b, a...)
		}
	}
	return string(b)
}

// ---------------------------------------------------------------------------
// Event mix.

func (g *gen) step() {
	g.ms += int64(g.intn(10)) // a few ms apart, never backwards
	h := g.hosts[g.intn(len(g.hosts))]
	x := g.intn(100000)
	switch {
	case x < 100 && h.windows:
		g.accountCreation(h)
	case x < 400 && h.windows:
		g.netDecoy(h)
	case x < 400:
		g.linuxDecoy(h)
	case x < 42000:
		g.startRandom(h)
	case x < 77000:
		g.endRandom(h)
	case x < 94000:
		g.network(h)
	default:
		g.file(h)
	}
}

func (g *gen) randomTmpl(h *host) *tmpl {
	ts, tw := g.linT, g.linW
	if h.windows {
		ts, tw = g.winT, g.winW
	}
	x := g.intn(tw)
	for _, t := range ts {
		if x < t.weight {
			return t
		}
		x -= t.weight
	}
	return ts[len(ts)-1]
}

func (g *gen) parentFor(h *host, t *tmpl) *proc {
	if !g.noisy {
		// Ad hoc commands come from the interactive shell.
		if h.windows {
			return h.byKey["console"]
		}
		return h.byKey["bash"]
	}
	if t != nil && t.parent != "" && g.intn(4) != 0 {
		for _, r := range h.roots {
			if r.name == t.parent {
				return r
			}
		}
	}
	if len(h.running) > 0 && g.intn(3) == 0 {
		return h.running[g.intn(len(h.running))]
	}
	return h.roots[g.intn(len(h.roots))]
}

func (g *gen) newPid(h *host) int {
	if h.windows {
		h.nextPid += 4 * (1 + g.intn(64))
		if h.nextPid > 65000 {
			h.nextPid = 400 + 4*g.intn(100)
		}
	} else {
		h.nextPid += 1 + g.intn(40)
		if h.nextPid > 4194000 {
			h.nextPid = 1000 + g.intn(1000)
		}
	}
	return h.nextPid
}

// spawn creates a process and writes its start event.
func (g *gen) spawn(h *host, t *tmpl, rt *rtmpl, name, exe string, args []string, parent *proc, u *user) *proc {
	if len(h.running) >= maxRunning {
		g.endAt(h, g.intn(len(h.running)))
	}
	p := &proc{t: t, rt: rt, name: name, exe: exe, args: args, pid: g.newPid(h), parent: parent, startMs: g.ms, started: true}
	if u != nil {
		p.user = *u
	} else if !g.noisy {
		p.user = parent.user
	} else if parent != nil && parent.user.name != "" && g.intn(4) != 0 {
		p.user = parent.user
	} else {
		p.user = h.users[g.intn(len(h.users))]
	}
	p.entityID = g.b64(24)
	if h.windows {
		p.cmdline = windowsCmdline(args)
	} else {
		p.cmdline = strings.Join(args, " ")
	}
	h.running = append(h.running, p)
	g.processEvent(h, p, true)
	if !g.noisy && h.windows && consoleApp(name) && (parent == nil || !consoleApp(parent.name)) {
		// Windows gives a console program started outside a console its
		// own conhost.exe, as the program's child.
		g.ms += int64(g.intn(2))
		g.spawn(h, nil, conhost, conhost.name, conhost.exe, conhostArgs, p, &p.user)
	}
	return p
}

func (g *gen) startRandom(h *host) {
	if !g.noisy {
		g.startReal(h)
		return
	}
	t := g.randomTmpl(h)
	g.spawn(h, t, nil, t.name, t.exe, t.args(g, h), g.parentFor(h, t), nil)
}

func (g *gen) endRandom(h *host) {
	if len(h.running) == 0 {
		g.startRandom(h)
		return
	}
	g.endAt(h, g.intn(len(h.running)))
}

func (g *gen) endAt(h *host, i int) {
	p := h.running[i]
	last := len(h.running) - 1
	h.running[i] = h.running[last]
	h.running[last] = nil
	h.running = h.running[:last]
	g.processEvent(h, p, false)
}

// accountCreation is the seed rule's true positive: net.exe (or net1.exe)
// "user NAME PASS /add", usually run from a shell; net.exe spawns net1.exe
// with the same arguments, which the rule deliberately does not match.
func (g *gen) accountCreation(h *host) {
	newUser := g.pick([]string{"backdoor", "support", "helpdesk2", "admin$", "svc_update", "temp01", "john.doe", "Administrator2"})
	pass := g.pick([]string{"P@ssw0rd!", "Winter2026!", "Passw0rd123", `"Sp ace!"`, "Qwerty!23"})
	userArg := "user"
	if g.intn(8) == 0 {
		userArg = "USER"
	}
	addArg := "/add"
	switch g.intn(10) {
	case 0:
		addArg = "/ADD"
	case 1:
		addArg = "/ad"
	}
	name, exe, argv0 := "net.exe", `C:\Windows\System32\net.exe`, "net"
	switch g.intn(10) {
	case 0, 1:
		name, exe, argv0 = "NET.EXE", `C:\WINDOWS\system32\NET.EXE`, "NET"
	case 2:
		argv0 = `C:\Windows\system32\net.exe`
	case 3:
		name, exe, argv0 = "net1.exe", `C:\Windows\System32\net1.exe`, "net1"
	}
	args := []string{argv0, userArg, newUser, strings.Trim(pass, `"`), addArg}
	if g.intn(4) == 0 {
		args = append(args, "/domain")
	}
	u := h.users[g.intn(len(h.users)-1)]
	var parent *proc
	if g.intn(3) == 0 {
		parent = g.spawn(h, winByName["powershell.exe"], nil, "powershell.exe", winByName["powershell.exe"].exe,
			[]string{"powershell.exe", "-NoProfile", "-Command", strings.Join(args, " ")}, g.explorer(h), &u)
	} else {
		parent = g.spawn(h, winByName["cmd.exe"], nil, "cmd.exe", winByName["cmd.exe"].exe,
			[]string{`C:\Windows\system32\cmd.exe`, "/c", strings.Join(args, " ")}, g.explorer(h), &u)
	}
	g.ms += int64(g.intn(3))
	net := g.spawn(h, winByName["net.exe"], nil, name, exe, args, parent, &u)
	if name != "net1.exe" {
		g.ms += int64(g.intn(3))
		a1 := append([]string{`C:\Windows\system32\net1.exe`}, args[1:]...)
		g.spawn(h, winByName["net.exe"], nil, "net1.exe", `C:\Windows\System32\net1.exe`, a1, net, &u)
	}
}

// netDecoy writes net.exe runs that share some of the seed rule's
// literals but do not match it.
func (g *gen) netDecoy(h *host) {
	who := g.pick(winUsers)
	var args []string
	v := 0
	if g.noisy {
		v = g.intn(9)
	} else {
		v = realDecoys[g.intn(len(realDecoys))]
	}
	switch v {
	case 0:
		args = []string{"net", "localgroup", "administrators", who, "/add"}
	case 1:
		args = []string{"net", "user", who}
	case 2:
		args = []string{"net", "user", who, "/delete"}
	case 3:
		args = []string{"net", "use", `Z:`, `\\fs01\users\` + who, "/persistent:yes"}
	case 4:
		args = []string{"net", "group", "Domain Users", "/domain"}
	case 5:
		args = []string{"NET", "USER", who, "/active:yes"}
	case 6:
		args = []string{"net", "user", "/add"} // no name: fails, but it is a match
	case 7:
		// The shell line has every literal; only cmd.exe runs.
		g.spawn(h, winByName["cmd.exe"], nil, "cmd.exe", winByName["cmd.exe"].exe,
			[]string{"cmd.exe", "/c", "echo", "net user " + who + " /add", ">>", `C:\Temp\todo.txt`}, g.explorer(h), nil)
		return
	default:
		args = []string{"net", "view", `\\fs01`, "/all"}
	}
	name, exe := "net.exe", `C:\Windows\System32\net.exe`
	if args[0] == "NET" {
		name, exe = "NET.EXE", `C:\WINDOWS\system32\NET.EXE`
	}
	parent := g.parentFor(h, nil)
	net := g.spawn(h, winByName["net.exe"], nil, name, exe, args, parent, nil)
	if g.intn(2) == 0 {
		g.ms += int64(g.intn(3))
		a1 := append([]string{`C:\Windows\system32\net1.exe`}, args[1:]...)
		g.spawn(h, winByName["net.exe"], nil, "net1.exe", `C:\Windows\System32\net1.exe`, a1, net, &net.user)
	}
}

// linuxDecoy: account creation on Linux is not the Windows rule's business.
func (g *gen) linuxDecoy(h *host) {
	who := g.pick(linUsers)
	var args []string
	name, exe := "useradd", "/usr/sbin/useradd"
	switch g.intn(3) {
	case 0:
		args = []string{"useradd", "-m", "-s", "/bin/bash", who + "2"}
	case 1:
		name, exe = "net", "/usr/bin/net"
		args = []string{"net", "rpc", "user", "add", who, "-U", "administrator"}
	default:
		name, exe = "net.exe", "/opt/wine/bin/net.exe" // wine, on Linux
		args = []string{"net.exe", "user", who, "/add"}
	}
	g.spawn(h, nil, nil, name, exe, args, g.parentFor(h, nil), &h.users[len(h.users)-1])
}

// ---------------------------------------------------------------------------
// Event writers.

func (g *gen) ts() []byte {
	if g.tsBuf == nil || g.tsMs != g.ms {
		g.tsBuf = time.UnixMilli(g.ms).UTC().AppendFormat(g.tsBuf[:0], "2006-01-02T15:04:05.000Z")
		g.tsMs = g.ms
	}
	return g.tsBuf
}

func (g *gen) begin(h *host, category, typ, action, dataset string) []byte {
	b := append(g.line[:0], `{"@timestamp":"`...)
	b = append(b, g.ts()...)
	b = append(b, `",`...)
	b = append(b, h.agent...)
	b = append(b, `,"data_stream":{"dataset":"`...)
	b = append(b, dataset...)
	b = append(b, `","namespace":"default","type":"logs"},"ecs":{"version":"8.11.0"},"event":{"action":"`...)
	b = append(b, action...)
	b = append(b, `","category":["`...)
	b = append(b, category...)
	b = append(b, `"],"dataset":"`...)
	b = append(b, dataset...)
	b = append(b, `","id":"`...)
	b = g.appendB64(b, 12)
	b = append(b, `","kind":"event","module":"endpoint","sequence":`...)
	h.eventSeq++
	b = strconv.AppendInt(b, h.eventSeq, 10)
	b = append(b, `,"type":["`...)
	b = append(b, typ...)
	b = append(b, `"]},`...)
	b = append(b, h.json...)
	return b
}

func (g *gen) finish(b []byte, p *proc) {
	b = append(b, `,"user":{`...)
	if p.user.domain != "" {
		b = append(b, `"domain":`...)
		b = appendStr(b, p.user.domain)
		b = append(b, ',')
	}
	b = append(b, `"id":`...)
	b = appendStr(b, p.user.id)
	b = append(b, `,"name":`...)
	b = appendStr(b, p.user.name)
	b = append(b, "}}\n"...)
	g.line = b
	if g.err != nil {
		return
	}
	_, g.err = g.w.Write(b)
	g.st.Lines++
	g.st.Bytes += int64(len(b))
	g.st.LastMs = g.ms
}

// procBody is the process object of process events, without its closing
// brace; it is built once per process.
func procBody(p *proc) []byte {
	if p.body != nil {
		return p.body
	}
	b := make([]byte, 0, 512+2*len(p.cmdline))
	b = append(b, `"process":{"args":[`...)
	for i, a := range p.args {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendStr(b, a)
	}
	b = append(b, `],"args_count":`...)
	b = strconv.AppendInt(b, int64(len(p.args)), 10)
	b = append(b, `,"command_line":`...)
	b = appendStr(b, p.cmdline)
	b = append(b, `,"entity_id":"`...)
	b = append(b, p.entityID...)
	b = append(b, `","executable":`...)
	b = appendStr(b, p.exe)
	b = append(b, `,"name":`...)
	b = appendStr(b, p.name)
	if pp := p.parent; pp != nil {
		b = append(b, `,"parent":{"entity_id":"`...)
		b = append(b, pp.entityID...)
		b = append(b, `","executable":`...)
		b = appendStr(b, pp.exe)
		b = append(b, `,"name":`...)
		b = appendStr(b, pp.name)
		b = append(b, `,"pid":`...)
		b = strconv.AppendInt(b, int64(pp.pid), 10)
		b = append(b, '}')
	}
	b = append(b, `,"pid":`...)
	b = strconv.AppendInt(b, int64(p.pid), 10)
	p.body = b
	return b
}

func (g *gen) processEvent(h *host, p *proc, start bool) {
	typ, action := "end", "end"
	if start {
		typ, action = "start", "start"
	}
	b := g.begin(h, "process", typ, action, "endpoint.events.process")
	b = append(b, ',')
	b = append(b, procBody(p)...)
	if !start {
		b = append(b, `,"exit_code":`...)
		if g.intn(20) == 0 {
			b = append(b, '1')
		} else {
			b = append(b, '0')
		}
	}
	signer := ""
	if p.t != nil {
		signer = p.t.signer
	} else if p.rt != nil {
		signer = p.rt.signer
	}
	if h.windows && signer != "" {
		b = append(b, `,"code_signature":{"subject_name":`...)
		b = appendStr(b, signer)
		b = append(b, `,"trusted":true}`...)
	}
	b = append(b, '}')
	g.st.Process++
	if p.pid > 100 && len(p.cmdline) > NonSelectiveMinLen {
		g.st.NonSelectiveMatches++
	}
	if start && h.windows && seedMatch(p) {
		g.st.SeedMatches++
	}
	g.finish(b, p)
}

// seedMatch evaluates SeedRule on a Windows process start.
func seedMatch(p *proc) bool {
	n := strings.ToLower(p.name)
	if n != "net.exe" && n != "net1.exe" {
		return false
	}
	if p.parent != nil && strings.EqualFold(p.parent.name, "net.exe") {
		return false
	}
	var usr, add bool
	for _, a := range p.args {
		a = strings.ToLower(a)
		usr = usr || a == "user"
		add = add || a == "/ad" || a == "/add"
	}
	return usr && add
}

var (
	winPorts = []int{443, 443, 443, 80, 445, 135, 389, 53, 3389, 5985, 8080}
	linPorts = []int{443, 443, 80, 22, 5432, 6379, 53, 9200}
	extNets  = []string{"52.96.", "142.250.", "13.107.", "20.190.", "104.18.", "151.101."}
)

func (g *gen) network(h *host) {
	if !g.noisy {
		g.networkReal(h)
		return
	}
	if len(h.running) == 0 {
		g.startRandom(h)
		return
	}
	var p *proc
	if g.intn(10) < 8 {
		p = h.netRoots[g.intn(len(h.netRoots))]
	} else {
		for try := 0; try < 4; try++ {
			p = h.running[g.intn(len(h.running))]
			if p.t != nil && p.t.net {
				break
			}
		}
	}
	typ, action := "start", "connection_attempted"
	if g.intn(3) == 0 {
		typ, action = "end", "disconnect_received"
	}
	b := g.begin(h, "network", typ, action, "endpoint.events.network")
	b = append(b, `,"destination":{"ip":"`...)
	var ip []byte
	port := g.pick2(winPorts)
	if !h.windows {
		port = g.pick2(linPorts)
	}
	if port == 443 || port == 80 {
		ip = append(ip, g.pick(extNets)...)
	} else {
		ip = append(ip, "10.0."...)
	}
	ip = strconv.AppendInt(ip, int64(g.intn(256)), 10)
	ip = append(ip, '.')
	ip = strconv.AppendInt(ip, int64(1+g.intn(254)), 10)
	b = append(b, ip...)
	b = append(b, `","port":`...)
	b = strconv.AppendInt(b, int64(port), 10)
	b = append(b, `},"network":{"direction":"egress","transport":"tcp","type":"ipv4"},"process":{"entity_id":"`...)
	b = append(b, p.entityID...)
	b = append(b, `","executable":`...)
	b = appendStr(b, p.exe)
	b = append(b, `,"name":`...)
	b = appendStr(b, p.name)
	b = append(b, `,"pid":`...)
	b = strconv.AppendInt(b, int64(p.pid), 10)
	b = append(b, `},"source":{"ip":"`...)
	b = append(b, h.ip...)
	b = append(b, `","port":`...)
	b = strconv.AppendInt(b, int64(49152+g.intn(16000)), 10)
	b = append(b, '}')
	g.st.Network++
	if p.started && !p.seqDone {
		p.seqDone = true
		if g.ms-p.startMs <= SequenceMaxSpan.Milliseconds() {
			g.st.Sequences++
		}
	}
	g.finish(b, p)
}

func (g *gen) pick2(s []int) int { return s[g.intn(len(s))] }

var (
	winDirs  = []string{`C:\Users\%u\AppData\Local\Temp\`, `C:\Users\%u\Downloads\`, `C:\Users\%u\Documents\`, `C:\ProgramData\Microsoft\Windows Defender\Scans\`, `C:\Windows\Temp\`, `C:\Users\%u\AppData\Local\Microsoft\OneDrive\update\`, `C:\Windows\SoftwareDistribution\Download\`}
	winFiles = []string{"report.docx", "setup.msi", "invoice.pdf", "chrome_installer.log", "mpcache.bin", "install.ps1", "tmp4A1F.tmp", "OneDriveSetup.exe", "budget.xlsx", "debug.log"}
	linDirs  = []string{"/tmp/", "/var/log/", "/home/%u/", "/opt/app/addons/", "/etc/cron.d/", "/var/lib/postgresql/16/main/"}
	linFiles = []string{"app.log", "sync.py", "backup.tar.gz", "config.yaml", "id_rsa.pub", "pg_wal.0001", "nginx.conf"}
	fileActs = []string{"creation", "modification", "deletion", "overwrite", "rename"}
)

func (g *gen) file(h *host) {
	if !g.noisy {
		g.fileReal(h)
		return
	}
	if len(h.running) == 0 {
		g.startRandom(h)
		return
	}
	p := h.running[g.intn(len(h.running))]
	act := g.pick(fileActs)
	typ := act
	if act == "modification" || act == "overwrite" || act == "rename" {
		typ = "change"
	}
	b := g.begin(h, "file", typ, act, "endpoint.events.file")
	dirs, files, sep := winDirs, winFiles, `\`
	if !h.windows {
		dirs, files, sep = linDirs, linFiles, "/"
	}
	dir := strings.ReplaceAll(g.pick(dirs), "%u", p.user.name)
	name := g.pick(files)
	ext := ""
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		ext = name[i+1:]
	}
	b = append(b, `,"file":{"directory":`...)
	b = appendStr(b, strings.TrimSuffix(dir, sep))
	b = append(b, `,"extension":`...)
	b = appendStr(b, ext)
	b = append(b, `,"name":`...)
	b = appendStr(b, name)
	b = append(b, `,"path":`...)
	b = appendStr(b, dir+name)
	g.finishFile(b, p)
}

// finishFile writes the rest of a file event (its size and process) and
// finishes it: the same in every profile.
func (g *gen) finishFile(b []byte, p *proc) {
	b = append(b, `,"size":`...)
	b = strconv.AppendInt(b, int64(g.intn(5<<20)), 10)
	b = append(b, `},"process":{"entity_id":"`...)
	b = append(b, p.entityID...)
	b = append(b, `","executable":`...)
	b = appendStr(b, p.exe)
	b = append(b, `,"name":`...)
	b = appendStr(b, p.name)
	b = append(b, `,"pid":`...)
	b = strconv.AppendInt(b, int64(p.pid), 10)
	b = append(b, '}')
	g.st.File++
	g.finish(b, p)
}

// appendStr appends s as a JSON string. Generated text is ASCII without
// control characters, so only '"' and '\' need escaping.
func appendStr(b []byte, s string) []byte {
	b = append(b, '"')
	for {
		i := strings.IndexAny(s, `"\`)
		if i < 0 {
			break
		}
		b = append(b, s[:i]...)
		b = append(b, '\\', s[i])
		s = s[i+1:]
	}
	b = append(b, s...)
	return append(b, '"')
}
