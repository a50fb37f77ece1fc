/** Entry point of the worker process. */
import { existsSync } from 'node:fs';
import { Client } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, type LogLevel } from '@temporalio/worker';
import { createActivities } from '../activities';
import { VllmConfigStatus, VllmModelContext } from '../activities/vllm-config';
import { deliveryWarnings, loadConfig } from '../config';
import { findFreePort, sqsQueueCheck, startHealthServer, temporalCheck } from '../shared/health';
import { createLogger } from '../shared/logger';
import { onShutdown, runMain } from '../shared/process';
import { connectWithRetry, STARTUP_MAX_WAIT_MS } from '../shared/startup';
import { temporalConnectionOptions } from '../shared/temporal';
import { createSqsClient } from '../shared/sqs';
import { createFeedbackWorker, createLlmWorker, llmActivities } from './worker';
import { LlmConcurrencyControl } from '../llm-concurrency/control';
import { DEFAULT_BUNDLE_PATH, TRACING_BUNDLE_PATH } from './bundle-path';
import { setupTracing } from '../shared/tracing';

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
  for (const warning of deliveryWarnings(config)) logger.warn(warning);
  // The SDK's Prometheus exporter listens on a private loopback port; /metrics on the health port
  // serves its text (SDK metrics, plus ours recorded on the SDK's meter: activity outcomes, vLLM latency).
  const sdkMetricsAddress = `127.0.0.1:${await findFreePort()}`;
  // The SDK's own logs (activity and workflow logs carry workflowId, activityId…) go through pino.
  // No SDK signal handlers: onShutdown below owns SIGTERM/SIGINT (and runMain until then).
  Runtime.install({
    shutdownSignals: [],
    telemetryOptions: {
      metrics: {
        prometheus: { bindAddress: sdkMetricsAddress, countersTotalSuffix: true, unitSuffix: true },
      },
    },
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
  const tracing = await setupTracing(config.tracing, 'worker');
  const bundlePath =
    config.worker.workflowBundlePath ?? (tracing ? TRACING_BUNDLE_PATH : DEFAULT_BUNDLE_PATH);
  // Started while Temporal is down (a restart during an outage): wait for it rather than exit.
  const connection = await connectWithRetry(
    'Temporal',
    () => NativeConnection.connect(temporalConnectionOptions(config.temporal)),
    logger,
    { maxWaitMs: STARTUP_MAX_WAIT_MS },
  );
  // The meter only now: a failed connect with nothing else open shuts the SDK's Runtime down and the
  // next try makes a new one, so instruments of an earlier Runtime's meter would never be exported.
  const llmConcurrency = new LlmConcurrencyControl(config.llmConcurrency, {
    logger: logger.child({ component: 'llm-concurrency' }),
    metricsUrl: config.vllm.metricsUrl,
    meter: Runtime.instance().metricMeter,
  });
  // What vLLM says of our configuration, for /ready; the model's context, read once and kept a while.
  const vllmConfig = new VllmConfigStatus();
  const activities = createActivities({
    onVllmAnswer: (ms) => llmConcurrency.observeLatency(ms),
    vllm: config.vllm,
    modelContext: new VllmModelContext(config.vllm),
    configStatus: vllmConfig,
    delivery: config.delivery,
    resultQueueUrl: config.sqs.resultQueueUrl,
    promptTemplate: config.prompt.template,
    sqs,
    // The count of a request's earlier failures (the growing failure hold) reads visibility.
    visibility: new Client({ connection, namespace: config.temporal.namespace }),
  });
  const health = await startHealthServer({
    port: config.health.workerPort,
    host: config.health.host,
    logger,
    checks: [
      temporalCheck(connection.workflowService),
      vllmConfig.readinessCheck(),
      ...(config.sqs.resultQueueUrl && config.policy.deliveryMode !== 'callback'
        ? [sqsQueueCheck('sqs', sqs, config.sqs.resultQueueUrl)]
        : []),
    ],
    metrics: async () => {
      const response = await fetch(`http://${sdkMetricsAddress}/metrics`, {
        signal: AbortSignal.timeout(2000),
      });
      return {
        contentType: response.headers.get('content-type') ?? 'text/plain',
        body: await response.text(),
      };
    },
  });
  const worker = await createFeedbackWorker({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    activities,
    limits: config.worker,
    workflowBundle: existsSync(bundlePath) ? { codePath: bundlePath } : undefined,
    tracing,
  });
  const llmWorker = await createLlmWorker({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.llmTaskQueue,
    activities: llmActivities(activities),
    llmConcurrency,
    rateLimitPerSecond: config.temporal.llmRateLimitPerSecond,
    tracing,
  });
  llmConcurrency.start();
  logger.info(
    {
      taskQueue: config.temporal.taskQueue,
      llmTaskQueue: config.temporal.llmTaskQueue,
      llmConcurrency: llmConcurrency.snapshot(),
      llmRateLimitPerSecond: config.temporal.llmRateLimitPerSecond ?? 'off',
      bundle: existsSync(bundlePath) ? bundlePath : 'built at start',
    },
    'Worker running',
  );
  const running = Promise.all([worker.run(), llmWorker.run()]);
  onShutdown(logger, async () => {
    llmConcurrency.stop();
    worker.shutdown();
    llmWorker.shutdown();
    await running;
    await health.close();
    await tracing?.shutdown();
    await connection.close();
    sqs.destroy();
  });
  await running;
});
