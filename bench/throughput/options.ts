/** The throughput suite's command-line options (docs/benchmarks.md lists them) and their defaults. */
import { temporalEngine, type TemporalEngine } from '../../harness/cluster';
import { DEV_SERVER_DYNAMIC_CONFIG, DEV_SERVER_SQLITE_PRAGMAS } from '../../harness/infra';
import {
  ALL_SYSTEMS,
  DEFAULT_MAX_OPEN_RUNS,
  FULL_N,
  OTHER_SCENARIOS,
  SCENARIOS,
  type Scenario,
  type SystemId,
} from './scenarios';

export interface Options {
  quick: boolean;
  n: number;
  seedN: number;
  pacedN: number;
  systems: Set<SystemId>;
  /** Not every default scenario and system: the report is named `-subset` (never the full run's file). */
  subset: boolean;
  scenarios: Set<string>;
  api: boolean;
  logLevel: string;
  /** BRIDGE_POLLERS with a group per member. */
  pollers: number;
  /**
   * BRIDGE_POLLERS with the BE's single group: one batch of that group can be in flight at a time, so a
   * second poller can never receive anything; on ElasticMQ its long poll on the blocked group spins a CPU.
   */
  groupPollers: number;
  workerActivities: number;
  rawStartConcurrency: number;
  pacedRate?: number;
  /** Messages for the plain consumer when L > 0 (it then does about 10/(L + ε) per second). */
  slowN: number;
  sqlitePragmas: string[];
  devConfig: string[];
  workerCache?: number;
  /** BRIDGE_MAX_OPEN_QUEUE_RUNS of ours (the bridge's default when absent). */
  bridgeMaxOpen?: number;
  /** NODE_OPTIONS of our processes (worker, bridge, API). */
  nodeOptions?: string;
  /** More environment for our processes (--ours-env). */
  oursEnv: Record<string, string>;
  /** Our processes log process.memoryUsage() once a second (baselines/memory-log.ts). */
  memoryLog: boolean;
  /** Our processes write a CPU profile of their main thread on exit (baselines/cpu-profile.ts). */
  cpuProfile: boolean;
  /** Messages sent through ElasticMQ before the first run, so that its JIT is warm for every system. */
  emqWarmup: number;
  /** `--temporal dev` (the dev server, SQLite) or `cluster` (a Temporal server on PostgreSQL, 4 shards). */
  temporal: TemporalEngine;
}

const DEFAULT_PRAGMAS = DEV_SERVER_SQLITE_PRAGMAS.join(',');

/** Requests per run: n, fewer for the baselines that are slow by design (said so in the report). */
export function requestCount(options: Options, scenario: Scenario, system: SystemId): number {
  if (system === 'seed') return Math.min(options.seedN, options.n);
  if (system === 'plain' && scenario.latencyMs > 0) return Math.min(options.slowN, options.n);
  return options.n;
}

/** Ours' bound on open queue runs (BRIDGE_MAX_OPEN_QUEUE_RUNS); undefined: no bound. */
export function maxOpenRuns(options: Options): number | undefined {
  const bound = options.bridgeMaxOpen ?? DEFAULT_MAX_OPEN_RUNS;
  return bound > 0 ? bound : undefined;
}

export function parseArgs(argv: string[]): Options {
  const quick = argv.includes('--quick');
  const value = (flag: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const number = (flag: string, fallback: number) => {
    const raw = value(flag);
    if (raw === undefined) return fallback;
    const parsed = Number(raw);
    if (!Number.isFinite(parsed) || parsed <= 0) throw new Error(`${flag} needs a positive number`);
    return parsed;
  };
  const list = (flag: string, defaults: string[], known = defaults) => {
    const raw = value(flag);
    const items = raw ? raw.split(',').map((s) => s.trim()) : defaults;
    const unknown = items.filter((item) => !known.includes(item));
    if (unknown.length > 0)
      throw new Error(`${flag}: unknown ${unknown.join(', ')} (known: ${known.join(', ')})`);
    return new Set(items);
  };
  const defaultScenarios = [...SCENARIOS.filter((s) => !s.extra).map((s) => s.id), ...OTHER_SCENARIOS];
  const scenarios = list('--scenarios', defaultScenarios, [
    ...SCENARIOS.map((s) => s.id),
    ...OTHER_SCENARIOS,
  ]);
  const systems = list('--systems', ALL_SYSTEMS) as Set<SystemId>;
  const sameAs = (set: Set<string>, defaults: string[]) =>
    set.size === defaults.length && defaults.every((d) => set.has(d));
  const bridgeMaxOpen = value('--bridge-max-open');
  if (bridgeMaxOpen !== undefined && !/^\d+$/.test(bridgeMaxOpen))
    throw new Error('--bridge-max-open needs a whole number (0: no bound)');
  return {
    quick,
    n: number('--n', quick ? 200 : FULL_N),
    seedN: number('--seed-n', quick ? 5 : 30),
    pacedN: number('--paced-n', quick ? 60 : 240),
    systems,
    scenarios,
    subset: !sameAs(scenarios, defaultScenarios) || !sameAs(systems, ALL_SYSTEMS),
    api: scenarios.has('api'),
    logLevel: value('--log-level') ?? 'info',
    pollers: number('--pollers', 4),
    groupPollers: number('--group-pollers', 1),
    workerActivities: number('--worker-activities', 200),
    rawStartConcurrency: number('--raw-start-concurrency', 50),
    slowN: number('--slow-n', quick ? 100 : 600),
    pacedRate: value('--paced-rate') === undefined ? undefined : number('--paced-rate', 1),
    devConfig: (value('--dev-config') ?? DEV_SERVER_DYNAMIC_CONFIG.join(';'))
      .split(';')
      .filter((c) => c.length > 0 && c !== 'default'),
    workerCache: value('--worker-cache') === undefined ? undefined : number('--worker-cache', 0),
    nodeOptions: value('--node-options'),
    oursEnv: keyValues(value('--ours-env')),
    bridgeMaxOpen: bridgeMaxOpen === undefined ? undefined : Number(bridgeMaxOpen),
    memoryLog: argv.includes('--memory-log'),
    cpuProfile: argv.includes('--cpu-profile'),
    // WAL instead of SQLite's rollback journal: the dev server's default does several fsyncs per
    // transaction and is then bound by the disk, which no production persistence is.
    sqlitePragmas: (value('--sqlite-pragmas') ?? DEFAULT_PRAGMAS)
      .split(',')
      .filter((p) => p.length > 0 && p !== 'default'),
    emqWarmup: number('--emq-warmup', quick ? 1500 : 5000),
    temporal: temporalEngine(argv),
  };
}

/** `K=V,K=V` → { K: V }. */
function keyValues(raw: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of (raw ?? '').split(',').filter((p) => p.length > 0)) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new Error(`--ours-env: "${pair}" is not K=V`);
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}
