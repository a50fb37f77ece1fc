/** Structured JSON logs (pino). Secrets are redacted by key wherever they appear in a log object. */
import pino, { type Logger } from 'pino';

export type { Logger } from 'pino';

export const REDACTED_KEYS = [
  'authorization',
  'Authorization',
  '*.authorization',
  '*.Authorization',
  'headers.authorization',
  '*.headers.authorization',
  'apiKey',
  '*.apiKey',
  'callbackAuthorization',
  '*.callbackAuthorization',
  'secretAccessKey',
  '*.secretAccessKey',
];

export function createLogger(name: string, level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      name,
      level,
      base: { service: name },
      redact: { paths: REDACTED_KEYS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}

/**
 * Name and message of an error and its cause (e.g. a ServiceError's gRPC status), never more: SDK
 * errors can carry request metadata we do not want in logs.
 */
export function errorSummary(err: unknown): { name: string; message: string } {
  if (!(err instanceof Error)) return { name: 'Error', message: String(err) };
  const cause = (err as Error & { cause?: unknown }).cause;
  const detail =
    cause instanceof Error && cause.message && cause.message !== err.message ? `: ${cause.message}` : '';
  return { name: err.name, message: `${err.message}${detail}` };
}
