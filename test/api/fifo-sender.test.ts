import {
  SendMessageBatchCommand,
  type SendMessageBatchCommandOutput,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { FifoSender, packBySize } from '../../src/api/fifo-sender';

/** A client that records each SendMessageBatch and answers with `answer` (default: all successful). */
function fakeSqs(
  answer: (entries: SendMessageBatchRequestEntry[]) => Partial<SendMessageBatchCommandOutput> = (
    entries,
  ) => ({
    Successful: entries.map((e) => ({
      Id: e.Id,
      MessageId: `id-${e.MessageDeduplicationId}`,
      MD5OfMessageBody: '',
    })),
    Failed: [],
  }),
) {
  const calls: SendMessageBatchRequestEntry[][] = [];
  const client = {
    send: async (command: unknown) => {
      if (!(command instanceof SendMessageBatchCommand)) throw new Error('unexpected command');
      const entries = command.input.Entries ?? [];
      calls.push(entries);
      return answer(entries);
    },
  };
  return { client: client as unknown as SQSClient, calls };
}

const message = (n: number, body = `body-${n}`) => ({ body, groupId: `g${n % 3}`, deduplicationId: `d${n}` });

describe('FifoSender', () => {
  it('sends the messages handed over together in one SendMessageBatch, each resolving with its id', async () => {
    const { client, calls } = fakeSqs();
    const sender = new FifoSender(client, 'http://sqs/q.fifo', 1000);
    const ids = await Promise.all([0, 1, 2, 3].map((n) => sender.send(message(n))));
    expect(ids).toEqual(['id-d0', 'id-d1', 'id-d2', 'id-d3']);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toEqual(
      [0, 1, 2, 3].map((n) =>
        expect.objectContaining({
          MessageBody: `body-${n}`,
          MessageGroupId: `g${n % 3}`,
          MessageDeduplicationId: `d${n}`,
        }),
      ),
    );
  });

  it('sends a message alone when nothing else is waiting', async () => {
    const { client, calls } = fakeSqs();
    const sender = new FifoSender(client, 'http://sqs/q.fifo', 1000);
    expect(await sender.send(message(1))).toBe('id-d1');
    expect(await sender.send(message(2))).toBe('id-d2');
    expect(calls.map((c) => c.length)).toEqual([1, 1]);
  });

  it('splits 25 messages into calls of at most 10 entries', async () => {
    const { client, calls } = fakeSqs();
    const sender = new FifoSender(client, 'http://sqs/q.fifo', 1000);
    const ids = await Promise.all(Array.from({ length: 25 }, (_, n) => sender.send(message(n))));
    expect(ids).toEqual(Array.from({ length: 25 }, (_, n) => `id-d${n}`));
    expect(calls.map((c) => c.length)).toEqual([10, 10, 5]);
  });

  it("rejects only the message SQS failed, with SQS's code as the error's name", async () => {
    const { client } = fakeSqs((entries) => ({
      Successful: entries
        .filter((e) => e.MessageDeduplicationId !== 'd1')
        .map((e) => ({ Id: e.Id, MessageId: `id-${e.MessageDeduplicationId}`, MD5OfMessageBody: '' })),
      Failed: entries
        .filter((e) => e.MessageDeduplicationId === 'd1')
        .map((e) => ({
          Id: e.Id,
          Code: 'InvalidAttributeValue',
          Message: 'MessageTooLong',
          SenderFault: true,
        })),
    }));
    const sender = new FifoSender(client, 'http://sqs/q.fifo', 1000);
    const results = await Promise.allSettled([0, 1, 2].map((n) => sender.send(message(n))));
    expect(results[0]).toEqual({ status: 'fulfilled', value: 'id-d0' });
    expect(results[1]).toMatchObject({
      status: 'rejected',
      reason: { name: 'InvalidAttributeValue', message: 'MessageTooLong' },
    });
    expect(results[2]).toEqual({ status: 'fulfilled', value: 'id-d2' });
  });

  it("counts the messages' attributes toward a call's 256 KiB", async () => {
    const { client, calls } = fakeSqs();
    const sender = new FifoSender(client, 'http://sqs/q.fifo', 1000);
    const half = 'x'.repeat(128 * 1024);
    const traced = { traceparent: { DataType: 'String', StringValue: '00-abc-def-01' } };
    await Promise.all([
      sender.send({ ...message(1, half), attributes: traced }),
      sender.send({ ...message(2, half), attributes: traced }),
    ]);
    // Two bodies of exactly 128 KiB fit; with their attributes they do not.
    expect(calls.map((c) => c.length)).toEqual([1, 1]);
    expect(calls[0][0].MessageAttributes).toEqual(traced);
  });

  it('rejects every message of a call that failed as a whole', async () => {
    const client = {
      send: async () => {
        throw Object.assign(new Error('connect ECONNREFUSED'), { name: 'TimeoutError' });
      },
    } as unknown as SQSClient;
    const sender = new FifoSender(client, 'http://sqs/q.fifo', 1000);
    const results = await Promise.allSettled([0, 1].map((n) => sender.send(message(n))));
    expect(results).toEqual(
      [0, 1].map(() => ({ status: 'rejected', reason: expect.objectContaining({ name: 'TimeoutError' }) })),
    );
  });
});

describe('packBySize', () => {
  it('packs up to 10 entries and 256 KiB of bodies per call; a body over 256 KiB goes alone', () => {
    expect(packBySize([1, 1, 1])).toEqual([[0, 1, 2]]);
    expect(packBySize(Array.from({ length: 12 }, () => 1))).toEqual([
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
      [10, 11],
    ]);
    const kib = 1024;
    expect(packBySize([200 * kib, 100 * kib, 50 * kib, 300 * kib, 1])).toEqual([[0], [1, 2], [3], [4]]);
    expect(packBySize([])).toEqual([]);
  });
});
