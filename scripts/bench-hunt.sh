#!/usr/bin/env bash
# bench-hunt.sh: `vigil hunt` with Elastic's whole prebuilt EQL corpus (all
# 1,024 rules) over generated ECS NDJSON, against parse-only on the same
# file in the same run.
#
# Measures, with the data set of bench-eql.sh (internal/benchgen; default
# 1 GiB, seed 1) and ../shared/rules/detection-rules:
#   (a) parse    `vigil eql 'any where false'` on one core: the baseline
#   (b) hunt, one core    (--workers 1, pinned)
#   (c) hunt, all cores   (--workers = cores, unpinned)
#   (d) hunt, all cores, on a file BENCH_SCALE times larger (default 4x):
#       peak memory as the input grows
# and prints a markdown table: seconds, MB/s, ratio to (a), user CPU
# seconds, max RSS, alerts. Alert output goes to /dev/null as NDJSON.
#
# Environment: BENCH_BYTES, BENCH_DIR, BENCH_SEED, BENCH_PROFILE as in
# bench-eql.sh (BENCH_PROFILE=noisy: ~11% of events alert, realistic: ~0.3%,
# nearly all of them the seed matches and decoys);
# BENCH_SCALE (default 4; 0 skips (d)); RULES (default
# ../shared/rules/detection-rules).
set -euo pipefail
cd "$(dirname "$0")/.."

BENCH_BYTES=${BENCH_BYTES:-1073741824}
BENCH_DIR=${BENCH_DIR:-/tmp/vigil-bench}
BENCH_SEED=${BENCH_SEED:-1}
BENCH_PROFILE=${BENCH_PROFILE:-realistic}
BENCH_SCALE=${BENCH_SCALE:-4}
RULES=${RULES:-../shared/rules/detection-rules}

die() {
	echo "bench-hunt: $*" >&2
	exit 1
}
[[ $BENCH_PROFILE =~ ^(realistic|noisy)$ ]] || die "BENCH_PROFILE=$BENCH_PROFILE: want realistic or noisy"
[[ -d $RULES/rules ]] || die "no detection-rules corpus at $RULES (set RULES)"
[[ -x /usr/bin/time ]] && /usr/bin/time -v true 2>/dev/null || die "needs GNU time (/usr/bin/time -v)"
mkdir -p "$BENCH_DIR/bin"
gen=$BENCH_DIR/bin/vigil-benchgen
vigil=$BENCH_DIR/bin/vigil
go build -o "$gen" ./internal/benchgen/cmd/vigil-benchgen
go build -o "$vigil" ./cmd/vigil

data=$BENCH_DIR/events-$BENCH_BYTES-seed$BENCH_SEED-$BENCH_PROFILE.ndjson
if [[ ! -s $data ]]; then
	echo "bench-hunt: generating $data..." >&2
	"$gen" -profile "$BENCH_PROFILE" -bytes "$BENCH_BYTES" -seed "$BENCH_SEED" -o "$data" 2>/dev/null
fi
big=""
if ((BENCH_SCALE > 0)); then
	big=$BENCH_DIR/events-$BENCH_BYTES-seed$BENCH_SEED-$BENCH_PROFILE-x$BENCH_SCALE.ndjson
	if [[ ! -s $big ]]; then
		echo "bench-hunt: generating $big..." >&2
		"$gen" -profile "$BENCH_PROFILE" -bytes $((BENCH_BYTES * BENCH_SCALE)) -seed "$BENCH_SEED" -o "$big" 2>/dev/null
	fi
fi
cores=$(nproc)
cat "$data" >/dev/null

rows=()
parse_secs=""
# run LABEL FILE CMD...: one timed run.
run() {
	local label=$1 file=$2
	shift 2
	local tfile=$BENCH_DIR/hunt.time err=$BENCH_DIR/hunt.err t0 t1 secs user rss bytes alerts mbs ratio
	t0=$(date +%s%N)
	/usr/bin/time -v -o "$tfile" "$@" "$file" >/dev/null 2>"$err" || {
		cat "$err" >&2
		die "$label failed"
	}
	t1=$(date +%s%N)
	secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", (b - a) / 1e9 }')
	user=$(sed -n 's/.*User time (seconds): *//p' "$tfile")
	rss=$(sed -n 's/.*Maximum resident set size (kbytes): *//p' "$tfile" | awk '{ printf "%.0f", $1 / 1024 }')
	bytes=$(stat -L -c %s "$file")
	mbs=$(awk -v b="$bytes" -v s="$secs" 'BEGIN { printf "%.1f", b / 1e6 / s }')
	[[ -n $parse_secs ]] || parse_secs=$(awk -v s="$secs" -v b="$bytes" 'BEGIN { print s / b }')
	ratio=$(awk -v p="$parse_secs" -v s="$secs" -v b="$bytes" 'BEGIN { printf "%.3f", p * b / s }')
	alerts=$(sed -n 's/^vigil: \([0-9]*\) alerts.*/\1/p' "$err")
	rows+=("| $label | $(awk -v b="$bytes" 'BEGIN { printf "%.2f", b / 1e9 }') | $secs | $mbs | ${ratio}x | $user | $rss | ${alerts:-n/a} |")
	echo "bench-hunt: $label: ${secs}s, $mbs MB/s, ${ratio}x parse-only, user ${user}s, max RSS ${rss} MB, ${alerts:-?} alerts" >&2
}

hunt=("$vigil" hunt --rules "$RULES/rules" --rules "$RULES/rules_building_block" --format ndjson --stats)
run "parse-only (\`eql 'any where false'\`, 1 core)" "$data" taskset -c 0 "$vigil" eql --format ndjson 'any where false'
run "hunt, 1,024 EQL rules, --workers 1 (1 core)" "$data" taskset -c 0 "${hunt[@]}" --workers 1
run "hunt, 1,024 EQL rules, --workers $cores" "$data" "${hunt[@]}" --workers "$cores"
if [[ -n $big ]]; then
	run "hunt, 1,024 EQL rules, --workers $cores, ${BENCH_SCALE}x input" "$big" "${hunt[@]}" --workers "$cores"
fi

echo
echo "data: $(basename "$data") (benchgen profile $BENCH_PROFILE, seed $BENCH_SEED)"
echo
echo "| run | GB | seconds | MB/s | vs parse-only | user CPU s | max RSS MB | alerts |"
echo "|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
