package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigilsec/vigil/pack"
	"github.com/vigilsec/vigil/rule"
	"github.com/vigilsec/vigil/schedule"
	"github.com/vigilsec/vigil/server/api"
	"github.com/vigilsec/vigil/store/alerts"
	"github.com/vigilsec/vigil/store/eventlog"
)

// BenchmarkServeAlertLatency is the load of BenchmarkServe through the
// path vigil serve runs (the scheduler consuming the log, alerts stored in
// SQLite), measuring the time from acceptance (the event's event.ingested)
// to alert creation (the alert's @timestamp). Every tenth request carries
// one "User Account Creation" positive, constructed here, with a fresh
// @timestamp; the rule runs as a test copy with its 5m interval shortened
// to 1s (from now-2s), the other prebuilt rules on their own schedules.
// Reported: ingest events/s, p99 request latency, the detectors' events/s
// (from the first request until every event was evaluated: the sustained
// rate), and p50/p99/max alert latency of the injected positives.
//
// VIGIL_BENCH_RATES (events/s, comma-separated; VIGIL_BENCH_RATE is one)
// paces the clients, one sub-benchmark per rate in the same run: at a rate
// the detectors sustain, the latency is the pipeline's; above it, it is
// the detectors' growing lag. Without it the clients send as fast as they
// can, as the ingest load test (BenchmarkServe) does, and retry 429s:
// serve's --max-delay back-pressure (VIGIL_BENCH_MAX_DELAY, default as
// vigil serve; 0 turns it off) then holds them to the detectors' rate.
// VIGIL_BENCH_WORKERS sets serve's --detect-workers (default as
// vigil serve: api.DefaultDetectWorkers).
//
//	VIGIL_BENCH_RATES=5000,10000,20000,40000 go test ./server -run '^$' -bench ServeAlertLatency -benchtime 300x
func BenchmarkServeAlertLatency(b *testing.B) {
	benchSetup(b)
	workers := api.DefaultDetectWorkers() // as vigil serve
	if v := os.Getenv("VIGIL_BENCH_WORKERS"); v != "" {
		if _, err := fmt.Sscan(v, &workers); err != nil || workers < 1 {
			b.Fatalf("VIGIL_BENCH_WORKERS=%q: want a number of workers", v)
		}
	}
	rates := os.Getenv("VIGIL_BENCH_RATES")
	if rates == "" {
		rates = os.Getenv("VIGIL_BENCH_RATE")
	}
	if rates == "" {
		b.Run(fmt.Sprintf("unpaced/workers=%d", workers), func(b *testing.B) { latencyRun(b, 0, workers) })
		return
	}
	for _, v := range strings.Split(rates, ",") {
		var rate float64
		if _, err := fmt.Sscan(strings.TrimSpace(v), &rate); err != nil || rate <= 0 {
			b.Fatalf("VIGIL_BENCH_RATES: %q: want events per second", v)
		}
		b.Run(fmt.Sprintf("rate=%g/workers=%d", rate, workers), func(b *testing.B) { latencyRun(b, rate, workers) })
	}
}

