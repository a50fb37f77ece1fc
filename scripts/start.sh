#!/usr/bin/env bash
# `npm start`: the whole service locally with its embedded defaults. Installs what is missing, starts
# the Temporal dev server (with Web UI) and ElasticMQ, builds, then runs the vLLM simulator, the BE
# double (src/dev/be-double: consumes the result queue and serves the callback as the BE does), and the
# three processes (api, sqs-bridge, worker).
# Ctrl-C stops everything. Any setting of .env.example can be overridden in the environment, e.g.
# VLLM_API_URL=http://gpu-host:8800 npm start (the simulator is then not started).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/ensure-deps.sh
# Node 20 is supported by the pinned AWS SDK; its notice about future versions is noise here.
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
bash scripts/infra.sh start dev
echo "[start] building" >&2
npm run --silent build >&2

set -a
# shellcheck disable=SC1091
source .data/dev/endpoints.env
set +a
# Queue mode, as the BE runs in production (the double also serves the callback for DELIVERY_MODE=callback|both).
export DELIVERY_MODE="${DELIVERY_MODE:-queue}"
export BE_DOUBLE_PORT="${BE_DOUBLE_PORT:-8081}"
export BE_CALLBACK_BASE_URL="${BE_CALLBACK_BASE_URL:-http://127.0.0.1:$BE_DOUBLE_PORT}"
export API_PORT="${API_PORT:-8000}"
# A local run: the API without authentication unless you configure it (the API logs a warning).
export API_AUTH_MODE="${API_AUTH_MODE:-none}"
LOGS="$ROOT/.data/dev/logs"
mkdir -p "$LOGS"

pids=()
stop_all() {
  trap - EXIT INT TERM
  echo >&2
  echo "[start] stopping" >&2
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait "${pids[@]}" 2>/dev/null || true
  bash scripts/infra.sh stop dev || true
}
trap stop_all EXIT INT TERM

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
# The double's lines (stored feedbacks) are shown on the console as well as in its log.
node dist/src/dev/be-double-main.js > >(tee -a "$LOGS/be-double.log") 2>&1 &
pids+=($!)
run worker start:worker
run sqs-bridge start:bridge
run api start:api

for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$API_PORT/health" >/dev/null && break
  sleep 0.2
done
curl -sf "http://127.0.0.1:$API_PORT/health" >/dev/null || { echo "[start] the API did not come up; see $LOGS/api.log" >&2; exit 1; }

cat <<EOT

  Leafresh feedback orchestrator is running (local defaults).

  API            http://127.0.0.1:$API_PORT   (POST /ai/feedback, GET /ai/feedback/<requestId>)
  API docs       http://127.0.0.1:$API_PORT/docs   (Swagger UI; /openapi.json)
  Metrics        http://127.0.0.1:$API_PORT/metrics, bridge :${BRIDGE_HEALTH_PORT:-8091}/metrics, worker :${WORKER_HEALTH_PORT:-8092}/metrics
  Temporal UI    $TEMPORAL_WEB_UI_URL
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
