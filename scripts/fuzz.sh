#!/usr/bin/env bash
# `npm run fuzz [-- --max-examples N]`: fuzzes the HTTP API from its own OpenAPI document with
# Schemathesis (PyPI, installed into .tools/venv), against the real API on its own stack (Temporal
# dev server + ElasticMQ, profile fuzz), with bearer authentication on. Counts the cases by the API's
# own metrics (every answer, by status; accepted requests and status lookups that found one), reads
# Schemathesis's NDJSON report for why generated valid requests were refused, and writes
# fuzz/results/<date>.json. Exits 1 on any 5xx or failed check, on fewer than 2 x N answers, or when
# no request was accepted or no status lookup found one (docs/security.md, "Fuzzing").
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
PORT=26200
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
  --report junit,ndjson --report-dir "$DATA" \
  --no-color > "$DATA/schemathesis.log" 2>&1
st_exit=$?
set -e
tail -25 "$DATA/schemathesis.log" >&2

curl -sf -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/metrics" > "$DATA/metrics.txt"
set +e
node - "$st_exit" "$MAX_EXAMPLES" "$SCHEMATHESIS_VERSION" "$DATA" <<'JS'
const fs = require('fs');
const path = require('path');
const [stExit, maxExamples, version, data] = process.argv.slice(2);

// Every answer of the API by its own metrics: by status, accepted requests, status lookups that found one.
const byStatus = {};
let accepted = 0;
let statusLookupsFound = 0;
const metrics = fs.readFileSync(path.join(data, 'metrics.txt'), 'utf8');
for (const m of metrics.matchAll(/^feedback_api_requests_total\{([^}]*)\} (\d+)$/gm)) {
  const labels = Object.fromEntries([...m[1].matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
  if (labels.route === '/metrics') continue; // the count below, not a fuzz case
  const n = Number(m[2]);
  byStatus[labels.status] = (byStatus[labels.status] ?? 0) + n;
  if (labels.route === '/ai/feedback' && labels.status === '202') accepted += n;
  if (labels.route === '/ai/feedback/:requestId' && labels.status === '200') statusLookupsFound += n;
}
const cases = Object.values(byStatus).reduce((a, b) => a + b, 0);
const serverErrors = Object.entries(byStatus).filter(([s]) => s.startsWith('5')).reduce((a, [, n]) => a + n, 0);

// Schemathesis's own record of each case (NDJSON report): the requests it generated as valid
// ("positive") or invalid, by answer, and the field errors of valid ones the API refused. Those say
// where the published schema and the validator disagree (docs/security.md).
const requests = { positive: {}, negative: {} };
const refusals = {};
const ndjson = fs.readdirSync(data).find((f) => f.endsWith('.ndjson'));
for (const line of ndjson ? fs.readFileSync(path.join(data, ndjson), 'utf8').split('\n') : []) {
  if (!line.startsWith('{"ScenarioFinished"')) continue;
  const { cases: generated = {}, interactions = {} } = JSON.parse(line).ScenarioFinished.recorder;
  for (const [id, interaction] of Object.entries(interactions)) {
    const c = generated[id]?.value;
    const status = interaction.response?.status_code;
    if (c?.method !== 'POST' || c.path !== '/ai/feedback' || status === undefined) continue;
    const mode = c.meta?.generation?.mode === 'positive' ? 'positive' : 'negative';
    requests[mode][status] = (requests[mode][status] ?? 0) + 1;
    if (mode !== 'positive' || status !== 400) continue;
    let errors = [];
    try {
      const content = interaction.response.content;
      const text = content?.$base64 ? Buffer.from(content.$base64, 'base64').toString('utf8') : String(content);
      errors = JSON.parse(text).data?.errors ?? [];
    } catch {
      errors = [{ path: '', message: 'unreadable answer' }];
    }
    for (const e of errors.slice(0, 1)) {
      // Indices and values vary per case; the field and the rule do not.
      const reason = `${e.path.replace(/\[\d+\]/g, '[]')}: ${e.message.replace(/"[^"]*"/g, '"…"').replace(/\d+/g, 'N')}`;
      refusals[reason] = (refusals[reason] ?? 0) + 1;
    }
  }
}
const topRefusals = Object.fromEntries(Object.entries(refusals).sort((a, b) => b[1] - a[1]).slice(0, 5));

// Schemathesis's warnings (e.g. "Schema validation mismatch: ..."), their headlines only.
const log = fs.readFileSync(path.join(data, 'schemathesis.log'), 'utf8');
const warningsBlock = /=+ WARNINGS =+\n([\s\S]*?)\n=+ SUMMARY =+/.exec(log)?.[1] ?? '';
const warnings = warningsBlock.split('\n').filter((l) => /^[A-Z][\w ]+: /.test(l));

// The fuzzing phase alone sends up to N cases to each of the two operations with inputs (POST
// /ai/feedback, GET /ai/feedback/{requestId}); the coverage and stateful phases add more. Fewer than
// 2 x N answers means the run did not fuzz them (no schema, the API down, generation starved).
const minimumCases = 2 * Number(maxExamples);
const date = new Date().toISOString().slice(0, 10);
const report = {
  command: `npm run fuzz -- --max-examples ${maxExamples}`,
  date: new Date().toISOString(),
  tool: `schemathesis ${version}`,
  checks: ['not_a_server_error'],
  casesAnsweredByTheApi: cases,
  minimumCases,
  byStatus,
  accepted,
  statusLookupsFound,
  serverErrors,
  generatedFeedbackRequests: requests,
  validRequestsRefusedBy: topRefusals,
  schemathesisWarnings: warnings,
  schemathesisExitCode: Number(stExit),
  passed:
    serverErrors === 0 &&
    Number(stExit) === 0 &&
    cases >= minimumCases &&
    accepted > 0 &&
    statusLookupsFound > 0,
};
fs.mkdirSync('fuzz/results', { recursive: true });
fs.writeFileSync(`fuzz/results/${date}.json`, JSON.stringify(report, null, 2) + '\n');
console.error(
  `[fuzz] ${cases} cases answered (minimum ${minimumCases}), by status ${JSON.stringify(byStatus)}, ` +
    `accepted: ${accepted}, status lookups found: ${statusLookupsFound}, 5xx: ${serverErrors}; ` +
    `report fuzz/results/${date}.json`,
);
process.exit(report.passed ? 0 : 1);
JS
fuzz_exit=$?
npx prettier --write "fuzz/results/$(date -u +%F).json" >/dev/null
exit $fuzz_exit
