/**
 * What goes wrong in a chaos run: the timed schedule (worker and bridge kills, Temporal restart, SQS and
 * vLLM outages; on the cluster engine the server is SIGKILLed instead, and PostgreSQL crashes) and the
 * poison messages. The simulator's and the callback's faults: injected-faults.ts.
 */
import { openRuns, type Stack } from './stack';
import { waitForPostgres } from '../harness/cluster';
import { restartUntilReady, temporalHealthy } from '../harness/infra';
import { sleep } from '../harness/util';

/** One entry of the run's timeline, `at` ms after the run started. */
export interface FaultLog {
  at: number;
  kind: string;
  detail?: string;
}

/** The run's timeline of faults and milestones. */
export interface Timeline {
  /** Wall-clock start of the run: `at` counts from here. */
  t0: number;
  entries: FaultLog[];
  note(kind: string, detail?: string): void;
}

export function createTimeline(t0: number): Timeline {
  const entries: FaultLog[] = [];
  return { t0, entries, note: (kind, detail) => entries.push({ at: Date.now() - t0, kind, detail }) };
}

/** Bodies the bridge must refuse to the DLQ with a reason, taken in turn. */
export const POISON_BODIES = [
  '{"memberId": 1, "personalChallenges": [',
  JSON.stringify({ memberId: -1, personalChallenges: [{ id: 1, title: 't', isSuccess: true }] }),
  JSON.stringify({
    memberId: 5,
    groupChallenges: [{ id: 1, title: 't', startDate: '2025-02-30T00:00:00', endDate: [2025, 3, 1, 0, 0] }],
  }),
  JSON.stringify({ memberId: 6, personalChallenges: [], groupChallenges: [] }),
  '["not", "an", "object"]',
];

/** The indexes of week one's sends after which a poison message goes out. */
export function poisonIndexes(n: number): Set<number> {
  return new Set([3, Math.floor(n * 0.3), Math.floor(n * 0.5), Math.floor(n * 0.7), n - 2]);
}

interface ScheduledFault {
  at: number;
  run: () => Promise<void>;
}

/**
 * Draws the fault times over the send window (in a fixed order, so a seed repeats the schedule) and
 * starts each fault's timer; the promises resolve when each fault is over.
 */
export function startFaults(
  stack: Stack,
  options: { sendWindowMs: number; vllmDownMs: number },
  random: () => number,
  timeline: Timeline,
): Promise<void>[] {
  const window = options.sendWindowMs;
  const at = (from: number, to: number) => from + random() * (to - from);
  const schedule: ScheduledFault[] = [];
  const workerKills = [
    at(5_000, window * 0.3),
    at(window * 0.35, window * 0.6),
    at(window * 0.65, window + 10_000),
  ];
  workerKills.forEach((time, i) =>
    schedule.push({ at: time, run: () => killWorker(stack, `worker-${(i % 2) + 1}`, random, timeline) }),
  );
  [at(8_000, window * 0.5), at(window * 0.5, window)].forEach((time, i) =>
    schedule.push({ at: time, run: () => killBridge(stack, `bridge-${i + 1}`, timeline) }),
  );
  // Drawn on both engines, so that the draws after it stay the same for a seed.
  const temporalAt = at(window * 0.2, window * 0.7);
  if (stack.engine === 'dev') schedule.push({ at: temporalAt, run: () => restartTemporal(stack, timeline) });
  schedule.push({ at: at(window * 0.1, window * 0.8), run: () => sqsOutage(stack, timeline) });
  schedule.push({
    at: at(window * 0.6, window * 0.8),
    run: () => vllmOutage(stack, options.vllmDownMs, timeline),
  });
  // A real deployment's two faults one after the other, so that each is seen alone: the server rides
  // PostgreSQL's crash under the send window's load, then is SIGKILLed with runs open. Drawn last, so
  // that the dev server's schedule for a seed stays what it was.
  if (stack.engine === 'cluster') {
    const postgresAt = at(window * 0.1, window * 0.3);
    schedule.push({
      at: postgresAt,
      run: async () => {
        await crashPostgres(stack, timeline);
        await sleep(3000);
        await restartTemporal(stack, timeline);
      },
    });
  }
  return schedule.map((f) => sleep(f.at).then(f.run));
}

async function killWorker(
  stack: Stack,
  name: string,
  random: () => number,
  timeline: Timeline,
): Promise<void> {
  // Kill while vLLM calls are in flight (up to 15 s of waiting), so recovery can be measured.
  for (let waited = 0; waited < 15_000 && (await simulatorRunning(stack.vllmUrl)) < 2; waited += 200)
    await sleep(200);
  await stack.group.stop(name, 'SIGKILL');
  timeline.note('kill', name);
  await sleep(1000 + random() * 2000);
  stack.group.restart(name);
}

async function killBridge(stack: Stack, name: string, timeline: Timeline): Promise<void> {
  await stack.group.stop(name, 'SIGKILL');
  timeline.note('kill', name);
  await sleep(2000);
  stack.group.restart(name);
}

/**
 * The dev server stops cleanly (SIGTERM) and is down 10 s. The cluster's server is SIGKILLed with runs
 * open, as a crashed node: nothing is flushed, its shards' in-memory state is lost and rebuilt from
 * PostgreSQL on restart.
 */
async function restartTemporal(stack: Stack, timeline: Timeline): Promise<void> {
  const signal = stack.engine === 'cluster' ? 'SIGKILL' : 'SIGTERM';
  const open = await openRuns(stack);
  await stack.group.stop('temporal', signal);
  timeline.note('temporal-down', `${signal} with ${open} runs open, 10 s`);
  await sleep(10_000);
  const starts = await restartUntilReady(stack.group, 'temporal', () =>
    temporalHealthy(stack.temporalAddress),
  );
  timeline.note('temporal-up', starts > 1 ? `after ${starts} starts` : undefined);
}

/**
 * PostgreSQL's immediate stop (SIGQUIT: no checkpoint, crash recovery at the next start) under load,
 * down 30 s; the server stays up and must ride it out.
 */
async function crashPostgres(stack: Stack, timeline: Timeline): Promise<void> {
  await stack.group.stop('postgres', 'SIGQUIT');
  timeline.note('postgres-crash', 'immediate stop, 30 s');
  await sleep(30_000);
  const postgres = stack.group.restart('postgres');
  await waitForPostgres(stack.pgPort, postgres);
  timeline.note('postgres-up');
}

async function sqsOutage(stack: Stack, timeline: Timeline): Promise<void> {
  await stack.sqsProxy.down();
  timeline.note('sqs-down', '8 s');
  await sleep(8_000);
  await stack.sqsProxy.up();
  timeline.note('sqs-up');
}

/** The outage is the proxy going down, so the simulator keeps its records. */
async function vllmOutage(stack: Stack, downMs: number, timeline: Timeline): Promise<void> {
  await stack.vllmProxy.down();
  timeline.note('vllm-down', `${downMs / 1000} s`);
  await sleep(downMs);
  await stack.vllmProxy.up();
  timeline.note('vllm-up');
}

/** vLLM calls the simulator is serving right now; 0 when it does not answer. */
async function simulatorRunning(vllmUrl: string): Promise<number> {
  try {
    const stats = (await fetch(`${vllmUrl}/sim/stats`).then((r) => r.json())) as { running: number };
    return stats.running;
  } catch {
    return 0;
  }
}
