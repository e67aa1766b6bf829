package detect

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/vigilsec/vigil/eql"
	"github.com/vigilsec/vigil/rule"
	"github.com/vigilsec/vigil/schema"
)

// AlertKind says what an alert stands for.
type AlertKind uint8

const (
	// EventAlert is one event an event query matched.
	EventAlert AlertKind = iota
	// SequenceAlert is the "shell" alert of a sequence (or sample): its
	// body holds the fields all of the sequence's events share.
	SequenceAlert
	// BuildingBlockAlert is one event of a sequence; its
	// kibana.alert.group.id names the SequenceAlert.
	BuildingBlockAlert
)

func (k AlertKind) String() string {
	return [...]string{"event", "sequence", "building_block"}[k]
}

// Alert is one document of Kibana's .alerts-security.alerts-<space> index.
type Alert struct {
	Kind AlertKind
	Rule *rule.Rule
	// Hits are the source events: one for event and building-block alerts,
	// the sequence's events for a SequenceAlert (missing-event steps
	// included, as placeholders with Missing set).
	Hits []*eql.Hit

	UUID       string // kibana.alert.uuid (the document _id)
	GroupID    string // kibana.alert.group.id: sequences only
	GroupIndex int    // kibana.alert.group.index: building blocks only

	// OriginalTime is the event's @timestamp (the first event's for a
	// sequence); zero when it has none.
	OriginalTime time.Time

	// After severity, risk score and rule name overrides.
	RuleName  string
	Severity  string
	RiskScore float64
	Reason    string

	// BuildingBlock marks alerts Kibana hides by default: those of
	// building-block rules and a sequence's per-event alerts.
	BuildingBlock bool

	body *jobj
}

// JSON renders the alert document: the source event's fields plus Kibana's
// kibana.alert.* fields, as flat dotted keys. Rendering happens on each
// call (a table needs no JSON, and a large document need not be held).
func (a *Alert) JSON() []byte { return render(a.body) }

// AppendJSON appends the alert document to dst, for writers that reuse a
// buffer.
func (a *Alert) AppendJSON(dst []byte) []byte { return jObjV(a.body).appendTo(dst) }

// Field returns a field of the alert document as text (arrays joined with
// ", "), e.g. "host.name" or "kibana.alert.reason"; "" when absent. It
// reads dotted keys and nested objects alike, without rendering the
// document, for tables.
func (a *Alert) Field(path string) string {
	v := lodashGet(a.body, path)
	if v == nil || v.kind == jObject || v.kind == jUndef || v.kind == jNull || v.kind == jRaw {
		return ""
	}
	if v.kind == jArray {
		parts := make([]string, 0, len(v.arr))
		for _, e := range v.arr {
			if e.kind != jObject && e.kind != jArray {
				parts = append(parts, e.jsString())
			}
		}
		return strings.Join(parts, ", ")
	}
	return v.jsString()
}

// originalMs orders alerts; math.MinInt64 when there is no time.
func (a *Alert) originalMs() int64 {
	if a.OriginalTime.IsZero() {
		return math.MinInt64
	}
	return a.OriginalTime.UnixMilli()
}

