#!/usr/bin/env bash
# bench-eql.sh: end-to-end throughput of `vigil eql` on generated data.
#
# Generates an ECS NDJSON file of endpoint events (default 1 GiB, about 0.1%
# of lines matching the seed rule) with internal/benchgen, builds ./cmd/vigil,
# then measures in one run, on one core (taskset, when present):
#   (a) parse    `any where false`: no literal, so no line is prefiltered;
#                every line is read, parsed and evaluated. The baseline.
#   (b) seed     Elastic's "User Account Creation" rule (literal prefilter)
#   (c) nonsel   a query with no usable literal (every line parsed)
#   (d) sequence a 2-step sequence by process.entity_id with maxspan=5m, with
#                the CLI's default --reorder-window and, when the CLI has the
#                flag, with 1s (memory: open sequences) and 0 (every candidate)
# and prints a markdown table: seconds, MB/s, ratio to (a), max RSS (GNU
# time), results and the count the generator expects.
#
# Environment:
#   BENCH_BYTES  size of the generated file in bytes (default 1073741824)
#   BENCH_DIR    where the file, binaries and outputs go (default /tmp/vigil-bench)
#   BENCH_SEED   generator seed (default 1)
#   BENCH_PROFILE generator profile: realistic (default; benign background,
#                the prebuilt rules alert on ~0.3% of events, nearly all
#                of them the seed matches and decoys)
#                or noisy (the first generator's background: ~11% of events
#                alert with the prebuilt rules)
#   BENCH_CPU    the core to pin to (default 0)
#   BENCH_RUNS   runs per query, the fastest is reported (default 1)
#
# The file is kept and reused while BENCH_BYTES, BENCH_SEED and BENCH_PROFILE
# are the same (they are in its name).
set -euo pipefail
cd "$(dirname "$0")/.."

BENCH_BYTES=${BENCH_BYTES:-1073741824}
BENCH_DIR=${BENCH_DIR:-/tmp/vigil-bench}
BENCH_SEED=${BENCH_SEED:-1}
BENCH_PROFILE=${BENCH_PROFILE:-realistic}
BENCH_CPU=${BENCH_CPU:-0}
BENCH_RUNS=${BENCH_RUNS:-1}

die() {
	echo "bench-eql: $*" >&2
	exit 1
}

[[ $BENCH_BYTES =~ ^[0-9]+$ && $BENCH_BYTES -gt 0 ]] || die "BENCH_BYTES=$BENCH_BYTES: want a byte count"
[[ $BENCH_PROFILE =~ ^(realistic|noisy)$ ]] || die "BENCH_PROFILE=$BENCH_PROFILE: want realistic or noisy"
[[ $BENCH_RUNS =~ ^[0-9]+$ && $BENCH_RUNS -gt 0 ]] || die "BENCH_RUNS=$BENCH_RUNS: want a count"
command -v go >/dev/null || die "go is not on PATH"
mkdir -p "$BENCH_DIR/bin"

gen=$BENCH_DIR/bin/vigil-benchgen
vigil=$BENCH_DIR/bin/vigil
go build -o "$gen" ./internal/benchgen/cmd/vigil-benchgen || die "cannot build the generator"
if ! go build -o "$vigil" ./cmd/vigil 2>"$BENCH_DIR/build.log"; then
	cat "$BENCH_DIR/build.log" >&2
	die "./cmd/vigil does not build yet, so the CLI cannot be measured (see above;
use 'go test ./eql -run ^\$ -bench .' for the engine benchmarks meanwhile)"
fi

# Data set, generated once per size, seed and profile.
data=$BENCH_DIR/events-$BENCH_BYTES-seed$BENCH_SEED-$BENCH_PROFILE.ndjson
stats=$data.stats
if [[ ! -s $data || ! -s $stats ]]; then
	echo "bench-eql: generating $data ($BENCH_BYTES bytes)..." >&2
	rm -f "$stats"
	"$gen" -profile "$BENCH_PROFILE" -bytes "$BENCH_BYTES" -seed "$BENCH_SEED" -o "$data" 2>"$stats.tmp" || {
		cat "$stats.tmp" >&2
		die "generation failed"
	}
	mv "$stats.tmp" "$stats"
fi
declare -A st
while IFS='=' read -r k v; do
	[[ $k =~ ^[A-Z_]+$ ]] && st[$k]=$v
done <"$stats"
bytes=${st[BYTES]}
[[ -n $bytes && $bytes == "$(stat -c %s "$data")" ]] || die "$stats does not describe $data; delete both and rerun"

# One core, if taskset exists; GNU time for the max RSS, if it exists.
pin=()
if command -v taskset >/dev/null; then
	pin=(taskset -c "$BENCH_CPU")
else
	echo "bench-eql: no taskset: the runs are not pinned to one core" >&2
fi
timer=()
if [[ -x /usr/bin/time ]] && /usr/bin/time -v true 2>/dev/null; then
	timer=(/usr/bin/time -v -o)
