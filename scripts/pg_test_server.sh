#!/usr/bin/env bash
# A throwaway PostgreSQL server for the test suite (tests marked `postgres`).
#
#   export TEST_DATABASE_URL=$(scripts/pg_test_server.sh start)   # prints the URL (only) on stdout
#   .venv/bin/pytest tests/api          # the same API tests, now also against PostgreSQL
#   scripts/pg_test_server.sh stop      # stops the server of $TEST_DATABASE_URL (all recorded ones if unset)
#   scripts/pg_test_server.sh stop DIR  # stops one (DIR is in the state file, see below)
#
# Each server's directory is recorded in $PG_TEST_STATE (default: $TMPDIR/dca-pg-test.state)
# so that `stop` needs no argument (as .ci/run calls it).
#
# The server runs as an unprivileged user (PostgreSQL refuses to run as root): `postgres`
# if it exists, else a `dca-pg` system user is created. Data directory and Unix socket
# live in a fresh temporary directory; it listens on 127.0.0.1 on a free port only,
# with trust authentication (local and throwaway), and without durability (no fsync; with
# wal_level=minimal, scripts/pgload.py's tables, created in the loading transaction, are
# written without WAL: a 100k build loads faster). PostgreSQL is installed with
# apt-get when initdb/pg_ctl are not found.
set -euo pipefail
STATE=${PG_TEST_STATE:-${TMPDIR:-/tmp}/dca-pg-test.state}

find_bin() {
  local name=$1 d
  if command -v "$name" >/dev/null 2>&1; then command -v "$name"; return 0; fi
  for d in /usr/lib/postgresql/*/bin; do
    [[ -x "$d/$name" ]] && { echo "$d/$name"; return 0; }
  done
  return 1
}

ensure_installed() {
  if ! find_bin initdb >/dev/null || ! find_bin pg_ctl >/dev/null; then
    echo "installing PostgreSQL (apt-get)..." >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq postgresql >&2
  fi
}

run_as() { # user command...
  local user=$1; shift
  if [[ $(id -u) -eq 0 ]]; then
    if command -v runuser >/dev/null 2>&1; then runuser -u "$user" -- "$@"; else su -s /bin/sh "$user" -c "$(printf '%q ' "$@")"; fi
  else
    "$@"
  fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

start() {
  ensure_installed
  local initdb pg_ctl user dir port
  initdb=$(find_bin initdb); pg_ctl=$(find_bin pg_ctl)
  if [[ $(id -u) -eq 0 ]]; then
    if id postgres >/dev/null 2>&1; then user=postgres; else
      id dca-pg >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin dca-pg
      user=dca-pg
    fi
  else
    user=$(id -un)
  fi
  dir=$(mktemp -d "${TMPDIR:-/tmp}/dca-pg-test.XXXXXX")
  chmod 755 "$dir"
  mkdir "$dir/data" "$dir/socket"
  [[ $(id -u) -eq 0 ]] && chown -R "$user" "$dir"
  run_as "$user" "$initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
    || run_as "$user" "$initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 --no-locale >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; exit 1; }
  port=$(free_port)
  run_as "$user" "$pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-p $port -k $dir/socket -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c wal_level=minimal -c max_wal_senders=0" \
    start >&2 || { cat "$dir/server.log" >&2; exit 1; }
  local createdb; createdb=$(find_bin createdb)
  run_as "$user" "$createdb" -h 127.0.0.1 -p "$port" -U postgres dca_test
  echo "$user" >"$dir/user"
  echo "postgresql://postgres@127.0.0.1:$port/dca_test" >"$dir/url"
  echo "$dir" >>"$STATE"
  echo "PostgreSQL test server in $dir (stop: $0 stop)" >&2
  echo "postgresql://postgres@127.0.0.1:$port/dca_test"
}

stop_one() {
  local dir=$1 pg_ctl user
  [[ -d "$dir/data" ]] || return 0
  pg_ctl=$(find_bin pg_ctl)
  user=$(cat "$dir/user" 2>/dev/null || id -un)
  run_as "$user" "$pg_ctl" -D "$dir/data" -m fast -w stop >&2 || true
  case "$dir" in */dca-pg-test.*) rm -rf -- "$dir" ;; esac
}

stop() {
  local dir
  if [[ $# -gt 0 ]]; then
    stop_one "$1"
    if [[ -f "$STATE" ]]; then grep -vxF -- "$1" "$STATE" >"$STATE.tmp" || true; mv "$STATE.tmp" "$STATE"; fi
    return 0
  fi
  [[ -f "$STATE" ]] || { echo "no PostgreSQL test server recorded in $STATE" >&2; return 0; }
  # With TEST_DATABASE_URL set (as .ci/run has it), stop only that server: others may
  # belong to other sessions sharing this machine. Without it, stop every recorded one.
  local keep=()
  while read -r dir; do
    [[ -n "$dir" ]] || continue
    if [[ -n "${TEST_DATABASE_URL:-}" && "$(cat "$dir/url" 2>/dev/null)" != "$TEST_DATABASE_URL" ]]; then
      [[ -d "$dir/data" ]] && keep+=("$dir")
      continue
    fi
    stop_one "$dir"
  done <"$STATE"
  if [[ ${#keep[@]} -gt 0 ]]; then printf '%s\n' "${keep[@]}" >"$STATE"; else rm -f -- "$STATE"; fi
}

case "${1:-}" in
  start) start ;;
  stop) shift; stop "$@" ;;
  *) echo "usage: $0 start | stop [DIR]" >&2; exit 2 ;;
esac
