/**
 * HMAC-SHA256 request signatures, one scheme for both directions: the BE signing its calls to our API
 * (API_AUTH_MODE=hmac) and our callbacks to the BE (BE_CALLBACK_SIGNING_SECRET).
 *
 *   X-Leafresh-Timestamp: <unix seconds>
 *   X-Leafresh-Signature: sha256=<hex of HMAC-SHA256(secret, "<timestamp>.<raw body>")>
 *
 * The timestamp is inside the signed text, so an old signature cannot be sent with a new timestamp;
 * the receiver rejects timestamps outside its window (and remembers signatures it saw within it).
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

export const TIMESTAMP_HEADER = 'x-leafresh-timestamp';
export const SIGNATURE_HEADER = 'x-leafresh-signature';
const PREFIX = 'sha256=';

export function signature(secret: string, timestamp: string, body: string): string {
  return PREFIX + createHmac('sha256', secret).update(`${timestamp}.${body}`, 'utf8').digest('hex');
}

/** The two headers for `body`, signed now. */
export function signatureHeaders(secret: string, body: string, nowMs = Date.now()): Record<string, string> {
  const timestamp = String(Math.floor(nowMs / 1000));
  return { [TIMESTAMP_HEADER]: timestamp, [SIGNATURE_HEADER]: signature(secret, timestamp, body) };
}

/** Compares in constant time (both sides hashed first, so lengths never leak or throw). */
export function constantTimeEqual(a: string, b: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(digest(a), digest(b));
}

export type SignatureVerdict = { ok: true } | { ok: false; reason: string };

/**
 * Checks a signed request: both headers present, timestamp within `windowSeconds` of now, signature
 * matching. Reasons name what is wrong, never the expected value.
 */
export function verifySignature(
  secret: string,
  headers: { timestamp?: string; signature?: string },
  body: string,
  windowSeconds: number,
  nowMs = Date.now(),
): SignatureVerdict {
  if (!headers.timestamp || !headers.signature) return { ok: false, reason: 'missing signature headers' };
  if (!/^\d{1,12}$/.test(headers.timestamp)) return { ok: false, reason: 'malformed timestamp' };
  const age = Math.abs(nowMs / 1000 - Number(headers.timestamp));
  if (age > windowSeconds) return { ok: false, reason: 'timestamp outside the allowed window' };
  if (!constantTimeEqual(headers.signature, signature(secret, headers.timestamp, body))) {
    return { ok: false, reason: 'signature does not match' };
  }
  return { ok: true };
}

/** Signatures seen within the window, so that a captured request cannot be replayed in it. */
export class ReplayGuard {
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly windowSeconds: number,
    private readonly now: () => number = Date.now,
    private readonly maxEntries = 100_000,
  ) {}

  /** True the first time a signature is presented within the window. */
  firstUse(signatureValue: string): boolean {
    const now = this.now();
    for (const [key, expires] of this.seen) {
      if (expires > now && this.seen.size <= this.maxEntries) break;
      this.seen.delete(key);
    }
    if (this.seen.has(signatureValue)) return false;
    // Twice the window: a timestamp may be up to one window in the future.
    this.seen.set(signatureValue, now + 2 * this.windowSeconds * 1000);
    return true;
  }
}
