/** The burst scenario: BE messages in bulk, interactive requests through the API, their latency. */
import { percentile, pool, sleep } from '../../harness/util';
import { createBeDouble } from '../../dev/be-double';
import { workflowIdFor } from '../../src/domain/keys';
import { overheadBreakdown, type OverheadBreakdown } from '../breakdown';
import { BE_GROUP, configureSimulator, feedbackRequest, sendRequest } from '../requests';
import { simulatorMsByMember, simulatorRecords } from '../simulator';
import {
  BURST_CAPACITY,
  BURST_LATENCY_MS,
  FIXED_LIMIT_BURST,
  PENALTY,
  type LimitMode,
  type Options,
} from './options';
import type { BurstReport } from './report';
import { round2, sampler } from './sampling';
import { PORTS, SIM, startRun, type Stack } from './stack';

const C = BURST_CAPACITY;
const L = BURST_LATENCY_MS;

/** Interactive requests through the API, every 2 s, and when each was sent and delivered. */
interface Trickle {
  sentAt: Map<number, number>;
  deliveredAt: Map<number, number>;
  workflowIds: Map<number, string>;
  /** Posts `count` requests from member `from` on and waits for them; their end-to-end times in ms. */
  run(from: number, count: number): Promise<number[]>;
}

export async function runBurst(
  stack: Stack,
  options: Options,
  mode: LimitMode,
  index: number,
): Promise<BurstReport> {
  await configureSimulator(SIM, { capacity: C, latencyMs: L, overcommitPenalty: PENALTY });
  // The BE double's callback: members come through the API and the queue, so any member is known.
  const receiver = createBeDouble({ members: 'any' });
  const callbackUrl = await receiver.listen(0);
  const trickle = interactiveTrickle();
  const { deliveredAt } = trickle;
  receiver.onStored((feedback) => {
    if (!deliveredAt.has(feedback.memberId)) deliveredAt.set(feedback.memberId, Date.now());
  });
  const run = await startRun(stack, `${index}-burst-${mode}`, mode, FIXED_LIMIT_BURST, callbackUrl, true);
  const interactiveBase = 20_000_000 * (index + 1);
  const bulkBase = interactiveBase + 1_000_000;
  const sampling = sampler();
  try {
    // Warm-up, then the trickle on the idle system.
    stack.progress.render(index, `burst-${mode}: unloaded trickle`);
    await trickle.run(interactiveBase + 900_000, 2);
    const unloaded = await trickle.run(interactiveBase, options.trickleUnloaded);
    // The burst: every bulk message sent as fast as the queue takes them.
    stack.progress.render(index, `burst-${mode}: ${options.bulk} bulk + trickle`);
    const bulkMembers = Array.from({ length: options.bulk }, (_, i) => bulkBase + i);
    // The trickle starts once the burst is on the queue and vLLM is busy: sending 5000 messages costs
    // the emulator tens of CPU seconds on this machine, which in production are AWS's, not ours.
    await pool(bulkMembers, 16, async (m) => {
      await sendRequest(stack.sqs, run.queues.requestQueueUrl, m, BE_GROUP);
    });
    const busyBy = Date.now() + 120_000;
    while (Date.now() < busyBy && (sampling.samples.at(-1)?.running ?? 0) < C) await sleep(250);
    const windowStart = Date.now();
    const bulkBefore = bulkMembers.filter((m) => deliveredAt.has(m)).length;
    const loadedFrom = interactiveBase + 100_000;
    const loaded = await trickle.run(loadedFrom, options.trickleLoaded);
    const windowEnd = Date.now();
    const bulkDuring = bulkMembers.filter((m) => deliveredAt.has(m)).length - bulkBefore;
    await sampling.stop();
    const inWindow = sampling.samples
      .filter((s) => s.t >= windowStart && s.t <= windowEnd)
      .map((s) => s.waiting);
    const q = (values: number[], p: number) => Math.round(percentile(values, p) ?? NaN);
    const loadedMembers = Array.from({ length: options.trickleLoaded }, (_, i) => loadedFrom + i);
    const breakdown = await interactiveBreakdown(trickle, loadedMembers);
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

function interactiveTrickle(): Trickle {
  const sentAt = new Map<number, number>();
  const deliveredAt = new Map<number, number>();
  const workflowIds = new Map<number, string>();
  const post = async (memberId: number) => {
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
  const run = async (from: number, count: number) => {
    const members = Array.from({ length: count }, (_, i) => from + i);
    const posts: Array<Promise<void>> = [];
    for (const m of members) {
      posts.push(post(m));
      await sleep(2000);
    }
    await Promise.all(posts);
    const deadline = Date.now() + 180_000;
    while (Date.now() < deadline && members.some((m) => !deliveredAt.has(m))) await sleep(250);
    return members
      .filter((m) => deliveredAt.has(m))
      .map((m) => (deliveredAt.get(m) as number) - (sentAt.get(m) as number));
  };
  return { sentAt, deliveredAt, workflowIds, run };
}

/** Where the interactive requests' time went under the burst, from their workflow histories. */
async function interactiveBreakdown(trickle: Trickle, members: number[]): Promise<OverheadBreakdown> {
  const { sentAt, deliveredAt, workflowIds } = trickle;
  const simMs = simulatorMsByMember(await simulatorRecords(SIM));
  return overheadBreakdown(
    `127.0.0.1:${PORTS.temporal}`,
    members
      .filter((m) => deliveredAt.has(m) && workflowIds.has(m))
      .map((m) => ({
        workflowId: workflowIds.get(m) as string,
        sentAt: sentAt.get(m) as number,
        deliveredAt: deliveredAt.get(m) as number,
        simulatorMs: simMs.get(m) ?? 0,
      })),
  );
}
