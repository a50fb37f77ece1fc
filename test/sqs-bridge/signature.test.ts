/**
 * The bridge puts a BE message's signature (its MessageDeduplicationId) on the run: in the input and,
 * through startFeedbackWorkflow, as the RequestSignature search attribute. Unit-level: the messages are
 * built here and SQS and Temporal are fakes (no queue, no server).
 */
import { createHash } from 'node:crypto';
import type { Message, SQSClient } from '@aws-sdk/client-sqs';
import type { SearchAttributePair } from '@temporalio/common';
import { RequestSignatureSearchAttribute } from '../../src/domain/workflow';
import type { FeedbackQueues } from '../../src/shared/sqs';
import { requestSignature } from '../../src/sqs-bridge/bridge';
import { fakeTemporal, testBridge, validBody } from '../support/sqs-bridge';

const BE_SIGNATURE = '7-9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08';
const noSqs = { send: async () => ({}) } as unknown as SQSClient;
const queues: FeedbackQueues = {
  requestQueueUrl: 'http://sqs.invalid/q.fifo',
  dlqUrl: 'http://sqs.invalid/dlq.fifo',
  resultQueueUrl: 'http://sqs.invalid/r.fifo',
  resultDlqUrl: 'http://sqs.invalid/rdlq.fifo',
};

function message(body: string, deduplicationId?: string): Message {
  return {
    MessageId: 'c0ffee00-0000-4000-8000-000000000001',
    ReceiptHandle: 'rh-1',
    Body: body,
    Attributes: {
      SentTimestamp: String(Date.parse('2026-12-09T10:00:00Z')),
      MessageGroupId: 'feedback-request',
      ...(deduplicationId === undefined ? {} : { MessageDeduplicationId: deduplicationId }),
    },
  };
}

async function startOf(m: Message) {
  const temporal = fakeTemporal(async () => undefined);
  const bridge = testBridge(noSqs, queues, temporal.client);
  expect(await bridge.handleMessage(m)).toBe('started');
  const { options } = temporal.calls[0];
  const pairs = (options.typedSearchAttributes ?? []) as SearchAttributePair[];
  return {
    input: options.args[0],
    attribute: pairs.find((p) => p.key.name === RequestSignatureSearchAttribute.name)?.value,
  };
}

describe("the bridge and the BE message's signature", () => {
  it('puts the MessageDeduplicationId on the run, in its input and as RequestSignature', async () => {
    const { input, attribute } = await startOf(message(validBody(7), BE_SIGNATURE));
    expect(input.source).toBe('queue');
    expect(input.signature).toBe(BE_SIGNATURE);
    expect(attribute).toBe(BE_SIGNATURE);
  });

  it('gives an API request (our own deduplication id) no signature', async () => {
    const requestId = '3f1c2a9e-8d4b-4c6e-9a51-0b7e2f4d6c11';
    const body = JSON.stringify({ ...JSON.parse(validBody(7)), requestId });
    const { input, attribute } = await startOf(message(body, requestId));
    expect(input.source).toBe('api');
    expect(input.signature).toBeUndefined();
    expect(attribute).toBeUndefined();
  });

  it('starts a message without a deduplication id without a signature', async () => {
    const { input, attribute } = await startOf(message(validBody(7)));
    expect(input.signature).toBeUndefined();
    expect(attribute).toBeUndefined();
  });

  it('hashes an id whose characters a visibility query would have to escape', () => {
    const odd = '7-it\'s "quoted"';
    const hex = createHash('sha256').update(odd, 'utf8').digest('hex');
    expect(requestSignature(message('{}', odd))).toBe(`sha256:${hex}`);
    expect(requestSignature(message('{}', BE_SIGNATURE))).toBe(BE_SIGNATURE);
  });
});
