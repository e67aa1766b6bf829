package winlog

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/vigilsec/vigil/evtx"
)

// The JSON records here are constructed for the tests, in the shapes
// Winlogbeat 8 and NXLog's im_msvistalog write (field names from their
// documentation and the Sysmon / Security event schemas); values are
// illustrative.

const beatSysmon3 = `{"@timestamp":"2024-03-01T10:00:00.500Z","agent":{"type":"winlogbeat","version":"8.12.0"},` +
	`"host":{"name":"ws01","hostname":"ws01","ip":["10.0.0.5"]},"ecs":{"version":"8.0.0"},` +
	`"winlog":{"channel":"Microsoft-Windows-Sysmon/Operational","event_id":3,"provider_name":"Microsoft-Windows-Sysmon",` +
	`"computer_name":"ws01.corp.local","record_id":77,"user":{"identifier":"S-1-5-18"},` +
	`"event_data":{"RuleName":"-","UtcTime":"2024-03-01 10:00:00.250","ProcessGuid":"{11111111-2222-3333-4444-555555555555}",` +
	`"ProcessId":"4321","Image":"C:\\Windows\\System32\\curl.exe","User":"CORP\\alice","Protocol":"tcp","Initiated":"true",` +
	`"SourceIsIpv6":"false","SourceIp":"10.0.0.5","SourceHostname":"-","SourcePort":"51000","DestinationIsIpv6":"false",` +
	`"DestinationIp":"93.184.216.34","DestinationHostname":"example.com","DestinationPort":"443","DestinationPortName":"https"}},` +
	`"event":{"code":"3","kind":"event"},"tags":["beats"]}`

const beat4625 = `{"@timestamp":"2024-03-01T10:05:00.000Z","agent":{"type":"filebeat"},"data_stream":{"type":"logs","dataset":"system.security","namespace":"prod"},` +
	`"winlog":{"channel":"Security","event_id":"4625","provider_name":"Microsoft-Windows-Security-Auditing","computer_name":"dc01",` +
	`"keywords":["Audit Failure"],"event_data":{"SubjectUserSid":"S-1-5-18","TargetUserName":"bob","TargetDomainName":"CORP",` +
	`"Status":"0xC000006D","SubStatus":"0xC000006A","FailureReason":"%%2313","LogonType":"3","IpAddress":"10.0.0.9","IpPort":"50123",` +
	`"WorkstationName":"KALI","ProcessName":"-"}}}`

const nxlog4688 = `{"EventTime":"2024-03-01 10:00:01","Hostname":"ws01.corp.local","Keywords":-9214364837600034816,` +
	`"EventType":"AUDIT_SUCCESS","SeverityValue":2,"Severity":"INFO","EventID":4688,"SourceName":"Microsoft-Windows-Security-Auditing",` +
	`"ProviderGuid":"{54849625-5478-4994-A5BA-3E3B0328C30D}","Version":2,"Task":13312,"OpcodeValue":0,"RecordNumber":9001,` +
	`"ExecutionProcessID":4,"ThreadID":88,"Channel":"Security","Category":"Process Creation","Opcode":"Info",` +
	`"SubjectUserSid":"S-1-5-21-1-2-3-1001","SubjectUserName":"alice","SubjectDomainName":"CORP","SubjectLogonId":"0x1234",` +
	`"NewProcessId":"0x1e58","NewProcessName":"C:\\Windows\\System32\\net.exe","TokenElevationType":"%%1936","ProcessId":"0xf70",` +
	`"CommandLine":"net  user /add eve","TargetUserSid":"S-1-0-0","TargetUserName":"-","TargetDomainName":"-","TargetLogonId":"0x0",` +
	`"ParentProcessName":"C:\\Windows\\System32\\cmd.exe","MandatoryLabel":"S-1-16-12288",` +
	`"EventReceivedTime":"2024-03-01 10:00:02","SourceModuleName":"eventlog","SourceModuleType":"im_msvistalog",` +
	`"@timestamp":"2024-03-01T14:00:02.100Z","host":"collector","port":514,"tags":["x"],"Message":"A new process has been created."}`

func decode(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("invalid JSON: %v\n%s", err, b)
	}
	return m
}

