#!/usr/bin/env bash
# `npm start`: the whole service locally with its embedded defaults. Installs what is missing, starts
# the Temporal dev server (with Web UI) and ElasticMQ, builds, then runs the vLLM simulator, the BE
# double (dev/be-double: consumes the result queue and serves the callback as the BE does), and the
# three processes (api, sqs-bridge, worker).
# Ctrl-C stops everything. Any setting of .env.example can be overridden in the environment, e.g.
# VLLM_API_URL=http://gpu-host:8800 npm start (the simulator is then not started).
#
# Stopping: SIGINT (Ctrl-C) or SIGTERM, sent to the whole process group or only to npm or this
# script, stops what this script started within a few seconds: its processes (SIGTERM, SIGKILL after
# STOP_GRACE s), then the Temporal dev server and ElasticMQ (scripts/infra.sh stop, which runs them in
# their own session). INFRA_DATA_DIR (default .data/dev) holds the infrastructure's data and the logs;
# with it and the port settings a test runs a whole stack of its own.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# Node 20 is supported by the pinned AWS SDK; its notice about future versions is noise here.
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
# TEMPORAL_ENGINE=cluster runs on a real Temporal server on PostgreSQL (scripts/infra.sh profile
# cluster; the first start builds the server) instead of the dev server.
case "${TEMPORAL_ENGINE:=dev}" in
  dev) INFRA_PROFILE=dev ;;
  cluster) INFRA_PROFILE=cluster ;;
  *) echo "[start] TEMPORAL_ENGINE must be dev or cluster, not '$TEMPORAL_ENGINE'" >&2; exit 2 ;;
esac
export INFRA_DATA_DIR="${INFRA_DATA_DIR:-$ROOT/.data/$INFRA_PROFILE}"
LOGS="$INFRA_DATA_DIR/logs"
STOP_GRACE=5

pids=()      # what runs in the background: the processes, the console's tail, a setup step
infra=0      # 1 once infra.sh start was called: its servers are stopped at the end
stopping=0

now_ms() { local us="${EPOCHREALTIME/[.,]/}"; echo $((us / 1000)); }
alive() { local state; state="$(ps -o stat= -p "$1" 2>/dev/null)" && [[ "$state" != Z* ]]; }
tree() { # pid: it and its descendants (a setup step's npm runs tsc under sh)
  local child
  echo "$1"
  for child in $(ps -o pid= --ppid "$1" 2>/dev/null); do tree "$child"; done
}

