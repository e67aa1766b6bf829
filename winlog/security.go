package winlog

import (
	"github.com/vigilsec/vigil/event"
	"strings"
)

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

// mapSecurity applies the Security pipeline to a mapped event; it returns
// the event_data names renamed away. userData reads winlog.user_data.
func mapSecurity(d *event.Builder, id uint32, raw, userData func(string) string) []string {
	get := func(name string) string {
		if v := raw(name); !dropped(v) {
			return v
		}
		return ""
	}
	var renamed []string
	m := securityEvents[id]
	d.SetList("event.category", m.category)
	d.SetList("event.type", m.typ)
	d.Set("event.action", m.action)

	var related []string
	addRelated := func(s string) {
		if s != "" {
			related = addUnique(related, s)
		}
	}
	u := d.Obj("user")

	if t, ok := logonTypes[get("LogonType")]; ok {
		d.Set("winlog.logon.type", t)
	}
	if id == 4625 {
		if s, ok := logonStatus[get("Status")]; ok {
			d.Set("winlog.logon.failure.status", s)
		}
		if s, ok := logonStatus[get("SubStatus")]; ok {
			d.Set("winlog.logon.failure.sub_status", s)
		}
	}
	if v := get("ServiceName"); v != "" {
		d.Set("service.name", v)
	}
	if v := get("ServiceType"); v != "" {
		d.Str("service.type", serviceTypes[v])
	}

	// "Copy Target User": the target of a logon is the user.
	if secCopyTargetUser[id] {
		if v := first(get("TargetUserSid"), get("TargetSid")); v != "" {
			u.Set("id", v)
		}
		if v := get("TargetUserName"); v != "" {
			name, _, _ := strings.Cut(v, "@")
			u.Set("name", name)
			addRelated(name)
		}
		u.Str("domain", get("TargetDomainName"))
	}

	// "Copy MemberName to User and User to Group".
	if secMemberToGroup[id] {
		if mn := get("MemberName"); mn != "" {
			parts := strings.Split(mn, ",")
			name := strings.ReplaceAll(strings.ReplaceAll(parts[0], "CN=", ""), "cn=", "")
			u.Set("target.name", name)
			addRelated(name)
			if len(parts) >= 4 {
				u.Set("target.domain", strings.ReplaceAll(strings.ReplaceAll(parts[3], "DC=", ""), "dc=", ""))
			}
		}
		g := d.Obj("group")
		g.Str("id", first(get("TargetSid"), get("TargetUserSid")))
		g.Str("name", get("TargetUserName"))
		if v := get("TargetDomainName"); v != "" {
			g.Set("domain", strings.ReplaceAll(strings.ReplaceAll(v, "DC=", ""), "dc=", ""))
		}
		if u.GetStr("target.name") != "" {
			tg := u.Obj("target").Obj("group")
			tg.Str("id", g.GetStr("id"))
			tg.Str("name", g.GetStr("name"))
			tg.Str("domain", g.GetStr("domain"))
		}
	}

	// "Copy Subject User from Event Data".
	if secSubjectUser[id] {
		u.Str("id", get("SubjectUserSid"))
		if v := get("SubjectUserName"); v != "" {
			u.Set("name", v)
			addRelated(v)
		}
		u.Str("domain", get("SubjectDomainName"))
	}

	// "Copy Target User to Target".
	if secTargetToTarget[id] {
		u.Str("target.id", get("TargetSid"))
		if v := get("TargetUserName"); v != "" {
			name, _, _ := strings.Cut(v, "@")
			u.Set("target.name", name)
			addRelated(name)
		}
		u.Str("target.domain", get("TargetDomainName"))
	}

	// "Copy Target User to Effective" (4648; 4688 has its own mapping).
	if id == 4648 {
		u.Str("effective.id", get("TargetUserSid"))
		if v := get("TargetUserName"); v != "" {
			name, _, _ := strings.Cut(v, "@")
			u.Set("effective.name", name)
			addRelated(name)
		}
		u.Str("effective.domain", get("TargetDomainName"))
	}

	// "Copy Subject User from user_data" (1102).
	if id == 1102 {
		if v := userData("SubjectUserSid"); !dropped(v) {
			u.Set("id", v)
		}
		if v := userData("SubjectUserName"); !dropped(v) {
			u.Set("name", v)
			addRelated(v)
		}
		if v := userData("SubjectDomainName"); !dropped(v) {
			u.Set("domain", v)
		}
	}

	if v := get("SubjectLogonId"); v != "" {
		d.Set("winlog.logon.id", v)
	}
	if id == 1102 {
		if v := userData("SubjectLogonId"); !dropped(v) {
			d.Set("winlog.logon.id", v)
		}
	}

	// "Rename Common Auth Fields".
	var relatedIP []string
	if secCommonAuth[id] {
		p := d.Obj("process")
		if pid, ok := parsePID(get("ProcessId")); ok {
			p.SetInt("pid", pid)
			renamed = append(renamed, "ProcessId")
		}
		if exe := get("ProcessName"); exe != "" {
			p.Set("executable", exe)
			renamed = append(renamed, "ProcessName")
			// splitOnToken("\\")[-1]: the whole string when there is no '\'.
			p.Set("name", exe[strings.LastIndexByte(exe, '\\')+1:])
		}
		if v := get("IpAddress"); v != "" {
			d.Set("source.ip", v)
			renamed = append(renamed, "IpAddress")
		}
		if port, ok := parsePID(get("IpPort")); ok {
			d.SetInt("source.port", port)
			renamed = append(renamed, "IpPort")
		}
		if v := get("WorkstationName"); v != "" {
			d.Set("source.domain", v)
			renamed = append(renamed, "WorkstationName")
		}
		if v := get("ClientAddress"); v != "" {
			relatedIP = append(relatedIP, v)
			renamed = append(renamed, "ClientAddress")
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
			d.Obj("winlog").Obj("event_data").SetList("PrivilegeList", strings.Fields(v))
			renamed = append(renamed, "PrivilegeList")
		}
	}
	if v := get("OldTargetUserName"); v != "" {
		u.Set("target.name", v)
	}
	if v := get("NewTargetUserName"); v != "" {
		u.Set("changes.name", v)
		addRelated(v)
	}
	if v := get("OldTargetUserName"); v != "" {
		addRelated(v)
	}

	// Shares (5140, 5145).
	if id == 5140 || id == 5145 {
		f := d.Obj("file")
		name, dir := get("RelativeTargetName"), get("ShareLocalPath")
		f.Str("name", name)
		f.Str("directory", dir)
		if name != "" && dir != "" {
			f.Set("path", dir+`\`+name)
		}
		if share := get("ShareName"); share != "" && name != "" {
			f.Set("target_path", share+`\`+name)
		}
		if i := strings.LastIndexByte(name, '.'); i >= 0 {
			f.Set("extension", name[i+1:])
		}
	}

	if len(related) > 0 {
		d.SetList("related.user", related)
	}
	if len(relatedIP) > 0 {
		d.SetList("related.ip", relatedIP)
	}
	return renamed
}
