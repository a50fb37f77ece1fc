#!/usr/bin/env bash
# `npm test`: installs what is missing (npm packages, Temporal CLI, ElasticMQ, promtool, helm), starts
# the test infrastructure (Temporal dev server and ElasticMQ on test ports), runs type checks, lint
# and every test, and stops what it started.
# Extra arguments go to jest, e.g. `npm test -- test/domain`.
#
# The run owns the test stack from start to end, and it starts it empty: a stack found running (left
# up by a run that was killed, or started by hand with `infra.sh start test`) is stopped first. Its
# Temporal history and queues would otherwise carry over into this run, where the ids the tests fix
# (member ids, request ids, deduplication ids) would meet the earlier run's. A second `npm test` while
# one runs would restart the stack under it: it stops at once instead.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

# One run at a time. The lock goes with this shell (also when it is killed); the commands below get
# `9>&-` so that no server or jest worker that outlives it keeps holding it.
DATA="${INFRA_DATA_DIR:-$ROOT/.data/test}"
mkdir -p "$DATA"
exec 9>>"$DATA/npm-test.lock"
if ! flock -n 9; then
  echo "[test] another npm test (pid $(cat "$DATA/npm-test.lock" 2>/dev/null)) is using the test stack; wait for it to end" >&2
  exit 1
fi
echo $$ > "$DATA/npm-test.lock"

bash scripts/ensure-deps.sh 9>&-
# The Kubernetes package's checks: promtool (alert rule tests) and helm (lint, render), into .tools/.
bash scripts/ensure-promtool.sh 9>&-
bash scripts/ensure-helm.sh 9>&-
# Node 20 is supported by the pinned AWS SDK; its notice about future versions is noise here.
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true

started=0
cleanup() { if [ "$started" = 1 ]; then bash scripts/infra.sh stop test 9>&- || true; fi; }
trap cleanup EXIT INT TERM

if [ $# -eq 0 ]; then
  echo "[test] type check" >&2
  npx tsc -p tsconfig.json --noEmit 9>&-
  echo "[test] lint and format check" >&2
  npx eslint . --max-warnings 0 9>&-
  npx prettier --check . >/dev/null 9>&- || { npx prettier --check . 9>&-; exit 1; }
fi

started=1
# Stopped, the stack starts empty: infra.sh deletes the test profile's Temporal database when it
# starts the server, and ElasticMQ keeps its queues in memory only.
if [ "$(bash scripts/infra.sh status test 9>&- | grep -c ': running$' || true)" != 0 ]; then
  echo "[test] the test stack is running (left up by an earlier run, or started by hand): restarting it empty" >&2
  bash scripts/infra.sh stop test 9>&-
fi
bash scripts/infra.sh start test 9>&-
echo "[test] jest" >&2
npx jest --ci "$@" 9>&-
