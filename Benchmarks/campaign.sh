#!/usr/bin/env bash
# Campaign planning benchmark: RECIPIENTS customers (default 1,000,000; email, a third of them Chinese, five time
# zones, opted in to marketing) written straight into a fresh database, then one campaign of the shipped
# `spring-sale` template to all of them, planned by the release `switchboard campaign plan`: audience → each
# customer's delivery plan → rendered copy (subject, HTML, text) → conversation, message and outbox row, in
# batches. Prints the planning time and peak memory against the ceilings of DESIGN.md (60 s, 512 MB).
#
#   RECIPIENTS=1000000 bash Benchmarks/campaign.sh
set -euo pipefail
cd "$(dirname "$0")/.."
RECIPIENTS=${RECIPIENTS:-1000000}
swift build -c release --product switchboard >/dev/null
BIN="$(swift build -c release --show-bin-path)/switchboard"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
DB="$WORK/hub.sqlite"

"$BIN" migrate --database "$DB" >/dev/null
python3 - "$DB" "$RECIPIENTS" <<'PY'
import random, sqlite3, sys
path, count = sys.argv[1], int(sys.argv[2])
random.seed(7)
zones = ["Europe/Berlin", "America/New_York", "Asia/Shanghai", "America/Sao_Paulo", "Asia/Tokyo"]
db = sqlite3.connect(path)
db.execute("PRAGMA journal_mode = WAL")
db.execute("PRAGMA synchronous = OFF")
now = "2026-11-01 00:00:00.000"
def customers():
    for i in range(count):
        zh = i % 3 == 0
        yield (f"cus_{i:010d}", f"王芳{i}" if zh else f"Customer {i}", '{"city":"Shenzhen"}' if i % 2 else "{}", '["newsletter"]',
               random.choice(zones), "zh-CN" if zh else "en", now, now)
db.executemany("INSERT INTO customer (id, name, attributes, tags, time_zone, locale, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?)", customers())
db.executemany("INSERT INTO identity (channel, address, customer_id, verified, created_at) VALUES ('email', ?, ?, 0, ?)",
               ((f"customer{i}@example.org", f"cus_{i:010d}", now) for i in range(count)))
db.executemany("INSERT INTO consent (customer_id, channel, address, purpose, state, source, created_at) VALUES (?, 'email', ?, 'marketing', 'opted_in', 'import', ?)",
               ((f"cus_{i:010d}", f"customer{i}@example.org", now) for i in range(count)))
db.commit()
PY

ID=$("$BIN" campaign create --database "$DB" --name "Benchmark" --template spring-sale --audience 'tags has "newsletter"' \
      --data code=SPRING15 --data "endsOn=31 May" | tail -1)
"$BIN" campaign launch "$ID" --database "$DB"
/usr/bin/time -f "%e %M" -o "$WORK/time" "$BIN" campaign plan "$ID" --database "$DB" >"$WORK/out" 2>"$WORK/progress"
tail -1 "$WORK/out"
read -r seconds kilobytes < "$WORK/time"
awk -v s="$seconds" -v k="$kilobytes" -v n="$RECIPIENTS" 'BEGIN {
    printf "campaign planning: %d recipients in %.1f s (%.0f/s), ceiling 60 s; peak RSS %.0f MB, ceiling 512 MB\n", n, s, n / s, k / 1024
}'
