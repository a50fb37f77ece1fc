#!/usr/bin/env bash
# `npm run be [-- publish <memberId> <file|-> | advance <days>]`: the BE double (src/dev/be-double-main.ts).
# Without a command it serves (result-queue subscriber, DLQ poller, callback); `publish` sends a request as
# the BE; `advance` moves the running double's clock on (play the next week).
# With no queue settings in the environment it uses the local stack's endpoints (.data/dev/endpoints.env).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ -z "${AWS_SQS_FEEDBACK_QUEUE_URL:-}" ] && [ -f "$ROOT/.data/dev/endpoints.env" ]; then
  set -a; . "$ROOT/.data/dev/endpoints.env"; set +a
fi
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
if [ -d "$ROOT/node_modules/tsx" ]; then exec node --import tsx "$ROOT/src/dev/be-double-main.ts" "$@"; fi
exec node "$ROOT/dist/src/dev/be-double-main.js" "$@"
