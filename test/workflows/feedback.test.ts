import { randomUUID } from 'node:crypto';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { History } from '@temporalio/common/lib/proto-utils';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import type { SQSClient } from '@aws-sdk/client-sqs';
import {
  checkedGeneration,
  createActivities,
  type DeliverInput,
  type FeedbackActivities,
} from '../../src/activities';
import type { ChatCompletionAnswer } from '../../src/activities/vllm';
import { DEFAULT_POLICY, type FeedbackPolicy } from '../../src/domain/policy';
import { validateFeedbackRequest } from '../../src/domain/request';
import {
  FailureTypes,
  statusQuery,
  type FeedbackOutcome,
  type FeedbackWorkflowInput,
} from '../../src/domain/workflow';
import { FeedbackWorkflow } from '../../src/workflows';
import { llmActivities } from '../../src/worker/worker';
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
/** Overrides; a scripted generateFeedback stands for vLLM's answer (whatever the prompt). */
type Overrides = Partial<Omit<FeedbackActivities, 'generateFeedback'>> & {
  generateFeedback?: () => Promise<ChatCompletionAnswer>;
};

function activities(overrides: Overrides): FeedbackActivities & { delivered: DeliverInput[] } {
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
  // A scripted vLLM answer goes through the real prompt and guardrail (generateCheckedFeedback).
  const generate = overrides.generateFeedback ?? (async () => ({ text: KOREAN_FEEDBACK }));
  return {
    ...real,
    generateFeedback: generate,
    generateCheckedFeedback: checkedGeneration(undefined, generate),
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

describe('FeedbackWorkflow with flow control (patches flow-control-v1, lean-history-v1)', () => {
  const hoursAgo = (hours: number) => new Date(Date.now() - hours * 3_600_000).toISOString();

  /** The feedback worker without generateFeedback, and a worker of the LLM task queue with it. */
  async function runWithLlmWorker(
    acts: FeedbackActivities,
    wfInput: FeedbackWorkflowInput,
    llmWorker: boolean,
  ): Promise<{ outcome?: FeedbackOutcome; error?: WorkflowFailedError; stage: string; history: History }> {
    const wrongQueue = async () => {
      throw ApplicationFailure.nonRetryable('a vLLM call ran on the feedback task queue', 'Wrong');
    };
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: await workflowBundle(),
      activities: { ...acts, generateFeedback: wrongQueue, generateCheckedFeedback: wrongQueue },
    });
    const go = async () => {
      const handle = await env.client.workflow.start(FeedbackWorkflow, {
        taskQueue,
        workflowId: `feedback-${wfInput.requestId}`,
        args: [wfInput],
      });
      const result = await handle.result().then(
        (outcome: FeedbackOutcome) => ({ outcome }),
        (error: unknown) => {
          if (error instanceof WorkflowFailedError) return { error };
          throw error;
        },
      );
      return {
        ...result,
        stage: (await handle.query(statusQuery)).stage,
        history: await handle.fetchHistory(),
      };
    };
    if (!llmWorker) return worker.runUntil(go);
    const llm = await Worker.create({
      connection: env.nativeConnection,
      taskQueue: wfInput.policy.llmTaskQueue as string,
      activities: llmActivities(acts),
    });
    return llm.runUntil(worker.runUntil(go));
  }

  const flowInput = (policy: Partial<FeedbackPolicy>, acceptedAt?: string) => ({
    ...input({ llmTaskQueue: `${taskQueue}-llm`, ...policy }),
    ...(acceptedAt === undefined ? {} : { acceptedAt }),
  });

  it("runs generateFeedback on the policy's LLM task queue and sums vLLM's token usage over regenerations", async () => {
    let calls = 0;
    const acts = activities({
      generateFeedback: async () => {
        calls++;
        const text = calls === 1 ? 'Great job this week!' : KOREAN_FEEDBACK;
        return { text, usage: { promptTokens: 700, completionTokens: 40 + calls } };
      },
    });
    const { outcome, stage } = await runWithLlmWorker(acts, flowInput({}, hoursAgo(1)), true);
    expect(stage).toBe('delivered');
    expect(outcome).toMatchObject({ content: KOREAN_FEEDBACK, generations: 2 });
    expect(outcome?.tokens).toEqual({ prompt: 1400, completion: 41 + 42 });
  });

  it('keeps the history lean (patch lean-history-v2): one vLLM activity checks its answer, no local activities', async () => {
    let calls = 0;
    const acts = activities({
      generateFeedback: async () => ({ text: ++calls === 1 ? 'Great job this week!' : KOREAN_FEEDBACK }),
    });
    const { outcome, history } = await runWithLlmWorker(acts, flowInput({}, hoursAgo(1)), true);
    expect(outcome).toMatchObject({ content: KOREAN_FEEDBACK, generations: 2 });
    const events = history.events ?? [];
    const markers = events.flatMap((e) => {
      const marker = e.markerRecordedEventAttributes;
      if (!marker) return [];
      const data = marker.details?.['patch-data']?.payloads?.[0]?.data;
      return [`${marker.markerName} ${data ? Buffer.from(data).toString() : ''}`.trim()];
    });
    // Only the newest patch marker: no local-activity markers, no lean-history-v1 or flow-control-v1.
    expect(markers).toEqual([expect.stringMatching(/^core_patch .*"lean-history-v2"/)]);
    const scheduled = events.flatMap((e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? []);
    expect(scheduled).toEqual(['generateCheckedFeedback', 'generateCheckedFeedback', 'deliverResult']);
  });

  it('delivers "408" without calling vLLM when the request is older than its maximum age, and ends expired', async () => {
    let calls = 0;
    const acts = activities({
      generateFeedback: async () => {
        calls++;
        return { text: KOREAN_FEEDBACK };
      },
    });
    const { error, stage } = await runWithLlmWorker(
      acts,
      flowInput({ maxAgeMinutes: 60 }, hoursAgo(3)),
      true,
    );
    expect(calls).toBe(0);
    expect(stage).toBe('expired');
    expect(error?.cause).toBeInstanceOf(ApplicationFailure);
    expect((error?.cause as ApplicationFailure).type).toBe(FailureTypes.RequestExpired);
    expect(acts.delivered).toHaveLength(1);
    expect(acts.delivered[0].result).toMatchObject({ content: '408', status: 'error' });
    expect(acts.delivered[0].result.error).toMatch(/^expired: not generated within 60 minutes/);
  });

  it('expires a request whose turn for an LLM slot does not come within its maximum age', async () => {
    // No worker polls the LLM task queue: the activity waits until its schedule-to-start timeout.
    const acts = activities({});
    const { error, stage } = await runWithLlmWorker(
      acts,
      flowInput({ maxAgeMinutes: 30 }, new Date().toISOString()),
      false,
    );
    expect(stage).toBe('expired');
    expect((error?.cause as ApplicationFailure).type).toBe(FailureTypes.RequestExpired);
    expect(acts.delivered.map((d) => d.result.content)).toEqual(['408']);
  });

  it('never expires without a maximum age, however old the request', async () => {
    const acts = activities({});
    const { outcome } = await runWithLlmWorker(
      acts,
      flowInput({ maxAgeMinutes: 0 }, hoursAgo(24 * 30)),
      true,
    );
    expect(outcome).toMatchObject({ status: 'success', content: KOREAN_FEEDBACK });
  });
});
