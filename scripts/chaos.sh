#!/usr/bin/env bash
# `npm run chaos [-- --quick] [--n N] [--seed S]`: installs what is missing, builds, runs chaos/run.ts.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/ensure-deps.sh
bash scripts/build-if-changed.sh
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
exec node --import tsx chaos/run.ts "$@"
