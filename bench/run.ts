/**
 * `npm run bench [-- options]`: throughput and latency of our service next to three baselines, on a
 * local stack of its own (Temporal dev server :37233 on a fresh SQLite file under .data/bench/,
 * ElasticMQ :39324, the vLLM simulator :38800, the API :38000; all on 127.0.0.1). Logs of every
 * process in .data/bench/logs/.
 *
 * Systems, each run alone against the same queue setup and the same simulator:
 *   ours   BE-style messages → sqs-bridge + worker (from dist/) → FeedbackWorkflow → callback
 *   seed   bench/baselines/seed-worker.ts: the original worker loop, one message at a time
 *   plain  bench/baselines/plain-consumer.ts: sqs-consumer, batches of 10 in parallel, no Temporal
 *   raw    bench/baselines/raw-temporal.ts: no-op workflows (three no-op activities) on the same server
 *
 * Scenarios: instant LLM (L = 0) and L = 1 s with C = 64 (the simulator's maxNumSeqs), each with the
 * BE's queue shape (one FIFO group `feedback-request`) and with a group per member; paced runs of ours
 * at half its measured maximum rate (orchestration overhead, with a breakdown from the workflow
 * histories); the API alone at 200 req/s next to raw SendMessage. Writes
 * bench/results/<date>[-quick][-n<N>][-subset].{json,md,svg} (`-subset` when --scenarios or --systems
 * leaves out a default one, so that a partial run never overwrites the full report); `bench/render.ts
 * <json>` re-renders md and svg.
 *
 * Options (defaults: full run / --quick):
 *   --quick                       the short run
 *   --n N                         requests per run (2000 / 200)
 *   --seed-n N                    messages for the seed-style worker (30 / 5)
 *   --slow-n N                    messages for the plain consumer when L > 0 (600 / 100)
 *   --paced-n N                   requests per paced run (240 / 60); --paced-rate R overrides the rate
 *   --systems a,b                 ours, seed, plain, raw
 *   --scenarios a,b               instant-group, instant-member, l1-group, l1-member, paced-instant,
 *                                 paced-l1, raw-ceiling, api; extra (not in the default run): l1-c8,
 *                                 l1-c16 (C/L = 8/s and 16/s, below the raw Temporal ceiling)
 *   --pollers N / --group-pollers N       BRIDGE_POLLERS per member groups / one group (4 / 1)
 *   --worker-activities N         WORKER_MAX_CONCURRENT_ACTIVITIES (200)
 *   --raw-start-concurrency N     concurrent starts of the raw ceiling (50)
 *   --log-level L                 LOG_LEVEL of the systems (info)
 *   --sqlite-pragmas a=b,c=d      dev server SQLite pragmas (journal_mode=wal,synchronous=normal;
 *                                 `default` for SQLite's own)
 *   --emq-warmup N                messages through ElasticMQ before the first run (5000 / 1500)
 *   --dev-config k=v;k=v          dev server dynamic config values (none: the server's defaults),
 *                                 e.g. system.enableActivityEagerExecution=true
 *   --worker-cache N              WORKER_MAX_CACHED_WORKFLOWS of ours (the SDK's default)
 *   --bridge-max-open N           BRIDGE_MAX_OPEN_QUEUE_RUNS of ours (the bridge's default; 0: no bound)
 *   --node-options "<flags>"      NODE_OPTIONS of our processes, e.g. --max-semi-space-size=2
 *   --ours-env K=V[,K=V]          more environment for our processes only, e.g. MALLOC_ARENA_MAX=2 or
 *                                 FEEDBACK_FAIRNESS=false (they get only the benchmark's environment)
 *   --memory-log                  our processes log process.memoryUsage() once a second to their logs
 *                                 in .data/bench/logs (a memory profile: V8 heap, external, the rest)
 *   --cpu-profile                 our processes write a CPU profile of their main thread on exit to
 *                                 .data/bench/profiles/<process>-<pid>.cpuprofile; summarise one with
 *                                 `node --import tsx bench/profile-summary.ts <file>`
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import {
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import autocannon from 'autocannon';
import { ProcessGroup, waitForHttp, type ManagedProcess } from '../chaos/processes';
import {
  DEV_SERVER_DYNAMIC_CONFIG,
  DEV_SERVER_SQLITE_PRAGMAS,
  startElasticMq,
  startTemporalDevServer,
  waitForTemporal,
} from '../chaos/infra';
import { paced, percentile, pool, ProgressBar, sleep } from '../chaos/util';
import { createBeDouble } from '../dev/be-double';
import { fromEpochMillis } from '../src/domain/datetime';
import { workflowIdFor } from '../src/domain/keys';
import { createSqsClient, ensureFeedbackQueues, type FeedbackQueues } from '../src/shared/sqs';
import type { RawStarterResult, RawWorkerStats } from './baselines/raw-temporal';
import { overheadBreakdown } from './breakdown';
import {
  BE_GROUP,
  benchEnv,
  CREDENTIALS,
  REGION,
  configureSimulator,
  feedbackRequest,
  sendRequest,
} from './requests';
import { readProcUsage } from './proc';
import {
  computeRatios,
  evaluateTargets,
  FULL_N,
  latency,
  ms,
  rate,
  renderMarkdown,
  renderSvg,
  SYSTEM_LABELS,
  type ApiReport,
  type ApiSweepPoint,
  type BenchReport,
  type ProcessReport,
  type Quantiles,
  type RunReport,
  type Scenario,
  type SystemId,
} from './report';

const ROOT = join(__dirname, '..');
const DATA = join(ROOT, '.data', 'bench');
const PROFILES = join(DATA, 'profiles');
const BUILD = join(ROOT, '.data', 'bench-build', 'bench', 'baselines');
const RESULTS = join(ROOT, 'bench', 'results');
const PORTS = {
  temporal: 37233,
  temporalHttp: 38233,
  temporalMetrics: 38234,
  sqs: 39324,
  vllm: 38800,
  api: 38000,
  rawStats: 38802,
};
const CAPACITY = 64;
const SEND_CONCURRENCY = 16;
const API_RATE = 200;
/** Lower rates the API and raw SendMessage are also measured at (the overhead's trend). */
const API_SWEEP_RATES = [50, 100];
const API_SECONDS = 10;
const API_WARMUP_SECONDS = 3;
const API_CONNECTIONS = 10;