else
	echo "bench-eql: no GNU time (/usr/bin/time -v): max RSS is not measured" >&2
fi

# Warm the page cache so that every run reads the file from memory.
cat "$data" >/dev/null

# run NAME QUERY [FLAG...]: sets secs, rss_mb, results, skipped (fastest of
# BENCH_RUNS).
run() {
	local name=$1 query=$2 out=$BENCH_DIR/$1.out err=$BENCH_DIR/$1.err tfile=$BENCH_DIR/$1.time
	shift 2
	local i t0 t1 s rss
	secs=""
	for ((i = 0; i < BENCH_RUNS; i++)); do
		local cmd=("${pin[@]}" "$vigil" eql --format ndjson --stats "$@" "$query" "$data")
		if ((${#timer[@]})); then
			cmd=("${timer[@]}" "$tfile" "${cmd[@]}")
		fi
		t0=$(date +%s%N)
		if ! "${cmd[@]}" >"$out" 2>"$err"; then
			cat "$err" >&2
			die "$name: vigil eql failed (output in $out, $err)"
		fi
		t1=$(date +%s%N)
		s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
		rss="n/a"
		if [[ -s $tfile ]]; then
			rss=$(sed -n 's/.*Maximum resident set size (kbytes): *//p' "$tfile" | awk '{ printf "%.0f", $1 / 1024 }')
		fi
		if [[ -z $secs ]] || awk -v a="$s" -v b="$secs" 'BEGIN { exit !(a < b) }'; then
			secs=$s rss_mb=$rss
		fi
	done
	results=$(wc -l <"$out")
	skipped=$(sed -n 's/.*(\([0-9]*\) skipped by prefilter).*/\1/p' "$err")
	skipped=${skipped:-0}
}

declare -a rows
parse_secs=""
# bench LABEL QUERY-NAME EXPECTED [FLAG...]
bench() {
	local label=$1 key=$2 expected=$3 query
	shift 3
	query=$("$gen" -query "$key")
	local name=$key
	(($#)) && name+=$(printf '%s' "$*" | tr -c 'a-z0-9' '_')
	run "$name" "$query" "$@"
	[[ -n $parse_secs ]] || parse_secs=$secs
	local mbs ratio pct check
	mbs=$(awk -v b="$bytes" -v s="$secs" 'BEGIN { printf "%.0f", b / 1e6 / s }')
	ratio=$(awk -v p="$parse_secs" -v s="$secs" 'BEGIN { printf "%.2f", p / s }')
	pct=$(awk -v k="$skipped" -v n="${st[LINES]}" 'BEGIN { printf "%.1f%%", 100 * k / n }')
	check=$results
	[[ $results == "$expected" ]] || check="**$results (expected $expected)**"
	rows+=("| $label | $secs | $mbs | ${ratio}x | $rss_mb | $check | $pct |")
	echo "bench-eql: $label: ${secs}s, $mbs MB/s, ${ratio}x parse, max RSS $rss_mb MB, $results results" >&2
}

bench "(a) parse only: \`$("$gen" -query parse)\`" parse 0
# The baseline must not be prefiltered, or it would not be one.
[[ $skipped == 0 ]] || die "the parse-only query was prefiltered ($skipped lines): it is no baseline"
bench "(b) seed rule (User Account Creation)" seed "${st[SEED_MATCHES]}"
bench "(c) non-selective: \`$("$gen" -query nonselective)\`" nonselective "${st[NONSELECTIVE_MATCHES]}"
bench "(d) sequence by process.entity_id, maxspan=5m" sequence "${st[SEQUENCES]}"
# The data is sorted, so a tight reorder window gives the same sequences
# with memory bounded by the open sequences alone.
if "$vigil" eql --help 2>&1 | grep -q -- --reorder-window; then
	bench "(d) same, \`--reorder-window 1s\`" sequence "${st[SEQUENCES]}" --reorder-window 1s
	bench "(d) same, \`--reorder-window 0\` (exact order, holds every candidate)" sequence "${st[SEQUENCES]}" --reorder-window 0
fi

cpu="one core (taskset -c $BENCH_CPU)"
((${#pin[@]})) || cpu="all cores (no taskset)"
cat <<EOF

### vigil eql on $(awk -v b="$bytes" 'BEGIN { printf "%.2f GB", b / 1e9 }') of ECS NDJSON (${st[LINES]} events, $BENCH_PROFILE profile), $cpu

Commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- 2>/dev/null || echo "+changes"), $(go env GOVERSION), $(nproc) CPUs, fastest of $BENCH_RUNS run(s), file in page cache.
Ratios are against (a), measured in the same run; results are output lines (events or sequences).

| query | seconds | MB/s | vs parse | max RSS MB | results | skipped by prefilter |
| --- | ---: | ---: | ---: | ---: | ---: | ---: |
EOF
printf '%s\n' "${rows[@]}"
