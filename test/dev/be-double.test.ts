/**
 * The BE double behaves as CONTRACT.md section 4 describes the BE: against the real ElasticMQ of the
 * test stack (fresh queues whose result queue redrives after 2 receives) and its callback over HTTP.
 */
import { ReceiveMessageCommand, SendMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import { randomUUID } from 'node:crypto';
import { BeStore, createClock } from '../../dev/be-double/store';
import {
  BE_MESSAGE_GROUP,
  CLOCK_PATH,
  createBeDouble,
  feedbackWeek,
  sha256Hex,
  type BeDouble,
} from '../../dev/be-double';
import { CALLBACK_PATH } from '../../src/domain/result';
import type { FeedbackQueues } from '../../src/shared/sqs';
import { eventually as poll } from '../support/eventually';
import { messageCount as messagesOn } from '../support/sqs-bridge';
import { freshQueues, testSqsClient } from '../support/stack';

jest.setTimeout(60_000);

/** Wednesday 2025-06-18 12:00 in Seoul (03:00 UTC): feedbacks received then are about the week of Monday 2025-06-09. */
const WEDNESDAY = Date.parse('2025-06-18T12:00:00+09:00');
const WEEK_MS = 7 * 24 * 3_600_000;

let sqs: SQSClient;
let queues: FeedbackQueues;
let double: BeDouble;
let callbackUrl: string;

beforeAll(() => {
  sqs = testSqsClient();
});
afterAll(() => sqs.destroy());

beforeEach(async () => {
  queues = await freshQueues(sqs, 'be-double', { resultMaxReceiveCount: 2 });
  double = createBeDouble({
    sqs,
    ...queues,
    now: WEDNESDAY,
    subscriber: { waitTimeSeconds: 1, visibilityTimeoutSeconds: 1 },
  });
  callbackUrl = await double.listen(0);
});
afterEach(() => double.close());

function request(memberId: number, title = '텀블러 사용하기') {
  return {
    memberId,
    personalChallenges: [{ id: 1, title, isSuccess: true }],
    groupChallenges: [
      {
        id: 3,
        title: '플로깅',
        startDate: '2025-06-01T00:00:00',
        endDate: '2025-06-30T23:59:59',
        submissions: [{ isSuccess: true, submittedAt: '2025-06-10T08:30:12.5' }],
      },
    ],
  };
}

/** What our service sends to the result queue. */
async function sendResult(body: unknown): Promise<void> {
  await sqs.send(
    new SendMessageCommand({
      QueueUrl: queues.resultQueueUrl,
      MessageBody: typeof body === 'string' ? body : JSON.stringify(body),
      // Our side groups by member; distinct groups keep one held-back message from blocking the others.
      MessageGroupId: randomUUID(),
      MessageDeduplicationId: randomUUID(),
    }),
  );
}

async function receiveAll(queueUrl: string): Promise<Message[]> {
  const out = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: 1,
      MessageSystemAttributeNames: ['All'],
    }),
  );
  return out.Messages ?? [];
}

