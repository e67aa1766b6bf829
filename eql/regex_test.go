package eql

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

type luceneCase struct {
	pattern string
	ins     bool
	match   []string
	nomatch []string
}

var luceneCases = []luceneCase{
	// Queries from the Elasticsearch EQL test suite.
	{`.*?net1[ ]+localgroup.*?`, false,
		[]string{"net1 localgroup", `C:\Windows\system32\net1  localgroup administrators /add`},
		[]string{"net1localgroup", "net localgroup", "NET1 LOCALGROUP", "net1\tlocalgroup"}},
	{`.*?net1[ ]+localgroup.*?`, true,
		[]string{"NET1 LOCALGROUP admins", "Net1 LocalGroup"},
		[]string{"net1localgroup"}},
	{`.*?net1[ ]+localgroup.*? `, false, []string{"net1 localgroup x "}, []string{"net1 localgroup x"}},
	{`.*?net1.*?`, false, []string{"net1", `c:\net1.exe`, "net1 user"}, []string{"net", "NET1.exe", ""}},
	{`.*?net1.*? `, false, []string{"net1 ", "a net1 b "}, []string{"net1"}},
	{`.*?net1[ ]+[a-z]{4,15}[ ]+.*?`, false,
		[]string{"net1 user admin", "x net1 localgroup  y", "net1 abcd "},
		[]string{"net1 abc x", "net1 user", "net1 abcdefghijklmnop x", "net1 USER x"}},
	{`.*?net[1]?  localgroup.*?`, false,
		[]string{"net  localgroup", "net1  localgroup admins"},
		[]string{"net1 localgroup", "net2  localgroup"}},
	{`.*? myappserver.py .*?`, false,
		[]string{"python myappserver.py --port 80", "x myappserverXpy y"},
		[]string{"myappserver.py --port", "python myappserver.py"}},

	// Whole-value match, "." matches everything.
	{`abc`, false, []string{"abc"}, []string{"abcd", "xabc", "", "ABC"}},
	{``, false, []string{""}, []string{"a"}},
	{`.`, false, []string{"a", "\n", "é", "😀", "\x00"}, []string{"", "ab"}},
	{`a.c`, false, []string{"a\nc", "abc", "a😀c"}, []string{"ac"}},
	{`^a$`, false, []string{"^a$"}, []string{"a"}}, // ^ and $ are plain characters

	// Quantifiers; `?` after a quantifier makes it optional (no laziness).
	{`ab?c`, false, []string{"ac", "abc"}, []string{"abbc"}},
	{`ab+c`, false, []string{"abc", "abbbc"}, []string{"ac"}},
	{`ab*c`, false, []string{"ac", "abbbc"}, []string{"abd"}},
	{`a{3}`, false, []string{"aaa"}, []string{"aa", "aaaa"}},
	{`a{2,}`, false, []string{"aa", "aaaaaa"}, []string{"a"}},
	{`a{2,3}`, false, []string{"aa", "aaa"}, []string{"a", "aaaa"}},
	{`a{0}b`, false, []string{"b"}, []string{"ab"}},
	{`a{3,2}|b`, false, []string{"b"}, []string{"", "aa", "aaa"}}, // min > max: empty language
	{`a+?`, false, []string{"", "a", "aa"}, []string{"b"}},
	{`a??`, false, []string{"", "a"}, []string{"aa"}},
	{`a{2}?`, false, []string{"", "aa"}, []string{"a", "aaa"}},
	{`a**`, false, []string{"", "aaa"}, []string{"b"}},
	{`a{2}{3}`, false, []string{"aaaaaa"}, []string{"aaaa"}},
	{`(ab)+`, false, []string{"ab", "abab"}, []string{"", "aba"}},
	{`a{1000}`, false, []string{strings.Repeat("a", 1000)}, []string{strings.Repeat("a", 999)}},

	// Alternation and grouping.
	{`ab|cd`, false, []string{"ab", "cd"}, []string{"abcd", "b"}},
	{`a(b|c)d`, false, []string{"abd", "acd"}, []string{"ad", "abcd"}},
	{`()`, false, []string{""}, []string{"a"}},
	{`a()b`, false, []string{"ab"}, []string{"a"}},

	// Operator characters where an atom is expected are literals.
	{`*a`, false, []string{"*a"}, []string{"a"}},
	{`|a`, false, []string{"|a"}, []string{"a", ""}},
	{`a|*`, false, []string{"a", "*"}, []string{""}},
	{`(a|)b)`, false, []string{"a", ")b"}, []string{"b"}},
	{`{5}`, false, []string{"{5}"}, []string{"", "5"}},
	{`a}]`, false, []string{"a}]"}, nil},
	{`&a`, false, []string{"&a"}, nil},
	{`a>b-c`, false, []string{"a>b-c"}, nil},

	// Character classes.
	{`[abc]`, false, []string{"a", "c"}, []string{"d", "", "ab"}},
	{`[a-c]x`, false, []string{"bx"}, []string{"dx"}},
	{`[^a-c]`, false, []string{"d", "é", "\n", "😀"}, []string{"a", "", "de"}},
	{`[-a]`, false, []string{"-", "a"}, []string{"b"}},
	{`[a\-z]`, false, []string{"a", "-", "z"}, []string{"b"}},
	{`[\]]`, false, []string{"]"}, []string{`\`}},
	{`[]a]`, false, []string{"]", "a"}, nil},
	{`[.]`, false, []string{"."}, []string{"a"}},
	{`[*+?{|(]+`, false, []string{"*+?{|("}, []string{"a"}},
	{`[a-c-e]`, false, []string{"a", "-", "e"}, []string{"d"}},
	{`[😀-😂]`, false, []string{"😁"}, []string{"😃"}},

	// Predefined classes (Lucene 9: ASCII only, \s is [ \t\n\r]).
	{`\d+`, false, []string{"0123456789"}, []string{"12a", "١"}},
	{`\D`, false, []string{"a", "١"}, []string{"1"}},
	{`\s`, false, []string{" ", "\t", "\n", "\r"}, []string{"\f", "\v", "\u00a0", "a"}},
	{`\S`, false, []string{"a", "\f"}, []string{" ", "\t"}},
	{`\w+`, false, []string{"a_Z9"}, []string{"é", "-"}},
	{`\W`, false, []string{"-", "é", " "}, []string{"_", "a"}},
	{`[\d]`, false, []string{"7"}, []string{"a"}},
	{`[^\d]`, false, []string{"a"}, []string{"7"}},
	{`[\D\d]`, false, []string{"a", "7"}, []string{""}},
	{`[^\W]`, false, []string{"a", "_", "0"}, []string{"-"}},
	{`[\d-z]`, false, []string{"5", "-", "z"}, []string{"a"}}, // no range after a class
	{`[a-\d]`, false, []string{"c", "d"}, []string{"5", "e"}}, // range end is a plain char

	// Escapes.
	{`\.`, false, []string{"."}, []string{"a"}},
	{`\\`, false, []string{`\`}, []string{""}},
	{`a\*`, false, []string{"a*"}, []string{"a", "aa"}},
	{`\@\#\<\>\~\&\"\(\)\[\]\{\}\|\+\?`, false, []string{`@#<>~&"()[]{}|+?`}, nil},
	{`\é`, false, []string{"é"}, nil},
	{`C:\\Windows\\.*\.exe`, false, []string{`C:\Windows\System32\cmd.exe`}, []string{`C:\Windows\cmd.dll`}},

	// Quoted strings: no escapes inside.
	{`"a.b*"`, false, []string{"a.b*"}, []string{"axb", "a.bbb"}},
	{`"a\"`, false, []string{`a\`}, nil},
	{`""`, false, []string{""}, []string{`""`}},
	{`"x"+`, false, []string{"x", "xxx"}, nil},
	{`"john@smith.com"`, false, []string{"john@smith.com"}, nil},

	// Optional operators of flags ALL.
	{`#`, false, nil, []string{"", "#", "a"}},
	{`a#`, false, nil, []string{"a", "a#"}},
	{`#|a`, false, []string{"a"}, []string{""}},
	{`#*`, false, []string{""}, []string{"a"}},
	{`@`, false, []string{"", "anything\n at all"}, nil},
	{`a@`, false, []string{"a", "abc"}, []string{"ba"}},
	{`~~a`, false, []string{"a"}, []string{"b"}},
	{`<1-10>`, false, []string{"1", "5", "10", "01", "0010"}, []string{"0", "11", "", "1a", "-1"}},
	{`<01-10>`, false, []string{"01", "05", "10"}, []string{"1", "001", "11", "5"}},
	{`<0-5>`, false, []string{"0", "5"}, []string{"00", "6", "05"}},
	{`<10-5>`, false, []string{"5", "07", "10"}, []string{"4", "11"}},
	{`<+1-22>`, false, []string{"01", "22"}, []string{"1", "23"}},
	{`<0-2147483647>`, false, []string{"0", "000", "2147483647", "999"}, []string{"2147483648", ""}},
	{`x<1-3>y`, false, []string{"x2y"}, []string{"x4y", "x03y"}}, // same width: fixed
	{`<1-3>+`, false, []string{"1232"}, []string{"14", "0102"}},
	{`<1-030>`, false, []string{"1", "01", "0030", "29"}, []string{"31", ""}}, // widths differ: free

	// regex~: Unicode simple case folding of literals and of sets before negation.
	{`abc`, true, []string{"ABC", "aBc", "abc"}, []string{"abd"}},
	{`"Hello"`, true, []string{"hELLO"}, nil},
	{`[a-c]+`, true, []string{"ABC", "bCa"}, []string{"d"}},
	{`[^a]`, true, []string{"b", "é"}, []string{"a", "A"}},
	{`[^\W]`, true, []string{"k", "K", "\u212a"}, []string{"-"}},
	{`\W`, true, []string{"-"}, []string{"\u212a", "k"}},
	{`\d\s`, true, []string{"1 "}, []string{"a "}},
	{`straße`, true, []string{"STRAẞE", "Straße"}, []string{"STRASSE"}},
	{`é+`, true, []string{"éÉé"}, []string{"e"}},
	{`<1-3>`, true, []string{"2"}, nil},
	{`.*powershell\.exe`, true, []string{`C:\Windows\PowerShell.EXE`}, []string{"powershell_exe"}},
}

func TestCompileLuceneMatch(t *testing.T) {
	n := 0
	for _, c := range luceneCases {
		re, err := CompileLucene(c.pattern, c.ins)
		if err != nil {
			t.Errorf("CompileLucene(%q, %v): %v", c.pattern, c.ins, err)
			continue
		}
		for _, s := range c.match {
			n++
			if !re.MatchString(s) {
				t.Errorf("%q (ins=%v, RE2 %s) should match %q", c.pattern, c.ins, re, s)
			}
		}
		for _, s := range c.nomatch {
			n++
			if re.MatchString(s) {
				t.Errorf("%q (ins=%v, RE2 %s) should not match %q", c.pattern, c.ins, re, s)
			}
		}
	}
	t.Logf("%d patterns, %d match checks", len(luceneCases), n)
}

var luceneErrorCases = []struct {
	pattern string
	offset  int
	msg     string
}{
	{`(a`, 2, "expected ')'"},
	{`a)`, 1, "end-of-string expected"},
	{`a|`, 2, "unexpected end-of-string"},
	{`[a`, 2, "expected ']'"},
	{`[]`, 2, "expected ']'"},
	{`[^]`, 3, "expected ']'"},
	{`[a-]`, 1, "invalid range"},
	{`[z-a]`, 1, "invalid range"},
	{`x[\\-a]`, -1, ""}, // valid: `\\` then '-' then 'a'
	{`a{`, 2, "integer expected"},
	{`a{x}`, 2, "integer expected"},
	{`a{,2}`, 2, "integer expected"},
	{`a{2`, 3, "expected '}'"},
	{`a{2,x}`, 4, "expected '}'"},
	{`a{99999999999}`, 2, "integer out of range"},
	{`"abc`, 4, `expected '"'`},
	{`<1-2`, 4, "expected '>'"},
	{`ab<a-b>`, 6, "interval syntax error"},
	{`<-5>`, 3, "interval syntax error"},
	{`<5->`, 3, "interval syntax error"},
	{`<1-2-3>`, 6, "interval syntax error"},
	{`<1-99999999999>`, 14, "interval syntax error"},
	{`x<foo>`, 1, "named automaton"},
	{`<>`, 0, "named automaton"},
	{`\`, 1, "unexpected end-of-string"},
	{`ab\`, 3, "unexpected end-of-string"},
	{`\a`, 0, "invalid character class"},
	{`x\b`, 1, "invalid character class"},
	{`[\q]`, 1, "invalid character class"},
	{`\Z`, 0, "invalid character class"},
	{`a~b`, 1, "complement"},
	{`~a`, 0, "complement"},
	{`~~~a`, 0, "complement"},
	{`[a]~(b)`, 3, "complement"},
	{`a~`, 2, "unexpected end-of-string"}, // syntax errors come first, as in Lucene
	{`a&b`, 1, "intersection"},
	{`(a&b)|c`, 2, "intersection"},
	{`a&`, 2, "unexpected end-of-string"},
	{`a{1001}`, 1, "repeat count exceeds"},
	{`a{0,1001}`, 1, "repeat count exceeds"},
	{`a{1001,}`, 1, "repeat count exceeds"},
	{`(a{10}){200}`, 7, "repeat count exceeds"},
	{`a{2}{2}{2}{2}{2}{2}{2}{2}{2}`, -1, ""}, // 512: within RE2's nested limit
	{`a{2}{2}{2}{2}{2}{2}{2}{2}{2}{2}`, 28, "repeat count exceeds"},
	{strings.Repeat("(", 300) + "a" + strings.Repeat(")", 300), lxMaxParenDepth, "nests too deeply"},
	{"a\xffb", 1, "invalid UTF-8"},
	{"é[", 3, "unexpected end-of-string"},
	{"é[é", 5, "expected ']'"},
	{"\"\xff\"", 1, "invalid UTF-8"},
}

func TestCompileLuceneErrors(t *testing.T) {
	for _, c := range luceneErrorCases {
		for _, ins := range []bool{false, true} {
			re, err := CompileLucene(c.pattern, ins)
			if c.offset < 0 {
				if err != nil {
					t.Errorf("CompileLucene(%q): unexpected error %v", c.pattern, err)
				}
				continue
			}
			var rerr *RegexError
			if !errors.As(err, &rerr) {
				t.Errorf("CompileLucene(%q, %v) = %v, %v; want *RegexError", c.pattern, ins, re, err)
				continue
			}
			if rerr.Offset != c.offset || !strings.Contains(rerr.Msg, c.msg) {
				t.Errorf("CompileLucene(%q) error = %q at %d; want %q at %d", c.pattern, rerr.Msg, rerr.Offset, c.msg, c.offset)
			}
			if !strings.Contains(err.Error(), strconv.Itoa(rerr.Offset)) {
				t.Errorf("Error() %q lacks the offset", err.Error())
			}
		}
	}
}

func TestCompileLuceneTooLarge(t *testing.T) {
	// Within every per-construct limit, but too big for regexp/syntax overall.
	p := strings.Repeat(`[a-z]{1000}`, 5000)
	_, err := CompileLucene(p, false)
	var rerr *RegexError
	if !errors.As(err, &rerr) || rerr.Offset != 0 {
		t.Fatalf("got %v; want *RegexError at offset 0", err)
	}
}

// The emitted RE2 for every case must agree with a direct evaluation of the
// parsed Lucene tree.
func TestCompileLuceneAgainstEval(t *testing.T) {
	for _, c := range luceneCases {
		re, err := CompileLucene(c.pattern, c.ins)
		if err != nil {
			continue
		}
		root, err := lxParse(c.pattern, c.ins)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range append(append([]string{"", c.pattern}, c.match...), c.nomatch...) {
			if len(s) > 64 {
				continue
			}
			if got, want := re.MatchString(s), lxEvalMatch(root, s, c.ins); got != want {
				t.Errorf("%q on %q: RE2 %v, eval %v", c.pattern, s, got, want)
			}
		}
	}
}

func TestLuceneInterval(t *testing.T) {
	bounds := []int{0, 1, 5, 9, 10, 11, 19, 20, 99, 100, 101, 199, 250, 999, 1000, 1234}
	for _, lo := range bounds {
		for _, hi := range bounds {
			if lo > hi {
				continue
			}
			for _, pad := range []int{0, 1, 2} {
				// Same-width bounds fix the width; otherwise leading zeros are free.
				smin := strings.Repeat("0", pad) + strconv.Itoa(lo)
				smax := strconv.Itoa(hi)
				digits := 0
				if len(smin) == len(smax) {
					digits = len(smin)
				}
				p := "<" + smin + "-" + smax + ">"
				re, err := CompileLucene(p, false)
				if err != nil {
					t.Fatalf("%s: %v", p, err)
				}
				for v := 0; v <= 1300; v++ {
					in := v >= lo && v <= hi
					canon := strconv.Itoa(v)
					for _, s := range []string{canon, "0" + canon, "00" + canon} {
						want := in && (digits == 0 || len(s) == digits)
						if got := re.MatchString(s); got != want {
							t.Fatalf("%s on %q: got %v want %v (RE2 %s)", p, s, got, want, re)
						}
					}
				}
			}
		}
	}
}

// lxFoldSet only visits lxFoldableRunes; check that no other rune folds.
func TestLuceneFoldableRunes(t *testing.T) {
	foldable := map[rune]bool{}
	for _, r := range lxFoldableRunes() {
		foldable[r] = true
	}
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if unicode.SimpleFold(r) != r && !foldable[r] {
			t.Fatalf("%U folds but is not in lxFoldableRunes", r)
		}
	}
}

func BenchmarkCompileLucene(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := CompileLucene(`.*?net1[ ]+[a-z]{4,15}[ ]+.*?`, true); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLuceneMatch(b *testing.B) {
	re, err := CompileLucene(`.*?net1[ ]+localgroup.*?`, true)
	if err != nil {
		b.Fatal(err)
	}
	s := `C:\Windows\system32\net1  localgroup administrators attacker /add`
	b.ReportAllocs()
	for b.Loop() {
		if !re.MatchString(s) {
			b.Fatal("no match")
		}
	}
}
