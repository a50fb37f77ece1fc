/**
 * OpenTelemetry tracing, off by default (`OTEL_TRACES_EXPORTER=none`). When on, one request is one
 * trace: API span → SQS (W3C trace context in message attributes) → bridge span → Temporal client,
 * workflow and activity spans (@temporalio/interceptors-opentelemetry) → vLLM and callback HTTP spans.
 *
 * OpenTelemetry JS 1.x: Temporal's interceptors package (1.24) is built on the 1.x SDK, and its span
 * objects must match ours, so the SDK packages are pinned to the same major.
 */
import type { MessageAttributeValue } from '@aws-sdk/client-sqs';
import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
} from '@opentelemetry/api';
import type { Resource } from '@opentelemetry/resources';
import type { SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { AppConfig } from '../config';

export { SpanKind } from '@opentelemetry/api';

const TRACER_NAME = 'leafresh-feedback';

export interface Tracing {
  processor: SpanProcessor;
  resource: Resource;
  shutdown(): Promise<void>;
}

/**
 * Registers the global tracer provider (with the W3C propagator and async context) for this process.
 * `exporter` replaces the configured one (tests: an in-memory exporter, exported synchronously). The
 * SDK is loaded only here: with tracing off, processes carry just the (no-op) API.
 */
export async function setupTracing(
  settings: AppConfig['tracing'],
  service: string,
  exporter?: SpanExporter,
): Promise<Tracing | undefined> {
  if (!exporter && settings.exporter === 'none') return undefined;
  const [
    { OTLPTraceExporter },
    { Resource },
    { BatchSpanProcessor, ConsoleSpanExporter, SimpleSpanProcessor },
    { NodeTracerProvider },
  ] = await Promise.all([
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/sdk-trace-node'),
  ]);
  const resource = new Resource({ 'service.name': settings.serviceName ?? `leafresh-feedback-${service}` });
  const processor = exporter
    ? new SimpleSpanProcessor(exporter)
    : new BatchSpanProcessor(
        settings.exporter === 'console'
          ? new ConsoleSpanExporter()
          : new OTLPTraceExporter({ url: settings.otlpEndpoint }),
      );
  const provider = new NodeTracerProvider({ resource, spanProcessors: [processor] });
  provider.register();
  return { processor, resource, shutdown: () => provider.shutdown() };
}

/** Runs `work` in a new active span (a child of `parent`, default the active context) and ends it. */
export async function inSpan<T>(
  name: string,
  options: { kind: SpanKind; attributes?: Attributes; parent?: Context },
  work: (span: Span) => Promise<T>,
): Promise<T> {
  const tracer = trace.getTracer(TRACER_NAME);
  return tracer.startActiveSpan(
    name,
    { kind: options.kind, attributes: options.attributes },
    options.parent ?? context.active(),
    async (span) => {
      try {
        return await work(span);
      } catch (err) {
        span.recordException(err instanceof Error ? err : String(err));
        span.setStatus({ code: SpanStatusCode.ERROR });
        throw err;
      } finally {
        span.end();
      }
    },
  );
}

/** The active trace context as headers (`traceparent`, `tracestate`); empty when tracing is off. */
export function traceHeaders(): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier;
}

/** The active trace context as SQS message attributes (absent when tracing is off). */
export function traceMessageAttributes(): Record<string, MessageAttributeValue> | undefined {
  const entries = Object.entries(traceHeaders());
  if (entries.length === 0) return undefined;
  return Object.fromEntries(entries.map(([key, value]) => [key, { DataType: 'String', StringValue: value }]));
}

/** Names of the message attributes that carry trace context, for ReceiveMessage. */
export const TRACE_ATTRIBUTE_NAMES = ['traceparent', 'tracestate'];

export function contextFromMessageAttributes(attributes?: Record<string, MessageAttributeValue>): Context {
  const carrier: Record<string, string> = {};
  for (const name of TRACE_ATTRIBUTE_NAMES) {
    const value = attributes?.[name]?.StringValue;
    if (value) carrier[name] = value;
  }
  return propagation.extract(ROOT_CONTEXT, carrier);
}

export function contextFromHeaders(headers: Record<string, string | string[] | undefined>): Context {
  return propagation.extract(ROOT_CONTEXT, headers);
}
