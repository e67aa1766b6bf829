// Package api is Vigil's JSON API for alerts and rules, mounted by the
// server at /api/ (the server authenticates; this handler only reads who
// the caller is, for the workflow fields):
//
//	GET   /api/alerts?rule_id=&severity=&host=&status=&from=&to=&size=&page=&building_blocks=
//	      -> {"total": N, "page": P, "size": S, "alerts": [<Kibana-schema alert>, ...]}
//	GET   /api/alerts/{id}                  -> <alert>
//	PATCH /api/alerts/{id}  {"status": "acknowledged"}  -> <alert>
//	GET   /api/rules                        -> {"total": N, "rules": [<Kibana rule>, ...]}
//	POST  /api/rules        (detection-rules TOML or Kibana NDJSON export; raw
//	                         body, or a multipart form's file as Kibana's import)
//	      -> {"rules": [rule_id, ...], "errors": [...]}
//	PATCH /api/rules/{id}   {"enabled": false}  -> <rule>
//	GET   /api/rules/{id}/executions?size=&page= -> {"total": N, "executions": [...]}
//	POST  /api/rules/{id}/_run {"from": T, "to": T} -> {"executions": [...]}
//
// Times are RFC 3339 or date math relative to now ("now-1h"). Errors are
// {"error": message} with a 4xx/5xx status.
package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/vigilsec/vigil/rule"
	"github.com/vigilsec/vigil/schedule"
	"github.com/vigilsec/vigil/store/alerts"
)

// AlertStore is what the API needs of the alert store (*alerts.Store).
type AlertStore interface {
	Query(ctx context.Context, f alerts.Filter) (int, []*alerts.Alert, error)
	Get(ctx context.Context, uuid string) (*alerts.Alert, error)
	SetStatus(ctx context.Context, uuid, status, by string, at time.Time) (*alerts.Alert, error)
	Executions(ctx context.Context, ruleID string, size, page int) (int, []json.RawMessage, error)
}

// Rules is the rule registry (FileRules).
type Rules interface {
	List() []*rule.Rule
	// Add adds rules, replacing those with the same rule_id; an error
	// means nothing was changed.
	Add(ctx context.Context, rules []*rule.Rule) error
	SetEnabled(ctx context.Context, ruleID string, enabled bool) (*rule.Rule, error)
}

// Runner runs manual executions (*schedule.Scheduler).
type Runner interface {
	Run(ctx context.Context, ruleID string, from, to time.Time) ([]schedule.Record, error)
}

// Options configure the handler.
type Options struct {
	Alerts AlertStore
	Rules  Rules
	Runner Runner // nil: _run answers 501
	// User names the caller for workflow_user (default: the basic-auth
	// user name, else "api").
	User func(*http.Request) string
	// Now is the clock (default time.Now).
	Now func() time.Time
	// MaxUpload bounds a rule upload (default 16 MiB).
	MaxUpload int64
	// OnStatus, when set, is told of workflow status changes
	// (Scheduler.AlertStatusChanged: closing ends a suppression group).
	OnStatus func(ruleID, uuid, status string)
}

type handler struct {
	opts Options
	mux  *http.ServeMux
}

// New returns the API handler. It serves paths under /api/; a server that
// strips the /api prefix before calling it works too.
func New(opts Options) http.Handler {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxUpload <= 0 {
		opts.MaxUpload = 16 << 20
	}
	if opts.User == nil {
		opts.User = func(r *http.Request) string {
			if u, _, ok := r.BasicAuth(); ok && u != "" {
				return u
			}
			return "api"
		}
	}
	h := &handler{opts: opts, mux: http.NewServeMux()}
	h.mux.HandleFunc("GET /api/alerts", h.listAlerts)
	h.mux.HandleFunc("GET /api/alerts/{id}", h.getAlert)
	h.mux.HandleFunc("PATCH /api/alerts/{id}", h.patchAlert)
	h.mux.HandleFunc("GET /api/rules", h.listRules)
	h.mux.HandleFunc("POST /api/rules", h.postRules)
	h.mux.HandleFunc("PATCH /api/rules/{id}", h.patchRule)
	h.mux.HandleFunc("GET /api/rules/{id}/executions", h.executions)
	h.mux.HandleFunc("POST /api/rules/{id}/_run", h.run)
	return h
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.URL.Path, "/api/") && r.URL.Path != "/api" {
		r2 := r.Clone(r.Context())
		r2.URL.Path = "/api" + r.URL.Path
		r2.URL.RawPath = ""
		r = r2
	}
	h.mux.ServeHTTP(w, r)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

