// Package progress draws a one-line progress bar on a terminal: bytes done
// out of a known total and the rate. It redraws at most every Interval so
// that callers can report as often as they like, and it can be cleared to
// let other messages through.
package progress

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// Bar is a progress bar written to a terminal. The zero value is not usable;
// a nil *Bar is, and does nothing, so callers need not check whether they
// have one. Its methods may be called from several goroutines.
type Bar struct {
	mu sync.Mutex

	// Interval is the minimum time between redraws.
	Interval time.Duration
	// Width is the width of the bar itself in cells.
	Width int

	w       io.Writer
	total   int64
	start   time.Time
	last    time.Time
	done    int64
	events  int64 // when counted (UpdateEvents), shown as events/s
	visible bool
	now     func() time.Time // for tests
}

// New returns a bar for total bytes, drawn on w (a terminal).
func New(w io.Writer, total int64) *Bar {
	b := &Bar{Interval: 200 * time.Millisecond, Width: 30, w: w, total: total, now: time.Now}
	b.start = b.now()
	return b
}

// Update records that done bytes are processed and redraws if Interval has
// passed since the last draw.
func (b *Bar) Update(done int64) {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.update(done)
}

func (b *Bar) update(done int64) {
	b.done = done
	t := b.now()
	if t.Sub(b.last) < b.Interval {
		return
	}
	b.last = t
	b.draw(t)
}

// UpdateEvents is Update with the number of events read so far, so that the
// bar also shows events per second.
func (b *Bar) UpdateEvents(done, events int64) {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.events = events
	b.update(done)
}

func (b *Bar) draw(t time.Time) {
	frac := 0.0
	if b.total > 0 {
		frac = float64(b.done) / float64(b.total)
	}
	frac = min(max(frac, 0), 1)
	fill := int(frac * float64(b.Width))
	rate, evRate := 0.0, 0.0
	if el := t.Sub(b.start).Seconds(); el > 0 {
		rate = float64(b.done) / el / 1e6
		evRate = float64(b.events) / el
	}
	events := ""
	if b.events > 0 {
		events = fmt.Sprintf("  %.0f events/s", evRate)
	}
	// \r and erase-to-end-of-line redraw in place without leaving debris
	// when the new text is shorter.
	fmt.Fprintf(b.w, "\r[%s%s] %3.0f%%  %.1f/%.1f MB  %.1f MB/s%s\x1b[K",
		strings.Repeat("=", fill), strings.Repeat(" ", b.Width-fill),
		frac*100, float64(b.done)/1e6, float64(b.total)/1e6, rate, events)
	b.visible = true
}

// Clear erases the bar if it is shown; the next Update draws it again. Call
// it before writing anything else to the terminal, and at the end.
func (b *Bar) Clear() {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.visible {
		return
	}
	io.WriteString(b.w, "\r\x1b[K")
	b.visible = false
	// Redraw promptly after an interruption rather than leave it hidden.
	b.last = time.Time{}
}
