#!/usr/bin/env bash
# bench-evtx.sh: one-core throughput of Vigil's Windows event log path over
# the windows-evtx-bulk corpus (issue 4).
#
# Builds ./cmd/vigil and ./cmd/vigil-evtxbench, then measures, pinned to one
# core (taskset, when present) with GOMAXPROCS=1:
#   (1) read only        vigil-evtxbench: every record decoded, its System
#                        fields and EventData/UserData pairs extracted (what
#                        the normaliser needs); once with independent records
#                        (evtx.Reader default), once with -reuse
#                        (evtx.Reader.Reuse: record memory reused)
#   (2) read+normalise   vigil normalize FILES >/dev/null; and in process
#                        (vigil-evtxbench -normalize: the same reading and
#                        normalisation without vigil's start-up and output)
#   (3) hunt             vigil hunt --workers 1 (alerts to /dev/null) with
#                        every EQL rule whose index patterns cover Windows
#                        event logs (winlogbeat-*,
#                        logs-windows.*, logs-system.security*, .system*,
#                        .application*, logs-system.*), from rules/ (except
#                        _deprecated) and rules_building_block
# and prints a markdown table (seconds, CPU seconds, records, records/s, MB/s,
# max RSS) and, for (3), the alerts by rule.
#
# Environment:
#   BENCH_DIR   binaries and outputs (default /tmp/vigil-bench-evtx)
#   BENCH_CPU   the core to pin to (default 0)
#   BENCH_RUNS  rounds; each runs every step of every build once (alternating
#               builds, so that both see the same load), the fastest run of
#               each is reported (default 1)
#   BENCH_BASE  a git revision to measure too, as a baseline in the same run
#               (built in a temporary worktree; read-only rows need
#               cmd/vigil-evtxbench in that revision, else they say n/a)
#   EVTX_DIR    the corpus (default ../shared/telemetry/windows-evtx-bulk)
#   RULES_DIR   Elastic's detection-rules checkout (default ../shared/rules/detection-rules)
set -euo pipefail
cd "$(dirname "$0")/.."

BENCH_DIR=${BENCH_DIR:-/tmp/vigil-bench-evtx}
BENCH_CPU=${BENCH_CPU:-0}
BENCH_RUNS=${BENCH_RUNS:-1}
BENCH_BASE=${BENCH_BASE:-}
EVTX_DIR=${EVTX_DIR:-../shared/telemetry/windows-evtx-bulk}
RULES_DIR=${RULES_DIR:-../shared/rules/detection-rules}

die() {
	echo "bench-evtx: $*" >&2
	exit 1
}

[[ $BENCH_RUNS =~ ^[0-9]+$ && $BENCH_RUNS -gt 0 ]] || die "BENCH_RUNS=$BENCH_RUNS: want a count"
[[ -d $EVTX_DIR ]] || die "$EVTX_DIR absent (set EVTX_DIR)"
[[ -d $RULES_DIR/rules ]] || die "$RULES_DIR/rules absent (set RULES_DIR)"
command -v go >/dev/null || die "go is not on PATH"
mkdir -p "$BENCH_DIR/bin"

# Builds: the working tree, and BENCH_BASE if set.
builds=(cur)
go build -o "$BENCH_DIR/bin/vigil-cur" ./cmd/vigil || die "cannot build ./cmd/vigil"
go build -o "$BENCH_DIR/bin/vigil-evtxbench-cur" ./cmd/vigil-evtxbench || die "cannot build ./cmd/vigil-evtxbench"
cur_label="working tree ($(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- 2>/dev/null || echo "+changes"))"
base_label=""
if [[ -n $BENCH_BASE ]]; then
	wt=$BENCH_DIR/base-src
	git worktree remove --force "$wt" 2>/dev/null || rm -rf "$wt"
	git worktree add --detach "$wt" "$BENCH_BASE" >/dev/null 2>&1 || die "cannot check out $BENCH_BASE"
	(cd "$wt" && go build -o "$BENCH_DIR/bin/vigil-base" ./cmd/vigil) || die "cannot build ./cmd/vigil at $BENCH_BASE"
	rm -f "$BENCH_DIR/bin/vigil-evtxbench-base"
	if [[ -d $wt/cmd/vigil-evtxbench ]]; then
		(cd "$wt" && go build -o "$BENCH_DIR/bin/vigil-evtxbench-base" ./cmd/vigil-evtxbench) || true
	fi
	base_label="$BENCH_BASE ($(git rev-parse --short "$BENCH_BASE"))"
	git worktree remove --force "$wt" >/dev/null 2>&1 || true
	builds=(base cur)
