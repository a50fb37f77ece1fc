import type { SQSClient } from '@aws-sdk/client-sqs';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import {
  createActivities,
  type ActivityDeps,
  type CheckedFeedback,
  type DeliverInput,
} from '../../src/activities';
import type { ChatCompletionAnswer } from '../../src/activities/vllm';
import { createBeDouble, type BeDouble } from '../../dev/be-double';
import { FailureTypes } from '../../src/domain/workflow';
import type { FeedbackResult } from '../../src/domain/result';
import { createVllmSimulator, type VllmSimulator } from '../../dev/vllm-simulator';
import { eventually } from '../support/eventually';

const CHECKED_INPUT = {
  request: { personalChallenges: [{ id: 1, title: '플로깅 하기', isSuccess: true }], groupChallenges: [] },
  maxChars: 500,
};
const RESULT: FeedbackResult = {
  memberId: 7,
  content: '잘했어요 🌱',
  requestId: 'r-1',
  status: 'success',
  timestamp: '2025-06-16T09:00:00+09:00',
};

let simulator: VllmSimulator;
let receiver: BeDouble;
let deps: ActivityDeps;

beforeAll(async () => {
  simulator = createVllmSimulator({ maxNumSeqs: 4, latencyMs: 10 });
  const { url } = await simulator.listen(0);
  receiver = createBeDouble({ members: 'any' });
  const callbackBase = await receiver.listen(0);
  deps = {
    vllm: {
      baseUrl: url,
      chatCompletionsUrl: `${url}/v1/chat/completions`,
      model: 'mistralai/Mistral-7B-Instruct-v0.3',
      temperature: 0.7,
      maxTokens: 256,
    },
    delivery: {
      callbackBaseUrl: `${callbackBase}/`,
      callbackAuthorization: 'Bearer be-secret',
    },
    sqs: {} as SQSClient,
  };
});
afterAll(async () => {
  await simulator.close();
  await receiver.close();
});
beforeEach(() => simulator.setFaults([]));

const env = () => new MockActivityEnvironment({ startToCloseTimeoutMs: 5000, heartbeatTimeoutMs: 3000 });

function generate(activityDeps: ActivityDeps, activityEnv = env()): Promise<ChatCompletionAnswer> {
  return activityEnv.run(createActivities(activityDeps).generateCheckedFeedback, CHECKED_INPUT);
}

function deliver(input: DeliverInput): Promise<void> {
  return env().run(createActivities(deps).deliverResult, input);
}

async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof ApplicationFailure))
    throw new Error(`expected an ApplicationFailure, got ${String(err)}`);
  return err;
}

