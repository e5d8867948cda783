#!/usr/bin/env bash
# A PostgreSQL server for the storage tests (issue 5), on 127.0.0.1 only.
#
# Run by .ci/run as root on a fresh Debian 12 machine, before `make test`; safe to run
# again (an installed package, an existing cluster, a running server are all reused).
# It installs Debian's `postgresql` package if missing, keeps its own throw-away cluster
# (not Debian's `main` one, which other software may use) in $NARRASCOPE_PG_DIR, owned by
# the postgres user, UTF-8 with the C.UTF-8 locale (so Cyrillic folds to lower case in
# full-text search) and no fsync (test data only), starts it on 127.0.0.1:$NARRASCOPE_PG_PORT,
# creates a password user and a database for the tests, and appends
# NARRASCOPE_TEST_POSTGRES_URL=postgresql://... to .ci/services.env.
set -euo pipefail
cd "$(dirname "$0")/.."

DIR="${NARRASCOPE_PG_DIR:-/var/tmp/narrascope-ci-postgres}"
PORT="${NARRASCOPE_PG_PORT:-54329}"
ROLE=narrascope
PASSWORD=narrascope-ci
DATABASE=narrascope_test
ENV_FILE=.ci/services.env
log() { echo "setup-postgres: $*" >&2; }

INSTALLED=no
if ! ls -d /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  log "installing Debian's postgresql package"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq postgresql >/dev/null 2>&1 || {
    apt-get update -qq >/dev/null
    apt-get install -y -qq postgresql >/dev/null
  }
  INSTALLED=yes
fi
BIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
if [ "$INSTALLED" = yes ]; then  # the package may have started its own cluster: not needed
  pg_ctlcluster "$(basename "$(dirname "$BIN")")" main stop >/dev/null 2>&1 || true
fi
as_postgres() { runuser -u postgres -- "$@"; }

DATA="$DIR/data"
mkdir -p "$DIR"
chown postgres:postgres "$DIR"
chmod 700 "$DIR"
if [ ! -s "$DATA/PG_VERSION" ]; then
  log "creating a cluster in $DATA"
  rm -rf "$DATA"
  as_postgres "$BIN/initdb" -D "$DATA" -U postgres --encoding=UTF8 --locale=C.UTF-8 \
    --auth-local=peer --auth-host=scram-sha-256 >/dev/null
  cat >>"$DATA/postgresql.conf" <<CONF
# narrascope CI: loopback only, socket in $DIR, speed over durability (test data)
listen_addresses = '127.0.0.1'
unix_socket_directories = '$DIR'
fsync = off
synchronous_commit = off
full_page_writes = off
CONF
fi

start_server() {
  rm -f "$DATA/postmaster.pid"  # left by a killed server (pg_ctl said it is not running)
  for _ in $(seq 1 20); do  # the port may be someone else's: take the next free one
    (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null || break
    PORT=$((PORT + 1))
  done
  log "starting the server on 127.0.0.1:$PORT"
  as_postgres "$BIN/pg_ctl" -D "$DATA" -l "$DIR/server.log" -w -t 30 -o "-p $PORT" start \
    >/dev/null || { tail -n 20 "$DIR/server.log" >&2; exit 1; }
}
answers() {  # up to 15 s: a server may be starting up or recovering
  for _ in $(seq 1 15); do
    "$BIN/pg_isready" -q -h "$DIR" -p "$PORT" && return 0
    sleep 1
  done
  return 1
}

if as_postgres "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
  PORT="$(sed -n 4p "$DATA/postmaster.pid")"
  if answers; then
    log "server already running on 127.0.0.1:$PORT"
  else
    log "the server of $DATA does not answer: restarting it"
    as_postgres "$BIN/pg_ctl" -D "$DATA" stop -m immediate -t 15 >/dev/null 2>&1 || true
    start_server
  fi
else
  start_server
fi

psql_admin() { as_postgres "$BIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 -h "$DIR" -p "$PORT" -d postgres "$@"; }
if [ -z "$(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname = '$ROLE'")" ]; then
  psql_admin -c "CREATE ROLE $ROLE LOGIN PASSWORD '$PASSWORD'"
fi
if [ -z "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = '$DATABASE'")" ]; then
  psql_admin -c "CREATE DATABASE $DATABASE OWNER $ROLE ENCODING 'UTF8' TEMPLATE template0"
fi

URL="postgresql://$ROLE:$PASSWORD@127.0.0.1:$PORT/$DATABASE"
"$BIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 "$URL" -c "SELECT 1" >/dev/null
touch "$ENV_FILE"
sed -i '/^NARRASCOPE_TEST_POSTGRES_URL=/d' "$ENV_FILE"
echo "NARRASCOPE_TEST_POSTGRES_URL=$URL" >>"$ENV_FILE"
log "ready: $URL"