func writeErr(w http.ResponseWriter, status int, format string, args ...any) {
	writeJSON(w, status, map[string]string{"error": fmt.Sprintf(format, args...)})
}

// ParseTime reads RFC 3339 (or a date alone) or date math relative to now.
func ParseTime(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "now") {
		off, err := schedule.ParseNowOffset(s)
		if err != nil {
			return time.Time{}, fmt.Errorf("time %q: %w", s, err)
		}
		return now.Add(-off), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.UnixMilli(ms), nil
	}
	return time.Time{}, fmt.Errorf("time %q: want RFC 3339, epoch milliseconds or now-<n><unit>", s)
}

func (h *handler) listAlerts(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	for k := range q {
		switch k {
		case "rule_id", "severity", "host", "status", "from", "to", "size", "page", "building_blocks", "group_id":
		default:
			writeErr(w, http.StatusBadRequest, "unknown parameter %q", k)
			return
		}
	}
	f := alerts.Filter{RuleID: q.Get("rule_id"), Severity: q.Get("severity"), Host: q.Get("host"), Status: q.Get("status"), GroupID: q.Get("group_id")}
	if f.Status != "" && !alerts.ValidStatus(f.Status) {
		writeErr(w, http.StatusBadRequest, "status %q: want open, acknowledged or closed", f.Status)
		return
	}
	now := h.opts.Now()
	var err error
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"from", &f.From}, {"to", &f.To}} {
		if v := q.Get(p.name); v != "" {
			if *p.dst, err = ParseTime(v, now); err != nil {
				writeErr(w, http.StatusBadRequest, "%s: %v", p.name, err)
				return
			}
		}
	}
	for _, p := range []struct {
		name string
		dst  *int
		max  int
	}{{"size", &f.Size, alerts.MaxPageSize}, {"page", &f.Page, 1 << 30}} {
		if v := q.Get(p.name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > p.max {
				writeErr(w, http.StatusBadRequest, "%s %q: want an integer from 1 to %d", p.name, v, p.max)
				return
			}
			*p.dst = n
		}
	}
	if v := q.Get("building_blocks"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			writeErr(w, http.StatusBadRequest, "building_blocks %q: want true or false", v)
			return
		}
		f.BuildingBlocks = b
	}
	total, as, err := h.opts.Alerts.Query(r.Context(), f)
	if err != nil {
		writeErr(w, http.StatusInternalServerError, "%v", err)
		return
	}
	docs := make([]json.RawMessage, len(as))
	for i, a := range as {
		docs[i] = a.Doc
	}
	size, page := f.Size, f.Page
	if size == 0 {
		size = 100
	}
	if page == 0 {
		page = 1
	}
	writeJSON(w, http.StatusOK, map[string]any{"total": total, "page": page, "size": size, "alerts": docs})
}

