import { getEventListeners } from 'node:events';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { SqsBridge } from '../../src/sqs-bridge/bridge';
import { DLQ_ATTRIBUTES } from '../../src/shared/sqs';
import type { FeedbackQueues } from '../../src/shared/sqs';
import { eventually } from '../support/eventually';
import { fixtureJson, type BeQueueMessageFixture } from '../support/fixtures';
import {
  fakeTemporal,
  messageCount,
  receiveMessages,
  sendMessage,
  testBridge,
  validBody,
} from '../support/sqs-bridge';
import { freshQueues, testSqsClient } from '../support/stack';

let sqs: SQSClient;
beforeAll(() => {
  sqs = testSqsClient();
});
afterAll(() => sqs.destroy());

const bridge = (queues: FeedbackQueues, temporal: Client): SqsBridge => testBridge(sqs, queues, temporal);
const send = (queueUrl: string, body: string, dedupId: string, group?: string) =>
  sendMessage(sqs, queueUrl, body, dedupId, group);
const receive = (queueUrl: string, visibilityTimeout?: number) =>
  receiveMessages(sqs, queueUrl, visibilityTimeout);
const visibleCount = (queueUrl: string) => messageCount(sqs, queueUrl);

describe('SqsBridge', () => {
  it('starts a BE message as feedback-<memberId>-<MessageId>, dated by SentTimestamp, never reusing the id, and deletes it', async () => {
    const queues = await freshQueues(sqs, 'bridge-key');
    const fixture = fixtureJson<BeQueueMessageFixture>('be-queue-message.json');
    await send(queues.requestQueueUrl, fixture.MessageBody, 'be-dedup');
    const received = await receive(queues.requestQueueUrl);
    const messageId = received[0].MessageId;
    const sentAt = Number(received[0].Attributes?.SentTimestamp);
    const temporal = fakeTemporal(async () => undefined);
    const report = await bridge(queues, temporal.client).processBatch(received);

    expect(report).toMatchObject({ started: 1, failed: 0, deleteFailures: 0 });
    const call = temporal.calls[0];
    expect(call.workflowType).toBe('FeedbackWorkflow');
    expect(call.options.workflowId).toBe(`feedback-7-${messageId}`);
    // A redelivered message never starts a second run, not even after a failed one.
    expect(call.options.workflowIdReusePolicy).toBe('REJECT_DUPLICATE');
    expect(call.options.workflowIdConflictPolicy).toBe('FAIL');
    const input = call.options.args[0];
    // Its signature is the BE's deduplication id, as SQS reports it (signature.test.ts: unit level).
    expect(input).toMatchObject({ requestId: `7-${messageId}`, source: 'queue', signature: 'be-dedup' });
    expect(Date.parse(input.sentAt)).toBe(sentAt);
    expect(Date.parse(input.acceptedAt)).toBe(sentAt);
    expect(Date.parse(input.requestedAt)).toBe(sentAt);
    expect(await visibleCount(queues.requestQueueUrl)).toBe(0);
  });

  it('gives an identical body sent as a new message a new request id', async () => {
    const queues = await freshQueues(sqs, 'bridge-same-body');
    const body = validBody(8);
    // Two sends with different deduplication ids (the BE's next week, or after the 5-minute window).
    await send(queues.requestQueueUrl, body, 'week-1');
    await send(queues.requestQueueUrl, body, 'week-2');
    const temporal = fakeTemporal(async () => undefined);
    const b = bridge(queues, temporal.client);
    let received = await receive(queues.requestQueueUrl);
    while (received.length > 0) {
      await b.processBatch(received);
      received = await receive(queues.requestQueueUrl);
    }
    const ids = temporal.calls.map((c) => c.options.workflowId);
    expect(ids).toHaveLength(2);
    expect(new Set(ids).size).toBe(2);
    for (const id of ids) expect(id).toMatch(/^feedback-8-[0-9a-f-]{36}$/);
  });

  it("uses the API's requestId and timestamp when the body carries them", async () => {
    const queues = await freshQueues(sqs, 'bridge-api');
    const requestId = '3f1c2a9e-8d4b-4c6e-9a51-0b7e2f4d6c11';
    const body = JSON.stringify({
      ...JSON.parse(validBody(5)),
      requestId,
      timestamp: '2025-06-16T09:00:00+09:00',
    });
    await send(queues.requestQueueUrl, body, requestId, '5');
    const temporal = fakeTemporal(async () => undefined);
    await bridge(queues, temporal.client).processBatch(await receive(queues.requestQueueUrl));
    expect(temporal.calls[0].options.workflowId).toBe(`feedback-${requestId}`);
    expect(temporal.calls[0].options.args[0]).toMatchObject({
      requestId,
      requestedAt: '2025-06-16T09:00:00+09:00',
      source: 'api',
    });
  });

  it('treats "already started" as success and deletes the duplicate', async () => {
    const queues = await freshQueues(sqs, 'bridge-dup');
    await send(queues.requestQueueUrl, validBody(6), 'd1');
    const temporal = fakeTemporal(async (call) => {
      throw new WorkflowExecutionAlreadyStartedError(
        'already started',
        call.options.workflowId,
        call.workflowType,
      );
    });
    const report = await bridge(queues, temporal.client).processBatch(await receive(queues.requestQueueUrl));
    expect(report).toMatchObject({ started: 0, duplicates: 1, failed: 0 });
    expect(await visibleCount(queues.requestQueueUrl)).toBe(0);
  });

  it('keeps the message on the queue when Temporal is unreachable, so it is received again later', async () => {
    const queues = await freshQueues(sqs, 'bridge-down');
    await send(queues.requestQueueUrl, validBody(9), 'd1');
    const temporal = fakeTemporal(async () => {
      throw new Error('14 UNAVAILABLE: No connection established');
    });
    const report = await bridge(queues, temporal.client).processBatch(
      await receive(queues.requestQueueUrl, 1),
    );
    expect(report).toMatchObject({ started: 0, failed: 1 });
    // Back once the receive's 1 s visibility timeout has passed (each receive long-polls 1 s);
    // a deleted message never comes back, and the wait ends empty-handed.
    const again = await eventually(
      () => receive(queues.requestQueueUrl),
      (messages) => messages.length > 0,
      15_000,
      0,
    );
    expect(again).toHaveLength(1);
    expect(again[0].Attributes?.ApproximateReceiveCount).toBe('2');
  });

  it('moves an invalid body to the DLQ with the reason and deletes it from the request queue', async () => {
    const queues = await freshQueues(sqs, 'bridge-poison');
    await send(queues.requestQueueUrl, 'not json at all', 'p1');
    await send(
      queues.requestQueueUrl,
      JSON.stringify({ memberId: 1, personalChallenges: [], groupChallenges: [] }),
      'p2',
    );
    const temporal = fakeTemporal(async () => undefined);
    const report = await bridge(queues, temporal.client).processBatch(await receive(queues.requestQueueUrl));
    expect(report).toMatchObject({ deadLettered: 2, started: 0 });
    expect(temporal.calls).toHaveLength(0);
    expect(await visibleCount(queues.requestQueueUrl)).toBe(0);

    // The batch is handled in parallel, so the DLQ order is not the arrival order.
    const dead = await receive(queues.dlqUrl);
    const emptyLists = JSON.stringify({ memberId: 1, personalChallenges: [], groupChallenges: [] });
    const reasonOf = (body: string) =>
      dead.find((m) => m.Body === body)?.MessageAttributes?.[DLQ_ATTRIBUTES.reason]?.StringValue;
    expect(dead.map((m) => m.Body).sort()).toEqual([emptyLists, 'not json at all'].sort());
    expect(reasonOf('not json at all')).toMatch(/not valid JSON/);
    expect(reasonOf(emptyLists)).toMatch(/at least one of personalChallenges and groupChallenges/);
    for (const m of dead)
      expect(m.MessageAttributes?.[DLQ_ATTRIBUTES.sourceMessageId]?.StringValue).toBeTruthy();
  });

  it('counts failed entries of a partly failing batch delete without throwing', async () => {
    const queues = await freshQueues(sqs, 'bridge-delete');
    await send(queues.requestQueueUrl, validBody(11), 'a');
    await send(queues.requestQueueUrl, validBody(12), 'b');
    const messages = await receive(queues.requestQueueUrl);
    expect(messages).toHaveLength(2);
    messages[1] = { ...messages[1], ReceiptHandle: 'stale-receipt-handle' };
    const temporal = fakeTemporal(async () => undefined);
    const report = await bridge(queues, temporal.client).processBatch(messages);
    expect(report).toMatchObject({ started: 2, deleteFailures: 1 });
  });

  it('finishes the starts in hand when stopped, then stops polling', async () => {
    const queues = await freshQueues(sqs, 'bridge-stop');
    await send(queues.requestQueueUrl, validBody(13), 'a');
    let release!: () => void;
    const inFlight = new Promise<void>((resolve) => (release = resolve));
    let begun!: () => void;
    const startBegun = new Promise<void>((resolve) => (begun = resolve));
    const temporal = fakeTemporal(async () => {
      begun();
      await inFlight;
    });
    const b = bridge(queues, temporal.client);
    b.start();
    await startBegun;
    const stopped = b.stop();
    release();
    await stopped;
    expect(temporal.calls).toHaveLength(1);
    expect(await visibleCount(queues.requestQueueUrl)).toBe(0);
  });

  it('backs off through a long SQS outage without piling up abort listeners', async () => {
    const queues = await freshQueues(sqs, 'bridge-outage');
    let receives = 0;
    const unreachable = {
      send: async () => {
        receives++;
        throw new Error('connect ECONNREFUSED 127.0.0.1:1');
      },
    } as unknown as SQSClient;
    const b = testBridge(unreachable, queues, fakeTemporal(async () => undefined).client, {
      backoffMaxMs: 20,
    });
    b.start();
    // A long outage: more than 30 failed receives, each followed by a backoff sleep.
    await eventually(
      async () => receives,
      (n) => n > 30,
      15_000,
      10,
    );
    // The signal that stop() fires; each backoff sleep listens to it and must stop listening after.
    const { signal } = (b as unknown as { abort: AbortController }).abort;
    const listeners = getEventListeners(signal, 'abort').length;
    await b.stop();
    expect(receives).toBeGreaterThan(30);
    expect(listeners).toBeLessThanOrEqual(1);
  });
});
