#!/usr/bin/env bash
# The registers' benchmarks of BENCHMARKS.md ("The registers"), on one machine:
#   data set   minqing generate --grids $GRIDS --events $EVENTS --register-scale $SCALE
#              (default 1,000,000 grids, 10,000,000 events, 1.1: about 3M residents)
#   start-up   time from `minqing serve` to /readyz = 200, resident memory
#   HTTP       wrk on loopback, 1 thread, $CONNS connections, $DURATION: the linked view of a
#              random building, the profile of each district, residents by name prefix in
#              the largest district, exact ID number / phone, coverage of the city
#   baseline   the linked view's joins and ST_DWithin on geography in PostGIS (pgbench), and
#              the coverage as one PostGIS query, in the same run
# Results go to $DIR/results/ (raw tool output).
set -euo pipefail
cd "$(dirname "$0")/.."
GRIDS=${GRIDS:-1000000}
EVENTS=${EVENTS:-10000000}
SCALE=${SCALE:-1.1}
DIR=${BENCH_DIR:-target/bench-registers-$GRIDS-$EVENTS}
PORT=${PORT:-18081}
DURATION=${DURATION:-10s}
CONNS=${CONNS:-4}
BIN=${MINQING_BIN:-target/release/minqing}
export MINQING_DATA_DIR=$DIR
export RUST_LOG=minqing=info
export MINQING_ESCALATION_CHECK=0
# Kept review reports are generated in the background after start: not while measuring.
export MINQING_SNAPSHOT_CHECK=0
mkdir -p "$DIR/results"
R="$DIR/results"
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }

if [ ! -e "$DIR/loaded" ]; then
  echo "== generating $GRIDS grids, $EVENTS events, registers at scale $SCALE into $DIR (once)"
  /usr/bin/time -v "$BIN" generate --seed 7 --grids "$GRIDS" --events "$EVENTS" \
    --register-scale "$SCALE" --end 2026-11-01 2> >(tee "$R/generate.log" >&2)
  touch "$DIR/loaded"
fi
TOKEN=$("$BIN" token create --role admin --name bench-registers)
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
  grep -E "index loaded|registers loaded" "$R/serve.log" | sed 's/^[^ ]* *//'
  grep -E "VmHWM|VmRSS" /proc/$pid/status
} | tee "$R/startup.txt"
# The private cluster runs while the server does.
URL="host=$(realpath "$DIR")/pg/run user=postgres dbname=minqing"
psql "$URL" -Atc "SELECT 'buildings', count(*) FROM buildings UNION ALL SELECT 'places', count(*) FROM places
  UNION ALL SELECT 'organisations', count(*) FROM organisations UNION ALL SELECT 'households', count(*) FROM households
  UNION ALL SELECT 'residents', count(*) FROM residents UNION ALL SELECT 'grids', count(*) FROM areas WHERE level = 'grid' AND valid_to IS NULL
  UNION ALL SELECT 'events', count(*) FROM events" | tee "$R/sizes.txt"


B="http://127.0.0.1:$PORT"
run() { # name, paths file
  PATHS="$2" wrk -t1 -c"$CONNS" -d"$DURATION" --latency -s benches/wrk/paths.lua "$B" | tee "$R/wrk-$1.txt"
}
echo "== linked view of a random building"
psql "$URL" -Atc "SELECT '/api/v1/buildings/' || id FROM buildings ORDER BY random() LIMIT 10000" > "$DIR/buildings.txt"
run linked "$DIR/buildings.txt"
echo "== PostGIS baseline: the linked view's reads for a random building (pgbench, 4 clients)"
cat > "$DIR/linked.sql" <<'SQL'
\set id random(1, :maxid)
SELECT b.id, b.address, (SELECT count(*) FROM households h WHERE h.building_id = b.id),
       (SELECT count(*) FROM residents r JOIN households h ON h.id = r.household_id WHERE h.building_id = b.id),
       (SELECT array_agg(p.id) FROM places p WHERE p.building_id = b.id),
       (SELECT array_agg(o.id) FROM organisations o WHERE o.building_id = b.id),
       (SELECT array_agg(p.id ORDER BY ST_Distance(p.geom::geography, b.point::geography)) FROM places p
          WHERE p.type IN ('fuel_station', 'chemical_store', 'construction_site', 'flood_prone', 'old_building')
            AND ST_DWithin(p.geom::geography, b.point::geography, 200)),
       (SELECT array_agg(e.id) FROM events e WHERE ST_DWithin(e.geom::geography, b.point::geography, 30))
