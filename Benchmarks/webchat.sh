#!/usr/bin/env bash
# Realtime benchmark: VISITORS web chat visitors on WebSockets at once against a release build of the hub,
# each sending (about once a minute) and receiving agent replies posted at RATE/s through the inbox API.
# Prints connect time, fan-out latency p50/p90/p99/max, lost replies (must be 0), the server's RSS before
# and after connecting the clients, and PASS/FAIL against DESIGN.md's ceiling: 10,000 clients, fan-out p99 <= 50 ms.
set -euo pipefail
cd "$(dirname "$0")/.."
VISITORS=${VISITORS:-10000}
DURATION=${DURATION:-30}
RATE=${RATE:-200}
PORT=${PORT:-18092}
python3 -c 'import requests, websockets.asyncio.client' 2>/dev/null ||
    { echo "python3 with requests and websockets >= 14 is needed: scripts/install-deps.sh --test installs them"; exit 1; }
command -v curl >/dev/null || { echo "curl is missing: scripts/install-deps.sh installs it"; exit 1; }

# One socket per visitor on each side (the server's and this client's), plus files, the database and HTTP.
ulimit -n "$(ulimit -Hn)"
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $((VISITORS + 1024)) ]; then
    echo "open-file limit $(ulimit -n) is below VISITORS + 1024 = $((VISITORS + 1024)): lower VISITORS or raise the hard limit"
    exit 1
fi

swift build -c release --product switchboard >/dev/null
BIN=$(swift build -c release --show-bin-path)
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

wait_for() { for _ in $(seq 100); do curl -s -o /dev/null "$1" && return 0; sleep 0.1; done; echo "server at $1 did not start"; exit 1; }

# Limits far above the load, so the benchmark measures fan-out, not the rate limiter (every client is 127.0.0.1).
cat >"$WORK/switchboard.json" <<JSON
{"webchat": {"visitorMessagesPerMinute": 1000000, "ipRequestsPerMinute": 1000000}}
JSON
TOKEN=$(cd "$WORK" && "$BIN/switchboard" token create --role admin --database "$WORK/bench.sqlite" | tail -1)
(cd "$WORK" && exec "$BIN/switchboard" serve --port "$PORT" --database "$WORK/bench.sqlite" >"$WORK/serve.log" 2>&1) &
SERVER=$!
wait_for "http://127.0.0.1:$PORT/healthz"

status=0
python3 Benchmarks/webchat_fanout.py --url "http://127.0.0.1:$PORT" --token "$TOKEN" --pid "$SERVER" \
    --visitors "$VISITORS" --duration "$DURATION" --rate "$RATE" || status=$?
if ! kill -0 "$SERVER" 2>/dev/null; then
    echo "the server exited during the run; the end of its log:"
    tail -30 "$WORK/serve.log"
    status=1
fi
stored=$(sqlite3 "$WORK/bench.sqlite" "SELECT COUNT(*) FROM message" 2>/dev/null || echo "?")
echo "messages stored durably: $stored"
exit $status
