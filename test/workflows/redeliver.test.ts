/**
 * RedeliverWorkflow (src/workflows/redeliver.ts) on the time-skipping server: a stored result sent
 * again to the given channels under the redelivery's own key, not before the failure hold.
 */
import { randomUUID } from 'node:crypto';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import type { DeliverInput, FeedbackActivities } from '../../src/activities';
import { DEFAULT_POLICY } from '../../src/config';
import type { FeedbackResult } from '../../src/domain/result';
import { FailureTypes, type RedeliverInput } from '../../src/domain/workflow';
import { RedeliverWorkflow } from '../../src/workflows';
import { timeSkippingEnv, workflowBundle } from '../support/temporal';

const temporal = timeSkippingEnv();
let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await temporal.setup();
}, 120_000);
afterAll(() => temporal.teardown(), 60_000);

const RESULT: FeedbackResult = {
  memberId: 42,
  content: '500',
  requestId: '42-msg-1',
  status: 'error',
  timestamp: '2025-06-16T09:00:00+09:00',
  error: 'generation failed: vLLM answered 503',
};

interface Delivery extends DeliverInput {
  atMs: number;
}

async function redeliver(
  input: Omit<RedeliverInput, 'result' | 'policy'>,
  deliver: (d: DeliverInput) => Promise<void> = async () => undefined,
) {
  const taskQueue = `redeliver-${randomUUID()}`;
  const delivered: Delivery[] = [];
  const activities: Pick<FeedbackActivities, 'deliverResult'> = {
    deliverResult: async (d) => {
      delivered.push({ ...d, atMs: await env.currentTimeMs() });
      await deliver(d);
    },
  };
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities,
  });
  const startedAtMs = await env.currentTimeMs();
  const outcome = await worker.runUntil(
    env.client.workflow
      .execute(RedeliverWorkflow, {
        taskQueue,
        workflowId: `redeliver-${RESULT.requestId}-${randomUUID()}`,
        args: [{ result: RESULT, policy: DEFAULT_POLICY, ...input }],
      })
      .catch((err: unknown) => err),
  );
  return { outcome, delivered, startedAtMs };
}

it('sends the stored result to each channel under the redelivery’s key, as idempotency and deduplication id', async () => {
  const { outcome, delivered } = await redeliver({
    channels: ['callback', 'queue'],
    idempotencyKey: 'redeliver-42-msg-1-1718500000000',
  });
  expect(outcome).toEqual({ deliveredTo: ['callback', 'queue'] });
  expect(delivered.map(({ atMs: _t, ...d }) => d).sort((a, b) => a.channel.localeCompare(b.channel))).toEqual(
    [
      {
        channel: 'callback',
        result: RESULT,
        idempotencyKey: 'redeliver-42-msg-1-1718500000000',
        deduplicationId: 'redeliver-42-msg-1-1718500000000',
      },
      {
        channel: 'queue',
        result: RESULT,
        idempotencyKey: 'redeliver-42-msg-1-1718500000000',
        deduplicationId: 'redeliver-42-msg-1-1718500000000',
      },
    ],
  );
});

it('waits until notBefore (the failure hold) before it sends anything', async () => {
  const notBeforeMs = (await env.currentTimeMs()) + 5 * 60_000;
  const { outcome, delivered } = await redeliver({
    channels: ['queue'],
    idempotencyKey: 'k-hold',
    notBefore: new Date(notBeforeMs).toISOString(),
  });
  expect(outcome).toEqual({ deliveredTo: ['queue'] });
  expect(delivered).toHaveLength(1);
  expect(delivered[0].atMs).toBeGreaterThanOrEqual(notBeforeMs);
});

it('sends at once when notBefore has passed, is unreadable, or is absent', async () => {
  const past = new Date((await env.currentTimeMs()) - 60_000).toISOString();
  for (const notBefore of [past, 'not a time', undefined]) {
    const { delivered, startedAtMs } = await redeliver({
      channels: ['queue'],
      idempotencyKey: `k-${String(notBefore)}`,
      ...(notBefore === undefined ? {} : { notBefore }),
    });
    expect(delivered).toHaveLength(1);
    // Well before any hold (330 s) or timer would have let it go.
    expect(delivered[0].atMs - startedAtMs).toBeLessThan(30_000);
  }
});

it('fails when the BE rejects the result, without retrying it', async () => {
  const { outcome, delivered } = await redeliver(
    { channels: ['queue'], idempotencyKey: 'k-rejected' },
    async () => {
      throw ApplicationFailure.nonRetryable('callback answered 400', FailureTypes.DeliveryRejected);
    },
  );
  expect(outcome).toBeInstanceOf(WorkflowFailedError);
  expect(delivered).toHaveLength(1);
});
