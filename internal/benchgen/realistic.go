package benchgen

import (
	"encoding/base64"
	"strconv"
	"strings"
)

// The Realistic profile's background: what Windows workstations and
// servers and Linux servers do on an ordinary day. Each template names the
// long-lived process that starts it (its real parent), the account it runs
// as, the ports it talks on and the files it writes; nothing is drawn
// independently of the process it belongs to.

// rtmpl is a realistic process template. exe and args may hold %u, the
// account's name (per-user install directories).
type rtmpl struct {
	name   string
	exe    string
	weight int
	from   string // role of the parent (a key of host.byKey)
	as     string // account role (a key of host.svc), "" for the parent's
	signer string
	args   func(g *gen, h *host) []string
	ports  []netDst // connections it makes or accepts; nil: none
	files  []string // paths it writes (%u account, %x random hex); nil: none
}

// netDst is one kind of connection a process makes (or accepts).
type netDst struct {
	port int
	to   byte // 'x' internet, 'd' domain controller, 'f' file server, 's' internal server, 'l' loopback, 'i' ingress from the LAN, 'I' ingress from the internet
	udp  bool
}

var (
	webOut  = []netDst{{443, 'x', false}, {443, 'x', false}, {443, 'x', false}, {80, 'x', false}}
	dnsOut  = []netDst{{53, 'd', true}}
	ldapOut = []netDst{{88, 'd', false}, {389, 'd', false}, {389, 'd', false}, {135, 'd', false}}
	smbOut  = []netDst{{445, 'f', false}}
	intWeb  = []netDst{{443, 's', false}}
)

var (
	conhost     = &rtmpl{name: "conhost.exe", exe: `C:\Windows\System32\conhost.exe`, signer: msSigner}
	conhostArgs = []string{`\??\C:\Windows\system32\conhost.exe`, "0xffffffff", "-ForceV1"}
)

// consoleApp: console programs, which get a conhost.exe when their parent
// has no console.
func consoleApp(name string) bool {
	switch strings.ToLower(name) {
	case "cmd.exe", "powershell.exe", "pwsh.exe", "net.exe", "net1.exe", "ipconfig.exe", "ping.exe", "whoami.exe",
		"tasklist.exe", "netstat.exe", "nslookup.exe", "gpupdate.exe", "git.exe", "python.exe", "sc.exe",
		"mpcmdrun.exe", "compattelrunner.exe":
		return true
	}
	return false
}

// realDecoys weights netDecoy's variants for the realistic profile:
// mostly ordinary admin work that shares the seed rule's literals (group
// membership changes, drive mappings, notes), rarely the enumeration
// commands that discovery rules look for.
var realDecoys = []int{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 7, 7, 7, 7, 7, 7, 7, 7, 6, 6, 1, 2, 4, 5, 8}

