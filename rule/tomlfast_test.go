package rule

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/BurntSushi/toml"
)

// checkFastTOML decodes text with the fast decoder and, when it accepts
// the text, requires BurntSushi's value and scanTOML's key positions to be
// the same. It reports whether the fast decoder accepted it.
func checkFastTOML(t *testing.T, name, text string) bool {
	t.Helper()
	doc, keys, ok := fastTOML(text, false)
	_, keysOnly, ok2 := fastTOML(text, true)
	if ok2 != ok {
		t.Fatalf("%s: fast decoder ok %v, with keys only %v", name, ok, ok2)
	}
	if !ok {
		return false
	}
	var want map[string]any
	if _, err := toml.Decode(text, &want); err != nil {
		t.Fatalf("%s: fast decoder accepted what BurntSushi rejects: %v\n%q", name, err, text)
	}
	if !reflect.DeepEqual(doc, want) {
		t.Fatalf("%s: fast decoder\n%#v\nBurntSushi\n%#v\ntext %q", name, doc, want, text)
	}
	wantKeys, complete := scanTOMLAll(text, newLineIndex(text))
	keys.finish()
	keysOnly.finish()
	var wantStub []keyEntry
	for _, e := range wantKeys.e {
		if slices.Contains(stubKeys, e.path) {
			wantStub = append(wantStub, e)
		}
	}
	if !slices.Equal(keys.e, wantKeys.e) || !slices.Equal(keysOnly.e, wantStub) || !complete {
		t.Fatalf("%s: fast decoder keys\n%v\nscanTOML (complete %v)\n%v\ntext %q", name, keys, complete, wantKeys, text)
	}
	return true
}

// Constructed documents (not from any rule set): each in the subset must
// decode as BurntSushi does; each outside it must be left to BurntSushi.
var fastTOMLCases = []struct {
	text string
	fast bool
}{
	{"", true},
	{"# only a comment\n\n", true},
	{"a = 1\nb = -20\nc = +3\nd = 0\ne = true\nf = false\n", true},
	{"[rule]\nname = \"x\"  # comment\nrisk_score = 21 \t\n", true},
	{"[metadata]\ncreation_date = \"2020/01/01\"\n\n[rule]\ntags = [\n  \"a\", # one\n  \"b\",\n]\nempty = []\nnested = [[1, 2], [\"x\"], []]\n", true},
	{"[rule]\nq = '''\nliteral \\n \"quoted\" ''\n'''\nr = \"\"\"\nbasic \\\"esc\\\" \\\\ \\t \\n \\r \\b \\f\n\"\"\"\ns = 'one'\nt = \"a\\\"b\"\n", true},
	{"[rule]\nq = \"\"\"no first newline\"\"\"\nr = '''x'''\ns = \"\"\"\"\"\"\n", true},
	{"[rule]\na = 1\n[[rule.threat]]\nf = \"MITRE\"\n[rule.threat.tactic]\nid = \"TA1\"\n[[rule.threat.technique]]\nid = \"T1\"\n[[rule.threat.technique.subtechnique]]\nid = \"T1.1\"\n[[rule.threat.technique]]\nid = \"T2\"\n[[rule.threat]]\nf = \"MITRE\"\n[ rule . threat . tactic ]\nid = \"TA2\"\n", true},
	{"[[a]]\n[[a]]\nx = 1\n[a.b]\ny = 2\n", true},
	{"[transform]\n[[transform.osquery]]\nlabel = \"x\"\nquery = \"SELECT * FROM t WHERE u = {{user.name}}\"\n", true},
	{"a = \"é ü 日本\"\n", true},
	{"\n\n  [rule]\n\tname = 'x'\n", true},
	{"a = 'x'\n", true},
	{"\"rule.type\" = 'query'\n'rule.name' = 'n'\n[rule]\ntype = 'eql'\nrule_id = 'x'\n[rule.x]\nname = 'y'\n[[rule]]\n", false},
	{"\"rule.type\" = 'query'\n'rule.name' = 'n'\n[rule]\ntype = 'eql'\nrule_id = 'x'\n[rule.x]\nname = 'y'\n[[a.rule]]\ntype = 1\n", true},
	{"a = { b = 1, c = \"x\", d = [1, {}], e = { f = true } }\nb = {}\n", true},
	{"a = [\n  [\n    { x = false, \"y z\" = 'w' },\n  ],\n]\n", true},
	{"[rule.filters.\"$state\"]\nstore = \"appState\"\n['lit'.\"q\"]\n\"k\" = 1\n'l' = 2\n", true},
	// outside the subset, or invalid
	{"a = 1.5\n", false},
	{"a = 1e3\n", false},
	{"a = 1_000\n", false},
	{"a = 0x10\n", false},
	{"a = 012\n", false},
	{"a = 99999999999999999999\n", false},
	{"a = 1979-05-27\n", false},
	{"a = 1979-05-27T07:32:00Z\n", false},
	{"a = inf\n", false},
	{"a = nan\n", false},
	{"a = yes\n", false},
	{"a = \n", false},
	{"a.b = 1\n", false},
	{"a = [[{\"\" = 'c'}]]\n", false}, // BurntSushi: an array of tables
	{"\"\" = 1\n", false},
	{"a = { b = 1, }\n", false},
	{"a = { b = 1,\n c = 2 }\n", false},
	{"a = { b = [\n1] }\n", false},
	{"a = { b.c = 1 }\n", false},
	{"a = { b = 1, b = 2 }\n", false},
	{"a = { b = 1 c = 2 }\n", false},
	{"a = { b = 1\n", false},
	{"\"a\\u0041\" = 1\n", false},
	{"[\"a\\\"b\"]\n", false},
	{"\"a = 1\n", false},
	{"a = 1\na = 2\n", false},
	{"[a]\n[a]\n", false},
	{"[a.b]\n[a]\n", false},
	{"[a]\n[[a]]\n", false},
	{"a = 1\n[a.b]\n", false},
	{"a = [1]\n[[a]]\n", false},
	{"a = \"\\u00e9\"\n", false},
	{"a = \"\\e\"\n", false},
	{"a = \"\\x41\"\n", false},
	{"a = \"\\q\"\n", false},
	{"a = \"\"\"x \\\n  y\"\"\"\n", false},
	{"a = \"\"\"x\"\"\"\"\n", false},
	{"a = '''x''''\n", false},
	{"a = \"\"\"x \\\"\"\"\"\n", false},
	{"a = \"x\n", false},
	{"a = 'x\n", false},
	{"a = \"\"\"x\n", false},
	{"a = [1, 2\n", false},
	{"a = [1 2]\n", false},
	{"a = 1 2\n", false},
	{"a = 1,\n", false},
	{"[a] b = 1\n", false},
	{"[a\n", false},
	{"[[a]\n", false},
	{"a = 1\r\n", false},
	{"a = \"\x01\"\n", false},
	{"a = \"\xff\"\n", false},
	{"a = 1 # \x7f\n", false},
	{"=1\n", false},
	{"a 1\n", false},
}