func latencyRun(b *testing.B, rate float64, workers int) {
	const refID = "1aa9181a-492b-4c01-8b16-fa0735786b2b"
	rules := latencyRules(b)
	for _, r := range rules {
		if r.RuleID == refID {
			r.Interval, r.From = "1s", "now-2s"
		}
	}
	dir := b.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	lg, err := eventlog.Open(ctx, eventlog.Config{Dir: dir})
	if err != nil {
		b.Fatal(err)
	}
	defer lg.Close()
	if _, err := NewJetStreamSink(ctx, lg.JetStream(), 0); err != nil {
		b.Fatal(err)
	}
	svc, _, err := api.Start(ctx, api.ServiceConfig{DataDir: dir, Rules: rules, Log: lg, Publish: true, Tick: 100 * time.Millisecond,
		DetectWorkers: workers})
	if err != nil {
		b.Fatal(err)
	}
	defer svc.Close()
	maxDelay := DefaultMaxDelay // as vigil serve
	if v := os.Getenv("VIGIL_BENCH_MAX_DELAY"); v != "" {
		if maxDelay, err = time.ParseDuration(v); err != nil {
			b.Fatalf("VIGIL_BENCH_MAX_DELAY: %v", err)
		}
	}
	cfg := Config{Log: lg, MaxLag: 1 << 62, API: svc.Handler, BatchAutoIDs: true, // as vigil serve
		Detected: svc.Scheduler.Position, MaxDelay: maxDelay,
		Consumers: []Consumer{{Name: schedule.DetectorName, Handler: svc.Scheduler.HandleLog,
			Options: eventlog.ConsumeOptions{Batch: 2000, MaxWait: 200 * time.Millisecond}}}}
	srv, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	ln := newUnusedListener(b)
	served := make(chan struct{})
	go func() { srv.Serve(ctx, ln, "", ""); close(served) }()
	url := "http://" + ln.Addr().String() + "/logs-endpoint.events.process-default/_bulk"

	const clients = 4
	var pace time.Duration // between requests of one client
	if rate > 0 {
		pace = time.Duration(float64(time.Second) * benchBatch * clients / rate)
	}
	var next, injected, throttled atomic.Int64
	var mu sync.Mutex
	var reqLat []time.Duration
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
			tick := time.Now()
			for {
				if pace > 0 {
					tick = tick.Add(pace)
					time.Sleep(time.Until(tick))
				}
				i := next.Add(1) - 1
				if i >= int64(b.N) {
					return
				}
				body := benchData.bodies[int(i)%len(benchData.bodies)]
				if i%10 == 0 {
					injected.Add(1)
					body = append(positiveDoc(i), body...)
				}
				t0 := time.Now()
				var resp *http.Response
				var out []byte
				// Back-pressure: retry 429s as Beats do, with a growing
				// pause (from 250ms to 2s here, shorter than Beats' 1s to
				// 60s so the clients keep the server busy).
				for pause := 250 * time.Millisecond; ; pause = min(2*pause, 2*time.Second) {
					var err error
					resp, err = hc.Post(url, "application/x-ndjson", bytes.NewReader(body))
					if err != nil {
						b.Error(err)
						return
					}
					out, _ = io.ReadAll(resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusTooManyRequests {
						break
					}
					throttled.Add(1)
					time.Sleep(pause)
				}
				if resp.StatusCode != http.StatusOK || bytes.Contains(out[:min(len(out), 20)], []byte(`"errors":true`)) {
					// Not (all) stored: the counts below would be wrong.
					b.Errorf("request %d: status %d: %.300s", i, resp.StatusCode, out)
				}
				mu.Lock()
				reqLat = append(reqLat, time.Since(t0))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	ingest := time.Since(start)
	b.StopTimer()
	events := float64(b.N*benchBatch) + float64(injected.Load())
	b.ReportMetric(events/ingest.Seconds(), "events/s")
	sort.Slice(reqLat, func(i, j int) bool { return reqLat[i] < reqLat[j] })
	b.ReportMetric(ms(reqLat[len(reqLat)*99/100]), "req-p99-ms")
	b.ReportMetric(float64(throttled.Load()), "429s")

	// Wait for the scheduler to evaluate everything, then for the alerts.
	end := lg.LastSeq()
	for svc.Scheduler.Position() < end {
		time.Sleep(5 * time.Millisecond)
	}
	b.ReportMetric(events/time.Since(start).Seconds(), "detected-events/s")
	if st := svc.Scheduler.Stats(); st.Fed != int64(events) || st.Malformed != 0 {
		b.Errorf("the scheduler evaluated %d events (%d malformed), %d were accepted", st.Fed, st.Malformed, int64(events))
	}
	var lat []time.Duration
	deadline := time.Now().Add(5 * time.Minute)
	for time.Now().Before(deadline) {
		lat = positiveLatencies(b, svc.Store, refID)
		if int64(len(lat)) >= injected.Load() {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if int64(len(lat)) != injected.Load() {
		b.Fatalf("%d of %d injected positives alerted", len(lat), injected.Load())
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(ms(lat[len(lat)/2]), "alert-p50-ms")
	b.ReportMetric(ms(lat[len(lat)*99/100]), "alert-p99-ms")
	b.ReportMetric(ms(lat[len(lat)-1]), "alert-max-ms")
	b.ReportMetric(float64(len(lat)), "positives")
	cancel()
	<-served
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// positiveDoc is one bulk action and document: net.exe user /add from
// cmd.exe on Windows, stamped now (constructed for this benchmark).
func positiveDoc(i int64) []byte {
	ts := time.Now().UTC().Format("2006-01-02T15:04:05.000Z")
	return fmt.Appendf(nil, `{"create":{"_id":"lat-%d"}}`+"\n"+
		`{"@timestamp":%q,"event":{"category":["process"],"type":["start"],"action":"start","kind":"event"},`+
		`"host":{"name":"lat-host","os":{"type":"windows"}},"process":{"name":"net.exe","args":["net","user","lat%d","P@ss1","/add"],`+
		`"entity_id":"lat-%d","parent":{"name":"cmd.exe"}}}`+"\n", i, ts, i, i)
}

// positiveLatencies reads the injected positives' alerts back from the
// store: creation (@timestamp) minus acceptance (event.ingested).
func positiveLatencies(b *testing.B, st *alerts.Store, ruleID string) []time.Duration {
	var out []time.Duration
	for page := 1; ; page++ {
		_, as, err := st.Query(context.Background(), alerts.Filter{RuleID: ruleID, Host: "lat-host", Size: alerts.MaxPageSize, Page: page})
		if err != nil {
			b.Fatal(err)
		}
		for _, a := range as {
			var doc struct {
				Created string `json:"@timestamp"`
				Event   struct {
					Ingested string `json:"ingested"`
				} `json:"event"`
			}
			if err := json.Unmarshal(a.Doc, &doc); err != nil {
				b.Fatal(err)
			}
			c, err1 := time.Parse(time.RFC3339Nano, doc.Created)
			in, err2 := time.Parse(time.RFC3339Nano, doc.Event.Ingested)
			if err1 != nil || err2 != nil {
				b.Fatalf("alert %s: @timestamp %q, event.ingested %q", a.UUID, doc.Created, doc.Event.Ingested)
			}
			out = append(out, c.Sub(in))
		}
		if len(as) < alerts.MaxPageSize {
			return out
		}
	}
}

// latencyRules are the prebuilt rules (or the built-in pack without
// ../shared), loaded afresh so the benchmark may change them.
func latencyRules(b *testing.B) []*rule.Rule {
	rules, err := prebuiltBenchRules()
	if err != nil {
		b.Fatal(err)
	}
	if rules != nil {
		return rules
	}
	rules, errs := pack.Rules(rule.LoadOptions{})
	if len(errs) > 0 {
		b.Fatal(errs[0])
	}
	return rules
}
