#!/usr/bin/env bash
# Fuzzes the live API against its own OpenAPI document with Schemathesis (4.x).
#
#   Tests/e2e/schemathesis.sh path/to/switchboard
#
# Starts `switchboard serve` on a free loopback port with a fresh database in a temp dir,
# seeds a team, an agent, an inbound conversation and a web chat visitor (whose token the /webchat
# operations use) so that ids exist, then runs `schemathesis run` on the /openapi.json the server
# itself serves. Exits non-zero when Schemathesis finds a failure. The server is always killed on exit.
#
# Environment (all optional):
#   SCHEMATHESIS_MAX_EXAMPLES  test cases per operation and phase (default 25)
#   SCHEMATHESIS_SEED          a seed, to replay a run (each run prints its seed)
#   SCHEMATHESIS_WORKERS       concurrent workers (default 1: with more, Hypothesis on CPython 3.11
#                              sometimes fails inside the tool with "AST constructor recursion depth mismatch")
#   SCHEMATHESIS_PORT          the port to use (default: a free one)
set -euo pipefail

if [[ $# -ne 1 ]]; then
    echo "usage: $0 path/to/switchboard" >&2
    exit 2
fi
BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
if [[ ! -x "$BIN" ]]; then
    echo "$0: not an executable: $1" >&2
    exit 2
fi
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
for tool in curl python3 schemathesis; do
    command -v "$tool" >/dev/null || { echo "$0: $tool is required" >&2; exit 2; }
done

# The binary reads SWITCHBOARD_* variables as configuration: run it without any.
while read -r name; do unset "$name"; done < <(compgen -e | grep '^SWITCHBOARD_' || true)

WORK=$(mktemp -d "${TMPDIR:-/tmp}/switchboard-schemathesis.XXXXXX")
SERVER_PID=""
cleanup() {
    local rc=$?
    if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill "$SERVER_PID" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    if [[ $rc -ne 0 && -f "$WORK/server.log" ]]; then
        echo "--- last lines of the server log ---" >&2
        tail -n 20 "$WORK/server.log" >&2 || true
    fi
    rm -rf "$WORK"
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

PORT=${SCHEMATHESIS_PORT:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')}
BASE="http://127.0.0.1:$PORT"
cd "$WORK"

TOKEN=$("$BIN" token create --role admin --name schemathesis --database "$WORK/switchboard.sqlite" | tail -n 1)
[[ "$TOKEN" == sb_* ]] || { echo "$0: could not create an admin token" >&2; exit 1; }
AUTH="Authorization: Bearer $TOKEN"

"$BIN" serve --port "$PORT" --database "$WORK/switchboard.sqlite" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!

for _ in $(seq 300); do
    if curl -fsS --max-time 1 "$BASE/healthz" >/dev/null 2>&1; then break; fi
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then echo "$0: the server exited at startup" >&2; exit 1; fi
    sleep 0.1
done
curl -fsS --max-time 2 "$BASE/healthz" >/dev/null || { echo "$0: no answer on $BASE/healthz after 30 s" >&2; exit 1; }

# POSTs JSON to the API and prints the answer; fails on any non-2xx.
post() {
    curl -fsS --max-time 10 -X POST "$BASE$1" -H "$AUTH" -H 'Content-Type: application/json' --data "$2"
}
field() {
    python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"
}

TEAM=$(post /v1/teams '{"name": "Support"}' | field id)
AGENT=$(post /v1/agents "{\"name\": \"Ada\", \"email\": \"ada@example.com\", \"teamIds\": [\"$TEAM\"], \"skills\": [{\"name\": \"billing\", \"level\": 5}]}" | field id)
CONVERSATION=$(post /v1/inbound '{"from": "alice@example.com", "name": "Alice", "text": "Hello, my order is late.", "externalId": "seed-1"}' | field conversationId)
post /v1/inbound "{\"from\": \"alice@example.com\", \"text\": \"Any news?\", \"conversationId\": \"$CONVERSATION\"}" >/dev/null
post /v1/inbound '{"from": "bob", "text": "Hi", "attachments": [{"filename": "a.png", "contentType": "image/png", "size": 10}]}' >/dev/null
post "/v1/conversations/$CONVERSATION/assign" "{\"agentId\": \"$AGENT\", \"teamId\": \"$TEAM\"}" >/dev/null
post "/v1/conversations/$CONVERSATION/messages" '{"text": "Looking into it.", "private": true}' >/dev/null
# The visitor API (/webchat) takes a visitor token, not the admin one: start a session and use its token there.
VISITOR_TOKEN=$(curl -fsS --max-time 10 -X POST "$BASE/webchat/v1/sessions" -H 'Content-Type: application/json' --data '{"name": "Vera"}' | field token)
curl -fsS --max-time 10 -X POST "$BASE/webchat/v1/messages" -H "Authorization: Bearer $VISITOR_TOKEN" -H 'Content-Type: application/json' \
    --data '{"text": "Hello from the widget.", "clientId": "seed-1"}' >/dev/null
printf '[[operations]]\ninclude-path-regex = "^/webchat/"\nheaders = { Authorization = "Bearer %s" }\n' "$VISITOR_TOKEN" >"$WORK/schemathesis.toml"
echo "seeded team $TEAM, agent $AGENT, conversation $CONVERSATION, visitor session on $BASE"

# Warn when the binary serves another document than the one in the repository.
if ! curl -fsS "$BASE/openapi.json" | cmp -s - "$REPO/Sources/HubServer/openapi.json"; then
    echo "warning: $BIN serves an openapi.json that differs from Sources/HubServer/openapi.json (stale build?)" >&2
fi

ARGS=(
    run "$BASE/openapi.json"
    --url "$BASE"
    --header "$AUTH"
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance
    # An endless Server-Sent Events stream: nothing to fuzz there.
    --exclude-path /v1/events
    --max-examples "${SCHEMATHESIS_MAX_EXAMPLES:-25}"
    --request-timeout 10
    --workers "${SCHEMATHESIS_WORKERS:-1}"
    --generation-database none
    --output-truncate true
    --no-color
)
if [[ -n "${SCHEMATHESIS_SEED:-}" ]]; then ARGS+=(--seed "$SCHEMATHESIS_SEED"); fi

if schemathesis --config-file "$WORK/schemathesis.toml" "${ARGS[@]}"; then
    echo "schemathesis: passed"
else
    rc=$?
    echo "schemathesis: FAILED (exit $rc)" >&2
    exit "$rc"
fi
