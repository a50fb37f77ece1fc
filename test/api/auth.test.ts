/**
 * API authentication and hygiene headers. SQS is a recording stub here (the API's client is injected):
 * these tests are about who gets in, not about the queue (test/api/app.test.ts uses the emulator).
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { createApp } from '../../src/api/app';
import type { ApiAuth } from '../../src/config';
import { createLogger } from '../../src/shared/logger';
import { signatureHeaders } from '../../src/shared/signing';

const TOKEN = 'test-token-0123456789abcdef';
const SECRET = 's'.repeat(40);
const BODY = JSON.stringify({
  memberId: 3,
  personalChallenges: [{ id: 1, title: '텀블러', isSuccess: true }],
});

let sent = 0;
/** Accepts every message of a SendMessageBatch, counting them. */
const sqs = {
  send: async (command: SendMessageBatchCommand) => {
    const entries = command.input.Entries ?? [];
    sent += entries.length;
    return { Successful: entries.map((e) => ({ Id: e.Id, MessageId: `m-${e.Id}` })), Failed: [] };
  },
} as unknown as SQSClient;

async function serve(auth: ApiAuth, extra: { corsOrigins?: string[] } = {}) {
  const app = createApp({
    sqs,
    requestQueueUrl: 'http://sqs.local/q.fifo',
    logger: createLogger('auth-test', 'silent'),
    sqsTimeoutMs: 1000,
    status: async () => undefined,
    auth,
    ...extra,
  });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}

const post = (url: string, headers: Record<string, string>, body = BODY) =>
  fetch(`${url}/ai/feedback`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });

describe('bearer authentication', () => {
  let api: Awaited<ReturnType<typeof serve>>;
  beforeAll(async () => (api = await serve({ mode: 'bearer', token: TOKEN })));
  afterAll(() => api.close());

  it('answers 401 with an envelope and WWW-Authenticate when the token is missing or wrong, and sends nothing', async () => {
    const before = sent;
    const attempts: Array<Record<string, string>> = [
      {},
      { authorization: `Bearer ${TOKEN}x` },
      { authorization: TOKEN },
      { authorization: 'Bearer ' },
    ];
    for (const headers of attempts) {
      const response = await post(api.url, headers);
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Bearer');
      const body = (await response.json()) as { status: number; data: { reason: string } };
      expect(body.status).toBe(401);
      expect(JSON.stringify(body)).not.toContain(TOKEN);
    }
    expect(sent).toBe(before);
  });

  it('accepts the right token on POST, and protects the status route and /metrics too', async () => {
    expect((await post(api.url, { authorization: `Bearer ${TOKEN}` })).status).toBe(202);
    expect((await fetch(`${api.url}/ai/feedback/abc`)).status).toBe(401);
    expect(
      (await fetch(`${api.url}/ai/feedback/abc`, { headers: { authorization: `Bearer ${TOKEN}` } })).status,
    ).toBe(404);
    expect((await fetch(`${api.url}/metrics`)).status).toBe(401);
  });

  it('leaves /health, /ready and the API description open', async () => {
    for (const path of ['/health', '/ready', '/openapi.json', '/docs/']) {
      expect({ path, status: (await fetch(`${api.url}${path}`)).status }).toEqual({ path, status: 200 });
    }
  });

  it('sends security headers, no x-powered-by, and no CORS headers unless configured', async () => {
    const response = await fetch(`${api.url}/health`, { headers: { origin: 'https://evil.example' } });
    expect(response.headers.get('x-powered-by')).toBeNull();
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
  });
});

it('sends CORS headers only for the configured origins', async () => {
  const api = await serve({ mode: 'none' }, { corsOrigins: ['https://admin.leafresh.example'] });
  try {
    const allowed = await fetch(`${api.url}/health`, {
      headers: { origin: 'https://admin.leafresh.example' },
    });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://admin.leafresh.example');
    // A browser's script may read where a 202 points (not safelisted headers otherwise).
    expect(allowed.headers.get('access-control-expose-headers')).toBe('Location,X-Request-Id');
    const other = await fetch(`${api.url}/health`, { headers: { origin: 'https://evil.example' } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  } finally {
    await api.close();
  }
});

describe('HMAC authentication', () => {
  let api: Awaited<ReturnType<typeof serve>>;
  beforeAll(async () => (api = await serve({ mode: 'hmac', secret: SECRET, windowSeconds: 300 })));
  afterAll(() => api.close());

  it('accepts a body signed with the timestamp, once', async () => {
    const headers = signatureHeaders(SECRET, BODY);
    expect((await post(api.url, headers)).status).toBe(202);
    const replay = await post(api.url, headers);
    expect(replay.status).toBe(401);
    expect(((await replay.json()) as { data: { reason: string } }).data.reason).toBe(
      'signature already used',
    );
  });

  it('refuses a signature of another body, an old timestamp, another secret, or none', async () => {
    const cases: Array<[Record<string, string>, string]> = [
      [signatureHeaders(SECRET, '{"memberId":4}'), 'signature does not match'],
      [signatureHeaders(SECRET, BODY, Date.now() - 301_000), 'timestamp outside the allowed window'],
      [signatureHeaders('t'.repeat(40), BODY), 'signature does not match'],
      [{}, 'missing signature headers'],
    ];
    for (const [headers, reason] of cases) {
      const response = await post(api.url, headers);
      expect(response.status).toBe(401);
      expect(((await response.json()) as { data: { reason: string } }).data.reason).toBe(reason);
    }
  });

  it('signs a GET over its method and path', async () => {
    const headers = signatureHeaders(SECRET, 'GET /ai/feedback/abc');
    expect((await fetch(`${api.url}/ai/feedback/abc`, { headers })).status).toBe(404);
    const elsewhere = signatureHeaders(SECRET, 'GET /ai/feedback/other');
    expect((await fetch(`${api.url}/ai/feedback/abc`, { headers: elsewhere })).status).toBe(401);
  });
});

it('refuses everything when bearer mode has no token (a misconfigured process), even an empty bearer', async () => {
  const api = await serve({ mode: 'bearer', token: '' });
  try {
    expect((await post(api.url, { authorization: 'Bearer ' })).status).toBe(401);
    expect((await post(api.url, { authorization: 'Bearer x' })).status).toBe(401);
  } finally {
    await api.close();
  }
});
