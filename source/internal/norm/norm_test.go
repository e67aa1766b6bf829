package norm

import (
	"reflect"
	"testing"
	"time"
)

func TestTimes(t *testing.T) {
	if got := ISO(FileTime(FileTimeEpoch + 1234567)); got != "1970-01-01T00:00:00.123Z" {
		t.Errorf("FileTime: %s", got)
	}
	if tm, ok := EpochSeconds("1625677502.233"); !ok || ISO(tm) != "2021-07-07T17:05:02.233Z" {
		t.Errorf("EpochSeconds: %v %v", tm, ok)
	}
	if _, ok := EpochSeconds("x"); ok {
		t.Error("EpochSeconds accepted x")
	}
	for in, want := range map[string]string{
		"2022-11-09T17:59:52.6266667Z": "2022-11-09T17:59:52.626Z",
		"1664811149470":                "2022-10-03T15:32:29.470Z",
		"2023-01-02T03:04:05":          "2023-01-02T03:04:05.000Z",
	} {
		if tm, ok := Date(in); !ok || ISO(tm) != want {
			t.Errorf("Date(%q) = %v %v, want %s", in, tm, ok, want)
		}
	}
	if _, ok := Date("yesterday"); ok {
		t.Error("Date accepted yesterday")
	}
	_ = time.Second
}

func TestSplitAndPaths(t *testing.T) {
	if got := SplitSpaces(`  "a b"  c  `); !reflect.DeepEqual(got, []string{`"a`, `b"`, "c"}) {
		t.Errorf("SplitSpaces: %q", got)
	}
	if got := Argv(`"C:\a b\c.exe" x`); !reflect.DeepEqual(got, []string{`C:\a b\c.exe`, "x"}) {
		t.Errorf("Argv: %q", got)
	}
	if WinBase(`C:\a\b.exe`) != "b.exe" || WinBase("/usr/bin/id") != "id" || WinBase("x") != "x" {
		t.Error("WinBase")
	}
	if Ext("a.tar.gz") != "gz" || Ext("a.") != "" || Ext("a") != "" {
		t.Error("Ext")
	}
	if got := AppendUnique([]string{"a"}, "a", "", "b", "b"); !reflect.DeepEqual(got, []string{"a", "b"}) {
		t.Errorf("AppendUnique: %q", got)
	}
}