// generateID is Kibana's generateId: the alert _id of an event alert, so a
// re-run over the same events yields the same ids (Kibana's dedup key).
func generateID(index, docID, version, ruleKey string) string {
	return sha256Hex(index + docID + version + ruleKey)
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// eqlHitVersion is String(hit._version) in Kibana: EQL search hits carry
// no _version, so the id is built with "undefined".
const eqlHitVersion = "undefined"

// alertBuilder turns runner results into alerts for one engine.
type alertBuilder struct {
	now     string // alert @timestamp, ISO-8601
	spaceID string
}

// ancestor is one entry of kibana.alert.ancestors.
type ancestor struct {
	id, typ, index string
	depth          int
	rule           string
}

func (a ancestor) value() *jv {
	o := newObj()
	o.set("id", jStr(a.id))
	o.set("type", jStr(a.typ))
	o.set("index", jStr(a.index))
	o.set("depth", jInt(a.depth))
	if a.rule != "" {
		o.set("rule", jStr(a.rule))
	}
	return jObjV(o)
}

func ancestorsValue(as []ancestor) *jv {
	v := &jv{kind: jArray}
	for _, a := range as {
		v.arr = append(v.arr, a.value())
	}
	return v
}

// fieldArgs are the per-alert inputs of Kibana's buildAlertFields.
type fieldArgs struct {
	originalTime string // "" when the event has no valid @timestamp
	ancestors    []ancestor
	depth        int
	reason       string
	severity     string
	risk         float64
	name         string
	uuid         string
}

// alertFields builds the kibana.alert.* fields in the order Kibana's
// buildAlertFields writes them, plus those the alerting framework adds.
// The keys are distinct, so they are appended without lookups.
func (b *alertBuilder) alertFields(cr *compiledRule, f fieldArgs) *jobj {
	r := cr.r
	c := cr.jvs()
	o := newObjCap(64)
	o.add("@timestamp", jStr(b.now))
	o.add("kibana.space_ids", jStrs([]string{b.spaceID}))
	o.add("event.kind", jStr("signal"))
	if f.originalTime != "" {
		o.add("kibana.alert.original_time", jStr(f.originalTime))
	} else {
		o.add("kibana.alert.original_time", jUndefined())
	}
	o.add("kibana.alert.rule.consumer", jStr("siem"))
	o.add("kibana.alert.ancestors", ancestorsValue(f.ancestors))
	o.add("kibana.alert.status", jStr("active"))
	o.add("kibana.alert.workflow_status", jStr("open"))
	o.add("kibana.alert.depth", jInt(f.depth))
	o.add("kibana.alert.reason", jStr(f.reason))
	o.add("kibana.alert.building_block_type", optStr(r.BuildingBlockType))
	o.add("kibana.alert.severity", jStr(f.severity))
	o.add("kibana.alert.risk_score", jNum(f.risk))
	o.add("kibana.alert.rule.parameters", c.params)
	o.add("kibana.alert.rule.actions", jArr())
	o.add("kibana.alert.rule.author", c.author)
	o.add("kibana.alert.rule.created_at", jStr(orDefault(cr.createdAt, b.now)))
	o.add("kibana.alert.rule.created_by", jStr(""))
	o.add("kibana.alert.rule.description", c.description)
	o.add("kibana.alert.rule.enabled", jBoolV(r.Enabled == nil || *r.Enabled))
	o.add("kibana.alert.rule.exceptions_list", c.exceptions)
	o.add("kibana.alert.rule.false_positives", c.falsePositives)
	o.add("kibana.alert.rule.from", jStr(cr.from))
	o.add("kibana.alert.rule.immutable", jBoolV(cr.immutable))
	o.add("kibana.alert.rule.interval", jStr(cr.interval))
	o.add("kibana.alert.rule.indices", c.indices)
	o.add("kibana.alert.rule.license", optStr(r.License))
	o.add("kibana.alert.rule.max_signals", jInt(cr.maxSignals))
	o.add("kibana.alert.rule.name", jStr(f.name))
	o.add("kibana.alert.rule.note", c.note)
	o.add("kibana.alert.rule.references", c.references)
	o.add("kibana.alert.rule.risk_score_mapping", c.riskMapping)
	o.add("kibana.alert.rule.rule_id", jStr(r.RuleID))
	o.add("kibana.alert.rule.rule_name_override", optStr(r.RuleNameOverride))
	o.add("kibana.alert.rule.severity_mapping", c.sevMapping)
	o.add("kibana.alert.rule.tags", c.tags)
	o.add("kibana.alert.rule.threat", c.threat)
	o.add("kibana.alert.rule.timestamp_override", optStr(r.TimestampOverride))
	o.add("kibana.alert.rule.to", jStr(cr.to))
	o.add("kibana.alert.rule.type", jStr(r.Type))
	o.add("kibana.alert.rule.updated_at", jStr(orDefault(cr.updatedAt, b.now)))
	o.add("kibana.alert.rule.updated_by", jStr(""))
	o.add("kibana.alert.rule.uuid", jStr(cr.uuid))
	o.add("kibana.alert.rule.version", jInt(cr.version))
	o.add("kibana.alert.uuid", jStr(f.uuid))
	o.add("kibana.alert.workflow_tags", jArr())
	o.add("kibana.alert.workflow_assignee_ids", jArr())
	o.add("kibana.alert.rule.risk_score", jInt(r.RiskScore))
	o.add("kibana.alert.rule.severity", jStr(r.Severity))
	o.add("kibana.alert.rule.building_block_type", optStr(r.BuildingBlockType))
	o.add("kibana.alert.intended_timestamp", jStr(b.now))
	o.add("kibana.alert.rule.execution.type", jStr("scheduled"))
	// Written by the alerting framework around the security solution.
	o.add("kibana.alert.rule.category", jStr("Event Correlation Rule"))
	o.add("kibana.alert.rule.producer", jStr("siem"))
	o.add("kibana.alert.rule.rule_type_id", jStr("siem.eqlRule"))
	o.add("kibana.alert.rule.revision", jInt(r.Revision))
	o.add("kibana.alert.start", jStr(b.now))
	o.add("kibana.alert.last_detected", jStr(b.now))
	return o
}

func optStr(s string) *jv {
	if s == "" {
		return jUndefined()
	}
	return jStr(s)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// rawOr parses a raw JSON rule parameter, or returns def when it is absent.
func rawOr(raw []byte, def *jv) *jv {
	if len(bytes.TrimSpace(raw)) == 0 {
		return def
	}
	v, err := parseJSON(raw)
	if err != nil {
		return def
	}
	return v
}

// transform is Kibana's transformHitToAlert: the event's own fields
// (without kibana.*, signal.*, threshold_result, empty arrays and objects),
// event.* and data_stream.* copied to kibana.alert.original_event.* and
// kibana.alert.original_data_stream.*, event.kind dropped, then the alert
// fields merged in. src is consumed.
func (b *alertBuilder) transform(cr *compiledRule, src *jobj, f fieldArgs) *jobj {
	out := cleanSource(src)
	if v, ok := out.get("event.kind"); ok && v.kind != jNull {
		out.set("event.kind", jUndefined())
	}
	if ev, ok := out.get("event"); ok && ev.kind == jObject {
		if v, ok := ev.obj.get("kind"); ok && v.kind != jNull {
			ev.obj.set("kind", jUndefined())
		}
	}
	fields := b.alertFields(cr, f)
	for i, k := range fields.keys {
		if strings.HasPrefix(k, "kibana.") {
			// cleanSource dropped the event's kibana.* fields and added
			// only original_event / original_data_stream copies, which
			// no alert field names: no lookup needed.
			out.add(k, fields.vals[i])
		} else {
			out.set(k, fields.vals[i])
		}
	}
	return out
}

type keyValue struct {
	k string
	v *jv
}

func cleanSource(src *jobj) *jobj {
	out := newObjCap(len(src.keys) + 80) // room for the alert fields transform adds
	var copies []keyValue
	for i, k := range src.keys {
		top := k
		if j := strings.IndexByte(k, '.'); j >= 0 {
			top = k[:j]
		}
		switch top {
		case "kibana", "signal", "threshold_result":
			continue // Kibana's banned fields
		case "_id", "_index":
			if k == top {
				continue // metadata carried in a line, never part of a _source
			}
		}
		v := cleanValue(src.vals[i])
		if v == nil {
			continue
		}
		out.set(k, v)
		var prefix string
		switch top {
		case "event":
			prefix = "kibana.alert.original_event"
		case "data_stream":
			prefix = "kibana.alert.original_data_stream"
		default:
			continue
		}
		flattenWithPrefix(prefix+k[len(top):], v, &copies)
	}
	for _, c := range copies {
		out.set(c.k, c.v)
	}
	return out
}

// cleanValue drops empty arrays and objects (recursively), as Kibana's
// traverseAndMutateDoc does; nil means the value is removed.
func cleanValue(v *jv) *jv {
	switch v.kind {
	case jArray:
		var kept []*jv
		for _, e := range v.arr {
			if e = cleanValue(e); e != nil {
				kept = append(kept, e)
			}
		}
		if len(kept) == 0 {
			return nil
		}
		return &jv{kind: jArray, arr: kept}
	case jObject:
		o := newObj()
		for i, k := range v.obj.keys {
			if e := cleanValue(v.obj.vals[i]); e != nil {
				o.keys = append(o.keys, k)
				o.vals = append(o.vals, e)
			}
		}
		if len(o.keys) == 0 {
			return nil
		}
		return jObjV(o)
	}
	return v
}

func flattenWithPrefix(prefix string, v *jv, out *[]keyValue) {
	if v.kind != jObject {
		*out = append(*out, keyValue{prefix, v})
		return
	}
	for i, k := range v.obj.keys {
		flattenWithPrefix(prefix+"."+k, v.obj.vals[i], out)
	}
}

// originalTime reads _source["@timestamp"] (a string date or epoch
// millis), as Kibana's getValidDateFromDoc does.
func originalTime(src *jobj) (time.Time, bool) {
	v, ok := src.get("@timestamp")
	if !ok {
		return time.Time{}, false
	}
	switch v.kind {
	case jString:
		if ms, ok := schema.ParseDate(v.s, nil); ok {
			return time.UnixMilli(ms).UTC(), true
		}
	case jNumber:
		if f := v.num(); !math.IsNaN(f) && !math.IsInf(f, 0) {
			return time.UnixMilli(int64(f)).UTC(), true
		}
	}
	return time.Time{}, false
}

func isoMillis(t time.Time) string { return schema.FormatDateISO(t.UnixMilli()) }

// overrides applies severity_mapping, risk_score_mapping and
// rule_name_override to the fields of doc.
func overrides(cr *compiledRule, doc *jobj) (name, severity string, risk float64) {
	r := cr.r
	name, severity, risk = r.Name, r.Severity, float64(r.RiskScore)
	if r.RuleNameOverride != "" {
		if v := lodashGet(doc, r.RuleNameOverride); v != nil && v.kind == jString {
			name = v.s
		}
	}
	if s, ok := severityFromMapping(r.SeverityMapping, doc); ok {
		severity = s
	}
	if x, ok := riskFromMapping(r.RiskScoreMapping, doc); ok {
		risk = x
	}
	return name, severity, risk
}

var severityRank = map[string]int{"low": 0, "medium": 1, "high": 2, "critical": 3}

// severityFromMapping is Kibana's buildSeverityFromMapping: of the mappings
// whose field holds the value, the highest severity wins. event.severity
// compares as integers, other fields as strings (integers rendered).
func severityFromMapping(ms []rule.SeverityMapping, doc *jobj) (string, bool) {
	if len(ms) == 0 {
		return "", false
	}
	sorted := append([]rule.SeverityMapping(nil), ms...)
	sort.SliceStable(sorted, func(i, j int) bool {
		return rankOf(sorted[i].Severity) < rankOf(sorted[j].Severity)
	})
	var match *rule.SeverityMapping
	for i := range sorted {
		m := &sorted[i]
		if mappingMatches(m, lodashGet(doc, m.Field)) {
			match = m
		}
	}
	if match == nil {
		return "", false
	}
	if _, ok := severityRank[match.Severity]; !ok {
		return "", false
	}
	return match.Severity, true
}

func rankOf(s string) int {
	if r, ok := severityRank[s]; ok {
		return r
	}
	return -1
}

func mappingMatches(m *rule.SeverityMapping, v *jv) bool {
	if v == nil {
		return false
	}
	vals := []*jv{v}
	if v.kind == jArray {
		vals = v.arr
	}
	if m.Field == "event.severity" {
		want := math.Floor(jsToNumber(m.Value))
		for _, e := range vals {
			if e.kind == jNumber && isSafeInteger(e.num()) && e.num() == want {
				return true
			}
		}
		return false
	}
	for _, e := range vals {
		switch {
		case e.kind == jString && e.s == m.Value:
			return true
		case e.kind == jNumber && isSafeInteger(e.num()) && jsNumber(e.num()) == m.Value:
			return true
		}
	}
	return false
}

func isSafeInteger(f float64) bool {
	return f == math.Trunc(f) && math.Abs(f) <= 1<<53-1
}

// jsToNumber is JavaScript's Number(string) for decimal text.
func jsToNumber(s string) float64 {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0
	}
	if s == "Infinity" || s == "+Infinity" {
		return math.Inf(1)
	}
	if s == "-Infinity" {
		return math.Inf(-1)
	}
	lower := strings.ToLower(s)
	if strings.Contains(lower, "inf") || strings.Contains(lower, "nan") || strings.Contains(lower, "_") || strings.HasPrefix(lower, "0x") {
		return math.NaN()
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return math.NaN()
	}
	return f
}

// riskFromMapping is Kibana's buildRiskScoreFromMapping: the largest value
// in [0, 100] of the first mapping's field (numbers or numeric strings).
func riskFromMapping(ms []rule.RiskScoreMapping, doc *jobj) (float64, bool) {
	if len(ms) == 0 {
		return 0, false
	}
	v := lodashGet(doc, ms[0].Field)
	if v == nil {
		return 0, false
	}
	vals := []*jv{v}
	if v.kind == jArray {
		vals = v.arr
	}
	best, found := 0.0, false
	for _, e := range vals {
		var f float64
		switch e.kind {
		case jNumber:
			f = e.num()
		case jString:
			f = jsToNumber(e.s)
		default:
			continue
		}
		if math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || f > 100 {
			continue
		}
		if !found || f > best {
			best, found = f, true
		}
	}
	return best, found
}

// reasonMessage is Kibana's buildReasonMessageUtil (the English default of
// xpack.securitySolution.detectionEngine.signals.alertReasonDescription).
func reasonMessage(doc *jobj, name, severity string) string {
	interest := false
	field := func(path string, ofInterest bool) (string, bool) {
		s, ok := reasonValue(lodashGet(doc, path))
		if ok && ofInterest {
			interest = true
		}
		return s, ok
	}
	dstAddr, hasDstAddr := field("destination.ip", true)
	dstPort, hasDstPort := field("destination.port", true)
	cat, hasCat := field("event.category", false)
	file, hasFile := field("file.name", true)
	host, hasHost := field("host.name", false)
	proc, hasProc := field("process.name", true)
	parent, hasParent := field("process.parent.name", true)
	srcAddr, hasSrcAddr := field("source.ip", true)
	srcPort, hasSrcPort := field("source.port", true)
	user, hasUser := field("user.name", false)

	var b strings.Builder
	if hasCat {
		b.WriteString(cat)
		b.WriteByte(' ')
	}
	b.WriteString("event")
	if interest {
		b.WriteString(" with")
	}
	if hasProc {
		fmt.Fprintf(&b, " process %s,", proc)
	}
	if hasParent {
		fmt.Fprintf(&b, " parent process %s,", parent)
	}
	if hasFile {
		fmt.Fprintf(&b, " file %s,", file)
	}
	if hasSrcAddr {
		fmt.Fprintf(&b, " source %s", srcAddr)
	}
	if hasSrcPort {
		fmt.Fprintf(&b, ":%s,", srcPort)
	}
	if hasDstAddr {
		fmt.Fprintf(&b, " destination %s", dstAddr)
	}
	if hasDstPort {
		fmt.Fprintf(&b, ":%s,", dstPort)
	}
	if hasUser {
		fmt.Fprintf(&b, " by %s", user)
	}
	if hasHost {
		fmt.Fprintf(&b, " on %s", host)
	}
	fmt.Fprintf(&b, " created %s alert %s.", severity, name)
	return b.String()
}

// reasonValue is Kibana's getFieldTemplateValue: only non-empty strings
// and arrays are shown (a number has no length, so a numeric port is not),
// and "-" alone means absent.
func reasonValue(v *jv) (string, bool) {
	if v == nil {
		return "", false
	}
	switch v.kind {
	case jString:
		if v.s == "" || v.s == "-" {
			return "", false
		}
		return v.s, true
	case jArray:
		if len(v.arr) == 0 || (len(v.arr) == 1 && v.arr[0].kind == jString && v.arr[0].s == "-") {
			return "", false
		}
		parts := make([]string, len(v.arr))
		for i, e := range v.arr {
			parts[i] = e.jsString()
		}
		return strings.Join(parts, ", "), true
	}
	return "", false
}

// hitID names a hit as the CLI does: its own _id, else "<index>:<line>".
func hitID(h *eql.Hit) string {
	if h.ID == "" {
		h.ID = h.Index + ":" + strconv.Itoa(h.Line)
	}
	return h.ID
}

func parseObject(h *eql.Hit) (*jobj, error) {
	v, err := parseJSON(h.Source)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", h.ID, err)
	}
	if v.kind != jObject {
		return nil, fmt.Errorf("%s: event is not a JSON object", h.ID)
	}
	return v.obj, nil
}

