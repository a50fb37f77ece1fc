#!/usr/bin/env bash
# `npm run fuzz [-- --max-examples N]`: fuzzes the HTTP API from its own OpenAPI document with
# Schemathesis (PyPI, installed into .tools/venv), against the real API on the test stack (Temporal
# dev server + ElasticMQ), with bearer authentication on. Counts the cases by the API's own metrics
# (every answer, by status) and writes fuzz/results/<date>.json; exits 1 on any 5xx or failed check.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
MAX_EXAMPLES=1200
while [ $# -gt 0 ]; do
  case "$1" in
    --max-examples) MAX_EXAMPLES="$2"; shift 2 ;;
    *) echo "[fuzz] unknown option $1" >&2; exit 2 ;;
  esac
done
SCHEMATHESIS_VERSION=4.32.5
VENV="$ROOT/.tools/venv"
# The run's outputs; the stack (profile fuzz) keeps its own files in .data/fuzz.
DATA="$ROOT/.data/fuzz/run"
PORT=38200
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true

bash scripts/ensure-deps.sh
if [ "$("$VENV/bin/st" --version 2>/dev/null | grep -oE '[0-9]+\.[0-9]+\.[0-9]+' | head -1)" != "$SCHEMATHESIS_VERSION" ]; then
  echo "[fuzz] installing schemathesis $SCHEMATHESIS_VERSION into .tools/venv" >&2
  "$VENV/bin/pip" install --quiet "schemathesis==$SCHEMATHESIS_VERSION"
fi
bash scripts/build-if-changed.sh
rm -rf "$DATA" && mkdir -p "$DATA"

# Its own stack (profile fuzz, own ports), started empty and stopped at the end: a run never talks to
# servers it did not start (infra.sh refuses ports another process holds). One left by a killed fuzz
# run is stopped first.
if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
  echo "[fuzz] port $PORT (the fuzzed API) is taken by another process; stop it first" >&2
  exit 1
fi
api_pid=""
cleanup() {
  [ -n "$api_pid" ] && kill -TERM "$api_pid" 2>/dev/null && wait "$api_pid" 2>/dev/null || true
  bash scripts/infra.sh stop fuzz >&2 || true
}
trap cleanup EXIT
bash scripts/infra.sh stop fuzz >&2
bash scripts/infra.sh start fuzz >&2

TOKEN="fuzz-$(node -e "process.stdout.write(require('crypto').randomBytes(16).toString('hex'))")"
eval "$(node -e "
const e = require('./.data/fuzz/endpoints.json');
console.log('export TEMPORAL_ADDRESS=' + e.temporalAddress);
console.log('export AWS_ENDPOINT_URL_SQS=' + e.sqsEndpoint);
console.log('export AWS_SQS_FEEDBACK_QUEUE_URL=' + e.queues.requestQueueUrl);
")"
AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local API_PORT=$PORT API_HOST=127.0.0.1 \
  API_AUTH_MODE=bearer API_AUTH_TOKEN="$TOKEN" LOG_LEVEL=warn \
  node dist/src/api/main.js > "$DATA/api.log" 2>&1 &
api_pid=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/health" >/dev/null && break; sleep 0.2; done

echo "[fuzz] schemathesis: up to $MAX_EXAMPLES examples per operation" >&2
set +e
"$VENV/bin/st" run "http://127.0.0.1:$PORT/openapi.json" \
  --header "Authorization: Bearer $TOKEN" \
  --checks not_a_server_error \
  --max-examples "$MAX_EXAMPLES" \
  --report junit --report-dir "$DATA" \
  --no-color > "$DATA/schemathesis.log" 2>&1
st_exit=$?
set -e
tail -25 "$DATA/schemathesis.log" >&2

curl -sf -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/metrics" > "$DATA/metrics.txt"
set +e
node - "$st_exit" "$MAX_EXAMPLES" "$SCHEMATHESIS_VERSION" "$DATA/metrics.txt" <<'JS'
const fs = require('fs');
const [stExit, maxExamples, version, metricsFile] = process.argv.slice(2);
const text = fs.readFileSync(metricsFile, 'utf8');
const byStatus = {};
for (const m of text.matchAll(/^feedback_api_requests_total\{([^}]*)\} (\d+)$/gm)) {
  const labels = Object.fromEntries([...m[1].matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
  if (labels.route === '/metrics') continue; // the count below, not a fuzz case
  byStatus[labels.status] = (byStatus[labels.status] ?? 0) + Number(m[2]);
}
const cases = Object.values(byStatus).reduce((a, b) => a + b, 0);
const serverErrors = Object.entries(byStatus).filter(([s]) => s.startsWith('5')).reduce((a, [, n]) => a + n, 0);
const date = new Date().toISOString().slice(0, 10);
const report = {
  command: `npm run fuzz -- --max-examples ${maxExamples}`,
  date: new Date().toISOString(),
  tool: `schemathesis ${version}`,
  checks: ['not_a_server_error'],
  casesAnsweredByTheApi: cases,
  byStatus,
  serverErrors,
  schemathesisExitCode: Number(stExit),
  passed: serverErrors === 0 && Number(stExit) === 0 && cases >= 2000,
};
fs.mkdirSync('fuzz/results', { recursive: true });
fs.writeFileSync(`fuzz/results/${date}.json`, JSON.stringify(report, null, 2) + '\n');
console.error(`[fuzz] ${cases} cases answered, by status ${JSON.stringify(byStatus)}, 5xx: ${serverErrors}; report fuzz/results/${date}.json`);
process.exit(report.passed ? 0 : 1);
JS
fuzz_exit=$?
npx prettier --write "fuzz/results/$(date -u +%F).json" >/dev/null
exit $fuzz_exit
