#!/usr/bin/env bash
# The benchmarks of BENCHMARKS.md, end to end, on one machine:
#   data set    minqing generate --grids $GRIDS --events $EVENTS (default 1,000,000 / 10,000,000)
#   start-up    time from `minqing serve` to /readyz = 200, and resident memory
#   in process  criterion: index vs PostGIS prepared statements, same data, same run
#   HTTP        wrk on loopback, keep-alive: locate, nearby, report intake (+ durability count)
#   tiles       benches/tiles.sh: minqing vs Martin on the same tables
# Results go to $DIR/results/ (raw tool output); BENCHMARKS.md quotes them.
set -euo pipefail
cd "$(dirname "$0")/.."
GRIDS=${GRIDS:-1000000}
EVENTS=${EVENTS:-10000000}
DIR=${BENCH_DIR:-target/bench-$GRIDS-$EVENTS}
PORT=${PORT:-18080}
DURATION=${DURATION:-20s}
CONNS=${CONNS:-16}
BIN=target/release/minqing
export MINQING_DATA_DIR=$DIR
export RUST_LOG=minqing=info
# Escalation sweeps would rewrite the (months-overdue) generated cases while we measure.
export MINQING_ESCALATION_CHECK=0
# Kept review reports are generated in the background after start: not while measuring.
export MINQING_SNAPSHOT_CHECK=0
mkdir -p "$DIR/results"
R="$DIR/results"

command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }
cargo build --release

if [ ! -e "$DIR/loaded" ]; then
  echo "== generating $GRIDS grids and $EVENTS events into $DIR (once)"
  /usr/bin/time -v "$BIN" generate --seed 7 --grids "$GRIDS" --events "$EVENTS" --end 2026-11-01 \
    2> >(tee "$R/generate.log" >&2)
  touch "$DIR/loaded"
fi

URL="host=$(realpath "$DIR")/pg/run user=postgres dbname=minqing"

# Single events need a token: wrk sends this admin token (benches/wrk/auth.lua).
TOKEN=$("$BIN" token create --role admin --name bench)
export TOKEN

echo "== start-up"
start=$(date +%s.%N)
"$BIN" serve --listen "127.0.0.1:$PORT" 2> "$R/serve.log" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null' EXIT
until curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1; do
  kill -0 $pid || { cat "$R/serve.log"; exit 1; }
  sleep 0.2
done
ready=$(date +%s.%N)
{
  echo "time to ready: $(echo "$ready - $start" | bc) s"
  grep -E "index loaded|areas indexed" "$R/serve.log" | sed 's/^[^ ]* *//'
  grep -E "VmHWM|VmRSS" /proc/$pid/status
  curl -s "http://127.0.0.1:$PORT/readyz"; echo
} | tee "$R/startup.txt"

echo "== PostGIS baseline index (open events, geography) for the KNN comparison"
psql "$URL" -qc "CREATE INDEX IF NOT EXISTS bench_events_open_geog ON events USING gist ((geom::geography))
  WHERE status IN ('reported', 'accepted', 'assigned', 'in_progress', 'reopened'); ANALYZE events;"

psql "$URL" -AtF, -f benches/sql/points.sql > "$DIR/points.csv"
export POINTS="$DIR/points.csv"

echo "== HTTP (wrk, keep-alive, one wrk thread, $CONNS connections, $DURATION)"
for s in locate nearby; do
  wrk -t1 -c"$CONNS" -d"$DURATION" --latency -s "benches/wrk/$s.lua" "http://127.0.0.1:$PORT" | tee "$R/wrk-$s.txt"
done
before=$(psql "$URL" -Atc "SELECT count(*) FROM events")
wrk -t1 -c"$CONNS" -d"$DURATION" --latency -s benches/wrk/report.lua "http://127.0.0.1:$PORT" | tee "$R/wrk-report.txt"
sleep 1
after=$(psql "$URL" -Atc "SELECT count(*) FROM events")
{
  echo "rows stored during intake: $((after - before))"
  echo "201 responses counted by wrk: $(awk '/requests in/ {print $1}' "$R/wrk-report.txt") minus non-2xx: $(awk '/Non-2xx/ {print $5}' "$R/wrk-report.txt")"
} | tee "$R/intake-durability.txt"
# The intake's reports sit exactly on the query points of every other benchmark (points.csv),
# a hundred per point after a few runs: left in place, each nearest query would rank a stack
# of coincident cases by id. Remove them (history, reporters and photos cascade).
# (The partial index lets each deleted row's merged_into check use an index, not a scan.)
psql "$URL" -qc "CREATE INDEX IF NOT EXISTS bench_events_merged_into ON events (merged_into)
  WHERE merged_into IS NOT NULL;
  DELETE FROM events WHERE NOT generated AND title = '压测上报' AND description = 'benchmark';
  VACUUM ANALYZE events;"
grep -E "VmHWM|VmRSS" /proc/$pid/status | tee -a "$R/startup.txt"

echo "== export: every event as CSV, streamed (time, bytes, rows, peak memory after)"
{
  curl -s -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/api/v1/events.csv" \
    -w 'export: %{http_code} in %{time_total} s, first byte after %{time_starttransfer} s, %{size_download} bytes\n' \
    -o "$DIR/export.csv"
  echo "rows: $(($(wc -l < "$DIR/export.csv") - 1)) (lines; descriptions may hold line breaks)"
  grep -E "VmHWM|VmRSS" /proc/$pid/status
  rm -f "$DIR/export.csv"
} | tee "$R/export.txt"

echo "== stats of the whole city, from memory (wall time of 5 calls)"
for _ in 1 2 3 4 5; do
  curl -s -o /dev/null -w '%{time_total}\n' "http://127.0.0.1:$PORT/api/v1/stats"
done | tee "$R/stats.txt"

echo "== criterion (in process, same data)"
DATABASE_URL="$URL" cargo bench --bench index -- --noplot 2>&1 | tee "$R/criterion.txt"

kill $pid 2>/dev/null; wait $pid 2>/dev/null || true
trap - EXIT
if [ "${SKIP_TILES:-0}" = 1 ]; then exit 0; fi
echo "== tiles (minqing vs Martin): benches/tiles.sh"
benches/tiles.sh