func render(o *jobj) []byte {
	return jObjV(o).appendTo(make([]byte, 0, 4<<10))
}

// eventAlert builds the alert of an event query hit (Kibana's wrapHits).
func (b *alertBuilder) eventAlert(cr *compiledRule, h *eql.Hit) (*Alert, error) {
	id := hitID(h)
	src, err := parseObject(h)
	if err != nil {
		return nil, err
	}
	a := &Alert{
		Kind:          EventAlert,
		Rule:          cr.r,
		Hits:          []*eql.Hit{h},
		UUID:          generateID(h.Index, id, eqlHitVersion, b.spaceID+":"+cr.uuid),
		BuildingBlock: cr.r.IsBuildingBlock(),
	}
	a.RuleName, a.Severity, a.RiskScore = overrides(cr, src)
	a.Reason = reasonMessage(src, a.RuleName, a.Severity)
	f := fieldArgs{
		ancestors: []ancestor{{id: id, typ: "event", index: h.Index}},
		depth:     1,
		reason:    a.Reason,
		severity:  a.Severity,
		risk:      a.RiskScore,
		name:      a.RuleName,
		uuid:      a.UUID,
	}
	if t, ok := originalTime(src); ok {
		a.OriginalTime, f.originalTime = t, isoMillis(t)
	}
	a.body = b.transform(cr, src, f)
	return a, nil
}

