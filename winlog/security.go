package winlog

import "strings"

// The Security mapping follows Elastic's System integration pipeline
// (packages/system/data_stream/security, standard.yml): the categorisation
// table, then the user, group, logon and source scripts in the pipeline's
// order. As for 4688, event_data values "" and "-" count as absent.

type securityMeta struct {
	category []string
	typ      []string
	action   string
}

// securityEvents is the pipeline's categorisation table for the mapped IDs.
var securityEvents = map[uint32]securityMeta{
	1102: {[]string{"iam"}, []string{"admin", "change"}, "audit-log-cleared"},
	4624: {[]string{"authentication"}, []string{"start"}, "logged-in"},
	4625: {[]string{"authentication"}, []string{"start"}, "logon-failed"},
	4648: {[]string{"authentication"}, []string{"start"}, "logged-in-explicit"},
	4672: {[]string{"iam"}, []string{"admin"}, "logged-in-special"},
	4697: {[]string{"iam", "configuration"}, []string{"admin", "change"}, "service-installed"},
	4698: {[]string{"iam", "configuration"}, []string{"creation", "admin"}, "scheduled-task-created"},
	4702: {[]string{"iam", "configuration"}, []string{"change", "admin"}, "scheduled-task-updated"},
	4720: {[]string{"iam"}, []string{"user", "creation"}, "added-user-account"},
	4722: {[]string{"iam"}, []string{"user", "change"}, "enabled-user-account"},
	4724: {[]string{"iam"}, []string{"user", "change"}, "reset-password"},
	4725: {[]string{"iam"}, []string{"user", "deletion"}, "disabled-user-account"},
	4726: {[]string{"iam"}, []string{"user", "deletion"}, "deleted-user-account"},
	4728: {[]string{"iam"}, []string{"group", "change"}, "added-member-to-group"},
	4732: {[]string{"iam"}, []string{"group", "change"}, "added-member-to-group"},
	4738: {[]string{"iam"}, []string{"user", "change"}, "modified-user-account"},
	5140: {[]string{"network", "file"}, []string{"info", "access"}, "network-share-object-accessed"},
	5145: {[]string{"network", "file"}, []string{"info", "access"}, "network-share-object-access-checked"},
}

// securityMapped lists the Security event IDs (besides 4688) whose ECS
// mapping is applied (each pinned by a test).
var securityMapped = idSet(1102, 4624, 4625, 4648, 4672, 4697, 4698, 4702, 4720, 4722, 4724, 4725, 4726, 4728, 4732, 4738, 5140, 5145)

var logonTypes = map[string]string{
	"2": "Interactive", "3": "Network", "4": "Batch", "5": "Service", "7": "Unlock",
	"8": "NetworkCleartext", "9": "NewCredentials", "10": "RemoteInteractive", "11": "CachedInteractive",
}

var logonStatus = map[string]string{
	"0xc000005e": "There are currently no logon servers available to service the logon request.",
	"0xc0000064": "User logon with misspelled or bad user account",
	"0xc000006a": "User logon with misspelled or bad password",
	"0xc000006d": "This is either due to a bad username or authentication information",
	"0xc000006e": "Unknown user name or bad password.",
	"0xc000006f": "User logon outside authorized hours",
	"0xc0000070": "User logon from unauthorized workstation",
	"0xc0000071": "User logon with expired password",
	"0xc0000072": "User logon to account disabled by administrator",
	"0xc00000dc": "Indicates the Sam Server was in the wrong state to perform the desired operation.",
	"0xc0000133": "Clocks between DC and other computer too far out of sync",
	"0xc000015b": "The user has not been granted the requested logon type (aka logon right) at this machine",
	"0xc000018c": "The logon request failed because the trust relationship between the primary domain and the trusted domain failed.",
	"0xc0000192": "An attempt was made to logon, but the Netlogon service was not started.",
	"0xc0000193": "User logon with expired account",
	"0xc0000224": "User is required to change password at next logon",
	"0xc0000225": "Evidently a bug in Windows and not a risk",
	"0xc0000234": "User logon with account locked",
	"0xc00002ee": "Failure Reason: An Error occurred during Logon",
	"0xc0000413": "Logon Failure: The machine you are logging onto is protected by an authentication firewall. The specified account is not allowed to authenticate to the machine.",
	"0xc0000371": "The local account store does not contain secret material for the specified account",
	"0x0":        "Status OK.",
}

var serviceTypes = map[string]string{
	"0x1": "Kernel Driver", "0x2": "File System Driver", "0x8": "Recognizer Driver", "0x10": "Win32 Own Process",
	"0x20": "Win32 Share Process", "0x110": "Interactive Own Process", "0x120": "Interactive Share Process",
}