const SCENARIOS: Scenario[] = [
  {
    id: 'instant-group',
    title: 'L = 0, one group',
    latencyMs: 0,
    capacity: CAPACITY,
    shape: 'group',
    mode: 'burst',
  },
  {
    id: 'instant-member',
    title: 'L = 0, group per member',
    latencyMs: 0,
    capacity: CAPACITY,
    shape: 'member',
    mode: 'burst',
  },
  {
    id: 'l1-group',
    title: 'L = 1 s, one group',
    latencyMs: 1000,
    capacity: CAPACITY,
    shape: 'group',
    mode: 'burst',
  },
  {
    id: 'l1-member',
    title: 'L = 1 s, group per member',
    latencyMs: 1000,
    capacity: CAPACITY,
    shape: 'member',
    mode: 'burst',
  },
  // C/L below the raw Temporal ceiling (extra: `--scenarios l1-c8,l1-c16 --systems ours`): where the
  // orchestrator, not Temporal on this machine, would be the limit.
  ...[8, 16].map((capacity): Scenario => ({
    id: `l1-c${capacity}`,
    title: `L = 1 s, C = ${capacity}, one group`,
    latencyMs: 1000,
    capacity,
    shape: 'group',
    mode: 'burst',
    extra: true,
  })),
  {
    id: 'paced-instant',
    title: 'L = 0, ours at half its maximum rate',
    latencyMs: 0,
    capacity: CAPACITY,
    shape: 'group',
    mode: 'paced',
  },
  {
    id: 'paced-l1',
    title: 'L = 1 s, ours at half its maximum rate',
    latencyMs: 1000,
    capacity: CAPACITY,
    shape: 'group',
    mode: 'paced',
  },
];
const ALL_SYSTEMS: SystemId[] = ['ours', 'seed', 'plain', 'raw'];

interface Options {
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
}

const DEFAULT_PRAGMAS = DEV_SERVER_SQLITE_PRAGMAS.join(',');

/** Requests per run: n, fewer for the baselines that are slow by design (said so in the report). */
function requestCount(options: Options, scenario: Scenario, system: SystemId): number {
  if (system === 'seed') return Math.min(options.seedN, options.n);
  if (system === 'plain' && scenario.latencyMs > 0) return Math.min(options.slowN, options.n);
  return options.n;
}

