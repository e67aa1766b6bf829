package source

import (
	"github.com/vigilsec/vigil/source/crowdstrike"
	"github.com/vigilsec/vigil/source/endgame"
	"github.com/vigilsec/vigil/source/m365defender"
	"github.com/vigilsec/vigil/source/sentinelone"
)

// The built-in formats, in detection order after the ECS fast path.
func init() {
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
