/**
 * The BE's callback controller, `POST /api/members/feedback/result` (no authentication): 400 when
 * memberId is not positive or content is blank, otherwise the weekly store: 200 when stored (whatever
 * the content, even "500"), 409 when the member's week has a feedback, 404 for an unknown member and
 * for any unexpected exception (injectable). Records every attempt with the headers our side sends.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CALLBACK_PATH, type FeedbackResult } from '../../src/domain/result';
import type { Logger } from '../../src/shared/logger';
import { SIGNATURE_HEADER, TIMESTAMP_HEADER, verifySignature } from '../../src/shared/signing';
import { parseResultBody } from './subscriber';
import type { BeStore } from './store';

/** Not the BE's: lets `npm run be -- publish` publish through a running double, which then knows the body. */
export const PUBLISH_PATH = '/be-double/publish';
/** Dev-only: `POST {"days": n}` moves the double's clock n days on (play the next week); answers the week. */
export const CLOCK_PATH = '/be-double/clock';
/** Dev-only: `POST {"minutes": n}` takes the double's database down for n minutes (0: back up). */
export const OUTAGE_PATH = '/be-double/outage';

/** A result body as received; the BE reads memberId and content, our side adds the rest. */
export type ResultBody = Partial<FeedbackResult> & Pick<FeedbackResult, 'memberId' | 'content'>;

export interface CallbackAttempt {
  /** Wall-clock time of the answer (Date.now(), not the double's clock). */
  at: number;
  path: string;
  idempotencyKey?: string;
  authorization?: string;
  /** W3C trace context, when the sender traces. */
  traceparent?: string;
  /** With a signing secret: whether X-Leafresh-Signature verified over the raw body. */
  signatureValid?: boolean;
  body: unknown;
  status: number;
  /** Set when the attempt reached the store (200 or 409). */
  week?: string;
  /** An injected fault answered it. */
  injected?: boolean;
}

export interface CallbackFaults {
  /** Share of calls answered with `failStatus` (the BE's 404 for an unexpected exception, or 503). */
  failRate?: number;
  /** One status, or several picked at random per failed call; default 404. */
  failStatus?: number | number[];
  /** Share of calls answered only after `slowMs`; they are stored first (the client may have given up). */
  slowRate?: number;
  slowMs?: number;
  random?: () => number;
}

export interface CallbackOptions {
  store: BeStore;
  /**
   * Verify X-Leafresh-Timestamp/X-Leafresh-Signature and refuse bad ones with 401. Not the BE's
   * behaviour today; for a BE that verifies our optional signature.
   */
  signingSecret?: string;
  /** Serves PUBLISH_PATH: publishes the posted request body as the BE. */
  publish?: (body: string) => Promise<{ deduplicationId: string; messageId?: string }>;
  /** Serves CLOCK_PATH: moves the clock on by `ms` and returns the week results are now filed under. */
  advanceClock?: (ms: number) => string;
  logger?: Logger;
}

const MESSAGES: Record<number, string> = {
  200: '피드백 결과가 저장되었습니다. (feedback stored)',
  400: '요청 값이 올바르지 않습니다. (memberId must be positive, content must not be blank)',
  401: '서명이 올바르지 않습니다. (invalid signature)',
  404: '회원을 찾을 수 없습니다. (unknown member)',
  409: '이번 주 피드백이 이미 존재합니다. (feedback for the week exists)',
};

export class CallbackEndpoint {
  private server?: Server;
  private readonly attemptList: CallbackAttempt[] = [];
  private readonly acceptedList: ResultBody[] = [];
  private failures = { count: 0, status: 404 };
  private faults: CallbackFaults = {};
  private readonly injected = { failed: 0, slow: 0, byStatus: {} as Record<string, number> };

  constructor(private readonly options: CallbackOptions) {}

