package compat_test

import (
	"bytes"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// omelasticsearchModule finds rsyslog's Elasticsearch output module.
func omelasticsearchModule() string {
	for _, pat := range []string{"/usr/lib/*/rsyslog/omelasticsearch.so", "/usr/lib/rsyslog/omelasticsearch.so", "/usr/lib64/rsyslog/omelasticsearch.so"} {
		if m, _ := filepath.Glob(pat); len(m) > 0 {
			return m[0]
		}
	}
	return ""
}

// rsyslog ships a file with omelasticsearch (bulk mode, ids from the
// lines); every line arrives once, by id.
func TestRsyslogOmelasticsearch(t *testing.T) {
	rsyslogd, err := exec.LookPath("rsyslogd")
	if err != nil {
		t.Skip("rsyslogd not installed: run scripts/install-test-deps.sh (Debian packages rsyslog, rsyslog-elasticsearch)")
	}
	mod := omelasticsearchModule()
	if mod == "" {
		t.Skip("rsyslog's omelasticsearch module not installed: run scripts/install-test-deps.sh (Debian package rsyslog-elasticsearch)")
	}
	ts := newTestServer(t)
	u, _ := url.Parse(ts.URL)
	dir := t.TempDir()
	const n = 2000
	var in bytes.Buffer
	for i := 0; i < n; i++ {
		fmt.Fprintf(&in, "rs-%05d user=alice action=\"login \\\\ \" n=%d\n", i, i)
	}
	input := filepath.Join(dir, "in.log")
	if err := os.WriteFile(input, in.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	work := filepath.Join(dir, "work")
	os.Mkdir(work, 0o700)
	conf := fmt.Sprintf(`global(workDirectory=%q)
module(load="imfile" mode="polling" PollingInterval="1")
module(load=%q)
template(name="doc" type="string" string="{\"id\":\"%%msg:F,32:1%%\",\"message\":\"%%msg:::json%%\",\"@timestamp\":\"%%timereported:::date-rfc3339%%\"}")
template(name="bid" type="string" string="%%msg:F,32:1%%")
input(type="imfile" File=%q Tag="vigiltest" ruleset="ship" freshStartTail="off")
ruleset(name="ship") {
  action(type="omelasticsearch" server="%s" serverport="%s" searchIndex="logs-rsyslog-default"
         template="doc" bulkmode="on" dynbulkid="on" bulkid="bid" maxbytes="65536"
         action.resumeRetryCount="-1" action.resumeInterval="1")
}
`, work, mod, input, u.Hostname(), u.Port())
	confPath := filepath.Join(dir, "rsyslog.conf")
	os.WriteFile(confPath, []byte(conf), 0o600)
	var out bytes.Buffer
	cmd := exec.Command(rsyslogd, "-n", "-f", confPath, "-i", filepath.Join(dir, "rsyslogd.pid"))
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	}()
	deadline := time.Now().Add(40 * time.Second)
	var ids map[string]int
	for time.Now().Before(deadline) {
		ids = idsIn(t, ts)
		if len(ids) >= n {
			break
		}
		time.Sleep(300 * time.Millisecond)
	}
	if len(ids) != n {
		t.Fatalf("%d of %d lines arrived; rsyslogd said:\n%s", len(ids), n, out.String())
	}
	for i := 0; i < n; i++ {
		if c := ids[fmt.Sprintf("rs-%05d", i)]; c != 1 {
			t.Fatalf("rs-%05d stored %d times", i, c)
		}
	}
	recs := records(t, ts)
	if m, _ := recs[0]["message"].(string); m == "" || recs[0]["_index"] != "logs-rsyslog-default" {
		t.Errorf("first record: %v", recs[0])
	}
}
