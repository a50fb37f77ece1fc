/**
 * The API with Temporal away: ready, accepting, status 503.
 * The bridge and the worker as real processes: their health ports answer /health, /ready and
 * /metrics, the metrics (the Temporal SDK's exporter plus our activity and vLLM instruments on the
 * worker) move after a request ran through both, and log lines carry the request's ids.
 */
import { randomUUID } from 'node:crypto';
import { ReceiveMessageCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { FeedbackQueues } from '../../src/shared/sqs';
import { createVllmSimulator, type VllmSimulator } from '../../dev/vllm-simulator';
import { serviceEnv, spawnEntryPoint, type EntryPoint } from '../support/processes';
import { freshQueues, testSqsClient } from '../support/stack';
import { acceptedRequest } from '../support/accepted';
import { fixtureJson } from '../support/fixtures';
import { releaseAll } from '../support/teardown';

jest.setTimeout(120_000);

let sqs: SQSClient;
let simulator: VllmSimulator;
let queues: FeedbackQueues;
let bridge: EntryPoint;
let worker: EntryPoint;
let bridgeUrl: string;
let workerUrl: string;

const healthUrl = async (child: EntryPoint) =>
  `http://127.0.0.1:${(await child.waitForLog('Health server listening', 60_000)).port as number}`;

beforeAll(async () => {
  sqs = testSqsClient();
  simulator = createVllmSimulator({ maxNumSeqs: 4, latencyMs: 50 });
  const vllmUrl = (await simulator.listen(0)).url;
  queues = await freshQueues(sqs, 'health');
  const env = serviceEnv(queues, {
    VLLM_API_URL: vllmUrl,
    BRIDGE_WAIT_TIME_SECONDS: '1',
  });
  bridge = spawnEntryPoint('src/sqs-bridge/main.ts', env);
  worker = spawnEntryPoint('src/worker/main.ts', env);
  [bridgeUrl, workerUrl] = await Promise.all([healthUrl(bridge), healthUrl(worker)]);
  await worker.waitForLog('Worker running', 60_000);
}, 120_000);

afterAll(() =>
  releaseAll([
    ['kill the bridge and the worker', () => Promise.all([bridge?.kill(), worker?.kill()])],
    ['close the vLLM simulator', () => simulator?.close()],
    ['destroy the SQS client', () => sqs?.destroy()],
  ]),
);

describe('API process with Temporal unreachable', () => {
  it('stays ready (accepting needs only SQS), accepts a request, and answers the status route with 503', async () => {
    // Its own queues: the bridge below counts the messages on the shared ones.
    const apiQueues = await freshQueues(sqs, 'health-api');
    const api = spawnEntryPoint(
      'src/api/main.ts',
      serviceEnv(apiQueues, { API_PORT: '0', TEMPORAL_ADDRESS: '127.0.0.1:1' }),
    );
    try {
      const url = `http://127.0.0.1:${(await api.waitForLog('API listening', 60_000)).port as number}`;
      const ready = await fetch(`${url}/ready`);
      expect(ready.status).toBe(200);
      expect(((await ready.json()) as { data: unknown }).data).toEqual({
        ready: true,
        checks: { sqs: 'ok' },
      });
      const accepted = await fetch(`${url}/ai/feedback`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ ...fixtureJson('request-iso-dates.json'), memberId: 4242 }),
      });
      const { requestId } = await acceptedRequest(accepted);
      // Not this process's queued record: ask for another request, which needs Temporal.
      const status = await fetch(`${url}/ai/feedback/${randomUUID()}`);
      expect(status.status).toBe(503);
      expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    } finally {
      await api.kill();
    }
  });
});

