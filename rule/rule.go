// Package rule owns Elastic detection rules: the model (Kibana's rule
// schema, which the detection-rules TOML [rule] table mirrors), the loaders
// for detection-rules TOML and Kibana NDJSON exports, and validation.
//
// Loading: LoadFile reads one file, Load files and directories (recursively,
// skipping _deprecated directories). Unset schedule and limit settings get
// Elastic's defaults (interval 5m, from now-6m, to now, max_signals 100);
// the version comes from the file, else from a detection-rules version lock
// (LoadVersionLock), else 1. Problems are *LoadError values positioned in
// the file ("path:line:col: message", with the line and a caret); a bad
// file or record never stops the others from loading.
//
// Export: ExportNDJSON writes a Kibana export. A rule read from an export
// keeps every key, including those the model does not name (Rule.Extra),
// and the exception lists and connectors it references (Rule.Related).
//
// Validation: Validate compiles an EQL rule's query as Elasticsearch would
// and checks it against field types (ECSMapping, or an index mapping),
// reporting only what Elasticsearch would reject as errors; ValidateAll
// summarises a rule set for "vigil rules validate".
package rule

import "encoding/json"

// Rule is one detection rule. JSON names are Kibana's rule API / export
// names; the TOML [rule] table uses the same keys.
type Rule struct {
	// Identity
	ID       string `json:"id,omitempty"` // Kibana saved-object id (exports)
	RuleID   string `json:"rule_id"`
	Name     string `json:"name"`
	Version  int    `json:"version"`
	Revision int    `json:"revision,omitempty"`
	Enabled  *bool  `json:"enabled,omitempty"`

	// Query
	Type                  string          `json:"type"`               // eql, query, threshold, new_terms, esql, machine_learning, threat_match, saved_query
	Language              string          `json:"language,omitempty"` // eql, kuery, lucene, esql
	Query                 string          `json:"query,omitempty"`
	Index                 []string        `json:"index,omitempty"`
	DataViewID            string          `json:"data_view_id,omitempty"`
	Filters               json.RawMessage `json:"filters,omitempty"`
	EventCategoryOverride string          `json:"event_category_override,omitempty"`
	TiebreakerField       string          `json:"tiebreaker_field,omitempty"`
	TimestampField        string          `json:"timestamp_field,omitempty"`

	// Schedule
	Interval                          string `json:"interval,omitempty"` // default 5m
	From                              string `json:"from,omitempty"`     // default now-6m
	To                                string `json:"to,omitempty"`       // default now
	MaxSignals                        int    `json:"max_signals,omitempty"`
	TimestampOverride                 string `json:"timestamp_override,omitempty"`
	TimestampOverrideFallbackDisabled bool   `json:"timestamp_override_fallback_disabled,omitempty"`

	// Alert content
	Description       string             `json:"description"`
	Severity          string             `json:"severity"` // low, medium, high, critical
	RiskScore         int                `json:"risk_score"`
	SeverityMapping   []SeverityMapping  `json:"severity_mapping,omitempty"`
	RiskScoreMapping  []RiskScoreMapping `json:"risk_score_mapping,omitempty"`
	RuleNameOverride  string             `json:"rule_name_override,omitempty"`
	BuildingBlockType string             `json:"building_block_type,omitempty"` // "default" for building-block rules
	Tags              []string           `json:"tags,omitempty"`
	References        []string           `json:"references,omitempty"`
	FalsePositives    []string           `json:"false_positives,omitempty"`
	Author            []string           `json:"author,omitempty"`
	License           string             `json:"license,omitempty"`
	Note              string             `json:"note,omitempty"`
	Setup             string             `json:"setup,omitempty"`
	Threat            []Threat           `json:"threat,omitempty"`

	InvestigationFields *InvestigationFields `json:"investigation_fields,omitempty"`
	AlertSuppression    json.RawMessage      `json:"alert_suppression,omitempty"`
	ExceptionsList      json.RawMessage      `json:"exceptions_list,omitempty"`
	RelatedIntegrations json.RawMessage      `json:"related_integrations,omitempty"`
	RequiredFields      json.RawMessage      `json:"required_fields,omitempty"`

	// Other types' parameters, kept for round trips and validation.
	Threshold json.RawMessage `json:"threshold,omitempty"`
	NewTerms  json.RawMessage `json:"new_terms_fields,omitempty"`

	// Extra keeps every key the model does not name, so an export
	// round-trips unchanged.
	Extra map[string]json.RawMessage `json:"-"`

	// Related holds the Kibana export objects the rule references
	// (exception lists, their items, action connectors), so that
	// ExportNDJSON writes them back after the rules.
	Related []Related `json:"-"`

	// Meta is [metadata] of a detection-rules TOML file (nil otherwise).
	Meta *Metadata `json:"-"`
	// Transform is [transform] of a detection-rules TOML file.
	Transform map[string]any `json:"-"`
	// Source is where the rule was loaded from.
	Source Source `json:"-"`
	// Partial: only Type, Language, RuleID, Name and Source were read
	// (LoadOptions.Types).
	Partial bool `json:"-"`

	// orig is the Kibana JSON object the rule was read from, key by key in
	// file order: an export writes unchanged values back byte for byte.
	orig []member
	// defaulted holds the keys the loader filled with Elastic's defaults,
	// with the JSON of the default value.
	defaulted map[string]json.RawMessage
	// keys locates the rule's keys in its file, for messages: the key scan
	// of a TOML file, shared ("rule.query", "rule.threat[0].tactic"; keyPrefix
	// "rule."), or an NDJSON record's top-level keys.
	keys      keySet
	keyPrefix string
	// query is the query's string literal in the file, to map query
	// positions to file positions exactly.
	query *querySpan
}

