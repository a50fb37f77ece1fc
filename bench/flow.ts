/**
 * `npm run bench -- --suite flow [--quick]`: the LLM flow-control scenarios, on a local stack of their
 * own (a fresh Temporal dev server per run on :47233, ElasticMQ :49324, the vLLM simulator :48800 with
 * an over-commitment penalty, the API :48000; worker metrics on :48092). Logs in .data/bench-flow/logs/.
 *
 *   capacity  vLLM's capacity drops from C = 64 to 16 mid-run and comes back (L = 10 s, BE-style
 *             backlog in one FIFO group). Per phase: vLLM completions per second against C / L, the
 *             waiting queue, how fast the limit follows. Run with the adaptive limit and with a fixed
 *             limit of 64 (what one would configure for the normal capacity), side by side.
 *   burst     5000 BE messages at once (one FIFO group) and a trickle of interactive requests through
 *             the HTTP API (C = 24, L = 4 s): interactive end-to-end p50/p99 under the burst against the
 *             same trickle on the idle system. Adaptive and fixed (LLM_CONCURRENCY_MAX, 256) side by side.
 * The bridge keeps at most 200 bulk runs open (BRIDGE_MAX_OPEN_QUEUE_RUNS) in every run.
 *
 * The simulator's over-commitment penalty 0.5: a request that starts while others wait takes up to
 * 1.5 × L (dev/vllm-simulator: what a full KV cache does to real vLLM).
 * Writes bench/results/<date>-flow[-quick].{json,md}.
 *
 * Options: --quick (short phases, 800 bulk), --scenarios capacity-adaptive,capacity-fixed,burst-adaptive,burst-fixed,
 * --bulk N (5000 / 800).
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { DEV_SERVER_DYNAMIC_CONFIG, startElasticMq, startTemporalDevServer } from '../chaos/infra';
import { ProcessGroup, waitForHttp } from '../chaos/processes';
import { percentile, pool, ProgressBar, sleep } from '../chaos/util';
import { createBeDouble } from '../dev/be-double';
import { workflowIdFor } from '../src/domain/keys';
import { createSqsClient, ensureFeedbackQueues, type FeedbackQueues } from '../src/shared/sqs';
import { overheadBreakdown, type OverheadBreakdown } from './breakdown';
import {
  BE_GROUP,
  benchEnv,
  CREDENTIALS,
  REGION,
  configureSimulator,
  feedbackRequest,
  sendRequest,
} from './requests';

const ROOT = join(__dirname, '..');
const DATA = join(ROOT, '.data', 'bench-flow');
const RESULTS = join(ROOT, 'bench', 'results');
const PORTS = { temporal: 47233, sqs: 49324, vllm: 48800, api: 48000, workerHealth: 48092 };
const PENALTY = 0.5;
const TARGET_WAITING = 2;
const FIXED_LIMIT_CAPACITY = 64;
const FIXED_LIMIT_BURST = 256;
/** Bulk runs open at most (BRIDGE_MAX_OPEN_QUEUE_RUNS): with C = 64 and L = 10 s, 30 s of vLLM work. */
const MAX_OPEN_QUEUE_RUNS = 200;
const SIM = `http://127.0.0.1:${PORTS.vllm}`;

interface Options {
  quick: boolean;
  scenarios: Set<string>;
  bulk: number;
  phaseSeconds: number;
  capacityLatencyMs: number;
  trickleUnloaded: number;
  trickleLoaded: number;
}

const ALL = ['capacity-adaptive', 'capacity-fixed', 'burst-adaptive', 'burst-fixed'];

function parseArgs(argv: string[]): Options {
  const value = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const quick = argv.includes('--quick');
  const scenarios = new Set((value('--scenarios') ?? ALL.join(',')).split(','));
  for (const s of scenarios) if (!ALL.includes(s)) throw new Error(`unknown scenario ${s}; known: ${ALL}`);
  const bulk = Number(value('--bulk') ?? (quick ? 800 : 5000));
  if (!Number.isInteger(bulk) || bulk < 1) throw new Error('--bulk must be a positive integer');
  return {
    quick,
    scenarios,
    bulk,
    phaseSeconds: quick ? 30 : 60,
    capacityLatencyMs: 10_000,
    trickleUnloaded: quick ? 8 : 15,
    trickleLoaded: quick ? 15 : 45,
  };
}

