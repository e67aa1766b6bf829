package detect

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/vigilsec/vigil/eql"
	"github.com/vigilsec/vigil/event"
	"github.com/vigilsec/vigil/internal/benchgen"
	"github.com/vigilsec/vigil/rule"
)

// The benchmarks run Elastic's prebuilt rules (../shared/rules, all 1,024
// EQL rules) and the "User Account Creation" rule alone over generated ECS
// NDJSON held in memory (64 MB, or VIGIL_BENCH_BYTES), the way the CLI
// would (offer every line, build the alerts), and parse-only over the same
// lines as the baseline; compare MB/s within one run:
//
//	go test ./detect -run '^$' -bench . -benchtime 3x

const rulesRoot = "../../shared/rules/detection-rules"

var (
	prebuiltOnce  sync.Once
	prebuilt      []*rule.Rule
	prebuiltErr   error
	benchDataOnce sync.Once
	benchLines    []byte
	benchStats    benchgen.Stats
)

// prebuiltRules reads detection-rules TOML directly (the rule package's
// loader is not a dependency of these tests).
func prebuiltRules(tb testing.TB) []*rule.Rule {
	if _, err := os.Stat(rulesRoot); err != nil {
		tb.Skipf("detection-rules corpus not found at %s (../shared is absent): skipping", rulesRoot)
	}
	prebuiltOnce.Do(func() {
		for _, dir := range []string{"rules", "rules_building_block"} {
			err := filepath.WalkDir(filepath.Join(rulesRoot, dir), func(p string, d os.DirEntry, err error) error {
				if err != nil || d.IsDir() || !strings.HasSuffix(p, ".toml") || strings.Contains(p, "_deprecated") {
					return err
				}
				var doc struct {
					Meta struct {
						CreationDate string `toml:"creation_date"`
						UpdatedDate  string `toml:"updated_date"`
					} `toml:"metadata"`
					Rule struct {
						RuleID            string                  `toml:"rule_id"`
						Name              string                  `toml:"name"`
						Type              string                  `toml:"type"`
						Language          string                  `toml:"language"`
						Query             string                  `toml:"query"`
						Index             []string                `toml:"index"`
						Severity          string                  `toml:"severity"`
						RiskScore         int                     `toml:"risk_score"`
						Description       string                  `toml:"description"`
						From              string                  `toml:"from"`
						Interval          string                  `toml:"interval"`
						MaxSignals        int                     `toml:"max_signals"`
						TimestampOverride string                  `toml:"timestamp_override"`
						BuildingBlockType string                  `toml:"building_block_type"`
						RuleNameOverride  string                  `toml:"rule_name_override"`
						Tags              []string                `toml:"tags"`
						References        []string                `toml:"references"`
						Author            []string                `toml:"author"`
						License           string                  `toml:"license"`
						Note              string                  `toml:"note"`
						Threat            []rule.Threat           `toml:"threat"`
						SeverityMapping   []rule.SeverityMapping  `toml:"severity_mapping"`
						RiskScoreMapping  []rule.RiskScoreMapping `toml:"risk_score_mapping"`
						TiebreakerField   string                  `toml:"tiebreaker_field"`
						TimestampField    string                  `toml:"timestamp_field"`
						CategoryOverride  string                  `toml:"event_category_override"`
					} `toml:"rule"`
				}
				if _, err := toml.DecodeFile(p, &doc); err != nil {
					return err
				}
				r := doc.Rule
				meta := rule.Metadata{CreationDate: doc.Meta.CreationDate, UpdatedDate: doc.Meta.UpdatedDate}
				prebuilt = append(prebuilt, &rule.Rule{
					RuleID: r.RuleID, Name: r.Name, Type: r.Type, Language: r.Language, Query: r.Query,
					Index: r.Index, Severity: r.Severity, RiskScore: r.RiskScore, Description: r.Description,
					From: r.From, Interval: r.Interval, MaxSignals: r.MaxSignals, TimestampOverride: r.TimestampOverride,
					BuildingBlockType: r.BuildingBlockType, RuleNameOverride: r.RuleNameOverride, Tags: r.Tags,
					References: r.References, Author: r.Author, License: r.License, Note: r.Note, Threat: r.Threat,
					SeverityMapping: r.SeverityMapping, RiskScoreMapping: r.RiskScoreMapping,
					TiebreakerField: r.TiebreakerField, TimestampField: r.TimestampField,
					EventCategoryOverride: r.CategoryOverride, Meta: &meta,
					Source: rule.Source{Path: p},
				})
				return nil
			})
			if err != nil {
				prebuiltErr = err
				return
			}
		}
	})
	if prebuiltErr != nil {
		tb.Fatal(prebuiltErr)
	}
	return prebuilt
}