func TestSniffers(t *testing.T) {
	for _, c := range []struct {
		line        string
		beat, nxlog bool
	}{
		{beatSysmon3, true, false},
		{beat4625, true, false},
		{nxlog4688, false, true},
		{"\ufeff  " + nxlog4688, false, true},
		{`{"winlog.channel":"Security","winlog.event_id":"4624"}`, true, false},
		{`{"process":{"name":"x"}}`, false, false},
		{`[{"EventID":1,"Channel":"x","SourceName":"y"}]`, false, false},
		{``, false, false},
	} {
		if got := IsBeatJSON([]byte(c.line)); got != c.beat {
			t.Errorf("IsBeatJSON(%.40q) = %v", c.line, got)
		}
		if got := IsNXLogJSON([]byte(c.line)); got != c.nxlog {
			t.Errorf("IsNXLogJSON(%.40q) = %v", c.line, got)
		}
	}
}

func TestNormalizeBeatSysmon3(t *testing.T) {
	prefix := []byte("kept:")
	b, err := NormalizeBeat(prefix, []byte(beatSysmon3), "in.ndjson")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, prefix) {
		t.Fatal("dst prefix lost")
	}
	d := decode(t, b[len(prefix):])
	check(t, d, map[string]any{
		// Kept from the input.
		"@timestamp":    "2024-03-01T10:00:00.250Z", // the pipeline's UtcTime date processor
		"agent.version": "8.12.0",
		"host.name":     "ws01",
		"host.ip":       strs("10.0.0.5"),
		"tags":          strs("beats"),
		"ecs.version":   "8.0.0",
		// Index: a Winlogbeat document goes to winlogbeat-<version>.
		"_index": "winlogbeat-8.12.0",
		// The mapping.
		"event.code":             "3",
		"event.category":         strs("network"),
		"event.action":           "Network connection",
		"host.os.type":           "windows",
		"process.executable":     `C:\Windows\System32\curl.exe`,
		"process.name":           "curl.exe",
		"process.pid":            float64(4321),
		"source.ip":              "10.0.0.5",
		"destination.ip":         "93.184.216.34",
		"destination.port":       float64(443),
		"destination.domain":     "example.com",
		"network.transport":      "tcp",
		"network.protocol":       "https",
		"network.direction":      "egress",
		"network.community_id":   communityIDOf(t, "10.0.0.5", "93.184.216.34", 51000, 443, 6),
		"user.name":              "alice",
		"user.domain":            "CORP",
		"user.id":                "S-1-5-18",
		"log.file.path":          "in.ndjson",
		"winlog.event_id":        float64(3), // as shipped
		"winlog.event_data":      nil,        // every entry renamed or dropped
		"related.ip":             strs("10.0.0.5", "93.184.216.34"),
		"data_stream.dataset":    nil,
		"winlog.computer_name":   "ws01.corp.local",
		"winlog.user.identifier": "S-1-5-18",
	})
}

func communityIDOf(t *testing.T, s, d string, sp, dp uint16, proto uint8) string {
	t.Helper()
	b, ok := appendCommunityID(nil, s, d, sp, dp, proto)
	if !ok {
		t.Fatal("community id")
	}
	return string(b)
}

func TestNormalizeBeat4625(t *testing.T) {
	b, err := NormalizeBeat(nil, []byte(beat4625), "")
	if err != nil {
		t.Fatal(err)
	}
	check(t, decode(t, b), map[string]any{
		"_index":                          nil, // the input has a data stream: kept, no _index invented
		"data_stream.namespace":           "prod",
		"event.action":                    "logon-failed",
		"event.outcome":                   "failure",
		"user.name":                       "bob",
		"user.domain":                     "CORP",
		"source.ip":                       "10.0.0.9",
		"source.port":                     float64(50123),
		"source.domain":                   "KALI",
		"winlog.logon.type":               "Network",
		"winlog.logon.failure.reason":     "Unknown user name or bad password.",
		"winlog.logon.failure.status":     "This is either due to a bad username or authentication information",
		"winlog.logon.failure.sub_status": "User logon with misspelled or bad password",
		"winlog.event_data.IpAddress":     nil, // renamed to source.ip
		"winlog.event_data.ProcessName":   "-", // Security keeps "-"
		"winlog.event_data.FailureReason": "%%2313",
	})
}

