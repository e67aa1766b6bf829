package server

import (
	"sync"
	"time"
)

// acceptClock remembers when log positions were accepted, so that the
// server can tell how long the oldest accepted event that detection has
// not evaluated yet has been waiting: the delay an alert on it would
// have. Back-pressure on that delay (Config.MaxDelay) bounds the time
// from acceptance to alert whatever the ingest rate; a bound in events
// (MaxLag) means a different delay at every detection speed.
//
// It is a monotonic queue: marks in increasing log position and time,
// a mark dropped when a later one is older (its events are then covered
// by that older time), so the front is the oldest acceptance past any
// position.
type acceptClock struct {
	mu   sync.Mutex
	q    []acceptMark
	head int
}

type acceptMark struct {
	seq uint64    // the highest log position of a request's events
	t   time.Time // when the request began storing them (at or before each)
}

// mark records that log positions up to seq were accepted at t. Requests
// finish in any order: a mark below the newest one is raised to it, which
// keeps its time counted until detection passes the newer position (an
// overestimate of at most one request's span).
func (c *acceptClock) mark(seq uint64, t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n := len(c.q); n > c.head && seq < c.q[n-1].seq {
		seq = c.q[n-1].seq
	}
	for len(c.q) > c.head && !c.q[len(c.q)-1].t.Before(t) {
		c.q = c.q[:len(c.q)-1]
	}
	c.q = append(c.q, acceptMark{seq: seq, t: t})
}

// wait is how long the oldest event past log position pos (the detection
// consumer's) has waited at now; 0 when every accepted event is evaluated.
func (c *acceptClock) wait(pos uint64, now time.Time) time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	for c.head < len(c.q) && c.q[c.head].seq <= pos {
		c.head++
	}
	if c.head == len(c.q) {
		c.q, c.head = c.q[:0], 0
		return 0
	}
	if c.head > 64 && c.head*2 > len(c.q) {
		n := copy(c.q, c.q[c.head:])
		c.q, c.head = c.q[:n], 0
	}
	if d := now.Sub(c.q[c.head].t); d > 0 {
		return d
	}
	return 0
}
