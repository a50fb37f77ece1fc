/** Entry point of the API process. */
import type { AddressInfo } from 'node:net';
import { loadConfig } from '../config';
import { createLogger } from '../shared/logger';
import { gracefulHttpClose, onShutdown, runMain } from '../shared/process';
import { createSqsClient } from '../shared/sqs';
import { createApp } from './app';

runMain('api', async () => {
  const config = loadConfig(process.env, ['requestQueue']);
  const logger = createLogger('api', config.logLevel);
  // One SDK attempt: the BE waits at most 5 s, so an unreachable queue must become a 503 quickly.
  const sqs = createSqsClient(config.sqs, { maxAttempts: 1 });
  const app = createApp({
    sqs,
    requestQueueUrl: config.sqs.requestQueueUrl as string,
    logger,
    sqsTimeoutMs: config.sqs.requestTimeoutMs,
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
    sqs.destroy();
  });
});
