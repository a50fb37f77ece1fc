/**
 * Poison messages on the real request queue: each lands in the DLQ with a reason, the bridge stays up,
 * and the good message sent after them is processed once.
 */
import { randomUUID } from 'node:crypto';
import { SendMessageCommand, type Message } from '@aws-sdk/client-sqs';
import { LIMITS } from '../../src/domain/request';
import { DLQ_ATTRIBUTES } from '../../src/shared/sqs';
import { eventually } from '../support/eventually';
import { startPipeline, workflowResult, type Pipeline } from '../support/pipeline';
import { messageCount } from '../support/sqs-bridge';

jest.setTimeout(120_000);

let pipeline: Pipeline;

beforeAll(async () => {
  pipeline = await startPipeline('poison', 'queue');
}, 120_000);

afterAll(async () => {
  await pipeline?.stop();
});

const good = (memberId: number) =>
  JSON.stringify({ memberId, personalChallenges: [{ id: 1, title: '분리수거', isSuccess: true }] });

/** Each poison body and a pattern its DLQ reason must match. */
const POISON: Array<[string, string, RegExp]> = [
  ['not JSON', '{"memberId": 1, personalChallenges: [', /not valid JSON/],
  ['valid JSON, not an object: array', '[1,2,3]', /object/i],
  ['valid JSON, not an object: number', '42', /object/i],
  ['valid JSON, not an object: string', '"hello"', /object/i],
  ['valid JSON: null', 'null', /object/i],
  ['wrong types', '{"memberId":"seven","personalChallenges":{"id":1}}', /memberId/],
  ['missing fields', '{"personalChallenges":[{"id":1,"isSuccess":true}]}', /memberId|title/],
  ['no challenges at all', '{"memberId":5}', /at least one/],
  [
    'too many challenges',
    JSON.stringify({
      memberId: 6,
      personalChallenges: Array.from({ length: LIMITS.personalChallenges + 1 }, (_, i) => ({
        id: i,
        title: 't',
        isSuccess: true,
      })),
    }),
    /at most 100/,
  ],
  [
    'huge (200 KiB title)',
    JSON.stringify({
      memberId: 7,
      personalChallenges: [{ id: 1, title: 'x'.repeat(200 * 1024), isSuccess: true }],
    }),
    /title must be at most/,
  ],
  [
    'a date in year 9999',
    JSON.stringify({
      memberId: 8,
      groupChallenges: [{ id: 1, title: 'g', startDate: '9999-01-01T00:00:00', endDate: [2025, 1, 1, 0, 0] }],
    }),
    /outside 2000\.\.2100/,
  ],
  // Invalid UTF-8 cannot travel through SQS (it accepts only valid Unicode): what a lenient decoder
  // would make of such bytes, U+FFFD replacement characters, is what can arrive.
  ['decoded invalid UTF-8 (replacement characters)', '\uFFFD\uFFFD{"memberId":\uFFFD1}', /not valid JSON/],
];

it('dead-letters every poison message with its reason, stays up, and processes the next good message once', async () => {
  const tag = randomUUID().slice(0, 8);
  for (const [label, body] of POISON) {
    await pipeline.sqs.send(
      new SendMessageCommand({
        QueueUrl: pipeline.queues.requestQueueUrl,
        MessageBody: body,
        MessageGroupId: 'feedback-request',
        MessageDeduplicationId: `${tag}-${label.replace(/[^\w-]/g, '-')}`.slice(0, 128),
      }),
    );
  }
  const memberId = 100_000 + Math.floor(Math.random() * 800_000);
  const goodMessage = await pipeline.sqs.send(
    new SendMessageCommand({
      QueueUrl: pipeline.queues.requestQueueUrl,
      MessageBody: good(memberId),
      MessageGroupId: 'feedback-request',
      MessageDeduplicationId: `${tag}-good`,
    }),
  );

  const deadLetters = pipeline.deadLetters;
  if (!deadLetters) throw new Error('this pipeline collects its DLQ');
  const dead: Message[] = await deadLetters.waitFor(() => true, POISON.length, 60_000);
  expect(dead).toHaveLength(POISON.length);
  for (const [label, body, reason] of POISON) {
    const message = dead.find((m) => m.Body === body);
    expect({ label, found: message !== undefined }).toEqual({ label, found: true });
    expect({ label, reason: message?.MessageAttributes?.[DLQ_ATTRIBUTES.reason]?.StringValue }).toEqual({
      label,
      reason: expect.stringMatching(reason),
    });
    expect(message?.MessageAttributes?.[DLQ_ATTRIBUTES.sourceMessageId]?.StringValue).toBeTruthy();
  }

  const results = await pipeline.results.waitFor(
    (m) => (JSON.parse(m.Body ?? '{}') as { memberId?: number }).memberId === memberId,
    1,
    60_000,
  );
  expect(results).toHaveLength(1);
  // Nothing else arrives for it, and no valid message went to the DLQ: once its run has completed
  // and every queue is empty (the bridge has nothing left to start, the collectors have taken all
  // that was sent), no further result can come.
  await workflowResult(pipeline.temporal, `feedback-${memberId}-${goodMessage.MessageId}`);
  const { requestQueueUrl, resultQueueUrl, dlqUrl } = pipeline.queues;
  const left = await eventually(
    () =>
      Promise.all([requestQueueUrl, resultQueueUrl, dlqUrl].map((url) => messageCount(pipeline.sqs, url))),
    (counts) => counts.every((n) => n === 0),
  );
  expect(left).toEqual([0, 0, 0]);
  expect(
    pipeline.results.messages.filter(
      (m) => (JSON.parse(m.Body ?? '{}') as { memberId?: number }).memberId === memberId,
    ),
  ).toHaveLength(1);
  expect(deadLetters.messages.filter((m) => m.Body === good(memberId))).toHaveLength(0);
});
