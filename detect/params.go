package detect

import (
	"encoding/json"
	"time"

	"github.com/vigilsec/vigil/rule"
)

// alertConstants precomputes the alert fields that depend on the rule
// only. Their values are shared by the rule's alerts and never modified.
func (cr *compiledRule) alertConstants() {
	r := cr.r
	cr.from = orDefault(r.From, rule.DefaultFrom)
	cr.to = orDefault(r.To, rule.DefaultTo)
	cr.interval = orDefault(r.Interval, rule.DefaultInterval)
	cr.maxSignals = r.MaxSignals
	if cr.maxSignals == 0 {
		cr.maxSignals = rule.DefaultMaxSignals
	}
	cr.version = r.Version
	if cr.version == 0 {
		cr.version = 1
	}
	// Prebuilt rules (detection-rules TOML, or exports that say so) are
	// immutable in Kibana.
	cr.immutable = r.Meta != nil
	if raw, ok := r.Extra["immutable"]; ok {
		var b bool
		if json.Unmarshal(raw, &b) == nil {
			cr.immutable = b
		}
	}
	cr.createdAt, cr.updatedAt = "", ""
	if r.Meta != nil {
		cr.createdAt = metaDate(r.Meta.CreationDate)
		cr.updatedAt = metaDate(r.Meta.UpdatedDate)
	}
	for _, k := range []struct {
		key string
		dst *string
	}{{"created_at", &cr.createdAt}, {"updated_at", &cr.updatedAt}} {
		if raw, ok := r.Extra[k.key]; ok {
			var s string
			if json.Unmarshal(raw, &s) == nil && s != "" {
				*k.dst = s
			}
		}
	}
	if cr.updatedAt == "" {
		cr.updatedAt = cr.createdAt
	}
	if cr.createdAt == "" {
		cr.createdAt = cr.updatedAt
	}
}

// ruleJV holds a rule's constant alert fields, rendered once.
type ruleJV struct {
	params, threat, sevMapping, riskMapping *jv
	note, description, tags                 *jv
	references, indices, author             *jv
	falsePositives, exceptions              *jv
}

// jvs returns the rule's constant alert fields, built when its first alert
// is: most of a large rule set never alerts, and building them for every
// rule cost a tenth of a hunt's start-up.
func (cr *compiledRule) jvs() *ruleJV {
	cr.jvOnce.Do(func() {
		r := cr.r
		c := &ruleJV{}
		c.threat = toJV(r.Threat, jArr())
		c.sevMapping = toJV(r.SeverityMapping, jArr())
		c.riskMapping = toJV(r.RiskScoreMapping, jArr())
		c.params = frozen(cr.parameters(c))
		c.threat, c.sevMapping, c.riskMapping = frozen(c.threat), frozen(c.sevMapping), frozen(c.riskMapping)
		c.note = frozen(optStr(r.Note))
		c.description = frozen(jStr(r.Description))
		c.tags = frozen(jStrs(nonNil(r.Tags)))
		c.references = frozen(jStrs(nonNil(r.References)))
		c.indices = frozen(jStrs(nonNil(r.Index)))
		c.author = frozen(jStrs(nonNil(r.Author)))
		c.falsePositives = frozen(jStrs(nonNil(r.FalsePositives)))
		c.exceptions = frozen(rawOr(r.ExceptionsList, jArr()))
		cr.jv = c
	})
	return cr.jv
}

// metaDate turns detection-rules' "2020/01/14" into an ISO timestamp.
func metaDate(s string) string {
	t, err := time.Parse("2006/01/02", s)
	if err != nil {
		return ""
	}
	return isoMillis(t)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// toJV converts a Go value to the JSON model (def when it is empty).
func toJV(x any, def *jv) *jv {
	b, err := json.Marshal(x)
	if err != nil || string(b) == "null" {
		return def
	}
	v, err := parseJSON(b)
	if err != nil {
		return def
	}
	return v
}

// parameters is kibana.alert.rule.parameters: the rule's parameters in
// snake case, as Kibana's commonParamsCamelToSnake and
// typeSpecificCamelToSnake write them for an EQL rule.
func (cr *compiledRule) parameters(c *ruleJV) *jv {
	r := cr.r
	o := newObj()
	o.set("description", jStr(r.Description))
	o.set("risk_score", jInt(r.RiskScore))
	o.set("severity", jStr(r.Severity))
	o.set("building_block_type", optStr(r.BuildingBlockType))
	o.set("license", optStr(r.License))
	o.set("note", optStr(r.Note))
	o.set("rule_name_override", optStr(r.RuleNameOverride))
	o.set("timestamp_override", optStr(r.TimestampOverride))
	if r.TimestampOverrideFallbackDisabled {
		o.set("timestamp_override_fallback_disabled", jBoolV(true))
	}
	if r.InvestigationFields != nil {
		o.set("investigation_fields", toJV(r.InvestigationFields, jUndefined()))
	}
	o.set("author", jStrs(nonNil(r.Author)))
	o.set("false_positives", jStrs(nonNil(r.FalsePositives)))
	o.set("from", jStr(cr.from))
	o.set("rule_id", jStr(r.RuleID))
	o.set("max_signals", jInt(cr.maxSignals))
	o.set("risk_score_mapping", c.riskMapping)
	o.set("severity_mapping", c.sevMapping)
	o.set("threat", c.threat)
	o.set("to", jStr(cr.to))
	o.set("references", jStrs(nonNil(r.References)))
	o.set("version", jInt(cr.version))
	o.set("exceptions_list", rawOr(r.ExceptionsList, jArr()))
	o.set("immutable", jBoolV(cr.immutable))
	o.set("related_integrations", rawOr(r.RelatedIntegrations, jArr()))
	o.set("required_fields", rawOr(r.RequiredFields, jArr()))
	o.set("setup", jStr(r.Setup))
	o.set("type", jStr(r.Type))
	o.set("language", jStr(orDefault(r.Language, "eql")))
	if len(r.Index) > 0 {
		o.set("index", jStrs(r.Index))
	}
	o.set("data_view_id", optStr(r.DataViewID))
	o.set("query", jStr(r.Query))
	o.set("filters", rawOr(r.Filters, jUndefined()))
	o.set("event_category_override", optStr(r.EventCategoryOverride))
	o.set("timestamp_field", optStr(r.TimestampField))
	o.set("tiebreaker_field", optStr(r.TiebreakerField))
	o.set("alert_suppression", rawOr(r.AlertSuppression, jUndefined()))
	return jObjV(o)
}
