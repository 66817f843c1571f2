#!/usr/bin/env bash
# Stops the private PostgreSQL that the tests start under target/test-pg (if running).
set -u
data="$(dirname "$0")/../target/test-pg/data"
[ -e "$data/postmaster.pid" ] || exit 0
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
if [ "$(id -u)" = 0 ]; then
  runuser -u postgres -- "$bin/pg_ctl" stop -w -m fast -D "$data" >/dev/null || true
else
  "$bin/pg_ctl" stop -w -m fast -D "$data" >/dev/null || true
fi