// Source locates a rule and its query in the file it came from, so that
// query errors can be reported as file:line:col.
type Source struct {
	Path string
	Line int // line of the rule's first key (1 for NDJSON: the record's line)
	// QueryLine and QueryCol are where the query text starts in the file
	// (the first character after the opening quotes); 0 when unknown.
	QueryLine, QueryCol int
}

// Metadata is the [metadata] table of detection-rules TOML.
type Metadata struct {
	CreationDate           string   `toml:"creation_date" json:"creation_date,omitempty"`
	UpdatedDate            string   `toml:"updated_date" json:"updated_date,omitempty"`
	Maturity               string   `toml:"maturity" json:"maturity,omitempty"`
	Integration            []string `toml:"integration" json:"integration,omitempty"`
	MinStackVersion        string   `toml:"min_stack_version" json:"min_stack_version,omitempty"`
	MinStackComments       string   `toml:"min_stack_comments" json:"min_stack_comments,omitempty"`
	DeprecationDate        string   `toml:"deprecation_date" json:"deprecation_date,omitempty"`
	CommentsForFutureRules string   `toml:"comments" json:"comments,omitempty"`
	QueryScheduleWindow    string   `toml:"query_schedule_window" json:"query_schedule_window,omitempty"`
	BypassBBTimingChecks   bool     `toml:"bypass_bbr_timing" json:"bypass_bbr_timing,omitempty"`
	DeprecatedReason       string   `toml:"deprecated_reason" json:"deprecated_reason,omitempty"`
	Promotion              bool     `toml:"promotion" json:"promotion,omitempty"`
	// Extra keeps the [metadata] keys not named above.
	Extra map[string]any `toml:"-" json:"-"`
}

// Threat is one MITRE ATT&CK mapping.
type Threat struct {
	Framework string      `json:"framework" toml:"framework"`
	Tactic    ThreatRef   `json:"tactic" toml:"tactic"`
	Technique []Technique `json:"technique,omitempty" toml:"technique"`
}

// ThreatRef is an ATT&CK tactic or technique reference.
type ThreatRef struct {
	ID        string `json:"id" toml:"id"`
	Name      string `json:"name" toml:"name"`
	Reference string `json:"reference" toml:"reference"`
}

// Technique is a technique with its subtechniques.
type Technique struct {
	ThreatRef
	Subtechnique []ThreatRef `json:"subtechnique,omitempty" toml:"subtechnique"`
}

// SeverityMapping sets the alert severity from an event field value.
type SeverityMapping struct {
	Field    string `json:"field" toml:"field"`
	Operator string `json:"operator" toml:"operator"` // "equals"
	Value    string `json:"value" toml:"value"`
	Severity string `json:"severity" toml:"severity"`
}

// RiskScoreMapping sets the alert risk score from an event field.
type RiskScoreMapping struct {
	Field     string `json:"field" toml:"field"`
	Operator  string `json:"operator" toml:"operator"`
	Value     string `json:"value" toml:"value"`
	RiskScore *int   `json:"risk_score,omitempty" toml:"risk_score"`
}

// InvestigationFields lists fields highlighted in the alert flyout.
type InvestigationFields struct {
	FieldNames []string `json:"field_names" toml:"field_names"`
}

// Defaults Elastic applies to unset schedule and limit settings.
const (
	DefaultInterval   = "5m"
	DefaultFrom       = "now-6m"
	DefaultTo         = "now"
	DefaultMaxSignals = 100
)

// Related is a non-rule object of a Kibana export: an exception list
// container ("list_id"), an exception item ("item_id") or an action
// connector ("attributes").
type Related struct {
	Kind string          // "exception_list", "exception_item", "action_connector"
	ID   string          // list_id/item_id (with the list), or the connector id
	Raw  json.RawMessage // the object as read
	// Line orders the objects as in the file they came from.
	Line int
	Path string
}

// IsBuildingBlock reports whether the rule's alerts are building blocks.
func (r *Rule) IsBuildingBlock() bool { return r.BuildingBlockType != "" }
