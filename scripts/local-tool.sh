#!/usr/bin/env bash
# `bash scripts/local-tool.sh <module> [args]`: runs a command-line tool of this repository (e.g.
# src/cli/feedback) from its TypeScript source when dev dependencies are installed, else from dist/.
# With no queue settings in the environment it uses the local stack's endpoints
# (.data/dev/endpoints.env, written by `npm start`).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
module="$1"
shift
if [ -z "${AWS_SQS_FEEDBACK_QUEUE_URL:-}${AWS_SQS_FEEDBACK_REQUEST_QUEUE_URL:-}" ] && [ -f "$ROOT/.data/dev/endpoints.env" ]; then
  set -a; . "$ROOT/.data/dev/endpoints.env"; set +a
fi
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
if [ -d "$ROOT/node_modules/tsx" ]; then exec node --import tsx "$ROOT/$module.ts" "$@"; fi
exec node "$ROOT/dist/$module.js" "$@"
