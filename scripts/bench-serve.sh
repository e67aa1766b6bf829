#!/usr/bin/env bash
# bench-serve.sh: load test of vigil serve on loopback, bounded in count.
#
# Runs BenchmarkServe (server/bench_test.go): 4 HTTP clients send _bulk
# requests of 1,000 generated endpoint events (internal/benchgen) to a
# server on 127.0.0.1 with the embedded JetStream log, with and without the
# detection consumer running every EQL rule of ../shared/rules/detection-rules
# (rules + rules_building_block: 1,024; the built-in pack when ../shared is
# absent). Each sub-benchmark sends BENCH_REQUESTS requests. Reported per
# sub-benchmark:
#   events/s           acknowledged (stored in the log) events per second
#   p99-ms             99th percentile request latency
#   lag-at-end         events the detectors still had to evaluate when the
#                      last request was answered
#   detected-events/s  events per second from the first request until the
#                      detectors had evaluated every event: the sustained rate
#   engine-only        the detection engine alone over the same lines
#
# Environment: BENCH_REQUESTS (default 200), BENCH_COUNT (default 1).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${BENCH_REQUESTS:-200}
COUNT=${BENCH_COUNT:-1}
set -x
go test ./server -run '^$' -bench '^BenchmarkServe$' -benchtime "${N}x" -count "$COUNT" -timeout 60m