describe.each([
  ['bridge', () => bridgeUrl, { temporal: 'ok', sqs: 'ok' }],
  // The worker's vllm-config check fails only while vLLM refuses its configuration.
  ['worker', () => workerUrl, { temporal: 'ok', 'vllm-config': 'ok', sqs: 'ok' }],
])('%s health port', (_name, url, checks) => {
  it('answers /health and /ready (Temporal and SQS reachable)', async () => {
    const health = await fetch(`${url()}/health`);
    expect(health.status).toBe(200);
    const ready = await fetch(`${url()}/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ ready: true, checks });
    expect((await fetch(`${url()}/nothing`)).status).toBe(404);
  });
});

it('metrics of the bridge and the worker move after a request ran through both', async () => {
  const workerBefore = await (await fetch(`${workerUrl}/metrics`)).text();
  expect(workerBefore).toMatch(/^temporal_/m);
  expect(workerBefore).not.toMatch(
    /feedback_activity_outcomes_total\{[^}]*activityType="generateCheckedFeedback"/,
  );

  // BE-style messages are keyed by their body: a fresh member id makes it a new request.
  const memberId = 100_000 + Math.floor(Math.random() * 800_000);
  await sqs.send(
    new SendMessageCommand({
      QueueUrl: queues.requestQueueUrl,
      MessageBody: JSON.stringify({
        memberId,
        personalChallenges: [{ id: 1, title: '텀블러', isSuccess: true }],
      }),
      MessageGroupId: 'feedback-request',
      MessageDeduplicationId: randomUUID(),
    }),
  );
  // The result on the result queue means the whole run is done.
  const deadline = Date.now() + 60_000;
  let delivered = false;
  while (!delivered && Date.now() < deadline) {
    const out = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queues.resultQueueUrl,
        WaitTimeSeconds: 1,
        MaxNumberOfMessages: 1,
      }),
    );
    delivered = (out.Messages ?? []).some(
      (m) => (JSON.parse(m.Body ?? '{}') as { memberId?: number }).memberId === memberId,
    );
  }
  if (!delivered) {
    const logs = [...bridge.logs, ...worker.logs].map((l) => `${String(l.service)}: ${String(l.msg)}`);
    throw new Error(`not delivered; logs: ${JSON.stringify(logs).slice(0, 3000)}`);
  }

  const bridgeMetrics = await (await fetch(`${bridgeUrl}/metrics`)).text();
  expect(bridgeMetrics).toMatch(/^feedback_bridge_messages_received_total\{[^}]*\} 1$/m);
  expect(bridgeMetrics).toMatch(/^feedback_bridge_workflows_started_total\{[^}]*\} 1$/m);
  expect(bridgeMetrics).toMatch(/^feedback_bridge_dead_lettered_total\{[^}]*\} 0$/m);

  const workerAfter = await (await fetch(`${workerUrl}/metrics`)).text();
  expect(workerAfter).toMatch(
    /^feedback_activity_outcomes_total\{[^}]*activityType="generateCheckedFeedback"[^}]*outcome="success"[^}]*\} 1$/m,
  );
  expect(workerAfter).toMatch(
    /^feedback_activity_outcomes_total\{[^}]*activityType="deliverResult"[^}]*\} 1$/m,
  );
  expect(workerAfter).toMatch(
    /^feedback_vllm_request_duration_milliseconds_count\{[^}]*status="200"[^}]*\} 1$/m,
  );
  // The SDK's own metrics, by the same exporter.
  expect(workerAfter).toMatch(
    /^temporal_activity_execution_latency_milliseconds_count\{[^}]*activity_type="generateCheckedFeedback"[^}]*\} 1$/m,
  );
});

it('counts a run that failed for good in feedback_failures, by outcome and reason', async () => {
  // vLLM refuses the generation (400): an API request's "500" goes to the result queue at once.
  simulator.setFaults([{ kind: 'error400', count: 1 }]);
  const requestId = randomUUID();
  await sqs.send(
    new SendMessageCommand({
      QueueUrl: queues.requestQueueUrl,
      MessageBody: JSON.stringify({
        memberId: 100_000 + Math.floor(Math.random() * 800_000),
        personalChallenges: [{ id: 3, title: '장바구니', isSuccess: true }],
        requestId,
        timestamp: '2025-06-16T09:00:00+09:00',
      }),
      MessageGroupId: 'api',
      MessageDeduplicationId: requestId,
    }),
  );
  await worker.waitForLog('Feedback generation failed for good', 60_000);
  const counted = /^feedback_failures_total\{[^}]*outcome="delivered"[^}]*reason="generation"[^}]*\} 1$/m;
  const deadline = Date.now() + 30_000;
  let metrics = '';
  while (!counted.test(metrics) && Date.now() < deadline) {
    metrics = await (await fetch(`${workerUrl}/metrics`)).text();
    if (!counted.test(metrics)) await new Promise((resolve) => setTimeout(resolve, 250));
  }
  expect(metrics).toMatch(counted);
});

it('puts requestId, workflowId and memberId on the workflow log lines of a request', async () => {
  // An English answer fails the guardrail once: the workflow logs "Regenerating feedback".
  simulator.setFaults([{ kind: 'english', count: 1 }]);
  const memberId = 100_000 + Math.floor(Math.random() * 800_000);
  const body = JSON.stringify({
    memberId,
    personalChallenges: [{ id: 2, title: '분리수거', isSuccess: false }],
  });
  const sent = await sqs.send(
    new SendMessageCommand({
      QueueUrl: queues.requestQueueUrl,
      MessageBody: body,
      MessageGroupId: 'feedback-request',
      MessageDeduplicationId: randomUUID(),
    }),
  );
  const line = await worker.waitForLog('Regenerating feedback', 60_000);
  const requestId = `${memberId}-${sent.MessageId}`;
  expect(line).toMatchObject({ requestId, workflowId: `feedback-${requestId}`, memberId, level: 'warn' });
  const started = bridge.logs.find((l) => l.msg === 'Workflow started' && l.requestId === requestId);
  expect(started).toMatchObject({ workflowId: `feedback-${requestId}`, memberId });
});
