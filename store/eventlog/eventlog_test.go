package eventlog

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

func open(t *testing.T, dir string) *Log {
	t.Helper()
	l, err := Open(context.Background(), Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func entries(from, to int) []Entry {
	var es []Entry
	for i := from; i < to; i++ {
		es = append(es, Entry{MsgID: fmt.Sprintf("i/%d", i), Data: []byte(fmt.Sprintf(`{"n":%d}`, i))})
	}
	return es
}

// Appends survive a restart, a retried id is not stored twice (also after
// the restart), and a durable consumer resumes after what it acknowledged.
func TestRestartDedupResume(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	l := open(t, dir)
	res := l.Append(ctx, entries(0, 100), nil)
	for i, r := range res {
		if r.Err != nil || r.Duplicate || r.Seq != uint64(i+1) {
			t.Fatalf("append %d: %+v", i, r)
		}
	}
	// A consumer takes the first 60 records, then stops.
	cctx, cancel := context.WithCancel(ctx)
	var mu sync.Mutex
	var seen []uint64
	done := make(chan struct{})
	go func() {
		l.Consume(cctx, "c1", ConsumeOptions{Batch: 30, MaxWait: 50 * time.Millisecond}, func(ctx context.Context, b []Record) error {
			mu.Lock()
			defer mu.Unlock()
			if len(seen) >= 60 {
				cancel()
				return ctx.Err() // not acknowledged
			}
			for _, r := range b {
				seen = append(seen, r.Seq)
			}
			return nil
		})
		close(done)
	}()
	<-done
	if len(seen) != 60 {
		t.Fatalf("consumer saw %d", len(seen))
	}
	pos, err := l.ConsumerPosition(ctx, "c1")
	if err != nil || pos != 60 {
		t.Fatalf("position %d, %v", pos, err)
	}
	l.Close()

	l = open(t, dir)
	defer l.Close()
	if l.LastSeq() != 100 {
		t.Fatalf("after restart the log ends at %d", l.LastSeq())
	}
	res = l.Append(ctx, entries(90, 110), nil)
	for i, r := range res {
		dup := i < 10
		if r.Err != nil || r.Duplicate != dup {
			t.Fatalf("append %d after restart: %+v", 90+i, r)
		}
	}
	n := 0
	if err := l.ReadAll(ctx, func(r Record) error {
		n++
		if want := fmt.Sprintf(`{"n":%d}`, n-1); string(r.Data) != want || r.Seq != uint64(n) || r.MsgID != fmt.Sprintf("i/%d", n-1) {
			return fmt.Errorf("record %d: %s %q", r.Seq, r.Data, r.MsgID)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n != 110 {
		t.Fatalf("%d records, want 110", n)
	}
	// The consumer resumes at 61.
	cctx, cancel = context.WithCancel(ctx)
	var first uint64
	l.Consume(cctx, "c1", ConsumeOptions{}, func(ctx context.Context, b []Record) error {
		first = b[0].Seq
		cancel()
		return nil
	})
	if first != 61 {
		t.Fatalf("resumed at %d, want 61", first)
	}
}
