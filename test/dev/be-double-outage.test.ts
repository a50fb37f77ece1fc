/**
 * The BE double's week zone and database outage, without ElasticMQ: its clock is set by the test, the
 * callback is served on a free local port, and the subscriber reads a small in-memory FIFO queue that
 * redrives as SQS does (a message received maxReceiveCount times moves to the DLQ on the next receive).
 */
import {
  DeleteMessageCommand,
  ReceiveMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { createBeDouble, OUTAGE_PATH } from '../../dev/be-double';
import { CALLBACK_PATH } from '../../src/domain/result';
import { eventually } from '../support/eventually';

/** Monday 2025-06-16 05:00 in Seoul = Sunday 20:00 UTC: the turn of Seoul's week, not yet UTC's. */
const SEOUL_MONDAY_MORNING = Date.parse('2025-06-16T05:00:00+09:00');
const MINUTE = 60_000;

interface Queued {
  id: string;
  body: string;
  receives: number;
  visibleAt: number;
}

/** A queue and its DLQ as SQS keeps them, with a visibility in milliseconds so that a test is quick. */
class FakeQueues {
  readonly queue: Queued[] = [];
  readonly dlq: Queued[] = [];
  readonly deletedFromDlq: string[] = [];
  private next = 0;

  constructor(
    private readonly maxReceiveCount: number,
    private readonly visibilityMs: number,
  ) {}

  put(body: string): void {
    this.queue.push({ id: `m-${++this.next}`, body, receives: 0, visibleAt: 0 });
  }

  client(): SQSClient {
    const send = (command: unknown): Promise<unknown> => {
      if (command instanceof ReceiveMessageCommand) return Promise.resolve(this.receive(command));
      if (command instanceof DeleteMessageCommand) {
        const [queue, id] = (command.input.ReceiptHandle ?? '').split('|');
        const list = queue === 'dlq' ? this.dlq : this.queue;
        const i = list.findIndex((m) => m.id === id);
        if (i >= 0) {
          if (queue === 'dlq') this.deletedFromDlq.push(id ?? '');
          list.splice(i, 1);
        }
        return Promise.resolve({});
      }
      return Promise.reject(new Error('not faked'));
    };
    // Only `send` is used by the subscriber.
    return { send } as unknown as SQSClient;
  }

  private async receive(command: ReceiveMessageCommand): Promise<{ Messages: Message[] }> {
    // A short long-poll: gives the subscriber's loop a pace without blocking the test.
    await new Promise((resolve) => setTimeout(resolve, 5));
    const fromDlq = command.input.QueueUrl === 'dlq';
    const now = Date.now();
    if (!fromDlq) {
      // SQS moves a message received maxReceiveCount times on the next attempt to receive it.
      for (const m of [...this.queue]) {
        if (m.visibleAt <= now && m.receives >= this.maxReceiveCount) {
          this.queue.splice(this.queue.indexOf(m), 1);
          this.dlq.push({ ...m, receives: 0, visibleAt: 0 });
        }
      }
    }
    const list = fromDlq ? this.dlq : this.queue;
    const batch = list.filter((m) => m.visibleAt <= now).slice(0, command.input.MaxNumberOfMessages ?? 1);
    for (const m of batch) {
      m.receives += 1;
      m.visibleAt = now + this.visibilityMs;
    }
    return {
      Messages: batch.map((m) => ({
        MessageId: m.id,
        Body: m.body,
        ReceiptHandle: `${fromDlq ? 'dlq' : 'queue'}|${m.id}`,
        Attributes: { ApproximateReceiveCount: String(m.receives) },
      })),
    };
  }
}

async function postCallback(url: string, body: unknown): Promise<number> {
  const response = await fetch(`${url}${CALLBACK_PATH}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  await response.arrayBuffer();
  return response.status;
}

describe("the BE double's week", () => {
  it("turns in UTC by default (the BE's JVM with no TZ), in a zone it is given otherwise", () => {
    const utc = createBeDouble({ now: SEOUL_MONDAY_MORNING });
    const seoul = createBeDouble({ now: SEOUL_MONDAY_MORNING, timeZone: 'Asia/Seoul' });
    expect(utc.timeZone).toBe('UTC');
    expect(utc.week()).toBe('2025-06-02');
    expect(seoul.week()).toBe('2025-06-09');
    // Four hours later it is Monday 00:00 UTC: the BE's week has turned too.
    utc.advance(4 * 60 * MINUTE);
    expect(utc.week()).toBe('2025-06-09');
  });

  it('files a feedback under the week of its zone at receipt', async () => {
    const double = createBeDouble({ now: SEOUL_MONDAY_MORNING, members: 'any' });
    const url = await double.listen();
    try {
      expect(await postCallback(url, { memberId: 5, content: '피드백' })).toBe(200);
      expect(double.feedbacks().map((f) => f.week)).toEqual(['2025-06-02']);
    } finally {
      await double.close();
    }
  });
});

describe("the BE double's database outage", () => {
  it('answers the callback 404 while its store is down (its catch-all), and stores again after', async () => {
    const double = createBeDouble({ now: SEOUL_MONDAY_MORNING, members: 'any' });
    const url = await double.listen();
    try {
      double.failStoreFor(10 * MINUTE);
      expect(double.storeDown()).toBe(true);
      expect(await postCallback(url, { memberId: 6, content: '피드백' })).toBe(404);
      expect(double.feedbacks()).toEqual([]);
      double.advance(10 * MINUTE);
      expect(double.storeDown()).toBe(false);
      expect(await postCallback(url, { memberId: 6, content: '피드백' })).toBe(200);
      double.failStoreFor(10 * MINUTE);
      double.failStoreFor(0);
      expect(double.storeDown()).toBe(false);
    } finally {
      await double.close();
    }
  });

  it('leaves results on the queue until the redrive moves them to the DLQ, whose poller deletes them unlogged; after the outage a result is stored', async () => {
    const queues = new FakeQueues(3, 50);
    const double = createBeDouble({
      now: SEOUL_MONDAY_MORNING,
      members: 'any',
      sqs: queues.client(),
      resultQueueUrl: 'queue',
      resultDlqUrl: 'dlq',
      subscriber: { waitTimeSeconds: 0, pollDelayMs: 10 },
    });
    try {
      double.failStoreFor(60 * MINUTE);
      queues.put(JSON.stringify({ memberId: 7, content: '사라질 피드백' }));
      queues.put(JSON.stringify({ memberId: 8, content: '500' }));
      double.startSubscriber();
      await double.waitFor(() => double.dlqFailures().length === 2, 10_000, 'two results in the DLQ');
      expect(double.dlqFailures().every((f) => f.logged === false)).toBe(true);
      // The poller deletes each right after recording it.
      const deleted = await eventually(
        () => Promise.resolve(queues.deletedFromDlq.length),
        (n) => n === 2,
        5000,
        10,
      );
      expect(deleted).toBe(2);
      // Three receives each, all refused for the database (the status code is not re-published).
      expect(double.rejections().filter((r) => r.reason === 'database down')).toHaveLength(6);
      expect(double.feedbacks()).toEqual([]);
      expect(double.republishes()).toEqual([]);

      double.advance(60 * MINUTE);
      queues.put(JSON.stringify({ memberId: 7, content: '새 피드백' }));
      const stored = await double.waitFor(
        () => double.feedback(7, double.week()),
        10_000,
        'a stored feedback',
      );
      expect(stored.content).toBe('새 피드백');
    } finally {
      await double.close();
    }
  });
});

it('takes its database down by the minutes posted to its outage route (npm run be -- outage 30), and back with 0', async () => {
  const double = createBeDouble({ now: SEOUL_MONDAY_MORNING, members: 'any' });
  const url = await double.listen();
  const post = (body: unknown) =>
    fetch(`${url}${OUTAGE_PATH}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    }).then(async (r) => ({ status: r.status, body: (await r.json()) as { message: string } }));
  try {
    expect(await post({ minutes: 30 })).toEqual({
      status: 200,
      body: { status: 200, message: 'database down', data: { minutes: 30 } },
    });
    expect(double.storeDown()).toBe(true);
    double.advance(29 * MINUTE);
    expect(double.storeDown()).toBe(true);
    expect((await post({ minutes: 0 })).body.message).toBe('database up');
    expect(double.storeDown()).toBe(false);
    expect((await post({ minutes: 'lots' })).status).toBe(400);
  } finally {
    await double.close();
  }
});