func TestNormalizeNXLog4688(t *testing.T) {
	b, err := NormalizeNXLog(nil, []byte(nxlog4688), "nx.json")
	if err != nil {
		t.Fatal(err)
	}
	d := decode(t, b)
	check(t, d, map[string]any{
		"_index":                           "logs-system.security-default",
		"@timestamp":                       "2024-03-01T14:00:02.100Z", // zoneless EventTime: the shipper's @timestamp
		"host.name":                        "ws01.corp.local",
		"event.code":                       "4688",
		"event.outcome":                    "success",
		"process.name":                     "net.exe",
		"process.pid":                      float64(0x1e58),
		"process.args":                     strs("net", "", "user", "/add", "eve"),
		"process.parent.name":              "cmd.exe",
		"process.parent.pid":               float64(0xf70),
		"user.name":                        "alice",
		"winlog.channel":                   "Security",
		"winlog.record_id":                 "9001",
		"winlog.task":                      "Process Creation",
		"winlog.keywords":                  strs("Audit Success"),
		"winlog.process.pid":               float64(4),
		"winlog.provider_guid":             "{54849625-5478-4994-A5BA-3E3B0328C30D}",
		"winlog.event_data.MandatoryLabel": "S-1-16-12288",
		"winlog.event_data.TargetUserName": nil, // "-" dropped by the 4688 script
		"winlog.event_data.NewProcessName": nil, // renamed
		"winlog.event_data.Hostname":       nil, // NXLog header, not event data
		"winlog.event_data.host":           nil, // shipper field
		"message":                          "A new process has been created.",
		"host.os.type":                     "windows",
		"log.file.path":                    "nx.json",
	})
}

func TestNormalizeJSONErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		fn   func([]byte, []byte, string) ([]byte, error)
		line string
	}{
		{"beat syntax", NormalizeBeat, `{"winlog":`},
		{"beat no event_id", NormalizeBeat, `{"winlog":{"channel":"Security"}}`},
		{"beat bad event_id", NormalizeBeat, `{"winlog":{"channel":"Security","event_id":"x"}}`},
		{"nxlog syntax", NormalizeNXLog, `{"EventID":1,`},
		{"nxlog no channel", NormalizeNXLog, `{"EventID":1}`},
		{"nxlog array", NormalizeNXLog, `[1]`},
	} {
		out, err := c.fn([]byte("p"), []byte(c.line), "f")
		if err == nil {
			t.Errorf("%s: no error", c.name)
		}
		if string(out) != "p" {
			t.Errorf("%s: dst changed to %q", c.name, out)
		}
	}
}

// TestBeatPathMatchesEVTXPath feeds Vigil's own EVTX output (which is a
// Winlogbeat-shaped document) back through NormalizeBeat for every record
// of the windows-evtx samples and a sample of windows-evtx-bulk: the two
// paths share the mapping, so the document must come back unchanged.
func TestBeatPathMatchesEVTXPath(t *testing.T) {
	var files []string
	for _, dir := range []string{"windows-evtx", "windows-evtx-bulk"} {
		filepath.WalkDir(filepath.Join(telemetry, dir), func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() && filepath.Ext(p) == ".evtx" {
				files = append(files, p)
			}
			return nil
		})
	}
	if len(files) == 0 {
		t.Skip("../shared/telemetry EVTX samples not present")
	}
	n, differ := 0, 0
	for fi, path := range files {
		r, err := evtx.Open(path)
		if err != nil {
			continue
		}
		for i := 0; ; i++ {
			rec, err := nextRecord(r)
			if err != nil {
				break
			}
			if fi > 10 && i%16 != 0 {
				continue // a sample of the bulk corpus keeps the test fast
			}
			first, err := Normalize(rec, path)
			if err != nil {
				t.Fatal(err)
			}
			again, err := NormalizeBeat(nil, first, path)
			if err != nil {
				t.Fatalf("%s record %d: %v", path, rec.ID, err)
			}
			n++
			a, b := flatten(decode(t, first)), flatten(decode(t, again))
			if !reflect.DeepEqual(a, b) {
				differ++
				if differ <= 5 {
					t.Errorf("%s record %d: %s", path, rec.ID, mapDiff(a, b))
				}
			}
		}
		r.Close()
	}
	t.Logf("%d documents re-normalised, %d differ", n, differ)
}

func flatten(m map[string]any) map[string]any {
	out := map[string]any{}
	var walk func(string, any)
	walk = func(p string, v any) {
		if o, ok := v.(map[string]any); ok && len(o) > 0 {
			for k, x := range o {
				walk(p+k+".", x)
			}
			return
		}
		out[strings.TrimSuffix(p, ".")] = v
	}
	walk("", m)
	return out
}

func mapDiff(a, b map[string]any) string {
	var keys []string
	for k := range a {
		if !reflect.DeepEqual(a[k], b[k]) {
			keys = append(keys, k)
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var sb strings.Builder
	for _, k := range keys {
		sb.WriteString(k)
		sb.WriteString(": ")
		x, _ := json.Marshal(a[k])
		y, _ := json.Marshal(b[k])
		sb.Write(x)
		sb.WriteString(" -> ")
		sb.Write(y)
		sb.WriteString("; ")
	}
	return sb.String()
}
