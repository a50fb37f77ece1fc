/**
 * feedback_callback_responses (worker, SDK meter): every answer of the BE's callback by HTTP status,
 * `network` when none came. The FeedbackCallbacksRejected alert reads it (deploy/monitoring/alerts.yml).
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities, type ActivityDeps, type DeliverInput } from '../../src/activities';
import { createBeDouble, type BeDouble } from '../../dev/be-double';
import { recordingMeter } from '../support/recording-meter';

let receiver: BeDouble;
let deps: ActivityDeps;

const input: DeliverInput = {
  channel: 'callback',
  result: {
    memberId: 7,
    content: '잘했어요 🌱',
    requestId: 'r-metrics',
    status: 'success',
    timestamp: '2025-06-16T09:00:00+09:00',
  },
  idempotencyKey: 'feedback-r-metrics',
  deduplicationId: 'run-1',
};

beforeAll(async () => {
  receiver = createBeDouble({ members: 'any' });
  const base = await receiver.listen(0);
  deps = {
    vllm: {
      baseUrl: 'http://127.0.0.1:1',
      chatCompletionsUrl: 'http://127.0.0.1:1/v1/chat/completions',
      model: 'm',
      temperature: 0.7,
      maxTokens: 16,
    },
    delivery: { callbackBaseUrl: `${base}/` },
    sqs: {} as SQSClient,
  };
});
afterAll(() => receiver.close());

/** Runs one callback delivery and returns the statuses the counter was given (and the outcome). */
async function deliver(activityDeps: ActivityDeps, memberId: number) {
  const { meter, recorded } = recordingMeter();
  const env = new MockActivityEnvironment({ startToCloseTimeoutMs: 3000 }, { metricMeter: meter });
  const outcome = await env
    .run(createActivities(activityDeps).deliverResult, { ...input, result: { ...input.result, memberId } })
    .then(
      () => 'ok',
      (err: Error) => err.name,
    );
  const responses = recorded.filter((r) => r.name === 'feedback_callback_responses');
  expect(responses.every((r) => r.kind === 'counter' && r.value === 1)).toBe(true);
  return { outcome, statuses: responses.map((r) => r.tags.status) };
}

describe('feedback_callback_responses', () => {
  it('counts an accepted callback as its 2xx status', async () => {
    expect(await deliver(deps, 101)).toEqual({ outcome: 'ok', statuses: ['200'] });
  });

  it('counts a rejection (400) by its status', async () => {
    receiver.failNext(1, 400);
    expect(await deliver(deps, 102)).toEqual({ outcome: 'ApplicationFailure', statuses: ['400'] });
  });

  it('counts the BE’s 409 (already stored), which is a success for the run', async () => {
    await deliver(deps, 103);
    expect(await deliver(deps, 103)).toEqual({ outcome: 'ok', statuses: ['409'] });
  });

  it('counts a callback that got no answer as "network"', async () => {
    const unreachable = { ...deps, delivery: { ...deps.delivery, callbackBaseUrl: 'http://127.0.0.1:1/' } };
    expect(await deliver(unreachable, 104)).toEqual({ outcome: 'ApplicationFailure', statuses: ['network'] });
  });
});
