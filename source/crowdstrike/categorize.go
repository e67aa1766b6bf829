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
	info    = []string{"info"}
	change  = []string{"change"}
)

// table is categorize.yml's params for the event_simpleNames this package
// maps. Entries marked "read" were read in the pipeline (or its expected
// fixture, for ProcessRollup2); the others were not found in the parts read
// and follow ECS's categorisation of the same kind of event (to be
// verified against categorize.yml).
var table = map[string]category{
	"ProcessRollup2":                       c(proc, start, "event", "success"),                           // read (expected fixture)
	"SyntheticProcessRollup2":              c(proc, start, "event", "success"),                           // read
	"WmiCreateProcess":                     c(proc, start, "event", "success"),                           // read
	"CreateProcessArgs":                    c(proc, start, "state", "success"),                           // read
	"EndOfProcess":                         c(proc, end, "event", "success"),                             // read
	"TerminateProcess":                     c(proc, end, "event", "success"),                             // read
	"AbnormalTerminationNotification":      c(proc, end, "event", "success"),                             // read
	"UserAccountCreated":                   c(iam, []string{"creation"}, "event", "success"),             // read
	"UserAccountAddedToGroup":              c(iam, []string{"change", "group"}, "event", "success"),      // read
	"AsepKeyUpdate":                        c(reg, change, "event", "success"),                           // read
	"AsepValueUpdate":                      c(reg, change, "event", "success"),                           // read
	"ActiveDirectoryAccountCreated":        c([]string{"iam"}, []string{"creation"}, "event", "success"), // read
	"ActiveDirectoryAuthentication":        c(auth, start, "event", "success"),                           // read
	"ActiveDirectoryAuthenticationFailure": c(auth, start, "event", "failure"),                           // read
	"DnsRequest":                           c(network, []string{"protocol", "info"}, "event", "success"),
	"SuspiciousDnsRequest":                 c(network, []string{"protocol", "info"}, "event", "success"),
	"NetworkConnectIP4":                    c(network, []string{"connection", "start"}, "event", "success"),
	"NetworkConnectIP6":                    c(network, []string{"connection", "start"}, "event", "success"),
	"NetworkReceiveAcceptIP4":              c(network, []string{"connection", "start"}, "event", "success"),
	"NetworkReceiveAcceptIP6":              c(network, []string{"connection", "start"}, "event", "success"),
	"NetworkListenIP4":                     c(network, start, "event", "success"),
	"NetworkListenIP6":                     c(network, start, "event", "success"),
	"UserLogon":                            c(auth, start, "event", "success"),
	"UserLogonFailed":                      c(auth, start, "event", "failure"),
	"UserLogonFailed2":                     c(auth, start, "event", "failure"),
	"UserLogoff":                           c(auth, end, "event", "success"),
	"RegGenericValueUpdate":                c(reg, change, "event", "success"),
	"RegSystemConfigValueUpdate":           c(reg, change, "event", "success"),
	"RegKeySecurityDecreased":              c(reg, change, "event", "success"),
	"RegValueDelete":                       c(reg, []string{"deletion"}, "event", "success"),
	"RegKeyDelete":                         c(reg, []string{"deletion"}, "event", "success"),
	"FileOpenInfo":                         c(file, []string{"access"}, "event", "success"),
	"FileDeleteInfo":                       c(file, []string{"deletion"}, "event", "success"),
	"FileRenameInfo":                       c(file, change, "event", "success"),
	"NewExecutableRenamed":                 c(file, change, "event", "success"),
	"ClassifiedModuleLoad":                 c(lib, start, "event", "success"),
	"ImageHash":                            c(lib, info, "event", "success"),
	"ServiceStarted":                       c(proc, start, "event", "success"),
}

// categorize returns the table entry of an event_simpleName. Names the
// table lacks get kind "event" only; names ending in "Written" are file
// creations (the pipeline's first processor sets category file for them).
func categorize(name string) category {
	if e, ok := table[name]; ok {
		return e
	}
	if strings.HasSuffix(name, "Written") {
		return c(file, []string{"creation"}, "event", "success")
	}
	return category{kind: "event"}
}
