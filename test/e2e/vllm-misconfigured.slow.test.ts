/**
 * Slow tier (a real minute, waited beside be-identity.slow's window): a wrong VLLM_MODEL is the
 * deployment's outage, not the requests' fault. The bridge and a worker run as real processes; the
 * worker names a model the vLLM simulator does not serve (vLLM answers 404). For a minute no result
 * reaches the BE (no status code), the worker counts the cause and /ready names it; a worker restarted
 * with the right name then delivers every waiting request with real feedback.
 */
import { randomUUID } from 'node:crypto';
import {
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { FeedbackQueues } from '../../src/shared/sqs';
import { createVllmSimulator, type VllmSimulator } from '../../dev/vllm-simulator';
import { eventually } from '../support/eventually';
import { beBody } from '../support/pipeline';
import { serviceEnv, spawnEntryPoint, type EntryPoint } from '../support/processes';
import { freshQueues, testSqsClient } from '../support/stack';
import { releaseAll } from '../support/teardown';

const MINUTE = 60_000;
/** How long the wrong model must produce nothing for the BE. */
const OUTAGE_MS = MINUTE;
const STATUS_CODE = /^[45][0-9][0-9]$/;
const CONFIG_ERRORS = /^feedback_vllm_config_errors_total\{[^}]*cause="model-not-found"[^}]*\} ([0-9.e+]+)$/m;

jest.setTimeout(6 * MINUTE);

let sqs: SQSClient;
let simulator: VllmSimulator;
let queues: FeedbackQueues;
let env: Record<string, string>;
const children: EntryPoint[] = [];

const healthUrl = async (child: EntryPoint) =>
  `http://127.0.0.1:${(await child.waitForLog('Health server listening', 60_000)).port as number}`;

function start(entry: string, overrides: Record<string, string> = {}): EntryPoint {
  const child = spawnEntryPoint(entry, { ...env, ...overrides });
  children.push(child);
  return child;
}

beforeAll(async () => {
  sqs = testSqsClient();
  simulator = createVllmSimulator({ maxNumSeqs: 4, latencyMs: 50 });
  const vllmUrl = (await simulator.listen(0)).url;
  queues = await freshQueues(sqs, 'vllm-misconfigured');
  env = serviceEnv(queues, { VLLM_API_URL: vllmUrl, BRIDGE_WAIT_TIME_SECONDS: '1' });
}, 60_000);

afterAll(() =>
  releaseAll([
    ['kill the processes', () => Promise.all(children.map((c) => c.kill()))],
    ['close the vLLM simulator', () => simulator?.close()],
    ['destroy the SQS client', () => sqs?.destroy()],
  ]),
);

/** Result messages that arrive within `ms` (each received one is deleted). */
async function resultsWithin(ms: number, until: (all: Message[]) => boolean): Promise<Message[]> {
  const all: Message[] = [];
  const deadline = Date.now() + ms;
  while (Date.now() < deadline && !until(all)) {
    const out = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queues.resultQueueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: Math.max(1, Math.min(5, Math.floor((deadline - Date.now()) / 1000))),
      }),
    );
    for (const m of out.Messages ?? []) {
      all.push(m);
      await sqs.send(
        new DeleteMessageCommand({ QueueUrl: queues.resultQueueUrl, ReceiptHandle: m.ReceiptHandle }),
      );
    }
  }
  return all;
}

it('holds the requests of a worker with a wrong model, never sends a status code, and delivers once fixed', async () => {
  const bridge = start('src/sqs-bridge/main.ts');
  const wrong = start('src/worker/main.ts', { VLLM_MODEL: 'mistralai/No-Such-Model' });
  const workerUrl = await healthUrl(wrong);
  await Promise.all([wrong.waitForLog('Worker running', 60_000), healthUrl(bridge)]);

  const members = [1, 2, 3].map((i) => 5_000_000 + Math.floor(Math.random() * 900_000) * 10 + i);
  for (const memberId of members)
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: queues.requestQueueUrl,
        MessageBody: beBody(memberId, '텀블러 사용하기'),
        MessageGroupId: 'feedback-request',
        MessageDeduplicationId: randomUUID(),
      }),
    );

  // The cause is counted and named while it lasts.
  const counted = await eventually(
    async () => Number(CONFIG_ERRORS.exec(await (await fetch(`${workerUrl}/metrics`)).text())?.[1] ?? 0),
    (n) => n >= 1,
    30_000,
    500,
  );
  expect(counted).toBeGreaterThanOrEqual(1);
  const ready = await fetch(`${workerUrl}/ready`);
  expect(ready.status).toBe(503);
  expect(JSON.stringify(await ready.json())).toContain('model-not-found');

  // A minute of the outage: nothing reaches the BE, no status code above all.
  expect(await resultsWithin(OUTAGE_MS, () => false)).toEqual([]);

  // The fix: the worker restarted with the served model's name delivers every waiting request.
  wrong.signal('SIGTERM');
  await wrong.exited;
  const right = start('src/worker/main.ts');
  await right.waitForLog('Worker running', 60_000);
  const results = await resultsWithin(4 * MINUTE, (all) => all.length >= members.length);
  const bodies = results.map((m) => JSON.parse(m.Body ?? '{}') as { memberId: number; content: string });
  expect(bodies.map((b) => b.memberId).sort()).toEqual([...members].sort());
  for (const b of bodies) expect(b.content).not.toMatch(STATUS_CODE);
});
