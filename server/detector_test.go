package server

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/vigilsec/vigil/detect"
	"github.com/vigilsec/vigil/eql"
	"github.com/vigilsec/vigil/pack"
	"github.com/vigilsec/vigil/rule"
)

type captureSink struct {
	mu     sync.Mutex
	alerts []*detect.Alert
}

func (c *captureSink) Alerts(ctx context.Context, as []*detect.Alert) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.alerts = append(c.alerts, as...)
	return nil
}

func (c *captureSink) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.alerts)
}

func packRuleSet(t testing.TB) *detect.RuleSet {
	t.Helper()
	rules, errs := pack.Rules(rule.LoadOptions{})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	rs, cerrs := detect.Compile(rules)
	if len(cerrs) > 0 {
		t.Fatal(cerrs)
	}
	return rs
}

// Events shipped over _bulk reach the detection consumer and give the
// alerts a direct run of the engine over the same events gives.
func TestDetectorOverTheLog(t *testing.T) {
	sample, err := os.ReadFile(filepath.Join("..", "samples", "defend-user-account-creation.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	rs := packRuleSet(t)
	// Reference: the engine over the file, as vigil hunt runs it.
	var want []string
	eng := rs.NewEngine(detect.Options{Emit: func(a *detect.Alert) { want = append(want, a.Rule.RuleID+" "+a.Field("kibana.alert.original_time")) }})
	lines := bytes.Split(bytes.TrimSpace(sample), []byte("\n"))
	for i, l := range lines {
		if err := eng.Offer(l, eql.Source{Line: i + 1}); err != nil {
			t.Fatal(err)
		}
	}
	if len(want) == 0 {
		t.Fatal("the reference run gives no alert: the test would prove nothing")
	}

	sink := &captureSink{}
	dir := ""
	var det *Detector
	var fileSink *FileSink
	var jsSink *JetStreamSink
	ts := newTestServer(t, func(c *Config) {
		dir = filepath.Dir(c.SetupDir)
		var err error
		if fileSink, err = NewFileSink(filepath.Join(dir, "alerts.ndjson")); err != nil {
			t.Fatal(err)
		}
		if jsSink, err = NewJetStreamSink(context.Background(), c.Log.JetStream(), time.Hour); err != nil {
			t.Fatal(err)
		}
		det = NewDetector(rs, MultiSink{sink, fileSink, jsSink}, nil, nil)
		c.Consumers = []Consumer{det.Consumer()}
		c.Lag = func() uint64 { return c.Log.LastSeq() - det.Position() }
	})
	defer fileSink.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		// Serve runs the consumers; its own listener is not used.
		ln := newUnusedListener(t)
		ts.srv.Serve(ctx, ln, "", "")
		close(done)
	}()
	var body bytes.Buffer
	for i, l := range lines {
		fmt.Fprintf(&body, "{\"create\":{\"_id\":\"s%d\"}}\n%s\n", i, l)
	}
	code, _, out := ts.do(t, "POST", "/logs-endpoint.events.process-default/_bulk", body.String())
	if code != 200 || bytes.Contains(out, []byte(`"errors":true`)) {
		t.Fatalf("%d %s", code, out)
	}
	deadline := time.Now().Add(20 * time.Second)
	for (sink.count() < len(want) || det.Position() < ts.log.LastSeq()) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	<-done
	var got []string
	for _, a := range sink.alerts {
		got = append(got, a.Rule.RuleID+" "+a.Field("kibana.alert.original_time"))
	}
	sort.Strings(got)
	sort.Strings(want)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("alerts over the log:\n%v\nwant:\n%v", got, want)
	}
	if det.Position() != ts.log.LastSeq() {
		t.Errorf("detector at %d, log ends at %d", det.Position(), ts.log.LastSeq())
	}
	// The file sink has them, one JSON document a line.
	f, err := os.Open(filepath.Join(dir, "alerts.ndjson"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for sc := bufio.NewScanner(f); sc.Scan(); n++ {
	}
	f.Close()
	if n != len(want) {
		t.Errorf("alerts.ndjson has %d lines, want %d", n, len(want))
	}
	// So has the JetStream alert stream, on vigil.alerts.<rule_id>.
	st, err := ts.log.JetStream().Stream(context.Background(), AlertStream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(context.Background(), jetstream.WithSubjectFilter(AlertSubjectPrefix+">"))
	if err != nil {
		t.Fatal(err)
	}
	if int(info.State.Msgs) != len(want) {
		t.Errorf("alert stream has %d messages, want %d", info.State.Msgs, len(want))
	}
	for subj := range info.State.Subjects {
		if subj != AlertSubjectPrefix+subjectToken(sink.alerts[0].Rule.RuleID) {
			t.Errorf("alert subject %s", subj)
		}
	}
}
