#!/bin/sh
# One-shot job of docker-compose.yml (service temporal-schema, image temporalio/admin-tools): creates
# Temporal's two PostgreSQL databases and brings their schemas to the version this admin-tools image
# ships, which must be the version of the server image. Safe to run on every `docker compose up`:
# `create` ignores an existing database, `setup-schema -v 0.0` keeps a newer version and
# `update-schema` applies only the missing versions (so a server upgrade also upgrades the schema).
# The password comes from SQL_PASSWORD in the environment, which temporal-sql-tool reads itself.
set -eu

host="${POSTGRES_SEEDS:-postgresql}"
port="${DB_PORT:-5432}"
user="${POSTGRES_USER:-temporal}"
schemas=/etc/temporal/schema/postgresql/v12

sql() {
  temporal-sql-tool --plugin postgres12 --ep "$host" -u "$user" -p "$port" "$@"
}

# shellcheck source=retry.sh
. "$(dirname "$0")/retry.sh"

for db in temporal temporal_visibility; do
  case "$db" in
    temporal) dir="$schemas/temporal/versioned" ;;
    *) dir="$schemas/visibility/versioned" ;;
  esac
  # Compose starts this job once PostgreSQL is healthy; the retry covers a slow first start.
  retry 30 sql --db "$db" create
  sql --db "$db" setup-schema -v 0.0
  sql --db "$db" update-schema -d "$dir"
  echo "database $db: schema up to date"
done
