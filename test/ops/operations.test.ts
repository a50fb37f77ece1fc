/**
 * Operator actions on a held run and on a failure, on the time-skipping server: retry and redeliver
 * say why they refuse a run that is holding its failure result; a failure is redelivered like the
 * first run delivered it (result queue only, after the hold); a retry keeps the send time.
 */
import { randomUUID } from 'node:crypto';
import { ApplicationFailure, defaultPayloadConverter, WorkflowIdReusePolicy } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { checkedGeneration, type DeliverInput, type FeedbackActivities } from '../../src/activities';
import type { AppConfig } from '../../src/config';
import { validateFeedbackRequest } from '../../src/domain/request';
import {
  FailureTypes,
  statusQuery,
  type FeedbackWorkflowInput,
  type RedeliverInput,
} from '../../src/domain/workflow';
import { OperationError, redeliverFeedback, retryFeedback, runInput } from '../../src/ops/operations';
import { startFeedbackWorkflow } from '../../src/run/start';
import { registerSearchAttributes } from '../../scripts/record-histories';
import { eventually } from '../support/eventually';
import { zoneWithoutTurnSoon } from '../support/zones';
import { fixtureJson } from '../support/fixtures';
import { testConfig } from '../support/stack';
import { createTimeSkippingEnv, workflowBundle } from '../support/temporal';

const KOREAN_FEEDBACK = '하루 30분 걷기를 멋지게 해냈어요! 🌱 텀블러는 다음 주에 다시 도전해봐요.';
const HOLD_SECONDS = 330;

let env: TestWorkflowEnvironment | undefined;
beforeAll(async () => {
  env = await createTimeSkippingEnv();
  // A retry starts as the bridge does, with the search attributes.
  await registerSearchAttributes(env);
}, 120_000);
afterAll(async () => {
  await env?.teardown();
});

function temporalEnv(): TestWorkflowEnvironment {
  if (!env) throw new Error('the time-skipping server did not start');
  return env;
}

function configFor(taskQueue: string, mode: 'queue' | 'callback' | 'both' = 'queue'): AppConfig {
  return testConfig({
    TEMPORAL_TASK_QUEUE: taskQueue,
    // Generation on the same task queue: one worker serves the run.
    LLM_TASK_QUEUE: taskQueue,
    DELIVERY_MODE: mode,
    BE_CALLBACK_BASE_URL: 'http://127.0.0.1:1',
    AWS_SQS_FEEDBACK_RESULT_QUEUE_URL: 'http://127.0.0.1:1/000000000000/results.fifo',
    FEEDBACK_FAILURE_HOLD_SECONDS: String(HOLD_SECONDS),
    // The retry's acceptance time is the wall clock, which the skipped server time has left behind.
    REQUEST_MAX_AGE_MINUTES: '0',
  });
}

/** vLLM rejects the first `failures` calls, then answers; deliveries are recorded with the server's time. */
function activities(failures: number) {
  const delivered: Array<DeliverInput & { atMs: number }> = [];
  let calls = 0;
  const acts: FeedbackActivities = {
    generateCheckedFeedback: checkedGeneration(undefined, async () => {
      if (++calls <= failures) {
        throw ApplicationFailure.create({
          message: 'vLLM answered 400: prompt too long',
          type: FailureTypes.VllmRejected,
          nonRetryable: true,
        });
      }
      return { text: KOREAN_FEEDBACK };
    }),
    deliverResult: async (d: DeliverInput) => {
      delivered.push({ ...d, atMs: await temporalEnv().currentTimeMs() });
    },
    countEarlierFailures: async () => 0,
  };
  return { acts, delivered };
}

async function queueRequest(config: AppConfig, sentAtMs: number): Promise<FeedbackWorkflowInput> {
  const parsed = validateFeedbackRequest(fixtureJson('request-iso-dates.json'));
  if (!parsed.ok) throw new Error('fixture invalid');
  const { requestId: _r, timestamp: _t, ...request } = parsed.value;
  const sentAt = new Date(sentAtMs).toISOString();
  return {
    requestId: `${request.memberId}-${randomUUID()}`,
    request,
    requestedAt: sentAt,
    source: 'queue',
    policy: config.policy,
    acceptedAt: sentAt,
    sentAt,
  };
}