func TestFastTOMLCases(t *testing.T) {
	for i, c := range fastTOMLCases {
		if got := checkFastTOML(t, c.text, c.text); got != c.fast {
			t.Errorf("case %d %q: fast %v, want %v", i, c.text, got, c.fast)
		}
	}
}

// Every prebuilt rule file (deprecated ones too) but a handful is in the
// subset, and decodes as BurntSushi decodes it.
func TestFastTOMLCorpus(t *testing.T) {
	needShared(t, sharedRules)
	n, fast := 0, 0
	err := filepath.WalkDir(sharedRules, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".toml") {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		n++
		if checkFastTOML(t, path, string(data)) {
			fast++
		} else {
			t.Logf("left to BurntSushi: %s", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d of %d files decoded by the fast decoder", fast, n)
	if n < 2000 || fast < n*99/100 {
		t.Errorf("%d of %d files decoded by the fast decoder; want 99%%", fast, n)
	}
}

// Loading the corpus with the fast decoder gives the rules and errors the
// BurntSushi path gives, unexported position data included.
func TestFastTOMLLoadSame(t *testing.T) {
	needShared(t, sharedRules)
	paths := []string{filepath.Join(sharedRules, "rules"), filepath.Join(sharedRules, "rules_building_block")}
	for _, types := range [][]string{nil, {"eql"}} {
		useFastTOML = false
		slow, err := Load(paths, LoadOptions{Types: types})
		useFastTOML = true
		if err != nil {
			t.Fatal(err)
		}
		fast, err := Load(paths, LoadOptions{Types: types})
		if err != nil {
			t.Fatal(err)
		}
		if len(slow.Rules) != len(fast.Rules) || !reflect.DeepEqual(slow.Errors, fast.Errors) {
			t.Fatalf("types %v: %d rules, errors %v; fast: %d rules, errors %v", types, len(slow.Rules), slow.Errors, len(fast.Rules), fast.Errors)
		}
		for i := range slow.Rules {
			if !reflect.DeepEqual(slow.Rules[i], fast.Rules[i]) {
				t.Fatalf("types %v: %s loads differently:\n%#v\n%#v", types, slow.Rules[i].Source.Path, slow.Rules[i], fast.Rules[i])
			}
		}
	}
}

// FuzzFastTOML: whatever the fast decoder accepts, BurntSushi accepts with
// the same value, and scanTOML locates the same keys.
func FuzzFastTOML(f *testing.F) {
	for _, c := range fastTOMLCases {
		f.Add(c.text)
	}
	f.Fuzz(func(t *testing.T, text string) {
		checkFastTOML(t, "fuzz", text)
	})
}

// checkSetTOMLValue stores each key of [rule] with setTOMLValue and through
// JSON (setKey): where the former takes a value, both must give the same
// rule. It returns how many values setTOMLValue took.
func checkSetTOMLValue(t *testing.T, text string) int {
	t.Helper()
	var doc map[string]any
	if _, err := toml.Decode(text, &doc); err != nil {
		return 0
	}
	rt, _ := doc["rule"].(map[string]any)
	n := 0
	for k, v := range rt {
		fast, slow := &Rule{}, &Rule{}
		if !fast.setTOMLValue(k, v) {
			if !reflect.DeepEqual(fast, slow) {
				t.Fatalf("%s: setTOMLValue refused but changed the rule: %#v", k, fast)
			}
			continue
		}
		n++
		raw, err := json.Marshal(tomlToJSON(v))
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		if err := slow.setKey(k, raw); err != nil {
			t.Fatalf("%s = %#v: setTOMLValue took what setKey rejects: %v", k, v, err)
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("%s = %#v:\nsetTOMLValue %#v\nsetKey       %#v", k, v, fast, slow)
		}
	}
	return n
}

// Constructed [rule] tables with values of the shapes setTOMLValue takes
// and of shapes it must leave to the JSON route.
var setTOMLCases = []struct {
	text string
	fast int // values setTOMLValue takes
}{
	{"[rule]\nname = 'n'\nrisk_score = 47\nenabled = false\ntimestamp_override_fallback_disabled = true\ntags = ['a', 'b']\nindex = []\n", 6},
	{"[rule]\nname = 1\nrisk_score = 'x'\nrisk_score_x = 1\ntags = ['a', 1]\nenabled = 'yes'\nversion = 1.5\n", 0},
	{"[rule]\nfilters = []\nthreshold = { field = ['a'], value = 1 }\nnew_terms = 1\nseverity_mapping = []\n", 0},
	{"[[rule.threat]]\nframework = 'MITRE ATT&CK'\n[rule.threat.tactic]\nid = 'TA1'\nname = 'T'\nreference = 'r'\n[[rule.threat.technique]]\nid = 'T1'\n[[rule.threat.technique.subtechnique]]\nid = 'T1.1'\nname = 's'\n[[rule.threat.technique]]\nid = 'T2'\nsubtechnique = []\n[[rule.threat]]\nframework = 'x'\n", 1},
	{"[rule]\nthreat = [{ framework = 'x', tactic = { id = 'a' }, technique = [] }]\n", 1},
	{"[rule]\nthreat = []\n", 1},
	{"[[rule.threat]]\nFramework = 'x'\n", 0},
	{"[[rule.threat]]\nframework = 'x'\nextra = 1\n", 0},
	{"[[rule.threat]]\ntactic = 'x'\n", 0},
	{"[[rule.threat]]\n[rule.threat.tactic]\nid = 1\n", 0},
	{"[[rule.threat]]\n[rule.threat.tactic]\nsubtechnique = []\n", 0},
	{"[[rule.threat]]\n[[rule.threat.technique]]\nsubtechnique = 'x'\n", 0},
	{"[[rule.threat]]\ntechnique = ['x']\n", 0},
	{"[rule]\nthreat = { framework = 'x' }\n", 0},
}

func TestSetTOMLValue(t *testing.T) {
	for i, c := range setTOMLCases {
		if n := checkSetTOMLValue(t, c.text); n != c.fast {
			t.Errorf("case %d: setTOMLValue took %d values, want %d\n%s", i, n, c.fast, c.text)
		}
	}
}

// FuzzSetTOMLValue: whatever setTOMLValue stores, the JSON route stores
// the same way.
func FuzzSetTOMLValue(f *testing.F) {
	for _, c := range setTOMLCases {
		f.Add(c.text)
	}
	f.Fuzz(func(t *testing.T, text string) {
		checkSetTOMLValue(t, text)
	})
}

// plainText reads eight bytes at a time: the same answer as byte by byte.
func FuzzPlainText(f *testing.F) {
	for _, s := range []string{"", "a = 1\n", "\ttab\x7f", "0123456789abcdef\x1f", "é\xffabcdefgh", "abcdefgh\r\n", "\x00", "zzzzzzz\x7f"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want := true
		for i := 0; i < len(s); i++ {
			if c := s[i]; c < 0x20 && c != '\t' && c != '\n' || c == 0x7f {
				want = false
			}
		}
		want = want && utf8.ValidString(s)
		if got := plainText(s); got != want {
			t.Fatalf("%q: %v, want %v", s, got, want)
		}
	})
}

// The type guess (mayBeType) only chooses how much the fast decoder keeps:
// rules whose type line it misreads load as through BurntSushi, wanted or
// not. Constructed variants of minimalTOML.
func TestLoadTypesGuess(t *testing.T) {
	variants := []string{
		minimalTOML,
		strings.Replace(minimalTOML, `type = "eql"`, `type = "eql" # a comment hides the type from the guess`, 1),
		strings.Replace(minimalTOML, `type = "eql"`, `type = "query"`, 1),
		strings.Replace(minimalTOML, `type = "eql"`, `type = "query"`, 1) + "# type = \"eql\"\n",
		strings.Replace(minimalTOML, `type = "eql"`, "type = 'query'\n[transform]\ntype = \"eql\"", 1),
		strings.Replace(minimalTOML, `name = "Minimal"`, `name = "Min\"imal"`, 1), // no stub: a full decode
		strings.Replace(strings.Replace(minimalTOML, `type = "eql"`, `type = "query"`, 1), `name = "Minimal"`, `name = "Min\"imal"`, 1),
	}
	for i, text := range variants {
		for _, types := range [][]string{{"eql"}, {"query"}, {"esql"}} {
			opts := LoadOptions{Types: types}
			useFastTOML = false
			want, werrs := loadTOML("v.toml", text, opts)
			useFastTOML = true
			got, gerrs := loadTOML("v.toml", text, opts)
			if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(gerrs, werrs) {
				t.Errorf("variant %d, types %v:\n%#v %v\nwant\n%#v %v", i, types, got, gerrs, want, werrs)
			}
		}
	}
}

// Stub rules keep none of their file's bytes: a load worker reads the next
// file into the same buffer. Constructed files of several types, loaded
// with one worker buffer after another.
func TestStubsOutliveBuffer(t *testing.T) {
	files := map[string]string{}
	for i := range 40 {
		typ := []string{"query", "eql", "threshold", "esql"}[i%4]
		text := strings.Replace(minimalTOML, `type = "eql"`, fmt.Sprintf("type = %q", typ), 1)
		text = strings.Replace(text, `name = "Minimal"`, fmt.Sprintf(`name = "Rule %02d %s"`, i, strings.Repeat("x", i*50)), 1)
		text = strings.Replace(text, "aaaaaaaa-0000-0000-0000-000000000001", fmt.Sprintf("aaaaaaaa-0000-0000-0000-%012d", i), 1)
		files[fmt.Sprintf("r%02d.toml", i)] = text
	}
	dir := writeFiles(t, files)
	res, err := Load([]string{dir}, LoadOptions{Types: []string{"eql"}})
	if err != nil || len(res.Errors) > 0 || len(res.Rules) != 40 {
		t.Fatalf("%v %v %d rules", err, res.Errors, len(res.Rules))
	}
	for i, r := range res.Rules {
		typ := []string{"query", "eql", "threshold", "esql"}[i%4]
		name := fmt.Sprintf("Rule %02d %s", i, strings.Repeat("x", i*50))
		id := fmt.Sprintf("aaaaaaaa-0000-0000-0000-%012d", i)
		if r.Type != typ || r.Name != name || r.RuleID != id || r.Language != "eql" || r.Partial != (typ != "eql") {
			t.Errorf("rule %d: %q %q %q %q partial %v", i, r.Type, r.Name, r.RuleID, r.Language, r.Partial)
		}
	}
}
