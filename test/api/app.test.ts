import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { z } from 'zod';
import { createApp } from '../../src/api/app';
import { createLogger } from '../../src/shared/logger';
import { createSqsClient, type FeedbackQueues } from '../../src/shared/sqs';
import { Messages } from '../../src/api/envelope';
import { fixtureJson, fixtureText, VALID_REQUEST_FIXTURES } from '../support/fixtures';
import { NO_AUTH } from '../support/config';
import { INVALID_REQUEST_PATHS, NOT_JSON_FIXTURE } from '../support/invalid-requests';
import { longTimeMember } from '../support/requests';
import { freshQueues, LOCAL_CREDENTIALS, testConfig, testSqsClient } from '../support/stack';

const logger = createLogger('api-test', 'silent');

async function listen(
  app: ReturnType<typeof createApp>,
): Promise<{ url: string; close: () => Promise<void> }> {
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}

async function post(url: string, body: string, contentType = 'application/json') {
  const response = await fetch(`${url}/ai/feedback`, {
    method: 'POST',
    headers: { 'content-type': contentType },
    body,
  });
  return {
    http: response.status,
    headers: response.headers,
    body: (await response.json()) as { status: number; message: string; data: unknown },
  };
}

/**
 * The BE's `AiFeedbackApiResponseDto` `{int status, String message, AiFeedbackResponseDto data}` with
 * `data` = `{String content}`, as its plain Jackson ObjectMapper reads it: an unknown property fails.
 */
const beResponseDto = z.strictObject({
  status: z.number().int(),
  message: z.string(),
  data: z.strictObject({ content: z.string() }).nullable(),
});