interface Sample {
  t: number;
  running: number;
  waiting: number;
  completed: number;
  /** The worker's LLM concurrency limit (feedback_llm_concurrency_limit), when read. */
  limit?: number;
}

interface Stack {
  group: ProcessGroup;
  sqs: SQSClient;
  progress: ProgressBar;
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  rmSync(DATA, { recursive: true, force: true });
  mkdirSync(join(DATA, 'logs'), { recursive: true });
  const group = new ProcessGroup(join(DATA, 'logs'));
  cleanup = () => group.stopAll('SIGKILL');
  process.stderr.write('[bench:flow] starting ElasticMQ and the vLLM simulator\n');
  await startElasticMq(group, { port: PORTS.sqs });
  group.start('vllm-simulator', process.execPath, [join(ROOT, 'dist', 'dev', 'vllm-simulator', 'main.js')], {
    LOG_LEVEL: 'warn',
    VLLM_SIM_PORT: String(PORTS.vllm),
    VLLM_SIM_HOST: '127.0.0.1',
    VLLM_SIM_MAX_NUM_SEQS: '64',
    VLLM_SIM_LATENCY_MS: '1000',
    VLLM_SIM_OVERCOMMIT_PENALTY: String(PENALTY),
  });
  await waitForHttp(`${SIM}/health`);
  const sqs = createSqsClient(
    { region: REGION, endpoint: `http://127.0.0.1:${PORTS.sqs}`, requestTimeoutMs: 10_000 },
    { credentials: CREDENTIALS },
  );
  const selected = ALL.filter((s) => options.scenarios.has(s));
  const stack: Stack = { group, sqs, progress: new ProgressBar(selected.length) };
  const started = Date.now();
  const report: FlowReport = {
    date: new Date().toISOString(),
    command: `npm run bench -- --suite flow${options.quick ? ' --quick' : ''}`,
    settings: {
      overcommitPenalty: PENALTY,
      targetWaiting: TARGET_WAITING,
      capacity: {
        latencyMs: options.capacityLatencyMs,
        phaseSeconds: options.phaseSeconds,
        phases: [64, 16, 64],
      },
      burst: { capacity: 24, latencyMs: 4000, bulk: options.bulk },
    },
    capacity: [],
    burst: [],
  };
  let index = 0;
  for (const id of selected) {
    stack.progress.render(index, id);
    const mode = id.endsWith('fixed') ? 'fixed' : 'adaptive';
    if (id.startsWith('capacity')) report.capacity.push(await runCapacity(stack, options, mode, index));
    else report.burst.push(await runBurst(stack, options, mode, index));
    index++;
  }
  stack.progress.render(index, 'done');
  report.durationSeconds = Math.round((Date.now() - started) / 1000);
  await group.stopAll();
  sqs.destroy();
  const base = join(RESULTS, `${report.date.slice(0, 10)}-flow${options.quick ? '-quick' : ''}`);
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(`${base}.json`, JSON.stringify(report, null, 2) + '\n');
  writeFileSync(`${base}.md`, renderFlowMarkdown(report));
  process.stdout.write(`\n${renderFlowMarkdown(report)}\nwrote ${base}.json and .md\n`);
}

// ---------------------------------------------------------------------------------------------
// Runs

interface RunStack {
  tag: string;
  queues: FeedbackQueues;
  names: string[];
  stop(): Promise<void>;
}