// sequenceAlerts builds a sequence's building blocks and shell alert, with
// the ids of Kibana's buildAlertGroupFromSequence. Unlike Kibana
// (kibana#120521), severity, risk score and rule name overrides apply, read
// from the fields the events share; the shell's original time is its first
// event's (Kibana copies the first building block's alert time).
func (b *alertBuilder) sequenceAlerts(cr *compiledRule, sq *eql.SequenceResult) ([]*Alert, error) {
	var hits []*eql.Hit
	for _, h := range sq.Events {
		if !h.Missing {
			hits = append(hits, h)
		}
	}
	if len(hits) == 0 {
		return nil, nil
	}
	// Building blocks: ids depend on every event of the sequence.
	base := ""
	for _, h := range hits {
		base += hitID(h) + h.Index + cr.uuid
	}
	blocks := make([]*Alert, len(hits))
	bodies := make([]*jobj, len(hits))
	var shellAnc []ancestor
	for i, h := range hits {
		src, err := parseObject(h)
		if err != nil {
			return nil, err
		}
		a := &Alert{
			Kind:          BuildingBlockAlert,
			Rule:          cr.r,
			Hits:          []*eql.Hit{h},
			UUID:          sha256Hex(base + strconv.Itoa(i)),
			GroupIndex:    i,
			RuleName:      cr.r.Name,
			Severity:      cr.r.Severity,
			RiskScore:     float64(cr.r.RiskScore),
			BuildingBlock: true,
		}
		a.Reason = reasonMessage(src, a.RuleName, a.Severity)
		ev := ancestor{id: h.ID, typ: "event", index: h.Index}
		f := fieldArgs{
			ancestors: []ancestor{ev},
			depth:     1,
			reason:    a.Reason,
			severity:  a.Severity,
			risk:      a.RiskScore,
			name:      a.RuleName,
			uuid:      a.UUID,
		}
		if t, ok := originalTime(src); ok {
			a.OriginalTime, f.originalTime = t, isoMillis(t)
		}
		bodies[i] = b.transform(cr, src, f)
		blocks[i] = a
		shellAnc = append(shellAnc, ev, ancestor{id: a.UUID, typ: "signal", index: "", depth: 1, rule: cr.uuid})
	}

	// The shell: the fields all building blocks share, then its own.
	merged := objectArrayIntersection(bodies)
	if merged == nil {
		merged = newObj()
	}
	// The intersection would re-nest kibana.* objects (rule parameters)
	// beside the flat keys the shell sets anyway: keep only flat ones.
	if v, ok := merged.get("kibana"); ok && v.kind == jObject {
		merged.del("kibana")
	}
	shell := &Alert{
		Kind:          SequenceAlert,
		Rule:          cr.r,
		Hits:          sq.Events,
		BuildingBlock: cr.r.IsBuildingBlock(),
		OriginalTime:  blocks[0].OriginalTime,
	}
	shell.RuleName, shell.Severity, shell.RiskScore = overrides(cr, merged)
	shell.Reason = reasonMessage(merged, shell.RuleName, shell.Severity)
	idText := ""
	for _, a := range shellAnc {
		idText += a.id + a.index
	}
	shell.UUID = sha256Hex(idText + cr.uuid)
	shell.GroupID = shell.UUID
	f := fieldArgs{
		ancestors: shellAnc,
		depth:     2,
		reason:    shell.Reason,
		severity:  shell.Severity,
		risk:      shell.RiskScore,
		name:      shell.RuleName,
		uuid:      shell.UUID,
	}
	if !shell.OriginalTime.IsZero() {
		f.originalTime = isoMillis(shell.OriginalTime)
	}
	fields := b.alertFields(cr, f)
	for i, k := range fields.keys {
		merged.set(k, fields.vals[i])
	}
	merged.set("kibana.alert.group.id", jStr(shell.UUID))
	shell.body = merged

	// Building blocks get the group and, when the shell's fields override
	// them, the shell's severity, risk score and name.
	for i, a := range blocks {
		o := bodies[i]
		o.set("kibana.alert.building_block_type", jStr("default"))
		o.set("kibana.alert.group.id", jStr(shell.UUID))
		o.set("kibana.alert.group.index", jInt(i))
		a.GroupID = shell.UUID
		if shell.RuleName != a.RuleName || shell.Severity != a.Severity || shell.RiskScore != a.RiskScore {
			a.RuleName, a.Severity, a.RiskScore = shell.RuleName, shell.Severity, shell.RiskScore
			o.set("kibana.alert.rule.name", jStr(a.RuleName))
			o.set("kibana.alert.severity", jStr(a.Severity))
			o.set("kibana.alert.risk_score", jNum(a.RiskScore))
		}
		a.body = o
	}
	return append([]*Alert{shell}, blocks...), nil
}
