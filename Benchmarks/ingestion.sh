#!/usr/bin/env bash
# Ingestion benchmark: POST /v1/inbound driven by wrk against a release build of the hub,
# beside the same load on a bare Hummingbird POST endpoint (the ceiling), in one run.
# Prints sustained messages/s and p99, the ceiling, the ratio, and p99 at a fixed ~5,000/s.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-15s}
CONNECTIONS=${CONNECTIONS:-32}
command -v wrk >/dev/null || { echo "wrk is missing: scripts/install-deps.sh --test installs it"; exit 1; }

swift build -c release --product switchboard >/dev/null
swift build -c release --product BareHTTPBenchmark >/dev/null
BIN=$(swift build -c release --show-bin-path)
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

wait_for() { for _ in $(seq 100); do curl -s -o /dev/null "$1" && return 0; sleep 0.1; done; echo "server at $1 did not start"; exit 1; }

# The ceiling: bare Hummingbird.
"$BIN/BareHTTPBenchmark" 18090 >/dev/null 2>&1 &
BARE=$!
sleep 1
wrk -t2 -c"$CONNECTIONS" -d3s -s Benchmarks/ingestion.lua http://127.0.0.1:18090 >/dev/null
ceiling=$(wrk -t2 -c"$CONNECTIONS" -d"$DURATION" -s Benchmarks/ingestion.lua http://127.0.0.1:18090 | grep RESULT)
kill $BARE; wait $BARE 2>/dev/null || true

# The hub, durable (WAL, synchronous=FULL, group commit).
export SB_TOKEN=$("$BIN/switchboard" token create --role integration --database "$WORK/bench.sqlite" | tail -1)
"$BIN/switchboard" serve --port 18091 --database "$WORK/bench.sqlite" >"$WORK/serve.log" 2>&1 &
wait_for http://127.0.0.1:18091/healthz
wrk -t2 -c"$CONNECTIONS" -d3s -s Benchmarks/ingestion.lua http://127.0.0.1:18091 >/dev/null
hub=$(wrk -t2 -c"$CONNECTIONS" -d"$DURATION" -s Benchmarks/ingestion.lua http://127.0.0.1:18091 | grep RESULT)
# A paced load near 5,000/s: 32 connections each pausing 5 ms between requests.
fixed=$(SB_DELAY_MS=5 wrk -t2 -c32 -d"$DURATION" -s Benchmarks/ingestion.lua http://127.0.0.1:18091 | grep RESULT)
stored=$(sqlite3 "$WORK/bench.sqlite" "SELECT COUNT(*) FROM message" 2>/dev/null || echo "?")

rate() { sed -E 's/.* rate=([0-9]+).*/\1/' <<<"$1"; }
p99() { sed -E 's/.* p99_ms=([0-9.]+).*/\1/' <<<"$1"; }
echo "bare Hummingbird POST (ceiling): $(rate "$ceiling") req/s   p99 $(p99 "$ceiling") ms"
echo "switchboard /v1/inbound:          $(rate "$hub") msg/s   p99 $(p99 "$hub") ms"
echo "ratio to ceiling:                 $(awk -v a="$(rate "$hub")" -v b="$(rate "$ceiling")" 'BEGIN { printf "%.0f%%", 100 * a / b }')   (target >= 50%)"
echo "paced at $(rate "$fixed") msg/s:             p99 $(p99 "$fixed") ms   (target <= 25 ms at 5,000/s)"
echo "messages stored durably: $stored"
