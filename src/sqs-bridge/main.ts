/** Entry point of the SQS bridge process. */
import { deliveryWarnings, loadConfig } from '../config';
import { sqsQueueCheck, startHealthServer, temporalCheck } from '../shared/health';
import { createLogger } from '../shared/logger';
import { createBridgeMetrics, createMetricsRegistry } from '../shared/metrics';
import { onShutdown, runMain } from '../shared/process';
import { createSqsClient } from '../shared/sqs';
import { connectWithRetry, STARTUP_MAX_WAIT_MS } from '../shared/startup';
import { connectTemporalClient } from '../shared/temporal';
import { setupTracing } from '../shared/tracing';
import { openQueueRunsCounter, QueueAdmission } from './admission';
import { SqsBridge } from './bridge';

runMain('sqs-bridge', async () => {
  const config = loadConfig(process.env, ['requestQueue', 'dlq', 'delivery']);
  const logger = createLogger('sqs-bridge', config.logLevel);
  for (const warning of deliveryWarnings(config)) logger.warn(warning);
  const requestQueueUrl = config.sqs.requestQueueUrl as string;
  // Long polls hold a request open for the wait time; give each call that plus a margin.
  const sqs = createSqsClient(config.sqs, {
    requestTimeoutMs: config.bridge.waitTimeSeconds * 1000 + config.sqs.requestTimeoutMs,
  });
  const registry = createMetricsRegistry('sqs-bridge');
  const metrics = createBridgeMetrics(registry);
  // Started while Temporal is down (a restart during an outage): wait for it rather than exit.
  const tracing = await setupTracing(config.tracing, 'sqs-bridge');
  const temporal = await connectWithRetry(
    'Temporal',
    () => connectTemporalClient(config.temporal, { tracing: tracing !== undefined }),
    logger,
    { maxWaitMs: STARTUP_MAX_WAIT_MS },
  );
  const health = await startHealthServer({
    port: config.health.bridgePort,
    host: config.health.host,
    logger,
    checks: [temporalCheck(temporal.workflowService), sqsQueueCheck('sqs', sqs, requestQueueUrl)],
    metrics: async () => ({ contentType: registry.contentType, body: await registry.metrics() }),
  });
  const bridge = new SqsBridge({
    sqs,
    temporal,
    logger,
    requestQueueUrl,
    dlqUrl: config.sqs.dlqUrl as string,
    taskQueue: config.temporal.taskQueue,
    policy: config.policy,
    promptVersion: config.prompt.version,
    priority: config.priority,
    ...(config.bridge.maxOpenQueueRuns > 0
      ? {
          admission: new QueueAdmission({
            maxOpen: config.bridge.maxOpenQueueRuns,
            countOpen: openQueueRunsCounter(temporal),
          }),
        }
      : {}),
    metrics,
    ...config.bridge,
  });
  bridge.start();
  onShutdown(logger, async () => {
    await bridge.stop();
    await health.close();
    await tracing?.shutdown();
    await temporal.connection.close();
    sqs.destroy();
  });
});
