import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { createApp } from '../../src/api/app';
import { createLogger } from '../../src/shared/logger';
import { createSqsClient, type FeedbackQueues } from '../../src/shared/sqs';
import { fixtureJson, fixtureText } from '../support/fixtures';
import { NO_AUTH } from '../support/config';
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
    body: (await response.json()) as { status: number; message: string; data: unknown },
  };
}

describe('API with the SQS emulator', () => {
  let sqs: SQSClient;
  let queues: FeedbackQueues;
  let api: { url: string; close: () => Promise<void> };

  beforeAll(async () => {
    sqs = testSqsClient();
    queues = await freshQueues(sqs, 'api');
    api = await listen(
      createApp({ sqs, requestQueueUrl: queues.requestQueueUrl, logger, sqsTimeoutMs: 3000, auth: NO_AUTH }),
    );
  });
  afterAll(async () => {
    await api.close();
    sqs.destroy();
  });

  it('answers 202 and puts the request on the FIFO queue with requestId, timestamp, member group and requestId dedup', async () => {
    const fixture = fixtureJson<{ memberId: number }>('request-iso-dates.json');
    const { http, body } = await post(api.url, JSON.stringify(fixture));
    expect(http).toBe(202);
    expect(body.status).toBe(202);
    const data = body.data as { requestId: string; workflowId: string };
    expect(data.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(data.workflowId).toBe(`feedback-${data.requestId}`);

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
      MessageDeduplicationId: data.requestId,
    });
    const queued = JSON.parse(message?.Body ?? '{}') as Record<string, unknown>;
    expect(queued).toMatchObject({ memberId: 12345, requestId: data.requestId });
    expect(queued.timestamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?\+09:00$/);
  });

  it('answers 400 with the field errors for each invalid fixture', async () => {
    for (const name of ['both-lists-empty.json', 'feb-30.json', 'member-id-negative.json', 'month-13.json']) {
      const { http, body } = await post(api.url, fixtureText(`invalid/${name}`));
      expect(http).toBe(400);
      expect(body.status).toBe(400);
      const errors = (body.data as { errors: Array<{ path: string; message: string }> }).errors;
      expect(errors.length).toBeGreaterThan(0);
    }
  });

  it('answers 400 in the envelope for a body that is not JSON', async () => {
    const { http, body } = await post(api.url, fixtureText('invalid/truncated-json.txt'));
    expect(http).toBe(400);
    expect(body).toMatchObject({ status: 400, data: { errors: [{ path: '' }] } });
  });

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
