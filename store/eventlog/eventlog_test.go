package eventlog

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
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

// A delivery the consumer never receives (taken here by another fetch on
// the same durable consumer, as a fetch that gave up waiting loses one)
// is not acknowledged unseen by a later one: Consume notices the gap in
// the delivery numbers and resumes from its acknowledged position, so
// every record is handled, once, in order.
func TestConsumeDeliveryGap(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	l := open(t, t.TempDir())
	defer l.Close()
	l.Append(ctx, entries(0, 20), nil)
	var mu sync.Mutex
	var seen []uint64
	var gaps int
	hold := make(chan struct{})
	held := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		l.Consume(ctx, "gap", ConsumeOptions{Batch: 5, MaxWait: 50 * time.Millisecond, OnError: func(err error) {
			mu.Lock()
			gaps++
			mu.Unlock()
		}}, func(ctx context.Context, batch []Record) error {
			mu.Lock()
			for _, r := range batch {
				seen = append(seen, r.Seq)
			}
			n := len(seen)
			mu.Unlock()
			if n == 20 && hold != nil {
				close(held)
				<-hold // the consumer waits inside its handler
				hold = nil
			}
			return nil
		})
	}()
	select {
	case <-held:
	case <-time.After(30 * time.Second):
		t.Fatal("the first 20 records were not handled")
	}
	l.Append(ctx, entries(20, 40), nil)
	c, err := l.stream.Consumer(ctx, "gap")
	if err != nil {
		t.Fatal(err)
	}
	mb, err := c.Fetch(1, jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	stolen := 0
	for m := range mb.Messages() {
		md, _ := m.Metadata()
		if md.Sequence.Stream != 21 {
			t.Fatalf("took stream sequence %d", md.Sequence.Stream)
		}
		stolen++
	}
	if stolen != 1 {
		t.Fatalf("took %d deliveries", stolen)
	}
	close(hold)
	deadline := time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		n := len(seen)
		mu.Unlock()
		if n >= 40 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // nothing more may come
	cancel()
	<-done
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 40 {
		t.Fatalf("%d records handled, want 40: %v", len(seen), seen)
	}
	for i, s := range seen {
		if s != uint64(i+1) {
			t.Fatalf("record %d: stream sequence %d: %v", i, s, seen)
		}
	}
	if gaps == 0 {
		t.Error("the gap was not reported")
	}
}
