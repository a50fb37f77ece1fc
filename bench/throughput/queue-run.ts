/** A run of a queue-reading system (ours, seed-style, plain): BE-style messages in, deliveries measured. */
import { paced, pool, sleep } from '../../harness/util';
import { createBeDouble } from '../../dev/be-double';
import { workflowIdFor } from '../../src/domain/keys';
import { ensureFeedbackQueues, type FeedbackQueues } from '../../src/shared/sqs';
import { overheadBreakdown, type OverheadBreakdown } from '../breakdown';
import { BE_GROUP, configureSimulator, sendRequest } from '../requests';
import { simulatorCounters, simulatorMsByMember, simulatorRecords } from '../simulator';
import { latency, rate } from './format';
import { PORTS, SEND_CONCURRENCY, SIMULATOR_URL } from './layout';
import {
  type CpuSnapshot,
  machineCpu,
  quantiles,
  sharedCpu,
  snapshotCpu,
  stopReports,
  waitFor,
} from './measure';
import { maxOpenRuns } from './options';
import { pacedRate } from './plan';
import { startSystem, stopProcesses, systemEnv } from './processes';
import type { Scenario, SystemId } from './scenarios';
import type { Context } from './stack';
import type { RunReport } from './types';

/** One run's fixed parts: its queues, its members' ids, the deliveries the BE double saw. */
interface QueueRun {
  ctx: Context;
  scenario: Scenario;
  system: SystemId;
  n: number;
  tag: string;
  queues: FeedbackQueues;
  memberBase: number;
  deliveredAt: Map<number, number>;
  /** Rejects as soon as a process of the run or of the stack exits on its own. */
  guard: <T>(work: Promise<T>) => Promise<T>;
}

/** The load as sent and delivered, with the CPU snapshots around it. */
interface Load {
  members: number[];
  sentAt: Map<number, number>;
  requestKeys: Map<number, string>;
  offeredRate?: number;
  cpuBefore: CpuSnapshot;
  cpuAfter: CpuSnapshot;
  deliveredCount: number;
  notes: string[];
}