function parseArgs(argv: string[]): Options {
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
  const defaultScenarios = [...SCENARIOS.filter((s) => !s.extra).map((s) => s.id), 'raw-ceiling', 'api'];
  const scenarios = list('--scenarios', defaultScenarios, [
    ...SCENARIOS.map((s) => s.id),
    'raw-ceiling',
    'api',
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
    // WAL instead of SQLite's rollback journal: the dev server's default does several fsyncs per
    // transaction and is then bound by the disk, which no production persistence is.
    devConfig: (value('--dev-config') ?? DEV_SERVER_DYNAMIC_CONFIG.join(';'))
      .split(';')
      .filter((c) => c.length > 0 && c !== 'default'),
    workerCache: value('--worker-cache') === undefined ? undefined : number('--worker-cache', 0),
    nodeOptions: value('--node-options'),
    oursEnv: keyValues(value('--ours-env')),
    bridgeMaxOpen: bridgeMaxOpen === undefined ? undefined : Number(bridgeMaxOpen),
    memoryLog: argv.includes('--memory-log'),
    cpuProfile: argv.includes('--cpu-profile'),
    sqlitePragmas: (value('--sqlite-pragmas') ?? DEFAULT_PRAGMAS)
      .split(',')
      .filter((p) => p.length > 0 && p !== 'default'),
    emqWarmup: number('--emq-warmup', quick ? 1500 : 5000),
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

type SharedName = 'temporal' | 'elasticmq' | 'simulator';

/** A process of the stack exited while a run needed it (e.g. killed from outside the harness). */
class ExternalExit extends Error {
  override name = 'ExternalExit';
}

/** What every run needs: the process group, an SQS client, the shared processes, the progress bar. */
interface Context {
  options: Options;
  group: ProcessGroup;
  sqs: SQSClient;
  /** Temporal, ElasticMQ and the simulator: shared by all runs. */
  shared: Record<SharedName, ManagedProcess>;
  /** Rejects when a shared process exits without the harness asking. */
  sharedExited: Promise<never>;
  /** Names of the processes the harness is stopping (their exit is expected). */
  stopping: Set<string>;
  progress: ProgressBar;
  progressBase: number;
  /** The processes started for the runs, by name (the latest start of each name). */
  started: Map<string, ManagedProcess>;
  runIndex: number;
  /** The highest delivered/s of ours per latency, for the paced runs. */
  oursMaxRate: Map<number, number>;
}

async function main(): Promise<void> {
  const started = Date.now();
  const options = parseArgs(process.argv.slice(2));
  rmSync(DATA, { recursive: true, force: true });
  mkdirSync(join(DATA, 'logs'), { recursive: true });
  if (options.cpuProfile) mkdirSync(PROFILES, { recursive: true });
  const group = new ProcessGroup(join(DATA, 'logs'));
  cleanup = () => group.stopAll('SIGKILL');
  const node = process.execPath;
  const loadAverageAtStart = loadavg();

  // --- shared processes --------------------------------------------------------------------------
  process.stderr.write('[bench] starting Temporal dev server, ElasticMQ and the vLLM simulator\n');
  const [temporal, elasticmq] = await Promise.all([
    startTemporalDevServer(group, {
      port: PORTS.temporal,
      httpPort: PORTS.temporalHttp,
      metricsPort: PORTS.temporalMetrics,
      dbFile: join(DATA, 'temporal.db'),
      home: DATA,
      extraArgs: options.sqlitePragmas.map((p) => `--sqlite-pragma=${p}`),
      dynamicConfig: options.devConfig,
    }),
    startElasticMq(group, { port: PORTS.sqs }),
  ]);
  const simulator = group.start(
    'vllm-simulator',
    node,
    [join(ROOT, 'dist', 'dev', 'vllm-simulator', 'main.js')],
    {
      LOG_LEVEL: 'warn',
      VLLM_SIM_PORT: String(PORTS.vllm),
      VLLM_SIM_HOST: '127.0.0.1',
      VLLM_SIM_MAX_NUM_SEQS: String(CAPACITY),
      VLLM_SIM_LATENCY_MS: '0',
    },
  );
  await waitForHttp(`http://127.0.0.1:${PORTS.vllm}/health`);
  const sqs = createSqsClient(
    { region: REGION, endpoint: `http://127.0.0.1:${PORTS.sqs}`, requestTimeoutMs: 10_000 },
    { credentials: CREDENTIALS },
  );
  await warmUpQueue(sqs, options.emqWarmup);
  if (options.systems.has('raw')) {
    await execFileAsync(node, [
      join(BUILD, 'raw-temporal.js'),
      'bundle',
      join(DATA, 'noop-workflow-bundle.js'),
    ]);
  }

  // --- plan ----------------------------------------------------------------------------------
  const plan: Array<{ scenario: Scenario; system: SystemId; n: number }> = [];
  for (const scenario of SCENARIOS.filter((s) => options.scenarios.has(s.id))) {
    if (scenario.mode === 'paced') {
      if (options.systems.has('ours')) plan.push({ scenario, system: 'ours', n: options.pacedN });
      // The no-op workflow at the same rate: the latency floor of any Temporal design on this server.
      if (options.systems.has('raw') && scenario.latencyMs === 0)
        plan.push({ scenario, system: 'raw', n: options.pacedN });
      continue;
    }
    for (const system of ['ours', 'plain', 'seed'] as SystemId[]) {
      if (options.systems.has(system))
        plan.push({ scenario, system, n: requestCount(options, scenario, system) });
    }
  }
  const rawPlanned = options.systems.has('raw') && options.scenarios.has('raw-ceiling');
  // The ceiling right after the L = 0 runs, before the paced ones.
  const firstLater = plan.findIndex((p) => p.scenario.latencyMs > 0 || p.scenario.mode === 'paced');
  const rawAt = firstLater === -1 ? plan.length : firstLater;
  const total = plan.reduce((sum, p) => sum + p.n, 0) + (rawPlanned ? options.n : 0);

  const stopping = new Set<string>();
  const shared = { temporal, elasticmq, simulator };
  const ctx: Context = {
    options,
    group,
    sqs,
    shared,
    sharedExited: exitWatch(stopping, Object.values(shared)),
    stopping,
    progress: new ProgressBar(total),
    progressBase: 0,
    started: new Map(),
    runIndex: 0,
    oursMaxRate: new Map(),
  };

  const runs: RunReport[] = [];
  partial = { ctx, runs, started, loadAverageAtStart };
  const execute = async (step: () => Promise<RunReport>) => {
    const runStarted = Date.now();
    let run: RunReport;
    const aborted: string[] = [];
    for (let attempt = 1; ; attempt++) {
      try {
        run = await step();
        run.notes.push(
          ...aborted.map((reason) => `an earlier attempt was aborted (${reason}) and run again`),
        );
        break;
      } catch (err) {
        if (!(err instanceof ExternalExit) || attempt >= 2) throw err;
        aborted.push(err.message.replace(/; see .*$/, ''));
        process.stderr.write(`\n[bench] ${err.message}: restarting what is down and running it again\n`);
        await reviveShared(ctx);
        ctx.runIndex += 1; // fresh queues, task queue and member ids for the second attempt
      }
    }
    runs.push(run);
    ctx.progressBase += run.requested;
    ctx.runIndex += 1;
    if (run.system === 'ours' && run.mode === 'burst' && run.complete && run.deliveredPerSec !== undefined) {
      const key = run.latencyMs ?? 0;
      ctx.oursMaxRate.set(key, Math.max(ctx.oursMaxRate.get(key) ?? 0, run.deliveredPerSec));
    }
    process.stderr.write(
      `${process.stderr.isTTY ? '\n' : ''}[bench] ${run.scenario} / ${SYSTEM_LABELS[run.system]}: ` +
        `${run.delivered}/${run.requested} delivered, ${rate(run.deliveredPerSec)}/s, ` +
        `e2e p50 ${ms(run.e2eMs.p50)} p99 ${ms(run.e2eMs.p99)}, overhead p50 ${ms(run.overheadMs.p50)} ` +
        `p99 ${ms(run.overheadMs.p99)} (${Math.round((Date.now() - runStarted) / 1000)} s)\n`,
    );
  };
  for (let i = 0; i < plan.length; i++) {
    if (rawPlanned && i === rawAt) await execute(() => runRawCeiling(ctx, options.n));
    const { scenario, system, n } = plan[i];
    await execute(() =>
      system === 'raw'
        ? runRawCeiling(ctx, n, { scenario, rate: pacedRate(ctx, scenario) })
        : runQueueSystem(ctx, scenario, system, n),
    );
  }
  if (rawPlanned && rawAt >= plan.length) await execute(() => runRawCeiling(ctx, options.n));
  ctx.progress.finish();

  const api = options.api ? await runApi(ctx) : undefined;
  writeReport({ ctx, runs, started, loadAverageAtStart }, api, false);
  for (const p of Object.values(shared)) stopping.add(p.name);
  await group.stopAll('SIGTERM');
  sqs.destroy();
}

interface RunState {
  ctx: Context;
  runs: RunReport[];
  started: number;
  loadAverageAtStart: number[];
}

/** The state of the bench so far, for a partial report when it fails. */
let partial: RunState | undefined;

function writeReport(state: RunState, api: ApiReport | undefined, partialRun: boolean): void {
  const { options } = state.ctx;

  const date = new Date().toISOString();
  const report: BenchReport = {
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    date,
    quick: options.quick,
    options: { ...options, systems: [...options.systems], scenarios: [...options.scenarios] },
    machine: {
      cpus: cpus().length,
      loadAverageAtStart: state.loadAverageAtStart,
      loadAverageAtEnd: loadavg(),
      node: process.version,
    },
    settings: {
      'simulator capacity C (maxNumSeqs)': String(CAPACITY),
      'ours: processes': '1 sqs-bridge + 1 worker',
      'ours: BRIDGE_POLLERS': `${options.groupPollers} with one group, ${options.pollers} with a group per member`,
      'ours: BRIDGE_WAIT_TIME_SECONDS': '5',
      'ours: WORKER_MAX_CONCURRENT_ACTIVITIES': String(options.workerActivities),
      'ours: WORKER_MAX_CONCURRENT_WORKFLOW_TASKS': '100',
      'ours: DELIVERY_MODE': 'callback',
      LOG_LEVEL: options.logLevel,
      'plain consumer': 'sqs-consumer, batchSize 10, one consumer, waitTimeSeconds 5',
      'seed-style worker': `1 message per receive, 10 s wait, 1 s sleep; ${options.seedN} messages per scenario`,
      'plain consumer at L > 0': `${Math.min(options.slowN, options.n)} messages per scenario`,
      'Temporal dev server SQLite pragmas': options.sqlitePragmas.join(', ') || 'SQLite defaults',
      'Temporal dev server dynamic config': options.devConfig.join(', ') || 'server defaults',
      'ours: WORKER_MAX_CACHED_WORKFLOWS':
        options.workerCache === undefined ? 'SDK default' : String(options.workerCache),
      'ours: NODE_OPTIONS': options.nodeOptions ?? 'none',
      'ours: more environment': Object.keys(options.oursEnv).length
        ? Object.entries(options.oursEnv)
            .map(([k, v]) => `${k}=${v}`)
            .join(', ')
        : 'none',
      'ours: BRIDGE_MAX_OPEN_QUEUE_RUNS':
        options.bridgeMaxOpen === undefined ? 'default (1000)' : String(options.bridgeMaxOpen),
      'ElasticMQ warm-up': `${options.emqWarmup} messages before the first run`,
      'raw ceiling': `${options.n} no-op workflows, ${options.rawStartConcurrency} concurrent starts, same worker limits`,
      'harness sends': `SendMessage, ${SEND_CONCURRENCY} concurrent (burst runs)`,
    },
    scenarios: SCENARIOS.filter((s) => options.scenarios.has(s.id)),
    runs: state.runs,
    api,
    ratios: [],
    targets: [],
    wallSeconds: (Date.now() - state.started) / 1000,
  };
  report.ratios = computeRatios(report);
  report.targets = evaluateTargets(report, FULL_N);

  mkdirSync(RESULTS, { recursive: true });
  const name =
    `${date.slice(0, 10)}${options.quick ? '-quick' : ''}` +
    `${options.n !== (options.quick ? 200 : FULL_N) ? `-n${options.n}` : ''}` +
    `${options.subset ? '-subset' : ''}${partialRun ? '-partial' : ''}`;
  const files = { json: `${name}.json`, md: `${name}.md`, svg: `${name}.svg` };
  writeFileSync(join(RESULTS, files.json), JSON.stringify(report, null, 2) + '\n');
  writeFileSync(join(RESULTS, files.svg), renderSvg(report));
  writeFileSync(join(RESULTS, files.md), renderMarkdown(report, files.svg));

  process.stdout.write('\n' + summary(report) + '\n');
  process.stdout.write(
    `report: ${Object.values(files)
      .map((f) => join('bench', 'results', f))
      .join(', ')}\n`,
  );
}

// ---------------------------------------------------------------------------------------------
// Runs of the queue-reading systems

interface SystemProcesses {
  names: string[];
  /** Rejects when one of them exits before we stop it. */
  exited: Promise<never>;
}

async function runQueueSystem(
  ctx: Context,
  scenario: Scenario,
  system: SystemId,
  n: number,
): Promise<RunReport> {
  const tag = `${String(ctx.runIndex).padStart(2, '0')}-${scenario.id}-${system}`;
  const queues = await ensureFeedbackQueues(ctx.sqs, `bench-${tag}`, { visibilityTimeoutSeconds: 60 });
  await configureSimulator(`http://127.0.0.1:${PORTS.vllm}`, {
    capacity: scenario.capacity,
    latencyMs: scenario.latencyMs,
    overcommitPenalty: 0,
  });
  // The BE double's callback: the bench's members go straight onto the queue, so any member is known.
  const receiver = createBeDouble({ members: 'any' });
  const callbackUrl = await receiver.listen(0);
  const deliveredAt = new Map<number, number>();
  receiver.onStored((feedback) => {
    if (!deliveredAt.has(feedback.memberId)) deliveredAt.set(feedback.memberId, Date.now());
  });
  const memberBase = (ctx.runIndex + 1) * 1_000_000;
  const notes: string[] = [];

  const env = systemEnv(ctx, tag, queues, callbackUrl, scenario.shape);
  const processes = startSystem(ctx, system, env);
  let stopping = false;
  const guard = <T>(work: Promise<T>) => Promise.race([work, processes.exited]);
  try {
    // Warm-up: one request through the whole system, so that it is up, connected and polling.
    await guard(sendRequest(ctx.sqs, queues.requestQueueUrl, memberBase, groupOf(scenario, memberBase)));
    await guard(waitFor(() => deliveredAt.has(memberBase), 120_000, `${tag}: warm-up request not delivered`));
    deliveredAt.clear();
    await fetch(`http://127.0.0.1:${PORTS.vllm}/sim/reset`, { method: 'POST' });

    const members = Array.from({ length: n }, (_, i) => memberBase + 1 + i);
    const sentAt = new Map<number, number>();
    const cpuBefore = snapshotCpu(ctx, processes.names);
    const offeredRate = scenario.mode === 'paced' ? pacedRate(ctx, scenario) : undefined;
    if (offeredRate !== undefined && scenario.mode === 'paced')
      notes.push(
        `paced at ${rate(offeredRate)}/s = half of ours' highest burst rate at L = ${latency(scenario.latencyMs)}`,
      );
    const requestKeys = new Map<number, string>();
    const send = async (memberId: number) => {
      sentAt.set(memberId, Date.now());
      requestKeys.set(
        memberId,
        await sendRequest(ctx.sqs, queues.requestQueueUrl, memberId, groupOf(scenario, memberId)),
      );
    };
    const sending =
      offeredRate === undefined
        ? pool(members, SEND_CONCURRENCY, send)
        : paced(members.length, offeredRate, (i) => send(members[i]));
    const deadline = Date.now() + deadlineMs(scenario, system, n, offeredRate);
    let count = 0;
    while ((count = deliveredAt.size) < n && Date.now() < deadline) {
      ctx.progress.render(ctx.progressBase + count, `${scenario.id} / ${system}`);
      await guard(sleep(250));
    }
    await guard(sending);
    const cpuAfter = snapshotCpu(ctx, processes.names);
    const deliveredCount = members.filter((m) => deliveredAt.has(m)).length;
    ctx.progress.render(ctx.progressBase + deliveredCount, `${scenario.id} / ${system}`);
    if (deliveredCount < n) notes.push(`only ${deliveredCount} of ${n} delivered before the deadline`);
    if (system === 'seed') notes.push(`slow by design (≥ 1 s per message): measured on ${n} messages`);
    if (system === 'plain' && n < ctx.options.n)
      notes.push(`one batch of 10 per L: measured on ${n} messages (steady rate, like the longer runs)`);

    const simStats = (await (await fetch(`http://127.0.0.1:${PORTS.vllm}/sim/stats`)).json()) as {
      maxRunningSeen: number;
      received: number;
      completed: number;
    };
    const simRecords = (await (await fetch(`http://127.0.0.1:${PORTS.vllm}/sim/requests`)).json()) as Array<{
      receivedAt: number;
      finishedAt?: number;
      prompt?: string;
    }>;
    const simMs = new Map<number, number>();
    for (const record of simRecords) {
      const member = Number(/#m(\d+)/.exec(record.prompt ?? '')?.[1]);
      if (!Number.isFinite(member) || record.finishedAt === undefined) continue;
      simMs.set(member, (simMs.get(member) ?? 0) + (record.finishedAt - record.receivedAt));
    }
    const e2e: number[] = [];
    const overhead: number[] = [];
    for (const member of members) {
      const at = deliveredAt.get(member);
      const sent = sentAt.get(member);
      if (at === undefined || sent === undefined) continue;
      e2e.push(at - sent);
      const inSimulator = simMs.get(member);
      if (inSimulator !== undefined) overhead.push(at - sent - inSimulator);
    }
    const firstSend = Math.min(...sentAt.values());
    const lastDelivery = Math.max(...members.map((m) => deliveredAt.get(m) ?? 0));
    const durationMs = deliveredCount > 0 ? lastDelivery - firstSend : undefined;

    const processReports = stopReports(ctx, processes.names, cpuBefore, cpuAfter);
    stopping = true;
    await stopProcesses(ctx, processes.names);
    const breakdown =
      system === 'ours' && scenario.mode === 'paced'
        ? await overheadBreakdown(
            `127.0.0.1:${PORTS.temporal}`,
            members
              .filter((m) => deliveredAt.has(m) && requestKeys.has(m))
              .map((m) => ({
                workflowId: workflowIdFor(requestKeys.get(m) as string),
                sentAt: sentAt.get(m) as number,
                deliveredAt: deliveredAt.get(m) as number,
                simulatorMs: simMs.get(m) ?? 0,
              })),
          )
        : undefined;
    return {
      scenario: scenario.id,
      system,
      latencyMs: scenario.latencyMs,
      capacity: scenario.capacity,
      shape: scenario.shape,
      mode: scenario.mode,
      offeredRatePerSec: offeredRate,
      requested: n,
      delivered: deliveredCount,
      complete: deliveredCount === n,
      durationMs,
      deliveredPerSec: durationMs ? deliveredCount / (durationMs / 1000) : undefined,
      e2eMs: quantiles(e2e),
      overheadMs: quantiles(overhead),
      simulator: {
        maxRunningSeen: simStats.maxRunningSeen,
        received: simStats.received,
        completed: simStats.completed,
      },
      processes: processReports,
      sharedCpuSecondsDuringRun: sharedCpu(cpuBefore, cpuAfter),
      overheadBreakdown: breakdown,
      notes,
    };
  } finally {
    if (!stopping) await stopProcesses(ctx, processes.names, 'SIGKILL');
    await receiver.close();
  }
}

/** The environment of our processes and of the baselines (they read the same variables). */
function systemEnv(
  ctx: Context,
  tag: string,
  queues: FeedbackQueues,
  callbackUrl: string,
  shape: Scenario['shape'] = 'group',
): NodeJS.ProcessEnv {
  return {
    ...benchEnv({
      temporalAddress: `127.0.0.1:${PORTS.temporal}`,
      taskQueue: `bench-${tag}`,
      sqsEndpoint: `http://127.0.0.1:${PORTS.sqs}`,
      queues,
      apiPort: PORTS.api,
      vllmUrl: `http://127.0.0.1:${PORTS.vllm}`,
      callbackUrl,
    }),
    LOG_LEVEL: ctx.options.logLevel,
    BRIDGE_POLLERS: String(shape === 'member' ? ctx.options.pollers : ctx.options.groupPollers),
    BRIDGE_WAIT_TIME_SECONDS: '5',
    BRIDGE_VISIBILITY_TIMEOUT_SECONDS: '60',
    VLLM_TIMEOUT_SECONDS: '60',
    WORKER_MAX_CONCURRENT_ACTIVITIES: String(ctx.options.workerActivities),
    WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: '100',
    ...(ctx.options.workerCache === undefined
      ? {}
      : { WORKER_MAX_CACHED_WORKFLOWS: String(ctx.options.workerCache) }),
    ...(ctx.options.bridgeMaxOpen === undefined
      ? {}
      : { BRIDGE_MAX_OPEN_QUEUE_RUNS: String(ctx.options.bridgeMaxOpen) }),
  };
}

function startSystem(ctx: Context, system: SystemId, env: NodeJS.ProcessEnv): SystemProcesses {
  const specs: Array<[name: string, args: string[]]> =
    system === 'ours'
      ? [
          ['ours-worker', startScriptArgs('start:worker')],
          ['ours-bridge', startScriptArgs('start:bridge')],
        ]
      : system === 'seed'
        ? [['seed-worker', [join(BUILD, 'seed-worker.js')]]]
        : system === 'plain'
          ? [['plain-consumer', [join(BUILD, 'plain-consumer.js')]]]
          : [];
  const started = specs.map(([name, args]) =>
    startProcess(ctx, name, args, system === 'ours' ? oursProcessEnv(ctx, env, name) : env),
  );
  return {
    names: specs.map(([name]) => name),
    exited: Promise.race([exitWatch(ctx.stopping, started), ctx.sharedExited]),
  };
}

/**
 * Node's arguments for one of our processes, from its package.json start script (`node [flags]
 * dist/...`), so the benchmark runs it as `npm run start:*`, the compose file and the image do.
 */
function startScriptArgs(script: string): string[] {
  const { scripts } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  };
  const [command, ...args] = (scripts[script] ?? '').split(/\s+/);
  if (command !== 'node' || args.length === 0)
    throw new Error(`package.json ${script} is not "node [flags] <file>"`);
  return args.map((arg) => (arg.startsWith('-') ? arg : join(ROOT, arg)));
}

/** Our processes also run with --ours-env, --node-options as NODE_OPTIONS (V8 flags to try) and the profilers asked for. */
function oursProcessEnv(ctx: Context, env: NodeJS.ProcessEnv, name: string): NodeJS.ProcessEnv {
  const flags = [
    ...(ctx.options.nodeOptions ? [ctx.options.nodeOptions] : []),
    ...(ctx.options.memoryLog ? [`--require ${join(BUILD, 'memory-log.js')}`] : []),
    ...(ctx.options.cpuProfile ? [`--require ${join(BUILD, 'cpu-profile.js')}`] : []),
  ];
  return {
    ...env,
    ...ctx.options.oursEnv,
    ...(flags.length ? { NODE_OPTIONS: flags.join(' ') } : {}),
    ...(ctx.options.cpuProfile ? { CPU_PROFILE_DIR: PROFILES, CPU_PROFILE_NAME: name } : {}),
  };
}

function startProcess(ctx: Context, name: string, args: string[], env: NodeJS.ProcessEnv): ManagedProcess {
  ctx.stopping.delete(name);
  const managed = ctx.group.start(name, process.execPath, args, env);
  ctx.started.set(name, managed);
  return managed;
}

const pidOf = (ctx: Context, name: string) => ctx.started.get(name)?.child?.pid;

/** Rejects when one of `processes` exits without the harness having asked it to stop. */
function exitWatch(stopping: Set<string>, processes: ManagedProcess[]): Promise<never> {
  const watched = processes.map(
    (p) =>
      new Promise<never>((_resolve, reject) => {
        p.child?.once('exit', (code, signal) => {
          if (stopping.has(p.name)) return;
          reject(
            new ExternalExit(
              `${p.name} exited (code ${code}, signal ${signal}) in the middle of a run; see .data/bench/logs/${p.name}.log`,
            ),
          );
        });
      }),
  );
  const first = Promise.race(watched);
  first.catch(() => undefined); // observed by whoever races it
  return first;
}

async function stopProcesses(
  ctx: Context,
  names: string[],
  signal: NodeJS.Signals = 'SIGTERM',
): Promise<void> {
  for (const name of names) ctx.stopping.add(name);
  await Promise.all(names.map((name) => ctx.group.stop(name, signal)));
}

/** Restarts the shared processes that are down (another session on the machine may kill them). */
async function reviveShared(ctx: Context): Promise<void> {
  const down = (Object.entries(ctx.shared) as Array<[SharedName, ManagedProcess]>).filter(
    ([, p]) => p.child?.exitCode !== null || p.child?.signalCode !== null,
  );
  for (const [name, managed] of down) {
    process.stderr.write(`[bench] restarting ${managed.name}\n`);
    ctx.group.restart(managed.name);
    if (name === 'temporal') await waitForTemporal(`127.0.0.1:${PORTS.temporal}`);
    else if (name === 'elasticmq') await waitForHttp(`http://127.0.0.1:${PORTS.sqs}/?Action=ListQueues`);
    else await waitForHttp(`http://127.0.0.1:${PORTS.vllm}/health`);
  }
  ctx.sharedExited = exitWatch(ctx.stopping, Object.values(ctx.shared));
}

/** Half of ours' highest burst rate at this latency (or --paced-rate, or C/L/2 when not measured). */
function pacedRate(ctx: Context, scenario: Scenario): number {
  if (ctx.options.pacedRate !== undefined) return ctx.options.pacedRate;
  const measured = ctx.oursMaxRate.get(scenario.latencyMs);
  if (measured !== undefined) return measured / 2;
  return scenario.latencyMs > 0 ? scenario.capacity / (scenario.latencyMs / 1000) / 2 : 5;
}

/** Generous: twice the time the system should need at a pessimistic rate, plus a minute. */
function deadlineMs(scenario: Scenario, system: SystemId, n: number, offeredRate?: number): number {
  const l = scenario.latencyMs / 1000;
  const perSecond =
    offeredRate ??
    (system === 'seed' ? 1 / (1.1 + l) : system === 'plain' ? Math.min(10, 10 / (l + 0.1)) : 4);
  return (n / perSecond) * 2000 + 60_000;
}

// ---------------------------------------------------------------------------------------------
// The raw Temporal ceiling

/** As fast as the starter can start them, or `paced` at a fixed rate (open loop). */
async function runRawCeiling(
  ctx: Context,
  n: number,
  paced?: { scenario: Scenario; rate: number },
): Promise<RunReport> {
  const tag = `${String(ctx.runIndex).padStart(2, '0')}-raw`;
  const resultFile = join(DATA, `raw-starter-${tag}.json`);
  const env: NodeJS.ProcessEnv = {
    LOG_LEVEL: ctx.options.logLevel,
    TEMPORAL_ADDRESS: `127.0.0.1:${PORTS.temporal}`,
    TEMPORAL_TASK_QUEUE: `bench-${tag}`,
    WORKER_MAX_CONCURRENT_ACTIVITIES: String(ctx.options.workerActivities),
    WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: '100',
    RAW_N: String(n),
    RAW_START_CONCURRENCY: String(ctx.options.rawStartConcurrency),
    ...(paced ? { RAW_RATE: String(paced.rate) } : {}),
    RAW_STATS_PORT: String(PORTS.rawStats),
    RAW_RESULT_FILE: resultFile,
    RAW_BUNDLE_PATH: join(DATA, 'noop-workflow-bundle.js'),
  };
  const script = join(BUILD, 'raw-temporal.js');
  const names = ['raw-worker', 'raw-starter'];
  const worker = startProcess(ctx, 'raw-worker', [script, 'worker'], env);
  let exited = Promise.race([exitWatch(ctx.stopping, [worker]), ctx.sharedExited]);
  const notes: string[] = [];
  let stopping = false;
  const stats = async () =>
    (await (await fetch(`http://127.0.0.1:${PORTS.rawStats}/stats`)).json()) as RawWorkerStats;
  try {
    await Promise.race([waitForHttp(`http://127.0.0.1:${PORTS.rawStats}/stats`, 60_000), exited]);
    const cpuBefore = snapshotCpu(ctx, names);
    const starter = startProcess(ctx, 'raw-starter', [script, 'starter'], env);
    exited = Promise.race([exitWatch(ctx.stopping, [worker, starter]), ctx.sharedExited]);
    const deadline = Date.now() + (n / 20) * 2000 + 90_000;
    let current = await stats();
    while (current.completed < n && Date.now() < deadline) {
      ctx.progress.render(
        ctx.progressBase + current.completed,
        `${paced?.scenario.id ?? 'raw-ceiling'} / raw`,
      );
      await Promise.race([sleep(500), exited]);
      current = await stats();
    }
    await Promise.race([
      waitFor(() => existsSync(resultFile), 30_000, 'raw starter wrote no result'),
      exited,
    ]);
    const cpuAfter = snapshotCpu(ctx, names);
    const started = JSON.parse(readFileSync(resultFile, 'utf8')) as RawStarterResult;
    if (current.completed < n) notes.push(`only ${current.completed} of ${n} completed before the deadline`);
    notes.push(
      `${started.started} starts (${started.failedStarts} failed), start call p50 ${ms(started.startLatencyMs.p50)} ` +
        `p99 ${ms(started.startLatencyMs.p99)}; starter CPU includes its warm-up workflow`,
    );
    const durationMs = current.lastAt !== undefined ? current.lastAt - started.firstStartAt : undefined;
    const processReports = stopReports(ctx, names, cpuBefore, cpuAfter);
    stopping = true;
    await stopProcesses(ctx, names);
    return {
      scenario: paced?.scenario.id ?? 'raw-ceiling',
      system: 'raw',
      mode: paced ? 'paced' : 'start',
      ...(paced ? { offeredRatePerSec: paced.rate, latencyMs: 0 } : {}),
      requested: n,
      delivered: current.completed,
      complete: current.completed >= n,
      durationMs,
      deliveredPerSec: durationMs ? current.completed / (durationMs / 1000) : undefined,
      e2eMs: quantiles(current.latenciesMs),
      overheadMs: {},
      processes: processReports,
      sharedCpuSecondsDuringRun: sharedCpu(cpuBefore, cpuAfter),
      notes,
    };
  } finally {
    if (!stopping) await stopProcesses(ctx, names, 'SIGKILL');
  }
}

// ---------------------------------------------------------------------------------------------
// The API alone, next to raw SendMessage

async function runApi(ctx: Context): Promise<ApiReport> {
  process.stderr.write(
    `[bench] API: ${API_RATE} req/s for ${API_SECONDS} s, and raw SendMessage the same way\n`,
  );
  const tag = `${String(ctx.runIndex).padStart(2, '0')}-api`;
  const memberId = 999_000_001;
  const body = JSON.stringify(feedbackRequest(memberId));

  // Raw SendMessage first: the same call the API makes (body with requestId and timestamp, group =
  // member, dedup id = requestId), from a client configured like the API's, driven like autocannon
  // drives the API (API_CONNECTIONS closed loops sharing the rate).
  const rawQueues = await ensureFeedbackQueues(ctx.sqs, `bench-${tag}-sendmessage`);
  const client = createSqsClient(
    { region: REGION, endpoint: `http://127.0.0.1:${PORTS.sqs}`, requestTimeoutMs: 3000 },
    { credentials: CREDENTIALS, maxAttempts: 1 },
  );
  const rawErrors = { count: 0 };
  const sendOnce = async (latencies: number[]) => {
    const requestId = randomUUID();
    const message = JSON.stringify({
      ...JSON.parse(body),
      requestId,
      timestamp: fromEpochMillis(Date.now()),
    });
    const t0 = performance.now();
    try {
      await client.send(
        new SendMessageCommand({
          QueueUrl: rawQueues.requestQueueUrl,
          MessageBody: message,
          MessageGroupId: String(memberId),
          MessageDeduplicationId: requestId,
        }),
      );
      latencies.push(performance.now() - t0);
    } catch {
      rawErrors.count += 1;
    }
  };
  await closedLoops(API_CONNECTIONS, API_RATE, API_WARMUP_SECONDS, () => sendOnce([]));
  rawErrors.count = 0;
  const rawLatencies: number[] = [];
  const rawBefore = snapshotCpu(ctx, []);
  await closedLoops(API_CONNECTIONS, API_RATE, API_SECONDS, () => sendOnce(rawLatencies));
  const rawShared = sharedCpu(rawBefore, snapshotCpu(ctx, []));
  const rawErrorsAtRate = rawErrors.count;

  const queues = await ensureFeedbackQueues(ctx.sqs, `bench-${tag}`);
  const env = systemEnv(ctx, tag, queues, 'http://127.0.0.1:9/unused');
  const api = startProcess(ctx, 'api', startScriptArgs('start:api'), oursProcessEnv(ctx, env, 'api'));
  const exited = Promise.race([exitWatch(ctx.stopping, [api]), ctx.sharedExited]);
  const url = `http://127.0.0.1:${PORTS.api}/ai/feedback`;
  let stopping = false;
  try {
    await Promise.race([waitForHttp(`http://127.0.0.1:${PORTS.api}/health`), exited]);
    // The API driven exactly like raw SendMessage above (the same closed loops; Node's fetch with
    // keep-alive): the difference between the two is the API's overhead.
    const postOnce = async (sample: HttpSample) => {
      const t0 = performance.now();
      try {
        const response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
        });
        await response.arrayBuffer();
        if (response.ok) sample.latencies.push(performance.now() - t0);
        else sample.non2xx += 1;
      } catch {
        sample.errors += 1;
      }
    };
    const drive = (rate: number, seconds: number, sample: HttpSample) =>
      Promise.race([closedLoops(API_CONNECTIONS, rate, seconds, () => postOnce(sample)), exited]);
    await drive(API_RATE, API_WARMUP_SECONDS, emptySample());
    const cpuBefore = snapshotCpu(ctx, ['api']);
    const driven = emptySample();
    await drive(API_RATE, API_SECONDS, driven);
    const cpuAfter = snapshotCpu(ctx, ['api']);
    const processes = stopReports(ctx, ['api'], cpuBefore, cpuAfter);

    // How the overhead moves with the offered rate: raw SendMessage, then the API, at each lower rate.
    const sweep: ApiSweepPoint[] = [];
    for (const rate of API_SWEEP_RATES) {
      const raw: number[] = [];
      rawErrors.count = 0;
      const rawStart = snapshotCpu(ctx, []);
      await closedLoops(API_CONNECTIONS, rate, API_SECONDS, () => sendOnce(raw));
      const rawCpu = sharedCpu(rawStart, snapshotCpu(ctx, []));
      const before = snapshotCpu(ctx, ['api']);
      const point = emptySample();
      await drive(rate, API_SECONDS, point);
      const after = snapshotCpu(ctx, ['api']);
      const apiCpu = stopReports(ctx, ['api'], before, after).api?.cpuSecondsDuringRun;
      sweep.push(sweepPoint(rate, point, raw, rawErrors.count, apiCpu, sharedCpu(before, after), rawCpu));
    }
    const atRate = sweepPoint(
      API_RATE,
      driven,
      rawLatencies,
      rawErrorsAtRate,
      processes.api?.cpuSecondsDuringRun,
      sharedCpu(cpuBefore, cpuAfter),
      rawShared,
    );
    sweep.push(atRate);

    // autocannon as well, and autocannon against a server that answers at once: the load generator's
    // own latency at this rate and connection count.
    const autocannonApi = await Promise.race([fireAutocannon(url, body, API_SECONDS), exited]);
    const floor = await autocannonFloor(body);
    stopping = true;
    await stopProcesses(ctx, ['api']);

    return {
      offeredRatePerSec: API_RATE,
      durationSeconds: API_SECONDS,
      api: { ...countSample(driven), latencyMs: atRate.apiLatencyMs },
      rawSendMessage: { count: rawLatencies.length, errors: rawErrorsAtRate, latencyMs: atRate.rawLatencyMs },
      autocannon: {
        api: { ...countSample(autocannonApi), latencyMs: quantiles(autocannonApi.latencies) },
        noopServer: { ...countSample(floor), latencyMs: quantiles(floor.latencies) },
      },
      overheadP50Ms: atRate.overheadP50Ms,
      overheadP99Ms: atRate.overheadP99Ms,
      processes,
      sharedCpuSeconds: { api: sharedCpu(cpuBefore, cpuAfter), rawSendMessage: rawShared },
      sweep,
    };
  } finally {
    client.destroy();
    if (!stopping) await stopProcesses(ctx, ['api'], 'SIGKILL');
  }
}

interface HttpSample {
  latencies: number[];
  errors: number;
  non2xx: number;
}

const emptySample = (): HttpSample => ({ latencies: [], errors: 0, non2xx: 0 });
const countSample = (sample: HttpSample) => ({
  count: sample.latencies.length,
  errors: sample.errors,
  non2xx: sample.non2xx,
});

/** autocannon, driven like the API, against an HTTP server in this process that answers at once. */
async function autocannonFloor(body: string): Promise<HttpSample> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(202, { 'content-type': 'application/json' }).end('{}'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    return await fireAutocannon(`http://127.0.0.1:${port}/`, body, API_SECONDS);
  } finally {
    server.closeAllConnections();
    server.close();
  }
}

