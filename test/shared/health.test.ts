/**
 * Liveness, readiness and metrics over HTTP (src/shared/health.ts), without a process around them:
 * the readiness checks' verdicts and bound, and the health server's routes.
 */
import { createServer } from 'node:net';
import { createLogger } from '../../src/shared/logger';
import {
  findFreePort,
  runReadiness,
  startHealthServer,
  type HealthServer,
  type ReadinessCheck,
} from '../../src/shared/health';

const ok = (name: string): ReadinessCheck => ({ name, check: async () => undefined });
const failing = (name: string, err: Error): ReadinessCheck => ({
  name,
  check: async () => {
    throw err;
  },
});

describe('runReadiness', () => {
  it('is ready when every check answers', async () => {
    expect(await runReadiness([ok('temporal'), ok('sqs')])).toEqual({
      ready: true,
      checks: { temporal: 'ok', sqs: 'ok' },
    });
  });

  it("is not ready when one fails, naming the failure's type and message", async () => {
    const err = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9324'), { name: 'NetworkError' });
    expect(await runReadiness([ok('temporal'), failing('sqs', err)])).toEqual({
      ready: false,
      checks: { temporal: 'ok', sqs: 'NetworkError: connect ECONNREFUSED 127.0.0.1:9324' },
    });
  });

  it('cuts a long failure text at 200 characters', async () => {
    const { checks } = await runReadiness([failing('sqs', new Error('x'.repeat(500)))]);
    expect(checks.sqs).toHaveLength(200);
    expect(checks.sqs.startsWith('Error: xxx')).toBe(true);
  });

  it('gives up on a check after 2 s, aborting its signal, and runs the checks side by side', async () => {
    let aborted = false;
    const hanging: ReadinessCheck = {
      name: 'temporal',
      check: (signal) =>
        new Promise(() => {
          signal.addEventListener('abort', () => (aborted = true));
        }),
    };
    const slow: ReadinessCheck = {
      name: 'sqs',
      check: () => new Promise((resolve) => setTimeout(resolve, 1500)),
    };
    const started = Date.now();
    const readiness = await runReadiness([hanging, slow]);
    const elapsed = Date.now() - started;
    expect(readiness).toEqual({ ready: false, checks: { temporal: 'Error: timed out', sqs: 'ok' } });
    expect(aborted).toBe(true);
    expect(elapsed).toBeGreaterThanOrEqual(1900);
    expect(elapsed).toBeLessThan(3400);
  });
});

describe('the health server', () => {
  const logger = createLogger('health-test', 'silent');
  let server: HealthServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  async function start(
    checks: ReadinessCheck[],
    metrics = async () => ({ contentType: 'text/plain', body: 'm 1\n' }),
  ) {
    server = await startHealthServer({ port: 0, host: '127.0.0.1', logger, checks, metrics });
    const base = `http://127.0.0.1:${server.port}`;
    return async (path: string, init?: RequestInit) => {
      const response = await fetch(`${base}${path}`, init);
      return {
        status: response.status,
        type: response.headers.get('content-type'),
        text: await response.text(),
      };
    };
  }

  it('answers /health with 200 while the process runs, whatever its dependencies say', async () => {
    const get = await start([failing('temporal', new Error('down'))]);
    expect(await get('/health')).toEqual({
      status: 200,
      type: 'application/json; charset=utf-8',
      text: '{"status":"UP"}',
    });
  });

  it('answers /ready with 200 and the checks, or 503 naming the failing one', async () => {
    const ready = await start([ok('temporal')]);
    expect(await ready('/ready')).toMatchObject({
      status: 200,
      text: '{"ready":true,"checks":{"temporal":"ok"}}',
    });
    await server?.close();
    const notReady = await start([ok('temporal'), failing('sqs', new Error('no queue'))]);
    const answer = await notReady('/ready?verbose=1');
    expect(answer.status).toBe(503);
    expect(JSON.parse(answer.text)).toEqual({
      ready: false,
      checks: { temporal: 'ok', sqs: 'Error: no queue' },
    });
  });

  it('serves /metrics with their content type, and 500 when collecting them fails', async () => {
    const get = await start([], async () => ({ contentType: 'text/plain; version=0.0.4', body: 'up 1\n' }));
    expect(await get('/metrics')).toEqual({ status: 200, type: 'text/plain; version=0.0.4', text: 'up 1\n' });
    await server?.close();
    const broken = await start([], async () => {
      throw new Error('exporter down');
    });
    expect(await broken('/metrics')).toMatchObject({ status: 500, text: '{"status":500}' });
  });

  it('answers 405 to anything but GET and HEAD, and 404 to other paths', async () => {
    const get = await start([ok('temporal')]);
    expect((await get('/health', { method: 'POST' })).status).toBe(405);
    expect((await get('/health', { method: 'HEAD' })).status).toBe(200);
    expect(await get('/nope')).toMatchObject({ status: 404, text: '{"status":404}' });
  });

  it('listens on a free port when asked for port 0, and stops listening on close', async () => {
    await start([]);
    const port = (server as HealthServer).port;
    expect(port).toBeGreaterThan(0);
    await server?.close();
    server = undefined;
    await expect(fetch(`http://127.0.0.1:${port}/health`)).rejects.toThrow();
  });
});

it('findFreePort gives a port that can be listened on right away', async () => {
  const port = await findFreePort();
  const probe = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', reject);
    probe.listen(port, '127.0.0.1', () => resolve());
  });
  await new Promise<void>((resolve) => probe.close(() => resolve()));
});
