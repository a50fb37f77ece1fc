import { randomUUID } from 'node:crypto';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { History } from '@temporalio/common/lib/proto-utils';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import {
  checkedGeneration,
  createActivities,
  type CountFailuresInput,
  type CheckedGenerateInput,
  type DeliverInput,
  type FeedbackActivities,
} from '../../src/activities';
import { createVllmSimulator, type VllmSimulator } from '../../dev/vllm-simulator';
import type { ChatCompletionAnswer } from '../../src/activities/vllm';
import { DEFAULT_POLICY } from '../../src/config';
import type { FeedbackPolicy } from '../../src/domain/policy';
import { validateFeedbackRequest } from '../../src/domain/request';
import {
  FailureTypes,
  statusQuery,
  type FeedbackOutcome,
  type FeedbackWorkflowInput,
} from '../../src/domain/workflow';
import { FeedbackWorkflow } from '../../src/workflows';
import { llmActivities } from '../../src/worker/worker';
import { eventually } from '../support/eventually';
import { zoneWithoutTurnSoon } from '../support/zones';
import { fixtureJson } from '../support/fixtures';
import { timeSkippingEnv, workflowBundle } from '../support/temporal';

let taskQueue = '';
beforeEach(() => {
  taskQueue = `feedback-wf-test-${randomUUID()}`;
});
const KOREAN_FEEDBACK = '하루 30분 걷기를 멋지게 해냈어요! 🌱 텀블러는 다음 주에 다시 도전해봐요.';

// The time-skipping environment; teardown also stops any worker a failed test left running.
const temporal = timeSkippingEnv();
let env: TestWorkflowEnvironment;

beforeAll(async () => {
  env = await temporal.setup();
}, 120_000);

afterAll(() => temporal.teardown(), 60_000);

function input(
  policy: Partial<FeedbackPolicy> = {},
  extra: Partial<FeedbackWorkflowInput> = {},
): FeedbackWorkflowInput {
  const parsed = validateFeedbackRequest(fixtureJson('request-iso-dates.json'));
  if (!parsed.ok) throw new Error('fixture invalid');
  const { requestId: _r, timestamp: _t, ...request } = parsed.value;
  const now = new Date().toISOString();
  return {
    requestId: randomUUID(),
    request,
    requestedAt: '2025-06-16T09:00:00+09:00',
    source: 'api',
    // No expiry unless a test sets it: the time-skipping server's clock runs ahead of `now` as the
    // suite skips timers, and the schema's default (3 days) would expire later tests' requests.
    policy: { ...DEFAULT_POLICY, maxAgeMinutes: 0, ...policy },
    acceptedAt: now,
    sentAt: now,
    ...extra,
  };
}

/** Overrides of the activities; `answer` stands for vLLM's answer (whatever the prompt). */
type Overrides = Partial<FeedbackActivities> & { answer?: () => Promise<ChatCompletionAnswer> };

interface Delivery extends DeliverInput {
  /** The test server's time when the delivery ran. */
  atMs: number;
}

/** The real prompt and guardrail around a scripted vLLM answer; deliveries recorded. */
function activities(overrides: Overrides): FeedbackActivities & { delivered: Delivery[] } {
  const delivered: Delivery[] = [];
  const { answer = async () => ({ text: KOREAN_FEEDBACK }), ...rest } = overrides;
  return {
    generateCheckedFeedback: checkedGeneration(undefined, answer),
    deliverResult: async (d: DeliverInput) => {
      delivered.push({ ...d, atMs: await env.currentTimeMs() });
    },
    countEarlierFailures: async () => 0,
    ...rest,
    delivered,
  };
}

async function worker(acts: FeedbackActivities): Promise<Worker> {
  return Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities: acts,
  });
}

function startRun(wfInput: FeedbackWorkflowInput) {
  return env.client.workflow.start(FeedbackWorkflow, {
    taskQueue,
    workflowId: `feedback-${wfInput.requestId}`,
    args: [wfInput],
  });
}

/** The run's outcome, or its WorkflowFailedError (anything else is thrown). */
function settle(handle: Awaited<ReturnType<typeof startRun>>) {
  return handle.result().then(
    (outcome: FeedbackOutcome) => ({ outcome, error: undefined }),
    (error: unknown) => {
      if (error instanceof WorkflowFailedError) return { outcome: undefined, error };
      throw error;
    },
  );
}

