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
 * Standard output written in the background in chunks (pino's asynchronous mode): lines collect in a
 * buffer that is written when it holds 4 KiB, and at least once a second, so a log call costs no
 * write system call on its request's path, and a slow reader of the output (a full pipe, a busy
 * disk) does not stall the event loop. Every line is written, in order; the buffer is flushed when
 * the process exits (also after a fatal error); a SIGKILL (an OOM kill) or a crash of the machine
 * loses at most the last second of lines. For the API, which logs each accepted request.
 */
export function backgroundStdout(): pino.DestinationStream {
  return pino.destination({ dest: 1, sync: false, minLength: 4096, periodicFlush: 1000 });
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
