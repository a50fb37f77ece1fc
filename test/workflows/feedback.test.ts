import { randomUUID } from 'node:crypto';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { createActivities, type DeliverInput, type FeedbackActivities } from '../../src/activities';
import { DEFAULT_POLICY, type FeedbackPolicy } from '../../src/domain/policy';
import { validateFeedbackRequest } from '../../src/domain/request';
import { FailureTypes, statusQuery, type FeedbackWorkflowInput } from '../../src/domain/workflow';
import { FeedbackWorkflow } from '../../src/workflows';
import { fixtureJson } from '../support/fixtures';
import { createTimeSkippingEnv, workflowBundle } from '../support/temporal';

let taskQueue = '';
beforeEach(() => {
  taskQueue = `feedback-wf-test-${randomUUID()}`;
});
const KOREAN_FEEDBACK = '하루 30분 걷기를 멋지게 해냈어요! 🌱 텀블러는 다음 주에 다시 도전해봐요.';

let env: TestWorkflowEnvironment;

beforeAll(async () => {
  env = await createTimeSkippingEnv();
}, 120_000);

afterAll(async () => {
  await env?.teardown();
});

function input(policy: Partial<FeedbackPolicy> = {}): FeedbackWorkflowInput {
  const parsed = validateFeedbackRequest(fixtureJson('request-iso-dates.json'));
  if (!parsed.ok) throw new Error('fixture invalid');
  const { requestId: _r, timestamp: _t, ...request } = parsed.value;
  return {
    requestId: randomUUID(),
    request,
    requestedAt: '2025-06-16T09:00:00+09:00',
    source: 'api',
    policy: { ...DEFAULT_POLICY, ...policy },
  };
}

/** Real prompt and guardrail activities; generation and delivery replaced per test. */
function activities(
  overrides: Partial<FeedbackActivities>,
): FeedbackActivities & { delivered: DeliverInput[] } {
  const delivered: DeliverInput[] = [];
  const real = createActivities({
    vllm: {
      baseUrl: 'http://unused',
      chatCompletionsUrl: 'http://unused',
      model: 'm',
      temperature: 0.7,
      maxTokens: 64,
    },
    delivery: { mode: 'callback' },
    sqs: {} as SQSClient,
  });
  return {
    ...real,
    generateFeedback: async () => ({ text: KOREAN_FEEDBACK }),
    deliverResult: async (d: DeliverInput) => {
      delivered.push(d);
    },
    ...overrides,
    delivered,
  };
}

async function run(acts: FeedbackActivities, wfInput: FeedbackWorkflowInput) {
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities: acts,
  });
  return worker.runUntil(
    env.client.workflow.execute(FeedbackWorkflow, {
      taskQueue,
      workflowId: `feedback-${wfInput.requestId}`,
      args: [wfInput],
    }),
  );
}

