/**
 * The request queue's DLQ for operators (src/ops/dlq.ts), on the SQS emulator: what `dlq list` shows
 * of each message, and what `dlq redrive` moves where (only after the send succeeded).
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { listDlq, redriveDlq } from '../../src/ops/dlq';
import { DLQ_ATTRIBUTES, type FeedbackQueues } from '../../src/shared/sqs';
import { freshQueues, testSqsClient } from '../support/stack';
import { messageCount, receiveMessages } from '../support/sqs-bridge';

let sqs: SQSClient;
let queues: FeedbackQueues;

beforeAll(() => {
  sqs = testSqsClient();
});
afterAll(() => sqs.destroy());
beforeEach(async () => {
  queues = await freshQueues(sqs, 'dlq');
});

const attribute = (value: string) => ({ DataType: 'String', StringValue: value });

async function deadLetter(
  body: string,
  group: string,
  attributes: Record<string, string> = {},
): Promise<string> {
  const out = await sqs.send(
    new SendMessageCommand({
      QueueUrl: queues.dlqUrl,
      MessageBody: body,
      MessageGroupId: group,
      MessageDeduplicationId: `${group}-${body.length}`,
      MessageAttributes: Object.fromEntries(Object.entries(attributes).map(([k, v]) => [k, attribute(v)])),
    }),
  );
  return out.MessageId as string;
}

describe('listDlq', () => {
  it("shows the bridge's reason, its errors, the source message, the group and the send time", async () => {
    const before = Date.now();
    const id = await deadLetter('{"memberId":"x"}', 'member-7', {
      [DLQ_ATTRIBUTES.reason]: 'invalid request',
      [DLQ_ATTRIBUTES.errors]: JSON.stringify(['memberId: expected a number']),
      [DLQ_ATTRIBUTES.sourceMessageId]: 'src-1',
    });
    const [entry, ...rest] = await listDlq(sqs, queues.dlqUrl);
    expect(rest).toEqual([]);
    expect(entry).toMatchObject({
      messageId: id,
      groupId: 'member-7',
      reason: 'invalid request',
      errors: ['memberId: expected a number'],
      sourceMessageId: 'src-1',
      body: '{"memberId":"x"}',
      receiveCount: 1,
    });
    expect(Date.parse(entry.sentAt as string)).toBeGreaterThanOrEqual(before - 5000);
  });

  it('names SQS as the mover of a message without a reason, and keeps errors that are not JSON as text', async () => {
    await deadLetter('body', 'g', { [DLQ_ATTRIBUTES.errors]: 'not json [' });
    const [entry] = await listDlq(sqs, queues.dlqUrl);
    expect(entry.reason).toBe('moved by SQS after too many receives (no reason attribute)');
    expect(entry.errors).toBe('not json [');
  });

  it('shows the first 300 characters of a long body, with its length', async () => {
    const body = `{"text":"${'가'.repeat(400)}"}`;
    await deadLetter(body, 'long');
    const [entry] = await listDlq(sqs, queues.dlqUrl);
    expect(entry.body).toBe(`${body.slice(0, 300)}… (${body.length} chars)`);
  });

  it('removes nothing and leaves every message visible at once', async () => {
    await deadLetter('one', 'g1');
    await deadLetter('two', 'g2');
    expect((await listDlq(sqs, queues.dlqUrl)).map((e) => e.body).sort()).toEqual(['one', 'two']);
    const again = await listDlq(sqs, queues.dlqUrl);
    expect(again.map((e) => e.body).sort()).toEqual(['one', 'two']);
    expect(again.every((e) => e.receiveCount === 2)).toBe(true);
  });

  it('reads at most max messages', async () => {
    for (let i = 0; i < 3; i++) await deadLetter(`m${i}`, `g${i}`);
    expect(await listDlq(sqs, queues.dlqUrl, 2)).toHaveLength(2);
  });
});

describe('redriveDlq', () => {
  it('moves each message to the request queue with its body and group, under a deduplication id of its own', async () => {
    const id = await deadLetter('{"memberId":7}', 'member-7', { [DLQ_ATTRIBUTES.reason]: 'Temporal down' });
    const report = await redriveDlq(sqs, queues);
    expect(report.failed).toEqual([]);
    expect(report.moved.map((e) => [e.messageId, e.reason])).toEqual([[id, 'Temporal down']]);
    expect(await messageCount(sqs, queues.dlqUrl)).toBe(0);
    const [moved, ...rest] = await receiveMessages(sqs, queues.requestQueueUrl);
    expect(rest).toEqual([]);
    expect(moved.Body).toBe('{"memberId":7}');
    expect(moved.Attributes).toMatchObject({
      MessageGroupId: 'member-7',
      MessageDeduplicationId: `redrive-${id}`,
    });
  });

  it('moves nothing in a dry run, and leaves the messages visible at once', async () => {
    await deadLetter('one', 'g1');
    const report = await redriveDlq(sqs, queues, { dryRun: true });
    expect(report.moved.map((e) => e.body)).toEqual(['one']);
    expect(await messageCount(sqs, queues.requestQueueUrl)).toBe(0);
    expect((await listDlq(sqs, queues.dlqUrl)).map((e) => e.body)).toEqual(['one']);
  });

  it('keeps a message whose send failed in the DLQ, visible at once, and reports the error', async () => {
    await deadLetter('stays', 'g1');
    const missing = queues.requestQueueUrl.replace(/[^/]+$/, 'no-such-queue.fifo');
    const report = await redriveDlq(sqs, { dlqUrl: queues.dlqUrl, requestQueueUrl: missing });
    expect(report.moved).toEqual([]);
    expect(report.failed.map((f) => f.entry.body)).toEqual(['stays']);
    expect(report.failed[0].error).toMatch(/^\w+: /);
    expect((await listDlq(sqs, queues.dlqUrl)).map((e) => e.body)).toEqual(['stays']);
  });
});