/** A fresh dev server and our processes for one run. */
async function startRun(
  stack: Stack,
  tag: string,
  mode: 'adaptive' | 'fixed',
  fixedLimit: number,
  callbackUrl: string,
  withApi: boolean,
): Promise<RunStack> {
  const dbFile = join(DATA, `temporal-${tag}.db`);
  const temporal = `temporal-${tag}`;
  await startTemporalDevServer(stack.group, {
    port: PORTS.temporal,
    dbFile,
    home: DATA,
    name: temporal,
    dynamicConfig: DEV_SERVER_DYNAMIC_CONFIG,
  });
  const queues = await ensureFeedbackQueues(stack.sqs, `flow-${tag}`, { visibilityTimeoutSeconds: 60 });
  const env: NodeJS.ProcessEnv = {
    ...benchEnv({
      temporalAddress: `127.0.0.1:${PORTS.temporal}`,
      taskQueue: `flow-${tag}`,
      sqsEndpoint: `http://127.0.0.1:${PORTS.sqs}`,
      queues,
      apiPort: PORTS.api,
      vllmUrl: SIM,
      callbackUrl,
    }),
    LOG_LEVEL: 'info',
    WORKER_HEALTH_PORT: String(PORTS.workerHealth),
    BRIDGE_POLLERS: '4',
    BRIDGE_MAX_OPEN_QUEUE_RUNS: String(MAX_OPEN_QUEUE_RUNS),
    BRIDGE_WAIT_TIME_SECONDS: '2',
    VLLM_TIMEOUT_SECONDS: '300',
    VLLM_HEARTBEAT_SECONDS: '30',
    WORKER_MAX_CONCURRENT_ACTIVITIES: '300',
    LLM_CONCURRENCY_MODE: mode,
    LLM_CONCURRENCY_MAX: String(mode === 'fixed' ? fixedLimit : 256),
    LLM_TARGET_WAITING: String(TARGET_WAITING),
  };
  const node = process.execPath;
  const dist = (path: string) => join(ROOT, 'dist', 'src', path);
  const specs: Array<[string, string]> = [
    [`worker-${tag}`, dist('worker/main.js')],
    [`bridge-${tag}`, dist('sqs-bridge/main.js')],
    ...(withApi ? ([[`api-${tag}`, dist('api/main.js')]] as Array<[string, string]>) : []),
  ];
  for (const [name, script] of specs) stack.group.start(name, node, [script], env);
  await waitForHttp(`http://127.0.0.1:${PORTS.workerHealth}/health`);
  if (withApi) await waitForHttp(`http://127.0.0.1:${PORTS.api}/health`);
  const names = [...specs.map(([name]) => name), temporal];
  return {
    tag,
    queues,
    names,
    async stop() {
      for (const name of names)
        await stack.group.stop(name, name.startsWith('temporal') ? 'SIGTERM' : 'SIGKILL');
      if (existsSync(dbFile)) rmSync(dbFile, { force: true });
    },
  };
}

const setCapacity = (maxNumSeqs: number) =>
  fetch(`${SIM}/sim/capacity`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ maxNumSeqs }),
  });

/** Samples the simulator (and the worker's limit) every 250 ms until stopped. */
function sampler(): { samples: Sample[]; stop: () => Promise<void> } {
  const samples: Sample[] = [];
  let running = true;
  let limit: number | undefined;
  const limitLoop = (async () => {
    while (running) {
      try {
        const text = await (await fetch(`http://127.0.0.1:${PORTS.workerHealth}/metrics`)).text();
        const match = /^feedback_llm_concurrency_limit(?:\{[^}]*\})? (\S+)/m.exec(text);
        if (match) limit = Number(match[1]);
      } catch {
        // the worker is starting or stopping
      }
      await sleep(1000);
    }
  })();
  const loop = (async () => {
    while (running) {
      try {
        const stats = (await (await fetch(`${SIM}/sim/stats`)).json()) as Omit<Sample, 't' | 'limit'>;
        samples.push({
          t: Date.now(),
          running: stats.running,
          waiting: stats.waiting,
          completed: stats.completed,
          limit,
        });
      } catch {
        // keep sampling
      }
      await sleep(250);
    }
  })();
  return {
    samples,
    async stop() {
      running = false;
      await Promise.all([loop, limitLoop]);
    },
  };
}

// --- capacity --------------------------------------------------------------------------------

interface PhaseReport {
  capacity: number;
  /**
   * vLLM's throughput after the first L seconds of the phase by Little's law: mean requests generating
   * / mean generation time (which includes the over-commitment penalty). Robust to completions coming
   * in batches (a capacity change lines up the slots), unlike counting completions in a short window.
   */
  throughputPerSec: number;
  /** Completions counted in the same window (bursty: ± one batch). */
  completionsPerSec: number;
  meanRunning: number;
  meanGenerationMs: number;
  /** C / L: what the capacity allows. */
  allowedPerSec: number;
  ratio: number;
  waitingMax: number;
  waitingP95: number;
  /** Seconds from the change until the outstanding requests at vLLM were within 1.25 × (C + target) (a drop) or running ≥ 0.9 × C (a rise). */
  followSeconds?: number;
  limitRange?: [number, number];
}

interface CapacityReport {
  mode: 'adaptive' | 'fixed';
  latencyMs: number;
  phases: PhaseReport[];
  sent: number;
  delivered: number;
  timeline: Array<[seconds: number, running: number, waiting: number, limit: number | null]>;
}

