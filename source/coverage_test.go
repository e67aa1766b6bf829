package source_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	samples "github.com/vigilsec/vigil/internal/vendorsamples"
	"github.com/vigilsec/vigil/rule"
	"github.com/vigilsec/vigil/source/internal/rulefields"
)

// coverage names, per source, the real records (../shared) and constructed
// records of every event kind the normaliser maps (our own values, in the
// vendor's documented field names), and the rule-referenced fields the
// source cannot provide, with the reason. TestRuleFieldCoverage derives
// the fields from the rules that target the source's index and fails on a
// field that is neither produced nor explained.
var coverage = []struct {
	format, index string
	real          []string
	constructed   []string
	minRules      int // fields read by fewer rules are listed, not checked
	unavailable   map[string]string
}{
	{
		format: "crowdstrike", index: "logs-crowdstrike.fdr-default",
		real: []string{"telemetry/crowdstrike_fdr/raw-examples-ProcessRollup2.ndjson", "telemetry/elastic-fixtures/crowdstrike__fdr/test-windows.log.EXCERPT-ProcessRollup2.log"},
		constructed: []string{
			`{"event_simpleName":"ProcessRollup2","event_platform":"Win","timestamp":"1700000000000","aid":"a","ComputerName":"WS","ImageFileName":"\\Device\\HarddiskVolume3\\Windows\\System32\\net.exe","CommandLine":"net user","ParentBaseFileName":"cmd.exe","RawProcessId":"1","TargetProcessId":"2","ParentProcessId":"3","UserSid":"S-1-5-18","UserName":"SYSTEM","IntegrityLevel":"16384","OriginalFilename":"net.exe","MD5HashData":"ab","SHA256HashData":"cd","RUID":"0"}`,
			`{"event_simpleName":"ProcessRollup2","event_platform":"Lin","timestamp":"1700000000000","ImageFileName":"/usr/bin/id","CommandLine":"id","GID":"0","RGID":"0","UID":"0"}`,
			`{"event_simpleName":"DnsRequest","event_platform":"Win","timestamp":"1700000000000","DomainName":"example.org","RequestType":"1","ContextProcessId":"9"}`,
			`{"event_simpleName":"NetworkConnectIP4","event_platform":"Win","timestamp":"1700000000000","LocalAddressIP4":"10.0.0.1","LocalPort":"5","RemoteAddressIP4":"192.0.2.1","RemotePort":"443","Protocol":"6","ConnectionDirection":"0","ContextBaseFileName":"x.exe"}`,
			`{"event_simpleName":"AsepValueUpdate","event_platform":"Win","timestamp":"1700000000000","RegObjectName":"\\REGISTRY\\MACHINE\\SOFTWARE\\Run","RegValueName":"v","RegStringValue":"d","RegType":"1","RegOperationType":"1"}`,
			`{"event_simpleName":"NewExecutableWritten","event_platform":"Win","timestamp":"1700000000000","TargetFileName":"\\Device\\HarddiskVolume3\\a.exe","Size":"10","ContextBaseFileName":"x.exe","ContextImageFileName":"\\Device\\HarddiskVolume3\\x.exe"}`,
			`{"event_simpleName":"ImageHash","event_platform":"Win","timestamp":"1700000000000","ImageFileName":"\\Device\\HarddiskVolume3\\a.dll","TargetImageFileName":"\\Device\\HarddiskVolume3\\x.exe","SHA256HashData":"ef"}`,
			`{"event_simpleName":"UserLogon","event_platform":"Win","timestamp":"1700000000000","UserName":"bob","UserSid":"S-1-5-21-1"}`,
		},
		minRules: 3,
		unavailable: map[string]string{
			"process.parent.executable":           "FDR events carry only ParentBaseFileName; the pipeline maps no parent path",
			"process.parent.args":                 "no parent command line in FDR process events",
			"process.parent.command_line":         "no parent command line in FDR process events",
			"process.working_directory":           "not mapped by the integration's pipeline",
			"process.code_signature.subject_name": "not mapped by the integration's pipeline for process events",
			"process.code_signature.exists":       "not mapped by the integration's pipeline for process events",
			"process.entry_leader.executable":     "Linux session leader fields: not in FDR",
			"winlog.event_data.IntegrityLevel":    "Windows event log field, not FDR",
			"process.name.caseless":               "a multi-field of process.name in Elastic's index mapping, not a document field",
		},
	},
	{
		format: "sentinelone", index: "logs-sentinel_one_cloud_funnel.event-default",
		real: []string{"telemetry/sentinel_one_cloud_funnel/test-process.log"},
		constructed: []string{
			`{"meta.event.name":"FILECREATION","event.type":"File Creation","event.category":"file","event.time":1700000000000,"endpoint.os":"windows","agent.uuid":"u","src.process.name":"x.exe","src.process.cmdline":"x.exe a","tgt.file.path":"C:\\a.exe","tgt.file.type":"file","tgt.file.size":1,"tgt.file.sha256":"ab"}`,
			`{"meta.event.name":"REGVALUEMODIFIED","event.type":"Registry Value Modified","event.category":"registry","event.time":1700000000000,"endpoint.os":"windows","registry.keyPath":"HKLM\\SOFTWARE\\Run\\v","registry.value":"d"}`,
			`{"meta.event.name":"TCPV4","event.type":"IP Connect","event.category":"ip","event.time":1700000000000,"endpoint.os":"windows","src.ip.address":"10.0.0.1","src.port.number":5,"dst.ip.address":"192.0.2.1","dst.port.number":443,"event.network.direction":"OUTGOING","event.network.protocolName":"TCP","src.process.pid":7,"src.process.uid":"U","src.process.parent.uid":"P","src.process.parent.pid":6}`,
			`{"meta.event.name":"DNS","event.type":"DNS Resolved","event.category":"dns","event.time":1700000000000,"endpoint.os":"windows","event.dns.request":"type: 1 example.org"}`,
			`{"meta.event.name":"LOGIN","event.type":"Login","event.category":"logins","event.time":1700000000000,"endpoint.os":"windows","event.login.userName":"bob"}`,
		},
		minRules: 3,
		unavailable: map[string]string{
			"process.pe.original_file_name":       "Cloud Funnel records carry no original file name",
			"process.working_directory":           "not in Cloud Funnel records",
			"process.code_signature.subject_name": "for process creation the pipeline moves the signature to process.parent (kept quirk); set for other events",
			"process.code_signature.trusted":      "for process creation the pipeline moves the signature to process.parent (kept quirk); set for other events",
			"process.code_signature.exists":       "for process creation the pipeline moves the signature to process.parent (kept quirk); set for other events",
			"user.id":                             "not mapped by the parts of the pipeline read (src.process.uid is the process, not the user)",
			"process.entry_leader.executable":     "Linux session leader fields: not in Cloud Funnel",
			"winlog.event_data.IntegrityLevel":    "Windows event log field",
		},
	},
	{
		format: "m365defender", index: "logs-m365_defender.event-default",
		real: []string{"telemetry/elastic-fixtures/m365_defender__event/test-device.log"},
		constructed: []string{
			`{"category":"AdvancedHunting-DeviceRegistryEvents","properties":{"Timestamp":"2023-11-14T22:13:20Z","DeviceId":"d","DeviceName":"WS","ActionType":"RegistryValueSet","RegistryKey":"HKEY_LOCAL_MACHINE\\SOFTWARE\\Run","RegistryValueName":"v","RegistryValueData":"C:\\x.exe","InitiatingProcessFileName":"reg.exe","InitiatingProcessAccountSid":"S-1-5-18"}}`,
			`{"category":"AdvancedHunting-DeviceFileEvents","properties":{"Timestamp":"2023-11-14T22:13:20Z","DeviceId":"d","ActionType":"FileCreated","FileName":"a.exe","FolderPath":"C:\\a.exe","InitiatingProcessFileName":"x.exe","InitiatingProcessAccountSid":"S-1-5-18"}}`,
		},
		minRules: 3,
		unavailable: map[string]string{
			"registry.path":                          "the pipeline sets registry.key/value/data.strings, not registry.path",
			"registry.data.strings+":                 "",
			"file.path":                              "the pipeline sets file.directory (FolderPath) and file.name, not file.path",
			"file.extension":                         "not set by the pipeline",
			"winlog.event_data.IntegrityLevel":       "Windows event log field",
			"process.Ext.token.integrity_level_name": "Elastic Defend field",
			"process.code_signature.subject_name":    "not set by the pipeline for process.*",
			"process.name.caseless":                  "a multi-field of process.name in Elastic's index mapping, not a document field",
		},
	},
	{
		format: "endgame", index: "endgame-8.4.0",
		real:     []string{"conformance/eql/events/pyeql_test_data.ndjson", "telemetry/endgame/eql_etc_test_data.json"},
		minRules: 3,
		unavailable: map[string]string{
			"process.working_directory":           "not in the legacy schema",
			"process.code_signature.subject_name": "not in the legacy schema",
			"process.code_signature.trusted":      "not in the legacy schema",
			"process.code_signature.exists":       "not in the legacy schema",
			"endgame.metadata.type":               "alert metadata of the Endgame platform, not in raw events",
			"process.parent.args":                 "the legacy schema (endgameinc/eql data) has no parent command line; parent_command_line is mapped when present (name not verified)",
			"process.parent.command_line":         "the legacy schema (endgameinc/eql data) has no parent command line; parent_command_line is mapped when present (name not verified)",
			"user.id":                             "no user SID in the legacy test data; user_sid is mapped when present (name not verified)",
			"process.name.caseless":               "a multi-field of process.name in Elastic's index mapping, not a document field",
			"process.entry_leader.executable":     "Linux session leader fields: not in the legacy schema",
			"winlog.event_data.IntegrityLevel":    "Windows event log field",
			"host.id":                             "the legacy schema has no host id",
			"data_stream.dataset":                 "endgame-* is a plain index, not a data stream",
			"dll.name":                            "the legacy schema's image load events are not in the test data; not mapped",
		},
	},
}

