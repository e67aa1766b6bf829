package eql

import (
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"
)

type wildcardCase struct {
	pattern string
	ins     bool
	match   []string
	nomatch []string
}

var wildcardCases = []wildcardCase{
	// Examples from the EQL syntax reference.
	{"doc*", true, []string{"doc", "docs", "document", "DOCument"}, []string{"DOS", "do"}},
	{"*doc", true, []string{"adoc", "asciidoc", "doc"}, []string{"docs"}},
	{"d*c", true, []string{"doc", "disc", "dc"}, []string{"dock"}},
	{"DOC*", false, []string{"DOC", "DOCS", "DOCs", "DOCUMENT"}, []string{"DOS", "doc", "Doc"}},
	{"D*C", false, []string{"DOC", "DISC", "DisC"}, []string{"DOc", "dOC"}},
	{"doc?", true, []string{"docs", "DOCS"}, []string{"doc", "document", "DOS"}},
	{"?doc", true, []string{"adoc"}, []string{"asciidoc", "doc"}},
	{"d?c", true, []string{"doc"}, []string{"disc", "dc"}},
	{"DOC?", false, []string{"DOCS", "DOCs"}, []string{"DOC", "DOCUMENT", "DOS", "docs"}},

	// Exact, both case modes.
	{"", false, []string{""}, []string{"a"}},
	{"", true, []string{""}, []string{"a"}},
	{"cmd.exe", false, []string{"cmd.exe"}, []string{"CMD.EXE", "cmd.ex", "cmd.exe ", "xcmd.exe"}},
	{"cmd.exe", true, []string{"cmd.exe", "CMD.EXE", "Cmd.Exe"}, []string{"cmd.ex", "cmd.exe ", "cmd_exe"}},
	{"CMD.EXE", true, []string{"cmd.exe"}, nil},

	// Stars and question marks.
	{"*", false, []string{"", "anything", "\xff"}, nil},
	{"***", true, []string{"", "x"}, nil},
	{"?", false, []string{"a", "é", "😀", "\xff", "\n"}, []string{"", "ab", "é😀"}},
	{"??", false, []string{"ab", "é😀"}, []string{"é", "a"}},
	{"?*", false, []string{"a", "abc"}, []string{""}},
	{"*?*?*", false, []string{"ab", "é😀"}, []string{"é", ""}},
	{"a*", false, []string{"a", "abc"}, []string{"", "ba", "A"}},
	{"*a", false, []string{"a", "cba"}, []string{"ab", "A"}},
	{"*a*", false, []string{"a", "bab"}, []string{"", "bcd", "A"}},
	{"a*b*c", false, []string{"abc", "aXbYc", "abbc", "acbc"}, []string{"acb", "ab", "abcd"}},
	{"a*a", false, []string{"aa", "aba"}, []string{"a"}},
	{"*a*a*", false, []string{"aa", "xaxax"}, []string{"a", "xax"}},
	{"ab*ba", false, []string{"abba", "abxba"}, []string{"aba", "ab"}},
	{"a?c*", false, []string{"abc", "aéc", "abcd"}, []string{"ac", "abbc"}},
	{"*?.exe", true, []string{"a.exe", "é.EXE"}, []string{".exe"}},
	{"*x?z*", false, []string{"xyz", "axéza", "xxxyz"}, []string{"xz", "xyyz"}},
	{"*é?*", true, []string{"Éa", "xéy"}, []string{"é", "e?"}},
	{"*?é", true, []string{"aÉ"}, []string{"é"}},

	// Typical rule patterns.
	{`C:\Windows\*\*.exe`, true, []string{`c:\windows\system32\cmd.exe`, `C:\Windows\a\b\c.EXE`}, []string{`C:\Windows\cmd.exe`, `D:\Windows\a\b.exe`}},
	{`*\powershell.exe`, true, []string{`C:\Windows\System32\WindowsPowerShell\v1.0\PowerShell.EXE`}, []string{`powershell.exe`}},
	{`*-enc*`, true, []string{"powershell -EncodedCommand ZQBj", "-enc"}, []string{"-en c"}},

	// No escapes: a backslash is literal, * and ? are always wildcards.
	{`a\*b`, false, []string{`a\b`, `a\xyzb`}, []string{"a*b", "ab"}},
	{`a\?`, false, []string{`a\x`}, []string{"a?", `a\`}},

	// Unicode simple case folding.
	{"straße", true, []string{"STRAẞE", "Straße"}, []string{"STRASSE", "strasse"}},
	{"*kelvin*", true, []string{"\u212aelvin", "KELVIN"}, []string{"elvin"}},
	{"\u212a*", true, []string{"k", "K", "\u212a"}, []string{"x"}},
	{"ſ*", true, []string{"s", "S", "ſ"}, nil},
	{"*σ", true, []string{"Σ", "ς", "σ", "abcΣ"}, []string{"s"}},
	{"ǅ", true, []string{"Ǆ", "ǆ", "ǅ"}, nil},
	{"İ", true, []string{"İ"}, []string{"i", "I"}}, // İ is alone in its fold orbit
	{"i", true, []string{"i", "I"}, []string{"İ", "ı"}},
	{"ΑΒΓ*", true, []string{"αβγδ"}, []string{"abg"}},
	// Multi-byte characters folding to ASCII shift byte alignment.
	{"*zaak", true, []string{"zaA\u212a", "xZAAK"}, []string{"zaA\u212ax", "aA\u212a"}},
	{"zaak*", true, []string{"zaA\u212a", "ZAAKx"}, []string{"zA\u212a"}},
	{"zaak", true, []string{"zaA\u212a"}, []string{"za\u212a", "zaA\u212a "}},
	{"*zaak*", true, []string{"-zaA\u212a-", "zaakzaak"}, []string{"za\u212a"}},
	{"*ks*", true, []string{"\u212aſ", "xKSx"}, []string{"\u212a"}},
	{"*longer than eight k*", true, []string{"a LONGER THAN EIGHT \u212a"}, []string{"longer than eight"}},
	{"*longer than eight k", true, []string{"xx LONGER THAN EIGHT \u212a", "xLONGER THAN EIGHT K"}, []string{"longer than eighT \u212aK"}},
	{"é", false, []string{"é"}, []string{"É", "e\u0301"}},

	// A stray (invalid UTF-8) byte is one character equal only to itself.
	{"\xc3*", false, []string{"\xc3x", "\xc3"}, []string{"é"}},
	{"*\xa9", false, []string{"x\xa9"}, []string{"é"}},
	{"\xff", true, []string{"\xff"}, []string{"\xfe", "\uFFFD"}},
	{"\uFFFD", false, []string{"\uFFFD"}, []string{"\xff"}},
	{"\uFFFD", true, []string{"\uFFFD"}, []string{"\xff"}},
	{"a\xff?", true, []string{"A\xffé"}, []string{"a\xfe?", "a\xff"}},
	{"*\xe2\x82", false, []string{"\xe2\x82"}, []string{"\xe2\x82\xac"}},
}

func TestWildcardMatch(t *testing.T) {
	n := 0
	for _, c := range wildcardCases {
		w := CompileWildcard(c.pattern, c.ins)
		for _, s := range c.match {
			n++
			if !w.Match(s) {
				t.Errorf("%q (ins=%v, shape %d) should match %q", c.pattern, c.ins, w.shape, s)
			}
		}
		for _, s := range c.nomatch {
			n++
			if w.Match(s) {
				t.Errorf("%q (ins=%v, shape %d) should not match %q", c.pattern, c.ins, w.shape, s)
			}
		}
	}
	t.Logf("%d patterns, %d match checks", len(wildcardCases), n)
}

func TestWildcardShapes(t *testing.T) {
	for _, c := range []struct {
		pattern string
		shape   wcShape
	}{
		{"abc", wcExact}, {"", wcExact}, {"abc*", wcPrefix}, {"abc**", wcPrefix},
		{"*abc", wcSuffix}, {"*abc*", wcContains}, {"**abc**", wcContains},
		{"*", wcAll}, {"**", wcAll}, {"a?c", wcGeneral}, {"a*c", wcGeneral},
		{"*a*b*", wcGeneral}, {"?*", wcGeneral},
		{"\xffabc*", wcGeneral}, // invalid UTF-8 always takes the general path
	} {
		for _, ins := range []bool{false, true} {
			if got := CompileWildcard(c.pattern, ins).shape; got != c.shape {
				t.Errorf("shape(%q, %v) = %d, want %d", c.pattern, ins, got, c.shape)
			}
		}
	}
}

func TestWildcardLiterals(t *testing.T) {
	for _, c := range []struct {
		pattern string
		lits    []string
		literal bool
	}{
		{"abc", []string{"abc"}, true},
		{"", nil, true},
		{"*", nil, false},
		{"a?b", []string{"a", "b"}, false},
		{`C:\*\Foo?.EXE`, []string{`C:\`, `\Foo`, ".EXE"}, false}, // as written, also when insensitive
		{"**x**y?", []string{"x", "y"}, false},
	} {
		for _, ins := range []bool{false, true} {
			w := CompileWildcard(c.pattern, ins)
			if got := w.Literals(); !reflect.DeepEqual(got, c.lits) {
				t.Errorf("Literals(%q) = %q, want %q", c.pattern, got, c.lits)
			}
			if got := w.IsLiteral(); got != c.literal {
				t.Errorf("IsLiteral(%q) = %v", c.pattern, got)
			}
		}
	}
	w := CompileWildcard("a*b", false)
	w.Literals()[0] = "x"
	if w.Literals()[0] != "a" {
		t.Error("Literals exposes internal state")
	}
}

// Randomized differential test against the regexp reference used by the fuzzer.
func TestWildcardRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	gen := func(alpha []string, max int) string {
		var b strings.Builder
		for n := rng.IntN(max + 1); n > 0; n-- {
			b.WriteString(alpha[rng.IntN(len(alpha))])
		}
		return b.String()
	}
	mixed := []string{"a", "b", "A", "B", "é", "É", "k", "K", "\u212a", "s", "ſ", "ß", "ẞ", "😀", "\\"}
	// Few distinct letters, some folding from multi-byte forms, long enough
	// for the 8-byte compare of the fast shapes.
	narrow := []string{"a", "A", "k", "K", "\u212a", "s", "S", "ſ"}
	shapes := []func(string) string{
		func(l string) string { return l },
		func(l string) string { return l + "*" },
		func(l string) string { return "*" + l },
		func(l string) string { return "*" + l + "*" },
		func(string) string { return gen(append(mixed, "*", "*", "?"), 8) },
		func(string) string { return gen(append(narrow, "*", "?"), 12) },
	}
	checks := 0
	for i := range 6000 {
		alpha := mixed
		if i%2 == 1 {
			alpha = narrow
		}
		p := shapes[i%len(shapes)](gen(alpha, 12))
		for _, ins := range []bool{false, true} {
			w := CompileWildcard(p, ins)
			ref := wcReference(p, ins)
			for range 20 {
				s := gen(append(alpha, "\xff", "\uFFFD"), 20)
				if rng.IntN(3) == 0 {
					s = gen(alpha, 4) + strings.ToUpper(strings.ReplaceAll(p, "*", "")) + gen(alpha, 4)
				}
				checks++
				if got, want := w.Match(s), ref.MatchString(s); got != want {
					t.Fatalf("%q (ins=%v, shape %d) on %q: got %v, reference %v", p, ins, w.shape, s, got, want)
				}
			}
		}
	}
	t.Logf("%d checks", checks)
}

// Greedy placement must not backtrack exponentially.
func TestWildcardPathological(t *testing.T) {
	s := strings.Repeat("a", 100000)
	start := time.Now()
	for _, ins := range []bool{false, true} {
		for _, p := range []string{"*a*a*a*a*a*a*a*a*b", "a*a*a*a*a*a*a*a*a*a?b", "*?a?a?a?a*b*", "*a*a*a*a*a*a*a*a*b*", "*aaaaaaaaab*", "*?????????b*", "*a?a?a?a?a?a?b*"} {
			if CompileWildcard(p, ins).Match(s) {
				t.Errorf("%q matched", p)
			}
		}
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("too slow: %v", d)
	}
}

var benchInput = `C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`

var benchShapes = []struct{ name, pattern string }{
	{"exact", `C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`},
	{"prefix", `C:\Windows\*`},
	{"suffix", `*\powershell.exe`},
	{"contains", `*WindowsPowerShell*`},
	{"contains_miss", `*cmd.exe*`},
	{"general", `C:\*\*PowerShell\*.exe`},
	{"question", `*\powershell.ex?`},
}

func TestWildcardNoAllocs(t *testing.T) {
	for _, c := range benchShapes {
		for _, ins := range []bool{false, true} {
			w := CompileWildcard(c.pattern, ins)
			if a := testing.AllocsPerRun(100, func() { w.Match(benchInput) }); a != 0 {
				t.Errorf("%s ins=%v: %v allocs", c.name, ins, a)
			}
		}
	}
}

func BenchmarkWildcard(b *testing.B) {
	for _, c := range benchShapes {
		want := !strings.HasSuffix(c.name, "_miss")
		for _, ins := range []bool{false, true} {
			name, pattern := c.name+"/sensitive", c.pattern
			if ins {
				// Lower-case pattern against the mixed-case input.
				name, pattern = c.name+"/insensitive", strings.ToLower(c.pattern)
			}
			w := CompileWildcard(pattern, ins)
			b.Run(name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if w.Match(benchInput) != want {
						b.Fatal("unexpected result")
					}
				}
			})
		}
	}
}
