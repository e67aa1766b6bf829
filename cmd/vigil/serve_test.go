package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vigilsec/vigil/store/eventlog"
)

// TestMain lets the test binary act as vigil itself, so tests can run the
// real command as a subprocess (and kill it) without building a binary.
func TestMain(m *testing.M) {
	if os.Getenv("VIGIL_TEST_AS_MAIN") == "1" {
		os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// serveProc is a vigil serve subprocess.
type serveProc struct {
	cmd *exec.Cmd
	out *bytes.Buffer
}

func startServe(t *testing.T, dir, addr string, extra ...string) *serveProc {
	t.Helper()
	args := append([]string{"serve", "--data", dir, "--listen", addr, "--log-level", "warn"}, extra...)
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "VIGIL_TEST_AS_MAIN=1")
	out := &bytes.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return &serveProc{cmd: cmd, out: out}
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	cmd.Process.Kill()
	cmd.Wait()
	t.Fatalf("vigil serve did not become healthy:\n%s", out)
	return nil
}

// ackLedger is what the shipping client knows: every id it sent and every
// id the server acknowledged as stored.
type ackLedger struct {
	mu    sync.Mutex
	sent  map[string]bool
	acked map[string]int
	// dups counts acknowledgements of a retry the log had already stored
	// (status 200): the dedup at work.
	dups int
}

// ship sends ids in bulk requests until the server has acknowledged each
// one, retrying what failed (connection errors, 429, per-item failures)
// with the same ids, as Beats do.
func (l *ackLedger) ship(client *http.Client, addr string, ids []string, stop <-chan struct{}) {
	pending := ids
	for len(pending) > 0 {
		var body bytes.Buffer
		l.mu.Lock()
		for _, id := range pending {
			l.sent[id] = true
			fmt.Fprintf(&body, "{\"index\":{\"_index\":\"logs-crash-default\",\"_id\":%q}}\n{\"@timestamp\":\"2026-01-01T00:00:00Z\",\"event\":{\"category\":[\"process\"]},\"id\":%q}\n", id, id)
		}
		l.mu.Unlock()
		resp, err := client.Post("http://"+addr+"/_bulk", "application/x-ndjson", &body)
		if err != nil {
			time.Sleep(50 * time.Millisecond)
			continue
		}
		data, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 {
			time.Sleep(50 * time.Millisecond)
			continue
		}
		var br struct {
			Items []map[string]struct {
				ID     string `json:"_id"`
				Status int    `json:"status"`
			} `json:"items"`
		}
		if err := json.Unmarshal(data, &br); err != nil || len(br.Items) != len(pending) {
			time.Sleep(50 * time.Millisecond)
			continue
		}
		var again []string
		l.mu.Lock()
		for i, it := range br.Items {
			r := it["index"]
			if r.ID != pending[i] {
				panic(fmt.Sprintf("item %d is %q, sent %q", i, r.ID, pending[i]))
			}
			if r.Status == 200 {
				l.dups++
			}
			if r.Status == 200 || r.Status == 201 {
				l.acked[r.ID]++
			} else {
				again = append(again, pending[i])
			}
		}
		l.mu.Unlock()
		pending = again
	}
}

// The server is SIGKILLed repeatedly under continuous ingest and
// restarted; afterwards every acknowledged event is in the log exactly
// once, and the log holds nothing the client did not send.
func TestServeCrashRestart(t *testing.T) {
	kills := 4
	if testing.Short() {
		kills = 2
	}
	dir := t.TempDir()
	addr := freeAddr(t)
	proc := startServe(t, dir, addr)
	led := &ackLedger{sent: map[string]bool{}, acked: map[string]int{}}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Timeout: 10 * time.Second}
			for b := 0; ; b++ {
				select {
				case <-stop:
					return
				default:
				}
				ids := make([]string, 250)
				for i := range ids {
					ids[i] = fmt.Sprintf("w%d-b%d-%d", w, b, i)
				}
				led.ship(client, addr, ids, stop)
			}
		}()
	}
	for k := 0; k < kills; k++ {
		time.Sleep(time.Duration(400+200*k) * time.Millisecond)
		if err := proc.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		proc.cmd.Wait()
		proc = startServe(t, dir, addr)
	}
	time.Sleep(500 * time.Millisecond)
	close(stop)
	wg.Wait()
	// A clean stop (SIGTERM drains) and the log is read directly.
	proc.cmd.Process.Signal(syscall.SIGTERM)
	if err := proc.cmd.Wait(); err != nil {
		t.Fatalf("vigil serve after SIGTERM: %v\n%s", err, proc.out)
	}
	lg, err := eventlog.Open(context.Background(), eventlog.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer lg.Close()
	inLog := map[string]int{}
	if err := lg.ReadAll(context.Background(), func(r eventlog.Record) error {
		var doc struct {
			ID  string `json:"_id"`
			Own string `json:"id"`
		}
		if err := json.Unmarshal(r.Data, &doc); err != nil {
			return fmt.Errorf("record %d: %v", r.Seq, err)
		}
		if doc.ID != doc.Own {
			return fmt.Errorf("record %d: _id %q holds the event of %q", r.Seq, doc.ID, doc.Own)
		}
		inLog[doc.ID]++
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(led.acked) < 1000 {
		t.Fatalf("only %d events acknowledged: the test did not ingest enough to mean anything", len(led.acked))
	}
	for id := range led.acked {
		if inLog[id] != 1 {
			t.Errorf("acknowledged %s is in the log %d times", id, inLog[id])
		}
	}
	for id, n := range inLog {
		if !led.sent[id] {
			t.Errorf("%s in the log was never sent", id)
		}
		if n != 1 {
			t.Errorf("%s is in the log %d times", id, n)
		}
	}
	t.Logf("%d kills; %d events acknowledged (%d of them retries already stored), %d in the log, %d sent",
		kills, len(led.acked), led.dups, len(inLog), len(led.sent))
}

func TestServeFlags(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"serve"}, exitUsage, "--data DIR is required"},
		{[]string{"serve", "--data", dir, "--listen", "0.0.0.0:0"}, exitUsage, "is not loopback"},
		{[]string{"serve", "--data", dir, "--listen", ":9200"}, exitUsage, "is not loopback"},
		{[]string{"serve", "--data", dir, "--tls-cert", "x.pem"}, exitUsage, "go together"},
		{[]string{"serve", "--data", dir, "--log-format", "xml"}, exitUsage, "--log-format"},
		{[]string{"apikey", "create", "--data", dir}, exitUsage, "--name are required"},
	}
	for _, c := range cases {
		var out, errb bytes.Buffer
		code := run(c.args, nil, &out, &errb)
		if code != c.code || !bytes.Contains(errb.Bytes(), []byte(c.msg)) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", c.args, code, errb.String(), c.code, c.msg)
		}
	}
	for _, a := range []string{"127.0.0.1:1", "[::1]:1", "localhost:1"} {
		if ok, err := isLoopback(a); !ok || err != nil {
			t.Errorf("isLoopback(%s) = %v, %v", a, ok, err)
		}
	}
	var out, errb bytes.Buffer
	if code := run([]string{"apikey", "create", "--data", dir, "--name", "beats"}, nil, &out, &errb); code != 0 {
		t.Fatalf("apikey create: %d %s", code, errb.String())
	}
	key := strings.TrimSpace(out.String())
	raw, err := base64.StdEncoding.DecodeString(key)
	if err != nil || !bytes.Contains(raw, []byte(":")) {
		t.Fatalf("key %q is not base64(id:secret): %v", key, err)
	}
	stored, _ := os.ReadFile(dir + "/apikeys.json")
	secret := raw[bytes.IndexByte(raw, ':')+1:]
	if !bytes.Contains(stored, []byte(`"name": "beats"`)) || bytes.Contains(stored, secret) {
		t.Errorf("key file: %s", stored)
	}
}

// With keys required, the real command refuses requests without one and
// takes the key apikey create printed.
func TestServeAPIKeyEndToEnd(t *testing.T) {
	dir := t.TempDir()
	var out, errb bytes.Buffer
	if code := run([]string{"apikey", "create", "--data", dir, "--name", "t"}, nil, &out, &errb); code != 0 {
		t.Fatal(errb.String())
	}
	key := strings.TrimSpace(out.String())
	addr := freeAddr(t)
	proc := startServe(t, dir, addr, "--require-keys")
	defer func() {
		proc.cmd.Process.Signal(syscall.SIGTERM)
		proc.cmd.Wait()
	}()
	body := "{\"index\":{\"_index\":\"logs-a-default\"}}\n{\"message\":\"x\"}\n"
	resp, err := http.Post("http://"+addr+"/_bulk", "application/x-ndjson", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("without a key: %d", resp.StatusCode)
	}
	req, _ := http.NewRequest("POST", "http://"+addr+"/_bulk", strings.NewReader(body))
	req.Header.Set("Authorization", "ApiKey "+key)
	req.Header.Set("Content-Type", "application/x-ndjson")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Contains(data, []byte(`"errors":false`)) {
		t.Errorf("with the key: %d %s", resp.StatusCode, data)
	}
}
