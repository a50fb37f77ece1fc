/** Where the throughput suite's stack lives: its directories and its ports on 127.0.0.1. */
import { join } from 'node:path';

export const ROOT = join(__dirname, '..', '..');
export const DATA = join(ROOT, '.data', 'bench');
export const PROFILES = join(DATA, 'profiles');
/** The baselines, compiled by scripts/bench.sh (bench/tsconfig.build.json). */
export const BUILD = join(ROOT, '.data', 'bench-build', 'bench', 'baselines');
export const RESULTS = join(ROOT, 'bench', 'results');

/**
 * All below 32768, outside Linux's ephemeral range, where any client connection may hold a port for a
 * while (scripts/infra.sh).
 */
export const PORTS = {
  temporal: 13233,
  temporalHttp: 14233,
  temporalMetrics: 14234,
  sqs: 15324,
  vllm: 14800,
  api: 14000,
  rawStats: 14802,
  /**
   * The cluster engine's PostgreSQL (`--temporal cluster`); its server takes temporal…temporal + 5 and
   * its membership ports temporal + 10…13.
   */
  postgres: 13433,
};

export const SIMULATOR_URL = `http://127.0.0.1:${PORTS.vllm}`;

/** The harness's concurrent SendMessage calls in burst runs and in the ElasticMQ warm-up. */
export const SEND_CONCURRENCY = 16;
