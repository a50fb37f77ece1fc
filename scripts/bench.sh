#!/usr/bin/env bash
# `npm run bench [-- --quick] [--n N] [--systems ours,seed,plain,raw] [--scenarios ...]` (options in
# bench/run.ts): installs what is missing, builds our processes and the baselines, runs bench/run.ts
# on its own local stack (ports 37233/39324/38800/38000) and writes bench/results/<date>.{json,md,svg}.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/ensure-deps.sh
npm run --silent build >/dev/null
# The baselines run as compiled JavaScript, like our processes (no loader in their CPU and memory).
npx tsc -p bench/tsconfig.build.json
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
status=0
node --import tsx bench/run.ts "$@" || status=$?
# The results are committed: keep them in the repository's format (CI checks it).
if [ -d bench/results ]; then npx prettier --write bench/results --log-level warn || true; fi
exit "$status"
