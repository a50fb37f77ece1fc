/**
 * Flow control toward vLLM on the real local stack (docs/flow-control.md): the bridge, both workers and
 * the vLLM simulator of test/support/pipeline.ts against the test stack's Temporal dev server.
 *
 * - Priority: an interactive request (HTTP API, priority 1) overtakes the bulk requests (BE queue,
 *   priority 3) that wait on the LLM task queue for one of the worker's few slots.
 * - The limit: the vLLM calls the simulator sees at once never outnumber the LLM worker's limit (the
 *   highest it had set so far), and when vLLM's capacity drops the adaptive limit drops toward it and
 *   the calls in flight follow the new, lower limit.
 *
 * Everything is read from counters and records (the simulator's request records, in arrival order;
 * the flow control's limit each time it is set), never from fixed sleeps.
 */
import { randomInt } from 'node:crypto';
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import type { MetricMeter } from '@temporalio/common';
import type { SimulatorRequestRecord } from '../../dev/vllm-simulator';
import { acceptedRequest } from '../support/accepted';
import { eventually } from '../support/eventually';
import { startPipeline, workflowResult, type Pipeline } from '../support/pipeline';

jest.setTimeout(120_000);

/** The BE's single FIFO message group. */
const BE_GROUP = 'feedback-request';

/** Member ids of this run: the test stack's Temporal keeps the runs of earlier test runs. */
const memberBase = () => 70_000_000 + randomInt(0, 100_000) * 1_000;

/** A request whose prompt names its member (`#m<id>` in a title): the simulator's records tell whose call. */
function feedbackRequest(memberId: number) {
  return {
    memberId,
    personalChallenges: [{ id: 1, title: `텀블러 사용하기 #m${memberId}`, isSuccess: true }],
  };
}

function memberOf(record: SimulatorRequestRecord): number | undefined {
  const match = /#m(\d+)/.exec(JSON.stringify(record.messages ?? null));
  return match ? Number(match[1]) : undefined;
}

/** Members in the order of their first vLLM call (the simulator keeps its records in arrival order). */
function callOrder(pipeline: Pipeline): number[] {
  const order: number[] = [];
  for (const record of pipeline.simulator.stats().requests) {
    const member = memberOf(record);
    if (member !== undefined && !order.includes(member)) order.push(member);
  }
  return order;
}

/** Sends one BE message per member, as the BE does (its single FIFO group), ten per call. */
async function sendBulk(pipeline: Pipeline, members: number[]): Promise<void> {
  for (let i = 0; i < members.length; i += 10) {
    const out = await pipeline.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: pipeline.queues.requestQueueUrl,
        Entries: members.slice(i, i + 10).map((memberId) => ({
          Id: String(memberId),
          MessageBody: JSON.stringify(feedbackRequest(memberId)),
          MessageGroupId: BE_GROUP,
          MessageDeduplicationId: `bulk-${memberId}`,
        })),
      }),
    );
    if (out.Failed?.length) throw new Error(`SendMessageBatch failed: ${JSON.stringify(out.Failed)}`);
  }
}

/** POST /ai/feedback: an interactive request; resolves with its workflow id. */
async function sendInteractive(pipeline: Pipeline, memberId: number): Promise<string> {
  const response = await fetch(`${pipeline.apiUrl}/ai/feedback`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(feedbackRequest(memberId)),
  });
  return (await acceptedRequest(response)).workflowId;
}

/** Ends the runs a test left open (bulk requests it did not need to finish). */
async function terminateOpenRuns(pipeline: Pipeline | undefined): Promise<void> {
  if (!pipeline) return;
  const query = `TaskQueue = '${pipeline.taskQueue}' AND ExecutionStatus = 'Running'`;
  for await (const run of pipeline.temporal.workflow.list({ query })) {
    await pipeline.temporal.workflow
      .getHandle(run.workflowId)
      .terminate('flow-control test done')
      .catch(() => undefined);
  }
}

/** The LLM worker's limit each time its flow control sets it (the gauge is set on every control step). */
function limitRecorder() {
  const samples: Array<{ at: number; limit: number }> = [];
  const meter = {
    createGauge: (name: string) => ({
      set: (value: number) => {
        if (name === 'feedback_llm_concurrency_limit') samples.push({ at: Date.now(), limit: value });
      },
    }),
  } as unknown as MetricMeter;
  return {
    meter,
    /** The highest limit set from `from` up to `at` (inclusive); `initial`: the limit in force at `from`. */
    highest(from: number, at: number, initial = 0): number {
      return samples
        .filter((s) => s.at >= from && s.at <= at)
        .reduce((max, s) => Math.max(max, s.limit), initial);
    },
  };
}

/** vLLM calls open at `at`: arrived by then, not finished (one finishing in that very ms is done). */
function openAt(records: SimulatorRequestRecord[], at: number): number {
  return records.filter((r) => r.receivedAt <= at && (r.finishedAt === undefined || r.finishedAt > at))
    .length;
}