export async function runQueueSystem(
  ctx: Context,
  scenario: Scenario,
  system: SystemId,
  n: number,
): Promise<RunReport> {
  const tag = `${String(ctx.runIndex).padStart(2, '0')}-${scenario.id}-${system}`;
  const queues = await ensureFeedbackQueues(ctx.sqs, `bench-${tag}`, { visibilityTimeoutSeconds: 60 });
  await configureSimulator(SIMULATOR_URL, {
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
  const processes = startSystem(ctx, system, systemEnv(ctx, tag, queues, callbackUrl, scenario.shape));
  const guard = <T>(work: Promise<T>) => Promise.race([work, processes.exited]);
  const memberBase = (ctx.runIndex + 1) * 1_000_000;
  const run: QueueRun = { ctx, scenario, system, n, tag, queues, memberBase, deliveredAt, guard };
  let stopping = false;
  try {
    await warmUp(run);
    const load = await sendLoad(run, processes.names);
    const measured = await measureDeliveries(run, load);
    const processReports = stopReports(ctx, processes.names, load.cpuBefore, load.cpuAfter);
    stopping = true;
    await stopProcesses(ctx, processes.names);
    const breakdown =
      system === 'ours' && scenario.mode === 'paced'
        ? await historyBreakdown(run, load, measured.simMs)
        : undefined;
    return {
      scenario: scenario.id,
      system,
      latencyMs: scenario.latencyMs,
      capacity: scenario.capacity,
      shape: scenario.shape,
      mode: scenario.mode,
      offeredRatePerSec: load.offeredRate,
      maxOpenRuns: system === 'ours' ? maxOpenRuns(ctx.options) : undefined,
      requested: n,
      delivered: load.deliveredCount,
      complete: load.deliveredCount === n,
      durationMs: measured.durationMs,
      deliveredPerSec: measured.durationMs ? load.deliveredCount / (measured.durationMs / 1000) : undefined,
      e2eMs: quantiles(measured.e2e),
      overheadMs: quantiles(measured.overhead),
      simulator: measured.simulator,
      processes: processReports,
      sharedCpuSecondsDuringRun: sharedCpu(load.cpuBefore, load.cpuAfter),
      machineCpu: machineCpu(load.cpuBefore, load.cpuAfter),
      overheadBreakdown: breakdown,
      notes: load.notes,
    };
  } finally {
    if (!stopping) await stopProcesses(ctx, processes.names, 'SIGKILL');
    await receiver.close();
  }
}

/** One request through the whole system, so that it is up, connected and polling. */
async function warmUp({
  ctx,
  scenario,
  queues,
  memberBase,
  deliveredAt,
  guard,
  tag,
}: QueueRun): Promise<void> {
  await guard(sendRequest(ctx.sqs, queues.requestQueueUrl, memberBase, groupOf(scenario, memberBase)));
  await guard(waitFor(() => deliveredAt.has(memberBase), 120_000, `${tag}: warm-up request not delivered`));
  deliveredAt.clear();
  await fetch(`${SIMULATOR_URL}/sim/reset`, { method: 'POST' });
}

/** Sends the n requests (all at once, or paced) and waits for their deliveries until the deadline. */
async function sendLoad(run: QueueRun, processNames: string[]): Promise<Load> {
  const { ctx, scenario, system, n, queues, deliveredAt, guard } = run;
  const notes: string[] = [];
  const members = Array.from({ length: n }, (_, i) => run.memberBase + 1 + i);
  const sentAt = new Map<number, number>();
  const cpuBefore = snapshotCpu(ctx, processNames);
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
  for (let count = deliveredAt.size; count < n && Date.now() < deadline; count = deliveredAt.size) {
    ctx.progress.render(ctx.progressBase + count, `${scenario.id} / ${system}`);
    await guard(sleep(250));
  }
  await guard(sending);
  const cpuAfter = snapshotCpu(ctx, processNames);
  const deliveredCount = members.filter((m) => deliveredAt.has(m)).length;
  ctx.progress.render(ctx.progressBase + deliveredCount, `${scenario.id} / ${system}`);
  if (deliveredCount < n) notes.push(`only ${deliveredCount} of ${n} delivered before the deadline`);
  if (system === 'seed') notes.push(`slow by design (≥ 1 s per message): measured on ${n} messages`);
  if (system === 'plain' && n < ctx.options.n)
    notes.push(`one batch of 10 per L: measured on ${n} messages (steady rate, like the longer runs)`);
  return { members, sentAt, requestKeys, offeredRate, cpuBefore, cpuAfter, deliveredCount, notes };
}

/** Per request: e2e (send → callback) and overhead (e2e minus simulator time); the run's duration. */
async function measureDeliveries({ deliveredAt }: QueueRun, { members, sentAt, deliveredCount }: Load) {
  const simStats = await simulatorCounters(SIMULATOR_URL);
  const simMs = simulatorMsByMember(await simulatorRecords(SIMULATOR_URL));
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
  return {
    simulator: {
      maxRunningSeen: simStats.maxRunningSeen,
      received: simStats.received,
      completed: simStats.completed,
    },
    simMs,
    e2e,
    overhead,
    durationMs: deliveredCount > 0 ? lastDelivery - firstSend : undefined,
  };
}

/** Where ours' overhead went, from the delivered requests' workflow histories. */
function historyBreakdown(
  { deliveredAt }: QueueRun,
  { members, requestKeys, sentAt }: Load,
  simMs: Map<number, number>,
): Promise<OverheadBreakdown> {
  return overheadBreakdown(
    `127.0.0.1:${PORTS.temporal}`,
    members
      .filter((m) => deliveredAt.has(m) && requestKeys.has(m))
      .map((m) => ({
        workflowId: workflowIdFor(requestKeys.get(m) as string),
        sentAt: sentAt.get(m) as number,
        deliveredAt: deliveredAt.get(m) as number,
        simulatorMs: simMs.get(m) ?? 0,
      })),
  );
}

/** The BE's one FIFO group, or a group per member. */
function groupOf(scenario: Scenario, memberId: number): string {
  return scenario.shape === 'group' ? BE_GROUP : String(memberId);
}

/** Generous: twice the time the system should need at a pessimistic rate, plus a minute. */
function deadlineMs(scenario: Scenario, system: SystemId, n: number, offeredRate?: number): number {
  const l = scenario.latencyMs / 1000;
  const perSecond =
    offeredRate ??
    (system === 'seed' ? 1 / (1.1 + l) : system === 'plain' ? Math.min(10, 10 / (l + 0.1)) : 4);
  return (n / perSecond) * 2000 + 60_000;
}
