package detect

// Alert suppression (a rule's alert_suppression), as Kibana does it for EQL
// rules: alerts whose group-by fields hold the same values are folded into
// the first one, which carries kibana.alert.suppression.{terms, start, end,
// docs_count} and kibana.alert.instance.id. The group lives for one rule
// execution (no duration) or for a time window from the first alert's
// creation (duration). With missing_fields_strategy "suppress" (the
// default) a missing field groups as null; with "doNotSuppress" an alert
// missing any group-by field is never suppressed. Values compare as whole
// arrays, in order, as Kibana requires for EQL (sequences included: their
// values are read from the shell alert, the fields all events share).

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// SetField sets one top-level key of the alert document (dotted keys are
// kept flat, as Kibana's alert fields are). v is any JSON-encodable value;
// nil removes the key.
func (a *Alert) SetField(key string, v any) error {
	if v == nil {
		a.body.del(key)
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("alert %s: field %s: %w", a.UUID, key, err)
	}
	j, err := parseJSON(b)
	if err != nil {
		return fmt.Errorf("alert %s: field %s: %w", a.UUID, key, err)
	}
	a.body.set(key, j)
	return nil
}

// FieldJSON returns a field of the alert document as JSON ("" when
// absent), nested objects and dotted keys alike.
func (a *Alert) FieldJSON(path string) string {
	v := lodashGet(a.body, path)
	if v == nil || v.kind == jUndef {
		return ""
	}
	var b bytes.Buffer
	v.render(&b)
	return b.String()
}

// Suppression is a rule's alert_suppression setting.
type Suppression struct {
	GroupBy []string
	// Duration is the suppression window; 0 suppresses per rule execution.
	Duration time.Duration
	// DoNotSuppressMissing is missing_fields_strategy "doNotSuppress".
	DoNotSuppressMissing bool
}

// ParseSuppression reads a rule's alert_suppression; nil when unset.
func ParseSuppression(raw json.RawMessage) (*Suppression, error) {
	if len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		return nil, nil
	}
	var in struct {
		GroupBy  []string `json:"group_by"`
		Duration *struct {
			Value json.Number `json:"value"`
			Unit  string      `json:"unit"`
		} `json:"duration"`
		Missing string `json:"missing_fields_strategy"`
	}
	if err := json.Unmarshal(raw, &in); err != nil {
		return nil, fmt.Errorf("alert_suppression: %w", err)
	}
	if len(in.GroupBy) == 0 {
		return nil, errors.New("alert_suppression: group_by is empty")
	}
	if len(in.GroupBy) > 5 {
		return nil, fmt.Errorf("alert_suppression: %d group_by fields, at most 5", len(in.GroupBy))
	}
	s := &Suppression{GroupBy: in.GroupBy}
	switch in.Missing {
	case "", "suppress":
	case "doNotSuppress":
		s.DoNotSuppressMissing = true
	default:
		return nil, fmt.Errorf("alert_suppression: missing_fields_strategy %q: want suppress or doNotSuppress", in.Missing)
	}
	if in.Duration != nil {
		n, err := in.Duration.Value.Int64()
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("alert_suppression: duration value %q: want a positive integer", in.Duration.Value)
		}
		unit := map[string]time.Duration{"s": time.Second, "m": time.Minute, "h": time.Hour}[in.Duration.Unit]
		if unit == 0 {
			return nil, fmt.Errorf("alert_suppression: duration unit %q: want s, m or h", in.Duration.Unit)
		}
		s.Duration = time.Duration(n) * unit
	}
	return s, nil
}

// SuppressionTerm is one kibana.alert.suppression.terms element.
type SuppressionTerm struct {
	Field string          `json:"field"`
	Value json.RawMessage `json:"value"` // an array of values, or null
}

// SuppressedGroup is the state of one suppression group.
type SuppressedGroup struct {
	UUID       string            `json:"uuid"` // the alert the group folds into
	InstanceID string            `json:"instance_id"`
	Created    time.Time         `json:"created"`
	Start      time.Time         `json:"start"`
	End        time.Time         `json:"end"`
	DocsCount  int               `json:"docs_count"`
	Terms      []SuppressionTerm `json:"terms"`
	// Seen are the ids the suppressed alerts would have had, so a replay
	// of the same events does not count them twice.
	Seen map[string]bool `json:"seen,omitempty"`
}

// MaxSeen bounds the ids a group remembers for replay safety: beyond it a
// replayed event may be counted again in docs_count (never alerted).
const MaxSeen = 10000

// Suppressor applies one rule's suppression. It is not safe for
// concurrent use.
type Suppressor struct {
	cfg    Suppression
	groups map[string]*SuppressedGroup
}

// NewSuppressor returns a suppressor for cfg.
func NewSuppressor(cfg Suppression) *Suppressor {
	return &Suppressor{cfg: cfg, groups: map[string]*SuppressedGroup{}}
}