describe('FeedbackWorkflow', () => {
  it('delivers the generated Korean feedback by callback with the workflow id as idempotency key', async () => {
    const acts = activities({});
    const wfInput = input();
    const outcome = await run(acts, wfInput);
    expect(outcome).toMatchObject({
      status: 'success',
      content: KOREAN_FEEDBACK,
      generations: 1,
      deliveredTo: ['callback'],
    });
    expect(acts.delivered).toEqual([
      {
        channel: 'callback',
        idempotencyKey: `feedback-${wfInput.requestId}`,
        result: {
          memberId: 12345,
          content: KOREAN_FEEDBACK,
          requestId: wfInput.requestId,
          status: 'success',
          timestamp: '2025-06-16T09:00:00+09:00',
        },
      },
    ]);
  });

  it('retries vLLM 500 twice and then succeeds', async () => {
    let calls = 0;
    const acts = activities({
      generateFeedback: async () => {
        calls++;
        if (calls <= 2)
          throw ApplicationFailure.create({
            message: 'vLLM answered 500',
            type: FailureTypes.VllmUnavailable,
          });
        return { text: KOREAN_FEEDBACK };
      },
    });
    const outcome = await run(acts, input());
    expect(calls).toBe(3);
    expect(outcome.content).toBe(KOREAN_FEEDBACK);
    expect(acts.delivered).toHaveLength(1);
  });

  it('waits out vLLM being down for 30 simulated minutes and then delivers', async () => {
    let downUntil = 0;
    let calls = 0;
    const acts = activities({
      generateFeedback: async () => {
        const now = await env.currentTimeMs();
        downUntil ||= now + 30 * 60_000;
        calls++;
        if (now < downUntil)
          throw ApplicationFailure.create({
            message: 'vLLM unreachable',
            type: FailureTypes.VllmUnavailable,
          });
        return { text: KOREAN_FEEDBACK };
      },
    });
    const outcome = await run(acts, input());
    expect(outcome.content).toBe(KOREAN_FEEDBACK);
    // Backoff from 1 s doubling to a 60 s cap: ~6 quick attempts, then one a minute for the rest.
    expect(calls).toBeGreaterThan(20);
    expect(calls).toBeLessThan(45);
  });

  it('delivers content "500" with status error when vLLM answers 400, and ends failed', async () => {
    let calls = 0;
    const acts = activities({
      generateFeedback: async () => {
        calls++;
        throw ApplicationFailure.create({
          message: 'vLLM answered 400: prompt too long',
          type: FailureTypes.VllmRejected,
          nonRetryable: true,
        });
      },
    });
    const wfInput = input();
    const failure = await run(acts, wfInput).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    expect((failure as WorkflowFailedError).cause?.message).toMatch(/vLLM answered 400/);
    expect(calls).toBe(1);
    expect(acts.delivered).toHaveLength(1);
    expect(acts.delivered[0].result).toMatchObject({
      memberId: 12345,
      content: '500',
      status: 'error',
      requestId: wfInput.requestId,
    });
    expect(acts.delivered[0].result.error).toMatch(/vLLM answered 400: prompt too long/);
  });

  it('regenerates when the guardrail rejects an answer, within the configured bound', async () => {
    const answers = ['Great job!', '', KOREAN_FEEDBACK];
    const acts = activities({ generateFeedback: async () => ({ text: answers.shift() ?? '' }) });
    const outcome = await run(acts, input({ maxRegenerations: 2 }));
    expect(outcome).toMatchObject({ content: KOREAN_FEEDBACK, generations: 3 });
  });

  it('gives up with content "500" when every regeneration fails the guardrail', async () => {
    let calls = 0;
    const acts = activities({
      generateFeedback: async () => {
        calls++;
        return { text: 'no Korean here' };
      },
    });
    await expect(run(acts, input({ maxRegenerations: 1 }))).rejects.toThrow(WorkflowFailedError);
    expect(calls).toBe(2);
    expect(acts.delivered[0].result).toMatchObject({ content: '500', status: 'error' });
    expect(acts.delivered[0].result.error).toMatch(/guardrail rejected 2 answers, last: no-hangul/);
  });

  it('retries a callback answered 503 and succeeds on 200', async () => {
    let attempts = 0;
    const acts = activities({
      deliverResult: async () => {
        attempts++;
        if (attempts === 1)
          throw ApplicationFailure.create({
            message: 'callback answered 503',
            type: FailureTypes.DeliveryUnavailable,
          });
      },
    });
    const outcome = await run(acts, input());
    expect(attempts).toBe(2);
    expect(outcome.status).toBe('success');
  });

  it('ends failed with a clear reason when the BE rejects the result with 400', async () => {
    let attempts = 0;
    const acts = activities({
      deliverResult: async () => {
        attempts++;
        throw ApplicationFailure.create({
          message: 'callback answered 400: bad body',
          type: FailureTypes.DeliveryRejected,
          nonRetryable: true,
        });
      },
    });
    const failure = await run(acts, input()).catch((e: unknown) => e);
    expect(attempts).toBe(1);
    expect((failure as WorkflowFailedError).cause?.message).toMatch(
      /delivery failed: callback answered 400: bad body/,
    );
  });

  it('delivers to both channels when the delivery mode is both', async () => {
    const acts = activities({});
    const outcome = await run(acts, input({ deliveryMode: 'both' }));
    expect(outcome.deliveredTo).toEqual(['callback', 'queue']);
    expect(acts.delivered.map((d) => d.channel).sort()).toEqual(['callback', 'queue']);
  });

  it('answers the status query with the current stage', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let entered!: () => void;
    const generating = new Promise<void>((resolve) => (entered = resolve));
    const acts = activities({
      generateFeedback: async () => {
        entered();
        await gate;
        return { text: KOREAN_FEEDBACK };
      },
    });
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: await workflowBundle(),
      activities: acts,
    });
    const wfInput = input();
    await worker.runUntil(async () => {
      const handle = await env.client.workflow.start(FeedbackWorkflow, {
        taskQueue,
        workflowId: `feedback-${wfInput.requestId}`,
        args: [wfInput],
      });
      await generating;
      expect(await handle.query(statusQuery)).toMatchObject({ stage: 'generating', generations: 0 });
      release();
      await handle.result();
      expect(await handle.query(statusQuery)).toMatchObject({
        stage: 'delivered',
        generations: 1,
        content: KOREAN_FEEDBACK,
      });
    });
  });
});
