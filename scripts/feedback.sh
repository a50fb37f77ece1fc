#!/usr/bin/env bash
# `npm run feedback -- <command>`: the operator CLI (src/cli/feedback.ts). With no queue settings in
# the environment it uses the local stack's endpoints (.data/dev/endpoints.env, written by `npm start`).
# In the Docker image (no dev dependencies): `node dist/src/cli/feedback.js <command>`.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ -z "${AWS_SQS_FEEDBACK_QUEUE_URL:-}" ] && [ -f "$ROOT/.data/dev/endpoints.env" ]; then
  set -a; . "$ROOT/.data/dev/endpoints.env"; set +a
fi
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
if [ -d "$ROOT/node_modules/tsx" ]; then exec node --import tsx "$ROOT/src/cli/feedback.ts" "$@"; fi
exec node "$ROOT/dist/src/cli/feedback.js" "$@"
