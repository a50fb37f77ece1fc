#!/usr/bin/env bash
# `npm run bench [-- --quick] [--n N] [--seed-n N] [--paced-n N] [--systems ours,seed,plain,raw]
# [--scenarios ...]`: installs what is missing, builds our processes and the baselines, runs
# bench/run.ts (its own local stack on ports 37233/39324/38800/38000). Results go to bench/results/.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/ensure-deps.sh
npm run --silent build >/dev/null
# The baselines run as compiled JavaScript, like our processes (no loader in their CPU and memory).
npx tsc -p bench/tsconfig.build.json
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
exec node --import tsx bench/run.ts "$@"
