#!/usr/bin/env bash
# Routing benchmarks on the pure engine (release build): decision latency with 10,000 queued and
# 1,000 agents against the 50 µs p99 ceiling, then a Poisson/exponential simulation whose service
# level is printed beside the Erlang C prediction.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product RoutingBenchmark >/dev/null
"$(swift build -c release --show-bin-path)/RoutingBenchmark" "${1:-all}"
