/**
 * The HTTP API (express): `POST /ai/feedback` validates, assigns requestId and timestamp, puts the
 * request on the FIFO request queue and answers 202. Routes are listed in one table below; errors
 * become envelopes in one place (`errorHandler`).
 */
import { randomUUID } from 'node:crypto';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import express, { type ErrorRequestHandler, type Request, type RequestHandler, type Response } from 'express';
import { fromEpochMillis } from '../domain/datetime';
import { workflowIdFor } from '../domain/keys';
import { validateFeedbackRequest } from '../domain/request';
import type { Logger } from '../shared/logger';
import { Messages, sendEnvelope } from './envelope';

export interface ApiDeps {
  sqs: SQSClient;
  requestQueueUrl: string;
  logger: Logger;
  /** Upper bound for one SendMessage, so that an unreachable SQS gives a 503 within seconds. */
  sqsTimeoutMs: number;
  now?: () => number;
}

/** SQS's message size limit (1 MiB). */
export const MAX_MESSAGE_BYTES = 1024 * 1024;
export const BODY_LIMIT = '1mb';

export function createApp(deps: ApiDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  const routes: Array<{ method: 'get' | 'post'; path: string; handler: RequestHandler }> = [
    { method: 'get', path: '/health', handler: health },
    { method: 'post', path: '/ai/feedback', handler: createFeedback(deps) },
  ];
  const json = express.json({ limit: BODY_LIMIT, type: () => true });
  for (const route of routes) {
    if (route.method === 'post') app.post(route.path, json, route.handler);
    else app.get(route.path, route.handler);
  }
  app.use((_req, res) => sendEnvelope(res, 404, Messages.notFound));
  app.use(errorHandler(deps.logger));
  return app;
}

const health: RequestHandler = (_req, res) => sendEnvelope(res, 200, Messages.healthy, { status: 'UP' });

function createFeedback(deps: ApiDeps): RequestHandler {
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
    const log = deps.logger.child({ requestId, workflowId, memberId: validation.value.memberId });
    try {
      await deps.sqs.send(
        new SendMessageCommand({
          QueueUrl: deps.requestQueueUrl,
          MessageBody: body,
          MessageGroupId: String(validation.value.memberId),
          MessageDeduplicationId: requestId,
        }),
        { abortSignal: AbortSignal.timeout(deps.sqsTimeoutMs) },
      );
    } catch (err) {
      const { name, message } = err as Error;
      if (/MessageTooLong|too long/i.test(`${name} ${message}`)) {
        // The queue enforces its own limit (ElasticMQ: 256 KiB; AWS: 1 MiB).
        sendEnvelope(res, 413, Messages.tooLarge);
        return;
      }
      log.error({ err: { name, message } }, 'SendMessage failed');
      sendEnvelope(res, 503, Messages.queueUnavailable);
      return;
    }
    log.info('Feedback request queued');
    sendEnvelope(res, 202, Messages.accepted, { requestId, workflowId });
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
