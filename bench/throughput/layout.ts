/** Where the throughput suite's stack lives: its directories and its ports on 127.0.0.1. */
import { join } from 'node:path';

export const ROOT = join(__dirname, '..', '..');
export const DATA = join(ROOT, '.data', 'bench');
export const PROFILES = join(DATA, 'profiles');
/** The baselines, compiled by scripts/bench.sh (bench/tsconfig.build.json). */
export const BUILD = join(ROOT, '.data', 'bench-build', 'bench', 'baselines');
export const RESULTS = join(ROOT, 'bench', 'results');

export const PORTS = {
  temporal: 37233,
  temporalHttp: 38233,
  temporalMetrics: 38234,
  sqs: 39324,
  vllm: 38800,
  api: 38000,
  rawStats: 38802,
  /** The cluster engine's PostgreSQL (`--temporal cluster`); its server takes temporal…temporal + 5. */
  postgres: 37433,
  /** The cluster engine's four membership ports from here (they must be below 32768). */
  temporalMembership: 30233,
};

export const SIMULATOR_URL = `http://127.0.0.1:${PORTS.vllm}`;

/** The harness's concurrent SendMessage calls in burst runs and in the ElasticMQ warm-up. */
export const SEND_CONCURRENCY = 16;