  async listen(port = 0, host = '127.0.0.1'): Promise<string> {
    const server = createServer((req, res) => void this.handle(req, res));
    this.server = server;
    await new Promise<void>((resolve) => server.listen(port, host, resolve));
    return `http://${host}:${(server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  attempts(): CallbackAttempt[] {
    return [...this.attemptList];
  }

  /** Bodies of the callbacks answered 200 (stored), in order. */
  accepted(): ResultBody[] {
    return [...this.acceptedList];
  }

  /** Answer the next `count` calls with `status` (default 404, the BE's answer to any exception). */
  failNext(count: number, status = 404): void {
    this.failures = { count, status };
  }

  setFaults(faults: CallbackFaults): void {
    this.faults = faults;
  }

  faultsInjected(): { failed: number; slow: number; byStatus: Record<string, number> } {
    return { ...this.injected, byStatus: { ...this.injected.byStatus } };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const secret = this.options.signingSecret;
    const signatureValid = secret
      ? verifySignature(
          secret,
          { timestamp: header(req, TIMESTAMP_HEADER), signature: header(req, SIGNATURE_HEADER) },
          text,
          300,
        ).ok
      : undefined;
    const attempt: CallbackAttempt = {
      at: 0,
      path: req.url ?? '',
      idempotencyKey: header(req, 'idempotency-key'),
      traceparent: header(req, 'traceparent'),
      authorization: header(req, 'authorization'),
      ...(signatureValid === undefined ? {} : { signatureValid }),
      body: safeJson(text),
      status: 0,
    };
    const reply = (status: number, message = MESSAGES[status] ?? '처리 중 오류가 발생했습니다.') => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status, message, data: null }));
      this.attemptList.push({ ...attempt, at: Date.now(), status });
      this.options.store.changed();
    };

    const path = new URL(req.url ?? '/', 'http://be-double').pathname;
    if (req.method === 'POST' && path === PUBLISH_PATH && this.options.publish)
      return this.publish(text, res);
    if (req.method === 'POST' && path === CLOCK_PATH && this.options.advanceClock)
      return this.advanceClock(text, res);
    if (req.method === 'POST' && path === OUTAGE_PATH) return this.outage(text, res);
    if (req.method !== 'POST' || path !== CALLBACK_PATH) return reply(404, 'not found');
    if (signatureValid === false) return reply(401);
    const injectedStatus = this.injectedFailure();
    if (injectedStatus !== undefined) {
      attempt.injected = true;
      return reply(injectedStatus, '예기치 못한 오류가 발생했습니다. (injected failure)');
    }

    const parsed = parseResultBody(text);
    if (!parsed.ok) return reply(400, `${MESSAGES[400]}: ${parsed.reason}`);
    const { memberId, content } = parsed;
    // The BE's catch-all answers any exception, a database error too, with 404.
    if (this.options.store.isDown()) return reply(404, '예기치 못한 오류가 발생했습니다. (database down)');
    if (!this.options.store.isKnown(memberId)) return reply(404);
    const outcome = this.options.store.store({
      memberId,
      content,
      via: 'callback',
      ...(parsed.requestId ? { requestId: parsed.requestId } : {}),
      ...(attempt.idempotencyKey ? { idempotencyKey: attempt.idempotencyKey } : {}),
    });
    const random = this.faults.random ?? Math.random;
    if (this.faults.slowRate && random() < this.faults.slowRate) {
      this.injected.slow++;
      await new Promise((resolve) => setTimeout(resolve, this.faults.slowMs ?? 10_000));
    }
    if (!outcome.stored) {
      attempt.week = outcome.duplicate.week;
      this.options.logger?.info(
        { memberId, week: attempt.week, via: 'callback' },
        'BE double: duplicate feedback for the week; 409',
      );
      return reply(409);
    }
    attempt.week = outcome.feedback.week;
    this.acceptedList.push(attempt.body as ResultBody);
    this.options.logger?.info(
      { memberId, week: attempt.week, content, via: 'callback' },
      'BE double: feedback stored',
    );
    reply(200);
  }

  private async publish(body: string, res: ServerResponse): Promise<void> {
    const answer = (status: number, message: string, data: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status, message, data }));
    };
    try {
      const publication = await this.options.publish?.(body);
      answer(200, 'published', publication ?? null);
    } catch (err) {
      answer(400, err instanceof Error ? err.message : String(err), null);
    }
  }

  private outage(text: string, res: ServerResponse): void {
    const minutes = (safeJson(text) as { minutes?: unknown } | undefined)?.minutes;
    const ok =
      typeof minutes === 'number' && Number.isFinite(minutes) && minutes >= 0 && minutes <= 7 * 24 * 60;
    if (ok) this.options.store.failFor(minutes * 60_000);
    res.writeHead(ok ? 200 : 400, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify(
        ok
          ? { status: 200, message: minutes > 0 ? 'database down' : 'database up', data: { minutes } }
          : { status: 400, message: 'minutes must be a number in [0, 10080]', data: null },
      ),
    );
  }

  private advanceClock(text: string, res: ServerResponse): void {
    const days = (safeJson(text) as { days?: unknown } | undefined)?.days;
    const ok = typeof days === 'number' && Number.isFinite(days) && days > 0 && days <= 366;
    const week = ok ? this.options.advanceClock?.(days * 86_400_000) : undefined;
    res.writeHead(ok ? 200 : 400, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify(
        ok
          ? { status: 200, message: 'clock advanced', data: { week } }
          : { status: 400, message: 'days must be a number in (0, 366]', data: null },
      ),
    );
  }

  /** The status of an injected failure for this call, if any. */
  private injectedFailure(): number | undefined {
    if (this.failures.count > 0) {
      this.failures.count--;
      return this.count(this.failures.status);
    }
    const random = this.faults.random ?? Math.random;
    if (!this.faults.failRate || random() >= this.faults.failRate) return undefined;
    const statuses = [this.faults.failStatus ?? 404].flat();
    return this.count(statuses[Math.floor(random() * statuses.length)] ?? 404);
  }

  private count(status: number): number {
    this.injected.failed++;
    this.injected.byStatus[status] = (this.injected.byStatus[status] ?? 0) + 1;
    return status;
  }
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