async function runCapacity(
  stack: Stack,
  options: Options,
  mode: 'adaptive' | 'fixed',
  index: number,
): Promise<CapacityReport> {
  const L = options.capacityLatencyMs;
  const phases = [64, 16, 64];
  const P = options.phaseSeconds;
  await configureSimulator(SIM, { capacity: phases[0], latencyMs: L, overcommitPenalty: PENALTY });
  // The BE double's callback: the members go straight onto the queue, so any member is known.
  const receiver = createBeDouble({ members: 'any' });
  const callbackUrl = await receiver.listen(0);
  let delivered = 0;
  receiver.onStored(() => {
    delivered++;
  });
  const run = await startRun(
    stack,
    `${index}-capacity-${mode}`,
    mode,
    FIXED_LIMIT_CAPACITY,
    callbackUrl,
    false,
  );
  const sampling = sampler();
  try {
    // A backlog that outlasts the three phases: what the capacities allow, plus a fifth.
    const allowed = phases.reduce((sum, c) => sum + (c / (L / 1000)) * P, 0);
    const sent = Math.ceil(allowed * 1.2) + 64;
    const members = Array.from({ length: sent }, (_, i) => 10_000_000 * (index + 1) + i);
    const sending = pool(members, 16, async (m) => {
      await sendRequest(stack.sqs, run.queues.requestQueueUrl, m, BE_GROUP);
    });
    // Phase 1 starts L after vLLM is saturated: by then the bridge has filled Temporal up to its bound
    // of open bulk runs (BRIDGE_MAX_OPEN_QUEUE_RUNS), so what follows measures the controller.
    const readyBy = Date.now() + 240_000;
    while (Date.now() < readyBy && (sampling.samples.at(-1)?.running ?? 0) < 0.9 * phases[0])
      await sleep(250);
    await sleep(L);
    const changes: number[] = [];
    for (let i = 0; i < phases.length; i++) {
      if (i > 0) await setCapacity(phases[i]);
      changes.push(Date.now());
      stack.progress.render(index, `capacity-${mode}: C = ${phases[i]} (${i + 1}/3)`);
      await sleep(P * 1000);
    }
    const end = Date.now();
    await sending;
    await sampling.stop();
    const samples = sampling.samples;
    const records = (await (await fetch(`${SIM}/sim/requests`)).json()) as Array<{
      startedAt?: number;
      finishedAt?: number;
      status?: number;
    }>;
    const phaseReports = phases.map((capacity, i) => {
      const from = changes[i];
      const to = i + 1 < changes.length ? changes[i + 1] : end;
      const steadyFrom = from + L;
      const inPhase = samples.filter((s) => s.t >= steadyFrom && s.t <= to);
      const first = inPhase[0];
      const last = inPhase.at(-1);
      const completionsPerSec =
        first && last && last.t > first.t
          ? (last.completed - first.completed) / ((last.t - first.t) / 1000)
          : 0;
      const allowedPerSec = capacity / (L / 1000);
      const meanRunning = mean(inPhase.map((s) => s.running));
      const generationMs = records
        .filter((r) => r.status === 200 && r.startedAt !== undefined && r.finishedAt !== undefined)
        .filter((r) => (r.finishedAt as number) >= steadyFrom && (r.finishedAt as number) <= to)
        .map((r) => (r.finishedAt as number) - (r.startedAt as number));
      const meanGenerationMs = mean(generationMs);
      const throughputPerSec = meanGenerationMs > 0 ? meanRunning / (meanGenerationMs / 1000) : 0;
      const waits = inPhase.map((s) => s.waiting);
      const afterChange = samples.filter((s) => s.t >= from && s.t <= to);
      let followSeconds: number | undefined;
      if (i > 0) {
        const dropped = capacity < phases[i - 1];
        const hit = afterChange.find((s) =>
          dropped ? s.running + s.waiting <= 1.25 * (capacity + TARGET_WAITING) : s.running >= 0.9 * capacity,
        );
        if (hit) followSeconds = Math.round((hit.t - from) / 100) / 10;
      }
      const limits = afterChange.map((s) => s.limit).filter((l): l is number => l !== undefined);
      return {
        capacity,
        throughputPerSec: round2(throughputPerSec),
        completionsPerSec: round2(completionsPerSec),
        meanRunning: round2(meanRunning),
        meanGenerationMs: Math.round(meanGenerationMs),
        allowedPerSec: round2(allowedPerSec),
        ratio: round2(throughputPerSec / allowedPerSec),
        waitingMax: Math.max(0, ...waits),
        waitingP95: percentile(waits, 0.95) ?? 0,
        ...(followSeconds === undefined ? {} : { followSeconds }),
        ...(limits.length > 0
          ? { limitRange: [Math.min(...limits), Math.max(...limits)] as [number, number] }
          : {}),
      };
    });
    const t0 = changes[0];
    const timeline = samples
      .filter((s, i) => s.t >= t0 - 10_000 && i % 4 === 0)
      .map(
        (s) =>
          [
            Math.round((s.t - t0) / 100) / 10,
            s.running,
            s.waiting,
            s.limit ?? null,
          ] as CapacityReport['timeline'][number],
      );
    return { mode, latencyMs: L, phases: phaseReports, sent, delivered, timeline };
  } finally {
    await sampling.stop();
    await run.stop();
    await receiver.close();
  }
}

