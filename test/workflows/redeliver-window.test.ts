/**
 * RedeliverWindowWorkflow (src/workflows/redeliver-window.ts) on the time-skipping server: it waits
 * until the result queue has drained (two empty reads), then sends each result to the result queue
 * under its own deduplication id, and none at or after its week turn.
 */
import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import type { DeliverInput, FeedbackActivities, ResultQueueBacklog } from '../../src/activities';
import { DEFAULT_POLICY } from '../../src/config';
import type { RedeliverWindowItem, RedeliverWindowOutcome } from '../../src/domain/redeliver-window';
import type { FeedbackResult } from '../../src/domain/result';
import { FailureTypes } from '../../src/domain/workflow';
import { RedeliverWindowWorkflow } from '../../src/workflows';
import { timeSkippingEnv, workflowBundle } from '../support/temporal';

const temporal = timeSkippingEnv();
let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await temporal.setup();
}, 120_000);
afterAll(() => temporal.teardown(), 60_000);

const HOUR = 3_600_000;

function result(memberId: number): FeedbackResult {
  return {
    memberId,
    content: `회원 ${memberId}의 피드백`,
    requestId: `req-${memberId}`,
    status: 'success',
    timestamp: '2025-06-16T09:00:00+09:00',
  };
}

async function run(
  items: RedeliverWindowItem[],
  backlogs: ResultQueueBacklog[],
  deliver: (d: DeliverInput) => Promise<void> = async () => undefined,
) {
  const taskQueue = `redeliver-window-${randomUUID()}`;
  const delivered: Array<DeliverInput & { atMs: number }> = [];
  const reads: number[] = [];
  const empty = { visible: 0, inFlight: 0, delayed: 0 };
  const activities: Pick<FeedbackActivities, 'deliverResult' | 'resultQueueBacklog'> = {
    deliverResult: async (d) => {
      delivered.push({ ...d, atMs: await env.currentTimeMs() });
      await deliver(d);
    },
    resultQueueBacklog: async () => {
      reads.push(await env.currentTimeMs());
      return backlogs[reads.length - 1] ?? empty;
    },
  };
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities,
  });
  const startedAtMs = await env.currentTimeMs();
  const outcome: RedeliverWindowOutcome = await worker.runUntil(
    env.client.workflow.execute(RedeliverWindowWorkflow, {
      taskQueue,
      workflowId: `redeliver-window-${randomUUID()}`,
      args: [{ items, policy: DEFAULT_POLICY, drainCheckSeconds: 30 }],
    }),
  );
  return { outcome, delivered, reads, startedAtMs };
}

it('waits for two empty reads of the result queue, then sends each result to the queue under its own id', async () => {
  const now = await env.currentTimeMs();
  const notAfter = new Date(now + 24 * HOUR).toISOString();
  const items = [7, 8].map((m) => ({ result: result(m), deduplicationId: `redeliver-req-${m}-1`, notAfter }));
  const busy = { visible: 40, inFlight: 5, delayed: 0 };
  const { outcome, delivered, reads, startedAtMs } = await run(items, [
    busy,
    { visible: 0, inFlight: 0, delayed: 0 },
    { visible: 0, inFlight: 3, delayed: 0 },
    { visible: 0, inFlight: 0, delayed: 0 },
    { visible: 0, inFlight: 0, delayed: 0 },
  ]);
  expect(outcome).toEqual({ delivered: ['req-7', 'req-8'], weekTurned: [], failed: [] });
  // One empty read then one with a message in flight starts the count again: five reads, 30 s apart.
  expect(reads).toHaveLength(5);
  expect(reads[4] - reads[0]).toBeGreaterThanOrEqual(4 * 30_000);
  expect(delivered.map(({ atMs: _t, ...d }) => d)).toEqual(
    items.map((i) => ({
      channel: 'queue',
      result: i.result,
      idempotencyKey: i.deduplicationId,
      deduplicationId: i.deduplicationId,
    })),
  );
  expect(Math.min(...delivered.map((d) => d.atMs))).toBeGreaterThanOrEqual(reads[4]);
  expect(startedAtMs).toBeLessThanOrEqual(reads[0]);
});

it("skips a result whose week turns while the queue drains, and stops waiting at the last result's turn", async () => {
  const now = await env.currentTimeMs();
  const busy = { visible: 1, inFlight: 0, delayed: 0 };
  const items = [
    { result: result(1), deduplicationId: 'k-1', notAfter: new Date(now + 10 * 60_000).toISOString() },
    { result: result(2), deduplicationId: 'k-2', notAfter: new Date(now + HOUR).toISOString() },
  ];
  // Busy for 20 minutes (40 reads), then empty.
  const { outcome, delivered } = await run(items, Array<ResultQueueBacklog>(40).fill(busy));
  expect(outcome).toEqual({ delivered: ['req-2'], weekTurned: ['req-1'], failed: [] });
  expect(delivered.map((d) => d.result.memberId)).toEqual([2]);

  // Never drained: nothing is sent once every week has turned.
  const never = await run(
    [{ result: result(3), deduplicationId: 'k-3', notAfter: new Date(now + 10 * 60_000).toISOString() }],
    Array<ResultQueueBacklog>(1000).fill(busy),
  );
  expect(never.outcome).toEqual({ delivered: [], weekTurned: ['req-3'], failed: [] });
  expect(never.delivered).toEqual([]);
});

it('records a result the BE refuses as failed and sends the rest', async () => {
  const notAfter = new Date((await env.currentTimeMs()) + 24 * HOUR).toISOString();
  const items = [4, 5].map((m) => ({ result: result(m), deduplicationId: `k-${m}`, notAfter }));
  const { outcome, delivered } = await run(items, [], async (d) => {
    if (d.result.memberId === 4)
      throw ApplicationFailure.nonRetryable('the BE refused it', FailureTypes.DeliveryRejected);
  });
  expect(outcome.delivered).toEqual(['req-5']);
  expect(outcome.failed.map((f) => f.requestId)).toEqual(['req-4']);
  expect(delivered.map((d) => d.result.memberId)).toEqual([4, 5]);
});
