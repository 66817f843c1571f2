#!/usr/bin/env bash
# Installs what minqing needs and is missing, on Debian/Ubuntu, as root (or with sudo).
# Idempotent: does nothing when everything is present.
set -euo pipefail

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
need_apt=()

# PostgreSQL server binaries and PostGIS for the same major version.
pg_version=""
for d in /usr/lib/postgresql/*/bin/initdb; do
  [ -e "$d" ] && pg_version=$(basename "$(dirname "$(dirname "$d")")")
done
if [ -z "$pg_version" ]; then
  need_apt+=(postgresql)
fi
if [ -z "$pg_version" ] || [ ! -e "/usr/share/postgresql/$pg_version/extension/postgis.control" ]; then
  need_apt+=("postgresql-${pg_version:-15}-postgis-3")
fi
command -v psql >/dev/null || need_apt+=(postgresql-client)
command -v cc >/dev/null || need_apt+=(build-essential)
command -v pkg-config >/dev/null || need_apt+=(pkg-config)
command -v curl >/dev/null || need_apt+=(curl ca-certificates)
# The map's labels: glyphs are made from this font (served by minqing, no outside host).
[ -e /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc ] || need_apt+=(fonts-noto-cjk)
# The web front end is built with npm.
command -v npm >/dev/null || need_apt+=(nodejs npm)
command -v python3 >/dev/null || need_apt+=(python3)
# Browser tests (make test) drive Debian's Chromium; a browser is never downloaded.
if [ "${1:-}" = "--test" ]; then
  [ -x /usr/bin/chromium ] || need_apt+=(chromium)
fi

if [ ${#need_apt[@]} -gt 0 ]; then
  echo "installing: ${need_apt[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}"
  # A just-installed PostgreSQL may have created a default cluster; minqing runs its own.
  if command -v pg_lsclusters >/dev/null && [ -z "$pg_version" ]; then
    $SUDO pg_ctlcluster --skip-systemctl-redirect "$(ls /usr/lib/postgresql)" main stop 2>/dev/null || true
  fi
fi

# Rust toolchain (edition 2024 needs Rust ≥ 1.85).
if ! command -v cargo >/dev/null && [ -x "$HOME/.cargo/bin/cargo" ]; then
  export PATH="$HOME/.cargo/bin:$PATH"
fi
if ! command -v cargo >/dev/null; then
  echo "installing Rust with rustup"
  curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal -c clippy,rustfmt
fi
