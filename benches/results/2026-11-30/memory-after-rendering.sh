#!/usr/bin/env bash
# usage: hwm10.sh BIN -> VmHWM after load and after rendering the areas and events lists (16 at a time)
cd /work/main
D=$(realpath target/bench-1000000-10000000)
MINQING_DATA_DIR=$D MINQING_ESCALATION_CHECK=0 RUST_LOG=minqing=warn DATABASE_URL="host=$D/pg/run user=postgres dbname=minqing" $1 serve --listen 127.0.0.1:18080 --no-tile-cache 2>/tmp/ab/serve10.log & P=$!
until curl -fs http://127.0.0.1:18080/readyz >/dev/null 2>&1; do sleep 0.5; done
echo "$1 after load: $(grep -E 'VmHWM' /proc/$P/status | tr -s ' \t' ' ')"
T=$(DATABASE_URL="host=$D/pg/run user=postgres dbname=minqing" $1 token create --role admin --name hwm 2>/dev/null | tail -1)
cat $D/tiles/mq-areas $D/tiles/mq-events14 | sed 's|^|http://127.0.0.1:18080|' | xargs -P 16 -n 1 curl -s -o /dev/null -H "Authorization: Bearer $T"
echo "$1 after rendering: $(grep -E 'VmHWM|Threads' /proc/$P/status | tr -s ' \t' ' ' | tr '\n' ' ')"
kill $P; wait $P 2>/dev/null
