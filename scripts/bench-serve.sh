#!/usr/bin/env bash
# bench-serve.sh: load test of vigil serve on loopback, bounded in count.
#
# Runs BenchmarkServe (server/bench_test.go): 4 HTTP clients send _bulk
# requests of 1,000 generated endpoint events (internal/benchgen) to a
# server on 127.0.0.1 with the embedded JetStream log, without detection and
# with vigil serve's detection (the scheduler consuming the log with every
# EQL rule of ../shared/rules/detection-rules, rules + rules_building_block:
# 1,024, or the built-in pack when ../shared is absent; alerts stored in
# SQLite) at 1 and GOMAXPROCS detect workers. Each sub-benchmark sends
# BENCH_REQUESTS requests. Reported per sub-benchmark:
#   events/s           acknowledged (stored in the log) events per second
#   p99-ms             99th percentile request latency
#   lag-at-end         log messages the detectors still had to evaluate when
#                      the last request was answered
#   detected-events/s  events per second from the first request until the
#                      detectors had evaluated every event: the sustained rate
#   engine-only        one detection engine alone over the same lines
#   engine-parallel    detect.Parallel alone (the ceiling with all workers)
# The generated events are an alert storm for the prebuilt rules (about 11%
# alert, most beyond max_signals): storing alerts is part of the cost.
#
# Alert latency at paced rates (one run, one sub-benchmark per rate):
#   VIGIL_BENCH_RATES=5000,10000,20000,40000 go test ./server -run '^$' \
#     -bench ServeAlertLatency -benchtime 300x
#
# Environment: BENCH_REQUESTS (default 200), BENCH_COUNT (default 1).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${BENCH_REQUESTS:-200}
COUNT=${BENCH_COUNT:-1}
set -x
go test ./server -run '^$' -bench '^BenchmarkServe$' -benchtime "${N}x" -count "$COUNT" -timeout 60m
