package progress

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestBar(t *testing.T) {
	var out bytes.Buffer
	now := time.Unix(0, 0)
	b := New(&out, 10e6)
	b.now = func() time.Time { return now }
	b.start = now

	now = now.Add(time.Second)
	b.Update(5e6)
	first := out.String()
	if !strings.Contains(first, " 50%") || !strings.Contains(first, "5.0/10.0 MB") || !strings.Contains(first, "5.0 MB/s") {
		t.Fatalf("bar %q", first)
	}
	// Throttled: no redraw within the interval.
	now = now.Add(50 * time.Millisecond)
	b.Update(6e6)
	if out.String() != first {
		t.Fatalf("redrawn within the interval: %q", out.String())
	}
	b.Clear()
	if !strings.HasSuffix(out.String(), "\r\x1b[K") {
		t.Fatalf("not cleared: %q", out.String())
	}
	// After a clear the next update draws at once.
	n := out.Len()
	now = now.Add(time.Millisecond)
	b.Update(7e6)
	if out.Len() == n {
		t.Fatal("not redrawn after Clear")
	}

	var nilBar *Bar
	nilBar.Update(1)
	nilBar.Clear()
}

func TestBarEvents(t *testing.T) {
	var out bytes.Buffer
	now := time.Unix(0, 0)
	b := New(&out, 10e6)
	b.now = func() time.Time { return now }
	b.start = now
	now = now.Add(2 * time.Second)
	b.UpdateEvents(4e6, 5000)
	if s := out.String(); !strings.Contains(s, "2.0 MB/s") || !strings.Contains(s, "2500 events/s") {
		t.Fatalf("bar %q", s)
	}
}
