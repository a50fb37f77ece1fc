/**
 * Operability on the real local stack: the status API in every stage it can be caught in (validating
 * lasts a local activity; its mapping is covered in test/run/status-view.test.ts), metrics that move
 * after a request, and the operator CLI (status, list, retry, redeliver, dlq list/redrive).
 */
import { randomUUID } from 'node:crypto';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { createApp } from '../../src/api/app';
import { DEFAULT_PROMPT_VERSION } from '../../src/domain/prompt';
import { ExitCodes } from '../../src/cli/feedback';
import { lookupFeedbackStatus, type FeedbackStatusView } from '../../src/run/status';
import { createLogger } from '../../src/shared/logger';
import { DLQ_ATTRIBUTES } from '../../src/shared/sqs';
import { acceptedRequest } from '../support/accepted';
import { runCliCaptured } from '../support/cli';
import { messageCount } from '../support/sqs-bridge';
import { NO_AUTH } from '../support/config';
import { startPipeline, workflowResult, type Pipeline } from '../support/pipeline';
import { freshQueues, testStack, useLocalAwsCredentials, webUiSetting } from '../support/stack';

jest.setTimeout(120_000);

let pipeline: Pipeline;

let restoreCredentials: () => void = () => undefined;

beforeAll(async () => {
  restoreCredentials = useLocalAwsCredentials();
  pipeline = await startPipeline('ops', 'both', { collectDeadLetters: false });
}, 120_000);

afterAll(async () => {
  await pipeline?.stop();
  restoreCredentials();
});

interface Envelope<T> {
  status: number;
  message: string;
  data: T;
}

async function post(
  memberId: number,
  title = '텀블러 사용하기',
): Promise<{ requestId: string; workflowId: string }> {
  const response = await fetch(`${pipeline.apiUrl}/ai/feedback`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ memberId, personalChallenges: [{ id: 1, title, isSuccess: true }] }),
  });
  return await acceptedRequest(response);
}

async function status(requestId: string): Promise<{ code: number; body: Envelope<FeedbackStatusView> }> {
  const response = await fetch(`${pipeline.apiUrl}/ai/feedback/${requestId}`);
  return { code: response.status, body: (await response.json()) as Envelope<FeedbackStatusView> };
}