describe('generateCheckedFeedback: the vLLM call', () => {
  it('returns the answer and token usage of vLLM', async () => {
    const answer = await generate(deps);
    expect(answer.text).toContain('플로깅 하기');
    expect(answer.usage?.completionTokens).toBeGreaterThan(0);
  });

  it('raises a retryable failure for a 500 in the flat error shape', async () => {
    simulator.setFaults([{ kind: 'error500', count: 1 }]);
    const failure = await failureOf(generate(deps));
    expect(failure.type).toBe(FailureTypes.VllmUnavailable);
    expect(failure.nonRetryable).toBe(false);
    expect(failure.message).toMatch(/^vLLM answered 500: /);
  });

  it('raises a non-retryable failure for a 400 in the nested error shape, a retryable one for an unknown model (a configuration outage)', async () => {
    simulator.setFaults([{ kind: 'error400', count: 1 }]);
    const bad = await failureOf(generate(deps));
    expect(bad).toMatchObject({ type: FailureTypes.VllmRejected, nonRetryable: true });
    const notFound = await failureOf(
      generate({ ...deps, vllm: { ...deps.vllm, model: 'no-such-model', maxModelLen: 8192 } }),
    );
    expect(notFound).toMatchObject({ type: FailureTypes.VllmMisconfigured, nonRetryable: false });
    expect(notFound.message).toMatch(/^vLLM configuration error \(model-not-found\): vLLM answered 404/);
  });

  it('raises a retryable failure when vLLM is unreachable', async () => {
    const down = createActivities({
      ...deps,
      vllm: { ...deps.vllm, chatCompletionsUrl: 'http://127.0.0.1:1/v1/chat/completions' },
    });
    const failure = await failureOf(env().run(down.generateCheckedFeedback, CHECKED_INPUT));
    expect(failure).toMatchObject({ type: FailureTypes.VllmUnavailable, nonRetryable: false });
  });

  it('heartbeats while waiting and aborts the HTTP request when cancelled, freeing the vLLM slot', async () => {
    simulator.setFaults([{ kind: 'hang', count: 1 }]);
    const activityEnv = env();
    let heartbeats = 0;
    activityEnv.on('heartbeat', () => heartbeats++);
    const running = generate(deps, activityEnv);
    const outcome = running.then(
      () => 'completed',
      () => 'cancelled',
    );
    // Waiting: the request holds a vLLM slot and the activity has heartbeated again since its first
    // heartbeat (every heartbeatTimeout/3 = 1 s).
    const waiting = await eventually(
      async () => ({ running: simulator.stats().running, heartbeats }),
      (w) => w.running === 1 && w.heartbeats > 1,
      15_000,
      20,
    );
    expect(waiting.heartbeats).toBeGreaterThan(1);
    expect(waiting.running).toBe(1);
    activityEnv.cancel();
    expect(await outcome).toBe('cancelled');
    // The aborted HTTP request frees the slot (the simulator sees the connection close).
    const stillRunning = await eventually(
      async () => simulator.stats().running,
      (n) => n === 0,
      5_000,
      20,
    );
    expect(stillRunning).toBe(0);
  });
});

describe('generateCheckedFeedback: prompt and guardrail', () => {
  const generateChecked = (activityDeps = deps): Promise<CheckedFeedback> =>
    env().run(createActivities(activityDeps).generateCheckedFeedback, CHECKED_INPUT);
  /** The prompt of the simulator's latest request. */
  const lastPrompt = async () => {
    const records = (await (await fetch(`${deps.vllm.baseUrl}/sim/requests`)).json()) as { prompt: string }[];
    return records.at(-1)?.prompt ?? '';
  };

  it('builds the prompt from the request, asks vLLM and passes a good answer with its verdict', async () => {
    const answer = await generateChecked();
    expect(answer.text).toContain('플로깅 하기');
    expect(answer.usage?.promptTokens).toBeGreaterThan(0);
    expect(answer.verdict).toEqual({ ok: true, text: answer.text.trim() });
    // The prompt that reached vLLM is the configured template's, with the member's data.
    const seen = await lastPrompt();
    expect(seen).toContain('개인 챌린지:');
    expect(seen).toContain('플로깅 하기');
  });

  it('returns a rejecting verdict (not an error) for an answer the guardrail refuses', async () => {
    simulator.setFaults([{ kind: 'english', count: 1 }]);
    const english = await generateChecked();
    expect(english.verdict).toMatchObject({ ok: false, reason: 'no-hangul' });
    simulator.setFaults([{ kind: 'echo', count: 1 }]);
    const echo = await generateChecked();
    expect(echo.verdict).toMatchObject({ ok: false, reason: 'echoes-prompt' });
  });

  it("uses the worker's prompt template", async () => {
    const template = '짧게 칭찬해 주세요.\n{personal_challenges}\n{group_challenges}';
    await generateChecked({ ...deps, promptTemplate: template });
    expect(await lastPrompt()).toMatch(/^짧게 칭찬해 주세요\.\n<data>\n- 플로깅 하기 \(성공\)\n<\/data>/);
  });
});

