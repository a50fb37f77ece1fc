/**
 * Authentication of the API's request and operator routes (`/health`, `/ready` and the docs stay
 * open): `Authorization: Bearer <API_AUTH_TOKEN>`, or an HMAC-SHA256 signature of the raw body with a
 * timestamp (src/shared/signing.ts) within a replay window, each signature accepted once. Secrets are
 * compared in constant time and never logged; a 401 says what is wrong, never what was expected.
 */
import type { Request, RequestHandler } from 'express';
import type { ApiAuth } from '../config';
import type { Logger } from '../shared/logger';
import {
  constantTimeEqual,
  ReplayGuard,
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
  verifySignature,
} from '../shared/signing';
import { Messages, sendEnvelope } from './envelope';

/** The body exactly as received (set by the JSON parser's `verify` hook; absent without a body). */
export type RawBodyRequest = Request & { rawBody?: string };

/** What an HMAC signature covers after the timestamp: the raw body, or for a GET `<METHOD> <path>`. */
export function signedText(req: RawBodyRequest): string {
  return req.rawBody ?? `${req.method} ${req.originalUrl}`;
}

export function authenticate(auth: ApiAuth, logger: Logger, now: () => number = Date.now): RequestHandler {
  if (auth.mode === 'none') return (_req, _res, next) => next();
  const guard = auth.mode === 'hmac' ? new ReplayGuard(auth.windowSeconds, now) : undefined;
  return (req, res, next) => {
    const failure = check(req as RawBodyRequest);
    if (failure === undefined) return next();
    logger.warn(
      { method: req.method, path: req.path, reason: failure },
      'Request refused: not authenticated',
    );
    res.setHeader('www-authenticate', auth.mode === 'bearer' ? 'Bearer' : 'Leafresh-HMAC-SHA256');
    sendEnvelope(res, 401, Messages.unauthorized, { reason: failure });
  };

  function check(req: RawBodyRequest): string | undefined {
    if (auth.mode === 'bearer') {
      const header = req.get('authorization') ?? '';
      const match = /^Bearer +(\S+)\s*$/i.exec(header);
      if (!match) return 'missing bearer token';
      // An empty configured token (a misconfigured process) accepts nothing.
      if (auth.token.length === 0 || !constantTimeEqual(match[1], auth.token)) return 'invalid bearer token';
      return undefined;
    }
    if (auth.mode === 'hmac') {
      const verdict = verifySignature(
        auth.secret,
        { timestamp: req.get(TIMESTAMP_HEADER), signature: req.get(SIGNATURE_HEADER) },
        signedText(req),
        auth.windowSeconds,
        now(),
      );
      if (!verdict.ok) return verdict.reason;
      if (!guard?.firstUse(req.get(SIGNATURE_HEADER) ?? '')) return 'signature already used';
    }
    return undefined;
  }
}