/** Polls the status API until `predicate` holds (or fails with the last view). */
async function statusUntil(
  requestId: string,
  predicate: (view: FeedbackStatusView) => boolean,
  timeoutMs = 30_000,
): Promise<FeedbackStatusView> {
  const deadline = Date.now() + timeoutMs;
  let last: FeedbackStatusView | undefined;
  while (Date.now() < deadline) {
    const { code, body } = await status(requestId);
    if (code === 200) {
      last = body.data;
      if (predicate(last)) return last;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`status never matched; last: ${JSON.stringify(last)}`);
}

function cliEnv(): NodeJS.ProcessEnv {
  const stack = testStack();
  return {
    TEMPORAL_ADDRESS: stack.temporalAddress,
    ...webUiSetting(stack),
    TEMPORAL_TASK_QUEUE: pipeline.taskQueue,
    AWS_ENDPOINT_URL_SQS: stack.sqsEndpoint,
    AWS_SQS_FEEDBACK_QUEUE_URL: pipeline.queues.requestQueueUrl,
    AWS_SQS_FEEDBACK_DLQ_URL: pipeline.queues.dlqUrl,
    AWS_SQS_FEEDBACK_RESULT_QUEUE_URL: pipeline.queues.resultQueueUrl,
    DELIVERY_MODE: 'both',
    BE_CALLBACK_BASE_URL: pipeline.config.delivery.callbackBaseUrl,
    LOG_LEVEL: 'silent',
  };
}

const cli = (...args: string[]) => runCliCaptured(args, cliEnv());

const member = () => 100_000 + Math.floor(Math.random() * 800_000);
const metricValue = (text: string, line: RegExp) => Number(line.exec(text)?.[1] ?? 0);

describe('GET /ai/feedback/:requestId', () => {
  it('answers 404 for an unknown request and 400 for something that is not a request id', async () => {
    const unknown = await status(randomUUID());
    expect(unknown.code).toBe(404);
    expect(unknown.body).toMatchObject({ status: 404, data: null });
    const bad = await fetch(`${pipeline.apiUrl}/ai/feedback/${encodeURIComponent('bad id!')}`);
    expect(bad.status).toBe(400);
  });

  it('reports a request the API accepted but no bridge started yet as queued, not 404', async () => {
    // An API on a queue that no bridge reads: the request stays queued.
    const queues = await freshQueues(pipeline.sqs, 'ops-queued');
    const app = createApp({
      sqs: pipeline.sqs,
      requestQueueUrl: queues.requestQueueUrl,
      logger: createLogger('ops-queued', 'silent'),
      sqsTimeoutMs: 3000,
      status: (id) => lookupFeedbackStatus(pipeline.temporal, id, { temporal: pipeline.config.temporal }),
      auth: NO_AUTH,
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    try {
      const accepted = await fetch(`${url}/ai/feedback`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ memberId: 5, personalChallenges: [{ id: 1, title: 'x', isSuccess: true }] }),
      });
      const { requestId } = await acceptedRequest(accepted);
      const response = await fetch(`${url}/ai/feedback/${requestId}`);
      expect(response.status).toBe(200);
      expect(((await response.json()) as Envelope<FeedbackStatusView>).data).toMatchObject({
        requestId,
        stage: 'queued',
        workflowStatus: 'NOT_STARTED',
        memberId: 5,
      });
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('follows a request through generating and delivering to delivered, with attempts and the last error', async () => {
    pipeline.simulator.setFaults([{ kind: 'slow', count: 1, slowMs: 4000 }]);
    const { requestId, workflowId } = await post(member());
    const generating = await statusUntil(requestId, (v) => v.stage === 'generating');
    expect(generating).toMatchObject({ workflowId, workflowStatus: 'RUNNING', attempts: { generations: 0 } });
    expect(generating.webUiUrl).toContain(`/workflows/${workflowId}/`);
    expect(generating.summary).toMatchObject({
      source: 'api',
      personalChallenges: 1,
      promptVersion: DEFAULT_PROMPT_VERSION,
    });

    // The callback refuses the first three attempts: the run waits in delivering, retrying.
    pipeline.receiver.failNext(3, 503);
    const delivering = await statusUntil(
      requestId,
      (v) => v.stage === 'delivering' && (v.attempts.current?.attempt ?? 0) >= 2,
    );
    expect(delivering.attempts.current?.activity).toBe('deliverResult');
    expect(delivering.lastError).toMatch(/callback answered 503/);
    expect(delivering.attempts.generations).toBe(1);

    await workflowResult(pipeline.temporal, workflowId);
    const delivered = await statusUntil(requestId, (v) => v.stage === 'delivered');
    expect(delivered.workflowStatus).toBe('COMPLETED');
    expect(delivered.content).toMatch(/[\uAC00-\uD7A3]/);
    expect(delivered.closedAt).toBeDefined();
  });

  it('reports a terminal generation failure as failed with the "500" the BE received', async () => {
    pipeline.simulator.setFaults([{ kind: 'error400', count: 1 }]);
    const { requestId } = await post(member());
    const failed = await statusUntil(requestId, (v) => v.workflowStatus === 'FAILED');
    expect(failed).toMatchObject({ workflowStatus: 'FAILED', content: '500' });
    expect(failed.lastError).toMatch(/vLLM answered 400/);
  });
});

describe('metrics', () => {
  it('count the API request and the bridge start it caused', async () => {
    const apiBefore = await (await fetch(`${pipeline.apiUrl}/metrics`)).text();
    const accepted =
      /feedback_api_requests_total\{method="POST",route="\/ai\/feedback",status="202"[^}]*\} (\d+)/;
    const startedLine = /feedback_bridge_workflows_started_total\{[^}]*\} (\d+)/;
    const startedBefore = metricValue(await pipeline.bridgeRegistry.metrics(), startedLine);

    const { workflowId } = await post(member());
    await workflowResult(pipeline.temporal, workflowId);

    const apiAfter = await (await fetch(`${pipeline.apiUrl}/metrics`)).text();
    expect(metricValue(apiAfter, accepted)).toBe(metricValue(apiBefore, accepted) + 1);
    expect(apiAfter).toMatch(/feedback_api_request_duration_seconds_bucket\{[^}]*route="\/ai\/feedback"/);
    expect(apiAfter).toMatch(/process_cpu_seconds_total/);
    const bridgeAfter = await pipeline.bridgeRegistry.metrics();
    expect(metricValue(bridgeAfter, startedLine)).toBeGreaterThanOrEqual(startedBefore + 1);
    expect(bridgeAfter).toMatch(/feedback_bridge_receive_lag_seconds_count\{[^}]*\} [1-9]/);
  });

  it('/ready answers 200 with SQS reachable (all the API needs to accept requests)', async () => {
    const response = await fetch(`${pipeline.apiUrl}/ready`);
    expect(response.status).toBe(200);
    expect(((await response.json()) as Envelope<unknown>).data).toEqual({
      ready: true,
      checks: { sqs: 'ok' },
    });
  });
});

