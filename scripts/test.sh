#!/usr/bin/env bash
# `npm test`: installs what is missing, starts the test infrastructure (Temporal dev server and
# ElasticMQ on test ports), runs type checks, lint and every test, and stops what it started.
# Extra arguments go to jest, e.g. `npm test -- test/domain`.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/ensure-deps.sh
# Node 20 is supported by the pinned AWS SDK; its notice about future versions is noise here.
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true

started=0
cleanup() { if [ "$started" = 1 ]; then bash scripts/infra.sh stop test || true; fi; }
trap cleanup EXIT INT TERM

if [ $# -eq 0 ]; then
  echo "[test] type check" >&2
  npx tsc -p tsconfig.json --noEmit
  echo "[test] lint and format check" >&2
  npx eslint . --max-warnings 0
  npx prettier --check . >/dev/null || { npx prettier --check .; exit 1; }
fi

started=1
bash scripts/infra.sh start test
echo "[test] jest" >&2
npx jest --ci "$@"
