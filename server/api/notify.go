package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/vigilsec/vigil/rule"
	"github.com/vigilsec/vigil/schedule"
)

// Publisher publishes alerts for downstream consumers (JetStreamPublisher,
// or the server's own). msgID is the alert's kibana.alert.uuid, for
// deduplication.
type Publisher interface {
	Publish(ctx context.Context, subject, msgID string, data []byte) error
}

// Subject is the subject a rule's alerts are published on (the server's
// scheme: characters other than letters, digits, '-' and '_' become '_').
func Subject(ruleID string) string { return "vigil.alerts." + subjectToken(ruleID) }

func subjectToken(s string) string {
	if s == "" {
		return "_"
	}
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			b[i] = '_'
		}
	}
	return string(b)
}

// JetStreamPublisher publishes to JetStream, waiting for the stream's
// acknowledgement, with the alert id as Nats-Msg-Id. The stream holding
// vigil.alerts.> must exist (server.NewJetStreamSink creates it).
type JetStreamPublisher struct {
	JS jetstream.JetStream
}

// Publish implements Publisher.
func (p JetStreamPublisher) Publish(ctx context.Context, subject, msgID string, data []byte) error {
	m := &nats.Msg{Subject: subject, Data: data, Header: nats.Header{}}
	if msgID != "" {
		m.Header.Set(jetstream.MsgIDHeader, msgID)
	}
	_, err := p.JS.PublishMsg(ctx, m)
	return err
}

// Webhook posts a rule's alerts to a URL: one JSON body per notification,
// {"rule": {...}, "alerts": [<alert>, ...]}, retried on network errors,
// 429 and 5xx with exponential backoff.
type Webhook struct {
	URL     string
	Method  string            // default POST
	Headers map[string]string // e.g. Authorization
	Retries int               // default 5
	Backoff time.Duration     // first wait, doubled each retry (default 500ms)
	Client  *http.Client      // default: 10s timeout
}

// WebhookBody is what a webhook receives.
type WebhookBody struct {
	Rule struct {
		RuleID   string `json:"rule_id"`
		Name     string `json:"name"`
		Severity string `json:"severity"`
	} `json:"rule"`
	Alerts []json.RawMessage `json:"alerts"`
}

// Send delivers one notification.
func (w *Webhook) Send(ctx context.Context, n schedule.Notification) error {
	var body WebhookBody
	body.Rule.RuleID, body.Rule.Name, body.Rule.Severity = n.Rule.RuleID, n.Rule.Name, n.Rule.Severity
	for _, a := range n.Alerts {
		body.Alerts = append(body.Alerts, a.Doc)
	}
	data, err := json.Marshal(body)
	if err != nil {
		return err
	}
	client := w.Client
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	method := w.Method
	if method == "" {
		method = http.MethodPost
	}
	retries, wait := w.Retries, w.Backoff
	if retries <= 0 {
		retries = 5
	}
	if wait <= 0 {
		wait = 500 * time.Millisecond
	}
	var last error
	for attempt := 0; attempt <= retries; attempt++ {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return fmt.Errorf("webhook %s: %w (last: %v)", w.URL, ctx.Err(), last)
			case <-time.After(wait):
			}
			wait *= 2
		}
		req, err := http.NewRequestWithContext(ctx, method, w.URL, bytes.NewReader(data))
		if err != nil {
			return fmt.Errorf("webhook %s: %w", w.URL, err)
		}
		req.Header.Set("Content-Type", "application/json")
		for k, v := range w.Headers {
			req.Header.Set(k, v)
		}
		resp, err := client.Do(req)
		if err != nil {
			last = err
			continue
		}
		io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		switch {
		case resp.StatusCode < 300:
			return nil
		case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
			last = fmt.Errorf("status %d", resp.StatusCode)
		default:
			return fmt.Errorf("webhook %s: status %d (not retried)", w.URL, resp.StatusCode)
		}
	}
	return fmt.Errorf("webhook %s: gave up after %d attempts: %v", w.URL, retries+1, last)
}

