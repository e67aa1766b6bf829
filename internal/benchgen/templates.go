package benchgen

import (
	"strconv"
	"strings"
)

const msSigner = "Microsoft Windows"

var winByName = map[string]*tmpl{}

func init() {
	for _, t := range windowsTemplates() {
		winByName[t.name] = t
	}
}

func fixed(args ...string) func(*gen, *host) []string {
	return func(*gen, *host) []string { return args }
}

func oneOf(choices ...[]string) func(*gen, *host) []string {
	return func(g *gen, _ *host) []string { return choices[g.intn(len(choices))] }
}

var (
	svcGroups = []string{"netsvcs", "LocalServiceNetworkRestricted", "DcomLaunch", "RPCSS", "UnistackSvcGroup", "LocalSystemNetworkRestricted", "wusvcs"}
	svcNames  = []string{"Schedule", "BITS", "wuauserv", "Dnscache", "LanmanWorkstation", "WinHttpAutoProxySvc", "CryptSvc", "EventLog", "Winmgmt", "UsoSvc", "DoSvc"}
	psScripts = []string{`C:\Scripts\inventory.ps1`, `C:\Program Files\Contoso\Agent\collect.ps1`, `\\fs01\netlogon\logon.ps1`, `C:\Users\Public\update-drivers.ps1`}
	docs      = []string{`C:\Users\Public\Documents\notes.txt`, `\\fs01\share\Q4 budget.xlsx`, `C:\Temp\debug.log`, `C:\Users\alice\Documents\report.docx`}
	b64chars  = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	urls      = []string{"https://updates.contoso.com/agent/latest", "https://github.com/", "https://login.microsoftonline.com/common/oauth2/v2.0/authorize", "https://intranet.corp.local/hr/"}
)

func blob(g *gen, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = b64chars[g.intn(64)]
	}
	return string(b)
}

func chromeArgs(exe string) func(*gen, *host) []string {
	return func(g *gen, _ *host) []string {
		switch g.intn(4) {
		case 0:
			return []string{exe, "--type=utility", "--utility-sub-type=network.mojom.NetworkService", "--lang=en-US", "--service-sandbox-type=none", "--mojo-platform-channel-handle=" + strconv.Itoa(1000+g.intn(9000)), "--field-trial-handle=" + strconv.Itoa(1000+g.intn(9000)) + ",i," + strconv.Itoa(g.intn(1<<30)) + "," + strconv.Itoa(g.intn(1<<30)) + ",262144", "/prefetch:11"}
		case 1:
			return []string{exe, urls[g.intn(len(urls))]}
		default:
			a := []string{exe, "--type=renderer", "--lang=en-US", "--renderer-client-id=" + strconv.Itoa(5+g.intn(300)), "--launch-time-ticks=" + strconv.Itoa(g.intn(1<<30)), "--mojo-platform-channel-handle=" + strconv.Itoa(1000+g.intn(9000)), "--field-trial-handle=" + strconv.Itoa(1000+g.intn(9000)) + ",i," + strconv.Itoa(g.intn(1<<30)) + "," + strconv.Itoa(g.intn(1<<30)) + ",262144"}
			if g.intn(8) == 0 {
				a = append(a, "--enable-features="+strings.Repeat("BackForwardCache,", 1+g.intn(8))+"NetworkServiceInProcess")
			}
			return append(a, "/prefetch:1")
		}
	}
}

