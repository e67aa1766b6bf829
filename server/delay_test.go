package server

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestAcceptClock(t *testing.T) {
	t0 := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	var c acceptClock
	if d := c.wait(0, at(0)); d != 0 {
		t.Fatalf("empty: %v", d)
	}
	c.mark(10, at(0), 1)
	c.mark(20, at(100), 1)
	// A request that began earlier finished later, with lower positions:
	// its time counts until detection passes everything stored before it
	// finished.
	c.mark(15, at(50), 1)
	c.mark(30, at(300), 1)
	for _, tc := range []struct {
		pos  uint64
		now  int
		want int // ms
	}{
		{0, 1000, 1000},  // nothing evaluated: the first request's wait
		{10, 1000, 950},  // past the first: the late-finishing one (t=50)
		{19, 1000, 950},  // still short of it
		{20, 1000, 700},  // past it: the request at t=300
		{29, 1000, 700},  // (marks are consumed as detection advances)
		{30, 1000, 0},    // all evaluated
		{30, 5000, 0},    // and it stays so
		{100, 9000, 0},   // beyond the log's end (a restarted count)
		{100, 10000, 0},  // idempotent
		{100, 100000, 0}, // nothing new
	} {
		if got := c.wait(tc.pos, at(tc.now)); got != time.Duration(tc.want)*time.Millisecond {
			t.Errorf("wait(%d) at %dms = %v, want %dms", tc.pos, tc.now, got, tc.want)
		}
	}
	// The queue does not grow with marks detection has passed.
	for i := uint64(1); i <= 10000; i++ {
		c.mark(100+i, at(int(200000+i)), 1)
		c.wait(100+i-1, at(int(200000+i)))
	}
	if n := len(c.q) - c.head; n > 2 {
		t.Errorf("%d marks held with detection one behind", n)
	}
	if cap(c.q) > 1024 {
		t.Errorf("queue capacity %d after a steady stream", cap(c.q))
	}
}

// The wait a new event can expect: the events ahead of it over the rate
// detection showed while busy, so that a burst is held to the bound
// before the oldest event has waited that long.
func TestAcceptClockExpectedWait(t *testing.T) {
	t0 := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	var c acceptClock
	// Idle detection (caught up at every look) learns no rate.
	for i := 1; i <= 5; i++ {
		c.mark(uint64(i), at(i*100), 1000)
		c.wait(uint64(i), at(i*100+50))
	}
	if c.rate != 0 {
		t.Fatalf("rate %v learnt from an idle detector", c.rate)
	}
	// Busy: 1,000 events evaluated in 100ms.
	c.mark(6, at(990), 1000)
	c.mark(7, at(1000), 1000)
	c.wait(5, at(1000))
	if got := c.wait(6, at(1100)); got != 100*time.Millisecond {
		t.Fatalf("one batch of 1,000 ahead at 10,000/s: %v", got)
	}
	if c.rate != 10000 {
		t.Fatalf("rate %v, want 10000/s", c.rate)
	}
	// A burst of 20,000 events: the oldest has waited 50ms, but the newest
	// will wait about 2.1s.
	c.mark(8, at(1150), 20000)
	if got := c.wait(6, at(1150)); got != 2100*time.Millisecond {
		t.Errorf("after a burst: %v, want 2.1s", got)
	}
}

// Ingest answers 429 while the oldest accepted, unevaluated event has
// waited more than MaxDelay, and accepts again once detection catches up.
func TestMaxDelayThrottles(t *testing.T) {
	var pos atomic.Uint64
	ts := newTestServer(t, func(c *Config) {
		c.Detected = pos.Load
		c.MaxDelay = 200 * time.Millisecond
	})
	small := "{\"index\":{\"_index\":\"a\"}}\n{}\n"
	for i := 0; i < 3; i++ { // within the delay: accepted
		if code, _, out := ts.do(t, "POST", "/_bulk", small); code != 200 {
			t.Fatalf("request %d: %d %s", i, code, out)
		}
	}
	time.Sleep(300 * time.Millisecond)
	code, hdr, out := ts.do(t, "POST", "/_bulk", small)
	if code != 429 || hdr.Get("Retry-After") == "" || !strings.Contains(string(out), "behind acceptance") {
		t.Fatalf("detection 300ms behind: %d %v %s", code, hdr, out)
	}
	_, _, metrics := ts.do(t, "GET", "/metrics", "")
	var gauge float64
	for _, l := range strings.Split(string(metrics), "\n") {
		if v, ok := strings.CutPrefix(l, "vigil_detect_delay_seconds "); ok {
			fmt.Sscan(v, &gauge)
		}
	}
	if gauge < 0.3 {
		t.Errorf("vigil_detect_delay_seconds %v, want the wait (>= 0.3)", gauge)
	}
	pos.Store(ts.log.LastSeq()) // detection caught up
	if code, _, out := ts.do(t, "POST", "/_bulk", small); code != 200 {
		t.Fatalf("after catching up: %d %s", code, out)
	}
	if n := len(recordsOf(t, ts.log)); n != 4 {
		t.Errorf("%d records, want 4 (the throttled request stored nothing)", n)
	}
}
