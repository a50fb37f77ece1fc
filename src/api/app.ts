/**
 * The HTTP API (express): `POST /ai/feedback` validates, assigns requestId and timestamp, puts the
 * request on the FIFO request queue and answers 202 (the requestId in `Location` and `X-Request-Id`);
 * `GET /ai/feedback/:requestId` says where a request is. Plus `/health`, `/ready`, `/metrics`, the
 * OpenAPI document and Swagger UI at `/docs`. Routes are listed in one table below; errors become
 * envelopes in one place (`errorHandler`).
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { SQSClient } from '@aws-sdk/client-sqs';
import express, { type ErrorRequestHandler, type Request, type RequestHandler, type Response } from 'express';
import swaggerUi from 'swagger-ui-express';
import cors from 'cors';
import helmet from 'helmet';
import type { ApiAuth } from '../config';
import { authenticate, type RawBodyRequest } from './auth';
import { fromEpochMillis } from '../domain/datetime';
import { workflowIdFor } from '../domain/keys';
import { validateFeedbackRequest } from '../domain/request';
import type { FeedbackStatusView } from '../domain/status-view';
import { runReadiness, type ReadinessCheck } from '../shared/health';
import type { Logger } from '../shared/logger';
import { FifoSender } from './fifo-sender';
import { contextFromHeaders, inSpan, SpanKind, traceMessageAttributes } from '../shared/tracing';
import type { ApiMetrics, Registry } from '../shared/metrics';
import { Messages, sendEnvelope } from './envelope';
import { ACCEPTED_HEADERS, buildOpenApiDocument, feedbackLocation, REQUEST_ID_PATTERN } from './openapi';
import { RecentRequests } from './recent';

export interface ApiDeps {
  sqs: SQSClient;
  requestQueueUrl: string;
  logger: Logger;
  /** Upper bound for one SendMessageBatch call, so that an unreachable SQS gives a 503 within seconds. */
  sqsTimeoutMs: number;
  now?: () => number;
  /** Looks a request up in Temporal (`lookupFeedbackStatus`); absent: the status route answers 503. */
  status?: (requestId: string) => Promise<FeedbackStatusView | undefined>;
  /** Dependencies `/ready` checks. */
  readiness?: readonly ReadinessCheck[];
  metrics?: { registry: Registry; api: ApiMetrics };
  /** Requests accepted by this process and maybe not started yet (reported as queued). */
  recent?: RecentRequests;
  /** Required: `{ mode: 'none' }` turns authentication off explicitly. */
  auth: ApiAuth;
  /** Origins allowed by CORS; absent: no CORS headers. */
  corsOrigins?: string[];
}

/** SQS's message size limit (1 MiB). */
export const MAX_MESSAGE_BYTES = 1024 * 1024;
export const BODY_LIMIT = '1mb';

export function createApp(deps: ApiDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  // Security headers (no sniffing, no framing, a CSP that Swagger UI's own files satisfy, …).
  app.use(helmet());
  if (deps.corsOrigins?.length) {
    // A browser's script sees only safelisted response headers unless told: the 202 carries its id in two.
    app.use(cors({ origin: deps.corsOrigins, methods: ['GET', 'POST'], exposedHeaders: ACCEPTED_HEADERS }));
  }
  const recent = deps.recent ?? new RecentRequests();
  const openApi = buildOpenApiDocument();
  if (deps.metrics) app.use(recordMetrics(deps.metrics.api));

  // `open`: no authentication (probes and the public API description).
  const routes: Array<{ method: 'get' | 'post'; path: string; handler: RequestHandler; open?: true }> = [
    { method: 'get', path: '/health', handler: health, open: true },
    { method: 'get', path: '/ready', handler: ready(deps.readiness ?? []), open: true },
    { method: 'get', path: '/openapi.json', handler: (_req, res) => void res.json(openApi), open: true },
    { method: 'get', path: '/metrics', handler: metrics(deps.metrics?.registry) },
    { method: 'post', path: '/ai/feedback', handler: createFeedback(deps, recent) },
    { method: 'get', path: '/ai/feedback/:requestId', handler: feedbackStatus(deps, recent) },
  ];
  const json = express.json({
    limit: BODY_LIMIT,
    type: () => true,
    // The exact bytes, kept only when HMAC verification needs them (not a copy per request otherwise).
    ...(deps.auth.mode === 'hmac'
      ? {
          verify: (req: RawBodyRequest, _res: unknown, buf: Buffer) => {
            req.rawBody = buf.toString('utf8');
          },
        }
      : {}),
  });
  const auth = authenticate(deps.auth, deps.logger, deps.now);
  for (const route of routes) {
    const guard: RequestHandler[] = route.open ? [] : [auth];
    if (route.method === 'post') app.post(route.path, json, ...guard, route.handler);
    else app.get(route.path, ...guard, route.handler);
  }
  app.use('/docs', swaggerUi.serve, swaggerUi.setup(openApi));
  app.use((_req, res) => sendEnvelope(res, 404, Messages.notFound));
  app.use(errorHandler(deps.logger));
  return app;
}

const health: RequestHandler = (_req, res) => sendEnvelope(res, 200, Messages.healthy, { status: 'UP' });

function ready(checks: readonly ReadinessCheck[]): RequestHandler {
  return async (_req, res) => {
    const readiness = await runReadiness(checks);
    sendEnvelope(
      res,
      readiness.ready ? 200 : 503,
      readiness.ready ? Messages.ready : Messages.notReady,
      readiness,
    );
  };
}

