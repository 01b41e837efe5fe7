#!/usr/bin/env bash
# HTTP benchmark of the API against a bare ASGI server and Datasette (by hand, never by the test suite).
#   bench/http/run.sh [--duration 10] [--reps 3] [--conc 1 32] [--rebuild] [--no-table-stream]
#                     [--before DIR] [--pg URL|auto --replicas 2] [--no-probes]   (see bench.py)
# Installs what it needs first: wrk and sqlite3 (apt-get), Datasette in its own venv
# (bench/.venv-peers/, which ignores itself in git), and the project venv (make install).
set -euo pipefail
cd "$(dirname "$0")/../.."

need=()
command -v wrk >/dev/null 2>&1 || need+=(wrk)
command -v sqlite3 >/dev/null 2>&1 || need+=(sqlite3)
if [[ ${#need[@]} -gt 0 ]]; then
  echo "installing ${need[*]} (apt-get)…" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

PEERS=bench/.venv-peers
pg=0; for a in "$@"; do [[ $a == --pg ]] && pg=1; done  # PostgreSQL runs (--pg URL|auto) measure no peer
if [[ $pg -eq 0 && ! -x $PEERS/bin/datasette ]]; then
  echo "installing Datasette into $PEERS…" >&2
  python3 -m venv "$PEERS"
  printf '*\n' >"$PEERS/.gitignore"
  "$PEERS/bin/pip" install --quiet --upgrade pip
  "$PEERS/bin/pip" install --quiet 'datasette>=0.65,<0.66'
fi

[[ -x .venv/bin/dca ]] || make install

exec .venv/bin/python bench/http/bench.py --datasette "$PEERS/bin/datasette" "$@"
