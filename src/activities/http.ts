/**
 * The project's one HTTP helper: URL joining and a JSON POST (and GET) with timeout/abort, no retries. They
 * go through undici's `request` (keep-alive connection pool per origin): Node's built-in `fetch` is
 * the same client under WHATWG streams and Request/Response objects, layers the worker does not need
 * and pays CPU for (docs/benchmarks.md).
 */
import { request } from 'undici';
import { inSpan, SpanKind, traceHeaders } from '../shared/tracing';

/** Joins a base URL and a path with exactly one `/` between them (the seed's `//` bug). */
export function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
}

export interface PostJsonOptions {
  headers?: Record<string, string>;
  /** Aborts the request (and so frees the server's work) when it fires. */
  signal?: AbortSignal;
  timeoutMs?: number;
  /** Extra headers computed from the exact body sent (e.g. an HMAC signature). */
  sign?: (body: string) => Record<string, string>;
}

export interface HttpResponse {
  status: number;
  text: string;
}

/**
 * POSTs JSON and returns status and body text for any HTTP status; throws only when no response came
 * (connection refused, timeout, abort). Retrying is the caller's (Temporal's) job.
 */
export async function postJson(
  url: string,
  body: unknown,
  options: PostJsonOptions = {},
): Promise<HttpResponse> {
  return send('POST', url, JSON.stringify(body), options);
}

/** GETs a JSON resource (e.g. vLLM's model list); like postJson, any HTTP status is an answer. */
export async function getJson(
  url: string,
  options: Omit<PostJsonOptions, 'sign'> = {},
): Promise<HttpResponse> {
  return send('GET', url, undefined, options);
}

async function send(
  method: 'GET' | 'POST',
  url: string,
  text: string | undefined,
  options: PostJsonOptions,
): Promise<HttpResponse> {
  const signals = [
    options.signal,
    options.timeoutMs ? AbortSignal.timeout(options.timeoutMs) : undefined,
  ].filter((s): s is AbortSignal => s !== undefined);
  const target = new URL(url);
  // A client span per call (a no-op when tracing is off); its context travels in `traceparent`.
  // The span names the URL without query or credentials.
  return inSpan(
    `${method} ${target.host}${target.pathname}`,
    {
      kind: SpanKind.CLIENT,
      attributes: { 'http.request.method': method, 'url.full': `${target.origin}${target.pathname}` },
    },
    async (span) => {
      const response = await request(target, {
        method,
        headers: {
          ...(text === undefined ? {} : { 'content-type': 'application/json' }),
          accept: 'application/json',
          ...traceHeaders(),
          ...options.headers,
          ...(text === undefined ? {} : options.sign?.(text)),
        },
        body: text,
        signal: signals.length > 1 ? AbortSignal.any(signals) : signals[0],
        // With a total bound, undici's own waits for headers and body (300 s each) must not cut it short
        // (a long generation); without one they stay as the backstop.
        ...(options.timeoutMs ? { headersTimeout: 0, bodyTimeout: 0 } : {}),
      });
      span.setAttribute('http.response.status_code', response.statusCode);
      return { status: response.statusCode, text: await response.body.text() };
    },
  );
}

/** 408, 425, 429 and 5xx may heal with time; any other 4xx will not. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || status >= 500;
}

/** A short description of a failed HTTP call (undici or fetch) that never includes headers or bodies. */
export function describeNetworkError(err: unknown): string {
  // Duck-typed: an abort's reason is a DOMException, which is not an Error of every realm (e.g. jest's).
  const e = err as (Partial<Error> & { cause?: { code?: string } }) | null | undefined;
  if (typeof e !== 'object' || e === null || typeof e.message !== 'string') return String(err);
  if (e.name === 'TimeoutError') return 'request timed out';
  if (e.name === 'AbortError') return 'request aborted';
  return e.cause?.code ? `${e.message} (${e.cause.code})` : e.message;
}
