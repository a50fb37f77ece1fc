#!/usr/bin/env bash
# The `cluster` Temporal engine: a real Temporal server (go.temporal.io/server, built from source into
# .tools/) on PostgreSQL 15, with 4 history shards and SQL visibility, as the BE's team runs it. Every
# command line of the engine is here; scripts/infra.sh (profiles cluster and test-cluster) and the chaos
# and bench harnesses (`--temporal cluster`, harness/cluster.ts) call it.
#
#   temporal-cluster.sh build                  build the server and its SQL tool once (idempotent)
#   temporal-cluster.sh run-postgres DIR PORT  PostgreSQL on 127.0.0.1:PORT with its data in DIR
#                                              (initdb on first use); execs into the postmaster
#   temporal-cluster.sh schema PG_PORT         the two databases and their schemas (idempotent)
#   temporal-cluster.sh run-server PORT PG_PORT [MEMBERSHIP_PORT]
#                                              the server: frontend gRPC on 127.0.0.1:PORT, HTTP on
#                                              PORT+1, the other services on PORT+2…PORT+4, metrics on
#                                              PORT+5, membership on MEMBERSHIP_PORT…+3 (default PORT+10;
#                                              below 32768: the membership table stores smallints);
#                                              execs into it
#   temporal-cluster.sh pg-ready PG_PORT       exit 0 when PostgreSQL accepts connections
#
# PostgreSQL refuses to run as root: as root, it runs as the `postgres` system user (created by
# Debian's package, which is installed when missing), with its data directory handed to that user.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# The server version tested here (docs/production.md); its Go module needs Go >= 1.26.10, which the
# Go module proxy serves as a toolchain.
TEMPORAL_SERVER_VERSION=1.32.2
GO_TOOLCHAIN=go1.27.3
SERVER_DIR="$ROOT/.tools/temporal-server/$TEMPORAL_SERVER_VERSION"
SERVER_BIN="$SERVER_DIR/bin/temporal-server"
SQL_TOOL="$SERVER_DIR/bin/temporal-sql-tool"
SCHEMA="$SERVER_DIR/schema/postgresql/v12"
PG_USER_NAME=postgres

log() { printf "[temporal-cluster] %s\n" "$*" >&2; }

build() {
  if [ -x "$SERVER_BIN" ] && [ -x "$SQL_TOOL" ] && [ -f "$SCHEMA/temporal/schema.sql" ]; then return 0; fi
  command -v go >/dev/null || { log "Go is needed to build the Temporal server (go install); install Go first"; exit 1; }
  log "building Temporal server v$TEMPORAL_SERVER_VERSION and its SQL tool (once, a few minutes; GOTOOLCHAIN=$GO_TOOLCHAIN)"
  local tmp
  tmp="$(mktemp -d "$ROOT/.tools/temporal-server.build.XXXXXX")"
  GOTOOLCHAIN="$GO_TOOLCHAIN" GOBIN="$tmp/bin" GOFLAGS=-buildvcs=false \
    go install "go.temporal.io/server/cmd/server@v$TEMPORAL_SERVER_VERSION" \
    "go.temporal.io/server/cmd/tools/sql@v$TEMPORAL_SERVER_VERSION"
  mv "$tmp/bin/server" "$tmp/bin/temporal-server"
  mv "$tmp/bin/sql" "$tmp/bin/temporal-sql-tool"
  # The schema files ship in the module, not in the binaries.
  local module
  module="$(GOTOOLCHAIN="$GO_TOOLCHAIN" go env GOMODCACHE)/go.temporal.io/server@v$TEMPORAL_SERVER_VERSION"
  mkdir -p "$tmp/schema/postgresql"
  cp -r "$module/schema/postgresql/v12" "$tmp/schema/postgresql/"
  chmod -R u+w "$tmp" && chmod 755 "$tmp"
  rm -rf "$SERVER_DIR"
  mkdir -p "$(dirname "$SERVER_DIR")"
  mv "$tmp" "$SERVER_DIR"
  log "built into $SERVER_DIR"
}

pg_bin() {
  local dir
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    [ -x "$dir/postgres" ] && { echo "$dir"; return 0; }
  done
  dir="$(dirname "$(command -v postgres 2>/dev/null || echo /nonexistent/x)")"
  [ -x "$dir/postgres" ] && { echo "$dir"; return 0; }
  return 1
}

