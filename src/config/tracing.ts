/** Tracing (OpenTelemetry): off by default; `otlp` sends to an OTLP/HTTP collector. */
import { z } from 'zod';
import { optionalString, url } from './fields';

const TRACE_EXPORTERS = ['none', 'otlp', 'console'] as const;

export const tracingEnv = z.object({
  OTEL_TRACES_EXPORTER: z.enum(TRACE_EXPORTERS).default('none'),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: url.default('http://localhost:4318/v1/traces'),
  OTEL_SERVICE_NAME: optionalString,
});

export interface TracingSettings {
  exporter: (typeof TRACE_EXPORTERS)[number];
  otlpEndpoint: string;
  serviceName?: string;
}

export function tracingSettings(env: z.infer<typeof tracingEnv>): TracingSettings {
  return {
    exporter: env.OTEL_TRACES_EXPORTER,
    otlpEndpoint: env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
    serviceName: env.OTEL_SERVICE_NAME,
  };
}
