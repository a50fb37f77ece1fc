#!/usr/bin/env bash
# `npm run bench [-- --suite throughput|flow|all] [--temporal dev|cluster|both] [--quick] [options]`:
# installs what is missing, builds our processes and the baselines, then runs
#   throughput  bench/run.ts: ours next to the seed-style worker, a plain SQS consumer and the raw
#               Temporal ceiling (ports 13233/15324/14800/14000; the cluster engine also 13234–13238,
#               13243–13246 and PostgreSQL 13433)
#   flow        bench/flow.ts: LLM flow control: capacity drop, bulk burst with interactive trickle,
#               adaptive vs fixed limit (ports 11233/12324/11800/11000)
# (default: both, one after the other) and writes bench/results/<date>[-flow][-quick].{json,md[,svg]},
# then bench/results/SUMMARY.md (bench/summary.ts). Options: docs/benchmarks.md.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
suite=all
args=()
engines=(dev)
while [ $# -gt 0 ]; do
  case "$1" in
    --suite) suite="${2:?--suite needs throughput, flow or all}"; shift 2 ;;
    --suite=*) suite="${1#--suite=}"; shift ;;
    # The throughput suite's Temporal: the dev server, the cluster engine (a server on PostgreSQL), or
    # both one after the other (SUMMARY.md then puts them side by side). The flow suite runs on the dev server.
    --temporal)
      case "${2:-}" in
        dev|cluster) engines=("$2") ;;
        both) engines=(dev cluster) ;;
        *) echo "--temporal needs dev, cluster or both" >&2; exit 2 ;;
      esac
      shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done
case "$suite" in throughput|flow|all) ;; *) echo "unknown suite: $suite (throughput|flow|all)" >&2; exit 2 ;; esac
bash scripts/ensure-deps.sh
bash scripts/build-if-changed.sh
# The baselines run as compiled JavaScript, like our processes (no loader in their CPU and memory).
npx tsc -p bench/tsconfig.build.json
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true

# The ratio table judges a line only if other processes took at most 0.2 cores during its runs
# (bench/throughput/goals.ts): wait up to 2 minutes for a quiet machine, and say so when it stayed busy.
busy_cores() { # cores busy over the next 5 s, every process (/proc/stat: user nice system irq softirq steal)
  local before after
  before="$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6 }' /proc/stat)"
  sleep 5
  after="$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6 }' /proc/stat)"
  awk -v a="$before" -v b="$after" -v n="$(nproc)" 'BEGIN {
    split(a, x, " "); split(b, y, " "); busy = y[1] - x[1]; all = busy + y[2] - x[2]
    printf "%.2f", (all > 0 ? n * busy / all : 0) }'
}
quiet_by=$((SECONDS + 120))
while busy="$(busy_cores)"; awk -v b="$busy" 'BEGIN { exit !(b > 0.2) }'; do
  if [ "$SECONDS" -ge "$quiet_by" ]; then
    echo "[bench] the machine stayed busy (${busy} cores of other processes): running anyway; lines whose runs shared it are not judged" >&2
    break
  fi
  echo "[bench] waiting for a quiet machine (${busy} cores busy)" >&2
done
echo "[bench] machine before the runs: ${busy} cores busy" >&2
status=0
# bench/results/SUMMARY.md, rebuilt from the result files after each suite (also after a failed one,
# which may have written a partial report); failing to rebuild it fails the benchmark at the end.
summary_failed=0
summarise() {
  if ! node --import tsx bench/summary.ts; then
    echo "[bench] could not regenerate bench/results/SUMMARY.md" >&2
    summary_failed=1
  fi
}
if [ "$suite" != flow ]; then
  for engine in "${engines[@]}"; do
    [ "$status" = 0 ] || break
    node --import tsx bench/run.ts ${args[@]+"${args[@]}"} --temporal "$engine" || status=$?
    summarise
  done
fi
if [ "$suite" != throughput ] && [ "$status" = 0 ]; then
  # Only --quick and the flow options apply here.
  flow_args=()
  for a in ${args[@]+"${args[@]}"}; do [ "$a" = --quick ] && flow_args+=("$a"); done
  if [ "$suite" = flow ]; then flow_args=(${args[@]+"${args[@]}"}); fi
  node --import tsx bench/flow.ts ${flow_args[@]+"${flow_args[@]}"} || status=$?
  summarise
fi
# The results are committed: keep them in the repository's format (CI checks it).
if [ -d bench/results ]; then npx prettier --write bench/results --log-level warn || true; fi
if [ "$status" = 0 ] && [ "$summary_failed" = 1 ]; then status=1; fi
exit "$status"
