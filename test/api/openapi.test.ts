import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { SQSClient } from '@aws-sdk/client-sqs';
import fc from 'fast-check';
import { createApp } from '../../src/api/app';
import {
  ACCEPTED_HEADERS,
  buildOpenApiDocument,
  REQUEST_EXAMPLE,
  REQUEST_ID_PATTERN,
} from '../../src/api/openapi';
import {
  DATE_TIME_PATTERN,
  LIMITS,
  localDateTimeSchema,
  normalizeText,
  personalChallengeSchema,
  TITLE_PATTERN,
  validateFeedbackRequest,
} from '../../src/domain/request';
import { createLogger } from '../../src/shared/logger';
import { NO_AUTH } from '../support/config';
import { fixtureJson, VALID_REQUEST_FIXTURES } from '../support/fixtures';
import { arbitraryOf, type OpenApiSchema as Schema } from '../support/openapi-arbitrary';

type Operation = {
  operationId?: string;
  requestBody?: { content: Record<string, { schema: Schema; example?: unknown }> };
  responses: Record<
    string,
    {
      headers?: Record<string, unknown>;
      links?: Record<string, { operationId: string; parameters: Record<string, string> }>;
      content?: Record<string, { schema: Schema }>;
    }
  >;
};

describe('OpenAPI document', () => {
  const doc = buildOpenApiDocument() as { openapi: string; paths: Record<string, Record<string, Operation>> };
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

/** The request schema as published, and its parts. */
const published = () => {
  const doc = buildOpenApiDocument() as { paths: Record<string, Record<string, Operation>> };
  const request = doc.paths['/ai/feedback'].post.requestBody?.content['application/json'].schema as Schema;
  const personal = request.properties?.personalChallenges.items as Schema;
  const dateTime = request.properties?.timestamp as Schema;
  return {
    doc,
    request,
    title: personal.properties?.title as Schema,
    dateTimeText: dateTime.anyOf?.find((b) => b.type === 'string') as Schema,
    dateTimeArray: dateTime.anyOf?.find((b) => b.type === 'array') as Schema,
  };
};

/** Every node of a schema, the schema included. */
function* nodes(schema: Schema): Generator<Schema> {
  yield schema;
  for (const child of [
    ...Object.values(schema.properties ?? {}),
    ...(schema.items ? [schema.items] : []),
    ...(schema.anyOf ?? []),
  ])
    yield* nodes(child);
}

const pad = (n: number, width: number) => String(n).padStart(width, '0');
/** zod, like JSON Schema's `maxLength`, counts a string's length in code points. */
const codePoints = (s: string) => [...s].length;
const titleAccepted = (title: string) =>
  personalChallengeSchema.safeParse({ id: 1, title, isSuccess: true }).success;

describe('the published request schema describes what the validator accepts', () => {
  const { doc, request, title, dateTimeText, dateTimeArray } = published();

  it('publishes the non-empty rule, the date-time and title patterns and the array item bounds', () => {
    expect(request.anyOf).toEqual([
      {
        required: ['personalChallenges'],
        properties: { personalChallenges: { type: 'array', minItems: 1 } },
      },
      { required: ['groupChallenges'], properties: { groupChallenges: { type: 'array', minItems: 1 } } },
    ]);
    expect(validateFeedbackRequest({ memberId: 1, personalChallenges: [], groupChallenges: null }).ok).toBe(
      false,
    );
    expect(dateTimeText.pattern).toBe(DATE_TIME_PATTERN);
    expect(dateTimeArray).toMatchObject({
      minItems: 5,
      maxItems: 7,
      items: { minimum: 0, maximum: 999_999_999 },
    });
    expect(title).toMatchObject({ pattern: TITLE_PATTERN, maxLength: LIMITS.titleChars });
    // Every date-time of the request (four fields) and every title (two) is published the same way.
    const all = [...nodes(request)];
    expect(all.filter((n) => n.anyOf?.[0]?.pattern === DATE_TIME_PATTERN)).toHaveLength(4);
    expect(all.filter((n) => n.pattern === TITLE_PATTERN)).toHaveLength(2);
  });

  it('accepts every request the published schema describes (bodies drawn from the document)', () => {
    // The Jackson array's positions (year, month, ...) are in its description only: OpenAPI 3.0 has
    // no tuples. The date parser's own properties (test/domain/properties.test.ts) cover that form.
    const jackson = JSON.stringify(dateTimeArray);
    const body = arbitraryOf(request, { skipBranch: (b) => JSON.stringify(b) === jackson });
    fc.assert(
      fc.property(body, (b) => {
        const result = validateFeedbackRequest(b);
        if (!result.ok) throw new Error(`refused ${JSON.stringify(b)}: ${JSON.stringify(result.errors)}`);
      }),
      { numRuns: 300 },
    );
  });

  it('accepts the request example and every date-time example of the document', () => {
    const body = doc.paths['/ai/feedback'].post.requestBody?.content['application/json'];
    expect(body?.example).toEqual(REQUEST_EXAMPLE);
    expect(validateFeedbackRequest(REQUEST_EXAMPLE).ok).toBe(true);
    const examples = [...nodes(request)].flatMap((n) => (n.example === undefined ? [] : [n.example]));
    expect(examples.length).toBeGreaterThanOrEqual(8); // a text and an array for each of the four fields
    for (const example of examples) expect(localDateTimeSchema.safeParse(example).success).toBe(true);
  });

  it('matches exactly the date-time text the validator accepts (around the bounds of every part)', () => {
    const pattern = new RegExp(DATE_TIME_PATTERN, 'u');
    const part = (min: number, max: number) => fc.integer({ min, max }).map((n) => pad(n, 2));
    const year = fc.oneof(
      fc.integer({ min: 1990, max: 2110 }),
      fc.constantFrom(1999, 2000, 2004, 2096, 2100, 2101),
    );
    // Month ends, and 29 February of years around the leap rules: where calendars differ.
    const date = fc.oneof(
      fc.tuple(year, part(0, 13), part(0, 32)),
      fc.tuple(year, part(1, 12), part(28, 31)),
      fc.tuple(
        fc.constantFrom(1996, 2000, 2001, 2004, 2050, 2096, 2100, 2104),
        fc.constant('02'),
        part(28, 30),
      ),
    );
    const text = fc
      .record({
        date: date.map(([y, m, d]) => `${pad(y, 4)}-${m}-${d}`),
        hour: part(0, 24),
        minute: part(0, 60),
        second: fc.option(part(0, 60), { nil: '' }).map((sec) => (sec === '' ? '' : `:${sec}`)),
        fraction: fc.option(fc.stringMatching(/^[.,][0-9]{1,10}$/), { nil: '' }),
        offset: fc.oneof(
          fc.constantFrom('', 'Z', 'z', '+18:00', '-18:01', '+1800'),
          fc
            .tuple(fc.constantFrom('+', '-'), part(0, 19), fc.constantFrom(':', ''), part(0, 60))
            .map((p) => p.join('')),
        ),
        around: fc.constantFrom('', '', ' ', '\t'),
        t: fc.constantFrom('T', 'T', 'T', 't', ' '),
      })
      .map(
        (p) =>
          `${p.around}${p.date}${p.t}${p.hour}:${p.minute}${p.second}${p.fraction}${p.offset}${p.around}`,
      );
    fc.assert(
      fc.property(fc.oneof({ arbitrary: text, weight: 9 }, { arbitrary: fc.string(), weight: 1 }), (s) => {
        // The parser trims surrounding whitespace; the pattern describes the text inside it.
        expect(localDateTimeSchema.safeParse(s).success).toBe(pattern.test(s.trim()));
      }),
      { numRuns: 3000 },
    );
  });

  it('bounds the Jackson array items so that every array the validator accepts is within them', () => {
    const items = dateTimeArray.items as Schema;
    const accepted = fc
      .tuple(
        fc.integer({ min: 1990, max: 2110 }),
        fc.integer({ min: 0, max: 13 }),
        fc.integer({ min: 0, max: 32 }),
        fc.integer({ min: 0, max: 24 }),
        fc.integer({ min: 0, max: 60 }),
        fc.integer({ min: 0, max: 60 }),
        fc.integer({ min: 0, max: 1_000_000_000 }),
        fc.integer({ min: 5, max: 7 }),
      )
      .map((p) => p.slice(0, p[7]))
      .filter((a) => localDateTimeSchema.safeParse(a).success);
    fc.assert(
      fc.property(accepted, (a) => {
        expect(a.length).toBeGreaterThanOrEqual(dateTimeArray.minItems ?? 0);
        expect(a.length).toBeLessThanOrEqual(dateTimeArray.maxItems ?? Infinity);
        for (const v of a)
          expect(v >= (items.minimum ?? -Infinity) && v <= (items.maximum ?? Infinity)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('says of every single character whether a title of it is blank, as normalisation does', () => {
    const pattern = new RegExp(TITLE_PATTERN, 'u');
    const disagree: string[] = [];
    for (let code = 0; code <= 0x10ffff; code++) {
      if (code >= 0xd800 && code <= 0xdfff) continue; // not characters: JSON text carries none
      const c = String.fromCodePoint(code);
      if (pattern.test(c) !== (normalizeText(c) !== '')) disagree.push(code.toString(16));
    }
    expect(disagree).toEqual([]);
  });

  it('accepts a title exactly when it matches the pattern and its normalised form fits the limit', () => {
    const pattern = new RegExp(TITLE_PATTERN, 'u');
    // Whitespace, control and format characters are weighted up: titles of those only are blank.
    const unit = fc.oneof(
      fc.constantFrom(' ', '\t', '\n', '\u00a0', '\u200b', '\u2028', '\u202e', '\u3000', '\ufeff', '\u0085'),
      fc.constantFrom('a', '가', 'é', 'e\u0301', '\u0301', '\ud83c\udf31'),
      fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
    );
    fc.assert(
      fc.property(
        fc.array(unit, { maxLength: 260 }).map((u) => u.join('')),
        (t) => {
          const described =
            pattern.test(t) &&
            codePoints(t) <= LIMITS.titleChars * 4 &&
            codePoints(normalizeText(t)) <= LIMITS.titleChars;
          expect(titleAccepted(t)).toBe(described);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('states what `maxLength` cannot: the limit holds after normalisation', () => {
    // Both count code points: 200 emoji (400 UTF-16 code units) fit, 201 do not.
    expect(titleAccepted('\ud83c\udf31'.repeat(LIMITS.titleChars))).toBe(true);
    expect(titleAccepted('\ud83c\udf31'.repeat(LIMITS.titleChars + 1))).toBe(false);
    // NFC lengthens U+0958 (DEVANAGARI LETTER QA) to two characters: 200 of them are refused.
    const lengthened = '\u0958'.repeat(LIMITS.titleChars);
    expect(
      new RegExp(TITLE_PATTERN, 'u').test(lengthened) && lengthened.length <= (title.maxLength ?? 0),
    ).toBe(true);
    expect(titleAccepted(lengthened)).toBe(false);
    expect(title.description).toMatch(/U\+0958/);
    // And the other way round: whitespace runs collapse, so a longer text fits (the schema is stricter).
    expect(titleAccepted(`a${' '.repeat(300)}b`)).toBe(true);
  });

  it('links the 202 to the status of the request it accepted (stateful fuzzing follows it)', () => {
    const accepted = doc.paths['/ai/feedback'].post.responses['202'];
    expect(accepted.links).toEqual({
      GetFeedbackStatus: expect.objectContaining({
        operationId: 'getFeedbackStatus',
        parameters: { requestId: '$response.header.X-Request-Id' },
      }),
    });
    expect(doc.paths['/ai/feedback/{requestId}'].get.operationId).toBe('getFeedbackStatus');
    expect(ACCEPTED_HEADERS).toContain('X-Request-Id');
    expect(REQUEST_ID_PATTERN.test(randomUUID())).toBe(true);
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