// --- burst -----------------------------------------------------------------------------------

interface BurstReport {
  mode: 'adaptive' | 'fixed';
  capacity: number;
  latencyMs: number;
  bulkSent: number;
  /** Bulk results delivered while the interactive trickle ran, per second. */
  bulkDeliveredPerSec: number;
  allowedPerSec: number;
  unloaded: { count: number; p50: number; p99: number };
  loaded: { count: number; delivered: number; p50: number; p99: number };
  /** loaded p99 / unloaded p99 (target ≤ 2). */
  p99Ratio: number;
  waitingMax: number;
  waitingP95: number;
  /** Where the interactive requests' time went under the burst (bench/breakdown.ts; ms). */
  interactiveBreakdown: OverheadBreakdown;
}

async function runBurst(
  stack: Stack,
  options: Options,
  mode: 'adaptive' | 'fixed',
  index: number,
): Promise<BurstReport> {
  const C = 24;
  const L = 4000;
  await configureSimulator(SIM, { capacity: C, latencyMs: L, overcommitPenalty: PENALTY });
  // The BE double's callback: members come through the API and the queue, so any member is known.
  const receiver = createBeDouble({ members: 'any' });
  const callbackUrl = await receiver.listen(0);
  const deliveredAt = new Map<number, number>();
  receiver.onStored((feedback) => {
    if (!deliveredAt.has(feedback.memberId)) deliveredAt.set(feedback.memberId, Date.now());
  });
  const run = await startRun(stack, `${index}-burst-${mode}`, mode, FIXED_LIMIT_BURST, callbackUrl, true);
  const interactiveBase = 20_000_000 * (index + 1);
  const bulkBase = interactiveBase + 1_000_000;
  const sentAt = new Map<number, number>();
  const workflowIds = new Map<number, string>();
  const postInteractive = async (memberId: number) => {
    sentAt.set(memberId, Date.now());
    const response = await fetch(`http://127.0.0.1:${PORTS.api}/ai/feedback`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(feedbackRequest(memberId)),
    });
    if (response.status !== 202) throw new Error(`API answered ${response.status}: ${await response.text()}`);
    await response.arrayBuffer(); // drain the body (its data is null; the id is a header)
    const requestId = response.headers.get('x-request-id');
    if (!requestId) throw new Error('API answered 202 without X-Request-Id');
    workflowIds.set(memberId, workflowIdFor(requestId));
  };
  const trickle = async (from: number, count: number) => {
    const members = Array.from({ length: count }, (_, i) => from + i);
    const posts: Array<Promise<void>> = [];
    for (const m of members) {
      posts.push(postInteractive(m));
      await sleep(2000);
    }
    await Promise.all(posts);
    const deadline = Date.now() + 180_000;
    while (Date.now() < deadline && members.some((m) => !deliveredAt.has(m))) await sleep(250);
    return members
      .filter((m) => deliveredAt.has(m))
      .map((m) => (deliveredAt.get(m) as number) - (sentAt.get(m) as number));
  };
  const sampling = sampler();
  try {
    // Warm-up, then the trickle on the idle system.
    stack.progress.render(index, `burst-${mode}: unloaded trickle`);
    await trickle(interactiveBase + 900_000, 2);
    const unloaded = await trickle(interactiveBase, options.trickleUnloaded);
    // The burst: every bulk message sent as fast as the queue takes them; the trickle starts once vLLM is busy.
    stack.progress.render(index, `burst-${mode}: ${options.bulk} bulk + trickle`);
    const bulkMembers = Array.from({ length: options.bulk }, (_, i) => bulkBase + i);
    const bulkSending = pool(bulkMembers, 16, async (m) => {
      await sendRequest(stack.sqs, run.queues.requestQueueUrl, m, BE_GROUP);
    });
    // The trickle starts once the burst is on the queue and vLLM is busy: sending 5000 messages costs
    // the emulator tens of CPU seconds on this machine, which in production are AWS's, not ours.
    await bulkSending;
    const busyBy = Date.now() + 120_000;
    while (Date.now() < busyBy && (sampling.samples.at(-1)?.running ?? 0) < C) await sleep(250);
    const windowStart = Date.now();
    const bulkBefore = bulkMembers.filter((m) => deliveredAt.has(m)).length;
    const loadedFrom = interactiveBase + 100_000;
    const loaded = await trickle(loadedFrom, options.trickleLoaded);
    const windowEnd = Date.now();
    const bulkDuring = bulkMembers.filter((m) => deliveredAt.has(m)).length - bulkBefore;
    await sampling.stop();
    const inWindow = sampling.samples
      .filter((s) => s.t >= windowStart && s.t <= windowEnd)
      .map((s) => s.waiting);
    const q = (values: number[], p: number) => Math.round(percentile(values, p) ?? NaN);
    // Where the interactive requests' time went under the burst, from their workflow histories.
    const simRecords = (await (await fetch(`${SIM}/sim/requests`)).json()) as Array<{
      receivedAt: number;
      finishedAt?: number;
      prompt?: string;
    }>;
    const simMs = new Map<number, number>();
    for (const record of simRecords) {
      const member = Number(/#m(\d+)/.exec(record.prompt ?? '')?.[1]);
      if (Number.isFinite(member) && record.finishedAt !== undefined)
        simMs.set(member, (simMs.get(member) ?? 0) + (record.finishedAt - record.receivedAt));
    }
    const loadedMembers = Array.from({ length: options.trickleLoaded }, (_, i) => loadedFrom + i);
    const breakdown = await overheadBreakdown(
      `127.0.0.1:${PORTS.temporal}`,
      loadedMembers
        .filter((m) => deliveredAt.has(m) && workflowIds.has(m))
        .map((m) => ({
          workflowId: workflowIds.get(m) as string,
          sentAt: sentAt.get(m) as number,
          deliveredAt: deliveredAt.get(m) as number,
          simulatorMs: simMs.get(m) ?? 0,
        })),
    );
    const unloadedP99 = q(unloaded, 0.99);
    const loadedP99 = q(loaded, 0.99);
    return {
      mode,
      capacity: C,
      latencyMs: L,
      bulkSent: options.bulk,
      bulkDeliveredPerSec: round2(bulkDuring / ((windowEnd - windowStart) / 1000)),
      allowedPerSec: round2(C / (L / 1000)),
      unloaded: { count: unloaded.length, p50: q(unloaded, 0.5), p99: unloadedP99 },
      loaded: { count: options.trickleLoaded, delivered: loaded.length, p50: q(loaded, 0.5), p99: loadedP99 },
      p99Ratio: round2(loadedP99 / unloadedP99),
      waitingMax: Math.max(0, ...inWindow),
      waitingP95: percentile(inWindow, 0.95) ?? 0,
      interactiveBreakdown: breakdown,
    };
  } finally {
    await sampling.stop();
    await run.stop();
    await receiver.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Report

interface FlowReport {
  date: string;
  command: string;
  durationSeconds?: number;
  settings: Record<string, unknown>;
  capacity: CapacityReport[];
  burst: BurstReport[];
}

const round2 = (n: number) => Math.round(n * 100) / 100;
const mean = (values: number[]) =>
  values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length;

export function renderFlowMarkdown(report: FlowReport): string {
  const lines = [
    `# LLM flow control: ${report.date.slice(0, 10)}`,
    '',
    `Command: \`${report.command}\` (${report.durationSeconds ?? '?'} s). Simulated vLLM with over-commitment penalty ${PENALTY} (a request started while others wait takes up to ${1 + PENALTY} × L); controller target: ${TARGET_WAITING} waiting.`,
    '',
  ];
  if (report.capacity.length > 0) {
    lines.push(
      '## (a) vLLM capacity 64 → 16 → 64, and (c) adaptive vs fixed limit',
      '',
      `L = ${report.capacity[0].latencyMs / 1000} s; one FIFO group of BE messages, more than the three phases can serve. Measured after the first L seconds of each phase: throughput by Little's law = mean generating / mean generation time (the penalty included), completions counted in the window next to it (they come in batches); "follow" = seconds from the change until the requests at vLLM are within 1.25 × (C + target) (drop; the generations already running finish first, up to L) or running ≥ 0.9 × C (rise).`,
      '',
      '| limit | phase | C | throughput/s | allowed C/L | ratio (≥ 0.9) | mean generating, generation time | completions/s | waiting p95 / max | follow | limit range |',
      '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    );
    for (const run of report.capacity) {
      run.phases.forEach((p, i) => {
        lines.push(
          `| ${run.mode === 'fixed' ? `fixed ${FIXED_LIMIT_CAPACITY}` : 'adaptive'} | ${i + 1} | ${p.capacity} | ${p.throughputPerSec} | ${p.allowedPerSec} | ${p.ratio}${p.ratio >= 0.9 ? ' ✓' : ' ✗'} | ${p.meanRunning}, ${(p.meanGenerationMs / 1000).toFixed(2)} s | ${p.completionsPerSec} | ${p.waitingP95} / ${p.waitingMax} | ${p.followSeconds === undefined ? '–' : `${p.followSeconds} s`} | ${p.limitRange ? p.limitRange.join('–') : '–'} |`,
        );
      });
    }
    lines.push('');
  }
  if (report.burst.length > 0) {
    const b = report.burst[0];
    lines.push(
      '## (b) Bulk burst and an interactive trickle, and (c) adaptive vs fixed limit',
      '',
      `C = ${b.capacity}, L = ${b.latencyMs / 1000} s; ${b.bulkSent} BE messages at once in one FIFO group (priority 3; at most ${MAX_OPEN_QUEUE_RUNS} bulk runs open, the rest wait in SQS), interactive requests through the API every 2 s (priority 1), from when the burst is on the queue and vLLM is busy; end-to-end = POST → callback.`,
      '',
      '| limit | interactive unloaded p50 / p99 | under the burst p50 / p99 | p99 ratio (≤ 2) | bulk delivered/s (C/L) | vLLM waiting p95 / max |',
      '| --- | ---: | ---: | ---: | ---: | ---: |',
    );
    const breakdowns = [
      '',
      'Where the interactive requests spent their time under the burst (p50 / p99 per stage, from their histories: bench/breakdown.ts; task dispatch includes the wait for an LLM slot):',
      '',
      '| limit | queue + bridge | task dispatch | workflow tasks | vLLM call overhead | callback |',
      '| --- | ---: | ---: | ---: | ---: | ---: |',
    ];
    for (const run of report.burst) {
      breakdowns.push(
        `| ${run.mode === 'fixed' ? `fixed ${FIXED_LIMIT_BURST}` : 'adaptive'} | ${Object.values(
          run.interactiveBreakdown.stages,
        )
          .map((stage) => `${ms(stage.p50 ?? NaN)} / ${ms(stage.p99 ?? NaN)}`)
          .join(' | ')} |`,
      );
      lines.push(
        `| ${run.mode === 'fixed' ? `fixed ${FIXED_LIMIT_BURST}` : 'adaptive'} | ${ms(run.unloaded.p50)} / ${ms(run.unloaded.p99)} | ${ms(run.loaded.p50)} / ${ms(run.loaded.p99)} (${run.loaded.delivered}/${run.loaded.count}) | ${run.p99Ratio}${run.p99Ratio <= 2 ? ' ✓' : ' ✗'} | ${run.bulkDeliveredPerSec} (${run.allowedPerSec}) | ${run.waitingP95} / ${run.waitingMax} |`,
      );
    }
    lines.push(...breakdowns, '');
  }
  return lines.join('\n');
}

const ms = (n: number) => (Number.isFinite(n) ? `${(n / 1000).toFixed(2)} s` : '–');

let cleanup: () => Promise<void> = async () => undefined;

main().catch(async (err: unknown) => {
  process.stderr.write(`\nbench:flow failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  await cleanup();
  process.exit(2);
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void cleanup().then(() => process.exit(signal === 'SIGINT' ? 130 : 143)));
}