function sweepPoint(
  rate: number,
  api: HttpSample,
  raw: number[],
  rawErrors: number,
  apiCpuSeconds: number | undefined,
  sharedInApiWindow: Record<string, number>,
  sharedInRawWindow: Record<string, number>,
): ApiSweepPoint {
  const apiQ = quantiles(api.latencies);
  const rawQ = quantiles(raw);
  const sum = (cpu: Record<string, number>) => Object.values(cpu).reduce((a, b) => a + b, 0);
  const capacity = cpus().length * API_SECONDS;
  return {
    machineBusy: {
      api: apiCpuSeconds === undefined ? undefined : (apiCpuSeconds + sum(sharedInApiWindow)) / capacity,
      rawSendMessage: sum(sharedInRawWindow) / capacity,
    },
    offeredRatePerSec: rate,
    apiLatencyMs: apiQ,
    rawLatencyMs: rawQ,
    errors: api.errors + api.non2xx + rawErrors,
    overheadP50Ms: apiQ.p50 !== undefined && rawQ.p50 !== undefined ? apiQ.p50 - rawQ.p50 : undefined,
    overheadP99Ms: apiQ.p99 !== undefined && rawQ.p99 !== undefined ? apiQ.p99 - rawQ.p99 : undefined,
    apiCpuMsPerRequest:
      apiCpuSeconds !== undefined && api.latencies.length > 0
        ? (apiCpuSeconds * 1000) / api.latencies.length
        : undefined,
    apiBusy: apiCpuSeconds !== undefined ? apiCpuSeconds / API_SECONDS : undefined,
  };
}

