#!/usr/bin/env bash
# Customer import benchmark: a generated CSV of ROWS lines (default 100,000; one in a hundred broken on purpose)
# imported by the release `switchboard customers import` into a fresh database, then exported. Prints the time
# and peak memory (maximum resident set size) of each, and checks that every broken line was reported.
#
#   ROWS=100000 bash Benchmarks/import.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${ROWS:-100000}
swift build -c release --product switchboard >/dev/null
BIN="$(swift build -c release --show-bin-path)/switchboard"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

python3 - "$WORK/customers.csv" "$ROWS" <<'PY'
import csv, random, sys
path, rows = sys.argv[1], int(sys.argv[2])
random.seed(7)
zones = ["Europe/Berlin", "America/New_York", "Asia/Shanghai", "America/Sao_Paulo", "Asia/Tokyo"]
with open(path, "w", newline="") as f:
    out = csv.writer(f, lineterminator="\n")
    out.writerow(["externalId", "name", "email", "phone", "timeZone", "tags", "emailMarketing", "smsMarketing",
                  "lastOrderAt", "orders", "revenue", "loyaltyCard"])
    for i in range(rows):
        broken = i % 100 == 99
        out.writerow([f"CRM-{i:07d}", f"Customer {i}", f"customer{i}@example.org",
                      "not-a-number" if broken else f"+1555{i:07d}", random.choice(zones),
                      "newsletter;web" if i % 3 == 0 else "", random.choice(["opted_in", "opted_out", ""]),
                      random.choice(["opted_in", ""]), f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}",
                      random.randint(0, 50), f"{random.paretovariate(1.2) * 50:.2f}", f"LC-{i}"])
PY

measure() {  # label, then the command; prints "label: S s, peak RSS M MB"
    local label=$1; shift
    /usr/bin/time -f "%e %M" -o "$WORK/time" "$@" >"$WORK/out" 2>"$WORK/err" || [ $? -eq 2 ]
    read -r seconds kilobytes < <(tail -1 "$WORK/time")  # after "Command exited with non-zero status 2", if it did
    awk -v l="$label" -v s="$seconds" -v k="$kilobytes" -v n="$ROWS" \
        'BEGIN { printf "%s: %d lines in %.1f s (%.0f lines/s), peak RSS %.0f MB\n", l, n, s, n / s, k / 1024 }'
}

measure "import" "$BIN" customers import "$WORK/customers.csv" --database "$WORK/hub.sqlite"
tail -1 "$WORK/out"
reported=$(grep -c '^line ' "$WORK/out" || true)
echo "broken lines reported with their numbers: $reported of $((ROWS / 100))"
measure "export" "$BIN" customers export --database "$WORK/hub.sqlite" --output "$WORK/export.csv"
echo "exported lines: $(($(wc -l <"$WORK/export.csv") - 1))"
