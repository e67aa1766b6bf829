package server

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigilsec/vigil/detect"
	"github.com/vigilsec/vigil/eql"
	"github.com/vigilsec/vigil/internal/benchgen"
	"github.com/vigilsec/vigil/pack"
	"github.com/vigilsec/vigil/rule"
	"github.com/vigilsec/vigil/schedule"
	"github.com/vigilsec/vigil/server/api"
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
//	detect-N-batched/workers=W  ingest as vigil serve runs it: batched,
//	             the scheduler consuming the log with W detect workers
//	             (1, and GOMAXPROCS), alerts stored in SQLite
//	engine-only  one detection engine alone over the same lines (no HTTP,
//	             no log, no store): one core's detection ceiling
//	engine-parallel/workers=W  detect.Parallel alone: the ceiling with W
//	             workers
//
// The generated events are an alert storm for the prebuilt rules (about
// 11% alert, most beyond max_signals): storing and deferring alerts is
// part of the detectors' cost.
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
	rules  []*rule.Rule // what rs was compiled from
	nrules int
	err    error
}

func benchSetup(b *testing.B) {
	benchData.once.Do(func() {
		// VIGIL_BENCH_PROFILE: the generator's background, realistic by
		// default (as the bench scripts), or noisy (an alert storm).
		prof, err := benchgen.ParseProfile(os.Getenv("VIGIL_BENCH_PROFILE"))
		if err != nil {
			benchData.err = err
			return
		}
		var buf bytes.Buffer
		if _, err := benchgen.GenerateProfile(&buf, 48<<20, 1, prof); err != nil {
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
			var errs []*rule.LoadError
			if rules, errs = pack.Rules(rule.LoadOptions{}); len(errs) > 0 {
				benchData.err = errs[0]
				return
			}
		}
		rs, _ := detect.Compile(rules)
		benchData.rs, benchData.rules, benchData.nrules = rs, rules, len(rs.Rules())
	})
	if benchData.err != nil {
		b.Fatal(benchData.err)
	}
}

func BenchmarkServe(b *testing.B) {
	benchSetup(b)
	b.Run("log-only", func(b *testing.B) { benchServe(b, false, false) })
	b.Run("log-only-batched", func(b *testing.B) { benchServe(b, false, true) })
	for _, w := range benchWorkers() {
		b.Run(fmt.Sprintf("detect-%drules-batched/workers=%d", benchData.nrules, w), func(b *testing.B) { benchServeWith(b, true, true, w) })
	}
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
	for _, w := range benchWorkers()[1:] {
		b.Run(fmt.Sprintf("engine-parallel/workers=%d", w), func(b *testing.B) {
			p, _ := detect.NewParallel(benchData.rules, w, detect.Options{Emit: func(*detect.Alert) {}}, nil)
			defer p.Stop()
			b.ResetTimer()
			start := time.Now()
			n := 0
			for i := 0; i < b.N; i++ {
				for j := 0; j < benchBatch; j++ {
					p.Offer("", benchData.lines[n%len(benchData.lines)], eql.Source{Line: n})
					n++
				}
			}
			p.Sync()
			b.ReportMetric(float64(n)/time.Since(start).Seconds(), "events/s")
		})
	}
}

// errorItem is the first failed item of a _bulk response (or the body).
func errorItem(out []byte) []byte {
	if i := bytes.Index(out, []byte(`"error"`)); i >= 0 {
		return out[i:]
	}
	return out
}

// benchWorkers: 1, and GOMAXPROCS when more.
func benchWorkers() []int {
	if n := runtime.GOMAXPROCS(0); n > 1 {
		return []int{1, n}
	}
	return []int{1}
}

func benchServe(b *testing.B, withDetect, batched bool) { benchServeWith(b, withDetect, batched, 1) }

// benchServeWith: the detectors are vigil serve's (api.Start: the
// scheduler consuming the log, alerts in SQLite) with workers.
func benchServeWith(b *testing.B, withDetect, batched bool, workers int) {
	dir := b.TempDir()
	lg, err := eventlog.Open(context.Background(), eventlog.Config{Dir: dir})
	if err != nil {
		b.Fatal(err)
	}
	defer lg.Close()
	cfg := Config{Log: lg, MaxLag: 1 << 62, BatchAutoIDs: batched}
	var det *schedule.Scheduler
	if withDetect {
		if _, err := NewJetStreamSink(context.Background(), lg.JetStream(), 0); err != nil {
			b.Fatal(err)
		}
		svc, _, err := api.Start(context.Background(), api.ServiceConfig{DataDir: dir, Rules: benchData.rules, Log: lg, Publish: true,
			DetectWorkers: workers})
		if err != nil {
			b.Fatal(err)
		}
		defer svc.Close()
		det = svc.Scheduler
		cfg.API = svc.Handler
		cfg.Consumers = []Consumer{{Name: schedule.DetectorName, Handler: det.HandleLog,
			Options: eventlog.ConsumeOptions{Batch: 2000, MaxWait: 200 * time.Millisecond}}} // as vigil serve
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
					if failed.Add(1) == 1 {
						b.Logf("request %d: status %d: %.400s", i, resp.StatusCode, errorItem(out))
					}
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
