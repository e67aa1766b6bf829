package server

import (
	"sync"
	"time"
)

// acceptClock remembers when log positions were accepted, so that the
// server can tell how long accepted events wait for detection: the delay
// an alert on them would have. Back-pressure on that delay
// (Config.MaxDelay) bounds the time from acceptance to alert whatever the
// ingest rate; a bound in events (MaxLag) means a different delay at every
// detection speed.
//
// Two measures: the wait of the oldest accepted event not evaluated yet,
// and the wait a newly accepted event can expect, the events ahead of it
// over the rate detection has shown while busy. The second stops a burst
// (clients coming back after a 429) from queueing far more than the bound
// before the first measure sees it.
//
// The marks are a monotonic queue: in increasing log position and time,
// a mark dropped when a later one is older (its events are then covered
// by that older time), so the front is the oldest acceptance past any
// position.
type acceptClock struct {
	mu    sync.Mutex
	q     []acceptMark
	head  int
	total uint64 // events accepted

	done    uint64  // events evaluated (to the last mark detection passed)
	rate    float64 // events/s detection evaluates while busy (EWMA); 0: unknown
	sampleT time.Time
	sampleN uint64
	wasBusy bool
}

type acceptMark struct {
	seq uint64    // the highest log position of a request's events
	t   time.Time // when the request began storing them (at or before each)
	cum uint64    // events accepted up to and with this request
}

// rateEvery is how often the detection rate is sampled.
const rateEvery = 100 * time.Millisecond

// mark records that events log positions up to seq were accepted at t.
// Requests finish in any order: a mark below the newest one is raised to
// it, which keeps its time counted until detection passes the newer
// position (an overestimate of at most one request's span).
func (c *acceptClock) mark(seq uint64, t time.Time, events int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.total += uint64(events)
	if n := len(c.q); n > c.head && seq < c.q[n-1].seq {
		seq = c.q[n-1].seq
	}
	for len(c.q) > c.head && !c.q[len(c.q)-1].t.Before(t) {
		c.q = c.q[:len(c.q)-1]
	}
	c.q = append(c.q, acceptMark{seq: seq, t: t, cum: c.total})
}

// wait is how long accepted events wait for detection, which has
// evaluated the log up to position pos, at now: the longer of the oldest
// one's wait so far and a new one's expected wait; 0 when every accepted
// event is evaluated.
func (c *acceptClock) wait(pos uint64, now time.Time) time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	for c.head < len(c.q) && c.q[c.head].seq <= pos {
		c.done = c.q[c.head].cum
		c.head++
	}
	busy := c.head < len(c.q)
	c.sample(now, busy)
	if !busy {
		c.q, c.head = c.q[:0], 0
		return 0
	}
	if c.head > 64 && c.head*2 > len(c.q) {
		n := copy(c.q, c.q[c.head:])
		c.q, c.head = c.q[:n], 0
	}
	d := max(now.Sub(c.q[c.head].t), 0)
	if c.rate > 0 {
		ahead := float64(c.total - c.done)
		d = max(d, time.Duration(ahead/c.rate*float64(time.Second)))
	}
	return d
}

// sample updates the detection rate over intervals detection was busy
// throughout (an idle detector's rate is its input's, not its own).
// Detection reports progress a batch at a time: an interval lasts until
// some progress shows.
func (c *acceptClock) sample(now time.Time, busy bool) {
	if c.sampleT.IsZero() || !busy || !c.wasBusy {
		c.sampleT, c.sampleN, c.wasBusy = now, c.done, busy
		return
	}
	dt := now.Sub(c.sampleT)
	if dt < rateEvery || c.done == c.sampleN {
		return
	}
	// The estimate rises at once and falls slowly: a batch boundary or a
	// pause in the consumer's fetching reads as a slow interval, and
	// underrating the detectors would refuse events they could take.
	r := float64(c.done-c.sampleN) / dt.Seconds()
	if r > c.rate {
		c.rate = r
	} else {
		c.rate = 0.9*c.rate + 0.1*r
	}
	c.sampleT, c.sampleN = now, c.done
}
