#!/usr/bin/env bash
# Assessment and review reports of issue 18 (BENCHMARKS.md, "Assessment and review reports"),
# on an existing benchmark data directory ($BENCH_DIR, e.g. the one benches/registers.sh made,
# with workers, duties, attributed cases and visits: see BENCHMARKS.md for how they were made):
#   - a month's assessment of the whole city (GET /api/v1/assessment), five runs, curl;
#   - a district's monthly review report computed afresh (GET /api/v1/reports?live=true);
#   - patrol coverage of a grid for a month (GET /api/v1/patrols/coverage);
#   baselines in the same run, psql: the month's per-grid case counts of the whole city in
#   PostGIS (one GROUP BY over the month's cases), and the coverage question in PostGIS.
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=${BENCH_DIR:?set BENCH_DIR to a data directory with a loaded database}
BIN=${MINQING_BIN:-target/release/minqing}
PORT=${PORT:-18083}
AT=${AT:-2026-10-15}
GRID=${GRID:-44150200100202876}
RUNS=${RUNS:-5}
export MINQING_DATA_DIR=$DIR MINQING_ESCALATION_CHECK=0 MINQING_SNAPSHOT_CHECK=0 RUST_LOG=${RUST_LOG:-minqing=warn}
mkdir -p "$DIR/results"
R="$DIR/results"
started=$(date +%s.%N)
"$BIN" serve --listen "127.0.0.1:$PORT" 2> "$R/serve-assessment.log" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null' EXIT
until curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1; do
  kill -0 $pid || { cat "$R/serve-assessment.log"; exit 1; }
  sleep 0.5
done
echo "== ready (/readyz 200) after $(echo "$(date +%s.%N) - $started" | bc) s" | tee "$R/startup-assessment.txt"
URL="host=$(realpath "$DIR")/pg/run user=postgres dbname=minqing"
TOKEN=$("$BIN" token create --role admin --name bench-assessment)
B="http://127.0.0.1:$PORT"
timed() { # name url
  for i in $(seq 1 "$RUNS"); do
    curl -s -o "$R/$1.json" -w "%{http_code} %{time_total} s %{size_download} B\n" \
      -H "Authorization: Bearer $TOKEN" "$B$2"
  done | tee "$R/$1.txt"
}
district=$(psql "$URL" -Atc "SELECT a.code FROM areas a WHERE a.parent_id IS NULL AND a.valid_to IS NULL
  ORDER BY (SELECT count(*) FROM areas g WHERE g.code LIKE a.code || '%' AND g.level = 'grid') DESC LIMIT 1")
# Assessment answers 503 until the workers' record is read (after readiness).
until [ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$B/api/v1/assessment?period=day")" = 200 ]; do
  sleep 0.5
done
echo "== workers' record loaded after $(echo "$(date +%s.%N) - $started" | bc) s" | tee -a "$R/startup-assessment.txt"
grep -E "VmRSS|VmHWM" /proc/$pid/status | tee -a "$R/startup-assessment.txt"
echo "== whole city, month of $AT"
timed assessment-city "/api/v1/assessment?period=month&at=$AT&limit=100"
python3 -c "import json; a=json.load(open('$R/assessment-city.json')); print('city figures:', a['area']['figures'], 'workers ranked:', a['workers_total'])"
grep -E "VmRSS|VmHWM" /proc/$pid/status | tee -a "$R/startup-assessment.txt"
echo "== review report of district $district, month of $AT, computed afresh"
timed report-district "/api/v1/reports?area=$district&period=month&at=$AT&live=true"
echo "== patrol coverage of grid $GRID, a month"
timed coverage "/api/v1/patrols/coverage?grid=$GRID&from=2026-11-03T00:00:00Z&to=2026-12-03T00:00:00Z"
echo "== PostGIS baseline: the month's per-grid case counts of the whole city"
for i in $(seq 1 3); do
  psql "$URL" -c '\timing on' -c "SELECT count(*) FROM (SELECT grid_id, count(*), count(*) FILTER (WHERE status = 'rejected'),
      count(*) FILTER (WHERE status NOT IN ('reported', 'rejected')),
      count(*) FILTER (WHERE status IN ('resolved', 'closed') AND (due_at IS NULL OR resolved_at <= due_at)),
      count(*) FILTER (WHERE satisfied IS NOT NULL), count(*) FILTER (WHERE satisfied)
    FROM events WHERE reported_at >= '$AT'::date - extract(day FROM '$AT'::date)::int + 1 - interval '8 hours'
      AND reported_at < ('$AT'::date - extract(day FROM '$AT'::date)::int + 1 + interval '1 month') - interval '8 hours'
    GROUP BY grid_id) t" | grep -E "Time|^ *[0-9]"
done | tee "$R/postgis-assessment.txt"
echo "== PostGIS baseline: the coverage question"
for i in $(seq 1 3); do
  psql "$URL" -c '\timing on' -c "SELECT count(*) FILTER (WHERE EXISTS (SELECT 1 FROM patrol_points t
      WHERE t.geom && ST_Expand(b.point, 0.0004) AND t.at >= '2026-11-03T00:00:00Z' AND t.at < '2026-12-03T00:00:00Z'
        AND ST_DWithin(t.geom::geography, b.point::geography, 30))), count(*)
    FROM buildings b JOIN areas g ON g.code = '$GRID' AND g.valid_to IS NULL AND ST_Covers(g.geom, b.point)" | grep -E "Time|^ *[0-9]"
done | tee "$R/postgis-coverage.txt"