const (
	chromeExe = `C:\Program Files\Google\Chrome\Application\chrome.exe`
	edgeExe   = `C:\Program Files (x86)\Microsoft\Edge\Application\msedge.exe`
	teamsExe  = `C:\Users\%u\AppData\Local\Microsoft\Teams\current\Teams.exe`
	defender  = `C:\ProgramData\Microsoft\Windows Defender\Platform\4.18.24040.4-0\`
)

var (
	chromeFiles  = []string{`C:\Users\%u\AppData\Local\Google\Chrome\User Data\Default\Cache\Cache_Data\f_%x`, `C:\Users\%u\AppData\Local\Google\Chrome\User Data\Default\History-journal`, `C:\Users\%u\AppData\Local\Google\Chrome\User Data\Default\Network\Cookies-journal`, `C:\Users\%u\Downloads\invoice-%x.pdf`, `C:\Users\%u\Downloads\Q4 budget.xlsx`}
	edgeFiles    = []string{`C:\Users\%u\AppData\Local\Microsoft\Edge\User Data\Default\Cache\Cache_Data\f_%x`, `C:\Users\%u\AppData\Local\Microsoft\Edge\User Data\Default\Preferences`}
	teamsFiles   = []string{`C:\Users\%u\AppData\Roaming\Microsoft\Teams\IndexedDB\https_teams.microsoft.com_0.indexeddb.leveldb\%x.log`, `C:\Users\%u\AppData\Roaming\Microsoft\Teams\logs.txt`, `C:\Users\%u\AppData\Roaming\Microsoft\Teams\Cache\data_1`}
	officeFiles  = []string{`C:\Users\%u\Documents\report.docx`, `C:\Users\%u\Documents\~$report.docx`, `C:\Users\%u\AppData\Local\Microsoft\Office\16.0\OfficeFileCache\%x.tmp`, `C:\Users\%u\AppData\Roaming\Microsoft\Office\Recent\report.docx.LNK`}
	intranetURLs = []string{"https://intranet.corp.local/hr/", "https://contoso.sharepoint.com/sites/finance/Shared%20Documents/Q4.xlsx", "https://jira.corp.local/browse/OPS-1234", "https://login.microsoftonline.com/common/oauth2/v2.0/authorize"}
	ps1Scripts   = []string{`C:\Scripts\inventory.ps1`, `C:\Program Files\Contoso\Agent\collect.ps1`, `C:\Windows\CCM\SystemTemp\%x.ps1`}
)

// chromiumArgs: the child processes a Chromium browser starts. Renderers
// with field-trial feature lists are the long command lines of real
// endpoint data.
func chromiumArgs(exe string) func(*gen, *host) []string {
	return func(g *gen, _ *host) []string {
		h := strconv.Itoa(1000 + g.intn(9000))
		trial := "--field-trial-handle=" + strconv.Itoa(1700+g.intn(300)) + ",i," + strconv.Itoa(g.intn(1<<30)) + "," + strconv.Itoa(g.intn(1<<30)) + ",262144"
		switch g.intn(6) {
		case 0:
			return []string{exe, "--type=utility", "--utility-sub-type=network.mojom.NetworkService", "--lang=en-US", "--service-sandbox-type=none", "--mojo-platform-channel-handle=" + h, trial, "/prefetch:11"}
		case 1:
			return []string{exe, "--type=gpu-process", "--gpu-preferences=UAAAAAAAAADgAAAYAAAAAAAAAAAAAAAAAABgAAAAAAAwAAAAAAAAAAAAAAAQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "--mojo-platform-channel-handle=" + h, trial, "/prefetch:2"}
		default:
			a := []string{exe, "--type=renderer", "--lang=en-US", "--device-scale-factor=1", "--num-raster-threads=4", "--renderer-client-id=" + strconv.Itoa(5+g.intn(300)), "--launch-time-ticks=" + strconv.Itoa(g.intn(1<<30)), "--mojo-platform-channel-handle=" + h, trial}
			if g.intn(16) == 0 {
				a = append(a, "--enable-features="+strings.Repeat("BackForwardCache,", 1+g.intn(8))+"NetworkServiceInProcess")
			}
			return append(a, "/prefetch:1")
		}
	}
}

func realWindows() ([]*rtmpl, int) {
	ts := []*rtmpl{
		// Browsers, Teams: their own children.
		{name: "chrome.exe", exe: chromeExe, weight: 2200, from: "chrome", signer: "Google LLC", args: chromiumArgs(chromeExe), files: chromeFiles},
		{name: "chrome.exe", exe: chromeExe, weight: 30, from: "explorer", signer: "Google LLC", ports: webOut, files: chromeFiles,
			args: func(g *gen, _ *host) []string {
				return []string{chromeExe, "--single-argument", g.pick(intranetURLs)}
			}},
		{name: "msedge.exe", exe: edgeExe, weight: 700, from: "msedge", signer: "Microsoft Corporation", args: chromiumArgs(edgeExe), files: edgeFiles},
		{name: "Teams.exe", exe: teamsExe, weight: 350, from: "teams", signer: "Microsoft Corporation", ports: webOut, files: teamsFiles,
			args: oneOf([]string{teamsExe, "--type=renderer", "--autoplay-policy=no-user-gesture-required", "--lang=en-US", "--mojo-platform-channel-handle=2384", "/prefetch:1"},
				[]string{teamsExe, "--type=gpu-process", "--field-trial-handle=1712,17553443012954632548,131072", "--enable-features=WinUseBrowserSpellChecker", "--gpu-preferences=UAAAAAAAAADgAAAYAAAAAAAAAAAAAAAAAABgAAAAAAAwAAAAAAAAAAAAAAAQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "/prefetch:2"})},

		// Services and COM servers, under their real hosts.
		{name: "svchost.exe", exe: `C:\Windows\System32\svchost.exe`, weight: 500, from: "services", as: "system", signer: msSigner, ports: webOut,
			files: []string{`C:\Windows\System32\LogFiles\WMI\RtBackup\EtwRT%x.etl`, `C:\Windows\ServiceProfiles\LocalService\AppData\Local\lastalive0.dat`},
			args: func(g *gen, _ *host) []string {
				return []string{`C:\Windows\system32\svchost.exe`, "-k", g.pick(svcGroups), "-p", "-s", g.pick(svcNames)}
			}},
		{name: "RuntimeBroker.exe", exe: `C:\Windows\System32\RuntimeBroker.exe`, weight: 350, from: "svc-dcom", as: "user", signer: msSigner,
			args: fixed(`C:\Windows\System32\RuntimeBroker.exe`, "-Embedding")},
		{name: "dllhost.exe", exe: `C:\Windows\System32\dllhost.exe`, weight: 300, from: "svc-dcom", as: "user", signer: msSigner,
			args: oneOf([]string{`C:\Windows\system32\DllHost.exe`, "/Processid:{3EB3C877-1F16-487C-9050-104DBCD66683}"},
				[]string{`C:\Windows\system32\DllHost.exe`, "/Processid:{AB8902B4-09CA-4BB6-B78D-A8F59079A8D5}"},
				[]string{`C:\Windows\system32\DllHost.exe`, "/Processid:{973D20D7-562D-44B9-B70B-5A0F49CCDF3F}"})},
		{name: "backgroundTaskHost.exe", exe: `C:\Windows\System32\backgroundTaskHost.exe`, weight: 200, from: "svc-dcom", as: "user", signer: msSigner,
			args: fixed(`"C:\Windows\system32\backgroundTaskHost.exe"`, `-ServerName:BackgroundTaskHost.WebAccountProvider`)},
		{name: "WmiPrvSE.exe", exe: `C:\Windows\System32\wbem\WmiPrvSE.exe`, weight: 150, from: "svc-dcom", as: "network", signer: msSigner,
			args: fixed(`C:\Windows\system32\wbem\wmiprvse.exe`, "-secured", "-Embedding")},
		{name: "smartscreen.exe", exe: `C:\Windows\System32\smartscreen.exe`, weight: 60, from: "svc-dcom", as: "user", signer: msSigner,
			args: fixed(`C:\Windows\System32\smartscreen.exe`, "-Embedding")},
		{name: "TiWorker.exe", exe: `C:\Windows\WinSxS\amd64_microsoft-windows-servicingstack_31bf3856ad364e35_10.0.22621.3520_none_7e4b9d6a2a5d7b61\TiWorker.exe`, weight: 10, from: "svc-dcom", as: "system", signer: msSigner,
			args: fixed(`C:\Windows\winsxs\amd64_microsoft-windows-servicingstack_31bf3856ad364e35_10.0.22621.3520_none_7e4b9d6a2a5d7b61\TiWorker.exe`, "-Embedding")},
		{name: "taskhostw.exe", exe: `C:\Windows\System32\taskhostw.exe`, weight: 150, from: "svc-sched", as: "user", signer: msSigner,
			args: oneOf([]string{"taskhostw.exe", "{222A245B-E637-4AE9-A93F-A59CA119A75E}"}, []string{"taskhostw.exe", "Install", "$(Arg0)"}, []string{"taskhostw.exe", "SYSTEM"})},
		{name: "SearchProtocolHost.exe", exe: `C:\Windows\System32\SearchProtocolHost.exe`, weight: 250, from: "searchidx", signer: msSigner,
			args: fixed(`"C:\Windows\system32\SearchProtocolHost.exe"`, `Global\UsGthrFltPipeMssGthrPipe5_`, `Global\UsGthrCtrlFltPipeMssGthrPipe5`, "1", "-2147483646", `"Software\Microsoft\Windows Search"`, `"Mozilla/4.0 (compatible; MSIE 6.0; Windows NT; MS Search 4.0 Robot)"`, `"C:\ProgramData\Microsoft\Search\Data\Temp\usgthrsvc"`, `"DownLevelDaemon"`)},
		{name: "SearchFilterHost.exe", exe: `C:\Windows\System32\SearchFilterHost.exe`, weight: 250, from: "searchidx", signer: msSigner,
			args: fixed(`"C:\Windows\system32\SearchFilterHost.exe"`, "0", "836", "840", "848", "8192", "852", "828")},
		{name: "msiexec.exe", exe: `C:\Windows\System32\msiexec.exe`, weight: 10, from: "services", as: "system", signer: msSigner,
			args: fixed(`C:\Windows\system32\msiexec.exe`, "/V")},
		{name: "sppsvc.exe", exe: `C:\Windows\System32\sppsvc.exe`, weight: 5, from: "services", as: "network", signer: msSigner,
			args: fixed(`C:\Windows\system32\sppsvc.exe`)},

		// Scheduled tasks.
		{name: "MpCmdRun.exe", exe: defender + "MpCmdRun.exe", weight: 30, from: "svc-sched", as: "system", signer: "Microsoft Corporation", ports: webOut,
			args: oneOf([]string{defender + "MpCmdRun.exe", "-SignatureUpdate", "-ScheduleJob", "-RestrictPrivileges"}, []string{defender + "MpCmdRun.exe", "Scan", "-ScheduleJob", "-ScanTrigger", "55", "-IdleScheduledJob"})},
		{name: "CompatTelRunner.exe", exe: `C:\Windows\System32\CompatTelRunner.exe`, weight: 10, from: "svc-sched", as: "system", signer: msSigner,
			args: fixed(`C:\Windows\system32\compattelrunner.exe`, "-m:appraiser.dll", "-f:DoScheduledTelemetryRun")},
		{name: "rundll32.exe", exe: `C:\Windows\System32\rundll32.exe`, weight: 10, from: "svc-sched", as: "system", signer: msSigner,
			args: fixed(`C:\Windows\system32\rundll32.exe`, `C:\Windows\system32\PcaSvc.dll,PcaPatchSdbTask`)},
		{name: "updater.exe", exe: `C:\Program Files (x86)\Google\GoogleUpdater\130.0.6723.59\updater.exe`, weight: 10, from: "svc-sched", as: "system", signer: "Google LLC", ports: webOut,
			args: fixed(`"C:\Program Files (x86)\Google\GoogleUpdater\130.0.6723.59\updater.exe"`, "--wake", "--system")},
		{name: "OneDriveStandaloneUpdater.exe", exe: `C:\Users\%u\AppData\Local\Microsoft\OneDrive\OneDriveStandaloneUpdater.exe`, weight: 10, from: "svc-sched", as: "user", signer: "Microsoft Corporation", ports: webOut,
			files: []string{`C:\Users\%u\AppData\Local\Microsoft\OneDrive\Update\update.xml`, `C:\Users\%u\AppData\Local\Microsoft\OneDrive\Update\OneDriveSetup.exe`},
			args:  fixed(`"C:\Users\%u\AppData\Local\Microsoft\OneDrive\OneDriveStandaloneUpdater.exe"`, "/reporting")},
		{name: "cmd.exe", exe: `C:\Windows\System32\cmd.exe`, weight: 15, from: "svc-sched", as: "system", signer: msSigner,
			args: fixed(`C:\Windows\system32\cmd.exe`, "/d", "/c", `"C:\Program Files\Contoso\Agent\run-task.bat" --nightly`)},
		{name: "powershell.exe", exe: `C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`, weight: 15, from: "svc-sched", as: "system", signer: msSigner,
			args: func(g *gen, _ *host) []string {
				return []string{"powershell.exe", "-NoProfile", "-ExecutionPolicy", "Bypass", "-File", g.pick(ps1Scripts[:2])}
			}},

		// Configuration management (SCCM) runs its compliance scripts as
		// SYSTEM, encoded: the long PowerShell command lines of real data.
		{name: "powershell.exe", exe: `C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`, weight: 40, from: "ccm", as: "system", signer: msSigner,
			args: func(g *gen, _ *host) []string {
				if g.intn(3) == 0 {
					return []string{"powershell.exe", "-NoLogo", "-NonInteractive", "-ExecutionPolicy", "Bypass", "-File", `C:\Windows\CCM\SystemTemp\` + g.uuid() + ".ps1"}
				}
				return []string{"powershell.exe", "-NoLogo", "-NonInteractive", "-ExecutionPolicy", "Bypass", "-EncodedCommand", encodePS(complianceScript(g))}
			}},

		// A monitoring job under the host's service account (SYSTEM where
		// there is none), its script encoded as schedulers store them.
		{name: "powershell.exe", exe: `C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`, weight: 25, from: "svc-sched", as: "svcacct", signer: msSigner,
			args: func(g *gen, _ *host) []string {
				return []string{"powershell.exe", "-NoProfile", "-NonInteractive", "-EncodedCommand", encodePS(g.pick(monitorScripts))}
			}},

		// The user's desktop.
		{name: "WINWORD.EXE", exe: `C:\Program Files\Microsoft Office\root\Office16\WINWORD.EXE`, weight: 40, from: "explorer", signer: "Microsoft Corporation", ports: webOut, files: officeFiles,
			args: fixed(`"C:\Program Files\Microsoft Office\root\Office16\WINWORD.EXE"`, "/n", `C:\Users\%u\Documents\report.docx`)},
		{name: "EXCEL.EXE", exe: `C:\Program Files\Microsoft Office\root\Office16\EXCEL.EXE`, weight: 30, from: "explorer", signer: "Microsoft Corporation", ports: webOut, files: officeFiles,
			args: fixed(`"C:\Program Files\Microsoft Office\root\Office16\EXCEL.EXE"`, `\\fs01\share\Q4 budget.xlsx`)},
		{name: "notepad.exe", exe: `C:\Windows\System32\notepad.exe`, weight: 30, from: "explorer", signer: msSigner, files: []string{`C:\Users\%u\Documents\notes.txt`},
			args: func(g *gen, _ *host) []string {
				return []string{`C:\Windows\system32\NOTEPAD.EXE`, g.pick([]string{`C:\Users\%u\Documents\notes.txt`, `C:\Users\%u\Desktop\todo.txt`, `\\fs01\share\readme.txt`})}
			}},
		{name: "cmd.exe", exe: `C:\Windows\System32\cmd.exe`, weight: 20, from: "explorer", signer: msSigner,
			args: fixed(`"C:\Windows\system32\cmd.exe"`)},
		{name: "powershell.exe", exe: `C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`, weight: 10, from: "explorer", signer: msSigner,
			args: fixed(`"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe"`)},

		// Typed in the user's console: admin and troubleshooting tools,
		// each a few times a day on a host.
		{name: "git.exe", exe: `C:\Program Files\Git\cmd\git.exe`, weight: 20, from: "console", signer: "Johannes Schindelin", ports: webOut,
			args: oneOf([]string{"git", "fetch", "--all", "--prune"}, []string{"git", "status", "--porcelain"}, []string{"git", "pull", "origin", "main"})},
		{name: "python.exe", exe: `C:\Users\%u\AppData\Local\Programs\Python\Python312\python.exe`, weight: 4, from: "console", signer: "Python Software Foundation", ports: webOut,
			args: fixed("python", "-m", "pip", "install", "--user", "--upgrade", "requests")},
		{name: "ipconfig.exe", exe: `C:\Windows\System32\ipconfig.exe`, weight: 5, from: "console", signer: msSigner,
			args: oneOf([]string{"ipconfig", "/all"}, []string{"ipconfig", "/flushdns"})},
		{name: "PING.EXE", exe: `C:\Windows\System32\PING.EXE`, weight: 5, from: "console", signer: msSigner,
			args: oneOf([]string{"ping", "-n", "4", "fs01.corp.local"}, []string{"ping", "intranet.corp.local"})},
		{name: "nslookup.exe", exe: `C:\Windows\System32\nslookup.exe`, weight: 3, from: "console", signer: msSigner, ports: dnsOut,
			args: fixed("nslookup", "intranet.corp.local")},
		{name: "gpupdate.exe", exe: `C:\Windows\System32\gpupdate.exe`, weight: 3, from: "console", signer: msSigner,
			args: fixed("gpupdate", "/force")},
		{name: "net.exe", exe: `C:\Windows\System32\net.exe`, weight: 4, from: "console", signer: msSigner,
			args: fixed("net", "use", "S:", `\\fs01\share`, "/persistent:yes")},
		{name: "NET.EXE", exe: `C:\WINDOWS\system32\NET.EXE`, weight: 4, from: "console", signer: msSigner,
			args: fixed("NET", "USE", "H:", `\\fs01\home\%u`, "/PERSISTENT:NO")},
		{name: "whoami.exe", exe: `C:\Windows\System32\whoami.exe`, weight: 1, from: "console", signer: msSigner,
			args: fixed("whoami", "/groups")},
		{name: "tasklist.exe", exe: `C:\Windows\System32\tasklist.exe`, weight: 1, from: "console", signer: msSigner,
			args: fixed("tasklist", "/fi", "imagename eq chrome.exe")},
		{name: "NETSTAT.EXE", exe: `C:\Windows\System32\NETSTAT.EXE`, weight: 1, from: "console", signer: msSigner,
			args: fixed("netstat", "-ano")},
	}
	w := 0
	for _, t := range ts {
		w += t.weight
	}
	return ts, w
}

const (
	kafkaCP = "/opt/kafka/libs/activation-1.1.1.jar:/opt/kafka/libs/aopalliance-repackaged-2.6.1.jar:/opt/kafka/libs/argparse4j-0.7.0.jar:/opt/kafka/libs/audience-annotations-0.12.0.jar:/opt/kafka/libs/commons-cli-1.4.jar:/opt/kafka/libs/commons-lang3-3.12.0.jar:/opt/kafka/libs/jackson-databind-2.16.2.jar:/opt/kafka/libs/kafka-clients-3.7.0.jar:/opt/kafka/libs/kafka-tools-3.7.0.jar"
	javaExe = "/usr/lib/jvm/java-17-openjdk-amd64/bin/java"
)

func realLinux() ([]*rtmpl, int) {
	ts := []*rtmpl{
		{name: "postgres", exe: "/usr/lib/postgresql/16/bin/postgres", weight: 300, from: "postgres", signer: "",
			files: []string{"/var/lib/postgresql/16/main/base/16384/%x", "/var/lib/postgresql/16/main/pg_stat_tmp/global.tmp"},
			args: func(g *gen, h *host) []string {
				return []string{"postgres: app appdb 10.0.3." + strconv.Itoa(10+g.intn(40)) + "(" + strconv.Itoa(40000+g.intn(20000)) + ") idle"}
			}},
		{name: "nginx", exe: "/usr/sbin/nginx", weight: 20, from: "nginx", as: "www-data", ports: []netDst{{443, 'I', false}, {80, 'I', false}},
			files: []string{"/var/log/nginx/access.log", "/var/lib/nginx/proxy/%x"}, args: fixed("nginx: worker process")},
		{name: "cron", exe: "/usr/sbin/cron", weight: 150, from: "cron", args: fixed("/usr/sbin/CRON", "-f", "-P")},
		{name: "dash", exe: "/usr/bin/dash", weight: 150, from: "cron",
			args: oneOf([]string{"/bin/sh", "-c", "command -v debian-sa1 > /dev/null && debian-sa1 1 1"},
				[]string{"/bin/sh", "-c", "[ -x /usr/lib/php/sessionclean ] && if [ ! -d /run/systemd/system ]; then /usr/lib/php/sessionclean; fi"},
				[]string{"/bin/sh", "-c", "/usr/local/bin/healthcheck.sh >/dev/null 2>&1"})},
		{name: "sadc", exe: "/usr/lib/sysstat/sadc", weight: 100, from: "cron", files: []string{"/var/log/sysstat/sa01"},
			args: fixed("/usr/lib/sysstat/sadc", "-F", "-L", "-S", "DISK", "1", "1", "/var/log/sysstat")},
		{name: "curl", exe: "/usr/bin/curl", weight: 100, from: "cron", ports: []netDst{{8080, 'l', false}},
			args: fixed("curl", "-fsS", "-m", "10", "-o", "/dev/null", "http://127.0.0.1:8080/healthz")},
		{name: "curl", exe: "/usr/bin/curl", weight: 20, from: "cron", ports: []netDst{{443, 'x', false}},
			args: fixed("curl", "-fsS", "-m", "30", "-o", "/dev/null", "-w", "%{http_code}", "https://status.contoso.com/api/v2/status.json")},
		{name: "python3", exe: "/opt/app/venv/bin/python3", weight: 10, from: "cron", as: "deploy", ports: []netDst{{443, 'x', false}}, files: []string{"/opt/app/addons/catalog.json", "/opt/app/addons/%x.whl"},
			args: fixed("/opt/app/venv/bin/python3", "/opt/app/addons/sync.py", "--once")},
		{name: "java", exe: javaExe, weight: 8, from: "cron", ports: []netDst{{9092, 'l', false}},
			args: fixed(javaExe, "-Xmx256M", "-server", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20", "-Djava.awt.headless=true", "-Dlog4j.configuration=file:/opt/kafka/config/tools-log4j.properties", "-cp", kafkaCP, "kafka.admin.ConsumerGroupCommand", "--bootstrap-server", "localhost:9092", "--describe", "--all-groups")},
		{name: "logrotate", exe: "/usr/sbin/logrotate", weight: 5, from: "systemd", files: []string{"/var/log/nginx/access.log.1", "/var/lib/logrotate/status"},
			args: fixed("/usr/sbin/logrotate", "/etc/logrotate.conf")},
		{name: "systemd-hostnamed", exe: "/usr/lib/systemd/systemd-hostnamed", weight: 5, from: "systemd", args: fixed("/usr/lib/systemd/systemd-hostnamed")},
		{name: "sshd", exe: "/usr/sbin/sshd", weight: 15, from: "sshd",
			args: func(g *gen, h *host) []string { return []string{"sshd: " + h.svc["user"].name + " [priv]"} }},

		// The admin's shell.
		{name: "ls", exe: "/usr/bin/ls", weight: 15, from: "bash", args: oneOf([]string{"ls", "--color=auto", "-la"}, []string{"ls", "--color=auto", "/opt/app"})},
		{name: "grep", exe: "/usr/bin/grep", weight: 10, from: "bash", args: fixed("grep", "-r", "--color=auto", "ERROR", "/opt/app/logs/")},
		{name: "less", exe: "/usr/bin/less", weight: 6, from: "bash", args: fixed("less", "/opt/app/logs/worker.log")},
		{name: "tail", exe: "/usr/bin/tail", weight: 6, from: "bash", args: fixed("tail", "-n", "200", "/var/log/nginx/access.log")},
		{name: "vim.basic", exe: "/usr/bin/vim.basic", weight: 4, from: "bash", files: []string{"/opt/app/config.yaml", "/home/%u/.viminfo"}, args: fixed("vim", "/opt/app/config.yaml")},
		{name: "git", exe: "/usr/bin/git", weight: 6, from: "bash", ports: []netDst{{443, 'x', false}}, args: oneOf([]string{"git", "pull", "--ff-only"}, []string{"git", "log", "--oneline", "-20"})},
		{name: "systemctl", exe: "/usr/bin/systemctl", weight: 4, from: "bash", args: oneOf([]string{"systemctl", "status", "nginx.service"}, []string{"systemctl", "reload", "nginx.service"})},
		{name: "df", exe: "/usr/bin/df", weight: 3, from: "bash", args: fixed("df", "-h")},
	}
	w := 0
	for _, t := range ts {
		w += t.weight
	}
	return ts, w
}

// encodePS is PowerShell's -EncodedCommand form of script: base64 of its
// UTF-16LE text.
func encodePS(script string) string {
	u := make([]byte, 0, 2*len(script))
	for i := 0; i < len(script); i++ {
		u = append(u, script[i], 0)
	}
	return base64.StdEncoding.EncodeToString(u)
}

var (
	regKeys  = []string{`HKLM:\SOFTWARE\Contoso\Agent`, `HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\WindowsUpdate\Auto Update`, `HKLM:\SOFTWARE\Policies\Microsoft\Windows Defender`, `HKLM:\SYSTEM\CurrentControlSet\Services\BITS`}
	regNames = []string{"Version", "AUOptions", "DisableAntiSpyware", "Start", "LastScanTime"}

	monitorScripts = []string{
		`Get-Service -Name MSSQLSERVER,SQLSERVERAGENT | Select-Object Name,Status | ConvertTo-Json -Compress | Out-File -Encoding ascii C:\Monitoring\sqlsvc.json`,
		`$d = Get-PSDrive -PSProvider FileSystem | Select-Object Name,Used,Free; $d | Export-Csv -NoTypeInformation C:\Monitoring\disk.csv`,
		`Start-WBBackup -Policy (Get-WBPolicy) -Force; Get-WBJob -Previous 1 | Out-File C:\Monitoringackup.log`,
	}
)

// complianceScript is a configuration-management compliance check, of
// varying length (encoded, 650 to 1,100 bytes).
func complianceScript(g *gen) string {
	var b strings.Builder
	b.WriteString("$ErrorActionPreference='Stop'; $r = @{}; ")
	for n := 1 + g.intn(2); n > 0; n-- {
		k, v := g.pick(regKeys), g.pick(regNames)
		b.WriteString("$r['" + v + "'] = (Get-ItemProperty '" + k + "' -Name " + v + " -ErrorAction SilentlyContinue)." + v + "; ")
	}
	b.WriteString("if ($r.Values -contains $null) { 'Non-Compliant' } else { 'Compliant' }")
	return b.String()
}

// realRoots sets up a host's long-lived processes (started before the
// data) for the realistic profile.
func (g *gen) realRoots(h *host) {
	h.byKey = map[string]*proc{}
	h.svc = map[string]user{}
	h.dc, h.fs = "10.0.0.10", "10.0.0.20"
	add := func(key, parent string, rt *rtmpl, args []string, pid int, as string) *proc {
		p := &proc{rt: rt, name: rt.name, exe: rt.exe, args: args, pid: pid, parent: h.byKey[parent]}
		switch {
		case as != "":
			p.user = h.svc[as]
		case p.parent != nil:
			p.user = p.parent.user
		}
		p.exe = strings.ReplaceAll(p.exe, "%u", p.user.name)
		for i, a := range p.args {
			p.args[i] = strings.ReplaceAll(a, "%u", p.user.name)
		}
		p.entityID = g.b64(24)
		if h.windows {
			p.cmdline = windowsCmdline(p.args)
		} else {
			p.cmdline = strings.Join(p.args, " ")
		}
		h.byKey[key] = p
		h.roots = append(h.roots, p)
		return p
	}
	pid := func(lo, n int) int {
		if h.windows {
			return lo + 4*g.intn(n)
		}
		return lo + g.intn(n)
	}
	rt := func(name, exe, signer string, ports []netDst, files ...string) *rtmpl {
		return &rtmpl{name: name, exe: exe, signer: signer, ports: ports, files: files}
	}
	weigh := func(list *[]*proc, ws ...any) {
		for i := 0; i < len(ws); i += 2 {
			for n := ws[i+1].(int); n > 0; n-- {
				*list = append(*list, h.byKey[ws[i].(string)])
			}
		}
	}
	if h.windows {
		h.svc["system"] = h.users[len(h.users)-1]
		h.svc["local"] = user{name: "LOCAL SERVICE", domain: "NT AUTHORITY", id: "S-1-5-19"}
		h.svc["network"] = user{name: "NETWORK SERVICE", domain: "NT AUTHORITY", id: "S-1-5-20"}
		h.svc["user"] = interactive(h, "svc_")
		h.svc["svcacct"] = h.svc["system"]
		for _, u := range h.users {
			if strings.HasPrefix(u.name, "svc_") {
				h.svc["svcacct"] = u
				break
			}
		}
		sys := `C:\Windows\System32\`
		svchost := func(key, group, svc, as string, ports []netDst, files ...string) {
			add(key, "services", rt("svchost.exe", sys+"svchost.exe", msSigner, ports, files...),
				[]string{`C:\Windows\system32\svchost.exe`, "-k", group, "-p", "-s", svc}, pid(900, 600), as)
		}
		add("system", "", rt("System", "", "", smbOut), []string{"System"}, 4, "system")
		add("smss", "system", rt("smss.exe", sys+"smss.exe", msSigner, nil), []string{`\SystemRoot\System32\smss.exe`}, pid(300, 40), "")
		add("wininit", "smss", rt("wininit.exe", sys+"wininit.exe", msSigner, nil), []string{"wininit.exe"}, pid(500, 40), "")
		add("winlogon", "smss", rt("winlogon.exe", sys+"winlogon.exe", msSigner, nil), []string{"winlogon.exe"}, pid(600, 40), "")
		add("services", "wininit", rt("services.exe", sys+"services.exe", msSigner, nil), []string{`C:\Windows\system32\services.exe`}, pid(700, 40), "")
		add("lsass", "wininit", rt("lsass.exe", sys+"lsass.exe", msSigner, ldapOut), []string{`C:\Windows\system32\lsass.exe`}, pid(760, 40), "")
		add("userinit", "winlogon", rt("userinit.exe", sys+"userinit.exe", msSigner, nil), []string{`C:\Windows\system32\userinit.exe`}, pid(3000, 200), "user")
		add("explorer", "userinit", rt("explorer.exe", `C:\Windows\explorer.exe`, msSigner, nil, `C:\Users\%u\AppData\Roaming\Microsoft\Windows\Recent\report.docx.lnk`, `C:\Users\%u\Desktop\notes.txt`, `C:\Users\%u\AppData\Local\Microsoft\Windows\Explorer\thumbcache_%x.db`), []string{`C:\Windows\Explorer.EXE`}, pid(4000, 500), "")
		svchost("svc-dcom", "DcomLaunch", "DcomLaunch", "system", nil)
		svchost("svc-sched", "netsvcs", "Schedule", "system", nil)
		svchost("svc-wu", "netsvcs", "wuauserv", "system", webOut, `C:\Windows\SoftwareDistribution\Download\%x\windows11.0-kb5044380-x64.cab`, `C:\Windows\SoftwareDistribution\DataStore\Logs\edb.log`)
		svchost("svc-dns", "NetworkService", "Dnscache", "network", dnsOut)
		svchost("svc-gp", "netsvcs", "gpsvc", "system", []netDst{{445, 'd', false}, {389, 'd', false}}, `C:\Windows\System32\GroupPolicy\Machine\Registry.pol`)
		svchost("svc-do", "NetworkService", "DoSvc", "network", webOut, `C:\Windows\ServiceProfiles\NetworkService\AppData\Local\Microsoft\Windows\DeliveryOptimization\Cache\%x\content.phf`)
		add("searchidx", "services", rt("SearchIndexer.exe", sys+"SearchIndexer.exe", msSigner, nil, `C:\ProgramData\Microsoft\Search\Data\Applications\Windows\MSS%x.log`), []string{`C:\Windows\system32\SearchIndexer.exe`, "/Embedding"}, pid(5000, 500), "system")
		add("msmpeng", "services", rt("MsMpEng.exe", defender+"MsMpEng.exe", "Microsoft Corporation", webOut, `C:\ProgramData\Microsoft\Windows Defender\Scans\History\Service\DetectionHistory\%x`, `C:\ProgramData\Microsoft\Windows Defender\Support\MPLog-20260101-000000.log`), []string{`"` + defender + `MsMpEng.exe"`}, pid(3500, 300), "system")
		add("ccm", "services", rt("CcmExec.exe", `C:\Windows\CCM\CcmExec.exe`, "Microsoft Corporation", []netDst{{443, 's', false}, {80, 's', false}}, `C:\Windows\CCM\Logs\CcmExec.log`, `C:\Windows\CCM\SystemTemp\%x.tmp`), []string{`C:\Windows\CCM\CcmExec.exe`}, pid(3600, 300), "system")
		add("agent", "services", rt("network.exe", `C:\Program Files\Contoso\Agent\network.exe`, "Contoso Ltd", intWeb), []string{`"C:\Program Files\Contoso\Agent\network.exe"`, "--poll", "30"}, pid(3700, 300), "system")
		add("chrome", "explorer", rt("chrome.exe", chromeExe, "Google LLC", webOut, chromeFiles...), []string{`"` + chromeExe + `"`}, pid(8000, 2000), "")
		add("msedge", "explorer", rt("msedge.exe", edgeExe, "Microsoft Corporation", webOut, edgeFiles...), []string{`"` + edgeExe + `"`, "--no-startup-window", "--win-session-start"}, pid(8000, 2000), "")
		add("teams", "explorer", rt("Teams.exe", teamsExe, "Microsoft Corporation", webOut, teamsFiles...), []string{teamsExe, "--system-initiated"}, pid(8000, 2000), "")
		add("onedrive", "explorer", rt("OneDrive.exe", `C:\Users\%u\AppData\Local\Microsoft\OneDrive\OneDrive.exe`, "Microsoft Corporation", webOut, `C:\Users\%u\OneDrive - Contoso\Documents\report.docx`, `C:\Users\%u\OneDrive - Contoso\Desktop\notes.txt`, `C:\Users\%u\AppData\Local\Microsoft\OneDrive\logs\Business1\SyncEngine-%x.odl`, `C:\Users\%u\AppData\Local\Microsoft\OneDrive\Update\update.xml`), []string{`"C:\Users\%u\AppData\Local\Microsoft\OneDrive\OneDrive.exe"`, "/background"}, pid(8000, 2000), "")
		add("outlook", "explorer", rt("OUTLOOK.EXE", `C:\Program Files\Microsoft Office\root\Office16\OUTLOOK.EXE`, "Microsoft Corporation", webOut, `C:\Users\%u\AppData\Local\Microsoft\Outlook\%u@contoso.com.ost`, `C:\Users\%u\AppData\Local\Microsoft\Windows\INetCache\Content.Outlook\%x\invoice.pdf`), []string{`"C:\Program Files\Microsoft Office\root\Office16\OUTLOOK.EXE"`}, pid(8000, 2000), "")
		add("console", "explorer", rt("cmd.exe", sys+"cmd.exe", msSigner, nil), []string{`"C:\Windows\system32\cmd.exe"`}, pid(9000, 2000), "")
		add("console-host", "console", conhost, append([]string(nil), conhostArgs...), pid(9000, 2000), "")
		weigh(&h.netRoots, "chrome", 6, "msedge", 2, "teams", 3, "onedrive", 2, "outlook", 2, "svc-wu", 1, "svc-dns", 3, "svc-do", 1, "lsass", 2, "msmpeng", 1, "ccm", 1, "agent", 1, "system", 2, "svc-gp", 1)
		if strings.HasPrefix(h.name, "srv-") {
			svchost("termsvc", "NetworkService", "TermService", "network", []netDst{{3389, 'i', false}})
			weigh(&h.netRoots, "termsvc", 3)
		}
		weigh(&h.fileRoots, "chrome", 4, "msedge", 1, "teams", 2, "onedrive", 2, "outlook", 1, "explorer", 2, "svc-wu", 1, "svc-do", 1, "msmpeng", 2, "searchidx", 2, "ccm", 1)
		return
	}
	h.svc["root"] = h.users[len(h.users)-1]
	h.svc["user"] = interactive(h, "www-data", "postgres")
	h.svc["www-data"] = user{name: "www-data", id: "33"}
	h.svc["postgres"] = user{name: "postgres", id: "114"}
	h.svc["kafka"] = user{name: "kafka", id: "998"}
	h.svc["deploy"] = user{name: "deploy", id: "1001"}
	h.svc["syslog"] = user{name: "syslog", id: "104"}
	add("systemd", "", rt("systemd", "/usr/lib/systemd/systemd", "", nil), []string{"/sbin/init", "splash"}, 1, "root")
	add("journald", "systemd", rt("systemd-journald", "/usr/lib/systemd/systemd-journald", "", nil, "/var/log/journal/%x/system.journal"), []string{"/usr/lib/systemd/systemd-journald"}, pid(300, 100), "")
	add("rsyslogd", "systemd", rt("rsyslogd", "/usr/sbin/rsyslogd", "", nil, "/var/log/syslog", "/var/log/auth.log"), []string{"/usr/sbin/rsyslogd", "-n", "-iNONE"}, pid(600, 100), "syslog")
	add("cron", "systemd", rt("cron", "/usr/sbin/cron", "", nil), []string{"/usr/sbin/cron", "-f", "-P"}, pid(700, 100), "")
	add("sshd", "systemd", rt("sshd", "/usr/sbin/sshd", "", []netDst{{22, 'i', false}}), []string{"sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups"}, pid(800, 400), "")
	add("sshd-session", "sshd", rt("sshd", "/usr/sbin/sshd", "", nil), []string{"sshd: " + h.svc["user"].name + " [priv]"}, pid(5000, 5000), "")
	add("bash", "sshd-session", rt("bash", "/usr/bin/bash", "", nil, "/home/%u/.bash_history"), []string{"-bash"}, pid(5000, 5000), "user")
	add("nginx", "systemd", rt("nginx", "/usr/sbin/nginx", "", nil), []string{"nginx: master process /usr/sbin/nginx -g daemon on; master_process on;"}, pid(900, 100), "")
	add("nginx-worker", "nginx", rt("nginx", "/usr/sbin/nginx", "", []netDst{{443, 'I', false}, {443, 'I', false}, {80, 'I', false}}, "/var/log/nginx/access.log", "/var/log/nginx/error.log"), []string{"nginx: worker process"}, pid(1000, 100), "www-data")
	add("postgres", "systemd", rt("postgres", "/usr/lib/postgresql/16/bin/postgres", "", []netDst{{5432, 'i', false}}, "/var/lib/postgresql/16/main/pg_wal/00000001000000000000%x", "/var/log/postgresql/postgresql-16-main.log"), []string{"/usr/lib/postgresql/16/bin/postgres", "-D", "/var/lib/postgresql/16/main", "-c", "config_file=/etc/postgresql/16/main/postgresql.conf"}, pid(1100, 100), "postgres")
	add("java", "systemd", rt("java", javaExe, "", []netDst{{9092, 's', false}, {9092, 'i', false}}, "/var/lib/kafka/data/events-0/00000000000000%x.log", "/opt/kafka/logs/server.log"), []string{javaExe, "-Xmx2g", "-Xms2g", "-XX:+UseG1GC", "-cp", kafkaCP, "kafka.Kafka", "/opt/kafka/config/server.properties"}, pid(1500, 1000), "kafka")
	add("app", "systemd", rt("python3", "/opt/app/venv/bin/python3", "", []netDst{{5432, 's', false}, {6379, 's', false}, {443, 'x', false}}, "/opt/app/logs/worker.log", "/opt/app/addons/catalog.json", "/opt/app/media/uploads/%x.jpg"), []string{"/opt/app/venv/bin/python3", "/opt/app/manage.py", "runworker", "--queue", "default"}, pid(2000, 1000), "deploy")
	weigh(&h.netRoots, "sshd", 1, "nginx-worker", 3, "postgres", 2, "java", 2, "app", 3)
	weigh(&h.fileRoots, "journald", 2, "rsyslogd", 2, "nginx-worker", 2, "postgres", 2, "java", 2, "app", 3, "bash", 1)
}

// interactive is the account that logs on to the host: its first user
// that is not a service account (names starting with one of svc).
func interactive(h *host, svc ...string) user {
	for _, u := range h.users {
		ok := true
		for _, s := range svc {
			ok = ok && !strings.HasPrefix(u.name, s)
		}
		if ok {
			return u
		}
	}
	return h.users[0]
}

// explorer is the parent of what the interactive user starts.
func (g *gen) explorer(h *host) *proc {
	if g.noisy {
		return h.roots[1]
	}
	return h.byKey["explorer"]
}

func (g *gen) startReal(h *host) {
	ts, tw := g.rlin, g.rlinW
	if h.windows {
		ts, tw = g.rwin, g.rwinW
	}
	x := g.intn(tw)
	t := ts[len(ts)-1]
	for _, c := range ts {
		if x < c.weight {
			t = c
			break
		}
		x -= c.weight
	}
	parent := h.byKey[t.from]
	u := parent.user
	if t.as != "" {
		u = h.svc[t.as]
	}
	exe := strings.ReplaceAll(t.exe, "%u", u.name)
	args := t.args(g, h)
	copied := false
	for i, a := range args {
		if strings.Contains(a, "%u") {
			if !copied {
				args = append([]string(nil), args...) // fixed() shares its slice
				copied = true
			}
			args[i] = strings.ReplaceAll(a, "%u", u.name)
		}
	}
	g.spawn(h, nil, t, t.name, exe, args, parent, &u)
}

func (g *gen) hexName(b []byte) []byte {
	const hex = "0123456789abcdef"
	v := g.r.Uint64()
	for i := 0; i < 8; i++ {
		b = append(b, hex[v&15])
		v >>= 4
	}
	return b
}

func (g *gen) networkReal(h *host) {
	var p *proc
	if len(h.running) > 0 && g.intn(10) >= 8 {
		for try := 0; try < 4; try++ {
			if c := h.running[g.intn(len(h.running))]; c.rt != nil && len(c.rt.ports) > 0 {
				p = c
				break
			}
		}
	}
	if p == nil {
		p = h.netRoots[g.intn(len(h.netRoots))]
	}
	d := p.rt.ports[g.intn(len(p.rt.ports))]
	ingress := d.to == 'i' || d.to == 'I'
	typ, action := "start", "connection_attempted"
	if ingress {
		action = "connection_accepted"
	}
	if g.intn(3) == 0 {
		typ, action = "end", "disconnect_received"
	}
	var remote []byte
	switch d.to {
	case 'x', 'I':
		remote = append(remote, g.pick(extNets)...)
		remote = strconv.AppendInt(remote, int64(g.intn(256)), 10)
		remote = append(remote, '.')
		remote = strconv.AppendInt(remote, int64(1+g.intn(254)), 10)
	case 'd':
		remote = append(remote, h.dc...)
	case 'f':
		remote = append(remote, h.fs...)
	case 'l':
		remote = append(remote, "127.0.0.1"...)
	default: // 's', 'i'
		remote = append(remote, "10.0."...)
		remote = strconv.AppendInt(remote, int64(1+g.intn(8)), 10)
		remote = append(remote, '.')
		remote = strconv.AppendInt(remote, int64(10+g.intn(200)), 10)
	}
	local := []byte(h.ip)
	if d.to == 'l' {
		local = remote
	}
	ephemeral := int64(49152 + g.intn(16000))
	if !h.windows {
		ephemeral = int64(32768 + g.intn(28000))
	}
	dstIP, dstPort, srcIP, srcPort := remote, int64(d.port), local, ephemeral
	dir := "egress"
	if ingress {
		dstIP, srcIP = local, remote
		dir = "ingress"
	}
	b := g.begin(h, "network", typ, action, "endpoint.events.network")
	b = append(b, `,"destination":{"ip":"`...)
	b = append(b, dstIP...)
	b = append(b, `","port":`...)
	b = strconv.AppendInt(b, dstPort, 10)
	b = append(b, `},"network":{"direction":"`...)
	b = append(b, dir...)
	if d.udp {
		b = append(b, `","transport":"udp","type":"ipv4"},"process":{"entity_id":"`...)
	} else {
		b = append(b, `","transport":"tcp","type":"ipv4"},"process":{"entity_id":"`...)
	}
	b = append(b, p.entityID...)
	if p.exe != "" {
		b = append(b, `","executable":`...)
		b = appendStr(b, p.exe)
		b = append(b, `,"name":`...)
	} else {
		b = append(b, `","name":`...)
	}
	b = appendStr(b, p.name)
	b = append(b, `,"pid":`...)
	b = strconv.AppendInt(b, int64(p.pid), 10)
	b = append(b, `},"source":{"ip":"`...)
	b = append(b, srcIP...)
	b = append(b, `","port":`...)
	b = strconv.AppendInt(b, srcPort, 10)
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

var steadyActs = []string{"modification", "modification", "modification", "modification", "modification", "modification", "overwrite", "creation"}

func (g *gen) fileReal(h *host) {
	var p *proc
	if len(h.running) > 0 && g.intn(10) >= 6 {
		for try := 0; try < 4; try++ {
			if c := h.running[g.intn(len(h.running))]; c.rt != nil && len(c.rt.files) > 0 {
				p = c
				break
			}
		}
	}
	if p == nil {
		p = h.fileRoots[g.intn(len(h.fileRoots))]
	}
	pat := p.rt.files[g.intn(len(p.rt.files))]
	// Cache entries, downloads and temporary files (%x names) come and go;
	// logs, databases and documents are written in place, and removed only
	// by their rotation or cleanup tools.
	var act string
	if strings.Contains(pat, "%x") {
		act = g.pick(fileActs)
	} else {
		act = g.pick(steadyActs)
	}
	typ := act
	if act == "modification" || act == "overwrite" || act == "rename" {
		typ = "change"
	}
	path := g.scratch[:0]
	for i := 0; i < len(pat); i++ {
		if pat[i] == '%' && i+1 < len(pat) {
			switch pat[i+1] {
			case 'u':
				path = append(path, p.user.name...)
				i++
				continue
			case 'x':
				path = g.hexName(path)
				i++
				continue
			}
		}
		path = append(path, pat[i])
	}
	g.scratch = path
	sep := byte('/')
	if h.windows {
		sep = '\\'
	}
	dirEnd := strings.LastIndexByte(string(path), sep)
	name := path[dirEnd+1:]
	ext := []byte(nil)
	if i := strings.LastIndexByte(string(name), '.'); i >= 0 {
		ext = name[i+1:]
	}
	b := g.begin(h, "file", typ, act, "endpoint.events.file")
	b = append(b, `,"file":{"directory":`...)
	b = appendStr(b, string(path[:dirEnd]))
	b = append(b, `,"extension":`...)
	b = appendStr(b, string(ext))
	b = append(b, `,"name":`...)
	b = appendStr(b, string(name))
	b = append(b, `,"path":`...)
	b = appendStr(b, string(path))
	g.finishFile(b, p)
}