func (h *handler) getAlert(w http.ResponseWriter, r *http.Request) {
	a, err := h.opts.Alerts.Get(r.Context(), r.PathValue("id"))
	if errors.Is(err, alerts.ErrNotFound) {
		writeErr(w, http.StatusNotFound, "alert %q not found", r.PathValue("id"))
		return
	}
	if err != nil {
		writeErr(w, http.StatusInternalServerError, "%v", err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(a.Doc)
	w.Write([]byte("\n"))
}

func decodeBody(r *http.Request, max int64, v any) error {
	dec := json.NewDecoder(io.LimitReader(r.Body, max))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("request body: %w", err)
	}
	return nil
}

func (h *handler) patchAlert(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Status         string `json:"status"`
		WorkflowStatus string `json:"workflow_status"` // Kibana's name
	}
	if err := decodeBody(r, 1<<20, &body); err != nil {
		writeErr(w, http.StatusBadRequest, "%v", err)
		return
	}
	status := body.Status
	if status == "" {
		status = body.WorkflowStatus
	}
	if !alerts.ValidStatus(status) {
		writeErr(w, http.StatusBadRequest, "status %q: want open, acknowledged or closed", status)
		return
	}
	a, err := h.opts.Alerts.SetStatus(r.Context(), r.PathValue("id"), status, h.opts.User(r), h.opts.Now())
	if errors.Is(err, alerts.ErrNotFound) {
		writeErr(w, http.StatusNotFound, "alert %q not found", r.PathValue("id"))
		return
	}
	if err != nil {
		writeErr(w, http.StatusInternalServerError, "%v", err)
		return
	}
	if h.opts.OnStatus != nil {
		h.opts.OnStatus(a.RuleID, a.UUID, status)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(a.Doc)
	w.Write([]byte("\n"))
}

func ruleJSON(r *rule.Rule) json.RawMessage {
	b, err := r.MarshalJSON()
	if err != nil {
		b, _ = json.Marshal(map[string]string{"rule_id": r.RuleID, "error": err.Error()})
	}
	return b
}

func (h *handler) listRules(w http.ResponseWriter, r *http.Request) {
	rules := h.opts.Rules.List()
	out := make([]json.RawMessage, len(rules))
	for i, x := range rules {
		out[i] = ruleJSON(x)
	}
	writeJSON(w, http.StatusOK, map[string]any{"total": len(rules), "rules": out})
}

func (h *handler) findRule(id string) *rule.Rule {
	for _, r := range h.opts.Rules.List() {
		if r.RuleID == id || (r.ID != "" && r.ID == id) {
			return r
		}
	}
	return nil
}

// postRules loads an upload: detection-rules TOML or a Kibana NDJSON
// export, chosen by Content-Type (application/toml, application/x-ndjson)
// or ?format=, else by content. Any error rejects the whole upload.
func (h *handler) postRules(w http.ResponseWriter, r *http.Request) {
	name := "upload"
	format := r.URL.Query().Get("format")
	ct := r.Header.Get("Content-Type")
	body := io.Reader(r.Body)
	if strings.HasPrefix(ct, "multipart/form-data") {
		// Kibana's import form (curl -F file=@rules.ndjson): the first file.
		mr, err := r.MultipartReader()
		if err != nil {
			writeErr(w, http.StatusBadRequest, "multipart upload: %v", err)
			return
		}
		part, err := mr.NextPart()
		for err == nil && part.FileName() == "" {
			part, err = mr.NextPart()
		}
		if err != nil {
			writeErr(w, http.StatusBadRequest, "multipart upload: no file part")
			return
		}
		name, body, ct = part.FileName(), part, ""
	}
	data, err := io.ReadAll(io.LimitReader(body, h.opts.MaxUpload+1))
	if err != nil {
		writeErr(w, http.StatusBadRequest, "reading the upload: %v", err)
		return
	}
	if int64(len(data)) > h.opts.MaxUpload {
		writeErr(w, http.StatusRequestEntityTooLarge, "upload larger than %d bytes", h.opts.MaxUpload)
		return
	}
	switch {
	case format == "toml" || strings.Contains(ct, "toml"):
		name = "upload.toml"
	case format == "ndjson" || strings.Contains(ct, "ndjson"):
		name = "upload.ndjson"
	case format != "":
		writeErr(w, http.StatusBadRequest, "format %q: want toml or ndjson", format)
		return
	}
	rules, lerrs := rule.LoadBytes(name, data, rule.LoadOptions{})
	var msgs []string
	for _, e := range lerrs {
		msgs = append(msgs, e.Error())
	}
	if len(msgs) == 0 && len(rules) == 0 {
		msgs = append(msgs, "the upload holds no rule")
	}
	if len(msgs) == 0 {
		if err := h.opts.Rules.Add(r.Context(), rules); err != nil {
			msgs = append(msgs, err.Error())
		}
	}
	if len(msgs) > 0 {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "rules not loaded", "errors": msgs})
		return
	}
	ids := make([]string, len(rules))
	for i, x := range rules {
		ids[i] = x.RuleID
	}
	writeJSON(w, http.StatusOK, map[string]any{"rules": ids, "errors": []string{}})
}