// Config returns the suppression setting.
func (s *Suppressor) Config() Suppression { return s.cfg }

// Reset starts a new rule execution: per-execution groups end.
func (s *Suppressor) Reset() {
	if s.cfg.Duration == 0 {
		clear(s.groups)
	}
}

// Expire drops time-window groups whose window has ended by now, so
// memory follows live groups only.
func (s *Suppressor) Expire(now time.Time) {
	if s.cfg.Duration == 0 {
		return
	}
	for k, g := range s.groups {
		if !now.Before(g.Created.Add(s.cfg.Duration)) {
			delete(s.groups, k)
		}
	}
}

// Forget ends the group folding into alert uuid (the alert was closed:
// Kibana then starts a new window).
func (s *Suppressor) Forget(uuid string) {
	for k, g := range s.groups {
		if g.UUID == uuid {
			delete(s.groups, k)
		}
	}
}

// Groups returns the live groups (for persisting); Restore puts them back.
func (s *Suppressor) Groups() map[string]*SuppressedGroup { return s.groups }

// Restore replaces the live groups.
func (s *Suppressor) Restore(g map[string]*SuppressedGroup) {
	if g == nil {
		g = map[string]*SuppressedGroup{}
	}
	s.groups = g
}

// Decision is what to do with an offered alert group.
type Decision struct {
	// Suppressed: do not create the alerts; the alert Into absorbs them
	// with DocsCount and End as its new suppression values.
	Suppressed bool
	Into       string
	DocsCount  int
	End        time.Time
	// Duplicate: already counted (a replay of the same events).
	Duplicate bool
}

// Offer decides for one alert group (an event alert, or a sequence's
// shell followed by its building blocks) found at now. A group that is not
// suppressed gets its suppression fields written and starts (or renews) a
// suppression group.
func (s *Suppressor) Offer(group []*Alert, now time.Time) (Decision, error) {
	if len(group) == 0 {
		return Decision{}, errors.New("suppress: empty alert group")
	}
	lead := group[0]
	terms := make([]SuppressionTerm, len(s.cfg.GroupBy))
	var key strings.Builder
	missing := false
	for i, f := range s.cfg.GroupBy {
		v := lodashGet(lead.body, f)
		var val json.RawMessage
		if v == nil || v.kind == jUndef || v.kind == jNull || (v.kind == jArray && len(v.arr) == 0) {
			missing = true
			val = json.RawMessage("null")
		} else {
			var b bytes.Buffer
			if v.kind != jArray {
				b.WriteByte('[')
				v.render(&b)
				b.WriteByte(']')
			} else {
				v.render(&b)
			}
			val = json.RawMessage(b.Bytes())
		}
		terms[i] = SuppressionTerm{Field: f, Value: val}
		key.WriteString(f)
		key.WriteByte(0)
		key.Write(val)
		key.WriteByte(0)
	}
	if missing && s.cfg.DoNotSuppressMissing {
		return Decision{}, nil // never suppressed, carries no suppression fields
	}
	k := key.String()
	t := lead.OriginalTime
	if t.IsZero() {
		t = now
	}
	if g := s.groups[k]; g != nil && (s.cfg.Duration == 0 || now.Before(g.Created.Add(s.cfg.Duration))) {
		if lead.UUID == g.UUID || g.Seen[lead.UUID] {
			return Decision{Suppressed: true, Into: g.UUID, DocsCount: g.DocsCount, End: g.End, Duplicate: true}, nil
		}
		if g.Seen == nil {
			g.Seen = map[string]bool{}
		}
		if len(g.Seen) < MaxSeen {
			g.Seen[lead.UUID] = true
		}
		g.DocsCount++
		if t.After(g.End) {
			g.End = t
		}
		return Decision{Suppressed: true, Into: g.UUID, DocsCount: g.DocsCount, End: g.End}, nil
	}
	instance := sha256Hex(k)
	g := &SuppressedGroup{UUID: lead.UUID, InstanceID: instance, Created: now, Start: t, End: t, Terms: terms}
	s.groups[k] = g
	termsJSON := make([]map[string]json.RawMessage, len(terms))
	for i, tm := range terms {
		f, _ := json.Marshal(tm.Field)
		termsJSON[i] = map[string]json.RawMessage{"field": f, "value": tm.Value}
	}
	fields := []struct {
		k string
		v any
	}{
		{"kibana.alert.instance.id", instance},
		{"kibana.alert.suppression.terms", termsJSON},
		{"kibana.alert.suppression.start", isoMillis(t)},
		{"kibana.alert.suppression.end", isoMillis(t)},
		{"kibana.alert.suppression.docs_count", 0},
	}
	for _, f := range fields {
		if err := lead.SetField(f.k, f.v); err != nil {
			return Decision{}, err
		}
	}
	return Decision{}, nil
}
