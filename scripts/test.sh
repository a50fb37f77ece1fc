#!/usr/bin/env bash
# `npm test` (the fast tier), `npm run test:slow` (the slow tier: `bash scripts/test.sh --slow`) and
# `npm run test:cluster` (the e2e suites on the cluster engine, profile test-cluster on 31233/31324/31433).
# Installs what is missing (npm packages, Temporal CLI, ElasticMQ; promtool and helm for the fast
# tier), starts the tier's test infrastructure (Temporal dev server and ElasticMQ: profile `test` on
# 17233/18233/19324, `test-slow` on 21233/22233/23324, so both tiers can run at once), runs the type
# check and lint (fast tier, no jest arguments) and jest, and stops what it started.
# Extra arguments go to jest, e.g. `npm test -- test/domain`.
#
# The run owns its test stack from start to end, and it starts it empty: a stack found running (left
# up by a run that was killed, or started by hand with `infra.sh start test`) is stopped first. Its
# Temporal history and queues would otherwise carry over into this run, where the ids the tests fix
# (member ids, request ids, deduplication ids) would meet the earlier run's. A second run of the same
# tier while one runs would restart the stack under it: it stops at once instead.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

tier=fast profile=test jest_config=jest.config.js
case "${1:-}" in
  --slow) tier=slow profile=test-slow jest_config=jest.slow.config.js; shift ;;
  # The e2e suites on the cluster engine (Temporal on PostgreSQL; the first run builds the server).
  --cluster) tier=cluster profile=test-cluster jest_config=jest.cluster.config.js; shift ;;
esac

# One run per tier at a time. The lock goes with this shell (also when it is killed); the commands below get
# `9>&-` so that no server or jest worker that outlives it keeps holding it.
DATA="${INFRA_DATA_DIR:-$ROOT/.data/$profile}"
mkdir -p "$DATA"
exec 9>>"$DATA/npm-test.lock"
if ! flock -n 9; then
  echo "[test] another $tier-tier run (pid $(cat "$DATA/npm-test.lock" 2>/dev/null)) is using the $profile stack; wait for it to end" >&2
  exit 1
fi
echo $$ > "$DATA/npm-test.lock"

bash scripts/ensure-deps.sh 9>&-
if [ "$tier" = fast ]; then
  # The Kubernetes package's checks: promtool (alert rule tests) and helm (lint, render), into .tools/.
  bash scripts/ensure-promtool.sh 9>&-
  bash scripts/ensure-helm.sh 9>&-
fi
# Node 20 is supported by the pinned AWS SDK; its notice about future versions is noise here.
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true

started=0 infra_pid=""
cleanup() {
  # A start still under way is let finish (its wait is bounded) before the stop.
  if [ -n "$infra_pid" ]; then wait "$infra_pid" 2>/dev/null || true; fi
  if [ "$started" = 1 ]; then bash scripts/infra.sh stop "$profile" 9>&- || true; fi
  started=0 infra_pid=""
}
# A signal ends the run after the cleanup (a trap that only cleaned up would let the script go on).
trap cleanup EXIT
trap 'cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM

started=1
# Stopped, the stack starts empty: infra.sh deletes the test profile's Temporal database when it
# starts the server, and ElasticMQ keeps its queues in memory only.
if [ "$(bash scripts/infra.sh status "$profile" 9>&- | grep -c ': running$' || true)" != 0 ]; then
  echo "[test] the test stack is running (left up by an earlier run, or started by hand): restarting it empty" >&2
  bash scripts/infra.sh stop "$profile" 9>&-
fi
# The servers start (mostly waiting for a JVM and the dev server) while the type check and lint run.
bash scripts/infra.sh start "$profile" 9>&- &
infra_pid=$!

if [ "$tier" = fast ] && [ $# -eq 0 ]; then
  echo "[test] type check" >&2
  npx tsc -p tsconfig.json --noEmit 9>&-
  echo "[test] lint and format check" >&2
  npx eslint . --max-warnings 0 9>&-
  npx prettier --check . >/dev/null 9>&- || { npx prettier --check . 9>&-; exit 1; }
fi

status=0
wait "$infra_pid" || status=$?
infra_pid=""
if [ "$status" != 0 ]; then
  echo "[test] the $profile stack did not start (exit $status; see the lines above and .data/$profile/*.log)" >&2
  exit 1
fi
echo "[test] jest ($tier tier)" >&2
npx jest --ci --config "$jest_config" --json --outputFile="$DATA/jest-results.json" "$@" 9>&-