ensure_postgres() {
  pg_bin >/dev/null && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    log "PostgreSQL is missing: installing Debian's postgresql"
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
    pg_bin >/dev/null && return 0
  fi
  log "PostgreSQL (initdb, postgres) not found: install PostgreSQL 15 (Debian: apt-get install postgresql)"
  exit 1
}

# Runs a command as the user PostgreSQL runs as: this user, or `postgres` when this is root (setpriv
# execs, so the caller's pid becomes the postmaster's).
as_pg() {
  if [ "$(id -u)" != 0 ]; then exec "$@"; fi
  id -u "$PG_USER_NAME" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$PG_USER_NAME"
  exec setpriv --reuid="$PG_USER_NAME" --regid="$(id -g "$PG_USER_NAME")" --init-groups -- "$@"
}

run_postgres() { # dir port
  local dir="$1" port="$2" bin
  ensure_postgres
  bin="$(pg_bin)"
  mkdir -p "$dir"
  if [ "$(id -u)" = 0 ]; then
    (as_pg true) || exit 1
    chown -R "$PG_USER_NAME" "$dir"
    chmod 700 "$dir"
    if ! (as_pg test -w "$dir"); then
      log "the $PG_USER_NAME user cannot reach $dir (a parent directory is closed to other users); move the clone or set INFRA_DATA_DIR"
      exit 1
    fi
  fi
  if [ ! -f "$dir/PG_VERSION" ]; then
    # Local only: trust on 127.0.0.1, one superuser named as in the server's configuration.
    (as_pg "$bin/initdb" --pgdata="$dir" --username=temporal --auth=trust --encoding=UTF8 --locale=C.UTF-8 \
      --no-instructions >"$dir.initdb.log" 2>&1) || { log "initdb failed; see $dir.initdb.log"; exit 1; }
  fi
  # TCP on 127.0.0.1 only, no Unix socket (no shared socket directory, no path-length limit).
  as_pg "$bin/postgres" -D "$dir" -c listen_addresses=127.0.0.1 -c port="$port" \
    -c unix_socket_directories= -c max_connections=100 -c fsync=on
}

psql_at() { # port db sql
  psql -h 127.0.0.1 -p "$1" -U temporal -d "$2" -v ON_ERROR_STOP=1 -tAqc "$3"
}

pg_ready() { psql_at "$1" postgres 'select 1' >/dev/null 2>&1; }

schema() { # pg_port
  local port="$1" db dir
  build
  for db in temporal temporal_visibility; do
    case "$db" in temporal) dir="$SCHEMA/temporal/versioned" ;; *) dir="$SCHEMA/visibility/versioned" ;; esac
    local tool=("$SQL_TOOL" --plugin postgres12 --ep 127.0.0.1 -p "$port" -u temporal --pw temporal --db "$db")
    if [ "$(psql_at "$port" postgres "select count(*) from pg_database where datname = '$db'")" = 0 ]; then
      "${tool[@]}" create-database >&2
      "${tool[@]}" setup-schema -v 0.0 >&2
    fi
    # Applies only the versions above the database's.
    "${tool[@]}" update-schema -d "$dir" >&2
  done
}

run_server() { # port pg_port [membership_port]
  local membership="${3:-$(($1 + 10))}"
  if [ $((membership + 3)) -gt 32767 ]; then
    log "membership ports $membership…$((membership + 3)) must be below 32768 (the membership table stores smallints): pass one"
    exit 2
  fi
  build
  export TEMPORAL_CLUSTER_PORT="$1" TEMPORAL_CLUSTER_PG_PORT="$2" TEMPORAL_CLUSTER_MEMBERSHIP_PORT="$membership"
  export TEMPORAL_CLUSTER_DYNAMIC_CONFIG="$ROOT/infra/temporal/dynamicconfig.yaml"
  exec "$SERVER_BIN" --config-file "$ROOT/infra/temporal-cluster/config.yaml" --allow-no-auth start
}

case "${1:-}" in
  build) build ;;
  run-postgres) run_postgres "${2:?data directory}" "${3:?port}" ;;
  schema) schema "${2:?PostgreSQL port}" ;;
  run-server) run_server "${2:?port}" "${3:?PostgreSQL port}" "${4:-}" ;;
  pg-ready) pg_ready "${2:?PostgreSQL port}" ;;
  *) sed -n '2,20p' "$0"; exit 2 ;;
esac