/** Polls `check` until it holds or `timeoutMs` passed; returns whether it held. */
function eventually(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<boolean> {
  return poll(check, (held) => held, timeoutMs);
}

async function postCallback(body: unknown): Promise<{ status: number; envelope: unknown }> {
  const response = await fetch(`${callbackUrl}${CALLBACK_PATH}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, envelope: await response.json() };
}

describe('feedbackWeek', () => {
  it("is the Monday of the previous week in the BE's zone, UTC by default: turning at Monday 00:00 UTC", () => {
    expect(feedbackWeek(WEDNESDAY)).toBe('2025-06-09');
    expect(feedbackWeek(Date.parse('2025-06-16T00:00:00Z'))).toBe('2025-06-09');
    expect(feedbackWeek(Date.parse('2025-06-15T23:59:59Z'))).toBe('2025-06-02');
    // Monday 05:00 in Seoul is still Sunday 20:00 UTC: the BE's week has not turned.
    expect(feedbackWeek(Date.parse('2025-06-16T05:00:00+09:00'))).toBe('2025-06-02');
    expect(feedbackWeek(Date.parse('2025-06-16T05:00:00+09:00'), 'Asia/Seoul')).toBe('2025-06-09');
  });
});

describe('publisher', () => {
  it('sends the body without requestId/timestamp in group feedback-request under <memberId>-sha256hex(body)', async () => {
    const publication = await double.publish({
      ...request(7),
      requestId: 'r-1',
      timestamp: '2025-06-18T12:00:00+09:00',
    });
    const body = JSON.stringify(request(7));
    expect(publication).toMatchObject({
      memberId: 7,
      body,
      deduplicationId: `7-${sha256Hex(body)}`,
      attempts: 1,
    });

    const [message] = await receiveAll(queues.requestQueueUrl);
    expect(message.Body).toBe(body);
    expect(message.Attributes?.MessageGroupId).toBe(BE_MESSAGE_GROUP);
    expect(message.Attributes?.MessageDeduplicationId).toBe(`7-${sha256Hex(body)}`);
  });

  it('makes up to 3 attempts, waiting 300 then 600 ms, and then fails', async () => {
    const calls: number[] = [];
    const failing = {
      send: () => {
        calls.push(Date.now());
        return Promise.reject(new Error('SQS is down'));
      },
    } as unknown as SQSClient;
    const offline = createBeDouble({ sqs: failing, requestQueueUrl: queues.requestQueueUrl });
    await expect(offline.publish(request(8))).rejects.toThrow(/failed after 3 attempts: SQS is down/);
    expect(calls).toHaveLength(3);
    // Lower bounds only (a busy machine lengthens the pauses, never shortens them); 10 ms for timers.
    expect(calls[1] - calls[0]).toBeGreaterThanOrEqual(290);
    expect(calls[2] - calls[1]).toBeGreaterThanOrEqual(590);
  });
});

describe('result-queue subscriber', () => {
  beforeEach(() => double.startSubscriber());

  it("stores a result as the member's feedback for the week of receipt and deletes it", async () => {
    await double.publish(request(11));
    await sendResult({ memberId: 11, content: '이번 주도 잘했어요 🌱', requestId: 'x', status: 'success' });
    const stored = await double.waitFor(() => double.feedback(11, '2025-06-09'), 10_000, 'the feedback');
    expect(stored).toMatchObject({
      memberId: 11,
      week: '2025-06-09',
      content: '이번 주도 잘했어요 🌱',
      via: 'queue',
    });
    expect(await eventually(async () => (await messagesOn(sqs, queues.resultQueueUrl)) === 0)).toBe(true);
  });

  it('records a second feedback of the same week as a duplicate, keeps the first and deletes the message', async () => {
    await double.publish(request(12));
    await sendResult({ memberId: 12, content: '첫 번째 피드백' });
    await double.waitFor(() => double.feedback(12, '2025-06-09'), 10_000, 'the first feedback');
    await sendResult({ memberId: 12, content: '두 번째 피드백' });
    const [duplicate] = await double.waitFor(
      () => (double.duplicates().length > 0 ? double.duplicates() : undefined),
      10_000,
      'the duplicate',
    );
    expect(duplicate).toMatchObject({ memberId: 12, week: '2025-06-09', content: '두 번째 피드백' });
    expect(double.feedback(12, '2025-06-09')?.content).toBe('첫 번째 피드백');
    expect(await eventually(async () => (await messagesOn(sqs, queues.resultQueueUrl)) === 0)).toBe(true);
  });

  it('re-publishes the last request on a status code: same body, same dedup id, which SQS drops within 5 minutes', async () => {
    const first = await double.publish(request(13));
    await sendResult({ memberId: 13, content: '500', status: 'error' });
    const [republish] = await double.waitFor(
      () => (double.republishes().length > 0 ? double.republishes() : undefined),
      10_000,
      'the re-publish',
    );
    expect(republish).toMatchObject({
      memberId: 13,
      content: '500',
      body: first.body,
      deduplicationId: first.deduplicationId,
      sent: true,
    });
    expect(double.published().map((p) => [p.body, p.deduplicationId, p.republish])).toEqual([
      [first.body, first.deduplicationId, false],
      [first.body, first.deduplicationId, true],
    ]);
    expect(double.feedbacks()).toEqual([]);
    // The queue holds the first send only: the re-publish came within the deduplication window.
    const onQueue = await receiveAll(queues.requestQueueUrl);
    expect(onQueue.map((m) => m.Attributes?.MessageDeduplicationId)).toEqual([first.deduplicationId]);
    expect(await eventually(async () => (await messagesOn(sqs, queues.resultQueueUrl)) === 0)).toBe(true);
  });

  it('leaves what it cannot process on the queue until the redrive moves it to the result DLQ, where the poller records it', async () => {
    await double.publish(request(14));
    const bad = [
      'not json',
      JSON.stringify({ memberId: -14, content: '피드백' }),
      JSON.stringify({ memberId: 14, content: '   ' }),
      JSON.stringify({ memberId: 999_999, content: '모르는 회원' }),
    ];
    for (const body of bad) await sendResult(body);
    // ElasticMQ sends a message to the DLQ before it deletes it from the queue, and the copy shares
    // the original's receipts: a receive from the DLQ in between leaves the original on the queue
    // until its next receive moves it again. So the queue empties eventually (SQS's counts are
    // approximate anyway), and the DLQ may hold one twice: the set of bodies is what the double owes.
    const recorded = () => new Set(double.dlqFailures().map((f) => f.body));
    await double.waitFor(
      () => (bad.every((body) => recorded().has(body)) ? true : undefined),
      40_000,
      () => `all in the DLQ (have ${recorded().size})`,
    );
    expect(recorded()).toEqual(new Set(bad));
    // Each came back once before the redrive: two receives, two rejections.
    for (const body of bad) expect(double.rejections().filter((r) => r.body === body)).toHaveLength(2);
    expect(double.rejections().map((r) => r.reason)).toEqual(
      expect.arrayContaining([
        'body is not JSON',
        'memberId must be a positive integer',
        'content must not be blank',
        'unknown member 999999',
      ]),
    );
    expect(double.feedbacks()).toEqual([]);
    expect(await eventually(async () => (await messagesOn(sqs, queues.resultQueueUrl)) === 0)).toBe(true);
    expect(await eventually(async () => (await messagesOn(sqs, queues.resultDlqUrl)) === 0)).toBe(true);
    expect(recorded()).toEqual(new Set(bad));
  });
});

describe('callback endpoint', () => {
  it('answers 200 with the envelope when stored, whatever the content ("500" too), and 409 for the same week', async () => {
    double.knowMember(21);
    double.knowMember(22);
    const ok = await postCallback({ memberId: 21, content: '잘했어요', requestId: 'r-21' });
    expect(ok).toEqual({ status: 200, envelope: { status: 200, message: expect.any(String), data: null } });
    expect(double.feedback(21, '2025-06-09')).toMatchObject({ content: '잘했어요', via: 'callback' });

    expect(await postCallback({ memberId: 22, content: '500' })).toMatchObject({ status: 200 });
    expect(double.feedback(22, '2025-06-09')?.content).toBe('500');

    const again = await postCallback({ memberId: 21, content: '또 잘했어요' });
    expect(again).toEqual({
      status: 409,
      envelope: { status: 409, message: expect.any(String), data: null },
    });
    expect(double.feedback(21, '2025-06-09')?.content).toBe('잘했어요');
    expect(double.accepted().map((r) => r.memberId)).toEqual([21, 22]);
    expect(double.attempts().map((a) => a.status)).toEqual([200, 200, 409]);
  });

  it('answers 400 for a memberId that is not positive or blank content, 404 for an unknown member', async () => {
    double.knowMember(23);
    expect((await postCallback({ memberId: 0, content: '피드백' })).status).toBe(400);
    expect((await postCallback({ memberId: 23, content: ' ' })).status).toBe(400);
    expect((await postCallback({ memberId: 23 })).status).toBe(400);
    expect((await postCallback({ memberId: 424_242, content: '피드백' })).status).toBe(404);
    expect(double.feedbacks()).toEqual([]);
  });

  it('answers 404 for an injected unexpected exception, then stores the next call', async () => {
    double.knowMember(24);
    double.failNext(1);
    const failed = await postCallback({ memberId: 24, content: '피드백' });
    expect(failed).toMatchObject({ status: 404, envelope: { status: 404, data: null } });
    expect(double.feedbacks()).toEqual([]);
    expect((await postCallback({ memberId: 24, content: '피드백' })).status).toBe(200);
    expect(double.attempts().map((a) => [a.status, a.injected ?? false])).toEqual([
      [404, true],
      [200, false],
    ]);
  });
});

describe('listeners', () => {
  it('keep the double working when they throw, and a throwing waitFor predicate rejects its wait', async () => {
    double.knowMember(61);
    double.onStored(() => {
      throw new Error('listener broke');
    });
    const waiting = double
      .waitFor(() => {
        if (double.attempts().length > 0) throw new Error('predicate broke');
        return undefined;
      })
      .then(
        () => 'resolved',
        (err: Error) => err.message,
      );
    expect((await postCallback({ memberId: 61, content: '피드백' })).status).toBe(200);
    expect(double.feedback(61, '2025-06-09')?.content).toBe('피드백');
    expect(await waiting).toBe('predicate broke');
  });
});

describe('the clock', () => {
  it('files an identical body of two weeks under each week, and the verdict sees one feedback per week', async () => {
    double.startSubscriber();
    const first = await double.publish(request(31));
    await sendResult({ memberId: 31, content: '같은 피드백' });
    await double.waitFor(() => double.feedback(31, '2025-06-09'), 10_000, 'week one');

    double.advance(WEEK_MS);
    expect(double.week()).toBe('2025-06-16');
    const second = await double.publish(request(31));
    expect(second.deduplicationId).toBe(first.deduplicationId);
    await sendResult({ memberId: 31, content: '같은 피드백' });
    await double.waitFor(() => double.feedback(31, '2025-06-16'), 10_000, 'week two');

    expect(double.duplicates()).toEqual([]);
    expect(
      double.verdict([
        { memberId: 31, week: '2025-06-09' },
        { memberId: 31, week: '2025-06-16' },
      ]),
    ).toEqual({ ok: true, missing: [], statusCodeStored: [], doubled: [], unexpected: [] });
  });

  it('moves on by the days posted to its clock route (npm run be -- advance 7), so a local run can play the next week', async () => {
    const post = (body: unknown) =>
      fetch(`${callbackUrl}${CLOCK_PATH}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const before = double.week();
    const moved = await post({ days: 7 });
    expect(moved.status).toBe(200);
    const week = feedbackWeek(WEDNESDAY + WEEK_MS);
    expect(await moved.json()).toEqual({ status: 200, message: 'clock advanced', data: { week } });
    expect(double.week()).toBe(week);
    expect(week).not.toBe(before);
    expect((await post({ days: 'seven' })).status).toBe(400);
    expect(double.week()).toBe(week);
  });

  it('verdict names the members without feedback, with a status code stored, doubled, or filed under another week', async () => {
    double.setNow(WEDNESDAY);
    for (const memberId of [41, 42, 43, 44]) double.knowMember(memberId);
    await postCallback({ memberId: 42, content: '500' });
    await postCallback({ memberId: 43, content: '피드백', requestId: 'a' });
    await postCallback({ memberId: 43, content: '피드백', requestId: 'b' });
    double.advance(WEEK_MS);
    await postCallback({ memberId: 44, content: '늦은 피드백' });
    const verdict = double.verdict([41, 42, 43, 44].map((memberId) => ({ memberId, week: '2025-06-09' })));
    expect(verdict).toEqual({
      ok: false,
      missing: [
        { memberId: 41, week: '2025-06-09' },
        { memberId: 44, week: '2025-06-09' },
      ],
      statusCodeStored: [{ memberId: 42, week: '2025-06-09', content: '500' }],
      doubled: [{ memberId: 43, week: '2025-06-09', channel: 'callback', deliveries: 2, requests: 1 }],
      unexpected: [{ memberId: 44, week: '2025-06-16' }],
    });
  });

  it('verdict counts a repeat of one delivery once: the same queue message again, the same callback idempotency key', () => {
    const store = new BeStore(createClock(WEDNESDAY), 'any');
    const week = '2025-06-09';
    store.store({ memberId: 51, content: '피드백', via: 'queue', messageId: 'm-1' });
    store.store({ memberId: 51, content: '피드백', via: 'queue', messageId: 'm-1' });
    store.store({ memberId: 51, content: '피드백', via: 'callback', idempotencyKey: 'feedback-a' });
    store.store({ memberId: 51, content: '피드백', via: 'callback', idempotencyKey: 'feedback-a' });
    store.store({ memberId: 52, content: '피드백', via: 'queue', messageId: 'm-2' });
    store.store({ memberId: 52, content: '피드백', via: 'queue', messageId: 'm-3' });
    const verdict = store.verdict([
      { memberId: 51, week },
      { memberId: 52, week },
    ]);
    expect(verdict.doubled).toEqual([{ memberId: 52, week, channel: 'queue', deliveries: 2, requests: 1 }]);
    // Two requests sent for the member-week allow two deliveries.
    expect(store.verdict([{ memberId: 52, week, requests: 2 }]).ok).toBe(true);
  });
});