// Event-code lists of the pipeline's scripts (restricted to mapped IDs).
var (
	secCopyTargetUser   = idSet(4624, 4625, 4648)
	secMemberToGroup    = idSet(4728, 4732)
	secSubjectUser      = idSet(4672, 4697, 4698, 4702, 4720, 4722, 4724, 4725, 4726, 4728, 4732, 4738, 4648, 5140, 5145)
	secTargetToTarget   = idSet(4720, 4722, 4724, 4725, 4726, 4738)
	secCommonAuth       = idSet(1102, 4624, 4648, 4625, 4697, 4720, 4722, 4724, 4725, 4726, 4728, 4732, 4738, 5140, 5145)
	secRelatedSubject   = idSet(4624, 4648)
	secRelatedTarget    = idSet(4720, 4722, 4724, 4725, 4726, 4738)
	secPrivilegeListIDs = idSet(4672)
)

func idSet(ids ...uint32) map[uint32]bool {
	m := make(map[uint32]bool, len(ids))
	for _, id := range ids {
		m[id] = true
	}
	return m
}

// mapSecurity applies the Security pipeline to a mapped event; it records
// the event_data names renamed away in m.renamed.
func (m *mapper) mapSecurity(id uint32) {
	d := &m.d
	r := &m.rec
	get := r.val
	meta := securityEvents[id]
	m.setList("event.category", meta.category...)
	m.setList("event.type", meta.typ...)
	m.set("event.action", meta.action)

	addRelated := func(s string) { m.addUnique("related.user", s) }
	u := d.obj(0, "user")

	if t, ok := logonTypes[get("LogonType")]; ok {
		m.set("winlog.logon.type", t)
	}
	if id == 4625 {
		m.logonFailure()
	}
	if v := get("ServiceName"); v != "" {
		m.set("service.name", v)
	}
	if v := get("ServiceType"); v != "" {
		m.setStr("service.type", serviceTypes[v])
	}

	// "Copy Target User": the target of a logon is the user.
	if secCopyTargetUser[id] {
		if v := first(get("TargetUserSid"), get("TargetSid")); v != "" {
			d.set(u, "id", v)
		}
		if v := get("TargetUserName"); v != "" {
			name, _, _ := strings.Cut(v, "@")
			d.set(u, "name", name)
			addRelated(name)
		}
		d.str(u, "domain", get("TargetDomainName"))
	}

	// "Copy MemberName to User and User to Group".
	if secMemberToGroup[id] {
		if mn := get("MemberName"); mn != "" {
			// parts[0] and parts[3] of the DN split on ','.
			part0, rest, _ := strings.Cut(mn, ",")
			name := m.stripPrefixes(part0, "CN=", "cn=")
			d.set(u, "target.name", name)
			addRelated(name)
			_, rest, _ = strings.Cut(rest, ",")
			_, rest, ok2 := strings.Cut(rest, ",")
			if ok2 {
				part3, _, _ := strings.Cut(rest, ",")
				d.set(u, "target.domain", m.stripPrefixes(part3, "DC=", "dc="))
			}
		}
		g := d.obj(0, "group")
		d.str(g, "id", first(get("TargetSid"), get("TargetUserSid")))
		d.str(g, "name", get("TargetUserName"))
		if v := get("TargetDomainName"); v != "" {
			d.set(g, "domain", m.stripPrefixes(v, "DC=", "dc="))
		}
		if d.getStr(u, "target.name") != "" {
			tg := d.obj(u, "target.group")
			d.str(tg, "id", d.getStr(g, "id"))
			d.str(tg, "name", d.getStr(g, "name"))
			d.str(tg, "domain", d.getStr(g, "domain"))
		}
	}

	// "Copy Subject User from Event Data".
	if secSubjectUser[id] {
		d.str(u, "id", get("SubjectUserSid"))
		if v := get("SubjectUserName"); v != "" {
			d.set(u, "name", v)
			addRelated(v)
		}
		d.str(u, "domain", get("SubjectDomainName"))
	}

	// "Copy Target User to Target".
	if secTargetToTarget[id] {
		d.str(u, "target.id", get("TargetSid"))
		if v := get("TargetUserName"); v != "" {
			name, _, _ := strings.Cut(v, "@")
			d.set(u, "target.name", name)
			addRelated(name)
		}
		d.str(u, "target.domain", get("TargetDomainName"))
	}

	// "Copy Target User to Effective" (4648; 4688 has its own mapping).
	if id == 4648 {
		d.str(u, "effective.id", get("TargetUserSid"))
		if v := get("TargetUserName"); v != "" {
			name, _, _ := strings.Cut(v, "@")
			d.set(u, "effective.name", name)
			addRelated(name)
		}
		d.str(u, "effective.domain", get("TargetDomainName"))
	}

	// "Copy Subject User from user_data" (1102).
	if id == 1102 {
		d.str(u, "id", r.userData("SubjectUserSid"))
		if v := r.userData("SubjectUserName"); v != "" {
			d.set(u, "name", v)
			addRelated(v)
		}
		d.str(u, "domain", r.userData("SubjectDomainName"))
	}

	if v := get("SubjectLogonId"); v != "" {
		m.set("winlog.logon.id", v)
	}
	if id == 1102 {
		if v := r.userData("SubjectLogonId"); v != "" {
			m.set("winlog.logon.id", v)
		}
	}

	// "Rename Common Auth Fields".
	if secCommonAuth[id] {
		p := d.obj(0, "process")
		if pid, ok := parsePID(get("ProcessId")); ok {
			d.setInt(p, "pid", pid)
			m.renamed = append(m.renamed, "ProcessId")
		}
		if exe := get("ProcessName"); exe != "" {
			d.set(p, "executable", exe)
			m.renamed = append(m.renamed, "ProcessName")
			// splitOnToken("\\")[-1]: the whole string when there is no '\'.
			d.set(p, "name", exe[strings.LastIndexByte(exe, '\\')+1:])
		}
		if v := get("IpAddress"); v != "" {
			m.set("source.ip", v)
			m.renamed = append(m.renamed, "IpAddress")
		}
		if port, ok := parsePID(get("IpPort")); ok {
			m.setInt("source.port", port)
			m.renamed = append(m.renamed, "IpPort")
		}
		if v := get("WorkstationName"); v != "" {
			m.set("source.domain", v)
			m.renamed = append(m.renamed, "WorkstationName")
		}
		if v := get("ClientAddress"); v != "" {
			m.addUnique("related.ip", v)
			m.renamed = append(m.renamed, "ClientAddress")
		}
	}

	if secRelatedSubject[id] {
		addRelated(get("SubjectUserName"))
	}
	if secRelatedTarget[id] {
		addRelated(get("TargetUserName"))
	}
	if secPrivilegeListIDs[id] {
		if v := get("PrivilegeList"); v != "" {
			arr := d.array(d.obj(0, "winlog.event_data"), "PrivilegeList")
			for _, f := range strings.Fields(v) {
				d.push(arr, f)
			}
			m.renamed = append(m.renamed, "PrivilegeList")
		}
	}
	if v := get("OldTargetUserName"); v != "" {
		d.set(u, "target.name", v)
	}
	if v := get("NewTargetUserName"); v != "" {
		d.set(u, "changes.name", v)
		addRelated(v)
	}
	addRelated(get("OldTargetUserName"))

	// Shares (5140, 5145).
	if id == 5140 || id == 5145 {
		f := d.obj(0, "file")
		name, dir := get("RelativeTargetName"), get("ShareLocalPath")
		d.str(f, "name", name)
		d.str(f, "directory", dir)
		if name != "" && dir != "" {
			d.set(f, "path", m.concat(dir, `\`, name))
		}
		if share := get("ShareName"); share != "" && name != "" {
			d.set(f, "target_path", m.concat(share, `\`, name))
		}
		if i := strings.LastIndexByte(name, '.'); i >= 0 {
			d.set(f, "extension", name[i+1:])
		}
	}

	// Scheduled tasks (4698, 4702): the task's XML.
	if id == 4698 || id == 4702 {
		m.mapTaskContent()
	}
}

// stripPrefixes removes every occurrence of the prefixes in s (the
// pipeline's replace("CN=", "") calls).
func (m *mapper) stripPrefixes(s string, a, b string) string {
	if !strings.Contains(s, a) && !strings.Contains(s, b) {
		return s
	}
	return strings.ReplaceAll(strings.ReplaceAll(s, a, ""), b, "")
}

// failureReasons are the msobjs.dll texts of the %%2304-%%2315 insertion
// strings a 4625 FailureReason holds (Winlogbeat's and the System
// integration's message table).
var failureReasons = map[string]string{
	"2304": "An Error occured during Logon.",
	"2305": "The specified user account has expired.",
	"2306": "The NetLogon component is not active.",
	"2307": "Account locked out.",
	"2308": "The user has not been granted the requested logon type at this machine.",
	"2309": "The specified account's password has expired.",
	"2310": "Account currently disabled.",
	"2311": "Account logon time restriction violation.",
	"2312": "User not allowed to logon at this computer.",
	"2313": "Unknown user name or bad password.",
	"2314": "Domain sid inconsistent.",
	"2315": "Smartcard logon is required and was not used.",
}

// logonFailure sets winlog.logon.failure.reason/status/sub_status of a
// 4625 from FailureReason ("%%2313") and the NTSTATUS codes Status and
// SubStatus, looked up lower-case (EVTX renders hex in lower case; NXLog and
// some Winlogbeat versions write upper case).
func (m *mapper) logonFailure() {
	r := &m.rec
	f := m.d.obj(0, "winlog.logon.failure")
	if code := strings.TrimSpace(r.val("FailureReason")); code != "" {
		if s, ok := failureReasons[strings.TrimPrefix(code, "%%")]; ok {
			m.d.set(f, "reason", s)
		}
	}
	if s, ok := logonStatus[m.lower(r.val("Status"))]; ok {
		m.d.set(f, "status", s)
	}
	if s, ok := logonStatus[m.lower(r.val("SubStatus"))]; ok {
		m.d.set(f, "sub_status", s)
	}
}
