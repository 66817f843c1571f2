#!/usr/bin/env bash
# Same-run A/B of two minqing binaries over HTTP: locate, nearby, report intake and tiles
# rendered afresh (events z14, areas z12–16; both run with --no-tile-cache) with
# wrk on loopback, the two servers taking turns on the same data, ROUNDS times, so that
# the machine's noise falls on both alike. Used to show that a change of structure (the
# crate split of issue 16) costs nothing measurable.
#
#   BASE=/path/to/old/minqing NEW=target/release/minqing benches/ab.sh
#
# Data: GRIDS grids and EVENTS events generated once (seed 7) into target/ab-$GRIDS-$EVENTS
# by the BASE binary (the schema is the same for both). Results: $DIR/results/ab-*.txt and a
# summary table (median requests/s and p99 per binary, ratio NEW/BASE).
set -euo pipefail
cd "$(dirname "$0")/.."
BASE=${BASE:?set BASE to the baseline binary}
NEW=${NEW:-target/release/minqing}
GRIDS=${GRIDS:-100000}
EVENTS=${EVENTS:-1000000}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10s}
CONNS=${CONNS:-16}
PORT=${PORT:-18090}
DIR=${AB_DIR:-target/ab-$GRIDS-$EVENTS}
export MINQING_DATA_DIR=$DIR
export RUST_LOG=minqing=warn
export MINQING_ESCALATION_CHECK=0
# Kept review reports are generated in the background after start: not while measuring.
export MINQING_SNAPSHOT_CHECK=0
R="$DIR/results"
mkdir -p "$R"

command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }

if [ ! -e "$DIR/loaded" ]; then
  echo "== generating $GRIDS grids and $EVENTS events into $DIR (once)"
  "$BASE" generate --seed 7 --grids "$GRIDS" --events "$EVENTS" --end 2026-11-01
  touch "$DIR/loaded"
fi
SOCK=$(realpath "$DIR")/pg/run
URL="host=$SOCK user=postgres dbname=minqing"
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | tail -1)
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
# The data set's cluster, up for the whole run (both binaries connect to it as clients).
if ! as_pg "$PGBIN/pg_ctl" status -D "$DIR/pg/data" >/dev/null 2>&1; then
  as_pg "$PGBIN/pg_ctl" start -w -t 120 -D "$DIR/pg/data" -l "$DIR/pg/data/postgres.log" \
    -o "-c listen_addresses='' -c unix_socket_directories='$SOCK' -c max_connections=200 -c shared_buffers=512MB"
  started_pg=1
fi
export DATABASE_URL="$URL"
TOKEN=$("$BASE" token create --role admin --name ab)
export TOKEN
psql "$URL" -AtF, -f benches/sql/points.sql > "$DIR/points.csv"
export POINTS="$DIR/points.csv"
# Tiles rendered afresh (both servers run with --no-tile-cache): events at z14, areas z12–16.
if [ ! -s "$DIR/ab-events14" ]; then
  psql "$URL" -At -v z=14 -f benches/sql/tiles.sql | sed 's|^|/tiles/events/|' > "$DIR/ab-events14"
  for z in 12 13 14 15 16; do psql "$URL" -At -v z=$z -f benches/sql/tiles.sql; done \
    | sed 's|^|/tiles/areas/|' > "$DIR/ab-areas"
fi

pid=
stop() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; pid=; }
stop_all() { stop; [ -z "${started_pg:-}" ] || as_pg "$PGBIN/pg_ctl" stop -D "$DIR/pg/data" -m fast; }
trap stop_all EXIT

run() { # run NAME BIN ROUND
  local name=$1 bin=$2 round=$3
  "$bin" serve --no-tile-cache --listen "127.0.0.1:$PORT" 2> "$R/ab-serve-$name.log" &
  pid=$!
  until curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1; do
    kill -0 "$pid" || { cat "$R/ab-serve-$name.log"; exit 1; }
    sleep 0.2
  done
  for s in locate nearby report; do
    wrk -t1 -c"$CONNS" -d"$DURATION" --latency -s "benches/wrk/$s.lua" "http://127.0.0.1:$PORT" \
      > "$R/ab-$name-$s-$round.txt"
  done
  for t in events14 areas; do
    TILES="$DIR/ab-$t" wrk -t1 -c"$CONNS" -d"$DURATION" --latency -s benches/wrk/tiles.lua \
      "http://127.0.0.1:$PORT" > "$R/ab-$name-tiles-$t-$round.txt"
  done
  stop
}

for round in $(seq 1 "$ROUNDS"); do
  echo "== round $round of $ROUNDS"
  if [ $((round % 2)) = 1 ]; then run base "$BASE" "$round"; run new "$NEW" "$round"
  else run new "$NEW" "$round"; run base "$BASE" "$round"; fi
done
# The reports the runs added (a few thousand per run, beside a million) stay: deleting them
# cascades through the history and the change feed and takes minutes.

python3 - "$R" "$ROUNDS" <<'EOF' | tee "$R/ab-summary.md"
import re, statistics, sys
r, rounds = sys.argv[1], int(sys.argv[2])
def read(name, s, i):
    t = open(f"{r}/ab-{name}-{s}-{i}.txt").read()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
    m = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", t)
    p99 = float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)]
    return rps, p99
print("| operation | base req/s | new req/s | new/base | base p99 ms | new p99 ms |")
print("|---|---|---|---|---|---|")
for s in ["locate", "nearby", "report", "tiles-events14", "tiles-areas"]:
    b = [read("base", s, i) for i in range(1, rounds + 1)]
    n = [read("new", s, i) for i in range(1, rounds + 1)]
    br, nr = statistics.median(x[0] for x in b), statistics.median(x[0] for x in n)
    bp, np_ = statistics.median(x[1] for x in b), statistics.median(x[1] for x in n)
    print(f"| {s} | {br:,.0f} | {nr:,.0f} | {nr / br:.3f} | {bp:.2f} | {np_:.2f} |")
EOF
