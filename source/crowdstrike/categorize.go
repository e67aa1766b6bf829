package crowdstrike

import "strings"

// category is one entry of the pipeline's categorisation table.
type category struct {
	category, typ []string
	kind, outcome string
}

func c(cat, typ []string, kind, outcome string) category {
	return category{category: cat, typ: typ, kind: kind, outcome: outcome}
}

var (
	proc    = []string{"process"}
	file    = []string{"file"}
	network = []string{"network"}
	reg     = []string{"registry"}
	auth    = []string{"authentication"}
	iam     = []string{"configuration", "iam"}
	lib     = []string{"library"}
	start   = []string{"start"}
	end     = []string{"end"}
	change  = []string{"change"}
)

// table holds categorize.yml's params (read in the integration's
// pipeline) for the event_simpleNames of the kinds this package maps:
// process, network, DNS, file, registry, library, user and logon events.
// Names not listed get what the pipeline gives them: nothing, apart from
// category file for names ending in "Written".
var table = map[string]category{
	// Process.
	"ProcessRollup2":                  c(proc, start, "event", "success"),
	"SyntheticProcessRollup2":         c(proc, start, "event", "success"),
	"ProcessRollup":                   c(proc, start, "event", "success"),
	"WmiCreateProcess":                c(proc, start, "event", "success"),
	"CreateProcessArgs":               c(proc, start, "state", "success"),
	"FlashThreadCreateProcess":        c(proc, start, "event", "success"),
	"EndOfProcess":                    c(proc, end, "event", "success"),
	"TerminateProcess":                c(proc, end, "event", "success"),
	"AbnormalTerminationNotification": c(proc, end, "event", "success"),
	"ProcessSelfDeleted":              c(proc, end, "event", "success"),
	"ServiceStarted":                  c(proc, start, "event", "success"),
	"ServiceStopped":                  c(proc, end, "event", "success"),
	"HostedServiceStarted":            c(proc, start, "event", "success"),
	"HostedServiceStopped":            c(proc, end, "event", "success"),
	"ProcessInjection":                c(proc, change, "event", "success"),
	"InjectedThread":                  c(proc, change, "event", "success"),
	"DllInjection":                    c(proc, change, "event", "success"),
	// Network.
	"NetworkConnectIP4":       c(network, []string{"start", "connection"}, "event", "unknown"),
	"NetworkConnectIP6":       c(network, []string{"start", "connection"}, "event", "unknown"),
	"NetworkCloseIP4":         c(network, []string{"end", "connection"}, "event", "unknown"),
	"NetworkCloseIP6":         c(network, []string{"end", "connection"}, "event", "unknown"),
	"NetworkListenIP4":        c(network, start, "event", "success"),
	"NetworkListenIP6":        c(network, start, "event", "success"),
	"NetworkReceiveAcceptIP4": c(network, []string{"allowed", "access", "connection"}, "event", "unknown"),
	"NetworkReceiveAcceptIP6": c(network, []string{"allowed", "access", "connection"}, "event", "unknown"),
	"RawBindIP4":              c(network, []string{"start", "connection"}, "event", "success"),
	"RawBindIP6":              c(network, []string{"start", "connection"}, "event", "success"),
	// DNS.
	"DnsRequest":        c(network, []string{"protocol"}, "event", "success"),
	"DnsRequestResult":  c(network, []string{"protocol", "info"}, "event", "unknown"),
	"DnsRequestBlocked": c(network, []string{"protocol", "denied"}, "event", "unknown"),
	// File.
	"FileCreateInfo":       c(file, []string{"creation"}, "event", "success"),
	"FileOpenInfo":         c(file, []string{"access"}, "event", "success"),
	"FileDeleteInfo":       c(file, []string{"deletion"}, "event", "success"),
	"FileDeleted":          c(file, []string{"deletion"}, "event", "success"),
	"FileRenameInfo":       c(file, change, "event", "success"),
	"FileContentsChanged":  c(file, change, "event", "success"),
	"ExecutableDeleted":    c(file, []string{"deletion"}, "event", "success"),
	"NewExecutableRenamed": c(file, change, "event", "success"),
	"NewExecutableWritten": c(file, []string{"creation"}, "event", "success"),
	"NewScriptWritten":     c(file, []string{"creation"}, "event", "success"),
	"DirectoryCreate":      c(file, []string{"creation"}, "event", "success"),
	// Registry.
	"AsepKeyUpdate":              c(reg, change, "event", "success"),
	"AsepValueUpdate":            c(reg, change, "event", "success"),
	"RegGenericKeyUpdate":        c(reg, change, "event", "success"),
	"RegGenericValueUpdate":      c(reg, change, "event", "success"),
	"RegSystemConfigKeyUpdate":   c(reg, change, "event", "success"),
	"RegSystemConfigValueUpdate": c([]string{"registry", "host", "configuration"}, change, "event", "success"),
	"RegCrowdstrikeKeyUpdate":    c(reg, change, "event", "success"),
	"RegCrowdstrikeValueUpdate":  c(reg, change, "event", "success"),
	"UnclassifiedRegValueUpdate": c(reg, change, "event", "success"),
	// Libraries.
	"ImageHash":          c(lib, start, "event", "success"),
	"SharedObjectLoaded": c(lib, start, "event", "success"),
	"UnsignedModuleLoad": c(lib, start, "event", "success"),
	// Users and logons.
	"UserAccountCreated":                   c(iam, []string{"creation"}, "event", "success"),
	"UserAccountDeleted":                   c(iam, []string{"deletion"}, "event", "success"),
	"UserAccountAddedToGroup":              c(iam, []string{"change", "group"}, "event", "success"),
	"UserAccountRemovedFromGroup":          c(iam, []string{"change"}, "event", "success"),
	"UserGroupCreated":                     c(iam, []string{"creation", "group"}, "event", "success"),
	"UserLogon":                            c(auth, start, "event", "success"),
	"UserLogonFailed":                      c(auth, start, "event", "failure"),
	"UserLogonFailed2":                     c(auth, start, "event", "failure"),
	"UserLogoff":                           c(auth, end, "event", "success"),
	"SSHClientAuthenticated":               c([]string{"authentication", "network"}, start, "event", "success"),
	"ActiveDirectoryAccountCreated":        c([]string{"iam"}, []string{"creation"}, "event", "success"),
	"ActiveDirectoryAuthentication":        c(auth, start, "event", "success"),
	"ActiveDirectoryAuthenticationFailure": c(auth, start, "event", "failure"),
}