describe('API with the SQS emulator', () => {
  let sqs: SQSClient;
  let queues: FeedbackQueues;
  let api: { url: string; close: () => Promise<void> };

  beforeAll(async () => {
    sqs = testSqsClient();
    queues = await freshQueues(sqs, 'api');
    api = await listen(
      createApp({
        sqs,
        requestQueueUrl: queues.requestQueueUrl,
        logger,
        sqsTimeoutMs: 3000,
        auth: NO_AUTH,
        // Temporal has no run for any request yet: the status route answers from the accepted ones.
        status: async () => undefined,
      }),
    );
  });
  afterAll(async () => {
    await api.close();
    sqs.destroy();
  });

  it('answers 202 and puts the request on the FIFO queue with requestId, timestamp, member group and requestId dedup', async () => {
    const fixture = fixtureJson<{ memberId: number }>('request-iso-dates.json');
    const { http, headers, body } = await post(api.url, JSON.stringify(fixture));
    expect(http).toBe(202);
    expect(body.status).toBe(202);
    const requestId = headers.get('x-request-id');
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);

    const out = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queues.requestQueueUrl,
        WaitTimeSeconds: 1,
        MessageSystemAttributeNames: ['MessageGroupId', 'MessageDeduplicationId'],
      }),
    );
    const message = out.Messages?.[0];
    expect(message?.Attributes).toMatchObject({
      MessageGroupId: '12345',
      MessageDeduplicationId: requestId,
    });
    const queued = JSON.parse(message?.Body ?? '{}') as Record<string, unknown>;
    expect(queued).toMatchObject({ memberId: 12345, requestId });
    expect(queued.timestamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?\+09:00$/);
  });

  it("answers 202 with a body the BE's strict DTO parses (status, message, data null) and the id in Location and X-Request-Id", async () => {
    for (const name of VALID_REQUEST_FIXTURES) {
      const { http, headers, body } = await post(api.url, fixtureText(name));
      expect(http).toBe(202);
      expect(Object.keys(body).sort()).toEqual(['data', 'message', 'status']);
      const dto = beResponseDto.parse(body);
      expect(dto).toEqual({ status: 202, message: Messages.accepted, data: null });
      const requestId = headers.get('x-request-id');
      expect(requestId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(headers.get('location')).toBe(`/ai/feedback/${requestId}`);
    }
  });

  it('answers a GET of the Location of a 202 with that request, queued', async () => {
    const fixture = fixtureJson<{ memberId: number }>('request-jackson-array-dates.json');
    const { http, headers } = await post(api.url, JSON.stringify(fixture));
    expect(http).toBe(202);
    const location = headers.get('location') ?? '';
    const status = await fetch(new URL(location, api.url));
    expect(status.status).toBe(200);
    expect(((await status.json()) as { data: unknown }).data).toMatchObject({
      requestId: headers.get('x-request-id'),
      workflowId: `feedback-${headers.get('x-request-id')}`,
      memberId: fixture.memberId,
      stage: 'queued',
    });
  });

  it('accepts a long-time member with 800 group challenges, most without submissions, and queues all of them', async () => {
    const ownQueues = await freshQueues(sqs, 'api-long-member');
    const ownApi = await listen(
      createApp({
        sqs,
        requestQueueUrl: ownQueues.requestQueueUrl,
        logger,
        sqsTimeoutMs: 3000,
        auth: NO_AUTH,
      }),
    );
    try {
      const { http, headers, body } = await post(ownApi.url, JSON.stringify(longTimeMember(777, 800)));
      expect(http).toBe(202);
      expect(body).toEqual({ status: 202, message: Messages.accepted, data: null });
      const out = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: ownQueues.requestQueueUrl, WaitTimeSeconds: 1 }),
      );
      const queued = JSON.parse(out.Messages?.[0]?.Body ?? '{}') as {
        requestId?: string;
        groupChallenges?: Array<{ submissions: unknown[] }>;
      };
      expect(queued.requestId).toBe(headers.get('x-request-id'));
      expect(queued.groupChallenges).toHaveLength(800);
      expect(queued.groupChallenges?.filter((g) => g.submissions.length > 0)).toHaveLength(3);
    } finally {
      await ownApi.close();
    }
  });

  it('accepts requests that arrive together in shared SendMessageBatch calls, each message with its own group and dedup id', async () => {
    const burstQueues = await freshQueues(sqs, 'api-burst');
    const counted = testSqsClient();
    const batchSizes: number[] = [];
    counted.middlewareStack.add(
      (next, context) => async (args) => {
        const entries = (args.input as { Entries?: unknown[] }).Entries;
        if (context.commandName === 'SendMessageBatchCommand') batchSizes.push(entries?.length ?? 0);
        return next(args);
      },
      { step: 'initialize' },
    );
    const burstApi = await listen(
      createApp({
        sqs: counted,
        requestQueueUrl: burstQueues.requestQueueUrl,
        logger,
        sqsTimeoutMs: 3000,
        auth: NO_AUTH,
      }),
    );
    try {
      const fixture = fixtureJson<{ memberId: number }>('request-iso-dates.json');
      // Bursts of 20 at once (their connections open after the first): requests that reach the API in
      // the same turn of its event loop share a call, so some burst takes fewer calls than requests.
      const accepted = new Map<string, string>();
      const callsPerBurst: number[] = [];
      for (let burst = 0; burst < 4 && !callsPerBurst.some((calls) => calls < 20); burst++) {
        batchSizes.length = 0;
        const answers = await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            post(burstApi.url, JSON.stringify({ ...fixture, memberId: 100 + i })),
          ),
        );
        expect(answers.map((a) => a.http)).toEqual(Array.from({ length: 20 }, () => 202));
        answers.forEach((a, i) => accepted.set(a.headers.get('x-request-id') ?? '', String(100 + i)));
        // Every request went out once.
        expect(batchSizes.reduce((sum, size) => sum + size, 0)).toBe(20);
        if (burst > 0) callsPerBurst.push(batchSizes.length);
      }
      expect(Math.min(...callsPerBurst)).toBeLessThan(20);

      const received = new Map<string, string>();
      for (let i = 0; i < 40 && received.size < accepted.size; i++) {
        const out = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: burstQueues.requestQueueUrl,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 1,
            MessageSystemAttributeNames: ['MessageGroupId', 'MessageDeduplicationId'],
          }),
        );
        for (const m of out.Messages ?? []) {
          const dedup = m.Attributes?.MessageDeduplicationId ?? '';
          received.set(dedup, m.Attributes?.MessageGroupId ?? '');
          expect((JSON.parse(m.Body ?? '{}') as { requestId?: string }).requestId).toBe(dedup);
        }
      }
      expect(received).toEqual(accepted);
    } finally {
      await burstApi.close();
      counted.destroy();
    }
  });

  it("answers 413 when the queue refuses the message as too long (ElasticMQ's 256 KiB)", async () => {
    // Valid and under the API's 1 MiB, over ElasticMQ's 256 KiB: 12 × 500 submissions.
    const submission = { isSuccess: true, submittedAt: '2025-06-10T14:30:00.123456' };
    const big = JSON.stringify({
      memberId: 1,
      personalChallenges: [],
      groupChallenges: Array.from({ length: 12 }, (_, i) => ({
        id: i + 1,
        title: '친환경 제품 사용하기',
        startDate: '2025-06-09T00:00:00',
        endDate: '2025-06-15T23:59:59',
        submissions: Array.from({ length: 500 }, () => submission),
      })),
    });
    expect(Buffer.byteLength(big)).toBeGreaterThan(256 * 1024);
    const { http, body } = await post(api.url, big);
    expect(http).toBe(413);
    expect(body.status).toBe(413);
  });

  it.each(Object.entries(INVALID_REQUEST_PATHS))(
    'answers 400 to the invalid fixture %s: the envelope, with one {path, message} error at each of %j',
    async (name, paths) => {
      const { http, body } = await post(api.url, fixtureText(`invalid/${name}`));
      expect(http).toBe(400);
      expect(body).toStrictEqual({
        status: 400,
        message: name === NOT_JSON_FIXTURE ? Messages.invalidJson : Messages.invalid,
        data: { errors: paths.map((path) => ({ path, message: expect.stringMatching(/\S/) })) },
      });
    },
  );

  it('answers 413 in the envelope for a body over 1 MiB', async () => {
    const huge = JSON.stringify({
      memberId: 1,
      personalChallenges: [{ id: 1, title: 'x'.repeat(1_100_000), isSuccess: true }],
    });
    const { http, body } = await post(api.url, huge);
    expect(http).toBe(413);
    expect(body.status).toBe(413);
  });

  it('answers 404 in the envelope for an unknown route and 200 on /health', async () => {
    const missing = await fetch(`${api.url}/nope`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ status: 404, data: null });
    const health = await fetch(`${api.url}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 200, data: { status: 'UP' } });
    expect(health.headers.get('x-powered-by')).toBeNull();
  });
});

describe('API when SQS is unreachable', () => {
  it('answers 503 within a few seconds when the queue endpoint does not answer', async () => {
    // A TCP server that accepts connections and never answers: the worst case for a client.
    const blackhole = createServer(() => undefined);
    await new Promise<void>((resolve) => blackhole.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${(blackhole.address() as AddressInfo).port}`;
    const config = testConfig({ AWS_ENDPOINT_URL_SQS: endpoint });
    const sqs = createSqsClient(config.sqs, {
      maxAttempts: 1,
      requestTimeoutMs: 1000,
      credentials: LOCAL_CREDENTIALS,
    });
    const api = await listen(
      createApp({
        sqs,
        requestQueueUrl: `${endpoint}/000000000000/q.fifo`,
        logger,
        sqsTimeoutMs: 1500,
        auth: NO_AUTH,
      }),
    );
    try {
      const started = Date.now();
      const { http, body } = await post(api.url, JSON.stringify(fixtureJson('request-iso-dates.json')));
      expect(http).toBe(503);
      expect(body.status).toBe(503);
      expect(Date.now() - started).toBeLessThan(4000);
    } finally {
      await api.close();
      sqs.destroy();
      blackhole.closeAllConnections();
      blackhole.close();
    }
  });
});
