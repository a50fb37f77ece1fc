/**
 * The API's OpenAPI 3.0 document, generated from the zod schemas the API validates with (zod's own
 * `z.toJSONSchema`), so the contract is written once. Served at `/openapi.json`, with Swagger UI at
 * `/docs`.
 */
import { z } from 'zod';
import { feedbackRequestSchema } from '../domain/request';
import { feedbackStatusViewSchema } from '../domain/status-view';
import { Messages } from './envelope';

type JsonSchema = Record<string, unknown>;

const toSchema = (schema: z.ZodType, io: 'input' | 'output'): JsonSchema =>
  z.toJSONSchema(schema, { target: 'openapi-3.0', io, unrepresentable: 'any' }) as JsonSchema;

const fieldErrorSchema = z.object({
  path: z.string().meta({ description: 'Dotted path of the field, e.g. groupChallenges.0.startDate.' }),
  message: z.string(),
});

const envelope = (data: JsonSchema | null, description: string, example?: string) => ({
  description,
  content: {
    'application/json': {
      schema: {
        type: 'object',
        required: ['status', 'message', 'data'],
        properties: {
          status: { type: 'integer', description: 'Equal to the HTTP status.' },
          message: { type: 'string', ...(example ? { example } : {}) },
          data: data ?? { nullable: true, type: 'object' },
        },
      },
    },
  },
});

/**
 * A whole request in both date-time forms. Schemathesis's examples phase sends it (without it, that
 * phase assembles a body from the field examples, which lacks the challenge lists the request needs).
 */
export const REQUEST_EXAMPLE = {
  memberId: 12345,
  personalChallenges: [{ id: 1001, title: '텀블러 사용하기', isSuccess: true }],
  groupChallenges: [
    {
      id: 2001,
      title: '친환경 제품 사용하기',
      startDate: '2025-06-09T00:00:00',
      endDate: [2025, 6, 15, 23, 59, 59],
      submissions: [{ isSuccess: true, submittedAt: [2025, 6, 10, 14, 30] }],
    },
  ],
};

/** The version of the HTTP contract (not of the package): bump it when the API changes. */
export const API_VERSION = '2.0.0';

export function buildOpenApiDocument(): JsonSchema {
  const request = toSchema(feedbackRequestSchema, 'input');
  const status = toSchema(feedbackStatusViewSchema, 'output');
  const errors = {
    type: 'object',
    properties: { errors: { type: 'array', items: toSchema(fieldErrorSchema, 'output') } },
  };
  return {
    openapi: '3.0.3',
    info: {
      title: 'Leafresh feedback orchestrator',
      version: API_VERSION,
      description:
        'Accepts weekly feedback requests of the Leafresh backend; each becomes a durable Temporal ' +
        'workflow whose result is delivered by callback (`POST /api/members/feedback/result`) or the result queue.',
    },
    paths: {
      '/ai/feedback': {
        post: {
          summary: 'Request weekly feedback for a member',
          operationId: 'createFeedback',
          requestBody: {
            required: true,
            content: { 'application/json': { schema: request, example: REQUEST_EXAMPLE } },
          },
          responses: {
            '202': {
              ...envelope(
                { type: 'object', nullable: true, enum: [null], description: 'Always null.' },
                'Accepted: queued for a workflow. `data` is always null (the BE parses the body strictly); ' +
                  'the request id is in the headers.',
                Messages.accepted,
              ),
              headers: {
                Location: {
                  description: 'Where the request is: `/ai/feedback/<requestId>` (GET it for the status).',
                  schema: { type: 'string', example: '/ai/feedback/152eb423-bae3-4029-bc88-bb053a860bc8' },
                },
                'X-Request-Id': {
                  description: 'The requestId; the workflow id is `feedback-<requestId>`.',
                  schema: { type: 'string', format: 'uuid' },
                },
              },
              // Stateful fuzzing (Schemathesis) follows it, so status lookups reach accepted requests.
              links: {
                GetFeedbackStatus: {
                  operationId: 'getFeedbackStatus',
                  parameters: { requestId: '$response.header.X-Request-Id' },
                  description: 'The status of the accepted request (the route its `Location` names).',
                },
              },
            },
            '400': envelope(errors, 'The body is not JSON or not a valid request.', Messages.invalid),
            '413': envelope(
              null,
              'The body is larger than 1 MiB, or than the queue takes (ElasticMQ: 256 KiB). This size, ' +
                'not a count, bounds the number of group challenges.',
              Messages.tooLarge,
            ),
            '415': envelope(null, 'Unsupported body encoding.', Messages.unsupportedMediaType),
            '503': envelope(null, 'The request queue is unreachable.', Messages.queueUnavailable),
          },
        },
      },
      '/ai/feedback/{requestId}': {
        get: {
          summary: 'Where a feedback request is',
          operationId: 'getFeedbackStatus',
          parameters: [
            {
              name: 'requestId',
              in: 'path',
              required: true,
              schema: { type: 'string', pattern: REQUEST_ID_PATTERN.source, maxLength: 200 },
              description: "The API's requestId, or `<memberId>-<SQS MessageId>` for BE queue messages.",
            },
          ],
          responses: {
            '200': envelope(status, 'The request, its stage and its result once delivered.', Messages.found),
            '400': envelope(errors, 'Not a request id.', Messages.invalid),
            '404': envelope(null, 'No such request.', Messages.requestNotFound),
            '503': envelope(null, 'Temporal is unreachable.', Messages.temporalUnavailable),
          },
        },
      },
      '/health': { get: { summary: 'Liveness', responses: { '200': envelope(null, 'The process runs.') } } },
      '/ready': {
        get: {
          summary: 'Readiness: the request queue (SQS) answers',
          responses: {
            '200': { description: 'Ready.' },
            '503': { description: 'A dependency does not answer; the body names it.' },
          },
        },
      },
      '/metrics': {
        get: {
          summary: 'Prometheus metrics',
          responses: { '200': { description: 'Prometheus text format.', content: { 'text/plain': {} } } },
        },
      },
    },
  };
}

/** Headers of the 202 that name the accepted request (its body cannot: the BE parses it strictly). */
export const ACCEPTED_HEADERS = ['Location', 'X-Request-Id'];

/** The status route of a request: the `Location` of its 202. */
export const feedbackLocation = (requestId: string): string => `/ai/feedback/${requestId}`;

/** Our requestIds (UUIDs) and the keys of BE queue messages (`<memberId>-<MessageId>`) both match. */
export const REQUEST_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9-]{0,199}$/;
