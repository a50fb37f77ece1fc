/**
 * A stand-in for the BE's result endpoint (`POST /api/members/feedback/result`), for local runs and
 * tests. Records every attempt, accepts each idempotency key once (a repeat is answered 200 but
 * counted as a duplicate, as an idempotent BE would), and can be told to fail the next attempts.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isAcceptableResult, type FeedbackResult } from '../domain/result';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, verifySignature } from '../shared/signing';

export interface CallbackAttempt {
  at: number;
  path: string;
  idempotencyKey?: string;
  authorization?: string;
  /** W3C trace context, when the sender traces. */
  traceparent?: string;
  /** With a signing secret: whether X-Leafresh-Signature verified over the raw body (as the BE would). */
  signatureValid?: boolean;
  body: unknown;
  status: number;
}

export interface CallbackReceiver {
  listen(port?: number): Promise<string>;
  close(): Promise<void>;
  /** Accepted deliveries, one per idempotency key. */
  accepted(): FeedbackResult[];
  attempts(): CallbackAttempt[];
  duplicates(): number;
  /** Answer the next `count` attempts with `status` (e.g. 503) instead of accepting them. */
  failNext(count: number, status: number): void;
  /** Random faults: a share of attempts fails with `failStatus`, another share answers only after `slowMs`. */
  setFaults(faults: ReceiverFaults): void;
  faultsInjected(): { failed: number; slow: number };
  /** Resolves when `count` deliveries have been accepted. */
  waitForAccepted(count: number, timeoutMs?: number): Promise<FeedbackResult[]>;
  onAccepted?: (result: FeedbackResult) => void;
}

export const RESULT_PATH = '/api/members/feedback/result';

export interface ReceiverFaults {
  failRate?: number;
  failStatus?: number;
  /** Slow answers are still accepted (stored) once they are sent: the worst case for a client that gave up. */
  slowRate?: number;
  slowMs?: number;
  random?: () => number;
}

export interface CallbackReceiverOptions {
  /** Verify X-Leafresh-Timestamp/X-Leafresh-Signature like the BE would, and refuse (401) bad ones. */
  signingSecret?: string;
}

export function createCallbackReceiver(options: CallbackReceiverOptions = {}): CallbackReceiver {
  const attempts: CallbackAttempt[] = [];
  const acceptedByKey = new Map<string, FeedbackResult>();
  const waiters: Array<() => void> = [];
  let duplicates = 0;
  let failures: { count: number; status: number } = { count: 0, status: 503 };
  let faults: ReceiverFaults = {};
  const injected = { failed: 0, slow: 0 };
  let server: Server | undefined;

  const receiver: CallbackReceiver = {
    async listen(port = 0) {
      server = createServer((req, res) => void handle(req, res));
      await new Promise<void>((resolve) => server?.listen(port, '127.0.0.1', resolve));
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    },
    async close() {
      if (!server) return;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server?.close(() => resolve()));
      server = undefined;
    },
    accepted: () => [...acceptedByKey.values()],
    attempts: () => [...attempts],
    duplicates: () => duplicates,
    failNext(count, status) {
      failures = { count, status };
    },
    setFaults(next) {
      faults = next;
    },
    faultsInjected: () => ({ ...injected }),
    waitForAccepted(count, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (acceptedByKey.size < count) return false;
          clearTimeout(timer);
          resolve(receiver.accepted());
          return true;
        };
        const timer = setTimeout(
          () => reject(new Error(`timed out waiting for ${count} callbacks (have ${acceptedByKey.size})`)),
          timeoutMs,
        );
        if (!check()) waiters.push(() => void check());
      });
    },
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const signatureValid = options.signingSecret
      ? verifySignature(
          options.signingSecret,
          { timestamp: header(req, TIMESTAMP_HEADER), signature: header(req, SIGNATURE_HEADER) },
          text,
          300,
        ).ok
      : undefined;
    const reply = (status: number, message: string) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status, message, data: null }));
      attempts.push({
        at: Date.now(),
        path: req.url ?? '',
        idempotencyKey: header(req, 'idempotency-key'),
        traceparent: header(req, 'traceparent'),
        authorization: header(req, 'authorization'),
        ...(signatureValid === undefined ? {} : { signatureValid }),
        body: safeJson(text),
        status,
      });
    };
    if (req.method !== 'POST' || req.url !== RESULT_PATH) return reply(404, 'not found');
    if (signatureValid === false) return reply(401, 'invalid signature');
    if (failures.count > 0) {
      failures.count--;
      return reply(failures.status, 'injected failure');
    }
    const random = faults.random ?? Math.random;
    if (faults.failRate && random() < faults.failRate) {
      injected.failed++;
      return reply(faults.failStatus ?? 503, 'injected failure');
    }
    if (faults.slowRate && random() < faults.slowRate) {
      injected.slow++;
      await new Promise((resolve) => setTimeout(resolve, faults.slowMs ?? 10_000));
    }
    const body = safeJson(text) as FeedbackResult | undefined;
    if (!body || typeof body.content !== 'string' || !isAcceptableResult(body))
      return reply(400, 'invalid result');
    const key = header(req, 'idempotency-key') ?? `${body.memberId}:${body.requestId}`;
    if (acceptedByKey.has(key)) {
      duplicates++;
      return reply(200, 'duplicate ignored');
    }
    acceptedByKey.set(key, body);
    reply(200, 'ok');
    receiver.onAccepted?.(body);
    for (const waiter of waiters.splice(0)) waiter();
  }

  return receiver;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