func windowsTemplates() []*tmpl {
	return []*tmpl{
		{name: "svchost.exe", exe: `C:\Windows\System32\svchost.exe`, weight: 220, net: true, parent: "services.exe", signer: msSigner,
			args: func(g *gen, _ *host) []string {
				return []string{`C:\Windows\system32\svchost.exe`, "-k", g.pick(svcGroups), "-p", "-s", g.pick(svcNames)}
			}},
		{name: "chrome.exe", exe: `C:\Program Files\Google\Chrome\Application\chrome.exe`, weight: 200, net: true, parent: "explorer.exe", signer: "Google LLC",
			args: chromeArgs(`C:\Program Files\Google\Chrome\Application\chrome.exe`)},
		{name: "msedge.exe", exe: `C:\Program Files (x86)\Microsoft\Edge\Application\msedge.exe`, weight: 80, net: true, parent: "explorer.exe", signer: "Microsoft Corporation",
			args: chromeArgs(`C:\Program Files (x86)\Microsoft\Edge\Application\msedge.exe`)},
		{name: "conhost.exe", exe: `C:\Windows\System32\conhost.exe`, weight: 60, signer: msSigner,
			args: fixed(`\??\C:\Windows\system32\conhost.exe`, "0xffffffff", "-ForceV1")},
		{name: "cmd.exe", exe: `C:\Windows\System32\cmd.exe`, weight: 50, parent: "explorer.exe", signer: msSigner,
			args: func(g *gen, _ *host) []string {
				switch g.intn(5) {
				case 0:
					return []string{`C:\Windows\system32\cmd.exe`, "/c", `dir C:\Users\Public /s /b`}
				case 1:
					return []string{"cmd.exe", "/c", `reg add "HKCU\Software\Contoso\Agent" /v LastRun /t REG_SZ /d ` + strconv.Itoa(g.intn(1e9)) + " /f"}
				case 2:
					return []string{"cmd.exe", "/c", `copy /y \\fs01\deploy\agent.msi C:\Windows\Temp\`}
				case 3:
					return []string{"cmd.exe", "/d", "/c", `"C:\Program Files\Contoso\Agent\run-task.bat" --nightly`}
				default:
					return []string{`C:\Windows\system32\cmd.exe`}
				}
			}},
		{name: "powershell.exe", exe: `C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`, weight: 45, net: true, parent: "explorer.exe", signer: msSigner,
			args: func(g *gen, _ *host) []string {
				switch g.intn(4) {
				case 0:
					return []string{"powershell.exe", "-NoProfile", "-ExecutionPolicy", "Bypass", "-File", g.pick(psScripts)}
				case 1:
					return []string{"powershell.exe", "-Command", "Get-Process | Where-Object {$_.CPU -gt 100} | Select-Object Name,Id"}
				default:
					return []string{"powershell.exe", "-NoLogo", "-NonInteractive", "-EncodedCommand", blob(g, 40+4*g.intn(180))}
				}
			}},
		{name: "RuntimeBroker.exe", exe: `C:\Windows\System32\RuntimeBroker.exe`, weight: 50, signer: msSigner,
			args: fixed(`C:\Windows\System32\RuntimeBroker.exe`, "-Embedding")},
		{name: "taskhostw.exe", exe: `C:\Windows\System32\taskhostw.exe`, weight: 30, signer: msSigner,
			args: oneOf([]string{"taskhostw.exe", "{222A245B-E637-4AE9-A93F-A59CA119A75E}"}, []string{"taskhostw.exe", "Install", "$(Arg0)"})},
		{name: "SearchProtocolHost.exe", exe: `C:\Windows\System32\SearchProtocolHost.exe`, weight: 30, signer: msSigner,
			args: fixed(`"C:\Windows\system32\SearchProtocolHost.exe"`, `Global\UsGthrFltPipeMssGthrPipe5_`, `Global\UsGthrCtrlFltPipeMssGthrPipe5`, "1", "-2147483646", `"Software\Microsoft\Windows Search"`, `"Mozilla/4.0 (compatible; MSIE 6.0; Windows NT; MS Search 4.0 Robot)"`, `"C:\ProgramData\Microsoft\Search\Data\Temp\usgthrsvc"`, `"DownLevelDaemon"`)},
		{name: "WmiPrvSE.exe", exe: `C:\Windows\System32\wbem\WmiPrvSE.exe`, weight: 25, signer: msSigner,
			args: fixed(`C:\Windows\system32\wbem\wmiprvse.exe`, "-secured", "-Embedding")},
		{name: "rundll32.exe", exe: `C:\Windows\System32\rundll32.exe`, weight: 20, signer: msSigner,
			args: oneOf([]string{"rundll32.exe", `C:\Windows\System32\shell32.dll,SHCreateLocalServerRunDll`, "{9aa46009-3ce0-458a-a354-715610a075e6}", "-Embedding"},
				[]string{`C:\Windows\system32\rundll32.exe`, `C:\Windows\system32\PcaSvc.dll,PcaPatchSdbTask`})},
		{name: "OneDrive.exe", exe: `C:\Users\Public\AppData\Local\Microsoft\OneDrive\OneDrive.exe`, weight: 15, net: true, parent: "explorer.exe", signer: "Microsoft Corporation",
			args: oneOf([]string{"OneDrive.exe", "/background"}, []string{"OneDrive.exe", "/updateInstalled", "/background"})},
		{name: "Teams.exe", exe: `C:\Users\Public\AppData\Local\Microsoft\Teams\current\Teams.exe`, weight: 20, net: true, parent: "explorer.exe", signer: "Microsoft Corporation",
			args: oneOf([]string{"Teams.exe", "--system-initiated"}, []string{"Teams.exe", "--type=gpu-process", "--field-trial-handle=1712,17553443012954632548,131072", "--enable-features=WinUseBrowserSpellChecker", "--gpu-preferences=UAAAAAAAAADgAAAYAAAAAAAAAAAAAAAAAABgAAAAAAAwAAAAAAAAAAAAAAAQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "/prefetch:2"})},
		{name: "MsMpEng.exe", exe: `C:\ProgramData\Microsoft\Windows Defender\Platform\4.18.24040.4-0\MsMpEng.exe`, weight: 5, net: true, parent: "services.exe", signer: "Microsoft Corporation",
			args: fixed(`"C:\ProgramData\Microsoft\Windows Defender\platform\4.18.24040.4-0\MsMpEng.exe"`)},
		{name: "notepad.exe", exe: `C:\Windows\System32\notepad.exe`, weight: 8, parent: "explorer.exe", signer: msSigner,
			args: func(g *gen, _ *host) []string { return []string{`C:\Windows\system32\NOTEPAD.EXE`, g.pick(docs)} }},
		{name: "netsh.exe", exe: `C:\Windows\System32\netsh.exe`, weight: 5, signer: msSigner,
			args: oneOf([]string{"netsh", "advfirewall", "firewall", "add", "rule", "name=Allow 8080", "dir=in", "action=allow", "protocol=TCP", "localport=8080"},
				[]string{"netsh", "interface", "show", "interface"},
				[]string{"netsh.exe", "wlan", "show", "profiles"})},
		{name: "netstat.exe", exe: `C:\Windows\System32\NETSTAT.EXE`, weight: 5, signer: msSigner,
			args: oneOf([]string{"netstat", "-ano"}, []string{"NETSTAT.EXE", "-an"})},
		{name: "network.exe", exe: `C:\Program Files\Contoso\Agent\network.exe`, weight: 5, net: true, parent: "services.exe",
			args: fixed(`"C:\Program Files\Contoso\Agent\network.exe"`, "--poll", "30", "--user-agent", "ContosoAgent/4.2")},
		{name: "dotnet.exe", exe: `C:\Program Files\dotnet\dotnet.exe`, weight: 5, net: true, parent: "services.exe", signer: ".NET",
			args: fixed("dotnet", `C:\Apps\Billing\Billing.Api.dll`, "--urls", "http://0.0.0.0:5000")},
		{name: "whoami.exe", exe: `C:\Windows\System32\whoami.exe`, weight: 3, signer: msSigner,
			args: oneOf([]string{"whoami"}, []string{"whoami", "/all"}, []string{"whoami", "/groups"})},
		{name: "ipconfig.exe", exe: `C:\Windows\System32\ipconfig.exe`, weight: 3, signer: msSigner,
			args: oneOf([]string{"ipconfig", "/all"}, []string{"ipconfig", "/flushdns"})},
		{name: "tasklist.exe", exe: `C:\Windows\System32\tasklist.exe`, weight: 3, signer: msSigner,
			args: fixed("tasklist", "/v", "/fo", "csv")},
		{name: "schtasks.exe", exe: `C:\Windows\System32\schtasks.exe`, weight: 3, signer: msSigner,
			args: oneOf([]string{"schtasks", "/query", "/fo", "LIST"}, []string{"schtasks", "/create", "/tn", `Contoso\Nightly`, "/tr", `C:\Scripts\nightly.cmd`, "/sc", "daily", "/st", "02:00", "/ru", "SYSTEM"})},
		{name: "reg.exe", exe: `C:\Windows\System32\reg.exe`, weight: 3, signer: msSigner,
			args: oneOf([]string{"reg", "query", `HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Run`}, []string{"reg", "add", `HKCU\Software\Classes\ms-settings\shell\open\command`, "/ve", "/d", `C:\Users\Public\tool.exe`, "/f"})},
		{name: "sc.exe", exe: `C:\Windows\System32\sc.exe`, weight: 2, signer: msSigner,
			args: oneOf([]string{"sc", "query", "WinDefend"}, []string{"sc.exe", "config", "wuauserv", "start=", "auto"})},
		{name: "msiexec.exe", exe: `C:\Windows\System32\msiexec.exe`, weight: 3, net: true, signer: msSigner,
			args: oneOf([]string{`C:\Windows\system32\msiexec.exe`, "/V"}, []string{"msiexec.exe", "/i", `C:\Windows\Temp\agent.msi`, "/qn", "/norestart", "ADDLOCAL=ALL"})},
		{name: "git.exe", exe: `C:\Program Files\Git\cmd\git.exe`, weight: 5, net: true, signer: "Johannes Schindelin",
			args: oneOf([]string{"git", "fetch", "--all", "--prune"}, []string{"git", "status", "--porcelain"}, []string{"git.exe", "-c", "credential.helper=manager", "pull", "origin", "main"})},
		{name: "python.exe", exe: `C:\Users\Public\AppData\Local\Programs\Python\Python312\python.exe`, weight: 4, net: true, parent: "explorer.exe",
			args: fixed("python", "-m", "pip", "install", "--user", "--upgrade", "requests")},
		{name: "net.exe", exe: `C:\Windows\System32\net.exe`, weight: 2, signer: msSigner,
			args: oneOf([]string{"net", "start"}, []string{"net", "time", `\\dc01`}, []string{"net", "session"}, []string{"net", "share"})},
	}
}

func linuxTemplates() []*tmpl {
	return []*tmpl{
		{name: "bash", exe: "/usr/bin/bash", weight: 60,
			args: oneOf([]string{"/bin/bash", "-c", "cd /srv/app && ./healthcheck.sh"}, []string{"bash"}, []string{"/bin/bash", "/usr/local/bin/rotate-logs.sh", "--keep", "7"})},
		{name: "sshd", exe: "/usr/sbin/sshd", weight: 20, net: true, parent: "sshd",
			args: oneOf([]string{"sshd: deploy [priv]"}, []string{"sshd: alice@pts/0"}, []string{"/usr/sbin/sshd", "-D", "-R"})},
		{name: "python3", exe: "/usr/bin/python3.11", weight: 30, net: true, parent: "bash",
			args: oneOf([]string{"python3", "/opt/app/addons/sync.py", "--once"}, []string{"/usr/bin/python3", "-m", "http.server", "8000"}, []string{"python3", "/srv/app/manage.py", "runworker", "--queue", "default"})},
		{name: "curl", exe: "/usr/bin/curl", weight: 25, net: true, parent: "bash",
			args: func(g *gen, _ *host) []string {
				return []string{"curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", g.pick(urls)}
			}},
		{name: "cron", exe: "/usr/sbin/cron", weight: 15, parent: "cron",
			args: fixed("/usr/sbin/CRON", "-f", "-P")},
		{name: "sh", exe: "/usr/bin/dash", weight: 30, parent: "cron",
			args: oneOf([]string{"/bin/sh", "-c", "test -x /usr/sbin/anacron || ( cd / && run-parts --report /etc/cron.daily )"}, []string{"sh", "-c", "/usr/lib/sysstat/debian-sa1 1 1"})},
		{name: "nginx", exe: "/usr/sbin/nginx", weight: 10, net: true, parent: "systemd",
			args: fixed("nginx: worker process")},
		{name: "java", exe: "/usr/lib/jvm/java-17-openjdk-amd64/bin/java", weight: 8, net: true, parent: "systemd",
			args: func(g *gen, _ *host) []string {
				return []string{"/usr/lib/jvm/java-17-openjdk-amd64/bin/java", "-Xms2g", "-Xmx2g", "-XX:+UseG1GC", "-Djava.io.tmpdir=/var/tmp", "-cp", "/opt/kafka/libs/*", "kafka.Kafka", "/opt/kafka/config/server.properties", "--override", "broker.id=" + strconv.Itoa(g.intn(9))}
			}},
		{name: "ps", exe: "/usr/bin/ps", weight: 10, parent: "bash", args: fixed("ps", "aux")},
		{name: "grep", exe: "/usr/bin/grep", weight: 10, parent: "bash", args: fixed("grep", "-r", "--color=auto", "ERROR", "/var/log/app/")},
		{name: "systemctl", exe: "/usr/bin/systemctl", weight: 5, parent: "bash", args: fixed("systemctl", "restart", "nginx.service")},
	}
}