/** Runs the workflow to its end; resolves with its outcome or its WorkflowFailedError, and its run id. */
async function run(
  acts: FeedbackActivities,
  wfInput: FeedbackWorkflowInput,
): Promise<{ outcome?: FeedbackOutcome; error?: WorkflowFailedError; runId: string }> {
  return (await worker(acts)).runUntil(async () => {
    const handle = await startRun(wfInput);
    return { ...(await settle(handle)), runId: handle.firstExecutionRunId };
  });
}

const failureType = (error: WorkflowFailedError | undefined) => (error?.cause as ApplicationFailure)?.type;

const rejectedByVllm = async (): Promise<ChatCompletionAnswer> => {
  throw ApplicationFailure.create({
    message: 'vLLM answered 400: prompt too long',
    type: FailureTypes.VllmRejected,
    nonRetryable: true,
  });
};

describe('FeedbackWorkflow', () => {
  it('delivers the generated Korean feedback to the result queue, deduplicated by its run id', async () => {
    const acts = activities({});
    const wfInput = input();
    const { outcome, runId } = await run(acts, wfInput);
    expect(outcome).toMatchObject({
      status: 'success',
      content: KOREAN_FEEDBACK,
      generations: 1,
      deliveredTo: ['queue'],
    });
    expect(acts.delivered.map(({ atMs: _at, ...d }) => d)).toEqual([
      {
        channel: 'queue',
        idempotencyKey: `feedback-${wfInput.requestId}`,
        deduplicationId: runId,
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

  it('gives a new run of the same request its own result deduplication id', async () => {
    const wfInput = input();
    const first = activities({ answer: rejectedByVllm });
    const second = activities({});
    const one = await run(first, wfInput);
    // An operator's retry: the same workflow id, started again after the failed run.
    const two = await run(second, wfInput);
    expect(one.error).toBeInstanceOf(WorkflowFailedError);
    expect(two.outcome?.content).toBe(KOREAN_FEEDBACK);
    expect(first.delivered[0].deduplicationId).toBe(one.runId);
    expect(second.delivered[0].deduplicationId).toBe(two.runId);
    expect(one.runId).not.toBe(two.runId);
  });

  it('retries vLLM 500 twice and then succeeds', async () => {
    let calls = 0;
    const acts = activities({
      answer: async () => {
        calls++;
        if (calls <= 2)
          throw ApplicationFailure.create({
            message: 'vLLM answered 500',
            type: FailureTypes.VllmUnavailable,
          });
        return { text: KOREAN_FEEDBACK };
      },
    });
    const { outcome } = await run(acts, input());
    expect(calls).toBe(3);
    expect(outcome?.content).toBe(KOREAN_FEEDBACK);
    expect(acts.delivered).toHaveLength(1);
  });

  it('waits out vLLM being down for 30 simulated minutes and then delivers', async () => {
    let downUntil = 0;
    let calls = 0;
    const acts = activities({
      answer: async () => {
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
    const { outcome } = await run(acts, input());
    expect(outcome?.content).toBe(KOREAN_FEEDBACK);
    // Backoff from 1 s doubling to a 60 s cap: ~6 quick attempts, then one a minute for the rest.
    expect(calls).toBeGreaterThan(20);
    expect(calls).toBeLessThan(45);
  });

  it('delivers content "500" with status error when vLLM answers 400, and ends failed', async () => {
    let calls = 0;
    const acts = activities({
      answer: async () => {
        calls++;
        return rejectedByVllm();
      },
    });
    const wfInput = input();
    const { error } = await run(acts, wfInput);
    expect(error?.cause?.message).toMatch(/vLLM answered 400/);
    expect(failureType(error)).toBe(FailureTypes.GenerationFailed);
    expect(calls).toBe(1);
    expect(acts.delivered).toHaveLength(1);
    expect(acts.delivered[0].channel).toBe('queue');
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
    const acts = activities({ answer: async () => ({ text: answers.shift() ?? '' }) });
    const { outcome } = await run(acts, input({ maxRegenerations: 2 }));
    expect(outcome).toMatchObject({ content: KOREAN_FEEDBACK, generations: 3 });
  });

  it('gives up with content "500" when every regeneration fails the guardrail', async () => {
    let calls = 0;
    const acts = activities({
      answer: async () => {
        calls++;
        return { text: 'no Korean here' };
      },
    });
    const { error } = await run(acts, input({ maxRegenerations: 1 }));
    expect(error).toBeInstanceOf(WorkflowFailedError);
    expect(calls).toBe(2);
    expect(acts.delivered[0].result).toMatchObject({ content: '500', status: 'error' });
    expect(acts.delivered[0].result.error).toMatch(/guardrail rejected 2 answers, last: no-hangul/);
  });

  it('retries a delivery answered 503 and succeeds on the next attempt', async () => {
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
    const { outcome } = await run(acts, input({ deliveryMode: 'callback' }));
    expect(attempts).toBe(2);
    expect(outcome?.status).toBe('success');
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
    const { error } = await run(acts, input({ deliveryMode: 'callback' }));
    expect(attempts).toBe(1);
    expect(failureType(error)).toBe(FailureTypes.DeliveryFailed);
    expect(error?.cause?.message).toMatch(/delivery failed: callback answered 400: bad body/);
  });

  it('delivers feedback to both channels when the delivery mode is both', async () => {
    const acts = activities({});
    const { outcome } = await run(acts, input({ deliveryMode: 'both' }));
    expect(outcome?.deliveredTo).toEqual(['callback', 'queue']);
    expect(acts.delivered.map((d) => d.channel).sort()).toEqual(['callback', 'queue']);
  });

  it('answers the status query with the current stage', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let entered!: () => void;
    const generating = new Promise<void>((resolve) => (entered = resolve));
    const acts = activities({
      answer: async () => {
        entered();
        await gate;
        return { text: KOREAN_FEEDBACK };
      },
    });
    const wfInput = input();
    await (
      await worker(acts)
    ).runUntil(async () => {
      const handle = await startRun(wfInput);
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

describe('FeedbackWorkflow failure results on the path that understands them', () => {
  it('never posts a status code to the callback: in callback mode the run fails with the reason and delivers nothing', async () => {
    const acts = activities({ answer: rejectedByVllm });
    const { error } = await run(acts, input({ deliveryMode: 'callback' }, { source: 'queue' }));
    expect(acts.delivered).toEqual([]);
    expect(failureType(error)).toBe(FailureTypes.FailureNotDelivered);
    expect(error?.cause?.message).toMatch(/vLLM answered 400: prompt too long; no result was delivered/);
  });

  it('posts the status code to the callback when the policy says the BE reads codes there', async () => {
    const acts = activities({ answer: rejectedByVllm });
    const { error } = await run(acts, input({ deliveryMode: 'callback', postFailuresToCallback: true }));
    expect(failureType(error)).toBe(FailureTypes.GenerationFailed);
    expect(acts.delivered.map((d) => [d.channel, d.result.content])).toEqual([['callback', '500']]);
  });

  it('sends a failure only to the result queue when the delivery mode is both', async () => {
    const acts = activities({ answer: rejectedByVllm });
    await run(acts, input({ deliveryMode: 'both' }));
    expect(acts.delivered.map((d) => [d.channel, d.result.content])).toEqual([['queue', '500']]);
  });
});

describe('FeedbackWorkflow failure hold (time-skipping)', () => {
  const HOLD_SECONDS = 330;

  it("holds a queue request's failure result until 5 min 30 s after the message was sent", async () => {
    const acts = activities({ answer: rejectedByVllm });
    const sentAtMs = await env.currentTimeMs();
    const wfInput = input(
      { failureHoldSeconds: HOLD_SECONDS },
      { source: 'queue', sentAt: new Date(sentAtMs).toISOString() },
    );
    const { error } = await run(acts, wfInput);
    expect(failureType(error)).toBe(FailureTypes.GenerationFailed);
    expect(acts.delivered).toHaveLength(1);
    expect(acts.delivered[0].result.content).toBe('500');
    expect(acts.delivered[0].atMs).toBeGreaterThanOrEqual(sentAtMs + HOLD_SECONDS * 1000);
    // Sent by the timer's end, not minutes later.
    expect(acts.delivered[0].atMs).toBeLessThan(sentAtMs + (HOLD_SECONDS + 60) * 1000);
  });

  it('shows a held run as holding, with the time its result goes out', async () => {
    const acts = activities({ answer: rejectedByVllm });
    const sentAtMs = await env.currentTimeMs();
    const wfInput = input(
      { failureHoldSeconds: HOLD_SECONDS },
      { source: 'queue', sentAt: new Date(sentAtMs).toISOString() },
    );
    await (
      await worker(acts)
    ).runUntil(async () => {
      const handle = await startRun(wfInput);
      // Time skips only while a result is awaited: until then the run stays in its hold.
      const status = await eventually(
        () => handle.query(statusQuery),
        (s) => s.stage === 'holding',
      );
      expect(status).toMatchObject({
        stage: 'holding',
        content: '500',
        holdUntil: new Date(sentAtMs + HOLD_SECONDS * 1000).toISOString(),
      });
      expect(acts.delivered).toEqual([]);
      await handle.result().catch(() => undefined);
      expect(acts.delivered.map((d) => d.result.content)).toEqual(['500']);
    });
  });

  it('sends at once when the hold has already passed since the message was sent', async () => {
    const acts = activities({ answer: rejectedByVllm });
    const now = await env.currentTimeMs();
    const sentAt = new Date(now - (HOLD_SECONDS + 10) * 1000).toISOString();
    await run(acts, input({ failureHoldSeconds: HOLD_SECONDS }, { source: 'queue', sentAt }));
    expect(acts.delivered).toHaveLength(1);
    expect(acts.delivered[0].atMs - now).toBeLessThan(30_000);
  });

  it("does not hold an API request's failure (its message carries our own deduplication id)", async () => {
    const acts = activities({ answer: rejectedByVllm });
    const now = await env.currentTimeMs();
    await run(
      acts,
      input({ failureHoldSeconds: HOLD_SECONDS }, { source: 'api', sentAt: new Date(now).toISOString() }),
    );
    expect(acts.delivered).toHaveLength(1);
    expect(acts.delivered[0].atMs - now).toBeLessThan(30_000);
  });

  const SIGNATURE = '7-9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08';

  /** A BE queue request with its signature, sent now on the server's clock, and what the count was asked. */
  async function repeatedFailure(earlier: () => Promise<number>, policy: Partial<FeedbackPolicy> = {}) {
    const asked: CountFailuresInput[] = [];
    const acts = activities({
      answer: rejectedByVllm,
      countEarlierFailures: async (query: CountFailuresInput) => {
        asked.push(query);
        return earlier();
      },
    });
    const sentAtMs = await env.currentTimeMs();
    const beTimeZone = zoneWithoutTurnSoon(sentAtMs, policy.beTimeZone);
    const wfInput = input(
      { failureHoldSeconds: HOLD_SECONDS, ...policy, beTimeZone },
      { source: 'queue', sentAt: new Date(sentAtMs).toISOString(), signature: SIGNATURE },
    );
    const { error } = await run(acts, wfInput);
    expect(failureType(error)).toBe(FailureTypes.GenerationFailed);
    expect(acts.delivered.map((d) => d.result.content)).toEqual(['500']);
    return { asked, heldMs: acts.delivered[0].atMs - sentAtMs, wfInput, sentAtMs, beTimeZone };
  }

  it('holds the first failure of a request 330 s, after asking for its earlier failures by signature', async () => {
    const { asked, heldMs, wfInput, sentAtMs } = await repeatedFailure(async () => 0);
    expect(heldMs).toBeGreaterThanOrEqual(HOLD_SECONDS * 1000);
    expect(heldMs).toBeLessThan((HOLD_SECONDS + 60) * 1000);
    // Its own signature, the 24 h before the failure, and itself left out.
    expect(asked).toHaveLength(1);
    expect(asked[0]).toMatchObject({ signature: SIGNATURE, workflowId: `feedback-${wfInput.requestId}` });
    const windowMs = sentAtMs - Date.parse(asked[0].since);
    expect(windowMs).toBeGreaterThan(23.9 * 3_600_000);
    expect(windowMs).toBeLessThanOrEqual(24 * 3_600_000);
  });

  it('holds a request that failed twice before in 24 h 330 s × 4² = 88 minutes', async () => {
    const { heldMs } = await repeatedFailure(async () => 2);
    expect(heldMs).toBeGreaterThanOrEqual(5280_000);
    expect(heldMs).toBeLessThan(5340_000);
  });

  it('holds a request that keeps failing 6 hours at most (the BE in Asia/Seoul: the sandbox knows the zone)', async () => {
    // Asia/Seoul unless its week turns within hours (then UTC, nine hours later): a cut hold is hold.test.ts's.
    const { heldMs } = await repeatedFailure(async () => 7, { beTimeZone: 'Asia/Seoul' });
    expect(heldMs).toBeGreaterThanOrEqual(6 * 3_600_000);
    expect(heldMs).toBeLessThan(6 * 3_600_000 + 60_000);
  });

  it('holds the base hold when the count cannot be read', async () => {
    const { heldMs } = await repeatedFailure(async () => {
      throw ApplicationFailure.nonRetryable('visibility unavailable');
    });
    expect(heldMs).toBeGreaterThanOrEqual(HOLD_SECONDS * 1000);
    expect(heldMs).toBeLessThan((HOLD_SECONDS + 60) * 1000);
  });

  it('never counts for a request without a signature or without a hold', async () => {
    const asked: CountFailuresInput[] = [];
    const countEarlierFailures = async (query: CountFailuresInput) => {
      asked.push(query);
      return 3;
    };
    const now = new Date(await env.currentTimeMs()).toISOString();
    const api = activities({ answer: rejectedByVllm, countEarlierFailures });
    await run(api, input({ failureHoldSeconds: HOLD_SECONDS }, { source: 'api', sentAt: now }));
    const unsigned = activities({ answer: rejectedByVllm, countEarlierFailures });
    await run(unsigned, input({ failureHoldSeconds: HOLD_SECONDS }, { source: 'queue', sentAt: now }));
    expect(asked).toEqual([]);
    expect(api.delivered).toHaveLength(1);
    expect(unsigned.delivered).toHaveLength(1);
  });

  it('holds an expired queue request\'s "408" the same way', async () => {
    const acts = activities({});
    const now = await env.currentTimeMs();
    const wfInput = input(
      { failureHoldSeconds: HOLD_SECONDS, maxAgeMinutes: 60 },
      // Reached us (and was sent) 2 minutes ago, but accepted long ago for the expiry's sake.
      {
        source: 'queue',
        sentAt: new Date(now - 120_000).toISOString(),
        acceptedAt: new Date(now - 3 * 3_600_000).toISOString(),
      },
    );
    const { error } = await run(acts, wfInput);
    expect(failureType(error)).toBe(FailureTypes.RequestExpired);
    expect(acts.delivered.map((d) => d.result.content)).toEqual(['408']);
    expect(acts.delivered[0].atMs).toBeGreaterThanOrEqual(now - 120_000 + HOLD_SECONDS * 1000);
  });
});

describe('FeedbackWorkflow with its vLLM calls on the LLM task queue', () => {
  const hoursAgo = (hours: number) => new Date(Date.now() - hours * 3_600_000).toISOString();

  /** The feedback worker without the vLLM activity, and a worker of the LLM task queue with it. */
  async function runWithLlmWorker(
    acts: FeedbackActivities,
    wfInput: FeedbackWorkflowInput,
    llmWorker: boolean,
  ): Promise<{ outcome?: FeedbackOutcome; error?: WorkflowFailedError; stage: string; history: History }> {
    const wrongQueue = async () => {
      throw ApplicationFailure.nonRetryable('a vLLM call ran on the feedback task queue', 'Wrong');
    };
    const feedbackWorker = await worker({ ...acts, generateCheckedFeedback: wrongQueue });
    const go = async () => {
      const handle = await startRun(wfInput);
      return {
        ...(await settle(handle)),
        stage: (await handle.query(statusQuery)).stage,
        history: await handle.fetchHistory(),
      };
    };
    if (!llmWorker) return feedbackWorker.runUntil(go);
    const llm = await Worker.create({
      connection: env.nativeConnection,
      taskQueue: wfInput.policy.llmTaskQueue as string,
      activities: llmActivities(acts),
    });
    return llm.runUntil(feedbackWorker.runUntil(go));
  }

  const flowInput = (policy: Partial<FeedbackPolicy>, acceptedAt?: string) =>
    input({ llmTaskQueue: `${taskQueue}-llm`, ...policy }, acceptedAt === undefined ? {} : { acceptedAt });

  it("runs generateCheckedFeedback on the policy's LLM task queue and sums vLLM's token usage over regenerations", async () => {
    let calls = 0;
    const acts = activities({
      answer: async () => {
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

  it('keeps the history lean: no markers, one vLLM activity per generation, one delivery', async () => {
    let calls = 0;
    const acts = activities({
      answer: async () => ({ text: ++calls === 1 ? 'Great job this week!' : KOREAN_FEEDBACK }),
    });
    const { outcome, history } = await runWithLlmWorker(acts, flowInput({}, hoursAgo(1)), true);
    expect(outcome).toMatchObject({ content: KOREAN_FEEDBACK, generations: 2 });
    const events = history.events ?? [];
    expect(events.filter((e) => e.markerRecordedEventAttributes)).toEqual([]);
    const scheduled = events.flatMap((e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? []);
    expect(scheduled).toEqual(['generateCheckedFeedback', 'generateCheckedFeedback', 'deliverResult']);
  });

  it('delivers "408" without calling vLLM when the request is older than its maximum age, and ends expired', async () => {
    let calls = 0;
    const acts = activities({
      answer: async () => {
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
    expect(failureType(error)).toBe(FailureTypes.RequestExpired);
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
    expect(failureType(error)).toBe(FailureTypes.RequestExpired);
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

describe('FeedbackWorkflow while vLLM refuses the configuration', () => {
  const MODEL = 'mistralai/Mistral-7B-Instruct-v0.3';
  let simulator: VllmSimulator;
  let url = '';
  beforeAll(async () => {
    simulator = createVllmSimulator({ maxNumSeqs: 8, latencyMs: 0, model: MODEL });
    ({ url } = await simulator.listen(0));
  });
  afterAll(() => simulator.close());

  /** The worker's real generation activity against the simulator, serving `MODEL`, asked for `model`. */
  const generation = (model: string) =>
    createActivities({
      // VLLM_MAX_MODEL_LEN set: the chat call itself meets vLLM's 404 (the model list is not read).
      vllm: {
        baseUrl: url,
        chatCompletionsUrl: `${url}/v1/chat/completions`,
        model,
        temperature: 0.7,
        maxTokens: 512,
        maxModelLen: 32_768,
      },
      delivery: {},
      sqs: {} as SQSClient,
    }).generateCheckedFeedback;

  /** A worker whose VLLM_MODEL is wrong until `fixedAfterMs` of test-server time have passed. */
  function misconfiguredUntil(fixedAfterMs: number) {
    const [wrong, right] = [generation('mistral-7b-instruct'), generation(MODEL)];
    const seen = { attempts: 0, startMs: 0 };
    const generateCheckedFeedback = async (request: CheckedGenerateInput) => {
      const now = await env.currentTimeMs();
      seen.startMs ||= now;
      seen.attempts++;
      return now - seen.startMs < fixedAfterMs ? wrong(request) : right(request);
    };
    return { acts: activities({ generateCheckedFeedback }), seen };
  }

  it('never sends a status code over five simulated hours of a wrong VLLM_MODEL (404), and delivers the feedback once it is fixed', async () => {
    const fixedAfterMs = 5 * 3_600_000;
    const { acts, seen } = misconfiguredUntil(fixedAfterMs);
    // A request the BE put on the queue, which re-requests on any status code; the give-up time above
    // the outage (VLLM_GIVE_UP_AFTER_MINUTES), retries at most every 5 minutes to keep the test short.
    const wfInput = input(
      { generateGiveUpAfterMinutes: 6 * 60, generateRetryMaxIntervalSeconds: 300 },
      { source: 'queue' },
    );
    const { outcome, error } = await run(acts, wfInput);
    expect(error).toBeUndefined();
    expect(outcome).toMatchObject({ status: 'success', generations: 1, deliveredTo: ['queue'] });
    // Every attempt of those five hours met vLLM's 404 and was retried: no result, no code, until then.
    expect(seen.attempts).toBeGreaterThan(60);
    expect(acts.delivered).toHaveLength(1);
    const [delivery] = acts.delivered;
    expect(delivery.atMs - seen.startMs).toBeGreaterThanOrEqual(fixedAfterMs);
    expect(delivery.result.status).toBe('success');
    expect(delivery.result.content).not.toMatch(/^[45]\d\d$/);
    expect(delivery.result.content).toMatch(/[\uAC00-\uD7A3]/);
  });

  it('ends like a vLLM outage when the configuration is still refused at the give-up time: "500", held for the BE', async () => {
    const { acts, seen } = misconfiguredUntil(Number.POSITIVE_INFINITY);
    const wfInput = input(
      { generateGiveUpAfterMinutes: 60, generateRetryMaxIntervalSeconds: 300 },
      { source: 'queue' },
    );
    const { error } = await run(acts, wfInput);
    expect(failureType(error)).toBe(FailureTypes.GenerationFailed);
    expect(error?.cause?.message).toMatch(
      /vLLM configuration error \(model-not-found\): vLLM answered 404: The model `mistral-7b-instruct` does not exist\./,
    );
    expect(seen.attempts).toBeGreaterThan(10);
    expect(acts.delivered.map((d) => d.result.content)).toEqual(['500']);
    // Temporal gives up as soon as the next retry could not start before the give-up time.
    expect(acts.delivered[0].atMs - seen.startMs).toBeGreaterThanOrEqual(60 * 60_000 - 300_000);
  });
});
