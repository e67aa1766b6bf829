package winlog

import (
	"bytes"
	"encoding/json"
	"testing"
)

// Seeds: the constructed records of json_test.go and damaged variants.
func jsonSeeds(f *testing.F, lines ...string) {
	for _, l := range lines {
		f.Add([]byte(l))
		f.Add([]byte(l[:len(l)/2]))
		f.Add(bytes.ReplaceAll([]byte(l), []byte(`"`), []byte(`'`)))
	}
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"winlog":{"event_id":1,"channel":"Microsoft-Windows-Sysmon/Operational","event_data":{"QueryName":"a.b.co.uk","QueryResults":"type:  5 x.y;::ffff:1.2.3.4;"}}}`))
	f.Add([]byte(`{"winlog":{"event_id":4698,"channel":"Security","event_data":{"TaskContent":"<?xml version=\"1.0\" encoding=\"UTF-16\"?><Task><Actions Context=\"A\"><Exec><Command>c</Command></Exec></Actions><Triggers><BootTrigger/></Triggers></Task>"}}}`))
	f.Add([]byte(`{"EventID":13,"Channel":"Microsoft-Windows-Sysmon/Operational","SourceName":"s","TargetObject":"HKLM\\\\a\\\\","Details":"QWORD (0x00000001-0x00000002)"}`))
}

// checkOutput: on success the output is dst followed by one valid JSON
// object; on failure dst is returned unchanged.
func checkOutput(t *testing.T, out []byte, err error) {
	prefix := []byte("dst")
	if !bytes.HasPrefix(out, prefix) {
		t.Fatalf("dst lost: %q", out)
	}
	if err != nil {
		if len(out) != len(prefix) {
			t.Fatalf("error %v with output %q", err, out)
		}
		return
	}
	var m map[string]any
	if jerr := json.Unmarshal(out[len(prefix):], &m); jerr != nil {
		t.Fatalf("invalid JSON output: %v\n%s", jerr, out)
	}
}

func FuzzNormalizeBeat(f *testing.F) {
	jsonSeeds(f, beatSysmon3, beat4625)
	f.Fuzz(func(t *testing.T, line []byte) {
		IsBeatJSON(line)
		out, err := NormalizeBeat([]byte("dst"), line, "f")
		checkOutput(t, out, err)
	})
}

func FuzzNormalizeNXLog(f *testing.F) {
	jsonSeeds(f, nxlog4688)
	f.Fuzz(func(t *testing.T, line []byte) {
		IsNXLogJSON(line)
		out, err := NormalizeNXLog([]byte("dst"), line, "f")
		checkOutput(t, out, err)
	})
}