stop_all() {
  [ "$stopping" = 0 ] || return 0
  stopping=1
  # npm passes a Ctrl-C on to this script although the terminal sent it here too: a second signal
  # must not cut the cleanup short.
  trap ':' INT TERM HUP
  echo >&2
  echo "[start] stopping" >&2
  local pid all=() left=()
  # shellcheck disable=SC2207 # pids are words
  for pid in "${pids[@]}"; do all+=($(tree "$pid")); done
  if [ ${#all[@]} -gt 0 ]; then
    kill -TERM "${all[@]}" 2>/dev/null || true
    local deadline=$(($(now_ms) + STOP_GRACE * 1000)) killed=0
    while :; do
      left=()
      for pid in "${all[@]}"; do if alive "$pid"; then left+=("$pid"); fi; done
      [ ${#left[@]} -gt 0 ] || break
      if [ "$killed" = 0 ] && [ "$(now_ms)" -ge "$deadline" ]; then
        echo "[start] still running ${STOP_GRACE}s after SIGTERM, killing: ${left[*]}" >&2
        kill -KILL "${left[@]}" 2>/dev/null || true
        killed=1
      fi
      sleep 0.1
    done
  fi
  if [ "$infra" = 1 ]; then bash scripts/infra.sh stop "$INFRA_PROFILE" || true; fi
  echo "[start] stopped" >&2
}
on_signal() { # signal
  stop_all
  # Then end by the signal, as a program without a handler would: npm exits quietly the same way.
  trap - "$1" EXIT
  kill -s "$1" $$
}
trap 'on_signal INT' INT
trap 'on_signal TERM' TERM
trap 'on_signal HUP' HUP
trap stop_all EXIT

# A setup command runs in the background while this script waits for it: bash runs a trap only after
# a foreground command has finished (the build takes half a minute), but interrupts `wait` at once.
step() {
  "$@" &
  local pid=$! status=0
  pids+=("$pid")
  wait "$pid" || status=$?
  unset 'pids[-1]'
  return "$status"
}

step bash scripts/ensure-deps.sh
infra=1
step bash scripts/infra.sh start "$INFRA_PROFILE"
echo "[start] building" >&2
step bash scripts/build-if-changed.sh

set -a
# shellcheck disable=SC1091
source "$INFRA_DATA_DIR/endpoints.env"
set +a
# Queue mode, as the BE runs in production (the double also serves the callback for DELIVERY_MODE=callback|both).
export DELIVERY_MODE="${DELIVERY_MODE:-queue}"
export BE_DOUBLE_PORT="${BE_DOUBLE_PORT:-8081}"
export BE_CALLBACK_BASE_URL="${BE_CALLBACK_BASE_URL:-http://127.0.0.1:$BE_DOUBLE_PORT}"
export API_PORT="${API_PORT:-8000}"
# A local run: the API without authentication unless you configure it (the API logs a warning).
export API_AUTH_MODE="${API_AUTH_MODE:-none}"
mkdir -p "$LOGS"

run() { # name package.json-start-script: runs what `npm run <script>` runs (node, its flags, the file)
  local command
  command=$(node -p "require('./package.json').scripts['$2']")
  # shellcheck disable=SC2086 # the script's words are node's arguments
  $command >> "$LOGS/$1.log" 2>&1 &
  pids+=($!)
}

vllm_note=""
if [ -z "${VLLM_API_URL:-}" ]; then
  export VLLM_API_URL="http://127.0.0.1:${VLLM_SIM_PORT:-8800}"
  run vllm-simulator start:vllm-sim
  vllm_note="   (vLLM simulator)"
fi
# The double's lines (stored feedbacks) are shown on the console as well as in its log: it writes its
# log like the other processes, and a tail shows what it adds. (Not through a pipe such as >(tee):
# when a Ctrl-C ends the reader first, the double's logger retries its last write forever at exit.)
be_log="$LOGS/be-double.log"
be_from=$(($(stat -c %s "$be_log" 2>/dev/null || echo 0) + 1))
node dist/dev/be-double/main.js >> "$be_log" 2>&1 &
pids+=($!)
tail -c "+$be_from" -F --pid="$!" "$be_log" 2>/dev/null &
pids+=($!)
run worker start:worker
run sqs-bridge start:bridge
run api start:api

for _ in $(seq 1 100); do
  curl -sf -m 1 "http://127.0.0.1:$API_PORT/health" >/dev/null && break
  sleep 0.2
done
curl -sf -m 1 "http://127.0.0.1:$API_PORT/health" >/dev/null || { echo "[start] the API did not come up; see $LOGS/api.log" >&2; exit 1; }

cat <<EOT

  Leafresh feedback orchestrator is running (local defaults).

  API            http://127.0.0.1:$API_PORT   (POST /ai/feedback, GET /ai/feedback/<requestId>)
  API docs       http://127.0.0.1:$API_PORT/docs   (Swagger UI; /openapi.json)
  Metrics        http://127.0.0.1:$API_PORT/metrics, bridge :${BRIDGE_HEALTH_PORT:-8091}/metrics, worker :${WORKER_HEALTH_PORT:-8092}/metrics
  Temporal UI    ${TEMPORAL_WEB_UI_URL:-none on the cluster engine (npm run feedback -- list)}
  vLLM           $VLLM_API_URL$vllm_note
  BE double      result queue + callback $BE_CALLBACK_BASE_URL   (delivery: $DELIVERY_MODE; stored feedbacks are printed below)
  Logs           $LOGS/

  Try:
    curl -si -X POST http://127.0.0.1:$API_PORT/ai/feedback \\
      -H 'content-type: application/json' \\
      -d '{"memberId":42,"personalChallenges":[{"id":1,"title":"텀블러 사용하기","isSuccess":true}]}'

  Operator CLI (another terminal):  npm run feedback -- status <requestId>
  Publish as the BE (another terminal):  npm run be -- publish <memberId> <request.json>
  Ctrl-C stops everything.

EOT
wait -n "${pids[@]}" || true
echo "[start] a process exited; see $LOGS/" >&2