// TestRuleFieldCoverage lists, per source, the fields the prebuilt rules
// targeting its index read (derived from ../shared/rules/detection-rules)
// and whether the normaliser produces them on real and constructed
// records. A field read by at least minRules rules must be produced or
// explained in unavailable.
func TestRuleFieldCoverage(t *testing.T) {
	rulesDir := needShared(t, "rules/detection-rules/rules")
	all, _ := samples.Build(shared)
	for _, c := range coverage {
		t.Run(c.format, func(t *testing.T) {
			var recs [][]byte
			for _, rel := range c.real {
				recs = append(recs, readRecords(t, filepath.Join(shared, rel))...)
			}
			for _, s := range c.constructed {
				recs = append(recs, []byte(s))
			}
			for _, s := range all {
				if s.Source == c.format {
					recs = append(recs, s.Line)
				}
			}
			produced := map[string]bool{}
			for _, r := range recs {
				for f := range flat(normalize(t, c.format, r)) {
					produced[f] = true
				}
			}
			derived := rulefields.FromRules(loadRules(t, rulesDir), c.index)
			var have, missing, explained []string
			for _, f := range derived.Fields {
				if f.Name == "event.ingested" {
					continue // set by Elasticsearch at ingest (vigil serve sets it)
				}
				label := fmt.Sprintf("%s(%d)", f.Name, f.Rules)
				switch why, ok := c.unavailable[f.Name]; {
				case produced[f.Name]:
					have = append(have, label)
				case ok:
					explained = append(explained, label+": "+why)
				default:
					missing = append(missing, label)
					if f.Rules >= c.minRules {
						t.Errorf("%s: read by %d rules on %s, not produced and not explained", f.Name, f.Rules, c.index)
					}
				}
			}
			sort.Strings(explained)
			t.Logf("%d rules on %s; %d records normalised\nproduced: %s\nunavailable:\n  %s\nnot produced (checked from %d rules on): %s",
				derived.Rules, c.index, len(recs), strings.Join(have, " "), strings.Join(explained, "\n  "), c.minRules, strings.Join(missing, " "))
		})
	}
}

// readRecords reads NDJSON lines, or the elements of a JSON array file.
func readRecords(t *testing.T, path string) [][]byte {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Skipf("%s not present: %v", path, err)
	}
	var out [][]byte
	if trimmed := bytes.TrimSpace(data); len(trimmed) > 0 && trimmed[0] == '[' {
		var arr []json.RawMessage
		if err := json.Unmarshal(trimmed, &arr); err != nil {
			t.Fatal(err)
		}
		for _, a := range arr {
			out = append(out, a)
		}
		return out
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if l := bytes.TrimSpace(sc.Bytes()); len(l) > 0 {
			out = append(out, append([]byte(nil), l...))
		}
	}
	return out
}

// The detection-rules corpus, loaded once for every test that derives
// fields from it.
var rulesOnce struct {
	sync.Once
	rules []*rule.Rule
	err   error
}

func loadRules(t *testing.T, dir string) []*rule.Rule {
	rulesOnce.Do(func() {
		res, err := rule.Load([]string{dir}, rule.LoadOptions{})
		if err != nil {
			rulesOnce.err = err
			return
		}
		rulesOnce.rules = res.Rules
	})
	if rulesOnce.err != nil {
		t.Fatal(rulesOnce.err)
	}
	return rulesOnce.rules
}
