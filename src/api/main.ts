/** Entry point of the API process. */
import type { AddressInfo } from 'node:net';
import { loadConfig, type AppConfig } from '../config';
import type { FeedbackStatusView } from '../domain/status-view';
import { sqsQueueCheck } from '../shared/health';
import { createLogger } from '../shared/logger';
import { createApiMetrics, createMetricsRegistry } from '../shared/metrics';
import { gracefulHttpClose, onShutdown, runMain } from '../shared/process';
import { createSqsClient } from '../shared/sqs';
import { setupTracing } from '../shared/tracing';
import { createApp } from './app';

const KEEP_ALIVE_TIMEOUT_MS = 65_000;

runMain('api', async () => {
  const config = loadConfig(process.env, ['requestQueue', 'apiAuth']);
  const logger = createLogger('api', config.logLevel);
  if (config.api.auth.mode === 'none') {
    logger.warn('API authentication is off (API_AUTH_MODE=none): for local runs only');
  }
  const requestQueueUrl = config.sqs.requestQueueUrl as string;
  // One SDK attempt: the BE waits at most 5 s, so an unreachable queue must become a 503 quickly.
  const sqs = createSqsClient(config.sqs, { maxAttempts: 1 });
  const temporal = lazyStatusLookup(config.temporal);
  const tracing = await setupTracing(config.tracing, 'api');
  const registry = createMetricsRegistry('api');
  const app = createApp({
    sqs,
    requestQueueUrl,
    logger,
    sqsTimeoutMs: config.sqs.requestTimeoutMs,
    status: temporal.lookup,
    // Accepting a request needs SQS only: while Temporal is away the queue keeps the requests, so the
    // API stays ready (the bridge's and the worker's /ready report Temporal).
    readiness: [sqsQueueCheck('sqs', sqs, requestQueueUrl)],
    metrics: { registry, api: createApiMetrics(registry) },
    auth: config.api.auth,
    corsOrigins: config.api.corsOrigins,
  });
  const server = app.listen(config.api.port, config.api.host);
  // Idle keep-alive connections stay 65 s (Node's default is 5 s), longer than the idle timeout of a
  // load balancer in front (an AWS ALB's: 60 s) and than the BE's quiet moments: a client that comes
  // back after 5 s of quiet otherwise opens a new connection, its first request paying the connect
  // (or fails when it sent on a connection the API was closing at that moment). Only idle time:
  // receiving a request's headers stays bounded by headersTimeout (60 s) as before.
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  const closeServer = gracefulHttpClose(server);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  // The bound port (API_PORT=0 picks a free one).
  logger.info({ port: (server.address() as AddressInfo).port, host: config.api.host }, 'API listening');
  onShutdown(logger, async () => {
    await closeServer();
    await tracing?.shutdown();
    await temporal.close();
    sqs.destroy();
  });
});

/**
 * The Temporal client for the status route, loaded and connected on its first use: accepting
 * requests does not need it, and it is about a third of the API's memory.
 */
function lazyStatusLookup(settings: AppConfig['temporal']) {
  type Lookup = (requestId: string) => Promise<FeedbackStatusView | undefined>;
  let loaded: Promise<{ lookup: Lookup; close: () => Promise<void> }> | undefined;
  const load = () =>
    (loaded ??= (async () => {
      const [{ Client, Connection }, { lookupFeedbackStatus }, { temporalConnectionOptions }] =
        await Promise.all([
          import('@temporalio/client'),
          import('../run/status'),
          import('../shared/temporal'),
        ]);
      const connection = Connection.lazy({
        ...temporalConnectionOptions(settings),
        connectTimeout: '3 seconds',
      });
      const client = new Client({ connection, namespace: settings.namespace });
      const lookup: Lookup = (requestId) =>
        connection.withDeadline(Date.now() + 5000, () =>
          lookupFeedbackStatus(client, requestId, { temporal: settings }),
        );
      return { lookup, close: () => connection.close() };
    })());
  const lookup: Lookup = async (requestId) => (await load()).lookup(requestId);
  return {
    lookup,
    close: async () => {
      if (loaded) await (await loaded).close();
    },
  };
}
