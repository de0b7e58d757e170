#!/usr/bin/env bash
# Run a command against a throwaway PostgreSQL cluster under /tmp (loopback only),
# with DATABASE_URL pointing at it. The cluster is removed afterwards.
# PG_EXTRA_OPTS: more server options, e.g. "-c shared_preload_libraries=pg_stat_statements".
set -euo pipefail

PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$PG_BIN/initdb" ] || { echo "PostgreSQL server binaries not found; run 'make test-deps'." >&2; exit 1; }

DATA=$(mktemp -d /tmp/gupshup-admin-pg.XXXXXX)
PORT=${PGPORT_TEST:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')}
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" = 0 ] && chown postgres "$DATA"

cleanup() {
  as_pg "$PG_BIN/pg_ctl" -D "$DATA/db" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$DATA"
}
trap cleanup EXIT

as_pg "$PG_BIN/initdb" -D "$DATA/db" -U postgres -A trust --no-sync >/dev/null
as_pg "$PG_BIN/pg_ctl" -D "$DATA/db" -l "$DATA/postgres.log" -w \
  -o "-c listen_addresses=127.0.0.1 -p $PORT -k $DATA -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 ${PG_EXTRA_OPTS:-}" \
  start >/dev/null

export DATABASE_URL="postgres://postgres@127.0.0.1:$PORT/gupshup_admin"
# For the fault tests that restart the server mid-campaign (tests/faults/).
export TEST_PG_BIN="$PG_BIN" TEST_PG_DATA="$DATA/db"
echo "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PORT (throwaway)"
"$@"