func (h *handler) patchRule(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Enabled *bool `json:"enabled"`
	}
	if err := decodeBody(r, 1<<20, &body); err != nil {
		writeErr(w, http.StatusBadRequest, "%v", err)
		return
	}
	if body.Enabled == nil {
		writeErr(w, http.StatusBadRequest, `request body: want {"enabled": true|false}`)
		return
	}
	x := h.findRule(r.PathValue("id"))
	if x == nil {
		writeErr(w, http.StatusNotFound, "rule %q not found", r.PathValue("id"))
		return
	}
	nr, err := h.opts.Rules.SetEnabled(r.Context(), x.RuleID, *body.Enabled)
	if err != nil {
		writeErr(w, http.StatusInternalServerError, "%v", err)
		return
	}
	writeJSON(w, http.StatusOK, ruleJSON(nr))
}

func (h *handler) executions(w http.ResponseWriter, r *http.Request) {
	x := h.findRule(r.PathValue("id"))
	if x == nil {
		writeErr(w, http.StatusNotFound, "rule %q not found", r.PathValue("id"))
		return
	}
	size, page := 100, 1
	q := r.URL.Query()
	for _, p := range []struct {
		name string
		dst  *int
	}{{"size", &size}, {"page", &page}} {
		if v := q.Get(p.name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				writeErr(w, http.StatusBadRequest, "%s %q: want a positive integer", p.name, v)
				return
			}
			*p.dst = n
		}
	}
	total, recs, err := h.opts.Alerts.Executions(r.Context(), x.RuleID, size, page)
	if err != nil {
		writeErr(w, http.StatusInternalServerError, "%v", err)
		return
	}
	if recs == nil {
		recs = []json.RawMessage{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"total": total, "executions": recs})
}

func (h *handler) run(w http.ResponseWriter, r *http.Request) {
	if h.opts.Runner == nil {
		writeErr(w, http.StatusNotImplemented, "manual runs need the event log")
		return
	}
	x := h.findRule(r.PathValue("id"))
	if x == nil {
		writeErr(w, http.StatusNotFound, "rule %q not found", r.PathValue("id"))
		return
	}
	var body struct {
		From string `json:"from"`
		To   string `json:"to"`
	}
	if err := decodeBody(r, 1<<20, &body); err != nil {
		writeErr(w, http.StatusBadRequest, "%v", err)
		return
	}
	now := h.opts.Now()
	from, err := ParseTime(body.From, now)
	if err != nil {
		writeErr(w, http.StatusBadRequest, "from: %v", err)
		return
	}
	to := now
	if body.To != "" {
		if to, err = ParseTime(body.To, now); err != nil {
			writeErr(w, http.StatusBadRequest, "to: %v", err)
			return
		}
	}
	if !from.Before(to) {
		writeErr(w, http.StatusBadRequest, "from %s is not before to %s", from.Format(time.RFC3339), to.Format(time.RFC3339))
		return
	}
	recs, err := h.opts.Runner.Run(r.Context(), x.RuleID, from, to)
	if err != nil {
		status := http.StatusInternalServerError
		if errors.Is(err, schedule.ErrNoEventLog) {
			status = http.StatusNotImplemented
		}
		writeErr(w, status, "%v", err)
		return
	}
	if recs == nil {
		recs = []schedule.Record{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"executions": recs})
}