FROM buildings b WHERE b.id = :id;
SQL
maxid=$(psql "$URL" -Atc "SELECT max(id) FROM buildings")
pgbench -n -c4 -j1 -T"${DURATION%s}" -D maxid="$maxid" -f "$DIR/linked.sql" "$URL" | tee "$R/pgbench-linked.txt"

echo "== profile of each district (the city is the districts: the sum of their times)"
psql "$URL" -Atc "SELECT '/api/v1/areas/' || id || '/profile' FROM areas WHERE level = 'district' AND valid_to IS NULL" > "$DIR/districts.txt"
run profile-district "$DIR/districts.txt"
for p in $(cat "$DIR/districts.txt"); do
  curl -s -o /dev/null -w "$p %{time_total}\n" -H "Authorization: Bearer $TOKEN" "$B$p"
done | tee "$R/profile-each.txt"

echo "== residents by name prefix in the largest district, 100 a page"
big=$(psql "$URL" -Atc "SELECT d.code FROM areas d JOIN areas s ON s.parent_id = d.id JOIN areas c ON c.parent_id = s.id
  JOIN areas g ON g.parent_id = c.id WHERE d.level = 'district' AND d.valid_to IS NULL AND g.valid_to IS NULL
  GROUP BY d.code ORDER BY sum(g.population) DESC LIMIT 1")
for q in %E9%99%88 %E6%9E%97 %E9%BB%84 %E5%BC%A0 %E9%99%88%E5%B0%8F; do
  echo "/api/v1/residents?area=$big&q=$q&limit=100"
done > "$DIR/prefix.txt"
run prefix "$DIR/prefix.txt"

echo "== exact ID number and phone (20 residents read in full first, with a purpose)"
: > "$DIR/exact.txt"
for id in $(psql "$URL" -Atc "SELECT id FROM residents WHERE phone_sealed IS NOT NULL ORDER BY random() LIMIT 20"); do
  curl -s -H "Authorization: Bearer $TOKEN" "$B/api/v1/residents/$id?purpose=benchmark" \
    | python3 -c 'import json,sys; v=json.load(sys.stdin); print("/api/v1/residents?q="+v["id_number"]); print("/api/v1/residents?q="+v["phone"])' >> "$DIR/exact.txt"
done
run exact "$DIR/exact.txt"

echo "== coverage of elder canteens within 1 km: each district, then the city as the sum"
for d in $(psql "$URL" -Atc "SELECT code FROM areas WHERE level = 'district' AND valid_to IS NULL"); do
  for _ in 1 2 3; do
    curl -s -o /dev/null -w "$d %{time_total}\n" -H "Authorization: Bearer $TOKEN" \
      "$B/api/v1/coverage?type=elder_canteen&within_m=1000&area=$d&limit=1"
  done
done | tee "$R/coverage.txt"
echo "== coverage of elder canteens within 1 km, the whole city in one request (no area)"
for _ in 1 2 3; do
  curl -s -o /dev/null -w "city %{time_total}\n" -H "Authorization: Bearer $TOKEN" \
    "$B/api/v1/coverage?type=elder_canteen&within_m=1000&limit=1"
done | tee "$R/coverage-city.txt"
echo "== PostGIS baseline: the same coverage as one query (households within 1 km of a canteen)"
# The buildings around each canteen by the geometry index (a box of 0.0105 degrees holds
# 1 km at these latitudes), kept when ST_DWithin on geography agrees.
psql "$URL" -c '\timing on' -c "WITH c AS (SELECT geom FROM places WHERE type = 'elder_canteen'),
  reached AS (SELECT DISTINCT b.id FROM buildings b JOIN c ON b.point && ST_Expand(c.geom, 0.0105)
              AND ST_DWithin(b.point::geography, c.geom::geography, 1000))
  SELECT count(*) FILTER (WHERE r.id IS NOT NULL) AS within, count(*) FILTER (WHERE r.id IS NULL) AS beyond
  FROM households h LEFT JOIN reached r ON r.id = h.building_id" | tee "$R/postgis-coverage.txt"
grep -E "VmHWM|VmRSS" /proc/$pid/status | tee -a "$R/startup.txt"
