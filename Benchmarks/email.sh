#!/usr/bin/env bash
# Email benchmark: the hub's SMTP sending (EmailBenchmark, release build: the same client and connection pool the
# outbox uses) against Postfix's smtp-sink on loopback, beside Postfix's own smtp-source on the same sink (the
# ceiling), in one run. Prints both rates and the ratio (target >= 80%).
#
#   MESSAGES=20000 CONNECTIONS=20 SIZE=1000 PORT=18025 bash Benchmarks/email.sh
#   EMAIL_BENCHMARK=/path/to/EmailBenchmark bash Benchmarks/email.sh    (skips the build)
#
# smtp-sink and smtp-source come with postfix (scripts/install-deps.sh --test).
set -euo pipefail
cd "$(dirname "$0")/.."
MESSAGES=${MESSAGES:-20000}
CONNECTIONS=${CONNECTIONS:-20}
SIZE=${SIZE:-1000}
PORT=${PORT:-18025}

tool() {  # postfix installs them in /usr/sbin, which is not on every user's PATH
    command -v "$1" 2>/dev/null || { [ -x "/usr/sbin/$1" ] && echo "/usr/sbin/$1"; } || {
        echo "$1 is missing: scripts/install-deps.sh --test installs postfix, which has it" >&2; exit 1; }
}
SINK_BIN=$(tool smtp-sink)
SOURCE_BIN=$(tool smtp-source)

if [ -z "${EMAIL_BENCHMARK:-}" ]; then
    swift build -c release --product EmailBenchmark >/dev/null
    EMAIL_BENCHMARK="$(swift build -c release --show-bin-path)/EmailBenchmark"
fi
[ -x "$EMAIL_BENCHMARK" ] || { echo "EmailBenchmark not found at $EMAIL_BENCHMARK"; exit 1; }

WORK=$(mktemp -d)
SINK=""
cleanup() {
    if [ -n "$SINK" ]; then kill "$SINK" 2>/dev/null || true; wait "$SINK" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

# The sink: accepts everything, keeps nothing. As root it must drop privileges after binding (-u).
sink_args=(-c)
if [ "$(id -u)" -eq 0 ]; then sink_args+=(-u nobody); fi
"$SINK_BIN" "${sink_args[@]}" "127.0.0.1:$PORT" 256 >"$WORK/sink.log" 2>&1 &
SINK=$!
for _ in $(seq 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then break; fi
    kill -0 "$SINK" 2>/dev/null || { echo "smtp-sink did not start:"; cat "$WORK/sink.log"; exit 1; }
    sleep 0.1
done
(exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null || { echo "smtp-sink is not listening on 127.0.0.1:$PORT"; exit 1; }

now() { date +%s.%N; }
source_rate() {  # messages/s of smtp-source with the given extra flags
    local start end
    start=$(now)
    "$SOURCE_BIN" "$@" -s "$CONNECTIONS" -m "$MESSAGES" -l "$SIZE" -f bench@example.test -t sink@example.test "127.0.0.1:$PORT"
    end=$(now)
    awk -v n="$MESSAGES" -v s="$start" -v e="$end" 'BEGIN { printf "%.0f", n / (e - s) }'
}

# The ceiling: Postfix's own SMTP client, a new connection per message (as smtp-source does by default) ...
"$SOURCE_BIN" -s "$CONNECTIONS" -m 2000 -l "$SIZE" -f bench@example.test -t sink@example.test "127.0.0.1:$PORT"  # warm-up
ceiling=$(source_rate)
# ... and, for reference, with connections kept open (-d).
reused=$(source_rate -d)

# The hub's client.
out=$("$EMAIL_BENCHMARK" --url "smtp://127.0.0.1:$PORT" --messages "$MESSAGES" --connections "$CONNECTIONS" --size "$SIZE")
echo "$out"
rate=$(sed -nE 's/.*= ([0-9.]+) msg\/s.*/\1/p' <<<"$out" | tail -1)
[ -n "$rate" ] || { echo "EmailBenchmark printed no '= R msg/s' line"; exit 1; }

echo "smtp-source -d (connections reused): $reused msg/s"
echo "email: $rate msg/s vs smtp-source $ceiling msg/s = $(awk -v a="$rate" -v b="$ceiling" 'BEGIN { printf "%.0f%%", 100 * a / b }') (target ≥ 80%)"