func benchData(tb testing.TB) []byte {
	benchDataOnce.Do(func() {
		size := int64(64 << 20)
		if s := os.Getenv("VIGIL_BENCH_BYTES"); s != "" {
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil || n <= 0 {
				tb.Fatalf("VIGIL_BENCH_BYTES=%q: want a byte count", s)
			}
			size = n
		}
		var buf bytes.Buffer
		buf.Grow(int(size) + 4096)
		st, err := benchgen.Generate(&buf, size, 1)
		if err != nil {
			tb.Fatal(err)
		}
		benchLines, benchStats = buf.Bytes(), st
	})
	return benchLines
}

// Every prebuilt EQL rule compiles into a rule set.
func TestPrebuiltRuleSet(t *testing.T) {
	rules := prebuiltRules(t)
	rs, errs := Compile(rules)
	for _, err := range errs {
		t.Error(err)
	}
	n := len(rs.Rules())
	if n < 1000 {
		t.Errorf("%d EQL rules compiled, want the corpus' ~1,024", n)
	}
	t.Logf("%d rules: %d EQL compiled, skipped %v", len(rules), n, rs.Skipped())
}

// BenchmarkParseOnly is the baseline: split and parse every line.
func BenchmarkParseOnly(b *testing.B) {
	data := benchData(b)
	var p event.Parser
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		for rest := data; len(rest) > 0; {
			i := bytes.IndexByte(rest, '\n')
			if _, err := p.Parse(rest[:i]); err != nil {
				b.Fatal(err)
			}
			rest = rest[i+1:]
		}
	}
}

// BenchmarkPrebuiltRules runs every prebuilt EQL rule (1,024) the way the
// CLI would: offer each line, then build the alerts.
func BenchmarkPrebuiltRules(b *testing.B) {
	rs, errs := Compile(prebuiltRules(b))
	if len(errs) > 0 {
		b.Fatal(errs[0])
	}
	benchEngine(b, rs, benchData(b), -1)
}

// BenchmarkPrebuiltRulesLiteralScan is BenchmarkPrebuiltRules with the
// literal line scan instead of value dispatch, for comparison.
func BenchmarkPrebuiltRulesLiteralScan(b *testing.B) {
	rs, errs := CompileWith(prebuiltRules(b), CompileOptions{dispatch: dispatchLiterals})
	if len(errs) > 0 {
		b.Fatal(errs[0])
	}
	benchEngine(b, rs, benchData(b), -1)
}

// benchReorder is the CLI's default reorder window; VIGIL_BENCH_REORDER
// (a duration) changes it.
func benchReorder(tb testing.TB) time.Duration {
	if s := os.Getenv("VIGIL_BENCH_REORDER"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			tb.Fatalf("VIGIL_BENCH_REORDER=%q: %v", s, err)
		}
		return d
	}
	return 15 * time.Minute
}

// BenchmarkSeedRule runs Elastic's "User Account Creation" alone: literal
// dispatch skips almost every line unparsed.
func BenchmarkSeedRule(b *testing.B) {
	rs, errs := Compile([]*rule.Rule{userAccountCreation()})
	if len(errs) > 0 {
		b.Fatal(errs[0])
	}
	benchEngine(b, rs, benchData(b), int(benchStats.SeedMatches))
}

func benchEngine(b *testing.B, rs *RuleSet, data []byte, wantAlerts int) {
	from := bytes.NewReader(data)
	var st Stats
	var alerts int
	reorder := benchReorder(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		e := rs.NewEngine(Options{Now: testNow, ReorderWindow: reorder})
		n := 0
		for off := 0; off < len(data); {
			i := bytes.IndexByte(data[off:], '\n')
			n++
			if err := e.Offer(data[off:off+i], eql.Source{Line: n, From: from, Offset: int64(off)}); err != nil {
				b.Fatal(err)
			}
			off += i + 1
		}
		as, err := e.Finish()
		if err != nil {
			b.Fatal(err)
		}
		st, alerts = e.Stats(), len(as)
	}
	if wantAlerts >= 0 && alerts != wantAlerts {
		b.Fatalf("%d alerts, want %d", alerts, wantAlerts)
	}
	b.ReportMetric(float64(len(rs.rules)), "rules")
	b.ReportMetric(100*float64(st.Skipped)/float64(st.Lines), "%skipped")
	b.ReportMetric(float64(st.Evaluations)/float64(st.Lines), "evals/line")
	b.ReportMetric(float64(alerts), "alerts")
}
