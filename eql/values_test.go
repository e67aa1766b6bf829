package eql

import (
	"bufio"
	"os"
	"strings"
	"testing"
)

// renderValues writes FilterValues' result in the testdata notation.
func renderValues(fs [][][]ValueReq) string {
	var filters []string
	for _, cnf := range fs {
		if len(cnf) == 0 {
			filters = append(filters, "-")
			continue
		}
		var groups []string
		for _, g := range cnf {
			var alts []string
			for _, r := range g {
				op := "="
				if r.Contains {
					op = "~"
				}
				alts = append(alts, r.Field+op+r.Text)
			}
			groups = append(groups, "["+strings.Join(alts, "|")+"]")
		}
		filters = append(filters, strings.Join(groups, " "))
	}
	return strings.Join(filters, " ;; ")
}

func TestFilterValues(t *testing.T) {
	f, err := os.Open("testdata/values.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	query, n, line := "", 0, 0
	for sc.Scan() {
		line++
		s := sc.Text()
		switch {
		case s == "" || strings.HasPrefix(s, "#"):
		case strings.HasPrefix(s, "=> "):
			prog, err := ParseAndCompile(query, Options{Size: NoLimit})
			if err != nil {
				t.Fatalf("testdata/values.txt:%d: %v", line-1, err)
			}
			if got, want := renderValues(prog.FilterValues()), s[3:]; got != want {
				t.Errorf("testdata/values.txt:%d: %s\n got  %s\n want %s", line-1, query, got, want)
			}
			n++
		default:
			query = s
		}
	}
	if n < 20 {
		t.Fatalf("only %d cases read", n)
	}
}

func TestFoldValue(t *testing.T) {
	for in, want := range map[string]string{
		"NET.exe":          "net.exe",
		"ſvchost.EXE":      "svchost.exe",
		"\u212aerberos":    "kerberos",
		"Ünïcode":          "Ünïcode",
		"ÜNI":              "Üni",
		"\xff\xfeA":        "\xff\xfea",
		"":                 "",
		"already lower 12": "already lower 12",
	} {
		if got := string(FoldValue([]byte("x"), in)); got != "x"+want {
			t.Errorf("FoldValue(%q) = %q, want %q", in, got, "x"+want)
		}
	}
}