function metrics(registry: Registry | undefined): RequestHandler {
  return async (_req, res) => {
    if (!registry) return sendEnvelope(res, 404, Messages.notFound);
    res.type(registry.contentType).send(await registry.metrics());
  };
}

/** Counts every answer by route template (not by URL, which would explode the label set). */
function recordMetrics(metrics: ApiMetrics): RequestHandler {
  return (req, res, next) => {
    const started = performance.now();
    res.once('finish', () => {
      const routePath = (req.route as { path?: string } | undefined)?.path;
      const route = routePath ?? (req.path.startsWith('/docs') ? '/docs' : 'unmatched');
      const labels = { method: req.method, route, status: String(res.statusCode) };
      metrics.requests.inc(labels);
      metrics.latency.observe(labels, (performance.now() - started) / 1000);
    });
    next();
  };
}

function createFeedback(deps: ApiDeps, recent: RecentRequests): RequestHandler {
  // Requests that arrive together share SendMessageBatch calls (src/api/fifo-sender.ts).
  const queue = new FifoSender(deps.sqs, deps.requestQueueUrl, deps.sqsTimeoutMs);
  return async (req: Request, res: Response) => {
    const validation = validateFeedbackRequest(req.body);
    if (!validation.ok) {
      sendEnvelope(res, 400, Messages.invalid, { errors: validation.errors });
      return;
    }
    const requestId = randomUUID();
    const workflowId = workflowIdFor(requestId);
    const timestamp = fromEpochMillis((deps.now ?? Date.now)());
    const body = JSON.stringify({ ...validation.value, requestId, timestamp });
    if (Buffer.byteLength(body, 'utf8') > MAX_MESSAGE_BYTES) {
      sendEnvelope(res, 413, Messages.tooLarge);
      return;
    }
    // The request's fields on its log lines (not a child logger: pino builds one per call, and this is
    // the hot path).
    const fields = { requestId, workflowId, memberId: validation.value.memberId };
    try {
      // The request's trace starts here (or continues the BE's `traceparent`) and travels with the message.
      await inSpan(
        'feedback.request.enqueue',
        {
          kind: SpanKind.PRODUCER,
          parent: contextFromHeaders(req.headers),
          attributes: { 'feedback.request_id': requestId, 'feedback.member_id': validation.value.memberId },
        },
        () =>
          queue.send({
            body,
            groupId: String(validation.value.memberId),
            deduplicationId: requestId,
            attributes: traceMessageAttributes(),
          }),
      );
    } catch (err) {
      const { name, message } = err as Error;
      if (/MessageTooLong|BatchRequestTooLong|too long/i.test(`${name} ${message}`)) {
        // The queue enforces its own limit (ElasticMQ: 256 KiB; AWS: 1 MiB).
        sendEnvelope(res, 413, Messages.tooLarge);
        return;
      }
      deps.logger.error({ ...fields, err: { name, message } }, 'SendMessage failed');
      sendEnvelope(res, 503, Messages.queueUnavailable);
      return;
    }
    recent.add(requestId, { memberId: validation.value.memberId, acceptedAt: timestamp });
    deps.logger.info(fields, 'Feedback request queued');
    // The BE parses this body with a Jackson mapper that fails on unknown properties: `data` must be
    // null (or only `content`), so the request id travels in headers.
    res.set({ Location: feedbackLocation(requestId), 'X-Request-Id': requestId });
    sendEnvelope(res, 202, Messages.accepted);
  };
}

function feedbackStatus(deps: ApiDeps, recent: RecentRequests): RequestHandler {
  return async (req: Request, res: Response) => {
    const requestId = String(req.params.requestId);
    if (!REQUEST_ID_PATTERN.test(requestId)) {
      sendEnvelope(res, 400, Messages.invalid, {
        errors: [{ path: 'requestId', message: 'not a request id (letters, digits and "-", at most 200)' }],
      });
      return;
    }
    const workflowId = workflowIdFor(requestId);
    let view: FeedbackStatusView | undefined;
    try {
      if (!deps.status) throw new Error('no Temporal client configured');
      view = await deps.status(requestId);
    } catch (err) {
      const { name, message } = err as Error;
      deps.logger.warn({ requestId, workflowId, err: { name, message } }, 'Status lookup failed');
      sendEnvelope(res, 503, Messages.temporalUnavailable);
      return;
    }
    if (!view) {
      const accepted = recent.get(requestId);
      if (!accepted) return sendEnvelope(res, 404, Messages.requestNotFound);
      view = {
        requestId,
        workflowId,
        stage: 'queued',
        workflowStatus: 'NOT_STARTED',
        attempts: {},
        memberId: accepted.memberId,
        acceptedAt: accepted.acceptedAt,
      };
    }
    sendEnvelope(res, 200, Messages.found, view);
  };
}

/** The one mapper from thrown errors (body parser included) to envelopes. */
function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err: { type?: string; status?: number; message?: string }, _req, res, _next) => {
    if (err.type === 'entity.parse.failed')
      return sendEnvelope(res, 400, Messages.invalidJson, {
        errors: [{ path: '', message: 'body is not valid JSON' }],
      });
    if (err.type === 'entity.too.large') return sendEnvelope(res, 413, Messages.tooLarge);
    if (err.type === 'encoding.unsupported' || err.type === 'charset.unsupported') {
      return sendEnvelope(res, 415, Messages.unsupportedMediaType);
    }
    if (typeof err.status === 'number' && err.status >= 400 && err.status < 500) {
      return sendEnvelope(res, err.status, Messages.invalid);
    }
    logger.error({ err: { message: err.message } }, 'Unhandled API error');
    sendEnvelope(res, 500, Messages.internal);
  };
}
