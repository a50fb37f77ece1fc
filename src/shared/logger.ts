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
