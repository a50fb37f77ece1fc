import type { AddressInfo } from 'node:net';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { createApp } from '../../src/api/app';
import { ACCEPTED_HEADERS, buildOpenApiDocument } from '../../src/api/openapi';
import { validateFeedbackRequest } from '../../src/domain/request';
import { createLogger } from '../../src/shared/logger';
import { NO_AUTH } from '../support/config';
import { fixtureJson, VALID_REQUEST_FIXTURES } from '../support/fixtures';

type Schema = {
  type?: string;
  nullable?: boolean;
  enum?: unknown[];
  maxItems?: number;
  required?: string[];
  properties?: Record<string, Schema>;
  items?: Schema;
  anyOf?: Schema[];
};

describe('OpenAPI document', () => {
  const doc = buildOpenApiDocument() as {
    openapi: string;
    paths: Record<
      string,
      Record<
        string,
        {
          requestBody?: { content: Record<string, { schema: Schema }> };
          responses: Record<
            string,
            { headers?: Record<string, unknown>; content?: Record<string, { schema: Schema }> }
          >;
        }
      >
    >;
  };
  const requestSchema = doc.paths['/ai/feedback'].post.requestBody?.content['application/json']
    .schema as Schema;

  it('is OpenAPI 3.0 with the feedback, status, health, ready and metrics routes', () => {
    expect(doc.openapi).toBe('3.0.3');
    expect(Object.keys(doc.paths).sort()).toEqual(
      ['/ai/feedback', '/ai/feedback/{requestId}', '/health', '/metrics', '/ready'].sort(),
    );
    expect(JSON.stringify(doc)).not.toContain('$ref');
  });

  it('describes the 202 with data always null and the request id in Location and X-Request-Id', () => {
    const accepted = doc.paths['/ai/feedback'].post.responses['202'];
    const data = accepted.content?.['application/json'].schema.properties?.data;
    expect(data).toMatchObject({ nullable: true, enum: [null] });
    expect(Object.keys(accepted.headers ?? {})).toEqual(ACCEPTED_HEADERS);
  });

  it('bounds the group challenges by no count (the BE sends every participation ever)', () => {
    const groups = requestSchema.properties?.groupChallenges as Schema;
    expect(groups.type).toBe('array');
    expect(groups.maxItems).toBeUndefined();
  });

  it('describes the request with the schema the API validates with (required fields, date-time shapes)', () => {
    expect(requestSchema.required).toEqual(['memberId']);
    expect(Object.keys(requestSchema.properties ?? {}).sort()).toEqual(
      ['groupChallenges', 'memberId', 'personalChallenges', 'requestId', 'timestamp'].sort(),
    );
    const group = requestSchema.properties?.groupChallenges.items as Schema;
    expect(group.required).toEqual(['id', 'title', 'startDate', 'endDate']);
    expect(group.properties?.startDate.anyOf?.map((s) => s.type)).toEqual(['string', 'array']);
    // The fixtures the API accepts are what the document says: every required field is present.
    for (const name of VALID_REQUEST_FIXTURES) {
      const body = fixtureJson<Record<string, unknown>>(name);
      expect(validateFeedbackRequest(body).ok).toBe(true);
      for (const field of requestSchema.required ?? []) expect(body).toHaveProperty(field);
    }
  });
});

describe('/openapi.json and /docs', () => {
  it('serve the generated document and Swagger UI', async () => {
    const app = createApp({
      sqs: {} as SQSClient, // never called by these routes
      requestQueueUrl: 'http://unused',
      logger: createLogger('openapi-test', 'silent'),
      sqsTimeoutMs: 1000,
      auth: NO_AUTH,
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const json = await fetch(`${url}/openapi.json`);
      expect(json.status).toBe(200);
      expect(await json.json()).toEqual(JSON.parse(JSON.stringify(buildOpenApiDocument())));
      const docs = await fetch(`${url}/docs/`);
      expect(docs.status).toBe(200);
      expect(await docs.text()).toMatch(/swagger-ui/i);
      const asset = await fetch(`${url}/docs/swagger-ui-bundle.js`);
      expect(asset.status).toBe(200);
      expect(asset.headers.get('x-powered-by')).toBeNull();
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
