/** Tracing (OpenTelemetry): off by default; `otlp` sends to an OTLP/HTTP collector. */
import { z } from 'zod';
import { optionalKeys, optionalString, url } from './fields';

export const tracingSection = z
  .object({
    OTEL_TRACES_EXPORTER: z.enum(['none', 'otlp', 'console']).default('none'),
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: url.default('http://localhost:4318/v1/traces'),
    OTEL_SERVICE_NAME: optionalString,
  })
  .transform((env) =>
    optionalKeys({
      exporter: env.OTEL_TRACES_EXPORTER,
      otlpEndpoint: env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
      serviceName: env.OTEL_SERVICE_NAME,
    }),
  );