fi

# The corpus: .evtx files only (the directory also holds MANIFEST.json).
mapfile -d '' files < <(find "$EVTX_DIR" -type f -iname '*.evtx' -print0 | sort -z)
((${#files[@]})) || die "no .evtx files under $EVTX_DIR"
bytes=$(printf '%s\0' "${files[@]}" | xargs -0 stat -c %s | awk '{ s += $1 } END { print s }')
cat "${files[@]}" >/dev/null # page cache

# The rules: EQL rules with a Windows event log index pattern.
rules=()
while IFS= read -r f; do
	rules+=(--rules "$f")
done < <(find "$RULES_DIR/rules" "$RULES_DIR/rules_building_block" -name '*.toml' -not -path '*/_deprecated/*' -print0 |
	xargs -0 awk '
		FNR == 1 && NR > 1 && eql && win { print prev }
		FNR == 1 { eql = 0; win = 0; inidx = 0; prev = FILENAME }
		/^type *= *"eql"/ { eql = 1 }
		/^index *= *\[/ { inidx = 1 }
		inidx && /"(winlogbeat-|logs-windows\.|logs-system\.(security|system|application)|logs-system\.\*)/ { win = 1 }
		inidx && /\]/ { inidx = 0 }
		END { if (eql && win) print prev }
	' | sort)
nrules=$((${#rules[@]} / 2))
((nrules)) || die "no Windows EQL rules found under $RULES_DIR"

# The script itself is pinned (its children inherit the core) and
# GOMAXPROCS exported, so that no taskset or env process is started inside
# the measured interval: process start-ups cost milliseconds here.
ncpu=$(nproc) # before pinning, which leaves one
pin=()
if command -v taskset >/dev/null && taskset -cp "$BENCH_CPU" $$ >/dev/null; then
	pin=(taskset)
else
	echo "bench-evtx: no taskset: the runs are not pinned to one core (GOMAXPROCS=1 still)" >&2
fi
export GOMAXPROCS=1
timer=()
if [[ -x /usr/bin/time ]] && /usr/bin/time -f '%U' true 2>/dev/null; then
	timer=(/usr/bin/time -f '%U %S %M' -o)
else
	echo "bench-evtx: no GNU time: CPU seconds and max RSS are not measured" >&2
fi

# stamp sets T to the time in seconds: bash's clock where it has one (no
# process, not even a subshell, started inside the measured interval).
stamp() {
	if [[ -n ${EPOCHREALTIME:-} ]]; then
		T=${EPOCHREALTIME/,/.}
	else
		T=$(date +%s.%N)
	fi
}

# run_once NAME CMD...: runs CMD once (stdout to $BENCH_DIR/NAME.out, or to
# /dev/null for vigil normalize and hunt, whose documents and alerts are
# not the measure: writing 46 MB (hunt: 160 MB) to a file cost more than
# a tenth of a run; stderr to NAME.err) and keeps, per NAME, the fastest
# run's seconds, CPU seconds and max RSS.
declare -A best_secs best_cpu best_rss
run_once() {
	local name=$1 tfile=$BENCH_DIR/$1.time
	shift
	local t0 t1 s u sy m out=$BENCH_DIR/$name.out
	[[ $name == normalize-base || $name == normalize-cur || $name == hunt-* ]] && out=/dev/null
	local cmd=("$@")
	((${#timer[@]})) && cmd=("${timer[@]}" "$tfile" "${cmd[@]}")
	stamp
	t0=$T
	"${cmd[@]}" >"$out" 2>"$BENCH_DIR/$name.err" || true
	stamp
	t1=$T
	s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
	if [[ -z ${best_secs[$name]:-} ]] || awk -v a="$s" -v b="${best_secs[$name]}" 'BEGIN { exit !(a < b) }'; then
		best_secs[$name]=$s best_cpu[$name]="n/a" best_rss[$name]="n/a"
		if [[ -s $tfile ]]; then
			read -r u sy m < <(tail -1 "$tfile")
			best_cpu[$name]=$(awk -v u="$u" -v s="$sy" 'BEGIN { printf "%.2f", u + s }')
			best_rss[$name]=$(awk -v m="$m" 'BEGIN { printf "%.0f", m / 1024 }')
		fi
	fi
}

declare -a rows
declare -A rate
# row STEP BUILD NAME RECORDS: one table line from the best run of NAME.
row() {
	local step=$1 build=$2 name=$3 records=$4 label rps mbs cps secs=${best_secs[$3]} cpu=${best_cpu[$3]}
	label=$cur_label
	[[ $build == base ]] && label=$base_label
	rps=$(awk -v n="$records" -v s="$secs" 'BEGIN { printf "%.0f", n / s }')
	mbs=$(awk -v b="$bytes" -v s="$secs" 'BEGIN { printf "%.1f", b / 1e6 / s }')
	cps="n/a"
	[[ $cpu != n/a ]] && cps=$(awk -v n="$records" -v c="$cpu" 'BEGIN { printf "%.0f", (c > 0 ? n / c : 0) }')
	rate[$step/$build]=$rps
	rate[cpu/$step/$build]=$cps
	rows+=("| $step | $label | $secs | $cpu | $records | $rps | $cps | $mbs | ${best_rss[$name]} |")
	echo "bench-evtx: $step, $label: ${secs}s, $records records, $rps records/s ($cps per CPU second), $mbs MB/s" >&2
}

# The runs: every step of every build once per round, BENCH_RUNS rounds, so
# that a baseline and the working tree see the same load on a shared machine.
# Help texts are read whole, not piped into grep -q: grep exits at the
# first match, the writer may die of SIGPIPE, and pipefail then turned a
# match into a miss (a row went missing).
workers_of() {
	# One evaluation worker, where the build has the flag (older ones are single-threaded).
	local help
	help=$("$BENCH_DIR/bin/vigil-$1" hunt --help 2>&1 || true)
	[[ $help == *--workers* ]] && echo --workers 1
	return 0
}
for ((round = 0; round < BENCH_RUNS; round++)); do
	for b in "${builds[@]}"; do
		eb=$BENCH_DIR/bin/vigil-evtxbench-$b
		if [[ -x $eb ]]; then
			run_once "read-$b" "$eb" "${files[@]}"
			ehelp=$("$eb" -h 2>&1 || true)
			[[ $ehelp == *-reuse* ]] && run_once "read-reuse-$b" "$eb" -reuse "${files[@]}"
			[[ $ehelp == *-normalize* ]] && run_once "normalize-inproc-$b" "$eb" -normalize "${files[@]}"
		fi
		run_once "normalize-$b" "$BENCH_DIR/bin/vigil-$b" normalize "${files[@]}"
		read -ra workers < <(workers_of "$b")
		run_once "hunt-$b" "$BENCH_DIR/bin/vigil-$b" hunt "${workers[@]}" --stats --format ndjson "${rules[@]}" "${files[@]}"
	done
done
for b in "${builds[@]}"; do
	if [[ -n ${best_secs[read-$b]:-} ]]; then
		n=$(sed -n 's/.* records \([0-9]*\) .*/\1/p' "$BENCH_DIR/read-$b.out")
		[[ -n $n ]] || die "read-only ($b) failed: $(cat "$BENCH_DIR/read-$b.err")"
		row "(1) read only" "$b" "read-$b" "$n"
		if [[ -n ${best_secs[read-reuse-$b]:-} ]]; then
			n=$(sed -n 's/.* records \([0-9]*\) .*/\1/p' "$BENCH_DIR/read-reuse-$b.out")
			row "(1) read only, Reader.Reuse" "$b" "read-reuse-$b" "$n"
		fi
	else
		rows+=("| (1) read only | $base_label | n/a (no cmd/vigil-evtxbench) | | | | | | |")
	fi
	if [[ -n ${best_secs[normalize-inproc-$b]:-} ]]; then
		n=$(sed -n 's/.* records \([0-9]*\) .*/\1/p' "$BENCH_DIR/normalize-inproc-$b.out")
		row "(2) read+normalise in process" "$b" "normalize-inproc-$b" "$n"
	fi
	n=$(sed -n 's/.*files, \([0-9]*\) records.*/\1/p' "$BENCH_DIR/normalize-$b.err" | tail -1)
	[[ -n $n ]] || die "vigil normalize ($b) failed: $(tail -5 "$BENCH_DIR/normalize-$b.err")"
	row "(2) read+normalise" "$b" "normalize-$b" "$n"
	n=$(sed -n 's/.* files, \([0-9]*\) events read.*/\1/p' "$BENCH_DIR/hunt-$b.err" | tail -1)
	[[ -n $n ]] || die "vigil hunt ($b) failed: $(tail -5 "$BENCH_DIR/hunt-$b.err")"
	row "(3) hunt, $nrules rules" "$b" "hunt-$b" "$n"
done

cpuinfo="one core (taskset -c $BENCH_CPU), GOMAXPROCS=1"
((${#pin[@]})) || cpuinfo="GOMAXPROCS=1 (no taskset)"
cat <<EOF

### Windows event logs: ${#files[@]} .evtx files, $(awk -v b="$bytes" 'BEGIN { printf "%.1f MB", b / 1e6 }') ($EVTX_DIR), $cpuinfo

$(go env GOVERSION), $ncpu CPUs, fastest of $BENCH_RUNS run(s) (builds interleaved), files in page cache; seconds and
records/s are wall-clock time of the whole process (start-up included), records/CPU s divides by its user+system
CPU time (less disturbed by other load on a shared machine). (1) extracts System,
EventData and UserData from each record; (2) writes the ECS documents to /dev/null (vigil normalize; "in process":
vigil-evtxbench -normalize, documents built and discarded, no vigil start-up); (3) runs the $nrules EQL
rules of detection-rules whose index patterns cover Windows event logs (winlogbeat-*, logs-windows.*,
logs-system.security*/system*/application*/\*; rules/ except _deprecated, and rules_building_block). CPU s is user+system time (GNU time).

| step | build | seconds | CPU s | records | records/s | records/CPU s | MB/s | max RSS MB |
| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
EOF
printf '%s\n' "${rows[@]}"
if [[ -n $BENCH_BASE ]]; then
	echo
	echo "Speed-up of the working tree over $base_label (records/s ratio, and records/CPU s ratio, same run):"
	for step in "(1) read only" "(1) read only, Reader.Reuse" "(2) read+normalise in process" "(2) read+normalise" "(3) hunt, $nrules rules"; do
		if [[ -n ${rate[$step/base]:-} && -n ${rate[$step/cur]:-} ]]; then
			cpuratio=n/a
			if [[ ${rate[cpu/$step/base]:-n/a} != n/a && ${rate[cpu/$step/cur]:-n/a} != n/a ]]; then
				cpuratio=$(awk -v a="${rate[cpu/$step/cur]}" -v b="${rate[cpu/$step/base]}" 'BEGIN { printf "%.2fx", a / b }')
			fi
			echo "- $step: $(awk -v a="${rate[$step/cur]}" -v b="${rate[$step/base]}" 'BEGIN { printf "%.2fx", a / b }') (CPU: $cpuratio)"
		fi
	done
fi
last=${builds[-1]}
echo
echo "Alerts of (3) by rule ($cur_label):"
echo
echo '```'
# The --stats summary: total line, then "  COUNT  rule (severity)" lines.
grep -E '^vigil: [0-9]+ alerts|^ +[0-9]+  ' "$BENCH_DIR/hunt-$last.err" || echo "(no alerts)"
echo '```'
if [[ -n $BENCH_BASE ]]; then
	if cmp -s <(grep -E '^ +[0-9]+  ' "$BENCH_DIR/hunt-base.err") <(grep -E '^ +[0-9]+  ' "$BENCH_DIR/hunt-cur.err"); then
		echo "Alerts by rule are the same for $base_label."
	else
		echo "**Alerts by rule differ from $base_label** (see $BENCH_DIR/hunt-base.err)."
	fi
fi