/**
 * `connections` loops, each making one call at a time at `ratePerSecond / connections` (a late call
 * goes at once), for `seconds`: how autocannon drives a server at an overall rate.
 */
async function closedLoops(
  connections: number,
  ratePerSecond: number,
  seconds: number,
  work: () => Promise<void>,
): Promise<void> {
  const start = performance.now();
  const end = start + seconds * 1000;
  const interval = (1000 * connections) / ratePerSecond;
  await Promise.all(
    Array.from({ length: connections }, async (_, c) => {
      for (let k = 0; ; k++) {
        const due = start + (c * interval) / connections + k * interval;
        if (due >= end) return;
        const wait = due - performance.now();
        if (wait > 0) await sleep(wait);
        await work();
      }
    }),
  );
}

/** autocannon at API_RATE for `seconds`; latencies (ms, unrounded) of the 2xx answers. */
function fireAutocannon(url: string, body: string, seconds: number): Promise<HttpSample> {
  return new Promise((resolve, reject) => {
    const latencies: number[] = [];
    let non2xx = 0;
    const instance = autocannon(
      {
        url,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        connections: API_CONNECTIONS,
        overallRate: API_RATE,
        duration: seconds,
      },
      (err, result) =>
        err ? reject(err) : resolve({ latencies, errors: result.errors + result.timeouts, non2xx }),
    );
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime);
      else non2xx += 1;
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Requests

/** The BE's one FIFO group, or a group per member. */
function groupOf(scenario: Scenario, memberId: number): string {
  return scenario.shape === 'group' ? BE_GROUP : String(memberId);
}

/** Sends, receives and deletes `count` messages: ElasticMQ runs on the JVM, whose JIT needs the traffic. */
async function warmUpQueue(sqs: SQSClient, count: number): Promise<void> {
  if (count <= 0) return;
  process.stderr.write(`[bench] warming up ElasticMQ with ${count} messages\n`);
  const queues = await ensureFeedbackQueues(sqs, 'bench-warmup');
  await pool(
    Array.from({ length: count }, (_, i) => i),
    SEND_CONCURRENCY,
    async (i) => {
      await sendRequest(
        sqs,
        queues.requestQueueUrl,
        900_000_000 + i,
        i % 2 ? BE_GROUP : String(900_000_000 + i),
      );
    },
  );
  let received = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (received < count) {
        const out = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queues.requestQueueUrl,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 1,
          }),
        );
        const messages = out.Messages ?? [];
        received += messages.length;
        if (messages.length === 0) continue;
        await sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: queues.requestQueueUrl,
            Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
          }),
        );
      }
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// Measurement helpers