describe('operator CLI', () => {
  it('status prints the stage and the Web UI link; exit 3 for an unknown request', async () => {
    const { requestId, workflowId } = await post(member());
    await workflowResult(pipeline.temporal, workflowId);
    const shown = await cli('status', requestId);
    expect(shown.code).toBe(ExitCodes.ok);
    expect(shown.out).toMatch(/^stage +delivered$/m);
    expect(shown.out).toContain(`/workflows/${workflowId}/`);

    const json = await cli('status', requestId, '--json');
    expect(JSON.parse(json.out)).toMatchObject({ requestId, stage: 'delivered' });

    const unknown = await cli('status', randomUUID());
    expect(unknown.code).toBe(ExitCodes.notFound);
    expect(unknown.err).toMatch(/no run for/);
  });

  it("list finds a member's failed requests, retry runs one again, redeliver sends a result again", async () => {
    const memberId = member();
    pipeline.simulator.setFaults([{ kind: 'error400', count: 1 }]);
    const failed = await post(memberId, '대중교통 이용하기');
    await statusUntil(failed.requestId, (v) => v.workflowStatus === 'FAILED');
    const ok = await post(memberId, '분리수거 하기');
    await workflowResult(pipeline.temporal, ok.workflowId);

    // Visibility is updated asynchronously: poll until both runs are listed as closed (a run listed
    // while its close is not yet visible would be missing from the --stage queries below).
    let listed: Array<{ requestId: string; stage: string }> = [];
    const settled = () =>
      listed.length === 2 && listed.every((r) => r.stage === 'failed' || r.stage === 'delivered');
    for (let i = 0; i < 50 && !settled(); i++) {
      listed = JSON.parse((await cli('list', '--member', String(memberId), '--json')).out) as typeof listed;
      if (!settled()) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(listed.map((r) => r.requestId).sort()).toEqual([failed.requestId, ok.requestId].sort());
    const onlyFailed = JSON.parse(
      (await cli('list', '--member', String(memberId), '--stage', 'failed', '--json')).out,
    ) as Array<{ requestId: string }>;
    expect(onlyFailed.map((r) => r.requestId)).toEqual([failed.requestId]);
    // The completed run never upserted `delivered` (lean-history-v2): listed as delivered by its status.
    const onlyDelivered = JSON.parse(
      (await cli('list', '--member', String(memberId), '--stage', 'delivered', '--json')).out,
    ) as Array<{ requestId: string; stage: string }>;
    expect(onlyDelivered).toEqual([expect.objectContaining({ requestId: ok.requestId, stage: 'delivered' })]);

    // retry: refused for the completed request (exit 4), a new run for the failed one.
    expect((await cli('retry', ok.requestId)).code).toBe(ExitCodes.refused);
    const retried = await cli('retry', failed.requestId);
    expect(retried.code).toBe(ExitCodes.ok);
    expect(retried.out).toMatch(/^retried: /);
    await workflowResult(pipeline.temporal, failed.workflowId);
    const after = await statusUntil(failed.requestId, (v) => v.stage === 'delivered');
    expect(after.content).toMatch(/[\uAC00-\uD7A3]/);

    // redeliver: the stored content goes to the callback and the result queue again, under new keys.
    // The BE (double) files one feedback per member and week, so it answers the repeat with 409.
    const reachedBe = () =>
      pipeline.receiver
        .attempts()
        .filter((a) => a.week !== undefined && (a.body as { requestId?: string }).requestId === ok.requestId);
    const callbacksBefore = reachedBe().length;
    const redelivered = await cli('redeliver', ok.requestId);
    expect(redelivered.code).toBe(ExitCodes.ok);
    expect(redelivered.out).toMatch(/^redelivered: .* callback \+ queue/);
    const callbacks = reachedBe();
    expect(callbacks).toHaveLength(callbacksBefore + 1);
    expect(callbacks[callbacks.length - 1].status).toBe(409);
    const contents = callbacks.map((a) => (a.body as { content: string }).content);
    expect(contents[contents.length - 1]).toBe(contents[0]);
    const queued = await pipeline.results.waitFor(
      (m) => (JSON.parse(m.Body ?? '{}') as { requestId?: string }).requestId === ok.requestId,
      2,
    );
    expect(queued).toHaveLength(2);
  });

  it('dlq list shows why each message is there; dlq redrive moves them back and the valid one runs once', async () => {
    const memberId = member();
    // Runs of this test only (a test stack left up keeps earlier runs, perhaps of the same member).
    const since = new Date().toISOString();
    const valid = JSON.stringify({
      memberId,
      personalChallenges: [{ id: 9, title: '장바구니 사용', isSuccess: true }],
    });
    // A valid request that SQS dead-lettered (e.g. after Temporal was down for maxReceiveCount receives),
    // and a poison message the bridge dead-lettered with its reason.
    await pipeline.sqs.send(
      new SendMessageCommand({
        QueueUrl: pipeline.queues.dlqUrl,
        MessageBody: valid,
        MessageGroupId: 'feedback-request',
        MessageDeduplicationId: randomUUID(),
      }),
    );
    await pipeline.sqs.send(
      new SendMessageCommand({
        QueueUrl: pipeline.queues.dlqUrl,
        MessageBody: 'not json',
        MessageGroupId: 'poison',
        MessageDeduplicationId: randomUUID(),
        MessageAttributes: {
          [DLQ_ATTRIBUTES.reason]: { DataType: 'String', StringValue: 'body is not valid JSON' },
        },
      }),
    );

    const listed = await cli('dlq', 'list');
    expect(listed).toMatchObject({ code: ExitCodes.ok, err: '' });
    expect(listed.out).toMatch(/reason: body is not valid JSON/);
    expect(listed.out).toMatch(/reason: moved by SQS after too many receives/);
    expect(listed.out).toMatch(/2 message\(s\)/);

    const dry = await cli('dlq', 'redrive', '--dry-run');
    expect(dry.out).toMatch(/2 would move, 0 failed/);

    const moved = await cli('dlq', 'redrive');
    expect(moved.code).toBe(ExitCodes.ok);
    expect(moved.out).toMatch(/2 moved, 0 failed/);

    // The valid request is delivered once; the poison message is back in the DLQ with the bridge's reason.
    const deliveredOnce = await pipeline.receiver
      .waitForAccepted(1, 30_000)
      .then(() =>
        waitUntil(() => pipeline.receiver.accepted().filter((r) => r.memberId === memberId).length === 1),
      );
    expect(deliveredOnce).toBe(true);
    const back = await waitUntil(async () => {
      const out = (await cli('dlq', 'list', '--json')).out;
      const entries = JSON.parse(out) as Array<{ body: string; reason: string }>;
      return entries.length === 1 && entries[0].body === 'not json' && /JSON/i.test(entries[0].reason);
    });
    expect(back).toBe(true);
    // Runs once: with the request queue empty the bridge has nothing left to start, and once the
    // member's runs are closed nothing more is delivered; then one run and one accepted callback.
    const drained = await waitUntil(
      async () => (await messageCount(pipeline.sqs, pipeline.queues.requestQueueUrl)) === 0,
    );
    expect(drained).toBe(true);
    let runs: Array<{ workflowId: string; status: string }> = [];
    const closed = await waitUntil(async () => {
      runs = [];
      for await (const run of pipeline.temporal.workflow.list({
        query: `MemberId = ${memberId} AND StartTime >= '${since}'`,
      }))
        runs.push({ workflowId: run.workflowId, status: run.status.name });
      return runs.length > 0 && runs.every((run) => run.status !== 'RUNNING');
    });
    expect(closed).toBe(true);
    expect(runs).toEqual([{ workflowId: expect.any(String), status: 'COMPLETED' }]);
    expect(pipeline.receiver.accepted().filter((r) => r.memberId === memberId)).toHaveLength(1);
  });
});

async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs = 30_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return false;
}
