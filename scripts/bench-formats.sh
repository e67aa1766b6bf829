#!/bin/sh
# Throughput of every input format (records/s, one core) against the
# NDJSON parse-only baseline measured in the same run, as medians of
# COUNT runs (default 5). Needs ../shared for the vendor records.
#   scripts/bench-formats.sh [COUNT]
set -e
cd "$(dirname "$0")/.."
count=${1:-5}
go test ./source -run '^$' -bench '^BenchmarkFormats$' -cpu 1 -count "$count" -benchtime 1s |
awk '
/^BenchmarkFormats\// {
	name = $1; sub(/^BenchmarkFormats\//, "", name)
	v = ""; c = ""
	for (i = 2; i <= NF; i++) { if ($(i+1) == "records/s") v = $i; if ($(i+1) == "records/cpu-s") c = $i }
	vals[name] = vals[name] " " v
	cvals[name] = cvals[name] " " c
	if (!(name in seen)) { seen[name] = 1; order[++n] = name }
}
function median(s,   a, k, i, j, t) {
	k = split(s, a, " ")
	for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
	return a[int((k + 1) / 2)]
}
END {
	base = median(vals["ecs/parse-only"]); cbase = median(cvals["ecs/parse-only"])
	printf "%-28s %14s %10s %16s %10s\n", "format", "records/s", "vs parse", "records/cpu-s", "vs parse"
	for (i = 1; i <= n; i++) {
		m = median(vals[order[i]]); c = median(cvals[order[i]])
		printf "%-28s %14.0f %9.3fx %16.0f %9.3fx\n", order[i], m, m / base, c, (cbase > 0 ? c / cbase : 0)
	}
	printf "detection cost on ECS (reader-auto vs reader-ecs, CPU time): %.1f%%\n", (median(cvals["ecs/reader-ecs"]) / median(cvals["ecs/reader-auto"]) - 1) * 100
}'