interface CpuSnapshot {
  harness: number;
  byName: Record<string, number | undefined>;
  rssByName: Record<string, number | undefined>;
}

function snapshotCpu(ctx: Context, names: string[]): CpuSnapshot {
  const byName: Record<string, number | undefined> = {};
  const rssByName: Record<string, number | undefined> = {};
  for (const [name, p] of Object.entries(ctx.shared)) byName[name] = readProcUsage(p.child?.pid)?.cpuSeconds;
  for (const name of names) {
    const usage = readProcUsage(pidOf(ctx, name));
    byName[name] = usage?.cpuSeconds;
    rssByName[name] = usage?.rssMb;
  }
  const usage = process.cpuUsage();
  return { harness: (usage.user + usage.system) / 1e6, byName, rssByName };
}

function sharedCpu(before: CpuSnapshot, after: CpuSnapshot): Record<string, number> {
  const out: Record<string, number> = { harness: after.harness - before.harness };
  for (const name of ['temporal', 'elasticmq', 'simulator']) {
    const a = after.byName[name];
    const b = before.byName[name];
    if (a !== undefined && b !== undefined) out[name] = a - b;
  }
  return out;
}

/** Reads each process's /proc figures just before it is stopped. */
function stopReports(
  ctx: Context,
  names: string[],
  before: CpuSnapshot,
  after: CpuSnapshot,
): Record<string, ProcessReport> {
  const out: Record<string, ProcessReport> = {};
  for (const name of names) {
    const pid = pidOf(ctx, name);
    const usage = readProcUsage(pid);
    const a = after.byName[name];
    const b = before.byName[name] ?? 0;
    out[name] = {
      pid,
      cpuSeconds: usage?.cpuSeconds,
      cpuSecondsDuringRun: a === undefined ? undefined : a - b,
      peakRssMb: usage?.peakRssMb,
      startRssMb: before.rssByName[name],
    };
  }
  return out;
}

