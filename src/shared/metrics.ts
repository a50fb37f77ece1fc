/**
 * Prometheus metrics of the API and the bridge (prom-client). The worker's come from the Temporal
 * SDK's own exporter plus custom instruments on the SDK's metric meter (activities, activity
 * interceptors, LLM concurrency, the workflow's metricMeter). docs/monitoring.md lists them all.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export { Registry } from 'prom-client';

/** A registry with the process's default metrics (CPU, memory, event loop lag, GC). */
export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return registry;
}

export function createApiMetrics(registry: Registry) {
  return {
    requests: new Counter({
      name: 'feedback_api_requests_total',
      help: 'HTTP requests answered, by route and status code.',
      labelNames: ['method', 'route', 'status'] as const,
      registers: [registry],
    }),
    latency: new Histogram({
      name: 'feedback_api_request_duration_seconds',
      help: 'Time to answer an HTTP request, by route and status code.',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
  };
}
export type ApiMetrics = ReturnType<typeof createApiMetrics>;

export function createBridgeMetrics(registry: Registry) {
  const counter = (name: string, help: string) => new Counter({ name, help, registers: [registry] });
  return {
    received: counter('feedback_bridge_messages_received_total', 'Messages received from the request queue.'),
    started: counter('feedback_bridge_workflows_started_total', 'FeedbackWorkflow runs started.'),
    duplicates: counter(
      'feedback_bridge_duplicates_total',
      'Messages whose workflow already existed (deleted, not started again).',
    ),
    deadLettered: counter('feedback_bridge_dead_lettered_total', 'Messages moved to the DLQ.'),
    startFailures: counter(
      'feedback_bridge_start_failures_total',
      'Messages left on the queue because the start failed (retried after the visibility timeout).',
    ),
    deleteFailures: counter(
      'feedback_bridge_delete_failures_total',
      'Handled messages SQS failed to delete.',
    ),
    receiveLag: new Histogram({
      name: 'feedback_bridge_receive_lag_seconds',
      help: 'Time from SendMessage (SentTimestamp) to this receive.',
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 1800, 3600],
      registers: [registry],
    }),
    admissionWaiting: new Gauge({
      name: 'feedback_bridge_admission_waiting',
      help: 'Bulk (queue) requests in hand waiting for admission (BRIDGE_MAX_OPEN_QUEUE_RUNS reached).',
      registers: [registry],
    }),
    admissionWait: new Histogram({
      name: 'feedback_bridge_admission_wait_seconds',
      help: 'Time a bulk (queue) request waited for admission before its run was started.',
      buckets: [0.01, 0.1, 1, 5, 15, 60, 300, 900, 1800, 3600],
      registers: [registry],
    }),
    holdingRuns: scrapedGauge(registry, {
      name: 'feedback_bridge_holding_runs',
      help: 'FeedbackWorkflow runs in stage holding (a failure result waiting out the hold), by Temporal visibility.',
    }),
  };
}
export type BridgeMetrics = ReturnType<typeof createBridgeMetrics>;

/** A gauge whose value is read when it is scraped; `readFrom` names the reader (none: the gauge stays 0). */
export interface ScrapedGauge {
  readonly gauge: Gauge;
  readFrom(read: () => Promise<number>): void;
}

/**
 * A gauge read at scrape time, at most once per `maxAgeMs` (several scrapers, or a scraper and a test,
 * share one read), each read bounded by `timeoutMs` so a slow source never stalls the scrape. A read
 * that fails or times out keeps the last value: /ready reports the source's outage, not the metrics.
 */
export function scrapedGauge(
  registry: Registry,
  options: { name: string; help: string; maxAgeMs?: number; timeoutMs?: number },
): ScrapedGauge {
  const maxAgeMs = options.maxAgeMs ?? 15_000;
  const timeoutMs = options.timeoutMs ?? 2_000;
  let read: (() => Promise<number>) | undefined;
  let readAt = -Infinity;
  let reading: Promise<void> | undefined;
  const gauge = new Gauge({
    name: options.name,
    help: options.help,
    registers: [registry],
    async collect() {
      if (!read || Date.now() - readAt < maxAgeMs) return;
      const source = read;
      reading ??= withTimeout(source(), timeoutMs)
        .then(
          (value) => {
            this.set(value);
            readAt = Date.now();
          },
          () => undefined,
        )
        .finally(() => {
          reading = undefined;
        });
      await reading;
    },
  });
  return {
    gauge,
    readFrom(source) {
      read = source;
      readAt = -Infinity;
    },
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
