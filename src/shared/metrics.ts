/**
 * Prometheus metrics of the API and the bridge (prom-client). The worker's come from the Temporal
 * SDK's own exporter plus custom instruments on the SDK's metric meter (src/activities/metrics.ts).
 */
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

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
  };
}
export type BridgeMetrics = ReturnType<typeof createBridgeMetrics>;