function quantiles(values: number[]): Quantiles {
  return {
    p50: percentile(values, 0.5),
    p95: percentile(values, 0.95),
    p99: percentile(values, 0.99),
    max: values.length ? Math.max(...values) : undefined,
  };
}

async function waitFor(condition: () => boolean, timeoutMs: number, message: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(message);
    await sleep(100);
  }
}

function execFileAsync(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) =>
    execFile(command, args, (err, _stdout, stderr) =>
      err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(),
    ),
  );
}

function summary(report: BenchReport): string {
  const lines = [
    `delivered/s  ${'scenario'.padEnd(16)} ${['ours', 'seed', 'plain', 'raw'].map((s) => s.padStart(10)).join('')}`,
  ];
  for (const scenario of report.scenarios.filter((s) => s.mode === 'burst')) {
    const cell = (system: SystemId) => {
      const run =
        system === 'raw'
          ? scenario.latencyMs === 0
            ? report.runs.find((r) => r.system === 'raw')
            : undefined
          : report.runs.find((r) => r.scenario === scenario.id && r.system === system);
      return (run ? rate(run.deliveredPerSec) + (run.complete ? '' : '*') : '–').padStart(10);
    };
    lines.push(`             ${scenario.id.padEnd(16)} ${ALL_SYSTEMS.map(cell).join('')}`);
  }
  lines.push('', 'targets:');
  for (const t of report.targets) {
    const mark = t.pass === undefined ? 'n/a ' : t.pass ? 'PASS' : 'FAIL';
    lines.push(`  ${mark}  ${t.name}: ${t.measured} (wanted ${t.target})${t.note ? ` — ${t.note}` : ''}`);
  }
  return lines.join('\n');
}

let cleanup: () => Promise<void> = async () => undefined;

main().catch(async (err: unknown) => {
  process.stderr.write(`\nbench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  if (partial && partial.runs.length > 0) {
    try {
      writeReport(partial, undefined, true);
    } catch (reportErr) {
      process.stderr.write(`could not write the partial report: ${String(reportErr)}\n`);
    }
  }
  await cleanup();
  process.exit(2);
});
// Interrupted (Ctrl-C, or a SIGTERM from outside): keep what was measured, stop what we started.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    if (partial && partial.runs.length > 0) {
      try {
        writeReport(partial, undefined, true);
      } catch {
        // nothing more to save
      }
    }
    void cleanup().then(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  });
}
