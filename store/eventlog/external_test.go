package eventlog

import (
	"context"
	"testing"

	"github.com/nats-io/nats-server/v2/server"
)

// The same log over an external NATS server (here one started on a
// loopback port, standing for a cluster), reached by URL.
func TestExternalServer(t *testing.T) {
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(), NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	defer func() { ns.Shutdown(); ns.WaitForShutdown() }()
	if !ns.ReadyForConnections(10e9) {
		t.Fatal("nats-server did not start")
	}
	ctx := context.Background()
	l, err := Open(ctx, Config{URL: ns.ClientURL()})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if l.MaxPayload() != 1<<20 {
		t.Errorf("max payload %d, want NATS's default 1 MiB", l.MaxPayload())
	}
	res := l.Append(ctx, append(entries(0, 10), entries(5, 6)...), nil)
	if res[10].Err != nil || !res[10].Duplicate {
		t.Errorf("retried entry: %+v", res[10])
	}
	res = l.Append(ctx, []Entry{{Data: []byte("{\"a\":1}\n{\"a\":2}")}}, res)
	if res[0].Err != nil {
		t.Fatal(res[0].Err)
	}
	var parts []int
	n := 0
	if err := l.ReadAll(ctx, func(r Record) error {
		n++
		if r.Seq == 11 {
			parts = append(parts, r.Part)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if n != 12 || len(parts) != 2 || parts[1] != 1 {
		t.Errorf("%d records, parts of the batched message %v", n, parts)
	}
}