describe('priority on the LLM task queue', () => {
  const LIMIT = 2;
  const BULK = 40;
  let pipeline: Pipeline | undefined;

  beforeAll(async () => {
    // Two slots, each held a second: the bulk batch waits in Temporal, 2 calls a second.
    pipeline = await startPipeline('flow-priority', 'queue', {
      simulator: { maxNumSeqs: LIMIT, latencyMs: 1000 },
      flow: { mode: 'fixed', max: LIMIT },
    });
  }, 120_000);

  afterAll(async () => {
    await terminateOpenRuns(pipeline);
    await pipeline?.stop();
  });

  it('generates an interactive request before the bulk requests already waiting for vLLM', async () => {
    const p = pipeline as Pipeline;
    const base = memberBase();
    const bulk = Array.from({ length: BULK }, (_, i) => base + i);
    await sendBulk(p, bulk);
    // Every bulk run has scheduled its vLLM call: the workflow task that leaves stage `queued` schedules it.
    const started = await eventually(
      async () => (await p.temporal.workflow.count(`TaskQueue = '${p.taskQueue}'`)).count,
      (n) => n === BULK,
    );
    expect(started).toBe(BULK);
    const stillQueued = await eventually(
      async () =>
        (await p.temporal.workflow.count(`TaskQueue = '${p.taskQueue}' AND FeedbackStage = 'queued'`)).count,
      (n) => n === 0,
    );
    expect(stillQueued).toBe(0);
    const calledBefore = new Set(callOrder(p));
    const waiting = bulk.filter((m) => !calledBefore.has(m));
    expect(waiting.length).toBeGreaterThanOrEqual(BULK / 2);

    const interactive = base + BULK;
    await workflowResult(p.temporal, await sendInteractive(p, interactive));

    const order = callOrder(p);
    const position = order.indexOf(interactive);
    expect(position).toBeGreaterThanOrEqual(0);
    const ahead = waiting.filter((m) => {
      const i = order.indexOf(m);
      return i >= 0 && i < position;
    });
    // Before most of them: only the calls that were already on their way while the request went through
    // the API, SQS, the bridge and its first workflow task may precede it (FIFO: all of them would).
    expect(ahead.length).toBeLessThanOrEqual(Math.floor(waiting.length / 4));
  });
});

describe('the adaptive limit on a real worker', () => {
  const CAPACITY = 8;
  const DROPPED = 2;
  const TARGET = 2;
  const BULK = 100;
  const AFTER_DROP = 12;
  const recorder = limitRecorder();
  let pipeline: Pipeline | undefined;

  beforeAll(async () => {
    pipeline = await startPipeline('flow-limit', 'queue', {
      simulator: { maxNumSeqs: CAPACITY, latencyMs: 400 },
      flow: { mode: 'adaptive', min: 1, initial: 3, max: 16, targetWaiting: TARGET },
      flowMeter: recorder.meter,
    });
  }, 120_000);

  afterAll(async () => {
    await terminateOpenRuns(pipeline);
    await pipeline?.stop();
  });

  it('never lets vLLM see more calls than the limit, and the limit follows a capacity drop', async () => {
    const p = pipeline as Pipeline;
    const { limiter } = p.flowControl;
    const startedAt = Date.now();
    /**
     * The arrivals at which more calls were open at vLLM than the highest limit the worker had set so
     * far (a lowered limit does not end the calls in flight), and the first of them.
     */
    const overLimit = (records: SimulatorRequestRecord[]) => {
      const over = records
        .map((r) => ({
          ms: r.receivedAt - startedAt,
          open: openAt(records, r.receivedAt),
          limit: recorder.highest(0, r.receivedAt),
        }))
        .filter((arrival) => arrival.open > arrival.limit);
      return { arrivals: over.length, first: over[0] };
    };
    const base = memberBase();
    await sendBulk(
      p,
      Array.from({ length: BULK }, (_, i) => base + i),
    );

    // The limit grows until vLLM runs at its capacity; more requests wait in Temporal than it allows.
    const ranFull = await eventually(
      async () => p.simulator.stats().maxRunningSeen,
      (n) => n >= CAPACITY,
    );
    expect(ranFull).toBeGreaterThanOrEqual(CAPACITY);
    expect(overLimit(p.simulator.stats().requests)).toEqual({ arrivals: 0, first: undefined });
    expect(limiter.limit).toBeGreaterThan(DROPPED + TARGET);
    expect(p.simulator.stats().received).toBeLessThan(BULK);

    // vLLM's capacity drops: its queue grows and the controller cuts the limit toward the new capacity.
    const droppedAt = Date.now();
    p.simulator.setCapacity(DROPPED);
    const lowered = await eventually(
      async () => limiter.limit,
      (limit) => limit <= DROPPED + TARGET,
      20_000,
    );
    expect(lowered).toBeLessThanOrEqual(DROPPED + TARGET);
    // The permits granted under the higher limit are back (lowering never interrupts a call).
    const settled = await eventually(
      async () => ({ at: Date.now(), limit: limiter.limit, reserved: limiter.reserved }),
      (s) => s.reserved <= s.limit,
      20_000,
    );
    expect(settled.reserved).toBeLessThanOrEqual(settled.limit);
    const afterDrop = await eventually(
      async () => p.simulator.stats().requests.filter((r) => r.receivedAt > settled.at).length,
      (n) => n >= AFTER_DROP,
    );
    expect(afterDrop).toBeGreaterThanOrEqual(AFTER_DROP);

    const records = p.simulator.stats().requests;
    const end = Date.now();
    expect(overLimit(records)).toEqual({ arrivals: 0, first: undefined });
    const openBefore = Math.max(
      ...records.filter((r) => r.receivedAt < droppedAt).map((r) => openAt(records, r.receivedAt)),
    );
    expect(openBefore).toBeGreaterThanOrEqual(CAPACITY);

    // From the moment the permits fit the new limit, the calls open at vLLM stay within it.
    const limitAfter = recorder.highest(settled.at, end, settled.limit);
    const openAfter = Math.max(
      openAt(records, settled.at),
      ...records.filter((r) => r.receivedAt > settled.at).map((r) => openAt(records, r.receivedAt)),
    );
    expect(openAfter).toBeLessThanOrEqual(limitAfter);
    expect(limitAfter).toBeLessThan(openBefore);
  });
});
