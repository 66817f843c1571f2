#!/usr/bin/env bash
# The OpenAPI tools of the tests (tests/py/openapi-requirements.txt) in a venv at
# target/py-openapi (apart from scripts/py-env.sh's: their pins conflict).
# Idempotent: does nothing when the requirements have not changed since the last install
# (a stamp keeps their hash). Safe to run concurrently (a lock under target/).
set -euo pipefail
cd "$(dirname "$0")/../.."
VENV=target/py-openapi
REQ=tests/py/openapi-requirements.txt
STAMP=$VENV/.requirements.sha256
want=$(sha256sum "$REQ" | cut -d' ' -f1)
if [ -x "$VENV/bin/python" ] && [ "$(cat "$STAMP" 2>/dev/null)" = "$want" ]; then
  exit 0
fi
mkdir -p target
if command -v flock >/dev/null; then
  exec 9>target/py-openapi-env.script.lock
  flock 9
  # Another run may have finished the work while this one waited.
  if [ -x "$VENV/bin/python" ] && [ "$(cat "$STAMP" 2>/dev/null)" = "$want" ]; then
    exit 0
  fi
fi
if ! command -v python3 >/dev/null || ! python3 -m venv "$VENV" >/dev/null 2>&1; then
  # Debian ships venv (ensurepip) apart from python3; a minimal system has neither.
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  echo "openapi-env.sh: installing python3 and python3-venv" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3 python3-venv
  rm -rf "$VENV"
  python3 -m venv "$VENV"
fi
"$VENV/bin/pip" install -q --disable-pip-version-check -r "$REQ"
echo "$want" > "$STAMP"
