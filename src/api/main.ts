/** Entry point of the API process. */
import { loadConfig } from '../config';
import { createLogger } from '../shared/logger';
import { onShutdown, runMain } from '../shared/process';
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
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  logger.info({ port: config.api.port, host: config.api.host }, 'API listening');
  onShutdown(logger, async () => {
    // Stop accepting, let requests in flight finish, then drop idle keep-alive connections.
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    await closed;
    sqs.destroy();
  });
});
