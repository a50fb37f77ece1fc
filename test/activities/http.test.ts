import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describeNetworkError, isRetryableStatus, joinUrl, postJson } from '../../src/activities/http';

describe('joinUrl', () => {
  it('joins base and path with exactly one slash', () => {
    const expected = 'https://be.example/api/members/feedback/result';
    expect(joinUrl('https://be.example', '/api/members/feedback/result')).toBe(expected);
    expect(joinUrl('https://be.example/', '/api/members/feedback/result')).toBe(expected);
    expect(joinUrl('https://be.example//', 'api/members/feedback/result')).toBe(expected);
    expect(joinUrl('https://be.example/prefix/', '/x')).toBe('https://be.example/prefix/x');
  });
});

describe('isRetryableStatus', () => {
  it('retries timeouts, throttling and server errors but not client errors', () => {
    expect([408, 429, 500, 502, 503, 504].every(isRetryableStatus)).toBe(true);
    expect([400, 401, 403, 404, 409, 422].some(isRetryableStatus)).toBe(false);
  });
});

describe('postJson', () => {
  let server: Server;
  let base: string;
  const seen: Array<{ headers: IncomingHttpHeaders; body: string }> = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/hang') return; // never answers
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        seen.push({ headers: req.headers, body });
        const status = req.url === '/teapot' ? 418 : 201;
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ echoed: JSON.parse(body) }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('sends the JSON body with its headers and signature, and returns any status with the body text', async () => {
    const response = await postJson(
      `${base}/ok`,
      { a: 1 },
      { headers: { 'x-extra': 'yes' }, sign: (body) => ({ 'x-signature': `len-${body.length}` }) },
    );
    expect(response).toEqual({ status: 201, text: '{"echoed":{"a":1}}' });
    const request = seen.at(-1);
    expect(request?.body).toBe('{"a":1}');
    expect(request?.headers).toMatchObject({
      'content-type': 'application/json',
      'x-extra': 'yes',
      'x-signature': 'len-7',
    });
    await expect(postJson(`${base}/teapot`, { b: 2 })).resolves.toEqual({
      status: 418,
      text: '{"echoed":{"b":2}}',
    });
  });

  it('throws a timeout, an abort and a refused connection, each described without request data', async () => {
    const timedOut = await postJson(`${base}/hang`, {}, { timeoutMs: 100 }).catch((err: unknown) => err);
    expect(describeNetworkError(timedOut)).toBe('request timed out');
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 50);
    const aborted = await postJson(`${base}/hang`, {}, { signal: abort.signal, timeoutMs: 10_000 }).catch(
      (err: unknown) => err,
    );
    expect(describeNetworkError(aborted)).toBe('request aborted');
    const refused = await postJson('http://127.0.0.1:1/x', { secret: 's3cr3t' }).catch((err: unknown) => err);
    expect(describeNetworkError(refused)).toMatch(/ECONNREFUSED/);
    expect(describeNetworkError(refused)).not.toMatch(/s3cr3t/);
  });
});
