package server

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigilsec/vigil/detect"
	"github.com/vigilsec/vigil/eql"
	"github.com/vigilsec/vigil/internal/benchgen"
	"github.com/vigilsec/vigil/rule"
	"github.com/vigilsec/vigil/store/eventlog"
)

// Load benchmark: loopback HTTP clients send _bulk requests of 1,000
// generated endpoint events (internal/benchgen, the data of the hunt
// benchmarks) while the detection consumer runs the rules over the log.
// One op is one request. Reported: acknowledged events/s, p99 request
// latency, and the detectors' events/s (from the first request until they
// have evaluated every event). Sub-benchmarks, measured in the same run:
//
//	log-only     ingest with no detection consumer (the ingest ceiling),
//	             one log message per event
//	log-only-batched  the same with Config.BatchAutoIDs (the events have
//	             no client ids: up to 1,000 a message)
//	detect-N     ingest with the detectors running every rule (and
//	             -batched)
//	engine-only  the detection engine alone over the same lines (no HTTP,
//	             no log): the detection ceiling
//
// Rules: every EQL rule of ../shared/rules/detection-rules (rules and
// rules_building_block: 1,024), or the built-in pack when ../shared is
// absent or VIGIL_BENCH_RULES=pack. Run it bounded, e.g.:
//
//	go test ./server -run '^$' -bench BenchmarkServe -benchtime 200x
//
// (scripts/bench-serve.sh does this).

const benchBatch = 1000

var benchData struct {
	once   sync.Once
	lines  [][]byte
	bodies [][]byte
	rs     *detect.RuleSet
	nrules int
	err    error
}

func benchSetup(b *testing.B) {
	benchData.once.Do(func() {
		var buf bytes.Buffer
		if _, err := benchgen.Generate(&buf, 48<<20, 1); err != nil {
			benchData.err = err
			return
		}
		benchData.lines = bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n"))
		for i := 0; i+benchBatch <= len(benchData.lines); i += benchBatch {
			var body bytes.Buffer
			for _, l := range benchData.lines[i : i+benchBatch] {
				body.WriteString("{\"create\":{}}\n")
				body.Write(l)
				body.WriteByte('\n')
			}
			benchData.bodies = append(benchData.bodies, body.Bytes())
		}
		rules, err := prebuiltBenchRules()
		if err != nil {
			benchData.err = err
			return
		}
		if rules == nil {
			rs := packRuleSet(b)
			benchData.rs, benchData.nrules = rs, len(rs.Rules())
			return
		}
		rs, _ := detect.Compile(rules)
		benchData.rs, benchData.nrules = rs, len(rs.Rules())
	})
	if benchData.err != nil {
		b.Fatal(benchData.err)
	}
}

func BenchmarkServe(b *testing.B) {
	benchSetup(b)
	b.Run("log-only", func(b *testing.B) { benchServe(b, false, false) })
	b.Run("log-only-batched", func(b *testing.B) { benchServe(b, false, true) })
	b.Run(fmt.Sprintf("detect-%drules", benchData.nrules), func(b *testing.B) { benchServe(b, true, false) })
	b.Run(fmt.Sprintf("detect-%drules-batched", benchData.nrules), func(b *testing.B) { benchServe(b, true, true) })
	b.Run("engine-only", func(b *testing.B) {
		eng := benchData.rs.NewEngine(detect.Options{Emit: func(*detect.Alert) {}})
		b.ResetTimer()
		start := time.Now()
		n := 0
		for i := 0; i < b.N; i++ {
			for j := 0; j < benchBatch; j++ {
				eng.Offer(benchData.lines[n%len(benchData.lines)], eql.Source{Line: n})
				n++
			}
		}
		b.ReportMetric(float64(n)/time.Since(start).Seconds(), "events/s")
	})
}

func benchServe(b *testing.B, withDetect, batched bool) {
	dir := b.TempDir()
	lg, err := eventlog.Open(context.Background(), eventlog.Config{Dir: dir})
	if err != nil {
		b.Fatal(err)
	}
	defer lg.Close()
	cfg := Config{Log: lg, MaxLag: 1 << 62, BatchAutoIDs: batched}
	var det *Detector
	if withDetect {
		det = NewDetector(benchData.rs, MultiSink{}, nil, nil)
		cfg.Consumers = []Consumer{det.Consumer()}
		cfg.Lag = func() uint64 { return lg.LastSeq() - det.Position() }
	}
	srv, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	ln := newUnusedListener(b)
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan struct{})
	go func() { srv.Serve(ctx, ln, "", ""); close(served) }()
	url := "http://" + ln.Addr().String() + "/logs-endpoint.events.process-default/_bulk"

	const clients = 4
	var next atomic.Int64
	lat := make([][]time.Duration, clients)
	var failed atomic.Int64
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
			for {
				i := next.Add(1) - 1
				if i >= int64(b.N) {
					return
				}
				body := benchData.bodies[int(i)%len(benchData.bodies)]
				t0 := time.Now()
				resp, err := hc.Post(url, "application/x-ndjson", bytes.NewReader(body))
				if err != nil {
					failed.Add(1)
					continue
				}
				out, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				lat[c] = append(lat[c], time.Since(t0))
				if resp.StatusCode != 200 || bytes.Contains(out[:min(len(out), 20)], []byte(`"errors":true`)) {
					failed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	ingest := time.Since(start)
	b.StopTimer()
	events := float64(b.N * benchBatch)
	b.ReportMetric(events/ingest.Seconds(), "events/s")
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	if len(all) > 0 {
		b.ReportMetric(float64(all[len(all)*99/100].Microseconds())/1000, "p99-ms")
	}
	if failed.Load() > 0 {
		b.Errorf("%d requests failed", failed.Load())
	}
	if det != nil {
		b.ReportMetric(float64(lg.LastSeq()-det.Position()), "lag-at-end")
		for det.Position() < lg.LastSeq() {
			time.Sleep(5 * time.Millisecond)
		}
		b.ReportMetric(events/time.Since(start).Seconds(), "detected-events/s")
	}
	cancel()
	<-served
}

// prebuiltBenchRules loads every prebuilt rule of ../shared (fresh, so a
// benchmark may change them), or nil when ../shared is absent or
// VIGIL_BENCH_RULES=pack asks for the built-in pack.
func prebuiltBenchRules() ([]*rule.Rule, error) {
	shared := filepath.Join("..", "..", "shared", "rules", "detection-rules")
	if _, err := os.Stat(shared); err != nil || os.Getenv("VIGIL_BENCH_RULES") == "pack" {
		return nil, nil
	}
	res, err := rule.Load([]string{filepath.Join(shared, "rules"), filepath.Join(shared, "rules_building_block")}, rule.LoadOptions{})
	if err != nil {
		return nil, err
	}
	return res.Rules, nil
}
