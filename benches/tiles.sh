#!/usr/bin/env bash
# Tile benchmarks of BENCHMARKS.md: minqing against Martin serving the same PostGIS tables,
# one run, same machine, same data (the data set of benches/run.sh), keep-alive, random
# tile lists per zoom. Raw wrk output goes to $DIR/results/tiles-*.txt.
#   uncached  minqing --no-tile-cache vs Martin cache_size_mb 0: events z14, areas z12–z16
#   low zoom  minqing uncached, z0–z8, every tile over the data, 10M events
#   cached    both caches warm: plain, and with Accept-Encoding: gzip
set -euo pipefail
cd "$(dirname "$0")/.."
GRIDS=${GRIDS:-1000000}
EVENTS=${EVENTS:-10000000}
DIR=${BENCH_DIR:-target/bench-$GRIDS-$EVENTS}
PORT=${PORT:-18080}
MPORT=${MARTIN_PORT:-13000}
DURATION=${DURATION:-15s}
CONNS=${CONNS:-16}
# MINQING_BIN: another build to measure (then nothing is built); RESULTS_DIR: where to write.
BIN=${MINQING_BIN:-target/release/minqing}
MARTIN_VERSION=1.14.0
export MINQING_DATA_DIR=$DIR
export RUST_LOG=minqing=info
R=${RESULTS_DIR:-$DIR/results}
mkdir -p "$R" "$DIR/tiles"
[ -e "$DIR/loaded" ] || { echo "no data set in $DIR: run benches/run.sh first" >&2; exit 1; }

command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }
# Martin without its MapLibre renderer (which downloads sources at build time).
command -v martin >/dev/null || cargo install martin --version "$MARTIN_VERSION" --locked --no-default-features --features postgres
[ -n "${MINQING_BIN:-}" ] || cargo build --release

SOCK=$(realpath "$DIR")/pg/run
URL="host=$SOCK user=postgres dbname=minqing"
MURL="postgresql://postgres@$(python3 -c "import urllib.parse,sys; print(urllib.parse.quote(sys.argv[1], safe=''))" "$SOCK")/minqing"

