/**
 * Liveness, readiness and metrics over HTTP: the checks every process shares, and the small server the
 * bridge and the worker run on their health port (the API serves the same routes on its own port).
 *   GET /health   200 while the process runs (liveness)
 *   GET /ready    200 when every dependency answers, else 503 naming the failing one
 *   GET /metrics  Prometheus text
 */
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Logger } from './logger';
import { gracefulHttpClose } from './process';

export interface ReadinessCheck {
  name: string;
  /** Resolves when the dependency answers; rejects (or times out) otherwise. */
  check: (signal: AbortSignal) => Promise<void>;
}

export interface Readiness {
  ready: boolean;
  checks: Record<string, 'ok' | string>;
}

const CHECK_TIMEOUT_MS = 2000;

/** Runs the checks in parallel, each bounded by 2 s. Failure texts name the error, never a secret. */
export async function runReadiness(checks: readonly ReadinessCheck[]): Promise<Readiness> {
  const results = await Promise.all(
    checks.map(async ({ name, check }) => {
      const signal = AbortSignal.timeout(CHECK_TIMEOUT_MS);
      try {
        await Promise.race([
          check(signal),
          new Promise<never>((_, reject) =>
            signal.addEventListener('abort', () => reject(new Error('timed out')), { once: true }),
          ),
        ]);
        return [name, 'ok'] as const;
      } catch (err) {
        return [name, err instanceof Error ? `${err.name}: ${err.message}`.slice(0, 200) : 'failed'] as const;
      }
    }),
  );
  return { ready: results.every(([, r]) => r === 'ok'), checks: Object.fromEntries(results) };
}

/** SQS is reachable and the queue exists. */
export function sqsQueueCheck(name: string, sqs: SQSClient, queueUrl: string): ReadinessCheck {
  return {
    name,
    check: async (signal) => {
      await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }), {
        abortSignal: signal,
      });
    },
  };
}

/** Temporal's frontend answers (GetSystemInfo, which every connection calls anyway). */
export function temporalCheck(service: {
  getSystemInfo: (request: object) => Promise<unknown>;
}): ReadinessCheck {
  return { name: 'temporal', check: async () => void (await service.getSystemInfo({})) };
}

export interface HealthServerOptions {
  port: number;
  host: string;
  logger: Logger;
  checks: readonly ReadinessCheck[];
  metrics: () => Promise<{ contentType: string; body: string }>;
}

export interface HealthServer {
  port: number;
  server: Server;
  close: () => Promise<void>;
}

export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const server = createServer((req, res) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify(body));
    };
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, { status: 405 });
    if (path === '/health') return send(200, { status: 'UP' });
    if (path === '/ready') {
      void runReadiness(options.checks).then((r) => send(r.ready ? 200 : 503, r));
      return;
    }
    if (path === '/metrics') {
      options.metrics().then(
        ({ contentType, body }) => {
          res.writeHead(200, { 'content-type': contentType });
          res.end(body);
        },
        (err: unknown) => {
          options.logger.warn({ err: { message: (err as Error).message } }, 'Metrics collection failed');
          send(500, { status: 500 });
        },
      );
      return;
    }
    send(404, { status: 404 });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  options.logger.info({ port, host: options.host }, 'Health server listening');
  return { port, server, close: gracefulHttpClose(server) };
}

/** A TCP port that is free on `host` right now (for an exporter that needs a fixed address). */
export async function findFreePort(host = '127.0.0.1'): Promise<number> {
  const probe = createTcpServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', reject);
    probe.listen(0, host, () => resolve());
  });
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}
