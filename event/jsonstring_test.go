package event

import (
	"encoding/json"
	"testing"
)

func TestAppendJSONString(t *testing.T) {
	cases := map[string]string{
		"plain":              `"plain"`,
		`q"b\s`:              `"q\"b\\s"`,
		"nl\n\r\t\b\f":       `"nl\n\r\t\b\f"`,
		"ctl\x01":            `"ctl\u0001"`,
		"<&>":                `"<&>"`,
		"é\u2028":            "\"é\u2028\"",
		"bad\xffutf8":        `"bad\ufffdutf8"`,
		"C:\\Windows\\x.exe": `"C:\\Windows\\x.exe"`,
	}
	for in, want := range cases {
		got := string(AppendJSONString(nil, in))
		if got != want {
			t.Errorf("%q: got %s, want %s", in, got, want)
		}
		var back string
		if err := json.Unmarshal([]byte(got), &back); err != nil {
			t.Errorf("%q: not valid JSON: %v", in, err)
		}
	}
}
