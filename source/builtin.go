package source

import (
	"bytes"

	"github.com/vigilsec/vigil/source/crowdstrike"
	"github.com/vigilsec/vigil/source/endgame"
	"github.com/vigilsec/vigil/source/m365defender"
	"github.com/vigilsec/vigil/source/sentinelone"
	"github.com/vigilsec/vigil/winlog"
)

// The built-in formats, in detection order after the ECS fast path.
func init() {
	// Winlogbeat / Elastic Agent Windows event log documents carry
	// @timestamp, so they are recognised before the ECS fast path: the
	// pipelines' ECS mapping still has to be applied to them.
	Register(Format{Name: "winlogbeat", Aliases: []string{"winlog", "beats-windows"}, BeforeECS: true,
		Doc:   "Winlogbeat / Elastic Agent Windows event log documents (winlog.*) -> the Windows/System integrations' data streams",
		Sniff: isRawBeat, Normalize: winlog.NormalizeBeat})
	// NXLog records shipped through Logstash carry @timestamp too.
	Register(Format{Name: "nxlog", Aliases: []string{"nxlog-windows"}, BeforeECS: true,
		Doc:   "NXLog JSON Windows event log records (EventID, Channel, ...) -> the Windows/System integrations' data streams",
		Sniff: winlog.IsNXLogJSON, Normalize: winlog.NormalizeNXLog})
	Register(Format{Name: ECS, Aliases: []string{"defend", "elastic-defend"},
		Doc: "ECS documents (Elastic Defend, Beats/Agent output, vigil normalize output), passed through unchanged"})
	Register(Format{Name: "crowdstrike", Aliases: []string{"fdr", "crowdstrike-fdr"},
		Doc:   "CrowdStrike Falcon Data Replicator events -> logs-crowdstrike.fdr-default",
		Sniff: crowdstrike.Sniff, Normalize: crowdstrike.Normalize})
	Register(Format{Name: "sentinelone", Aliases: []string{"s1", "sentinel_one_cloud_funnel"},
		Doc:   "SentinelOne Cloud Funnel events -> logs-sentinel_one_cloud_funnel.event-default",
		Sniff: sentinelone.Sniff, Normalize: sentinelone.Normalize})
	Register(Format{Name: "m365defender", Aliases: []string{"m365_defender", "defender"},
		Doc:   "Microsoft 365 Defender Event Hub records (AdvancedHunting-Device*) -> logs-m365_defender.event-default",
		Sniff: m365defender.Sniff, Split: SplitRecords, Normalize: m365defender.Normalize})
	Register(Format{Name: "endgame", Aliases: []string{"eql-legacy"},
		Doc:   "legacy Endgame / EQL schema events -> endgame-8.4.0",
		Sniff: endgame.Sniff, Normalize: endgame.Normalize})
}

// isRawBeat: a Winlogbeat document, but not one Vigil already normalised
// (those start with "_index", as normalize writes them). The reader looks
// for it only in files that start with one (converter.before).
func isRawBeat(rec []byte) bool {
	return !bytes.HasPrefix(rec, []byte(`{"_index"`)) && winlog.IsBeatJSON(rec)
}
