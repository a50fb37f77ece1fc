/**
 * The bridge keeps the messages it has in hand invisible while Temporal is slow: with a visibility
 * timeout of 2 s and starts that take 3.5 s, another poller must not receive them meanwhile.
 */
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { createLogger } from '../../src/shared/logger';
import type { FeedbackQueues } from '../../src/shared/sqs';
import {
  fakeTemporal,
  messageCount,
  receiveMessages,
  sendMessage,
  testBridge,
  validBody,
} from '../support/sqs-bridge';
import { freshQueues, testSqsClient } from '../support/stack';

const VISIBILITY_SECONDS = 2;
const SLOW_START_MS = 3500;

let sqs: SQSClient;
beforeAll(() => {
  sqs = testSqsClient();
});
afterAll(() => sqs.destroy());

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The bridge's SQS client: records every command; commands of the `failing` class throw. */
function recordingSqs(failing?: new (...args: never[]) => object) {
  const commands: object[] = [];
  const client = {
    send: (command: object, options?: unknown) => {
      commands.push(command);
      if (failing && command instanceof failing) return Promise.reject(new Error('injected SQS failure'));
      return (sqs.send as (c: object, o?: unknown) => Promise<unknown>)(command, options);
    },
  } as unknown as SQSClient;
  return { client, commands };
}

/** A logger whose lines are kept for assertions. */
function capturingLogger() {
  const lines: Array<{ level: string; msg: string }> = [];
  const logger = createLogger('visibility-test', 'debug', {
    write: (line: string) => lines.push(JSON.parse(line)),
  });
  return { logger, lines };
}

/** Another consumer polling the request queue until `until` settles; returns what it received. */
async function pollWhile(queueUrl: string, until: Promise<unknown>): Promise<Message[]> {
  let done = false;
  void until.finally(() => (done = true));
  const received: Message[] = [];
  while (!done) received.push(...(await receiveMessages(sqs, queueUrl, 30, 1)));
  return received;
}

async function queueWithOneMessage(label: string): Promise<{ queues: FeedbackQueues; messages: Message[] }> {
  const queues = await freshQueues(sqs, label, { visibilityTimeoutSeconds: VISIBILITY_SECONDS });
  await sendMessage(sqs, queues.requestQueueUrl, validBody(21), 'v1');
  const messages = await receiveMessages(sqs, queues.requestQueueUrl, VISIBILITY_SECONDS);
  expect(messages).toHaveLength(1);
  return { queues, messages };
}

describe('SqsBridge visibility while starts are slow', () => {
  it('extends the visibility of the messages in hand, so a concurrent receive gets nothing, then deletes once', async () => {
    const { queues, messages } = await queueWithOneMessage('vis-extend');
    const temporal = fakeTemporal(() => sleep(SLOW_START_MS));
    const sqsSpy = recordingSqs();
    const { logger, lines } = capturingLogger();
    const bridge = testBridge(sqsSpy.client, queues, temporal.client, {
      visibilityTimeoutSeconds: VISIBILITY_SECONDS,
      logger,
    });

    const startedAt = Date.now();
    const processing = bridge.processBatch(messages);
    const seenByOthers = await pollWhile(queues.requestQueueUrl, processing);
    const report = await processing;
    const elapsedMs = Date.now() - startedAt;

    expect(seenByOthers).toEqual([]);
    expect(report).toMatchObject({ started: 1, failed: 0, deleteFailures: 0 });
    expect(temporal.calls).toHaveLength(1);
    const extensions = sqsSpy.commands.filter((c) => c instanceof ChangeMessageVisibilityBatchCommand);
    // Every visibilityTimeout/2 (1 s) while the start took 3.5 s: at about 1, 2 and 3 s. Two at least:
    // fewer could not have kept a 2 s lease over 3.5 s. At most one per second of the batch as it was
    // measured (a loaded machine stretches the batch, and then there are more periods), never more.
    const periodMs = (VISIBILITY_SECONDS * 1000) / 2;
    expect(extensions.length).toBeGreaterThanOrEqual(2);
    expect(extensions.length).toBeLessThanOrEqual(Math.floor(elapsedMs / periodMs));
    for (const extension of extensions as ChangeMessageVisibilityBatchCommand[]) {
      expect(extension.input.Entries).toEqual([
        { Id: '0', ReceiptHandle: messages[0].ReceiptHandle, VisibilityTimeout: VISIBILITY_SECONDS },
      ]);
    }
    const deletes = sqsSpy.commands.filter(
      (c): c is DeleteMessageBatchCommand => c instanceof DeleteMessageBatchCommand,
    );
    expect(deletes.flatMap((d) => d.input.Entries?.map((e) => e.ReceiptHandle))).toEqual([
      messages[0].ReceiptHandle,
    ]);
    // No extension after the delete, and none failed.
    expect(sqsSpy.commands.at(-1)).toBe(deletes[0]);
    expect(lines.filter((l) => l.level === 'warn')).toEqual([]);
    expect(await messageCount(sqs, queues.requestQueueUrl)).toBe(0);
  });

  it('without the extension (SQS refuses it) the message is received again meanwhile; the failure is only logged', async () => {
    const { queues, messages } = await queueWithOneMessage('vis-control');
    const temporal = fakeTemporal(() => sleep(SLOW_START_MS));
    const sqsSpy = recordingSqs(ChangeMessageVisibilityBatchCommand);
    const { logger, lines } = capturingLogger();
    const bridge = testBridge(sqsSpy.client, queues, temporal.client, {
      visibilityTimeoutSeconds: VISIBILITY_SECONDS,
      logger,
    });

    const processing = bridge.processBatch(messages);
    const seenByOthers = await pollWhile(queues.requestQueueUrl, processing);
    const report = await processing;

    expect(seenByOthers.map((m) => m.MessageId)).toEqual([messages[0].MessageId]);
    expect(report).toMatchObject({ started: 1, failed: 0 });
    expect(lines).toContainEqual(
      expect.objectContaining({ level: 'warn', msg: 'Could not extend the visibility of messages in hand' }),
    );
  });

  it('stops extending a message once its start failed, so it comes back for a retry', async () => {
    const queues = await freshQueues(sqs, 'vis-failed', { visibilityTimeoutSeconds: VISIBILITY_SECONDS });
    await sendMessage(sqs, queues.requestQueueUrl, validBody(31), 'slow', '31');
    await sendMessage(sqs, queues.requestQueueUrl, validBody(32), 'down', '32');
    const messages = await receiveMessages(sqs, queues.requestQueueUrl, VISIBILITY_SECONDS);
    expect(messages).toHaveLength(2);
    const temporal = fakeTemporal(async (call) => {
      if (call.options.args[0].request.memberId === 32) throw new Error('14 UNAVAILABLE');
      await sleep(SLOW_START_MS);
    });
    const bridge = testBridge(sqs, queues, temporal.client, { visibilityTimeoutSeconds: VISIBILITY_SECONDS });

    const processing = bridge.processBatch(messages);
    const seenByOthers = await pollWhile(queues.requestQueueUrl, processing);

    expect(await processing).toMatchObject({ started: 1, failed: 1, deleteFailures: 0 });
    expect(seenByOthers.map((m) => JSON.parse(m.Body ?? '{}').memberId)).toEqual([32]);
  });
});
