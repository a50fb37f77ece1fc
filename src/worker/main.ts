/** Entry point of the worker process. */
import { existsSync } from 'node:fs';
import { DefaultLogger, NativeConnection, Runtime, type LogLevel } from '@temporalio/worker';
import { createActivities } from '../activities';
import { loadConfig } from '../config';
import { createLogger } from '../shared/logger';
import { onShutdown, runMain } from '../shared/process';
import { connectWithRetry, STARTUP_MAX_WAIT_MS } from '../shared/startup';
import { temporalConnectionOptions } from '../shared/temporal';
import { createSqsClient } from '../shared/sqs';
import { createFeedbackWorker } from './worker';
import { DEFAULT_BUNDLE_PATH } from './bundle-path';

const SDK_LEVELS: Record<string, LogLevel> = {
  trace: 'TRACE',
  debug: 'DEBUG',
  info: 'INFO',
  warn: 'WARN',
  error: 'ERROR',
  fatal: 'ERROR',
  silent: 'ERROR',
};

runMain('worker', async () => {
  const config = loadConfig(process.env, ['delivery']);
  const logger = createLogger('worker', config.logLevel);
  // The SDK's own logs (activity and workflow logs carry workflowId, activityId…) go through pino.
  // No SDK signal handlers: onShutdown below owns SIGTERM/SIGINT (and runMain until then).
  Runtime.install({
    shutdownSignals: [],
    logger: new DefaultLogger(SDK_LEVELS[config.logLevel], (entry) => {
      const level =
        entry.level === 'TRACE'
          ? 'trace'
          : (entry.level.toLowerCase() as 'debug' | 'info' | 'warn' | 'error');
      // The SDK puts failures under `error`; pino's serializer (message, type, stack) works on `err`.
      const { error, ...meta } = (entry.meta ?? {}) as Record<string, unknown>;
      logger[level]({ ...meta, ...(error === undefined ? {} : { err: error }), sdk: true }, entry.message);
    }),
  });
  const sqs = createSqsClient(config.sqs);
  const activities = createActivities({
    vllm: config.vllm,
    delivery: config.delivery,
    resultQueueUrl: config.sqs.resultQueueUrl,
    promptTemplate: config.prompt.template,
    sqs,
  });
  const bundlePath = config.worker.workflowBundlePath ?? DEFAULT_BUNDLE_PATH;
  // Started while Temporal is down (a restart during an outage): wait for it rather than exit.
  const connection = await connectWithRetry(
    'Temporal',
    () => NativeConnection.connect(temporalConnectionOptions(config.temporal)),
    logger,
    { maxWaitMs: STARTUP_MAX_WAIT_MS },
  );
  const worker = await createFeedbackWorker({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    activities,
    limits: config.worker,
    workflowBundle: existsSync(bundlePath) ? { codePath: bundlePath } : undefined,
  });
  logger.info(
    { taskQueue: config.temporal.taskQueue, bundle: existsSync(bundlePath) ? bundlePath : 'built at start' },
    'Worker running',
  );
  const running = worker.run();
  onShutdown(logger, async () => {
    worker.shutdown();
    await running;
    await connection.close();
    sqs.destroy();
  });
  await running;
});
