/** Entry point of the SQS bridge process. */
import { loadConfig } from '../config';
import { createLogger } from '../shared/logger';
import { onShutdown, runMain } from '../shared/process';
import { createSqsClient } from '../shared/sqs';
import { connectWithRetry, STARTUP_MAX_WAIT_MS } from '../shared/startup';
import { connectTemporalClient } from '../shared/temporal';
import { SqsBridge } from './bridge';

runMain('sqs-bridge', async () => {
  const config = loadConfig(process.env, ['requestQueue', 'dlq', 'delivery']);
  const logger = createLogger('sqs-bridge', config.logLevel);
  // Long polls hold a request open for the wait time; give each call that plus a margin.
  const sqs = createSqsClient(config.sqs, {
    requestTimeoutMs: config.bridge.waitTimeSeconds * 1000 + config.sqs.requestTimeoutMs,
  });
  // Started while Temporal is down (a restart during an outage): wait for it rather than exit.
  const temporal = await connectWithRetry('Temporal', () => connectTemporalClient(config.temporal), logger, {
    maxWaitMs: STARTUP_MAX_WAIT_MS,
  });
  const bridge = new SqsBridge({
    sqs,
    temporal,
    logger,
    requestQueueUrl: config.sqs.requestQueueUrl as string,
    dlqUrl: config.sqs.dlqUrl as string,
    taskQueue: config.temporal.taskQueue,
    policy: config.policy,
    ...config.bridge,
  });
  bridge.start();
  onShutdown(logger, async () => {
    await bridge.stop();
    await temporal.connection.close();
    sqs.destroy();
  });
});