describe('deliverResult by callback', () => {
  it('posts the result to <base>/api/members/feedback/result with the Authorization and Idempotency-Key headers', async () => {
    await deliver({
      channel: 'callback',
      result: RESULT,
      idempotencyKey: 'feedback-r-1',
      deduplicationId: 'run-1',
    });
    const attempt = receiver.attempts().at(-1);
    expect(attempt).toMatchObject({
      path: '/api/members/feedback/result',
      idempotencyKey: 'feedback-r-1',
      authorization: 'Bearer be-secret',
      status: 200,
    });
    expect(attempt?.body).toEqual(RESULT);
  });

  it('raises a retryable failure on 503 and a non-retryable one on 400, without the token in the message', async () => {
    receiver.failNext(1, 503);
    const unavailable = await failureOf(
      deliver({ channel: 'callback', result: RESULT, idempotencyKey: 'k2', deduplicationId: 'run-2' }),
    );
    expect(unavailable).toMatchObject({ type: FailureTypes.DeliveryUnavailable, nonRetryable: false });
    receiver.failNext(1, 400);
    const rejected = await failureOf(
      deliver({ channel: 'callback', result: RESULT, idempotencyKey: 'k3', deduplicationId: 'run-3' }),
    );
    expect(rejected).toMatchObject({ type: FailureTypes.DeliveryRejected, nonRetryable: true });
    expect(`${unavailable.message} ${rejected.message}`).not.toContain('be-secret');
  });

  it("treats the BE's 409 (that member's week is stored already) as delivered", async () => {
    receiver.failNext(1, 409);
    await expect(
      deliver({ channel: 'callback', result: RESULT, idempotencyKey: 'k4', deduplicationId: 'run-4' }),
    ).resolves.toBeUndefined();
    expect(receiver.attempts().at(-1)?.status).toBe(409);
  });

  it("retries the BE's 404, which it answers for any unexpected exception too", async () => {
    receiver.failNext(1, 404);
    const failure = await failureOf(
      deliver({ channel: 'callback', result: RESULT, idempotencyKey: 'k5', deduplicationId: 'run-5' }),
    );
    expect(failure).toMatchObject({ type: FailureTypes.DeliveryUnavailable, nonRetryable: false });
    expect(failure.message).toMatch(/^callback answered 404/);
  });
});

describe('deliverResult to the result queue', () => {
  it("sends the result in the member's group with the run's deduplication id", async () => {
    const sent: unknown[] = [];
    const sqs = { send: async (command: { input: unknown }) => void sent.push(command.input) };
    const queueDeps: ActivityDeps = {
      ...deps,
      resultQueueUrl: 'http://sqs.local/000000000000/results.fifo',
      sqs: sqs as unknown as SQSClient, // only send() is used
    };
    await env().run(createActivities(queueDeps).deliverResult, {
      channel: 'queue' as const,
      result: RESULT,
      idempotencyKey: 'feedback-r-1',
      deduplicationId: 'run-id-1',
    });
    expect(sent).toEqual([
      {
        QueueUrl: 'http://sqs.local/000000000000/results.fifo',
        MessageBody: JSON.stringify(RESULT),
        MessageGroupId: '7',
        MessageDeduplicationId: 'run-id-1',
      },
    ]);
  });
});

describe('signed callbacks', () => {
  it('carry X-Leafresh-Timestamp and X-Leafresh-Signature that a BE verifies over the raw body', async () => {
    const secret = 'b'.repeat(40);
    const signing = createBeDouble({ members: 'any', signingSecret: secret });
    const base = await signing.listen(0);
    try {
      const signed: ActivityDeps = {
        ...deps,
        delivery: { ...deps.delivery, callbackBaseUrl: base, callbackSigningSecret: secret },
      };
      await env().run(createActivities(signed).deliverResult, {
        channel: 'callback' as const,
        result: RESULT,
        idempotencyKey: 'signed-1',
        deduplicationId: 'run-s1',
      });
      expect(signing.attempts()).toEqual([expect.objectContaining({ status: 200, signatureValid: true })]);

      // A worker with another secret is refused by this BE (401: not retried).
      const wrong: ActivityDeps = {
        ...deps,
        delivery: { ...deps.delivery, callbackBaseUrl: base, callbackSigningSecret: 'c'.repeat(40) },
      };
      const refused = await failureOf(
        env().run(createActivities(wrong).deliverResult, {
          channel: 'callback' as const,
          result: RESULT,
          idempotencyKey: 'signed-2',
          deduplicationId: 'run-s2',
        }),
      );
      expect(refused).toMatchObject({ type: FailureTypes.DeliveryRejected, nonRetryable: true });
      expect(refused.message).not.toContain('c'.repeat(40));
    } finally {
      await signing.close();
    }
  });
});
