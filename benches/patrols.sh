#!/usr/bin/env bash
# Track ingest of issue 18 (BENCHMARKS.md, "Patrols"): wrk on loopback posting batches of
# $BATCH track points with fresh sequence numbers, one patrol per connection ($CONNS phones),
# for $DURATION. Every answer comes after PostgreSQL committed its batch (durable), so
# points/s = requests/s × $BATCH. Baseline in the same run: the same number of points
# inserted by one SQL statement in PostgreSQL (no HTTP, no JSON, no checks).
# Runs on an existing data directory ($BENCH_DIR, e.g. the one benches/registers.sh made).
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=${BENCH_DIR:?set BENCH_DIR to a data directory with a loaded database}
BIN=${MINQING_BIN:-target/release/minqing}
PORT=${PORT:-18082}
DURATION=${DURATION:-10s}
CONNS=${CONNS:-4}
export MINQING_DATA_DIR=$DIR MINQING_ESCALATION_CHECK=0 MINQING_SNAPSHOT_CHECK=0 RUST_LOG=minqing=warn
mkdir -p "$DIR/results"
R="$DIR/results"
"$BIN" serve --listen "127.0.0.1:$PORT" 2> "$R/serve-patrols.log" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null' EXIT
until curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1; do
  kill -0 $pid || { cat "$R/serve-patrols.log"; exit 1; }
  sleep 0.5
done
URL="host=$(realpath "$DIR")/pg/run user=postgres dbname=minqing"
grid=$(psql "$URL" -Atc "SELECT code FROM areas WHERE level = 'grid' AND valid_to IS NULL ORDER BY id LIMIT 1")
code="BENCH-$(date +%s)"
w=$("$BIN" worker add --code "$code" --name 基准网格员 --grid "$grid")
TOKEN=$("$BIN" token create --role field --worker "$w" --name "$code")
export TOKEN
B="http://127.0.0.1:$PORT"
for BATCH in ${BATCHES:-20 1000}; do
  ids=""
  for c in $(seq 1 "$CONNS"); do
    id=$(curl -s -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
      -d "{\"client_id\":\"$code-$BATCH-$c\",\"started_at\":\"2026-12-01T00:00:00Z\"}" "$B/api/v1/patrols" \
      | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
    ids="$ids${ids:+,}$id"
  done
  echo "== $BATCH points a batch, $CONNS patrols ($ids)"
  BATCH=$BATCH PATROLS=$ids wrk -t1 -c"$CONNS" -d"$DURATION" --latency -s benches/wrk/track.lua "$B" \
    | tee "$R/wrk-track-$BATCH.txt"
  stored=$(psql "$URL" -Atc "SELECT count(*) FROM patrol_points WHERE patrol_id = ANY ('{$ids}'::bigint[])")
  echo "points stored: $stored" | tee -a "$R/wrk-track-$BATCH.txt"
done
echo "== PostgreSQL baseline: 200,000 points by one INSERT … SELECT"
base=$(curl -s -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
  -d "{\"client_id\":\"$code-baseline\",\"started_at\":\"2026-12-01T00:00:00Z\"}" "$B/api/v1/patrols" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
psql "$URL" -c '\timing on' -c "INSERT INTO patrol_points (patrol_id, seq, at, geom, accuracy_m)
  SELECT $base, s, '2026-12-01T08:00:00Z'::timestamptz + s * interval '1 second',
         ST_SetSRID(ST_MakePoint(115.37 + (s % 1000) * 0.00001, 22.78), 4326), 5
  FROM generate_series(0, 199999) s" | tee "$R/postgres-track.txt"