describe('operator actions and the failure hold', () => {
  it('refuse a held run with the reason, then redeliver its failure to the result queue only, and retry it with the send time kept', async () => {
    const { client, nativeConnection } = temporalEnv();
    const taskQueue = `ops-hold-${randomUUID()}`;
    const config = configFor(taskQueue);
    const { acts, delivered } = activities(1);
    const worker = await Worker.create({
      connection: nativeConnection,
      taskQueue,
      workflowBundle: await workflowBundle(),
      activities: acts,
    });
    await worker.runUntil(async () => {
      const sentAtMs = await temporalEnv().currentTimeMs();
      const input = await queueRequest(config, sentAtMs);
      const { workflowId, runId } = await startFeedbackWorkflow(client, input, {
        taskQueue,
        searchAttributes: false,
        reusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      });
      const handle = client.workflow.getHandle(workflowId, runId);
      // Time skips only while a result is awaited: until then the run stays in its hold.
      await eventually(
        () => handle.query(statusQuery),
        (status) => status.stage === 'holding',
      );

      const holdUntil = new Date(sentAtMs + HOLD_SECONDS * 1000).toISOString();
      for (const action of [
        () => retryFeedback(client, config, input.requestId),
        () => redeliverFeedback(client, config, input.requestId),
      ]) {
        const refusal = await action().catch((err: unknown) => err);
        expect(refusal).toBeInstanceOf(OperationError);
        expect((refusal as OperationError).code).toBe('refused');
        expect((refusal as OperationError).message).toContain(
          `holding its failure result "500" until ${holdUntil}`,
        );
        expect((refusal as OperationError).message).toMatch(/SQS deduplication/);
      }
      expect(delivered).toEqual([]);

      await handle.result().catch(() => undefined);
      expect(delivered.map((d) => [d.channel, d.result.content, d.deduplicationId])).toEqual([
        ['queue', '500', runId],
      ]);

      // A failure is not redelivered where the BE would store "500" as feedback.
      const callbackOnly = await redeliverFeedback(
        client,
        configFor(taskQueue, 'callback'),
        input.requestId,
      ).catch((err: unknown) => err);
      expect((callbackOnly as OperationError).message).toMatch(
        /only to the result queue .* use feedback retry/,
      );

      const redelivered = await redeliverFeedback(client, configFor(taskQueue, 'both'), input.requestId);
      expect(redelivered.channels).toEqual(['queue']);
      expect(delivered.map((d) => [d.channel, d.result.content])).toEqual([
        ['queue', '500'],
        ['queue', '500'],
      ]);
      expect(delivered[1].deduplicationId).toBe(redelivered.workflowId);

      const retried = await retryFeedback(client, config, input.requestId);
      await client.workflow.getHandle(workflowId, retried.runId).result();
      expect(delivered[2]).toMatchObject({ channel: 'queue', deduplicationId: retried.runId });
      expect(delivered[2].result.content).toBe(KOREAN_FEEDBACK);
      const retriedInput = await runInput(client, input.requestId, retried.runId);
      expect(retriedInput.sentAt).toBe(input.sentAt);
      expect(Date.parse(retriedInput.acceptedAt)).toBeGreaterThan(Date.parse(input.acceptedAt));
    });
  });

  it("redelivers a failure of a request that failed twice before not before its grown hold (the run's rule, counted by signature)", async () => {
    const { client, nativeConnection } = temporalEnv();
    const taskQueue = `ops-grown-${randomUUID()}`;
    const { acts, delivered } = activities(1);
    const worker = await Worker.create({
      connection: nativeConnection,
      taskQueue,
      workflowBundle: await workflowBundle(),
      activities: acts,
    });
    await worker.runUntil(async () => {
      const sentAtMs = await temporalEnv().currentTimeMs();
      // The BE's week does not turn within the hold (a cut hold is hold.test.ts's).
      const queueConfig = configFor(taskQueue);
      const beTimeZone = zoneWithoutTurnSoon(sentAtMs);
      const config = { ...queueConfig, policy: { ...queueConfig.policy, beTimeZone } };
      const signature = '7-9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08';
      const input = { ...(await queueRequest(config, sentAtMs)), signature };
      const { workflowId, runId } = await startFeedbackWorkflow(client, input, {
        taskQueue,
        searchAttributes: false,
        reusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      });
      // The run's own count (the worker's activity) found none: its "500" went out after its base hold.
      await client.workflow
        .getHandle(workflowId, runId)
        .result()
        .catch(() => undefined);
      expect(delivered).toHaveLength(1);

      // Visibility (injected) answers two other failures of the same signature.
      const queries: string[] = [];
      const visibility = Object.create(client) as typeof client;
      const workflow = Object.create(client.workflow) as typeof client.workflow;
      workflow.list = ((options?: { query?: string }) => {
        queries.push(options?.query ?? '');
        return (async function* () {
          yield* [{ workflowId: 'feedback-7-earlier-1' }, { workflowId: 'feedback-7-earlier-2' }];
        })();
      }) as unknown as typeof client.workflow.list;
      Object.defineProperty(visibility, 'workflow', { value: workflow });

      // Redelivered a little after the run ended, on the request's clock (the test server's has skipped on).
      const redelivered = await redeliverFeedback(visibility, config, input.requestId, {
        wait: false,
        now: () => sentAtMs + 400_000,
      });
      expect(queries).toHaveLength(1);
      expect(queries[0]).toContain(`RequestSignature = '${signature}'`);
      const handle = client.workflow.getHandle(redelivered.workflowId);
      const started = (await handle.fetchHistory()).events?.[0]?.workflowExecutionStartedEventAttributes;
      const redeliverInput = defaultPayloadConverter.fromPayload<RedeliverInput>(
        started?.input?.payloads?.[0] ?? {},
      );
      // 330 s × 4² after the send, not the 330 s of the first delivery.
      expect(redeliverInput.notBefore).toBe(new Date(sentAtMs + 5280_000).toISOString());
      await handle.result();
      expect(delivered.map((d) => d.result.content)).toEqual(['500', '500']);
    });
  });
});