PGBIN=$(ls -d /usr/lib/postgresql/*/bin | tail -1)
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
# The data set's cluster, up for the whole run (minqing and Martin connect to it as clients).
if ! as_pg "$PGBIN/pg_ctl" status -D "$DIR/pg/data" >/dev/null 2>&1; then
  as_pg "$PGBIN/pg_ctl" start -w -t 120 -D "$DIR/pg/data" -l "$DIR/pg/data/postgres.log" \
    -o "-c listen_addresses='' -c unix_socket_directories='$SOCK' -c max_connections=200 -c shared_buffers=512MB"
  started_pg=1
fi

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; pids=(); }
stop_all() { cleanup; [ -z "${started_pg:-}" ] || as_pg "$PGBIN/pg_ctl" stop -D "$DIR/pg/data" -m fast; }
trap stop_all EXIT

wait_for() { # url pid log
  until curl -fs "$1" >/dev/null 2>&1; do
    kill -0 "$2" || { cat "$3"; exit 1; }
    sleep 0.3
  done
}

start_minqing() { # extra flags
  DATABASE_URL="$URL" "$BIN" serve --listen "127.0.0.1:$PORT" "$@" 2> "$R/tiles-serve.log" &
  pids+=($!)
  wait_for "http://127.0.0.1:$PORT/readyz" $! "$R/tiles-serve.log"
}

start_martin() { # cache MB
  sed -e "s|@PORT@|$MPORT|" -e "s|@CACHE_MB@|$1|" -e "s|@URL@|$MURL|" benches/martin/config.yaml.in > "$DIR/martin.yaml"
  martin --config "$DIR/martin.yaml" > "$R/tiles-martin.log" 2>&1 &
  pids+=($!)
  wait_for "http://127.0.0.1:$MPORT/catalog" $! "$R/tiles-martin.log"
}

psql "$URL" -q -f benches/sql/martin.sql
# Events tiles need a token; heat and areas are public (benches/wrk/auth.lua).
export MINQING_ESCALATION_CHECK=0
# Kept review reports are generated in the background after start: not while measuring.
export MINQING_SNAPSHOT_CHECK=0
TOKEN=$(DATABASE_URL="$URL" "$BIN" token create --role admin --name bench-tiles)
export TOKEN

# Tile lists: minqing and Martin paths for the same addresses.
events14="$DIR/tiles/events-z14"
psql "$URL" -At -v z=14 -f benches/sql/tiles.sql > "$events14"
: > "$DIR/tiles/areas-z12-16"
for z in 12 13 14 15 16; do psql "$URL" -At -v z=$z -f benches/sql/tiles.sql >> "$DIR/tiles/areas-z12-16"; done
: > "$DIR/tiles/low-z0-8"
for z in 0 1 2 3 4 5 6 7 8; do psql "$URL" -At -v z=$z -f benches/sql/tiles.sql >> "$DIR/tiles/low-z0-8"; done
sed 's|^|/tiles/events/|; s|$|?status=all|' "$events14" > "$DIR/tiles/mq-events14"
sed 's|^|/events/|' "$events14" > "$DIR/tiles/martin-events14"
sed 's|^|/tiles/areas/|' "$DIR/tiles/areas-z12-16" > "$DIR/tiles/mq-areas"
sed 's|^|/bench_areas/|' "$DIR/tiles/areas-z12-16" > "$DIR/tiles/martin-areas"
for layer in events heat areas; do
  q=""; [ "$layer" = areas ] || q="?status=all"
  sed "s|^|/tiles/$layer/|; s|\$|$q|" "$DIR/tiles/low-z0-8" > "$DIR/tiles/mq-low-$layer"
done
wc -l "$DIR"/tiles/* | tee "$R/tiles-lists.txt"

# Martin's slow queries keep running in PostgreSQL after wrk stops (requests time out, the
# statements do not): wait until no statement is active, so the next run has the cores.
quiet_pg() {
  for _ in $(seq 1 300); do
    n=$(psql "$URL" -Atc "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND pid <> pg_backend_pid()")
    [ "$n" = 0 ] && return 0
    sleep 1
  done
  echo "PostgreSQL still busy after 300 s" >&2
}

bench() { # name host list [gzip]
  quiet_pg
  echo "== $1"
  TILES="$3" GZIP="${4:-0}" wrk -t1 -c"$CONNS" -d"$DURATION" --latency -s benches/wrk/tiles.lua "http://127.0.0.1:$2" | tee "$R/tiles-$1.txt"
}

warm() { # host list
  sed "s|^|http://127.0.0.1:$1|" "$2" | xargs -P 4 -n 50 curl -s -H "Authorization: Bearer $TOKEN" > /dev/null
}

sizes() { # host list header → largest and mean tile size
  sed "s|^|http://127.0.0.1:$1|" "$2" | xargs -n 1 curl -s -o /dev/null -w '%{size_download}\n' -H "${3:-X-None: 1}" -H "Authorization: Bearer $TOKEN" \
    | sort -n | awk '{s+=$1; n++; m=$1} END {printf "tiles %d, mean %.0f B, largest %d B\n", n, s/n, m}'
}

echo "== uncached"
start_minqing --no-tile-cache
start_martin 0
bench mq-events14-uncached "$PORT" "$DIR/tiles/mq-events14"
bench martin-events14-uncached "$MPORT" "$DIR/tiles/martin-events14"
bench mq-areas-uncached "$PORT" "$DIR/tiles/mq-areas"
bench martin-areas-uncached "$MPORT" "$DIR/tiles/martin-areas"
for layer in events heat areas; do
  bench "mq-low-$layer-uncached" "$PORT" "$DIR/tiles/mq-low-$layer"
done
{
  for layer in events heat areas; do echo "minqing $layer z0-8: $(sizes "$PORT" "$DIR/tiles/mq-low-$layer")"; done
  echo "minqing events z14: $(sizes "$PORT" "$DIR/tiles/mq-events14")"
  echo "martin events z14: $(sizes "$MPORT" "$DIR/tiles/martin-events14")"
  echo "minqing areas z12-16: $(sizes "$PORT" "$DIR/tiles/mq-areas")"
  echo "martin areas z12-16: $(sizes "$MPORT" "$DIR/tiles/martin-areas")"
  echo "martin events z0: $(curl -s -o /dev/null -w '%{size_download}' "http://127.0.0.1:$MPORT/events/0/0/0") B"
} | tee "$R/tiles-sizes.txt"
cleanup

echo "== cached"
start_minqing
start_martin 1024
warm "$PORT" "$DIR/tiles/mq-events14"
warm "$MPORT" "$DIR/tiles/martin-events14"
bench mq-events14-cached "$PORT" "$DIR/tiles/mq-events14"
bench martin-events14-cached "$MPORT" "$DIR/tiles/martin-events14"
bench mq-events14-cached-gzip "$PORT" "$DIR/tiles/mq-events14" 1
bench martin-events14-cached-gzip "$MPORT" "$DIR/tiles/martin-events14" 1
grep -E "Requests/sec|99%" "$R"/tiles-*.txt | tee "$R/tiles-summary.txt"
