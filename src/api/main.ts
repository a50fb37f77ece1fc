/** Entry point of the API process. */
import type { AddressInfo } from 'node:net';
import { Client, Connection } from '@temporalio/client';
import { loadConfig } from '../config';
import { lookupFeedbackStatus } from '../ops/status';
import { sqsQueueCheck, temporalCheck } from '../shared/health';
import { createLogger } from '../shared/logger';
import { createApiMetrics, createMetricsRegistry } from '../shared/metrics';
import { gracefulHttpClose, onShutdown, runMain } from '../shared/process';
import { createSqsClient } from '../shared/sqs';
import { temporalConnectionOptions } from '../shared/temporal';
import { setupTracing } from '../shared/tracing';
import { createApp } from './app';

runMain('api', async () => {
  const config = loadConfig(process.env, ['requestQueue', 'apiAuth']);
  const logger = createLogger('api', config.logLevel);
  if (config.api.auth.mode === 'none') {
    logger.warn('API authentication is off (API_AUTH_MODE=none): for local runs only');
  }
  const requestQueueUrl = config.sqs.requestQueueUrl as string;
  // One SDK attempt: the BE waits at most 5 s, so an unreachable queue must become a 503 quickly.
  const sqs = createSqsClient(config.sqs, { maxAttempts: 1 });
  // Lazy: accepting requests needs only SQS; Temporal is needed for the status route and /ready.
  const connection = Connection.lazy({
    ...temporalConnectionOptions(config.temporal),
    connectTimeout: '3 seconds',
  });
  const temporal = new Client({ connection, namespace: config.temporal.namespace });
  const tracing = await setupTracing(config.tracing, 'api');
  const registry = createMetricsRegistry('api');
  const app = createApp({
    sqs,
    requestQueueUrl,
    logger,
    sqsTimeoutMs: config.sqs.requestTimeoutMs,
    status: (requestId) =>
      connection.withDeadline(Date.now() + 5000, () =>
        lookupFeedbackStatus(temporal, requestId, { temporal: config.temporal }),
      ),
    readiness: [sqsQueueCheck('sqs', sqs, requestQueueUrl), temporalCheck(connection.workflowService)],
    metrics: { registry, api: createApiMetrics(registry) },
    auth: config.api.auth,
    corsOrigins: config.api.corsOrigins,
  });
  const server = app.listen(config.api.port, config.api.host);
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
    await connection.close();
    sqs.destroy();
  });
});