// WebhooksFromRules reads the webhooks of Kibana exports: a rule's actions
// naming a ".webhook" connector (exported with it) post to its URL.
func WebhooksFromRules(rules []*rule.Rule) map[string]*Webhook {
	out := map[string]*Webhook{}
	for _, r := range rules {
		var acts []struct {
			ID string `json:"id"`
		}
		if raw := r.Extra["actions"]; len(raw) > 0 {
			json.Unmarshal(raw, &acts)
		}
		if len(acts) == 0 {
			continue
		}
		for _, rel := range r.Related {
			if rel.Kind != rule.RelatedConnector {
				continue
			}
			var c struct {
				ID         string `json:"id"`
				Attributes struct {
					ActionTypeID string `json:"actionTypeId"`
					Config       struct {
						URL     string            `json:"url"`
						Method  string            `json:"method"`
						Headers map[string]string `json:"headers"`
					} `json:"config"`
				} `json:"attributes"`
			}
			if json.Unmarshal(rel.Raw, &c) != nil || c.Attributes.ActionTypeID != ".webhook" || c.Attributes.Config.URL == "" {
				continue
			}
			for _, a := range acts {
				if a.ID == c.ID {
					out[r.RuleID] = &Webhook{URL: c.Attributes.Config.URL, Method: strings.ToUpper(c.Attributes.Config.Method), Headers: c.Attributes.Config.Headers}
				}
			}
		}
	}
	return out
}

// Notifier delivers scheduler notifications off the scheduler's lock: it
// publishes every alert to Subject(rule_id) and posts to the rule's
// webhook (not for manual runs: Kibana fires no actions then). A full
// queue, or a delivery that fails after its retries, is counted and
// logged, never silent.
type Notifier struct {
	pub      Publisher
	webhooks atomic.Pointer[map[string]*Webhook]
	queue    chan schedule.Notification
	logger   *slog.Logger
	// Counters.
	Published, Posted, Failed, Dropped atomic.Int64
}

// NewNotifier returns a notifier with a queue of n notifications (default
// 10,000); pub may be nil (no publishing).
func NewNotifier(pub Publisher, webhooks map[string]*Webhook, n int, logger *slog.Logger) *Notifier {
	if n <= 0 {
		n = 10000
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	nt := &Notifier{pub: pub, queue: make(chan schedule.Notification, n), logger: logger}
	nt.SetWebhooks(webhooks)
	return nt
}

// SetWebhooks replaces the per-rule webhooks (after a rule upload).
func (n *Notifier) SetWebhooks(m map[string]*Webhook) {
	if m == nil {
		m = map[string]*Webhook{}
	}
	n.webhooks.Store(&m)
}

// Notify queues a notification; it never blocks (schedule.Options.Notify).
func (n *Notifier) Notify(x schedule.Notification) {
	select {
	case n.queue <- x:
	default:
		n.Dropped.Add(int64(len(x.Alerts)))
		n.logger.Error("alert notification queue full: alerts stored but not published", "rule_id", x.Rule.RuleID, "alerts", len(x.Alerts))
	}
}

// Run delivers queued notifications until ctx ends.
func (n *Notifier) Run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case x := <-n.queue:
			n.deliver(ctx, x)
		}
	}
}

func (n *Notifier) deliver(ctx context.Context, x schedule.Notification) {
	if n.pub != nil {
		subj := Subject(x.Rule.RuleID)
		for _, a := range x.Alerts {
			var err error
			for wait := 100 * time.Millisecond; ; wait *= 2 {
				if err = n.pub.Publish(ctx, subj, a.UUID, a.Doc); err == nil || wait > 5*time.Second || ctx.Err() != nil {
					break
				}
				time.Sleep(wait)
			}
			if err != nil {
				n.Failed.Add(1)
				n.logger.Error("publishing an alert failed", "subject", subj, "uuid", a.UUID, "err", err)
				continue
			}
			n.Published.Add(1)
		}
	}
	if x.Manual {
		return
	}
	if w := (*n.webhooks.Load())[x.Rule.RuleID]; w != nil {
		if err := w.Send(ctx, x); err != nil {
			n.Failed.Add(1)
			n.logger.Error("webhook failed", "rule_id", x.Rule.RuleID, "err", err)
			return
		}
		n.Posted.Add(1)
	}
}