// categorize returns the table entry of an event_simpleName. The
// pipeline's first processor sets category file for names ending in
// "Written" (the table then overrides it when it has the name).
func categorize(name string) category {
	if e, ok := table[name]; ok {
		return e
	}
	if strings.HasSuffix(name, "Written") {
		return category{category: file}
	}
	return category{}
}

// The pipeline's lookup tables.
var (
	integrityLevels = map[string]string{"0": "UNTRUSTED", "4096": "LOW", "8192": "MEDIUM", "8448": "MEDIUM_PLUS",
		"12288": "HIGH", "16384": "SYSTEM", "20480": "PROTECTED"}
	regOperations = map[string]string{"1": "change", "2": "deletion", "3": "creation", "4": "deletion", "5": "change",
		"6": "info", "7": "change", "8": "access", "9": "access"}
	regTypes = map[string]string{"0": "REG_NONE", "1": "REG_SZ", "2": "REG_EXPAND_SZ", "3": "REG_BINARY", "4": "REG_DWORD",
		"5": "REG_DWORD_BIG_ENDIAN", "6": "REG_LINK", "7": "REG_MULTI_SZ", "8": "REG_RESOURCE_LIST",
		"9": "REG_FULL_RESOURCE_DESCRIPTOR", "10": "REG_RESOURCE_REQUIREMENTS_LIST", "11": "REG_QWORD"}
	transports = map[string]string{"0": "hopopt", "1": "icmp", "2": "igmp", "6": "tcp", "8": "egp", "17": "udp",
		"47": "gre", "50": "esp", "58": "ipv6-icmp", "112": "vrrp", "132": "sctp"}
	// DNS RR types by number (IANA), as the pipeline names RequestType.
	dnsTypes = map[string]string{"1": "A", "2": "NS", "5": "CNAME", "6": "SOA", "12": "PTR", "13": "HINFO", "15": "MX",
		"16": "TXT", "17": "RP", "18": "AFSDB", "24": "SIG", "25": "KEY", "28": "AAAA", "29": "LOC", "33": "SRV",
		"35": "NAPTR", "36": "KX", "37": "CERT", "39": "DNAME", "42": "APL", "43": "DS", "44": "SSHFP", "45": "IPSECKEY",
		"46": "RRSIG", "47": "NSEC", "48": "DNSKEY", "49": "DHCID", "50": "NSEC3", "51": "NSEC3PARAM", "52": "TLSA",
		"53": "SMIMEA", "55": "HIP", "59": "CDS", "60": "CDNSKEY", "61": "OPENPGPKEY", "62": "CSYNC", "63": "ZONEMD",
		"64": "SVCB", "65": "HTTPS", "108": "EUI48", "109": "EUI64", "249": "TKEY", "250": "TSIG", "256": "URI",
		"257": "CAA", "32768": "TA", "32769": "DLV"}
)
